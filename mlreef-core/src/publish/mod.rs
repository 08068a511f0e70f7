//! The whole flow: a repository in, a module's image out, and into a registry.
//!
//! [`build`] discovers the module (merged with what `mlreef.yml` records, as `mlreef init`
//! would record it), reads its base image for each platform, installs its
//! dependencies for that platform and Python (a layer cached by the lock, so an unchanged
//! requirements file costs nothing), makes the code layer (once, shared by every platform),
//! gives the image its entry point, environment and labels, and writes it to a local sink (an
//! OCI layout or a docker-archive). Every time in the image is one fixed time
//! (`SOURCE_DATE_EPOCH`, else the commit's, else 0), so the same inputs give the same digest.
//! Each step reports to a [`Progress`], which may cancel; a cancelled build writes nothing.
//! [`publish`] does the same and pushes the image to a registry (or writes it locally); [`push`]
//! sends an image an OCI layout holds, byte for byte, and [`pull`] brings one back. A module's
//! image carries its description in a label, so [`inspect_image`] and [`list_modules`] read a
//! registry as a catalogue of modules.
//!
//! ```no_run
//! use mlreef_core::publish::{BuildOptions, build};
//!
//! let options = BuildOptions {
//!     base: Some("rootfs:/srv/bookworm".parse()?),
//!     output: Some("oci:/tmp/images:v1".parse()?),
//!     ..BuildOptions::default()
//! };
//! let built = build("path/to/repo".as_ref(), &options)?;
//! println!("{} {}", built.reference, built.digest);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod catalogue;
mod image_config;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use catalogue::{
    ImageModule, ModuleList, ModuleSummary, ModuleTag, PullResult, ReadOptions, inspect_image,
    list_modules, pull,
};
pub use image_config::{MODULE_LABEL, Provenance, labels, runtime_config};

use crate::Error;
use crate::deps;
use crate::module::{DiscoverOptions, Module, image_paths};
use crate::oci::{
    self, BlobStore, CodeOptions, Compression, Entry, Excluded, Image, ImageRef, LayerOptions,
    LayerRole, LayerSummary, PushEvent, PushOutcome, PushStats, Registry, RegistryOptions, rfc3339,
};
use crate::parameter::Diagnostic;
use crate::pipeline::{self, InitOptions};
use crate::platform::Platform;
use crate::progress::{Event, Progress, Silent};
use crate::requirements::{RequirementsFile, Target};

type Result<T> = std::result::Result<T, Error>;

/// How to build. Everything left empty has a default (see each field).
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub discover: DiscoverOptions,
    /// The base image for every platform (`None`: the module's base environment).
    pub base: Option<ImageRef>,
    /// A base for one platform, taking precedence over `base` for it.
    pub platform_bases: Vec<(Platform, ImageRef)>,
    /// Where the image goes: `oci:DIR[:TAG]` or `docker-archive:FILE[:NAME]`, and for
    /// [`publish`] also `docker://HOST/REPO:TAG` (`None`: the OCI layout `.mlreef/images` in the
    /// repository, tagged `<branch>-<version>`).
    pub output: Option<ImageRef>,
    /// The platforms (empty: `linux/amd64`). Several give an image index.
    pub platforms: Vec<Platform>,
    pub compression: Compression,
    /// Globs (gitignore syntax) of files to put in the code layer although an ignore file or
    /// the secret rules leave them out.
    pub include: Vec<String>,
    /// How to reach registries, for a `docker://` base.
    pub registry: RegistryOptions,
    /// The blob store and cache folder (`None`: `MLREEF_CACHE`, else the user's cache).
    pub cache: Option<PathBuf>,
    /// The time of every file and history entry (`None`: `SOURCE_DATE_EPOCH`, else the commit
    /// time, else 0).
    pub source_date_epoch: Option<u64>,
    /// Which Python, which lock, which installer (see [`deps::Options`]); a `python` set here
    /// applies to every platform, else each base's own is found.
    pub deps: deps::Options,
}

/// One platform's image in a build result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformResult {
    pub platform: Platform,
    /// The digest of this platform's manifest.
    pub digest: String,
    /// The Python the dependencies were installed for (`None`: nothing was installed and the
    /// base does not say).
    pub python: Option<String>,
    pub layers: Vec<LayerSummary>,
}

