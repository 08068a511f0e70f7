//! `mlreef build`: the module's image, built without a daemon.

use crate::Exit;
use std::fmt::Write as _;
use std::path::PathBuf;

use mlreef_core::Severity;
use mlreef_core::module::DiscoverOptions;
use mlreef_core::oci::{Compression, ImageRef};
use mlreef_core::platform::Platform;
use mlreef_core::publish::{self, BuildOptions, BuildResult};

use crate::progress::Reporter;

/// Build the module's image: base, dependencies, code, entry point and labels
///
/// The image is assembled directly, without a Docker daemon: the base image's layers, a layer
/// of the dependencies installed for the platform (cached by the lock, so an unchanged
/// requirements file costs nothing), and a layer of the repository's code at /workdir. Every
/// time in it is SOURCE_DATE_EPOCH, else the commit's time, else 0: the same inputs give the
/// same digest.
// The doc comment is the --help text, where backticks would show.
#[allow(clippy::doc_markdown)]
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mlreef build --base rootfs:/srv/bookworm
  mlreef build path/to/repo --base docker://registry.example.com/python:3.11 --output oci:out:v1
  mlreef build --platform linux/amd64,linux/arm64 --output oci:images:main-3
  mlreef build --lock requirements.lock --output docker-archive:module.tar:team/module:3

References: docker://HOST/REPO:TAG (or HOST/REPO:TAG), oci:DIR[:TAG], docker-archive:FILE[:NAME],
and for bases also rootfs:DIR and scratch. Without --output the image goes to the OCI layout
.mlreef/images in the repository, tagged <branch>-<version>.

Left out of the code layer: what .gitignore, .dockerignore and .mlreefignore leave out, .git,
.mlreef, and files that look like secrets (.env, *.pem, id_rsa, ...) unless --include names
them. Exit status: 0 when the image was written, 1 when it could not be, 2 on a usage error.")]
pub struct Args {
    #[command(flatten)]
    image: ImageArgs,

    /// Where the image goes: oci:DIR[:TAG] or docker-archive:FILE[:NAME]
    /// [default: oci:REPO/.mlreef/images:<branch>-<version>]
    #[arg(long, value_name = "REF")]
    output: Option<String>,
}

/// What `build` and `publish` share: the repository and how its image is made.
#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    /// The repository [default: the current folder]
    #[arg(value_name = "REPO", default_value = ".")]
    repo: PathBuf,

    /// The base image [default: the module's base environment]; PLATFORM=REF for one platform
    #[arg(long, value_name = "REF")]
    base: Vec<String>,

    /// The platforms, comma separated; several give an image index
    #[arg(
        long,
        value_name = "OS/ARCH,...",
        value_delimiter = ',',
        default_value = "linux/amd64"
    )]
    platform: Vec<Platform>,

    /// A lock (pins with hashes, as the image's /opt/mlreef/requirements.lock) to install
    /// instead of resolving the requirements again
    #[arg(long, value_name = "FILE")]
    lock: Option<PathBuf>,

    /// The base's Python version, when the base does not say (`3.11`)
    #[arg(long, value_name = "X.Y")]
    python: Option<String>,

    /// How layers are compressed
    #[arg(long, value_name = "gzip|zstd", default_value = "gzip")]
    compression: Compression,

    /// A file to put in the code layer although it looks like a secret (a glob; repeatable)
    #[arg(long, value_name = "GLOB")]
    include: Vec<String>,

    /// A registry reached over plain HTTP besides localhost and 127.0.0.0/8 (repeatable)
    #[arg(long, value_name = "HOST[:PORT]")]
    insecure: Vec<String>,

    /// The entry point, relative to the repository
    #[arg(long, value_name = "SCRIPT")]
    entry_point: Option<PathBuf>,

    /// Print the result as JSON on stdout (and no progress)
    #[arg(long)]
    pub json: bool,
}

pub fn reference(text: &str) -> Result<ImageRef, Exit> {
    text.parse().map_err(|e| {
        eprintln!("error: {e}");
        Exit::from(2)
    })
}

impl ImageArgs {
    /// The build options these arguments give, with `output` as the destination.
    pub fn options(&self, output: Option<ImageRef>) -> Result<BuildOptions, Exit> {
        options(self, output)
    }

    pub fn repo(&self) -> &std::path::Path {
        &self.repo
    }
}

