//! OCI images without a daemon.
//!
//! An [`Image`] is a value: a platform, a config (the spec's structures, from `oci-spec`) and
//! [`Layer`]s, each known by its digest, `diff_id`, size and media type. Building an image is
//! adding layers to a base and changing its config, each step returning a new value; the
//! config blob and the manifest are derived from the value as canonical JSON, so the same
//! inputs give the same digests. Where an image comes from (a registry, an OCI layout, a
//! docker-archive, a root file system folder, nothing) is a *source*; where it goes is a
//! *sink*: the two are kept apart, so tests and offline users never need a registry. Every blob
//! is kept in a content-addressed [`BlobStore`] on disk, written by streaming.
//!
//! ```
//! use mlreef_core::oci::{Image, ImageRef};
//! use mlreef_core::platform::Platform;
//!
//! let base: ImageRef = "oci:.mlreef/images:main-3".parse()?;
//! assert_eq!(base.to_string(), "oci:.mlreef/images:main-3");
//! let image = Image::scratch(&Platform::linux_amd64()).created_at("1970-01-01T00:00:00Z");
//! assert!(image.layers.is_empty());
//! assert!(image.digest().to_string().starts_with("sha256:"));
//! # Ok::<(), mlreef_core::oci::Error>(())
//! ```

mod blobs;
mod code;
mod compress;
mod digest;
mod image;
mod layer;
mod reference;
mod rootfs;
mod tar;

use std::path::PathBuf;

pub use blobs::{BlobStore, BlobWriter, default_cache};
pub use code::{
    CodeLayer, CodeOptions, CodeTree, ExcludeReason, Excluded, OUTPUT_DIR, SECRETS, WORKDIR,
    code_layer, scan_code,
};
pub use compress::{GZIP_BLOCK, GZIP_LEVEL, ZSTD_LEVEL};
pub use digest::{Hasher, HashingReader, HashingWriter, digest_bytes};
pub use image::{Image, MAX_JSON_BYTES, canonical_json, index, rfc3339};
pub use layer::{Compression, Layer, LayerRole, LayerSummary, Location};
pub use oci_spec::image::{
    Descriptor, Digest, ImageConfiguration, ImageIndex, ImageManifest, MediaType,
};
pub use reference::{DOCKER_HUB, ImageRef, RegistryRef};
pub use rootfs::{rootfs_image, rootfs_layer};
pub use tar::{
    Content, Entry, EntryKind, LayerOptions, directory_layer, directory_layer_with_progress,
    normalized_mode, write_layer,
};

/// What can go wrong reading, building or writing images.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot read or write `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Bytes whose digest is not the one they were named by.
    #[error("{what}: the digest is {actual}, not the expected {expected}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    /// A symbolic link in a repository whose target is outside it.
    #[error(
        "the symbolic link `{link}` points to `{}`, outside the repository; the code layer stores only links that stay inside it",
        target.display()
    )]
    LinkOutside { link: String, target: PathBuf },
    #[error("`{text}` is not an image reference: {reason}")]
    Reference { text: String, reason: String },
    /// A manifest, config, index or layer that does not follow the spec.
    #[error("{what} is not valid: {reason}")]
    Invalid { what: String, reason: String },
    /// Something larger than we read.
    #[error("{what} is larger than {limit} bytes")]
    TooLarge { what: String, limit: u64 },
    #[error("{0}")]
    Unsupported(String),
    #[error("cancelled")]
    Cancelled,
}

impl From<crate::progress::Cancelled> for Error {
    fn from(_: crate::progress::Cancelled) -> Self {
        Error::Cancelled
    }
}
