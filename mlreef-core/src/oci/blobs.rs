//! The content-addressed blob store: every layer, config and manifest we build or fetch, kept
//! on disk under its digest (`$MLREEF_CACHE/blobs/sha256/<hex>`, else the user's cache folder).
//!
//! A blob is written to a temporary file in the store and renamed to its digest once complete,
//! so a reader never sees half a blob and concurrent builds that make the same blob agree.
//! Small records (which layer a given input made) live beside the blobs under `index/`, written
//! the same way.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use oci_spec::image::Digest;

use super::Error;
use super::compress::decoder;
use super::digest::{HashingReader, HashingWriter, digest_bytes};
use super::layer::Compression;

/// Where blobs live.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

/// The cache folder: `$MLREEF_CACHE`, else `$XDG_CACHE_HOME/mlreef`, else
/// `$HOME/.cache/mlreef`, else a folder in the temporary directory.
#[must_use]
pub fn default_cache() -> PathBuf {
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("MLREEF_CACHE")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("mlreef")))
        .or_else(|| env("HOME").map(|d| d.join(".cache/mlreef")))
        .unwrap_or_else(|| std::env::temp_dir().join("mlreef-cache"))
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// How old an entry of the store's `tmp` folder is when it is taken for the leftover of a
/// process that was killed (or lost its machine) while writing it. A live writer touches its
/// file at every write, and every wait of ours (a registry's answer) is bounded far below this.
pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_hours(24);

/// Removes the entries of `tmp` last modified more than [`STALE_AFTER`] ago. Best effort: the
/// store works the same with them, they only take room.
fn sweep_stale(tmp: &Path) {
    let Ok(entries) = fs::read_dir(tmp) else {
        return;
    };
    let Some(before) = std::time::SystemTime::now().checked_sub(STALE_AFTER) else {
        return;
    };
    // Bounded: a store's tmp folder holds a few entries per running writer.
    for entry in entries.flatten().take(100_000) {
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        if meta.modified().is_ok_and(|modified| modified < before) {
            let path = entry.path();
            let _ = if meta.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
        }
    }
}

impl BlobStore {
    /// The store in `root` (made when missing). What a killed writer left in its `tmp` folder
    /// long ago is removed (see [`STALE_AFTER`]).
    pub fn open(root: impl Into<PathBuf>) -> Result<BlobStore, Error> {
        let root = root.into();
        for dir in ["blobs/sha256", "tmp", "index"] {
            let dir = root.join(dir);
            fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        }
        sweep_stale(&root.join("tmp"));
        Ok(BlobStore { root })
    }

    /// A folder laid out as a store (`blobs/sha256/HEX`), such as an OCI image layout, read
    /// in place: nothing is created in it.
    #[must_use]
    pub fn view(root: impl Into<PathBuf>) -> BlobStore {
        BlobStore { root: root.into() }
    }

