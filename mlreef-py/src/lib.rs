//! `mlreef_core._mlreef_core`: the native half of the `mlreef_core` Python package.
//!
//! Every function converts its arguments to owned Rust values first, then runs the core with
//! the GIL released ([`detached`]), so a notebook's other threads keep running while a large
//! repository is read. Objects keep the core value and turn it into Python on access;
//! `to_dict()` / `to_json()` give exactly the JSON contracts of DESIGN.md.

mod errors;
mod image;
mod progress;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use mlreef_core::module::{DiscoverOptions, Module as CoreModule};
use mlreef_core::requirements::{self as reqs, Target};
use mlreef_core::{Diagnostic as CoreDiagnostic, Parameter as CoreParameter, argparse, pipeline};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde::Serialize;

/// Runs `f` without the GIL. Everything `f` touches must be owned Rust data.
pub(crate) fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> T {
    py.detach(f)
}

/// A serde value as a Python object, through `json.loads` (the JSON contract, exactly).
pub(crate) fn to_python<'py>(
    py: Python<'py>,
    value: &impl Serialize,
) -> PyResult<Bound<'py, PyAny>> {
    let text =
        serde_json::to_string(value).map_err(|e| errors::MlreefError::new_err(e.to_string()))?;
    py.import("json")?.call_method1("loads", (text,))
}

/// A Python object (dict, list, str, number, bool, None) as JSON.
fn from_python(value: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    let text: String = value
        .py()
        .import("json")?
        .call_method1("dumps", (value,))?
        .extract()?;
    serde_json::from_str(&text).map_err(|e| pyo3::exceptions::PyTypeError::new_err(e.to_string()))
}

fn pretty(value: &impl Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn target(python: Option<&str>, platform: Option<&str>) -> PyResult<Option<Target>> {
    Target::from_parts(python, platform)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

/// A problem an extractor or parser reports.
#[pyclass(frozen, module = "mlreef_core")]
#[derive(Clone)]
pub(crate) struct Diagnostic(CoreDiagnostic);

#[pymethods]
impl Diagnostic {
    #[getter]
    fn severity<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0.severity)
    }
    #[getter]
    fn code(&self) -> &str {
        &self.0.code
    }
    #[getter]
    fn message(&self) -> &str {
        &self.0.message
    }
    #[getter]
    fn line(&self) -> usize {
        self.0.line
    }
    #[getter]
    fn column(&self) -> usize {
        self.0.column
    }
    #[getter]
    fn file(&self) -> Option<&str> {
        self.0.file.as_deref()
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
    fn __repr__(&self) -> String {
        format!(
            "<Diagnostic {}:{} {}: {}>",
            self.0.line, self.0.column, self.0.code, self.0.message
        )
    }
}

/// One parameter of a script, in the form of `mlreef params --json`.
#[pyclass(frozen, module = "mlreef_core")]
#[derive(Clone)]
struct Parameter(CoreParameter);

#[pymethods]
impl Parameter {
    #[getter]
    fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    #[getter]
    fn dest(&self) -> Option<&str> {
        self.0.dest.as_deref()
    }
    #[getter]
    fn flags(&self) -> Vec<String> {
        self.0.flags.clone()
    }
    #[getter]
    fn action(&self) -> &str {
        self.0.action.name()
    }
    #[getter]
    fn python_type(&self) -> Option<&str> {
        self.0.python_type.as_deref()
    }
    #[getter(r#type)]
    fn schema_type<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0.schema_type)
    }
    #[getter]
    fn default<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0.default)
    }
    #[getter]
    fn default_expr(&self) -> Option<&str> {
        self.0.default_expr.as_deref()
    }
    #[getter]
    fn required(&self) -> bool {
        self.0.required
    }
    #[getter]
    fn choices<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0.choices)
    }
    #[getter]
    fn nargs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0.nargs)
    }
    #[getter(r#const)]
    fn constant<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0.constant)
    }
    #[getter]
    fn metavar<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0.metavar)
    }
    #[getter]
    fn file(&self) -> Option<&str> {
        self.0.file.as_deref()
    }
    #[getter]
    fn help(&self) -> Option<&str> {
        self.0.help.as_deref()
    }
    #[getter]
    fn group(&self) -> Option<&str> {
        self.0.group.as_deref()
    }
    #[getter]
    fn subcommand(&self) -> Option<&str> {
        self.0.subcommand.as_deref()
    }
    #[getter]
    fn line(&self) -> usize {
        self.0.line
    }
    #[getter]
    fn column(&self) -> usize {
        self.0.column
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
    fn __repr__(&self) -> String {
        let flags = if self.0.flags.is_empty() {
            "(positional)".to_owned()
        } else {
            self.0.flags.join(", ")
        };
        format!(
            "<Parameter {} {flags} {:?} default={}>",
            self.0.name.as_deref().unwrap_or("?"),
            self.0.schema_type,
            self.0.default
        )
    }
}

