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
    let expected = Module::discover(dir.path(), &DiscoverOptions::default())
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
fn inspect_describes_the_module_as_mlreef_yml_records_it() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("train.py"), TRAIN).unwrap();
    let repo = path_str(dir.path());
    let init = mlreef(&["init", repo]);
    assert!(init.status.success(), "{init:?}");
    // What a person sets in mlreef.yml is the module's, as publish describes it.
    let path = dir.path().join("mlreef.yml");
    let edited = fs::read_to_string(&path)
        .unwrap()
        .replace("kind: ALGORITHM", "kind: OPERATION")
        .replace("description: ~", "description: \"Cleans a table\"");
    fs::write(&path, edited).unwrap();
    let output = mlreef(&["inspect", "--json", repo]);
    assert!(output.status.success(), "{output:?}");
    let module: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(module["kind"], "OPERATION");
    assert_eq!(module["description"], "Cleans a table");
    let before = fs::read_to_string(&path).unwrap();
    assert!(before.contains("Cleans a table"), "inspect writes nothing");
    // The code still counts: a new parameter is there at once.
    fs::write(
        dir.path().join("train.py"),
        TRAIN.replace(
            "p.parse_args()",
            "p.add_argument('--rows', type=int)\np.parse_args()",
        ),
    )
    .unwrap();
    let output = mlreef(&["inspect", "--json", repo]);
    let module: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(module["kind"], "OPERATION");
    assert!(
        module["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "rows"),
        "{module}"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), before);
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

#[test]
fn init_writes_updates_and_checks_mlreef_yml() {
    let dir = tempfile::tempdir().unwrap();
    let repo = path_str(dir.path());
    fs::write(dir.path().join("train.py"), TRAIN).unwrap();
    fs::write(dir.path().join("requirements.txt"), "numpy==1.26.4\n").unwrap();
    let first = mlreef(&["init", repo]);
    assert!(first.status.success(), "{first:?}");
    assert!(text(&first.stdout).starts_with("wrote "), "{first:?}");
    let written = fs::read_to_string(dir.path().join("mlreef.yml")).unwrap();
    assert!(written.contains("mlreef-publish:"));
    assert_eq!(
        text(&mlreef(&["init", repo]).stdout),
        "mlreef.yml is up to date\n"
    );
    assert!(mlreef(&["init", "--check", repo]).status.success());

    // The user edits the description; the code gains a parameter.
    let edited = written.replace("  description: ~", "  description: counts things");
    fs::write(dir.path().join("mlreef.yml"), &edited).unwrap();
    fs::write(
        dir.path().join("train.py"),
        TRAIN.replace(
            "p.parse_args()",
            "p.add_argument('--seed', type=int, default=0)\np.parse_args()",
        ),
    )
    .unwrap();
    let check = mlreef(&["init", "--check", repo]);
    assert_eq!(check.status.code(), Some(1));
    assert!(
        text(&check.stdout).contains("parameter `seed` added"),
        "{check:?}"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("mlreef.yml")).unwrap(),
        edited,
        "--check writes nothing"
    );
    let update = mlreef(&["init", repo]);
    assert!(update.status.success(), "{update:?}");
    let stdout = text(&update.stdout);
    assert!(
        stdout.contains("parameter `seed` added") && stdout.contains("train.py` changed"),
        "{stdout}"
    );
    let updated = fs::read_to_string(dir.path().join("mlreef.yml")).unwrap();
    assert!(updated.contains("description: counts things") && updated.contains("name: seed"));
}

#[test]
fn init_refuses_a_broken_mlreef_yml() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("train.py"), TRAIN).unwrap();
    fs::write(dir.path().join("mlreef.yml"), "stages: [publish\n").unwrap();
    let output = mlreef(&["init", path_str(dir.path())]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("mlreef.yml:2:"), "{output:?}");
    assert_eq!(
        fs::read_to_string(dir.path().join("mlreef.yml")).unwrap(),
        "stages: [publish\n",
        "nothing lost"
    );
}

#[test]
fn run_args_prints_argv_and_shell_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("train.py"),
        TRAIN.replace(
            "p.parse_args()",
            "p.add_argument('--fast', action='store_true')\np.parse_args()",
        ),
    )
    .unwrap();
    let repo = path_str(dir.path());
    let argv = mlreef(&[
        "run-args",
        repo,
        "--set",
        "input-path=/data/my images",
        "--set",
        "epochs=7",
        "--set",
        "fast=true",
    ]);
    assert!(argv.status.success(), "{argv:?}");
    assert_eq!(
        text(&argv.stdout),
        "--input-path\n/data/my images\n--epochs\n7\n--fast\n"
    );
    let shell = mlreef(&["run-args", repo, "--set", "input-path=it's", "--shell"]);
    assert_eq!(text(&shell.stdout), "--input-path 'it'\\''s'\n");
    let wrong = mlreef(&["run-args", repo, "--set", "epochs=many"]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        text(&wrong.stderr).contains("`epochs` takes an integer"),
        "{wrong:?}"
    );
    let usage = mlreef(&["run-args", repo, "--set", "epochs"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn run_args_takes_one_list_item_per_set() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("train.py"),
        TRAIN.replace(
            "p.parse_args()",
            "p.add_argument('--size', nargs=1, type=int)\n\
             p.add_argument('--tags', nargs='+')\n\
             p.add_argument('--layer', action='append', type=int, default=[64])\n\
             p.parse_args()",
        ),
    )
    .unwrap();
    let repo = path_str(dir.path());
    // nargs=1 holds a one-item list: one `--set` gives it.
    let one = mlreef(&["run-args", repo, "--set", "size=5"]);
    assert!(one.status.success(), "{one:?}");
    assert_eq!(text(&one.stdout), "--size\n5\n");
    // Each `--set` adds an item; a comma is part of the item.
    let tags = mlreef(&[
        "run-args", repo, "--set", "tags=a", "--set", "tags=b,c", "--shell",
    ]);
    assert!(tags.status.success(), "{tags:?}");
    assert_eq!(text(&tags.stdout), "--tags a b,c\n");
    // `append` adds to the default, as argparse does.
    let layer = mlreef(&["run-args", repo, "--set", "layer=1", "--set", "layer=2"]);
    assert_eq!(text(&layer.stdout), "--layer\n1\n--layer\n2\n", "{layer:?}");
    // A whole list as JSON, and a single value given twice.
    let json = mlreef(&["run-args", repo, "--set-json", "tags=[\"x y\"]", "--shell"]);
    assert_eq!(text(&json.stdout), "'--tags=x y'\n", "{json:?}");
    let twice = mlreef(&["run-args", repo, "--set", "epochs=1", "--set", "epochs=2"]);
    assert_eq!(twice.status.code(), Some(1));
    assert!(
        text(&twice.stderr).contains("`epochs` is given more than once"),
        "{twice:?}"
    );
}

/// Repositories shaped like well-known training code (mmdetection's tools, pytorch's
/// imagenet example, yolov5) are valid: `inspect` reports warnings at most, and exits 0.
#[test]
fn inspect_reports_no_error_on_valid_repositories() {
    let modules = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mlreef-core/tests/fixtures/modules");
    for name in ["detection_tools", "imagenet_reference", "yolo_helpers"] {
        let output = mlreef(&["inspect", path_str(&modules.join(name))]);
        let stderr = text(&output.stderr);
        assert!(
            output.status.success() && !stderr.contains(": error["),
            "{name}: {output:?}\n{stderr}"
        );
        assert!(stderr.contains(": warning["), "{name}: {stderr}");
    }
}
