//! `publish::publish`: a module built and pushed to a real registry (Debian's docker-registry,
//! see mlreef-testing), each push checked with skopeo: the registry holds our digests, a copy
//! back has the same ones, a second publish sends nothing, a version is not silently replaced,
//! a base in the same registry is mounted rather than downloaded, and a publish stopped before
//! its tag leaves none.

mod oci_common;

use std::fs;
use std::path::Path;
use std::sync::Mutex;

use mlreef_core::oci::{self, BlobStore, Credentials, ImageRef, Registry, RegistryOptions};
use mlreef_core::platform::Platform;
use mlreef_core::progress::{Cancelled, Event, Silent};
use mlreef_core::publish::{
    BuildOptions, BuildResult, PublishOptions, ReadOptions, inspect_image, list_modules, publish,
    publish_with, pull,
};
use mlreef_core::{Error, error_chain};
use mlreef_testing::{TestRegistry, auth_registry, path_str, registry, skopeo};
use oci_common::verify_layout;
use serde_json::Value;

const TRAIN: &str = "import argparse\np = argparse.ArgumentParser()\np.add_argument('--epochs', type=int, default=3)\np.parse_args()\n";

fn repo(dir: &Path) -> std::path::PathBuf {
    let repo = dir.join("classifier");
    fs::create_dir_all(&repo).unwrap();
    fs::write(repo.join("train.py"), TRAIN).unwrap();
    repo
}

/// A repository name no other test uses.
fn unique(name: &str) -> String {
    static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    )
}

fn options(registry: &TestRegistry, reference: &str, cache: &Path) -> PublishOptions {
    let mut build = BuildOptions {
        base: Some(ImageRef::Scratch),
        output: Some(
            format!("docker://{}/{reference}", registry.address)
                .parse()
                .unwrap(),
        ),
        cache: Some(cache.to_owned()),
        source_date_epoch: Some(0),
        ..BuildOptions::default()
    };
    build.deps.python = Some("3.11".into());
    if let Some((username, password)) = &registry.credentials {
        build.registry.credentials.push((
            registry.address.clone(),
            Credentials {
                username: username.clone(),
                password: password.clone(),
            },
        ));
    }
    PublishOptions {
        build,
        force: false,
    }
}

fn skopeo_args(registry: &TestRegistry) -> Vec<String> {
    let mut args = vec!["--tls-verify=false".to_owned()];
    if let Some((user, password)) = &registry.credentials {
        args.push(format!("--creds={user}:{password}"));
    }
    args
}

