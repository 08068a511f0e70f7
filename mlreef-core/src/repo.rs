//! The repository a file belongs to: its root, paths as results name them, and the boundary
//! that no read crosses.
//!
//! The root of a path is the closest folder at or above it that holds `.git` (a folder, or the
//! `gitdir:` file of a worktree or submodule); a path in no repository has its own folder as
//! its root. Results name files relative to the root with `/` separators, so that one call
//! gives the same text from every binding. Every layer asks this module, so that "which
//! repository" and "is it inside" have one answer.

use std::cell::OnceCell;
use std::path::{Component, Path, PathBuf};

/// The repository `path` (a file or a folder) belongs to: the closest folder at or above it
/// with a `.git`, else the path's own folder (a file's parent, a folder itself). Symbolic links
/// in the folder are resolved when it exists.
#[must_use]
pub fn root(path: &Path) -> PathBuf {
    let folder = if path.is_dir() {
        path
    } else {
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    };
    let folder = fs_err::canonicalize(folder).unwrap_or_else(|_| folder.to_path_buf());
    top(&folder).map_or_else(|| folder.clone(), Path::to_path_buf)
}

/// The closest folder at or above `folder` that holds `.git`.
fn top(folder: &Path) -> Option<&Path> {
    folder.ancestors().find(|dir| dir.join(".git").exists())
}

/// The git directory of the repository at or above `folder`: its `.git` folder, or where the
/// `.git` file of a worktree or submodule points (`gitdir: PATH`, relative to that file).
#[must_use]
pub fn git_dir(folder: &Path) -> Option<PathBuf> {
    let top = top(folder)?;
    let dot_git = top.join(".git");
    if dot_git.is_dir() {
        return Some(dot_git);
    }
    let text = read_git_file(&dot_git).ok()?;
    let target = text.lines().next()?.strip_prefix("gitdir:")?.trim();
    Some(top.join(target))
}

/// The git directory that holds the shared files (`config`, remotes) of the repository at or
/// above `folder`: a worktree's git directory names it in its `commondir` file.
#[must_use]
pub fn common_git_dir(folder: &Path) -> Option<PathBuf> {
    let dir = git_dir(folder)?;
    match read_git_file(dir.join("commondir")) {
        Ok(common) => Some(dir.join(common.trim())),
        Err(_) => Some(dir),
    }
}

/// The `url` of the `origin` remote of the repository at or above `folder`.
#[must_use]
pub fn origin_url(folder: &Path) -> Option<String> {
    let config = read_git_file(common_git_dir(folder)?.join("config")).ok()?;
    let mut in_origin = false;
    for line in config.lines().map(str::trim) {
        if line.starts_with('[') {
            in_origin = line.replace(' ', "") == "[remote\"origin\"]";
        } else if in_origin
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == "url"
        {
            return Some(value.trim().to_owned());
        }
    }
    None
}

/// The branch `HEAD` points at; `None` when detached or not a git repository.
#[must_use]
pub fn branch(folder: &Path) -> Option<String> {
    let head = read_git_file(git_dir(folder)?.join("HEAD")).ok()?;
    head.trim()
        .strip_prefix("ref: refs/heads/")
        .map(str::to_owned)
}

/// The commit `HEAD` names (40 hex digits): a detached `HEAD`, or its branch's loose or
/// packed ref.
#[must_use]
pub fn head_commit(folder: &Path) -> Option<String> {
    let git = git_dir(folder)?;
    let head = read_git_file(git.join("HEAD")).ok()?;
    let head = head.trim();
    let is_commit = |s: &str| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let Some(reference) = head.strip_prefix("ref: ") else {
        return is_commit(head).then(|| head.to_owned());
    };
    // A reference names a file below the git directory, never one elsewhere.
    let inside = Path::new(reference)
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !reference.starts_with("refs/") || !inside {
        return None;
    }
    let common = common_git_dir(folder)?;
    for dir in [&git, &common] {
        if let Ok(text) = read_git_file(dir.join(reference)) {
            let text = text.trim();
            if is_commit(text) {
                return Some(text.to_owned());
            }
        }
    }
    let packed = read_git_file(common.join("packed-refs")).ok()?;
    packed.lines().find_map(|line| {
        let (commit, name) = line.split_once(' ')?;
        (name == reference && is_commit(commit)).then(|| commit.to_owned())
    })
}