    /// The store in [`default_cache`].
    pub fn open_default() -> Result<BlobStore, Error> {
        BlobStore::open(default_cache())
    }

    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob with this digest is (or would be).
    #[must_use]
    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(digest.algorithm().as_ref())
            .join(digest.digest())
    }

    #[must_use]
    pub fn contains(&self, digest: &Digest) -> bool {
        self.path(digest).is_file()
    }

    /// The blob's size, when it is in the store.
    #[must_use]
    pub fn size(&self, digest: &Digest) -> Option<u64> {
        fs::metadata(self.path(digest)).ok().map(|m| m.len())
    }

    /// A writer for a new blob; [`BlobWriter::commit`] names it by its digest.
    pub fn writer(&self) -> Result<BlobWriter, Error> {
        let tmp = self.root.join("tmp");
        let file = tempfile::Builder::new()
            .prefix("blob-")
            .tempfile_in(&tmp)
            .map_err(io_error(&tmp))?;
        Ok(BlobWriter {
            store: self.clone(),
            file: HashingWriter::new(file),
        })
    }

    /// Stores `bytes`, returning their digest and size.
    pub fn put(&self, bytes: &[u8]) -> Result<(Digest, u64), Error> {
        let digest = digest_bytes(bytes);
        if !self.contains(&digest) {
            let mut writer = self.writer()?;
            writer.write_all(bytes).map_err(io_error(&self.root))?;
            writer.commit()?;
        }
        Ok((digest, bytes.len() as u64))
    }

    /// Opens a blob for reading.
    pub fn open_blob(&self, digest: &Digest) -> Result<File, Error> {
        let path = self.path(digest);
        File::open(&path).map_err(io_error(&path))
    }

    /// Reads a whole blob (configs, manifests), checking its digest; at most `limit` bytes.
    pub fn read(&self, digest: &Digest, limit: u64) -> Result<Vec<u8>, Error> {
        let path = self.path(digest);
        let file = self.open_blob(digest)?;
        let mut bytes = Vec::new();
        file.take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(io_error(&path))?;
        if bytes.len() as u64 > limit {
            return Err(Error::TooLarge {
                what: format!("blob {digest}"),
                limit,
            });
        }
        check(&digest_bytes(&bytes), digest, &path)?;
        Ok(bytes)
    }

    /// Checks that a stored blob still has its digest (a cache can be damaged).
    pub fn verify(&self, digest: &Digest) -> Result<u64, Error> {
        let path = self.path(digest);
        let mut reader = HashingReader::new(self.open_blob(digest)?);
        io::copy(&mut reader, &mut io::sink()).map_err(io_error(&path))?;
        let (actual, len) = reader.finish();
        check(&actual, digest, &path)?;
        Ok(len)
    }

    /// The `diff_id` and length of the tar inside the layer blob `digest`: from the record
    /// kept when the blob was written or first checked, else by decompressing it once (and
    /// recording the result).
    pub fn uncompressed(
        &self,
        digest: &Digest,
        compression: Compression,
    ) -> Result<(Digest, u64), Error> {
        let name = uncompressed_record(digest);
        if let Some(found) = self
            .record(&name)
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| {
                let (diff_id, len) = text.trim().split_once(' ')?;
                Some((diff_id.parse::<Digest>().ok()?, len.parse::<u64>().ok()?))
            })
        {
            return Ok(found);
        }
        let path = self.path(digest);
        let file = self.open_blob(digest)?;
        let mut tar = HashingReader::new(decoder(file, compression).map_err(io_error(&path))?);
        io::copy(&mut tar, &mut io::sink()).map_err(|source| Error::Invalid {
            what: format!("layer {digest}"),
            reason: format!("it does not decompress as {compression:?}: {source}"),
        })?;
        let (diff_id, len) = tar.finish();
        self.set_uncompressed(digest, &diff_id, len)?;
        Ok((diff_id, len))
    }

    /// Records the `diff_id` and length of the tar inside the layer blob `digest`.
    pub(crate) fn set_uncompressed(
        &self,
        digest: &Digest,
        diff_id: &Digest,
        len: u64,
    ) -> Result<(), Error> {
        self.set_record(
            &uncompressed_record(digest),
            format!("{diff_id} {len}").as_bytes(),
        )
    }

    /// A small record kept under `index/NAME` (written atomically), such as which layer a
    /// given input made.
    #[must_use]
    pub fn record(&self, name: &str) -> Option<Vec<u8>> {
        fs::read(self.root.join("index").join(name)).ok()
    }

    /// Writes the record `name`.
    pub fn set_record(&self, name: &str, bytes: &[u8]) -> Result<(), Error> {
        let dir = self.root.join("index");
        let mut file = tempfile::Builder::new()
            .prefix("record-")
            .tempfile_in(self.root.join("tmp"))
            .map_err(io_error(&dir))?;
        file.write_all(bytes).map_err(io_error(&dir))?;
        let target = dir.join(name);
        file.persist(&target)
            .map_err(|e| io_error(&target)(e.error))?;
        Ok(())
    }
}

impl BlobStore {
    /// Renames a finished temporary file to its digest's name (unless the store has it).
    fn persist(&self, mut file: tempfile::NamedTempFile, digest: &Digest) -> Result<(), Error> {
        let path = self.path(digest);
        file.flush().map_err(io_error(&path))?;
        if !path.is_file() {
            file.persist(&path).map_err(|e| io_error(&path)(e.error))?;
        }
        Ok(())
    }
}

