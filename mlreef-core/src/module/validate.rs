//! The conventions a published module follows, checked with diagnostics.

use std::collections::HashSet;

use serde_json::Value as Json;

use super::{Module, ModuleKind};
use crate::parameter::{Action, ValueShape};
use crate::{Diagnostic, Parameter, ParameterType, Severity};

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
            let name = parameter
                .name
                .clone()
                .or_else(|| parameter.dest.clone())
                .unwrap_or_default();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
            {
                report(
                    Severity::Error,
                    "invalid-parameter-name",
                    Some(parameter),
                    format!("`{name}` is not a parameter name: use letters, digits, `_` and `-`"),
                );
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
            if let Some(problem) = default_problem(parameter) {
                report(Severity::Error, problem.0, Some(parameter), problem.1);
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

/// A default argparse could not hold as the parameter says: not among the choices, or not
/// convertible by its type (argparse converts string defaults with `type`).
fn default_problem(parameter: &Parameter) -> Option<(&'static str, String)> {
    let default = &parameter.default;
    if default.is_null() || parameter.default_expr.is_some() {
        return None;
    }
    let name = parameter
        .name
        .as_deref()
        .or(parameter.dest.as_deref())
        .unwrap_or("?");
    let converted = match (parameter.python_type.as_deref(), default) {
        (Some("int"), Json::String(s)) => s.trim().parse::<i64>().ok().map(Json::from),
        (Some("float"), Json::String(s)) => s.trim().parse::<f64>().ok().map(Json::from),
        (Some("int"), Json::Number(n)) if n.is_i64() || n.is_u64() => Some(default.clone()),
        (Some("float"), Json::Number(_)) => Some(default.clone()),
        (Some("int" | "float"), _) => None,
        _ => Some(default.clone()),
    };
    let Some(value) = converted else {
        return Some((
            "default-type-mismatch",
            format!(
                "the default {default} of `{name}` is not a valid `{}`",
                parameter.python_type.as_deref().unwrap_or("?")
            ),
        ));
    };
    if parameter.schema_type == ParameterType::Integer && value.is_f64() {
        return Some((
            "default-type-mismatch",
            format!("the default {default} of `{name}` is not an integer"),
        ));
    }
    let list_like =
        matches!(parameter.action, Action::Append | Action::Extend) || parameter.nargs.is_some();
    if let Some(choices) = &parameter.choices
        && !list_like
        && !choices.contains(&value)
        && !choices.contains(default)
    {
        return Some((
            "default-not-in-choices",
            format!("the default {default} of `{name}` is not one of its choices"),
        ));
    }
    None
}
