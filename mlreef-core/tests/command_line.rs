//! `command_line` checked against `CPython`'s argparse, and `shell_line` against `sh`.
//!
//! For each value set, the parameters are extracted from an argparse fixture, rendered to an
//! argv, and `tests/oracle/command_line_oracle.py` runs the fixture's own parser on exactly that
//! argv: every asked value must come back in the namespace (under its `dest`), with its JSON
//! type. Where argparse stores something other than the value asked (a `store_const`'s const,
//! what a custom action makes of its values), the case says what to expect instead.
//! `MLREEF_PYTHON` chooses the interpreter (default `python3`, 3.11 or newer).

mod common;

use std::path::PathBuf;
use std::process::Command;

use mlreef_core::Parameter;
use mlreef_core::argparse::{Options, extract_file};
use mlreef_core::pipeline::{CommandLineError, command_line, shell_line};
use serde_json::{Map, Value, json};

struct Case {
    fixture: &'static str,
    values: Value,
    /// Namespace entries (by dest) that differ from the asked values, or that were not asked.
    expect: Value,
}

fn case(fixture: &'static str, values: Value) -> Case {
    Case {
        fixture,
        values,
        expect: json!({}),
    }
}

fn case_expecting(fixture: &'static str, values: Value, expect: Value) -> Case {
    Case {
        fixture,
        values,
        expect,
    }
}

