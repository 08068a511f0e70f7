//! The code layer: the repository at `/workdir`, without what it asks to leave out, what the
//! tool writes, and what looks like a secret.
//!
//! What is left out, decided for each path from the top down (a folder left out is one entry
//! of the list, and nothing below it is looked at, as git does):
//! 1. `.git` (anywhere) and the tool's output folder `.mlreef/` (and any other
//!    [`CodeOptions::outputs`]): always;
//! 2. paths matching [`CodeOptions::include`] go in, whatever follows says;
//! 3. `.mlreefignore` (gitignore syntax, nested ones too): a pattern leaves a path out, and a
//!    `!pattern` puts it in whatever follows says: `.mlreefignore` has the last word;
//! 4. `.dockerignore` at the root, read as Docker does: every pattern is anchored at the root;
//! 5. `.gitignore` files, nested ones too, as git reads them; but not the user's global
//!    excludes file nor `.git/info/exclude`, so that a build does not depend on the machine;
//! 6. likely secrets ([`SECRETS`]);
//! 7. sockets, fifos and devices, which a repository's code does not need.
//!
//! Symbolic links are stored as links, never followed. A link that leads out of the
//! repository (an absolute target elsewhere, `..` past the root, or a chain of links that ends
//! outside) is an error naming the link; a target inside the repository that is written as an
//! absolute path, or that climbs above the root and comes back, is stored relative to the
//! link, since the repository's own path means nothing in the image. Hard links are stored as
//! separate files: how a checkout linked its files must not change the layer. Files belong to
//! root with normalized modes and the layer's fixed mtime, so the same tree gives the same
//! layer in any folder.

use std::fmt;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use serde::{Deserialize, Serialize};

use super::Error;
use super::blobs::BlobStore;
use super::layer::{Layer, LayerRole};
use super::tar::{Entry, LayerOptions, parent_dirs, write_layer};
use crate::progress::Progress;
use crate::repo::Boundary;

/// Where the repository is in the image.
pub const WORKDIR: &str = "/workdir";

/// The tool's own output folder in a repository.
pub const OUTPUT_DIR: &str = ".mlreef";

/// Likely secrets, in gitignore syntax: left out unless included explicitly.
pub const SECRETS: &[&str] = &[
    ".env",
    ".env.*",
    ".envrc",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".htpasswd",
    ".aws/",
    ".ssh/",
    ".gnupg/",
    "**/.docker/config.json",
    "**/.kube/config",
];

/// Why a path was left out of the code layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ExcludeReason {
    #[serde(rename = ".gitignore")]
    GitIgnore,
    #[serde(rename = ".dockerignore")]
    DockerIgnore,
    #[serde(rename = ".mlreefignore")]
    MlreefIgnore,
    #[serde(rename = "secret")]
    Secret,
    #[serde(rename = ".git")]
    Git,
    #[serde(rename = "mlreef output")]
    MlreefOutput,
    #[serde(rename = "not a regular file")]
    NotRegularFile,
}

impl ExcludeReason {
    /// The reason as the JSON of a build names it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ExcludeReason::GitIgnore => ".gitignore",
            ExcludeReason::DockerIgnore => ".dockerignore",
            ExcludeReason::MlreefIgnore => ".mlreefignore",
            ExcludeReason::Secret => "secret",
            ExcludeReason::Git => ".git",
            ExcludeReason::MlreefOutput => "mlreef output",
            ExcludeReason::NotRegularFile => "not a regular file",
        }
    }
}

impl fmt::Display for ExcludeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A path left out of the code layer: relative to the repository with `/` separators, a
/// folder with a trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Excluded {
    pub path: String,
    pub reason: ExcludeReason,
}

/// How the code layer is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeOptions {
    pub layer: LayerOptions,
    /// Globs (gitignore syntax, relative to the repository) of paths that go in even when an
    /// ignore file or the secret rules leave them out.
    pub include: Vec<String>,
    /// Folders the tool writes into besides `.mlreef/` (relative to the repository, or
    /// absolute inside it), such as an output layout the user put elsewhere.
    pub outputs: Vec<PathBuf>,
}

