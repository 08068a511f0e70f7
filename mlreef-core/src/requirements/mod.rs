//! Requirements files, read exactly as pip 26 reads them.
//!
//! [`parse_file`] follows pip's processing order: decode (byte-order mark, PEP 263 coding
//! line, UTF-8), split lines, join `\` continuations (a comment line never continues), drop
//! comments (`#` at the start or after white space), expand `${VAR}` from [`Options::env`],
//! then read each line's options with pip's `optparse` rules and its requirement with pip's
//! rules for URLs, paths, wheels and PEP 508.
//!
//! Unlike pip, it does not stop at the first bad line: every problem becomes a [`Diagnostic`]
//! naming its file and line, and a file with an error-severity diagnostic is one pip would
//! refuse ([`RequirementsFile::first_error`]). Only a top-level file that cannot be read or
//! decoded at all is an [`Error`]. Nothing is fetched or executed: `-r https://...` is reported,
//! not downloaded, and includes may not leave the repository unless
//! [`Options::allow_outside_repo`] says so.
//!
//! ```
//! use mlreef_core::requirements::{parse, Options, Target};
//!
//! let text = "numpy>=1.24 ; python_version >= '3.9'\ntorch==2.3.1 --hash=sha256:00ff\n";
//! let file = parse(text, &Options::default()).for_target(&Target::default());
//! assert_eq!(file.requirements[0].name.as_deref(), Some("numpy"));
//! assert_eq!(file.requirements[0].applies, Some(true));
//! assert_eq!(file.unpinned().count(), 1);
//! ```

mod conda;
mod line;
mod options;
mod pep508;
mod render;
mod target;
mod text;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::parameter::{Diagnostic, Severity};
use crate::repo::{self, Boundary};
pub use conda::{CondaEnvironment, MatchSpec, is_environment_file};
pub use target::{Target, TargetError};

use options::{Given, Opt};

/// How to read a requirements file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The variables `${NAME}` expands to. `None` (the default, in every binding) means the
    /// process environment, which is what pip reads; a service reading other people's files
    /// passes its own map (an empty one leaves every reference as written, as pip does for an
    /// unset variable). Expanded values are shown as their `${NAME}` again in URLs and options.
    pub env: Option<HashMap<String, String>>,
    /// The repository root: includes may not leave it, and `source` is relative to it.
    /// `None` means the top-level file's repository ([`crate::repo::root`]: the closest folder
    /// above it with a `.git`, else its folder), or the current folder for text without a
    /// [`path`](Self::path). Every binding leaves it to this default.
    pub repo: Option<PathBuf>,
    /// Where text given to [`parse`] lives (for its includes and its `source`).
    pub path: Option<PathBuf>,
    /// Follow `-r` / `-c` includes that lead out of the repository.
    pub allow_outside_repo: bool,
}

/// A top-level file that cannot be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot read `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Decode {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// An environment file that is not YAML, or not a mapping.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Yaml {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

impl From<conda::YamlError> for Error {
    fn from(e: conda::YamlError) -> Self {
        Error::Yaml {
            path: e.path,
            line: e.line,
            column: e.column,
            message: e.message,
        }
    }
}

impl Error {
    /// The line and column the error is at, when it has one.
    #[must_use]
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            Error::Io { .. } => None,
            Error::Decode { line, column, .. } | Error::Yaml { line, column, .. } => {
                Some((*line, *column))
            }
        }
    }
}

/// Where a requirement is installed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A name looked up in the package index (`requests>=2`).
    Index,
    /// An archive or wheel at an http(s) or ftp URL.
    Url,
    /// A version-control URL (`git+https://...`), built from source.
    Vcs,
    /// A local directory, archive or wheel (a path or a `file:` URL).
    Path,
}