/// Text made safe inside HTML elements.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn parameter_rows(parameters: &[CoreParameter]) -> String {
    let mut html = String::from(
        "<table><thead><tr><th>name</th><th>flags</th><th>type</th><th>default</th><th>required</th><th>help</th></tr></thead><tbody>",
    );
    for p in parameters {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(p.name.as_deref().unwrap_or("")),
            escape(&p.flags.join(", ")),
            p.schema_type,
            escape(
                &p.default_expr
                    .clone()
                    .unwrap_or_else(|| p.default.to_string())
            ),
            if p.required { "yes" } else { "no" },
            escape(p.help.as_deref().unwrap_or("")),
        );
    }
    html.push_str("</tbody></table>");
    html
}

/// The parameters of a script and what could not be resolved.
#[pyclass(frozen, module = "mlreef_core")]
struct Extraction(mlreef_core::Extraction);

#[pymethods]
impl Extraction {
    #[getter]
    fn parameters(&self) -> Vec<Parameter> {
        self.0.parameters.iter().cloned().map(Parameter).collect()
    }
    #[getter]
    fn diagnostics(&self) -> Vec<Diagnostic> {
        self.0.diagnostics.iter().cloned().map(Diagnostic).collect()
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
    fn to_json(&self) -> String {
        self.0.to_json()
    }
    /// A JSON Schema of the parameters, for generating a form.
    fn json_schema<'py>(&self, py: Python<'py>, title: &str) -> PyResult<Bound<'py, PyAny>> {
        to_python(
            py,
            &mlreef_core::module::parameters_schema(title, &self.0.parameters),
        )
    }
    fn __len__(&self) -> usize {
        self.0.parameters.len()
    }
    fn __repr__(&self) -> String {
        format!(
            "<Extraction {} parameters, {} diagnostics>",
            self.0.parameters.len(),
            self.0.diagnostics.len()
        )
    }
    fn _repr_html_(&self) -> String {
        parameter_rows(&self.0.parameters)
    }
}

/// Reads a script's argparse parameters (or legacy decorators) without running it.
#[pyfunction]
#[pyo3(signature = (source=None, path=None, repo=None, verbose=false))]
fn extract_parameters(
    py: Python<'_>,
    source: Option<String>,
    path: Option<PathBuf>,
    repo: Option<PathBuf>,
    verbose: bool,
) -> PyResult<Extraction> {
    let options = argparse::Options {
        repo,
        verbose,
        ..argparse::Options::default()
    };
    let result = detached(py, move || match (source, path) {
        (Some(source), path) => argparse::extract(&source, &argparse::Options { path, ..options }),
        // Without `repo`, extraction uses the script's git root, else its folder.
        (None, Some(path)) => mlreef_core::module::script_parameters(&path, &options),
        (None, None) => Ok(mlreef_core::Extraction::default()),
    });
    result
        .map(Extraction)
        .map_err(|e| errors::from_argparse(&e))
}

