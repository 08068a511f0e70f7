//! Diagnostics that matter: a finding about the context (an environment variable's fallback, a
//! relative import that cannot be followed) is reported when it reaches the parser, and left
//! out otherwise unless the caller asks for everything (`verbose`).

use std::fs;
use std::path::Path;

use mlreef_core::Extraction;
use mlreef_core::argparse::{Imports, Options, extract_file};

fn extract(repo: &Path, verbose: bool, imports: Imports) -> Extraction {
    let options = Options {
        repo: Some(repo.to_path_buf()),
        verbose,
        imports,
        ..Options::default()
    };
    extract_file(&repo.join("train.py"), &options).unwrap()
}

/// The variables of the `env-default` findings, in order.
fn env_notes(extraction: &Extraction) -> Vec<String> {
    extraction
        .diagnostics
        .iter()
        .filter(|d| d.code == "env-default")
        .map(|d| {
            let start = d.message.find("variable `").unwrap() + "variable `".len();
            let end = d.message[start..].find('`').unwrap();
            d.message[start..start + end].to_owned()
        })
        .collect()
}

const LOGGING: &str = "\
import logging
import os

LEVEL = os.getenv('LOG_LEVEL', 'INFO')
RANK = int(os.environ.get('RANK', -1))
logging.basicConfig(level=LEVEL)


def data_root():
    return os.getenv('DATA_ROOT', '/data')
";

const TRAIN: &str = "\
import argparse
import os

from utils import RANK, data_root

WORKERS = int(os.getenv('WORKERS', 4))
CACHE = os.getenv('CACHE_DIR', '~/.cache')
EXTRA = os.getenv('EXTRA', '')
p = argparse.ArgumentParser()
p.add_argument('--input-path', default=data_root())
p.add_argument('--cache', default=os.path.join(CACHE, 'models'))
if os.getenv('ENABLE_DEBUG'):
    p.add_argument('--debug', action='store_true')
for name in os.getenv('FLAGS', 'alpha,beta').split(','):
    p.add_argument('--' + name)
args = p.parse_args()
";

#[test]
fn only_findings_that_reach_a_parameter_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("utils.py"), LOGGING).unwrap();
    fs::write(tmp.path().join("train.py"), TRAIN).unwrap();
    for imports in [Imports::OnDemand, Imports::Eager] {
        let extraction = extract(tmp.path(), false, imports);
        // DATA_ROOT reaches `--input-path` through a helper's return value, CACHE_DIR
        // `--cache` through a name and a call, ENABLE_DEBUG decides whether `--debug`
        // exists, FLAGS names two options. LOG_LEVEL, RANK, WORKERS and EXTRA touch nothing
        // the parser holds.
        // (The script's findings first, then the helper module's.)
        assert_eq!(
            env_notes(&extraction),
            ["CACHE_DIR", "ENABLE_DEBUG", "FLAGS", "DATA_ROOT"],
            "{imports:?}"
        );
        let names: Vec<_> = extraction
            .parameters
            .iter()
            .map(|p| p.name.clone().unwrap())
            .collect();
        assert_eq!(
            names,
            ["input-path", "cache", "alpha", "beta"],
            "{imports:?}"
        );
    }
    // Everything, with verbose (the helper's own variables are read only eagerly, or when
    // something the script uses needs them).
    let verbose = extract(tmp.path(), true, Imports::Eager);
    let mut all = env_notes(&verbose);
    all.sort();
    assert_eq!(
        all,
        [
            "CACHE_DIR",
            "DATA_ROOT",
            "ENABLE_DEBUG",
            "EXTRA",
            "FLAGS",
            "LOG_LEVEL",
            "RANK",
            "WORKERS"
        ]
    );
}

#[test]
fn an_unresolved_import_matters_when_what_it_hid_meets_a_parser() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("pkg")).unwrap();
    fs::write(tmp.path().join("pkg/__init__.py"), "").unwrap();
    fs::write(
        tmp.path().join("pkg/cli.py"),
        "from ...outside import add_args\nfrom ...outside import unused\n",
    )
    .unwrap();
    fs::write(
        tmp.path().join("train.py"),
        "import argparse\nfrom pkg.cli import add_args, unused\np = argparse.ArgumentParser()\nadd_args(p)\np.parse_args()\n",
    )
    .unwrap();
    let extraction = extract(tmp.path(), false, Imports::OnDemand);
    let unresolved: Vec<usize> = extraction
        .diagnostics
        .iter()
        .filter(|d| d.code == "unresolved-import")
        .map(|d| d.line)
        .collect();
    // Line 1 hid `add_args`, which receives the parser; line 2 hid a name never used.
    assert_eq!(unresolved, [1]);
    let verbose = extract(tmp.path(), true, Imports::Eager);
    let unresolved = verbose
        .diagnostics
        .iter()
        .filter(|d| d.code == "unresolved-import")
        .count();
    assert_eq!(unresolved, 2);
}