fn cases() -> Vec<Case> {
    vec![
        // store_true / store_false / count
        case(
            "action_flags",
            json!({"cuda": true, "no-shuffle": false, "verbose": 3, "d": 2, "resume": true}),
        ),
        case(
            "action_flags",
            json!({"cuda": false, "no-shuffle": true, "verbose": 0}),
        ),
        case("action_flags", json!({"d": 1, "resume": null})),
        // BooleanOptionalAction, both ways
        case(
            "action_boolean_optional",
            json!({"augment": false, "amp": true, "early-stopping": true, "x": true}),
        ),
        case(
            "action_boolean_optional",
            json!({"augment": true, "amp": false, "early-stopping": false}),
        ),
        // store_const, append (from its default), append_const into a shared dest
        case_expecting(
            "action_store_const_append",
            json!({"optimizer": "sgd with spaces", "layer": [64, 1, -2],
                   "add-bn": true, "add-dropout": true}),
            json!({"blocks": ["batchnorm", "dropout"]}),
        ),
        case_expecting(
            "action_store_const_append",
            json!({"use-adam": true, "layer": [64], "add-dropout": true, "add-bn": false}),
            json!({"optimizer": "adam", "blocks": ["dropout"]}),
        ),
        case_expecting(
            "action_store_const_append",
            json!({"use-adam": "adam"}),
            json!({"optimizer": "adam"}),
        ),
        // extend: several values per flag, from the default, nargs=2 in pairs, `*` empty
        case(
            "action_extend",
            json!({"features": ["age", "income", "zip code"], "drop": [], "ids": [1, -2, 3, 4]}),
        ),
        case(
            "action_extend",
            json!({"features": ["age", "income", "-x", "y"], "drop": ["a", "-b"]}),
        ),
        // nargs ? * + N 1, REMAINDER
        case_expecting(
            "nargs_variants",
            json!({"optional": null, "star": ["a b", "$HOME"], "plus": [1.5, -2],
                   "pair": [3, 4], "single": ["one"], "one-or-more": ["x"],
                   "zero-or-one": "z", "command": "run", "extra": ["--flag", "v", "-x"]}),
            json!({"optional": "auto"}),
        ),
        case(
            "nargs_variants",
            json!({"command": "-weird", "extra": [], "star": []}),
        ),
        case(
            "nargs_variants",
            json!({"command": "go", "optional": "-neg", "zero-or-one": "it's",
                   "extra": ["a", "--", "b"]}),
        ),
        case(
            "nargs_variants",
            json!({"command": "go", "plus": [0.1, 2], "pair": [-1, -2], "star": ["s"]}),
        ),
        // positionals
        case(
            "positional_required_rules",
            json!({"model": "m", "inputs": ["a", "b c"]}),
        ),
        case(
            "positional_required_rules",
            json!({"model": "-m", "inputs": ["-a", "it's $x"]}),
        ),
        // choices
        case(
            "choices_variants",
            json!({"optimizer": "sgd", "optim2": "adamw", "optim3": "adam", "device": "cuda",
                   "gpus": 7, "precision": 16, "loss": "huber"}),
        ),
        case("choices_variants", json!({"gpus": 0, "device": "cpu"})),
        // sub-commands
        case(
            "subparsers_basic",
            json!({"verbose": true, "command": "train", "epochs": 3, "dataset": "my data"}),
        ),
        case(
            "subparsers_basic",
            json!({"command": "predict", "checkpoint": "-c.pt", "batch-size": 8}),
        ),
        case_expecting(
            "subparsers_basic",
            json!({"checkpoint": "c.pt"}),
            json!({"command": "predict"}),
        ),
        case(
            "subparsers_nested",
            json!({"command": "remote", "remote_command": "add", "name": "origin",
                   "url": "-x", "default": true}),
        ),
        case(
            "subparsers_nested",
            json!({"command": "remote", "remote_command": "remove", "name": "$HOME"}),
        ),
        case("subparsers_nested", json!({"command": "push", "jobs": -1})),
        case_expecting(
            "subparsers_nested",
            json!({"url": "git@host:repo.git", "name": "origin"}),
            json!({"command": "remote", "remote_command": "add"}),
        ),
        case_expecting("subparsers_nested", json!({}), json!({"command": null})),
        case(
            "subparsers_parents",
            json!({"stage": "fit", "lr": 0.5, "seed": -3, "data-dir": "d ir"}),
        ),
        case(
            "subparsers_parents",
            json!({"stage": "prepare", "shards": 2}),
        ),
        // mutually exclusive groups (one member each)
        case("mutex_parser", json!({"csv": "a.csv", "quiet": true})),
        case(
            "mutex_parser",
            json!({"sql": "SELECT * FROM t WHERE x = 'a'", "verbose": true, "quiet": false}),
        ),
        case("mutex_in_group", json!({"bf16": true, "loss-scale": 1e-5})),
        case("mutex_in_group", json!({"fp32": true, "loss-scale": -2.5})),
        // int / float / str / bool / complex types
        case_expecting(
            "type_builtins",
            json!({"epochs": 5, "lr": 0.25, "name": "line1\nline2", "pretrained": false,
                   "ratio": 1, "hex": "1+2j"}),
            json!({"hex": {"__unrepresentable__": "(1+2j)"}}),
        ),
        case(
            "type_builtins",
            json!({"pretrained": true, "epochs": -7, "name": "-dash `id` \"q\" 'q'", "lr": 1e300}),
        ),
        case("type_builtins", json!({"name": "", "lr": -0.000_001})),
        // converters: str2bool, json.loads, a lambda; nargs='?' with a const
        case_expecting(
            "type_callables",
            json!({"use-cache": false, "extra-config": {"a": [1, 2], "b": "c d"},
                   "scales": "0.5,0.25"}),
            json!({"scales": [0.5, 0.25]}),
        ),
        case_expecting(
            "type_callables",
            json!({"use-cache": null}),
            json!({"use_cache": true}),
        ),
        case(
            "type_callables",
            json!({"use-cache": true, "extra-config": "-x"}),
        ),
        // custom actions: written like store
        case_expecting(
            "action_custom_class",
            json!({"override": ["a=1", "b=x y"], "split": "val"}),
            json!({"override": {"a": "1", "b": "x y"}, "split": "VAL"}),
        ),
        // prefix_chars="+": `-w.npy` is a plain value there
        case(
            "prefix_chars_plus",
            json!({"learning-rate": 0.5, "epochs": 3, "v": 2, "-weights": "-w.npy"}),
        ),
        case("prefix_chars_plus", json!({"epochs": -3, "-weights": "+w"})),
        case(
            "argument_default_suppress",
            json!({"lr": 0.1, "shuffle": true, "input": "in", "wandb-project": "p"}),
        ),
        case("action_help_version", json!({"model": "-m"})),
        case(
            "required_optionals",
            json!({"train-data": "t.csv", "target": "churn", "folds": 3, "val-data": "v"}),
        ),
        case(
            "conflict_resolve",
            json!({"output": "-o.csv", "overwrite": true, "lr": 0.5, "batch-size": 1}),
        ),
        case(
            "realistic_pytorch_train",
            json!({"batch-size": 16, "epochs": 2, "lr": 0.01, "no-cuda": true, "dry-run": true,
                   "save-model": true, "data-dir": "/data/my set"}),
        ),
        // counts from a default, append with nargs, a `-1` flag, sub-commands after a positional
        case_expecting(
            "cmdline_mixed",
            json!({"verbose": 4, "box": [[0, 0.5], [1, 2]], "tag": ["v1", null],
                   "paths": ["a", "b"], "workdir": "w", "command": "train",
                   "seed": 7, "files": ["f1", "-f2"], "epochs": -1}),
            json!({"tag": ["v1", "latest"]}),
        ),
        case(
            "cmdline_mixed",
            json!({"workdir": "-w", "seed": -5, "shift": [3, 4], "paths": []}),
        ),
        case(
            "cmdline_mixed",
            json!({"workdir": "w", "command": "evaluate", "metric": "f1",
                   "args": ["--lr", "0.1", "x", "-y"], "verbose": 2}),
        ),
        case_expecting(
            "cmdline_mixed",
            json!({"workdir": "w", "files": ["a", "b"], "loud": true}),
            json!({"command": "train", "one": "loud"}),
        ),
        case_expecting(
            "cmdline_subcommand_first",
            json!({"gpus": [0, 1], "name": "-n", "epochs": 2, "data": "-in.csv"}),
            json!({}),
        ),
        case(
            "cmdline_subcommand_first",
            json!({"name": "n", "what": "data"}),
        ),
        case(
            "cmdline_subcommand_first",
            json!({"gpus": [3], "epochs": 1}),
        ),
    ]
}