/// The digest of the manifest `reference` names, as skopeo reads it (`None`: no such tag).
fn registry_digest(registry: &TestRegistry, reference: &str) -> Option<String> {
    let mut command = std::process::Command::new(mlreef_testing::tool("skopeo"));
    command
        .arg("inspect")
        .args(skopeo_args(registry))
        .args(["--format", "{{.Digest}}"])
        .arg(format!("docker://{}/{reference}", registry.address));
    let out = command.output().unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Copies the pushed image back into a layout with skopeo and checks every digest there.
fn copied_back(registry: &TestRegistry, reference: &str, dir: &Path) -> String {
    let layout = dir.join(unique("copy"));
    let mut args: Vec<String> = vec![
        "copy".into(),
        "--all".into(),
        "--src-tls-verify=false".into(),
    ];
    if let Some((user, password)) = &registry.credentials {
        args.push(format!("--src-creds={user}:{password}"));
    }
    args.push(format!("docker://{}/{reference}", registry.address));
    args.push(format!("oci:{}:back", path_str(&layout)));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let _ = skopeo(&args);
    verify_layout(&layout, "back").0
}

fn published(result: &Result<BuildResult, Error>) -> &BuildResult {
    result
        .as_ref()
        .unwrap_or_else(|e| panic!("{}", error_chain(e)))
}

#[test]
fn a_module_is_pushed_once_and_its_version_never_silently_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repo(dir.path());
    let registry = registry();
    let name = unique("team/classifier");
    let reference = format!("{name}:1");
    let cache = dir.path().join("cache");
    let first = publish(&repo, &options(&registry, &reference, &cache));
    let first = published(&first);
    assert_eq!(
        first.reference,
        format!("docker://{}/{reference}", registry.address)
    );
    let pushed = first.pushed.unwrap();
    assert_eq!(
        (pushed.uploaded, pushed.skipped, pushed.mounted),
        (2, 0, 0),
        "config and code"
    );
    assert!(pushed.bytes > 0);
    assert_eq!(
        registry_digest(&registry, &reference).as_deref(),
        Some(first.digest.as_str())
    );
    assert_eq!(copied_back(&registry, &reference, dir.path()), first.digest);
    let inspected: Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{}/{reference}", registry.address),
    ]))
    .unwrap();
    let module: mlreef_core::Module =
        serde_json::from_str(inspected["Labels"]["com.mlreef.module"].as_str().unwrap()).unwrap();
    assert_eq!(module, first.module);

    // The same image again, from another cache: nothing is sent.
    let again = publish(
        &repo,
        &options(&registry, &reference, &dir.path().join("other")),
    );
    let again = published(&again);
    assert_eq!(again.digest, first.digest);
    let pushed = again.pushed.unwrap();
    assert_eq!((pushed.uploaded, pushed.skipped, pushed.bytes), (0, 2, 0));

    // Another image under the same version is refused, and the registry keeps the first.
    fs::write(repo.join("train.py"), format!("{TRAIN}# tuned\n")).unwrap();
    let refused = publish(&repo, &options(&registry, &reference, &cache)).unwrap_err();
    match &refused {
        Error::Image(oci::Error::TagExists { existing, new, .. }) => {
            assert_eq!(existing, &first.digest);
            assert_ne!(new, &first.digest);
        }
        other => panic!("{}", error_chain(other)),
    }
    assert!(refused.to_string().contains("does not change"), "{refused}");
    assert_eq!(
        registry_digest(&registry, &reference).as_deref(),
        Some(first.digest.as_str())
    );

    // Forced, it replaces the tag; only the new code layer and config travel.
    let mut forced = options(&registry, &reference, &cache);
    forced.force = true;
    let replaced = publish(&repo, &forced);
    let replaced = published(&replaced);
    assert_ne!(replaced.digest, first.digest);
    assert_eq!(replaced.pushed.unwrap().uploaded, 2);
    assert_eq!(
        registry_digest(&registry, &reference).as_deref(),
        Some(replaced.digest.as_str())
    );
}

#[test]
fn a_base_in_the_same_registry_is_mounted_and_never_downloaded() {
    let dir = tempfile::tempdir().unwrap();
    let registry = registry();
    // A base with a Python the config names (as the official images do), pushed first.
    let store = BlobStore::open(dir.path().join("base-cache")).unwrap();
    let base_repo = repo(&dir.path().join("base"));
    fs::write(base_repo.join("bulk.bin"), vec![7u8; 300_000]).unwrap();
    let mut base_options = options(&registry, "unused:1", &dir.path().join("base-cache"));
    base_options.build.output = Some(ImageRef::Layout {
        dir: dir.path().join("base-layout"),
        tag: Some("base".into()),
    });
    publish(&base_repo, &base_options).unwrap();
    let base = oci::read_layout(
        &store,
        &dir.path().join("base-layout"),
        Some("base"),
        &Platform::linux_amd64(),
        &Silent,
    )
    .unwrap()
    .with_config(|c| {
        let mut env = c.env().clone().unwrap_or_default();
        env.push("PYTHON_VERSION=3.12.4".into());
        c.set_env(Some(env));
    });
    let base_name = unique("bases/python");
    let client = Registry::new(&RegistryOptions::default()).unwrap();
    let base_ref = match format!("docker://{}/{base_name}:3.12", registry.address)
        .parse()
        .unwrap()
    {
        ImageRef::Registry(r) => r,
        other => panic!("{other:?}"),
    };
    client
        .push(
            std::slice::from_ref(&base),
            &store,
            &base_ref,
            false,
            &|_| Ok(()),
        )
        .unwrap();

    // The module on that base, from an empty cache, to another repository of the registry.
    let repo = repo(dir.path());
    let cache = dir.path().join("cache");
    let mut module = options(&registry, &format!("{}:1", unique("team/on-base")), &cache);
    module.build.base = Some(ImageRef::Registry(base_ref));
    module.build.deps.python = None;
    let events = Mutex::new(Vec::new());
    let record = |event: &Event<'_>| -> Result<(), Cancelled> {
        events.lock().unwrap().push((
            event.stage.to_owned(),
            event.detail.unwrap_or("").to_owned(),
        ));
        Ok(())
    };
    let result = publish_with(&repo, &module, &record);
    let result = published(&result);
    assert_eq!(
        result.platforms[0].python.as_deref(),
        Some("3.12"),
        "from the base's config"
    );
    let pushed = result.pushed.unwrap();
    assert_eq!(pushed.mounted, 1, "{pushed:?}");
    let base_layer = &base.layers[0].digest;
    let mounted = format!("{base_layer} from {base_name}");
    assert!(
        events
            .lock()
            .unwrap()
            .contains(&("mounted".to_owned(), mounted)),
        "{:?}",
        events.lock().unwrap()
    );
    assert!(
        !BlobStore::open(&cache).unwrap().contains(base_layer),
        "the base layer was never downloaded"
    );
    let reference = result
        .reference
        .trim_start_matches(&format!("docker://{}/", registry.address));
    assert_eq!(copied_back(&registry, reference, dir.path()), result.digest);
}

