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
//!
//! Layers are written in one streaming pass (tar, `diff_id`, compressor, digest, store) as
//! deterministic tars: entries sorted, root-owned with normalized modes in our own layers, one
//! fixed mtime, and compressed so that the bytes do not depend on the number of threads
//! ([`write_layer`], [`directory_layer`], [`code_layer`]). Local sources read a base with every
//! digest checked ([`read_local_base`]: `rootfs:`, `oci:`, `docker-archive:`, `scratch`); local
//! sinks write what was built ([`write_local`]: an OCI layout, a docker-archive).
//!
//! ```
//! use mlreef_core::oci::{BlobStore, CodeOptions, Image, code_layer, rfc3339, write_layout};
//! use mlreef_core::platform::Platform;
//! use mlreef_core::progress::Silent;
//!
//! let repo = tempfile::tempdir()?;
//! std::fs::write(repo.path().join("train.py"), "print('training')\n")?;
//! std::fs::write(repo.path().join(".env"), "TOKEN=do-not-ship\n")?;
//! let store = BlobStore::open(repo.path().join(".mlreef/cache"))?;
//!
//! let code = code_layer(&store, repo.path(), &CodeOptions::default(), &Silent)?;
//! let left_out: Vec<_> = code.excluded.iter().map(|e| (e.path.as_str(), e.reason.as_str())).collect();
//! assert_eq!(left_out, [(".env", "secret"), (".mlreef/", "mlreef output")]);
//!
//! let created = rfc3339(0);
//! let image = Image::scratch(&Platform::linux_amd64())
//!     .created_at(&created)
//!     .with_layer(code.layer, &created);
//! let layout = repo.path().join(".mlreef/images");
//! let written = write_layout(&store, &layout, Some("main-1"), &[image.clone()], &Silent)?;
//! assert_eq!(*written.digest(), image.digest());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod archive;
mod blobs;
mod code;
mod compress;
mod digest;
mod image;
mod import;
mod layer;
mod layout;
mod reference;
mod remote;
mod rootfs;
mod tar;
mod transport;

use std::path::PathBuf;

pub use archive::{read_archive, write_archive};
pub use blobs::{BlobStore, BlobWriter, STALE_AFTER, default_cache};
pub use code::{
    CodeLayer, CodeOptions, CodeTree, ExcludeReason, Excluded, OUTPUT_DIR, SECRETS, WORKDIR,
    code_layer, scan_code,
};
pub use compress::{GZIP_BLOCK, GZIP_LEVEL, ZSTD_LEVEL};
pub use digest::{Hasher, HashingReader, HashingWriter, digest_bytes};
pub use image::{Image, ImageLabels, MAX_JSON_BYTES, canonical_json, index, rfc3339};
pub use layer::{Compression, Layer, LayerRole, LayerSummary, Location};
pub use layout::{REF_NAME, layout_labels, read_layout, stored_blob_count, write_layout};
pub use oci_spec::image::{
    Descriptor, Digest, ImageConfiguration, ImageIndex, ImageManifest, MediaType,
};
pub use reference::{DOCKER_HUB, ImageRef, RegistryRef};
pub use remote::{
    Credentials, MAX_TAGS, OnBytes, PullOutcome, PushEvent, PushOutcome, PushStats, Registry,
    RegistryOptions, RemoteManifest, TagLabels, is_local,
};
pub use rootfs::{rootfs_image, rootfs_layer};
pub use tar::{
    Content, Entry, EntryKind, LayerOptions, directory_entries, directory_layer,
    directory_layer_with_progress, normalized_mode, write_layer,
};
pub use transport::{read_local_base, write_local};

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
    /// A base with no image for the platform asked for.
    #[error("`{reference}` has no image for {wanted}; it has {}", if available.is_empty() { "none".to_owned() } else { available.join(", ") })]
    NoPlatform {
        reference: String,
        wanted: String,
        available: Vec<String>,
    },
    /// A tag or name that a layout or an archive does not hold.
    #[error("`{reference}` has no image tagged `{tag}`; it has {}", if available.is_empty() { "no tags".to_owned() } else { available.join(", ") })]
    NoTag {
        reference: String,
        tag: String,
        available: Vec<String>,
    },
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
    /// A registry refused or failed a request: its HTTP status and distribution-spec error
    /// code when it gave them. Never holds a credential.
    #[error("registry {registry}: {message}{}", status_and_code(*status, code.as_deref()))]
    Registry {
        registry: String,
        status: Option<u16>,
        code: Option<String>,
        message: String,
    },
    /// A tag names another image already, and versions are immutable.
    #[error(
        "`{reference}` names {existing} already; a published version does not change (push under a new version, or force it)"
    )]
    TagExists {
        reference: String,
        existing: String,
        new: String,
    },
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    /// The file the error is about, when it names one.
    #[must_use]
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Error::Io { path, .. } => Some(path),
            _ => None,
        }
    }
}

fn status_and_code(status: Option<u16>, code: Option<&str>) -> String {
    match (status, code) {
        (Some(s), Some(c)) => format!(" (HTTP {s}, {c})"),
        (Some(s), None) => format!(" (HTTP {s})"),
        (None, Some(c)) => format!(" ({c})"),
        (None, None) => String::new(),
    }
}

impl From<crate::progress::Cancelled> for Error {
    fn from(_: crate::progress::Cancelled) -> Self {
        Error::Cancelled
    }
}