fn fixture_path(name: &str) -> PathBuf {
    common::fixtures_dir("argparse").join(format!("{name}.py"))
}

fn parameters(fixture: &str) -> Vec<Parameter> {
    let options = Options {
        repo: Some(common::fixtures_dir("argparse")),
        ..Options::default()
    };
    extract_file(&fixture_path(fixture), &options)
        .unwrap_or_else(|e| panic!("{fixture}: extraction failed: {e}"))
        .parameters
}

fn key(p: &Parameter) -> Option<&str> {
    p.name.as_deref().or(p.dest.as_deref())
}

/// The namespace `CPython` makes of `argv` with the fixture's parser, or its usage error.
fn oracle(fixture: &str, argv: &[String]) -> Result<Map<String, Value>, String> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/oracle/command_line_oracle.py");
    let python = std::env::var("MLREEF_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .arg(&script)
        .arg(fixture_path(fixture))
        .arg("--repo")
        .arg(common::fixtures_dir("argparse"))
        .arg("--argv-json")
        .arg(serde_json::to_string(argv).unwrap())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} (the oracle needs CPython 3.11+): {e}"));
    assert!(
        out.status.success(),
        "{fixture}: oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{fixture}: oracle printed invalid JSON: {e}"));
    match &result["namespace"] {
        Value::Object(namespace) => Ok(namespace.clone()),
        _ => Err(result["error"].to_string()),
    }
}

/// JSON equality where numbers compare as Python compares them (`1 == 1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y
                || x.as_f64()
                    .zip(y.as_f64())
                    .is_some_and(|(f, g)| f.to_bits() == g.to_bits())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// What `sh` makes of a shell line: the words `printf` receives.
fn through_sh(line: &str) -> Vec<String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("printf '%s\\0' {line}"))
        .output()
        .expect("sh runs");
    assert!(out.status.success(), "sh failed on {line}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut words: Vec<String> = text.split('\0').map(str::to_owned).collect();
    words.pop(); // after the last NUL
    words
}

