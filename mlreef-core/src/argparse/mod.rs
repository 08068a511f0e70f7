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
    /// Also report findings that influence no parameter, such as an environment variable read
    /// by a logging helper (by default only what affects a parameter or the parser is kept).
    pub verbose: bool,
    /// How the repository modules the script imports are evaluated.
    pub imports: Imports,
}

/// How imported repository modules are evaluated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Imports {
    /// Only the statements the parsers need, when they need them (the default): a script
    /// that imports a large package for its models reads a few of its modules.
    #[default]
    OnDemand,
    /// Every imported module whole, at import, as Python does. The parameters are the same;
    /// it is slower, and finds problems in code the parsers never use.
    Eager,
}

/// An input that cannot be read as Python at all.
pub use crate::source::Error;

/// Extracts the parameters of the script `source`.
pub fn extract(source: &str, options: &Options) -> Result<Extraction, Error> {
    interp::run(source, options)
}

/// Reads and extracts the script at `path`. Its repository is `options.repo`, else the
/// script's git root, else its folder.
pub fn extract_file(path: &Path, options: &Options) -> Result<Extraction, Error> {
    let source = crate::source::read(path)?;
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
