//! What a module's image says about itself: the runtime config (entry point, working folder,
//! environment) and the labels, including the whole module description, so that a registry
//! alone is a catalogue of modules.

use std::collections::HashMap;

use oci_spec::image::Config;

use crate::module::{Module, image_paths};

/// The label holding the module description (compact JSON, the `.mlreef` key's form).
pub const MODULE_LABEL: &str = "com.mlreef.module";

/// What identifies the build of a module besides the module itself.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// The commit the repository is at (`org.opencontainers.image.revision`).
    pub revision: Option<String>,
    /// Where the repository lives (`org.opencontainers.image.source`), credentials removed.
    pub source: Option<String>,
    /// The SPDX licence, when the repository says (`org.opencontainers.image.licenses`).
    pub licenses: Option<String>,
    /// When it was made, RFC 3339 (`org.opencontainers.image.created`).
    pub created: String,
}

/// The labels of a module's image.
#[must_use]
pub fn labels(module: &Module, provenance: &Provenance) -> HashMap<String, String> {
    let mut labels = HashMap::new();
    let mut set = |key: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            labels.insert(format!("org.opencontainers.image.{key}"), value);
        }
    };
    set("title", Some(module.name.clone()));
    set("description", module.description.clone());
    set("version", Some(module.version.clone()));
    set("revision", provenance.revision.clone());
    set(
        "source",
        provenance.source.as_deref().map(without_credentials),
    );
    set("created", Some(provenance.created.clone()));
    set("licenses", provenance.licenses.clone());
    labels.insert(
        MODULE_LABEL.to_owned(),
        serde_json::to_string(module).unwrap_or_default(),
    );
    labels
}

/// A URL with any `user:password@` removed.
fn without_credentials(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            if path.is_empty() && !rest.contains('/') {
                format!("{scheme}://{host}")
            } else {
                format!("{scheme}://{host}/{path}")
            }
        }
        // `git@host:team/repo.git`: the user is not a secret, and there is no password.
        None => url.to_owned(),
    }
}

/// `NAME=VALUE` entries with `NAME` set to `value` (replacing an earlier one).
fn set_env(env: &mut Vec<String>, name: &str, value: &str) {
    let prefix = format!("{name}=");
    env.retain(|e| !e.starts_with(&prefix));
    env.push(format!("{prefix}{value}"));
}

/// The runtime config of a module's image on top of its base's: the module's entry point with
/// the image's Python (arguments follow the image name), `/workdir` as working folder, the
/// dependencies on `PYTHONPATH` and their console scripts on `PATH`, unbuffered output, and
/// the labels. What the base set otherwise (its environment, user, ports) is kept.
pub fn runtime_config(
    config: &mut Config,
    module: &Module,
    labels: impl IntoIterator<Item = (String, String)>,
) {
    config.set_entrypoint(Some(module.entrypoint()));
    config.set_cmd(None);
    config.set_working_dir(Some(image_paths::CODE_DIR.to_owned()));
    let mut env = config.env().clone().unwrap_or_default();
    let base_path = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .to_owned();
    let scripts = format!("{}/bin", image_paths::SITE_PACKAGES);
    let path = if base_path.split(':').any(|p| p == scripts) {
        base_path
    } else {
        format!("{scripts}:{base_path}")
    };
    set_env(&mut env, "PATH", &path);
    let python_path = match env.iter().find_map(|e| e.strip_prefix("PYTHONPATH=")) {
        Some(existing) if !existing.is_empty() && existing != image_paths::SITE_PACKAGES => {
            format!("{}:{existing}", image_paths::SITE_PACKAGES)
        }
        _ => image_paths::SITE_PACKAGES.to_owned(),
    };
    set_env(&mut env, "PYTHONPATH", &python_path);
    set_env(&mut env, "PYTHONUNBUFFERED", "1");
    config.set_env(Some(env));
    let mut all = config.labels().clone().unwrap_or_default();
    all.extend(labels);
    config.set_labels(Some(all));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::rfc3339;

    #[test]
    fn the_config_runs_the_module() {
        let module = Module {
            name: "classifier".into(),
            version: "3".into(),
            entry_points: crate::module::EntryPoints {
                train: "src/train.py".into(),
                inference: None,
            },
            ..Module::default()
        };
        let mut config = Config::default();
        config.set_env(Some(vec![
            "PATH=/usr/local/bin:/usr/bin".into(),
            "PYTHON_VERSION=3.11.7".into(),
        ]));
        config.set_cmd(Some(vec!["python3".into()]));
        let provenance = Provenance {
            source: Some("https://oauth2:glpat-secret@gitlab.com/team/classifier.git".into()),
            created: rfc3339(0),
            ..Provenance::default()
        };
        runtime_config(&mut config, &module, labels(&module, &provenance));
        assert_eq!(
            config.entrypoint().as_deref(),
            Some(&["python3".to_owned(), "/workdir/src/train.py".to_owned()][..])
        );
        assert_eq!(config.cmd(), &None);
        assert_eq!(config.working_dir().as_deref(), Some("/workdir"));
        let env = config.env().clone().unwrap();
        assert!(env.contains(&"PYTHONPATH=/opt/mlreef/site-packages".to_owned()));
        assert!(env.contains(&"PYTHONUNBUFFERED=1".to_owned()));
        assert!(env.contains(&"PYTHON_VERSION=3.11.7".to_owned()));
        assert!(
            env.contains(&"PATH=/opt/mlreef/site-packages/bin:/usr/local/bin:/usr/bin".to_owned())
        );
        let labels = config.labels().clone().unwrap();
        assert_eq!(labels["org.opencontainers.image.title"], "classifier");
        assert_eq!(labels["org.opencontainers.image.version"], "3");
        assert_eq!(
            labels["org.opencontainers.image.source"],
            "https://gitlab.com/team/classifier.git"
        );
        let described: Module = serde_json::from_str(&labels[MODULE_LABEL]).unwrap();
        assert_eq!(described, module);
        assert!(!labels.values().any(|v| v.contains("glpat-secret")));
    }
}
