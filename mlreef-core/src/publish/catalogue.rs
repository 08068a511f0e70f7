//! The registry as a catalogue of modules: an image of a module carries its whole description
//! in the label `com.mlreef.module`, so a registry alone says what modules it holds, with
//! which parameters, without pulling a layer. And `pull`, which copies an image out of a
//! registry into an OCI layout as it is.

use std::path::PathBuf;

use serde::Serialize;

use super::MODULE_LABEL;
use crate::Error;
use crate::module::{Module, ModuleKind};
use crate::oci::{self, BlobStore, ImageLabels, ImageRef, Registry, RegistryOptions, RegistryRef};
use crate::platform::Platform;
use crate::progress::Progress;

type Result<T> = std::result::Result<T, Error>;

/// How [`pull`], [`inspect_image`] and [`list_modules`] reach registries, and where they keep
/// what they fetch.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub registry: RegistryOptions,
    /// Of a multi-platform image, only this platform's ([`pull`]) or the labels of this
    /// platform's image ([`inspect_image`]; else the first listed).
    pub platform: Option<Platform>,
    /// The blob store and cache folder (`None`: `MLREEF_CACHE`, else the user's cache).
    pub cache: Option<PathBuf>,
}

impl ReadOptions {
    fn store(&self) -> Result<BlobStore> {
        Ok(match &self.cache {
            Some(dir) => BlobStore::open(dir)?,
            None => BlobStore::open_default()?,
        })
    }
}

/// The module an image describes, and where it is.
#[derive(Debug, Clone, Serialize)]
pub struct ImageModule {
    /// The image (`docker://HOST/REPO:TAG`, `oci:DIR:TAG`).
    pub reference: String,
    /// The digest of the manifest or index the reference names.
    pub digest: String,
    pub module: Module,
}

