//! The module description recorded in a YAML document: `mlreef.yml`'s hidden `.mlreef` key.
//!
//! Discovery reads it (for the recorded entry point and version) and `pipeline` reads it
//! before rendering the file again; it lives here, below both, so that neither reaches up.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};

use super::Module;
use crate::yaml;

/// The hidden key that holds the module description.
pub const MODULE_KEY: &str = ".mlreef";

/// A YAML document with a recorded module (`mlreef.yml`): the whole document, and the module
/// description in it, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub document: Map<String, Json>,
    pub module: Option<Module>,
}

/// An `mlreef.yml` that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordedError {
    /// Not YAML, or YAML that JSON cannot hold.
    #[error("{}:{line}:{column}: {message}", display(path.as_deref()))]
    Yaml {
        path: Option<PathBuf>,
        line: usize,
        column: usize,
        message: String,
    },
    /// YAML of the wrong shape: not a mapping, or a `.mlreef` key that is no module description.
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

impl RecordedError {
    /// The 1-based line and column of the problem (column 0 when only the line is known).
    #[must_use]
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            RecordedError::Yaml { line, column, .. } => Some((*line, *column)),
            RecordedError::Shape { line, .. } => Some((*line, 0)),
            RecordedError::Io { .. } => None,
        }
    }

    /// The file, when the text came from one.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        match self {
            RecordedError::Yaml { path, .. } | RecordedError::Shape { path, .. } => path.as_deref(),
            RecordedError::Io { path, .. } => Some(path),
        }
    }
}

fn display(path: Option<&Path>) -> String {
    path.map_or_else(|| "mlreef.yml".to_owned(), |p| p.display().to_string())
}

/// Reads `mlreef.yml` text; `path` names it in errors.
pub fn read_recorded(text: &str, path: Option<&Path>) -> Result<Recorded, RecordedError> {
    let path_buf = path.map(Path::to_owned);
    let (value, documents) = yaml::parse(text).map_err(|p| RecordedError::Yaml {
        path: path_buf.clone(),
        line: p.line,
        column: p.column,
        message: p.message,
    })?;
    let document = match value {
        Json::Object(map) => map,
        Json::Null => Map::new(),
        _ => {
            return Err(RecordedError::Shape {
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
                RecordedError::Shape {
                    path: path_buf.clone(),
                    line: yaml::key_line(&documents, MODULE_KEY).unwrap_or(1),
                    message: format!("`{MODULE_KEY}` is not a module description: {e}"),
                }
            })?,
        ),
    };
    Ok(Recorded { document, module })
}

/// Reads an `mlreef.yml` file.
pub fn read_recorded_file(path: &Path) -> Result<Recorded, RecordedError> {
    let text = crate::repo::read_text_bounded(path, crate::repo::MAX_TEXT_FILE_BYTES).map_err(
        |source| RecordedError::Io {
            path: path.to_owned(),
            source,
        },
    )?;
    read_recorded(&text, Some(path))
}
