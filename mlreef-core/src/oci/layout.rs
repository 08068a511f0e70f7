//! OCI image layouts (`oci:DIR[:TAG]`), as a source of bases and as a sink.
//!
//! A layout is a folder with `oci-layout`, `index.json` and `blobs/sha256/<hex>`; each entry of
//! `index.json` is an image (a manifest) or a multi-platform image (an index), named by its
//! `org.opencontainers.image.ref.name` annotation. Reading checks every blob against the digest
//! it is named by as it is copied into the store, and refuses manifests, indexes and configs
//! larger than [`MAX_JSON_BYTES`]. Writing puts the blobs first (hard links to the store where
//! the file system allows, else copies) and `index.json` last, renamed into place, so that a
//! reader sees the old layout or the new one; writing a tag replaces that tag's entry and keeps
//! the others.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use oci_spec::image::{
    Descriptor, Digest, DigestAlgorithm, ImageIndex, ImageIndexBuilder, ImageManifest, MediaType,
};

use super::Error;
use super::blobs::BlobStore;
use super::image::{
    Image, ImageLabels, MAX_JSON_BYTES, canonical_json, config_labels, descriptor_matches,
    descriptor_platform, index,
};
use super::import::{
    base_layer, check_diff_id, import_layer, layer_history, parse_config, parse_json,
    read_json_blob,
};
use super::layer::Compression;
use super::tar::Meter;
use crate::platform::Platform;
use crate::progress::Progress;

/// The annotation that names an image in a layout.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

const LAYOUT_VERSION: &str = r#"{"imageLayoutVersion":"1.0.0"}"#;

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

fn reference(dir: &Path, tag: Option<&str>) -> String {
    match tag {
        Some(tag) => format!("oci:{}:{tag}", dir.display()),
        None => format!("oci:{}", dir.display()),
    }
}

/// Where the blob `digest` is in the layout `dir`; only sha256 digests are read.
fn blob_path(dir: &Path, digest: &Digest) -> Result<PathBuf, Error> {
    let hex = digest.digest();
    if *digest.algorithm() != DigestAlgorithm::Sha256
        || hex.len() != 64
        || !hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(Error::Unsupported(format!(
            "the digest `{digest}` is not a sha256 digest"
        )));
    }
    Ok(dir.join("blobs").join("sha256").join(hex))
}

fn is_index(media_type: &MediaType) -> bool {
    match media_type {
        MediaType::ImageIndex => true,
        MediaType::Other(other) => {
            other == "application/vnd.docker.distribution.manifest.list.v2+json"
        }
        _ => false,
    }
}

fn is_manifest(media_type: &MediaType) -> bool {
    match media_type {
        MediaType::ImageManifest => true,
        MediaType::Other(other) => other == "application/vnd.docker.distribution.manifest.v2+json",
        _ => false,
    }
}

/// Reads a JSON blob of the layout, checked against its descriptor.
fn json_blob(dir: &Path, descriptor: &Descriptor, what: &str) -> Result<Vec<u8>, Error> {
    let path = blob_path(dir, descriptor.digest())?;
    if descriptor.size() > MAX_JSON_BYTES {
        return Err(Error::TooLarge {
            what: what.to_owned(),
            limit: MAX_JSON_BYTES,
        });
    }
    let file = File::open(&path).map_err(io_error(&path))?;
    read_json_blob(file, Some((descriptor.digest(), descriptor.size())), what)
}

fn ref_name(descriptor: &Descriptor) -> Option<&str> {
    descriptor
        .annotations()
        .as_ref()
        .and_then(|a| a.get(REF_NAME))
        .map(String::as_str)
}

/// Reads the layout's `index.json` (bounded).
fn read_index(dir: &Path) -> Result<ImageIndex, Error> {
    let path = dir.join("index.json");
    let file = File::open(&path).map_err(io_error(&path))?;
    let bytes = read_json_blob(file, None, &path.display().to_string())?;
    parse_json(&bytes, &path.display().to_string())
}

