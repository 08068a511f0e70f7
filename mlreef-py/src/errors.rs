//! The one place where core errors become Python exceptions.
//!
//! `MlreefError` is the base of every exception the package raises; each domain has its own
//! subclass, and positioned errors carry `path`, `line` and `column` attributes. A file that
//! cannot be read raises the built-in `FileNotFoundError` / `PermissionError` (`OSError`), as
//! any Python function reading a file would.

use std::path::Path;

use mlreef_core::{argparse, module, pipeline, requirements};
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

/// Registers the exception classes on the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("MlreefError", py.get_type::<MlreefError>())?;
    m.add("ParseError", py.get_type::<ParseError>())?;
    m.add("RequirementsError", py.get_type::<RequirementsError>())?;
    m.add("ModuleError", py.get_type::<ModuleError>())?;
    m.add("CommandLineError", py.get_type::<CommandLineError>())?;
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
        _ => 0,
    });
    let reason = std::io::Error::from(source.kind()).to_string();
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