/// One requirement, in the JSON form of `mlreef requirements --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    /// The project name as written; `null` for a URL or path that names none.
    pub name: Option<String>,
    /// The version specifiers, white space removed (`>=2.0,<3`), or empty.
    pub specifier: String,
    pub extras: Vec<String>,
    /// The environment marker as written, without the `;`.
    pub marker: Option<String>,
    /// The URL or path the requirement is installed from, as written (relative paths are
    /// relative to the folder of `source`). A password in it is replaced by `****` unless it
    /// came from a `${VAR}`, which is kept as the reference.
    pub url: Option<String>,
    pub editable: bool,
    /// `--hash` values, `algorithm:digest`, in the order written.
    pub hashes: Vec<String>,
    /// The line where the requirement starts (continuation lines joined).
    pub line: usize,
    /// The file it came from, relative to the repository.
    pub source: String,
    /// From a `-c` constraints file: limits versions, installs nothing by itself.
    pub constraint: bool,
    pub kind: Kind,
    /// `-C` / `--config-settings` values, `KEY=VALUE`.
    pub config_settings: Vec<String>,
    /// Exactly one version can satisfy it (`==1.2.3`, `===x`, or a wheel file).
    pub pinned: bool,
    /// Whether its marker holds for the target, once [`RequirementsFile::for_target`] ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies: Option<bool>,
}

impl Requirement {
    /// Whether the marker holds for `target` (a requirement without a marker always applies;
    /// one whose marker cannot be read never does).
    #[must_use]
    pub fn applies_to(&self, target: &Target) -> bool {
        match &self.marker {
            None => true,
            Some(marker) => pep508::Marker::parse(marker).is_ok_and(|m| target.evaluate(&m)),
        }
    }

    /// Installed from the repository or the local disk rather than an index or URL.
    #[must_use]
    pub fn is_local(&self) -> bool {
        self.kind == Kind::Path
    }

    /// A source tree or sdist that pip must build (needs a compiler and build dependencies),
    /// as opposed to a wheel or an index name.
    #[must_use]
    pub fn needs_build(&self) -> bool {
        match self.kind {
            Kind::Index => false,
            Kind::Vcs => true,
            Kind::Url | Kind::Path => !self.url.as_deref().is_some_and(line::is_wheel),
        }
    }
}

/// The file-wide options (`--index-url`, `--pre`, ...), merged over every included file.
// One field per pip flag: the JSON contract mirrors pip's options, not a state machine.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexOptions {
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    pub find_links: Vec<String>,
    pub no_index: bool,
    pub pre: bool,
    pub trusted_hosts: Vec<String>,
    pub prefer_binary: bool,
    pub require_hashes: bool,
    /// `--only-binary` values as written (`:all:`, package names).
    pub only_binary: Vec<String>,
    /// `--no-binary` values as written.
    pub no_binary: Vec<String>,
    pub use_features: Vec<String>,
    /// `--all-releases` values as written (packages allowed pre-releases, or `:all:`).
    pub all_releases: Vec<String>,
    /// `--only-final` values as written.
    pub only_final: Vec<String>,
}

/// A requirements file and everything it includes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementsFile {
    pub requirements: Vec<Requirement>,
    pub options: IndexOptions,
    pub diagnostics: Vec<Diagnostic>,
    /// For a conda environment file: its name, channels and conda packages (the `pip:`
    /// entries are `requirements`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conda: Option<CondaEnvironment>,
    /// The target the requirements were evaluated for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    /// The top-level file, relative to the repository (includes and paths are relative to
    /// their own file; rendering rebases them onto this one).
    #[serde(skip)]
    top: String,
}

impl RequirementsFile {
    /// The JSON contract of `mlreef requirements --json`.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The first problem that makes pip refuse the file.
    #[must_use]
    pub fn first_error(&self) -> Option<&Diagnostic> {
        self.diagnostics
            .iter()
            .find(|d| d.severity == Severity::Error)
    }

    /// Sets [`Requirement::applies`] of every requirement for `target`.
    #[must_use]
    pub fn for_target(mut self, target: &Target) -> Self {
        for requirement in &mut self.requirements {
            requirement.applies = Some(requirement.applies_to(target));
        }
        self.target = Some(target.clone());
        self
    }

    /// Requirements to install (not constraints) whose marker holds for `target`.
    pub fn applicable<'a>(&'a self, target: &'a Target) -> impl Iterator<Item = &'a Requirement> {
        self.requirements
            .iter()
            .filter(move |r| !r.constraint && r.applies_to(target))
    }

    /// Requirements (not constraints) that more than one version could satisfy.
    pub fn unpinned(&self) -> impl Iterator<Item = &Requirement> {
        self.requirements
            .iter()
            .filter(|r| !r.constraint && !r.pinned)
    }