impl Default for CodeOptions {
    fn default() -> Self {
        CodeOptions {
            layer: LayerOptions {
                role: LayerRole::Code,
                created_by: format!("COPY . {WORKDIR} # mlreef code layer"),
                ..LayerOptions::default()
            },
            include: Vec::new(),
            outputs: Vec::new(),
        }
    }
}

/// What goes into the code layer, and what was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeTree {
    /// The layer's entries: `workdir/` and everything in it.
    pub entries: Vec<Entry>,
    /// Sorted by path.
    pub excluded: Vec<Excluded>,
}

/// The code layer and what was left out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeLayer {
    pub layer: Layer,
    pub excluded: Vec<Excluded>,
}

/// Writes the code layer of the repository at `repo` into `store`.
pub fn code_layer(
    store: &BlobStore,
    repo: &Path,
    options: &CodeOptions,
    progress: &dyn Progress,
) -> Result<CodeLayer, Error> {
    let tree = scan_code(repo, options)?;
    let layer = write_layer(store, tree.entries, &options.layer, progress)?;
    Ok(CodeLayer {
        layer,
        excluded: tree.excluded,
    })
}

/// The ignore files that apply in one folder, its parents' included (outermost first).
#[derive(Default)]
struct Rules {
    gitignores: Vec<Rc<Gitignore>>,
    mlreefignores: Vec<Rc<Gitignore>>,
}

/// The rules read once for the whole repository.
struct Root {
    path: PathBuf,
    boundary: Boundary,
    include: Gitignore,
    dockerignore: Gitignore,
    secrets: Gitignore,
    outputs: Vec<PathBuf>,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// A matcher of `lines` (gitignore syntax) relative to `root`. Lines that are not valid globs
/// are skipped, as git skips them.
fn matcher<'a>(
    root: &Path,
    from: Option<&Path>,
    lines: impl IntoIterator<Item = &'a str>,
) -> Gitignore {
    let mut builder = GitignoreBuilder::new(root);
    for line in lines {
        let _ = builder.add_line(from.map(Path::to_owned), line);
    }
    builder.build().unwrap_or_else(|_| Gitignore::empty())
}

/// The ignore file `name` in `dir`, when it is a regular file (a link is not followed out).
fn ignore_file(dir: &Path, name: &str) -> Result<Option<Gitignore>, Error> {
    let path = dir.join(name);
    match fs::symlink_metadata(&path) {
        Ok(meta) if meta.is_file() => {
            let text = crate::repo::read_bounded(&path, crate::repo::MAX_TEXT_FILE_BYTES)
                .map_err(io_error(&path))?;
            let text = String::from_utf8_lossy(&text);
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            Ok(Some(matcher(dir, Some(&path), text.lines())))
        }
        _ => Ok(None),
    }
}

/// `.dockerignore` as Docker reads it: patterns relative to the root (a leading `/` or `./`
/// changes nothing), `dir/` the same as `dir`.
fn dockerignore(root: &Path) -> Result<Gitignore, Error> {
    let path = root.join(".dockerignore");
    let Ok(meta) = fs::symlink_metadata(&path) else {
        return Ok(Gitignore::empty());
    };
    if !meta.is_file() {
        return Ok(Gitignore::empty());
    }
    let text = crate::repo::read_bounded(&path, crate::repo::MAX_TEXT_FILE_BYTES)
        .map_err(io_error(&path))?;
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let (negated, pattern) = match line.strip_prefix('!') {
                Some(rest) => ("!", rest.trim()),
                None => ("", line),
            };
            let mut pattern = pattern.trim_start_matches('/');
            while let Some(rest) = pattern.strip_prefix("./") {
                pattern = rest.trim_start_matches('/');
            }
            let pattern = pattern.trim_end_matches('/');
            (!pattern.is_empty() && pattern != ".").then(|| format!("{negated}/{pattern}"))
        })
        .collect();
    Ok(matcher(root, Some(&path), lines.iter().map(String::as_str)))
}

