//! Platforms as OCI image indexes name them (`linux/amd64`, `linux/arm64`, `linux/arm/v7`),
//! with what each means to Python packaging: the machine name markers compare
//! (`platform_machine`) and the wheel tags an installer targets.

use std::fmt;
use std::str::FromStr;

/// `OS/ARCH[/VARIANT]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    os: String,
    arch: String,
    variant: Option<String>,
}

/// A platform that is not one we know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a platform like `linux/amd64`, `linux/arm64` or `windows/amd64`")]
pub struct PlatformError(pub String);

impl Platform {
    /// `linux/amd64`, the default.
    #[must_use]
    pub fn linux_amd64() -> Platform {
        Platform {
            os: "linux".into(),
            arch: "amd64".into(),
            variant: None,
        }
    }

    #[must_use]
    pub fn os(&self) -> &str {
        &self.os
    }

    #[must_use]
    pub fn arch(&self) -> &str {
        &self.arch
    }

    #[must_use]
    pub fn variant(&self) -> Option<&str> {
        self.variant.as_deref()
    }

    /// Python's `platform.machine()` on this platform (`x86_64`, `aarch64`, `AMD64`).
    #[must_use]
    pub fn machine(&self) -> &'static str {
        match (
            self.os.as_str(),
            self.arch.as_str(),
            self.variant.as_deref(),
        ) {
            ("windows", "amd64", _) => "AMD64",
            ("windows", "arm64", _) => "ARM64",
            ("windows", "386", _) => "x86",
            ("darwin", "arm64", _) => "arm64",
            ("freebsd", "amd64", _) => "amd64",
            (_, "amd64", _) => "x86_64",
            (_, "arm64", _) => "aarch64",
            (_, "386", _) => "i686",
            (_, "arm", Some("v6")) => "armv6l",
            (_, "arm", _) => "armv7l",
            (_, "ppc64le", _) => "ppc64le",
            (_, "s390x", _) => "s390x",
            // `FromStr` admits no other architecture.
            _ => "riscv64",
        }
    }

    /// `sys.platform`, `platform.system()` and `os.name` on this platform.
    #[must_use]
    pub fn system(&self) -> (&'static str, &'static str, &'static str) {
        match self.os.as_str() {
            "darwin" => ("darwin", "Darwin", "posix"),
            "windows" => ("win32", "Windows", "nt"),
            "freebsd" => ("freebsd", "FreeBSD", "posix"),
            _ => ("linux", "Linux", "posix"),
        }
    }

    /// The target triple installers take for this platform (`uv pip install
    /// --python-platform`), for Linux with glibc.
    #[must_use]
    pub fn triple(&self) -> Option<String> {
        (self.os == "linux").then(|| format!("{}-unknown-linux-gnu", self.machine()))
    }

    /// The ELF machine number of binaries for this platform (`e_machine`), for Linux.
    #[must_use]
    pub fn elf_machine(&self) -> Option<u16> {
        match self.machine() {
            "x86_64" => Some(62),
            "aarch64" => Some(183),
            "i686" => Some(3),
            "armv6l" | "armv7l" => Some(40),
            "ppc64le" => Some(21),
            "s390x" => Some(22),
            "riscv64" => Some(243),
            _ => None,
        }
    }
}

impl FromStr for Platform {
    type Err = PlatformError;

    fn from_str(text: &str) -> Result<Platform, PlatformError> {
        let bad = || PlatformError(text.to_owned());
        let mut pieces = text.split('/');
        let os = pieces.next().filter(|s| !s.is_empty()).ok_or_else(bad)?;
        let arch = pieces.next().ok_or_else(bad)?;
        let variant = pieces.next().map(str::to_owned);
        if pieces.next().is_some() || variant.as_deref() == Some("") {
            return Err(bad());
        }
        if !matches!(os, "linux" | "darwin" | "windows" | "freebsd")
            || !matches!(
                arch,
                "amd64" | "arm64" | "386" | "arm" | "ppc64le" | "s390x" | "riscv64"
            )
        {
            return Err(bad());
        }
        Ok(Platform {
            os: os.to_owned(),
            arch: arch.to_owned(),
            variant,
        })
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

impl serde::Serialize for Platform {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Platform {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Platform, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_and_print() {
        for (text, machine) in [
            ("linux/amd64", "x86_64"),
            ("linux/arm64", "aarch64"),
            ("linux/arm64/v8", "aarch64"),
            ("linux/arm/v7", "armv7l"),
            ("windows/amd64", "AMD64"),
            ("darwin/arm64", "arm64"),
        ] {
            let platform: Platform = text.parse().unwrap();
            assert_eq!(platform.to_string(), text);
            assert_eq!(platform.machine(), machine);
        }
        for bad in [
            "",
            "linux",
            "linux/",
            "plan9/amd64",
            "linux/mips",
            "linux/arm/v7/x",
        ] {
            assert!(bad.parse::<Platform>().is_err(), "{bad}");
        }
        let arm: Platform = "linux/arm64".parse().unwrap();
        assert_eq!(arm.triple().as_deref(), Some("aarch64-unknown-linux-gnu"));
        assert_eq!(arm.elf_machine(), Some(183));
    }
}