    /// Editable and local-path requirements, which an image cannot fetch by name.
    pub fn local(&self) -> impl Iterator<Item = &Requirement> {
        self.requirements
            .iter()
            .filter(|r| r.editable || r.is_local())
    }

    /// A normalized requirements text for the installer; see [`render`](Self::render).
    #[must_use]
    pub fn render(&self) -> String {
        render::render(self, None)
    }

    /// Like [`render`](Self::render), keeping only the requirements that apply to `target`.
    #[must_use]
    pub fn render_for(&self, target: &Target) -> String {
        render::render(self, Some(target))
    }

    /// The constraints (`-c` files) as one constraints text.
    #[must_use]
    pub fn render_constraints(&self) -> String {
        render::render_constraints(self)
    }
}

/// Reads a requirements file and its includes, or a conda environment file (`.yml`, `.yaml`).
pub fn parse_file(path: &Path, options: &Options) -> Result<RequirementsFile, Error> {
    let bytes = crate::repo::read_bounded(path, MAX_FILE_BYTES).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let text = text::decode(&bytes).map_err(|e| Error::Decode {
        path: path.to_owned(),
        line: e.line,
        column: e.column,
        message: e.message,
    })?;
    let options = Options {
        path: Some(path.to_owned()),
        ..options.clone()
    };
    if is_environment_file(path) {
        return parse_environment(&text, &options);
    }
    Ok(parse(&text, &options))
}

/// Reads a conda environment file's text; [`Options::path`] says where it lives (its `pip:`
/// entries are read as a requirements file in the same folder).
pub fn parse_environment(text: &str, options: &Options) -> Result<RequirementsFile, Error> {
    Ok(conda::parse(text, options)?)
}

/// Reads requirements text; [`Options::path`] says where it lives.
#[must_use]
pub fn parse(text: &str, options: &Options) -> RequirementsFile {
    let path = options
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from("requirements.txt"));
    let mut top = repo::absolute(&path);
    let mut root = match (&options.repo, &options.path) {
        (Some(root), _) => repo::absolute(root),
        (None, Some(_)) => repo::root(&top),
        (None, None) => top.parent().map(Path::to_owned).unwrap_or_default(),
    };
    // Resolving symbolic links costs a system call per path component, so it is done only
    // when the plain paths do not line up (a repository given as its real path, a file
    // through a link).
    if !top.starts_with(&root) {
        top = real_folder(&top);
        root = root.canonicalize().unwrap_or(root);
    }
    let mut walker = Walker {
        options,
        included: 0,
        bytes: text.len() as u64,
        env: options.env.clone().unwrap_or_else(process_env),
        boundary: Boundary::new(&root),
        out: RequirementsFile::default(),
    };
    walker.out.top = walker.source_name(&top);
    walker.walk(&top, text, false, &mut vec![top.clone()]);
    walker.out
}

/// The path with its folder's symbolic links resolved (so that it lines up with a resolved
/// repository root), when the folder exists.
fn real_folder(path: &Path) -> PathBuf {
    match (
        path.parent().and_then(|p| p.canonicalize().ok()),
        path.file_name(),
    ) {
        (Some(folder), Some(name)) => folder.join(name),
        _ => path.to_owned(),
    }
}

/// The process environment's variables (those whose name and value are text).
fn process_env() -> HashMap<String, String> {
    std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .collect()
}

/// Files included inside one another: pip has no limit but Python's recursion limit; a
/// chain this deep is a mistake or an attack.
const MAX_INCLUDE_DEPTH: usize = 64;
/// Files read for one requirements file, includes counted each time: a file that includes
/// another twice, which includes another twice, ..., would otherwise read 2^depth files.
const MAX_INCLUDED_FILES: usize = 1000;
/// The largest requirements or environment file read. Real ones are a few kilobytes; a larger
/// one is a mistake or an attack, and would be held whole in memory.
pub const MAX_FILE_BYTES: u64 = 16 << 20;
/// The most bytes read for one requirements file, its includes counted.
const MAX_INCLUDED_BYTES: u64 = 64 << 20;

struct Walker<'a> {
    options: &'a Options,
    /// Files read so far.
    included: usize,
    /// Bytes read so far, the top-level text counted.
    bytes: u64,
    /// The variables `${NAME}` expands to.
    env: HashMap<String, String>,
    /// The repository: `source` names are relative to it, and includes stay inside it.
    boundary: Boundary,
    out: RequirementsFile,
}

