//! Discovering a module in a repository, validating it, and its JSON Schemas.

use std::fs;
use std::path::Path;

use mlreef_core::module::{DiscoverOptions, Error, Module, ModuleKind};
use serde_json::json;

const TRAIN: &str = r#"import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--input-path", required=True, help="training data")
parser.add_argument("--output-path", default="out")
parser.add_argument("--epochs", type=int, default=10, help="passes")
parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
args = parser.parse_args()
"#;

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
}

fn discover(dir: &Path) -> Result<mlreef_core::module::Discovered, Error> {
    Module::discover(dir, &DiscoverOptions::default())
}

#[test]
fn a_conventional_repository() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("Image Classifier");
    write(
        &repo,
        &[
            ("train.py", TRAIN),
            (
                "utils.py",
                "import argparse\np = argparse.ArgumentParser()\np.parse_args()\n",
            ),
            (
                "requirements.txt",
                "torch==2.3.1\nnumpy>=1.26 ; python_version >= '3.9'\n",
            ),
            (".git/HEAD", "ref: refs/heads/feature/gpu\n"),
            (
                ".git/config",
                "[remote \"origin\"]\n\turl = https://gitlab.com/team/image-classifier.git\n",
            ),
        ],
    );
    let found = discover(&repo).unwrap();
    let module = &found.module;
    assert_eq!(
        module.entry_points.train, "train.py",
        "train.py wins over other parsers"
    );
    assert_eq!(module.name, "image-classifier");
    assert_eq!(module.slug, "image-classifier");
    assert_eq!(module.branch.as_deref(), Some("feature/gpu"));
    assert_eq!(module.version, "1");
    assert_eq!(module.kind, ModuleKind::Algorithm);
    assert_eq!(
        module.requirements_file.as_deref(),
        Some("requirements.txt")
    );
    assert_eq!(
        module.requirements,
        ["numpy>=1.26 ; python_version >= '3.9'", "torch==2.3.1"]
    );
    let names: Vec<_> = module
        .parameters
        .iter()
        .filter_map(|p| p.name.as_deref())
        .collect();
    assert_eq!(names, ["input-path", "output-path", "epochs", "optimizer"]);
    // sha256 of the script's bytes, as `sha256sum train.py` prints it.
    assert_eq!(module.script_sha256.len(), 64);
    let other = discover(&repo).unwrap().module.script_sha256;
    assert_eq!(other, module.script_sha256);
    fs::write(repo.join("train.py"), format!("{TRAIN}# changed\n")).unwrap();
    assert_ne!(
        discover(&repo).unwrap().module.script_sha256,
        module.script_sha256
    );
}

#[test]
fn the_single_script_in_a_subfolder() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("src/fit_model.py", TRAIN),
            ("src/helpers.py", "def f():\n    return 1\n"),
            ("src/requirements.txt", "scikit-learn==1.4.0\n"),
            (".venv/lib/tool.py", TRAIN),
        ],
    );
    let module = discover(dir.path()).unwrap().module;
    assert_eq!(module.entry_points.train, "src/fit_model.py");
    assert_eq!(
        module.requirements_file.as_deref(),
        Some("src/requirements.txt")
    );
}

#[test]
fn ambiguity_and_absence_are_errors_naming_the_candidates() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("a/fit.py", TRAIN),
            ("b/evaluate.py", TRAIN),
            ("README.md", ""),
        ],
    );
    match discover(dir.path()) {
        Err(Error::AmbiguousEntryPoint { candidates, .. }) => {
            assert_eq!(candidates, ["a/fit.py", "b/evaluate.py"]);
        }
        other => panic!("expected ambiguity, got {other:?}"),
    }
    let message = discover(dir.path()).unwrap_err().to_string();
    assert!(message.contains("`a/fit.py`, `b/evaluate.py`"), "{message}");
    // Naming one settles it.
    let options = DiscoverOptions {
        entry_point: Some("b/evaluate.py".into()),
        ..DiscoverOptions::default()
    };
    assert_eq!(
        Module::discover(dir.path(), &options)
            .unwrap()
            .module
            .entry_points
            .train,
        "b/evaluate.py"
    );

    let empty = tempfile::tempdir().unwrap();
    write(empty.path(), &[("notes.py", "print('hello')\n")]);
    assert!(matches!(
        discover(empty.path()),
        Err(Error::NoEntryPoint { .. })
    ));
    let outside = DiscoverOptions {
        entry_point: Some("../x.py".into()),
        ..DiscoverOptions::default()
    };
    assert!(Module::discover(empty.path(), &outside).is_err());
}

