//! `mlreef.yml`: render, read back, and merge a re-extraction into what the user set.
//!
//! The file is a GitLab CI file that runs as it is. Its keys:
//! - `.mlreef`: the module description (a hidden key, which GitLab ignores);
//! - `stages`, with the publish stage;
//! - `mlreef-publish`: publishes the image from the module's branch with `mlreef publish`,
//!   which reads the registry login from `CI_REGISTRY_USER` / `CI_REGISTRY_PASSWORD` in its
//!   environment (never from its command line); it needs no Docker daemon, so no
//!   Docker-in-Docker service and no privileged runner;
//! - `.mlreef-run`: a hidden job template that runs the published image with the input and
//!   output paths as job variables (`INPUT_PATH`, `OUTPUT_PATH`) and any other parameter values
//!   in `MLREEF_ARGS`, for pipelines that chain modules (`extends: .mlreef-run`).
//!
//! Every other key is the user's and is kept, in its place. Comments are not kept: the file
//! is rewritten from its values.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json, json};

use crate::module::{Module, slug};
use crate::yaml;

/// The hidden key that holds the module description.
pub const MODULE_KEY: &str = ".mlreef";
/// The publish job's name.
pub const PUBLISH_JOB: &str = "mlreef-publish";
/// The run template's name.
pub const RUN_TEMPLATE: &str = ".mlreef-run";
/// Where the image holds the repository's code.
pub const CODE_DIR: &str = "/app";

/// How to render `mlreef.yml`.
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// The image the publish job runs in; it must have the `mlreef` command.
    pub mlreef_image: String,
    /// The stage of the publish job.
    pub stage: String,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            mlreef_image: format!(
                "registry.gitlab.com/mlreef/mlreef:{}",
                env!("CARGO_PKG_VERSION")
            ),
            stage: "publish".to_owned(),
        }
    }
}

/// An `mlreef.yml` that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    #[error("{}:{line}:{column}: {message}", display(path.as_deref()))]
    Yaml {
        path: Option<PathBuf>,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}:{line}: {message}", display(path.as_deref()))]
    Shape {
        path: Option<PathBuf>,
        line: usize,
        message: String,
    },
    #[error("cannot read `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn display(path: Option<&Path>) -> String {
    path.map_or_else(|| "mlreef.yml".to_owned(), |p| p.display().to_string())
}

/// A read `mlreef.yml`: the whole document, and the module description in it (if any).
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineFile {
    pub document: Map<String, Json>,
    pub module: Option<Module>,
}

/// One difference a merge made, for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change(pub String);

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The image reference the module is published as, relative to `$CI_REGISTRY_IMAGE`.
#[must_use]
pub fn image_tag(module: &Module) -> String {
    let branch = module
        .branch
        .as_deref()
        .map_or_else(|| "$CI_COMMIT_REF_SLUG".to_owned(), slug);
    format!("$CI_REGISTRY_IMAGE:{branch}-{}", module.version)
}

fn publish_job(module: &Module, options: &PipelineOptions) -> Json {
    let rule = match &module.branch {
        Some(branch) => format!("$CI_COMMIT_BRANCH == {}", json!(branch)),
        None => "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH".to_owned(),
    };
    json!({
        "stage": options.stage,
        "image": options.mlreef_image,
        "script": [format!("mlreef publish . --push \"{}\"", image_tag(module))],
        "rules": [{"if": rule}],
    })
}

fn run_template(module: &Module) -> Json {
    let script_path = format!("{CODE_DIR}/{}", module.entry_points.train);
    let mut script = format!("python {}", super::shell_line(&[script_path]));
    let mut variables = Map::new();
    // The data paths the module declares become job variables, so a chained pipeline sets
    // them with `variables:` in a job that `extends: .mlreef-run`.
    for (name, variable) in [("input-path", "INPUT_PATH"), ("output-path", "OUTPUT_PATH")] {
        let Some(parameter) = module
            .parameters
            .iter()
            .find(|p| p.name.as_deref() == Some(name))
        else {
            continue;
        };
        let flag = parameter
            .flags
            .iter()
            .find(|f| f.starts_with("--"))
            .or(parameter.flags.first());
        let default = parameter.default.as_str().unwrap_or_default();
        variables.insert(variable.to_owned(), json!(default));
        let _ = match flag {
            Some(flag) => write!(script, " {flag} \"${variable}\""),
            None => write!(script, " \"${variable}\""),
        };
    }
    // Other parameter values, as `mlreef run-args --shell` prints them; the shell splits them.
    variables.insert("MLREEF_ARGS".to_owned(), json!(""));
    script.push_str(" $MLREEF_ARGS");
    json!({
        "image": {"name": image_tag(module), "entrypoint": [""]},
        "variables": variables,
        "script": [script],
    })
}

