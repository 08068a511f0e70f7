//! The environment an image installs into, as marker variables.

use serde::{Deserialize, Serialize};

use super::pep508::{Environment, EnvironmentValues, Marker};
use crate::platform::Platform;

/// A Python version and an OCI platform (`linux/amd64`), with `CPython` as the implementation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "TargetSpec", into = "TargetSpec")]
pub struct Target {
    python: String,
    platform: String,
    environment: Environment,
}

#[derive(Serialize, Deserialize)]
struct TargetSpec {
    python: String,
    platform: String,
}

impl TryFrom<TargetSpec> for Target {
    type Error = TargetError;
    fn try_from(spec: TargetSpec) -> Result<Self, TargetError> {
        Target::new(&spec.python, &spec.platform)
    }
}

impl From<Target> for TargetSpec {
    fn from(target: Target) -> Self {
        TargetSpec {
            python: target.python,
            platform: target.platform,
        }
    }
}

// The marker environment is derived from `python` and `platform`.
impl PartialEq for Target {
    fn eq(&self, other: &Self) -> bool {
        self.python == other.python && self.platform == other.platform
    }
}
impl Eq for Target {}

/// A target that cannot be described with marker values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    #[error("`{0}` is not a Python version like `3.11` or `3.11.7`")]
    Python(String),
    #[error("`{0}` is not a platform like `linux/amd64`, `linux/arm64` or `windows/amd64`")]
    Platform(String),
}

/// The default base image's Python and platform.
const DEFAULT_PYTHON: &str = "3.11";
const DEFAULT_PLATFORM: &str = "linux/amd64";

impl Default for Target {
    /// `CPython` 3.11 on `linux/amd64`, the default base image.
    fn default() -> Self {
        Target::new(DEFAULT_PYTHON, DEFAULT_PLATFORM)
            .unwrap_or_else(|_| unreachable!("valid constants"))
    }
}

impl Target {
    /// A target from the parts a caller gave: `None` when neither is given (markers are then
    /// not evaluated), else the given ones with the default's for the missing one.
    pub fn from_parts(
        python: Option<&str>,
        platform: Option<&str>,
    ) -> Result<Option<Target>, TargetError> {
        if python.is_none() && platform.is_none() {
            return Ok(None);
        }
        Target::new(
            python.unwrap_or(DEFAULT_PYTHON),
            platform.unwrap_or(DEFAULT_PLATFORM),
        )
        .map(Some)
    }

    /// `python` is `3.11` or `3.11.7`; `platform` is `OS/ARCH[/VARIANT]` as in OCI image
    /// indexes (`linux/amd64`, `linux/arm64`, `linux/arm/v7`, `darwin/arm64`, `windows/amd64`).
    pub fn new(python: &str, platform: &str) -> Result<Target, TargetError> {
        let parts: Vec<&str> = python.split('.').collect();
        if !(2..=3).contains(&parts.len())
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(TargetError::Python(python.to_owned()));
        }
        let short = format!("{}.{}", parts[0], parts[1]);
        let full = if parts.len() == 3 {
            python.to_owned()
        } else {
            format!("{short}.0")
        };

        let parsed: Platform = platform
            .parse()
            .map_err(|_| TargetError::Platform(platform.to_owned()))?;
        let (sys_platform, platform_system, os_name) = parsed.system();
        let machine = parsed.machine();
        let environment = Environment::new(&EnvironmentValues {
            python_version: &short,
            python_full_version: &full,
            implementation_name: "cpython",
            platform_python_implementation: "CPython",
            os_name,
            sys_platform,
            platform_system,
            platform_machine: machine,
        })
        .map_err(|_| TargetError::Python(python.to_owned()))?;
        Ok(Target {
            python: python.to_owned(),
            platform: platform.to_owned(),
            environment,
        })
    }

    #[must_use]
    pub fn python(&self) -> &str {
        &self.python
    }

    #[must_use]
    pub fn platform(&self) -> &str {
        &self.platform
    }

    pub(crate) fn evaluate(&self, marker: &Marker) -> bool {
        marker.evaluate(&self.environment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applies(marker: &str, python: &str, platform: &str) -> bool {
        Target::new(python, platform)
            .unwrap()
            .evaluate(&Marker::parse(marker).unwrap())
    }

    #[test]
    fn markers_for_targets() {
        assert!(applies(
            "python_version >= '3.9' and sys_platform == 'linux'",
            "3.11",
            "linux/amd64"
        ));
        assert!(!applies("python_version < '3.8'", "3.11", "linux/amd64"));
        assert!(applies(
            "platform_machine == 'aarch64'",
            "3.12",
            "linux/arm64"
        ));
        assert!(applies(
            "sys_platform == 'win32' and platform_machine == 'AMD64'",
            "3.11",
            "windows/amd64"
        ));
        assert!(!applies("extra == 'gpu'", "3.11", "linux/amd64"));
        assert!(applies(
            "python_full_version >= '3.11.4'",
            "3.11.7",
            "linux/amd64"
        ));
        assert!(Target::new("3", "linux/amd64").is_err());
        assert!(Target::new("3.11", "plan9/amd64").is_err());
    }
}
