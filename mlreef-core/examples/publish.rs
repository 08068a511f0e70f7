//! Publishes a module through the crate's API: discovery, the `mlreef.yml` check, the image
//! built without a daemon, and a push (or an OCI layout), as `mlreef publish` does.
//!
//! ```sh
//! cargo run -p mlreef-core --example publish -- examples/modules/plot \
//!     --base rootfs:/srv/bookworm --push localhost:5000/examples/plot:1
//! ```
//!
//! Without `--push` or `--output`, the image goes to the OCI layout `.mlreef/images` of the
//! repository; without `--base`, the module's base environment is the base.

use std::process::ExitCode;

use mlreef_core::progress::{Cancelled, Event};
use mlreef_core::publish::{PublishOptions, publish_with};
use mlreef_core::{Severity, error_chain};

fn usage() -> ExitCode {
    eprintln!("usage: publish REPO [--base REF] [--push HOST/REPO:TAG | --output oci:DIR[:TAG]]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(repo) = args.next() else {
        return usage();
    };
    let mut options = PublishOptions::default();
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else {
            return usage();
        };
        let reference = match value.parse() {
            Ok(reference) => reference,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(2);
            }
        };
        match flag.as_str() {
            "--base" => options.build.base = Some(reference),
            "--push" | "--output" => options.build.output = Some(reference),
            _ => return usage(),
        }
    }
    // Each step once, as it starts; the bytes of layers and uploads are left out here.
    let progress = |event: &Event<'_>| -> Result<(), Cancelled> {
        if event.done == 0 {
            match event.detail {
                Some(detail) => eprintln!("{}: {detail}", event.stage),
                None => eprintln!("{}", event.stage),
            }
        }
        Ok(())
    };
    let published = match publish_with(repo.as_ref(), &options, &progress) {
        Ok(published) => published,
        Err(error) => {
            eprintln!("error: {}", error_chain(&error));
            return ExitCode::FAILURE;
        }
    };
    for diagnostic in &published.diagnostics {
        if diagnostic.severity != Severity::Info {
            eprintln!(
                "{}[{}]: {}",
                diagnostic.severity, diagnostic.code, diagnostic.message
            );
        }
    }
    let module = &published.module;
    println!(
        "{} {} ({}, {} parameters)",
        module.name,
        module.version,
        module.kind,
        module.parameters.len()
    );
    println!("{}\n{}", published.reference, published.digest);
    if let Some(pushed) = published.pushed {
        println!(
            "{} blobs uploaded ({} bytes), {} mounted, {} already there",
            pushed.uploaded, pushed.bytes, pushed.mounted, pushed.skipped
        );
    }
    ExitCode::SUCCESS
}
