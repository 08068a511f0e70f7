//! The `mlreef` command: a terminal and CI front end over `mlreef-core`.
//!
//! Every capability lives in the library; this crate parses arguments, calls the library and
//! presents the result (tables for people, JSON for programs).

mod params;
mod table;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Publish a Python repository as a typed, runnable AI module.
#[derive(Debug, Parser)]
#[command(name = "mlreef", version, propagate_version = true)]
#[command(after_help = "\
Example:
  mlreef params train.py    # the parameters train.py declares, as a table

Run `mlreef help <COMMAND>` for a command's options and more examples.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Params(params::Args),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Params(args) => params::run(&args),
    }
}
