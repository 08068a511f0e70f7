//! Registries: images pulled as bases (`docker://`), through `oci-client`.
//!
//! The client is async; [`Registry`] owns a small runtime and offers a blocking API, so callers
//! never need one. Reading a base fetches its manifest (picking the platform from an index) and
//! its config; its layers stay in the registry ([`Location::Registry`]) until a sink needs their
//! bytes, and every blob's digest is checked as it arrives. Plain HTTP is used for `localhost`
//! and `127.0.0.0/8`, and for the hosts the caller names as insecure; credentials go in request
//! headers only and never appear in errors.

use std::net::Ipv4Addr;
use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use oci_spec::image::{Digest, ImageIndex, ImageManifest};

use super::blobs::{BlobStore, BlobWriter};
use super::digest::digest_bytes;
use super::image::{Image, MAX_JSON_BYTES};
use super::layer::{Compression, Layer, LayerRole, Location};
use super::reference::RegistryRef;
use super::Error;
use crate::platform::Platform;

/// A user name and a password (or token) for a registry.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password, not even in a debug print.
        write!(f, "Credentials({}, ****)", self.username)
    }
}

/// How to reach registries.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Credentials for a registry host (`host[:port]`); anonymous when `None`.
    pub credentials: Vec<(String, Credentials)>,
    /// Hosts reached over plain HTTP besides `localhost` and `127.0.0.0/8`.
    pub insecure: Vec<String>,
    /// How long one request may take (connect, and between bytes); 60 s when `None`.
    pub timeout: Option<Duration>,
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

/// A connection to registries, with its own runtime.
pub struct Registry {
    runtime: tokio::runtime::Runtime,
    client: Client,
    options: RegistryOptions,
}

/// Media types of manifests we accept, OCI's and Docker's.
const MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

fn registry_error(registry: &str, error: &oci_client::errors::OciDistributionError) -> Error {
    use oci_client::errors::OciDistributionError as E;
    let (status, code, message) = match error {
        E::RegistryError { envelope, .. } => {
            let first = envelope.errors.first();
            (
                None,
                first.map(|e| format!("{:?}", e.code)),
                first.map_or_else(|| "registry error".to_owned(), |e| e.message.clone()),
            )
        }
        E::ServerError { code, message, .. } => (Some(*code), None, message.clone()),
        E::UnauthorizedError { .. } => (Some(401), None, "unauthorized".to_owned()),
        E::AuthenticationFailure(message) => (Some(401), None, message.clone()),
        E::ImageManifestNotFoundError(message) => (Some(404), None, message.clone()),
        E::RequestError(e) => (
            e.status().map(|s| s.as_u16()),
            None,
            // reqwest's message names the URL, which never holds credentials here.
            e.to_string(),
        ),
        E::DigestError(e) => {
            return Error::DigestMismatch {
                what: format!("a blob from {registry}"),
                expected: String::new(),
                actual: e.to_string(),
            };
        }
        other => (None, None, other.to_string()),
    };
    Error::Registry {
        registry: registry.to_owned(),
        status,
        code,
        message,
    }
}

