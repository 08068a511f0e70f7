//! The installers: finding uv or pip, their command lines, and running them with a time limit
//! and bounded output.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::platform::Platform;

use super::{Error, Installer};

/// What an installer may print on standard output (a lock, pip's JSON report), at most.
const MAX_STDOUT: usize = 64 << 20;
/// The last part of standard error kept for messages.
const MAX_STDERR: usize = 256 << 10;
/// How long `--version` may take.
const VERSION_TIMEOUT: Duration = Duration::from_mins(2);
/// The newest glibc the wheels may need: uv's `x86_64-unknown-linux-gnu` and
/// `aarch64-unknown-linux-gnu` mean `manylinux_2_28`, and pip is given the same ceiling so that
/// both choose the same wheels (Debian 10 and later, Ubuntu 18.10 and later).
const MANYLINUX_MAX_MINOR: u32 = 28;

/// uv or pip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolKind {
    Uv,
    Pip,
}

/// An installer found on this machine.
#[derive(Debug, Clone)]
pub struct Tool {
    kind: ToolKind,
    program: PathBuf,
    /// Arguments before the installer's own (`-m uv`, `-m pip`).
    prefix: Vec<String>,
    /// `uv 0.13.9`, `pip 26.3`.
    version: String,
}

/// A finished (or stopped) child process.
pub(super) struct Finished {
    /// `None` when it was stopped at the time limit.
    pub status: Option<ExitStatus>,
    pub stdout: Vec<u8>,
    /// The last [`MAX_STDERR`] bytes of standard error.
    pub stderr: String,
}

