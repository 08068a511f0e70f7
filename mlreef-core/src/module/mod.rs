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

use crate::Parameter;
use crate::parameter::{Arity, Conversion, SwitchWay, ValueKind, ValueShape};

pub use discover::{DiscoverOptions, Discovered, Error, script_parameters, slug};
pub use merge::{Change, merge};
pub use recorded::{MODULE_KEY, Recorded, RecordedError, read_recorded, read_recorded_file};

/// Where a module's image keeps its parts (a contract: the run template of `mlreef.yml` and
/// every consumer of published images rely on it).
pub mod image_paths {
    /// The repository's code.
    pub const CODE_DIR: &str = "/workdir";
    /// The installed dependencies, on `PYTHONPATH`.
    pub const SITE_PACKAGES: &str = "/opt/mlreef/site-packages";
    /// The resolved requirements (pins with hashes) the dependencies were installed from.
    pub const LOCK_FILE: &str = "/opt/mlreef/requirements.lock";
}

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
    /// The command its image runs (the image's `Entrypoint`): the entry point under
    /// [`image_paths::CODE_DIR`] with the image's Python; run arguments follow it.
    #[must_use]
    pub fn entrypoint(&self) -> Vec<String> {
        vec![
            "python3".to_owned(),
            format!("{}/{}", image_paths::CODE_DIR, self.entry_points.train),
        ]
    }

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
///
/// Each property describes the value [`crate::pipeline::command_line`] takes for the parameter
/// (its [`ValueShape`] and [`ValueKind`]): a value valid for the schema is one it accepts,
/// except where the words themselves get in the way (a list value starting with `-`, an
/// `extend` list whose length is not a multiple of its `nargs`), which JSON Schema cannot say.
#[must_use]
pub fn parameters_schema(title: &str, parameters: &[Parameter]) -> Json {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for parameter in parameters {
        if parameter.shape() == ValueShape::Nothing {
            continue;
        }
        let Some(name) = parameter.key().map(str::to_owned) else {
            continue;
        };
        // Sub-commands may reuse a name; only one sub-command runs, so the first one stands
        // for all (its `x-subcommand` says which).
        if properties.contains_key(&name) {
            continue;
        }
        let mut property = value_schema(parameter);
        if let Some(default) = schema_default(parameter) {
            property.insert("default".into(), default);
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

/// The schema of the values a run may give the parameter.
fn value_schema(parameter: &Parameter) -> Map<String, Json> {
    let object = |value: Json| match value {
        Json::Object(map) => map,
        _ => Map::new(),
    };
    let nothing = || object(json!({"not": {}}));
    match parameter.shape() {
        ValueShape::Nothing => nothing(),
        ValueShape::Subcommand => {
            let mut schema = object(json!({"type": "string"}));
            if let Some(choices) = &parameter.choices {
                schema.insert("enum".into(), json!(choices));
            }
            schema
        }
        ValueShape::Switch => {
            let reachable: Vec<bool> = [true, false]
                .into_iter()
                .filter(|b| parameter.switch_way(*b).is_some())
                .collect();
            match reachable.as_slice() {
                [_, _] => object(json!({"type": "boolean"})),
                [only] => object(json!({"type": "boolean", "const": only})),
                _ => nothing(),
            }
        }
        ValueShape::Count => parameter.count_minimum().map_or_else(nothing, |minimum| {
            object(json!({"type": "integer", "minimum": minimum}))
        }),
        ValueShape::Single => {
            // An option with `nargs='?'` given alone holds its const: the value `null`.
            let nullable = parameter.arity() == Arity::Optional && !parameter.is_positional();
            item_schema(parameter, nullable)
        }
        ValueShape::List(arity) => list_schema(item_schema(parameter, false), arity),
        ValueShape::Appended(arity) => {
            let entry = if arity.is_list() {
                list_schema(item_schema(parameter, false), arity)
            } else {
                item_schema(parameter, arity == Arity::Optional)
            };
            // An occurrence that takes every word after it can only be the last.
            accumulated_schema(parameter, entry, arity.takes_options().then_some(1))
        }
        ValueShape::Extended(arity) => {
            // Without a list `nargs`, `extend` adds a word's characters: only the default
            // itself can be asked for.
            let limit = (!arity.is_list()).then_some(0);
            accumulated_schema(parameter, item_schema(parameter, false), limit)
        }
    }
}

/// The schema of one value of the parameter's [`ValueKind`], with its choices.
fn item_schema(parameter: &Parameter, nullable: bool) -> Map<String, Json> {
    let types: &[&str] = match parameter.item_kind() {
        ValueKind::Integer => &["integer"],
        ValueKind::Float => &["number"],
        ValueKind::String => &["string"],
        ValueKind::Boolean { .. } => &["boolean"],
        ValueKind::Json => &[],
        _ => &["string", "number", "boolean"],
    };
    let mut schema = Map::new();
    if !types.is_empty() {
        let mut types: Vec<&str> = types.to_vec();
        if nullable {
            types.push("null");
        }
        let types = if let [one] = types.as_slice() {
            json!(one)
        } else {
            json!(types)
        };
        schema.insert("type".into(), types);
    }
    if let Some(choices) = parameter.checked_choices() {
        let mut choices = choices.to_vec();
        if nullable {
            choices.push(Json::Null);
        }
        schema.insert("enum".into(), Json::Array(choices));
    }
    schema
}

/// A list of `items`, as many as one occurrence of `arity` takes.
fn list_schema(items: Map<String, Json>, arity: Arity) -> Map<String, Json> {
    let mut schema = Map::new();
    schema.insert("type".into(), json!("array"));
    schema.insert("items".into(), Json::Object(items));
    let (min, max) = arity.words();
    if min > 0 {
        schema.insert("minItems".into(), json!(min));
    }
    if let Some(max) = max {
        schema.insert("maxItems".into(), json!(max));
    }
    schema
}

/// A list that argparse builds on a copy of the default: it starts with the default's
/// entries, then any number of `entry` (at most `limit` more).
fn accumulated_schema(
    parameter: &Parameter,
    entry: Map<String, Json>,
    limit: Option<usize>,
) -> Map<String, Json> {
    let (Some(start), Some(fewest)) = (
        parameter.accumulated_default(),
        parameter.fewest_accumulated(),
    ) else {
        return Map::from_iter([("not".to_owned(), json!({}))]);
    };
    let mut schema = Map::new();
    schema.insert("type".into(), json!("array"));
    if !start.is_empty() {
        let prefix: Vec<Json> = start.iter().map(|d| json!({"const": d})).collect();
        schema.insert("prefixItems".into(), Json::Array(prefix));
    }
    if fewest > 0 {
        schema.insert("minItems".into(), json!(fewest));
    }
    schema.insert("items".into(), Json::Object(entry));
    if let Some(limit) = limit {
        schema.insert("maxItems".into(), json!(start.len() + limit));
    }
    schema
}

/// The default a form shows: what argparse holds when the parameter is left out, as a value
/// of the parameter's schema (a string default converted by `type=`, `false` for a
/// `store_const` switch); none when it is unknown or suppressed.
fn schema_default(parameter: &Parameter) -> Option<Json> {
    if parameter.default_expr.is_some() || parameter.default_is_suppressed() {
        return None;
    }
    match parameter.shape() {
        ValueShape::Switch => match parameter.switch_way(false) {
            Some(SwitchWay::LeaveOut) => Some(Json::Bool(false)),
            _ => parameter.default.as_bool().map(Json::Bool),
        },
        ValueShape::Single => match &parameter.default {
            Json::Null => None,
            Json::String(text) => match parameter.convert(text) {
                Conversion::Value(value) => Some(value),
                _ => Some(parameter.default.clone()),
            },
            other => Some(other.clone()),
        },
        _ => Some(parameter.default.clone()).filter(|d| !d.is_null()),
    }
}
