//! `mlreef.yml`: render it, and read it back (through [`crate::module::read_recorded`], which
//! discovery uses too).
//!
//! The file is a GitLab CI file that runs as it is. Its keys:
//! - `.mlreef`: the module description (a hidden key, which GitLab ignores);
//! - `stages`, with the publish stage;
//! - `mlreef-publish`: publishes the image from the module's branch with `mlreef publish`,
//!   which reads the registry login from `CI_REGISTRY_USER` / `CI_REGISTRY_PASSWORD` in its
//!   environment (never from its command line); it needs no Docker daemon, so no
//!   Docker-in-Docker service and no privileged runner. It runs in a plain Python image and
//!   installs the command (`pip install mlreef-core`, pinned to this version) when the image
//!   does not have it;
//! - `.mlreef-run`: a hidden job template that runs the published image with the input and
//!   output paths as job variables (`INPUT_PATH`, `OUTPUT_PATH`) and any other parameter values
//!   in `MLREEF_ARGS`, for pipelines that chain modules (`extends: .mlreef-run`).
//!
//! Every other key is the user's and is kept, in its place. Comments are not kept: the file
//! is rewritten from its values.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Map, Value as Json, json};

use crate::module::{self, MODULE_KEY, Module, slug};
use crate::yaml;

/// A read `mlreef.yml`: the whole document, and the module description in it (if any).
pub type PipelineFile = module::Recorded;
/// An `mlreef.yml` that cannot be read.
pub type PipelineError = module::RecordedError;
/// The publish job's name.
pub const PUBLISH_JOB: &str = "mlreef-publish";
/// The run template's name.
pub const RUN_TEMPLATE: &str = ".mlreef-run";
/// Where the image holds the repository's code.
pub const CODE_DIR: &str = crate::module::image_paths::CODE_DIR;

/// The Python package that gives the `mlreef` command, pinned to this version.
pub const PACKAGE: &str = concat!("mlreef-core==", env!("CARGO_PKG_VERSION"));

/// How to render `mlreef.yml`.
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// The image the publish job runs in: one with Python 3.9 or later and pip (the job
    /// installs [`PACKAGE`] there), or one that has the `mlreef` command already.
    pub mlreef_image: String,
    /// The stage of the publish job.
    pub stage: String,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            mlreef_image: "python:3.12-slim".to_owned(),
            stage: "publish".to_owned(),
        }
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
        "script": [
            format!(
                "command -v mlreef >/dev/null || pip install --quiet --no-cache-dir \"{PACKAGE}\""
            ),
            format!("mlreef publish . --push \"{}\"", image_tag(module)),
        ],
        "rules": [{"if": rule}],
    })
}

/// The `.mlreef-run` template. Its script line gives the entry point exactly the words that
/// `mlreef run-args --shell` printed into `MLREEF_ARGS`: the shell reads them as shell words
/// (`eval "set -- ..."`, so quotes, spaces, `$`, `*` and newlines arrive as written) and passes
/// them on as `"$@"`, never split or globbed again. The data paths stay quoted job variables.
fn run_template(module: &Module) -> Json {
    let mut command = super::shell_line(&module.entrypoint());
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
            Some(flag) => write!(command, " {flag} \"${variable}\""),
            None => write!(command, " \"${variable}\""),
        };
    }
    variables.insert("MLREEF_ARGS".to_owned(), json!(""));
    // One line, so that the words and the command share one shell whatever runs the script;
    // a quoting error in MLREEF_ARGS stops the job instead of running with the wrong words.
    let script = format!("eval \"set -- $MLREEF_ARGS\" && {command} \"$@\"");
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
    module::read_recorded(text, path)
}

/// Reads an `mlreef.yml` file.
pub fn read_file(path: &Path) -> Result<PipelineFile, PipelineError> {
    module::read_recorded_file(path)
}