/// A relative path made of normal components (`a/./b/` -> `a/b`); `None` with `..`.
fn clean_relative(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

/// `path` relative to the repository with `/` separators, `/` added for a folder.
fn display(relative: &Path, is_dir: bool) -> String {
    let mut text = relative.to_string_lossy().replace('\\', "/");
    if is_dir {
        text.push('/');
    }
    text
}

/// Lists what goes into the code layer of the repository at `repo`, and what is left out.
pub fn scan_code(repo: &Path, options: &CodeOptions) -> Result<CodeTree, Error> {
    let path = fs::canonicalize(repo).map_err(io_error(repo))?;
    if !path.is_dir() {
        return Err(Error::Invalid {
            what: format!("repository `{}`", repo.display()),
            reason: "it is not a folder".into(),
        });
    }
    let include = matcher(&path, None, options.include.iter().map(String::as_str));
    let mut outputs = vec![PathBuf::from(OUTPUT_DIR)];
    for output in &options.outputs {
        let relative = if output.is_absolute() {
            crate::repo::normalize(output)
                .strip_prefix(&path)
                .ok()
                .map(Path::to_owned)
        } else {
            clean_relative(output)
        };
        outputs.extend(relative.filter(|r| !r.as_os_str().is_empty()));
    }
    let root = Root {
        boundary: Boundary::new(&path),
        include,
        dockerignore: dockerignore(&path)?,
        secrets: matcher(&path, None, SECRETS.iter().copied()),
        outputs,
        path,
    };
    let workdir = PathBuf::from(WORKDIR.trim_start_matches('/'));
    let mut entries = parent_dirs(&workdir);
    let mut excluded = Vec::new();
    let mut pending = vec![(PathBuf::new(), Rc::new(Rules::default()))];
    while let Some((relative_dir, parent_rules)) = pending.pop() {
        let dir = root.path.join(&relative_dir);
        let mut rules = Rules {
            gitignores: parent_rules.gitignores.clone(),
            mlreefignores: parent_rules.mlreefignores.clone(),
        };
        if let Some(gitignore) = ignore_file(&dir, ".gitignore")? {
            rules.gitignores.push(Rc::new(gitignore));
        }
        if let Some(mlreefignore) = ignore_file(&dir, ".mlreefignore")? {
            rules.mlreefignores.push(Rc::new(mlreefignore));
        }
        let rules = Rc::new(rules);
        for child in fs::read_dir(&dir).map_err(io_error(&dir))? {
            let child = child.map_err(io_error(&dir))?;
            let absolute = child.path();
            let relative = relative_dir.join(child.file_name());
            let meta = fs::symlink_metadata(&absolute).map_err(io_error(&absolute))?;
            let kind = meta.file_type();
            let is_dir = kind.is_dir();
            if let Some(reason) = root.decide(&absolute, &relative, is_dir, &rules) {
                excluded.push((relative, is_dir, reason));
                continue;
            }
            let inside = workdir.join(&relative);
            if is_dir {
                entries.push(Entry::dir(inside));
                pending.push((relative, Rc::clone(&rules)));
            } else if kind.is_file() {
                entries.push(Entry::file(inside, absolute));
            } else if kind.is_symlink() {
                let target = root.link_target(&absolute, &relative)?;
                entries.push(Entry::symlink(inside, target));
            } else {
                excluded.push((relative, false, ExcludeReason::NotRegularFile));
            }
        }
    }
    excluded.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(CodeTree {
        entries,
        excluded: excluded
            .into_iter()
            .map(|(relative, is_dir, reason)| Excluded {
                path: display(&relative, is_dir),
                reason,
            })
            .collect(),
    })
}

impl Root {
    /// Why `relative` is left out, if it is (see the module's documentation for the order).
    fn decide(
        &self,
        absolute: &Path,
        relative: &Path,
        is_dir: bool,
        rules: &Rules,
    ) -> Option<ExcludeReason> {
        if relative.file_name().is_some_and(|name| name == ".git") {
            return Some(ExcludeReason::Git);
        }
        if self.outputs.iter().any(|output| output == relative) {
            return Some(ExcludeReason::MlreefOutput);
        }
        if self.include.matched(relative, is_dir).is_ignore() {
            return None;
        }
        for mlreefignore in rules.mlreefignores.iter().rev() {
            match mlreefignore.matched(absolute, is_dir) {
                Match::Ignore(_) => return Some(ExcludeReason::MlreefIgnore),
                Match::Whitelist(_) => return None,
                Match::None => {}
            }
        }
        if self.dockerignore.matched(relative, is_dir).is_ignore() {
            return Some(ExcludeReason::DockerIgnore);
        }
        // The deepest .gitignore that says something decides, as in git.
        for gitignore in rules.gitignores.iter().rev() {
            match gitignore.matched(absolute, is_dir) {
                Match::Ignore(_) => return Some(ExcludeReason::GitIgnore),
                Match::Whitelist(_) => break,
                Match::None => {}
            }
        }
        if self.secrets.matched(relative, is_dir).is_ignore() {
            return Some(ExcludeReason::Secret);
        }
        None
    }

    /// The target to store for the symbolic link at `absolute` (`relative` in the repository),
    /// or the error when it leads out.
    fn link_target(&self, absolute: &Path, relative: &Path) -> Result<PathBuf, Error> {
        let target = fs::read_link(absolute).map_err(io_error(absolute))?;
        let link_dir = relative.parent().unwrap_or(Path::new(""));
        let outside = || Error::LinkOutside {
            link: display(relative, false),
            target: target.clone(),
        };
        // Where the target is, from the repository's root (lexically), and whether it must be
        // rewritten: an absolute target, or one whose `..` climbs above the root (and may come
        // back in through the root's own name), means nothing once the repository is at
        // /workdir.
        let (resolved, rewrite) = if target.is_absolute() {
            let inside = crate::repo::normalize(&target)
                .strip_prefix(self.boundary.root())
                .map_err(|_| outside())?
                .to_owned();
            (inside, true)
        } else {
            let mut resolved = link_dir.to_owned();
            let mut climbed = false;
            for component in target.components() {
                match component {
                    Component::Normal(part) => resolved.push(part),
                    Component::CurDir => {}
                    Component::ParentDir => {
                        if !resolved.pop() {
                            climbed = true;
                            break;
                        }
                    }
                    Component::RootDir | Component::Prefix(_) => return Err(outside()),
                }
            }
            if climbed {
                let landed =
                    crate::repo::normalize(&self.boundary.root().join(link_dir).join(&target));
                landed
                    .strip_prefix(self.boundary.root())
                    .map_err(|_| outside())?
                    .clone_into(&mut resolved);
            }
            (resolved, climbed)
        };
        // The lexical answer, and the real one once links on the way are followed.
        if !self
            .boundary
            .contains(&self.boundary.root().join(&resolved))
            || fs::canonicalize(absolute).is_ok_and(|real| !real.starts_with(self.boundary.root()))
        {
            return Err(outside());
        }
        Ok(if rewrite {
            relative_path(link_dir, &resolved)
        } else {
            target
        })
    }
}

/// The relative path from the folder `from` to `to` (both relative to the same root).
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to[common..] {
        out.push(part);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_between_folders() {
        assert_eq!(
            relative_path(Path::new("a/b"), Path::new("a/c/d")),
            Path::new("../c/d")
        );
        assert_eq!(relative_path(Path::new(""), Path::new("x")), Path::new("x"));
        assert_eq!(
            relative_path(Path::new("a"), Path::new("a")),
            Path::new(".")
        );
        assert_eq!(
            relative_path(Path::new("a/b"), Path::new("")),
            Path::new("../..")
        );
    }

    #[test]
    fn reasons_serialize_as_the_build_json_names_them() {
        let excluded = Excluded {
            path: "data/".into(),
            reason: ExcludeReason::GitIgnore,
        };
        assert_eq!(
            serde_json::to_string(&excluded).unwrap(),
            r#"{"path":"data/","reason":".gitignore"}"#
        );
        for reason in [
            ExcludeReason::GitIgnore,
            ExcludeReason::DockerIgnore,
            ExcludeReason::MlreefIgnore,
            ExcludeReason::Secret,
            ExcludeReason::Git,
            ExcludeReason::MlreefOutput,
            ExcludeReason::NotRegularFile,
        ] {
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
        }
    }
}