fn check(case: &Case) -> Vec<String> {
    let parameters = parameters(case.fixture);
    let values = case.values.as_object().unwrap();
    let label = format!("{} {}", case.fixture, case.values);
    let argv = match command_line(&parameters, values) {
        Ok(argv) => argv,
        Err(e) => return vec![format!("{label}: refused: {e}")],
    };
    let mut problems = Vec::new();
    if !argv.is_empty() && through_sh(&shell_line(&argv)) != argv {
        problems.push(format!("{label}: shell_line does not round-trip {argv:?}"));
    }
    let namespace = match oracle(case.fixture, &argv) {
        Ok(namespace) => namespace,
        Err(error) => return vec![format!("{label}: argv {argv:?}: CPython refused: {error}")],
    };
    let mut wanted: Map<String, Value> = Map::new();
    for (name, value) in values {
        let p = parameters
            .iter()
            .find(|p| key(p) == Some(name.as_str()))
            .unwrap();
        wanted.insert(p.dest.clone().unwrap(), value.clone());
    }
    for (dest, value) in case.expect.as_object().unwrap() {
        wanted.insert(dest.clone(), value.clone());
    }
    for (dest, value) in &wanted {
        match namespace.get(dest) {
            Some(held) if same(held, value) => {}
            held => problems.push(format!(
                "{label}: argv {argv:?}: `{dest}` is {} in CPython's namespace, not {value}",
                held.map_or_else(|| "missing".to_owned(), Value::to_string)
            )),
        }
    }
    problems
}