/// One requirement, in the form of `mlreef requirements --json`.
#[pyclass(frozen, module = "mlreef_core")]
#[derive(Clone)]
struct Requirement(reqs::Requirement);

#[pymethods]
impl Requirement {
    #[getter]
    fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    #[getter]
    fn specifier(&self) -> &str {
        &self.0.specifier
    }
    #[getter]
    fn extras(&self) -> Vec<String> {
        self.0.extras.clone()
    }
    #[getter]
    fn marker(&self) -> Option<&str> {
        self.0.marker.as_deref()
    }
    #[getter]
    fn url(&self) -> Option<&str> {
        self.0.url.as_deref()
    }
    #[getter]
    fn editable(&self) -> bool {
        self.0.editable
    }
    #[getter]
    fn hashes(&self) -> Vec<String> {
        self.0.hashes.clone()
    }
    #[getter]
    fn line(&self) -> usize {
        self.0.line
    }
    #[getter]
    fn source(&self) -> &str {
        &self.0.source
    }
    #[getter]
    fn pinned(&self) -> bool {
        self.0.pinned
    }
    #[getter]
    fn constraint(&self) -> bool {
        self.0.constraint
    }
    #[getter]
    fn kind<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0.kind)
    }
    #[getter]
    fn config_settings(&self) -> Vec<String> {
        self.0.config_settings.clone()
    }
    #[getter]
    fn applies(&self) -> Option<bool> {
        self.0.applies
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
    fn __repr__(&self) -> String {
        let what = self
            .0
            .name
            .clone()
            .or_else(|| self.0.url.clone())
            .unwrap_or_default();
        format!(
            "<Requirement {what}{} ({}:{})>",
            self.0.specifier, self.0.source, self.0.line
        )
    }
}

/// A requirements file (or conda environment file) and what it includes.
#[pyclass(frozen, module = "mlreef_core")]
struct RequirementsFile(reqs::RequirementsFile);

#[pymethods]
impl RequirementsFile {
    #[getter]
    fn requirements(&self) -> Vec<Requirement> {
        self.0
            .requirements
            .iter()
            .cloned()
            .map(Requirement)
            .collect()
    }
    #[getter]
    fn diagnostics(&self) -> Vec<Diagnostic> {
        self.0.diagnostics.iter().cloned().map(Diagnostic).collect()
    }
    #[getter]
    fn options<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0.options)
    }
    #[getter]
    fn conda<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0.conda)
    }
    /// Whether pip would accept the file (no error-severity diagnostic).
    #[getter]
    fn valid(&self) -> bool {
        self.0.first_error().is_none()
    }
    /// Requirements to install whose markers hold for the target.
    #[pyo3(signature = (python="3.11", platform="linux/amd64"))]
    fn applicable(&self, python: &str, platform: &str) -> PyResult<Vec<Requirement>> {
        let target = Target::new(python, platform)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
        Ok(self
            .0
            .applicable(&target)
            .cloned()
            .map(Requirement)
            .collect())
    }
    /// Requirements more than one version could satisfy.
    fn unpinned(&self) -> Vec<Requirement> {
        self.0.unpinned().cloned().map(Requirement).collect()
    }
    /// Editable and local-path requirements.
    fn local(&self) -> Vec<Requirement> {
        self.0.local().cloned().map(Requirement).collect()
    }
    /// The normalized requirements text for an installer (only what applies to a target when
    /// one is given).
    #[pyo3(signature = (python=None, platform=None))]
    fn render(&self, python: Option<&str>, platform: Option<&str>) -> PyResult<String> {
        Ok(match target(python, platform)? {
            Some(target) => self.0.render_for(&target),
            None => self.0.render(),
        })
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
    fn to_json(&self) -> String {
        self.0.to_json()
    }
    fn __len__(&self) -> usize {
        self.0.requirements.len()
    }
    fn __repr__(&self) -> String {
        format!(
            "<RequirementsFile {} requirements, {} diagnostics>",
            self.0.requirements.len(),
            self.0.diagnostics.len()
        )
    }
}

