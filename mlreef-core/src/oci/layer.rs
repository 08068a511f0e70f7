//! Layers as values: what a manifest says of a layer (media type, digest, size), its `diff_id`
//! (the digest of the uncompressed tar), what it is for, and where its bytes are.

use oci_spec::image::{Digest, MediaType};
use serde::{Deserialize, Serialize};

/// What a layer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerRole {
    /// A layer of the base image.
    Base,
    /// The module's dependencies, at `/opt/mlreef/site-packages`.
    Deps,
    /// The repository's code, at `/workdir`.
    Code,
}

impl std::fmt::Display for LayerRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LayerRole::Base => "base",
            LayerRole::Deps => "deps",
            LayerRole::Code => "code",
        })
    }
}

/// How a layer's tar is compressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// gzip at level 6, in independent blocks compressed in parallel.
    #[default]
    Gzip,
    /// zstd at level 3, multithreaded.
    Zstd,
    /// An uncompressed tar (docker-archive bases, and what `docker load` is given).
    None,
}

impl Compression {
    /// The layer media type for this compression.
    #[must_use]
    pub fn media_type(self) -> MediaType {
        match self {
            Compression::Gzip => MediaType::ImageLayerGzip,
            Compression::Zstd => MediaType::ImageLayerZstd,
            Compression::None => MediaType::ImageLayer,
        }
    }

    /// The compression of a layer media type (OCI's, and Docker's own).
    #[must_use]
    pub fn of_media_type(media_type: &MediaType) -> Option<Compression> {
        match media_type {
            MediaType::ImageLayerGzip | MediaType::ImageLayerNonDistributableGzip => {
                Some(Compression::Gzip)
            }
            MediaType::ImageLayerZstd | MediaType::ImageLayerNonDistributableZstd => {
                Some(Compression::Zstd)
            }
            MediaType::ImageLayer | MediaType::ImageLayerNonDistributable => {
                Some(Compression::None)
            }
            MediaType::Other(other) => match other.as_str() {
                "application/vnd.docker.image.rootfs.diff.tar.gzip"
                | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => {
                    Some(Compression::Gzip)
                }
                "application/vnd.docker.image.rootfs.diff.tar" => Some(Compression::None),
                _ => None,
            },
            _ => None,
        }
    }
}

impl std::str::FromStr for Compression {
    type Err = String;

    fn from_str(text: &str) -> Result<Compression, String> {
        match text {
            "gzip" => Ok(Compression::Gzip),
            "zstd" => Ok(Compression::Zstd),
            "none" => Ok(Compression::None),
            other => Err(format!(
                "`{other}` is not a compression: gzip, zstd or none"
            )),
        }
    }
}

/// Where a layer's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// In the blob store.
    Store,
    /// In a registry, fetched when a sink needs the bytes (`registry/repository`).
    Registry {
        registry: String,
        repository: String,
    },
}

/// A layer of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub media_type: MediaType,
    /// The digest of the blob (compressed, as stored and pushed).
    pub digest: Digest,
    pub size: u64,
    /// The digest of the uncompressed tar (the image config's `rootfs.diff_ids`).
    pub diff_id: Digest,
    pub role: LayerRole,
    /// The layer came from the cache (or the base) rather than being built now.
    pub cached: bool,
    /// What made it, for the image's history.
    pub created_by: String,
    pub location: Location,
}

impl Layer {
    /// The descriptor a manifest lists for this layer.
    #[must_use]
    pub fn descriptor(&self) -> oci_spec::image::Descriptor {
        oci_spec::image::Descriptor::new(self.media_type.clone(), self.size, self.digest.clone())
    }

    /// The JSON a build reports for the layer (`role`, `digest`, `diff_id`, `size`,
    /// `media_type`, `cached`).
    #[must_use]
    pub fn summary(&self) -> LayerSummary {
        LayerSummary {
            role: self.role,
            digest: self.digest.to_string(),
            diff_id: self.diff_id.to_string(),
            size: self.size,
            media_type: self.media_type.to_string(),
            cached: self.cached,
        }
    }
}

impl Layer {
    /// The layer as a cache record (what it is, not where it came from).
    #[must_use]
    pub fn to_record(&self) -> Vec<u8> {
        serde_json::to_vec(&LayerRecord {
            media_type: self.media_type.to_string(),
            digest: self.digest.to_string(),
            size: self.size,
            diff_id: self.diff_id.to_string(),
            role: self.role,
            created_by: self.created_by.clone(),
        })
        .unwrap_or_default()
    }

    /// The layer a cache record describes, when its blob is still in `store` with its size;
    /// it is marked `cached`.
    #[must_use]
    pub fn from_record(bytes: &[u8], store: &super::BlobStore) -> Option<Layer> {
        let record: LayerRecord = serde_json::from_slice(bytes).ok()?;
        let digest: Digest = record.digest.parse().ok()?;
        if store.size(&digest) != Some(record.size) {
            return None;
        }
        Some(Layer {
            media_type: MediaType::from(record.media_type.as_str()),
            digest,
            size: record.size,
            diff_id: record.diff_id.parse().ok()?,
            role: record.role,
            cached: true,
            created_by: record.created_by,
            location: Location::Store,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct LayerRecord {
    media_type: String,
    digest: String,
    size: u64,
    diff_id: String,
    role: LayerRole,
    created_by: String,
}

/// A layer in the JSON of `mlreef build --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerSummary {
    pub role: LayerRole,
    pub digest: String,
    pub diff_id: String,
    pub size: u64,
    pub media_type: String,
    pub cached: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::BlobStore;

    #[test]
    fn records_come_back_only_while_the_blob_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let (digest, size) = store.put(b"layer bytes").unwrap();
        let layer = Layer {
            media_type: Compression::Gzip.media_type(),
            digest: digest.clone(),
            size,
            diff_id: crate::oci::digest_bytes(b"tar"),
            role: LayerRole::Deps,
            cached: false,
            created_by: "install".into(),
            location: Location::Store,
        };
        let back = Layer::from_record(&layer.to_record(), &store).unwrap();
        assert_eq!(
            back,
            Layer {
                cached: true,
                ..layer.clone()
            }
        );
        std::fs::remove_file(store.path(&digest)).unwrap();
        assert_eq!(Layer::from_record(&layer.to_record(), &store), None);
        assert_eq!(Layer::from_record(b"not json", &store), None);
    }
}
