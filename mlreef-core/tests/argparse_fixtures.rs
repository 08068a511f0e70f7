//! Every script under `tests/fixtures/argparse/` against the JSON expected beside it.
//! `MLREEF_BLESS=1` rewrites the expected files (review the diff before committing).

mod common;

#[test]
fn fixtures_match_expected_json() {
    let fixtures = common::argparse_fixtures();
    assert!(
        fixtures.len() >= 60,
        "expected at least 60 fixtures, found {}",
        fixtures.len()
    );
    let mut failures = Vec::new();
    for f in &fixtures {
        let actual = common::extract_fixture(f);
        common::check_snapshot(&f.name, &f.expected, &actual, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
