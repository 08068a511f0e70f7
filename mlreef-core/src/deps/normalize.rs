//! An installed folder made the same on every machine.
//!
//! What installers leave that depends on the machine, the folder or the moment, and what
//! becomes of it:
//!
//! - console scripts (`bin/*`) start with the installing machine's interpreter
//!   (`#!/root/.venv/bin/python`, or a `/bin/sh` trampoline when that path is long): the first
//!   line becomes `#!<interpreter>`, the image's;
//! - bytecode (`__pycache__/`, `*.pyc`, `*.pyo`), which also records source times: removed;
//! - `direct_url.json` of a local file (`file:///home/...`): removed;
//! - `RECORD` lists all of the above: the removed files' lines go, rewritten scripts get their
//!   new hash and size, and pip's `../../bin/NAME` (relative to its scratch folder) becomes
//!   `bin/NAME`;
//! - uv's `.lock` file at the top: removed;
//! - modes follow the umask: folders become 0755, files 0755 when any execute bit is set,
//!   else 0644.
//!
//! `INSTALLER` (`uv` or `pip`) and the scripts' bodies differ between installers, not between
//! runs: the installer's name and version are part of the folder's key.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::{Error, io_error};

/// A console script larger than this is left as it is (it is not a script an installer wrote).
const MAX_SCRIPT_BYTES: u64 = 1 << 20;
/// A `RECORD` larger than this is refused (numpy's, with some 1,000 files, is 90 KB).
const MAX_RECORD_BYTES: u64 = 64 << 20;
/// A `direct_url.json` larger than this is not one an installer wrote: it is left alone.
const MAX_DIRECT_URL_BYTES: u64 = 1 << 20;

/// What changed, by path relative to the folder.
#[derive(Default)]
struct Changes {
    removed: BTreeSet<String>,
    /// Removed folders: everything under them went too.
    removed_dirs: BTreeSet<String>,
    /// Rewritten files: their new `sha256=<urlsafe base64>` and size.
    rewritten: BTreeMap<String, (String, u64)>,
}

impl Changes {
    fn gone(&self, path: &str) -> bool {
        self.removed.contains(path)
            || self.removed_dirs.iter().any(|dir| {
                path.strip_prefix(dir.as_str())
                    .is_some_and(|r| r.starts_with('/'))
            })
    }
}

/// Normalizes the installed folder `dir`; console scripts get `#!{interpreter}`.
pub(super) fn tree(dir: &Path, interpreter: &str) -> Result<(), Error> {
    let mut changes = Changes::default();
    let lock = dir.join(".lock");
    if lock.is_file() {
        fs_err::remove_file(&lock).map_err(io_error(&lock))?;
    }
    walk(dir, dir, &mut changes)?;
    scripts(dir, interpreter, &mut changes)?;
    records(dir, &changes)?;
    Ok(())
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io_error(path))
}

// Elsewhere the layer writer decides modes: there are no permission bits to normalize.
#[cfg(not(unix))]
#[allow(clippy::unnecessary_wraps)]
fn set_mode(_: &Path, _: u32) -> Result<(), Error> {
    Ok(())
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    false
}

