//! PEP 508 requirements, PEP 440 versions and markers, through `pep508_rs` / `pep440_rs`.
//!
//! The crates validate and evaluate; the text we report is the author's own (name and extras
//! as written, specifiers with white space removed, markers as written), because the crate
//! normalizes markers into a different but equivalent form and a reviewer should see what the
//! file says. Nothing of the crates' types leaves this module.

use std::str::FromStr;

use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder, MarkerTree};

/// A PEP 508 requirement, in the author's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spec {
    pub name: String,
    pub extras: Vec<String>,
    /// `>=1.0,<2`, or empty.
    pub specifier: String,
    pub url: Option<String>,
    pub marker: Option<String>,
}

/// Parses a PEP 508 requirement; the error is one line for people.
pub(crate) fn parse_requirement(text: &str) -> Result<Spec, String> {
    check_names(text)?;
    let parsed = match guarded(text, |t| {
        pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str(t)
    }) {
        Ok(parsed) => parsed,
        // PEP 440's arbitrary equality (`===1.0-custom`) compares strings, which the crate
        // does not allow; packaging does. Validate the rest with a stand-in version.
        Err(error) if text.contains("===") => guarded(&arbitrary_to_version(text), |t| {
            pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str(t)
        })
        .map_err(|_| error)?,
        Err(error) => return Err(error),
    };
    let trimmed = text.trim_start();
    let name_len = trimmed
        .find(|c: char| !is_name_char(c))
        .unwrap_or(trimmed.len());
    let name = trimmed[..name_len].to_owned();
    let mut rest = trimmed[name_len..].trim_start();
    let mut extras = Vec::new();
    if let Some(inner) = rest.strip_prefix('[') {
        let close = inner.find(']').unwrap_or(inner.len());
        extras = inner[..close]
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect();
        rest = inner.get(close + 1..).unwrap_or("").trim_start();
    }
    let (spec_part, marker) = match parsed.version_or_url {
        Some(pep508_rs::VersionOrUrl::Url(_)) => {
            // `@ URL`, then optionally white space, `;` and the marker.
            let after_at = rest.strip_prefix('@').unwrap_or(rest).trim_start();
            let url_end = after_at.find(char::is_whitespace).unwrap_or(after_at.len());
            let url = after_at[..url_end].to_owned();
            let tail = after_at[url_end..].trim_start();
            let marker = tail.strip_prefix(';').map(|m| m.trim().to_owned());
            return Ok(Spec {
                name,
                extras,
                specifier: String::new(),
                url: Some(url),
                marker: marker.filter(|m| !m.is_empty()),
            });
        }
        _ => match rest.split_once(';') {
            Some((spec, marker)) => (spec, Some(marker.trim().to_owned())),
            None => (rest, None),
        },
    };
    let specifier: String = spec_part
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    Ok(Spec {
        name,
        extras,
        specifier,
        url: None,
        marker: marker.filter(|m| !m.is_empty()),
    })
}

/// `===ANYTHING` replaced by `===0`, for validating the rest of a requirement.
fn arbitrary_to_version(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("===") {
        out.push_str(&rest[..at]);
        out.push_str("===0");
        let after = rest[at + 3..].trim_start();
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ')'))
            .unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// A validated marker expression, kept with its text.
#[derive(Debug, Clone)]
pub(crate) struct Marker {
    tree: MarkerTree,
}

impl Marker {
    pub(crate) fn parse(text: &str) -> Result<Marker, String> {
        guarded(text, MarkerTree::from_str).map(|tree| Marker { tree })
    }

    pub(crate) fn evaluate(&self, environment: &Environment) -> bool {
        self.tree.evaluate(&environment.0, &[])
    }
}

/// The values markers are evaluated against.
#[derive(Debug, Clone)]
pub(crate) struct Environment(MarkerEnvironment);

/// Marker variables of a target, as strings.
pub(crate) struct EnvironmentValues<'a> {
    pub python_version: &'a str,
    pub python_full_version: &'a str,
    pub implementation_name: &'a str,
    pub platform_python_implementation: &'a str,
    pub os_name: &'a str,
    pub sys_platform: &'a str,
    pub platform_system: &'a str,
    pub platform_machine: &'a str,
}

impl Environment {
    pub(crate) fn new(values: &EnvironmentValues<'_>) -> Result<Environment, String> {
        MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: values.implementation_name,
            implementation_version: values.python_full_version,
            os_name: values.os_name,
            platform_machine: values.platform_machine,
            platform_python_implementation: values.platform_python_implementation,
            platform_release: "",
            platform_system: values.platform_system,
            platform_version: "",
            python_full_version: values.python_full_version,
            python_version: values.python_version,
            sys_platform: values.sys_platform,
        })
        .map(Environment)
        .map_err(|error| error.to_string())
    }
}

