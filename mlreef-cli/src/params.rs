//! `mlreef params`: the parameters a script declares, read without running it.

use crate::Exit;
use std::io::{self, Write};
use std::path::PathBuf;

use mlreef_core::argparse;

use crate::table;

/// List the parameters a Python script declares with argparse, without running it
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
    #[arg(long, conflicts_with = "json_schema")]
    json: bool,

    /// Print a JSON Schema of the parameters (one property each, for generating a form)
    #[arg(long)]
    json_schema: bool,

    /// The repository whose modules may be read to follow helpers and constants
    /// [default: the script's git root, else its folder]
    #[arg(long, value_name = "DIR")]
    repo: Option<PathBuf>,

    /// Also report what influences no parameter (an environment variable read by a logging
    /// helper, an import that cannot be followed but is not used)
    #[arg(long, short)]
    verbose: bool,
}

/// Runs `mlreef params` and returns the process exit status.
pub fn run(args: &Args) -> Exit {
    let options = argparse::Options {
        repo: args.repo.clone(),
        verbose: args.verbose,
        ..argparse::Options::default()
    };
    let extraction = match mlreef_core::module::script_parameters(&args.script, &options) {
        Ok(extraction) => extraction,
        Err(error) => {
            report_error(&error);
            return Exit::FAILURE;
        }
    };
    let mut stdout = io::stdout().lock();
    let written = if args.json_schema {
        let title = args
            .script
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let schema = mlreef_core::module::parameters_schema(&title, &extraction.parameters);
        writeln!(
            stdout,
            "{}",
            serde_json::to_string_pretty(&schema).unwrap_or_default()
        )
    } else if args.json {
        writeln!(stdout, "{}", extraction.to_json())
    } else {
        table::write(&mut stdout, &extraction.parameters)
    }
    .and_then(|()| stdout.flush());
    match written {
        Ok(()) => {}
        // `mlreef params x | head` closing the pipe early is not an error worth reporting.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Exit::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            return Exit::FAILURE;
        }
    }
    if !args.json && !args.json_schema {
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
    Exit::SUCCESS
}

/// The argparse extraction, or the legacy decorator convention when the script has no parser.
fn report_error(error: &argparse::Error) {
    let prefix = if matches!(error, argparse::Error::Io { .. }) {
        "error: "
    } else {
        ""
    };
    eprintln!("{prefix}{}", crate::error_chain(error));
}
