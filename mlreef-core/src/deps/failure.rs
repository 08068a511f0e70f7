//! What an installer's failure means: a requirement without a wheel for the target (named from
//! the installer's own words), a time limit reached, or another failure, each carrying what the
//! installer printed, credentials masked.

use std::time::Duration;

use super::tool::{Finished, describe};
use super::{Error, InstallerOutput, redact};

/// What was being done, for messages: `resolve`, `install`.
pub(super) struct Step<'a> {
    pub action: &'static str,
    pub installer: &'a str,
    pub python: &'a str,
    pub platform: &'a str,
    pub timeout: Duration,
    /// Values to mask in what the installer printed.
    pub secrets: &'a [String],
}

/// `Ok` when the installer succeeded, else the error its output explains.
pub(super) fn check(finished: &Finished, step: &Step<'_>) -> Result<(), Error> {
    if finished.status.is_some_and(|s| s.success()) {
        return Ok(());
    }
    let secrets: Vec<&str> = step.secrets.iter().map(String::as_str).collect();
    let output = InstallerOutput(redact::mask(&finished.stderr, &secrets));
    if finished.status.is_none() {
        return Err(Error::Timeout {
            installer: step.installer.to_owned(),
            action: step.action,
            after: step.timeout,
            output,
        });
    }
    if let Some(requirement) = no_wheel(&output.0) {
        return Err(Error::NoWheel {
            requirement,
            platform: step.platform.to_owned(),
            python: step.python.to_owned(),
            output,
        });
    }
    Err(Error::Failed {
        installer: step.installer.to_owned(),
        action: step.action,
        status: describe(finished.status),
        output,
    })
}

/// The requirement an installer says has no usable wheel, in its own words:
///
/// - uv: `Because docopt==0.6.2 has no usable wheels and ...`, `all versions of docopt have no
///   usable wheels`, `... has no wheels with a matching platform tag`, and its hint
///   ``Wheels are required for `docopt` ``;
/// - pip: `No matching distribution found for docopt==0.6.2` (with `--only-binary :all:`, a
///   release without a wheel for the target is not a distribution it can use).
fn no_wheel(output: &str) -> Option<String> {
    for line in output.lines() {
        for phrase in [
            " has no usable wheels",
            " have no usable wheels",
            " has no wheels with a matching",
            " have no wheels with a matching",
        ] {
            let Some(at) = line.find(phrase) else {
                continue;
            };
            // uv writes requirements without spaces (`torch<=2.4.1`, `foo>=1,<2`): the word
            // before the phrase, whatever leads up to it (`Because`, `and`, `error:`, `all
            // versions of`, a box-drawing arrow).
            if let Some(name) = line[..at].split_whitespace().last() {
                let name = name.trim_matches('`');
                if !name.is_empty() {
                    return Some(name.to_owned());
                }
            }
        }
    }
    for line in output.lines() {
        if let Some((name, _)) = line
            .split_once("Wheels are required for `")
            .or_else(|| line.split_once("Wheels are available for `"))
            .and_then(|(_, rest)| rest.split_once('`'))
        {
            return Some(name.to_owned());
        }
        if let Some((_, rest)) = line.split_once("No matching distribution found for ") {
            let name = rest.trim();
            if !name.is_empty() {
                return Some(name.to_owned());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_without_wheels_are_named() {
        let uv = "error: No solution found when resolving dependencies\n  cause: Because docopt==0.6.2 has no usable wheels and you require docopt==0.6.2, we can conclude that your requirements are unsatisfiable.\n\nhint: Wheels are required for `docopt` because building from source is disabled";
        assert_eq!(no_wheel(uv).as_deref(), Some("docopt==0.6.2"));
        let all = "  cause: Because all versions of docopt have no usable wheels and you require docopt, we can conclude";
        assert_eq!(no_wheel(all).as_deref(), Some("docopt"));
        let platform = "  cause: Because foo==1.0 has no wheels with a matching platform tag (e.g., `manylinux_2_28_aarch64`) and you require foo==1.0";
        assert_eq!(no_wheel(platform).as_deref(), Some("foo==1.0"));
        let plain =
            "error: mlx>=0.29.0 has no wheels with a matching platform tag (macosx_26_0_x86_64)";
        assert_eq!(no_wheel(plain).as_deref(), Some("mlx>=0.29.0"));
        let abi = "  ╰─▶ triton<=3.4.0 has no wheels with a matching Python ABI tag (cp314)";
        assert_eq!(no_wheel(abi).as_deref(), Some("triton<=3.4.0"));
        let only = "Because only vllm==0.18.2 is available and vllm==0.18.2 has no wheels with a matching platform tag";
        assert_eq!(no_wheel(only).as_deref(), Some("vllm==0.18.2"));
        let hint = "error: something\nhint: Wheels are required for `bar` because building";
        assert_eq!(no_wheel(hint).as_deref(), Some("bar"));
        let pip = "ERROR: Could not find a version that satisfies the requirement docopt==0.6.2 (from versions: none)\nERROR: No matching distribution found for docopt==0.6.2";
        assert_eq!(no_wheel(pip).as_deref(), Some("docopt==0.6.2"));
        assert_eq!(no_wheel("error: connection refused"), None);
    }
}
