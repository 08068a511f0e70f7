//! `mlreef build`: the module's image, built without a daemon.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

use mlreef_core::Severity;
use mlreef_core::module::DiscoverOptions;
use mlreef_core::oci::{Compression, ImageRef};
use mlreef_core::platform::Platform;
use mlreef_core::progress::{Cancelled, Event};
use mlreef_core::publish::{self, BuildOptions, BuildResult};

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
    /// The repository [default: the current folder]
    #[arg(value_name = "REPO", default_value = ".")]
    repo: PathBuf,

    /// The base image [default: the module's base environment]; PLATFORM=REF for one platform
    #[arg(long, value_name = "REF")]
    base: Vec<String>,

    /// Where the image goes [default: oci:REPO/.mlreef/images:<branch>-<version>]
    #[arg(long, value_name = "REF")]
    output: Option<String>,

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

    /// Print the result as JSON on stdout
    #[arg(long)]
    json: bool,
}

fn reference(text: &str) -> Result<ImageRef, ExitCode> {
    text.parse().map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}

fn options(args: &Args) -> Result<BuildOptions, ExitCode> {
    let mut options = BuildOptions {
        discover: DiscoverOptions {
            entry_point: args.entry_point.clone(),
            ..DiscoverOptions::default()
        },
        platforms: args.platform.clone(),
        compression: args.compression,
        include: args.include.clone(),
        output: args.output.as_deref().map(reference).transpose()?,
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
            ExitCode::FAILURE
        })?);
    }
    Ok(options)
}

pub fn run(args: &Args) -> ExitCode {
    let options = match options(args) {
        Ok(options) => options,
        Err(code) => return code,
    };
    // Progress as plain lines on stderr, one per step (not one per chunk of bytes).
    let last = Mutex::new(String::new());
    let report = |event: &Event<'_>| -> Result<(), Cancelled> {
        let line = format!(
            "{}{}",
            event.stage,
            event.detail.map(|d| format!(": {d}")).unwrap_or_default()
        );
        let mut last = last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !args.json && *last != line {
            eprintln!("{line}");
            *last = line;
        }
        Ok(())
    };
    let result = match publish::build_with(&args.repo, &options, &report) {
        Ok(result) => result,
        Err(error) => {
            eprintln!("error: {}", crate::error_chain(&error));
            return ExitCode::FAILURE;
        }
    };
    let fallback = result.module.entry_points.train.clone();
    for diagnostic in &result.diagnostics {
        if diagnostic.severity != Severity::Info {
            eprintln!("{}", crate::format_diagnostic(&fallback, diagnostic));
        }
    }
    let text = if args.json {
        format!("{}\n", result.to_json())
    } else {
        summary(&result)
    };
    match crate::print(&text) {
        Ok(()) => ExitCode::SUCCESS,
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
    if !result.excluded.is_empty() {
        let _ = writeln!(text, "left out of the code layer:");
        for excluded in &result.excluded {
            let _ = writeln!(text, "  {} ({})", excluded.path, excluded.reason);
        }
    }
    text
}
