//! `pipeline::init`, the whole `mlreef init` flow: created, unchanged, out of date (check
//! mode writes nothing), updated (what a person set is kept), refused (a broken file is left
//! as it is), cancelled, and the file replaced atomically.

use std::fs;
use std::path::Path;
use std::sync::Mutex;

use mlreef_core::pipeline::{self, InitError, InitOptions, InitStatus, PipelineError};
use mlreef_core::progress::{Cancelled, Event};

const TRAIN: &str = "import argparse\np = argparse.ArgumentParser()\np.add_argument('--input-path', required=True)\np.add_argument('--output-path', default='out')\np.add_argument('--epochs', type=int, default=3)\np.parse_args()\n";

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("train.py"), TRAIN).unwrap();
    fs::write(dir.path().join("requirements.txt"), "numpy==1.26.4\n").unwrap();
    dir
}

fn check() -> InitOptions {
    InitOptions {
        check: true,
        ..InitOptions::default()
    }
}

/// The names in the folder, so that a left-over temporary file shows.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn created_unchanged_out_of_date_updated() {
    let dir = repo();
    let path = dir.path().join("mlreef.yml");

    // Check mode on a repository without the file: out of date, and still no file.
    let missing = pipeline::init(dir.path(), &check()).unwrap();
    assert_eq!(missing.status, InitStatus::OutOfDate);
    assert!(!path.exists());

    let created = pipeline::init(dir.path(), &InitOptions::default()).unwrap();
    assert_eq!(created.status, InitStatus::Created);
    assert_eq!(created.path, path);
    assert_eq!(fs::read_to_string(&path).unwrap(), created.text);
    assert!(created.changes.is_empty());
    assert_eq!(created.module.entry_points.train, "train.py");
    assert!(
        created
            .diagnostics
            .iter()
            .any(|d| d.code == "model-without-output"),
        "validation's diagnostics are part of the outcome: {:?}",
        created.diagnostics
    );
    assert_eq!(
        names(dir.path()),
        ["mlreef.yml", "requirements.txt", "train.py"]
    );

    for options in [InitOptions::default(), check()] {
        let again = pipeline::init(dir.path(), &options).unwrap();
        assert_eq!(again.status, InitStatus::Unchanged);
        assert_eq!(again.text, created.text);
    }

    // A person's edits and the code's change: check reports, writes nothing.
    let edited = created.text.replace("kind: ALGORITHM", "kind: OPERATION")
        + "lint:\n  script:\n    - ruff check .\n";
    fs::write(&path, &edited).unwrap();
    fs::write(
        dir.path().join("train.py"),
        TRAIN.replace(
            "p.parse_args()",
            "p.add_argument('--seed', type=int)\np.parse_args()",
        ),
    )
    .unwrap();
    let stale = pipeline::init(dir.path(), &check()).unwrap();
    assert_eq!(stale.status, InitStatus::OutOfDate);
    assert!(
        stale
            .changes
            .iter()
            .any(|c| c.0 == "parameter `seed` added"),
        "{:?}",
        stale.changes
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), edited);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    }
    let updated = pipeline::init(dir.path(), &InitOptions::default()).unwrap();
    assert_eq!(updated.status, InitStatus::Updated);
    assert_eq!(updated.changes, stale.changes);
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text, updated.text);
    assert!(
        text.contains("kind: OPERATION") && text.contains("ruff check ."),
        "{text}"
    );
    assert!(text.contains("seed"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640, "the file keeps its permissions");
    }
    assert_eq!(
        names(dir.path()),
        ["mlreef.yml", "requirements.txt", "train.py"]
    );

    // The JSON form the bindings return.
    let json: serde_json::Value = serde_json::from_str(&updated.to_json()).unwrap();
    assert_eq!(json["status"], "updated");
    assert_eq!(json["changes"][0], "parameter `seed` added");
    for key in ["path", "module", "diagnostics", "text"] {
        assert!(json.get(key).is_some(), "{key}");
    }
}