/// Renders `mlreef.yml` for `module`, keeping every key of `existing` that is not ours.
#[must_use]
pub fn render(
    module: &Module,
    existing: Option<&PipelineFile>,
    options: &PipelineOptions,
) -> String {
    let mut document = existing.map(|e| e.document.clone()).unwrap_or_default();
    let description = serde_json::to_value(module).unwrap_or(Json::Null);
    let mut stages: Vec<Json> = document
        .get("stages")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    if !stages
        .iter()
        .any(|s| s.as_str() == Some(options.stage.as_str()))
    {
        stages.push(json!(options.stage));
    }
    // Our keys keep their place in an existing file; a new file starts with them.
    let ours = [
        (MODULE_KEY, description),
        ("stages", Json::Array(stages)),
        (PUBLISH_JOB, publish_job(module, options)),
        (RUN_TEMPLATE, run_template(module)),
    ];
    let mut out = Map::new();
    if existing.is_none() {
        for (key, value) in &ours {
            out.insert((*key).to_owned(), value.clone());
        }
    }
    for (key, value) in std::mem::take(&mut document) {
        let replacement = ours.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone());
        out.insert(key, replacement.unwrap_or(value));
    }
    for (key, value) in ours {
        out.entry(key.to_owned()).or_insert(value);
    }
    yaml::emit(&Json::Object(out))
}

/// Reads `mlreef.yml` text; `path` names it in errors.
pub fn read(text: &str, path: Option<&Path>) -> Result<PipelineFile, PipelineError> {
    let path_buf = path.map(Path::to_owned);
    let (value, documents) = yaml::parse(text).map_err(|p| PipelineError::Yaml {
        path: path_buf.clone(),
        line: p.line,
        column: p.column,
        message: p.message,
    })?;
    let document = match value {
        Json::Object(map) => map,
        Json::Null => Map::new(),
        _ => {
            return Err(PipelineError::Shape {
                path: path_buf,
                line: 1,
                message: "mlreef.yml must be a mapping of jobs and keys".to_owned(),
            });
        }
    };
    let module = match document.get(MODULE_KEY) {
        None => None,
        Some(description) => Some(
            serde_json::from_value::<Module>(description.clone()).map_err(|e| {
                PipelineError::Shape {
                    path: path_buf.clone(),
                    line: yaml::key_line(&documents, MODULE_KEY).unwrap_or(1),
                    message: format!("`{MODULE_KEY}` is not a module description: {e}"),
                }
            })?,
        ),
    };
    Ok(PipelineFile { document, module })
}

/// Reads an `mlreef.yml` file.
pub fn read_file(path: &Path) -> Result<PipelineFile, PipelineError> {
    let text = std::fs::read_to_string(path).map_err(|source| PipelineError::Io {
        path: path.to_owned(),
        source,
    })?;
    read(&text, Some(path))
}

/// Merges a fresh discovery into what the user set: the code's facts (entry point,
/// parameters, requirements, script hash, branch) come from `discovered`; everything a person
/// decides (name, slug, description, kind, data types, visibility, version, base
/// environment, an inference entry point) is kept from `existing`.
#[must_use]
pub fn merge(existing: &Module, discovered: &Module) -> (Module, Vec<Change>) {
    let mut merged = existing.clone();
    let mut changes = Vec::new();
    let old_names: Vec<String> = existing
        .parameters
        .iter()
        .filter_map(|p| p.name.clone())
        .collect();
    let new_names: Vec<String> = discovered
        .parameters
        .iter()
        .filter_map(|p| p.name.clone())
        .collect();
    for name in new_names.iter().filter(|n| !old_names.contains(n)) {
        changes.push(Change(format!("parameter `{name}` added")));
    }
    for name in old_names.iter().filter(|n| !new_names.contains(n)) {
        changes.push(Change(format!("parameter `{name}` removed")));
    }
    for new in &discovered.parameters {
        let Some(old) = existing
            .parameters
            .iter()
            .find(|p| p.name == new.name && p.name.is_some())
        else {
            continue;
        };
        let name = new.name.as_deref().unwrap_or_default();
        if old.default != new.default {
            changes.push(Change(format!(
                "parameter `{name}`: default {} -> {}",
                old.default, new.default
            )));
        }
        if old.schema_type != new.schema_type
            || old.required != new.required
            || old.choices != new.choices
        {
            changes.push(Change(format!(
                "parameter `{name}`: type, choices or required-ness changed"
            )));
        }
    }
    for line in discovered
        .requirements
        .iter()
        .filter(|l| !existing.requirements.contains(l))
    {
        changes.push(Change(format!("requirement `{line}` added")));
    }
    for line in existing
        .requirements
        .iter()
        .filter(|l| !discovered.requirements.contains(l))
    {
        changes.push(Change(format!("requirement `{line}` removed")));
    }
    if existing.entry_points.train != discovered.entry_points.train {
        changes.push(Change(format!(
            "entry point `{}` -> `{}`",
            existing.entry_points.train, discovered.entry_points.train
        )));
    } else if existing.script_sha256 != discovered.script_sha256 {
        changes.push(Change(format!(
            "`{}` changed (new sha256)",
            discovered.entry_points.train
        )));
    }
    if existing.branch != discovered.branch {
        changes.push(Change(format!(
            "branch {} -> {}",
            existing.branch.as_deref().unwrap_or("(none)"),
            discovered.branch.as_deref().unwrap_or("(none)")
        )));
    }
    merged
        .entry_points
        .train
        .clone_from(&discovered.entry_points.train);
    merged.parameters.clone_from(&discovered.parameters);
    merged
        .requirements_file
        .clone_from(&discovered.requirements_file);
    merged.requirements.clone_from(&discovered.requirements);
    merged.script_sha256.clone_from(&discovered.script_sha256);
    merged.branch.clone_from(&discovered.branch);
    (merged, changes)
}
