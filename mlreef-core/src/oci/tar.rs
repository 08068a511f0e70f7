//! Layers written as deterministic tars, in one streaming pass.
//!
//! A layer is a list of [`Entry`] values (files from paths or bytes, folders, links, devices,
//! fifos). [`write_layer`] sorts them by path, writes each as a tar entry with the caller's
//! fixed mtime, no user or group names and no extended attributes, and streams the tar through
//! the `diff_id` hash and the compressor into the blob store (see `compress`): neither a whole
//! layer nor a whole file is ever held in memory. Paths of 100 bytes and more, link targets as
//! long, and files of 8 GiB and more use GNU's long-name entries and base-256 sizes, which
//! every tar reader of the container tools accepts.
//!
//! Our own layers ([`directory_layer`], the code layer) belong to root with normalized modes
//! (folders `0755`, files `0644`, or `0755` when any execute bit is set), so that the same tree
//! gives the same bytes on every machine; a root file system keeps what it has (see `rootfs`).

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _};
use std::path::{Component, Path, PathBuf};

use ::tar::{EntryType, Header};

use super::Error;
use super::blobs::BlobStore;
use super::compress::LayerSink;
use super::layer::{Compression, Layer, LayerRole, Location};
use crate::progress::{Event, Progress, Silent};

/// How a layer is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerOptions {
    pub compression: Compression,
    /// The modification time of every entry, in seconds since the epoch (`SOURCE_DATE_EPOCH`,
    /// else the commit time, else 0: the build decides).
    pub mtime: u64,
    /// Compression threads; 0 is one per core. The bytes do not depend on it.
    pub threads: usize,
    pub role: LayerRole,
    /// What made the layer, for the image's history.
    pub created_by: String,
}

impl Default for LayerOptions {
    fn default() -> Self {
        LayerOptions {
            compression: Compression::Gzip,
            mtime: 0,
            threads: 0,
            role: LayerRole::Code,
            created_by: String::new(),
        }
    }
}

/// Where a file's contents come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A file on disk, read (streamed) when the layer is written.
    Path(PathBuf),
    Bytes(Vec<u8>),
}

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File(Content),
    Dir,
    /// A symbolic link and its target, exactly as it is to be stored.
    Symlink(PathBuf),
    /// A hard link to an earlier entry of the same layer (its path in the layer).
    HardLink(PathBuf),
    CharDevice {
        major: u32,
        minor: u32,
    },
    BlockDevice {
        major: u32,
        minor: u32,
    },
    Fifo,
}

/// One entry of a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The path in the image, relative to its root (`workdir/main.py`; a leading `/` is
    /// dropped). `..` is refused.
    pub path: PathBuf,
    pub kind: EntryKind,
    /// The mode bits to keep (setuid, setgid and sticky included); `None` normalizes them.
    pub mode: Option<u32>,
    pub uid: u64,
    pub gid: u64,
}

impl Entry {
    fn new(path: impl Into<PathBuf>, kind: EntryKind) -> Entry {
        Entry {
            path: path.into(),
            kind,
            mode: None,
            uid: 0,
            gid: 0,
        }
    }

    /// A file whose contents are read from `source` when the layer is written.
    pub fn file(path: impl Into<PathBuf>, source: impl Into<PathBuf>) -> Entry {
        Entry::new(path, EntryKind::File(Content::Path(source.into())))
    }

    pub fn bytes(path: impl Into<PathBuf>, bytes: impl Into<Vec<u8>>) -> Entry {
        Entry::new(path, EntryKind::File(Content::Bytes(bytes.into())))
    }

    pub fn dir(path: impl Into<PathBuf>) -> Entry {
        Entry::new(path, EntryKind::Dir)
    }

    pub fn symlink(path: impl Into<PathBuf>, target: impl Into<PathBuf>) -> Entry {
        Entry::new(path, EntryKind::Symlink(target.into()))
    }

    pub fn hard_link(path: impl Into<PathBuf>, target: impl Into<PathBuf>) -> Entry {
        Entry::new(path, EntryKind::HardLink(target.into()))
    }

    pub fn char_device(path: impl Into<PathBuf>, major: u32, minor: u32) -> Entry {
        Entry::new(path, EntryKind::CharDevice { major, minor })
    }

