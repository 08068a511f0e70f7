//! The parameter form shared by every extractor (argparse, decorators) and every binding.
//!
//! [`Action`] and [`Nargs`] type argparse's vocabulary; the questions every layer asks of a
//! parameter (how many words an occurrence takes, whether its value is a switch or a list,
//! what kind each value is) are answered once, by methods in [`shape`].

mod action;
pub mod shape;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

pub use action::{Action, Arity, Nargs};
pub use shape::{Conversion, SwitchWay, ValueKind, ValueShape, converter_type};

/// The module schema's parameter types. The names are a contract with other systems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ParameterType {
    String,
    Integer,
    Float,
    Boolean,
    List,
    Tuple,
    Dictionary,
    Object,
    Complex,
    Undefined,
}

/// Writes an enum as its name in the JSON contracts (`INTEGER`, `warning`), which other
/// systems read, so that text output and JSON never spell it differently.
pub(crate) fn write_json_name(
    value: &impl Serialize,
    f: &mut std::fmt::Formatter<'_>,
) -> std::fmt::Result {
    match serde_json::to_value(value) {
        Ok(Json::String(name)) => f.write_str(&name),
        _ => Err(std::fmt::Error),
    }
}

impl std::fmt::Display for ParameterType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_json_name(self, f)
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_json_name(self, f)
    }
}

/// One parameter of a module, in the JSON form of `mlreef params --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Parameter {
    /// The first long flag without its prefix, or the positional's name.
    pub name: Option<String>,
    /// argparse's `dest`.
    pub dest: Option<String>,
    /// Option strings in argparse's order; empty for a positional.
    pub flags: Vec<String>,
    /// `store`, `store_true`, ..., `parsers`, or a custom action class's name.
    pub action: Action,
    /// The `type=` callable's name as written (`int`, `Path`, `file`, `str2bool`).
    pub python_type: Option<String>,
    /// The module schema's type.
    #[serde(rename = "type")]
    pub schema_type: ParameterType,
    /// The default argparse holds (`null` when unknown; see `default_expr`).
    pub default: Json,
    /// The source text of a default that could not be evaluated.
    pub default_expr: Option<String>,
    pub required: bool,
    pub choices: Option<Vec<Json>>,
    pub nargs: Option<Nargs>,
    #[serde(rename = "const")]
    pub constant: Json,
    pub help: Option<String>,
    pub metavar: Option<Json>,
    /// Title of the argument group, `null` for argparse's default groups.
    pub group: Option<String>,
    /// The sub-command path (`train`, `remote add`) for arguments of a sub-parser.
    pub subcommand: Option<String>,
    /// 1-based position of the call that declared the parameter.
    pub line: usize,
    pub column: usize,
    /// The file of that call, relative to the repository, when it is a helper module rather
    /// than the script itself (`null` for the script).
    #[serde(default)]
    pub file: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

/// Something an extractor could not understand or wants the author to know.
///
/// `code` is stable (`dynamic-default`, `unresolved-helper`, ...); `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: String,
    pub message: String,
    pub line: usize,
    pub column: usize,
    /// The file the diagnostic is about, when it is not the entry point (a helper module).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// The result of an extraction: the parameters and what could not be resolved.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Extraction {
    pub parameters: Vec<Parameter>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Extraction {
    /// The JSON contract of `mlreef params --json`.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("extraction serializes")
    }
}

impl Parameter {
    /// The module schema's type, from what argparse knows about the parameter (its action,
    /// `nargs`, `type=`, default, const and choices); what `schema_type` holds once an
    /// extractor has filled in the rest.
    #[must_use]
    pub fn inferred_type(&self) -> ParameterType {
        match self.shape() {
            ValueShape::Nothing => ParameterType::Undefined,
            ValueShape::Subcommand => ParameterType::String,
            ValueShape::Switch => match self.action {
                Action::StoreConst => shape::type_of_value(&self.constant),
                Action::AppendConst => ParameterType::List,
                _ => ParameterType::Boolean,
            },
            ValueShape::Count => ParameterType::Integer,
            ValueShape::List(_) | ValueShape::Appended(_) | ValueShape::Extended(_) => {
                ParameterType::List
            }
            ValueShape::Single => {
                if let Some(known) = self.python_type.as_deref().and_then(converter_type) {
                    return known;
                }
                match &self.default {
                    Json::Null | Json::String(_) if self.python_type.is_none() => {
                        // Without `type=`, argparse hands the script strings; choices can
                        // say more.
                        self.choices
                            .as_deref()
                            .and_then(<[Json]>::first)
                            .map_or(ParameterType::String, shape::type_of_value)
                    }
                    Json::Null => ParameterType::Undefined,
                    other => shape::type_of_value(other),
                }
            }
        }
    }
}