/// The manifest descriptor for `platform` among `candidates` (manifests or indexes), looking
/// one level into indexes.
fn pick_manifest(
    dir: &Path,
    candidates: Vec<Descriptor>,
    platform: &Platform,
    name: &str,
) -> Result<Descriptor, Error> {
    let mut manifests = Vec::new();
    for descriptor in candidates {
        if is_index(descriptor.media_type()) {
            let bytes = json_blob(dir, &descriptor, &format!("the index of `{name}`"))?;
            let nested: ImageIndex = parse_json(&bytes, &format!("the index of `{name}`"))?;
            manifests.extend(
                nested
                    .manifests()
                    .iter()
                    .filter(|d| is_manifest(d.media_type()))
                    .cloned(),
            );
        } else if is_manifest(descriptor.media_type()) {
            manifests.push(descriptor);
        }
    }
    if manifests.len() == 1 {
        // Its config says which platform it is for, and is checked when read.
        return Ok(manifests.remove(0));
    }
    let matching: Vec<&Descriptor> = manifests
        .iter()
        .filter(|d| descriptor_matches(platform, d))
        .collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::NoPlatform {
            reference: name.to_owned(),
            wanted: platform.to_string(),
            available: manifests.iter().filter_map(descriptor_platform).collect(),
        }),
        _ => Err(Error::Invalid {
            what: format!("`{name}`"),
            reason: format!(
                "it holds several images for {platform}; name one with a tag (oci:DIR:TAG)"
            ),
        }),
    }
}

/// Reads the image `tag` (or the only image) for `platform` from the layout `dir` as a base:
/// its manifest, config and layers, each checked against its digest, the layers copied into
/// `store`. Progress is reported as stage `copy`, in bytes of layer blobs.
pub fn read_layout(
    store: &BlobStore,
    dir: &Path,
    tag: Option<&str>,
    platform: &Platform,
    progress: &dyn Progress,
) -> Result<Image, Error> {
    let name = reference(dir, tag);
    let index = read_index(dir)?;
    let candidates: Vec<Descriptor> = match tag {
        Some(tag) => index
            .manifests()
            .iter()
            .filter(|d| ref_name(d) == Some(tag))
            .cloned()
            .collect(),
        None => index.manifests().clone(),
    };
    if let Some(tag) = tag
        && candidates.is_empty()
    {
        let mut available: Vec<String> = index
            .manifests()
            .iter()
            .filter_map(|d| ref_name(d).map(str::to_owned))
            .collect();
        available.sort();
        available.dedup();
        return Err(Error::NoTag {
            reference: reference(dir, None),
            tag: tag.to_owned(),
            available,
        });
    }
    if tag.is_none() {
        let mut names: Vec<&str> = candidates.iter().filter_map(ref_name).collect();
        names.dedup();
        if names.len() > 1 {
            return Err(Error::Invalid {
                what: format!("`{name}`"),
                reason: format!(
                    "it holds several images ({}); name one with a tag (oci:DIR:TAG)",
                    names.join(", ")
                ),
            });
        }
    }
    let manifest_descriptor = pick_manifest(dir, candidates, platform, &name)?;
    let what = format!("the manifest of `{name}`");
    let manifest: ImageManifest = parse_json(&json_blob(dir, &manifest_descriptor, &what)?, &what)?;
    let what = format!("the config of `{name}`");
    let config_bytes = json_blob(dir, manifest.config(), &what)?;
    let config = parse_config(&config_bytes, platform, &name)?;
    let history = layer_history(&config, manifest.layers().len());
    let total = manifest.layers().iter().map(Descriptor::size).sum();
    let mut meter = Meter::new(progress, "copy", name.clone(), Some(total));
    meter.start()?;
    let mut layers = Vec::new();
    for (i, (descriptor, created_by)) in manifest.layers().iter().zip(history).enumerate() {
        let what = format!("layer {} of `{name}` ({})", i + 1, descriptor.digest());
        let compression = Compression::of_media_type(descriptor.media_type()).ok_or_else(|| {
            Error::Unsupported(format!(
                "{what} has the media type `{}`, which is not a layer",
                descriptor.media_type()
            ))
        })?;
        let digest = descriptor.digest();
        let imported = if store.contains(digest) {
            let (diff_id, _) = store.uncompressed(digest, compression)?;
            super::import::Imported {
                digest: digest.clone(),
                size: store.size(digest).unwrap_or_default(),
                compression,
                diff_id,
            }
        } else {
            let path = blob_path(dir, digest)?;
            let file = File::open(&path).map_err(io_error(&path))?;
            import_layer(
                store,
                file,
                Some(compression),
                Some((digest, descriptor.size())),
                &what,
                &mut meter,
            )?
        };
        check_diff_id(&config, i, &imported.diff_id, &what)?;
        layers.push(base_layer(
            imported,
            descriptor.media_type().clone(),
            created_by,
        ));
    }
    meter.finish()?;
    Image::from_config(platform, &config_bytes, layers)
}