fn options(args: &ImageArgs, output: Option<ImageRef>) -> Result<BuildOptions, Exit> {
    let mut options = BuildOptions {
        discover: DiscoverOptions {
            entry_point: args.entry_point.clone(),
            ..DiscoverOptions::default()
        },
        platforms: args.platform.clone(),
        compression: args.compression,
        include: args.include.clone(),
        output,
        ..BuildOptions::default()
    };
    options.registry.insecure.clone_from(&args.insecure);
    for base in &args.base {
        // `linux/arm64=oci:dir:tag` names a base for one platform.
        match base.split_once('=') {
            Some((platform, rest)) if platform.parse::<Platform>().is_ok() => {
                let platform = platform.parse().expect("checked above");
                options.platform_bases.push((platform, reference(rest)?));
            }
            _ => options.base = Some(reference(base)?),
        }
    }
    options.deps.python.clone_from(&args.python);
    if let Some(lock) = &args.lock {
        options.deps.lock = Some(std::fs::read_to_string(lock).map_err(|e| {
            eprintln!("error: cannot read `{}`: {e}", lock.display());
            Exit::FAILURE
        })?);
    }
    Ok(options)
}

pub fn run(args: &Args) -> Exit {
    let output = match args.output.as_deref().map(reference).transpose() {
        Ok(output) => output,
        Err(code) => return code,
    };
    let options = match args.image.options(output) {
        Ok(options) => options,
        Err(code) => return code,
    };
    let reporter = Reporter::new(args.image.json);
    let result = publish::build_with(&args.image.repo, &options, &reporter);
    reporter.finish();
    present(result, args.image.json)
}

/// Prints a build's (or a publish's) result: the diagnostics on stderr, then the summary or the
/// JSON on stdout; or the error.
pub fn present(result: Result<BuildResult, mlreef_core::Error>, json: bool) -> Exit {
    let result = match result {
        Ok(result) => result,
        Err(error) => {
            eprintln!("error: {}", crate::error_chain(&error));
            return Exit::FAILURE;
        }
    };
    let fallback = result.module.entry_points.train.clone();
    for diagnostic in &result.diagnostics {
        if diagnostic.severity != Severity::Info {
            eprintln!("{}", crate::format_diagnostic(&fallback, diagnostic));
        }
    }
    let text = if json {
        format!("{}\n", result.to_json())
    } else {
        summary(&result)
    };
    match crate::print(&text) {
        Ok(()) => Exit::SUCCESS,
        Err(code) => code,
    }
}

fn size(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)] // a size to read, not to compute with
    let b = bytes as f64;
    if bytes >= 1 << 30 {
        format!("{:.1} GB", b / f64::from(1u32 << 30))
    } else if bytes >= 1 << 20 {
        format!("{:.1} MB", b / f64::from(1u32 << 20))
    } else if bytes >= 1 << 10 {
        format!("{:.1} KB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

fn summary(result: &BuildResult) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "{}", result.reference);
    let _ = writeln!(text, "digest: {}", result.digest);
    let module = &result.module;
    let _ = writeln!(
        text,
        "module: {} {} ({}, {} parameters)",
        module.name,
        module.version,
        module.kind,
        module.parameters.len()
    );
    for platform in &result.platforms {
        let python = platform
            .python
            .as_deref()
            .map(|p| format!(" (python {p})"))
            .unwrap_or_default();
        let _ = writeln!(text, "{}{python}: {}", platform.platform, platform.digest);
        for layer in &platform.layers {
            let short = layer.digest.get(7..19).unwrap_or(&layer.digest);
            let _ = writeln!(
                text,
                "  {:<5} {short}  {:>9}{}",
                layer.role,
                size(layer.size),
                if layer.cached { "  (cached)" } else { "" }
            );
        }
    }
    if let Some(pushed) = &result.pushed {
        if pushed.uploaded == 0 && pushed.mounted == 0 {
            let _ = writeln!(
                text,
                "pushed: nothing new, the registry had all {} blobs",
                pushed.skipped
            );
        } else {
            let _ = writeln!(
                text,
                "pushed: {} blobs uploaded ({}), {} mounted, {} already there",
                pushed.uploaded,
                size(pushed.bytes),
                pushed.mounted,
                pushed.skipped
            );
        }
    }
    if !result.excluded.is_empty() {
        let _ = writeln!(text, "left out of the code layer:");
        for excluded in &result.excluded {
            let _ = writeln!(text, "  {} ({})", excluded.path, excluded.reason);
        }
    }
    text
}
