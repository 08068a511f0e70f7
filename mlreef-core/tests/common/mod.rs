//! Fixture discovery shared by the argparse tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use mlreef_core::argparse::{Options, extract_file};

pub struct Fixture {
    pub name: String,
    /// The script to extract.
    pub entry: PathBuf,
    /// The repository the script lives in (a directory fixture, else the fixtures folder).
    pub repo: PathBuf,
    pub expected: PathBuf,
    /// Fixtures that `CPython` cannot run as they are say so on their first line.
    pub oracle_skip: bool,
}

pub fn fixtures_dir(domain: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(domain)
}

/// Every fixture: `NAME.py` files, and `NAME/` folders whose entry point is `NAME/main.py`.
pub fn argparse_fixtures() -> Vec<Fixture> {
    let dir = fixtures_dir("argparse");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixtures folder") {
        let path = entry.expect("fixture entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (name, entry, repo) = if path.is_dir() {
            (name, path.join("main.py"), path.clone())
        } else if let Some(stem) = name.strip_suffix(".py") {
            (stem.to_owned(), path.clone(), dir.clone())
        } else {
            continue;
        };
        let first_line = std::fs::read_to_string(&entry).unwrap_or_default();
        let oracle_skip = first_line
            .lines()
            .next()
            .is_some_and(|l| l.starts_with("# oracle: skip"));
        out.push(Fixture {
            expected: dir.join(format!("{name}.expected.json")),
            name,
            entry,
            repo,
            oracle_skip,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

pub fn extract_fixture(f: &Fixture) -> serde_json::Value {
    let options = Options {
        repo: Some(f.repo.clone()),
        ..Options::default()
    };
    let extraction = extract_file(&f.entry, &options)
        .unwrap_or_else(|e| panic!("{}: extraction failed: {e}", f.name));
    serde_json::to_value(&extraction).unwrap()
}

/// The environment every requirements test passes for `${VAR}` expansion.
pub fn requirements_env() -> std::collections::HashMap<String, String> {
    [
        ("MLREEF_INDEX_TOKEN", "s3cr3t"),
        ("MLREEF_VERSION", "2.31.0"),
        ("MLREEF_EMPTY", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A requirements fixture: `NAME.txt`, or a folder `NAME/` entered at `NAME/requirements.txt`
/// (the folder is then the repository, so includes leaving it are refused).
pub struct RequirementsFixture {
    pub name: String,
    pub entry: PathBuf,
    pub repo: PathBuf,
    pub expected: PathBuf,
}

pub fn requirements_fixtures() -> Vec<RequirementsFixture> {
    let dir = fixtures_dir("requirements");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixtures folder") {
        let path = entry.expect("fixture entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (name, entry, repo) = if path.is_dir() {
            (name, path.join("requirements.txt"), path.clone())
        } else if let Some(stem) = name.strip_suffix(".txt") {
            (stem.to_owned(), path.clone(), dir.clone())
        } else {
            continue;
        };
        out.push(RequirementsFixture {
            expected: dir.join(format!("{name}.expected.json")),
            name,
            entry,
            repo,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The requirements corpus shared by the team, beside the repository.
pub fn requirements_corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/requirements")
}

/// Every `.txt` file under `dir`, sorted.
pub fn text_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(folder) = stack.pop() {
        for entry in
            std::fs::read_dir(&folder).unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "txt") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Compares `actual` with the JSON in `expected` (or rewrites it when `MLREEF_BLESS` is set);
/// a difference is added to `failures`.
pub fn check_snapshot(
    name: &str,
    expected: &Path,
    actual: &serde_json::Value,
    failures: &mut Vec<String>,
) {
    let rendered = serde_json::to_string_pretty(actual).unwrap() + "\n";
    if std::env::var_os("MLREEF_BLESS").is_some() {
        std::fs::write(expected, rendered).unwrap();
        return;
    }
    let text = std::fs::read_to_string(expected)
        .unwrap_or_else(|_| panic!("{name}: missing {}", expected.display()));
    let wanted: serde_json::Value = serde_json::from_str(&text).unwrap();
    if &wanted != actual {
        failures.push(format!(
            "{name}:\n--- expected\n{text}\n--- actual\n{rendered}"
        ));
    }
}
