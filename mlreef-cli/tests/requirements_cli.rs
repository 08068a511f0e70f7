//! `mlreef requirements` as a user runs it: output forms, targets, exit codes, errors.

use std::fs;
use std::path::{Path, PathBuf};

use mlreef_core::requirements::{Options, parse_file};

mod common;
use common::{mlreef_with_env as mlreef, path_str, text};

fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mlreef-core/tests/fixtures")
        .join(relative)
}

/// A requirements file in a fresh folder (which is then its repository).
fn temp_file(name: &str, contents: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    fs::write(&path, contents).unwrap();
    (dir, path)
}

#[test]
fn json_is_the_library_result() {
    for relative in [
        "requirements/realistic_pip_compile.txt",
        "requirements/include_nested_three_levels/requirements.txt",
        "conda/pip_sublist/environment.yml",
    ] {
        let path = fixture(relative);
        // The same call: the repository and `${VAR}` values left to the library's defaults.
        let expected = parse_file(&path, &Options::default()).unwrap().to_json();
        let output = mlreef(&["requirements", "--json", path_str(&path)], &[]);
        assert!(output.status.success(), "{relative}: {output:?}");
        assert_eq!(text(&output.stdout), format!("{expected}\n"), "{relative}");
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        for key in ["requirements", "options", "diagnostics"] {
            assert!(json.get(key).is_some(), "{relative}: no `{key}`");
        }
    }
}

#[test]
fn table_shows_requirements_and_notes() {
    let (_dir, path) = temp_file(
        "requirements.txt",
        "--index-url https://pypi.example.org/simple\nnumpy==1.26.2\npandas>=2 ; python_version >= '3.9'\n-e git+https://github.com/org/tools.git#egg=tools\n",
    );
    let output = mlreef(&["requirements", path_str(&path)], &[]);
    assert!(output.status.success(), "{output:?}");
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("NOTES"),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("numpy") && lines[1].contains("requirements.txt:2"),
        "{stdout}"
    );
    assert!(lines[2].contains("unpinned"), "{stdout}");
    assert!(
        lines[3].contains("editable") && lines[3].contains("builds from source"),
        "{stdout}"
    );
    assert!(
        stdout.contains("index: https://pypi.example.org/simple"),
        "{stdout}"
    );
}

#[test]
fn targets_evaluate_markers() {
    let (_dir, path) = temp_file(
        "requirements.txt",
        "a ; python_version < '3.9'\nb ; platform_machine == 'aarch64'\nc\n",
    );
    let output = mlreef(
        &[
            "requirements",
            "--render",
            "--python",
            "3.8",
            "--platform",
            "linux/arm64",
            path_str(&path),
        ],
        &[],
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        text(&output.stdout),
        "a ; python_version < '3.9'\nb ; platform_machine == 'aarch64'\nc\n"
    );
    let output = mlreef(
        &[
            "requirements",
            "--json",
            "--python",
            "3.11",
            path_str(&path),
        ],
        &[],
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let applies: Vec<_> = json["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["applies"].clone())
        .collect();
    assert_eq!(applies, [false, false, true]);
    assert_eq!(
        json["target"],
        serde_json::json!({"python": "3.11", "platform": "linux/amd64"})
    );
    let bad = mlreef(
        &["requirements", "--platform", "plan9/amd64", path_str(&path)],
        &[],
    );
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    assert!(text(&bad.stderr).contains("plan9/amd64"));
}

#[test]
fn invalid_lines_exit_1_with_file_and_line() {
    let (_dir, path) = temp_file(
        "requirements.txt",
        "numpy\nscipy=1.11\n--frobnicate\nflask\n",
    );
    let output = mlreef(&["requirements", path_str(&path)], &[]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = text(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines[0].starts_with("requirements.txt:2: Invalid requirement: `scipy=1.11`"),
        "{stderr}"
    );
    assert_eq!(lines[1], "requirements.txt:3: no such option: --frobnicate");
    // The valid lines are still listed.
    assert!(text(&output.stdout).contains("flask"));
    // JSON mode prints the whole result and still fails.
    let json = mlreef(&["requirements", "--json", path_str(&path)], &[]);
    assert_eq!(json.status.code(), Some(1));
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(parsed["diagnostics"][0]["line"], 2);
}

#[test]
fn unreadable_input_exits_1() {
    let missing = mlreef(&["requirements", "/nonexistent/requirements.txt"], &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr).starts_with("error: cannot read `/nonexistent/requirements.txt`"),
        "{missing:?}"
    );
    let (_dir, path) = temp_file("requirements.txt", "");
    fs::write(&path, b"numpy\nscipy\xff\n").unwrap();
    let latin = mlreef(&["requirements", path_str(&path)], &[]);
    assert_eq!(latin.status.code(), Some(1));
    assert!(
        text(&latin.stderr).contains("requirements.txt:2:6: not UTF-8"),
        "{latin:?}"
    );
    let (_dir, yml) = temp_file("environment.yml", "dependencies: [numpy\n");
    let bad_yaml = mlreef(&["requirements", path_str(&yml)], &[]);
    assert_eq!(bad_yaml.status.code(), Some(1));
    assert!(
        text(&bad_yaml.stderr).contains("environment.yml:2:"),
        "{bad_yaml:?}"
    );
}

#[test]
fn variables_come_from_the_process_environment_and_stay_secret() {
    let (_dir, path) = temp_file(
        "requirements.txt",
        "--extra-index-url https://ci:${MLREEF_TEST_TOKEN}@pypi.example.org/simple\nrequests==${MLREEF_TEST_VERSION}\n",
    );
    let env = [
        ("MLREEF_TEST_TOKEN", "t0ps3cret"),
        ("MLREEF_TEST_VERSION", "2.31.0"),
    ];
    for mode in ["--json", "--render"] {
        let output = mlreef(&["requirements", mode, path_str(&path)], &env);
        assert!(output.status.success(), "{output:?}");
        let stdout = text(&output.stdout);
        assert!(stdout.contains("2.31.0"), "{stdout}");
        assert!(
            !stdout.contains("t0ps3cret") && !text(&output.stderr).contains("t0ps3cret"),
            "{stdout}"
        );
        assert!(stdout.contains("${MLREEF_TEST_TOKEN}"), "{stdout}");
    }
}

#[test]
fn includes_outside_the_repository_need_a_flag() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("repo/.git")).unwrap();
    fs::write(dir.path().join("shared.txt"), "numpy\n").unwrap();
    let path = dir.path().join("repo/requirements.txt");
    fs::write(&path, "-r ../shared.txt\n").unwrap();
    let refused = mlreef(&["requirements", path_str(&path)], &[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("leads outside the repository"),
        "{refused:?}"
    );
    let allowed = mlreef(
        &["requirements", "--allow-outside-repo", path_str(&path)],
        &[],
    );
    assert!(allowed.status.success(), "{allowed:?}");
    assert!(text(&allowed.stdout).contains("numpy"));
}

#[test]
fn conda_environments_list_conda_packages() {
    let path = fixture("conda/pip_sublist/environment.yml");
    let output = mlreef(&["requirements", path_str(&path)], &[]);
    assert!(output.status.success(), "{output:?}");
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with(
            "conda environment segmentation-train (channels: pytorch, nvidia, conda-forge)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("py3.11_cuda12.1_cudnn8_0"));
    assert!(stdout.contains("albumentations"));
}
