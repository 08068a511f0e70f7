//! Which Python a base image has.
//!
//! First the config's `PYTHON_VERSION` (the official `python:*` images set it). Else the layers:
//! the entry point runs `python3` from `PATH`, so the answer is where `python3` leads in the
//! first `PATH` folder that has one (`usr/local/bin/python3 -> python3.12`), or the newest
//! `pythonX.Y` beside it; when no folder has a `python3`, the newest `pythonX.Y` of the first
//! folder that has any. Layers are read top first, as a union file system shows them: an upper
//! layer's file hides a lower one's, and whiteouts (`.wh.NAME`, `.wh..wh..opq`) hide what is
//! below them.
//!
//! A base layer is untrusted input: it is streamed (gzip, zstd or plain tar), never held in
//! memory; its size, its number of entries and its long-name records are bounded; and an
//! entry with an absolute path or a `..` component is refused, naming the layer. The answer for
//! a given set of layers is kept in the store's records, so a base is read once.

use std::collections::BTreeMap;
use std::io::{self, BufReader, Read};

use crate::oci::{BlobStore, Compression, Image, Layer};

use super::Error;

/// Entries read from one layer at most.
const MAX_ENTRIES: u64 = 4_000_000;
/// Uncompressed bytes read from one layer at most (a decompression bomb stops here).
const MAX_LAYER_BYTES: u64 = 64 << 30;
/// A GNU long name or a PAX record set, at most.
const MAX_EXTENSION_BYTES: u64 = 64 << 10;
/// `PATH` folders looked at, at most.
const MAX_PATH_DIRS: usize = 64;
/// Docker's `PATH` when the config sets none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The Python version (`3.11`) of a base image, or `None` when it has none we can see.
///
/// Every layer read must be in `store`.
pub fn python_version(image: &Image, store: &BlobStore) -> Result<Option<String>, Error> {
    if let Some(version) = config_python(image) {
        return Ok(Some(version));
    }
    let env = config_env(image);
    let path = variable(&env, "PATH").unwrap_or(DEFAULT_PATH);
    let dirs: Vec<String> = path
        .split(':')
        .filter_map(|dir| normalize(dir.strip_prefix('/')?.as_bytes()).ok().flatten())
        .take(MAX_PATH_DIRS)
        .collect();

    // The layers are content addressed: the answer for the same layers and PATH never changes.
    let mut key = vec!["python-in-layers-v1", path];
    let digests: Vec<String> = image.layers.iter().map(|l| l.digest.to_string()).collect();
    key.extend(digests.iter().map(String::as_str));
    let record = format!("deps-python-{}", super::hex_of(&super::digest_of(&key)));
    if let Some(kept) = store.record(&record) {
        let kept = String::from_utf8_lossy(&kept).into_owned();
        return Ok((!kept.is_empty()).then_some(kept));
    }

    let mut view = View::new(dirs);
    for layer in image.layers.iter().rev() {
        view.read_layer(layer, store)?;
    }
    let found = view.decide();
    store.set_record(&record, found.as_deref().unwrap_or("").as_bytes())?;
    Ok(found)
}

/// The Python version the base's config gives (`PYTHON_VERSION`, as the official `python:*`
/// images set it), which needs none of its layers.
#[must_use]
pub fn config_python(image: &Image) -> Option<String> {
    variable(&config_env(image), "PYTHON_VERSION").and_then(major_minor)
}

fn config_env(image: &Image) -> Vec<String> {
    image
        .config
        .config()
        .as_ref()
        .and_then(|c| c.env().clone())
        .unwrap_or_default()
}

/// The value of `NAME=value` in `env`.
fn variable<'a>(env: &'a [String], name: &str) -> Option<&'a str> {
    env.iter()
        .find_map(|entry| entry.strip_prefix(name)?.strip_prefix('='))
}

/// `3.11` from `3.11.7`, `3.11`, `3.12.0rc1`.
fn major_minor(version: &str) -> Option<String> {
    let mut parts = version.trim().split('.');
    let major = parts.next()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let numeric = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    (numeric(major) && numeric(&minor)).then(|| format!("{major}.{minor}"))
}

