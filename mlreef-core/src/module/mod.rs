//! The module description: what the publishing wizard asks (name, kind, data types,
//! visibility, base environment, version) and what the code says (entry point, parameters,
//! requirements), in one value that `mlreef.yml`, image labels and every binding share.
//!
//! [`Module::discover`] builds it from a repository, [`Module::validate`] checks it against
//! the conventions a published module must follow, [`merge`] brings a fresh discovery into a
//! recorded description, [`read_recorded`] reads the description an `mlreef.yml` records, and
//! [`Module::json_schema`] / [`Module::parameters_schema`] describe it (and its parameters, for
//! generated web forms) as JSON Schema.

mod discover;
mod merge;
mod recorded;
mod validate;

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};

use crate::{Parameter, ParameterType};

pub use discover::{DiscoverOptions, Discovered, Error, script_parameters, slug};
pub use merge::{Change, merge};
pub use recorded::{MODULE_KEY, Recorded, RecordedError, read_recorded, read_recorded_file};

/// What a module does. The names are a contract with other systems.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ModuleKind {
    /// A model ("Model").
    #[default]
    Algorithm,
    /// A data operation ("Data Operation").
    Operation,
    /// A data visualization ("Data Visualization").
    Visualization,
}

impl std::fmt::Display for ModuleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::parameter::write_json_name(self, f)
    }
}

/// The kinds of data a module reads or writes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DataType {
    Any,
    Audio,
    Binary,
    None,
    Hierarchical,
    Image,
    Tabular,
    Text,
    TimeSeries,
    Video,
    Model,
    Number,
}

/// Who may see the published module.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Visibility {
    #[default]
    Public,
    Private,
    Internal,
}

/// The hardware a module runs on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MachineType {
    #[default]
    Cpu,
    Gpu,
}

/// The image a module's dependencies are installed into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BaseEnvironment {
    pub title: String,
    /// An image reference (`docker://python:3.11-slim`, `oci:DIR`, `rootfs:DIR`, ...).
    pub image: String,
    pub description: Option<String>,
    pub machine_type: MachineType,
    /// The Python version of the image (`3.11`).
    pub python_version: String,
}

impl Default for BaseEnvironment {
    fn default() -> Self {
        BaseEnvironment {
            title: "Python 3.11".to_owned(),
            image: "docker://python:3.11-slim".to_owned(),
            description: Some("CPython 3.11 on Debian, CPU only".to_owned()),
            machine_type: MachineType::Cpu,
            python_version: "3.11".to_owned(),
        }
    }
}

/// The scripts a module runs, relative to the repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EntryPoints {
    pub train: String,
    pub inference: Option<String>,
}

/// A module description, in the form of `mlreef.yml`'s `.mlreef` key and of the image label
/// `com.mlreef.module`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Module {
    pub name: String,
    /// The URL-safe name (`image-classifier`).
    pub slug: String,
    pub description: Option<String>,
    pub kind: ModuleKind,
    pub input_data_types: BTreeSet<DataType>,
    pub output_data_types: BTreeSet<DataType>,
    pub visibility: Visibility,
    /// Incremented for each publication of the same branch (`1`, `2`, ...).
    pub version: String,
    /// The git branch the module is published from, when known.
    pub branch: Option<String>,
    pub entry_points: EntryPoints,
    /// The entry point's parameters, in argparse's order (the `mlreef params --json` form).
    pub parameters: Vec<Parameter>,
    /// The requirements file, relative to the repository.
    pub requirements_file: Option<String>,
    /// The normalized requirements (file-wide options first), as `mlreef requirements
    /// --render` prints them.
    pub requirements: Vec<String>,
    pub base_environment: BaseEnvironment,
    /// The sha256 of the train entry point (hex), so a changed script marks a publication
    /// outdated.
    pub script_sha256: String,
}

impl Module {
    /// The JSON form (the same as `mlreef inspect --json`).
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The JSON Schema of a module description.
    #[must_use]
    pub fn json_schema() -> Json {
        serde_json::to_value(schemars::schema_for!(Module)).unwrap_or_default()
    }

    /// A JSON Schema of this module's parameters, one property per parameter (type, default,
    /// enum, description) and the required ones listed, from which a web form can be made.
    #[must_use]
    pub fn parameters_schema(&self) -> Json {
        parameters_schema(&self.name, &self.parameters)
    }
}

/// A JSON Schema for a set of parameters (see [`Module::parameters_schema`]).
#[must_use]
pub fn parameters_schema(title: &str, parameters: &[Parameter]) -> Json {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for parameter in parameters {
        if matches!(parameter.action.as_str(), "version" | "help") {
            continue;
        }
        let Some(name) = parameter.name.clone().or_else(|| parameter.dest.clone()) else {
            continue;
        };
        // Sub-commands may reuse a name; only one sub-command runs, so the first one stands
        // for all (its `x-subcommand` says which).
        if properties.contains_key(&name) {
            continue;
        }
        let mut property = Map::new();
        let many = is_list(parameter) && parameter.action != "parsers";
        let item_type = json_type(parameter.schema_type, parameter.python_type.as_deref());
        if many {
            property.insert("type".into(), json!("array"));
            if let Some(item) = item_type.filter(|t| *t != "array") {
                property.insert("items".into(), json!({"type": item}));
            }
        } else if parameter.action == "count" {
            property.insert("type".into(), json!("integer"));
            property.insert("minimum".into(), json!(0));
        } else if let Some(kind) = item_type {
            property.insert("type".into(), json!(kind));
        }
        if let Some(choices) = &parameter.choices {
            if many {
                let items = property.entry("items").or_insert_with(|| json!({}));
                if let Some(items) = items.as_object_mut() {
                    items.insert("enum".into(), json!(choices));
                }
            } else {
                property.insert("enum".into(), json!(choices));
            }
        }
        if !parameter.default.is_null() {
            property.insert("default".into(), parameter.default.clone());
        }
        if let Some(help) = &parameter.help {
            property.insert("description".into(), json!(help));
        }
        if !parameter.flags.is_empty() {
            property.insert("x-flags".into(), json!(parameter.flags));
        }
        if let Some(group) = &parameter.group {
            property.insert("x-group".into(), json!(group));
        }
        if let Some(subcommand) = &parameter.subcommand {
            property.insert("x-subcommand".into(), json!(subcommand));
        }
        // A sub-command's required argument is required only when that sub-command runs.
        if parameter.required && parameter.subcommand.is_none() {
            required.push(json!(name));
        }
        properties.insert(name, Json::Object(property));
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// Whether argparse collects a list for the parameter.
fn is_list(parameter: &Parameter) -> bool {
    use crate::Nargs;
    matches!(parameter.action.as_str(), "append" | "extend")
        || match &parameter.nargs {
            Some(Nargs::Count(n)) => *n != 1 || parameter.schema_type == ParameterType::List,
            Some(Nargs::Pattern(p)) => p != "?",
            None => false,
        }
}

/// The JSON Schema type of one value.
fn json_type(schema_type: ParameterType, python_type: Option<&str>) -> Option<&'static str> {
    match (schema_type, python_type) {
        (_, Some("int")) | (ParameterType::Integer, _) => Some("integer"),
        (_, Some("float")) | (ParameterType::Float, _) => Some("number"),
        (ParameterType::Boolean, _) => Some("boolean"),
        (ParameterType::String, _) | (_, Some("str" | "Path")) => Some("string"),
        (ParameterType::List | ParameterType::Tuple, _) => Some("array"),
        (ParameterType::Dictionary | ParameterType::Object, _) => Some("object"),
        _ => None,
    }
}
