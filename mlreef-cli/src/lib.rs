//! The `mlreef` command: a terminal and CI front end over `mlreef-core`.
//!
//! Every capability lives in the library; this crate parses arguments, calls the library and
//! presents the result (tables for people, JSON for programs). [`run`] is the whole command,
//! so that the `mlreef` binary and the Python package's `mlreef` console script are one
//! program.

mod build;
mod module;
mod params;
mod progress;
mod publish;
mod registry;
mod requirements;
mod table;

use std::ffi::OsString;

use clap::{Parser, Subcommand};

/// Publish a Python repository as a typed, runnable AI module.
#[derive(Debug, Parser)]
#[command(name = "mlreef", version, propagate_version = true)]
#[command(after_help = "\
Example:
  mlreef params train.py                   # the parameters train.py declares
  mlreef requirements requirements.txt     # its dependencies, read as pip reads them
  mlreef inspect                           # the module this repository makes
  mlreef init                              # write or update its mlreef.yml
  mlreef run-args --set epochs=20 --shell  # the command line for chosen values
  mlreef build --base rootfs:/srv/bookworm # its image, in .mlreef/images
  mlreef publish --push HOST/TEAM/MODULE:1 # built and pushed to a registry
  mlreef list HOST/TEAM/MODULE             # its published versions
  mlreef inspect docker://HOST/TEAM/MODULE:1  # a published module's description

Run `mlreef help <COMMAND>` for a command's options and more examples.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Params(params::Args),
    Requirements(requirements::Args),
    Inspect(module::InspectArgs),
    Init(module::InitArgs),
    RunArgs(module::RunArgs),
    Schema(module::SchemaArgs),
    Build(build::Args),
    Publish(publish::Args),
    Push(publish::PushArgs),
    Pull(registry::PullArgs),
    List(registry::ListArgs),
}

/// The exit status of a command: 0 when it did its job, 1 when it could not (or found an
/// error), 2 on a usage error. Unlike [`std::process::ExitCode`], its number can be read, for
/// callers that are not `main` (the Python console script).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit(u8);

impl Exit {
    pub const SUCCESS: Exit = Exit(0);
    pub const FAILURE: Exit = Exit(1);

    #[must_use]
    pub fn code(self) -> u8 {
        self.0
    }
}

impl From<u8> for Exit {
    fn from(code: u8) -> Self {
        Exit(code)
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.0)
    }
}

/// Runs the `mlreef` command with `args` (the first is the program's name, as in
/// `std::env::args_os`): parses them, does the work, prints, and returns the exit status. A
/// usage error, `--help` and `--version` are printed here too, never ending the process.
pub fn run<I, T>(args: I) -> Exit
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    // Logs only when asked for (RUST_LOG=mlreef_core=debug shows every registry request); a
    // second run in the same process keeps the first logger.
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("off"))
        .try_init();
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return Exit(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    match cli.command {
        Command::Params(args) => params::run(&args),
        Command::Inspect(args) => module::run_inspect(&args),
        Command::Init(args) => module::run_init(&args),
        Command::RunArgs(args) => module::run_args(&args),
        Command::Schema(args) => module::run_schema(&args),
        Command::Requirements(args) => requirements::run(&args),
        Command::Build(args) => build::run(&args),
        Command::Publish(args) => publish::run(&args),
        Command::Push(args) => publish::run_push(&args),
        Command::Pull(args) => registry::run_pull(&args),
        Command::List(args) => registry::run_list(&args),
    }
}

/// `FILE:LINE:COL: severity[code]: message`, the form editors and CI annotators recognise.
/// `file` is used when the diagnostic names none.
/// A diagnostic about a whole file (line 0) names the file alone.
pub(crate) fn format_diagnostic(file: &str, diagnostic: &mlreef_core::Diagnostic) -> String {
    let file = diagnostic.file.as_deref().unwrap_or(file);
    let place = if diagnostic.line == 0 {
        file.to_owned()
    } else {
        format!("{file}:{}:{}", diagnostic.line, diagnostic.column)
    };
    format!(
        "{place}: {}[{}]: {}",
        diagnostic.severity, diagnostic.code, diagnostic.message
    )
}

/// An error and its causes on one line (the library keeps causes out of its messages).
pub(crate) use mlreef_core::error_chain;

/// Writes to stdout; a reader that closed the pipe early (`| head`) is not an error.
pub(crate) fn print(text: &str) -> Result<(), Exit> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Exit::SUCCESS),
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            Err(Exit::FAILURE)
        }
    }
}
