//! Values for a run read from the command line of a tool (`mlreef run-args --set NAME=VALUE`),
//! by the same facts [`super::command_line`] writes them with.
//!
//! Each `NAME=TEXT` is one word as the script's argparse would read it: the text is read by
//! the kind of the parameter's values (a number for `int` and `float`, `true`/`false` for
//! bools and switches, JSON for `type=json.loads`, the text itself otherwise). A parameter
//! whose value is a list takes one item per assignment, in order, so a list never needs JSON
//! and an item may hold any character, commas included: `--set tags=a --set tags=b,c` is
//! `["a", "b,c"]`. `append` and `extend` add the items to the default list, as argparse adds
//! occurrences to it; `append` with a list `nargs` of N groups every N items into one entry
//! (one item per entry for `*`, `+` and `REMAINDER`). A parameter with a single value takes
//! one assignment. `NAME=JSON` gives the whole value as JSON instead, once.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::CommandLineError;
use crate::Parameter;
use crate::parameter::shape::{python_float, python_int};
use crate::parameter::{Arity, Conversion, ValueKind, ValueShape};

/// One assignment of a value to a parameter, by the parameter's name (else its `dest`).
#[derive(Debug, Clone, PartialEq)]
pub enum Assignment {
    /// `NAME=TEXT`: one word, read by the parameter's kind.
    Text { name: String, text: String },
    /// `NAME=JSON`: the whole value.
    Json { name: String, value: Value },
}

/// The values [`super::command_line`] takes, from assignments (see the module docs for the
/// rules). A name nothing declares keeps its text, so that `command_line` can name it in its
/// error.
pub fn values_from_text(
    parameters: &[Parameter],
    assignments: impl IntoIterator<Item = Assignment>,
) -> Result<Map<String, Value>, CommandLineError> {
    let mut texts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut values = Map::new();
    let mut order = Vec::new();
    for assignment in assignments {
        match assignment {
            Assignment::Text { name, text } => {
                if values.contains_key(&name) {
                    return Err(repeated(&name));
                }
                if !texts.contains_key(&name) {
                    order.push(name.clone());
                }
                texts.entry(name).or_default().push(text);
            }
            Assignment::Json { name, value } => {
                if texts.contains_key(&name) || values.contains_key(&name) {
                    return Err(repeated(&name));
                }
                order.push(name.clone());
                values.insert(name, value);
            }
        }
    }
    let mut out = Map::new();
    for name in order {
        let value = match (values.remove(&name), texts.remove(&name)) {
            (Some(value), _) => value,
            (None, Some(words)) => {
                match parameters.iter().find(|p| p.key() == Some(name.as_str())) {
                    Some(parameter) => read(parameter, &name, &words)?,
                    None => Value::String(words.first().cloned().unwrap_or_default()),
                }
            }
            (None, None) => continue,
        };
        out.insert(name, value);
    }
    Ok(out)
}

fn repeated(name: &str) -> CommandLineError {
    CommandLineError::Repeated {
        name: name.to_owned(),
    }
}

/// The value of `parameter` from its words.
fn read(parameter: &Parameter, name: &str, words: &[String]) -> Result<Value, CommandLineError> {
    let kind = parameter.item_kind();
    let items = || words.iter().map(|w| item(kind, w));
    let accumulated = || {
        parameter
            .accumulated_default()
            .map(<[Value]>::to_vec)
            .unwrap_or_default()
    };
    let shape = parameter.shape();
    let single = || match words {
        [word] => Ok(word.as_str()),
        _ => Err(repeated(name)),
    };
    Ok(match shape {
        ValueShape::List(_) => Value::Array(items().collect()),
        ValueShape::Extended(_) => Value::Array(accumulated().into_iter().chain(items()).collect()),
        ValueShape::Appended(arity) => {
            let entries: Vec<Value> = match arity {
                Arity::Exactly(n) => words
                    .chunks(n)
                    .map(|chunk| Value::Array(chunk.iter().map(|w| item(kind, w)).collect()))
                    .collect(),
                arity if arity.is_list() => items().map(|i| Value::Array(vec![i])).collect(),
                _ => items().collect(),
            };
            Value::Array(accumulated().into_iter().chain(entries).collect())
        }
        ValueShape::Switch => boolean(single()?),
        ValueShape::Count => match python_int(single()?) {
            Conversion::Value(n) => n,
            _ => Value::String(single()?.to_owned()),
        },
        ValueShape::Single => item(kind, single()?),
        _ => Value::String(single()?.to_owned()),
    })
}

