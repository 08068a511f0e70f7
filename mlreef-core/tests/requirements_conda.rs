//! conda `environment.yml`: match specs, channels, and the `pip:` sub-list read with the
//! requirements parser (paths relative to the yml, lines as in the yml).

mod common;

use std::path::Path;

use mlreef_core::requirements::{Error, Options, parse_environment, parse_file};

fn fixture(name: &str) -> std::path::PathBuf {
    common::fixtures_dir("conda").join(name)
}

fn options(repo: &Path) -> Options {
    Options {
        repo: Some(repo.to_owned()),
        ..Options::default()
    }
}

#[test]
fn conda_packages_and_pip_entries() {
    let path = fixture("pip_sublist/environment.yml");
    let file = parse_file(&path, &options(&fixture("pip_sublist"))).unwrap();
    assert!(file.first_error().is_none(), "{:?}", file.diagnostics);
    let conda = file.conda.as_ref().expect("a conda environment");
    assert_eq!(conda.name.as_deref(), Some("segmentation-train"));
    assert_eq!(conda.channels, ["pytorch", "nvidia", "conda-forge"]);
    assert_eq!(conda.python(), Some("3.11"));
    let specs: Vec<_> = conda
        .dependencies
        .iter()
        .map(|d| {
            (
                d.name.as_str(),
                d.version.as_deref(),
                d.build.as_deref(),
                d.channel.as_deref(),
                d.line,
            )
        })
        .collect();
    assert_eq!(
        specs,
        [
            ("python", Some("3.11"), None, None, 9),
            (
                "pytorch",
                Some("2.1.0"),
                Some("py3.11_cuda12.1_cudnn8_0"),
                Some("pytorch"),
                10
            ),
            ("pytorch-cuda", Some("12.1"), None, None, 11),
            ("numpy", Some(">=1.24,<2"), None, None, 12),
            (
                "opencv",
                Some("4.8.1"),
                Some("py311*"),
                Some("conda-forge"),
                13
            ),
            ("scikit-image", Some(">=0.21"), Some("py311*"), None, 14),
            ("pip", None, None, None, 15),
        ]
    );
    // pip entries keep their yml line; an included file keeps its own.
    let reqs: Vec<_> = file
        .requirements
        .iter()
        .map(|r| {
            (
                r.name.as_deref().unwrap_or("-"),
                r.source.as_str(),
                r.line,
                r.editable,
            )
        })
        .collect();
    assert_eq!(
        reqs,
        [
            ("albumentations", "environment.yml", 17, false),
            ("wandb", "sub/extra-requirements.txt", 2, false),
            ("rich", "sub/extra-requirements.txt", 3, false),
            ("segmentation-models-pytorch", "environment.yml", 19, false),
            ("-", "environment.yml", 20, true),
        ]
    );
    assert_eq!(file.requirements[4].url.as_deref(), Some("./sub"));
}

#[test]
fn a_file_without_pip_entries() {
    let file = parse_file(&fixture("conda_only.yml"), &options(&fixture(""))).unwrap();
    assert!(file.requirements.is_empty());
    let conda = file.conda.unwrap();
    assert_eq!(conda.channels, ["conda-forge"]);
    assert_eq!(conda.python(), Some(">=3.10"));
    assert_eq!(conda.dependencies.len(), 3);
}

#[test]
fn bad_entries_are_errors_at_their_line() {
    let file = parse_file(&fixture("bad_entries.yml"), &options(&fixture(""))).unwrap();
    let errors: Vec<_> = file
        .diagnostics
        .iter()
        .map(|d| (d.line, d.code.as_str()))
        .collect();
    assert_eq!(
        errors,
        [
            (2, "invalid-environment"),
            (5, "invalid-environment"),
            (6, "invalid-environment"),
            (9, "invalid-requirement"),
        ],
        "{:#?}",
        file.diagnostics
    );
    // What could be read still is: `requests` from both pip lists.
    assert_eq!(file.requirements.len(), 2);
    assert_eq!(file.conda.unwrap().dependencies.len(), 1);
}

#[test]
fn not_yaml_or_not_a_mapping() {
    let options = Options::default();
    for (text, line) in [
        ("name: [a, b\n", 2),
        ("- numpy\n", 1),
        ("name: x\n  bad: indent\n", 2),
        ("\"x\n", 1),
    ] {
        match parse_environment(text, &options) {
            Err(Error::Yaml {
                line: at, message, ..
            }) => assert_eq!(at, line, "{text:?}: {message}"),
            other => panic!("{text:?}: expected a YAML error, got {other:?}"),
        }
    }
    // An empty file is an empty environment.
    let empty = parse_environment("", &options).unwrap();
    assert!(empty.requirements.is_empty() && empty.conda.is_some());
}

#[test]
fn deep_nesting_does_not_overflow() {
    let text = format!("name: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || parse_environment(&text, &Options::default()).map(|f| f.diagnostics.len()))
        .unwrap();
    let _ = handle.join().expect("no stack overflow");
}
