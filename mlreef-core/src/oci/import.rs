//! What the local sources share: copying a base's blobs into the store with every digest
//! checked on the way, and putting the image value together from its config and layers.

use std::io::{self, BufRead, BufReader, Read, Write};

use oci_spec::image::{Digest, ImageConfiguration, MediaType};

use super::Error;
use super::blobs::{BlobStore, BlobWriter};
use super::compress::{decoder, sniff};
use super::digest::HashingReader;
use super::image::{MAX_JSON_BYTES, config_platform, platform_matches};
use super::layer::{Compression, Layer, LayerRole, Location};
use super::tar::Meter;
use crate::platform::Platform;

/// A layer blob copied into the store.
pub(crate) struct Imported {
    pub digest: Digest,
    pub size: u64,
    pub compression: Compression,
    pub diff_id: Digest,
}

/// Passes what is read on to the blob being written, and counts it.
struct Tee<'a, 'p, R> {
    inner: R,
    blob: &'a mut BlobWriter,
    meter: &'a mut Meter<'p>,
    store_tmp: std::path::PathBuf,
    /// Why writing (not reading) failed, or a cancel.
    failure: Option<Error>,
}

impl<R: Read> Read for Tee<'_, '_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Err(e) = self.blob.write_all(&buf[..n]) {
            self.failure = Some(Error::Io {
                path: self.store_tmp.clone(),
                source: io::Error::new(e.kind(), e.to_string()),
            });
            return Err(e);
        }
        if let Err(e) = self.meter.add(n as u64) {
            self.failure = Some(e);
            return Err(io::Error::other("stopped"));
        }
        Ok(n)
    }
}

/// Copies a layer blob from `reader` into the store in one pass, decompressing it on the way
/// to compute its `diff_id`. `compression` is sniffed from the first bytes when not given;
/// `expected` is the digest the blob was named by (checked before anything is stored), when it
/// has one. `what` names the blob in errors.
pub(crate) fn import_layer(
    store: &BlobStore,
    reader: impl Read,
    compression: Option<Compression>,
    expected: Option<(&Digest, u64)>,
    what: &str,
    meter: &mut Meter<'_>,
) -> Result<Imported, Error> {
    let mut reader = BufReader::with_capacity(256 * 1024, reader);
    let read_error = |source| Error::Io {
        path: what.into(),
        source,
    };
    let compression = match compression {
        Some(compression) => compression,
        None => sniff(reader.fill_buf().map_err(read_error)?),
    };
    let mut blob = store.writer()?;
    let mut tee = Tee {
        inner: reader,
        blob: &mut blob,
        meter,
        store_tmp: store.root().join("tmp"),
        failure: None,
    };
    let decoded = {
        let mut tar = HashingReader::new(decoder(&mut tee, compression).map_err(read_error)?);
        let copied = io::copy(&mut tar, &mut io::sink());
        copied.map(|_| tar.finish())
    };
    // The rest after the compressed stream (padding, or garbage the digest will tell about).
    let drained = io::copy(&mut tee, &mut io::sink());
    if let Some(failure) = tee.failure.take() {
        return Err(failure);
    }
    drained.map_err(read_error)?;
    let (digest, size) = blob.digest_so_far();
    if let Some((expected, expected_size)) = expected {
        if digest != *expected {
            return Err(Error::DigestMismatch {
                what: what.to_owned(),
                expected: expected.to_string(),
                actual: digest.to_string(),
            });
        }
        if size != expected_size {
            return Err(Error::Invalid {
                what: what.to_owned(),
                reason: format!("it has {size} bytes, and its descriptor says {expected_size}"),
            });
        }
    }
    let (diff_id, tar_len) = decoded.map_err(|source| Error::Invalid {
        what: what.to_owned(),
        reason: format!("it is not a {compression:?} layer: {source}"),
    })?;
    blob.commit()?;
    store.set_uncompressed(&digest, &diff_id, tar_len)?;
    Ok(Imported {
        digest,
        size,
        compression,
        diff_id,
    })
}

