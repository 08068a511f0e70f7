//! Manifests, indexes and configs as an OCI layout holds them, read the way `oci:DIR` bases
//! and `mlreef inspect oci:DIR` read them (`read_layout`, `layout_labels`).
//!
//! The first byte picks what the rest is (modulo 4):
//! 0. the blob of an image manifest named by `index.json`;
//! 1. the blob of a (nested) image index named by `index.json`;
//! 2. the config blob of a fixed manifest named by `index.json`;
//! 3. `index.json` itself, next to the blobs of a fixed, valid image (manifest and config).
//!
//! Errors are fine; panics, hangs and running out of memory are not.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mlreef_core::oci::{BlobStore, digest_bytes, layout_labels, read_layout};
use mlreef_core::platform::Platform;
use mlreef_core::progress::Silent;

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// The fixed config of modes 2 and 3.
const CONFIG: &str = r#"{"architecture":"amd64","os":"linux","config":{"Labels":{"com.mlreef.module":"{}"}},"rootfs":{"type":"layers","diff_ids":[]},"history":[]}"#;

/// A layout folder and a blob store of this process's own (fuzz jobs may run side by side).
fn dirs() -> &'static (PathBuf, BlobStore) {
    static DIRS: OnceLock<(PathBuf, BlobStore)> = OnceLock::new();
    DIRS.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("mlreef-fuzz-oci-{}", std::process::id()));
        let layout = root.join("layout");
        std::fs::create_dir_all(&layout).expect("a temporary folder");
        let store = BlobStore::open(root.join("store")).expect("a blob store");
        (layout, store)
    })
}

fn descriptor(media_type: &str, bytes: &[u8]) -> String {
    format!(
        r#"{{"mediaType":"{media_type}","digest":"{}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"latest"}}}}"#,
        digest_bytes(bytes),
        bytes.len()
    )
}

fn index_of(descriptors: &[String]) -> String {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{INDEX}","manifests":[{}]}}"#,
        descriptors.join(",")
    )
}

fn manifest_with(config: &[u8]) -> String {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{MANIFEST}","config":{},"layers":[]}}"#,
        descriptor(CONFIG_TYPE, config)
    )
}

fn put_blob(layout: &Path, bytes: &[u8]) {
    let digest = digest_bytes(bytes);
    let path = layout.join("blobs/sha256").join(digest.digest());
    std::fs::write(path, bytes).expect("a blob is written");
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (layout, store) = dirs();
    // A fresh layout for every input.
    let _ = std::fs::remove_dir_all(layout.join("blobs"));
    std::fs::create_dir_all(layout.join("blobs/sha256")).expect("a blobs folder");
    std::fs::write(layout.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
        .expect("oci-layout is written");
    let index = match mode % 4 {
        0 => {
            put_blob(layout, rest);
            index_of(&[descriptor(MANIFEST, rest)])
        }
        1 => {
            put_blob(layout, rest);
            index_of(&[descriptor(INDEX, rest)])
        }
        2 => {
            let manifest = manifest_with(rest);
            put_blob(layout, rest);
            put_blob(layout, manifest.as_bytes());
            index_of(&[descriptor(MANIFEST, manifest.as_bytes())])
        }
        _ => {
            let manifest = manifest_with(CONFIG.as_bytes());
            put_blob(layout, CONFIG.as_bytes());
            put_blob(layout, manifest.as_bytes());
            String::from_utf8_lossy(rest).into_owned()
        }
    };
    std::fs::write(layout.join("index.json"), index).expect("index.json is written");
    let platform = Platform::linux_amd64();
    for tag in [None, Some("latest")] {
        if let Err(error) = read_layout(store, layout, tag, &platform, &Silent) {
            let _ = error.to_string();
        }
        match layout_labels(layout, tag) {
            Ok(labels) => {
                let _ = format!("{labels:?}");
            }
            Err(error) => {
                let _ = error.to_string();
            }
        }
    }
});
