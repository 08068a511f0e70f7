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