    pub fn block_device(path: impl Into<PathBuf>, major: u32, minor: u32) -> Entry {
        Entry::new(path, EntryKind::BlockDevice { major, minor })
    }

    pub fn fifo(path: impl Into<PathBuf>) -> Entry {
        Entry::new(path, EntryKind::Fifo)
    }

    /// The entry with these mode bits kept as they are.
    #[must_use]
    pub fn with_mode(mut self, mode: u32) -> Entry {
        self.mode = Some(mode & 0o7777);
        self
    }

    /// The entry owned by `uid:gid` (root otherwise).
    #[must_use]
    pub fn with_owner(mut self, uid: u64, gid: u64) -> Entry {
        self.uid = uid;
        self.gid = gid;
        self
    }
}

/// The mode our own layers give: `0755` for folders and for files with any execute bit,
/// `0644` for other files, `0777` for symbolic links.
#[must_use]
pub fn normalized_mode(kind: &EntryKind, mode: u32) -> u32 {
    match kind {
        EntryKind::Dir => 0o755,
        EntryKind::Symlink(_) => 0o777,
        _ if mode & 0o111 != 0 => 0o755,
        _ => 0o644,
    }
}

/// `path` as a tar path: relative, without `.` components; `None` when it has `..` or is
/// empty.
fn tar_path(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

fn invalid_entry(path: &Path, reason: &str) -> Error {
    Error::Invalid {
        what: format!("layer entry `{}`", path.display()),
        reason: reason.to_owned(),
    }
}

/// Checks and sorts entries: paths made relative, sorted component by component (so a folder
/// comes right before what it holds), no path twice, hard links only to earlier files.
pub(crate) fn prepare(mut entries: Vec<Entry>) -> Result<Vec<Entry>, Error> {
    for entry in &mut entries {
        entry.path = tar_path(&entry.path)
            .ok_or_else(|| invalid_entry(&entry.path, "a layer path is relative, without `..`"))?;
        if let EntryKind::HardLink(target) = &entry.kind {
            let target = tar_path(target).ok_or_else(|| {
                invalid_entry(&entry.path, "a hard link points to a path in the layer")
            })?;
            entry.kind = EntryKind::HardLink(target);
        }
    }
    // Path's order compares components, each as bytes.
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    let mut files = HashSet::new();
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 && entries[i - 1].path == entry.path {
            return Err(invalid_entry(&entry.path, "the layer lists it twice"));
        }
        match &entry.kind {
            EntryKind::HardLink(target) if !files.contains(target.as_path()) => {
                return Err(invalid_entry(
                    &entry.path,
                    &format!(
                        "a hard link must point to a file listed before it, and `{}` is not one",
                        target.display()
                    ),
                ));
            }
            EntryKind::File(_) => {
                files.insert(entry.path.as_path());
            }
            _ => {}
        }
    }
    Ok(entries)
}

/// Counts content bytes and reports them; remembers why a write failed when the cause is
/// ours (a cancel, a source file) rather than the sink's.
pub(crate) struct Meter<'a> {
    progress: &'a dyn Progress,
    stage: &'a str,
    detail: String,
    done: u64,
    total: Option<u64>,
    reported: u64,
}

/// Bytes between two progress reports.
const REPORT_EVERY: u64 = 1 << 20;

impl<'a> Meter<'a> {
    pub(crate) fn new(
        progress: &'a dyn Progress,
        stage: &'a str,
        detail: String,
        total: Option<u64>,
    ) -> Meter<'a> {
        Meter {
            progress,
            stage,
            detail,
            done: 0,
            total,
            reported: 0,
        }
    }

    fn report(&mut self) -> Result<(), Error> {
        self.reported = self.done;
        self.progress.report(&Event {
            stage: self.stage,
            done: self.done,
            total: self.total,
            detail: Some(&self.detail),
        })?;
        Ok(())
    }

    /// Reports the start.
    pub(crate) fn start(&mut self) -> Result<(), Error> {
        self.report()
    }

    pub(crate) fn add(&mut self, n: u64) -> Result<(), Error> {
        self.done += n;
        if self.done - self.reported >= REPORT_EVERY {
            self.report()?;
        }
        Ok(())
    }

    /// Reports the end.
    pub(crate) fn finish(&mut self) -> Result<(), Error> {
        if self.total.is_some_and(|t| t < self.done) {
            self.total = Some(self.done);
        }
        self.report()
    }
}