#[test]
fn a_registry_with_a_password_takes_it_and_a_wrong_one_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repo(dir.path());
    let registry = auth_registry();
    let reference = format!("{}:1", unique("private/classifier"));
    let cache = dir.path().join("cache");
    let result = publish(&repo, &options(&registry, &reference, &cache));
    let result = published(&result);
    assert_eq!(
        registry_digest(&registry, &reference).as_deref(),
        Some(result.digest.as_str())
    );
    assert_eq!(
        copied_back(&registry, &reference, dir.path()),
        result.digest
    );

    let (user, password) = registry.credentials.clone().unwrap();
    let wrong = TestRegistry {
        address: registry.address.clone(),
        credentials: Some((user, format!("{password}-wrong"))),
    };
    let other = format!("{}:1", unique("private/other"));
    let error = publish(&repo, &options(&wrong, &other, &cache)).unwrap_err();
    match &error {
        Error::Image(oci::Error::Registry {
            status,
            registry: named,
            ..
        }) => {
            assert_eq!(*status, Some(401));
            assert_eq!(named, &registry.address);
        }
        other => panic!("{}", error_chain(other)),
    }
    let text = error_chain(&error);
    assert!(!text.contains(&password), "{text}");
    assert_eq!(registry_digest(&registry, &other), None);
}

#[test]
fn a_publish_stopped_before_its_tag_leaves_none_and_two_platforms_make_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repo(dir.path());
    let registry = registry();
    let reference = format!("{}:1", unique("team/stopped"));
    let cache = dir.path().join("cache");
    let stop_at_the_tag = |event: &Event<'_>| -> Result<(), Cancelled> {
        if event.stage == "manifest" {
            Err(Cancelled)
        } else {
            Ok(())
        }
    };
    let error = publish_with(
        &repo,
        &options(&registry, &reference, &cache),
        &stop_at_the_tag,
    )
    .unwrap_err();
    assert!(error.to_string().contains("cancelled"), "{error}");
    assert_eq!(registry_digest(&registry, &reference), None, "no tag");

    let mut both = options(&registry, &reference, &cache);
    both.build.platforms = vec![Platform::linux_amd64(), "linux/arm64".parse().unwrap()];
    let result = publish(&repo, &both);
    let result = published(&result);
    let raw: Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--raw",
        &format!("docker://{}/{reference}", registry.address),
    ]))
    .unwrap();
    assert_eq!(raw["mediaType"], "application/vnd.oci.image.index.v1+json");
    assert_eq!(raw["manifests"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        copied_back(&registry, &reference, dir.path()),
        result.digest
    );
}

/// The read options of a registry (its credentials) and a cache.
fn read_options(registry: &TestRegistry, cache: &Path) -> ReadOptions {
    let built = options(registry, "unused:1", cache).build;
    ReadOptions {
        registry: built.registry,
        platform: None,
        cache: Some(cache.to_owned()),
    }
}

