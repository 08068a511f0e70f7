//! Reading images out of a registry as they are: copied into an OCI layout byte for byte (so
//! the layout has the registry's digests), or asked only for their labels, which is how a
//! registry serves as a catalogue of modules.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use futures_util::stream::{self, StreamExt as _};
use oci_spec::image::{Descriptor, Digest, ImageIndex, ImageManifest};

use super::{MAX_JSON_BYTES, Registry, RemoteManifest, invalid, json_size, parse_index};
use crate::oci::Error;
use crate::oci::blobs::BlobStore;
use crate::oci::image::{ImageLabels, config_labels, descriptor_matches, descriptor_platform};
use crate::oci::layout::{MAX_LAYERS, MAX_MANIFESTS, StoredImage, write_stored};
use crate::oci::reference::RegistryRef;
use crate::platform::Platform;
use crate::progress::{Cancelled, Event, Progress};

/// Blobs fetched at once by a pull.
const PULL_CONCURRENCY: usize = 4;
/// Tags whose labels are read at once by a listing.
const LIST_CONCURRENCY: usize = 8;
/// The most tags a listing reads.
pub const MAX_TAGS: usize = 10_000;

/// What a pull did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullOutcome {
    /// The digest of the manifest or index the layout's tag now names.
    pub digest: Digest,
    pub media_type: String,
    /// The platforms of the images copied (`linux/amd64`), as their manifests or index say.
    pub platforms: Vec<String>,
    /// Config and layer blobs the image has.
    pub blobs: u64,
    /// Of those, the ones fetched (the others were in the blob store already).
    pub fetched: u64,
    /// Bytes fetched.
    pub bytes: u64,
}

/// A tag, and its image's labels or why they could not be read.
pub type TagLabels = (String, Result<ImageLabels, Error>);

/// The descriptor for `platform` among an index's manifests; none, or one that is an index
/// itself, is an error that says what there is.
pub(super) fn choose_platform<'a>(
    index: &'a ImageIndex,
    platform: &Platform,
    r: &RegistryRef,
) -> Result<&'a Descriptor, Error> {
    let found = index
        .manifests()
        .iter()
        .find(|d| descriptor_matches(platform, d));
    found.ok_or_else(|| Error::NoPlatform {
        reference: format!("docker://{r}"),
        wanted: platform.to_string(),
        available: platforms_of(index),
    })
}

/// The platforms an index lists, as `os/arch[/variant]`.
fn platforms_of(index: &ImageIndex) -> Vec<String> {
    index
        .manifests()
        .iter()
        .filter_map(descriptor_platform)
        .collect()
}

fn parse_manifest(r: &RegistryRef, bytes: &[u8]) -> Result<ImageManifest, Error> {
    let manifest: ImageManifest =
        serde_json::from_slice(bytes).map_err(|e| invalid(r, &e.to_string()))?;
    if manifest.layers().len() > MAX_LAYERS {
        return Err(Error::TooLarge {
            what: format!("the layer count of {r}"),
            limit: MAX_LAYERS as u64,
        });
    }
    Ok(manifest)
}

impl Registry {
    /// Copies the image `r` into the OCI layout `dir` (made when missing) as `tag`, exactly as
    /// the registry serves it: the manifest or index, and every config and layer, each checked
    /// against its digest and size as it streams. With `platform`, only that platform's image
    /// of an index is copied (and the layout names its manifest). Blobs go through `store`, so
    /// a base pulled once is not fetched again; the layout's `index.json` is written last.
    /// Progress is reported as stage `fetch`, in bytes of blobs, and may cancel (nothing is
    /// tagged then).
    pub fn pull_layout(
        &self,
        r: &RegistryRef,
        platform: Option<&Platform>,
        store: &BlobStore,
        dir: &Path,
        tag: Option<&str>,
        progress: &dyn Progress,
    ) -> Result<PullOutcome, Error> {
        self.runtime
            .block_on(self.pull_layout_async(r, platform, store, dir, tag, progress))
    }