/// The chunk in which file contents are streamed.
const CHUNK: usize = 1 << 20;

/// A tar stream written entry by entry.
pub(crate) struct TarWriter<W: Write> {
    out: W,
    mtime: u64,
    buffer: Vec<u8>,
}

/// What a write failed on: the output (`Sink`) or the entry's source (an error that already
/// names it, or a cancel).
pub(crate) enum TarError {
    Sink(io::Error),
    Source(Error),
}

impl From<io::Error> for TarError {
    fn from(error: io::Error) -> Self {
        TarError::Sink(error)
    }
}

/// The fields of one header.
pub(crate) struct HeaderFields<'a> {
    pub path: &'a [u8],
    pub entry_type: EntryType,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    pub link: Option<&'a [u8]>,
    pub device: Option<(u32, u32)>,
}

const NAME_LEN: usize = 100;

impl<W: Write> TarWriter<W> {
    pub(crate) fn new(out: W, mtime: u64) -> TarWriter<W> {
        TarWriter {
            out,
            mtime,
            buffer: Vec::new(),
        }
    }

    /// GNU's long-name (`L`) or long-link (`K`) entry: the whole name as data, NUL-terminated.
    fn long_name(&mut self, kind: u8, name: &[u8]) -> io::Result<()> {
        let mut header = Header::new_gnu();
        header.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_size(name.len() as u64 + 1);
        header.set_entry_type(EntryType::new(kind));
        header.set_cksum();
        self.out.write_all(header.as_bytes())?;
        self.out.write_all(name)?;
        self.out.write_all(&[0])?;
        self.pad(name.len() as u64 + 1)
    }

    fn pad(&mut self, len: u64) -> io::Result<()> {
        let rest = (512 - len % 512) % 512;
        #[allow(clippy::cast_possible_truncation)] // below 512
        self.out.write_all(&[0; 512][..rest as usize])
    }

    /// Writes a header (and the long-name entries it needs before it).
    pub(crate) fn header(&mut self, fields: &HeaderFields<'_>) -> io::Result<()> {
        let mut header = Header::new_gnu();
        if fields.path.len() > NAME_LEN {
            self.long_name(b'L', fields.path)?;
        }
        let name = &fields.path[..fields.path.len().min(NAME_LEN)];
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        if let Some(link) = fields.link {
            if link.len() > NAME_LEN {
                self.long_name(b'K', link)?;
            }
            let link = &link[..link.len().min(NAME_LEN)];
            header.as_old_mut().linkname[..link.len()].copy_from_slice(link);
        }
        header.set_entry_type(fields.entry_type);
        header.set_mode(fields.mode);
        header.set_uid(fields.uid);
        header.set_gid(fields.gid);
        header.set_mtime(self.mtime);
        header.set_size(fields.size);
        if let Some((major, minor)) = fields.device {
            header.set_device_major(major)?;
            header.set_device_minor(minor)?;
        }
        header.set_cksum();
        self.out.write_all(header.as_bytes())
    }

    /// Writes exactly `size` bytes of `source` (named `path` in errors) and the padding. A
    /// source that ends early or goes on longer changed while it was read: the header has
    /// promised `size`.
    pub(crate) fn data(
        &mut self,
        source: &mut dyn Read,
        size: u64,
        path: &Path,
        meter: &mut Meter<'_>,
    ) -> Result<(), TarError> {
        if self.buffer.is_empty() {
            self.buffer = vec![0; CHUNK];
        }
        let source_error = |source: io::Error| {
            TarError::Source(Error::Io {
                path: path.to_owned(),
                source,
            })
        };
        let mut left = size;
        while left > 0 {
            let want = usize::try_from(left).map_or(CHUNK, |left| left.min(CHUNK));
            let n = match source.read(&mut self.buffer[..want]) {
                Ok(0) => {
                    return Err(source_error(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("the file shrank from {size} bytes while it was being read"),
                    )));
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(source_error(e)),
            };
            self.out.write_all(&self.buffer[..n])?;
            left -= n as u64;
            meter.add(n as u64).map_err(TarError::Source)?;
        }
        let mut probe = [0; 1];
        if source.read(&mut probe).map_err(source_error)? > 0 {
            return Err(source_error(io::Error::other(format!(
                "the file grew past {size} bytes while it was being read"
            ))));
        }
        self.pad(size).map_err(TarError::Sink)
    }