/// Makes `path` hold the blob `digest` of the store: a hard link when the file system allows
/// it, else a copy; readable by everyone, as registries and other users of the layout expect.
fn put_blob(store: &BlobStore, digest: &Digest, path: &Path) -> Result<(), Error> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    if store.size(digest).is_some_and(|size| {
        fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() == size)
    }) {
        return Ok(());
    }
    let source = store.path(digest);
    let dir = path.parent().unwrap_or(Path::new("."));
    // Unique among the processes and threads that may write the same blob at once.
    let staged = dir.join(format!(
        ".{}.{}.{}.tmp",
        digest.digest(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_file(&staged);
    if fs::hard_link(&source, &staged).is_err() {
        let mut from = store.open_blob(digest)?;
        let mut to = File::create(&staged).map_err(io_error(&staged))?;
        io::copy(&mut from, &mut to).map_err(io_error(&staged))?;
        to.sync_all().map_err(io_error(&staged))?;
    }
    fs::set_permissions(&staged, fs::Permissions::from_mode(0o644)).map_err(io_error(&staged))?;
    fs::rename(&staged, path).map_err(io_error(path))
}

/// Writes `bytes` to `path` through a temporary file renamed into place.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::Builder::new()
        .prefix(".mlreef-")
        .tempfile_in(dir)
        .map_err(io_error(dir))?;
    io::Write::write_all(&mut file, bytes).map_err(io_error(path))?;
    file.as_file().sync_all().map_err(io_error(path))?;
    fs::set_permissions(file.path(), fs::Permissions::from_mode(0o644)).map_err(io_error(path))?;
    file.persist(path).map_err(|e| io_error(path)(e.error))?;
    Ok(())
}

/// Writes a JSON blob (config, manifest, index) into the layout when it is not there.
fn put_json(blobs: &Path, bytes: &[u8]) -> Result<Digest, Error> {
    let digest = super::digest::digest_bytes(bytes);
    let path = blobs.join(digest.digest());
    if !fs::symlink_metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64) {
        write_atomically(&path, bytes)?;
    }
    Ok(digest)
}

/// Makes `dir` an OCI layout when it is not one; returns its blobs folder and its index (read
/// first, so that a broken `index.json` stops a write before anything is copied).
fn prepare(dir: &Path) -> Result<(PathBuf, ImageIndex), Error> {
    let blobs = dir.join("blobs").join("sha256");
    fs::create_dir_all(&blobs).map_err(io_error(&blobs))?;
    let marker = dir.join("oci-layout");
    if fs::read(&marker).ok().as_deref() != Some(LAYOUT_VERSION.as_bytes()) {
        write_atomically(&marker, LAYOUT_VERSION.as_bytes())?;
    }
    let index = if dir.join("index.json").exists() {
        read_index(dir)?
    } else {
        ImageIndexBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageIndex)
            .manifests(Vec::<Descriptor>::new())
            .build()
            .unwrap_or_else(|_| unreachable!("every required field is set"))
    };
    Ok((blobs, index))
}

/// Names `descriptor` `tag` (the ref name annotation) in the layout's `index.json`, renamed
/// into place: the entry of the same tag (or the untagged one) is replaced, the others stay in
/// order.
fn name_in_index(
    dir: &Path,
    mut layout_index: ImageIndex,
    tag: Option<&str>,
    descriptor: &mut Descriptor,
) -> Result<(), Error> {
    if let Some(tag) = tag {
        descriptor.set_annotations(Some(HashMap::from([(REF_NAME.to_owned(), tag.to_owned())])));
    }
    let mut manifests: Vec<Descriptor> = layout_index
        .manifests()
        .iter()
        .filter(|d| ref_name(d) != tag)
        .cloned()
        .collect();
    manifests.push(descriptor.clone());
    layout_index.set_manifests(manifests);
    write_atomically(&dir.join("index.json"), &canonical_json(&layout_index))
}

