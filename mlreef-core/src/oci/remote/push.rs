//! Pushing an image: blobs first (asked for, mounted, or streamed from the store, several at
//! once), manifests last, then the tag confirmed. A tag that already names another image is
//! refused unless forced; the same image again is a no-op.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use futures_util::stream::{self, StreamExt as _};
use oci_spec::image::Digest;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

use super::transport::{BodyMaker, Request, refused};
use super::{Registry, scope};
use crate::oci::Error;
use crate::oci::blobs::BlobStore;
use crate::oci::digest::digest_bytes;
use crate::oci::image::{Image, index};
use crate::oci::layer::Location;
use crate::oci::layout::stored_image;
use crate::oci::reference::RegistryRef;
use crate::progress::{Cancelled, Event, Progress};

/// What happens to a blob or a manifest during a push, as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushEvent {
    /// A blob's upload started (again, after a retry).
    Started { digest: String, size: u64 },
    /// Bytes of a blob sent so far.
    Bytes {
        digest: String,
        done: u64,
        size: u64,
    },
    /// The registry has the blob already.
    Skipped { digest: String, size: u64 },
    /// The registry linked the blob from another of its repositories.
    Mounted { digest: String, from: String },
    /// A request failed and is tried again.
    Retried { reason: String },
    /// A blob is in the registry.
    Finished { digest: String },
    /// A manifest or index was written, under a digest or the tag.
    Manifest { reference: String },
}

impl PushEvent {
    /// The event as a generic progress step, for callers that take [`Progress`]: stage
    /// `upload` (bytes of a blob so far; the detail is its digest), `skipped`, `mounted` (the
    /// detail is `DIGEST from REPOSITORY`), `uploaded`, `retry` (the detail says why) or
    /// `manifest` (the detail is the digest or tag written).
    pub fn report_to(&self, progress: &dyn Progress) -> Result<(), Cancelled> {
        let (stage, done, total, detail) = match self {
            PushEvent::Started { digest, size } => ("upload", 0, Some(*size), digest.clone()),
            PushEvent::Bytes { digest, done, size } => {
                ("upload", *done, Some(*size), digest.clone())
            }
            PushEvent::Skipped { digest, size } => ("skipped", *size, Some(*size), digest.clone()),
            PushEvent::Mounted { digest, from } => {
                ("mounted", 0, None, format!("{digest} from {from}"))
            }
            PushEvent::Retried { reason } => ("retry", 0, None, reason.clone()),
            PushEvent::Finished { digest } => ("uploaded", 0, None, digest.clone()),
            PushEvent::Manifest { reference } => ("manifest", 0, None, reference.clone()),
        };
        progress.report(&Event {
            stage,
            done,
            total,
            detail: Some(&detail),
        })
    }
}

/// What a push did (the `pushed` object of `mlreef publish --json`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PushStats {
    pub uploaded: u64,
    pub skipped: u64,
    pub mounted: u64,
    /// Bytes of blobs uploaded.
    pub bytes: u64,
}

/// How a push ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// The tag now names the image.
    Pushed { digest: Digest, stats: PushStats },
    /// The tag named this image already: nothing was sent.
    Unchanged { digest: Digest },
}

impl PushOutcome {
    #[must_use]
    pub fn digest(&self) -> &Digest {
        match self {
            PushOutcome::Pushed { digest, .. } | PushOutcome::Unchanged { digest } => digest,
        }
    }
}

/// One blob to push.
#[derive(Clone)]
struct Blob {
    digest: Digest,
    size: u64,
    /// Another repository of the same registry that has it.
    mount_from: Option<String>,
}

type Report<'a> = &'a (dyn Fn(&PushEvent) -> Result<(), Cancelled> + Sync);

impl Registry {
    /// Pushes `images` (one gives a manifest, several an index) to `target`, whose tag (or
    /// `latest`) then names them. Blobs are read from `store`, or mounted from the repository
    /// a base layer came from in the same registry. `force` replaces a tag that names another
    /// image.
    pub fn push(
        &self,
        images: &[Image],
        store: &BlobStore,
        target: &RegistryRef,
        force: bool,
        report: Report<'_>,
    ) -> Result<PushOutcome, Error> {
        self.runtime
            .block_on(self.push_async(images, store, target, force, report))
    }