fn uncompressed_record(digest: &Digest) -> String {
    format!("tar-{}-{}", digest.algorithm(), digest.digest())
}

fn check(actual: &Digest, expected: &Digest, path: &Path) -> Result<(), Error> {
    if actual == expected {
        Ok(())
    } else {
        Err(Error::DigestMismatch {
            what: path.display().to_string(),
            expected: expected.to_string(),
            actual: actual.to_string(),
        })
    }
}

/// A blob being written; nothing is in the store until [`commit`](BlobWriter::commit).
pub struct BlobWriter {
    store: BlobStore,
    file: HashingWriter<tempfile::NamedTempFile>,
}

impl BlobWriter {
    /// Moves the finished blob to its place, returning its digest and size. When the store
    /// has it already, the copy just written is dropped.
    pub fn commit(self) -> Result<(Digest, u64), Error> {
        let (file, digest, len) = self.file.finish();
        self.store.persist(file, &digest)?;
        Ok((digest, len))
    }

    /// Like [`commit`](BlobWriter::commit), for bytes that were named by `expected` (copied
    /// from a layout, an archive, a registry): when they are not what the name says, nothing
    /// is stored and the mismatch is the error (`what` says whose bytes they were).
    pub fn commit_expecting(self, expected: &Digest, what: &str) -> Result<u64, Error> {
        let (file, actual, len) = self.file.finish();
        if actual != *expected {
            return Err(Error::DigestMismatch {
                what: what.to_owned(),
                expected: expected.to_string(),
                actual: actual.to_string(),
            });
        }
        self.store.persist(file, expected)?;
        Ok(len)
    }

    /// The digest and length of what was written so far.
    #[must_use]
    pub fn digest_so_far(&self) -> (Digest, u64) {
        self.file.hasher_state()
    }

    /// Bytes written so far.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.file
            .get_ref()
            .as_file()
            .metadata()
            .map_or(0, |m| m.len())
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_stored_by_digest_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let (digest, size) = store.put(b"hello").unwrap();
        assert_eq!(size, 5);
        assert!(store.contains(&digest));
        assert_eq!(store.read(&digest, 100).unwrap(), b"hello");
        assert_eq!(store.verify(&digest).unwrap(), 5);
        assert!(matches!(
            store.read(&digest, 2),
            Err(Error::TooLarge { limit: 2, .. })
        ));
        // A damaged blob is found out.
        fs::write(store.path(&digest), b"hellO").unwrap();
        assert!(matches!(
            store.verify(&digest),
            Err(Error::DigestMismatch { .. })
        ));
        // Nothing is left behind in tmp.
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        store.set_record("x", b"1").unwrap();
        assert_eq!(store.record("x").as_deref(), Some(&b"1"[..]));
    }

    #[test]
    fn what_killed_writers_left_long_ago_is_swept_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let tmp = dir.path().join("tmp");
        // A writer at work, one killed a moment ago, and leftovers from two days ago.
        let mut live = store.writer().unwrap();
        live.write_all(b"partial").unwrap();
        fs::write(tmp.join("blob-recent"), b"x").unwrap();
        let old = std::time::SystemTime::now() - 2 * STALE_AFTER;
        let stale_file = tmp.join("blob-stale");
        fs::write(&stale_file, b"x").unwrap();
        File::options()
            .write(true)
            .open(&stale_file)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let stale_dir = tmp.join("unpack-stale");
        fs::create_dir_all(stale_dir.join("a")).unwrap();
        fs::write(stale_dir.join("a/b"), b"x").unwrap();
        File::open(&stale_dir).unwrap().set_modified(old).unwrap();

        let _again = BlobStore::open(dir.path()).unwrap();
        let mut left: Vec<String> = fs::read_dir(&tmp)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|name| {
                !name.starts_with("blob-") || name == "blob-recent" || name == "blob-stale"
            })
            .collect();
        left.sort();
        assert_eq!(left, ["blob-recent"]);
        // The live writer is untouched and still commits.
        let (digest, _) = live.commit().unwrap();
        assert_eq!(store.read(&digest, 100).unwrap(), b"partial");
    }
}
