//! The same call with the same arguments gives the same JSON from the core, the `mlreef`
//! command (`--json`) and the C API, for every requirements fixture (files, folders, conda
//! files) and every argparse and decorators fixture, without passing a repository: each
//! binding leaves the repository and the `${VAR}` values to the core's defaults. The same
//! holds for copies of fixtures in a temporary git repository (a folder with `.git`), outside
//! any repository, and for a path given relative to the current folder.
//!
//! The C side is `tests/c/print_json.c`, built here into `target/<profile>/c-tests/print_json`,
//! where `mlreef-py/tests/test_agree.py` finds it to compare Python with the CLI and C. The CLI
//! is `target/<profile>/mlreef`, which `cargo build --workspace` makes (as `scripts/test.sh`
//! does before the tests).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{build, target_dir};
use mlreef_core::{module, requirements};
use serde_json::Value;

#[derive(Debug, Clone, Copy)]
enum Call {
    Params,
    Requirements,
}

impl Call {
    fn command(self) -> &'static str {
        match self {
            Call::Params => "params",
            Call::Requirements => "requirements",
        }
    }
}

fn fixtures() -> PathBuf {
    common::root().join("mlreef-core/tests/fixtures")
}

/// The C program, built once for every test of this file (written beside, then renamed, so
/// that a reader never finds half a binary).
fn print_json() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let folder = target_dir().join("c-tests");
        std::fs::create_dir_all(&folder).unwrap();
        let binary = folder.join("print_json");
        let partial = folder.join(format!("print_json.{}", std::process::id()));
        build(
            &common::root().join("mlreef-ffi/tests/c/print_json.c"),
            &partial,
            false,
        );
        std::fs::rename(&partial, &binary).unwrap();
        binary
    })
}

fn cli() -> PathBuf {
    let binary = target_dir().join(format!("mlreef{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "{} not found: run `cargo build --workspace` first (scripts/test.sh does)",
        binary.display()
    );
    binary
}

/// The core's answer: the JSON, or the error's message.
fn core(call: Call, path: &Path) -> Result<Value, String> {
    match call {
        Call::Params => module::script_parameters(path, &mlreef_core::argparse::Options::default())
            .map(|e| serde_json::to_value(e).unwrap())
            .map_err(|e| e.to_string()),
        Call::Requirements => requirements::parse_file(path, &requirements::Options::default())
            .map(|f| serde_json::to_value(f).unwrap())
            .map_err(|e| e.to_string()),
    }
}

/// A program's answer: the JSON on stdout (the CLI prints it even for a file pip would
/// refuse, with exit status 1), or stderr when there is none.
fn run(command: &mut Command) -> Result<Value, String> {
    let output = command.output().expect("run the program");
    let stdout = String::from_utf8_lossy(&output.stdout);
    if stdout.trim().is_empty() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    serde_json::from_str(&stdout).map_err(|e| format!("not JSON ({e}): {stdout}"))
}

/// Where the three disagree, if they do.
fn disagreement(call: Call, path: &Path) -> Option<String> {
    let core = core(call, path);
    let cli = run(Command::new(cli())
        .arg(call.command())
        .arg(path)
        .arg("--json"));
    let c = run(Command::new(print_json()).arg(call.command()).arg(path));
    let same = match (&core, &cli, &c) {
        (Ok(a), Ok(b), Ok(c)) => a == b && a == c,
        // A file none of them can read: each says so (in its own words).
        (Err(_), Err(_), Err(_)) => true,
        _ => false,
    };
    (!same).then(|| {
        format!(
            "{} {}:\n--- core\n{core:?}\n--- cli\n{cli:?}\n--- c\n{c:?}",
            call.command(),
            path.display()
        )
    })
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
}

/// Every requirements fixture: `NAME.txt` and `NAME/requirements.txt`, and the conda ones
/// (`NAME.yml`, `NAME/environment.yml`).
fn requirements_fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (folder, extension, entry) in [
        ("requirements", "txt", "requirements.txt"),
        ("conda", "yml", "environment.yml"),
    ] {
        for path in entries(&fixtures().join(folder)) {
            if path.is_dir() && path.join(entry).is_file() {
                out.push(path.join(entry));
            } else if path.extension().is_some_and(|e| e == extension) {
                out.push(path);
            }
        }
    }
    out
}