/// Reads requirements as pip does: text (with `path` saying where it lives, for includes) or a
/// file. `env` gives `${VAR}` values (default: the process environment, as pip reads it; `{}`
/// leaves every reference as written); `repo` bounds includes and names `source` (default: the
/// file's git root, else its folder), the same defaults as every binding.
#[pyfunction]
#[pyo3(signature = (text=None, path=None, env=None, repo=None, allow_outside_repo=false))]
fn parse_requirements(
    py: Python<'_>,
    text: Option<String>,
    path: Option<PathBuf>,
    env: Option<HashMap<String, String>>,
    repo: Option<PathBuf>,
    allow_outside_repo: bool,
) -> PyResult<RequirementsFile> {
    if text.is_none() && path.is_none() {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "give `text` or `path`",
        ));
    }
    let result = detached(py, move || {
        let options = reqs::Options {
            env,
            repo,
            path: path.clone(),
            allow_outside_repo,
        };
        match (text, path) {
            (Some(text), Some(path)) if reqs::is_environment_file(&path) => {
                reqs::parse_environment(&text, &options)
            }
            (Some(text), _) => Ok(reqs::parse(&text, &options)),
            (None, Some(path)) => reqs::parse_file(&path, &options),
            (None, None) => Ok(reqs::RequirementsFile::default()),
        }
    });
    result
        .map(RequirementsFile)
        .map_err(|e| errors::from_requirements(&e))
}

/// A module description: what the code says and what the publisher decided.
#[pyclass(frozen, module = "mlreef_core")]
pub(crate) struct Module(pub(crate) CoreModule);

#[pymethods]
impl Module {
    /// Discovers the module a repository makes (entry point, parameters, requirements, name,
    /// branch, the script's sha256), without running anything.
    #[staticmethod]
    ///
    /// `progress(stage, done, total, detail)` is called at each step (from the thread doing
    /// the work); if it raises, discovery stops and the exception propagates.
    #[pyo3(signature = (path, entry_point=None, requirements=None, env=None, progress=None, verbose=false))]
    fn discover(
        py: Python<'_>,
        path: PathBuf,
        entry_point: Option<PathBuf>,
        requirements: Option<PathBuf>,
        env: Option<HashMap<String, String>>,
        progress: Option<Py<PyAny>>,
        verbose: bool,
    ) -> PyResult<Module> {
        let options = DiscoverOptions {
            entry_point,
            requirements,
            env,
            verbose,
        };
        let callback = progress.map(progress::Callback::new);
        let reporter = callback.as_ref();
        let result = detached(py, move || match reporter {
            Some(reporter) => CoreModule::discover_with(&path, &options, reporter),
            None => CoreModule::discover(&path, &options),
        });
        if let Some(raised) = callback.as_ref().and_then(progress::Callback::take_raised) {
            return Err(raised);
        }
        result
            .map(|d| Module(d.module))
            .map_err(|e| errors::from_module(&e))
    }

    /// Reads the module description of an `mlreef.yml` text.
    #[staticmethod]
    fn from_yaml(text: &str) -> PyResult<Module> {
        let file = pipeline::read(text, None).map_err(|e| errors::from_pipeline(&e))?;
        file.module.map(Module).ok_or_else(|| {
            errors::ModuleError::new_err(format!(
                "mlreef.yml has no `{}` key",
                pipeline::MODULE_KEY
            ))
        })
    }

    /// The module as `mlreef.yml` (description, publish job, run template). With `existing`
    /// (the text of the current mlreef.yml), every other key and job of it is kept in place.
    #[pyo3(signature = (existing=None, mlreef_image=None))]
    fn to_yaml(&self, existing: Option<&str>, mlreef_image: Option<String>) -> PyResult<String> {
        let existing = existing
            .map(|text| pipeline::read(text, None))
            .transpose()
            .map_err(|e| errors::from_pipeline(&e))?;
        let mut options = pipeline::PipelineOptions::default();
        if let Some(image) = mlreef_image {
            options.mlreef_image = image;
        }
        Ok(pipeline::render(&self.0, existing.as_ref(), &options))
    }

