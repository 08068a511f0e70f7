//! Every script under `tests/fixtures/argparse/` against the JSON expected beside it.
//! `MLREEF_BLESS=1` rewrites the expected files (review the diff before committing).

mod common;

#[test]
fn fixtures_match_expected_json() {
    let bless = std::env::var_os("MLREEF_BLESS").is_some();
    let fixtures = common::argparse_fixtures();
    assert!(
        fixtures.len() >= 60,
        "expected at least 60 fixtures, found {}",
        fixtures.len()
    );
    let mut failures = Vec::new();
    for f in &fixtures {
        let actual = common::extract_fixture(f);
        let rendered = serde_json::to_string_pretty(&actual).unwrap() + "\n";
        if bless {
            std::fs::write(&f.expected, rendered).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&f.expected)
            .unwrap_or_else(|_| panic!("{}: missing {}", f.name, f.expected.display()));
        let expected: serde_json::Value = serde_json::from_str(&expected).unwrap();
        if expected != actual {
            failures.push(format!(
                "{}:\n--- expected\n{}\n--- actual\n{}",
                f.name,
                serde_json::to_string_pretty(&expected).unwrap(),
                rendered
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