/// What a build made, in the JSON form of `mlreef build --json`.
#[derive(Debug, Clone, Serialize)]
pub struct BuildResult {
    /// Where it was written (`oci:DIR:TAG`, `docker-archive:FILE:NAME`).
    pub reference: String,
    /// The digest of the manifest, or of the index for several platforms.
    pub digest: String,
    pub platforms: Vec<PlatformResult>,
    /// The digest of the requirements lock installed (`None`: no requirements).
    pub lock: Option<String>,
    /// What the code layer left out, and why.
    pub excluded: Vec<Excluded>,
    /// What a push to a registry did (`None` for a local output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed: Option<PushStats>,
    pub module: Module,
    pub diagnostics: Vec<Diagnostic>,
}

impl BuildResult {
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// The time a build gives everything: `SOURCE_DATE_EPOCH` (when it is a whole number), else
/// the time of the repository's commit, else 0.
#[must_use]
pub fn source_date_epoch(repo: &Path) -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .or_else(|| crate::repo::commit_time(repo))
        .unwrap_or(0)
}

/// The default output: the OCI layout `.mlreef/images` in the repository, tagged
/// `<branch>-<version>` (`local-<version>` outside a git branch).
#[must_use]
pub fn default_output(repo: &Path, module: &Module) -> ImageRef {
    let branch = module
        .branch
        .as_deref()
        .map_or_else(|| "local".to_owned(), crate::module::slug);
    ImageRef::Layout {
        dir: repo.join(".mlreef").join("images"),
        tag: Some(format!("{branch}-{}", module.version)),
    }
}

/// How to publish: a build, and where it goes.
#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    /// The build; its `output` may be a registry (`docker://HOST/REPO:TAG`), which the image
    /// is pushed to, or a local output as for [`build`].
    pub build: BuildOptions,
    /// Replace a tag that names another image (a published version is otherwise immutable).
    pub force: bool,
}

/// Builds the module of `repo` (see the module docs).
pub fn build(repo: &Path, options: &BuildOptions) -> Result<BuildResult> {
    build_with(repo, options, &Silent)
}

/// [`build`], reporting each step to `progress`, which may cancel.
///
/// Stages, in order: `search`, `extract` and `requirements` (discovering the module), `code`
/// and `layer` (the code layer), then per platform `base` and `copy` (reading the base),
/// `deps` (resolving and installing; the detail is the platform) and `layer`, and last
/// `write` (bytes written to the output).
pub fn build_with(
    repo: &Path,
    options: &BuildOptions,
    progress: &dyn Progress,
) -> Result<BuildResult> {
    if let Some(output @ ImageRef::Registry(_)) = &options.output {
        return Err(Error::Image(oci::Error::Unsupported(format!(
            "`{output}` is a registry: `mlreef publish` pushes there; `mlreef build` writes oci:DIR[:TAG] or docker-archive:FILE[:NAME]"
        ))));
    }
    let publish = PublishOptions {
        build: options.clone(),
        force: false,
    };
    publish_with(repo, &publish, progress)
}

/// Builds the module of `repo` and writes it where `options.build.output` says: pushed to a
/// registry, or written to a local output (by default the OCI layout `.mlreef/images` in the
/// repository). It also compares the module with what `mlreef.yml` records and warns
/// (`mlreef-yml-out-of-date`) when they differ.
pub fn publish(repo: &Path, options: &PublishOptions) -> Result<BuildResult> {
    publish_with(repo, options, &Silent)
}

/// [`publish`], reporting each step to `progress`, which may cancel; a cancelled push leaves
/// no tag. Besides [`build_with`]'s stages, a push reports `upload` (bytes of a blob; the
/// detail is its digest), `skipped` (the registry has the blob), `mounted` (linked from
/// another repository; the detail is `DIGEST from REPOSITORY`), `uploaded`, `retry` (the
/// detail says why) and `manifest` (the detail is the digest or tag written).
pub fn publish_with(
    repo: &Path,
    options: &PublishOptions,
    progress: &dyn Progress,
) -> Result<BuildResult> {
    let mut assembly = assemble(repo, &options.build, progress)?;
    let store = &assembly.store;
    let (digest, pushed) = match &assembly.output {
        ImageRef::Registry(target) => {
            let client = match assembly.registry.take() {
                Some(client) => client,
                None => Registry::new(&options.build.registry)?,
            };
            // Base layers in this registry are mounted; those elsewhere must be here to upload.
            for image in &assembly.images {
                client.materialize_except(image, store, &target.registry)?;
            }
            let report = |event: &PushEvent| event.report_to(progress);
            let (digest, stats) =
                match client.push(&assembly.images, store, target, options.force, &report)? {
                    PushOutcome::Pushed { digest, stats } => (digest, stats),
                    // The tag names this very image: nothing was sent, everything was there.
                    PushOutcome::Unchanged { digest } => (
                        digest,
                        PushStats {
                            skipped: unique_blobs(&assembly.images),
                            ..PushStats::default()
                        },
                    ),
                };
            (digest, Some(stats))
        }
        local => {
            if let Some(client) = &assembly.registry {
                for image in &assembly.images {
                    client.materialize(image, store)?;
                }
            }
            (
                oci::write_local(store, local, &assembly.images, progress)?,
                None,
            )
        }
    };
    Ok(BuildResult {
        reference: assembly.output.to_string(),
        digest: digest.to_string(),
        platforms: assembly.platforms,
        lock: assembly.lock,
        excluded: assembly.excluded,
        pushed,
        module: assembly.module,
        diagnostics: assembly.diagnostics,
    })
}

