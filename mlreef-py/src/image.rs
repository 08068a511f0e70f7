//! Images from Python: `build`, `publish`, `push` and `pull`, what they return, and the
//! registry read as a catalogue (`inspect_image`, `list_modules`).

use std::fmt::Write as _;
use std::path::PathBuf;

use mlreef_core::module::DiscoverOptions;
use mlreef_core::oci::{self, Credentials, ImageRef};
use mlreef_core::platform::Platform;
use mlreef_core::progress::{Progress, Silent};
use mlreef_core::publish::{self as flow, BuildOptions, PublishOptions, ReadOptions};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;

use crate::{Diagnostic, Module, detached, errors, escape, progress, to_python};

/// What `build` made: where, the digest, each platform's layers, what was left out.
#[pyclass(frozen, module = "mlreef_core")]
pub struct BuildResult(flow::BuildResult);

#[pymethods]
impl BuildResult {
    /// Where the image was written (`oci:DIR:TAG`, `docker-archive:FILE:NAME`).
    #[getter]
    fn reference(&self) -> &str {
        &self.0.reference
    }
    /// The digest of the manifest, or of the index for several platforms.
    #[getter]
    fn digest(&self) -> &str {
        &self.0.digest
    }
    /// Each platform's image: `platform`, `digest`, `python` and its `layers`.
    #[getter]
    fn platforms<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0.platforms)
    }
    /// The digest of the requirements lock installed, if any.
    #[getter]
    fn lock(&self) -> Option<&str> {
        self.0.lock.as_deref()
    }
    /// What a push did: `{"uploaded", "skipped", "mounted", "bytes"}`, or `None` for a local
    /// output.
    #[getter]
    fn pushed<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0.pushed)
    }
    /// What the code layer left out: `{"path", "reason"}` each.
    #[getter]
    fn excluded<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0.excluded)
    }
    #[getter]
    fn module(&self) -> Module {
        Module(self.0.module.clone())
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
    fn __repr__(&self) -> String {
        format!(
            "<BuildResult {} {} ({} platforms)>",
            self.0.reference,
            self.0.digest,
            self.0.platforms.len()
        )
    }
    fn _repr_html_(&self) -> String {
        let mut html = format!(
            "<p><b>{}</b> <code>{}</code></p><table><tr><th>platform</th><th>layer</th>\
             <th>digest</th><th>size</th><th></th></tr>",
            escape(&self.0.reference),
            escape(&self.0.digest)
        );
        for platform in &self.0.platforms {
            for layer in &platform.layers {
                let _ = write!(
                    html,
                    "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                    escape(&platform.platform.to_string()),
                    layer.role,
                    escape(layer.digest.get(..19).unwrap_or(&layer.digest)),
                    layer.size,
                    if layer.cached { "cached" } else { "" }
                );
            }
        }
        html.push_str("</table>");
        html
    }
}

fn image_ref(text: &str) -> PyResult<ImageRef> {
    text.parse()
        .map_err(|e: oci::Error| PyValueError::new_err(e.to_string()))
}

/// The build options of the keyword arguments `build` and `publish` share.
#[allow(clippy::too_many_arguments)] // keyword arguments, as Python callers spell them
fn build_options(
    base: Option<&str>,
    output: Option<ImageRef>,
    platforms: Option<Vec<String>>,
    lock: Option<PathBuf>,
    python: Option<String>,
    compression: &str,
    include: Option<Vec<String>>,
    entry_point: Option<PathBuf>,
    requirements: Option<PathBuf>,
    cache: Option<PathBuf>,
    insecure: Option<Vec<String>>,
    source_date_epoch: Option<u64>,
) -> PyResult<BuildOptions> {
    let value_error = |e: String| PyValueError::new_err(e);
    let mut options = BuildOptions {
        discover: DiscoverOptions {
            entry_point,
            requirements,
            ..DiscoverOptions::default()
        },
        base: base.map(image_ref).transpose()?,
        output,
        platforms: platforms
            .unwrap_or_default()
            .iter()
            .map(|p| {
                p.parse::<Platform>()
                    .map_err(|e| value_error(e.to_string()))
            })
            .collect::<PyResult<_>>()?,
        compression: compression.parse().map_err(value_error)?,
        include: include.unwrap_or_default(),
        cache,
        source_date_epoch,
        ..BuildOptions::default()
    };
    options.registry.insecure = insecure.unwrap_or_default();
    options.deps.python = python;
    if let Some(lock) = lock {
        options.deps.lock = Some(std::fs::read_to_string(&lock).map_err(|e| {
            PyOSError::new_err((
                e.raw_os_error().unwrap_or(0),
                e.to_string(),
                lock.display().to_string(),
            ))
        })?);
    }
    Ok(options)
}