/// `(3, 11)` from the program name `python3.11`.
fn program_version(name: &str) -> Option<(u32, u32)> {
    let (major, minor) = name.strip_prefix("python")?.split_once('.')?;
    let number = |s: &str| {
        (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    Some((number(major)?, number(minor)?))
}

/// A layer entry's path, normalized (`./usr//bin/` -> `usr/bin`); `None` for the root itself
/// (`./`, and `/`, which umoci writes); `Err` with the path as written when it is absolute or
/// has a `..` component.
fn normalize(raw: &[u8]) -> Result<Option<String>, String> {
    let text = String::from_utf8_lossy(raw);
    if text.split('/').all(|part| part.is_empty() || part == ".") {
        return Ok(None);
    }
    if text.starts_with('/') {
        return Err(text.into_owned());
    }
    let mut parts = Vec::new();
    for part in text.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(text.into_owned()),
            other => parts.push(other),
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join("/")))
}

fn split_parent(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

fn inside(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// What a `python*` name in a `PATH` folder is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Found {
    Program,
    Link(String),
}

/// The union of the layers read so far (top first), as far as the `PATH` folders go.
struct View {
    dirs: Vec<String>,
    /// `PATH` folder -> name -> what it is, decided by the highest layer that has it.
    found: BTreeMap<String, BTreeMap<String, Found>>,
    /// Paths deleted by the layers read so far (with everything under them).
    deleted: Vec<String>,
    /// Folders whose lower contents the layers read so far hide.
    opaque: Vec<String>,
}

/// What one layer says about the `PATH` folders.
#[derive(Default)]
struct LayerView {
    found: Vec<(String, String, Found)>,
    deleted: Vec<String>,
    opaque: Vec<String>,
}

impl View {
    fn new(dirs: Vec<String>) -> View {
        View {
            dirs,
            found: BTreeMap::new(),
            deleted: Vec::new(),
            opaque: Vec::new(),
        }
    }

    /// Whether an upper layer hides `path` of the layers below it.
    fn hidden(&self, path: &str) -> bool {
        self.deleted.iter().any(|d| path == d || inside(path, d))
            || self.opaque.iter().any(|d| inside(path, d))
    }

    /// Whether a whiteout of `path` can matter: it is a `PATH` folder, above one, or in one.
    fn relevant(&self, path: &str) -> bool {
        self.dirs
            .iter()
            .any(|d| d == path || inside(d, path) || inside(path, d))
    }

    fn read_layer(&mut self, layer: &Layer, store: &BlobStore) -> Result<(), Error> {
        let name = layer.digest.to_string();
        if !store.contains(&layer.digest) {
            return Err(Error::MissingLayer { layer: name });
        }
        let file = store.open_blob(&layer.digest)?;
        let compression =
            Compression::of_media_type(&layer.media_type).ok_or_else(|| Error::BadLayer {
                layer: name.clone(),
                reason: format!("its media type `{}` is not a tar layer", layer.media_type),
                source: None,
            })?;
        let reader: Box<dyn Read> = match compression {
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file))),
            Compression::Zstd => {
                Box::new(
                    zstd::stream::read::Decoder::new(file).map_err(|e| Error::BadLayer {
                        layer: name.clone(),
                        reason: "not zstd".into(),
                        source: Some(e),
                    })?,
                )
            }
            Compression::None => Box::new(BufReader::new(file)),
        };
        let limited = Limited {
            inner: reader,
            left: MAX_LAYER_BYTES,
        };
        let seen = self.scan(limited, &name)?;
        for (dir, program, what) in seen.found {
            let path = format!("{dir}/{program}");
            if !self.hidden(&path) {
                self.found
                    .entry(dir)
                    .or_default()
                    .entry(program)
                    .or_insert(what);
            }
        }
        // A layer's whiteouts hide what is below it, not its own entries: merged after them.
        self.deleted.extend(seen.deleted);
        self.opaque.extend(seen.opaque);
        Ok(())
    }

    fn scan(&self, reader: impl Read, layer: &str) -> Result<LayerView, Error> {
        let bad = |reason: &str, source: io::Error| Error::BadLayer {
            layer: layer.to_owned(),
            reason: reason.to_owned(),
            source: Some(source),
        };
        let mut archive = tar::Archive::new(reader);
        // Raw: GNU long names and PAX records come to us, to be read within a bound (the tar
        // crate would read them whole, whatever size they claim).
        let entries = archive
            .entries()
            .map_err(|e| bad("not a tar stream", e))?
            .raw(true);
        let mut out = LayerView::default();
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut pax: Option<Vec<u8>> = None;
        for (count, entry) in entries.enumerate() {
            if count as u64 >= MAX_ENTRIES {
                return Err(Error::TooLarge {
                    what: format!("the entry count of base layer {layer}"),
                    limit: MAX_ENTRIES,
                });
            }
            let mut entry = entry.map_err(|e| bad("not a tar stream", e))?;
            let kind = entry.header().entry_type();
            if kind.is_gnu_longname() || kind.is_gnu_longlink() || kind.is_pax_local_extensions() {
                let bytes = read_bounded(&mut entry, layer)?;
                if kind.is_gnu_longname() {
                    long_name = Some(bytes);
                } else if kind.is_gnu_longlink() {
                    long_link = Some(bytes);
                } else {
                    pax = Some(bytes);
                }
                continue;
            }
            if kind.is_pax_global_extensions() {
                read_bounded(&mut entry, layer)?;
                continue;
            }
            let pax_records = pax.take().map(|p| pax_paths(&p)).unwrap_or_default();
            let raw_path = long_name
                .take()
                .map(trim_nul)
                .or(pax_records.0)
                .unwrap_or_else(|| entry.header().path_bytes().into_owned());
            let raw_link = long_link
                .take()
                .map(trim_nul)
                .or(pax_records.1)
                .or_else(|| {
                    entry
                        .header()
                        .link_name_bytes()
                        .map(std::borrow::Cow::into_owned)
                });
            let unsafe_path = |path: String| Error::UnsafeLayerPath {
                layer: layer.to_owned(),
                path,
            };
            let Some(path) = normalize(&raw_path).map_err(unsafe_path)? else {
                continue;
            };
            if kind.is_hard_link() {
                // A hard link's target is a path in the layer: it may not leave the root either.
                if let Some(link) = &raw_link {
                    normalize(link).map_err(unsafe_path)?;
                }
            }
            let (parent, name) = split_parent(&path);
            if name == ".wh..wh..opq" {
                if self.relevant(parent) {
                    out.opaque.push(parent.to_owned());
                }
                continue;
            }
            if let Some(hidden) = name.strip_prefix(".wh.") {
                let hidden = if parent.is_empty() {
                    hidden.to_owned()
                } else {
                    format!("{parent}/{hidden}")
                };
                if self.relevant(&hidden) {
                    out.deleted.push(hidden);
                }
                continue;
            }
            if !self.dirs.iter().any(|d| d == parent)
                || !(name == "python3" || program_version(name).is_some())
            {
                continue;
            }
            let what = if kind.is_symlink() {
                Found::Link(String::from_utf8_lossy(raw_link.as_deref().unwrap_or_default()).into())
            } else if kind.is_file() || kind.is_hard_link() || kind.is_contiguous() {
                Found::Program
            } else {
                continue;
            };
            out.found.push((parent.to_owned(), name.to_owned(), what));
        }
        Ok(out)
    }

    /// The version `python3` on `PATH` runs, else the newest `pythonX.Y` found first.
    fn decide(&self) -> Option<String> {
        let newest = |dir: &BTreeMap<String, Found>| {
            dir.keys()
                .filter_map(|name| program_version(name))
                .max()
                .map(|(major, minor)| format!("{major}.{minor}"))
        };
        let mut fallback = None;
        for dir in &self.dirs {
            let Some(programs) = self.found.get(dir) else {
                continue;
            };
            match programs.get("python3") {
                Some(Found::Link(target)) => {
                    let (_, name) = split_parent(target);
                    if let Some((major, minor)) = program_version(name) {
                        return Some(format!("{major}.{minor}"));
                    }
                    if let Some(version) = newest(programs) {
                        return Some(version);
                    }
                }
                Some(Found::Program) => {
                    if let Some(version) = newest(programs) {
                        return Some(version);
                    }
                }
                None => {
                    if fallback.is_none() {
                        fallback = newest(programs);
                    }
                }
            }
        }
        fallback
    }
}

