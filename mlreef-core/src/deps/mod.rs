//! The dependency layer: a module's requirements, as wheels for the image's Python and platform.
//!
//! Three steps, each a function, so that the build flow can cache between them:
//!
//! 1. **Which Python.** [`python_version`] reads it from the base image: the config's
//!    `PYTHON_VERSION` (what the official images set), else the `python3` and `pythonX.Y`
//!    programs on the image's `PATH`, found by streaming the base's layers from the
//!    [`BlobStore`]. [`Options::python`] overrides it; [`target`] does both.
//! 2. **Lock.** [`resolve`] turns a requirements text (what
//!    [`RequirementsFile::render_for`](crate::RequirementsFile::render_for) gives) into a
//!    [`Lock`]: every distribution pinned with its hashes, for that one target, by
//!    `uv pip compile --generate-hashes --only-binary :all:`. The lock of an unchanged text for
//!    the same target is kept in the store's records, so a second build resolves nothing and
//!    needs no network; a lock given back ([`Options::lock`], the CLI's `--lock FILE`) is used
//!    as it is, so a rebuild months later installs the same bytes.
//! 3. **Install.** [`install`] installs a lock into a fresh folder with
//!    `uv pip install --target --no-deps --require-hashes --only-binary :all:` (or pip's
//!    equivalent when uv is missing), then normalizes the folder so that the same lock gives
//!    the same bytes on any machine: no bytecode, console scripts that start the image's
//!    Python, `RECORD` rewritten to match, fixed modes. [`install_key`] says, before installing,
//!    which key the result has, so the build flow can keep (key → layer) and skip the install.
//!
//! Nothing here writes a layer: the build flow makes the installed folder into the layer at
//! `/opt/mlreef/site-packages` and writes [`Installed::lock`] to `/opt/mlreef/requirements.lock`.
//!
//! Installers run as child processes with a time limit ([`Options::timeout`]); what they print
//! is kept (bounded) and shown with credentials masked: the user part of URLs
//! (`https://user:token@host`) and the values of the `${VAR}` references in the requirements.
//! A requirement that has no wheel for the target is [`Error::NoWheel`], naming it and the
//! platform.
//!
//! ```
//! use mlreef_core::deps::{self, Options};
//! use mlreef_core::oci::{BlobStore, Image};
//! use mlreef_core::platform::Platform;
//!
//! let cache = tempfile::tempdir()?;
//! let store = BlobStore::open(cache.path())?;
//! let base = Image::scratch(&Platform::linux_amd64())
//!     .with_config(|c| {
//!         c.set_env(Some(vec!["PYTHON_VERSION=3.11.7".into()]));
//!     });
//! assert_eq!(deps::python_version(&base, &store)?.as_deref(), Some("3.11"));
//!
//! let target = deps::target(&base, &store, &Options::default())?;
//! assert_eq!((target.python(), target.platform()), ("3.11", "linux/amd64"));
//! // No requirements: nothing to resolve, nothing to install, no installer needed.
//! let lock = deps::resolve("# nothing yet\n", &target, &Options::default(), &store)?;
//! assert!(lock.is_empty());
//! assert!(deps::install(&lock, &target, &Options::default())?.is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With requirements, the same calls resolve and install (this needs uv or pip, and an index):
//!
//! ```no_run
//! # use mlreef_core::deps::{self, Options};
//! # use mlreef_core::oci::BlobStore;
//! # let store = BlobStore::open_default()?;
//! let target = mlreef_core::Target::new("3.11", "linux/arm64")?;
//! let options = Options::default();
//! let lock = deps::resolve("numpy>=2\n", &target, &options, &store)?;
//! let installed = deps::install(&lock, &target, &options)?.expect("numpy");
//! assert!(installed.dir.path().join("numpy").is_dir());
//! println!("{} ({} bytes of lock) as {}", installed.key, installed.lock.len(), installed.installer);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod detect;
mod failure;
mod install;
mod lock;
mod normalize;
mod redact;
mod tool;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::oci::{self, BlobStore, Image};
use crate::requirements::{Target, TargetError};

pub use detect::{config_python, python_version};
pub use install::{Installed, install, install_key};
pub use lock::{Lock, LockOrigin, resolve};
pub use redact::mask;
pub use tool::{Tool, ToolKind};

/// Where the installed folder goes in the image; console scripts are in `bin/` below it.
pub const SITE_PACKAGES: &str = "opt/mlreef/site-packages";

/// The interpreter console scripts start (`#!/usr/bin/env python3`).
///
/// The image's `Entrypoint` is `["python3", ...]`, found on `PATH`; a console script that asks
/// `env` for `python3` runs on the same interpreter as the entry point, whose version is the one
/// the wheels were chosen for. A fixed `/usr/bin/python3` would be wrong on the official
/// `python:*` images, whose Python is in `/usr/local/bin` while `/usr/bin/python3`, when present,
/// is Debian's own, often of another version.
pub const DEFAULT_INTERPRETER: &str = "/usr/bin/env python3";

/// The default time an installer may take for one command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_mins(20);

/// Which installer to run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Installer {
    /// `$MLREEF_UV`, else `uv` on `PATH`, else `python -m uv` of the Python environment
    /// (`$VIRTUAL_ENV`, else `python3` on `PATH`), else that Python's pip.
    #[default]
    Auto,
    /// This `uv` program.
    Uv(PathBuf),
    /// pip: a Python interpreter to run `-m pip` with, or a program whose name starts with
    /// `pip`.
    Pip(PathBuf),
}