#[test]
fn conda_environment_sets_the_python_version() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("main.py", TRAIN),
            (
                "environment.yml",
                "dependencies:\n  - python=3.10\n  - pip:\n      - rich\n",
            ),
        ],
    );
    let module = discover(dir.path()).unwrap().module;
    assert_eq!(module.base_environment.python_version, "3.10");
    assert_eq!(module.requirements, ["rich"]);
}

fn codes(module: &Module) -> Vec<(String, usize)> {
    module
        .validate()
        .into_iter()
        .map(|d| (d.code, d.line))
        .collect()
}

#[test]
fn validation_reports_broken_conventions() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[(
            "train.py",
            r#"import argparse
p = argparse.ArgumentParser()
p.add_argument("--data", default="in")
p.add_argument("--epochs", type=int, default="ten")
p.add_argument("--mode", choices=["fast", "slow"], default="medium")
p.add_argument("--use-gpu", type=bool, default=False)
p.add_argument("--lr", type=float, default="0.1")
p.parse_args()
"#,
        )],
    );
    let module = discover(dir.path()).unwrap().module;
    let found = codes(&module);
    for expected in [
        ("missing-input-path".to_owned(), 1),
        ("missing-output-path".to_owned(), 1),
        ("default-type-mismatch".to_owned(), 4),
        ("default-not-in-choices".to_owned(), 5),
        ("type-bool".to_owned(), 6),
        ("model-without-output".to_owned(), 1),
    ] {
        assert!(found.contains(&expected), "{expected:?} not in {found:?}");
    }
    // `default="0.1"` with `type=float` is converted by argparse: fine.
    assert!(
        !found.contains(&("default-type-mismatch".to_owned(), 7)),
        "{found:?}"
    );

    let good = tempfile::tempdir().unwrap();
    write(good.path(), &[("train.py", TRAIN)]);
    let mut module = discover(good.path()).unwrap().module;
    module
        .output_data_types
        .insert(mlreef_core::module::DataType::Model);
    assert_eq!(codes(&module), []);
    // Duplicates and names a form cannot carry.
    let mut broken = module.clone();
    broken.parameters.push(broken.parameters[2].clone());
    broken.parameters[0].name = Some("input=path".to_owned());
    let found: Vec<_> = broken
        .validate()
        .into_iter()
        .map(|d| (d.code, d.severity))
        .collect();
    // A form and `run-args` cannot tell two parameters of one name apart, and `--set`
    // cannot name one with `=`: real errors.
    for code in ["duplicate-parameter", "invalid-parameter-name"] {
        assert!(
            found.contains(&(code.to_owned(), mlreef_core::Severity::Error)),
            "{code} not an error in {found:?}"
        );
    }
}

/// Diagnostics of a module made of `script` alone, as (code, line, severity).
fn diagnostics_of(script: &str) -> Vec<(String, usize, mlreef_core::Severity)> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("train.py", script)]);
    let found = discover(dir.path()).unwrap();
    assert!(
        found.diagnostics.is_empty(),
        "extraction: {:?}",
        found.diagnostics
    );
    found
        .module
        .validate()
        .into_iter()
        .map(|d| (d.code, d.line, d.severity))
        .collect()
}

#[test]
fn errors_only_where_argparse_itself_fails() {
    use mlreef_core::Severity::{self, Error, Warning};
    let found = diagnostics_of(
        r#"import argparse
p = argparse.ArgumentParser()
p.add_argument("--freeze", nargs="+", type=int, default=[0])
p.add_argument("--scale", type=float, nargs="+", default=[0.08, 1.0])
p.add_argument("--input-size", type=int, nargs=3, default=None)
p.add_argument("--min-lr", type=float, default=0)
p.add_argument("--task", choices=["cola", "mnli"], default=None)
p.add_argument("--lr", type=float, default="1e-3")
p.add_argument("--box", action="append", type=int, nargs=2, default=[[0, 0]])
p.add_argument("--gpus", type=int, default="0,1")
p.add_argument("--mode", choices=["fast", "slow"], default="medium")
p.add_argument("--ratio", type=int, default=0.5)
p.add_argument("--sizes", nargs="+", type=int, default=["1"])
p.add_argument("--seed", type=int, default="x", required=True)
p.add_argument("split", nargs="?", choices=["train", "val"], default="test")
p.add_argument("level", nargs="?", type=int, default="high")
p.add_argument("--model.name", default="resnet")
p.add_argument("--input path", default="in")
p.add_argument("--output-path", default="out")
p.parse_args()
"#,
    );
    let at = |line: usize| -> Vec<(&str, Severity)> {
        found
            .iter()
            .filter(|(_, l, _)| *l == line)
            .map(|(c, _, s)| (c.as_str(), *s))
            .collect()
    };
    // yolov5's and timm's list defaults, float types with int defaults, None defaults, and
    // string defaults argparse converts: nothing to say.
    for line in [3, 4, 5, 6, 7, 8, 9, 14, 17, 19] {
        assert_eq!(at(line), [], "line {line}: {found:?}");
    }
    // argparse converts the string default with `int` when `--gpus` is not given, and fails.
    assert_eq!(at(10), [("default-type-mismatch", Error)]);
    // Defaults argparse hands over unchecked are at most warnings.
    assert_eq!(at(11), [("default-not-in-choices", Warning)]);
    assert_eq!(at(12), [("default-type-mismatch", Warning)]);
    assert_eq!(at(13), [("default-type-mismatch", Warning)]);
    // A `?` positional's string default is converted and checked against the choices.
    assert_eq!(at(15), [("default-not-in-choices", Error)]);
    assert_eq!(at(16), [("default-type-mismatch", Error)]);
    // A name with a space works, but tools expect plainer names.
    assert_eq!(at(18), [("invalid-parameter-name", Warning)]);
}