impl Walker<'_> {
    fn source_name(&self, path: &Path) -> String {
        self.boundary.relative(path)
    }

    fn diagnostic(
        &mut self,
        severity: Severity,
        code: &str,
        source: &str,
        line: usize,
        message: String,
    ) {
        self.out.diagnostics.push(Diagnostic {
            severity,
            code: code.to_owned(),
            message,
            line,
            column: 1,
            file: Some(source.to_owned()),
        });
    }

    /// Reads one file's lines; `chain` is the include path that led here (for cycles).
    fn walk(&mut self, path: &Path, text: &str, constraint: bool, chain: &mut Vec<PathBuf>) {
        let source = self.source_name(path);
        let base = path.parent().map(Path::to_owned).unwrap_or_default();
        for logical in text::logical_lines(text, &self.env) {
            let number = logical.number;
            for name in &logical.unset {
                self.diagnostic(
                    Severity::Warning,
                    "unset-variable",
                    &source,
                    number,
                    format!("`${{{name}}}` is not set (or empty), so it is left as written, as pip leaves it"),
                );
            }
            let (args, option_text) = break_args_options(&logical.text);
            let given = match shlex::split(&option_text) {
                None => Err(format!("Could not split options: {option_text}")),
                Some(tokens) => options::parse(&tokens),
            };
            let given = match given {
                Ok(given) => given,
                Err(message) => {
                    let code = if message.starts_with("no such option") {
                        "unknown-option"
                    } else {
                        "invalid-option"
                    };
                    self.diagnostic(Severity::Error, code, &source, number, message);
                    continue;
                }
            };
            let unexpand = |text: &str| restore_variables(text, &logical.expanded);
            let editable = given.iter().find(|g| g.opt == Opt::Editable);
            if !args.is_empty() || editable.is_some() {
                self.requirement_line(&source, &base, number, &args, &given, constraint, &unexpand);
                continue;
            }
            self.option_line(&source, number, &given, &unexpand);
            let include = given
                .iter()
                .find(|g| g.opt == Opt::Requirement)
                .or_else(|| given.iter().find(|g| g.opt == Opt::Constraint));
            if let Some(include) = include {
                let nested_constraint = include.opt == Opt::Constraint;
                let target = include.value.clone().unwrap_or_default();
                self.include(&source, &base, number, &target, nested_constraint, chain);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn requirement_line(
        &mut self,
        source: &str,
        base: &Path,
        number: usize,
        args: &str,
        given: &[Given],
        constraint: bool,
        unexpand: &dyn Fn(&str) -> String,
    ) {
        let editable = args.is_empty();
        let meaning = if editable {
            let value = given
                .iter()
                .find(|g| g.opt == Opt::Editable)
                .and_then(|g| g.value.clone());
            line::editable(value.as_deref().unwrap_or(""), base)
        } else {
            line::requirement(args, base)
        };
        let meaning = match meaning {
            Ok(meaning) => meaning,
            Err(message) => {
                self.diagnostic(
                    Severity::Error,
                    "invalid-requirement",
                    source,
                    number,
                    message,
                );
                return;
            }
        };
        if editable && constraint {
            self.diagnostic(
                Severity::Error,
                "invalid-requirement",
                source,
                number,
                "Editable requirements are not allowed as constraints".to_owned(),
            );
            return;
        }
        if let Some((code, message)) = meaning.warning {
            self.diagnostic(Severity::Warning, code, source, number, message);
        }
        let mut hashes = Vec::new();
        let mut config_settings = Vec::new();
        for option in given {
            let value = option.value.clone().unwrap_or_default();
            match option.opt {
                Opt::Hash if !editable => hashes.push(value),
                Opt::ConfigSettings => config_settings.push(value),
                Opt::Editable if editable => {}
                _ => self.diagnostic(
                    Severity::Warning,
                    "ignored-option",
                    source,
                    number,
                    format!(
                        "pip ignores `{}` on a requirement line; put it on a line of its own",
                        option.spelling
                    ),
                ),
            }
        }
        let pinned = match &meaning.url {
            None => is_exact(&meaning.specifier),
            Some(url) => line::is_wheel(url),
        };
        let url = meaning
            .url
            .map(|u| self.redact(&unexpand(&u), source, number));
        self.out.requirements.push(Requirement {
            name: meaning.name,
            pinned,
            specifier: meaning.specifier,
            extras: meaning.extras,
            marker: meaning.marker,
            url,
            editable,
            hashes,
            line: number,
            source: source.to_owned(),
            constraint,
            kind: meaning.kind,
            config_settings,
            applies: None,
        });
    }

    fn option_line(
        &mut self,
        source: &str,
        number: usize,
        given: &[Given],
        unexpand: &dyn Fn(&str) -> String,
    ) {
        for option in given {
            let raw = option.value.clone().unwrap_or_default();
            let value = || redact_password(&unexpand(&raw));
            let o = &mut self.out.options;
            match option.opt {
                Opt::IndexUrl => o.index_url = Some(value()),
                Opt::ExtraIndexUrl => o.extra_index_urls.push(value()),
                Opt::FindLinks => o.find_links.push(value()),
                Opt::TrustedHost => o.trusted_hosts.push(value()),
                Opt::NoIndex => o.no_index = true,
                Opt::Pre => o.pre = true,
                Opt::PreferBinary => o.prefer_binary = true,
                Opt::RequireHashes => o.require_hashes = true,
                Opt::NoRequireHashes => o.require_hashes = false,
                Opt::OnlyBinary => o.only_binary.push(raw.clone()),
                Opt::NoBinary => o.no_binary.push(raw.clone()),
                Opt::UseFeature => {
                    if !o.use_features.contains(&raw) {
                        o.use_features.push(raw.clone());
                    }
                }
                Opt::AllReleases => o.all_releases.push(raw.clone()),
                Opt::OnlyFinal => o.only_final.push(raw.clone()),
                Opt::Hash | Opt::ConfigSettings => self.diagnostic(
                    Severity::Warning,
                    "option-without-requirement",
                    source,
                    number,
                    format!(
                        "`{}` has no requirement on this line, and is ignored (as pip ignores it)",
                        option.spelling
                    ),
                ),
                Opt::Requirement | Opt::Constraint | Opt::Editable => {}
            }
            if matches!(
                option.opt,
                Opt::IndexUrl | Opt::ExtraIndexUrl | Opt::FindLinks
            ) && has_password(&raw)
                && !unexpand(&raw).contains("${")
            {
                self.password_warning(source, number);
            }
        }
    }

    fn include(
        &mut self,
        source: &str,
        base: &Path,
        number: usize,
        target: &str,
        constraint: bool,
        chain: &mut Vec<PathBuf>,
    ) {
        let kind = if constraint {
            "constraints"
        } else {
            "requirements"
        };
        if line::scheme(target).is_some_and(|s| matches!(s.as_str(), "http" | "https" | "file")) {
            self.diagnostic(
                Severity::Warning,
                "url-include",
                source,
                number,
                format!("the {kind} file `{}` is a URL and is not fetched; its requirements are not included", redact_password(target)),
            );
            return;
        }
        let path = repo::normalize(&base.join(target));
        if let Some(first) = chain.iter().position(|p| *p == path) {
            let names: Vec<String> = chain[first..]
                .iter()
                .chain([&path])
                .map(|p| self.source_name(p))
                .collect();
            self.diagnostic(
                Severity::Error,
                "include-cycle",
                source,
                number,
                format!("`{target}` includes itself: {}", names.join(" -> ")),
            );
            return;
        }
        if chain.len() >= MAX_INCLUDE_DEPTH || self.included >= MAX_INCLUDED_FILES {
            let why = if chain.len() >= MAX_INCLUDE_DEPTH {
                format!("includes nest more than {MAX_INCLUDE_DEPTH} deep")
            } else {
                format!("more than {MAX_INCLUDED_FILES} files are included")
            };
            self.diagnostic(
                Severity::Error,
                "too-many-includes",
                source,
                number,
                format!("`{target}` is not read: {why}"),
            );
            return;
        }
        // Lexically inside, and inside once symbolic links are resolved.
        if !self.options.allow_outside_repo && !self.boundary.contains(&path) {
            self.diagnostic(
                Severity::Error,
                "include-outside-repo",
                source,
                number,
                format!("`{target}` leads outside the repository; refusing to read it (the caller can allow it)"),
            );
            return;
        }
        // Not fs_err: the message names the file itself, as written.
        // Not a FIFO or a device, which could block or never end.
        let limit = MAX_FILE_BYTES.min(MAX_INCLUDED_BYTES.saturating_sub(self.bytes));
        let bytes = match crate::repo::read_bounded(&path, limit) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::FileTooLarge => {
                let why = if limit < MAX_FILE_BYTES {
                    format!("with it, the included files pass {MAX_INCLUDED_BYTES} bytes")
                } else {
                    format!("it is larger than {MAX_FILE_BYTES} bytes")
                };
                self.diagnostic(
                    Severity::Error,
                    "include-too-large",
                    source,
                    number,
                    format!("`{target}` is not read: {why}"),
                );
                return;
            }
            Err(error) => {
                self.diagnostic(
                    Severity::Error,
                    "include-not-found",
                    source,
                    number,
                    format!("Could not open {kind} file `{target}`: {error}"),
                );
                return;
            }
        };
        match text::decode(&bytes) {
            Ok(text) => {
                self.included += 1;
                self.bytes += bytes.len() as u64;
                chain.push(path.clone());
                self.walk(&path, &text, constraint, chain);
                chain.pop();
            }
            Err(error) => {
                let name = self.source_name(&path);
                self.diagnostic(
                    Severity::Error,
                    "not-text",
                    &name,
                    error.line,
                    error.message,
                );
            }
        }
    }

    fn password_warning(&mut self, source: &str, number: usize) {
        self.diagnostic(
            Severity::Warning,
            "password-in-url",
            source,
            number,
            "a URL on this line holds a password; it is shown as `****`. Write it as `${VAR}` so \
             that it stays out of files, logs and images"
                .to_owned(),
        );
    }

    fn redact(&mut self, url: &str, source: &str, number: usize) -> String {
        if has_password(url) && !url.contains("${") {
            self.password_warning(source, number);
        }
        redact_password(url)
    }
}

/// pip's `break_args_options`: words up to the first one starting with `-` are the
/// requirement (split on single spaces, so markers keep their spacing), the rest are options.
fn break_args_options(line: &str) -> (String, String) {
    let tokens: Vec<&str> = line.split(' ').collect();
    let split = tokens
        .iter()
        .position(|t| t.starts_with('-'))
        .unwrap_or(tokens.len());
    (
        tokens[..split].join(" ").trim().to_owned(),
        tokens[split..].join(" "),
    )
}

/// `==1.2.3` (no wildcard) or `===x`: a single version.
fn is_exact(specifier: &str) -> bool {
    !specifier.contains(',')
        && (specifier.starts_with("===")
            || (specifier.starts_with("==") && !specifier.ends_with(".*")))
}

/// Puts `${NAME}` back where a variable's value was expanded, so that secrets passed through
/// the environment are never copied into results.
fn restore_variables(text: &str, expanded: &[(String, String)]) -> String {
    let mut out = text.to_owned();
    for (name, value) in expanded {
        out = out.replace(value.as_str(), &format!("${{{name}}}"));
    }
    out
}

/// The `user:password@` part of a URL's authority, if any.
fn password_span(url: &str) -> Option<(usize, usize)> {
    let start = url.find("://")? + 3;
    let authority_end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    let at = url[start..authority_end].rfind('@')? + start;
    let colon = url[start..at].find(':')? + start;
    (colon + 1 < at).then_some((colon + 1, at))
}

fn has_password(url: &str) -> bool {
    password_span(url).is_some()
}

/// Replaces a literal password in a URL with `****` (a `${VAR}` reference is kept).
fn redact_password(url: &str) -> String {
    match password_span(url) {
        Some((from, to)) if !url[from..to].starts_with("${") => {
            format!("{}****{}", &url[..from], &url[to..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords() {
        assert_eq!(
            redact_password("https://u:p@h/simple"),
            "https://u:****@h/simple"
        );
        assert_eq!(redact_password("https://u:${T}@h/"), "https://u:${T}@h/");
        assert_eq!(
            redact_password("git+ssh://git@github.com/a/b"),
            "git+ssh://git@github.com/a/b"
        );
    }

    #[test]
    fn args_and_options() {
        assert_eq!(
            break_args_options("a ; b == 'x y' --hash=sha256:1 -C k=v"),
            (
                "a ; b == 'x y'".to_owned(),
                "--hash=sha256:1 -C k=v".to_owned()
            )
        );
    }
}