/// A version as PEP 440 normalizes it (`1.0-dev` is `1.0.dev0`).
pub(crate) fn normalize_version(text: &str) -> Option<String> {
    pep440_rs::Version::from_str(text)
        .ok()
        .map(|v| v.to_string())
}

/// PEP 503 normalization: lower case, runs of `-_.` as one `-`.
pub(crate) fn canonical_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
        } else {
            if separator && !out.is_empty() {
                out.push('-');
            }
            separator = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Calls the crate so that no input can make it panic, and words its error for people.
///
/// The crate slices its input by byte offsets when it reports an error, which panics inside a
/// multi-byte character; so it sees every non-ASCII character as a backtick, which PEP 508
/// allows exactly where it allows any character (inside quoted marker strings and URLs).
/// Any other panic it might still have becomes an error.
fn guarded<T>(
    text: &str,
    parse: impl FnOnce(&str) -> Result<T, pep508_rs::Pep508Error> + std::panic::UnwindSafe,
) -> Result<T, String> {
    let ascii: String = text
        .chars()
        .map(|c| if c.is_ascii() { c } else { '`' })
        .collect();
    let result =
        std::panic::catch_unwind(|| parse(&ascii).map_err(|e| (e.start, e.message.to_string())))
            .unwrap_or_else(|_| Err((0, "the requirement cannot be read".to_owned())));
    result.map_err(
        |(start, message)| match text.chars().nth(start).filter(|c| !c.is_ascii()) {
            Some(c) => format!("unexpected character `{c}`"),
            None => one_line(&message),
        },
    )
}

/// The project name and the extras in `name [a, b]` must be PEP 508 names. The crate checks
/// them again after parsing, behind an `expect` that disagrees with its parser for names such
/// as `namer_` or `tor--` and panics; so they are checked here first.
fn check_names(text: &str) -> Result<(), String> {
    let trimmed = text.trim_start();
    let name_len = trimmed
        .find(|c: char| !is_name_char(c))
        .unwrap_or(trimmed.len());
    let name = &trimmed[..name_len];
    if !name.is_empty() && !is_name(name) {
        return Err(format!("`{name}` is not a valid project name"));
    }
    let Some(rest) = trimmed[name_len..].trim_start().strip_prefix('[') else {
        return Ok(());
    };
    // Up to `]`, or to the end when it is missing (the crate reads the names before it
    // notices, and panics on a bad one).
    let inner = rest.split_once(']').map_or(rest, |(inner, _)| inner);
    for piece in inner.split(',') {
        let piece = piece.trim_start();
        let extra = &piece[..piece
            .find(|c: char| !is_name_char(c))
            .unwrap_or(piece.len())];
        if !extra.is_empty() && !is_name(extra) {
            return Err(format!("`{extra}` is not a valid extra name"));
        }
    }
    Ok(())
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

/// PEP 508's `identifier`: letters and digits at both ends, `.-_` between.
pub(crate) fn is_name(text: &str) -> bool {
    text.chars().all(is_name_char)
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn one_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn author_text_is_kept() {
        let spec = parse_requirement(
            "Django_Rest [Security , socks] ( >= 2.0 , <3 ) ; python_version >= '3.9'",
        )
        .unwrap();
        assert_eq!(spec.name, "Django_Rest");
        assert_eq!(spec.extras, ["Security", "socks"]);
        assert_eq!(spec.specifier, ">=2.0,<3");
        assert_eq!(spec.marker.as_deref(), Some("python_version >= '3.9'"));
        let url =
            parse_requirement("pip @ https://x.org/pip.zip#sha1=0 ; os_name == 'nt'").unwrap();
        assert_eq!(url.url.as_deref(), Some("https://x.org/pip.zip#sha1=0"));
        assert_eq!(url.marker.as_deref(), Some("os_name == 'nt'"));
    }

    #[test]
    fn names() {
        assert_eq!(canonical_name("Foo__Bar.baz"), "foo-bar-baz");
        assert!(parse_requirement("foo=1.0").is_err());
        // Inputs that made the crate panic (found by fuzzing).
        assert!(parse_requirement("a[tor--]").is_err());
        assert!(parse_requirement("namer_ [x]").is_err());
        for unclosed in ["v[e-", "a[b.,c", "a[b_ @ http://x", "a.==1", "a[b_ ]"] {
            assert!(parse_requirement(unclosed).is_err(), "{unclosed}");
        }
        assert!(Marker::parse("extra == \"test\"\u{fffd}\u{fffd}1\"").is_err());
        assert!(Marker::parse("python_version != \"3.6\" a\u{fffd}\u{fffd}nd x").is_err());
        assert!(Marker::parse("platform_version == 'caf\u{e9}'").is_ok());
        assert_eq!(
            parse_requirement("tool === 1.0-custom").unwrap().specifier,
            "===1.0-custom"
        );
    }
}
