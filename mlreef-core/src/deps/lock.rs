//! Locks: every distribution to install, pinned with its hashes, for one target.
//!
//! A lock is requirements text that pip and uv both read: the index options of the requirements
//! first (`--index-url`, `--extra-index-url`, `--find-links`, `--no-index`, `--trusted-host`,
//! with `${VAR}` references as written, never their values), then one pin per distribution
//! with `--hash=sha256:...` lines. uv writes the pins (`uv pip compile --generate-hashes`, no
//! header, so no time and no path); with pip only, they come from the JSON report of a dry run.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::oci::BlobStore;
use crate::platform::Platform;
use crate::requirements::{self, Target};

use super::failure::{self, Step};
use super::tool::{self, Tool, ToolKind};
use super::{Error, Options, digest_of, hex_of, io_error, redact};

/// Where a lock came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LockOrigin {
    /// Given back by the caller ([`Options::lock`]).
    Given,
    /// Kept in the store from an earlier resolution of the same text for the same target.
    Kept,
    /// Resolved now (or empty: nothing to resolve).
    Resolved,
}

/// Pins with hashes for one target, as requirements text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    pub text: String,
    pub origin: LockOrigin,
}

impl Lock {
    /// A lock from its text, as given back by a caller.
    #[must_use]
    pub fn given(text: impl Into<String>) -> Lock {
        Lock {
            text: text.into(),
            origin: LockOrigin::Given,
        }
    }

    /// The requirement lines (`numpy==2.4.6`), without hashes, comments or options.
    pub fn pins(&self) -> impl Iterator<Item = &str> {
        self.text.lines().filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
                return None;
            }
            let pin = line.split(" --hash").next().unwrap_or(line);
            Some(pin.trim_end_matches('\\').trim())
        })
    }

    /// Nothing to install.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pins().next().is_none()
    }

    /// `sha256:<hex>` of the text: what `mlreef build --json` reports as `lock`.
    #[must_use]
    pub fn digest(&self) -> String {
        crate::oci::digest_bytes(self.text.as_bytes()).to_string()
    }
}

/// The lock for `requirements` (requirements text, such as
/// [`RequirementsFile::render_for`](crate::RequirementsFile::render_for) gives) on `target`.
///
/// [`Options::lock`] when given; else the lock `store` keeps for the same text and target
/// (unless [`Options::refresh`]); else a new resolution, which `store` then keeps. Empty
/// requirements give an empty lock without running anything.
pub fn resolve(
    requirements: &str,
    target: &Target,
    options: &Options,
    store: &BlobStore,
) -> Result<Lock, Error> {
    if let Some(text) = &options.lock {
        return Ok(Lock::given(text.clone()));
    }
    // An empty map leaves `${VAR}` as written: the lock names variables, never their values.
    let parsed = requirements::parse(
        requirements,
        &requirements::Options {
            env: Some(HashMap::new()),
            ..requirements::Options::default()
        },
    );
    if !parsed.requirements.iter().any(|r| !r.constraint) {
        return Ok(Lock {
            text: String::new(),
            origin: LockOrigin::Resolved,
        });
    }
    let key = digest_of(&[
        "mlreef-deps-lock-v1",
        target.python(),
        target.platform(),
        requirements,
    ]);
    let record = format!("deps-lock-{}", hex_of(&key));
    let kept = (!options.refresh)
        .then(|| store.record(&record))
        .flatten()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    if let Some(text) = kept {
        return Ok(Lock {
            text,
            origin: LockOrigin::Kept,
        });
    }
    let platform: Platform = target
        .platform()
        .parse()
        .map_err(|_| requirements::TargetError::Platform(target.platform().to_owned()))?;
    let tool = Tool::find(&options.installer, &options.env)?;
    let secrets = redact::secrets(&[requirements], &options.env);
    let work = match &options.work_dir {
        Some(dir) => tempfile::Builder::new()
            .prefix("mlreef-resolve-")
            .tempdir_in(dir)
            .map_err(io_error(dir))?,
        None => tempfile::Builder::new()
            .prefix("mlreef-resolve-")
            .tempdir()
            .map_err(io_error(std::env::temp_dir()))?,
    };
    let input = work.path().join("requirements.txt");
    fs_err::write(&input, requirements).map_err(io_error(&input))?;
    let mut command = tool.command(&options.env);
    command
        .args(tool.resolve_args(target.python(), &platform, &input)?)
        // Not the caller's folder: a `pyproject.toml` or `uv.toml` there is not ours to read.
        .current_dir(work.path());
    let stdin = (tool.kind() == ToolKind::Uv).then(|| requirements.as_bytes().to_vec());
    let finished = tool::run(command, tool.program(), stdin, options.timeout)?;
    failure::check(
        &finished,
        &Step {
            action: "resolve",
            installer: tool.version(),
            python: target.python(),
            platform: target.platform(),
            timeout: options.timeout,
            secrets: &secrets,
        },
    )?;
    let pins = match tool.kind() {
        ToolKind::Uv => String::from_utf8_lossy(&finished.stdout).into_owned(),
        ToolKind::Pip => pins_from_report(&finished.stdout)?,
    };
    let mut text = index_options(&parsed.options);
    text.push_str(&unexpand(&pins, requirements, &options.env));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    store.set_record(&record, text.as_bytes())?;
    Ok(Lock {
        text,
        origin: LockOrigin::Resolved,
    })
}

