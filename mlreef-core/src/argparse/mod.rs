//! Static extraction of argparse parameters.
//!
//! A training script declares its parameters with `argparse`. To publish it we need those
//! parameters exactly as `CPython`'s argparse would hold them, without running the script (which
//! would need every dependency installed and would execute arbitrary code).
//!
//! [`extract`] reads the source with a small abstract interpreter: it follows imports (of
//! `argparse` under any name, and of helper modules inside the repository), function and method
//! calls that receive or return a parser, loops over constant collections, and evaluates
//! constant expressions. It models argparse's own rules (dest, implied defaults, required
//! positionals, `set_defaults`, parents, conflict resolution) so that the result agrees with
//! `parser._actions` at the moment the script calls `parse_args`.
//!
//! What it cannot resolve it reports as a [`Diagnostic`] with a stable code, and never guesses:
//! a default it cannot evaluate is `null` with its source text in `default_expr`.
//!
//! ```
//! use mlreef_core::argparse::{extract, Options};
//!
//! let source = r#"
//! import argparse
//! parser = argparse.ArgumentParser()
//! parser.add_argument("--epochs", type=int, default=10, help="passes over the data")
//! args = parser.parse_args()
//! "#;
//! let extraction = extract(source, &Options::default())?;
//! let epochs = &extraction.parameters[0];
//! assert_eq!(epochs.name.as_deref(), Some("epochs"));
//! assert_eq!(epochs.default, serde_json::json!(10));
//! # Ok::<(), mlreef_core::argparse::Error>(())
//! ```

mod interp;
mod model;
mod value;

use std::path::{Path, PathBuf};

pub use crate::parameter::{Diagnostic, Extraction, Parameter, ParameterType, Severity};

/// How to extract.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The repository whose modules may be read to follow helpers and constants. `None` means
    /// the script's own folder. Nothing outside it is read.
    pub repo: Option<PathBuf>,
    /// The script's path, used to resolve its imports and to name it in diagnostics, when the
    /// source is given as text.
    pub path: Option<PathBuf>,
}

/// An input that cannot be read as Python at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{}:{line}:{column}: {message}", display_path(path.as_deref()))]
    Syntax {
        path: Option<PathBuf>,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}:{line}:{column}: not UTF-8 text (invalid byte 0x{byte:02x}); Python source must be UTF-8", display_path(path.as_deref()))]
    NotUtf8 {
        path: Option<PathBuf>,
        line: usize,
        column: usize,
        byte: u8,
    },
    #[error("{}: looks like a binary file (contains NUL bytes), not a Python script", display_path(path.as_deref()))]
    Binary { path: Option<PathBuf> },
    #[error("cannot read `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The line and column of the problem, when it has one.
    #[must_use]
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            Error::Syntax { line, column, .. } | Error::NotUtf8 { line, column, .. } => {
                Some((*line, *column))
            }
            _ => None,
        }
    }
}

fn display_path(path: Option<&Path>) -> String {
    path.map_or_else(|| "<source>".to_owned(), |p| p.display().to_string())
}

/// Extracts the parameters of the script `source`.
pub fn extract(source: &str, options: &Options) -> Result<Extraction, Error> {
    interp::run(source, options)
}

/// Reads and extracts the script at `path`. Its repository is `options.repo`, else the
/// script's git root, else its folder.
pub fn extract_file(path: &Path, options: &Options) -> Result<Extraction, Error> {
    let source = read_source(path)?;
    let mut options = options.clone();
    options.path = Some(path.to_path_buf());
    if options.repo.is_none() {
        options.repo = Some(default_repo(path));
    }
    extract(&source, &options)
}

/// The repository a script belongs to: the closest folder above it with a `.git`, else the
/// script's own folder ([`crate::repo::root`]).
#[must_use]
pub fn default_repo(script: &Path) -> PathBuf {
    crate::repo::root(script)
}

/// Reads a Python source file: UTF-8 (a BOM is allowed), no NUL bytes.
pub fn read_source(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode_source(bytes, Some(path))
}

pub(crate) fn decode_source(bytes: Vec<u8>, path: Option<&Path>) -> Result<String, Error> {
    let path = path.map(Path::to_path_buf);
    if bytes.contains(&0) {
        return Err(Error::Binary { path });
    }
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..3);
            }
            Ok(text)
        }
        Err(e) => {
            let bytes = e.as_bytes();
            let at = e.utf8_error().valid_up_to();
            let good = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
            let line = good.matches('\n').count() + 1;
            let column = good.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            Err(Error::NotUtf8 {
                path,
                line,
                column,
                byte: bytes[at],
            })
        }
    }
}
