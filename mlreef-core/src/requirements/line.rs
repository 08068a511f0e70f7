//! What one requirement line means, by pip's rules (`parse_req_from_line` and
//! `parse_editable` in pip's `req/constructors.py`): a URL, a local path or archive, a wheel
//! file, or a PEP 508 requirement.
//!
//! Local paths are resolved against the folder of the file that holds the line. (pip resolves
//! them against its working directory; a build installs from the repository, where the two
//! are the same for the usual root-level `requirements.txt`.)

use std::path::Path;

use super::Kind;
use super::pep508::{self, Marker};

/// The schemes pip's version-control backends accept (`vcs.all_schemes`).
const VCS_SCHEMES: &[&str] = &[
    "bzr+http",
    "bzr+https",
    "bzr+ssh",
    "bzr+sftp",
    "bzr+ftp",
    "bzr+lp",
    "bzr+file",
    "git+http",
    "git+https",
    "git+ssh",
    "git+git",
    "git+file",
    "hg+file",
    "hg+http",
    "hg+https",
    "hg+ssh",
    "hg+static-http",
    "svn+ssh",
    "svn+http",
    "svn+https",
    "svn+svn",
    "svn+file",
];

/// Archive extensions pip installs from (`ARCHIVE_EXTENSIONS`).
const ARCHIVE_EXTENSIONS: &[&str] = &[
    ".zip",
    ".whl",
    ".tar.bz2",
    ".tbz",
    ".tar.gz",
    ".tgz",
    ".tar",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
];

/// A requirement line, understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Meaning {
    pub name: Option<String>,
    pub specifier: String,
    pub extras: Vec<String>,
    pub marker: Option<String>,
    pub url: Option<String>,
    pub kind: Kind,
    /// Something pip would only warn about (a path that does not exist).
    pub warning: Option<Warning>,
}

/// Python's `urlsplit(text).scheme`, lower-cased; `None` when there is none.
pub(crate) fn scheme(text: &str) -> Option<String> {
    let colon = text.find(':')?;
    let candidate = &text[..colon];
    let mut chars = candidate.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then(|| candidate.to_ascii_lowercase())
}

/// pip's `is_url`: a scheme pip can fetch from.
pub(crate) fn is_url(text: &str) -> bool {
    scheme(text).is_some_and(|s| {
        matches!(s.as_str(), "http" | "https" | "file" | "ftp") || VCS_SCHEMES.contains(&s.as_str())
    })
}

fn is_vcs(url: &str) -> bool {
    scheme(url).is_some_and(|s| VCS_SCHEMES.contains(&s.as_str()))
}

