//! `mlreef inspect`, `mlreef init` and `mlreef schema`: the module description of a
//! repository, its mlreef.yml, and the JSON Schema of module descriptions.

use crate::Exit;
use std::fmt::Write as _;
use std::path::PathBuf;

use mlreef_core::Severity;
use mlreef_core::module::{DiscoverOptions, Discovered, Module};
use mlreef_core::pipeline::{self, Assignment, InitOptions, InitOutcome, InitStatus};

/// Describe the module a repository makes, without running anything
///
/// The description holds the entry point, its parameters, the requirements, name, branch
/// and the script's sha256, merged with what mlreef.yml records (kind, description, data
/// types), as mlreef publish describes the module.
///
/// The entry point is the one given, else train.py, main.py or run.py when it builds an
/// argparse parser, else the only script in the repository that does. The requirements file
/// is the one given, else requirements.txt or environment.yml at the root, else
/// requirements.txt beside the entry point.
// The doc comments are the --help text, where backticks would show.
#[allow(clippy::doc_markdown)]
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mlreef inspect
  mlreef inspect path/to/repo --json
  mlreef inspect --entry-point src/train.py --requirements requirements/base.txt
  mlreef inspect docker://registry.example.com/team/classifier:main-3 --json

Diagnostics (of the extraction, the requirements and the module conventions) go to stderr as
`FILE:LINE:COL: severity[code]: message`. Exit status: 0 when the module was described, 1 when
the repository does not make a module or an error-severity problem was found, 2 on a usage
error.")]
pub struct InspectArgs {
    /// The repository [default: the current folder], or a published module's image:
    /// docker://HOST/REPO:TAG or oci:DIR[:TAG] (its description is read from its labels)
    #[arg(value_name = "REPO|IMAGE", default_value = ".")]
    repo: PathBuf,

    /// Print the module description as JSON on stdout
    #[arg(long)]
    json: bool,

    /// For an image: a registry reached over plain HTTP besides localhost and 127.0.0.0/8
    /// (repeatable)
    #[arg(long, value_name = "HOST[:PORT]")]
    insecure: Vec<String>,

    /// The entry point, relative to the repository
    #[arg(long, value_name = "SCRIPT")]
    entry_point: Option<PathBuf>,

    /// The requirements file, relative to the repository
    #[arg(long, value_name = "FILE")]
    requirements: Option<PathBuf>,

    /// Also report what influences no parameter (an environment variable read by a logging
    /// helper, an import that cannot be followed but is not used)
    #[arg(long, short)]
    verbose: bool,
}

/// Discovers the module in `repo` (`${VAR}` from the process environment, the library's
/// default); a repository that makes no module is reported and gives exit status 1.
fn discover(repo: &std::path::Path, options: &DiscoverOptions) -> Result<Discovered, Exit> {
    Module::discover(repo, options).map_err(|error| {
        eprintln!("error: {}", crate::error_chain(&error));
        Exit::FAILURE
    })
}

/// Print the JSON Schema of module descriptions (the `.mlreef` key of mlreef.yml)
#[derive(Debug, clap::Args)]
pub struct SchemaArgs {}

pub fn run_schema(_: &SchemaArgs) -> Exit {
    let schema = serde_json::to_string_pretty(&Module::json_schema()).unwrap_or_default();
    match crate::print(&format!("{schema}\n")) {
        Ok(()) => Exit::SUCCESS,
        Err(code) => code,
    }
}

pub fn run_inspect(args: &InspectArgs) -> Exit {
    if let Some(image) = args
        .repo
        .to_str()
        .filter(|text| text.starts_with("docker://") || text.starts_with("oci:"))
    {
        return crate::registry::run_inspect_image(image, &args.insecure, args.json);
    }
    let options = DiscoverOptions {
        entry_point: args.entry_point.clone(),
        requirements: args.requirements.clone(),
        verbose: args.verbose,
        env: None,
    };
    // The module as publish describes it: what mlreef.yml records (kind, description, data
    // types a person set) merged with what the code says now; nothing is written.
    let init = InitOptions {
        discover: options,
        check: true,
        ..InitOptions::default()
    };
    let outcome = match pipeline::init(&args.repo, &init) {
        Ok(outcome) => outcome,
        Err(error) => {
            eprintln!("error: {}", crate::error_chain(&error));
            return Exit::FAILURE;
        }
    };
    let module = &outcome.module;
    let diagnostics = outcome.diagnostics;
    let output = if args.json {
        format!("{}\n", module.to_json())
    } else {
        summary(module, &[])
    };
    if let Err(code) = crate::print(&output) {
        return code;
    }
    let fallback = module.entry_points.train.clone();
    for diagnostic in &diagnostics {
        eprintln!("{}", crate::format_diagnostic(&fallback, diagnostic));
    }
    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        Exit::FAILURE
    } else {
        Exit::SUCCESS
    }
}

