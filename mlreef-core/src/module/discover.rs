//! Finding a module in a repository: its entry point, requirements, name, branch and the
//! script's hash, without running anything.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::recorded::{RecordedError, read_recorded_file};
use super::{BaseEnvironment, EntryPoints, Module};
use crate::progress::{Cancelled, Event, Progress, Silent};
use crate::repo::{Boundary, relative as repo_relative};
use crate::requirements::{self, RequirementsFile};
use crate::source::MAX_SOURCE_BYTES;
use crate::{Diagnostic, Extraction, argparse, decorators};

/// How to discover a module. Everything left `None` is found in the repository.
#[derive(Debug, Clone, Default)]
pub struct DiscoverOptions {
    /// The entry point, relative to the repository (or absolute inside it).
    pub entry_point: Option<PathBuf>,
    /// The requirements file (`requirements.txt`, `environment.yml`), likewise.
    pub requirements: Option<PathBuf>,
    /// Values for `${VAR}` in the requirements file; `None` means the process environment (see
    /// [`requirements::Options::env`]).
    pub env: Option<HashMap<String, String>>,
    /// Also report what influences no parameter (see [`argparse::Options::verbose`]).
    pub verbose: bool,
}

/// A discovered module and what the extractors reported on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovered {
    pub module: Module,
    /// Diagnostics of the entry point's extraction and of the requirements file; `file` names
    /// the file, relative to the repository.
    pub diagnostics: Vec<Diagnostic>,
    /// The requirements file as read, for installing what applies to a given target.
    pub requirements: Option<RequirementsFile>,
}

/// A repository that does not make a module.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(
        "no entry point in `{}`: no train.py, main.py or run.py, and no script that builds an \
         argparse parser; name one explicitly",
        repo.display()
    )]
    NoEntryPoint { repo: PathBuf },
    #[error(
        "more than one script in `{}` could be the entry point: {}; name one explicitly",
        repo.display(),
        candidates.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
    )]
    AmbiguousEntryPoint {
        repo: PathBuf,
        candidates: Vec<String>,
    },
    #[error("`{}` is not inside the repository `{}`", path.display(), repo.display())]
    OutsideRepository { path: PathBuf, repo: PathBuf },
    #[error("cannot read `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Script(#[from] argparse::Error),
    #[error(transparent)]
    Requirements(#[from] requirements::Error),
    /// The existing `mlreef.yml` cannot be read.
    #[error(transparent)]
    Recorded(#[from] RecordedError),
    #[error("discovery was cancelled")]
    Cancelled,
}

impl From<Cancelled> for Error {
    fn from(_: Cancelled) -> Self {
        Error::Cancelled
    }
}

/// The conventional entry point names, in the order they are preferred.
const CONVENTIONAL: &[&str] = &["train.py", "main.py", "run.py"];

/// Folders that hold environments, build output or tooling rather than the module's code.
const SKIPPED: &[&str] = &[
    "venv",
    "env",
    "site-packages",
    "node_modules",
    "__pycache__",
    "build",
    "dist",
];

/// A script's parameters: its argparse parser, or the legacy `@data_processor` /
/// `@parameter` decorators when it has no parser.
pub fn script_parameters(
    script: &Path,
    options: &argparse::Options,
) -> Result<Extraction, argparse::Error> {
    let mut extraction = argparse::extract_file(script, options)?;
    let no_parser = extraction.parameters.is_empty()
        && extraction.diagnostics.iter().any(|d| d.code == "no-parser");
    if no_parser {
        let legacy = decorators::extract_file(script)?;
        if !legacy.parameters.is_empty() {
            // The script does declare parameters, so "no parser" would only mislead.
            extraction.diagnostics.retain(|d| d.code != "no-parser");
            extraction.parameters = legacy.parameters;
            extraction.diagnostics.extend(legacy.diagnostics);
        }
    }
    Ok(extraction)
}

/// Whether a script declares parameters (a parser, or the legacy decorators).
/// The script's extraction, if it declares parameters (kept, so that the chosen entry
/// point is not extracted a second time).
fn declared_parameters(script: &Path, options: &argparse::Options) -> Option<Extraction> {
    // Reading the text first keeps the search cheap in repositories with many modules.
    let text = crate::repo::read_text_bounded(script, MAX_SOURCE_BYTES as u64).ok()?;
    if !text.contains("ArgumentParser") && !text.contains("data_processor") {
        return None;
    }
    script_parameters(script, options).ok().filter(|e| {
        !e.parameters.is_empty() || !e.diagnostics.iter().any(|d| d.code == "no-parser")
    })
}

/// Every `.py` file under `dir`, skipping hidden and environment folders, sorted.
fn python_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !name.starts_with('.') && !SKIPPED.contains(&name.as_str()) {
                python_files(&entry.path(), out);
            }
        } else if kind.is_file() && Path::new(&name).extension().is_some_and(|e| e == "py") {
            out.push(entry.path());
        }
    }
}

