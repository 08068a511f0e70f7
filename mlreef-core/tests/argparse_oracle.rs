//! The expected JSON of every fixture `CPython` can run, checked against `CPython`'s own argparse.
//!
//! `tests/oracle/argparse_oracle.py` runs the fixture's parser construction (third-party
//! imports stubbed, `parse_args` intercepted) and prints `parser._actions` in our contract's
//! form. Fields the runtime cannot know (`type`, `default_expr`, diagnostics) are ours alone; a
//! default we report as dynamic (`default_expr` set) is not compared, since the runtime value
//! is exactly what we decline to guess.

mod common;

use std::process::Command;

use serde_json::Value;

const COMPARED: &[&str] = &[
    "name",
    "dest",
    "flags",
    "action",
    "python_type",
    "default",
    "required",
    "choices",
    "nargs",
    "const",
    "help",
    "metavar",
    "group",
    "subcommand",
    "line",
    "column",
];

fn oracle(f: &common::Fixture) -> Value {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/argparse_oracle.py");
    let python = std::env::var("MLREEF_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .arg(&script)
        .arg(&f.entry)
        .arg("--repo")
        .arg(&f.repo)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} (the oracle needs CPython 3.11+): {e}"));
    assert!(
        out.status.success(),
        "{}: oracle failed: {}",
        f.name,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{}: oracle printed invalid JSON: {e}", f.name))
}

fn compare(f: &common::Fixture, expected: &Value, runtime: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if !runtime["error"].is_null() {
        problems.push(format!("the oracle could not run it: {}", runtime["error"]));
    }
    let ours = expected["parameters"].as_array().unwrap();
    let theirs = runtime["parameters"].as_array().unwrap();
    if ours.len() != theirs.len() {
        let names = |v: &[Value]| {
            v.iter()
                .map(|p| p["dest"].to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        return vec![format!(
            "{}: {} parameters, CPython has {}\n  ours:    {}\n  CPython: {}",
            f.name,
            ours.len(),
            theirs.len(),
            names(ours),
            names(theirs)
        )];
    }
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        for field in COMPARED {
            if *field == "default" && !a["default_expr"].is_null() {
                continue;
            }
            // A value JSON cannot hold (a function as `const`) is null on our side.
            if a[field].is_null() && b[field].get("__unrepresentable__").is_some() {
                continue;
            }
            if a[field] != b[field] {
                problems.push(format!(
                    "parameter {i} ({}) `{field}`: ours {} CPython {}",
                    a["dest"], a[field], b[field]
                ));
            }
        }
    }
    problems
        .into_iter()
        .map(|p| format!("{}: {p}", f.name))
        .collect()
}

#[test]
fn expected_json_agrees_with_cpython_argparse() {
    let fixtures: Vec<_> = common::argparse_fixtures()
        .into_iter()
        .filter(|f| !f.oracle_skip)
        .collect();
    assert!(
        fixtures.len() >= 60,
        "only {} fixtures are checked against CPython",
        fixtures.len()
    );
    let problems: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = fixtures
            .chunks(fixtures.len().div_ceil(4))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .flat_map(|f| {
                            let expected: Value = serde_json::from_str(
                                &std::fs::read_to_string(&f.expected).unwrap(),
                            )
                            .unwrap();
                            compare(f, &expected, &oracle(f))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        problems.is_empty(),
        "{} disagreement(s) with CPython:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
