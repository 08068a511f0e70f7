//! `mlreef init` in one call: read the existing `mlreef.yml`, discover the module, merge what
//! a person set into the fresh discovery, render, compare, and write the file atomically.
//!
//! Every binding runs this one flow (the CLI only presents its outcome), so a file written
//! from Python, from C or from a terminal is the same file.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::{PipelineError, PipelineFile, PipelineOptions, read, render};
use crate::Diagnostic;
use crate::module::{self, Change, DiscoverOptions, Module, merge};
use crate::progress::{Event, Progress, Silent};

/// The file `init` writes, at the repository's root.
pub const FILE_NAME: &str = "mlreef.yml";

/// How to run `init`.
#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    /// How to find the module: entry point, requirements file, `${VAR}` values.
    pub discover: DiscoverOptions,
    /// How to render the file: the publish job's image and stage.
    pub pipeline: PipelineOptions,
    /// Write nothing; only say whether the file is up to date (for CI).
    pub check: bool,
}

/// What `init` found and did. Serialized as `created`, `updated`, `unchanged`, `out_of_date`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InitStatus {
    /// There was no `mlreef.yml`; it was written.
    Created,
    /// The file differed from what `init` renders; it was rewritten.
    Updated,
    /// The file is already what `init` renders; nothing was written.
    Unchanged,
    /// With [`InitOptions::check`]: the file is missing or differs; nothing was written.
    OutOfDate,
}

impl std::fmt::Display for InitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::parameter::write_json_name(self, f)
    }
}

/// The outcome of [`init`], in the JSON form the Python and C bindings return.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InitOutcome {
    pub status: InitStatus,
    /// The `mlreef.yml` written or compared (in JSON as text, lossily for a path that is not
    /// UTF-8, so the outcome always serializes).
    #[serde(serialize_with = "lossy")]
    pub path: PathBuf,
    /// The module description the file holds: what was recorded, merged with what was
    /// discovered.
    pub module: Module,
    /// What the merge changed in the recorded description, for people (empty for a new file,
    /// and when only the layout changed).
    pub changes: Vec<Change>,
    /// The discovery's diagnostics, then those of the module's conventions
    /// ([`Module::validate`]).
    pub diagnostics: Vec<Diagnostic>,
    /// The file as `init` renders it: what was written, or what the existing file was
    /// compared with.
    pub text: String,
    /// The requirements file as discovery read it (not part of the JSON), for a build that
    /// follows.
    #[serde(skip)]
    pub requirements: Option<crate::RequirementsFile>,
}

fn lossy<S: serde::Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.to_string_lossy())
}

impl InitOutcome {
    /// The JSON form (`status`, `path`, `module`, `changes`, `diagnostics`, `text`).
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Why `init` wrote nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// The existing `mlreef.yml` cannot be read; it is left as it is.
    #[error(transparent)]
    Existing(PipelineError),
    /// The repository does not make a module.
    #[error(transparent)]
    Discover(module::Error),
    /// The new file cannot be written; the old one (if any) is left as it was.
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The progress callback asked to stop; nothing was written.
    #[error("init was cancelled")]
    Cancelled,
}

impl From<module::Error> for InitError {
    fn from(error: module::Error) -> Self {
        match error {
            module::Error::Cancelled => InitError::Cancelled,
            other => InitError::Discover(other),
        }
    }
}

/// Writes or updates the `mlreef.yml` of the repository at `repo` (see [`init_with`]).
pub fn init(repo: &Path, options: &InitOptions) -> Result<InitOutcome, InitError> {
    init_with(repo, options, &Silent)
}

/// Writes or updates the `mlreef.yml` of the repository at `repo`: discovers the module,
/// merges it into the description the file records (the code's facts are new, what a person
/// decided is kept), and renders the file keeping every other key. An unchanged file is not
/// touched; a changed one is replaced atomically (a temporary file in the same folder, then a
/// rename), so a reader never sees half a file. An existing file that cannot be read is an
/// error and stays as it is. `progress` hears each step of discovery, then `write`, and may
/// cancel before anything is written.
pub fn init_with(
    repo: &Path,
    options: &InitOptions,
    progress: &dyn Progress,
) -> Result<InitOutcome, InitError> {
    let path = repo.join(FILE_NAME);
    let before = match crate::repo::read_text_bounded(&path, crate::repo::MAX_TEXT_FILE_BYTES) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(InitError::Existing(PipelineError::Io { path, source }));
        }
    };
    let existing: Option<PipelineFile> = before
        .as_deref()
        .map(|text| read(text, Some(&path)))
        .transpose()
        .map_err(InitError::Existing)?;
    let discovered = Module::discover_with(repo, &options.discover, progress)?;
    let (module, changes) = match existing.as_ref().and_then(|file| file.module.as_ref()) {
        Some(recorded) => merge(recorded, &discovered.module),
        None => (discovered.module, Vec::new()),
    };
    let text = render(&module, existing.as_ref(), &options.pipeline);
    let mut diagnostics = discovered.diagnostics;
    diagnostics.extend(module.validate());
    let status = if before.as_deref() == Some(text.as_str()) {
        InitStatus::Unchanged
    } else if options.check {
        InitStatus::OutOfDate
    } else {
        progress
            .report(&Event {
                stage: "write",
                done: 0,
                total: Some(1),
                detail: Some(FILE_NAME),
            })
            .map_err(|_| InitError::Cancelled)?;
        write_atomically(&path, &text).map_err(|source| InitError::Write {
            path: path.clone(),
            source,
        })?;
        if before.is_none() {
            InitStatus::Created
        } else {
            InitStatus::Updated
        }
    };
    Ok(InitOutcome {
        status,
        path,
        module,
        changes,
        diagnostics,
        text,
        requirements: discovered.requirements,
    })
}

/// Writes `text` to a new file beside `path` and renames it over `path`: on one file system
/// a rename replaces the file at once, so a crash or a concurrent reader never sees half a
/// file. An existing file's permissions carry over.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    // Unique within the process; `create_new` keeps two processes (or a stale file) apart.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let folder = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| FILE_NAME.into(), |n| n.to_string_lossy().into_owned());
    let (temporary, mut file) = loop {
        let candidate = folder.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(file) => break (candidate, file),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(error),
        }
    };
    let written = (|| {
        if let Ok(metadata) = std::fs::metadata(path) {
            file.set_permissions(metadata.permissions())?;
        }
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        // Ours, and not needed any more; a failure to remove it changes nothing for the caller.
        let _ = std::fs::remove_file(&temporary);
    }
    written
}