impl Tool {
    /// The installer `installer` names, checked by running it with `--version`. `env` is what
    /// the installer will run with (it may hold `MLREEF_UV`).
    pub fn find(installer: &Installer, env: &BTreeMap<String, String>) -> Result<Tool, Error> {
        match installer {
            Installer::Uv(path) => Tool::probe(ToolKind::Uv, path, &[], env),
            Installer::Pip(path) => {
                let is_pip = path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("pip"));
                let prefix: &[&str] = if is_pip { &[] } else { &["-m", "pip"] };
                Tool::probe(ToolKind::Pip, path, prefix, env)
            }
            Installer::Auto => Tool::find_auto(env),
        }
    }

    fn find_auto(env: &BTreeMap<String, String>) -> Result<Tool, Error> {
        let variable = |name: &str| {
            env.get(name)
                .map(OsString::from)
                .or_else(|| std::env::var_os(name))
                .filter(|v| !v.is_empty())
        };
        if let Some(uv) = variable("MLREEF_UV") {
            return Tool::probe(ToolKind::Uv, Path::new(&uv), &[], env);
        }
        let mut tried = vec!["MLREEF_UV is not set".to_owned()];
        let path = variable("PATH").unwrap_or_default();
        if let Some(uv) = on_path(&path, "uv") {
            match Tool::probe(ToolKind::Uv, &uv, &[], env) {
                Ok(tool) => return Ok(tool),
                Err(e) => tried.push(format!("`{}`: {e}", uv.display())),
            }
        } else {
            tried.push("no `uv` on PATH".to_owned());
        }
        let python = variable("VIRTUAL_ENV")
            .map(|venv| PathBuf::from(venv).join("bin/python"))
            .filter(|p| p.is_file())
            .or_else(|| on_path(&path, "python3"));
        let Some(python) = python else {
            tried.push("no Python environment (VIRTUAL_ENV, or `python3` on PATH)".to_owned());
            return Err(Error::NoInstaller {
                tried: tried.join(", "),
            });
        };
        for (kind, module) in [(ToolKind::Uv, "uv"), (ToolKind::Pip, "pip")] {
            match Tool::probe(kind, &python, &["-m", module], env) {
                Ok(tool) => return Ok(tool),
                Err(_) => tried.push(format!("`{} -m {module}` failed", python.display())),
            }
        }
        Err(Error::NoInstaller {
            tried: tried.join(", "),
        })
    }

    fn probe(
        kind: ToolKind,
        program: &Path,
        prefix: &[&str],
        env: &BTreeMap<String, String>,
    ) -> Result<Tool, Error> {
        let mut tool = Tool {
            kind,
            program: program.to_owned(),
            prefix: prefix.iter().map(|&s| s.to_owned()).collect(),
            version: String::new(),
        };
        let mut command = tool.command(env);
        command.arg("--version");
        let finished = run(command, &tool.program, None, VERSION_TIMEOUT)?;
        let text = String::from_utf8_lossy(&finished.stdout);
        let name = match kind {
            ToolKind::Uv => "uv",
            ToolKind::Pip => "pip",
        };
        // `uv 0.13.9 (x86_64-unknown-linux-gnu)`, `pip 26.3 from /x/pip (python 3.11)`.
        let mut words = text.split_whitespace();
        let version = match (words.next(), words.next()) {
            (Some(first), Some(version))
                if first == name && finished.status.is_some_and(|s| s.success()) =>
            {
                version
            }
            _ => {
                return Err(Error::NotAnInstaller {
                    program: program.to_owned(),
                    expected: name,
                    output: super::InstallerOutput(format!("{}{}", text, finished.stderr)),
                });
            }
        };
        tool.version = format!("{name} {version}");
        Ok(tool)
    }

    #[must_use]
    pub fn kind(&self) -> ToolKind {
        self.kind
    }

    /// The installer's name and version, `uv 0.13.9`: part of the installed folder's key.
    #[must_use]
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The program run (uv, pip, or the Python that runs them as modules).
    #[must_use]
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// A command of this installer, in an environment that never waits for input and never
    /// writes bytecode.
    pub(super) fn command(&self, env: &BTreeMap<String, String>) -> Command {
        let mut command = Command::new(&self.program);
        command
            .args(&self.prefix)
            .envs(env)
            .env("NO_COLOR", "1")
            .env("PIP_NO_INPUT", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("PYTHONDONTWRITEBYTECODE", "1");
        command
    }

    /// The arguments that resolve requirements (read from standard input, or from `file` for
    /// pip) into pins with hashes for `python` on `platform`.
    pub(super) fn resolve_args(
        &self,
        python: &str,
        platform: &Platform,
        file: &Path,
    ) -> Result<Vec<OsString>, Error> {
        let mut args: Vec<OsString> = Vec::new();
        match self.kind {
            ToolKind::Uv => {
                let triple = self.uv_platform(platform)?;
                for arg in [
                    "pip",
                    "compile",
                    "-",
                    "--quiet",
                    "--no-progress",
                    "--color",
                    "never",
                    "--no-header",
                    "--generate-hashes",
                    "--only-binary",
                    ":all:",
                    "--python-version",
                    python,
                    "--python-platform",
                    &triple,
                ] {
                    args.push(arg.into());
                }
            }
            ToolKind::Pip => {
                for arg in [
                    "install",
                    "--dry-run",
                    "--ignore-installed",
                    "--quiet",
                    "--report",
                    "-",
                    "--no-input",
                    "--disable-pip-version-check",
                    "--progress-bar",
                    "off",
                    "--only-binary=:all:",
                    "--implementation",
                    "cp",
                    "--python-version",
                    python,
                ] {
                    args.push(arg.into());
                }
                for tag in self.pip_platforms(platform)? {
                    args.push("--platform".into());
                    args.push(tag.into());
                }
                args.push("-r".into());
                args.push(file.into());
            }
        }
        Ok(args)
    }

    /// The arguments that install the lock `file` into `dir`, exactly, with no dependencies of
    /// their own and every hash checked.
    pub(super) fn install_args(
        &self,
        python: &str,
        platform: &Platform,
        file: &Path,
        dir: &Path,
    ) -> Result<Vec<OsString>, Error> {
        let mut args: Vec<OsString> = Vec::new();
        match self.kind {
            ToolKind::Uv => {
                let triple = self.uv_platform(platform)?;
                for arg in [
                    "pip",
                    "install",
                    "--no-progress",
                    "--color",
                    "never",
                    "--no-deps",
                    "--require-hashes",
                    "--only-binary",
                    ":all:",
                    // Copies, not links into uv's cache: the folder is normalized in place.
                    "--link-mode",
                    "copy",
                    "--python-version",
                    python,
                    "--python-platform",
                    &triple,
                    "--target",
                ] {
                    args.push(arg.into());
                }
                args.push(dir.into());
            }
            ToolKind::Pip => {
                for arg in [
                    "install",
                    "--no-input",
                    "--disable-pip-version-check",
                    "--progress-bar",
                    "off",
                    "--no-color",
                    "--no-warn-script-location",
                    "--no-deps",
                    "--require-hashes",
                    "--only-binary=:all:",
                    "--no-compile",
                    "--implementation",
                    "cp",
                    "--python-version",
                    python,
                ] {
                    args.push(arg.into());
                }
                for tag in self.pip_platforms(platform)? {
                    args.push("--platform".into());
                    args.push(tag.into());
                }
                args.push("--target".into());
                args.push(dir.into());
            }
        }
        args.push("-r".into());
        args.push(file.into());
        Ok(args)
    }

    fn unsupported(&self, platform: &Platform) -> Error {
        Error::UnsupportedPlatform {
            platform: platform.to_string(),
            installer: self.version.clone(),
        }
    }

    /// uv's `--python-platform` for `platform`: the glibc Linux targets uv knows.
    fn uv_platform(&self, platform: &Platform) -> Result<String, Error> {
        match platform.machine() {
            "x86_64" | "aarch64" => platform.triple().ok_or_else(|| self.unsupported(platform)),
            _ => Err(self.unsupported(platform)),
        }
    }

    /// pip's `--platform` tags for `platform`, preferred first: every manylinux tag up to
    /// [`MANYLINUX_MAX_MINOR`], with the legacy aliases where they belong.
    fn pip_platforms(&self, platform: &Platform) -> Result<Vec<String>, Error> {
        if platform.os() != "linux" {
            return Err(self.unsupported(platform));
        }
        let machine = platform.machine();
        let mut tags = Vec::new();
        for minor in (5..=MANYLINUX_MAX_MINOR).rev() {
            tags.push(format!("manylinux_2_{minor}_{machine}"));
            let alias = match minor {
                17 => "manylinux2014",
                12 => "manylinux2010",
                5 => "manylinux1",
                _ => continue,
            };
            tags.push(format!("{alias}_{machine}"));
        }
        Ok(tags)
    }
}