/// The entry point: given, else a conventional name that declares parameters, else the one
/// script that does.
/// The entry point, and its extraction when the search already made it.
fn entry_point(
    repo: &Path,
    given: Option<&Path>,
    extract: &argparse::Options,
    progress: &dyn Progress,
) -> Result<(PathBuf, Option<Extraction>), Error> {
    if let Some(given) = given {
        let path = inside(repo, given)?;
        if !path.is_file() {
            return Err(Error::Io {
                path,
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        return Ok((path, None));
    }
    for name in CONVENTIONAL {
        let path = repo.join(name);
        if path.is_file()
            && let Some(extraction) = declared_parameters(&path, extract)
        {
            return Ok((path, Some(extraction)));
        }
    }
    let mut scripts = Vec::new();
    python_files(repo, &mut scripts);
    let total = Some(scripts.len() as u64);
    let mut candidates = Vec::new();
    for (done, script) in scripts.into_iter().enumerate() {
        let name = repo_relative(&script, repo);
        progress.report(&Event {
            stage: "search",
            done: done as u64,
            total,
            detail: Some(&name),
        })?;
        if let Some(extraction) = declared_parameters(&script, extract) {
            candidates.push((script, extraction));
        }
    }
    if candidates.len() > 1 {
        return Err(Error::AmbiguousEntryPoint {
            repo: repo.to_owned(),
            candidates: candidates
                .iter()
                .map(|(c, _)| repo_relative(c, repo))
                .collect(),
        });
    }
    match candidates.pop() {
        None => Err(Error::NoEntryPoint {
            repo: repo.to_owned(),
        }),
        Some((path, extraction)) => Ok((path, Some(extraction))),
    }
}

/// `path` (relative to `repo`, or absolute) if it is inside `repo`.
fn inside(repo: &Path, path: &Path) -> Result<PathBuf, Error> {
    Boundary::new(repo)
        .resolve(path)
        .ok_or_else(|| Error::OutsideRepository {
            path: path.to_owned(),
            repo: repo.to_owned(),
        })
}

/// The requirements file: given, else `requirements.txt` or `environment.yml` at the root,
/// else `requirements.txt` beside the entry point.
fn requirements_file(
    repo: &Path,
    entry: &Path,
    given: Option<&Path>,
) -> Result<Option<PathBuf>, Error> {
    if let Some(given) = given {
        return inside(repo, given).map(Some);
    }
    let beside = entry.parent().map(|dir| dir.join("requirements.txt"));
    let candidates = ["requirements.txt", "environment.yml", "environment.yaml"]
        .iter()
        .map(|name| repo.join(name))
        .chain(beside);
    Ok(candidates.into_iter().find(|p| p.is_file()))
}

/// The repository's name: the last part of the `origin` remote's URL, else the folder's name.
fn repository_name(repo: &Path) -> String {
    let remote = crate::repo::origin_url(repo);
    let from_remote = remote.as_deref().and_then(|url| {
        let last = url.trim_end_matches('/').rsplit(['/', ':']).next()?;
        let name = last.strip_suffix(".git").unwrap_or(last);
        (!name.is_empty()).then(|| name.to_owned())
    });
    from_remote.unwrap_or_else(|| {
        repo.file_name()
            .map_or_else(|| "module".to_owned(), |n| n.to_string_lossy().into_owned())
    })
}

/// A URL-safe name: lower case letters and digits, runs of anything else as one `-`.
#[must_use]
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

impl Module {
    /// Builds the description of the module in `repo` from its files: the entry point and its
    /// parameters, the requirements, name, slug, branch and the script's sha256. What only a
    /// person can say (description, data types, visibility) keeps its default.
    pub fn discover(repo: &Path, options: &DiscoverOptions) -> Result<Discovered, Error> {
        Self::discover_with(repo, options, &Silent)
    }

    /// [`discover`](Self::discover), reporting each step to `progress`, which may cancel.
    pub fn discover_with(
        repo: &Path,
        options: &DiscoverOptions,
        progress: &dyn Progress,
    ) -> Result<Discovered, Error> {
        let repo = repo.canonicalize().map_err(|source| Error::Io {
            path: repo.to_owned(),
            source,
        })?;
        // An existing mlreef.yml names the entry point and the version.
        let pipeline_path = repo.join("mlreef.yml");
        let existing = if pipeline_path.is_file() {
            read_recorded_file(&pipeline_path)?.module
        } else {
            None
        };
        let recorded = existing
            .as_ref()
            .map(|m| PathBuf::from(&m.entry_points.train))
            .filter(|p| repo.join(p).is_file());
        let extract = argparse::Options {
            repo: Some(repo.clone()),
            verbose: options.verbose,
            ..argparse::Options::default()
        };
        let (entry, searched) = entry_point(
            &repo,
            options.entry_point.as_deref().or(recorded.as_deref()),
            &extract,
            progress,
        )?;
        let entry_name = repo_relative(&entry, &repo);
        let bytes =
            crate::repo::read_bounded(&entry, MAX_SOURCE_BYTES as u64).map_err(|source| {
                Error::Io {
                    path: entry.clone(),
                    source,
                }
            })?;
        progress.report(&Event {
            stage: "extract",
            done: 0,
            total: Some(1),
            detail: Some(&entry_name),
        })?;
        let extraction = match searched {
            Some(extraction) => extraction,
            None => script_parameters(&entry, &extract)?,
        };
        let mut diagnostics: Vec<Diagnostic> = extraction
            .diagnostics
            .into_iter()
            .map(|mut d| {
                d.file = Some(d.file.take().unwrap_or_else(|| entry_name.clone()));
                d
            })
            .collect();

        let mut base_environment = BaseEnvironment::default();
        let mut requirements_path = None;
        let mut requirements = Vec::new();
        let mut requirements_read = None;
        if let Some(path) = requirements_file(&repo, &entry, options.requirements.as_deref())? {
            let parse_options = requirements::Options {
                env: options.env.clone(),
                repo: Some(repo.clone()),
                ..requirements::Options::default()
            };
            let name = repo_relative(&path, &repo);
            progress.report(&Event {
                stage: "requirements",
                done: 0,
                total: Some(1),
                detail: Some(&name),
            })?;
            let file: RequirementsFile = requirements::parse_file(&path, &parse_options)?;
            if let Some(python) = file
                .conda
                .as_ref()
                .and_then(|c| c.python())
                .and_then(plain_version)
            {
                base_environment.python_version.clone_from(&python);
                base_environment.title = format!("Python {python}");
                base_environment.image = format!("docker://python:{python}-slim");
                base_environment.description =
                    Some(format!("CPython {python} on Debian, CPU only"));
            }
            requirements = file.render().lines().map(str::to_owned).collect();
            requirements_path = Some(repo_relative(&path, &repo));
            diagnostics.extend(file.diagnostics.iter().cloned());
            requirements_read = Some(file);
        }

        let name = repository_name(&repo);
        let module = Module {
            slug: slug(&name),
            name,
            version: existing
                .as_ref()
                .map_or_else(|| "1".to_owned(), |m| m.version.clone()),
            branch: crate::repo::branch(&repo),
            entry_points: EntryPoints {
                train: entry_name,
                inference: None,
            },
            parameters: extraction.parameters,
            requirements_file: requirements_path,
            requirements,
            base_environment,
            script_sha256: hex(&Sha256::digest(&bytes)),
            ..Module::default()
        };
        Ok(Discovered {
            module,
            diagnostics,
            requirements: requirements_read,
        })
    }
}

/// `3.11` from a conda spec such as `3.11`, `3.11.*` or `=3.11`; `None` for ranges.
fn plain_version(spec: &str) -> Option<String> {
    let version = spec.trim_start_matches('=').trim_end_matches(".*");
    let parts: Vec<&str> = version.split('.').collect();
    (parts.len() >= 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
    .then(|| format!("{}.{}", parts[0], parts[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_versions() {
        assert_eq!(slug("Image Classifier_v2!"), "image-classifier-v2");
        assert_eq!(plain_version("3.10.*").as_deref(), Some("3.10"));
        assert_eq!(plain_version(">=3.9"), None);
    }
}