/// How many different blobs (configs and layers) `images` have.
fn unique_blobs(images: &[Image]) -> u64 {
    let mut digests: Vec<String> = images
        .iter()
        .flat_map(|image| {
            std::iter::once(oci::digest_bytes(&image.config_bytes()).to_string())
                .chain(image.layers.iter().map(|l| l.digest.to_string()))
        })
        .collect();
    digests.sort();
    digests.dedup();
    digests.len() as u64
}

/// A built image, not written anywhere yet.
struct Assembly {
    store: BlobStore,
    /// One per platform, in the order asked for.
    images: Vec<Image>,
    platforms: Vec<PlatformResult>,
    lock: Option<String>,
    excluded: Vec<Excluded>,
    module: Module,
    diagnostics: Vec<Diagnostic>,
    /// Where it goes: the output asked for, or the default.
    output: ImageRef,
    /// The client that read a `docker://` base, if one did.
    registry: Option<Registry>,
}

/// Discovers the module (merged with what `mlreef.yml` records, as `mlreef init` would), reads
/// the bases, and makes the layers and each platform's image.
fn assemble(repo: &Path, options: &BuildOptions, progress: &dyn Progress) -> Result<Assembly> {
    let init = pipeline::init_with(
        repo,
        &InitOptions {
            discover: options.discover.clone(),
            check: true,
            ..InitOptions::default()
        },
        progress,
    )?;
    let mut diagnostics = init.diagnostics;
    if let Some(note) = recorded_note(repo, &init.changes) {
        diagnostics.push(note);
    }
    let module = init.module;
    let requirements = init.requirements;
    let repo = repo.canonicalize().map_err(|source| oci::Error::Io {
        path: repo.to_owned(),
        source,
    })?;
    let store = match &options.cache {
        Some(dir) => BlobStore::open(dir)?,
        None => BlobStore::open_default()?,
    };
    let epoch = options
        .source_date_epoch
        .unwrap_or_else(|| source_date_epoch(&repo));
    let created = rfc3339(epoch);
    let platforms = if options.platforms.is_empty() {
        vec![Platform::linux_amd64()]
    } else {
        options.platforms.clone()
    };
    let output = options
        .output
        .clone()
        .unwrap_or_else(|| default_output(&repo, &module));
    check_output(&output, platforms.len())?;
    let layer_options = |role: LayerRole, created_by: String| LayerOptions {
        compression: options.compression,
        mtime: epoch,
        threads: 0,
        role,
        created_by,
    };

    // The code layer is the same for every platform.
    progress.report(&Event {
        stage: "code",
        done: 0,
        total: None,
        detail: Some(&repo.display().to_string()),
    })?;
    let code_options = CodeOptions {
        layer: LayerOptions {
            compression: options.compression,
            mtime: epoch,
            ..CodeOptions::default().layer
        },
        include: options.include.clone(),
        outputs: output_paths(&output),
    };
    let code = oci::code_layer(&store, &repo, &code_options, progress)?;

    let provenance = Provenance {
        revision: crate::repo::head_commit(&repo),
        source: crate::repo::origin_url(&repo),
        licenses: None,
        created: created.clone(),
    };
    let labels = labels(&module, &provenance);

    let mut registry: Option<Registry> = None;
    let mut images = Vec::with_capacity(platforms.len());
    let mut results = Vec::with_capacity(platforms.len());
    let mut lock_digest = None;
    for platform in &platforms {
        let base_ref = base_for(platform, options, &module)?;
        progress.report(&Event {
            stage: "base",
            done: 0,
            total: None,
            detail: Some(&base_ref.to_string()),
        })?;
        let base = match &base_ref {
            ImageRef::Registry(r) => {
                if registry.is_none() {
                    registry = Some(Registry::new(&options.registry)?);
                }
                let client = registry.as_ref().unwrap_or_else(|| unreachable!());
                let image = client.pull_image(r, platform, &store)?;
                // The layers are fetched only when the base's Python must be read from them;
                // a push to the same registry mounts them instead.
                if options.deps.python.is_none() && deps::config_python(&image).is_none() {
                    client.materialize(&image, &store)?;
                }
                image
            }
            local => oci::read_local_base(
                &store,
                local,
                platform,
                &layer_options(LayerRole::Base, String::new()),
                progress,
            )?,
        };

        // Reading the base's layers for its Python also refuses entries that would leave the
        // root file system (`../`, absolute paths); its layers are never unpacked here.
        let python = match &options.deps.python {
            Some(python) => Some(python.clone()),
            None => deps::python_version(&base, &store)?,
        };
        progress.report(&Event {
            stage: "deps",
            done: 0,
            total: None,
            detail: Some(&platform.to_string()),
        })?;
        let deps = deps_layer(
            &base,
            requirements.as_ref(),
            &options.deps,
            &store,
            &layer_options(LayerRole::Deps, String::new()),
            progress,
        )?;
        let mut image = base.created_at(&created);
        if let Some(deps) = deps {
            lock_digest.get_or_insert(deps.lock_digest);
            if let Some(layer) = deps.layer {
                image = image.with_layer(layer, &created);
            }
        }
        image = image
            .with_layer(code.layer.clone(), &created)
            .with_config(|config| runtime_config(config, &module, labels.clone()));
        results.push(PlatformResult {
            platform: platform.clone(),
            digest: image.digest().to_string(),
            python,
            layers: image.layers.iter().map(oci::Layer::summary).collect(),
        });
        images.push(image);
    }
    Ok(Assembly {
        store,
        images,
        platforms: results,
        lock: lock_digest,
        excluded: code.excluded,
        module,
        diagnostics,
        output,
        registry,
    })
}

