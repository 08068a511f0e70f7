//! `mlreef pull`, `mlreef list` and `mlreef inspect IMAGE`: what a registry holds, read back.

use crate::Exit;
use std::fmt::Write as _;

use mlreef_core::oci::{ImageRef, RegistryOptions};
use mlreef_core::platform::Platform;
use mlreef_core::publish::{self, ReadOptions};

use crate::build::reference;
use crate::progress::Reporter;
use crate::publish::registry_reference;

fn options(insecure: &[String], platform: Option<&Platform>) -> ReadOptions {
    ReadOptions {
        registry: RegistryOptions {
            insecure: insecure.to_vec(),
            ..RegistryOptions::default()
        },
        platform: platform.cloned(),
        cache: None,
    }
}

/// Prints `text`, or the error (exit status 1).
fn finish<T>(result: Result<T, mlreef_core::Error>, text: impl FnOnce(T) -> String) -> Exit {
    match result {
        Ok(value) => match crate::print(&text(value)) {
            Ok(()) => Exit::SUCCESS,
            Err(code) => code,
        },
        Err(error) => {
            eprintln!("error: {}", crate::error_chain(&error));
            Exit::FAILURE
        }
    }
}

/// Copy an image from a registry into an OCI layout, byte for byte
///
/// The manifest (or index), configs and layers are copied exactly as the registry serves them,
/// each checked against its digest as it streams, so the layout has the registry's digests. A
/// multi-platform image is copied whole unless --platform picks one. Blobs are kept in the
/// blob store (MLREEF_CACHE, else the user's cache): a build on the pulled base fetches
/// nothing again. The layout's index.json is written last; a failed pull tags nothing.
#[allow(clippy::doc_markdown)]
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mlreef pull registry.example.com/team/classifier:main-3 --output oci:images:main-3
  mlreef pull localhost:5000/python:3.11 --output oci:bases:py311 --platform linux/arm64

Credentials and plain HTTP as for `mlreef publish`. Exit status: 0 when the layout names the
image, 1 when it could not be copied, 2 on a usage error.")]
pub struct PullArgs {
    /// The image: [docker://]HOST/REPO:TAG or HOST/REPO@DIGEST
    #[arg(value_name = "SOURCE")]
    source: String,

    /// Where it goes: oci:DIR[:TAG]
    #[arg(long, short, value_name = "REF")]
    output: String,

    /// Copy only this platform's image of a multi-platform one (os/arch[/variant])
    #[arg(long, value_name = "PLATFORM")]
    platform: Option<Platform>,

    /// A registry reached over plain HTTP besides localhost and 127.0.0.0/8 (repeatable)
    #[arg(long, value_name = "HOST[:PORT]")]
    insecure: Vec<String>,

    /// Print the result as JSON on stdout (and no progress)
    #[arg(long)]
    json: bool,
}

pub fn run_pull(args: &PullArgs) -> Exit {
    let (source, output) = match registry_reference(&args.source)
        .and_then(|source| Ok((source, reference(&args.output)?)))
    {
        Ok(both) => both,
        Err(code) => return code,
    };
    if !matches!(output, ImageRef::Layout { .. }) {
        eprintln!("error: `{output}` is not an OCI layout; pull writes oci:DIR[:TAG]");
        return Exit::from(2);
    }
    let reporter = Reporter::new(args.json);
    let result = publish::pull(
        &source,
        &output,
        &options(&args.insecure, args.platform.as_ref()),
        &reporter,
    );
    reporter.finish();
    finish(result, |pulled| {
        if args.json {
            format!("{}\n", pulled.to_json())
        } else {
            format!(
                "{}\ndigest: {}\nplatforms: {}\nfetched: {} of {} blobs ({} bytes); the others were in the cache\n",
                pulled.reference,
                pulled.digest,
                if pulled.platforms.is_empty() {
                    "(not said)".to_owned()
                } else {
                    pulled.platforms.join(", ")
                },
                pulled.fetched,
                pulled.blobs,
                pulled.bytes
            )
        }
    })
}

/// List the published versions of a module: each tag with its module and digest
///
/// Reads each tag's manifest and config (never a layer): the module description is the image
/// label com.mlreef.module that mlreef publish writes. Tags whose image is not a module's are
/// listed without one; a tag that cannot be read is listed with its error.
#[allow(clippy::doc_markdown)]
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mlreef list registry.example.com/team/classifier
  mlreef list localhost:5000/team/classifier --json

Credentials and plain HTTP as for `mlreef publish`. Exit status: 0 when the repository was
listed (also when it has no tags), 1 when it could not be, 2 on a usage error.")]
pub struct ListArgs {
    /// The repository: [docker://]HOST/REPO
    #[arg(value_name = "REPOSITORY")]
    repository: String,

    /// A registry reached over plain HTTP besides localhost and 127.0.0.0/8 (repeatable)
    #[arg(long, value_name = "HOST[:PORT]")]
    insecure: Vec<String>,

    /// Print the listing as JSON on stdout
    #[arg(long)]
    json: bool,
}

pub fn run_list(args: &ListArgs) -> Exit {
    let repository = match registry_reference(&args.repository) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let result = publish::list_modules(&repository, &options(&args.insecure, None));
    finish(result, |list| {
        if args.json {
            return format!("{}\n", list.to_json());
        }
        if list.tags.is_empty() {
            return format!("{}: no tags\n", list.repository);
        }
        let rows: Vec<[String; 5]> = list
            .tags
            .iter()
            .map(|tag| {
                let digest = tag.digest.as_deref().unwrap_or("-");
                let digest = digest.get(..19).unwrap_or(digest).to_owned();
                match (&tag.module, &tag.error) {
                    (Some(m), _) => [
                        tag.tag.clone(),
                        m.name.clone(),
                        m.kind.to_string(),
                        m.version.clone(),
                        digest,
                    ],
                    (None, Some(error)) => [
                        tag.tag.clone(),
                        format!("(error: {error})"),
                        String::new(),
                        String::new(),
                        digest,
                    ],
                    (None, None) => [
                        tag.tag.clone(),
                        "(not a module)".to_owned(),
                        String::new(),
                        String::new(),
                        digest,
                    ],
                }
            })
            .collect();
        let header = ["TAG", "MODULE", "KIND", "VERSION", "DIGEST"].map(str::to_owned);
        let mut widths = header.each_ref().map(String::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut text = String::new();
        for row in std::iter::once(&header).chain(&rows) {
            let mut line = String::new();
            for (cell, width) in row.iter().zip(widths) {
                let _ = write!(line, "{cell:width$}  ");
            }
            let _ = writeln!(text, "{}", line.trim_end());
        }
        text
    })
}

/// `mlreef inspect docker://...` or `oci:...`: the module a published image describes.
pub fn run_inspect_image(text: &str, insecure: &[String], json: bool) -> Exit {
    let image = match reference(text) {
        Ok(image) => image,
        Err(code) => return code,
    };
    let result = publish::inspect_image(&image, &options(insecure, None));
    finish(result, |found| {
        if json {
            format!("{}\n", found.module.to_json())
        } else {
            crate::module::summary(
                &found.module,
                &[("image", found.reference), ("digest", found.digest)],
            )
        }
    })
}
