//! The JSON Schema of parameters, `command_line` and `run-args` (`values_from_text`) agree,
//! for every kind of action and every `nargs`, and `CPython`'s argparse holds what they say.
//!
//! For each parameter of `every_action_kind.py` (one argument per action kind and nargs) and
//! each value of a pool (plus the parameter's own choices, default and const):
//!
//! - a value the JSON Schema accepts is accepted by `command_line`, and the argv makes
//!   `CPython`'s argparse hold that value (or, for the switches that store a const, the const);
//! - the value written as `run-args --set` text builds a value the schema accepts and that
//!   gives the same argv;
//! - a value `command_line` accepts is one the schema accepts (the form offers every value a
//!   run can ask), except `null` (leaving a parameter out) and a `store_const`'s own const.

mod common;

use std::process::Command;

use mlreef_core::Parameter;
use mlreef_core::argparse::{Options, extract_file};
use mlreef_core::module::parameters_schema;
use mlreef_core::parameter::{Action, Arity, ValueShape};
use mlreef_core::pipeline::{Assignment, CommandLineError, command_line, values_from_text};
use serde_json::{Map, Value, json};

const FIXTURE: &str = "every_action_kind";

fn parameters() -> Vec<Parameter> {
    let dir = common::fixtures_dir("argparse");
    let options = Options {
        repo: Some(dir.clone()),
        ..Options::default()
    };
    extract_file(&dir.join(format!("{FIXTURE}.py")), &options)
        .expect("the fixture extracts")
        .parameters
}

/// Values of every JSON type and list shape the parameters of the fixture take or refuse.
fn pool(p: &Parameter) -> Vec<Value> {
    let mut values = vec![
        json!(null),
        json!(true),
        json!(false),
        json!(0),
        json!(1),
        json!(3),
        json!(-2),
        json!(2.5),
        json!("x"),
        json!("a b"),
        json!(""),
        json!("it's $HOME"),
        json!("fit"),
        json!([]),
        json!(["x"]),
        json!(["a b"]),
        json!(["x", "y z"]),
        json!(["x", "y", "z"]),
        json!(["--opt", "v"]),
        json!([1]),
        json!([1, 2]),
        json!([3, -4]),
        json!([1, 2, 3]),
        json!([0.5, 2.5, 1]),
        json!([true]),
        json!([[1, 2]]),
        json!([[1, 2], [3, 4]]),
        json!([[1, 2, 3]]),
        json!({"a": 1}),
    ];
    values.extend(p.choices.iter().flatten().cloned());
    values.push(p.constant.clone());
    values.push(p.default.clone());
    if let Some(start) = p.default.as_array() {
        for more in [json!("x"), json!(1), json!([1, 2])] {
            let mut longer = start.clone();
            longer.push(more);
            values.push(Value::Array(longer));
        }
    }
    values.dedup();
    values
}

/// What `CPython`'s namespace holds under `dest` once the argv for `value` is parsed.
fn held(p: &Parameter, value: &Value) -> Value {
    match (&p.action, p.shape()) {
        (Action::StoreConst, _) if value == &json!(true) || value == &p.constant => {
            p.constant.clone()
        }
        (Action::AppendConst, _) if value == &json!(true) => json!([p.constant]),
        (Action::StoreConst | Action::AppendConst, _) => p.default.clone(),
        (_, ValueShape::Single) if value.is_null() => p.constant.clone(),
        _ => value.clone(),
    }
}

/// One item as a user types it after `--set NAME=`.
fn text(item: &Value) -> Option<String> {
    match item {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `value` as the words of `run-args --set`, when text can say it: one word per item of a
/// list (what `append` / `extend` add to the default), one word for anything else.
fn words(p: &Parameter, value: &Value) -> Option<Vec<String>> {
    let added = |value: &Value| -> Option<Vec<Value>> {
        let items = value.as_array()?;
        let start = p.accumulated_default()?;
        items
            .starts_with(start)
            .then(|| items[start.len()..].to_vec())
    };
    let words: Vec<String> = match p.shape() {
        ValueShape::List(_) => value.as_array()?.iter().map(text).collect::<Option<_>>()?,
        ValueShape::Extended(_) => added(value)?.iter().map(text).collect::<Option<_>>()?,
        ValueShape::Appended(arity) => {
            let mut words = Vec::new();
            for entry in added(value)? {
                match (arity, entry.as_array().map(Vec::as_slice)) {
                    (Arity::Exactly(_), Some(items)) => {
                        words.extend(items.iter().map(text).collect::<Option<Vec<_>>>()?);
                    }
                    (arity, Some([item])) if arity.is_list() => words.push(text(item)?),
                    (arity, None) if !arity.is_list() => words.push(text(&entry)?),
                    _ => return None,
                }
            }
            words
        }
        _ => vec![text(value)?],
    };
    // No `--set` at all is not an empty list: that takes `--set-json NAME=[]`.
    (!words.is_empty()).then_some(words)
}

fn looks_like_option(value: &Value) -> bool {
    match value {
        Value::String(s) => s.starts_with('-'),
        Value::Number(n) => n.as_f64().is_some_and(|x| x < 0.0),
        Value::Array(items) => items.iter().any(looks_like_option),
        _ => false,
    }
}

struct Run {
    parameter: usize,
    value: Value,
    argv: Vec<String>,
}

/// The namespaces `CPython`'s argparse makes of each argv with the fixture's parser.
fn oracle(argvs: &[Vec<String>]) -> Vec<Value> {
    let dir = common::fixtures_dir("argparse");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/oracle/command_line_oracle.py");
    let python = std::env::var("MLREEF_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .arg(&script)
        .arg(dir.join(format!("{FIXTURE}.py")))
        .arg("--repo")
        .arg(&dir)
        .arg("--argvs-json")
        .arg(serde_json::to_string(argvs).unwrap())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} (the oracle needs CPython 3.11+): {e}"));
    assert!(
        out.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).expect("the oracle prints JSON");
    result["results"]
        .as_array()
        .expect("one result per argv")
        .clone()
}

/// JSON equality where numbers compare as Python compares them (`1 == 1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        _ => a == b,
    }
}

