//! docker-archive files (`docker-archive:FILE[:REPO:TAG]`), what `docker save` writes and
//! `docker load` and `podman load` read: a tar with `manifest.json` (`Config`, `RepoTags`,
//! `Layers`), the config, and each layer as a tar.
//!
//! As a source, the archive is scanned once for where each member is, then the config and the
//! layers are read from those places: layers are uncompressed tars in the classic format
//! (their digest is their `diff_id`), and compressed blobs in the archives newer Docker writes
//! (`blobs/sha256/<hex>`); either way each is checked against the config's `diff_ids` and,
//! when its name is a digest, against that digest. As a sink, one image is written with every
//! layer decompressed from the store while it streams, into a deterministic tar that is renamed
//! into place once complete.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use oci_spec::image::Digest;
use serde::{Deserialize, Serialize};

use super::Error;
use super::blobs::BlobStore;
use super::compress::decoder;
use super::digest::{HashingReader, digest_bytes};
use super::image::{Image, MAX_JSON_BYTES};
use super::import::{
    base_layer, check_diff_id, import_layer, layer_history, parse_config, parse_json,
    read_json_blob,
};
use super::layer::Compression;
use super::reference::ImageRef;
use super::tar::{HeaderFields, Meter, TarError, TarWriter};
use crate::platform::Platform;
use crate::progress::Progress;

/// One image in `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveManifest {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Where a member of the archive is.
#[derive(Debug, Clone)]
enum Member {
    File {
        offset: u64,
        size: u64,
    },
    /// A link to another member (`docker save` links layers that two images share).
    Link(String),
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// A member name as the manifest names it: no `./`, no leading `/`.
fn member_name(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut name = text.trim_start_matches('/');
    while let Some(rest) = name.strip_prefix("./") {
        name = rest;
    }
    name.trim_end_matches('/').to_owned()
}

/// `target` of a symbolic link in the member `from`, as a member name.
fn link_member(from: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        from.split('/').collect()
    };
    if !target.starts_with('/') {
        parts.pop();
    }
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
}

/// What one pass over an archive finds.
struct Scanned {
    /// Each member, and where it is.
    members: HashMap<String, Member>,
    /// `manifest.json`'s bytes.
    manifest: Option<Vec<u8>>,
}

/// The members of the archive and where each is, and `manifest.json`.
fn scan(file: &Path) -> Result<Scanned, Error> {
    let opened = File::open(file).map_err(io_error(file))?;
    let mut archive = ::tar::Archive::new(BufReader::new(opened));
    let mut members = HashMap::new();
    let mut manifest = None;
    let not_a_tar = |e: io::Error| Error::Invalid {
        what: format!("docker-archive `{}`", file.display()),
        reason: format!("it is not a tar: {e}"),
    };
    for entry in archive.entries_with_seek().map_err(not_a_tar)? {
        let mut entry = entry.map_err(not_a_tar)?;
        let name = member_name(&entry.path_bytes());
        let header = entry.header();
        let member = match header.entry_type() {
            ::tar::EntryType::Regular | ::tar::EntryType::Continuous => Member::File {
                offset: entry.raw_file_position(),
                size: entry.size(),
            },
            ::tar::EntryType::Symlink => {
                let target = entry.link_name_bytes().unwrap_or_default();
                Member::Link(link_member(&name, &String::from_utf8_lossy(&target)))
            }
            ::tar::EntryType::Link => {
                let target = entry.link_name_bytes().unwrap_or_default();
                Member::Link(member_name(&target))
            }
            _ => continue,
        };
        if name == "manifest.json" {
            let what = format!("`{}`'s manifest.json", file.display());
            manifest = Some(read_json_blob(&mut entry, None, &what)?);
        }
        members.insert(name, member);
    }
    Ok(Scanned { members, manifest })
}

