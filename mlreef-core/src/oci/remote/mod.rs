//! Registries: images pulled (as bases, or with `mlreef pull`) and pushed, over the
//! distribution protocol.
//!
//! `oci-client` served the first pulls; it reads whole manifests without a bound, pushes whole
//! layers from memory without asking which blobs the registry has, takes a cross-repository
//! mount's legitimate `202` for an error, and never retries. The protocol is therefore ours,
//! over `reqwest`: every answer's size is bounded before it is trusted, every blob's digest is
//! checked as it streams, and a push asks (`HEAD`) before it uploads, mounts what another
//! repository of the same registry has, streams the rest from disk (in one `PUT`, or `PATCH`
//! chunks of a chosen size) several at a time, and writes the manifest last, so a push that
//! fails leaves no tag on an incomplete image. Transient failures are retried with backoff
//! (see `transport`).
//!
//! [`Registry`] owns a small runtime behind a blocking API, so callers never need one.

mod auth;
mod pull;
mod push;
mod transport;

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use oci_spec::image::{Descriptor, Digest, ImageIndex, ImageManifest};
use reqwest::{Method, StatusCode};

pub use auth::{Credentials, Env};
pub use pull::{MAX_TAGS, PullOutcome, TagLabels};
pub use push::{PushEvent, PushOutcome, PushStats};
use transport::{Request, Transport, read_limited};

use super::Error;
use super::blobs::BlobStore;
use super::digest::digest_bytes;
use super::image::{Image, MAX_JSON_BYTES};
use super::layer::{Compression, Layer, LayerRole, Location};
use super::reference::RegistryRef;
use crate::platform::Platform;
use crate::progress::Cancelled;

/// How to reach registries.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Credentials for a registry host (`host[:port]`), before those of the environment and
    /// docker's config files; anonymous when none are found.
    pub credentials: Vec<(String, Credentials)>,
    /// Hosts reached over plain HTTP besides `localhost` and `127.0.0.0/8`.
    pub insecure: Vec<String>,
    /// How long connecting, and each wait for bytes, may take (when `None`, the seconds in
    /// `MLREEF_REGISTRY_TIMEOUT`, else 60 s).
    pub timeout: Option<Duration>,
    /// Retries of one request after a connection error, `408`, `429` or `5xx` (4 when
    /// `None`).
    pub retries: Option<u32>,
    /// Upload blobs in `PATCH` chunks of this many bytes instead of one `PUT`.
    pub chunk_size: Option<u64>,
    /// Blobs pushed at once (4 when `None`).
    pub concurrency: Option<usize>,
}

/// Whether `host[:port]` is this machine, which is reached over plain HTTP.
#[must_use]
pub fn is_local(registry: &str) -> bool {
    let host = registry
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(registry, |(host, _)| host);
    host == "localhost" || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// Media types of manifests we accept, OCI's and Docker's.
const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.docker.distribution.manifest.v2+json";

/// A connection to registries, with its own runtime.
pub struct Registry {
    runtime: tokio::runtime::Runtime,
    transport: Arc<Transport>,
    options: RegistryOptions,
}

/// A manifest or index as a registry serves it.
#[derive(Debug, Clone)]
pub struct RemoteManifest {
    pub bytes: Vec<u8>,
    pub digest: Digest,
    pub media_type: String,
}

impl RemoteManifest {
    fn is_index(&self) -> bool {
        self.media_type.contains("index") || self.media_type.contains("manifest.list")
    }
}

fn scope(repository: &str, push: bool) -> String {
    if push {
        format!("repository:{repository}:pull,push")
    } else {
        format!("repository:{repository}:pull")
    }
}

/// Hears the bytes of a blob fetched so far, and may cancel.
pub type OnBytes<'a> = &'a (dyn Fn(u64) -> Result<(), Cancelled> + Sync);

/// The size a descriptor gives a JSON blob (config, manifest), refused beyond
/// [`MAX_JSON_BYTES`] before anything is fetched.
fn json_size(descriptor: &Descriptor, what: &str) -> Result<u64, Error> {
    if descriptor.size() > MAX_JSON_BYTES {
        return Err(Error::TooLarge {
            what: what.to_owned(),
            limit: MAX_JSON_BYTES,
        });
    }
    Ok(descriptor.size())
}

fn parse_index(r: &RegistryRef, bytes: &[u8]) -> Result<ImageIndex, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::Invalid {
        what: format!("the index of {r}"),
        reason: e.to_string(),
    })
}

fn invalid(r: &RegistryRef, reason: &str) -> Error {
    Error::Invalid {
        what: format!("the manifest of {r}"),
        reason: reason.to_owned(),
    }
}

impl Registry {
    /// A client with `options`; credentials are also looked up in the process environment
    /// and docker's config files.
    pub fn new(options: &RegistryOptions) -> Result<Registry, Error> {
        Registry::with_env(options, Arc::new(|name| std::env::var(name).ok()))
    }

