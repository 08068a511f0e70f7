//! One normalized requirements text: file-wide options first, then one requirement per line,
//! sorted by project name (unnamed ones by URL), duplicates dropped, hashes kept, includes
//! flattened, and local paths rebased onto the top-level file's folder. `${VAR}` references
//! stay as they are, so the installer expands them and no secret is written down.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use super::{Kind, Requirement, RequirementsFile, Target, line, pep508};

pub(super) fn render(file: &RequirementsFile, target: Option<&Target>) -> String {
    let mut out = options(file);
    let chosen = file
        .requirements
        .iter()
        .filter(|r| !r.constraint && target.is_none_or(|t| r.applies_to(t)));
    out.push_str(&lines(chosen, &file.top));
    out
}

pub(super) fn render_constraints(file: &RequirementsFile) -> String {
    lines(file.requirements.iter().filter(|r| r.constraint), &file.top)
}

fn options(file: &RequirementsFile) -> String {
    let o = &file.options;
    let mut out = String::new();
    if o.no_index {
        out.push_str("--no-index\n");
    }
    if let Some(url) = &o.index_url {
        let _ = writeln!(out, "--index-url {url}");
    }
    for (flag, values) in [
        ("--extra-index-url", &o.extra_index_urls),
        ("--find-links", &o.find_links),
        ("--trusted-host", &o.trusted_hosts),
        ("--only-binary", &o.only_binary),
        ("--no-binary", &o.no_binary),
        ("--use-feature", &o.use_features),
        ("--all-releases", &o.all_releases),
        ("--only-final", &o.only_final),
    ] {
        for value in values {
            let _ = writeln!(out, "{flag} {value}");
        }
    }
    for (flag, on) in [
        ("--pre", o.pre),
        ("--prefer-binary", o.prefer_binary),
        ("--require-hashes", o.require_hashes),
    ] {
        if on {
            let _ = writeln!(out, "{flag}");
        }
    }
    out
}

fn lines<'a>(requirements: impl Iterator<Item = &'a Requirement>, top: &str) -> String {
    let mut entries: Vec<(String, String)> = requirements
        .map(|r| {
            let key = r
                .name
                .as_deref()
                .map_or_else(|| r.url.clone().unwrap_or_default(), pep508::canonical_name);
            (key, requirement_line(r, top))
        })
        .collect();
    entries.sort();
    entries.dedup_by(|a, b| a.1 == b.1);
    let mut out = String::new();
    for (_, text) in entries {
        out.push_str(&text);
        out.push('\n');
    }
    out
}

fn extras(r: &Requirement) -> String {
    if r.extras.is_empty() {
        String::new()
    } else {
        format!("[{}]", r.extras.join(","))
    }
}

/// Whether the URL alone gives pip the same name and version (a wheel's file name, or
/// `#egg=`), so that `name @` can be left out.
fn url_names_itself(r: &Requirement, url: &str) -> bool {
    if line::is_wheel(url) {
        return line::wheel_project(url).is_ok_and(|(name, version)| {
            r.name.as_deref() == Some(name.as_str()) && r.specifier == format!("=={version}")
        });
    }
    let egg = url
        .split_once("egg=")
        .map(|(_, rest)| rest.split('&').next().unwrap_or(""));
    egg.is_some() && egg == r.name.as_deref() && r.specifier.is_empty()
}

pub(super) fn requirement_line(r: &Requirement, top: &str) -> String {
    let url = r.url.as_deref().map(|u| rebase(u, &r.source, top, r.kind));
    let mut text = String::new();
    match (&r.name, url) {
        (Some(name), None) => {
            let _ = write!(text, "{name}{}{}", extras(r), r.specifier);
        }
        (Some(name), Some(url)) if !url_names_itself(r, &url) => {
            let _ = write!(text, "{name}{} @ {url}", extras(r));
        }
        (_, Some(url)) => {
            text.push_str(&url);
            if r.kind == Kind::Path && line::scheme(&url).is_none() {
                text.push_str(&extras(r));
            }
        }
        (None, None) => {}
    }
    if let Some(marker) = &r.marker {
        let _ = write!(text, " ; {marker}");
    }
    if r.editable {
        // `-e` takes one shell word: `-e "name @ git+https://... ; marker"`.
        text = format!("-e {}", quote(&text));
    }
    for hash in &r.hashes {
        let _ = write!(text, " --hash={hash}");
    }
    for setting in &r.config_settings {
        let _ = write!(text, " --config-settings={}", quote(setting));
    }
    text
}

/// Quotes a word for pip's `shlex.split` of the options part, only when it needs it (pip
/// splits on white space and honours quotes and backslashes; `[`, `&` and `#` are plain
/// characters there).
fn quote(word: &str) -> String {
    if !word.contains(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | '\\')) {
        return word.to_owned();
    }
    shlex::try_quote(word).map_or_else(|_| word.to_owned(), std::borrow::Cow::into_owned)
}

/// A relative path written in `source` re-expressed relative to `top`'s folder.
fn rebase(url: &str, source: &str, top: &str, kind: Kind) -> String {
    if kind != Kind::Path || line::scheme(url).is_some() || url.starts_with('/') {
        return url.to_owned();
    }
    let source_dir = Path::new(source).parent().unwrap_or(Path::new(""));
    let top_dir = Path::new(top).parent().unwrap_or(Path::new(""));
    if source_dir == top_dir {
        return url.to_owned();
    }
    let target = crate::repo::normalize(&source_dir.join(url));
    let from: Vec<Component> = top_dir.components().collect();
    let to: Vec<Component> = target.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut relative = PathBuf::new();
    for _ in common..from.len() {
        relative.push("..");
    }
    for part in &to[common..] {
        relative.push(part);
    }
    let text = relative.to_string_lossy().replace('\\', "/");
    if text.contains('/') || text.starts_with('.') {
        text
    } else {
        format!("./{text}")
    }
}