#[test]
fn schema_command_line_and_run_args_agree_for_every_action_kind() {
    let parameters = parameters();
    let schema = parameters_schema(FIXTURE, &parameters);
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let mut problems = Vec::new();
    let mut runs = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    for (i, p) in parameters.iter().enumerate() {
        let key = p.key().unwrap().to_owned();
        let one = |value: &Value| Map::from_iter([(key.clone(), value.clone())]);
        if p.shape() == ValueShape::Nothing {
            assert!(
                schema["properties"].get(&key).is_none(),
                "{key} in the form"
            );
            assert!(command_line(&parameters, &one(&json!(true))).is_err());
            kinds.insert(p.action.to_string());
            continue;
        }
        let mut accepted = 0;
        for value in pool(p) {
            let valid = validator.is_valid(&Value::Object(one(&value)));
            let argv = command_line(&parameters, &one(&value));
            match (valid, argv) {
                // JSON Schema cannot say that among several values none may look like an
                // option; command_line says why it cannot write them.
                (true, Err(CommandLineError::Unrepresentable { reason, .. }))
                    if looks_like_option(&value) && reason.contains("as an option") => {}
                (true, Err(e)) => {
                    problems.push(format!(
                        "{key}: the schema takes {value}, command_line refuses: {e}"
                    ));
                }
                (false, Ok(argv)) => {
                    let const_itself = p.action == Action::StoreConst && value == p.constant;
                    if !value.is_null() && !const_itself {
                        problems.push(format!(
                            "{key}: command_line writes {value} as {argv:?}, the schema refuses it"
                        ));
                    }
                }
                (true, Ok(argv)) => {
                    accepted += 1;
                    if let Some(words) = words(p, &value) {
                        let assignments = words.iter().map(|w| Assignment::Text {
                            name: key.clone(),
                            text: w.clone(),
                        });
                        match values_from_text(&parameters, assignments) {
                            Ok(from_text) => {
                                if !validator.is_valid(&Value::Object(from_text.clone())) {
                                    problems.push(format!(
                                        "{key}: run-args makes {words:?} into {from_text:?}, which the schema refuses"
                                    ));
                                }
                                match command_line(&parameters, &from_text) {
                                    Ok(same_argv) if same_argv == argv => {}
                                    other => problems.push(format!(
                                        "{key}: run-args {words:?} gives {other:?}, {value} gives {argv:?}"
                                    )),
                                }
                            }
                            Err(e) => problems.push(format!("{key}: run-args {words:?}: {e}")),
                        }
                    }
                    runs.push(Run {
                        parameter: i,
                        value,
                        argv,
                    });
                }
                (false, Err(_)) => {}
            }
        }
        if accepted < 2 {
            problems.push(format!(
                "{key}: only {accepted} value(s) of the pool accepted"
            ));
        }
        kinds.insert(match &p.action {
            Action::Custom(_) => format!("custom nargs={:?}", p.nargs.map(|n| n.to_string())),
            Action::Store => format!("store nargs={:?}", p.nargs.map(|n| n.to_string())),
            action => action.to_string(),
        });
    }
    for kind in [
        "store nargs=None",
        "store nargs=Some(\"?\")",
        "store nargs=Some(\"*\")",
        "store nargs=Some(\"+\")",
        "store nargs=Some(\"1\")",
        "store nargs=Some(\"3\")",
        "store nargs=Some(\"...\")",
        "store nargs=Some(\"A...\")",
        "store_const",
        "store_true",
        "store_false",
        "append",
        "append_const",
        "count",
        "extend",
        "boolean_optional",
        "version",
        "parsers",
        "custom nargs=Some(\"0\")",
        "custom nargs=Some(\"1\")",
        "custom nargs=Some(\"2\")",
        "custom nargs=Some(\"?\")",
        "custom nargs=Some(\"*\")",
        "custom nargs=Some(\"+\")",
        "custom nargs=None",
    ] {
        assert!(kinds.contains(kind), "the fixture has no {kind}: {kinds:?}");
    }

    let argvs: Vec<Vec<String>> = runs.iter().map(|r| r.argv.clone()).collect();
    for (run, result) in runs.iter().zip(oracle(&argvs)) {
        let p = &parameters[run.parameter];
        let dest = p.dest.clone().unwrap();
        let wanted = held(p, &run.value);
        match result["namespace"].get(&dest) {
            Some(got) if same(got, &wanted) => {}
            got => problems.push(format!(
                "{}: {} as {:?}: CPython holds {got:?} under `{dest}`, not {wanted} ({})",
                p.key().unwrap(),
                run.value,
                run.argv,
                result["error"]
            )),
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    eprintln!("{} values checked against CPython", runs.len());
    assert!(runs.len() > 100, "only {} runs", runs.len());
}
