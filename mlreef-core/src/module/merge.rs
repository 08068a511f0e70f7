//! Merging a fresh discovery into a recorded description: the code's facts are new, what a
//! person decided is kept, and every difference is listed for people.

use serde::{Deserialize, Serialize};

use super::Module;

/// One difference a merge made, for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Change(pub String);

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Merges a fresh discovery into what the user set: the code's facts (entry point,
/// parameters, requirements, script hash, branch) come from `discovered`; everything a person
/// decides (name, slug, description, kind, data types, visibility, version, base
/// environment, an inference entry point) is kept from `existing`.
#[must_use]
pub fn merge(existing: &Module, discovered: &Module) -> (Module, Vec<Change>) {
    let mut merged = existing.clone();
    let mut changes = Vec::new();
    let old_names: Vec<String> = existing
        .parameters
        .iter()
        .filter_map(|p| p.name.clone())
        .collect();
    let new_names: Vec<String> = discovered
        .parameters
        .iter()
        .filter_map(|p| p.name.clone())
        .collect();
    for name in new_names.iter().filter(|n| !old_names.contains(n)) {
        changes.push(Change(format!("parameter `{name}` added")));
    }
    for name in old_names.iter().filter(|n| !new_names.contains(n)) {
        changes.push(Change(format!("parameter `{name}` removed")));
    }
    for new in &discovered.parameters {
        let Some(old) = existing
            .parameters
            .iter()
            .find(|p| p.name == new.name && p.name.is_some())
        else {
            continue;
        };
        let name = new.name.as_deref().unwrap_or_default();
        if old.default != new.default {
            changes.push(Change(format!(
                "parameter `{name}`: default {} -> {}",
                old.default, new.default
            )));
        }
        if old.schema_type != new.schema_type
            || old.required != new.required
            || old.choices != new.choices
        {
            changes.push(Change(format!(
                "parameter `{name}`: type, choices or required-ness changed"
            )));
        }
    }
    for line in discovered
        .requirements
        .iter()
        .filter(|l| !existing.requirements.contains(l))
    {
        changes.push(Change(format!("requirement `{line}` added")));
    }
    for line in existing
        .requirements
        .iter()
        .filter(|l| !discovered.requirements.contains(l))
    {
        changes.push(Change(format!("requirement `{line}` removed")));
    }
    if existing.entry_points.train != discovered.entry_points.train {
        changes.push(Change(format!(
            "entry point `{}` -> `{}`",
            existing.entry_points.train, discovered.entry_points.train
        )));
    } else if existing.script_sha256 != discovered.script_sha256 {
        changes.push(Change(format!(
            "`{}` changed (new sha256)",
            discovered.entry_points.train
        )));
    }
    if existing.branch != discovered.branch {
        changes.push(Change(format!(
            "branch {} -> {}",
            existing.branch.as_deref().unwrap_or("(none)"),
            discovered.branch.as_deref().unwrap_or("(none)")
        )));
    }
    merged
        .entry_points
        .train
        .clone_from(&discovered.entry_points.train);
    merged.parameters.clone_from(&discovered.parameters);
    merged
        .requirements_file
        .clone_from(&discovered.requirements_file);
    merged.requirements.clone_from(&discovered.requirements);
    merged.script_sha256.clone_from(&discovered.script_sha256);
    merged.branch.clone_from(&discovered.branch);
    (merged, changes)
}