/// The commit time of `HEAD`, in seconds since the epoch, asked of `git` (reading a commit
/// object needs zlib and packfiles); `None` outside a repository or without `git`.
#[must_use]
pub fn commit_time(folder: &Path) -> Option<u64> {
    let top = top(folder)?;
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["log", "-1", "--format=%ct"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}

/// `path` relative to `root` with `/` separators, as results name files; the whole path when
/// it is not inside `root`.
#[must_use]
pub fn relative(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// `path` made absolute (against the current folder) and normalized lexically.
#[must_use]
pub fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    normalize(&joined)
}

/// `os.path.normpath`: `.` and `..` removed lexically (pip does this before it compares
/// includes), without asking the file system.
#[must_use]
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                // `..` above the root is the root; above a relative start it stays.
                if !out.pop() && !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The boundary of a repository: a path is inside when it is below the root written out, and
/// also once symbolic links are resolved, so that neither `..` nor a link leads out.
#[derive(Debug, Clone)]
pub struct Boundary {
    /// The root, absolute and normalized.
    root: PathBuf,
    /// The root with symbolic links resolved, once a check needs it.
    real_root: OnceCell<PathBuf>,
}

impl Boundary {
    #[must_use]
    pub fn new(root: &Path) -> Self {
        Boundary {
            root: absolute(root),
            real_root: OnceCell::new(),
        }
    }

    /// The root, absolute and normalized.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether `path` (absolute, or relative to the current folder) is inside.
    #[must_use]
    pub fn contains(&self, path: &Path) -> bool {
        let path = absolute(path);
        if !path.starts_with(&self.root) {
            return false;
        }
        // A path that does not exist cannot be a link that leads out.
        let Ok(real) = path.canonicalize() else {
            return true;
        };
        real.starts_with(self.real_root())
    }

    /// `path` (relative to the root, or absolute) when it is inside, with symbolic links
    /// resolved when it exists; `None` when it leads out.
    #[must_use]
    pub fn resolve(&self, path: &Path) -> Option<PathBuf> {
        let joined = normalize(&self.root.join(path));
        self.contains(&joined)
            .then(|| joined.canonicalize().unwrap_or(joined))
    }

    /// `path` as results name it (see [`relative`]); a path with its links resolved is named
    /// relative to the root with its links resolved.
    #[must_use]
    pub fn relative(&self, path: &Path) -> String {
        if path.starts_with(&self.root) {
            relative(path, &self.root)
        } else {
            relative(path, self.real_root())
        }
    }

    fn real_root(&self) -> &Path {
        self.real_root.get_or_init(|| {
            self.root
                .canonicalize()
                .unwrap_or_else(|_| self.root.clone())
        })
    }
}

/// A file of git's own (`HEAD`, `config`, a ref): a repository may be hostile, so it is read
/// only when it is a regular file of a sensible size.
fn read_git_file(path: impl AsRef<Path>) -> std::io::Result<String> {
    read_text_bounded(path.as_ref(), MAX_TEXT_FILE_BYTES)
}

/// The largest text file of a repository read whole other than a script or a requirements file
/// (`mlreef.yml`, ignore files, git metadata): real ones are far smaller.
pub(crate) const MAX_TEXT_FILE_BYTES: u64 = 16 << 20;

/// Reads a file, at most `limit` bytes and one more (so that the caller can tell it is too
/// large). A FIFO, device or directory is refused before it is opened: reading one could block
/// forever or never end.
pub(crate) fn read_regular(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    if !std::fs::metadata(path)?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads a regular file of at most `limit` bytes, reading no further: a larger one is a
/// `FileTooLarge` error that gives the limit, and a FIFO, device or folder is refused as by
/// [`read_regular`]. For every file of a repository, which may be hostile.
pub(crate) fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let bytes = read_regular(path, limit)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("larger than {limit} bytes, the most mlreef reads of such a file"),
        ));
    }
    Ok(bytes)
}

