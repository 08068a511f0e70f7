//! The conventions a published module follows, checked with diagnostics.

use std::collections::HashSet;

use serde_json::Value as Json;

use super::{Module, ModuleKind};
use crate::parameter::{Action, Arity, Conversion, ValueKind, ValueShape};
use crate::{Diagnostic, Parameter, Severity};

impl Module {
    /// Checks the module against the conventions of a published module: the `--input-path`
    /// / `--output-path` parameters, parameter names a form and a command line can carry,
    /// defaults that argparse could hold, and the data types a model must declare. Positions
    /// are those of the parameters' `add_argument` calls in the entry point.
    #[must_use]
    pub fn validate(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let entry = self.entry_points.train.clone();
        let at = |parameter: Option<&Parameter>| {
            let file = parameter
                .and_then(|p| p.file.clone())
                .unwrap_or_else(|| entry.clone());
            parameter.map_or((1, 1, file.clone()), |p| (p.line, p.column, file))
        };
        let mut report = |severity, code: &str, parameter: Option<&Parameter>, message: String| {
            let (line, column, file) = at(parameter);
            out.push(Diagnostic {
                severity,
                code: code.to_owned(),
                message,
                line,
                column,
                file: Some(file),
            });
        };

        for convention in ["input-path", "output-path"] {
            if !self
                .parameters
                .iter()
                .any(|p| p.name.as_deref() == Some(convention))
            {
                report(
                    Severity::Warning,
                    &format!("missing-{convention}"),
                    None,
                    format!(
                        "the entry point has no `--{convention}` parameter; pipelines pass data through it"
                    ),
                );
            }
        }
        let mut seen = HashSet::new();
        for parameter in &self.parameters {
            if matches!(
                parameter.shape(),
                ValueShape::Nothing | ValueShape::Subcommand
            ) {
                continue;
            }
            let name = parameter.key().unwrap_or_default().to_owned();
            if let Some((severity, message)) = name_problem(&name) {
                report(severity, "invalid-parameter-name", Some(parameter), message);
            }
            if !seen.insert((parameter.subcommand.clone(), name.clone())) {
                report(
                    Severity::Error,
                    "duplicate-parameter",
                    Some(parameter),
                    format!("`{name}` is declared twice"),
                );
            }
            if parameter.python_type.as_deref() == Some("bool") {
                report(
                    Severity::Warning,
                    "type-bool",
                    Some(parameter),
                    format!(
                        "`{name}` uses `type=bool`, which makes every non-empty string true (`--{name} False` is true); use `action='store_true'` or `BooleanOptionalAction`"
                    ),
                );
            }
            for (severity, code, message) in default_problems(parameter, &name) {
                report(severity, code, Some(parameter), message);
            }
        }
        if self.kind == ModuleKind::Algorithm && self.output_data_types.is_empty() {
            report(
                Severity::Warning,
                "model-without-output",
                None,
                "a model must say what it produces: set `output_data_types` (for example `MODEL`)"
                    .to_owned(),
            );
        }
        out
    }
}

/// A name that a run cannot give a value to is an error: empty, with `=` (`run-args --set
/// NAME=VALUE` ends the name there) or with a control character (a command line cannot hold
/// NUL, and a form cannot show the others). Other characters work, but tools that build
/// command lines or environment names from parameter names expect letters, digits, `_`, `-`
/// and `.`.
fn name_problem(name: &str) -> Option<(Severity, String)> {
    if name.is_empty() || name.contains('=') || name.chars().any(char::is_control) {
        return Some((
            Severity::Error,
            format!(
                "`{name}` is not a name a run can set: it is empty, or has `=` or a control character"
            ),
        ));
    }
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    (!plain).then(|| {
        (
            Severity::Warning,
            format!("`{name}` has characters other than letters, digits, `_`, `-` and `.`; some tools will not carry it"),
        )
    })
}