    async fn pull_layout_async(
        &self,
        r: &RegistryRef,
        platform: Option<&Platform>,
        store: &BlobStore,
        dir: &Path,
        tag: Option<&str>,
        progress: &dyn Progress,
    ) -> Result<PullOutcome, Error> {
        let mut top = self.manifest_async(r, r.reference()).await?;
        let mut manifests = Vec::new();
        let platforms;
        if top.is_index() {
            let index = parse_index(r, &top.bytes)?;
            if index.manifests().len() > MAX_MANIFESTS {
                return Err(Error::TooLarge {
                    what: format!("the manifest count of {r}"),
                    limit: MAX_MANIFESTS as u64,
                });
            }
            if let Some(platform) = platform {
                let chosen = choose_platform(&index, platform, r)?;
                top = self.platform_manifest(r, chosen).await?;
                platforms = vec![platform.to_string()];
            } else {
                for descriptor in index.manifests() {
                    let manifest = self.platform_manifest(r, descriptor).await?;
                    manifests.push((manifest.digest, manifest.media_type, manifest.bytes));
                }
                platforms = platforms_of(&index);
            }
        } else {
            platforms = Vec::new();
        }
        // Every config and layer once, in the order the manifests list them.
        let mut seen = HashSet::new();
        let mut blobs: Vec<(Digest, u64)> = Vec::new();
        let listed: Vec<&[u8]> = if manifests.is_empty() {
            vec![&top.bytes]
        } else {
            manifests
                .iter()
                .map(|(_, _, bytes)| bytes.as_slice())
                .collect()
        };
        for bytes in listed {
            let manifest = parse_manifest(r, bytes)?;
            json_size(manifest.config(), &format!("the config of {r}"))?;
            for d in std::iter::once(manifest.config()).chain(manifest.layers()) {
                if seen.insert(d.digest().clone()) {
                    blobs.push((d.digest().clone(), d.size()));
                }
            }
        }
        let (fetched, bytes) = self.fetch_all(r, &blobs, store, progress).await?;
        let platforms = if platforms.is_empty() {
            // A lone manifest: its config says the platform.
            let manifest = parse_manifest(r, &top.bytes)?;
            let config = store.read(manifest.config().digest(), MAX_JSON_BYTES)?;
            let value: serde_json::Value =
                serde_json::from_slice(&config).map_err(|e| invalid(r, &e.to_string()))?;
            let part = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_owned);
            match (part("os"), part("architecture"), part("variant")) {
                (Some(os), Some(arch), None) => vec![format!("{os}/{arch}")],
                (Some(os), Some(arch), Some(variant)) => vec![format!("{os}/{arch}/{variant}")],
                _ => Vec::new(),
            }
        } else {
            platforms
        };
        let stored = StoredImage {
            top: (top.media_type.clone(), top.bytes),
            manifests,
            blobs,
        };
        let blob_count = stored.blobs.len() as u64;
        write_stored(store, dir, tag, &stored)?;
        Ok(PullOutcome {
            digest: top.digest,
            media_type: top.media_type,
            platforms,
            blobs: blob_count,
            fetched,
            bytes,
        })
    }

    /// A manifest an index lists, fetched by its digest; an index in an index is refused.
    async fn platform_manifest(
        &self,
        r: &RegistryRef,
        descriptor: &Descriptor,
    ) -> Result<RemoteManifest, Error> {
        json_size(descriptor, &format!("a manifest of {r}"))?;
        let manifest = self.manifest_async(r, descriptor.digest().as_ref()).await?;
        if manifest.is_index() {
            return Err(invalid(r, "its index lists another index"));
        }
        Ok(manifest)
    }

    /// Fetches the blobs the store lacks, several at once; returns how many, and their bytes.
    async fn fetch_all(
        &self,
        r: &RegistryRef,
        blobs: &[(Digest, u64)],
        store: &BlobStore,
        progress: &dyn Progress,
    ) -> Result<(u64, u64), Error> {
        let total: u64 = blobs.iter().map(|(_, size)| size).sum();
        let name = format!("docker://{r}");
        let done = AtomicU64::new(0);
        let cancelled = AtomicBool::new(false);
        // One report at a time, with the sum of every blob's bytes so far.
        let report = Mutex::new(());
        let tell = |n: u64| -> Result<(), Cancelled> {
            let _one = report
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let result = progress.report(&Event {
                stage: "fetch",
                done: n,
                total: Some(total),
                detail: Some(&name),
            });
            if result.is_err() {
                cancelled.store(true, Ordering::SeqCst);
            }
            result
        };
        tell(0)?;
        let missing: Vec<&(Digest, u64)> = blobs
            .iter()
            .filter(|(digest, size)| {
                let have = store.size(digest) == Some(*size);
                if have {
                    done.fetch_add(*size, Ordering::SeqCst);
                }
                !have
            })
            .collect();
        tell(done.load(Ordering::SeqCst))?;
        let fetched = missing.len() as u64;
        let bytes: u64 = missing.iter().map(|(_, size)| size).sum();
        let mut results = stream::iter(missing)
            .map(|(digest, size)| {
                let (done, tell) = (&done, &tell);
                async move {
                    let last = AtomicU64::new(0);
                    let on_bytes = |so_far: u64| {
                        let delta = so_far.saturating_sub(last.swap(so_far, Ordering::SeqCst));
                        tell(done.fetch_add(delta, Ordering::SeqCst) + delta)
                    };
                    self.fetch_blob_async(
                        &r.registry,
                        &r.repository,
                        digest,
                        *size,
                        store,
                        &on_bytes,
                    )
                    .await
                }
            })
            .buffer_unordered(PULL_CONCURRENCY);
        while let Some(result) = results.next().await {
            match result {
                Err(_) if cancelled.load(Ordering::SeqCst) => return Err(Error::Cancelled),
                other => other?,
            }
        }
        drop(results);
        tell(total)?;
        Ok((fetched, bytes))
    }

    /// The labels of the image `r` (for an index, those of `platform`'s image, else of the
    /// first it lists), and the digest `r` names; the config is kept in `store`.
    pub fn labels(
        &self,
        r: &RegistryRef,
        platform: Option<&Platform>,
        store: &BlobStore,
    ) -> Result<ImageLabels, Error> {
        self.runtime.block_on(self.labels_async(r, platform, store))
    }

    async fn labels_async(
        &self,
        r: &RegistryRef,
        platform: Option<&Platform>,
        store: &BlobStore,
    ) -> Result<ImageLabels, Error> {
        let top = self.manifest_async(r, r.reference()).await?;
        let manifest = if top.is_index() {
            let index = parse_index(r, &top.bytes)?;
            let chosen = match platform {
                Some(platform) => choose_platform(&index, platform, r)?,
                None => index
                    .manifests()
                    .first()
                    .ok_or_else(|| invalid(r, "its index lists no image"))?,
            };
            self.platform_manifest(r, chosen).await?
        } else {
            top.clone()
        };
        let parsed = parse_manifest(r, &manifest.bytes)?;
        let config = parsed.config();
        let size = json_size(config, &format!("the config of {r}"))?;
        if !store.contains(config.digest()) {
            self.fetch_blob_async(
                &r.registry,
                &r.repository,
                config.digest(),
                size,
                store,
                &|_| Ok(()),
            )
            .await?;
        }
        let bytes = store.read(config.digest(), MAX_JSON_BYTES)?;
        Ok(ImageLabels {
            digest: top.digest,
            labels: config_labels(&bytes, &format!("the config of {r}"))?,
        })
    }

    /// The labels of each tag of the repository `r` (at most [`MAX_TAGS`], several read at
    /// once), in tag order; a tag whose image cannot be read has its error instead.
    pub fn tag_labels(&self, r: &RegistryRef, store: &BlobStore) -> Result<Vec<TagLabels>, Error> {
        let mut tags = self.tags(r)?;
        tags.truncate(MAX_TAGS);
        Ok(self.runtime.block_on(async {
            stream::iter(tags)
                .map(|tag| async move {
                    let tagged = RegistryRef {
                        tag: Some(tag.clone()),
                        digest: None,
                        ..r.clone()
                    };
                    let labels = self.labels_async(&tagged, None, store).await;
                    (tag, labels)
                })
                .buffered(LIST_CONCURRENCY)
                .collect()
                .await
        }))
    }
}
