//! Fixture tests for `mlreef_core::decorators`: every `NAME.py` under
//! `tests/fixtures/decorators/` is extracted and compared with `NAME.expected.json` beside it.
//!
//! `MLREEF_BLESS=1 cargo test -p mlreef-core --test decorators` rewrites the expected files;
//! read the diff before committing it, since a blessed file is only as right as its review.

use std::path::{Path, PathBuf};

use mlreef_core::decorators::extract_file;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/decorators");
    let mut scripts: Vec<PathBuf> = fs_err::read_dir(&dir)
        .expect("fixture folder exists")
        .map(|entry| entry.expect("fixture folder is readable").path())
        .filter(|path| path.extension().is_some_and(|e| e == "py"))
        .collect();
    scripts.sort();
    scripts
}

#[test]
fn fixtures_match_expected() {
    let bless = std::env::var_os("MLREEF_BLESS").is_some_and(|v| v == "1");
    let scripts = fixtures();
    assert!(
        scripts.len() >= 8,
        "expected at least 8 fixtures, found {}",
        scripts.len()
    );
    let mut failures = Vec::new();
    for script in &scripts {
        let extraction =
            extract_file(script).unwrap_or_else(|e| panic!("{}: {e}", script.display()));
        let actual =
            serde_json::to_string_pretty(&extraction).expect("extraction serializes") + "\n";
        let expected_path = script.with_extension("expected.json");
        if bless {
            fs_err::write(&expected_path, &actual).expect("expected file is writable");
            continue;
        }
        match fs_err::read_to_string(&expected_path) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!(
                "{} differs from {}\n--- expected\n{expected}--- actual\n{actual}",
                script.display(),
                expected_path.display()
            )),
            Err(e) => failures.push(format!("{e} (run with MLREEF_BLESS=1 to create it)")),
        }
    }
    // An expected file whose script was renamed or removed would otherwise linger unchecked.
    let dir = scripts[0].parent().expect("fixtures live in a folder");
    for entry in fs_err::read_dir(dir).expect("fixture folder exists") {
        let path = entry.expect("fixture folder is readable").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if let Some(stem) = name.strip_suffix(".expected.json")
            && !dir.join(format!("{stem}.py")).exists()
        {
            failures.push(format!("{} has no script beside it", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}