/// One word as a value of `kind`; text that is not one stays text, for `command_line` to
/// refuse with the kind it expected.
fn item(kind: ValueKind, word: &str) -> Value {
    let text = || Value::String(word.to_owned());
    let converted = |conversion| match conversion {
        Conversion::Value(value) => value,
        _ => text(),
    };
    match kind {
        ValueKind::Integer => converted(python_int(word)),
        ValueKind::Float => converted(python_float(word)),
        ValueKind::Boolean { .. } => boolean(word),
        ValueKind::Json => serde_json::from_str(word).unwrap_or_else(|_| text()),
        _ => text(),
    }
}

fn boolean(word: &str) -> Value {
    match word {
        "true" | "True" | "yes" | "1" => Value::Bool(true),
        "false" | "False" | "no" | "0" => Value::Bool(false),
        other => Value::String(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parameter(fields: &Value) -> Parameter {
        let mut base = json!({
            "name": "x", "dest": "x", "flags": ["--x"], "action": "store", "python_type": null,
            "type": "STRING", "default": null, "default_expr": null, "required": false,
            "choices": null, "nargs": null, "const": null, "help": null, "metavar": null,
            "group": null, "subcommand": null, "line": 1, "column": 1
        });
        for (k, v) in fields.as_object().unwrap() {
            base[k] = v.clone();
        }
        let mut p: Parameter = serde_json::from_value(base).unwrap();
        p.schema_type = p.inferred_type();
        p
    }

    fn read_words(fields: &Value, words: &[&str]) -> Result<Value, CommandLineError> {
        let p = parameter(fields);
        let assignments = words.iter().map(|w| Assignment::Text {
            name: "x".into(),
            text: (*w).into(),
        });
        values_from_text(&[p], assignments).map(|mut m| m.remove("x").unwrap())
    }

    #[test]
    fn lists_take_one_item_per_assignment() {
        let one = |fields: Value, words: &[&str]| read_words(&fields, words).unwrap();
        assert_eq!(one(json!({"nargs": 1}), &["v"]), json!(["v"]));
        assert_eq!(
            one(json!({"nargs": "+", "python_type": "int"}), &["1", "2"]),
            json!([1, 2])
        );
        assert_eq!(
            one(json!({"nargs": "*"}), &["a,b", "[c]"]),
            json!(["a,b", "[c]"])
        );
        assert_eq!(
            one(
                json!({"action": "append", "python_type": "int", "default": [64]}),
                &["1"]
            ),
            json!([64, 1])
        );
        assert_eq!(
            one(
                json!({"action": "append", "nargs": 2}),
                &["a", "b", "c", "d"]
            ),
            json!([["a", "b"], ["c", "d"]])
        );
        assert_eq!(
            one(json!({"action": "append", "nargs": "+"}), &["a", "b"]),
            json!([["a"], ["b"]])
        );
        assert_eq!(
            one(
                json!({"action": "extend", "nargs": "+", "default": ["a"]}),
                &["b"]
            ),
            json!(["a", "b"])
        );
    }

    #[test]
    fn single_values_are_read_by_kind_once() {
        let one = |fields: Value, word: &str| read_words(&fields, &[word]).unwrap();
        assert_eq!(one(json!({"python_type": "int"}), "1_000"), json!(1000));
        assert_eq!(one(json!({"python_type": "int"}), "many"), json!("many"));
        assert_eq!(one(json!({"python_type": "float"}), "1e-3"), json!(0.001));
        assert_eq!(one(json!({"action": "store_true"}), "true"), json!(true));
        assert_eq!(one(json!({"action": "count"}), "3"), json!(3));
        assert_eq!(
            one(json!({"python_type": "loads"}), "{\"a\": 1}"),
            json!({"a": 1})
        );
        assert_eq!(one(json!({}), "a,b"), json!("a,b"));
        assert!(matches!(
            read_words(&json!({}), &["a", "b"]),
            Err(CommandLineError::Repeated { .. })
        ));
    }

    #[test]
    fn json_gives_the_whole_value_once() {
        let p = parameter(&json!({"nargs": "+"}));
        let values = values_from_text(
            std::slice::from_ref(&p),
            [Assignment::Json {
                name: "x".into(),
                value: json!(["a", "b"]),
            }],
        )
        .unwrap();
        assert_eq!(values["x"], json!(["a", "b"]));
        let twice = values_from_text(
            &[p],
            [
                Assignment::Text {
                    name: "x".into(),
                    text: "a".into(),
                },
                Assignment::Json {
                    name: "x".into(),
                    value: json!(["b"]),
                },
            ],
        );
        assert!(matches!(twice, Err(CommandLineError::Repeated { .. })));
    }
}
