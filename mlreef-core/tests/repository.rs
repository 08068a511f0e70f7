//! Helpers are followed inside the repository and never outside it.

use std::fs;

use std::path::Path;

use mlreef_core::Extraction;
use mlreef_core::argparse::{Options, extract_file};

/// Extracts `script` with `repo` as its repository.
fn extract_in(repo: &Path, script: &Path) -> Extraction {
    let options = Options {
        repo: Some(repo.to_path_buf()),
        ..Options::default()
    };
    extract_file(script, &options).unwrap()
}

fn names(extraction: &Extraction) -> Vec<String> {
    extraction
        .parameters
        .iter()
        .map(|p| p.name.clone().unwrap())
        .collect()
}

const HELPER: &str =
    "def add_args(parser):\n    parser.add_argument('--from-helper', type=int, default=3)\n";

#[test]
fn helpers_outside_the_repository_are_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    fs::create_dir(&repo).unwrap();
    // Beside the repository, reachable only through a symlink or a too-deep relative import.
    fs::write(tmp.path().join("outside.py"), HELPER).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(tmp.path().join("outside.py"), repo.join("linked.py")).unwrap();
    let script = repo.join("main.py");
    fs::write(
        &script,
        "import argparse\nfrom linked import add_args\nparser = argparse.ArgumentParser()\nparser.add_argument('--own')\nadd_args(parser)\nargs = parser.parse_args()\n",
    )
    .unwrap();
    let extraction = extract_in(&repo, &script);
    assert_eq!(
        names(&extraction),
        ["own"],
        "the helper behind the symlink must not be read"
    );
    let unresolved: Vec<_> = extraction
        .diagnostics
        .iter()
        .filter(|d| d.code == "unresolved-helper")
        .collect();
    assert_eq!(unresolved.len(), 1, "{:?}", extraction.diagnostics);
    assert_eq!((unresolved[0].line, unresolved[0].column), (5, 1));

    // The same helper inside the repository is followed, and its parameter names its file.
    fs::remove_file(repo.join("linked.py")).unwrap();
    fs::write(repo.join("linked.py"), HELPER).unwrap();
    let extraction = extract_in(&repo, &script);
    let helper = &extraction.parameters[1];
    assert_eq!(helper.name.as_deref(), Some("from-helper"));
    assert_eq!(helper.default, serde_json::json!(3));
    assert_eq!(
        (helper.file.as_deref(), helper.line, helper.column),
        (Some("linked.py"), 2, 5)
    );
}

#[test]
fn scripts_in_subfolders_import_from_their_folder_first_then_the_root() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    fs::create_dir_all(repo.join("src/train")).unwrap();
    fs::create_dir_all(repo.join("utils")).unwrap();
    fs::write(repo.join("utils/__init__.py"), "").unwrap();
    fs::write(
        repo.join("utils/args.py"),
        "def add(p):\n    p.add_argument('--root-helper')\n",
    )
    .unwrap();
    fs::write(
        repo.join("src/train/opts.py"),
        "def add(p):\n    p.add_argument('--sibling-helper')\n",
    )
    .unwrap();
    let script = repo.join("src/train/main.py");
    fs::write(
        &script,
        "import argparse\nimport opts\nfrom utils.args import add\np = argparse.ArgumentParser()\nopts.add(p)\nadd(p)\np.parse_args()\n",
    )
    .unwrap();
    let extraction = extract_in(repo, &script);
    assert_eq!(names(&extraction), ["sibling-helper", "root-helper"]);
    assert_eq!(
        extraction.parameters[1].file.as_deref(),
        Some("utils/args.py")
    );
}

#[test]
fn a_relative_import_above_the_top_package_reads_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    fs::create_dir_all(repo.join("pkg")).unwrap();
    fs::write(tmp.path().join("outside.py"), HELPER).unwrap();
    fs::write(repo.join("pkg/__init__.py"), "").unwrap();
    fs::write(repo.join("pkg/cli.py"), "from ...outside import add_args\n").unwrap();
    let script = repo.join("main.py");
    fs::write(&script, "import argparse\nfrom pkg.cli import add_args\np = argparse.ArgumentParser()\nadd_args(p)\np.parse_args()\n").unwrap();
    let extraction = extract_in(&repo, &script);
    assert!(extraction.parameters.is_empty());
    assert!(
        extraction
            .diagnostics
            .iter()
            .any(|d| d.code == "unresolved-helper"),
        "{:?}",
        extraction.diagnostics
    );
    let above = extraction
        .diagnostics
        .iter()
        .find(|d| d.code == "unresolved-import")
        .expect("the refused import is reported");
    assert_eq!((above.file.as_deref(), above.line), (Some("pkg/cli.py"), 1));
}