/// How to resolve and install.
#[derive(Clone)]
pub struct Options {
    /// The Python version (`3.11`), instead of the one found in the base image.
    pub python: Option<String>,
    /// A lock given back (`--lock FILE`): used as it is, nothing is resolved.
    pub lock: Option<String>,
    /// Resolve again even when the store has a lock for the same text and target; the new
    /// lock replaces the kept one.
    pub refresh: bool,
    pub installer: Installer,
    /// How long one installer command may take.
    pub timeout: Duration,
    /// Variables for the installer's environment, above the process's own: the values of
    /// `${VAR}` references in requirements (index credentials). Never printed: [`Options`]'s
    /// `Debug` and every error show them masked.
    pub env: BTreeMap<String, String>,
    /// What the console scripts' `#!` line starts ([`DEFAULT_INTERPRETER`]).
    pub interpreter: String,
    /// Where the installed folder is made; the system's temporary folder when `None`. The
    /// build flow puts it beside its blob store, so that nothing crosses file systems.
    pub work_dir: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            python: None,
            lock: None,
            refresh: false,
            installer: Installer::Auto,
            timeout: DEFAULT_TIMEOUT,
            env: BTreeMap::new(),
            interpreter: DEFAULT_INTERPRETER.to_owned(),
            work_dir: None,
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env: BTreeMap<&str, &str> = self.env.keys().map(|k| (k.as_str(), "****")).collect();
        f.debug_struct("Options")
            .field("python", &self.python)
            .field(
                "lock",
                &self.lock.as_ref().map(|l| format!("{} bytes", l.len())),
            )
            .field("refresh", &self.refresh)
            .field("installer", &self.installer)
            .field("timeout", &self.timeout)
            .field("env", &env)
            .field("interpreter", &self.interpreter)
            .field("work_dir", &self.work_dir)
            .finish()
    }
}

/// What an installer printed (masked, and cut to its last part when long): the cause of an
/// installer's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallerOutput(pub String);

impl fmt::Display for InstallerOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.trim_end())
    }
}

impl std::error::Error for InstallerOutput {}

/// What can go wrong finding the base's Python, resolving or installing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot read or write `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The blob store could not be read or written.
    #[error(transparent)]
    Store(#[from] oci::Error),
    /// A base layer whose entries would land outside the root file system.
    #[error("base layer {layer} has the entry `{path}`, which leaves the root file system")]
    UnsafeLayerPath { layer: String, path: String },
    /// A base layer that is not a tar stream we can read.
    #[error("base layer {layer} cannot be read: {reason}")]
    BadLayer {
        layer: String,
        reason: String,
        #[source]
        source: Option<std::io::Error>,
    },
    /// A base layer that is needed but not in the blob store.
    #[error("base layer {layer} is not in the blob store")]
    MissingLayer { layer: String },
    /// No Python was found in the base, and none was given.
    #[error("cannot tell which Python the base image has; give it (for example `--python 3.11`)")]
    NoPython,
    #[error(transparent)]
    Target(#[from] TargetError),
    /// A platform the installer cannot install for.
    #[error("{installer} cannot install wheels for `{platform}`")]
    UnsupportedPlatform { platform: String, installer: String },
    /// `#!{interpreter}` would not be a valid first line.
    #[error(
        "`{0}` cannot follow `#!` in a script: it must be one line, not empty, at most 120 bytes"
    )]
    Interpreter(String),
    /// Neither uv nor pip could be found.
    #[error("no installer found: {tried}; install uv (`pip install uv`) or set MLREEF_UV")]
    NoInstaller { tried: String },
    /// A program given or found as an installer that does not say it is one (`--version`).
    #[error("`{}` is not a working {expected}: `--version` did not name it", program.display())]
    NotAnInstaller {
        program: PathBuf,
        expected: &'static str,
        #[source]
        output: InstallerOutput,
    },
    /// An installer that could not be started.
    #[error("cannot run `{}`", program.display())]
    Launch {
        program: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A requirement that has no wheel for the target platform and Python.
    #[error("`{requirement}` has no wheel for {platform} and Python {python}")]
    NoWheel {
        requirement: String,
        platform: String,
        python: String,
        #[source]
        output: InstallerOutput,
    },
    /// An installer that failed.
    #[error("{installer} failed to {action} the requirements ({status})")]
    Failed {
        installer: String,
        action: &'static str,
        status: String,
        #[source]
        output: InstallerOutput,
    },
    /// An installer that took longer than [`Options::timeout`], and was stopped.
    #[error("{installer} did not {action} the requirements within {} s", after.as_secs())]
    Timeout {
        installer: String,
        action: &'static str,
        after: Duration,
        #[source]
        output: InstallerOutput,
    },
    /// Something larger than we read.
    #[error("{what} is larger than {limit} bytes")]
    TooLarge { what: String, limit: u64 },
}

impl Error {
    /// The file the error is about, when it names one.
    #[must_use]
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Error::Io { path, .. } | Error::Launch { program: path, .. } => Some(path),
            _ => None,
        }
    }
}

fn io_error(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}

/// The target to install for: the image's platform, and [`Options::python`] or else the
/// Python [`python_version`] finds in the image.
pub fn target(image: &Image, store: &BlobStore, options: &Options) -> Result<Target, Error> {
    let python = match &options.python {
        Some(python) => python.clone(),
        None => python_version(image, store)?.ok_or(Error::NoPython)?,
    };
    Ok(Target::new(&python, &image.platform.to_string())?)
}

/// `sha256:<hex>` of `parts`, each followed by a NUL so that no two lists give the same bytes.
fn digest_of(parts: &[&str]) -> String {
    let mut bytes = Vec::new();
    for part in parts {
        bytes.extend_from_slice(part.as_bytes());
        bytes.push(0);
    }
    oci::digest_bytes(&bytes).to_string()
}

/// The hex of a `sha256:<hex>` digest: a key usable as a record or file name.
fn hex_of(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}
