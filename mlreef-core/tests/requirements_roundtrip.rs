//! parse -> render -> parse gives the same requirements, on generated files (random layout:
//! continuations, comments, spacing, CRLF) and on every corpus and fixture file.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use mlreef_core::requirements::{Options, RequirementsFile, parse, parse_file};
use proptest::prelude::*;

/// What a requirement means, without where it was written.
fn meanings(file: &RequirementsFile) -> BTreeSet<String> {
    file.requirements
        .iter()
        .filter(|r| !r.constraint)
        .map(|r| {
            let mut r = r.clone();
            r.line = 0;
            r.source = String::new();
            serde_json::to_string(&r).unwrap()
        })
        .collect()
}

/// Renders `file` and reads the text back as if it were saved beside the top-level file.
fn round_trip(file: &RequirementsFile, location: &Path) -> (String, RequirementsFile) {
    let text = file.render();
    let options = Options {
        path: Some(location.to_owned()),
        ..Options::default()
    };
    (text.clone(), parse(&text, &options))
}

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9]{0,6}([-_.][A-Za-z0-9]{1,4})?"
}

fn version() -> impl Strategy<Value = String> {
    "[0-9]{1,2}(\\.[0-9]{1,2}){1,2}"
}

fn specifier() -> impl Strategy<Value = String> {
    let one = (
        prop::sample::select(vec!["==", "!=", ">=", "<=", ">", "<", "~="]),
        version(),
    )
        .prop_map(|(op, v)| format!("{op}{v}"));
    prop_oneof![
        Just(String::new()),
        prop::collection::vec(one, 1..3).prop_map(|s| s.join(" , ")),
        version().prop_map(|v| format!("=={v}.*")),
        Just("===local-build".to_owned()),
    ]
}

fn marker() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        String::new(),
        " ; python_version >= \"3.9\"".to_owned(),
        ";sys_platform=='linux' and platform_machine == 'x86_64'".to_owned(),
        " ; (os_name == \"nt\" or os_name == \"posix\") and extra == \"gpu\"".to_owned(),
    ])
}

fn hashes() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        "[0-9a-f]{64}".prop_map(|h| format!("--hash=sha256:{h}")),
        0..3,
    )
}

/// One requirement line, in one of the forms pip accepts.
fn line() -> impl Strategy<Value = String> {
    let extras = prop::collection::vec("[a-z]{1,5}", 0..3).prop_map(|e| {
        if e.is_empty() {
            String::new()
        } else {
            format!("[{}]", e.join(", "))
        }
    });
    prop_oneof![
        4 => (name(), extras.clone(), specifier(), marker(), hashes()).prop_map(|(n, e, s, m, h)| {
            let mut line = format!("{n}{e} {s}{m}");
            for hash in h {
                line.push_str(" \\\n    ");
                line.push_str(&hash);
            }
            line
        }),
        1 => (name(), extras, marker()).prop_map(|(n, e, m)| format!("{n}{e} @ https://files.example.org/{n}-1.0-py3-none-any.whl{}", m.replace(';', " ;"))),
        1 => (name(), version()).prop_map(|(n, v)| format!("git+https://github.com/org/{n}.git@v{v}#egg={n}&subdirectory=src")),
        1 => name().prop_map(|n| format!("-e git+https://github.com/org/{n}.git#egg={n}")),
        1 => (name(), version()).prop_map(|(n, v)| format!("./dist/{n}-{v}.tar.gz")),
        1 => name().prop_map(|n| format!("{n} -C build-option=--quiet")),
    ]
}

fn file_text() -> impl Strategy<Value = String> {
    let options = prop::sample::select(vec![
        "",
        "--index-url https://pypi.example.org/simple\n",
        "--extra-index-url https://download.pytorch.org/whl/cu121\n--pre\n",
        "--only-binary :all:\n--trusted-host pypi.example.org\n",
    ]);
    (
        options,
        prop::collection::vec((line(), prop::bool::ANY), 0..12),
        prop::bool::ANY,
    )
        .prop_map(|(options, lines, crlf)| {
            let mut text = options.to_owned();
            for (line, comment) in lines {
                text.push_str(&line);
                if comment {
                    text.push_str("  # pinned by the data team");
                }
                text.push('\n');
            }
            if crlf {
                text.replace('\n', "\r\n")
            } else {
                text
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_files_round_trip(text in file_text()) {
        let location = Path::new("requirements.txt");
        let options = Options { path: Some(location.to_owned()), ..Options::default() };
        let first = parse(&text, &options);
        prop_assert!(first.first_error().is_none(), "{:?}\n{text}", first.diagnostics);
        let (rendered, second) = round_trip(&first, location);
        prop_assert!(second.first_error().is_none(), "{:?}\n{rendered}", second.diagnostics);
        prop_assert_eq!(meanings(&first), meanings(&second), "\n{}", rendered);
        prop_assert_eq!(&first.options, &second.options);
        prop_assert_eq!(second.render(), rendered, "rendering is not idempotent");
    }
}

#[test]
fn corpus_and_fixtures_round_trip() {
    let mut files = common::text_files(&common::requirements_corpus());
    files.extend(common::requirements_fixtures().into_iter().map(|f| f.entry));
    let env = common::requirements_env();
    let mut checked = 0;
    for path in files {
        let repo = path.parent().unwrap();
        let options = Options {
            env: Some(env.clone()),
            repo: Some(repo.to_owned()),
            ..Options::default()
        };
        let first = parse_file(&path, &options).unwrap();
        let (rendered, second) = round_trip(&first, &path);
        let second_errors: Vec<_> = second
            .diagnostics
            .iter()
            .filter(|d| d.severity == mlreef_core::Severity::Error)
            .collect();
        assert!(
            second_errors.is_empty(),
            "{}: the rendered text is refused: {second_errors:?}\n{rendered}",
            path.display()
        );
        assert_eq!(
            meanings(&first),
            meanings(&second),
            "{}:\n{rendered}",
            path.display()
        );
        checked += first.requirements.len();
    }
    assert!(checked > 700, "only {checked} requirements checked");
}