/// The place of the member `name`, links followed (a few hops at most).
fn locate(members: &HashMap<String, Member>, name: &str, file: &Path) -> Result<(u64, u64), Error> {
    let mut name = member_name(name.as_bytes());
    for _ in 0..8 {
        match members.get(&name) {
            Some(Member::File { offset, size }) => return Ok((*offset, *size)),
            Some(Member::Link(target)) => name.clone_from(target),
            None => break,
        }
    }
    Err(Error::Invalid {
        what: format!("docker-archive `{}`", file.display()),
        reason: format!("its manifest names `{name}`, which it does not hold"),
    })
}

/// A reader of the member `name`'s bytes.
fn open_member<'a>(
    opened: &'a mut File,
    members: &HashMap<String, Member>,
    name: &str,
    file: &Path,
) -> Result<io::Take<&'a mut File>, Error> {
    let (offset, size) = locate(members, name, file)?;
    opened
        .seek(SeekFrom::Start(offset))
        .map_err(io_error(file))?;
    Ok(Read::take(opened, size))
}

/// The header of a plain file of an archive we write.
fn regular(path: &[u8], size: u64) -> HeaderFields<'_> {
    HeaderFields {
        path,
        entry_type: ::tar::EntryType::Regular,
        mode: 0o644,
        uid: 0,
        gid: 0,
        size,
        link: None,
        device: None,
    }
}

