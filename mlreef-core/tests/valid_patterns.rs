//! Valid code gets no error: the argparse patterns of well-known training repositories
//! (`pattern_*` argparse fixtures, and module repositories shaped like them) pass
//! extraction and `Module::validate` without an error-severity diagnostic, while the
//! defaults and names argparse itself would fail on are still errors.

mod common;

use std::path::Path;

use mlreef_core::argparse::{Options, extract_file};
use mlreef_core::module::{DiscoverOptions, EntryPoints, Module};
use mlreef_core::{Diagnostic, Severity};

fn errors(diagnostics: &[Diagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}:{} {}: {}", d.line, d.column, d.code, d.message))
        .collect()
}

/// The module a lone script makes: its parameters, validated as `mlreef inspect` does.
fn validate_script(name: &str, script: &Path, repo: &Path) -> Vec<String> {
    let options = Options {
        repo: Some(repo.to_owned()),
        ..Options::default()
    };
    let extraction = extract_file(script, &options).unwrap_or_else(|e| panic!("{name}: {e}"));
    let module = Module {
        name: name.to_owned(),
        entry_points: EntryPoints {
            train: format!("{name}.py"),
            inference: None,
        },
        parameters: extraction.parameters,
        ..Module::default()
    };
    let mut found = errors(&extraction.diagnostics);
    found.extend(errors(&module.validate()));
    found
}

#[test]
fn no_argparse_fixture_gets_an_error() {
    let fixtures = common::argparse_fixtures();
    let patterns = fixtures
        .iter()
        .filter(|f| f.name.starts_with("pattern_"))
        .count();
    assert!(patterns >= 7, "only {patterns} pattern fixtures");
    let mut problems = Vec::new();
    for f in &fixtures {
        for error in validate_script(&f.name, &f.entry, &f.repo) {
            problems.push(format!("{}: {error}", f.name));
        }
    }
    assert!(
        problems.is_empty(),
        "errors on valid code:\n{}",
        problems.join("\n")
    );
}

#[test]
fn no_module_repository_gets_an_error() {
    let dir = common::fixtures_dir("modules");
    let mut checked = Vec::new();
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let repo = entry.unwrap().path();
        if !repo.is_dir() {
            continue;
        }
        let name = repo.file_name().unwrap().to_string_lossy().into_owned();
        let discovered = Module::discover(&repo, &DiscoverOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut found = errors(&discovered.diagnostics);
        found.extend(errors(&discovered.module.validate()));
        problems.extend(found.into_iter().map(|e| format!("{name}: {e}")));
        checked.push(name);
    }
    for shaped_like_a_known_repository in ["detection_tools", "imagenet_reference", "yolo_helpers"]
    {
        assert!(
            checked.iter().any(|n| n == shaped_like_a_known_repository),
            "{checked:?}"
        );
    }
    assert!(
        problems.is_empty(),
        "errors on valid repositories:\n{}",
        problems.join("\n")
    );
}
