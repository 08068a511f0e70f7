//! The one place where core errors become Python exceptions.
//!
//! `MlreefError` is the base of every exception the package raises; each domain has its own
//! subclass, and positioned errors carry `path`, `line` and `column` attributes. A file that
//! cannot be read raises the built-in `FileNotFoundError` / `PermissionError` (`OSError`), as
//! any Python function reading a file would.

use std::path::Path;

use mlreef_core::{Error, argparse, deps, module, oci, pipeline, requirements};
use pyo3::exceptions::{PyException, PyFileNotFoundError, PyOSError, PyPermissionError};
use pyo3::prelude::*;

pyo3::create_exception!(
    mlreef_core,
    MlreefError,
    PyException,
    "Base class of mlreef_core's errors."
);
pyo3::create_exception!(
    mlreef_core,
    ParseError,
    MlreefError,
    "A file that cannot be read as what it should be (Python source, YAML); has `path`, `line`, `column`."
);
pyo3::create_exception!(
    mlreef_core,
    RequirementsError,
    ParseError,
    "A requirements or environment file that cannot be read."
);
pyo3::create_exception!(
    mlreef_core,
    ModuleError,
    MlreefError,
    "A repository that does not make a module, or an invalid mlreef.yml."
);
pyo3::create_exception!(
    mlreef_core,
    CommandLineError,
    MlreefError,
    "Parameter values argparse would not accept."
);

pyo3::create_exception!(
    mlreef_core,
    ImageError,
    MlreefError,
    "A base, layer or image that cannot be read, built or written; has `path` when a file is the cause."
);
pyo3::create_exception!(
    mlreef_core,
    RegistryError,
    ImageError,
    "A registry that refused or failed a request; has `registry`, `status` (HTTP) and `code` (the distribution spec's error code)."
);
pyo3::create_exception!(
    mlreef_core,
    TagExistsError,
    ImageError,
    "A tag that names another image already: a published version does not change (push under a new version, or force it); has `reference`, `existing` and `new` digests."
);
pyo3::create_exception!(
    mlreef_core,
    DependencyError,
    MlreefError,
    "Requirements that cannot be resolved or installed for the image; has `requirement` when one has no wheel for the platform."
);

/// Registers the exception classes on the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("MlreefError", py.get_type::<MlreefError>())?;
    m.add("ParseError", py.get_type::<ParseError>())?;
    m.add("RequirementsError", py.get_type::<RequirementsError>())?;
    m.add("ModuleError", py.get_type::<ModuleError>())?;
    m.add("CommandLineError", py.get_type::<CommandLineError>())?;
    m.add("ImageError", py.get_type::<ImageError>())?;
    m.add("RegistryError", py.get_type::<RegistryError>())?;
    m.add("TagExistsError", py.get_type::<TagExistsError>())?;
    m.add("DependencyError", py.get_type::<DependencyError>())?;
    Ok(())
}

/// An exception of class `E` with `path`, `line` and `column` set.
fn positioned<E: pyo3::PyTypeInfo>(
    message: String,
    path: Option<&Path>,
    line: Option<usize>,
    column: Option<usize>,
) -> PyErr {
    Python::attach(|py| {
        let error = PyErr::from_type(py.get_type::<E>(), message);
        let value = error.value(py);
        let path = path.map(|p| p.display().to_string());
        // Setting attributes on a fresh exception instance cannot fail.
        let _ = value.setattr("path", path);
        let _ = value.setattr("line", line);
        let _ = value.setattr("column", column);
        error
    })
}

/// An `OSError` subclass with `errno`, `strerror` and `filename` set, as `open()` raises.
fn io(path: &Path, source: &std::io::Error) -> PyErr {
    let errno = source.raw_os_error().unwrap_or(match source.kind() {
        std::io::ErrorKind::NotFound => 2,
        std::io::ErrorKind::PermissionDenied => 13,
        // EFBIG: a file over one of our bounds.
        std::io::ErrorKind::FileTooLarge => 27,
        _ => 0,
    });
    // An error of ours (a bound) says more than its kind does.
    let reason = match source.get_ref() {
        Some(inner) => inner.to_string(),
        None => std::io::Error::from(source.kind()).to_string(),
    };
    let args = (errno, reason, path.display().to_string());
    match source.kind() {
        std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(args),
        std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(args),
        _ => PyOSError::new_err(args),
    }
}

pub fn from_argparse(error: &argparse::Error) -> PyErr {
    match error {
        argparse::Error::Io { path, source } => io(path, source),
        argparse::Error::Syntax {
            path, line, column, ..
        }
        | argparse::Error::NotUtf8 {
            path, line, column, ..
        } => positioned::<ParseError>(
            error.to_string(),
            path.as_deref(),
            Some(*line),
            Some(*column),
        ),
        _ => positioned::<ParseError>(error.to_string(), None, None, None),
    }
}