#[test]
fn argv_gives_cpython_the_asked_values() {
    let cases = cases();
    let fixtures: std::collections::BTreeSet<_> = cases.iter().map(|c| c.fixture).collect();
    assert!(fixtures.len() >= 12, "only {} fixtures", fixtures.len());
    let problems: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .chunks(cases.len().div_ceil(6))
            .map(|chunk| s.spawn(move || chunk.iter().flat_map(check).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn refused(fixture: &str, values: &Value) -> CommandLineError {
    let parameters = parameters(fixture);
    match command_line(&parameters, values.as_object().unwrap()) {
        Ok(argv) => panic!("{fixture} {values}: accepted as {argv:?}"),
        Err(e) => e,
    }
}

#[test]
fn wrong_values_are_refused() {
    use CommandLineError as E;
    type Expectation = fn(&CommandLineError) -> bool;
    let cases: Vec<(&str, Value, Expectation, &str)> = vec![
        // names
        (
            "subparsers_basic",
            json!({"command": "train", "dataset": "d", "epoch": 3}),
            |e| matches!(e, E::Unknown { suggestion: Some(s), .. } if s == "epochs"),
            "no parameter is named `epoch` (did you mean `epochs`?)",
        ),
        (
            "type_builtins",
            json!({"batch_size": 3}),
            |e| {
                matches!(
                    e,
                    E::Unknown {
                        suggestion: None,
                        ..
                    }
                )
            },
            "`batch_size`",
        ),
        // types
        (
            "type_builtins",
            json!({"epochs": "5"}),
            |e| matches!(e, E::WrongType { .. }),
            "`epochs` takes an integer, not `\"5\"`",
        ),
        (
            "type_builtins",
            json!({"epochs": 2.5}),
            |e| matches!(e, E::WrongType { .. }),
            "`epochs` takes an integer",
        ),
        (
            "type_builtins",
            json!({"lr": "fast"}),
            |e| matches!(e, E::WrongType { .. }),
            "`lr` takes a number",
        ),
        (
            "type_builtins",
            json!({"pretrained": "yes"}),
            |e| matches!(e, E::WrongType { .. }),
            "`pretrained` takes true or false",
        ),
        (
            "type_builtins",
            json!({"name": 5}),
            |e| matches!(e, E::WrongType { .. }),
            "`name` takes a string",
        ),
        (
            "action_extend",
            json!({"ids": [1, "2"]}),
            |e| matches!(e, E::WrongType { .. }),
            "`ids` takes an integer, not `\"2\"`",
        ),
        (
            "action_extend",
            json!({"ids": [1, 2, 3]}),
            |e| matches!(e, E::WrongType { .. }),
            "a multiple of 2",
        ),
        (
            "nargs_variants",
            json!({"command": "c", "pair": [1]}),
            |e| matches!(e, E::WrongType { .. }),
            "`pair` takes a list of 2 value(s)",
        ),
        (
            "nargs_variants",
            json!({"command": "c", "plus": []}),
            |e| matches!(e, E::WrongType { .. }),
            "at least 1",
        ),
        (
            "nargs_variants",
            json!({"command": "c", "star": "a"}),
            |e| matches!(e, E::WrongType { .. }),
            "`star` takes a list",
        ),
        (
            "action_flags",
            json!({"verbose": -1}),
            |e| matches!(e, E::WrongType { .. }),
            "a count",
        ),
        (
            "action_flags",
            json!({"cuda": "true"}),
            |e| matches!(e, E::WrongType { .. }),
            "`cuda` takes true or false",
        ),
        (
            "cmdline_mixed",
            json!({"workdir": "w", "box": [[1, 2, 3]]}),
            |e| matches!(e, E::WrongType { .. }),
            "`box` takes a list of 2",
        ),
        // choices
        (
            "choices_variants",
            json!({"device": "tpu"}),
            |e| matches!(e, E::NotAChoice { .. }),
            "`tpu` is not a choice of `device`: `cpu`, `cuda`, `mps`",
        ),
        (
            "choices_variants",
            json!({"gpus": 9}),
            |e| matches!(e, E::NotAChoice { .. }),
            "not a choice of `gpus`",
        ),
        (
            "subparsers_basic",
            json!({"command": "deploy"}),
            |e| matches!(e, E::NotAChoice { .. }),
            "`train`, `fit`, `predict`",
        ),
        // required
        (
            "required_optionals",
            json!({"train-data": "t", "folds": 2}),
            |e| matches!(e, E::Missing { name } if name == "target"),
            "`target` is required",
        ),
        (
            "positional_required_rules",
            json!({"inputs": ["a"]}),
            |e| matches!(e, E::Missing { name } if name == "model"),
            "`model` is required",
        ),
        (
            "subparsers_basic",
            json!({"command": "predict"}),
            |e| matches!(e, E::Missing { name } if name == "checkpoint"),
            "`checkpoint`",
        ),
        (
            "subparsers_basic",
            json!({"verbose": true}),
            |e| matches!(e, E::MissingSubcommand { .. }),
            "a sub-command is required (`command`)",
        ),
        (
            "type_builtins",
            json!({"epochs": null}),
            |e| matches!(e, E::Unrepresentable { .. }),
            "keeps its default `10`",
        ),
        // sub-commands
        (
            "subparsers_basic",
            json!({"command": "predict", "checkpoint": "c", "epochs": 3}),
            |e| matches!(e, E::NotChosen { .. }),
            "`epochs` belongs to the sub-command `train`, but `predict` is chosen",
        ),
        (
            "subparsers_nested",
            json!({"command": "remote", "remote_command": "add",
                                     "name": "n", "url": "u", "jobs": 2}),
            |e| matches!(e, E::NotChosen { .. }),
            "but `remote add` is chosen",
        ),
        (
            "subparsers_nested",
            json!({"command": "push", "url": "u"}),
            |e| matches!(e, E::NotChosen { .. }),
            "`url` belongs to the sub-command `remote add`",
        ),
        (
            "subparsers_basic",
            json!({"epochs": 1, "checkpoint": "c"}),
            |e| matches!(e, E::MixedSubcommands { .. }),
            "a run takes one sub-command",
        ),
        // values argparse cannot end up holding
        (
            "action_flags",
            json!({"resume": false}),
            |e| matches!(e, E::Unrepresentable { .. }),
            "keeps its default `null`",
        ),
        (
            "action_flags",
            json!({"d": 0}),
            |e| matches!(e, E::Unrepresentable { .. }),
            "`d`",
        ),
        (
            "cmdline_mixed",
            json!({"workdir": "w", "verbose": 1}),
            |e| matches!(e, E::Unrepresentable { .. }),
            "counts up from the default `2`",
        ),
        (
            "action_store_const_append",
            json!({"layer": [1, 2]}),
            |e| matches!(e, E::Unrepresentable { .. }),
            "must start with it",
        ),
        (
            "argument_default_suppress",
            json!({"shuffle": false}),
            |e| matches!(e, E::Unrepresentable { .. }),
            "argparse.SUPPRESS",
        ),
        (
            "positional_required_rules",
            json!({"model": "m", "inputs": ["a"], "labels": ["l"]}),
            |e| matches!(e, E::Unrepresentable { name, .. } if name == "inputs"),
            "splits the positional values by count",
        ),
        (
            "positional_required_rules",
            json!({"model": "--", "inputs": ["a"]}),
            |e| matches!(e, E::Unrepresentable { .. }),
            "drops `--`",
        ),
        (
            "cmdline_mixed",
            json!({"workdir": "w", "shift": [-3, 2]}),
            |e| matches!(e, E::Unrepresentable { .. }),
            "would read `-3` as an option",
        ),
        (
            "action_extend",
            json!({"ids": ["x"]}),
            |e| matches!(e, E::WrongType { .. }),
            "an integer",
        ),
        (
            "nargs_variants",
            json!({"command": "c", "pair": [1, "-x"]}),
            |e| matches!(e, E::WrongType { .. }),
            "an integer",
        ),
        (
            "nargs_variants",
            json!({"command": "c", "star": ["ok", "-x"]}),
            |e| matches!(e, E::Unrepresentable { .. }),
            "would read `-x` as an option",
        ),
        (
            "cmdline_mixed",
            json!({"workdir": "w", "1": true, "command": "train", "files": ["f"]}),
            |e| matches!(e, E::Unrepresentable { .. }),
            "the sub-command `train` sets `one` again",
        ),
        (
            "cmdline_subcommand_first",
            json!({"gpus": [0, 1], "what": "model"}),
            |e| matches!(e, E::Unrepresentable { .. }),
            "would swallow what follows them",
        ),
        (
            "action_help_version",
            json!({"version": true}),
            |e| matches!(e, E::Unrepresentable { .. }),
            "prints and exits",
        ),
        // two values for one dest
        (
            "action_store_const_append",
            json!({"optimizer": "sgd", "use-adam": true}),
            |e| matches!(e, E::Conflict { .. }),
            "`optimizer` and `use-adam` both set `optimizer`",
        ),
    ];
    let mut problems = Vec::new();
    for (fixture, values, expected, text) in &cases {
        let error = refused(fixture, values);
        let message = error.to_string();
        if !expected(&error) || !message.contains(text) {
            problems.push(format!(
                "{fixture} {values}: got {error:?}\n  message: {message}\n  wanted: {text}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The naive argv for a value `command_line` refuses: `CPython` indeed does not hold it.
#[test]
fn refusals_are_what_cpython_would_do() {
    let naive: &[(&str, &[&str], &str, Value)] = &[
        // the sub-command's default overwrites the parent's value
        (
            "cmdline_mixed",
            &["-1", "w", "train", "f"],
            "one",
            json!("quiet"),
        ),
        // `inputs` swallows what was meant for `labels`
        (
            "positional_required_rules",
            &["m", "a", "l"],
            "labels",
            json!([]),
        ),
        // store_true with a None default never holds false
        ("action_flags", &[], "resume", Value::Null),
        // append adds to the default
        (
            "action_store_const_append",
            &["--layer", "1"],
            "layer",
            json!([64, 1]),
        ),
    ];
    for (fixture, argv, dest, held) in naive {
        let argv: Vec<String> = argv.iter().map(|s| (*s).to_owned()).collect();
        let namespace = oracle(fixture, &argv).unwrap();
        assert_eq!(namespace.get(*dest), Some(held), "{fixture} {argv:?}");
    }
    // An option taking several values right before the sub-command name swallows it.
    let error = oracle(
        "cmdline_subcommand_first",
        &["--gpus".into(), "0".into(), "show".into()],
    );
    assert!(error.is_err(), "{error:?}");
}

#[test]
fn argv_shapes() {
    let argv = |fixture: &str, values: Value| {
        command_line(&parameters(fixture), values.as_object().unwrap()).unwrap()
    };
    assert_eq!(
        argv("action_flags", json!({"verbose": 2, "cuda": true})),
        ["--cuda", "--verbose", "--verbose"]
    );
    assert_eq!(
        argv("type_builtins", json!({"epochs": -3, "name": "x y"})),
        ["--epochs=-3", "--name", "x y"]
    );
    assert_eq!(
        argv(
            "positional_required_rules",
            json!({"model": "-m", "inputs": ["a"]})
        ),
        ["--", "-m", "a"]
    );
    assert_eq!(
        argv(
            "subparsers_basic",
            json!({"command": "train", "verbose": true, "dataset": "d", "epochs": 1})
        ),
        ["--verbose", "train", "--epochs", "1", "d"]
    );
    assert_eq!(
        argv(
            "action_boolean_optional",
            json!({"augment": false, "x": true})
        ),
        ["--no-augment", "-x"]
    );
    assert_eq!(
        argv("action_extend", json!({"ids": [1, 2, 3, 4]})),
        ["--ids", "1", "2", "--ids", "3", "4"]
    );
    // Options taking a variable number of values go first, so the positional stays one.
    assert_eq!(
        argv(
            "cmdline_mixed",
            json!({"seed": 1, "paths": ["p", "q"], "workdir": "w"})
        ),
        ["--paths", "p", "q", "--seed", "1", "w"]
    );
    // ... and `--` ends them when nothing else can.
    assert_eq!(
        argv(
            "cmdline_mixed",
            json!({"paths": ["p", "q"], "workdir": "w"})
        ),
        ["--paths", "p", "q", "--", "w"]
    );
    // A list of one value is written `--flag=value`, which takes nothing after it.
    assert_eq!(
        argv("cmdline_mixed", json!({"paths": ["p"], "workdir": "w"})),
        ["--paths=p", "w"]
    );
    // `append` adds to its default: only the rest is written.
    assert_eq!(
        argv("action_store_const_append", json!({"layer": [64, 1, -2]})),
        ["--layer", "1", "--layer=-2"]
    );
    // `count` counts up from its default.
    assert_eq!(
        argv("cmdline_mixed", json!({"verbose": 3, "workdir": "w"})),
        ["--verbose", "w"]
    );
}

#[test]
fn shell_line_round_trips() {
    let tricky: Vec<Vec<&str>> = vec![
        vec!["--lr", "0.1", "data/train.csv", "--name=x"],
        vec![
            "a b",
            "it's",
            "\"double\"",
            "$HOME",
            "${X}",
            "`id`",
            "$(id)",
        ],
        vec![
            "*", "?", "[a]", "!x", "!!", "~", "~/x", "#c", "a#b", "{a,b}",
        ],
        vec!["line1\nline2", "", "tab\there", "trailing\n", "\n"],
        vec![
            ";", "&", "&&", "|", "||", "(", ")", "<", ">", ">>", "\\", "\\n", "'", "''",
        ],
        vec![
            "a=b", "--x=a b", "ümlaut", "-", "--", "%s", "@", "+", ",", ":",
        ],
    ];
    for words in tricky {
        let argv: Vec<String> = words.iter().map(|s| (*s).to_owned()).collect();
        let line = shell_line(&argv);
        assert_eq!(through_sh(&line), argv, "{line}");
    }
    assert_eq!(
        shell_line(&[
            "--lr".into(),
            "0.1".into(),
            "a/b.csv".into(),
            "--x=-1".into()
        ]),
        "--lr 0.1 a/b.csv --x=-1"
    );
    assert_eq!(shell_line(&[String::new()]), "''");
    assert_eq!(shell_line(&["it's".into()]), r"'it'\''s'");
    assert_eq!(shell_line(&["a=b".into(), "a=b".into()]), "'a=b' a=b");
    assert_eq!(shell_line(&["--lr=0.1".into()]), "--lr=0.1");
    assert_eq!(shell_line(&[]), "");
}

/// argparse's positional matching is a backtracking regular expression; checking against it
/// must stay cheap however many positionals a script declares.
#[test]
fn many_positionals_stay_cheap() {
    let positional = |name: String, nargs: Value| -> Parameter {
        serde_json::from_value(json!({
            "name": name, "dest": name, "flags": [], "action": "store", "python_type": null,
            "type": "LIST", "default": null, "default_expr": null, "required": false,
            "choices": null, "nargs": nargs, "const": null, "help": null, "metavar": null,
            "group": null, "subcommand": null, "line": 1, "column": 1
        }))
        .unwrap()
    };
    let mut parameters: Vec<Parameter> = (0..40)
        .map(|i| positional(format!("p{i}"), json!("*")))
        .collect();
    parameters.push(positional("last".into(), json!(2)));
    let words: Vec<Value> = (0..60).map(|i| json!(format!("w{i}"))).collect();
    let values = json!({"p39": words, "last": ["a", "b"]});
    let start = std::time::Instant::now();
    let error = command_line(&parameters, values.as_object().unwrap()).unwrap_err();
    assert!(
        matches!(error, CommandLineError::Unrepresentable { .. }),
        "{error}"
    );
    assert!(start.elapsed().as_secs() < 2, "took {:?}", start.elapsed());
}