/// The last segment of a URL's (or path's) path, percent-decoded.
fn file_name(url: &str) -> String {
    let mut rest = url;
    if scheme(url).is_some() {
        rest = &rest[rest.find(':').map_or(0, |i| i + 1)..];
        if let Some(after) = rest.strip_prefix("//") {
            rest = &after[after.find('/').unwrap_or(after.len())..];
        }
    }
    let path = rest.split(['?', '#']).next().unwrap_or("");
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    percent_decode(last)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// pip's `Link.is_wheel`: the file name ends in `.whl`, exactly (pip compares case-sensitively).
#[allow(clippy::case_sensitive_file_extension_comparisons)]
pub(crate) fn is_wheel(url: &str) -> bool {
    file_name(url).ends_with(".whl")
}

/// `#egg=NAME` (or `&egg=`), which must look like a project name.
fn egg_fragment(url: &str) -> Result<Option<String>, String> {
    let Some(at) = url.find("#egg=").or_else(|| url.find("&egg=")) else {
        return Ok(None);
    };
    let value = url[at + 5..].split('&').next().unwrap_or("");
    if pep508::is_name(value) {
        Ok(Some(value.to_owned()))
    } else {
        Err(format!(
            "the `egg={value}` fragment of `{url}` is not a project name (use `name @ URL` for extras)"
        ))
    }
}

/// pip's `strip_extras`: `path[extra1,extra2]` into the path and lower-cased extras.
fn strip_extras(text: &str) -> (&str, Vec<String>) {
    if text.ends_with(']')
        && let Some(open) = text.rfind('[')
        && open > 0
        && !text[open + 1..text.len() - 1].contains(['[', ']'])
        && text.len() - open > 2
    {
        let extras = text[open + 1..text.len() - 1]
            .split(',')
            .map(|e| e.trim().to_ascii_lowercase())
            .filter(|e| !e.is_empty())
            .collect();
        return (text[..open].trim_end(), extras);
    }
    (text, Vec::new())
}

fn looks_like_path(text: &str) -> bool {
    text.contains('/') || text.starts_with('.')
}

fn is_archive(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    ARCHIVE_EXTENSIONS.iter().any(|ext| {
        name.strip_suffix(ext).is_some_and(|stem| {
            // pip's `splitext` takes `.tar` together with what follows it, so `x.tar.gz` has
            // the extension `.tar.gz`, and `x.gz` none we know.
            !stem.is_empty()
                && (ext.starts_with(".tar")
                    || Path::new(stem).extension().is_none_or(|e| e != "tar"))
        })
    })
}

fn is_installable_dir(dir: &Path) -> bool {
    dir.join("pyproject.toml").is_file() || dir.join("setup.py").is_file()
}

/// A diagnostic code and message for something pip only warns about.
type Warning = (&'static str, String);

/// pip's `_get_url_from_path`: whether a name is a local directory or archive.
fn local_link(
    path: &str,
    name: &str,
    base: &Path,
) -> Result<Option<(Kind, Option<Warning>)>, String> {
    let full = base.join(path);
    if looks_like_path(name) && full.is_dir() {
        if is_installable_dir(&full) {
            return Ok(Some((Kind::Path, None)));
        }
        return Err(format!(
            "Directory `{name}` is not installable. Neither `setup.py` nor `pyproject.toml` found."
        ));
    }
    if !is_archive(path) {
        return Ok(None);
    }
    if full.is_file() {
        return Ok(Some((Kind::Path, None)));
    }
    if let Some((before, _)) = name.split_once('@')
        && !looks_like_path(before)
    {
        return Ok(None);
    }
    Ok(Some((
        Kind::Path,
        Some((
            "missing-file",
            format!("`{name}` looks like a file name, but the file does not exist"),
        )),
    )))
}

/// The project and version a wheel URL or path names.
pub(crate) fn wheel_project(url: &str) -> Result<(String, String), String> {
    wheel_name(&file_name(url))
}

/// A wheel file name's project and version, as `parse_wheel_filename` reads them.
fn wheel_name(file: &str) -> Result<(String, String), String> {
    let invalid = |why: &str| format!("invalid wheel file name `{file}`: {why}");
    let stem = file
        .strip_suffix(".whl")
        .ok_or_else(|| invalid("no .whl extension"))?;
    let dashes = stem.matches('-').count();
    if dashes != 4 && dashes != 5 {
        return Err(invalid("wrong number of parts"));
    }
    let mut parts = stem.splitn(dashes - 1, '-');
    let name = parts.next().unwrap_or("");
    if name.contains("__")
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.'))
    {
        return Err(invalid("invalid project name"));
    }
    let version = parts.next().unwrap_or("");
    let version = pep508::normalize_version(version)
        .ok_or_else(|| invalid(&format!("invalid version `{version}`")))?;
    if dashes == 5 {
        let build = stem.split('-').nth(2).unwrap_or("");
        if !build.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(invalid("the build tag must start with a digit"));
        }
    }
    Ok((pep508::canonical_name(name), version))
}

fn invalid_requirement(text: &str, why: &str) -> String {
    let mut message = format!("Invalid requirement: `{text}`: {why}");
    let operators = ["~=", "==", "!=", "<=", ">=", "<", ">", "==="];
    if text.contains('/') {
        message.push_str(" (it looks like a path, but there is no such file or directory)");
    } else if text.contains('=') && !operators.iter().any(|op| text.contains(op)) {
        message.push_str(" (`=` is not a version operator: did you mean `==`?)");
    }
    message
}

fn named(text: &str, marker: Option<String>) -> Result<Meaning, String> {
    let spec = pep508::parse_requirement(text).map_err(|why| invalid_requirement(text, &why))?;
    let kind = match &spec.url {
        None => Kind::Index,
        Some(url) if is_vcs(url) => Kind::Vcs,
        Some(url) if scheme(url).as_deref() == Some("file") => Kind::Path,
        Some(_) => Kind::Url,
    };
    Ok(Meaning {
        name: Some(spec.name),
        specifier: spec.specifier,
        extras: spec.extras,
        marker: marker.or(spec.marker),
        url: spec.url,
        kind,
        warning: None,
    })
}

/// The marker text after `;`, validated.
fn split_marker(text: &str, separator: &str) -> Result<(String, Option<String>), String> {
    let Some((name, marker)) = text.split_once(separator) else {
        return Ok((text.trim().to_owned(), None));
    };
    let marker = marker.trim();
    if marker.is_empty() {
        return Ok((name.trim().to_owned(), None));
    }
    Marker::parse(marker).map_err(|why| invalid_requirement(name.trim(), &why))?;
    Ok((name.trim().to_owned(), Some(marker.to_owned())))
}

/// A requirement line that is not `-e`.
pub(crate) fn requirement(text: &str, base: &Path) -> Result<Meaning, String> {
    // pip splits a URL's marker at "; " (a `;` may be part of a URL) and anything else at ";".
    let separator = if is_url(text) { "; " } else { ";" };
    let (name, marker) = split_marker(text, separator)?;
    let (location, extras, kind, warning) = if is_url(&name) {
        let kind = if is_vcs(&name) {
            Kind::Vcs
        } else if scheme(&name).as_deref() == Some("file") {
            Kind::Path
        } else {
            Kind::Url
        };
        let location = if kind == Kind::Path && name.contains("../") {
            resolve_file_url(&name, base)
        } else {
            name.clone()
        };
        (location, Vec::new(), kind, None)
    } else {
        let (path, extras) = strip_extras(&name);
        match local_link(path, &name, base)? {
            Some((kind, warning)) => (path.to_owned(), extras, kind, warning),
            None => return named(&name, marker),
        }
    };
    let (name, specifier) = if is_wheel(&location) {
        let (project, version) = wheel_project(&location)?;
        (Some(project), format!("=={version}"))
    } else {
        match egg_fragment(&location)? {
            Some(egg) => {
                let spec = pep508::parse_requirement(&egg)
                    .map_err(|why| invalid_requirement(&egg, &why))?;
                (Some(spec.name), spec.specifier)
            }
            None => (None, String::new()),
        }
    };
    Ok(Meaning {
        name,
        specifier,
        extras,
        marker,
        url: Some(location),
        kind,
        warning,
    })
}

/// pip rewrites a `file:` URL holding `../` into an absolute one, dropping its fragment (and
/// with it any `#egg=` name).
fn resolve_file_url(url: &str, base: &Path) -> String {
    let rest = &url[url.find(':').map_or(0, |i| i + 1)..];
    let path = match rest.strip_prefix("//") {
        Some(after) => &after[after.find('/').unwrap_or(after.len())..],
        None => rest,
    };
    let path = percent_decode(path.split(['?', '#']).next().unwrap_or(""));
    let absolute = crate::repo::normalize(&base.join(path));
    format!("file://{}", absolute.to_string_lossy())
}

/// A `-e` / `--editable` value.
pub(crate) fn editable(text: &str, base: &Path) -> Result<Meaning, String> {
    if let Ok(spec) = pep508::parse_requirement(text)
        && let Some(url) = spec.url
    {
        let kind = if is_vcs(&url) {
            Kind::Vcs
        } else if scheme(&url).as_deref() == Some("file") {
            Kind::Path
        } else {
            return Err(not_editable(text));
        };
        return Ok(Meaning {
            name: Some(spec.name),
            specifier: spec.specifier,
            extras: spec.extras,
            marker: spec.marker,
            url: Some(url),
            kind,
            warning: None,
        });
    }
    let (path, extras) = strip_extras(text);
    let is_file_url = scheme(path).as_deref() == Some("file");
    // pip asks the file system first; a URL is not worth a system call.
    if is_file_url || (!is_url(path) && base.join(path).is_dir()) {
        let name = if is_file_url {
            egg_fragment(path)?
        } else {
            None
        };
        return Ok(Meaning {
            name,
            specifier: String::new(),
            extras,
            marker: None,
            url: Some(path.to_owned()),
            kind: Kind::Path,
            warning: None,
        });
    }
    let mut url = text.to_owned();
    for backend in ["bzr", "git", "hg", "svn"] {
        if url.to_ascii_lowercase().starts_with(&format!("{backend}:")) {
            url = format!("{backend}+{url}");
            break;
        }
    }
    if !is_vcs(&url) {
        return Err(not_editable(text));
    }
    let Some(egg) = egg_fragment(&url)? else {
        return Err(format!(
            "Could not detect requirement name for `{text}`, please specify one with \
             `your_package_name @ URL`"
        ));
    };
    let spec = pep508::parse_requirement(&egg).map_err(|why| invalid_requirement(&egg, &why))?;
    Ok(Meaning {
        name: Some(spec.name),
        specifier: spec.specifier,
        extras: Vec::new(),
        marker: None,
        url: Some(url),
        kind: Kind::Vcs,
        warning: None,
    })
}

fn not_editable(text: &str) -> String {
    format!(
        "`{text}` is not a valid editable requirement. It should either be a path to a local \
         project or a VCS URL (beginning with {}).",
        VCS_SCHEMES.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_and_wheels() {
        assert!(is_archive("dist/pkg-0.1.tar.gz"));
        assert!(is_archive("x.whl"));
        assert!(!is_archive("x.gz"));
        assert_eq!(
            wheel_name("Demo_Pkg-1.0-py3-none-any.whl").unwrap(),
            ("demo-pkg".into(), "1.0".into())
        );
        assert!(wheel_name("bad.whl").is_err());
    }

    #[test]
    fn urls() {
        assert!(is_url("git+https://x/y"));
        assert!(!is_url("pip @ https://x"));
        assert_eq!(
            file_name("https://h/a/Demo%2Dx-1.0.zip?x=1#egg=y"),
            "Demo-x-1.0.zip"
        );
        let m = requirement(
            "https://h/p-1.0.tar.gz#egg=p ; python_version < '3'",
            Path::new("."),
        )
        .unwrap();
        assert_eq!(
            (m.name.as_deref(), m.kind, m.marker.is_some()),
            (Some("p"), Kind::Url, true)
        );
    }
}
