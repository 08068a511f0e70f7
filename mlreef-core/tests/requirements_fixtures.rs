//! Every fixture under `tests/fixtures/requirements/` against the JSON expected beside it
//! (the parse for `CPython` 3.11 on linux/amd64, and the rendered text), plus the behaviours
//! that a snapshot alone would not pin down. `MLREEF_BLESS=1` rewrites the expected files.

mod common;

use std::path::Path;

use mlreef_core::requirements::{Options, RequirementsFile, Target, parse, parse_file};
use serde_json::json;

fn options(repo: &Path) -> Options {
    Options {
        env: Some(common::requirements_env()),
        repo: Some(repo.to_owned()),
        ..Options::default()
    }
}

fn parse_fixture(name: &str) -> RequirementsFile {
    let fixture = common::requirements_fixtures()
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no fixture {name}"));
    parse_file(&fixture.entry, &options(&fixture.repo)).unwrap()
}

fn codes(file: &RequirementsFile) -> Vec<(usize, &str)> {
    file.diagnostics
        .iter()
        .map(|d| (d.line, d.code.as_str()))
        .collect()
}

#[test]
fn fixtures_match_expected_json() {
    let fixtures = common::requirements_fixtures();
    assert!(
        fixtures.len() >= 40,
        "expected at least 40 fixtures, found {}",
        fixtures.len()
    );
    let mut failures = Vec::new();
    for f in &fixtures {
        let file = parse_file(&f.entry, &options(&f.repo))
            .unwrap_or_else(|e| panic!("{}: {e}", f.name))
            .for_target(&Target::default());
        let actual =
            json!({"result": serde_json::to_value(&file).unwrap(), "rendered": file.render()});
        common::check_snapshot(&f.name, &f.expected, &actual, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn encodings_and_line_endings_read_like_plain_utf8() {
    for name in [
        "encoding_utf8_bom",
        "encoding_utf16_le_bom",
        "crlf_line_endings",
        "old_mac_cr_line_endings",
    ] {
        let file = parse_fixture(name);
        assert!(
            file.first_error().is_none(),
            "{name}: {:?}",
            file.diagnostics
        );
        assert!(
            file.requirements.len() >= 3,
            "{name}: {:?}",
            file.requirements
        );
        assert!(
            file.requirements
                .iter()
                .all(|r| r.name.as_deref().is_some_and(str::is_ascii))
        );
    }
}

#[test]
fn hashes_on_continuation_lines_belong_to_the_requirement_above() {
    let file = parse_fixture("continuation_hashes_pip_compile");
    assert!(file.first_error().is_none());
    for r in &file.requirements {
        assert!(r.hashes.len() >= 2, "{r:?}");
        assert!(r.hashes.iter().all(|h| h.starts_with("sha256:")));
    }
    // `line` is where the requirement starts, not where its last hash is.
    let text = std::fs::read_to_string(
        common::fixtures_dir("requirements").join("continuation_hashes_pip_compile.txt"),
    )
    .unwrap();
    for r in &file.requirements {
        let physical = text.lines().nth(r.line - 1).unwrap();
        assert!(
            physical.starts_with(r.name.as_deref().unwrap()),
            "line {} is `{physical}`",
            r.line
        );
    }
}

#[test]
fn secrets_from_the_environment_never_reach_the_result() {
    let file = parse_fixture("env_index_url_token");
    let json = file.to_json();
    assert!(!json.contains("s3cr3t"), "{json}");
    assert!(!file.render().contains("s3cr3t"));
    assert_eq!(
        file.options.index_url.as_deref(),
        Some("https://__token__:${MLREEF_INDEX_TOKEN}@pypi.mlreef.example.com/simple/")
    );
    // A literal password is masked, and the author is told to use a variable.
    let literal = parse(
        "--index-url https://bot:hunter2@pypi.example.com/simple\nx\n",
        &Options::default(),
    );
    assert!(!literal.to_json().contains("hunter2"));
    assert!(codes(&literal).contains(&(1, "password-in-url")));
}

#[test]
fn variables_expand_only_in_pips_form() {
    let file = parse_fixture("env_version_specifier");
    assert!(file.requirements.iter().any(|r| r.specifier == "==2.31.0"));
    for name in ["env_unset_var_left", "env_empty_not_replaced"] {
        let file = parse_fixture(name);
        assert!(
            file.diagnostics.iter().any(|d| d.code == "unset-variable"),
            "{name}"
        );
    }
    let file = parse(
        "pkg==${V}\n",
        &Options {
            env: Some([("V".to_owned(), "1.0".to_owned())].into()),
            ..Options::default()
        },
    );
    assert_eq!(file.requirements[0].specifier, "==1.0");
    let unset = parse(
        "pkg==${V}\n",
        &Options {
            env: Some(std::collections::HashMap::new()),
            ..Options::default()
        },
    );
    assert!(
        unset.first_error().is_some(),
        "an unexpanded variable is not a version"
    );
}

#[test]
fn include_cycles_name_the_chain() {
    let file = parse_fixture("include_cycle_error");
    let cycle = file
        .diagnostics
        .iter()
        .find(|d| d.code == "include-cycle")
        .expect("a cycle");
    assert_eq!(cycle.file.as_deref(), Some("dev.txt"));
    assert!(
        cycle.message.contains("base.txt -> dev.txt -> base.txt"),
        "{}",
        cycle.message
    );
    // Everything before and after the cycle is still read.
    let names: Vec<_> = file
        .requirements
        .iter()
        .filter_map(|r| r.name.as_deref())
        .collect();
    assert_eq!(names, ["numpy", "pytest"]);
    let own = parse_fixture("include_self_error");
    assert!(own.diagnostics.iter().any(|d| d.code == "include-cycle"));
}

#[test]
fn includes_stay_inside_the_repository_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join("sub")).unwrap();
    std::fs::write(dir.path().join("outside.txt"), "leaked==1.0\n").unwrap();
    std::fs::write(
        repo.join("sub/requirements.txt"),
        "numpy\n-r ../../outside.txt\n",
    )
    .unwrap();
    let entry = repo.join("sub/requirements.txt");
    let refused = parse_file(&entry, &options(&repo)).unwrap();
    assert_eq!(codes(&refused), [(2, "include-outside-repo")]);
    assert_eq!(refused.requirements.len(), 1);
    let allowed = parse_file(
        &entry,
        &Options {
            allow_outside_repo: true,
            ..options(&repo)
        },
    )
    .unwrap();
    assert!(allowed.first_error().is_none(), "{:?}", allowed.diagnostics);
    assert_eq!(allowed.requirements[1].name.as_deref(), Some("leaked"));

    // A symbolic link inside the repository that points out of it is refused too.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.path().join("outside.txt"), repo.join("link.txt")).unwrap();
        std::fs::write(repo.join("requirements.txt"), "-r link.txt\n").unwrap();
        let linked = parse_file(&repo.join("requirements.txt"), &options(&repo)).unwrap();
        assert_eq!(codes(&linked), [(1, "include-outside-repo")]);
    }
}