/// The file `name` in the first folder of `path` that has it.
fn on_path(path: &std::ffi::OsStr, name: &str) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// `exit status 1`, `killed by signal 9`, or `stopped`.
pub(super) fn describe(status: Option<ExitStatus>) -> String {
    match status {
        None => "stopped".to_owned(),
        Some(status) => match status.code() {
            Some(code) => format!("exit status {code}"),
            None => status.to_string(),
        },
    }
}

/// Runs `command` with `stdin` as its input, for at most `timeout`; the child is killed at the
/// limit. Standard output is kept up to [`MAX_STDOUT`] (more is an error), standard error's
/// last [`MAX_STDERR`] bytes.
pub(super) fn run(
    mut command: Command,
    program: &Path,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
) -> Result<Finished, Error> {
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|source| Error::Launch {
        program: program.to_owned(),
        source,
    })?;
    let (out_tx, out_rx) = mpsc::channel();
    let (err_tx, err_rx) = mpsc::channel();
    if let Some(mut pipe) = child.stdout.take() {
        thread::spawn(move || {
            let mut kept = Vec::new();
            let overflow = (&mut pipe)
                .take(MAX_STDOUT as u64 + 1)
                .read_to_end(&mut kept)
                .is_ok()
                && kept.len() > MAX_STDOUT;
            // Drain the rest, so the child is not blocked on a full pipe.
            let _ = std::io::copy(&mut pipe, &mut std::io::sink());
            let _ = out_tx.send((kept, overflow));
        });
    }
    if let Some(mut pipe) = child.stderr.take() {
        thread::spawn(move || {
            let mut tail = Vec::new();
            let mut buf = [0u8; 16 << 10];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > 2 * MAX_STDERR {
                    tail.drain(..tail.len() - MAX_STDERR);
                }
            }
            let cut = tail.len() > MAX_STDERR;
            if cut {
                tail.drain(..tail.len() - MAX_STDERR);
            }
            let _ = err_tx.send((tail, cut));
        });
    }
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A writer of its own: a child that prints before reading all its input never blocks
        // us, and dropping the pipe at the end is its end of input.
        thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|source| Error::Launch {
            program: program.to_owned(),
            source,
        })? {
            break Some(status);
        }
        let now = Instant::now();
        if now >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(100));
    };
    // The pipes close when the child ends (unless it left a grandchild holding them): wait a
    // little for the readers, never without bound.
    let grace = Duration::from_secs(5);
    let (stdout, overflow) = out_rx.recv_timeout(grace).unwrap_or_default();
    let (stderr, cut) = err_rx.recv_timeout(grace).unwrap_or_default();
    if overflow {
        return Err(Error::TooLarge {
            what: format!("the output of `{}`", program.display()),
            limit: MAX_STDOUT as u64,
        });
    }
    let mut stderr = String::from_utf8_lossy(&stderr).into_owned();
    if cut {
        stderr.insert_str(0, "[...]\n");
    }
    Ok(Finished {
        status,
        stdout,
        stderr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_platform_tags_prefer_the_newest_glibc() {
        let tool = Tool {
            kind: ToolKind::Pip,
            program: "pip".into(),
            prefix: vec![],
            version: "pip 26.3".into(),
        };
        let tags = tool.pip_platforms(&"linux/arm64".parse().unwrap()).unwrap();
        assert_eq!(tags[0], "manylinux_2_28_aarch64");
        assert!(tags.contains(&"manylinux2014_aarch64".to_owned()));
        assert_eq!(tags.last().unwrap(), "manylinux1_aarch64");
        assert!(
            tool.pip_platforms(&"windows/amd64".parse().unwrap())
                .is_err()
        );
        let uv = Tool {
            kind: ToolKind::Uv,
            ..tool
        };
        assert!(uv.uv_platform(&"linux/arm/v7".parse().unwrap()).is_err());
        assert_eq!(
            uv.uv_platform(&"linux/amd64".parse().unwrap()).unwrap(),
            "x86_64-unknown-linux-gnu"
        );
    }

    #[test]
    fn a_slow_child_is_stopped_at_the_limit() {
        let mut command = Command::new("sleep");
        command.arg("30");
        let started = Instant::now();
        let finished = run(
            command,
            Path::new("sleep"),
            None,
            Duration::from_millis(200),
        )
        .unwrap();
        assert!(finished.status.is_none());
        assert!(started.elapsed() < Duration::from_secs(10));
        let mut command = Command::new("cat");
        command.arg("-");
        let finished = run(
            command,
            Path::new("cat"),
            Some(b"hello".to_vec()),
            Duration::from_secs(30),
        )
        .unwrap();
        assert_eq!(finished.stdout, b"hello");
        assert!(finished.status.unwrap().success());
    }
}