#[test]
fn schemas_describe_modules_and_parameters() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[("train.py", TRAIN), ("requirements.txt", "torch\n")],
    );
    let module = discover(dir.path()).unwrap().module;
    let schema = Module::json_schema();
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let instance = serde_json::to_value(&module).unwrap();
    assert!(
        validator.is_valid(&instance),
        "{:?}",
        validator
            .iter_errors(&instance)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
    let mut wrong = instance.clone();
    wrong["kind"] = json!("MODEL");
    assert!(!validator.is_valid(&wrong));
    wrong = instance.clone();
    wrong["output_data_types"] = json!(["PICTURES"]);
    assert!(!validator.is_valid(&wrong));

    let form = module.parameters_schema();
    let form_validator = jsonschema::validator_for(&form).expect("a valid JSON Schema");
    assert_eq!(form["required"], json!(["input-path"]));
    assert_eq!(form["properties"]["epochs"]["type"], "integer");
    assert_eq!(form["properties"]["epochs"]["default"], 10);
    assert_eq!(
        form["properties"]["optimizer"]["enum"],
        json!(["adam", "sgd"])
    );
    assert!(
        form_validator.is_valid(&json!({"input-path": "/data", "epochs": 3, "optimizer": "sgd"}))
    );
    assert!(
        !form_validator.is_valid(&json!({"epochs": 3})),
        "input-path is required"
    );
    assert!(!form_validator.is_valid(&json!({"input-path": "/d", "epochs": "three"})));
    assert!(!form_validator.is_valid(&json!({"input-path": "/d", "optimizer": "rmsprop"})));
    assert!(!form_validator.is_valid(&json!({"input-path": "/d", "unknown": 1})));
}

#[test]
fn every_fixture_gives_a_valid_form_schema() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/argparse");
    let mut checked = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let expected = path.to_string_lossy().into_owned();
        let Some(stem) = expected.strip_suffix(".expected.json") else {
            continue;
        };
        let extraction: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        let parameters: Vec<mlreef_core::Parameter> =
            serde_json::from_value(extraction["parameters"].clone()).unwrap();
        let form = mlreef_core::module::parameters_schema(stem, &parameters);
        if let Err(e) = jsonschema::validator_for(&form) {
            panic!("{stem}: {e}\n{form:#}");
        }
        checked += 1;
    }
    assert!(checked >= 60, "{checked}");
}

#[test]
fn progress_reports_steps_and_can_cancel() {
    use mlreef_core::progress::{Cancelled, Event};
    use std::sync::Mutex;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("src/a.py", "x = 1\n"),
            ("src/fit.py", TRAIN),
            ("requirements.txt", "rich\n"),
        ],
    );
    let seen = Mutex::new(Vec::new());
    let record = |event: &Event<'_>| {
        seen.lock()
            .unwrap()
            .push((event.stage.to_owned(), event.done, event.total));
        Ok(())
    };
    Module::discover_with(dir.path(), &DiscoverOptions::default(), &record).unwrap();
    assert_eq!(
        seen.into_inner().unwrap(),
        [
            ("search".to_owned(), 0, Some(2)),
            ("search".to_owned(), 1, Some(2)),
            ("extract".to_owned(), 0, Some(1)),
            ("requirements".to_owned(), 0, Some(1)),
        ]
    );
    let cancel = |event: &Event<'_>| {
        if event.stage == "extract" {
            Err(Cancelled)
        } else {
            Ok(())
        }
    };
    assert!(matches!(
        Module::discover_with(dir.path(), &DiscoverOptions::default(), &cancel),
        Err(Error::Cancelled)
    ));
}
