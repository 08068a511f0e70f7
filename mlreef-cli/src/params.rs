//! `mlreef params`: the parameters a script declares, read without running it.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mlreef_core::argparse::{self, Options};
use mlreef_core::{Extraction, decorators};

use crate::table;

/// List the parameters a Python script declares with argparse, without running it.
///
/// The script is read statically: argparse calls are followed through helper functions and
/// modules inside the repository, loops and constants are evaluated, and whatever cannot be
/// resolved is reported as a diagnostic instead of guessed. Scripts without an argparse parser
/// that use the older `@data_processor` / `@parameter` decorators are read through those.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mlreef params train.py
  mlreef params --json src/train.py --repo .

Diagnostics go to stderr as `FILE:LINE:COL: severity[code]: message`; with --json they are part
of the JSON document instead. Exit status: 0 on success (even with diagnostics), 1 when the
script cannot be read or is not valid Python, 2 on a usage error.")]
pub struct Args {
    /// The Python script (the module's entry point)
    #[arg(value_name = "SCRIPT")]
    script: PathBuf,

    /// Print the extraction as JSON (parameters and diagnostics) on stdout
    #[arg(long)]
    json: bool,

    /// The repository whose modules may be read to follow helpers and constants
    /// [default: the script's git root, else its folder]
    #[arg(long, value_name = "DIR")]
    repo: Option<PathBuf>,
}

/// Runs `mlreef params` and returns the process exit status.
pub fn run(args: &Args) -> ExitCode {
    let extraction = match extract(&args.script, args.repo.clone()) {
        Ok(extraction) => extraction,
        Err(error) => {
            report_error(&error);
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = io::stdout().lock();
    let written = if args.json {
        writeln!(stdout, "{}", extraction.to_json())
    } else {
        table::write(&mut stdout, &extraction.parameters)
    }
    .and_then(|()| stdout.flush());
    match written {
        Ok(()) => {}
        // `mlreef params x | head` closing the pipe early is not an error worth reporting.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            return ExitCode::FAILURE;
        }
    }
    if !args.json {
        let mut stderr = io::stderr().lock();
        for diagnostic in &extraction.diagnostics {
            // Nothing sensible is left to do when stderr itself is gone.
            let _ = writeln!(
                stderr,
                "{}",
                crate::format_diagnostic(&args.script.display().to_string(), diagnostic)
            );
        }
    }
    ExitCode::SUCCESS
}

/// The argparse extraction, or the legacy decorator convention when the script has no parser.
fn extract(script: &Path, repo: Option<PathBuf>) -> Result<Extraction, argparse::Error> {
    let options = Options { repo, path: None };
    let mut extraction = argparse::extract_file(script, &options)?;
    let no_parser = extraction.parameters.is_empty()
        && extraction.diagnostics.iter().any(|d| d.code == "no-parser");
    if no_parser {
        let legacy = decorators::extract_file(script)?;
        if !legacy.parameters.is_empty() {
            // The script does declare parameters, so "no parser" would only mislead.
            extraction.diagnostics.retain(|d| d.code != "no-parser");
            extraction.parameters = legacy.parameters;
            extraction.diagnostics.extend(legacy.diagnostics);
        }
    }
    Ok(extraction)
}

/// Positioned errors already read `FILE:LINE:COL: message`; IO errors get `error:` and their
/// causes, because the library keeps causes out of its messages.
fn report_error(error: &argparse::Error) {
    let prefix = if matches!(error, argparse::Error::Io { .. }) {
        "error: "
    } else {
        ""
    };
    eprintln!("{prefix}{}", crate::error_chain(error));
}