/// Writes `images` into the layout `dir` (made when missing) as `tag`: one image as a
/// manifest, several platforms as an image index. Returns the descriptor `index.json` now
/// lists for the tag. Every layer must be in `store`. Progress is reported as stage `write`,
/// in bytes of layer blobs.
pub fn write_layout(
    store: &BlobStore,
    dir: &Path,
    tag: Option<&str>,
    images: &[Image],
    progress: &dyn Progress,
) -> Result<Descriptor, Error> {
    if images.is_empty() {
        return Err(Error::Invalid {
            what: format!("`{}`", reference(dir, tag)),
            reason: "there is no image to write".into(),
        });
    }
    let (blobs, layout_index) = prepare(dir)?;
    let total = images
        .iter()
        .flat_map(|image| &image.layers)
        .map(|layer| layer.size)
        .sum();
    let mut meter = Meter::new(progress, "write", reference(dir, tag), Some(total));
    meter.start()?;
    for image in images {
        for layer in &image.layers {
            if !store.contains(&layer.digest) {
                return Err(Error::Unsupported(format!(
                    "the layer {} is not in the blob store; fetch it before writing the image",
                    layer.digest
                )));
            }
            put_blob(store, &layer.digest, &blob_path(dir, &layer.digest)?)?;
            meter.add(layer.size)?;
        }
        put_json(&blobs, &image.config_bytes())?;
        put_json(&blobs, &image.manifest().1)?;
    }
    let mut descriptor = if let [image] = images {
        image.descriptor()
    } else {
        let (_, bytes) = index(images);
        let digest = put_json(&blobs, &bytes)?;
        Descriptor::new(MediaType::ImageIndex, bytes.len() as u64, digest)
    };
    name_in_index(dir, layout_index, tag, &mut descriptor)?;
    meter.finish()?;
    Ok(descriptor)
}

/// The most manifests one index may list for a push or a pull.
pub(crate) const MAX_MANIFESTS: usize = 256;
/// The most layers one manifest may list for a push or a pull.
pub(crate) const MAX_LAYERS: usize = 1024;

/// An image exactly as it is stored, for a push or a pull that keeps its digests: the top
/// manifest or index, the manifests an index lists, and every config and layer blob.
pub(crate) struct StoredImage {
    /// The media type and bytes of what the tag names.
    pub top: (String, Vec<u8>),
    /// Each manifest an index lists: digest, media type and bytes.
    pub manifests: Vec<(Digest, String, Vec<u8>)>,
    /// Every config and layer, once: digest and size.
    pub blobs: Vec<(Digest, u64)>,
}

/// The entry of `index.json` for `tag`, or the only entry.
fn stored_top(dir: &Path, tag: Option<&str>, name: &str) -> Result<Descriptor, Error> {
    let index = read_index(dir)?;
    let entries: Vec<&Descriptor> = index
        .manifests()
        .iter()
        .filter(|d| tag.is_none() || ref_name(d) == tag)
        .collect();
    match (entries.as_slice(), tag) {
        ([one], _) => Ok((*one).clone()),
        ([], Some(tag)) => Err(Error::NoTag {
            reference: format!("oci:{}", dir.display()),
            tag: tag.to_owned(),
            available: index
                .manifests()
                .iter()
                .filter_map(|d| ref_name(d).map(str::to_owned))
                .collect(),
        }),
        _ => Err(Error::Invalid {
            what: format!("`{name}`"),
            reason: "it holds no single image; name one with a tag (oci:DIR:TAG)".into(),
        }),
    }
}