fn trim_nul(mut bytes: Vec<u8>) -> Vec<u8> {
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    bytes
}

fn read_bounded(entry: &mut impl Read, layer: &str) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    entry
        .take(MAX_EXTENSION_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::BadLayer {
            layer: layer.to_owned(),
            reason: "not a tar stream".into(),
            source: Some(e),
        })?;
    if bytes.len() as u64 > MAX_EXTENSION_BYTES {
        return Err(Error::TooLarge {
            what: format!("a long name or PAX record in base layer {layer}"),
            limit: MAX_EXTENSION_BYTES,
        });
    }
    Ok(bytes)
}

/// The `path` and `linkpath` of PAX records (`LEN key=value\n`...).
fn pax_paths(mut records: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let (mut path, mut link) = (None, None);
    while let Some(space) = records.iter().position(|&b| b == b' ') {
        let Some(len) = std::str::from_utf8(&records[..space])
            .ok()
            .and_then(|l| l.parse::<usize>().ok())
            .filter(|&l| l > space + 1 && l <= records.len())
        else {
            break;
        };
        let record = &records[space + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(value) = record.strip_prefix(b"path=") {
            path = Some(value.to_vec());
        } else if let Some(value) = record.strip_prefix(b"linkpath=") {
            link = Some(value.to_vec());
        }
        records = &records[len..];
    }
    (path, link)
}

/// A reader that fails past `left` bytes.
struct Limited<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self
            .left
            .checked_sub(n as u64)
            .ok_or_else(|| io::Error::other(format!("more than {MAX_LAYER_BYTES} bytes")))?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_text_and_names() {
        assert_eq!(major_minor("3.11.7").as_deref(), Some("3.11"));
        assert_eq!(major_minor("3.12").as_deref(), Some("3.12"));
        assert_eq!(major_minor("3.13.0rc1").as_deref(), Some("3.13"));
        assert_eq!(major_minor("three"), None);
        assert_eq!(major_minor("3"), None);
        assert_eq!(program_version("python3.11"), Some((3, 11)));
        assert_eq!(program_version("python3.11-config"), None);
        assert_eq!(program_version("python3"), None);
        assert_eq!(program_version("python3.99999"), None);
    }

    #[test]
    fn paths_are_normalized_or_refused() {
        assert_eq!(
            normalize(b"./usr//bin/").unwrap().as_deref(),
            Some("usr/bin")
        );
        assert_eq!(normalize(b"./").unwrap(), None);
        // The root's own entry, as umoci writes it, is the root, not a way out of it.
        assert_eq!(normalize(b"/").unwrap(), None);
        assert_eq!(normalize(b"/./").unwrap(), None);
        assert!(normalize(b"/etc/passwd").is_err());
        assert!(normalize(b"usr/../../etc").is_err());
        assert!(normalize(b"..").is_err());
        assert_eq!(normalize(b"a..b/c").unwrap().as_deref(), Some("a..b/c"));
    }

    #[test]
    fn pax_records() {
        let records = b"30 mtime=1700000000.123456789\n18 path=usr/bin/x\n";
        assert_eq!(pax_paths(records), (Some(b"usr/bin/x".to_vec()), None));
        assert_eq!(pax_paths(b"999 path=x\n"), (None, None));
    }

    #[test]
    fn python3_on_path_decides() {
        let mut view = View::new(vec!["usr/local/bin".into(), "usr/bin".into()]);
        let mut dir = BTreeMap::new();
        dir.insert("python3.11".into(), Found::Program);
        dir.insert("python3".into(), Found::Link("python3.11".into()));
        view.found.insert("usr/bin".into(), dir);
        assert_eq!(view.decide().as_deref(), Some("3.11"));
        let mut local = BTreeMap::new();
        local.insert("python3.12".into(), Found::Program);
        local.insert(
            "python3".into(),
            Found::Link("/usr/local/bin/python3.12".into()),
        );
        view.found.insert("usr/local/bin".into(), local);
        assert_eq!(view.decide().as_deref(), Some("3.12"));
    }
}