/// Runs `flow` without the GIL, with the progress callback; an exception the callback raised
/// is the one the caller gets.
fn run(
    py: Python<'_>,
    progress: Option<Py<PyAny>>,
    flow: impl FnOnce(&dyn Progress) -> Result<flow::BuildResult, mlreef_core::Error> + Send,
) -> PyResult<BuildResult> {
    with_progress(py, progress, flow).map(BuildResult)
}

/// Builds the module's image without a daemon (what `mlreef build` does): the base's layers, a
/// layer of the requirements installed for each platform, a layer of the code at `/workdir`,
/// and the entry point and labels. `base` and `output` are references (`oci:DIR[:TAG]`,
/// `docker-archive:FILE[:NAME]`, `docker://HOST/REPO:TAG`, `rootfs:DIR`, `scratch`); without
/// `output`, the OCI layout `.mlreef/images` in the repository. `progress` as for
/// `Module.discover`: if it raises, the build stops, nothing is written, and the exception
/// propagates.
#[pyfunction]
#[pyo3(signature = (
    path,
    base=None,
    output=None,
    platforms=None,
    lock=None,
    python=None,
    compression="gzip",
    include=None,
    entry_point=None,
    requirements=None,
    cache=None,
    insecure=None,
    source_date_epoch=None,
    progress=None,
))]
#[allow(clippy::too_many_arguments)] // keyword arguments, as Python callers spell them
pub fn build(
    py: Python<'_>,
    path: PathBuf,
    base: Option<&str>,
    output: Option<&str>,
    platforms: Option<Vec<String>>,
    lock: Option<PathBuf>,
    python: Option<String>,
    compression: &str,
    include: Option<Vec<String>>,
    entry_point: Option<PathBuf>,
    requirements: Option<PathBuf>,
    cache: Option<PathBuf>,
    insecure: Option<Vec<String>>,
    source_date_epoch: Option<u64>,
    progress: Option<Py<PyAny>>,
) -> PyResult<BuildResult> {
    let options = build_options(
        base,
        output.map(image_ref).transpose()?,
        platforms,
        lock,
        python,
        compression,
        include,
        entry_point,
        requirements,
        cache,
        insecure,
        source_date_epoch,
    )?;
    run(py, progress, move |reporter| {
        flow::build_with(&path, &options, reporter)
    })
}

