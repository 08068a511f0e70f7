//! YAML with positions (`saphyr`), shared by `environment.yml` and `mlreef.yml`: loading
//! without overflowing the stack, node positions, and documents as ordered JSON values.

use std::borrow::Cow;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, Yaml, YamlData, YamlEmitter};
use serde_json::{Map, Value as Json};

/// A document that is not YAML, or holds what JSON cannot (aliases, non-string keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlProblem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Loads every document, each node with its position.
pub(crate) fn load(text: &str) -> Result<Vec<MarkedYaml<'_>>, YamlProblem> {
    // Deeply nested flow collections recurse in the loader.
    crate::python::with_stack_for(text.len(), || MarkedYaml::load_from_str(text)).map_err(|e| {
        YamlProblem {
            line: e.marker().line(),
            column: e.marker().col() + 1,
            message: e.info().to_owned(),
        }
    })
}

/// A node's 1-based line and column.
pub(crate) fn position(node: &MarkedYaml) -> (usize, usize) {
    (node.span.start.line(), node.span.start.col() + 1)
}

/// Reads the first document; an empty text is `null`.
pub(crate) fn parse(text: &str) -> Result<(Json, Vec<MarkedYaml<'_>>), YamlProblem> {
    let documents = load(text)?;
    let value = match documents.first() {
        Some(root) => to_json(root)?,
        None => Json::Null,
    };
    Ok((value, documents))
}

fn problem(node: &MarkedYaml, message: &str) -> YamlProblem {
    let (line, column) = position(node);
    YamlProblem {
        line,
        column,
        message: message.to_owned(),
    }
}

fn to_json(node: &MarkedYaml) -> Result<Json, YamlProblem> {
    Ok(match &node.data {
        YamlData::Value(scalar) => scalar_json(scalar),
        YamlData::Representation(text, _, _) => Json::String(text.to_string()),
        YamlData::Sequence(items) => {
            Json::Array(items.iter().map(to_json).collect::<Result<_, _>>()?)
        }
        YamlData::Mapping(mapping) => {
            let mut object = Map::new();
            // `<<: *defaults` (YAML 1.1 merge keys, which GitLab honours): the merged keys
            // are written out, explicit keys winning, so the file means the same without them.
            let mut merged = Vec::new();
            for (key, value) in mapping {
                if matches!(&key.data, YamlData::Value(Scalar::String(s)) if s == "<<") {
                    match to_json(value)? {
                        Json::Object(source) => merged.push(source),
                        Json::Array(sources) => {
                            merged.extend(sources.into_iter().filter_map(|s| match s {
                                Json::Object(o) => Some(o),
                                _ => None,
                            }));
                        }
                        _ => return Err(problem(value, "`<<` must merge a mapping")),
                    }
                    continue;
                }
                let key = match &key.data {
                    YamlData::Value(Scalar::String(s)) | YamlData::Representation(s, _, _) => {
                        s.to_string()
                    }
                    YamlData::Value(scalar) => match scalar_json(scalar) {
                        Json::String(s) => s,
                        other => other.to_string(),
                    },
                    _ => return Err(problem(key, "a mapping key must be a plain value")),
                };
                object.insert(key, to_json(value)?);
            }
            for source in merged {
                for (key, value) in source {
                    object.entry(key).or_insert(value);
                }
            }
            Json::Object(object)
        }
        YamlData::Tagged(_, inner) => to_json(inner)?,
        YamlData::Alias(_) => {
            return Err(problem(
                node,
                "anchors and aliases are not supported here; write the values out",
            ));
        }
        YamlData::BadValue => return Err(problem(node, "this YAML value cannot be read")),
    })
}

fn scalar_json(scalar: &Scalar) -> Json {
    match scalar {
        Scalar::Null => Json::Null,
        Scalar::Boolean(b) => Json::Bool(*b),
        Scalar::Integer(i) => Json::from(*i),
        Scalar::FloatingPoint(f) => {
            serde_json::Number::from_f64(f.into_inner()).map_or(Json::Null, Json::Number)
        }
        Scalar::String(s) => Json::String(s.to_string()),
    }
}

fn to_yaml(value: &Json) -> Yaml<'static> {
    match value {
        Json::Null => Yaml::Value(Scalar::Null),
        Json::Bool(b) => Yaml::Value(Scalar::Boolean(*b)),
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Yaml::Value(Scalar::Integer(i)),
            (None, Some(f)) if n.is_f64() => Yaml::Value(Scalar::FloatingPoint(f.into())),
            // An integer beyond i64 stays exact as text.
            _ => Yaml::Value(Scalar::String(Cow::Owned(n.to_string()))),
        },
        Json::String(s) => Yaml::Value(Scalar::String(Cow::Owned(s.clone()))),
        Json::Array(items) => Yaml::Sequence(items.iter().map(to_yaml).collect()),
        Json::Object(object) => {
            let mut mapping = saphyr::Mapping::new();
            for (key, value) in object {
                mapping.insert(
                    Yaml::Value(Scalar::String(Cow::Owned(key.clone()))),
                    to_yaml(value),
                );
            }
            Yaml::Mapping(mapping)
        }
    }
}

/// Writes a document: block style, multi-line strings as literal blocks, ending in a newline.
pub(crate) fn emit(value: &Json) -> String {
    let mut out = String::new();
    let mut emitter = YamlEmitter::new(&mut out);
    emitter.multiline(true);
    // Writing into a String cannot fail, and every value built by `to_yaml` can be emitted.
    let _ = emitter.dump(&to_yaml(value));
    let body = out.strip_prefix("---\n").unwrap_or(&out);
    format!("{}\n", body.trim_end())
}

/// The line of a top-level key in the first document, for error messages.
pub(crate) fn key_line(documents: &[MarkedYaml], key: &str) -> Option<usize> {
    let YamlData::Mapping(mapping) = &documents.first()?.data else {
        return None;
    };
    mapping.keys().find_map(|k| match &k.data {
        YamlData::Value(Scalar::String(s)) if s == key => Some(k.span.start.line()),
        _ => None,
    })
}