impl Registry {
    pub fn new(options: &RegistryOptions) -> Result<Registry, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|source| Error::Io {
                path: "tokio runtime".into(),
                source,
            })?;
        let timeout = options.timeout.unwrap_or(Duration::from_mins(1));
        let client = Client::new(ClientConfig {
            protocol: ClientProtocol::HttpsExcept(options.insecure.clone()),
            read_timeout: Some(timeout),
            connect_timeout: Some(timeout),
            user_agent: concat!("mlreef/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        });
        Ok(Registry {
            runtime,
            client,
            options: options.clone(),
        })
    }

    fn auth(&self, registry: &str) -> RegistryAuth {
        self.options
            .credentials
            .iter()
            .find(|(host, _)| host == registry)
            .map_or(RegistryAuth::Anonymous, |(_, c)| {
                RegistryAuth::Basic(c.username.clone(), c.password.clone())
            })
    }

    fn reference(r: &RegistryRef, reference: &str) -> Reference {
        if reference.starts_with("sha256:") {
            Reference::with_digest(r.registry.clone(), r.repository.clone(), reference.to_owned())
        } else {
            Reference::with_tag(r.registry.clone(), r.repository.clone(), reference.to_owned())
        }
    }

    /// The client reaches a local registry over plain HTTP: `HttpsExcept` holds the hosts.
    fn protocol_for(&mut self, registry: &str) {
        if is_local(registry) && !self.options.insecure.iter().any(|h| h == registry) {
            self.options.insecure.push(registry.to_owned());
            let timeout = self.options.timeout.unwrap_or(Duration::from_mins(1));
            self.client = Client::new(ClientConfig {
                protocol: ClientProtocol::HttpsExcept(self.options.insecure.clone()),
                read_timeout: Some(timeout),
                connect_timeout: Some(timeout),
                user_agent: concat!("mlreef/", env!("CARGO_PKG_VERSION")),
                ..ClientConfig::default()
            });
        }
    }

    /// A manifest or index by tag or digest, checked against the digest it was asked by.
    fn manifest_bytes(&self, r: &RegistryRef, reference: &str) -> Result<Vec<u8>, Error> {
        let auth = self.auth(&r.registry);
        let image = Self::reference(r, reference);
        let (bytes, _) = self
            .runtime
            .block_on(self.client.pull_manifest_raw(&image, &auth, MANIFEST_TYPES))
            .map_err(|e| registry_error(&r.registry, &e))?;
        if bytes.len() as u64 > MAX_JSON_BYTES {
            return Err(Error::TooLarge {
                what: format!("the manifest of {r}"),
                limit: MAX_JSON_BYTES,
            });
        }
        if reference.starts_with("sha256:") {
            let actual = digest_bytes(&bytes);
            if actual.to_string() != reference {
                return Err(Error::DigestMismatch {
                    what: format!("the manifest of {r}"),
                    expected: reference.to_owned(),
                    actual: actual.to_string(),
                });
            }
        }
        Ok(bytes.to_vec())
    }

    /// The base image `r` for `platform`: its manifest (from the index when there is one) and
    /// config are fetched and checked; its layers are left in the registry until needed.
    pub fn pull_image(
        &mut self,
        r: &RegistryRef,
        platform: &Platform,
        store: &BlobStore,
    ) -> Result<Image, Error> {
        self.protocol_for(&r.registry);
        let mut bytes = self.manifest_bytes(r, r.reference())?;
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| invalid(r, &e.to_string()))?;
        if value.get("manifests").is_some() {
            let index: ImageIndex =
                serde_json::from_slice(&bytes).map_err(|e| invalid(r, &e.to_string()))?;
            let chosen = index
                .manifests()
                .iter()
                .find(|d| {
                    d.platform().as_ref().is_some_and(|p| {
                        p.os().to_string() == platform.os()
                            && p.architecture().to_string() == platform.arch()
                            && (platform.variant().is_none()
                                || p.variant().as_deref() == platform.variant())
                    })
                })
                .ok_or_else(|| Error::Unsupported(format!("{r} has no image for {platform}")))?;
            bytes = self.manifest_bytes(r, chosen.digest().as_ref())?;
        }
        let manifest: ImageManifest =
            serde_json::from_slice(&bytes).map_err(|e| invalid(r, &e.to_string()))?;
        let config_digest = manifest.config().digest().clone();
        let config = self.config(r, &config_digest, store)?;
        let layers = manifest
            .layers()
            .iter()
            .map(|d| base_layer(r, d))
            .collect::<Result<Vec<_>, _>>()?;
        // A diff_id is only known from the config, in order.
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
        if diff_ids.len() != layers.len() {
            return Err(invalid(
                r,
                &format!(
                    "the config lists {} layers and the manifest {}",
                    diff_ids.len(),
                    layers.len()
                ),
            ));
        }
        let layers = layers
            .into_iter()
            .zip(diff_ids)
            .map(|(mut layer, diff_id)| {
                layer.diff_id = diff_id;
                layer
            })
            .collect();
        Image::from_config(platform, &config, layers)
    }

    fn config(&self, r: &RegistryRef, digest: &Digest, store: &BlobStore) -> Result<Vec<u8>, Error> {
        if !store.contains(digest) {
            self.fetch_blob(&r.registry, &r.repository, digest, store)?;
        }
        store.read(digest, MAX_JSON_BYTES)
    }

    /// Fetches a blob of `registry/repository` into the store, checking its digest.
    pub fn fetch_blob(
        &self,
        registry: &str,
        repository: &str,
        digest: &Digest,
        store: &BlobStore,
    ) -> Result<(), Error> {
        let auth = self.auth(registry);
        let image = Reference::with_digest(
            registry.to_owned(),
            repository.to_owned(),
            digest.to_string(),
        );
        let mut writer = store.writer()?;
        let digest_text = digest.to_string();
        self.runtime
            .block_on(async {
                self.client.store_auth_if_needed(registry, &auth).await;
                self.client
                    .pull_blob(&image, digest_text.as_str(), SyncSink(&mut writer))
                    .await
            })
            .map_err(|e| registry_error(registry, &e))?;
        let (stored, _) = writer.commit()?;
        if &stored != digest {
            return Err(Error::DigestMismatch {
                what: format!("a blob of {registry}/{repository}"),
                expected: digest.to_string(),
                actual: stored.to_string(),
            });
        }
        Ok(())
    }

    /// Makes sure every layer of `image` is in the store (fetching those still in a registry).
    pub fn materialize(&self, image: &mut Image, store: &BlobStore) -> Result<(), Error> {
        for layer in &mut image.layers {
            if let Location::Registry {
                registry,
                repository,
            } = &layer.location
            {
                if !store.contains(&layer.digest) {
                    self.fetch_blob(registry, repository, &layer.digest, store)?;
                }
                layer.location = Location::Store;
            }
        }
        Ok(())
    }
}

fn invalid(r: &RegistryRef, reason: &str) -> Error {
    Error::Invalid {
        what: format!("the manifest of {r}"),
        reason: reason.to_owned(),
    }
}

/// A base layer as the manifest describes it (its `diff_id` comes from the config).
fn base_layer(r: &RegistryRef, d: &oci_spec::image::Descriptor) -> Result<Layer, Error> {
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
        diff_id: d.digest().clone(),
        role: LayerRole::Base,
        cached: true,
        created_by: format!("from {r}"),
        location: Location::Registry {
            registry: r.registry.clone(),
            repository: r.repository.clone(),
        },
    })
}

/// Writes what an async download delivers into a blob writer. The writes go to a local file,
/// on the runtime this module owns.
struct SyncSink<'w>(&'w mut BlobWriter);

impl tokio::io::AsyncWrite for SyncSink<'_> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(std::io::Write::write(self.get_mut().0, buf))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(std::io::Write::flush(self.get_mut().0))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.poll_flush(cx)
    }
}
