//! Python source files: reading and decoding them, parsing them, and the one error every
//! reader of Python source (argparse, the legacy decorators) reports.
//!
//! A script must be UTF-8 (a byte-order mark is allowed) without NUL bytes; anything else is
//! refused with the position of the first bad byte, so a binary file or a latin-1 script gives
//! a clear error instead of a confusing syntax error.

use std::path::{Path, PathBuf};

use crate::python::{ParsedModule, parse_module};

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
    #[error("{}: {size} bytes is more than a Python script may have ({MAX_SOURCE_BYTES} bytes)", display_path(path.as_deref()))]
    TooLarge { path: Option<PathBuf>, size: u64 },
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

/// The largest Python source read or extracted: far beyond any hand-written script, and small
/// enough that the stack its deepest syntax tree may need (256 bytes a byte, 4 GiB) can be
/// reserved ([`crate::python::with_stack_for`]).
pub const MAX_SOURCE_BYTES: usize = 16 << 20;

/// Refuses a source of `size` bytes over [`MAX_SOURCE_BYTES`].
pub(crate) fn check_size(size: u64, path: Option<&Path>) -> Result<(), Error> {
    if size > MAX_SOURCE_BYTES as u64 {
        return Err(Error::TooLarge {
            path: path.map(Path::to_path_buf),
            size,
        });
    }
    Ok(())
}

/// Reads a Python source file: UTF-8 (a BOM is allowed), no NUL bytes.
pub fn read(path: &Path) -> Result<String, Error> {
    // Not fs_err: `Error::Io` names the path itself.
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Ok(meta) = std::fs::metadata(path) {
        check_size(meta.len(), Some(path))?;
    }
    let bytes = crate::repo::read_regular(path, MAX_SOURCE_BYTES as u64).map_err(io)?;
    check_size(bytes.len() as u64, Some(path))?;
    decode(bytes, Some(path))
}

/// Decodes the bytes of a Python source file; `path` names it in errors.
pub fn decode(bytes: Vec<u8>, path: Option<&Path>) -> Result<String, Error> {
    check_size(bytes.len() as u64, path)?;
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

/// Parses source text; invalid syntax is [`Error::Syntax`] naming `path`.
pub fn parse(text: &str, path: Option<&Path>) -> Result<ParsedModule, Error> {
    parse_module(text).map_err(|e| Error::Syntax {
        path: path.map(Path::to_path_buf),
        line: e.line,
        column: e.column,
        message: e.message,
    })
}
