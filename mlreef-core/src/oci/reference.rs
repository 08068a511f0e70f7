//! Image references, with the transports of the containers tools (skopeo, podman, buildah):
//! `docker://HOST/REPO[:TAG][@DIGEST]` (a registry; `HOST/REPO:TAG` alone means the same),
//! `oci:DIR[:TAG]` (an OCI image layout), `docker-archive:FILE[:REPO:TAG]` (what `docker load`
//! reads), and for bases `rootfs:DIR` (a root file system made into one layer) and `scratch`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use super::Error;

/// Docker Hub, where names without a registry live.
pub const DOCKER_HUB: &str = "docker.io";

/// Where an image is, or goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    Registry(RegistryRef),
    /// An OCI image layout folder, and the tag (`org.opencontainers.image.ref.name`) in it.
    Layout {
        dir: PathBuf,
        tag: Option<String>,
    },
    /// A docker-archive file, and the name it gives the image (`repo:tag`).
    Archive {
        file: PathBuf,
        name: Option<String>,
    },
    /// A root file system folder, made into one layer.
    Rootfs {
        dir: PathBuf,
    },
    /// No base at all.
    Scratch,
}

/// An image in a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRef {
    /// `host[:port]` (`docker.io` for Docker Hub).
    pub registry: String,
    /// `library/python`, `team/module`.
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:...`, when the reference pins one.
    pub digest: Option<String>,
}

impl RegistryRef {
    /// The tag or digest the reference names (`latest` when it names neither).
    #[must_use]
    pub fn reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }
}

fn bad(text: &str, reason: &str) -> Error {
    Error::Reference {
        text: text.to_owned(),
        reason: reason.to_owned(),
    }
}

/// A path component of a repository: lowercase letters and digits, separated by `.`, `_`,
/// `__` or `-` runs (the distribution spec's grammar, simplified to what it admits).
fn valid_component(part: &str) -> bool {
    !part.is_empty()
        && part.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
        && part.as_bytes()[0].is_ascii_alphanumeric()
        && part.as_bytes()[part.len() - 1].is_ascii_alphanumeric()
}

fn valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 128
        && tag.as_bytes()[0] != b'.'
        && tag.as_bytes()[0] != b'-'
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl RegistryRef {
    fn parse(text: &str, whole: &str) -> Result<RegistryRef, Error> {
        let (name, digest) = match text.split_once('@') {
            Some((name, digest)) => {
                let (algorithm, hex) = digest
                    .split_once(':')
                    .ok_or_else(|| bad(whole, "the digest is not `sha256:<hex>`"))?;
                if algorithm != "sha256"
                    || hex.len() != 64
                    || !hex
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                {
                    return Err(bad(whole, "the digest is not `sha256:<64 hex digits>`"));
                }
                (name, Some(digest.to_owned()))
            }
            None => (text, None),
        };
        // A tag follows the last `:` after the last `/` (a port comes before a `/`).
        let (name, tag) = match name.rsplit_once(':') {
            Some((before, tag)) if !tag.contains('/') => (before, Some(tag.to_owned())),
            _ => (name, None),
        };
        if let Some(tag) = &tag
            && !valid_tag(tag)
        {
            return Err(bad(whole, &format!("`{tag}` is not a tag")));
        }
        let (first, rest) = name.split_once('/').unwrap_or(("", name));
        let is_host = first.contains('.') || first.contains(':') || first == "localhost";
        let (registry, repository) = if is_host {
            (first.to_owned(), rest.to_owned())
        } else if name.contains('/') {
            (DOCKER_HUB.to_owned(), name.to_owned())
        } else {
            (DOCKER_HUB.to_owned(), format!("library/{name}"))
        };
        if registry.is_empty() || registry.contains(['/', '@']) {
            return Err(bad(whole, "no registry host"));
        }
        // A port is a number: `oci:` or `dir:` here is a transport given to the wrong place.
        if let Some((host, port)) = registry.rsplit_once(':')
            && (host.is_empty() || port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(bad(
                whole,
                &format!("`{registry}` is not a registry host (`HOST` or `HOST:PORT`)"),
            ));
        }
        if !repository.split('/').all(valid_component) {
            return Err(bad(
                whole,
                &format!(
                    "`{repository}` is not a repository name (lowercase letters, digits, `.`, `_`, `-`, separated by `/`)"
                ),
            ));
        }
        Ok(RegistryRef {
            registry,
            repository,
            tag,
            digest,
        })
    }
}

impl FromStr for ImageRef {
    type Err = Error;

    fn from_str(text: &str) -> Result<ImageRef, Error> {
        if text == "scratch" {
            return Ok(ImageRef::Scratch);
        }
        if let Some(rest) = text.strip_prefix("docker://") {
            return RegistryRef::parse(rest, text).map(ImageRef::Registry);
        }
        if let Some(rest) = text.strip_prefix("oci:") {
            // A tag has no `/`, so a `:` in the folder's path stays the path's.
            let (dir, tag) = match rest.rsplit_once(':') {
                Some((dir, tag)) if !tag.contains('/') && !dir.is_empty() => {
                    if !valid_tag(tag) {
                        return Err(bad(text, &format!("`{tag}` is not a tag")));
                    }
                    (dir, Some(tag.to_owned()))
                }
                _ => (rest, None),
            };
            if dir.is_empty() {
                return Err(bad(text, "no folder"));
            }
            return Ok(ImageRef::Layout {
                dir: PathBuf::from(dir),
                tag,
            });
        }
        if let Some(rest) = text.strip_prefix("docker-archive:") {
            let (file, name) = match rest.split_once(':') {
                Some((file, name)) => {
                    // Checked as a registry name, which `docker load` makes it.
                    RegistryRef::parse(name, text)?;
                    (file, Some(name.to_owned()))
                }
                None => (rest, None),
            };
            if file.is_empty() {
                return Err(bad(text, "no file"));
            }
            return Ok(ImageRef::Archive {
                file: PathBuf::from(file),
                name,
            });
        }
        if let Some(dir) = text.strip_prefix("rootfs:") {
            if dir.is_empty() {
                return Err(bad(text, "no folder"));
            }
            return Ok(ImageRef::Rootfs {
                dir: PathBuf::from(dir),
            });
        }
        if let Some((transport, _)) = text.split_once(':')
            && !transport.contains(['/', '.'])
            && [
                "dir",
                "containers-storage",
                "docker-daemon",
                "oci-archive",
                "ostree",
                "sif",
            ]
            .contains(&transport)
        {
            return Err(bad(
                text,
                &format!(
                    "the `{transport}:` transport is not supported; use docker://, oci:, docker-archive:, rootfs: or scratch"
                ),
            ));
        }
        RegistryRef::parse(text, text).map(ImageRef::Registry)
    }
}

impl fmt::Display for RegistryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageRef::Registry(r) => write!(f, "docker://{r}"),
            ImageRef::Layout { dir, tag } => {
                write!(f, "oci:{}", dir.display())?;
                tag.as_ref().map_or(Ok(()), |t| write!(f, ":{t}"))
            }
            ImageRef::Archive { file, name } => {
                write!(f, "docker-archive:{}", file.display())?;
                name.as_ref().map_or(Ok(()), |n| write!(f, ":{n}"))
            }
            ImageRef::Rootfs { dir } => write!(f, "rootfs:{}", dir.display()),
            ImageRef::Scratch => f.write_str("scratch"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ImageRef {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn references_in_every_transport() {
        let ImageRef::Registry(r) = parse("python:3.11-slim") else {
            panic!()
        };
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("docker.io", "library/python", Some("3.11-slim"))
        );
        let ImageRef::Registry(r) = parse("docker://127.0.0.1:5000/team/module:main-3") else {
            panic!()
        };
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "team/module");
        assert_eq!(r.reference(), "main-3");
        let digest = format!("sha256:{}", "a".repeat(64));
        let ImageRef::Registry(r) = parse(&format!("localhost/base@{digest}")) else {
            panic!()
        };
        assert_eq!(
            (r.registry.as_str(), r.reference()),
            ("localhost", digest.as_str())
        );
        for not_a_host in [
            "docker://oci:/tmp/x",
            "docker://oci:x/y:1",
            "docker://:5000/a",
        ] {
            let error = not_a_host.parse::<ImageRef>().unwrap_err().to_string();
            assert!(
                error.contains("not a registry host") || error.contains("no registry host"),
                "{error}"
            );
        }
        assert_eq!(
            parse("oci:.mlreef/images:main-3"),
            ImageRef::Layout {
                dir: ".mlreef/images".into(),
                tag: Some("main-3".into())
            }
        );
        assert_eq!(
            parse("oci:/tmp/a:b/layout"),
            ImageRef::Layout {
                dir: "/tmp/a:b/layout".into(),
                tag: None
            }
        );
        assert_eq!(
            parse("docker-archive:out.tar:team/module:1"),
            ImageRef::Archive {
                file: "out.tar".into(),
                name: Some("team/module:1".into())
            }
        );
        assert_eq!(
            parse("rootfs:/srv/bookworm"),
            ImageRef::Rootfs {
                dir: "/srv/bookworm".into()
            }
        );
        assert_eq!(parse("scratch"), ImageRef::Scratch);
        for text in [
            "docker://127.0.0.1:5000/team/module:main-3",
            "oci:.mlreef/images:main-3",
            "docker-archive:out.tar:team/module:1",
            "rootfs:/srv/bookworm",
            "scratch",
        ] {
            assert_eq!(parse(text).to_string(), text);
        }
    }

    #[test]
    fn bad_references_say_why() {
        for text in [
            "docker://Team/Module",
            "docker://host/repo:bad/tag",
            "docker://host/repo@sha256:abc",
            "oci:",
            "oci:dir:.hidden",
            "rootfs:",
            "docker-archive:",
            "containers-storage:foo",
            "docker://host/repo:",
            "docker:///repo",
        ] {
            assert!(text.parse::<ImageRef>().is_err(), "{text}");
        }
    }
}
