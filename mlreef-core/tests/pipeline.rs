//! `mlreef.yml` for example repositories: snapshots validated against GitLab's CI schema,
//! render -> read -> render identity, merges that keep what the user set, and bad files.
//! `MLREEF_BLESS=1` rewrites the snapshots (`tests/fixtures/modules/NAME.mlreef.yml`).

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use mlreef_core::module::{DiscoverOptions, Module, ModuleKind, Visibility};
use mlreef_core::pipeline::{self, InitOptions, PipelineError, PipelineOptions};

fn modules_dir() -> PathBuf {
    common::fixtures_dir("modules")
}

/// Copies a fixture repository into a fresh folder (outside any git repository, so that the
/// branch is not this checkout's).
fn copy_repo(name: &str) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&modules_dir().join(name), &dir.path().join(name));
    dir
}

/// What `mlreef init` would write (its `check` mode, which writes nothing), and the changes.
fn init(repo: &Path) -> (String, Vec<String>) {
    let options = InitOptions {
        check: true,
        ..InitOptions::default()
    };
    let outcome = pipeline::init(repo, &options).unwrap();
    let changes = outcome.changes.iter().map(ToString::to_string).collect();
    (outcome.text, changes)
}

fn repositories() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(modules_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn gitlab_schema() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/schemas/gitlab-ci.json");
    let schema: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap();
    jsonschema::validator_for(&schema).expect("GitLab's schema compiles")
}