/// Publishes the module (what `mlreef publish` does): builds its image as `build` does and
/// pushes it to `push` (`HOST/REPO:TAG`), or writes it to `output` (by default the OCI layout
/// `.mlreef/images` in the repository). A tag that names another image is refused
/// (`ImageError`) unless `force`; the same image again sends nothing.
/// `username` and `password` log in to the registry pushed to (else the environment and
/// docker's config are used). A raising `progress` stops the push before the tag is written.
#[pyfunction]
#[pyo3(signature = (
    path,
    push=None,
    output=None,
    force=false,
    username=None,
    password=None,
    base=None,
    platforms=None,
    lock=None,
    python=None,
    compression="gzip",
    include=None,
    entry_point=None,
    requirements=None,
    cache=None,
    insecure=None,
    source_date_epoch=None,
    progress=None,
))]
#[allow(clippy::too_many_arguments)] // keyword arguments, as Python callers spell them
pub fn publish(
    py: Python<'_>,
    path: PathBuf,
    push: Option<&str>,
    output: Option<&str>,
    force: bool,
    username: Option<String>,
    password: Option<String>,
    base: Option<&str>,
    platforms: Option<Vec<String>>,
    lock: Option<PathBuf>,
    python: Option<String>,
    compression: &str,
    include: Option<Vec<String>>,
    entry_point: Option<PathBuf>,
    requirements: Option<PathBuf>,
    cache: Option<PathBuf>,
    insecure: Option<Vec<String>>,
    source_date_epoch: Option<u64>,
    progress: Option<Py<PyAny>>,
) -> PyResult<BuildResult> {
    let destination = match (push, output) {
        (Some(_), Some(_)) => {
            return Err(PyValueError::new_err("give `push` or `output`, not both"));
        }
        (Some(push), None) => Some(ImageRef::Registry(registry_ref(push)?)),
        (None, output) => output.map(image_ref).transpose()?,
    };
    let mut options = build_options(
        base,
        destination,
        platforms,
        lock,
        python,
        compression,
        include,
        entry_point,
        requirements,
        cache,
        insecure,
        source_date_epoch,
    )?;
    match (username, password, &options.output) {
        (Some(username), Some(password), Some(ImageRef::Registry(target))) => {
            options
                .registry
                .credentials
                .push((target.registry.clone(), Credentials { username, password }));
        }
        (None, None, _) => {}
        _ => {
            return Err(PyValueError::new_err(
                "`username` and `password` go together, with `push`",
            ));
        }
    }
    let options = PublishOptions {
        build: options,
        force,
    };
    run(py, progress, move |reporter| {
        flow::publish_with(&path, &options, reporter)
    })
}

/// `[docker://]HOST/REPO:TAG` as a registry reference.
fn registry_ref(text: &str) -> PyResult<oci::RegistryRef> {
    match image_ref(text)? {
        ImageRef::Registry(r) => Ok(r),
        other => Err(PyValueError::new_err(format!(
            "`{other}` is not a registry reference"
        ))),
    }
}

/// Pushes the image of an OCI layout (`oci:DIR[:TAG]`, as `build` writes it) to `target`
/// (`HOST/REPO:TAG`) byte for byte, keeping its digests (what `mlreef push` does). Returns
/// `{"reference", "digest", "pushed": {"uploaded", "skipped", "mounted", "bytes"}}`. A tag
/// that names another image is refused (`TagExistsError`) unless `force`; a raising
/// `progress` stops the push before the tag is written.
#[pyfunction]
#[pyo3(signature = (source, target, force=false, username=None, password=None, insecure=None, progress=None))]
#[allow(clippy::too_many_arguments)] // keyword arguments, as Python callers spell them
pub fn push<'py>(
    py: Python<'py>,
    source: &str,
    target: &str,
    force: bool,
    username: Option<String>,
    password: Option<String>,
    insecure: Option<Vec<String>>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let source = image_ref(source)?;
    let target = registry_ref(target)?;
    let options = registry_options(&target.registry, insecure, username, password)?;
    let result = with_progress(py, progress, move |reporter| {
        flow::push(&source, &target, &options, force, reporter)
    })?;
    to_python(py, &result)
}

/// How to reach `registry`: the hosts reached over plain HTTP, and credentials for it.
fn registry_options(
    registry: &str,
    insecure: Option<Vec<String>>,
    username: Option<String>,
    password: Option<String>,
) -> PyResult<oci::RegistryOptions> {
    let mut options = oci::RegistryOptions {
        insecure: insecure.unwrap_or_default(),
        ..oci::RegistryOptions::default()
    };
    match (username, password) {
        (Some(username), Some(password)) => options
            .credentials
            .push((registry.to_owned(), Credentials { username, password })),
        (None, None) => {}
        _ => {
            return Err(PyValueError::new_err(
                "`username` and `password` go together",
            ));
        }
    }
    Ok(options)
}

/// Runs `flow` without the GIL, reporting to `progress` (when given); an exception the
/// callback raised is the one the caller gets.
fn with_progress<T: Send>(
    py: Python<'_>,
    progress: Option<Py<PyAny>>,
    flow: impl FnOnce(&dyn Progress) -> Result<T, mlreef_core::Error> + Send,
) -> PyResult<T> {
    let callback = progress.map(progress::Callback::new);
    let reporter = callback.as_ref();
    let result = detached(py, move || match reporter {
        Some(reporter) => flow(reporter),
        None => flow(&Silent),
    });
    if let Some(raised) = callback.as_ref().and_then(progress::Callback::take_raised) {
        return Err(raised);
    }
    result.map_err(|e| errors::from_error(&e))
}