/// The image `tag` (or the only one) of the layout `dir`, with every JSON blob checked against
/// its digest and bounded; layer blobs must be present with their sizes (their digests are
/// checked by the registry they go to).
pub(crate) fn stored_image(dir: &Path, tag: Option<&str>) -> Result<StoredImage, Error> {
    let name = reference(dir, tag);
    let top = stored_top(dir, tag, &name)?;
    let top_bytes = json_blob(dir, &top, &format!("the manifest of `{name}`"))?;
    let mut manifests = Vec::new();
    let mut listed = Vec::new();
    if is_index(top.media_type()) {
        let nested: ImageIndex = parse_json(&top_bytes, &format!("the index of `{name}`"))?;
        if nested.manifests().len() > MAX_MANIFESTS {
            return Err(Error::TooLarge {
                what: format!("the manifest count of `{name}`"),
                limit: MAX_MANIFESTS as u64,
            });
        }
        for descriptor in nested.manifests() {
            let bytes = json_blob(dir, descriptor, &format!("a manifest of `{name}`"))?;
            manifests.push((
                descriptor.digest().clone(),
                descriptor.media_type().to_string(),
                bytes.clone(),
            ));
            listed.push(bytes);
        }
    } else {
        listed.push(top_bytes.clone());
    }
    let mut blobs: Vec<(Digest, u64)> = Vec::new();
    for bytes in &listed {
        let manifest: ImageManifest = parse_json(bytes, &format!("a manifest of `{name}`"))?;
        if manifest.layers().len() > MAX_LAYERS {
            return Err(Error::TooLarge {
                what: format!("the layer count of `{name}`"),
                limit: MAX_LAYERS as u64,
            });
        }
        for descriptor in std::iter::once(manifest.config()).chain(manifest.layers()) {
            let path = blob_path(dir, descriptor.digest())?;
            let size = fs::metadata(&path).map_err(io_error(&path))?.len();
            if size != descriptor.size() {
                return Err(Error::Invalid {
                    what: format!("the blob {} of `{name}`", descriptor.digest()),
                    reason: format!(
                        "it has {size} bytes, and its descriptor says {}",
                        descriptor.size()
                    ),
                });
            }
            if !blobs.iter().any(|(d, _)| d == descriptor.digest()) {
                blobs.push((descriptor.digest().clone(), size));
            }
        }
    }
    Ok(StoredImage {
        top: (top.media_type().to_string(), top_bytes),
        manifests,
        blobs,
    })
}

/// How many config and layer blobs the image `tag` of the layout `dir` has.
pub fn stored_blob_count(dir: &Path, tag: Option<&str>) -> Result<u64, Error> {
    Ok(stored_image(dir, tag)?.blobs.len() as u64)
}

/// Writes `image` into the layout `dir` (made when missing) as `tag`, byte for byte: its config
/// and layer blobs (which must be in `store`), its manifests, and the top manifest or index,
/// which `index.json` then names. Returns that entry.
pub(crate) fn write_stored(
    store: &BlobStore,
    dir: &Path,
    tag: Option<&str>,
    image: &StoredImage,
) -> Result<Descriptor, Error> {
    let (blobs, layout_index) = prepare(dir)?;
    for (digest, _) in &image.blobs {
        put_blob(store, digest, &blob_path(dir, digest)?)?;
    }
    for (_, _, bytes) in &image.manifests {
        put_json(&blobs, bytes)?;
    }
    let (media_type, bytes) = &image.top;
    let digest = put_json(&blobs, bytes)?;
    let mut descriptor = Descriptor::new(
        MediaType::from(media_type.as_str()),
        bytes.len() as u64,
        digest,
    );
    name_in_index(dir, layout_index, tag, &mut descriptor)?;
    Ok(descriptor)
}

/// The labels of the image `tag` (or the only image) of the layout `dir`: for several
/// platforms, those of the first image (a module's images share them).
pub fn layout_labels(dir: &Path, tag: Option<&str>) -> Result<ImageLabels, Error> {
    let name = reference(dir, tag);
    let stored = stored_top(dir, tag, &name)?;
    let top_digest = stored.digest().clone();
    let mut manifest = stored;
    if is_index(manifest.media_type()) {
        let what = format!("the index of `{name}`");
        let nested: ImageIndex = parse_json(&json_blob(dir, &manifest, &what)?, &what)?;
        manifest = nested
            .manifests()
            .iter()
            .find(|d| is_manifest(d.media_type()))
            .cloned()
            .ok_or_else(|| Error::Invalid {
                what: format!("`{name}`"),
                reason: "its index lists no image".into(),
            })?;
    }
    let what = format!("the manifest of `{name}`");
    let parsed: ImageManifest = parse_json(&json_blob(dir, &manifest, &what)?, &what)?;
    let what = format!("the config of `{name}`");
    let config = json_blob(dir, parsed.config(), &what)?;
    Ok(ImageLabels {
        digest: top_digest,
        labels: config_labels(&config, &what)?,
    })
}