/// The digest a member's name gives it (`blobs/sha256/<hex>`, `<hex>.json`), if it does.
fn named_digest(name: &str) -> Option<Digest> {
    let hex = name
        .strip_prefix("blobs/sha256/")
        .or_else(|| name.strip_suffix(".json"))?;
    (hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
    .then(|| format!("sha256:{hex}").parse().ok())
    .flatten()
}

/// Whether a `RepoTags` entry names the same image as `wanted` (`docker.io/library/x:1` and
/// `x:1` are one name).
fn same_name(tag: &str, wanted: &str) -> bool {
    let parse = |text: &str| match text.parse::<ImageRef>() {
        Ok(ImageRef::Registry(r)) => Some((r.registry, r.repository, r.tag)),
        _ => None,
    };
    tag == wanted || parse(tag).is_some_and(|a| Some(a) == parse(wanted))
}

/// Reads the image `name` (or the only image) for `platform` from the docker-archive `file`
/// as a base, every layer checked and copied into `store`. Progress is reported as stage
/// `copy`, in bytes of layers.
pub fn read_archive(
    store: &BlobStore,
    file: &Path,
    name: Option<&str>,
    platform: &Platform,
    progress: &dyn Progress,
) -> Result<Image, Error> {
    let reference = match name {
        Some(name) => format!("docker-archive:{}:{name}", file.display()),
        None => format!("docker-archive:{}", file.display()),
    };
    let Scanned { members, manifest } = scan(file)?;
    let manifest = manifest.ok_or_else(|| Error::Invalid {
        what: format!("docker-archive `{}`", file.display()),
        reason: "it has no manifest.json".into(),
    })?;
    let images: Vec<ArchiveManifest> =
        parse_json(&manifest, &format!("`{}`'s manifest.json", file.display()))?;
    let tags = |images: &[ArchiveManifest]| -> Vec<String> {
        images
            .iter()
            .flat_map(|i| i.repo_tags.clone().unwrap_or_default())
            .collect()
    };
    let image = match name {
        Some(name) => images
            .iter()
            .find(|i| {
                i.repo_tags
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .any(|t| same_name(t, name))
            })
            .ok_or_else(|| Error::NoTag {
                reference: format!("docker-archive:{}", file.display()),
                tag: name.to_owned(),
                available: tags(&images),
            })?,
        None => match images.as_slice() {
            [one] => one,
            [] => {
                return Err(Error::Invalid {
                    what: format!("docker-archive `{}`", file.display()),
                    reason: "its manifest.json lists no image".into(),
                });
            }
            _ => {
                return Err(Error::Invalid {
                    what: format!("docker-archive `{}`", file.display()),
                    reason: format!(
                        "it holds {} images ({}); name one (docker-archive:FILE:REPO:TAG)",
                        images.len(),
                        tags(&images).join(", ")
                    ),
                });
            }
        },
    };
    let mut opened = File::open(file).map_err(io_error(file))?;
    let what = format!("the config of `{reference}`");
    let config_name = &image.config;
    let expected = named_digest(config_name);
    let config_bytes = {
        let reader = open_member(&mut opened, &members, config_name, file)?;
        let size = reader.limit();
        if size > MAX_JSON_BYTES {
            return Err(Error::TooLarge {
                what,
                limit: MAX_JSON_BYTES,
            });
        }
        read_json_blob(reader, expected.as_ref().map(|d| (d, size)), &what)?
    };
    let config = parse_config(&config_bytes, platform, &reference)?;
    if config.rootfs().diff_ids().len() != image.layers.len() {
        return Err(Error::Invalid {
            what: format!("`{reference}`"),
            reason: format!(
                "its config lists {} layers (rootfs.diff_ids) and its manifest.json {}",
                config.rootfs().diff_ids().len(),
                image.layers.len()
            ),
        });
    }
    let history = layer_history(&config, image.layers.len());
    let mut total = 0;
    for layer in &image.layers {
        total += locate(&members, layer, file)?.1;
    }
    let mut meter = Meter::new(progress, "copy", reference.clone(), Some(total));
    meter.start()?;
    let mut layers = Vec::new();
    for (i, (layer_name, created_by)) in image.layers.iter().zip(history).enumerate() {
        let what = format!("layer {} of `{reference}` (`{layer_name}`)", i + 1);
        let reader = open_member(&mut opened, &members, layer_name, file)?;
        let size = reader.limit();
        let expected = named_digest(layer_name);
        let imported = import_layer(
            store,
            reader,
            None,
            expected.as_ref().map(|d| (d, size)),
            &what,
            &mut meter,
        )?;
        check_diff_id(&config, i, &imported.diff_id, &what)?;
        let media_type = imported.compression.media_type();
        layers.push(base_layer(imported, media_type, created_by));
    }
    meter.finish()?;
    Image::from_config(platform, &config_bytes, layers)
}

/// Writes `images` (exactly one) to the docker-archive `file` named `name` (`repo:tag`;
/// `:latest` is added to a name without a tag), and returns the config's digest, which is
/// the image ID `docker load` reports. Progress is reported as stage `write`, in bytes of
/// uncompressed layers.
pub fn write_archive(
    store: &BlobStore,
    file: &Path,
    name: Option<&str>,
    images: &[Image],
    progress: &dyn Progress,
) -> Result<Digest, Error> {
    let image = match images {
        [image] => image,
        [] => {
            return Err(Error::Invalid {
                what: format!("docker-archive `{}`", file.display()),
                reason: "there is no image to write".into(),
            });
        }
        _ => {
            return Err(Error::Unsupported(format!(
                "a docker-archive holds one platform's image, and {} were built; write them to an OCI layout (oci:DIR:TAG) or build one platform",
                images.len()
            )));
        }
    };
    let repo_tags = match name {
        Some(name) => {
            let parsed = name.parse::<ImageRef>();
            let tagged = match parsed {
                Ok(ImageRef::Registry(r)) if r.digest.is_none() => {
                    if r.tag.is_some() {
                        name.to_owned()
                    } else {
                        format!("{name}:latest")
                    }
                }
                _ => {
                    return Err(Error::Reference {
                        text: name.to_owned(),
                        reason: "a docker-archive names its image `REPO:TAG`".into(),
                    });
                }
            };
            vec![tagged]
        }
        None => Vec::new(),
    };
    // Sizes first: a tar header comes before its data.
    let mut layer_files = Vec::new();
    for layer in &image.layers {
        if !store.contains(&layer.digest) {
            return Err(Error::Unsupported(format!(
                "the layer {} is not in the blob store; fetch it before writing the image",
                layer.digest
            )));
        }
        let compression = Compression::of_media_type(&layer.media_type).ok_or_else(|| {
            Error::Unsupported(format!(
                "the layer {} has the media type `{}`, which docker load cannot read",
                layer.digest, layer.media_type
            ))
        })?;
        let (diff_id, len) = store.uncompressed(&layer.digest, compression)?;
        if diff_id != layer.diff_id {
            return Err(Error::DigestMismatch {
                what: format!("the tar of layer {}", layer.digest),
                expected: layer.diff_id.to_string(),
                actual: diff_id.to_string(),
            });
        }
        layer_files.push((format!("{}.tar", diff_id.digest()), layer, compression, len));
    }
    let config = image.config_bytes();
    let config_digest = digest_bytes(&config);
    let config_name = format!("{}.json", config_digest.digest());
    let manifest = serde_json::to_vec(&[ArchiveManifest {
        config: config_name.clone(),
        repo_tags: Some(repo_tags),
        layers: layer_files.iter().map(|l| l.0.clone()).collect(),
    }])
    .unwrap_or_default();

    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let staged = tempfile::Builder::new()
        .prefix(".mlreef-archive-")
        .tempfile_in(dir)
        .map_err(io_error(dir))?;
    let staged_path: PathBuf = staged.path().to_owned();
    let sink_error = |e| io_error(&staged_path)(e);
    let mut tar = TarWriter::new(BufWriter::with_capacity(1 << 20, staged.as_file()), 0);
    let total = layer_files.iter().map(|l| l.3).sum();
    let mut meter = Meter::new(
        progress,
        "write",
        format!("docker-archive:{}", file.display()),
        Some(total),
    );
    meter.start()?;
    let mut quiet = Meter::new(&crate::progress::Silent, "write", String::new(), None);
    let mut written = std::collections::HashSet::new();
    let result = (|| -> Result<(), TarError> {
        tar.header(&regular(config_name.as_bytes(), config.len() as u64))?;
        tar.data(
            &mut &config[..],
            config.len() as u64,
            Path::new(&config_name),
            &mut quiet,
        )?;
        for (member, layer, compression, len) in &layer_files {
            // The same layer twice in one image is stored once.
            if !written.insert(member.clone()) {
                continue;
            }
            tar.header(&regular(member.as_bytes(), *len))?;
            let blob = store.open_blob(&layer.digest).map_err(TarError::Source)?;
            let path = store.path(&layer.digest);
            let mut reader = HashingReader::new(
                decoder(blob, *compression).map_err(|e| TarError::Source(io_error(&path)(e)))?,
            );
            tar.data(&mut reader, *len, &path, &mut meter)?;
            let (diff_id, _) = reader.finish();
            if diff_id != layer.diff_id {
                return Err(TarError::Source(Error::DigestMismatch {
                    what: format!("the tar of layer {}", layer.digest),
                    expected: layer.diff_id.to_string(),
                    actual: diff_id.to_string(),
                }));
            }
        }
        tar.header(&regular(b"manifest.json", manifest.len() as u64))?;
        tar.data(
            &mut &manifest[..],
            manifest.len() as u64,
            Path::new("manifest.json"),
            &mut quiet,
        )?;
        Ok(())
    })();
    match result {
        Ok(()) => {}
        Err(TarError::Sink(e)) => return Err(sink_error(e)),
        Err(TarError::Source(e)) => return Err(e),
    }
    let mut out = tar.finish().map_err(sink_error)?;
    out.flush().map_err(sink_error)?;
    drop(out);
    staged.as_file().sync_all().map_err(sink_error)?;
    std::fs::set_permissions(
        &staged_path,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .map_err(sink_error)?;
    staged.persist(file).map_err(|e| io_error(file)(e.error))?;
    meter.finish()?;
    Ok(config_digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names_and_links() {
        assert_eq!(member_name(b"./abc/layer.tar"), "abc/layer.tar");
        assert_eq!(
            link_member("abc/layer.tar", "../def/layer.tar"),
            "def/layer.tar"
        );
        assert_eq!(
            link_member("abc/layer.tar", "/def/layer.tar"),
            "def/layer.tar"
        );
        let hex = "a".repeat(64);
        assert!(named_digest(&format!("blobs/sha256/{hex}")).is_some());
        assert!(named_digest(&format!("{hex}.json")).is_some());
        assert!(named_digest("abc/layer.tar").is_none());
        assert!(same_name("docker.io/library/python:3", "python:3"));
        assert!(!same_name("python:3", "python:4"));
    }
}