    /// Ends the archive (two zero blocks).
    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&[0; 1024])?;
        Ok(self.out)
    }

    /// Writes one entry of a layer.
    fn entry(&mut self, entry: &Entry, meter: &mut Meter<'_>) -> Result<(), TarError> {
        let path = entry.path.as_os_str().as_bytes();
        let mut fields = HeaderFields {
            path,
            entry_type: EntryType::Regular,
            mode: 0,
            uid: entry.uid,
            gid: entry.gid,
            size: 0,
            link: None,
            device: None,
        };
        let mode = |given_mode: u32| {
            entry
                .mode
                .unwrap_or_else(|| normalized_mode(&entry.kind, given_mode))
        };
        match &entry.kind {
            EntryKind::File(Content::Bytes(bytes)) => {
                fields.mode = mode(0o644);
                fields.size = bytes.len() as u64;
                self.header(&fields)?;
                self.data(&mut &bytes[..], fields.size, &entry.path, meter)
            }
            EntryKind::File(Content::Path(source)) => {
                let io_error = |e| {
                    TarError::Source(Error::Io {
                        path: source.clone(),
                        source: e,
                    })
                };
                // Opening a fifo would wait for a writer: look first.
                if !fs::metadata(source).map_err(io_error)?.is_file() {
                    return Err(TarError::Source(invalid_entry(
                        source,
                        "it is not a regular file",
                    )));
                }
                let mut file = File::open(source).map_err(io_error)?;
                // The size and mode of the file opened, not of an earlier look at its path.
                let meta = file.metadata().map_err(io_error)?;
                if !meta.is_file() {
                    return Err(TarError::Source(invalid_entry(
                        source,
                        "it is no longer a regular file",
                    )));
                }
                fields.mode = mode(meta.mode());
                fields.size = meta.len();
                self.header(&fields)?;
                self.data(&mut file, fields.size, source, meter)
            }
            EntryKind::Dir => {
                // A folder's name ends with `/`, as GNU tar and Docker write it.
                let mut name = path.to_vec();
                name.push(b'/');
                fields.path = &name;
                fields.entry_type = EntryType::Directory;
                fields.mode = mode(0o755);
                self.header(&fields).map_err(TarError::Sink)
            }
            EntryKind::Symlink(target) | EntryKind::HardLink(target) => {
                fields.entry_type = if matches!(entry.kind, EntryKind::Symlink(_)) {
                    EntryType::Symlink
                } else {
                    EntryType::Link
                };
                let target = target.as_os_str().as_bytes();
                if target.is_empty() || target.contains(&0) {
                    return Err(TarError::Source(invalid_entry(
                        &entry.path,
                        "a link target is not empty and has no NUL byte",
                    )));
                }
                fields.link = Some(target);
                fields.mode = mode(0o777);
                self.header(&fields).map_err(TarError::Sink)
            }
            EntryKind::CharDevice { major, minor } | EntryKind::BlockDevice { major, minor } => {
                fields.entry_type = if matches!(entry.kind, EntryKind::CharDevice { .. }) {
                    EntryType::Char
                } else {
                    EntryType::Block
                };
                fields.device = Some((*major, *minor));
                fields.mode = mode(0o644);
                self.header(&fields).map_err(TarError::Sink)
            }
            EntryKind::Fifo => {
                fields.entry_type = EntryType::Fifo;
                fields.mode = mode(0o644);
                self.header(&fields).map_err(TarError::Sink)
            }
        }
    }
}