#[test]
fn snapshots_validate_against_gitlab_ci_schema() {
    let names = repositories();
    assert!(names.len() >= 8, "{names:?}");
    let schema = gitlab_schema();
    let bless = std::env::var_os("MLREEF_BLESS").is_some();
    let mut failures = Vec::new();
    for name in &names {
        let dir = copy_repo(name);
        let (text, _) = init(&dir.path().join(name));
        let document = serde_json::Value::Object(pipeline::read(&text, None).unwrap().document);
        let errors: Vec<String> = schema
            .iter_errors(&document)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{name}: not valid GitLab CI:\n{}\n{text}",
            errors.join("\n")
        );
        let snapshot = modules_dir().join(format!("{name}.mlreef.yml"));
        if bless {
            fs::write(&snapshot, &text).unwrap();
        } else if fs::read_to_string(&snapshot).ok().as_deref() != Some(text.as_str()) {
            failures.push(format!(
                "{name}: differs from {}:\n{text}",
                snapshot.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn render_read_render_is_identical() {
    for name in repositories() {
        let dir = copy_repo(&name);
        let (text, _) = init(&dir.path().join(&name));
        let file = pipeline::read(&text, None).unwrap();
        let module = file.module.clone().expect("a module description");
        let again = pipeline::render(&module, Some(&file), &PipelineOptions::default());
        assert_eq!(again, text, "{name}");
        // And `mlreef init` on its own output changes nothing.
        fs::write(dir.path().join(&name).join("mlreef.yml"), &text).unwrap();
        let (third, changes) = init(&dir.path().join(&name));
        assert_eq!(third, text, "{name}");
        assert!(changes.is_empty(), "{name}: {changes:?}");
    }
}

#[test]
fn merge_keeps_what_the_user_set() {
    let dir = copy_repo("visualization_user_edits");
    let repo = dir.path().join("visualization_user_edits");
    let (text, changes) = init(&repo);
    assert_eq!(
        changes,
        [
            "parameter `output` added",
            "requirement `matplotlib==3.9.0` added",
            "requirement `matplotlib==3.8.4` removed",
        ]
    );
    let file = pipeline::read(&text, None).unwrap();
    let module = file.module.unwrap();
    assert_eq!(module.name, "Classifier report");
    assert_eq!(module.kind, ModuleKind::Visualization);
    assert_eq!(module.visibility, Visibility::Private);
    assert_eq!(module.version, "3");
    assert!(module.description.unwrap().starts_with("Confusion matrix"));
    assert!(
        module
            .requirements
            .contains(&"matplotlib==3.9.0".to_owned())
    );
    assert!(
        module
            .parameters
            .iter()
            .any(|p| p.name.as_deref() == Some("output"))
    );
    // The user's keys and jobs stay, in their place.
    let keys: Vec<&str> = file.document.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            ".mlreef",
            "stages",
            "variables",
            "lint",
            "mlreef-publish",
            ".mlreef-run"
        ]
    );
    assert_eq!(
        file.document["stages"],
        serde_json::json!(["test", "publish"])
    );
    assert!(
        text.contains("$CI_REGISTRY_IMAGE:$CI_COMMIT_REF_SLUG-3"),
        "the version names the image"
    );
}

#[test]
fn publish_job_runs_on_the_branch_without_secrets_on_the_command_line() {
    let dir = copy_repo("pytorch_train");
    let repo = dir.path().join("pytorch_train");
    fs::create_dir_all(repo.join(".git")).unwrap();
    fs::write(repo.join(".git/HEAD"), "ref: refs/heads/feature/gpu\n").unwrap();
    let (text, _) = init(&repo);
    let file = pipeline::read(&text, None).unwrap();
    let job = &file.document["mlreef-publish"];
    assert_eq!(
        job["rules"][0]["if"],
        "$CI_COMMIT_BRANCH == \"feature/gpu\""
    );
    // A plain Python image, where the job installs this version of the command.
    assert_eq!(job["image"], "python:3.12-slim");
    let script: Vec<&str> = job["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line.as_str().unwrap())
        .collect();
    assert_eq!(
        script,
        [
            format!(
                "command -v mlreef >/dev/null || pip install --quiet --no-cache-dir \"mlreef-core=={}\"",
                env!("CARGO_PKG_VERSION")
            )
            .as_str(),
            "mlreef publish . --push \"$CI_REGISTRY_IMAGE:feature-gpu-1\""
        ]
    );
    assert!(script.iter().all(|line| !line.contains("PASSWORD")));
    assert!(job.get("services").is_none(), "no Docker-in-Docker");
}

#[test]
fn bad_files_name_the_line() {
    let not_yaml = pipeline::read("stages: [a, b\nx: 1\n", None).unwrap_err();
    assert!(
        matches!(not_yaml, PipelineError::Yaml { line: 2, .. }),
        "{not_yaml}"
    );
    let list = pipeline::read("- a\n- b\n", None).unwrap_err();
    assert!(
        matches!(list, PipelineError::Shape { line: 1, .. }),
        "{list}"
    );
    let shape = pipeline::read(
        "stages: [publish]\n\n.mlreef:\n  name: x\n  kind: MODEL\n",
        None,
    )
    .unwrap_err();
    match &shape {
        PipelineError::Shape { line, message, .. } => {
            assert_eq!(*line, 3);
            assert!(message.contains(".mlreef"), "{message}");
        }
        other => panic!("{other}"),
    }
    assert!(shape.to_string().starts_with("mlreef.yml:3: "), "{shape}");
}

#[test]
fn anchors_and_merge_keys_are_written_out() {
    let text = ".defaults: &defaults\n  image: python:3.11\n  tags: [gpu]\ntest:\n  <<: *defaults\n  tags: [cpu]\n  script: [pytest]\n";
    let file = pipeline::read(text, None).unwrap();
    assert_eq!(
        file.document["test"],
        serde_json::json!({"tags": ["cpu"], "script": ["pytest"], "image": "python:3.11"})
    );
}

/// A shell that runs, by name or path.
fn shell_available(shell: &str) -> bool {
    std::process::Command::new(shell)
        .args(["-c", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn the_run_template_gives_the_script_exactly_the_words_run_args_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    fs::create_dir_all(repo.join("my src")).unwrap();
    fs::write(
        repo.join("my src/train it.py"),
        "import argparse\np = argparse.ArgumentParser()\np.add_argument('-i', '--input-path')\np.add_argument('--output-path', default='out')\np.add_argument('--note')\np.parse_args()\n",
    )
    .unwrap();
    let options = DiscoverOptions {
        entry_point: Some("my src/train it.py".into()),
        ..DiscoverOptions::default()
    };
    let module = Module::discover(&repo, &options).unwrap().module;
    let text = pipeline::render(&module, None, &PipelineOptions::default());
    let file = pipeline::read(&text, None).unwrap();
    let script = file.document[pipeline::RUN_TEMPLATE]["script"][0]
        .as_str()
        .unwrap()
        .to_owned();
    // The entry point in the image becomes a script that prints the words it receives.
    let python = std::env::var("MLREEF_PYTHON").unwrap_or_else(|_| "python3".into());
    let program = pipeline::shell_line(&[
        "python3".to_owned(),
        format!("{}/my src/train it.py", pipeline::CODE_DIR),
    ]);
    assert!(script.contains(&program), "{script}");
    let echo = tmp.path().join("print's argv.py");
    fs::write(&echo, "import json, sys\nprint(json.dumps(sys.argv[1:]))\n").unwrap();
    let line = script.replacen(
        &program,
        &pipeline::shell_line(&[python, echo.display().to_string()]),
        1,
    );
    // Files a glob would match, in the folder the shell runs in.
    for name in ["a.py", "b.py", "x"] {
        fs::write(tmp.path().join(name), "").unwrap();
    }
    let words = |items: &[&str]| -> Vec<String> { items.iter().map(|&w| w.to_owned()).collect() };
    let argvs: Vec<Vec<String>> = vec![
        words(&[]),
        words(&["--note", "two words"]),
        words(&["--note", "it's", "--b", "say \"hi\"", "'", "\"", "'\"'\"'"]),
        words(&[
            "--note",
            "$HOME",
            "${PATH}",
            "$(echo run)",
            "`echo run`",
            "$1",
            "$@",
        ]),
        words(&["*", "*.py", "?", "[ab].py", "~", "~/x"]),
        words(&["C:\\dir\\file", "\\", "\\n", "end\\", "\\'"]),
        words(&["", "--note", "", "  "]),
        words(&["line one\nline two", "\n", "trailing\n\n", "\ttab\r"]),
        words(&[
            "; echo no",
            "&& echo no",
            "| cat",
            "> out.txt",
            "# not a comment",
            "a=b",
        ]),
        words(&["--x=-1", "--", "-pos", "naïve — ✓"]),
    ];
    let mut shells = vec!["/bin/sh"];
    shells.extend(["bash", "dash"].into_iter().filter(|s| shell_available(s)));
    assert!(shell_available("/bin/sh"), "a POSIX /bin/sh");
    let (input, output) = ("/data/my images", "out $HOME 'x'");
    for shell in &shells {
        for argv in &argvs {
            let run = std::process::Command::new(shell)
                .arg("-c")
                .arg(&line)
                .current_dir(tmp.path())
                .env("MLREEF_ARGS", pipeline::shell_line(argv))
                .env("INPUT_PATH", input)
                .env("OUTPUT_PATH", output)
                .output()
                .unwrap();
            assert!(
                run.status.success(),
                "{shell}: {line}\n{}",
                String::from_utf8_lossy(&run.stderr)
            );
            let got: Vec<String> = serde_json::from_slice(&run.stdout)
                .unwrap_or_else(|e| panic!("{shell}: {e}: {:?}", run.stdout));
            let mut expected = words(&["--input-path", input, "--output-path", output]);
            expected.extend(argv.iter().cloned());
            assert_eq!(
                got,
                expected,
                "{shell} with MLREEF_ARGS={}",
                pipeline::shell_line(argv)
            );
        }
    }
    assert!(
        !tmp.path().join("out.txt").exists(),
        "nothing in MLREEF_ARGS ran"
    );
    eprintln!(
        "run template: {} argvs each under {}",
        argvs.len(),
        shells.join(", ")
    );
}
