//! `mlreef requirements`: a requirements file read exactly as pip reads it.

use crate::Exit;
use std::io::Write as _;
use std::path::PathBuf;

use mlreef_core::Severity;
use mlreef_core::requirements::{self, Options, Requirement, RequirementsFile, Target};

use crate::table;

/// Read a requirements file (or conda environment.yml) exactly as pip reads it
///
/// A conda environment file (`.yml`) gives its conda packages and its `pip:` list.
///
/// Lines are read in pip's order (encoding, `\` continuations, comments, `${VAR}` from the
/// environment, options, then each requirement). `-r`/`-c` includes are followed inside the
/// repository; URL includes are reported, never fetched. With --python or --platform, each
/// requirement's marker is evaluated for that target.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mlreef requirements requirements.txt
  mlreef requirements requirements.txt --python 3.11 --platform linux/arm64
  mlreef requirements requirements.txt --render > locked-input.txt
  mlreef requirements --json requirements.txt

An invalid line is printed as `FILE:LINE: message` on stderr (warnings as
`FILE:LINE: warning[code]: message`). Exit status: 0 when pip would accept the file (even with
warnings), 1 when it would refuse it or it cannot be read, 2 on a usage error.")]
pub struct Args {
    /// The requirements file
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// Print the requirements, options and diagnostics as JSON on stdout
    #[arg(long, conflicts_with = "render")]
    json: bool,

    /// Print one normalized requirements text (sorted, includes flattened, hashes kept)
    #[arg(long)]
    render: bool,

    /// Evaluate markers for this Python version [default with --platform: 3.11]
    #[arg(long, value_name = "VERSION")]
    python: Option<String>,

    /// Evaluate markers for this platform, OS/ARCH [default with --python: linux/amd64]
    #[arg(long, value_name = "OS/ARCH")]
    platform: Option<String>,

    /// The repository includes must stay inside [default: the file's git root, else its folder]
    #[arg(long, value_name = "DIR")]
    repo: Option<PathBuf>,

    /// Follow -r/-c includes that lead outside the repository
    #[arg(long)]
    allow_outside_repo: bool,
}

/// Runs `mlreef requirements` and returns the process exit status.
pub fn run(args: &Args) -> Exit {
    let target = match Target::from_parts(args.python.as_deref(), args.platform.as_deref()) {
        Ok(target) => target,
        Err(error) => {
            eprintln!("error: {error}");
            return Exit::from(2);
        }
    };
    // The repository and the `${VAR}` values default in the library, as in every binding.
    let options = Options {
        env: None,
        repo: args.repo.clone(),
        path: None,
        allow_outside_repo: args.allow_outside_repo,
    };
    let mut file = match requirements::parse_file(&args.file, &options) {
        Ok(file) => file,
        Err(error) => {
            let prefix = if matches!(error, requirements::Error::Io { .. }) {
                "error: "
            } else {
                ""
            };
            eprintln!("{prefix}{}", crate::error_chain(&error));
            return Exit::FAILURE;
        }
    };
    if let Some(target) = &target {
        file = file.for_target(target);
    }
    let output = if args.json {
        format!("{}\n", file.to_json())
    } else if args.render {
        match &target {
            Some(target) => file.render_for(target),
            None => file.render(),
        }
    } else {
        table(&file)
    };
    if let Err(code) = crate::print(&output) {
        return code;
    }
    let fallback = args.file.display().to_string();
    for diagnostic in &file.diagnostics {
        let file_name = diagnostic.file.as_deref().unwrap_or(&fallback);
        if diagnostic.severity == Severity::Error {
            eprintln!("{file_name}:{}: {}", diagnostic.line, diagnostic.message);
        } else if !args.json {
            let formatted = crate::format_diagnostic(&fallback, diagnostic);
            eprintln!("{formatted}");
        }
    }
    if file.first_error().is_some() {
        Exit::FAILURE
    } else {
        Exit::SUCCESS
    }
}

fn table(file: &RequirementsFile) -> String {
    let targeted = file.target.is_some();
    let mut header = vec!["NAME", "SPECIFIER", "EXTRAS", "MARKER"];
    if targeted {
        header.push("APPLIES");
    }
    header.extend(["FROM", "NOTES"]);
    let mut rows = vec![header.into_iter().map(str::to_owned).collect::<Vec<_>>()];
    for r in &file.requirements {
        let mut row = vec![
            r.name.clone().or_else(|| r.url.clone()).unwrap_or_default(),
            r.specifier.clone(),
            r.extras.join(","),
            table::truncate(r.marker.as_deref().unwrap_or(""), 40),
        ];
        if targeted {
            row.push(
                if r.applies == Some(false) {
                    "no"
                } else {
                    "yes"
                }
                .to_owned(),
            );
        }
        row.push(format!("{}:{}", r.source, r.line));
        row.push(notes(r));
        rows.push(row);
    }
    let mut out = Vec::new();
    if let Some(conda) = &file.conda {
        let _ = writeln!(
            out,
            "conda environment {} (channels: {})",
            conda.name.as_deref().unwrap_or("(unnamed)"),
            if conda.channels.is_empty() {
                "default".to_owned()
            } else {
                conda.channels.join(", ")
            }
        );
        let mut conda_rows = vec![
            ["CONDA PACKAGE", "VERSION", "BUILD", "CHANNEL", "LINE"]
                .map(str::to_owned)
                .to_vec(),
        ];
        for d in &conda.dependencies {
            conda_rows.push(vec![
                d.name.clone(),
                d.version.clone().unwrap_or_default(),
                d.build.clone().unwrap_or_default(),
                d.channel.clone().unwrap_or_default(),
                d.line.to_string(),
            ]);
        }
        // Writing into a Vec cannot fail.
        let _ = table::write_rows(&mut out, &conda_rows);
        out.push(b'\n');
    }
    if file.requirements.is_empty() {
        out.extend_from_slice(b"no pip requirements\n");
    } else {
        let _ = table::write_rows(&mut out, &rows);
    }
    let o = &file.options;
    let mut settings = Vec::new();
    if let Some(url) = &o.index_url {
        settings.push(format!("index: {url}"));
    }
    settings.extend(
        o.extra_index_urls
            .iter()
            .map(|u| format!("extra index: {u}")),
    );
    settings.extend(o.find_links.iter().map(|u| format!("find links: {u}")));
    for (name, on) in [
        ("no index", o.no_index),
        ("pre-releases", o.pre),
        ("hashes required", o.require_hashes),
    ] {
        if on {
            settings.push(name.to_owned());
        }
    }
    let mut text = String::from_utf8_lossy(&out).into_owned();
    for setting in settings {
        text.push_str(&setting);
        text.push('\n');
    }
    text
}

fn notes(r: &Requirement) -> String {
    let mut notes = Vec::new();
    if r.constraint {
        notes.push("constraint");
    }
    if r.editable {
        notes.push("editable");
    }
    if r.is_local() {
        notes.push("local");
    }
    if !r.pinned && !r.constraint {
        notes.push("unpinned");
    }
    if r.needs_build() {
        notes.push("builds from source");
    }
    if !r.hashes.is_empty() {
        notes.push("hashed");
    }
    notes.join(", ")
}