#[test]
fn the_registry_is_a_catalogue_of_the_modules_published_there() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repo(dir.path());
    let registry = auth_registry();
    let name = unique("team/catalogue");
    let cache = dir.path().join("cache");
    let first = publish(&repo, &options(&registry, &format!("{name}:1"), &cache));
    let first = published(&first).clone();
    fs::write(repo.join("train.py"), format!("{TRAIN}# version two\n")).unwrap();
    let mut second = options(&registry, &format!("{name}:2"), &cache);
    second.build.source_date_epoch = Some(1);
    let second = publish(&repo, &second);
    let second = published(&second).clone();

    // An image that is not a module's, in the same repository.
    let store = BlobStore::open(&cache).unwrap();
    let plain = oci::Image::scratch(&Platform::linux_amd64()).created_at("1970-01-01T00:00:00Z");
    let target: ImageRef = format!("docker://{}/{name}:plain", registry.address)
        .parse()
        .unwrap();
    let ImageRef::Registry(target) = target else {
        unreachable!()
    };
    let client = Registry::new(&read_options(&registry, &cache).registry).unwrap();
    client
        .push(&[plain], &store, &target, false, &|_| Ok(()))
        .unwrap();

    let read = read_options(&registry, dir.path().join("fresh").as_path());
    let repository = match format!("{}/{name}", registry.address).parse().unwrap() {
        ImageRef::Registry(r) => r,
        other => panic!("{other:?}"),
    };
    let list = list_modules(&repository, &read).unwrap();
    assert_eq!(
        list.repository,
        format!("docker://{}/{name}", registry.address)
    );
    let tags: Vec<(&str, Option<&str>, Option<&str>)> = list
        .tags
        .iter()
        .map(|t| {
            (
                t.tag.as_str(),
                t.digest.as_deref(),
                t.module.as_ref().map(|m| m.version.as_str()),
            )
        })
        .collect();
    assert_eq!(
        tags,
        [
            ("1", Some(first.digest.as_str()), Some("1")),
            ("2", Some(second.digest.as_str()), Some("1")),
            (
                "plain",
                registry_digest(&registry, &format!("{name}:plain")).as_deref(),
                None
            ),
        ]
    );
    let summary = list.tags[0].module.as_ref().unwrap();
    assert_eq!(
        (summary.name.as_str(), summary.kind, summary.parameters),
        ("classifier", first.module.kind, 1)
    );
    assert!(list.tags.iter().all(|t| t.error.is_none()), "{list:?}");

    // Inspecting a tag gives the module as published; a plain image is a clear error.
    let reference: ImageRef = format!("docker://{}/{name}:2", registry.address)
        .parse()
        .unwrap();
    let inspected = inspect_image(&reference, &read).unwrap();
    assert_eq!(inspected.module, second.module);
    assert_eq!(inspected.digest, second.digest);
    let plain: ImageRef = format!("docker://{}/{name}:plain", registry.address)
        .parse()
        .unwrap();
    let error = inspect_image(&plain, &read).unwrap_err();
    assert!(
        error_chain(&error).contains("not an mlreef module"),
        "{}",
        error_chain(&error)
    );

    // Pulled into a layout, the image has the registry's digest and reads the same.
    let layout: ImageRef = format!("oci:{}:pulled", path_str(&dir.path().join("layout")))
        .parse()
        .unwrap();
    let ImageRef::Registry(source) = reference else {
        unreachable!()
    };
    let pulled = pull(&source, &layout, &read, &Silent).unwrap();
    assert_eq!(pulled.digest, second.digest);
    assert_eq!(
        verify_layout(&dir.path().join("layout"), "pulled").0,
        second.digest
    );
    assert_eq!(inspect_image(&layout, &read).unwrap().module, second.module);

    // Without the password the registry refuses, and says so.
    let anonymous = ReadOptions {
        cache: Some(dir.path().join("anonymous")),
        ..ReadOptions::default()
    };
    let refused = list_modules(&repository, &anonymous).unwrap_err();
    assert!(
        matches!(
            refused,
            Error::Image(oci::Error::Registry {
                status: Some(401),
                ..
            })
        ),
        "{}",
        error_chain(&refused)
    );
}
