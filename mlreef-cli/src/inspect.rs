//! `mlreef inspect` and `mlreef schema`: the module description of a repository, and the
//! JSON Schema of module descriptions.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use mlreef_core::Severity;
use mlreef_core::module::{DiscoverOptions, Module};

/// Describe the module a repository makes: entry point, parameters, requirements, name,
/// branch and the script's sha256, read without running anything.
///
/// The entry point is the one given, else train.py, main.py or run.py when it builds an
/// argparse parser, else the only script in the repository that does. The requirements file
/// is the one given, else requirements.txt or environment.yml at the root, else
/// requirements.txt beside the entry point.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mlreef inspect
  mlreef inspect path/to/repo --json
  mlreef inspect --entry-point src/train.py --requirements requirements/base.txt

Diagnostics (of the extraction, the requirements and the module conventions) go to stderr as
`FILE:LINE:COL: severity[code]: message`. Exit status: 0 when the module was described, 1 when
the repository does not make a module or an error-severity problem was found, 2 on a usage
error.")]
pub struct InspectArgs {
    /// The repository [default: the current folder]
    #[arg(value_name = "REPO", default_value = ".")]
    repo: PathBuf,

    /// Print the module description as JSON on stdout
    #[arg(long)]
    json: bool,

    /// The entry point, relative to the repository
    #[arg(long, value_name = "SCRIPT")]
    entry_point: Option<PathBuf>,

    /// The requirements file, relative to the repository
    #[arg(long, value_name = "FILE")]
    requirements: Option<PathBuf>,
}

/// Print the JSON Schema of module descriptions (the `.mlreef` key of mlreef.yml).
#[derive(Debug, clap::Args)]
pub struct SchemaArgs {}

pub fn run_schema(_: &SchemaArgs) -> ExitCode {
    let schema = serde_json::to_string_pretty(&Module::json_schema()).unwrap_or_default();
    match crate::print(&format!("{schema}\n")) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

pub fn run(args: &InspectArgs) -> ExitCode {
    let options = DiscoverOptions {
        entry_point: args.entry_point.clone(),
        requirements: args.requirements.clone(),
        env: std::env::vars().collect(),
    };
    let discovered = match Module::discover(&args.repo, &options) {
        Ok(discovered) => discovered,
        Err(error) => {
            eprintln!("error: {}", crate::error_chain(&error));
            return ExitCode::FAILURE;
        }
    };
    let module = &discovered.module;
    let mut diagnostics = discovered.diagnostics.clone();
    diagnostics.extend(module.validate());
    let output = if args.json {
        format!("{}\n", module.to_json())
    } else {
        summary(module)
    };
    if let Err(code) = crate::print(&output) {
        return code;
    }
    let fallback = module.entry_points.train.clone();
    for diagnostic in &diagnostics {
        eprintln!("{}", crate::format_diagnostic(&fallback, diagnostic));
    }
    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn summary(module: &Module) -> String {
    let mut rows = vec![
        ("name", module.name.clone()),
        ("slug", module.slug.clone()),
        ("kind", enum_name(&module.kind)),
        ("version", module.version.clone()),
        (
            "branch",
            module.branch.clone().unwrap_or_else(|| "(none)".to_owned()),
        ),
        ("entry point", module.entry_points.train.clone()),
        ("script sha256", module.script_sha256.clone()),
        ("parameters", module.parameters.len().to_string()),
        (
            "requirements",
            match &module.requirements_file {
                Some(file) => format!("{file} ({} lines)", module.requirements.len()),
                None => "(none)".to_owned(),
            },
        ),
        (
            "base environment",
            format!(
                "{} ({})",
                module.base_environment.title, module.base_environment.image
            ),
        ),
    ];
    if let Some(description) = &module.description {
        rows.insert(2, ("description", description.clone()));
    }
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
    let mut text = String::new();
    for (key, value) in rows {
        let _ = writeln!(text, "{:width$}{value}", format!("{key}:"));
    }
    text
}

/// An enum's name in the JSON form (`ALGORITHM`).
fn enum_name(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
