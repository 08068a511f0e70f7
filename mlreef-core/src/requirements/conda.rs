//! conda `environment.yml`: `name`, `channels`, `dependencies` as conda match specs, and the
//! `pip:` sub-list, which is read with the requirements parser as if it were a requirements
//! file beside the yml (that is where conda writes it before running pip), with each line
//! numbered as in the yml.

use std::path::{Path, PathBuf};

use saphyr::{MarkedYaml, Scalar, YamlData};
use serde::{Deserialize, Serialize};

use super::{Diagnostic, Options, RequirementsFile, Severity};
use crate::yaml::{self, position};

/// The conda side of an environment file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CondaEnvironment {
    pub name: Option<String>,
    pub channels: Vec<String>,
    /// The conda packages (the `pip:` entries are the file's `requirements`).
    pub dependencies: Vec<MatchSpec>,
}

impl CondaEnvironment {
    /// The version the `python` dependency asks for (`3.11`, `>=3.10`), if any.
    #[must_use]
    pub fn python(&self) -> Option<&str> {
        self.dependencies
            .iter()
            .find(|d| d.name == "python")
            .and_then(|d| d.version.as_deref())
    }
}

/// A conda match spec split into its parts: `[channel[/subdir]::]name[ version[ build]]`,
/// `name=version=build`, `name>=1.2,<2`, or `name[version='>=1', build=py*]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchSpec {
    pub name: String,
    pub version: Option<String>,
    pub build: Option<String>,
    pub channel: Option<String>,
    /// The spec as written.
    pub spec: String,
    pub line: usize,
}

/// An environment file that is not YAML, or not a mapping.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", path.display())]
pub(crate) struct YamlError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Whether a file name looks like a conda environment file.
#[must_use]
pub fn is_environment_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

/// Reads an environment file's text; [`Options::path`] says where it lives.
pub(super) fn parse(text: &str, options: &Options) -> Result<RequirementsFile, YamlError> {
    let path = options
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from("environment.yml"));
    let error = |line: usize, column: usize, message: String| YamlError {
        path: path.clone(),
        line,
        column,
        message,
    };
    let documents = yaml::load(text).map_err(|p| error(p.line, p.column, p.message))?;
    let Some(root) = documents.first() else {
        return Ok(with_conda(
            RequirementsFile::default(),
            CondaEnvironment::default(),
        ));
    };
    let YamlData::Mapping(mapping) = &root.data else {
        let (line, column) = position(root);
        return Err(error(
            line,
            column,
            "an environment file must be a mapping with `dependencies`".into(),
        ));
    };
    let mut conda = CondaEnvironment::default();
    let mut diagnostics = Vec::new();
    let mut pip_lines: Vec<(String, usize)> = Vec::new();
    let mut problem = |node: &MarkedYaml, message: String| {
        let (line, column) = position(node);
        diagnostics.push(Diagnostic {
            severity: Severity::Error,
            code: "invalid-environment".into(),
            message,
            line,
            column,
            file: None,
        });
    };
    for (key, value) in mapping {
        match scalar(key).as_deref() {
            Some("name") => conda.name = scalar(value),
            Some("channels") => {
                for item in sequence(value, "channels", &mut problem) {
                    match string(item) {
                        Some(channel) => conda.channels.push(channel),
                        None => problem(item, "a channel must be a string".into()),
                    }
                }
            }
            Some("dependencies") => {
                for item in sequence(value, "dependencies", &mut problem) {
                    if let Some(spec) = string(item) {
                        match match_spec(&spec, position(item).0) {
                            Some(parsed) => conda.dependencies.push(parsed),
                            None => problem(item, format!("`{spec}` is not a conda match spec")),
                        }
                        continue;
                    }
                    let pip = match &item.data {
                        YamlData::Mapping(m) if m.len() == 1 => m
                            .iter()
                            .next()
                            .filter(|(k, _)| scalar(k).as_deref() == Some("pip")),
                        _ => None,
                    };
                    let Some((_, entries)) = pip else {
                        problem(
                            item,
                            "a dependency must be a match spec string or a `pip:` list".into(),
                        );
                        continue;
                    };
                    for entry in sequence(entries, "pip", &mut problem) {
                        match string(entry) {
                            Some(line) => pip_lines.push((line, position(entry).0)),
                            None => problem(entry, "a pip entry must be a string".into()),
                        }
                    }
                }
            }
            _ => {}
        }
    }
    // The pip entries become the file's requirements, numbered by their line in the yml.
    let mut text = String::new();
    for (entry, _) in &pip_lines {
        text.push_str(entry);
        text.push('\n');
    }
    let mut file = super::parse(
        &text,
        &Options {
            path: Some(path),
            ..options.clone()
        },
    );
    let top = file.top.clone();
    let yml_line = |line: usize| {
        pip_lines
            .get(line.wrapping_sub(1))
            .map_or(line, |(_, l)| *l)
    };
    for requirement in &mut file.requirements {
        if requirement.source == top {
            requirement.line = yml_line(requirement.line);
        }
    }
    for diagnostic in &mut file.diagnostics {
        if diagnostic.file.as_deref() == Some(top.as_str()) {
            diagnostic.line = yml_line(diagnostic.line);
        }
    }
    for mut diagnostic in diagnostics {
        diagnostic.file = Some(top.clone());
        file.diagnostics.push(diagnostic);
    }
    file.diagnostics
        .sort_by_key(|d| (d.file != Some(top.clone()), d.line));
    Ok(with_conda(file, conda))
}