/// A tag of a repository in a listing: its digest and the module its image describes.
#[derive(Debug, Clone, Serialize)]
pub struct ModuleTag {
    pub tag: String,
    /// `None` when the image could not be read (see `error`).
    pub digest: Option<String>,
    /// `None` when the image is not a module's (it has no `com.mlreef.module` label).
    pub module: Option<ModuleSummary>,
    /// Why the image could not be read or its description not understood.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a listing says of a module.
#[derive(Debug, Clone, Serialize)]
pub struct ModuleSummary {
    pub name: String,
    pub slug: String,
    pub kind: ModuleKind,
    pub version: String,
    pub description: Option<String>,
    pub parameters: usize,
}

/// The tags of a repository, in the JSON of `mlreef list --json`.
#[derive(Debug, Clone, Serialize)]
pub struct ModuleList {
    /// `docker://HOST/REPO`.
    pub repository: String,
    pub tags: Vec<ModuleTag>,
}

impl ModuleList {
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// What [`pull`] did, in the JSON of `mlreef pull --json`.
#[derive(Debug, Clone, Serialize)]
pub struct PullResult {
    /// Where the image was written (`oci:DIR:TAG`).
    pub reference: String,
    /// Where it came from (`docker://HOST/REPO:TAG`).
    pub source: String,
    /// The digest of the manifest or index the layout's tag names: the registry's.
    pub digest: String,
    pub media_type: String,
    pub platforms: Vec<String>,
    /// Config and layer blobs the image has.
    pub blobs: u64,
    /// Of those, the ones fetched (the others were in the blob store already).
    pub fetched: u64,
    /// Bytes fetched.
    pub bytes: u64,
}

impl PullResult {
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// The module description of an image's labels.
fn module_of(labels: &ImageLabels, reference: &str) -> Result<Module> {
    let Some(label) = labels.labels.get(MODULE_LABEL) else {
        return Err(oci::Error::Invalid {
            what: format!("`{reference}`"),
            reason: format!(
                "it is not an mlreef module: its image has no `{MODULE_LABEL}` label (mlreef \
                 publish and mlreef build write it)"
            ),
        }
        .into());
    };
    serde_json::from_str(label).map_err(|e| {
        oci::Error::Invalid {
            what: format!("the `{MODULE_LABEL}` label of `{reference}`"),
            reason: e.to_string(),
        }
        .into()
    })
}

/// The module the image `reference` describes, read from its labels: `docker://HOST/REPO:TAG`
/// (the manifest and config are fetched, never a layer) or `oci:DIR[:TAG]`. For several
/// platforms, that of `options.platform` or else the first (a module's images share their
/// labels).
pub fn inspect_image(reference: &ImageRef, options: &ReadOptions) -> Result<ImageModule> {
    let labels = match reference {
        ImageRef::Registry(r) => Registry::new(&options.registry)?.labels(
            r,
            options.platform.as_ref(),
            &options.store()?,
        )?,
        ImageRef::Layout { dir, tag } => oci::layout_labels(dir, tag.as_deref())?,
        other => {
            return Err(oci::Error::Unsupported(format!(
                "`{other}` cannot be inspected; give docker://HOST/REPO:TAG or oci:DIR[:TAG]"
            ))
            .into());
        }
    };
    let text = reference.to_string();
    Ok(ImageModule {
        module: module_of(&labels, &text)?,
        reference: text,
        digest: labels.digest.to_string(),
    })
}

/// Each tag of the repository `repository` (a tag or digest in it is ignored) with its digest
/// and the module its image describes; at most [`oci::MAX_TAGS`] tags. A tag whose image
/// cannot be read is listed with the error.
pub fn list_modules(repository: &RegistryRef, options: &ReadOptions) -> Result<ModuleList> {
    let tags = Registry::new(&options.registry)?
        .tag_labels(repository, &options.store()?)?
        .into_iter()
        .map(|(tag, labels)| {
            let reference = format!(
                "docker://{}/{}:{tag}",
                repository.registry, repository.repository
            );
            let (digest, module) = match labels {
                Ok(labels) => (
                    Some(labels.digest.to_string()),
                    labels
                        .labels
                        .contains_key(MODULE_LABEL)
                        .then(|| module_of(&labels, &reference)),
                ),
                Err(error) => (None, Some(Err(error.into()))),
            };
            let (module, error) = match module {
                None => (None, None),
                Some(Ok(module)) => (
                    Some(ModuleSummary {
                        parameters: module.parameters.len(),
                        name: module.name,
                        slug: module.slug,
                        kind: module.kind,
                        version: module.version,
                        description: module.description,
                    }),
                    None,
                ),
                Some(Err(error)) => (None, Some(crate::error_chain(&error))),
            };
            ModuleTag {
                tag,
                digest,
                module,
                error,
            }
        })
        .collect();
    Ok(ModuleList {
        repository: format!("docker://{}/{}", repository.registry, repository.repository),
        tags,
    })
}

/// Copies the image `source` into `output` (`oci:DIR[:TAG]`) byte for byte, every blob checked
/// against its digest, so the layout has the registry's digests; with `options.platform`, only
/// that platform's image of a multi-platform one. Blobs are kept in the blob store, so a later
/// build on this base fetches nothing. Progress is stage `fetch`, in bytes; a cancelled pull
/// tags nothing.
pub fn pull(
    source: &RegistryRef,
    output: &ImageRef,
    options: &ReadOptions,
    progress: &dyn Progress,
) -> Result<PullResult> {
    let ImageRef::Layout { dir, tag } = output else {
        return Err(oci::Error::Unsupported(format!(
            "`{output}` is not an OCI layout; pull writes oci:DIR[:TAG]"
        ))
        .into());
    };
    let outcome = Registry::new(&options.registry)?.pull_layout(
        source,
        options.platform.as_ref(),
        &options.store()?,
        dir,
        tag.as_deref(),
        progress,
    )?;
    Ok(PullResult {
        reference: output.to_string(),
        source: ImageRef::Registry(source.clone()).to_string(),
        digest: outcome.digest.to_string(),
        media_type: outcome.media_type,
        platforms: outcome.platforms,
        blobs: outcome.blobs,
        fetched: outcome.fetched,
        bytes: outcome.bytes,
    })
}