/// Removes bytecode and local `direct_url.json` files, and fixes modes, below `dir`.
fn walk(root: &Path, dir: &Path, changes: &mut Changes) -> Result<(), Error> {
    set_mode(dir, 0o755)?;
    let mut entries: Vec<PathBuf> = fs_err::read_dir(dir)
        .map_err(io_error(dir))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io_error(dir))?;
    entries.sort();
    for path in entries {
        let meta = fs_err::symlink_metadata(&path).map_err(io_error(&path))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if meta.file_type().is_symlink() {
            continue;
        }
        if meta.is_dir() {
            if name == "__pycache__" {
                fs_err::remove_dir_all(&path).map_err(io_error(&path))?;
                changes.removed_dirs.insert(relative(root, &path));
            } else {
                walk(root, &path, changes)?;
            }
            continue;
        }
        let local_url = name == "direct_url.json"
            && meta.len() <= MAX_DIRECT_URL_BYTES
            && path
                .parent()
                .is_some_and(|p| p.to_string_lossy().ends_with(".dist-info"))
            && fs_err::read_to_string(&path).is_ok_and(|text| text.contains("\"file:"));
        let extension = Path::new(&name).extension().and_then(|e| e.to_str());
        let bytecode = extension
            .is_some_and(|e| e.eq_ignore_ascii_case("pyc") || e.eq_ignore_ascii_case("pyo"));
        if bytecode || local_url {
            fs_err::remove_file(&path).map_err(io_error(&path))?;
            changes.removed.insert(relative(root, &path));
            continue;
        }
        let executable = is_executable(&meta);
        set_mode(&path, if executable { 0o755 } else { 0o644 })?;
    }
    Ok(())
}

/// The script `text` with its interpreter line(s) replaced by `#!{interpreter}`, when an
/// installer wrote them for a Python.
fn rewrite_script(text: &[u8], interpreter: &str) -> Option<Vec<u8>> {
    if !text.starts_with(b"#!") {
        return None;
    }
    let line_end = |from: usize| {
        text[from..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| from + i + 1)
    };
    let first_end = line_end(0)?;
    let first = String::from_utf8_lossy(&text[..first_end]);
    // distlib's trampoline for long interpreter paths:
    // #!/bin/sh
    // '''exec' "/long/path/python" "$0" "$@"
    // ' '''
    let body_start = if first.trim_end() == "#!/bin/sh" {
        let second_end = line_end(first_end)?;
        if !text[first_end..].starts_with(b"'''exec' ") {
            return None;
        }
        let third_end = line_end(second_end)?;
        if text[second_end..third_end].trim_ascii() != b"' '''" {
            return None;
        }
        third_end
    } else {
        let program = first[2..].split_whitespace().collect::<Vec<_>>();
        let names_python = |word: &str| {
            word.rsplit('/')
                .next()
                .is_some_and(|name| name.starts_with("python"))
        };
        // `#!/x/bin/python`, `#!python`, `#!/usr/bin/env python3`.
        let is_python = match program.as_slice() {
            [one, ..] if names_python(one) => true,
            [env, two, ..] if env.ends_with("/env") => names_python(two),
            _ => false,
        };
        if !is_python {
            return None;
        }
        first_end
    };
    let mut out = format!("#!{interpreter}\n").into_bytes();
    out.extend_from_slice(&text[body_start..]);
    Some(out)
}

/// Gives every console script in `bin/` the image's interpreter.
fn scripts(root: &Path, interpreter: &str, changes: &mut Changes) -> Result<(), Error> {
    let bin = root.join("bin");
    if !bin.is_dir() {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = fs_err::read_dir(&bin)
        .map_err(io_error(&bin))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io_error(&bin))?;
    entries.sort();
    for path in entries {
        let meta = fs_err::symlink_metadata(&path).map_err(io_error(&path))?;
        if !meta.is_file() || meta.len() > MAX_SCRIPT_BYTES {
            continue;
        }
        let mut text = Vec::new();
        fs_err::File::open(&path)
            .and_then(|f| f.take(MAX_SCRIPT_BYTES).read_to_end(&mut text))
            .map_err(io_error(&path))?;
        let Some(new) = rewrite_script(&text, interpreter) else {
            continue;
        };
        fs_err::write(&path, &new).map_err(io_error(&path))?;
        set_mode(&path, 0o755)?;
        changes
            .rewritten
            .insert(relative(root, &path), (record_hash(&new), new.len() as u64));
    }
    Ok(())
}

