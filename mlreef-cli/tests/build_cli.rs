//! `mlreef build`: the summary, the `--json` contract, progress on stderr, and exit codes.

use std::fs;

use mlreef_core::oci::ImageRef;
use mlreef_core::publish::{self, BuildOptions};

mod common;
use common::{mlreef_with_env, path_str, text};

const TRAIN: &str = "import argparse\np = argparse.ArgumentParser()\np.add_argument('--epochs', type=int, default=3)\np.parse_args()\n";

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("repo")).unwrap();
    fs::write(dir.path().join("repo/train.py"), TRAIN).unwrap();
    fs::write(
        dir.path().join("repo/id_rsa"),
        "-----BEGIN OPENSSH PRIVATE KEY-----\n",
    )
    .unwrap();
    dir
}

#[test]
fn json_is_the_library_result_and_the_summary_names_the_layers() {
    let dir = repo();
    let repo = dir.path().join("repo");
    let cache = dir.path().join("cache");
    let env = [
        ("MLREEF_CACHE", path_str(&cache)),
        ("SOURCE_DATE_EPOCH", "1700000000"),
    ];
    let out = dir.path().join("out");
    let output_ref = format!("oci:{}:v1", path_str(&out));
    let json = mlreef_with_env(
        &[
            "build",
            path_str(&repo),
            "--base",
            "scratch",
            "--output",
            &output_ref,
            "--json",
        ],
        &env,
    );
    assert!(json.status.success(), "{}", text(&json.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let expected = publish::build(
        &repo,
        &BuildOptions {
            base: Some(ImageRef::Scratch),
            output: Some(output_ref.parse().unwrap()),
            cache: Some(cache.clone()),
            source_date_epoch: Some(1_700_000_000),
            ..BuildOptions::default()
        },
    )
    .unwrap();
    let expected: serde_json::Value = serde_json::from_str(&expected.to_json()).unwrap();
    assert_eq!(printed, expected);
    assert_eq!(printed["excluded"][0]["path"], "id_rsa");
    assert_eq!(printed["excluded"][0]["reason"], "secret");
    // --json prints no progress, only the diagnostics.
    let stderr = text(&json.stderr);
    assert!(stderr.lines().all(|l| l.contains("warning[")), "{stderr}");
    assert!(
        stderr.contains("mlreef.yml: warning[mlreef-yml-out-of-date]: there is no mlreef.yml"),
        "{stderr}"
    );

    let summary = mlreef_with_env(
        &[
            "build",
            path_str(&repo),
            "--base",
            "scratch",
            "--output",
            &output_ref,
        ],
        &env,
    );
    assert!(summary.status.success(), "{}", text(&summary.stderr));
    let stdout = text(&summary.stdout);
    assert!(
        stdout.starts_with(&format!(
            "{output_ref}\ndigest: {}",
            printed["digest"].as_str().unwrap()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("\n  code "), "{stdout}");
    assert!(
        stdout.contains("left out of the code layer:\n  id_rsa (secret)"),
        "{stdout}"
    );
    let stderr = text(&summary.stderr);
    assert!(
        stderr.contains("layer: code") && stderr.contains("write: "),
        "{stderr}"
    );
    // One line per step, not one per chunk of bytes.
    let lines: Vec<&str> = stderr.lines().collect();
    let mut unique = lines.clone();
    unique.dedup();
    assert_eq!(lines, unique);

    // --include puts a file back in.
    let included = mlreef_with_env(
        &[
            "build",
            path_str(&repo),
            "--base",
            "scratch",
            "--output",
            &output_ref,
            "--include",
            "id_rsa",
            "--json",
        ],
        &env,
    );
    let included: serde_json::Value = serde_json::from_slice(&included.stdout).unwrap();
    assert_eq!(included["excluded"], serde_json::json!([]));
    assert_ne!(included["digest"], printed["digest"]);
}

#[test]
fn the_default_output_is_the_layout_in_the_repository() {
    let dir = repo();
    let repo = dir.path().join("repo");
    let cache = dir.path().join("cache");
    let built = mlreef_with_env(
        &["build", path_str(&repo), "--base", "scratch", "--json"],
        &[("MLREEF_CACHE", path_str(&cache))],
    );
    assert!(built.status.success(), "{}", text(&built.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&built.stdout).unwrap();
    let layout = repo.join(".mlreef/images");
    assert_eq!(
        printed["reference"],
        format!("oci:{}:local-1", path_str(&layout))
    );
    assert!(layout.join("index.json").is_file());
    // What a build writes never enters the next build's code layer.
    let again = mlreef_with_env(
        &["build", path_str(&repo), "--base", "scratch", "--json"],
        &[("MLREEF_CACHE", path_str(&cache))],
    );
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["digest"], printed["digest"]);
}

#[test]
fn errors_exit_1_and_usage_errors_2() {
    let dir = repo();
    let repo = dir.path().join("repo");
    let cache = dir.path().join("cache");
    let env = [("MLREEF_CACHE", path_str(&cache))];
    let missing = dir.path().join("missing");
    let base = format!("oci:{}:v1", path_str(&missing));
    let failed = mlreef_with_env(&["build", path_str(&repo), "--base", &base], &env);
    assert_eq!(failed.status.code(), Some(1));
    let stderr = text(&failed.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: ") && last.contains(path_str(&missing)),
        "{stderr}"
    );
    for args in [
        &["build", "--base", "dir:/srv/base"][..],
        &["build", "--compression", "bzip2"],
        &["build", "--platform", "linux/sparc"],
    ] {
        let usage = mlreef_with_env(args, &env);
        assert_eq!(
            usage.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&usage.stderr)
        );
    }
    let help = mlreef_with_env(&["build", "--help"], &env);
    let help = text(&help.stdout);
    for words in [
        "--base",
        "--platform",
        "--lock",
        "--compression",
        "Examples:",
        "SOURCE_DATE_EPOCH",
    ] {
        assert!(help.contains(words), "{words} missing from:\n{help}");
    }
}
