//! `mlreef inspect`, `mlreef schema` and `mlreef params --json-schema`.

use std::fs;

use mlreef_core::module::{DiscoverOptions, Module};

mod common;
use common::{mlreef, path_str, text};

const TRAIN: &str = "import argparse\np = argparse.ArgumentParser()\np.add_argument('--input-path')\np.add_argument('--output-path')\np.add_argument('--epochs', type=int, default=3)\np.parse_args()\n";

#[test]
fn inspect_prints_the_discovered_module() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("train.py"), TRAIN).unwrap();
    fs::write(dir.path().join("requirements.txt"), "numpy==1.26.4\n").unwrap();
    let repo = path_str(dir.path());
    let output = mlreef(&["inspect", "--json", repo]);
    assert!(output.status.success(), "{output:?}");
    let expected = Module::discover(
        dir.path(),
        &DiscoverOptions {
            env: std::env::vars().collect(),
            ..DiscoverOptions::default()
        },
    )
    .unwrap()
    .module
    .to_json();
    assert_eq!(text(&output.stdout), format!("{expected}\n"));
    // A model without output data types is worth a warning, not a failure.
    assert!(
        text(&output.stderr).contains("warning[model-without-output]"),
        "{output:?}"
    );
    let table = mlreef(&["inspect", repo]);
    let stdout = text(&table.stdout);
    assert!(
        stdout.contains("entry point:") && stdout.contains("train.py"),
        "{stdout}"
    );
    assert!(stdout.contains("requirements.txt (1 lines)"), "{stdout}");
}

#[test]
fn inspect_fails_without_a_module_naming_candidates() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("a")).unwrap();
    fs::create_dir_all(dir.path().join("b")).unwrap();
    fs::write(dir.path().join("a/fit.py"), TRAIN).unwrap();
    fs::write(dir.path().join("b/score.py"), TRAIN).unwrap();
    let output = mlreef(&["inspect", path_str(dir.path())]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("`a/fit.py`, `b/score.py`"), "{stderr}");
    let chosen = mlreef(&[
        "inspect",
        path_str(dir.path()),
        "--entry-point",
        "b/score.py",
        "--json",
    ]);
    assert!(chosen.status.success(), "{chosen:?}");
}

#[test]
fn schemas_are_json_schemas() {
    let output = mlreef(&["schema"]);
    assert!(output.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(schema, Module::json_schema());
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("train.py");
    fs::write(&script, TRAIN).unwrap();
    let form = mlreef(&["params", "--json-schema", path_str(&script)]);
    assert!(form.status.success(), "{form:?}");
    let form: serde_json::Value = serde_json::from_slice(&form.stdout).unwrap();
    assert_eq!(form["properties"]["epochs"]["type"], "integer");
    assert_eq!(form["properties"]["epochs"]["default"], 3);
}