/// A warning when `mlreef.yml` is missing or records another module than the code makes.
fn recorded_note(repo: &Path, changes: &[crate::module::Change]) -> Option<Diagnostic> {
    let file = repo.join(pipeline::FILE_NAME);
    let message = if !file.exists() {
        format!(
            "there is no {}: the image describes the module as discovered; `mlreef init` writes the file",
            pipeline::FILE_NAME
        )
    } else if changes.is_empty() {
        return None;
    } else {
        let changes: Vec<String> = changes.iter().map(ToString::to_string).collect();
        format!(
            "{} is out of date ({}): the image describes the module as the code is now; `mlreef init` updates the file",
            pipeline::FILE_NAME,
            changes.join("; ")
        )
    };
    Some(Diagnostic {
        severity: crate::Severity::Warning,
        code: "mlreef-yml-out-of-date".to_owned(),
        message,
        line: 0,
        column: 0,
        file: Some(pipeline::FILE_NAME.to_owned()),
    })
}

/// Refuses, before anything is built, an output that cannot take the build.
fn check_output(output: &ImageRef, platforms: usize) -> Result<()> {
    let refuse = |why: String| Err(Error::Image(oci::Error::Unsupported(why)));
    match output {
        ImageRef::Archive { .. } if platforms > 1 => refuse(
            "a docker-archive holds one platform; build one, or write an OCI layout (oci:DIR[:TAG])"
                .to_owned(),
        ),
        ImageRef::Layout { .. } | ImageRef::Archive { .. } | ImageRef::Registry(_) => Ok(()),
        ImageRef::Rootfs { .. } | ImageRef::Scratch => refuse(format!(
            "`{output}` can be a base, not an output; write oci:DIR[:TAG] or docker-archive:FILE[:NAME]"
        )),
    }
}