/// Every argparse fixture (`NAME.py`, `NAME/main.py`) and every decorators fixture.
fn script_fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for folder in ["argparse", "decorators"] {
        for path in entries(&fixtures().join(folder)) {
            if path.is_dir() && path.join("main.py").is_file() {
                out.push(path.join("main.py"));
            } else if path.extension().is_some_and(|e| e == "py") {
                out.push(path);
            }
        }
    }
    out
}

fn check_all(call: Call, paths: &[PathBuf]) {
    let failures: Vec<String> = paths
        .iter()
        .filter_map(|path| disagreement(call, path))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} disagree:\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n")
    );
}

#[test]
fn every_requirements_fixture_gives_the_same_json() {
    let paths = requirements_fixtures();
    assert!(paths.len() >= 60, "{}", paths.len());
    assert!(
        paths
            .iter()
            .any(|p| p.ends_with("pip_sublist/environment.yml"))
    );
    check_all(Call::Requirements, &paths);
}

#[test]
fn every_argparse_and_decorators_fixture_gives_the_same_json() {
    let paths = script_fixtures();
    assert!(paths.len() >= 80, "{}", paths.len());
    check_all(Call::Params, &paths);
}

fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for entry in entries(from) {
            copy(&entry, &to.join(entry.file_name().unwrap()));
        }
    } else {
        std::fs::copy(from, to).unwrap();
    }
}

/// Fixtures with includes, helper modules and a conda `pip:` list, copied under `root`.
fn copy_fixtures(root: &Path) -> Vec<(Call, PathBuf)> {
    let f = fixtures();
    copy(
        &f.join("requirements/include_nested_three_levels"),
        &root.join("deps"),
    );
    copy(
        &f.join("requirements/include_outside"),
        &root.join("outside"),
    );
    copy(&f.join("conda/pip_sublist"), &root.join("env"));
    copy(&f.join("argparse/helper_cross_module"), &root.join("src"));
    copy(
        &f.join("argparse/realistic_pytorch_train.py"),
        &root.join("train.py"),
    );
    vec![
        (Call::Requirements, root.join("deps/requirements.txt")),
        (Call::Requirements, root.join("outside/requirements.txt")),
        (Call::Requirements, root.join("env/environment.yml")),
        (Call::Params, root.join("src/main.py")),
        (Call::Params, root.join("train.py")),
    ]
}

/// The `source` of each requirement the core reads from `path`.
fn sources(path: &Path) -> std::collections::BTreeSet<String> {
    let json = core(Call::Requirements, path).unwrap();
    json["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["source"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn in_a_git_repository_outside_any_and_relative_the_same_json() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path().canonicalize().unwrap();

    // In a repository: names are relative to its root, not to the file's folder.
    let repo = tmp.join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    let in_repo = copy_fixtures(&repo);
    for (call, path) in &in_repo {
        assert_eq!(disagreement(*call, path), None);
    }
    let deps = sources(&repo.join("deps/requirements.txt"));
    assert!(
        deps.contains("deps/requirements/common/core/pinned.txt"),
        "{deps:?}"
    );
    let env = sources(&repo.join("env/environment.yml"));
    assert!(env.contains("env/environment.yml"), "{env:?}");
    assert!(env.contains("env/sub/extra-requirements.txt"), "{env:?}");

    // Outside any repository: the file's own folder is the root.
    let alone = tmp.join("alone");
    std::fs::create_dir_all(&alone).unwrap();
    let outside = copy_fixtures(&alone);
    if mlreef_core::repo::root(&alone.join("deps/requirements.txt")) == alone.join("deps") {
        let deps = sources(&alone.join("deps/requirements.txt"));
        assert!(
            deps.contains("requirements/common/core/pinned.txt"),
            "{deps:?}"
        );
    }
    for (call, path) in &outside {
        assert_eq!(disagreement(*call, path), None);
    }

    // A path relative to the current folder (the test's, which the programs inherit).
    let relative = Path::new(
        "../mlreef-core/tests/fixtures/requirements/include_constraints/requirements.txt",
    );
    assert!(relative.is_file(), "run from mlreef-ffi");
    assert_eq!(disagreement(Call::Requirements, relative), None);
    let script = Path::new("../mlreef-core/tests/fixtures/argparse/helper_cross_module/main.py");
    assert_eq!(disagreement(Call::Params, script), None);
}