/// Reads a manifest, index or config of at most [`MAX_JSON_BYTES`] from `reader`, and checks
/// it against the digest and size it was named by, when it was.
pub(crate) fn read_json_blob(
    reader: impl Read,
    expected: Option<(&Digest, u64)>,
    what: &str,
) -> Result<Vec<u8>, Error> {
    if let Some((_, size)) = expected
        && size > MAX_JSON_BYTES
    {
        return Err(Error::TooLarge {
            what: what.to_owned(),
            limit: MAX_JSON_BYTES,
        });
    }
    let mut bytes = Vec::new();
    reader
        .take(MAX_JSON_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Io {
            path: what.into(),
            source,
        })?;
    if bytes.len() as u64 > MAX_JSON_BYTES {
        return Err(Error::TooLarge {
            what: what.to_owned(),
            limit: MAX_JSON_BYTES,
        });
    }
    if let Some((digest, size)) = expected {
        let actual = super::digest::digest_bytes(&bytes);
        if actual != *digest {
            return Err(Error::DigestMismatch {
                what: what.to_owned(),
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        if bytes.len() as u64 != size {
            return Err(Error::Invalid {
                what: what.to_owned(),
                reason: format!(
                    "it has {} bytes, and its descriptor says {size}",
                    bytes.len()
                ),
            });
        }
    }
    Ok(bytes)
}

/// Parses JSON read from a base, naming it in the error.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &str,
) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::Invalid {
        what: what.to_owned(),
        reason: e.to_string(),
    })
}

/// Parses a base's config and checks it is for `platform` (`reference` names the base).
pub(crate) fn parse_config(
    bytes: &[u8],
    platform: &Platform,
    reference: &str,
) -> Result<ImageConfiguration, Error> {
    let config: ImageConfiguration = parse_json(bytes, &format!("the config of `{reference}`"))?;
    if !platform_matches(
        platform,
        &config.os().to_string(),
        &config.architecture().to_string(),
        config.variant().as_deref(),
    ) {
        return Err(Error::NoPlatform {
            reference: reference.to_owned(),
            wanted: platform.to_string(),
            available: vec![config_platform(&config)],
        });
    }
    Ok(config)
}

/// The base layer for an imported blob.
pub(crate) fn base_layer(imported: Imported, media_type: MediaType, created_by: String) -> Layer {
    Layer {
        media_type,
        digest: imported.digest,
        size: imported.size,
        diff_id: imported.diff_id,
        role: LayerRole::Base,
        cached: true,
        created_by,
        location: Location::Store,
    }
}

/// What made each layer, from the config's history (entries marked `empty_layer` made none).
pub(crate) fn layer_history(config: &ImageConfiguration, layers: usize) -> Vec<String> {
    let made: Vec<String> = config
        .history()
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter(|entry| !entry.empty_layer().unwrap_or(false))
        .map(|entry| entry.created_by().clone().unwrap_or_default())
        .collect();
    if made.len() == layers {
        made
    } else {
        vec![String::new(); layers]
    }
}

/// Checks the layer `index` (of `layers`) against the `diff_id` the config lists for it.
pub(crate) fn check_diff_id(
    config: &ImageConfiguration,
    index: usize,
    diff_id: &Digest,
    what: &str,
) -> Result<(), Error> {
    let listed = config.rootfs().diff_ids();
    match listed.get(index) {
        Some(one) if *one == diff_id.to_string() => Ok(()),
        Some(one) => Err(Error::Invalid {
            what: what.to_owned(),
            reason: format!(
                "its tar has the diff_id {diff_id}, and the config lists {one} (layer {} of {})",
                index + 1,
                listed.len()
            ),
        }),
        None => Err(Error::Invalid {
            what: what.to_owned(),
            reason: format!(
                "the config lists {} layers (rootfs.diff_ids), fewer than the image has",
                listed.len()
            ),
        }),
    }
}