    /// Checks the conventions of a published module.
    fn validate(&self) -> Vec<Diagnostic> {
        self.0.validate().into_iter().map(Diagnostic).collect()
    }

    /// Merges a fresh discovery into this (recorded) description: the code's facts from
    /// `discovered`, the publisher's choices from `self`. Returns the result and what changed.
    fn merge(&self, discovered: &Module) -> (Module, Vec<String>) {
        let (merged, changes) = mlreef_core::module::merge(&self.0, &discovered.0);
        (
            Module(merged),
            changes.into_iter().map(|c| c.to_string()).collect(),
        )
    }

    /// The argv that runs the module with `values` (a dict keyed by parameter name).
    fn command_line(&self, values: &Bound<'_, PyDict>) -> PyResult<Vec<String>> {
        let serde_json::Value::Object(values) = from_python(values.as_any())? else {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "values must be a dict",
            ));
        };
        self.0
            .command_line(&values)
            .map_err(|e| errors::from_command_line(&e))
    }

    /// `command_line` as one shell-quoted string.
    fn shell_line(&self, values: &Bound<'_, PyDict>) -> PyResult<String> {
        Ok(pipeline::shell_line(&self.command_line(values)?))
    }

    /// A JSON Schema of the parameters, for generating a form.
    fn json_schema<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0.parameters_schema())
    }

    /// The JSON Schema of module descriptions.
    #[staticmethod]
    fn schema(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        to_python(py, &CoreModule::json_schema())
    }

    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }
    #[getter]
    fn slug(&self) -> &str {
        &self.0.slug
    }
    #[getter]
    fn kind<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0.kind)
    }
    #[getter]
    fn version(&self) -> &str {
        &self.0.version
    }
    #[getter]
    fn branch(&self) -> Option<&str> {
        self.0.branch.as_deref()
    }
    #[getter]
    fn entry_point(&self) -> &str {
        &self.0.entry_points.train
    }
    #[getter]
    fn parameters(&self) -> Vec<Parameter> {
        self.0.parameters.iter().cloned().map(Parameter).collect()
    }
    #[getter]
    fn requirements(&self) -> Vec<String> {
        self.0.requirements.clone()
    }
    #[getter]
    fn script_sha256(&self) -> &str {
        &self.0.script_sha256
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
    fn to_json(&self) -> String {
        pretty(&self.0)
    }
    fn __repr__(&self) -> String {
        format!(
            "<Module {} ({}) {} parameters, {} requirements>",
            self.0.name,
            self.0.entry_points.train,
            self.0.parameters.len(),
            self.0.requirements.len()
        )
    }
    fn _repr_html_(&self) -> String {
        format!(
            "<p><b>{}</b> ({}) &middot; entry point <code>{}</code> &middot; version {}</p>{}",
            escape(&self.0.name),
            self.0.kind,
            escape(&self.0.entry_points.train),
            escape(&self.0.version),
            parameter_rows(&self.0.parameters)
        )
    }
}

/// What `init` found and did.
#[pyclass(frozen, module = "mlreef_core")]
struct InitOutcome(pipeline::InitOutcome);