/// The module as aligned `key: value` lines, after `first` (an image's reference and digest).
pub(crate) fn summary(module: &Module, first: &[(&str, String)]) -> String {
    let mut rows: Vec<(&str, String)> = first.to_vec();
    rows.extend([
        ("name", module.name.clone()),
        ("slug", module.slug.clone()),
        ("kind", module.kind.to_string()),
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
    ]);
    if let Some(description) = &module.description {
        rows.insert(first.len() + 2, ("description", description.clone()));
    }
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
    let mut text = String::new();
    for (key, value) in rows {
        let _ = writeln!(text, "{:width$}{value}", format!("{key}:"));
    }
    text
}

/// Write or update the repository's mlreef.yml
///
/// mlreef.yml is a GitLab CI file that runs as it is: the module description (a hidden
/// `.mlreef` key), a publish job and a run template.
///
/// Re-running it after the code changed updates the parameters, requirements and script hash
/// and keeps what a person set (name, description, kind, data types, visibility, version,
/// base environment) and every other key and job of the file. It prints what changed.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mlreef init
  mlreef init path/to/repo --entry-point src/train.py
  mlreef init --check          # exit 1 when mlreef.yml is not up to date (for CI)

Comments in an existing mlreef.yml are not kept: the file is rewritten from its values.")]
pub struct InitArgs {
    /// The repository [default: the current folder]
    #[arg(value_name = "REPO", default_value = ".")]
    repo: PathBuf,

    /// The entry point, relative to the repository [default: the one mlreef.yml names, else
    /// discovered]
    #[arg(long, value_name = "SCRIPT")]
    entry_point: Option<PathBuf>,

    /// The requirements file, relative to the repository
    #[arg(long, value_name = "FILE")]
    requirements: Option<PathBuf>,

    /// The image the publish job runs in [default: python:3.12-slim]: one with Python and pip
    /// (the job installs the mlreef command there) or one that has the command already
    #[arg(long, value_name = "IMAGE")]
    mlreef_image: Option<String>,

    /// Write nothing; exit 1 when mlreef.yml would change
    #[arg(long)]
    check: bool,

    /// Also report what influences no parameter (an environment variable read by a logging
    /// helper, an import that cannot be followed but is not used)
    #[arg(long, short)]
    verbose: bool,
}

pub fn run_init(args: &InitArgs) -> Exit {
    let mut options = InitOptions {
        discover: DiscoverOptions {
            entry_point: args.entry_point.clone(),
            requirements: args.requirements.clone(),
            verbose: args.verbose,
            env: None,
        },
        check: args.check,
        ..InitOptions::default()
    };
    if let Some(image) = &args.mlreef_image {
        options.pipeline.mlreef_image.clone_from(image);
    }
    let outcome = match pipeline::init(&args.repo, &options) {
        Ok(outcome) => outcome,
        Err(error) => {
            // A broken mlreef.yml already says `FILE:LINE:COL:`; the rest say what failed.
            let prefix = if matches!(error, pipeline::InitError::Existing(_)) {
                ""
            } else {
                "error: "
            };
            eprintln!("{prefix}{}", crate::error_chain(&error));
            return Exit::FAILURE;
        }
    };
    let fallback = outcome.module.entry_points.train.clone();
    for diagnostic in &outcome.diagnostics {
        eprintln!("{}", crate::format_diagnostic(&fallback, diagnostic));
    }
    if let Err(code) = crate::print(&init_report(&outcome)) {
        return code;
    }
    if outcome.status == InitStatus::OutOfDate {
        Exit::FAILURE
    } else {
        Exit::SUCCESS
    }
}