    /// A client that reads variables through `env` instead of the process environment.
    pub fn with_env(options: &RegistryOptions, env: Env) -> Result<Registry, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|source| Error::Io {
                path: "tokio runtime".into(),
                source,
            })?;
        Ok(Registry {
            runtime,
            transport: Arc::new(Transport::new(options, env)?),
            options: options.clone(),
        })
    }

    /// The manifest or index `reference` (a tag or a digest) of `registry/repository`, checked
    /// against the digest it was asked by and the one the registry says.
    pub fn manifest(&self, r: &RegistryRef, reference: &str) -> Result<RemoteManifest, Error> {
        self.runtime.block_on(self.manifest_async(r, reference))
    }

    async fn manifest_async(
        &self,
        r: &RegistryRef,
        reference: &str,
    ) -> Result<RemoteManifest, Error> {
        let request = Request::new(
            Method::GET,
            format!("/v2/{}/manifests/{reference}", r.repository),
            scope(&r.repository, false),
        )
        .header("accept", MANIFEST_TYPES);
        let response = self
            .transport
            .send(&r.registry, &request, &[StatusCode::NOT_FOUND], &|_| {})
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Err(Error::Registry {
                registry: r.registry.clone(),
                status: Some(404),
                code: Some("MANIFEST_UNKNOWN".to_owned()),
                message: format!("{} has no image `{reference}`", r.repository),
            });
        }
        let media_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let said = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = read_limited(response, MAX_JSON_BYTES, &r.registry, "a manifest").await?;
        let digest = digest_bytes(&bytes);
        for expected in [
            Some(reference).filter(|r| r.starts_with("sha256:")),
            said.as_deref(),
        ]
        .into_iter()
        .flatten()
        {
            if digest.to_string() != expected {
                return Err(Error::DigestMismatch {
                    what: format!("the manifest of {r}"),
                    expected: expected.to_owned(),
                    actual: digest.to_string(),
                });
            }
        }
        // The body says what it is when the header does not.
        let media_type = if media_type.is_empty() || media_type.starts_with("text/") {
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("mediaType")?.as_str().map(str::to_owned))
                .unwrap_or_default()
        } else {
            media_type
        };
        Ok(RemoteManifest {
            bytes,
            digest,
            media_type,
        })
    }

    /// The digest `reference` names in `registry/repository`, or `None` when it names nothing.
    pub fn manifest_digest(
        &self,
        r: &RegistryRef,
        reference: &str,
    ) -> Result<Option<Digest>, Error> {
        self.runtime.block_on(async {
            let request = Request::new(
                Method::HEAD,
                format!("/v2/{}/manifests/{reference}", r.repository),
                scope(&r.repository, false),
            )
            .header("accept", MANIFEST_TYPES);
            let response = self
                .transport
                .send(&r.registry, &request, &[StatusCode::NOT_FOUND], &|_| {})
                .await?;
            if response.status() == StatusCode::NOT_FOUND {
                return Ok(None);
            }
            Ok(response
                .headers()
                .get("docker-content-digest")
                .and_then(|v| v.to_str().ok()?.parse().ok()))
        })
    }

    /// The tags of `registry/repository` (at most 10,000).
    pub fn tags(&self, r: &RegistryRef) -> Result<Vec<String>, Error> {
        self.runtime.block_on(async {
            let request = Request::new(
                Method::GET,
                format!("/v2/{}/tags/list?n=10000", r.repository),
                scope(&r.repository, false),
            );
            let response = self
                .transport
                .send(&r.registry, &request, &[StatusCode::NOT_FOUND], &|_| {})
                .await?;
            if response.status() == StatusCode::NOT_FOUND {
                return Ok(Vec::new());
            }
            let body = read_limited(response, 4 << 20, &r.registry, "a tag list").await?;
            let value: serde_json::Value =
                serde_json::from_slice(&body).map_err(|e| Error::Invalid {
                    what: format!("the tag list of {r}"),
                    reason: e.to_string(),
                })?;
            let mut tags: Vec<String> = value
                .get("tags")
                .and_then(|t| t.as_array())
                .map(|t| {
                    t.iter()
                        .filter_map(|t| t.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            tags.sort();
            Ok(tags)
        })
    }

    /// The image `r` for `platform`: its manifest (from the index when there is one) and
    /// config are fetched and checked; its layers are left in the registry until needed.
    pub fn pull_image(
        &self,
        r: &RegistryRef,
        platform: &Platform,
        store: &BlobStore,
    ) -> Result<Image, Error> {
        let mut manifest = self.manifest(r, r.reference())?;
        if manifest.is_index() {
            let index = parse_index(r, &manifest.bytes)?;
            let chosen = pull::choose_platform(&index, platform, r)?;
            manifest = self.manifest(r, chosen.digest().as_ref())?;
        }
        self.image_of(r, &manifest, platform, store)
    }

    /// The image of a (platform) manifest, its config fetched.
    fn image_of(
        &self,
        r: &RegistryRef,
        manifest: &RemoteManifest,
        platform: &Platform,
        store: &BlobStore,
    ) -> Result<Image, Error> {
        let parsed: ImageManifest =
            serde_json::from_slice(&manifest.bytes).map_err(|e| invalid(r, &e.to_string()))?;
        let config_digest = parsed.config().digest().clone();
        if !store.contains(&config_digest) {
            let size = json_size(parsed.config(), &format!("the config of {r}"))?;
            self.fetch_blob(
                &r.registry,
                &r.repository,
                &config_digest,
                size,
                store,
                &|_| Ok(()),
            )?;
        }
        let config = store.read(&config_digest, MAX_JSON_BYTES)?;
        let value: serde_json::Value =
            serde_json::from_slice(&config).map_err(|e| invalid(r, &e.to_string()))?;
        let diff_ids: Vec<Digest> = value["rootfs"]["diff_ids"]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter_map(|d| d.as_str()?.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        if diff_ids.len() != parsed.layers().len() {
            return Err(invalid(
                r,
                &format!(
                    "the config lists {} layers and the manifest {}",
                    diff_ids.len(),
                    parsed.layers().len()
                ),
            ));
        }
        let layers = parsed
            .layers()
            .iter()
            .zip(diff_ids)
            .map(|(d, diff_id)| {
                let compression = Compression::of_media_type(d.media_type()).ok_or_else(|| {
                    Error::Unsupported(format!(
                        "{r} has a layer of media type `{}`, which is not a tar layer",
                        d.media_type()
                    ))
                })?;
                Ok(Layer {
                    // Docker's layer types name the same bytes as OCI's.
                    media_type: compression.media_type(),
                    digest: d.digest().clone(),
                    size: d.size(),
                    diff_id,
                    role: LayerRole::Base,
                    // In the store from an earlier fetch; else fetched when needed (or never,
                    // when a push mounts it).
                    cached: store.contains(d.digest()),
                    created_by: format!("from {r}"),
                    location: Location::Registry {
                        registry: r.registry.clone(),
                        repository: r.repository.clone(),
                    },
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Image::from_config(platform, &config, layers)
    }

    /// Fetches a blob of `registry/repository` into the store, checking its digest as it
    /// streams and its size against `size` (a body longer than its descriptor says is cut
    /// off); nothing is kept when either does not match. `on_bytes` hears the bytes so far,
    /// and may cancel.
    pub fn fetch_blob(
        &self,
        registry: &str,
        repository: &str,
        digest: &Digest,
        size: u64,
        store: &BlobStore,
        on_bytes: OnBytes<'_>,
    ) -> Result<(), Error> {
        self.runtime
            .block_on(self.fetch_blob_async(registry, repository, digest, size, store, on_bytes))
    }

    async fn fetch_blob_async(
        &self,
        registry: &str,
        repository: &str,
        digest: &Digest,
        size: u64,
        store: &BlobStore,
        on_bytes: OnBytes<'_>,
    ) -> Result<(), Error> {
        let request = Request::new(
            Method::GET,
            format!("/v2/{repository}/blobs/{digest}"),
            scope(repository, false),
        );
        let mut response = self
            .transport
            .send(registry, &request, &[], &|_| {})
            .await?;
        let mut writer = store.writer()?;
        let mut done = 0u64;
        while let Some(chunk) = response.chunk().await.map_err(|e| Error::Registry {
            registry: registry.to_owned(),
            status: None,
            code: None,
            message: format!("the connection broke while fetching {digest}: {e}"),
        })? {
            done += chunk.len() as u64;
            if done > size {
                return Err(Error::Invalid {
                    what: format!("the blob {digest} from {registry}/{repository}"),
                    reason: format!("it is longer than the {size} bytes its descriptor says"),
                });
            }
            std::io::Write::write_all(&mut writer, &chunk).map_err(|source| Error::Io {
                path: store.root().to_owned(),
                source,
            })?;
            on_bytes(done)?;
        }
        writer.commit_expecting(
            digest,
            &format!("the blob {digest} of {registry}/{repository}"),
        )?;
        Ok(())
    }

    /// Makes sure every layer of `image` is in the store (fetching those still in a registry).
    /// A layer keeps its location, so that a push to the registry it came from can still mount
    /// it rather than upload it.
    pub fn materialize(&self, image: &Image, store: &BlobStore) -> Result<(), Error> {
        self.fetch_layers(image, store, None)
    }

    /// [`materialize`](Registry::materialize), but for the layers in `registry`, which a push
    /// there mounts.
    pub fn materialize_except(
        &self,
        image: &Image,
        store: &BlobStore,
        registry: &str,
    ) -> Result<(), Error> {
        self.fetch_layers(image, store, Some(registry))
    }

    fn fetch_layers(
        &self,
        image: &Image,
        store: &BlobStore,
        except: Option<&str>,
    ) -> Result<(), Error> {
        for layer in &image.layers {
            if let Location::Registry {
                registry,
                repository,
            } = &layer.location
                && except != Some(registry.as_str())
                && !store.contains(&layer.digest)
            {
                self.fetch_blob(
                    registry,
                    repository,
                    &layer.digest,
                    layer.size,
                    store,
                    &|_| Ok(()),
                )?;
            }
        }
        Ok(())
    }
}