#[pymethods]
impl InitOutcome {
    /// `created`, `updated`, `unchanged` or `out_of_date` (`check=True` only).
    #[getter]
    fn status(&self) -> String {
        self.0.status.to_string()
    }
    /// The `mlreef.yml` written or compared.
    #[getter]
    fn path(&self) -> String {
        self.0.path.display().to_string()
    }
    /// The description the file holds: the recorded one merged with the discovery.
    #[getter]
    fn module(&self) -> Module {
        Module(self.0.module.clone())
    }
    /// What the merge changed, for people.
    #[getter]
    fn changes(&self) -> Vec<String> {
        self.0.changes.iter().map(ToString::to_string).collect()
    }
    #[getter]
    fn diagnostics(&self) -> Vec<Diagnostic> {
        self.0.diagnostics.iter().cloned().map(Diagnostic).collect()
    }
    /// The file as rendered: what was written, or what the existing file was compared with.
    #[getter]
    fn text(&self) -> &str {
        &self.0.text
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
    fn to_json(&self) -> String {
        self.0.to_json()
    }
    fn __repr__(&self) -> String {
        format!(
            "<InitOutcome {} {} ({} changes)>",
            self.0.status,
            self.0.path.display(),
            self.0.changes.len()
        )
    }
}

/// Writes or updates the repository's `mlreef.yml` (what `mlreef init` does): discovers the
/// module, keeps what a person set in the existing file, and writes atomically only when the
/// file changes. With `check=True` nothing is written. `progress` as for `Module.discover`.
#[pyfunction]
#[pyo3(name = "init")]
#[pyo3(signature = (path, entry_point=None, requirements=None, env=None, mlreef_image=None, check=false, progress=None, verbose=false))]
#[allow(clippy::too_many_arguments)] // keyword arguments, as Python callers spell them
fn init_repository(
    py: Python<'_>,
    path: PathBuf,
    entry_point: Option<PathBuf>,
    requirements: Option<PathBuf>,
    env: Option<HashMap<String, String>>,
    mlreef_image: Option<String>,
    check: bool,
    progress: Option<Py<PyAny>>,
    verbose: bool,
) -> PyResult<InitOutcome> {
    let mut options = pipeline::InitOptions {
        discover: DiscoverOptions {
            entry_point,
            requirements,
            env,
            verbose,
        },
        check,
        ..pipeline::InitOptions::default()
    };
    if let Some(image) = mlreef_image {
        options.pipeline.mlreef_image = image;
    }
    let callback = progress.map(progress::Callback::new);
    let reporter = callback.as_ref();
    let result = detached(py, move || match reporter {
        Some(reporter) => pipeline::init_with(&path, &options, reporter),
        None => pipeline::init(&path, &options),
    });
    if let Some(raised) = callback.as_ref().and_then(progress::Callback::take_raised) {
        return Err(raised);
    }
    result.map(InitOutcome).map_err(|e| errors::from_init(&e))
}

/// Runs the `mlreef` command with `argv` (the program's name first) and returns its exit
/// status, without the GIL: what the package's `mlreef` console script does, so that
/// `pip install mlreef-core` gives the command too. It prints to the process's stdout and
/// stderr.
#[pyfunction]
fn _run_cli(py: Python<'_>, argv: Vec<std::ffi::OsString>) -> u8 {
    detached(py, move || mlreef_cli::run(argv).code())
}

#[pymodule]
fn _mlreef_core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    m.add_function(wrap_pyfunction!(extract_parameters, m)?)?;
    m.add_function(wrap_pyfunction!(parse_requirements, m)?)?;
    m.add_function(wrap_pyfunction!(init_repository, m)?)?;
    m.add_function(wrap_pyfunction!(image::build, m)?)?;
    m.add_function(wrap_pyfunction!(image::publish, m)?)?;
    m.add_function(wrap_pyfunction!(image::push, m)?)?;
    m.add_function(wrap_pyfunction!(image::pull, m)?)?;
    m.add_function(wrap_pyfunction!(image::inspect_image, m)?)?;
    m.add_function(wrap_pyfunction!(image::list_modules, m)?)?;
    m.add_function(wrap_pyfunction!(_run_cli, m)?)?;
    m.add_class::<Diagnostic>()?;
    m.add_class::<Parameter>()?;
    m.add_class::<Extraction>()?;
    m.add_class::<Requirement>()?;
    m.add_class::<RequirementsFile>()?;
    m.add_class::<Module>()?;
    m.add_class::<InitOutcome>()?;
    m.add_class::<image::BuildResult>()?;
    Ok(())
}