/// The bytes of file contents a layer will hold, for progress.
fn content_bytes(entries: &[Entry]) -> u64 {
    entries
        .iter()
        .map(|entry| match &entry.kind {
            EntryKind::File(Content::Bytes(bytes)) => bytes.len() as u64,
            EntryKind::File(Content::Path(path)) => fs::metadata(path).map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

/// Writes `entries` as a layer into `store`, and returns it. Progress is reported as stage
/// `layer`, in bytes of file contents, with the layer's role as detail; a cancel stops the
/// write and leaves nothing in the store.
pub fn write_layer(
    store: &BlobStore,
    entries: Vec<Entry>,
    options: &LayerOptions,
    progress: &dyn Progress,
) -> Result<Layer, Error> {
    let entries = prepare(entries)?;
    let mut meter = Meter::new(
        progress,
        "layer",
        options.role.to_string(),
        Some(content_bytes(&entries)),
    );
    meter.start()?;
    let tmp = store.root().join("tmp");
    let sink_error = |source| Error::Io {
        path: tmp.clone(),
        source,
    };
    let sink = LayerSink::new(store.writer()?, options.compression, options.threads)
        .map_err(sink_error)?;
    // Headers are 512 bytes: gather them before they reach the hash and the compressor.
    let mut tar = TarWriter::new(BufWriter::with_capacity(256 * 1024, sink), options.mtime);
    for entry in &entries {
        match tar.entry(entry, &mut meter) {
            Ok(()) => {}
            Err(TarError::Sink(e)) => return Err(sink_error(e)),
            Err(TarError::Source(e)) => return Err(e),
        }
    }
    let sink = tar
        .finish()
        .and_then(|buffered| {
            buffered
                .into_inner()
                .map_err(io::IntoInnerError::into_error)
        })
        .map_err(sink_error)?;
    let (blob, diff_id, tar_len) = sink.finish().map_err(sink_error)?;
    let (digest, size) = blob.commit()?;
    store.set_uncompressed(&digest, &diff_id, tar_len)?;
    meter.finish()?;
    Ok(Layer {
        media_type: options.compression.media_type(),
        digest,
        size,
        diff_id,
        role: options.role,
        cached: false,
        created_by: options.created_by.clone(),
        location: Location::Store,
    })
}

/// The folder entries of `image_path` and each of its parents (`opt/`, `opt/mlreef/`, ...).
pub(crate) fn parent_dirs(image_path: &Path) -> Vec<Entry> {
    image_path
        .ancestors()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Entry::dir)
        .collect()
}

/// Lists a folder's tree for a layer, depth first: calls `visit` with each path (absolute and
/// relative to `root`) and its metadata (not following links); `visit` returns whether to go
/// into a folder. Iterative, so a deep tree cannot exhaust the stack.
pub(crate) fn walk(
    root: &Path,
    mut visit: impl FnMut(&Path, &Path, &fs::Metadata) -> Result<bool, Error>,
) -> Result<(), Error> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let dir = root.join(&relative);
        for child in fs::read_dir(&dir).map_err(io(&dir))? {
            let child = child.map_err(io(&dir))?;
            let path = child.path();
            let meta = fs::symlink_metadata(&path).map_err(io(&path))?;
            let relative = relative.join(child.file_name());
            if visit(&path, &relative, &meta)? && meta.is_dir() {
                pending.push(relative);
            }
        }
    }
    Ok(())
}

/// A layer holding the folder `dir`'s whole tree under `image_path` (for example
/// `opt/mlreef/site-packages`), with `image_path`'s parent folders: owned by root, modes
/// normalized, symbolic links stored as they are. Hard links are stored as separate files, so
/// that how an installer linked its files does not change the layer. Anything but files,
/// folders and links is refused.
pub fn directory_layer(
    store: &BlobStore,
    dir: &Path,
    image_path: impl AsRef<Path>,
    options: &LayerOptions,
) -> Result<Layer, Error> {
    directory_layer_with_progress(store, dir, image_path, options, &Silent)
}

/// [`directory_layer`], reporting progress (and cancellable) through `progress`.
pub fn directory_layer_with_progress(
    store: &BlobStore,
    dir: &Path,
    image_path: impl AsRef<Path>,
    options: &LayerOptions,
    progress: &dyn Progress,
) -> Result<Layer, Error> {
    let entries = directory_entries(dir, image_path)?;
    write_layer(store, entries, options, progress)
}

/// The entries [`directory_layer`] writes: the folder `dir`'s tree under `image_path`, with
/// `image_path`'s parent folders. More entries can join them before [`write_layer`].
pub fn directory_entries(dir: &Path, image_path: impl AsRef<Path>) -> Result<Vec<Entry>, Error> {
    let image_path = tar_path(image_path.as_ref()).ok_or_else(|| Error::Invalid {
        what: format!("image path `{}`", image_path.as_ref().display()),
        reason: "it must name a folder, without `..`".into(),
    })?;
    let mut entries = parent_dirs(&image_path);
    walk(dir, |path, relative, meta| {
        let inside = image_path.join(relative);
        let kind = meta.file_type();
        let entry = if kind.is_dir() {
            Entry::dir(inside)
        } else if kind.is_file() {
            Entry::file(inside, path)
        } else if kind.is_symlink() {
            let target = fs::read_link(path).map_err(|source| Error::Io {
                path: path.to_owned(),
                source,
            })?;
            Entry::symlink(inside, target)
        } else {
            return Err(invalid_entry(
                path,
                "only files, folders and symbolic links go into this layer",
            ));
        };
        entries.push(entry);
        Ok(true)
    })?;
    Ok(entries)
}