    /// Pushes the image `tag` (or the only image) of the OCI layout `dir` to `target` exactly
    /// as it is stored, so the registry gives it the layout's digests, whatever made it.
    pub fn push_layout(
        &self,
        dir: &std::path::Path,
        tag: Option<&str>,
        target: &RegistryRef,
        force: bool,
        report: Report<'_>,
    ) -> Result<PushOutcome, Error> {
        let stored = stored_image(dir, tag)?;
        // A layout keeps its blobs as the store does: read them in place.
        let store = BlobStore::view(dir);
        let blobs = stored
            .blobs
            .into_iter()
            .map(|(digest, size)| Blob {
                digest,
                size,
                mount_from: None,
            })
            .collect();
        self.runtime.block_on(self.push_stored(
            &store,
            target,
            blobs,
            stored.manifests,
            stored.top,
            force,
            report,
        ))
    }

    async fn push_async(
        &self,
        images: &[Image],
        store: &BlobStore,
        target: &RegistryRef,
        force: bool,
        report: Report<'_>,
    ) -> Result<PushOutcome, Error> {
        let (top_type, top) = match images {
            [] => return Err(Error::Unsupported("there is no image to push".to_owned())),
            [one] => (
                "application/vnd.oci.image.manifest.v1+json",
                one.manifest().1,
            ),
            several => ("application/vnd.oci.image.index.v1+json", index(several).1),
        };
        // Each platform's manifest, when there are several.
        let manifests = if images.len() > 1 {
            images
                .iter()
                .map(|image| {
                    let (_, bytes) = image.manifest();
                    (
                        digest_bytes(&bytes),
                        "application/vnd.oci.image.manifest.v1+json".to_owned(),
                        bytes,
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        // Every blob once: configs and layers.
        let mut seen = HashSet::new();
        let mut blobs = Vec::new();
        for image in images {
            let config = image.config_bytes();
            let (digest, size) = store.put(&config)?;
            if seen.insert(digest.clone()) {
                blobs.push(Blob {
                    digest,
                    size,
                    mount_from: None,
                });
            }
            for layer in &image.layers {
                if !seen.insert(layer.digest.clone()) {
                    continue;
                }
                let mount_from = match &layer.location {
                    Location::Registry {
                        registry,
                        repository,
                    } if *registry == target.registry && *repository != target.repository => {
                        Some(repository.clone())
                    }
                    _ => None,
                };
                if mount_from.is_none() && !store.contains(&layer.digest) {
                    return Err(Error::Unsupported(format!(
                        "the layer {} is not in the blob store; fetch the base's layers first",
                        layer.digest
                    )));
                }
                blobs.push(Blob {
                    digest: layer.digest.clone(),
                    size: layer.size,
                    mount_from,
                });
            }
        }
        self.push_stored(
            store,
            target,
            blobs,
            manifests,
            (top_type.to_owned(), top),
            force,
            report,
        )
        .await
    }

    /// The push itself: the tag checked, the blobs, each manifest by digest, the top one by
    /// tag, and the tag confirmed.
    #[allow(clippy::too_many_arguments)] // one push's parts, named where they are made
    async fn push_stored(
        &self,
        store: &BlobStore,
        target: &RegistryRef,
        blobs: Vec<Blob>,
        manifests: Vec<(Digest, String, Vec<u8>)>,
        top: (String, Vec<u8>),
        force: bool,
        report: Report<'_>,
    ) -> Result<PushOutcome, Error> {
        let tag = target.tag.clone().unwrap_or_else(|| "latest".to_owned());
        let (top_type, top) = top;
        let top_digest = digest_bytes(&top);
        // A version is immutable: a tag naming something else is refused unless forced.
        if let Some(existing) = self.head_manifest(target, &tag).await? {
            if existing == top_digest {
                return Ok(PushOutcome::Unchanged { digest: top_digest });
            }
            if !force {
                return Err(Error::TagExists {
                    reference: target.to_string(),
                    existing: existing.to_string(),
                    new: top_digest.to_string(),
                });
            }
        }

        let stats = Arc::new(Stats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let limit = self.options.concurrency.unwrap_or(4).max(1);
        // Blobs go several at once; the first failure or cancellation stops the rest, which
        // end at their next step.
        let mut results = stream::iter(blobs)
            .map(|blob| self.push_blob(target, blob, store, &stats, &stop, report))
            .buffer_unordered(limit);
        let mut failure = None;
        while let Some(result) = results.next().await {
            if let Err(error) = result {
                stop.store(true, Ordering::SeqCst);
                // A cancellation reported by one blob is the caller's; keep the first real cause.
                if failure.is_none() || matches!(failure, Some(Error::Cancelled)) {
                    failure = Some(error);
                }
            }
        }
        drop(results);
        if let Some(error) = failure {
            return Err(error);
        }

        // Manifests last: each platform's by digest, then the top one by tag.
        for (digest, media_type, bytes) in manifests {
            self.put_manifest_or_found(
                target,
                digest.as_ref(),
                &digest,
                &media_type,
                bytes,
                report,
            )
            .await?;
        }
        report(&PushEvent::Manifest {
            reference: tag.clone(),
        })
        .map_err(|_| Error::Cancelled)?;
        self.put_manifest_or_found(target, &tag, &top_digest, &top_type, top, report)
            .await?;
        // The tag is confirmed by what the registry says it names.
        match self.head_manifest(target, &tag).await? {
            Some(d) if d == top_digest => {}
            other => {
                return Err(Error::Registry {
                    registry: target.registry.clone(),
                    status: None,
                    code: None,
                    message: format!(
                        "after the push, `{tag}` names {} instead of {top_digest}",
                        other.map_or_else(|| "nothing".to_owned(), |d| d.to_string())
                    ),
                });
            }
        }
        Ok(PushOutcome::Pushed {
            digest: top_digest,
            stats: stats.snapshot(),
        })
    }

    /// Puts a manifest under `reference`. A refusal is no failure when `reference` names
    /// `digest` by then: another push of the same image got there at the same moment. Debian's
    /// docker-registry answers one of two simultaneous writes of the same manifest with
    /// `DIGEST_INVALID` while the other is still being linked, so that answer is tried again
    /// (a few times, a moment apart) before it counts.
    async fn put_manifest_or_found(
        &self,
        target: &RegistryRef,
        reference: &str,
        digest: &Digest,
        media_type: &str,
        bytes: Vec<u8>,
        report: Report<'_>,
    ) -> Result<(), Error> {
        const ATTEMPTS: u64 = 4;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let error = match self
                .put_manifest(target, reference, media_type, bytes.clone(), report)
                .await
            {
                Ok(()) => return Ok(()),
                Err(error) => error,
            };
            if let Ok(Some(found)) = self.head_manifest(target, reference).await
                && found == *digest
            {
                return Ok(());
            }
            let raced = matches!(
                &error,
                Error::Registry { status: Some(400), code: Some(code), .. } if code == "DIGEST_INVALID"
            );
            if !raced || attempt == ATTEMPTS {
                return Err(error);
            }
            tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
        }
    }

    async fn head_manifest(
        &self,
        target: &RegistryRef,
        reference: &str,
    ) -> Result<Option<Digest>, Error> {
        let request = Request::new(
            Method::HEAD,
            format!("/v2/{}/manifests/{reference}", target.repository),
            scope(&target.repository, true),
        )
        .header("accept", super::MANIFEST_TYPES);
        let response = self
            .transport
            .send(
                &target.registry,
                &request,
                &[StatusCode::NOT_FOUND],
                &|_| {},
            )
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        Ok(response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok()?.parse().ok()))
    }

    async fn put_manifest(
        &self,
        target: &RegistryRef,
        reference: &str,
        media_type: &str,
        bytes: Vec<u8>,
        report: Report<'_>,
    ) -> Result<(), Error> {
        let bytes = Arc::new(bytes);
        let body: BodyMaker = {
            let bytes = Arc::clone(&bytes);
            Arc::new(move || Ok(reqwest::Body::from(bytes.as_ref().clone())))
        };
        let request = Request::new(
            Method::PUT,
            format!("/v2/{}/manifests/{reference}", target.repository),
            scope(&target.repository, true),
        )
        .header("content-type", media_type)
        .body(body);
        let on_retry = |reason: &str| {
            let _ = report(&PushEvent::Retried {
                reason: reason.to_owned(),
            });
        };
        self.transport
            .send(&target.registry, &request, &[], &on_retry)
            .await?;
        report(&PushEvent::Manifest {
            reference: reference.to_owned(),
        })
        .map_err(|_| Error::Cancelled)
    }

    /// One blob: present, mounted, or uploaded (restarted from its first byte when the
    /// upload breaks, within the retry bound).
    async fn push_blob(
        &self,
        target: &RegistryRef,
        blob: Blob,
        store: &BlobStore,
        stats: &Arc<Stats>,
        stop: &Arc<AtomicBool>,
        report: Report<'_>,
    ) -> Result<(), Error> {
        let check = |event: PushEvent| -> Result<(), Error> {
            if stop.load(Ordering::SeqCst) {
                return Err(Error::Cancelled);
            }
            report(&event).map_err(|_| {
                stop.store(true, Ordering::SeqCst);
                Error::Cancelled
            })
        };
        let digest = blob.digest.to_string();
        let repo = &target.repository;
        let head = Request::new(
            Method::HEAD,
            format!("/v2/{repo}/blobs/{digest}"),
            scope(repo, true),
        );
        let present = self
            .transport
            .send(&target.registry, &head, &[StatusCode::NOT_FOUND], &|_| {})
            .await?;
        if present.status().is_success() {
            stats.skipped.fetch_add(1, Ordering::SeqCst);
            return check(PushEvent::Skipped {
                digest,
                size: blob.size,
            });
        }
        let on_retry = |reason: &str| {
            let _ = report(&PushEvent::Retried {
                reason: reason.to_owned(),
            });
        };
        // A mount answers 201 when it linked the blob, 202 with an upload to use otherwise.
        let start = match &blob.mount_from {
            Some(from) => {
                let mut mount = Request::new(
                    Method::POST,
                    format!("/v2/{repo}/blobs/uploads/?mount={digest}&from={from}"),
                    format!("{} repository:{from}:pull", scope(repo, true)),
                );
                mount = mount.header("content-length", "0");
                let response = self
                    .transport
                    .send(&target.registry, &mount, &[], &on_retry)
                    .await?;
                if response.status() == StatusCode::CREATED {
                    stats.mounted.fetch_add(1, Ordering::SeqCst);
                    return check(PushEvent::Mounted {
                        digest,
                        from: from.clone(),
                    });
                }
                if !store.contains(&blob.digest) {
                    // The mount was refused and we do not have the bytes: fetch them now.
                    self.fetch_blob_async(
                        &target.registry,
                        from,
                        &blob.digest,
                        blob.size,
                        store,
                        &|_| Ok(()),
                    )
                    .await?;
                }
                location(&response)
            }
            None => None,
        };
        let retries = self.options.retries.unwrap_or(4);
        let mut attempt = 0;
        loop {
            check(PushEvent::Started {
                digest: digest.clone(),
                size: blob.size,
            })?;
            let result = self
                .upload(
                    target,
                    &blob,
                    store,
                    start.clone().filter(|_| attempt == 0),
                    stop,
                    report,
                )
                .await;
            match result {
                Ok(()) => break,
                Err(Error::Cancelled) => return Err(Error::Cancelled),
                Err(error) if attempt < retries && retryable(&error) => {
                    attempt += 1;
                    on_retry(&format!(
                        "the upload of {digest} broke ({error}); starting it again"
                    ));
                    tokio::time::sleep(std::time::Duration::from_millis(250 << attempt.min(5)))
                        .await;
                }
                Err(error) => {
                    // Another push of the same blob may have finished first (the registry then
                    // refuses one of the two): what counts is that the blob is there.
                    let there = self
                        .transport
                        .send(&target.registry, &head, &[StatusCode::NOT_FOUND], &|_| {})
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    if !there {
                        return Err(error);
                    }
                    stats.skipped.fetch_add(1, Ordering::SeqCst);
                    return check(PushEvent::Skipped {
                        digest,
                        size: blob.size,
                    });
                }
            }
        }
        stats.uploaded.fetch_add(1, Ordering::SeqCst);
        stats.bytes.fetch_add(blob.size, Ordering::SeqCst);
        check(PushEvent::Finished { digest })
    }

    /// One upload session: monolithic `PUT`, or `PATCH` chunks then `PUT`. The bytes stream
    /// from the store; their count is reported while they go.
    async fn upload(
        &self,
        target: &RegistryRef,
        blob: &Blob,
        store: &BlobStore,
        started: Option<String>,
        stop: &Arc<AtomicBool>,
        report: Report<'_>,
    ) -> Result<(), Error> {
        let repo = &target.repository;
        let registry = &target.registry;
        let digest = blob.digest.to_string();
        let mut session = if let Some(location) = started {
            location
        } else {
            {
                let request = Request::new(
                    Method::POST,
                    format!("/v2/{repo}/blobs/uploads/"),
                    scope(repo, true),
                )
                .header("content-length", "0");
                let response = self
                    .transport
                    .send(registry, &request, &[], &|_| {})
                    .await?;
                location(&response).ok_or_else(|| Error::Registry {
                    registry: registry.clone(),
                    status: Some(response.status().as_u16()),
                    code: None,
                    message: "an upload was started without a Location to send it to".to_owned(),
                })?
            }
        };
        let path = store.path(&blob.digest);
        let sent = Arc::new(AtomicU64::new(0));
        let chunk = self
            .options
            .chunk_size
            .filter(|&c| c > 0 && c < blob.size)
            .unwrap_or(blob.size.max(1));
        let mut offset = 0;
        // One monolithic PUT, or PATCHes of `chunk` bytes and a closing PUT.
        loop {
            let end = (offset + chunk).min(blob.size);
            let last = end == blob.size;
            let monolithic = offset == 0 && last;
            let (method, url) = if monolithic {
                (
                    Method::PUT,
                    with_query(&session, &format!("digest={digest}")),
                )
            } else {
                (Method::PATCH, session.clone())
            };
            let mut request = Request::new(method, url, scope(repo, true))
                .header("content-type", "application/octet-stream")
                .header("content-length", &(end - offset).to_string());
            if !monolithic {
                request = request.header("content-range", &format!("{offset}-{}", end.max(1) - 1));
            }
            let request = request.body(file_body(path.clone(), offset, end - offset, stop, &sent));
            let response = self
                .watch(
                    self.transport.send_once(registry, &request),
                    &sent,
                    &digest,
                    blob.size,
                    stop,
                    report,
                )
                .await?;
            let expected = if monolithic {
                StatusCode::CREATED
            } else {
                StatusCode::ACCEPTED
            };
            if response.status() != expected {
                return Err(refused(registry, response).await);
            }
            if monolithic {
                return Ok(());
            }
            session = location(&response).unwrap_or(session);
            offset = end;
            if last {
                break;
            }
        }
        let request = Request::new(
            Method::PUT,
            with_query(&session, &format!("digest={digest}")),
            scope(repo, true),
        )
        .header("content-length", "0");
        let response = self.transport.send_once(registry, &request).await?;
        if response.status() != StatusCode::CREATED {
            return Err(refused(registry, response).await);
        }
        Ok(())
    }

    /// Waits for `request`, reporting the bytes `sent` so far ten times a second; a stop or a
    /// cancellation from the report drops the request, which ends the upload.
    async fn watch<F>(
        &self,
        request: F,
        sent: &AtomicU64,
        digest: &str,
        size: u64,
        stop: &AtomicBool,
        report: Report<'_>,
    ) -> Result<reqwest::Response, Error>
    where
        F: std::future::Future<Output = Result<reqwest::Response, Error>>,
    {
        tokio::pin!(request);
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
        loop {
            tokio::select! {
                response = &mut request => {
                    let event = PushEvent::Bytes {
                        digest: digest.to_owned(),
                        done: sent.load(Ordering::SeqCst),
                        size,
                    };
                    if report(&event).is_err() {
                        stop.store(true, Ordering::SeqCst);
                        return Err(Error::Cancelled);
                    }
                    return response;
                }
                _ = tick.tick() => {
                    if stop.load(Ordering::SeqCst) {
                        return Err(Error::Cancelled);
                    }
                    let event = PushEvent::Bytes {
                        digest: digest.to_owned(),
                        done: sent.load(Ordering::SeqCst),
                        size,
                    };
                    if report(&event).is_err() {
                        stop.store(true, Ordering::SeqCst);
                        return Err(Error::Cancelled);
                    }
                }
            }
        }
    }
}

/// Failures worth starting an upload again for: a broken connection, a transient status.
fn retryable(error: &Error) -> bool {
    match error {
        Error::Registry { status: None, .. } => true,
        Error::Registry {
            status: Some(status),
            ..
        } => *status == 408 || *status == 429 || *status >= 500,
        _ => false,
    }
}

fn location(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `url` with `query` added to its query string.
fn with_query(url: &str, query: &str) -> String {
    if url.contains('?') {
        format!("{url}&{query}")
    } else {
        format!("{url}?{query}")
    }
}

/// A body that streams `len` bytes of a file from `offset` in chunks, counting what it sends
/// in `sent`; it fails (ending the request) once the push is stopped.
fn file_body(
    path: std::path::PathBuf,
    offset: u64,
    len: u64,
    stop: &Arc<AtomicBool>,
    sent: &Arc<AtomicU64>,
) -> BodyMaker {
    const CHUNK: u64 = 256 << 10;
    let stop = Arc::clone(stop);
    let sent = Arc::clone(sent);
    Arc::new(move || {
        let path = path.clone();
        let stop = Arc::clone(&stop);
        let sent = Arc::clone(&sent);
        let chunks = stream::unfold((None::<tokio::fs::File>, 0u64), move |(file, done)| {
            let path = path.clone();
            let stop = Arc::clone(&stop);
            let sent = Arc::clone(&sent);
            async move {
                if done >= len {
                    return None;
                }
                if stop.load(Ordering::SeqCst) {
                    let error = std::io::Error::other("the push was stopped");
                    return Some((Err(error), (None, len)));
                }
                let mut file = match file {
                    Some(file) => file,
                    None => match open_at(&path, offset).await {
                        Ok(file) => file,
                        Err(error) => return Some((Err(error), (None, len))),
                    },
                };
                let want = usize::try_from(CHUNK.min(len - done)).unwrap_or(1 << 18);
                let mut buffer = vec![0; want];
                match file.read_exact(&mut buffer).await {
                    Ok(_) => {
                        sent.fetch_add(want as u64, Ordering::SeqCst);
                        Some((
                            Ok(bytes::Bytes::from(buffer)),
                            (Some(file), done + want as u64),
                        ))
                    }
                    Err(error) => Some((Err(error), (None, len))),
                }
            }
        });
        Ok(reqwest::Body::wrap_stream(chunks))
    })
}

async fn open_at(path: &std::path::Path, offset: u64) -> std::io::Result<tokio::fs::File> {
    let mut file = tokio::fs::File::open(path).await?;
    file.seek(std::io::SeekFrom::Start(offset)).await?;
    Ok(file)
}

/// Counts of a push, updated by the blobs running at once.
#[derive(Default)]
struct Stats {
    uploaded: AtomicU64,
    skipped: AtomicU64,
    mounted: AtomicU64,
    bytes: AtomicU64,
}

impl Stats {
    fn snapshot(&self) -> PushStats {
        PushStats {
            uploaded: self.uploaded.load(Ordering::SeqCst),
            skipped: self.skipped.load(Ordering::SeqCst),
            mounted: self.mounted.load(Ordering::SeqCst),
            bytes: self.bytes.load(Ordering::SeqCst),
        }
    }
}