fn with_conda(mut file: RequirementsFile, conda: CondaEnvironment) -> RequirementsFile {
    file.conda = Some(conda);
    file
}

/// A string node's text (a YAML number or boolean is not a package spec).
fn string(node: &MarkedYaml) -> Option<String> {
    match &node.data {
        YamlData::Value(Scalar::String(s)) | YamlData::Representation(s, _, _) => {
            Some(s.to_string())
        }
        _ => None,
    }
}

/// A scalar node as text (`name: 2024` is the name `2024`).
fn scalar(node: &MarkedYaml) -> Option<String> {
    match &node.data {
        YamlData::Value(Scalar::Integer(i)) => Some(i.to_string()),
        YamlData::Value(Scalar::FloatingPoint(f)) => Some(f.to_string()),
        _ => string(node),
    }
}

/// The items of a sequence node; anything else (but an empty value) is a problem.
fn sequence<'a, 'b>(
    node: &'a MarkedYaml<'b>,
    key: &str,
    problem: &mut impl FnMut(&MarkedYaml, String),
) -> &'a [MarkedYaml<'b>] {
    match &node.data {
        YamlData::Sequence(items) => items,
        YamlData::Value(Scalar::Null) => &[],
        _ => {
            problem(node, format!("`{key}` must be a list"));
            &[]
        }
    }
}

/// Splits a match spec; `None` when it has no package name.
fn match_spec(spec: &str, line: usize) -> Option<MatchSpec> {
    let text = spec.trim();
    let (channel, rest) = match text.split_once("::") {
        Some((channel, rest)) => (Some(channel.trim().to_owned()), rest.trim()),
        None => (None, text),
    };
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    let name_len = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
    let name = &rest[..name_len];
    if name.is_empty() {
        return None;
    }
    let mut tail = rest[name_len..].trim();
    let mut version = None;
    let mut build = None;
    if let Some(inner) = tail.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        for pair in inner.split(',') {
            if let Some((key, value)) = pair.split_once('=') {
                let value = value.trim().trim_matches(['\'', '"']).to_owned();
                match key.trim() {
                    "version" => version = Some(value),
                    "build" => build = Some(value),
                    _ => {}
                }
            }
        }
        tail = "";
    }
    if !tail.is_empty() {
        if tail.starts_with('=') && !tail.starts_with("==") {
            // `name=1.2=build`: conda's fuzzy version, then the build string.
            let mut parts = tail[1..].splitn(2, '=');
            version = parts.next().map(str::to_owned).filter(|v| !v.is_empty());
            build = parts.next().map(str::to_owned).filter(|b| !b.is_empty());
        } else {
            // `name 1.2 build` or `name>=1.2,<2`.
            let mut parts = tail.split_whitespace();
            version = parts.next().map(str::to_owned);
            build = parts.next().map(str::to_owned);
        }
    }
    Some(MatchSpec {
        name: name.to_owned(),
        version,
        build,
        channel,
        spec: spec.to_owned(),
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(spec: &str) -> (String, Option<String>, Option<String>, Option<String>) {
        let m = match_spec(spec, 1).unwrap();
        (m.name, m.version, m.build, m.channel)
    }

    #[test]
    fn match_specs() {
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(split("numpy"), ("numpy".into(), None, None, None));
        assert_eq!(
            split("python=3.11"),
            ("python".into(), s("3.11"), None, None)
        );
        assert_eq!(
            split("pytorch=2.1.0=py3.11_cuda12.1_cudnn8_0"),
            (
                "pytorch".into(),
                s("2.1.0"),
                s("py3.11_cuda12.1_cudnn8_0"),
                None
            )
        );
        assert_eq!(
            split("conda-forge::numpy>=1.24,<2"),
            ("numpy".into(), s(">=1.24,<2"), None, s("conda-forge"))
        );
        assert_eq!(
            split("pytorch/linux-64::torch 2.1 py311*"),
            ("torch".into(), s("2.1"), s("py311*"), s("pytorch/linux-64"))
        );
        assert_eq!(
            split("numpy[version='>=1.24', build=py*]"),
            ("numpy".into(), s(">=1.24"), s("py*"), None)
        );
        assert_eq!(
            split("scipy==1.11.4"),
            ("scipy".into(), s("==1.11.4"), None, None)
        );
        assert!(match_spec(">=1", 1).is_none());
    }
}