/// The Linux device numbers of `rdev` (glibc's `major`/`minor` encoding).
#[must_use]
pub(crate) fn device_numbers(rdev: u64) -> (u32, u32) {
    let major = ((rdev >> 32) & 0xffff_f000) | ((rdev >> 8) & 0x0fff);
    let minor = ((rdev >> 12) & 0xffff_ff00) | (rdev & 0x00ff);
    #[allow(clippy::cast_possible_truncation)] // both fit in 32 bits by construction
    (major as u32, minor as u32)
}

/// The entry kind of a file system object, for bases that keep everything (`None` for a
/// socket, which a tar cannot hold).
pub(crate) fn special_kind(meta: &fs::Metadata) -> Option<EntryKind> {
    let kind = meta.file_type();
    let (major, minor) = device_numbers(meta.rdev());
    if kind.is_char_device() {
        Some(EntryKind::CharDevice { major, minor })
    } else if kind.is_block_device() {
        Some(EntryKind::BlockDevice { major, minor })
    } else if kind.is_fifo() {
        Some(EntryKind::Fifo)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_back(store: &BlobStore, layer: &Layer) -> Vec<(String, EntryType, u32, u64, Vec<u8>)> {
        let file = store.open_blob(&layer.digest).unwrap();
        let compression = Compression::of_media_type(&layer.media_type).unwrap();
        let mut archive =
            ::tar::Archive::new(super::super::compress::decoder(file, compression).unwrap());
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let mut entry = entry.unwrap();
                let header = entry.header().clone();
                let mut data = Vec::new();
                entry.read_to_end(&mut data).unwrap();
                (
                    String::from_utf8(entry.path_bytes().into_owned()).unwrap(),
                    header.entry_type(),
                    header.mode().unwrap(),
                    header.mtime().unwrap(),
                    data,
                )
            })
            .collect()
    }

    #[test]
    fn entries_are_sorted_normalized_and_long_names_survive() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path().join("store")).unwrap();
        let script = dir.path().join("run.sh");
        fs::write(&script, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        let long = format!("a/{}/file.txt", "x".repeat(150));
        let entries = vec![
            Entry::bytes(&long, "long"),
            Entry::file("/a/run.sh", &script),
            Entry::dir("a"),
            Entry::symlink("a/link", "run.sh"),
            Entry::bytes("a.txt", "top"),
            Entry::hard_link("a/same", "a/run.sh"),
            Entry::fifo("a/pipe").with_mode(0o600).with_owner(5, 6),
            Entry::char_device("a/null", 1, 3).with_mode(0o666),
            Entry::dir("a/sticky").with_mode(0o1777),
        ];
        let options = LayerOptions {
            mtime: 1_700_000_000,
            compression: Compression::None,
            ..LayerOptions::default()
        };
        let layer = write_layer(&store, entries, &options, &Silent).unwrap();
        assert_eq!(
            layer.digest, layer.diff_id,
            "an uncompressed layer is its own tar"
        );
        let read = read_back(&store, &layer);
        let names: Vec<&str> = read.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "a/",
                "a/link",
                "a/null",
                "a/pipe",
                "a/run.sh",
                "a/same",
                "a/sticky/",
                long.as_str(),
                "a.txt"
            ]
        );
        let by_name = |name: &str| read.iter().find(|e| e.0 == name).unwrap();
        assert_eq!(by_name("a/run.sh").2, 0o755, "an execute bit gives 0755");
        assert_eq!(by_name("a.txt").2, 0o644);
        assert_eq!(by_name("a/").2, 0o755);
        assert_eq!(
            by_name("a/sticky/").2,
            0o1777,
            "a kept mode keeps its sticky bit"
        );
        assert_eq!(by_name("a/pipe").1, EntryType::Fifo);
        assert_eq!(by_name("a/same").1, EntryType::Link);
        assert_eq!(by_name(&long).4, b"long");
        assert!(read.iter().all(|e| e.3 == 1_700_000_000));
        let (diff_id, len) = store
            .uncompressed(&layer.digest, Compression::None)
            .unwrap();
        assert_eq!((diff_id, len), (layer.diff_id.clone(), layer.size));
    }

    #[test]
    fn bad_entry_lists_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        for entries in [
            vec![Entry::bytes("../etc/passwd", "x")],
            vec![Entry::bytes("a", "x"), Entry::bytes("./a", "y")],
            vec![Entry::hard_link("a", "b"), Entry::bytes("b", "x")],
            vec![Entry::hard_link("b", "a"), Entry::dir("a")],
        ] {
            let error =
                write_layer(&store, entries, &LayerOptions::default(), &Silent).unwrap_err();
            assert!(matches!(error, Error::Invalid { .. }), "{error}");
        }
    }

    #[test]
    fn big_sizes_use_base_256() {
        let mut out = Vec::new();
        let mut tar = TarWriter::new(&mut out, 0);
        let size = 9 << 30;
        tar.header(&HeaderFields {
            path: b"big",
            entry_type: EntryType::Regular,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size,
            link: None,
            device: None,
        })
        .unwrap();
        let header = Header::from_byte_slice(&out[..512]);
        assert_eq!(header.size().unwrap(), size);
        assert_eq!(header.as_old().size[0] & 0x80, 0x80);
    }

    #[test]
    fn cancelling_stops_the_layer() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let entries = vec![Entry::bytes("big", vec![7u8; 3 << 20])];
        let cancel = |event: &Event<'_>| {
            if event.done > 0 {
                Err(crate::progress::Cancelled)
            } else {
                Ok(())
            }
        };
        let error = write_layer(&store, entries, &LayerOptions::default(), &cancel).unwrap_err();
        assert!(matches!(error, Error::Cancelled));
        assert_eq!(
            fs::read_dir(dir.path().join("blobs/sha256"))
                .unwrap()
                .count(),
            0
        );
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }

    /// Bytes that compress, but not to nothing: words from a small xorshift generator.
    #[allow(clippy::cast_possible_truncation)]
    fn text(len: usize, seed: u64) -> Vec<u8> {
        const WORDS: [&str; 8] = [
            "tensor ", "epoch ", "loss ", "0.4821 ", "data\n", "acc ", "model ", "1e-3 ",
        ];
        let mut state = seed | 1;
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            out.extend_from_slice(WORDS[(state % 8) as usize].as_bytes());
            out.push((state >> 8) as u8);
        }
        out.truncate(len);
        out
    }

    #[test]
    fn bytes_do_not_depend_on_threads_or_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        // Enough for many gzip blocks and several zstd jobs (8 MiB each at level 3).
        let entries = vec![
            Entry::dir("data"),
            Entry::bytes("data/big.txt", text(20 << 20, 1)),
            Entry::bytes("data/small.txt", text(1000, 2)),
            Entry::bytes("readme", text(300_000, 3)),
            Entry::symlink("data/latest", "big.txt"),
        ];
        let mut reversed = entries.clone();
        reversed.reverse();
        for compression in [Compression::Gzip, Compression::Zstd] {
            let layer = |threads, entries: &Vec<Entry>| {
                let options = LayerOptions {
                    compression,
                    threads,
                    ..LayerOptions::default()
                };
                write_layer(&store, entries.clone(), &options, &Silent).unwrap()
            };
            let one = layer(1, &entries);
            let four = layer(4, &entries);
            let reordered = layer(3, &reversed);
            assert_eq!(one, four, "{compression:?}: 1 and 4 threads");
            assert_eq!(one, reordered, "{compression:?}: the order entries came in");
            assert!(
                one.size < 8 << 20,
                "{compression:?} compresses: {}",
                one.size
            );
            // The blob decompresses to the tar whose digest is the diff_id.
            let file = store.open_blob(&one.digest).unwrap();
            let mut tar = crate::oci::HashingReader::new(
                super::super::compress::decoder(file, compression).unwrap(),
            );
            io::copy(&mut tar, &mut io::sink()).unwrap();
            assert_eq!(tar.finish().0, one.diff_id);
            assert_eq!(store.verify(&one.digest).unwrap(), one.size);
        }
    }
}