#[test]
fn a_layout_change_alone_is_an_update_without_changes() {
    let dir = repo();
    let created = pipeline::init(dir.path(), &InitOptions::default()).unwrap();
    let path = dir.path().join("mlreef.yml");
    // The same values, written in another style.
    let value = pipeline::read(&created.text, None).unwrap().document;
    fs::write(&path, serde_json::to_string(&value).unwrap()).unwrap();
    let updated = pipeline::init(dir.path(), &InitOptions::default()).unwrap();
    assert_eq!(updated.status, InitStatus::Updated);
    assert!(updated.changes.is_empty(), "{:?}", updated.changes);
    assert_eq!(fs::read_to_string(&path).unwrap(), created.text);
}

#[test]
fn a_broken_file_is_refused_and_left_as_it_is() {
    let dir = repo();
    let path = dir.path().join("mlreef.yml");
    for broken in [
        "stages: [publish\n",
        "- a list\n",
        ".mlreef:\n  kind: MODEL\n",
    ] {
        fs::write(&path, broken).unwrap();
        for options in [InitOptions::default(), check()] {
            let error = pipeline::init(dir.path(), &options).unwrap_err();
            assert!(
                matches!(
                    error,
                    InitError::Existing(PipelineError::Yaml { .. } | PipelineError::Shape { .. })
                ),
                "{error:?}"
            );
            let error = mlreef_core::Error::from(error);
            assert_eq!(error.path(), Some(path.as_path()));
            assert!(error.line().is_some());
            assert_eq!(fs::read_to_string(&path).unwrap(), broken);
        }
    }
    assert_eq!(
        mlreef_core::Error::from(pipeline::init(dir.path(), &check()).unwrap_err()).line(),
        Some(1)
    );
    // Not a file at all.
    fs::remove_file(&path).unwrap();
    fs::create_dir(&path).unwrap();
    let error = pipeline::init(dir.path(), &InitOptions::default()).unwrap_err();
    assert!(
        matches!(error, InitError::Existing(PipelineError::Io { .. })),
        "{error:?}"
    );
}

#[test]
fn a_repository_that_makes_no_module_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("notes.py"), "print('hello')\n").unwrap();
    let error = pipeline::init(dir.path(), &InitOptions::default()).unwrap_err();
    assert!(matches!(error, InitError::Discover(_)), "{error:?}");
    assert_eq!(names(dir.path()), ["notes.py"]);
    let missing = pipeline::init(&dir.path().join("missing"), &InitOptions::default()).unwrap_err();
    assert!(matches!(missing, InitError::Discover(_)), "{missing:?}");
}

#[test]
fn progress_hears_each_step_and_a_cancel_writes_nothing() {
    let dir = repo();
    let stages = Mutex::new(Vec::new());
    let record = |event: &Event<'_>| -> Result<(), Cancelled> {
        stages.lock().unwrap().push(event.stage.to_owned());
        Ok(())
    };
    let outcome = pipeline::init_with(dir.path(), &InitOptions::default(), &record).unwrap();
    assert_eq!(outcome.status, InitStatus::Created);
    let seen = stages.lock().unwrap().clone();
    assert!(seen.contains(&"extract".to_owned()), "{seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("write"));

    fs::write(
        dir.path().join("train.py"),
        TRAIN.replace("default=3", "default=5"),
    )
    .unwrap();
    let before = fs::read_to_string(dir.path().join("mlreef.yml")).unwrap();
    for stop_at in ["extract", "write"] {
        let stop = |event: &Event<'_>| -> Result<(), Cancelled> {
            if event.stage == stop_at {
                Err(Cancelled)
            } else {
                Ok(())
            }
        };
        let error = pipeline::init_with(dir.path(), &InitOptions::default(), &stop).unwrap_err();
        assert!(
            matches!(error, InitError::Cancelled),
            "{stop_at}: {error:?}"
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("mlreef.yml")).unwrap(),
            before
        );
        assert_eq!(
            names(dir.path()),
            ["mlreef.yml", "requirements.txt", "train.py"]
        );
    }
}
