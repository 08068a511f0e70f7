//! `rootfs:DIR`: a root file system folder (made by `debootstrap`, `mmdebstrap`, a container
//! export) as a base image of one layer.
//!
//! Unlike our own layers, a whole OS keeps what it has: owners, modes (setuid, setgid and
//! sticky bits too), symbolic links exactly as they are (absolute ones included: inside the
//! image they point into the image), hard links (by device and inode: the first path in
//! sorted order holds the data, the others link to it), devices and fifos. Only the mtime is
//! replaced by the caller's fixed one, and extended attributes are not kept. The walk stays on
//! the folder's file system (as `tar --one-file-system`): a `/proc` or `/dev` still mounted in
//! a chroot is stored as an empty folder, not read. Sockets, which a tar cannot hold, are left
//! out.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use super::Error;
use super::blobs::BlobStore;
use super::digest::Hasher;
use super::image::{Image, rfc3339};
use super::layer::{Layer, LayerRole};
use super::tar::{Entry, EntryKind, LayerOptions, special_kind, walk, write_layer};
use crate::platform::Platform;
use crate::progress::Progress;

/// The layer of the root file system in `dir`.
///
/// Tarring a whole OS takes seconds, so the layer is kept: its record in the store is named by
/// a fingerprint of the tree's metadata (each path with its kind, mode, owner, size, inode,
/// modification and change times, link target and device numbers) and of `options`. A file
/// written since changes its change time, so an unchanged fingerprint means unchanged bytes, as
/// git's index assumes; the kept layer comes back marked `cached`.
pub fn rootfs_layer(
    store: &BlobStore,
    dir: &Path,
    options: &LayerOptions,
    progress: &dyn Progress,
) -> Result<Layer, Error> {
    let root_meta = std::fs::metadata(dir).map_err(|source| Error::Io {
        path: dir.to_owned(),
        source,
    })?;
    if !root_meta.is_dir() {
        return Err(Error::Invalid {
            what: format!("root file system `{}`", dir.display()),
            reason: "it is not a folder".into(),
        });
    }
    let device = root_meta.dev();
    // Each entry, with the inode of a file that has other names.
    let mut found: Vec<(Entry, Option<(u64, u64)>)> = Vec::new();
    let mut fingerprints: Vec<Vec<u8>> = Vec::new();
    walk(dir, |path, relative, meta| {
        fingerprints.push(fingerprint(path, relative, meta));
        let kind = meta.file_type();
        let mut inode = None;
        let entry = if kind.is_dir() {
            Entry::dir(relative)
        } else if kind.is_file() {
            if meta.nlink() > 1 {
                inode = Some((meta.dev(), meta.ino()));
            }
            Entry::file(relative, path)
        } else if kind.is_symlink() {
            let target = std::fs::read_link(path).map_err(|source| Error::Io {
                path: path.to_owned(),
                source,
            })?;
            Entry::symlink(relative, target)
        } else if let Some(special) = special_kind(meta) {
            Entry {
                kind: special,
                ..Entry::dir(relative)
            }
        } else {
            return Ok(false);
        };
        found.push((
            entry
                .with_mode(meta.mode())
                .with_owner(u64::from(meta.uid()), u64::from(meta.gid())),
            inode,
        ));
        Ok(kind.is_dir() && meta.dev() == device)
    })?;
    let record = record_name(fingerprints, options);
    if let Some(layer) = store
        .record(&record)
        .and_then(|bytes| Layer::from_record(&bytes, store))
    {
        return Ok(layer);
    }
    found.sort_by(|a, b| a.0.path.cmp(&b.0.path));
    let mut first_name: HashMap<(u64, u64), PathBuf> = HashMap::new();
    let entries = found
        .into_iter()
        .map(|(mut entry, inode)| {
            if let Some(inode) = inode {
                match first_name.get(&inode) {
                    Some(first) => entry.kind = EntryKind::HardLink(first.clone()),
                    None => {
                        first_name.insert(inode, entry.path.clone());
                    }
                }
            }
            entry
        })
        .collect();
    let layer = write_layer(store, entries, options, progress)?;
    store.set_record(&record, &layer.to_record())?;
    Ok(layer)
}

/// What identifies one path of the tree for the layer's record.
fn fingerprint(path: &Path, relative: &Path, meta: &std::fs::Metadata) -> Vec<u8> {
    let mut line = relative.as_os_str().as_encoded_bytes().to_vec();
    line.push(0);
    let numbers = [
        u64::from(meta.mode()),
        u64::from(meta.uid()),
        u64::from(meta.gid()),
        meta.size(),
        meta.ino(),
        meta.nlink(),
        meta.rdev(),
        meta.mtime().cast_unsigned(),
        meta.mtime_nsec().cast_unsigned(),
        meta.ctime().cast_unsigned(),
        meta.ctime_nsec().cast_unsigned(),
    ];
    for n in numbers {
        line.extend_from_slice(&n.to_le_bytes());
    }
    if meta.file_type().is_symlink()
        && let Ok(target) = std::fs::read_link(path)
    {
        line.extend_from_slice(target.as_os_str().as_encoded_bytes());
    }
    line
}

/// The record name of the layer of a tree with these path fingerprints, written with `options`
/// (all but the thread count, which does not change the bytes).
fn record_name(mut fingerprints: Vec<Vec<u8>>, options: &LayerOptions) -> String {
    fingerprints.sort_unstable();
    let mut hasher = Hasher::default();
    hasher.update(b"mlreef-rootfs-layer-v1\0");
    let settings = format!(
        "{:?}\0{}\0{}\0{}\0",
        options.compression, options.mtime, options.role, options.created_by
    );
    hasher.update(settings.as_bytes());
    for line in &fingerprints {
        hasher.update(&(line.len() as u64).to_le_bytes());
        hasher.update(line);
    }
    let (digest, _) = hasher.finish();
    format!("rootfs-{}", digest.digest())
}

/// The base image of the root file system in `dir`: one layer, created at the layer's mtime.
pub fn rootfs_image(
    store: &BlobStore,
    dir: &Path,
    platform: &Platform,
    options: &LayerOptions,
    progress: &dyn Progress,
) -> Result<Image, Error> {
    let mut options = options.clone();
    options.role = LayerRole::Base;
    if options.created_by.is_empty() {
        // Not the folder's path: where the tree lives must not change the image.
        "rootfs".clone_into(&mut options.created_by);
    }
    let layer = rootfs_layer(store, dir, &options, progress)?;
    let created = rfc3339(options.mtime);
    Ok(Image::scratch(platform)
        .created_at(&created)
        .with_layer(layer, &created))
}
