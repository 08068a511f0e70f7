//! `Module::command_line` for the example module repositories, checked against `CPython`'s
//! argparse: for each module's parameters, value sets that change every top-level parameter
//! from its default (booleans flipped, numbers moved, the last choice, strings with spaces,
//! quotes and `$`) are rendered, run through the module's own parser
//! (`tests/oracle/command_line_oracle.py`), and the namespace must hold them.

mod common;

use std::path::Path;
use std::process::Command;

use mlreef_core::module::{DiscoverOptions, Module};
use mlreef_core::parameter::Action;
use mlreef_core::{Parameter, ParameterType};
use serde_json::{Map, Value, json};

/// A value different from the default, of the parameter's type; `None` when there is no
/// obvious one (sub-commands, lists, unknown defaults).
fn changed(p: &Parameter, variant: u8) -> Option<Value> {
    if p.subcommand.is_some() || p.default_expr.is_some() || p.nargs.is_some() {
        return None;
    }
    if let Some(choices) = &p.choices {
        return choices.iter().rev().find(|c| **c != p.default).cloned();
    }
    match (p.action.name(), p.schema_type) {
        ("store_true", _) => Some(json!(true)),
        ("store_false", _) => Some(json!(false)),
        ("boolean_optional", _) => Some(json!(!p.default.as_bool().unwrap_or(false))),
        ("store", ParameterType::Integer) if p.python_type.as_deref() == Some("int") => Some(
            json!(p.default.as_i64().unwrap_or(0) + 1 + i64::from(variant)),
        ),
        ("store", ParameterType::Float) if p.python_type.as_deref() == Some("float") => {
            Some(json!(p.default.as_f64().unwrap_or(0.0) / 2.0 + 0.25))
        }
        ("store", ParameterType::String)
            if p.python_type.is_none() || p.python_type.as_deref() == Some("str") =>
        {
            Some(json!(
                [
                    "run with spaces",
                    "it's \"quoted\" $HOME",
                    "-starts-with-dash"
                ][usize::from(variant % 3)]
            ))
        }
        _ => None,
    }
}

fn namespace(script: &Path, repo: &Path, argv: &[String]) -> Map<String, Value> {
    let oracle = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/command_line_oracle.py");
    let python = std::env::var("MLREEF_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .arg(&oracle)
        .arg(script)
        .arg("--repo")
        .arg(repo)
        .arg("--argv-json")
        .arg(serde_json::to_string(argv).unwrap())
        .output()
        .expect("run the oracle");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    match &result["namespace"] {
        Value::Object(ns) => ns.clone(),
        _ => panic!(
            "{}: argparse refused {argv:?}: {}",
            script.display(),
            result["error"]
        ),
    }
}

#[test]
fn module_command_lines_give_cpython_the_asked_values() {
    let modules = common::fixtures_dir("modules");
    let mut checked = 0;
    for entry in std::fs::read_dir(&modules).unwrap() {
        let repo = entry.unwrap().path();
        if !repo.is_dir() {
            continue;
        }
        let discovered = Module::discover(&repo, &DiscoverOptions::default()).unwrap();
        // Choices the extractor could not evaluate (`choices=model_names` from a package the
        // oracle stubs) say nothing about which values the script accepts: leave those out.
        let unknown_choices: Vec<usize> = discovered
            .diagnostics
            .iter()
            .filter(|d| d.code == "dynamic-choices")
            .map(|d| d.line)
            .collect();
        let module = discovered.module;
        // Legacy decorator modules have no argparse parser to ask.
        if module
            .parameters
            .iter()
            .any(|p| p.action == Action::Parsers)
            || module
                .parameters
                .iter()
                .all(|p| p.flags.is_empty() && p.line == 0)
        {
            continue;
        }
        let script = repo.join(&module.entry_points.train);
        let source = std::fs::read_to_string(&script).unwrap();
        if !source.contains("ArgumentParser") {
            continue;
        }
        // An action class from an uninstalled package is a stub in the oracle, and argparse
        // cannot parse anything with a stub action (mmdetection's `DictAction`).
        let stubbed_action = module.parameters.iter().any(|p| {
            matches!(&p.action, Action::Custom(class) if !source.contains(&format!("class {class}(")))
        });
        if stubbed_action {
            continue;
        }
        for variant in 0..2 {
            let mut values = Map::new();
            for p in &module.parameters {
                let name = p.name.clone().or_else(|| p.dest.clone()).unwrap();
                let value = changed(p, variant).filter(|_| !unknown_choices.contains(&p.line));
                if let Some(value) = value {
                    values.insert(name, value);
                } else if p.required {
                    values.insert(name, json!("/data/in put"));
                }
            }
            let argv = module
                .command_line(&values)
                .unwrap_or_else(|e| panic!("{}: {e}", repo.display()));
            let ns = namespace(&script, &repo, &argv);
            for p in &module.parameters {
                let name = p.name.clone().or_else(|| p.dest.clone()).unwrap();
                let Some(asked) = values.get(&name) else {
                    continue;
                };
                let dest = p.dest.clone().unwrap();
                let got = &ns[&dest];
                let equal = got == asked
                    || got
                        .as_f64()
                        .zip(asked.as_f64())
                        .is_some_and(|(a, b)| a.to_bits() == b.to_bits());
                assert!(
                    equal,
                    "{}: `{name}` asked {asked}, argparse holds {got} (argv {argv:?})",
                    repo.display()
                );
                checked += 1;
            }
        }
    }
    eprintln!("{checked} values reached argparse as asked");
    assert!(checked >= 40, "only {checked} values checked");
}