pub fn from_requirements(error: &requirements::Error) -> PyErr {
    match error {
        requirements::Error::Io { path, source } => io(path, source),
        requirements::Error::Decode {
            path, line, column, ..
        }
        | requirements::Error::Yaml {
            path, line, column, ..
        } => positioned::<RequirementsError>(
            error.to_string(),
            Some(path),
            Some(*line),
            Some(*column),
        ),
        _ => positioned::<RequirementsError>(error.to_string(), None, None, None),
    }
}

pub fn from_pipeline(error: &pipeline::PipelineError) -> PyErr {
    match error {
        pipeline::PipelineError::Io { path, source } => io(path, source),
        pipeline::PipelineError::Yaml {
            path, line, column, ..
        } => positioned::<ParseError>(
            error.to_string(),
            path.as_deref(),
            Some(*line),
            Some(*column),
        ),
        pipeline::PipelineError::Shape { path, line, .. } => {
            positioned::<ModuleError>(error.to_string(), path.as_deref(), Some(*line), None)
        }
        _ => ModuleError::new_err(error.to_string()),
    }
}

pub fn from_module(error: &module::Error) -> PyErr {
    match error {
        module::Error::Io { path, source } => io(path, source),
        module::Error::Script(inner) => from_argparse(inner),
        module::Error::Requirements(inner) => from_requirements(inner),
        module::Error::Recorded(inner) => from_pipeline(inner),
        _ => ModuleError::new_err(error.to_string()),
    }
}

/// `init` errors: a broken existing file as `from_pipeline` raises it, a repository that makes
/// no module as `from_module`, a file that cannot be written as `OSError`.
pub fn from_init(error: &pipeline::InitError) -> PyErr {
    match error {
        pipeline::InitError::Existing(inner) => from_pipeline(inner),
        pipeline::InitError::Discover(inner) => from_module(inner),
        pipeline::InitError::Write { path, source } => io(path, source),
        _ => MlreefError::new_err(error.to_string()),
    }
}

pub fn from_command_line(error: &pipeline::CommandLineError) -> PyErr {
    CommandLineError::new_err(error.to_string())
}

/// An exception of class `E` with the attributes `attributes` set.
fn with_attributes<E: pyo3::PyTypeInfo>(
    message: String,
    attributes: &[(&str, Option<String>)],
) -> PyErr {
    Python::attach(|py| {
        let error = PyErr::from_type(py.get_type::<E>(), message);
        let value = error.value(py);
        for (name, attribute) in attributes {
            // Setting attributes on a fresh exception instance cannot fail.
            let _ = value.setattr(*name, attribute.clone());
        }
        error
    })
}

pub fn from_image(error: &oci::Error) -> PyErr {
    match error {
        oci::Error::Io { path, source } => io(path, source),
        oci::Error::Registry {
            registry,
            status,
            code,
            ..
        } => Python::attach(|py| {
            let raised = PyErr::from_type(py.get_type::<RegistryError>(), error.to_string());
            let value = raised.value(py);
            let _ = value.setattr("registry", registry);
            let _ = value.setattr("status", *status);
            let _ = value.setattr("code", code.clone());
            raised
        }),
        oci::Error::TagExists {
            reference,
            existing,
            new,
        } => with_attributes::<TagExistsError>(
            error.to_string(),
            &[
                ("reference", Some(reference.clone())),
                ("existing", Some(existing.clone())),
                ("new", Some(new.clone())),
            ],
        ),
        _ => with_attributes::<ImageError>(error.to_string(), &[("path", None)]),
    }
}

pub fn from_deps(error: &deps::Error) -> PyErr {
    // The installer's output is the cause: the message carries it.
    let message = mlreef_core::error_chain(error);
    match error {
        deps::Error::Io { path, source } => io(path, source),
        deps::Error::Store(inner) => from_image(inner),
        deps::Error::NoWheel { requirement, .. } => with_attributes::<DependencyError>(
            message,
            &[("requirement", Some(requirement.clone()))],
        ),
        _ => with_attributes::<DependencyError>(message, &[("requirement", None)]),
    }
}

/// Any core error, as the domain it comes from raises it.
pub fn from_error(error: &Error) -> PyErr {
    match error {
        Error::Script(inner) => from_argparse(inner),
        Error::Requirements(inner) => from_requirements(inner),
        Error::Module(inner) => from_module(inner),
        Error::Pipeline(inner) => from_pipeline(inner),
        Error::CommandLine(inner) => from_command_line(inner),
        Error::Init(inner) => from_init(inner),
        Error::Deps(inner) => from_deps(inner),
        Error::Image(inner) => from_image(inner),
        _ => MlreefError::new_err(error.to_string()),
    }
}