#[test]
fn url_includes_are_reported_not_fetched() {
    let file = parse_fixture("include_url");
    assert!(file.first_error().is_none());
    assert!(
        file.diagnostics
            .iter()
            .any(|d| d.code == "url-include" && d.message.contains("not fetched"))
    );
}

#[test]
fn targets_select_requirements_by_marker() {
    let text = "a ; python_version < '3.9'\nb ; sys_platform == 'win32'\nc ; platform_machine == 'aarch64'\nd\n";
    let file = parse(text, &Options::default());
    let names = |target: &Target| -> Vec<String> {
        file.applicable(target)
            .filter_map(|r| r.name.clone())
            .collect()
    };
    assert_eq!(names(&Target::new("3.11", "linux/amd64").unwrap()), ["d"]);
    assert_eq!(
        names(&Target::new("3.8", "linux/arm64").unwrap()),
        ["a", "c", "d"]
    );
    assert_eq!(
        names(&Target::new("3.12", "windows/amd64").unwrap()),
        ["b", "d"]
    );
    assert_eq!(file.render_for(&Target::default()), "d\n");
}

#[test]
fn publishing_flags() {
    let file = parse_fixture("editable_local_paths");
    assert!(file.local().count() >= 2);
    let file = parse("a==1.0\nb>=1\nc\nd==1.*\ne===x\n", &Options::default());
    let unpinned: Vec<_> = file.unpinned().filter_map(|r| r.name.as_deref()).collect();
    assert_eq!(unpinned, ["b", "c", "d"]);
}

#[test]
fn a_100000_line_file() {
    use std::fmt::Write as _;
    let mut text = String::new();
    for i in 0..100_000 {
        let _ = match i % 4 {
            0 => write!(
                text,
                "package-{i}=={}.{}.{} \\\n    --hash=sha256:{i:064x}\n",
                i % 7,
                i % 11,
                i % 13
            ),
            1 => writeln!(text, "# comment {i}"),
            2 => writeln!(text, "lib_{i}[extra]>=1.{i} ; python_version >= '3.8'"),
            _ => writeln!(text),
        };
    }
    let file = parse(&text, &Options::default());
    assert!(file.first_error().is_none());
    assert_eq!(file.requirements.len(), 50_000);
    // Each group of four entries is five physical lines; the last requirement opens the last line.
    assert_eq!(file.requirements.last().unwrap().line, 125_000 - 1);
}
