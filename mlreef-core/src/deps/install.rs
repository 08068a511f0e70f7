//! Installing a lock into a fresh folder, and the key of the result.

use tempfile::TempDir;

use crate::platform::Platform;
use crate::requirements::{Target, TargetError};

use super::failure::{self, Step};
use super::tool::{self, Tool};
use super::{Error, Lock, Options, digest_of, hex_of, io_error, normalize, redact};

/// A lock installed for a target.
#[derive(Debug)]
pub struct Installed {
    /// The installed folder (removed when dropped): what goes to `/opt/mlreef/site-packages`.
    pub dir: TempDir,
    /// The lock installed: what goes to `/opt/mlreef/requirements.lock`.
    pub lock: String,
    /// [`install_key`]'s key.
    pub key: String,
    /// The installer and its version (`uv 0.13.9`).
    pub installer: String,
}

/// The key of what [`install`] would make of `lock` for `target`: 64 hex digits of the sha256
/// of the lock, the Python version, the platform, the installer's name and version, and the
/// scripts' interpreter. The same key means the same folder, byte for byte, so the build flow
/// keeps (key -> layer) and installs nothing when it has the layer. `None` for an empty lock.
///
/// It runs the installer once (`--version`), which is fast and needs no network.
pub fn install_key(
    lock: &Lock,
    target: &Target,
    options: &Options,
) -> Result<Option<String>, Error> {
    if lock.is_empty() {
        return Ok(None);
    }
    check_interpreter(&options.interpreter)?;
    let tool = Tool::find(&options.installer, &options.env)?;
    Ok(Some(key(lock, target, &tool, options)))
}

fn key(lock: &Lock, target: &Target, tool: &Tool, options: &Options) -> String {
    hex_of(&digest_of(&[
        "mlreef-deps-layer-v1",
        &lock.text,
        target.python(),
        target.platform(),
        tool.version(),
        &options.interpreter,
    ]))
    .to_owned()
}

fn check_interpreter(interpreter: &str) -> Result<(), Error> {
    // Linux reads at most 127 bytes of a `#!` line (256 since 5.1; older kernels matter).
    if interpreter.trim().is_empty()
        || interpreter.contains(['\n', '\r', '\0'])
        || interpreter.len() > 120
    {
        return Err(Error::Interpreter(interpreter.to_owned()));
    }
    Ok(())
}

/// Installs `lock` for `target` into a fresh folder, normalized so that the same lock gives
/// the same bytes anywhere (see the module's documentation). `None` for an empty lock.
pub fn install(
    lock: &Lock,
    target: &Target,
    options: &Options,
) -> Result<Option<Installed>, Error> {
    if lock.is_empty() {
        return Ok(None);
    }
    check_interpreter(&options.interpreter)?;
    let platform: Platform = target
        .platform()
        .parse()
        .map_err(|_| TargetError::Platform(target.platform().to_owned()))?;
    let tool = Tool::find(&options.installer, &options.env)?;
    let fresh = |prefix: &str| -> Result<TempDir, Error> {
        let mut builder = tempfile::Builder::new();
        builder.prefix(prefix);
        match &options.work_dir {
            Some(dir) => builder.tempdir_in(dir).map_err(io_error(dir)),
            None => builder.tempdir().map_err(io_error(std::env::temp_dir())),
        }
    };
    // The lock file and the installer's working folder, apart from what becomes the layer.
    let scratch = fresh("mlreef-install-")?;
    let dir = fresh("mlreef-deps-")?;
    let lock_file = scratch.path().join("requirements.lock");
    fs_err::write(&lock_file, &lock.text).map_err(io_error(&lock_file))?;

    let mut command = tool.command(&options.env);
    command
        .args(tool.install_args(target.python(), &platform, &lock_file, dir.path())?)
        .current_dir(scratch.path());
    let finished = tool::run(command, tool.program(), None, options.timeout)?;
    let secrets = redact::secrets(&[&lock.text], &options.env);
    failure::check(
        &finished,
        &Step {
            action: "install",
            installer: tool.version(),
            python: target.python(),
            platform: target.platform(),
            timeout: options.timeout,
            secrets: &secrets,
        },
    )?;
    normalize::tree(dir.path(), &options.interpreter)?;
    Ok(Some(Installed {
        key: key(lock, target, &tool, options),
        lock: lock.text.clone(),
        installer: tool.version().to_owned(),
        dir,
    }))
}