/// The files and folders the output writes, which must stay out of the code layer when they
/// are inside the repository.
fn output_paths(output: &ImageRef) -> Vec<PathBuf> {
    match output {
        ImageRef::Layout { dir, .. } => vec![absolute(dir)],
        ImageRef::Archive { file, .. } => vec![absolute(file)],
        _ => Vec::new(),
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// The base of `platform`: its own, else the common one, else the module's base environment.
fn base_for(platform: &Platform, options: &BuildOptions, module: &Module) -> Result<ImageRef> {
    if let Some((_, base)) = options.platform_bases.iter().find(|(p, _)| p == platform) {
        return Ok(base.clone());
    }
    match &options.base {
        Some(base) => Ok(base.clone()),
        None => Ok(module.base_environment.image.parse()?),
    }
}

/// A platform's dependencies: the lock's digest and its layer (`None` when the lock is empty).
struct Deps {
    lock_digest: String,
    layer: Option<oci::Layer>,
}

/// Resolves and installs what `requirements` asks for on `base`'s platform and Python, as the
/// layer `/opt/mlreef/{site-packages,requirements.lock}`. The layer of an install key is kept
/// in the store's records, so an unchanged lock for the same target installs nothing. `None`
/// when there are no requirements at all.
fn deps_layer(
    base: &Image,
    requirements: Option<&RequirementsFile>,
    options: &deps::Options,
    store: &BlobStore,
    layer_options: &LayerOptions,
    progress: &dyn Progress,
) -> Result<Option<Deps>> {
    // A lock given without a requirements file is installed as it is.
    if requirements.is_none() && options.lock.is_none() {
        return Ok(None);
    }
    let target: Target = deps::target(base, store, options)?;
    let wanted = requirements
        .map(|r| r.render_for(&target))
        .unwrap_or_default();
    let lock = deps::resolve(&wanted, &target, options, store)?;
    let Some(key) = deps::install_key(&lock, &target, options)? else {
        return Ok(Some(Deps {
            lock_digest: lock.digest(),
            layer: None,
        }));
    };
    let record = format!(
        "deps-layer-{key}-{:?}-{}",
        layer_options.compression, layer_options.mtime
    );
    if let Some(layer) = store
        .record(&record)
        .and_then(|bytes| oci::Layer::from_record(&bytes, store))
    {
        return Ok(Some(Deps {
            lock_digest: lock.digest(),
            layer: Some(layer),
        }));
    }
    let Some(installed) = deps::install(&lock, &target, options)? else {
        return Ok(None);
    };
    let mut entries = oci::directory_entries(installed.dir.path(), image_paths::SITE_PACKAGES)?;
    entries.push(Entry::bytes(
        image_paths::LOCK_FILE,
        installed.lock.clone().into_bytes(),
    ));
    let layer_options = LayerOptions {
        created_by: format!(
            "{} install --target {} -r {} # mlreef dependency layer",
            installed.installer,
            image_paths::SITE_PACKAGES,
            image_paths::LOCK_FILE
        ),
        ..layer_options.clone()
    };
    let layer = oci::write_layer(store, entries, &layer_options, progress)?;
    store.set_record(&record, &layer.to_record())?;
    Ok(Some(Deps {
        lock_digest: lock.digest(),
        layer: Some(layer),
    }))
}

/// What [`push`] did, in the JSON of `mlreef push --json`.
#[derive(Debug, Clone, Serialize)]
pub struct PushResult {
    /// Where it went (`docker://HOST/REPO:TAG`).
    pub reference: String,
    /// The digest of the manifest or index the tag names: the layout's own.
    pub digest: String,
    pub pushed: PushStats,
}

impl PushResult {
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Pushes the image of an OCI layout (`oci:DIR[:TAG]`, such as `mlreef build` writes) to
/// `target` as it is stored, keeping its digests. As for [`publish`], a tag that names another
/// image is refused unless `force`, the same image again sends nothing, and a push that fails
/// or is cancelled (through `progress`) leaves no tag.
pub fn push(
    source: &ImageRef,
    target: &oci::RegistryRef,
    options: &RegistryOptions,
    force: bool,
    progress: &dyn Progress,
) -> Result<PushResult> {
    let ImageRef::Layout { dir, tag } = source else {
        return Err(Error::Image(oci::Error::Unsupported(format!(
            "`{source}` is not an OCI layout; push pushes oci:DIR[:TAG] (build writes one)"
        ))));
    };
    let client = Registry::new(options)?;
    let report = |event: &PushEvent| event.report_to(progress);
    let outcome = client.push_layout(dir, tag.as_deref(), target, force, &report)?;
    let pushed = match &outcome {
        PushOutcome::Pushed { stats, .. } => *stats,
        PushOutcome::Unchanged { .. } => PushStats {
            skipped: oci::stored_blob_count(dir, tag.as_deref())?,
            ..PushStats::default()
        },
    };
    Ok(PushResult {
        reference: ImageRef::Registry(target.clone()).to_string(),
        digest: outcome.digest().to_string(),
        pushed,
    })
}