/// The options of the requirements that say where distributions come from.
fn index_options(options: &requirements::IndexOptions) -> String {
    let mut out = String::new();
    if options.no_index {
        out.push_str("--no-index\n");
    }
    if let Some(url) = &options.index_url {
        let _ = writeln!(out, "--index-url {url}");
    }
    for (flag, values) in [
        ("--extra-index-url", &options.extra_index_urls),
        ("--find-links", &options.find_links),
        ("--trusted-host", &options.trusted_hosts),
    ] {
        for value in values {
            let _ = writeln!(out, "{flag} {value}");
        }
    }
    out
}

/// `pins` with the values of the requirements' `${VAR}` references put back as references, in
/// case the resolver wrote a URL it expanded.
fn unexpand(
    pins: &str,
    requirements: &str,
    env: &std::collections::BTreeMap<String, String>,
) -> String {
    let mut out = pins.to_owned();
    for name in redact::references(requirements) {
        let value = env
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
            .unwrap_or_default();
        if value.len() >= 4 {
            out = out.replace(&value, &format!("${{{name}}}"));
        }
    }
    out
}

/// The part of pip's installation report (`pip install --dry-run --report -`) a lock needs.
#[derive(Deserialize)]
struct Report {
    install: Vec<ReportItem>,
}

#[derive(Deserialize)]
struct ReportItem {
    metadata: ReportMetadata,
    download_info: DownloadInfo,
    #[serde(default)]
    is_direct: bool,
}

#[derive(Deserialize)]
struct ReportMetadata {
    name: String,
    version: String,
}

#[derive(Deserialize)]
struct DownloadInfo {
    url: String,
    archive_info: Option<ArchiveInfo>,
}

#[derive(Deserialize)]
struct ArchiveInfo {
    #[serde(default)]
    hashes: HashMap<String, String>,
    hash: Option<String>,
}

/// Pins with hashes from pip's report, sorted by name.
fn pins_from_report(report: &[u8]) -> Result<String, Error> {
    let report: Report = serde_json::from_slice(report).map_err(|e| Error::Failed {
        installer: "pip".into(),
        action: "resolve",
        status: "its report is not JSON".into(),
        output: super::InstallerOutput(e.to_string()),
    })?;
    let mut pins: Vec<(String, String)> = Vec::new();
    for item in report.install {
        let sha256 = item.download_info.archive_info.as_ref().and_then(|a| {
            a.hashes.get("sha256").cloned().or_else(|| {
                a.hash
                    .as_deref()
                    .and_then(|h| h.strip_prefix("sha256="))
                    .map(str::to_owned)
            })
        });
        let Some(sha256) = sha256 else {
            return Err(Error::Failed {
                installer: "pip".into(),
                action: "resolve",
                status: "no sha256 in its report".into(),
                output: super::InstallerOutput(format!(
                    "`{}` comes from `{}`, which pip gives no hash for",
                    item.metadata.name,
                    redact::mask(&item.download_info.url, &[])
                )),
            });
        };
        let name = &item.metadata.name;
        let pin = if item.is_direct {
            format!("{name} @ {}", item.download_info.url)
        } else {
            format!("{name}=={}", item.metadata.version)
        };
        let key = name.to_ascii_lowercase().replace(['_', '.'], "-");
        pins.push((key, format!("{pin} \\\n    --hash=sha256:{sha256}\n")));
    }
    pins.sort();
    Ok(pins.into_iter().map(|(_, text)| text).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_and_emptiness() {
        let lock = Lock::given(
            "--index-url https://${HOST}/simple\nnumpy==2.4.6 \\\n    --hash=sha256:00\n    # via x\nsix==1.17.0 --hash=sha256:11\n",
        );
        assert_eq!(
            lock.pins().collect::<Vec<_>>(),
            ["numpy==2.4.6", "six==1.17.0"]
        );
        assert!(!lock.is_empty());
        assert!(Lock::given("# nothing\n--no-index\n").is_empty());
        assert!(lock.digest().starts_with("sha256:"));
    }

    #[test]
    fn pins_from_a_pip_report() {
        let report = br#"{"version": "1", "install": [
            {"metadata": {"name": "six", "version": "1.17.0"}, "is_direct": false,
             "download_info": {"url": "https://h/six.whl", "archive_info": {"hashes": {"sha256": "aa"}}}},
            {"metadata": {"name": "Idna", "version": "3.20"},
             "download_info": {"url": "https://h/idna.whl", "archive_info": {"hash": "sha256=bb"}}}
        ]}"#;
        assert_eq!(
            pins_from_report(report).unwrap(),
            "Idna==3.20 \\\n    --hash=sha256:bb\nsix==1.17.0 \\\n    --hash=sha256:aa\n"
        );
    }

    #[test]
    fn values_go_back_to_references() {
        let env =
            std::collections::BTreeMap::from([("TOKEN".to_owned(), "s3cr3t-t0k3n".to_owned())]);
        assert_eq!(
            unexpand(
                "pkg @ https://s3cr3t-t0k3n@h/pkg.whl",
                "pkg @ https://${TOKEN}@h/pkg.whl",
                &env
            ),
            "pkg @ https://${TOKEN}@h/pkg.whl"
        );
    }
}
