//! `mlreef publish`: build the module's image and push it, in one go.

use crate::Exit;

use mlreef_core::oci::{ImageRef, RegistryOptions, RegistryRef};
use mlreef_core::publish::{self, PublishOptions};

use crate::build::{ImageArgs, present, reference};
use crate::progress::Reporter;

/// Publish the module: discover, check mlreef.yml, build the image and push it
///
/// Builds the image as `mlreef build` does and pushes it to a registry without a Docker
/// daemon: blobs the registry has are skipped, those in another of its repositories are
/// mounted, the rest are streamed several at a time, and the tag is written last, so a push
/// that fails leaves no tag on an incomplete image. A published version does not change: a tag
/// that names another image is refused unless --force; the same image again changes nothing.
/// Without --push the image goes to --output, by default the OCI layout .mlreef/images in the
/// repository.
// The doc comment is the --help text, where backticks would show.
#[allow(clippy::doc_markdown)]
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mlreef publish --push registry.example.com/team/classifier:main-3 --base docker://registry.example.com/python:3.11
  mlreef publish --base rootfs:/srv/bookworm                        # into .mlreef/images
  mlreef publish --push localhost:5000/team/classifier:1 --platform linux/amd64,linux/arm64

Credentials, first found first used: MLREEF_REGISTRY_USER / MLREEF_REGISTRY_PASSWORD (for
MLREEF_REGISTRY, or any registry when it is unset); CI_REGISTRY_USER / CI_REGISTRY_PASSWORD for
CI_REGISTRY (GitLab CI); docker's config.json (DOCKER_CONFIG, else ~/.docker) and
REGISTRY_AUTH_FILE, with their credential helpers. localhost and 127.0.0.0/8 are reached over
plain HTTP; other hosts over HTTPS unless --insecure names them. Credentials never appear in
what is printed. MLREEF_REGISTRY_TIMEOUT (seconds, default 60) bounds connecting and each wait
for bytes from a registry.

Exit status: 0 when the image was pushed or written (or the tag already named it), 1 when it
could not be (nothing is tagged then), 2 on a usage error.")]
pub struct Args {
    #[command(flatten)]
    image: ImageArgs,

    /// The registry reference to push to: [docker://]HOST/REPO:TAG
    #[arg(long, value_name = "REF", conflicts_with = "output")]
    push: Option<String>,

    /// A local destination instead: oci:DIR[:TAG] or docker-archive:FILE[:NAME]
    /// [default: oci:REPO/.mlreef/images:<branch>-<version>]
    #[arg(long, value_name = "REF")]
    output: Option<String>,

    /// Replace the tag when it names another image (a published version is otherwise
    /// immutable)
    #[arg(long)]
    force: bool,
}

fn destination(args: &Args) -> Result<Option<ImageRef>, Exit> {
    if let Some(push) = &args.push {
        return registry_reference(push).map(|r| Some(ImageRef::Registry(r)));
    }
    match args.output.as_deref().map(reference).transpose()? {
        Some(ImageRef::Registry(r)) => {
            eprintln!("error: `{r}` is a registry; push there with --push");
            Err(Exit::from(2))
        }
        other => Ok(other),
    }
}

pub fn run(args: &Args) -> Exit {
    let options = match destination(args).and_then(|output| args.image.options(output)) {
        Ok(build) => PublishOptions {
            build,
            force: args.force,
        },
        Err(code) => return code,
    };
    let reporter = Reporter::new(args.image.json);
    let result = publish::publish_with(args.image.repo(), &options, &reporter);
    reporter.finish();
    present(result, args.image.json)
}

/// Push an image an OCI layout holds to a registry, keeping its digests
///
/// Sends the image `mlreef build` (or any tool) wrote to an OCI layout, byte for byte: the
/// registry gives it the layout's digests. As for publish, blobs the registry has are skipped,
/// the rest stream several at a time, the tag is written last, and a tag that names another
/// image is refused unless --force.
#[allow(clippy::doc_markdown)]
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mlreef push oci:.mlreef/images:main-3 registry.example.com/team/classifier:main-3
  mlreef push oci:out:v1 localhost:5000/team/classifier:1 --json

Credentials and plain HTTP as for `mlreef publish`. Exit status: 0 when the tag names the
image, 1 when it could not be pushed (nothing is tagged then), 2 on a usage error.")]
pub struct PushArgs {
    /// The image: oci:DIR[:TAG]
    #[arg(value_name = "SOURCE")]
    source: String,

    /// Where it goes: [docker://]HOST/REPO:TAG
    #[arg(value_name = "TARGET")]
    target: String,

    /// Replace the tag when it names another image
    #[arg(long)]
    force: bool,

    /// A registry reached over plain HTTP besides localhost and 127.0.0.0/8 (repeatable)
    #[arg(long, value_name = "HOST[:PORT]")]
    insecure: Vec<String>,

    /// Print the result as JSON on stdout (and no progress)
    #[arg(long)]
    json: bool,
}

/// `[docker://]HOST/REPO:TAG` as a registry reference.
pub(crate) fn registry_reference(text: &str) -> Result<RegistryRef, Exit> {
    match reference(text)? {
        ImageRef::Registry(r) => Ok(r),
        other => {
            eprintln!("error: `{other}` is not a registry reference");
            Err(Exit::from(2))
        }
    }
}

pub fn run_push(args: &PushArgs) -> Exit {
    let (source, target) = match reference(&args.source)
        .and_then(|source| Ok((source, registry_reference(&args.target)?)))
    {
        Ok(both) => both,
        Err(code) => return code,
    };
    let options = RegistryOptions {
        insecure: args.insecure.clone(),
        ..RegistryOptions::default()
    };
    let reporter = Reporter::new(args.json);
    let result = publish::push(&source, &target, &options, args.force, &reporter);
    reporter.finish();
    let result = match result {
        Ok(result) => result,
        Err(error) => {
            eprintln!("error: {}", crate::error_chain(&error));
            return Exit::FAILURE;
        }
    };
    let text = if args.json {
        format!("{}\n", result.to_json())
    } else {
        let pushed = &result.pushed;
        format!(
            "{}\ndigest: {}\npushed: {} blobs uploaded ({} bytes), {} mounted, {} already there\n",
            result.reference,
            result.digest,
            pushed.uploaded,
            pushed.bytes,
            pushed.mounted,
            pushed.skipped
        )
    };
    match crate::print(&text) {
        Ok(()) => Exit::SUCCESS,
        Err(code) => code,
    }
}