/// The read options of the keyword arguments `pull`, `inspect_image` and `list_modules`
/// share.
fn read_options(
    registry: &str,
    platform: Option<&str>,
    username: Option<String>,
    password: Option<String>,
    insecure: Option<Vec<String>>,
    cache: Option<PathBuf>,
) -> PyResult<ReadOptions> {
    Ok(ReadOptions {
        registry: registry_options(registry, insecure, username, password)?,
        platform: platform
            .map(|p| {
                p.parse::<Platform>()
                    .map_err(|e| PyValueError::new_err(e.to_string()))
            })
            .transpose()?,
        cache,
    })
}

/// Copies the image `source` (`HOST/REPO:TAG` or `HOST/REPO@DIGEST`) from its registry into
/// the OCI layout `output` (`oci:DIR[:TAG]`) byte for byte, every blob checked against its
/// digest, as `mlreef pull` does; with `platform`, only that platform's image of a
/// multi-platform one. Returns `{"reference", "source", "digest", "media_type", "platforms",
/// "blobs", "fetched", "bytes"}`. A raising `progress` stops the pull before the layout names
/// the image.
#[pyfunction]
#[pyo3(signature = (source, output, platform=None, username=None, password=None, insecure=None, cache=None, progress=None))]
#[allow(clippy::too_many_arguments)] // keyword arguments, as Python callers spell them
pub fn pull<'py>(
    py: Python<'py>,
    source: &str,
    output: &str,
    platform: Option<&str>,
    username: Option<String>,
    password: Option<String>,
    insecure: Option<Vec<String>>,
    cache: Option<PathBuf>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let source = registry_ref(source)?;
    let output = image_ref(output)?;
    let options = read_options(
        &source.registry,
        platform,
        username,
        password,
        insecure,
        cache,
    )?;
    let result = with_progress(py, progress, move |reporter| {
        flow::pull(&source, &output, &options, reporter)
    })?;
    to_python(py, &result)
}

/// The module a published image describes, read from its labels without pulling a layer:
/// `reference` is `docker://HOST/REPO:TAG` (or `HOST/REPO:TAG`) or `oci:DIR[:TAG]`. An image
/// that is not a module's is an `ImageError`.
#[pyfunction]
#[pyo3(signature = (reference, platform=None, username=None, password=None, insecure=None, cache=None))]
pub fn inspect_image(
    py: Python<'_>,
    reference: &str,
    platform: Option<&str>,
    username: Option<String>,
    password: Option<String>,
    insecure: Option<Vec<String>>,
    cache: Option<PathBuf>,
) -> PyResult<Module> {
    let reference = image_ref(reference)?;
    let registry = match &reference {
        ImageRef::Registry(r) => r.registry.clone(),
        _ => String::new(),
    };
    let options = read_options(&registry, platform, username, password, insecure, cache)?;
    let found = with_progress(py, None, move |_| flow::inspect_image(&reference, &options))?;
    Ok(Module(found.module))
}

/// The published versions of a module: each tag of `repository` (`HOST/REPO`) with its
/// `digest` and `module` (`name`, `slug`, `kind`, `version`, `description`, `parameters`; `None`
/// for an image that is not a module's), as `mlreef list --json` prints them:
/// `{"repository", "tags": [...]}`.
#[pyfunction]
#[pyo3(signature = (repository, username=None, password=None, insecure=None, cache=None))]
pub fn list_modules<'py>(
    py: Python<'py>,
    repository: &str,
    username: Option<String>,
    password: Option<String>,
    insecure: Option<Vec<String>>,
    cache: Option<PathBuf>,
) -> PyResult<Bound<'py, PyAny>> {
    let repository = registry_ref(repository)?;
    let options = read_options(
        &repository.registry,
        None,
        username,
        password,
        insecure,
        cache,
    )?;
    let list = with_progress(py, None, move |_| flow::list_modules(&repository, &options))?;
    to_python(py, &list)
}