/// What `init` did, for people.
fn init_report(outcome: &InitOutcome) -> String {
    let path = outcome.path.display();
    let mut text = match outcome.status {
        InitStatus::Unchanged => return "mlreef.yml is up to date\n".to_owned(),
        InitStatus::OutOfDate => "mlreef.yml is not up to date; run `mlreef init`\n".to_owned(),
        InitStatus::Created => {
            return format!(
                "wrote {path} ({} parameters, {} requirement lines)\n",
                outcome.module.parameters.len(),
                outcome.module.requirements.len()
            );
        }
        _ if outcome.changes.is_empty() => return format!("updated {path} (layout only)\n"),
        _ => format!("updated {path}:\n"),
    };
    for change in &outcome.changes {
        let _ = writeln!(text, "  {change}");
    }
    text
}

/// Print the command line that runs the module with chosen parameter values
///
/// The arguments are the way the entry point's argparse parser expects them (flags for
/// booleans, repeated options for `append`, sub-commands, ...), after checking the values
/// against type, choices and required-ness.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mlreef run-args --set epochs=20 --set lr=0.01 --set augment=true
  mlreef run-args path/to/repo --set layers=64 --set layers=32 --set name='my run' --shell
  mlreef run-args --set command=train --set data=/in   # a sub-command and its argument
  mlreef run-args --set-json layers='[64, 32]'

A value is read by the parameter's type: a number for INTEGER and FLOAT, true/false for
BOOLEAN and flags, the text itself otherwise. A list parameter (nargs, append, extend) takes
one item per --set, in order, so `--set tags=a --set tags=b,c` is [\"a\", \"b,c\"]: commas
and brackets are part of the item. append and extend add the items to the script's default
list, as argparse does. A parameter with one value takes one --set. --set-json gives a whole
value as JSON, once. Without --shell the arguments are printed one per line.")]
pub struct RunArgs {
    /// The repository [default: the current folder]
    #[arg(value_name = "REPO", default_value = ".")]
    repo: PathBuf,

    /// A parameter value, NAME=VALUE; repeat it to add items to a list (repeatable)
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,

    /// A parameter's whole value as JSON, NAME=JSON (repeatable)
    #[arg(long = "set-json", value_name = "NAME=JSON")]
    set_json: Vec<String>,

    /// Print one shell-quoted line (for a YAML `script:`) instead of one argument per line
    #[arg(long)]
    shell: bool,

    /// The entry point, relative to the repository
    #[arg(long, value_name = "SCRIPT")]
    entry_point: Option<PathBuf>,
}

pub fn run_args(args: &RunArgs) -> Exit {
    let options = DiscoverOptions {
        entry_point: args.entry_point.clone(),
        ..DiscoverOptions::default()
    };
    let module = match discover(&args.repo, &options) {
        Ok(discovered) => discovered.module,
        Err(code) => return code,
    };
    let mut assignments = Vec::new();
    for (assignment, as_json) in args
        .set
        .iter()
        .map(|a| (a, false))
        .chain(args.set_json.iter().map(|a| (a, true)))
    {
        let Some((name, text)) = assignment.split_once('=') else {
            eprintln!("error: `{assignment}` is not NAME=VALUE");
            return Exit::from(2);
        };
        let name = name.to_owned();
        assignments.push(if as_json {
            match serde_json::from_str(text) {
                Ok(value) => Assignment::Json { name, value },
                Err(error) => {
                    eprintln!("error: the value of `{name}` is not JSON: {error}");
                    return Exit::from(2);
                }
            }
        } else {
            Assignment::Text {
                name,
                text: text.to_owned(),
            }
        });
    }
    let words = pipeline::values_from_text(&module.parameters, assignments)
        .and_then(|values| module.command_line(&values));
    match words {
        Ok(words) => {
            let text = if args.shell {
                format!("{}\n", pipeline::shell_line(&words))
            } else {
                let mut lines = words.join("\n");
                lines.push('\n');
                lines
            };
            match crate::print(&text) {
                Ok(()) => Exit::SUCCESS,
                Err(code) => code,
            }
        }
        Err(error) => {
            eprintln!("error: {error}");
            Exit::FAILURE
        }
    }
}
