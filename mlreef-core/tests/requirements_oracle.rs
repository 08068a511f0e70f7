//! Our requirements parser against pip's own (`pip._internal.req.req_file`), requirement by
//! requirement: name, specifier, extras, marker, URL, editable, hashes, line, and the lines
//! pip refuses.
//!
//! `tests/oracle/requirements_oracle.py` drives pip's building blocks line by line (pip stops
//! at its first error; we report every bad line) and compares with packaging's own
//! normalization (specifier sets, markers). It must run under the pinned pip (26.3), which
//! `scripts/test.sh` installs in `.venv`.

mod common;

use std::path::Path;
use std::process::Command;

use mlreef_core::requirements::{Options, parse_file};
use serde_json::{Value, json};

const PIP_VERSION: &str = "26.3";

/// Parses every file with `repo` as the repository and asks the oracle what pip thinks.
fn run_oracle(root: &Path, files: &[std::path::PathBuf]) -> Value {
    let env = common::requirements_env();
    let mut ours = serde_json::Map::new();
    for file in files {
        let options = Options {
            env: Some(env.clone()),
            repo: Some(root.to_owned()),
            ..Options::default()
        };
        let parsed =
            parse_file(file, &options).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let name = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        ours.insert(name, serde_json::to_value(&parsed).unwrap());
    }
    let input = json!({"root": root.canonicalize().unwrap(), "env": env, "files": ours});
    let dir = tempfile::tempdir().unwrap();
    let input_path = dir.path().join("input.json");
    std::fs::write(&input_path, input.to_string()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/requirements_oracle.py");
    let python = std::env::var("MLREEF_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .arg(&script)
        .arg(&input_path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    assert!(
        out.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("oracle JSON");
    assert_eq!(
        report["pip_version"], PIP_VERSION,
        "the oracle needs pip {PIP_VERSION} (run scripts/test.sh, which installs it in .venv)"
    );
    report
}

fn assert_agrees(report: &Value, min_requirements: u64, min_errors: u64) {
    let mismatches = report["mismatches"].as_array().unwrap();
    let listing: Vec<String> = mismatches.iter().map(Value::to_string).collect();
    assert!(
        mismatches.is_empty(),
        "{} disagreements with pip:\n{}",
        mismatches.len(),
        listing.join("\n")
    );
    let compared = report["requirements_compared"].as_u64().unwrap();
    let errors = report["errors_compared"].as_u64().unwrap();
    eprintln!(
        "{} files: {compared} requirements and {errors} refused lines agree with pip",
        report["files"]
    );
    assert!(
        compared >= min_requirements,
        "only {compared} requirements compared"
    );
    assert!(errors >= min_errors, "only {errors} refused lines compared");
}

#[test]
fn corpus_agrees_with_pip() {
    let root = common::requirements_corpus();
    let files = common::text_files(&root);
    assert!(files.len() >= 40, "corpus not found at {}", root.display());
    let report = run_oracle(&root, &files);
    assert_agrees(&report, 400, 40);
}

#[test]
fn fixtures_agree_with_pip() {
    let root = common::fixtures_dir("requirements");
    let files: Vec<_> = common::requirements_fixtures()
        .into_iter()
        .map(|f| f.entry)
        .collect();
    let report = run_oracle(&root, &files);
    assert_agrees(&report, 100, 10);
}