/// [`read_bounded`] as UTF-8 text.
pub(crate) fn read_text_bounded(path: &Path, limit: u64) -> std::io::Result<String> {
    String::from_utf8(read_bounded(path, limit)?)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remotes_branches_and_commits() {
        let dir = tempdir().join("git-facts");
        let git = dir.join(".git");
        std::fs::create_dir_all(git.join("refs/heads")).unwrap();
        std::fs::write(
            git.join("config"),
            "[core]\n\tbare = false\n[remote \"origin\"]\n\turl = git@gitlab.com:team/Image-Classifier.git\n",
        )
        .unwrap();
        std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        assert_eq!(
            origin_url(&dir).as_deref(),
            Some("git@gitlab.com:team/Image-Classifier.git")
        );
        assert_eq!(branch(&dir).as_deref(), Some("main"));
        assert_eq!(head_commit(&dir), None);
        let commit = "0123456789abcdef0123456789abcdef01234567";
        std::fs::write(
            git.join("packed-refs"),
            format!("# pack-refs\n{commit} refs/heads/main\n"),
        )
        .unwrap();
        assert_eq!(head_commit(&dir).as_deref(), Some(commit));
        let loose = "fedcba9876543210fedcba9876543210fedcba98";
        std::fs::write(git.join("refs/heads/main"), format!("{loose}\n")).unwrap();
        assert_eq!(head_commit(&dir).as_deref(), Some(loose));
        std::fs::write(git.join("HEAD"), format!("{commit}\n")).unwrap();
        assert_eq!(
            (branch(&dir), head_commit(&dir).as_deref()),
            (None, Some(commit))
        );
    }

    fn tempdir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "mlreef-repo-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.canonicalize().unwrap()
    }

    #[test]
    fn roots_git_dirs_and_worktrees() {
        let dir = tempdir();
        let repo = dir.join("repo");
        std::fs::create_dir_all(repo.join("src/deep")).unwrap();
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::write(repo.join("src/deep/train.py"), "").unwrap();
        assert_eq!(root(&repo.join("src/deep/train.py")), repo);
        assert_eq!(root(&repo.join("src/deep")), repo);
        assert_eq!(git_dir(&repo.join("src")), Some(repo.join(".git")));
        assert_eq!(common_git_dir(&repo), Some(repo.join(".git")));

        // A worktree: `.git` is a file naming the real git directory, which names the shared one.
        let worktree = dir.join("wt");
        std::fs::create_dir_all(&worktree).unwrap();
        std::fs::create_dir_all(repo.join(".git/worktrees/wt")).unwrap();
        std::fs::write(
            worktree.join(".git"),
            format!("gitdir: {}\n", repo.join(".git/worktrees/wt").display()),
        )
        .unwrap();
        std::fs::write(repo.join(".git/worktrees/wt/commondir"), "../..\n").unwrap();
        assert_eq!(root(&worktree.join("train.py")), worktree);
        assert_eq!(git_dir(&worktree), Some(repo.join(".git/worktrees/wt")));
        assert_eq!(
            common_git_dir(&worktree).map(|d| normalize(&d)),
            Some(repo.join(".git"))
        );

        // No repository: the file's own folder.
        let alone = dir.join("alone");
        std::fs::create_dir_all(&alone).unwrap();
        if top(&dir).is_none() {
            assert_eq!(root(&alone.join("requirements.txt")), alone);
            assert_eq!(git_dir(&alone), None);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn relative_paths_and_normalizing() {
        assert_eq!(
            relative(Path::new("/r/src/a.py"), Path::new("/r")),
            "src/a.py"
        );
        assert_eq!(relative(Path::new("/x/a.py"), Path::new("/r")), "/x/a.py");
        assert_eq!(
            normalize(Path::new("/r/a/../b/./c")),
            PathBuf::from("/r/b/c")
        );
        assert_eq!(normalize(Path::new("/..")), PathBuf::from("/"));
        assert_eq!(normalize(Path::new("../a")), PathBuf::from("../a"));
    }

    #[test]
    fn the_boundary_holds_against_dots_and_links() {
        let dir = tempdir();
        let repo = dir.join("repo");
        std::fs::create_dir_all(repo.join("src")).unwrap();
        std::fs::write(dir.join("secret.txt"), "").unwrap();
        std::fs::write(repo.join("src/a.txt"), "").unwrap();
        let boundary = Boundary::new(&repo);
        assert!(boundary.contains(&repo.join("src/a.txt")));
        assert!(boundary.contains(&repo.join("not/yet/written.txt")));
        assert!(!boundary.contains(&repo.join("../secret.txt")));
        assert_eq!(
            boundary.resolve(Path::new("src/../src/a.txt")),
            Some(repo.join("src/a.txt"))
        );
        assert_eq!(boundary.resolve(Path::new("../secret.txt")), None);
        assert_eq!(boundary.resolve(&dir.join("secret.txt")), None);
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.join("secret.txt"), repo.join("link.txt")).unwrap();
            assert!(!boundary.contains(&repo.join("link.txt")));
            assert_eq!(boundary.resolve(Path::new("link.txt")), None);
        }
        assert_eq!(boundary.relative(&repo.join("src/a.txt")), "src/a.txt");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