/// What is wrong with the parameter's default, by one rule: an error when argparse itself
/// fails on it, a warning when argparse accepts it but hands the script something other than
/// the parameter says.
///
/// argparse converts only a string default, with `type=`, and only when it uses the default
/// (an option not given, a `?` positional without a word); it checks choices only for a `?`
/// positional's string default. Any other default reaches the script as written, unchecked:
/// `nargs='+', type=int, default=[0]` is a list of integers, as the parameter says.
fn default_problems(parameter: &Parameter, name: &str) -> Vec<(Severity, &'static str, String)> {
    let default = &parameter.default;
    let mut out = Vec::new();
    if default.is_null() || parameter.default_expr.is_some() || parameter.default_is_suppressed() {
        return out;
    }
    let shape = parameter.shape();
    if matches!(shape, ValueShape::Switch | ValueShape::Count) {
        return out;
    }
    let kind = parameter.item_kind();
    let converter = parameter.python_type.as_deref().unwrap_or("str");
    if let Json::String(text) = default {
        let positional_optional = parameter.is_positional() && parameter.arity() == Arity::Optional;
        let used = if parameter.is_positional() {
            positional_optional
        } else {
            !parameter.required
        };
        if !used {
            return out;
        }
        match parameter.convert(text) {
            Conversion::Fails => out.push((
                Severity::Error,
                "default-type-mismatch",
                format!(
                    "argparse converts the default {default} of `{name}` with `{converter}` when the run does not give it, and `{converter}` refuses it"
                ),
            )),
            Conversion::Value(value) => {
                if let Some(choices) = parameter.checked_choices()
                    && !choices.contains(&value)
                    && !choices.contains(default)
                {
                    // argparse checks only a `?` positional's default against the choices.
                    let severity = if positional_optional {
                        Severity::Error
                    } else {
                        Severity::Warning
                    };
                    out.push((
                        severity,
                        "default-not-in-choices",
                        format!("the default {default} of `{name}` is not one of its choices"),
                    ));
                }
            }
            Conversion::Opaque | Conversion::Unknown => {}
        }
        return out;
    }
    // Not converted: what the script receives when the run leaves the parameter out. A custom
    // action decides what it stores (a dict for `KEY=VALUE` pairs, say), so its default is
    // the script's business.
    if matches!(parameter.action, Action::Custom(_)) {
        return out;
    }
    let items: Vec<&Json> = match (shape, default) {
        (ValueShape::Single, value) => vec![value],
        (_, Json::Array(items)) => match shape {
            ValueShape::Appended(arity) if arity.is_list() => items
                .iter()
                .flat_map(|entry| entry.as_array().into_iter().flatten())
                .collect(),
            _ => items.iter().collect(),
        },
        (_, other) => {
            out.push((
                Severity::Warning,
                "default-type-mismatch",
                format!(
                    "the default {other} of `{name}` is not a list, though the parameter takes one; argparse hands it to the script as it is"
                ),
            ));
            return out;
        }
    };
    let what = if shape.is_list() {
        "an item of the default"
    } else {
        "the default"
    };
    if let Some(item) = items.iter().find(|item| !fits(kind, item)) {
        out.push((
            Severity::Warning,
            "default-type-mismatch",
            format!(
                "{what} of `{name}`, {item}, is not a value of `{converter}`; argparse hands it to the script unconverted"
            ),
        ));
    }
    if let Some(choices) = parameter.checked_choices()
        && let Some(item) = items.iter().find(|item| !choices.contains(item))
    {
        out.push((
            Severity::Warning,
            "default-not-in-choices",
            format!(
                "{what} of `{name}`, {item}, is not one of its choices; argparse does not check defaults against choices"
            ),
        ));
    }
    out
}

/// Whether `value` is a value of `kind` (an integer is a fine float, as it is to Python).
fn fits(kind: ValueKind, value: &Json) -> bool {
    match kind {
        ValueKind::Integer => value.is_i64() || value.is_u64(),
        ValueKind::Float => value.is_number(),
        ValueKind::String => value.is_string(),
        ValueKind::Boolean { .. } => value.is_boolean(),
        _ => true,
    }
}