/// `sha256=<urlsafe base64 without padding>`, as `RECORD` has it.
fn record_hash(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let digest = Sha256::digest(bytes);
    let mut out = String::from("sha256=");
    for chunk in digest.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// The first CSV field of a `RECORD` line and the rest after its comma.
fn split_record_line(line: &str) -> Option<(String, &str)> {
    if let Some(quoted) = line.strip_prefix('"') {
        let mut path = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            if c == '"' {
                if quoted[i + 1..].starts_with('"') {
                    path.push('"');
                    chars.next();
                } else {
                    return Some((path, quoted[i + 1..].strip_prefix(',')?));
                }
            } else {
                path.push(c);
            }
        }
        None
    } else {
        let (path, rest) = line.split_once(',')?;
        Some((path.to_owned(), rest))
    }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Brings every `*.dist-info/RECORD` in line with the folder.
fn records(root: &Path, changes: &Changes) -> Result<(), Error> {
    let mut entries: Vec<PathBuf> = fs_err::read_dir(root)
        .map_err(io_error(root))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io_error(root))?;
    entries.sort();
    for dist_info in entries {
        if !dist_info.to_string_lossy().ends_with(".dist-info") {
            continue;
        }
        let record = dist_info.join("RECORD");
        let Ok(meta) = fs_err::symlink_metadata(&record) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        if meta.len() > MAX_RECORD_BYTES {
            return Err(Error::TooLarge {
                what: format!("`{}`", record.display()),
                limit: MAX_RECORD_BYTES,
            });
        }
        let text = fs_err::read_to_string(&record).map_err(io_error(&record))?;
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            let Some((path, rest)) = split_record_line(line) else {
                out.push_str(line);
                out.push('\n');
                continue;
            };
            // pip's scripts are listed from its scratch folder (`../../bin/NAME`).
            let mut path = path;
            let unprefixed = path.trim_start_matches("../");
            if unprefixed.len() != path.len() && unprefixed.starts_with("bin/") {
                path = unprefixed.to_owned();
            }
            if changes.gone(&path) {
                continue;
            }
            out.push_str(&csv_field(&path));
            out.push(',');
            match changes.rewritten.get(&path) {
                Some((hash, size)) => {
                    out.push_str(hash);
                    out.push(',');
                    out.push_str(&size.to_string());
                }
                None => out.push_str(rest),
            }
            out.push('\n');
        }
        if out != text {
            fs_err::write(&record, out).map_err(io_error(&record))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs_are_rewritten() {
        let env = "/usr/bin/env python3";
        assert_eq!(
            rewrite_script(b"#!/root/.venv/bin/python\nimport sys\n", env).unwrap(),
            b"#!/usr/bin/env python3\nimport sys\n"
        );
        assert_eq!(
            rewrite_script(b"#!python\nx\n", env).unwrap(),
            b"#!/usr/bin/env python3\nx\n"
        );
        let trampoline =
            b"#!/bin/sh\n'''exec' \"/a very/long/python\" \"$0\" \"$@\"\n' '''\nimport sys\n";
        assert_eq!(
            rewrite_script(trampoline, env).unwrap(),
            b"#!/usr/bin/env python3\nimport sys\n"
        );
        assert_eq!(rewrite_script(b"#!/bin/bash\necho\n", env), None);
        assert_eq!(rewrite_script(b"#!/bin/sh\necho hi\n", env), None);
        assert_eq!(rewrite_script(b"\x7fELF...", env), None);
    }

    #[test]
    fn record_hashes_and_fields() {
        // sha256 of b"" in RECORD's form.
        assert_eq!(
            record_hash(b""),
            "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
        );
        assert_eq!(
            split_record_line("\"a,\"\"b\",sha256=x,1").unwrap(),
            ("a,\"b".to_owned(), "sha256=x,1")
        );
        assert_eq!(csv_field("a,\"b"), "\"a,\"\"b\"");
        assert_eq!(
            split_record_line("six.py,,").unwrap(),
            ("six.py".to_owned(), ",")
        );
    }
}
