//! Pushes to a real registry (Debian's docker-registry, see mlreef-testing), each checked with
//! skopeo: the image the registry holds has our digests, a second push sends no blob, a tag is
//! not silently replaced, blobs another repository has are mounted, and a push stopped midway
//! leaves no tag.

use std::io::Write as _;
use std::sync::Mutex;

use mlreef_core::oci::{
    BlobStore, Compression, Credentials, Error, Image, ImageRef, Layer, LayerRole, Location,
    PushEvent, PushOutcome, Registry, RegistryOptions, RegistryRef, digest_bytes,
};
use mlreef_core::platform::Platform;
use mlreef_core::progress::Cancelled;
use mlreef_testing::{TestRegistry, auth_registry, registry, skopeo};

/// A gzip layer of `size` pseudo-random bytes (incompressible, so its size is real).
fn layer(store: &BlobStore, name: &str, size: usize, seed: u64) -> Layer {
    let mut data = Vec::with_capacity(size);
    let mut x = seed | 1;
    while data.len() < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.extend_from_slice(&x.to_le_bytes());
    }
    data.truncate(size);
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_cksum();
    tar.append_data(&mut header, name, data.as_slice()).unwrap();
    let tar = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(1));
    gz.write_all(&tar).unwrap();
    let gz = gz.finish().unwrap();
    let (digest, size) = store.put(&gz).unwrap();
    Layer {
        media_type: Compression::Gzip.media_type(),
        digest,
        size,
        diff_id: digest_bytes(&tar),
        role: LayerRole::Code,
        cached: false,
        created_by: format!("ADD {name}"),
        location: Location::Store,
    }
}

fn image(store: &BlobStore, platform: &str, layers: &[(&str, usize, u64)]) -> Image {
    let platform: Platform = platform.parse().unwrap();
    let mut image = Image::scratch(&platform).created_at("1970-01-01T00:00:00Z");
    for (name, size, seed) in layers {
        image = image.with_layer(layer(store, name, *size, *seed), "1970-01-01T00:00:00Z");
    }
    image
}

fn target(registry: &TestRegistry, name: &str) -> RegistryRef {
    match format!("docker://{}/{name}", registry.address)
        .parse()
        .unwrap()
    {
        ImageRef::Registry(r) => r,
        other => panic!("{other:?}"),
    }
}

fn options(registry: &TestRegistry) -> RegistryOptions {
    RegistryOptions {
        credentials: registry
            .credentials
            .iter()
            .map(|(user, password)| {
                (
                    registry.address.clone(),
                    Credentials {
                        username: user.clone(),
                        password: password.clone(),
                    },
                )
            })
            .collect(),
        ..RegistryOptions::default()
    }
}

/// What skopeo says the registry holds: the digest of `name`'s manifest.
fn skopeo_digest(registry: &TestRegistry, name: &str) -> String {
    let mut args = vec!["inspect", "--tls-verify=false", "--raw"];
    let creds;
    if let Some((user, password)) = &registry.credentials {
        creds = format!("{user}:{password}");
        args.extend(["--creds", &creds]);
    }
    let reference = format!("docker://{}/{name}", registry.address);
    args.push(&reference);
    digest_bytes(skopeo(&args).as_bytes()).to_string()
}

/// Events, recorded.
#[derive(Default)]
struct Recorder(Mutex<Vec<PushEvent>>);

impl Recorder {
    fn report(&self, event: &PushEvent) {
        self.0.lock().unwrap().push(event.clone());
    }

    fn count(&self, matches: impl Fn(&PushEvent) -> bool) -> usize {
        self.0.lock().unwrap().iter().filter(|e| matches(e)).count()
    }
}

#[test]
fn a_push_is_what_skopeo_reads_back_and_a_second_push_sends_nothing() {
    let work = tempfile::tempdir().unwrap();
    let store = BlobStore::open(work.path().join("store")).unwrap();
    let built = image(
        &store,
        "linux/amd64",
        &[("a.bin", 300_000, 1), ("b.bin", 50_000, 2)],
    );
    let registry = registry();
    let name = "tests/push:1";
    let client = Registry::new(&options(&registry)).unwrap();
    let events = Recorder::default();
    let outcome = client
        .push(
            std::slice::from_ref(&built),
            &store,
            &target(&registry, name),
            false,
            &|e| {
                events.report(e);
                Ok(())
            },
        )
        .unwrap();
    let PushOutcome::Pushed { digest, stats } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(digest, built.digest());
    assert_eq!((stats.uploaded, stats.skipped, stats.mounted), (3, 0, 0));
    assert!(events.count(|e| matches!(e, PushEvent::Bytes { .. })) >= 2);
    assert_eq!(skopeo_digest(&registry, name), built.digest().to_string());
    // skopeo copies it back, and the copy has the same digest.
    let copy = work.path().join("copy");
    let _ = skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{}/{name}", registry.address),
        &format!("oci:{}:back", copy.display()),
    ]);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(copy.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], built.digest().to_string());

    // The same image again: nothing is sent.
    let again = client
        .push(
            std::slice::from_ref(&built),
            &store,
            &target(&registry, name),
            false,
            &|_| Ok(()),
        )
        .unwrap();
    assert_eq!(
        again,
        PushOutcome::Unchanged {
            digest: built.digest()
        }
    );
    // Under another tag: every blob is there already.
    let other = client
        .push(
            std::slice::from_ref(&built),
            &store,
            &target(&registry, "tests/push:2"),
            false,
            &|_| Ok(()),
        )
        .unwrap();
    let PushOutcome::Pushed { stats, .. } = other else {
        panic!("{other:?}")
    };
    assert_eq!((stats.uploaded, stats.skipped, stats.bytes), (0, 3, 0));
}

#[test]
fn a_version_is_not_replaced_unless_forced() {
    let work = tempfile::tempdir().unwrap();
    let store = BlobStore::open(work.path()).unwrap();
    let first = image(&store, "linux/amd64", &[("v.txt", 1000, 3)]);
    let second = image(&store, "linux/amd64", &[("v.txt", 1000, 4)]);
    let registry = registry();
    let name = "tests/immutable:1";
    let client = Registry::new(&options(&registry)).unwrap();
    let r = target(&registry, name);
    client
        .push(std::slice::from_ref(&first), &store, &r, false, &|_| Ok(()))
        .unwrap();
    let refused = client
        .push(
            std::slice::from_ref(&second),
            &store,
            &r,
            false,
            &|_| Ok(()),
        )
        .unwrap_err();
    assert!(matches!(&refused, Error::TagExists { .. }), "{refused:?}");
    assert_eq!(skopeo_digest(&registry, name), first.digest().to_string());
    client
        .push(std::slice::from_ref(&second), &store, &r, true, &|_| Ok(()))
        .unwrap();
    assert_eq!(skopeo_digest(&registry, name), second.digest().to_string());
}

#[test]
fn an_index_chunks_and_mounts() {
    let work = tempfile::tempdir().unwrap();
    let store = BlobStore::open(work.path()).unwrap();
    let registry = registry();
    let client = Registry::new(&options(&registry)).unwrap();
    // A base in one repository.
    let base = image(&store, "linux/amd64", &[("base.bin", 200_000, 5)]);
    client
        .push(
            std::slice::from_ref(&base),
            &store,
            &target(&registry, "tests/base:1"),
            false,
            &|_| Ok(()),
        )
        .unwrap();
    // Read back from there, its layer stays in the registry; a module on top of it, for two
    // platforms, pushed in chunks to another repository.
    let fresh = BlobStore::open(work.path().join("fresh")).unwrap();
    let pulled = client
        .pull_image(
            &target(&registry, "tests/base:1"),
            &Platform::linux_amd64(),
            &fresh,
        )
        .unwrap();
    let code = layer(&fresh, "code.py", 120_000, 6);
    let amd64 = pulled.with_layer(code.clone(), "1970-01-01T00:00:00Z");
    let arm64 = image(&fresh, "linux/arm64", &[("arm.bin", 10_000, 7)])
        .with_layer(code, "1970-01-01T00:00:00Z");
    let chunked = Registry::new(&RegistryOptions {
        chunk_size: Some(32 * 1024),
        ..options(&registry)
    })
    .unwrap();
    let events = Recorder::default();
    let outcome = chunked
        .push(
            &[amd64.clone(), arm64.clone()],
            &fresh,
            &target(&registry, "tests/module:1"),
            false,
            &|e| {
                events.report(e);
                Ok(())
            },
        )
        .unwrap();
    let PushOutcome::Pushed { digest, stats } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        stats.mounted, 1,
        "the base layer is mounted from tests/base"
    );
    assert!(
        !fresh.contains(&base.layers[0].digest),
        "and never downloaded"
    );
    assert_eq!(
        skopeo_digest(&registry, "tests/module:1"),
        digest.to_string()
    );
    // The index names each platform's manifest, as skopeo reads it.
    let raw = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--raw",
        &format!("docker://{}/tests/module:1", registry.address),
    ]);
    let index: serde_json::Value = serde_json::from_str(&raw).unwrap();
    for (arch, image) in [("arm64", &arm64), ("amd64", &amd64)] {
        let entry = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["platform"]["architecture"] == arch)
            .unwrap();
        assert_eq!(entry["digest"], image.digest().to_string(), "{arch}");
        let raw = skopeo(&[
            "inspect",
            "--tls-verify=false",
            "--raw",
            &format!(
                "docker://{}/tests/module@{}",
                registry.address,
                image.digest()
            ),
        ]);
        assert_eq!(digest_bytes(raw.as_bytes()), image.digest(), "{arch}");
    }
}

#[test]
fn a_cancelled_push_leaves_no_tag() {
    let work = tempfile::tempdir().unwrap();
    let store = BlobStore::open(work.path()).unwrap();
    let built = image(&store, "linux/amd64", &[("big.bin", 4 << 20, 8)]);
    let registry = registry();
    let client = Registry::new(&options(&registry)).unwrap();
    let r = target(&registry, "tests/cancelled:1");
    let error = client
        .push(
            std::slice::from_ref(&built),
            &store,
            &r,
            false,
            &|event| match event {
                PushEvent::Bytes { done, .. } if *done > 0 => Err(Cancelled),
                _ => Ok(()),
            },
        )
        .unwrap_err();
    assert!(matches!(error, Error::Cancelled), "{error:?}");
    assert_eq!(client.manifest_digest(&r, "1").unwrap(), None);
}

#[test]
fn pushing_with_basic_auth() {
    let work = tempfile::tempdir().unwrap();
    let store = BlobStore::open(work.path()).unwrap();
    let built = image(&store, "linux/amd64", &[("private.bin", 5000, 9)]);
    let registry = auth_registry();
    let client = Registry::new(&options(&registry)).unwrap();
    client
        .push(
            std::slice::from_ref(&built),
            &store,
            &target(&registry, "tests/private-push:1"),
            false,
            &|_| Ok(()),
        )
        .unwrap();
    assert_eq!(
        skopeo_digest(&registry, "tests/private-push:1"),
        built.digest().to_string()
    );
    let anonymous =
        Registry::with_env(&RegistryOptions::default(), std::sync::Arc::new(|_| None)).unwrap();
    let refused = anonymous
        .push(
            &[built],
            &store,
            &target(&registry, "tests/private-push:2"),
            false,
            &|_| Ok(()),
        )
        .unwrap_err();
    assert!(
        matches!(
            &refused,
            Error::Registry {
                status: Some(401),
                ..
            }
        ),
        "{refused:?}"
    );
}

/// A push through a proxy that injects `faults` (and maybe demands expiring tokens) into the
/// anonymous test registry; the registry must end up with exactly the image.
fn push_through(
    faults: Vec<mlreef_testing::proxy::Fault>,
    tokens: Option<mlreef_testing::proxy::Tokens>,
    name: &str,
    retries: Option<u32>,
) -> (
    Result<PushOutcome, Error>,
    Image,
    mlreef_testing::proxy::Proxy,
) {
    let work = tempfile::tempdir().unwrap();
    let store = BlobStore::open(work.path()).unwrap();
    let built = image(
        &store,
        "linux/amd64",
        &[("one.bin", 600_000, 11), ("two.bin", 300_000, 12)],
    );
    let registry = registry();
    let proxy = mlreef_testing::proxy::start(&registry.address, faults, tokens);
    let through = TestRegistry {
        address: proxy.address.clone(),
        credentials: None,
    };
    let client = Registry::with_env(
        &RegistryOptions {
            retries,
            ..RegistryOptions::default()
        },
        std::sync::Arc::new(|_| None),
    )
    .unwrap();
    let outcome = client.push(
        std::slice::from_ref(&built),
        &store,
        &target(&through, name),
        false,
        &|_| Ok(()),
    );
    (outcome, built, proxy)
}

#[test]
fn server_errors_rate_limits_and_broken_uploads_are_retried() {
    use mlreef_testing::proxy::{Action, Fault};
    let faults = vec![
        Fault {
            method: "HEAD",
            path_contains: "/blobs/",
            nth: 1,
            times: 2,
            action: Action::Status(500, vec![]),
        },
        Fault {
            method: "POST",
            path_contains: "/blobs/uploads/",
            nth: 1,
            times: 1,
            action: Action::Status(429, vec![("Retry-After", "1".to_owned())]),
        },
        Fault {
            method: "PUT",
            path_contains: "/blobs/uploads/",
            nth: 1,
            times: 1,
            action: Action::ResetAfter(100_000),
        },
        Fault {
            method: "PUT",
            path_contains: "/manifests/",
            nth: 1,
            times: 1,
            action: Action::Status(503, vec![]),
        },
    ];
    let name = "tests/faults:1";
    let (outcome, built, proxy) = push_through(faults, None, name, None);
    let outcome = outcome.unwrap();
    assert_eq!(outcome.digest(), &built.digest());
    assert_eq!(skopeo_digest(&registry(), name), built.digest().to_string());
    let log = proxy.log.lock().unwrap().clone();
    // The broken upload was started again: more upload PUTs than blobs.
    let puts = log
        .iter()
        .filter(|l| l.starts_with("PUT") && l.contains("/blobs/uploads/"))
        .count();
    assert!(puts > 3, "{log:#?}");
}

#[test]
fn expired_tokens_are_renewed_mid_push() {
    let name = "tests/tokens:1";
    let (outcome, built, proxy) = push_through(
        vec![],
        Some(mlreef_testing::proxy::Tokens { uses: 3 }),
        name,
        None,
    );
    outcome.unwrap();
    assert_eq!(skopeo_digest(&registry(), name), built.digest().to_string());
    let tokens = proxy
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("/token"))
        .count();
    assert!(tokens >= 3, "tokens were renewed: {tokens}");
}

#[test]
fn faults_beyond_the_retry_bound_fail_clearly_and_write_no_tag() {
    use mlreef_testing::proxy::{Action, Fault};
    let faults = vec![Fault {
        method: "PUT",
        path_contains: "/manifests/",
        nth: 1,
        times: 100,
        action: Action::Status(500, vec![]),
    }];
    let name = "tests/failed:1";
    let (outcome, _, _) = push_through(faults, None, name, Some(2));
    let error = outcome.unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Registry {
                status: Some(500),
                ..
            }
        ),
        "{error:?}"
    );
    let client = Registry::new(&RegistryOptions::default()).unwrap();
    assert_eq!(
        client
            .manifest_digest(&target(&registry(), name), "1")
            .unwrap(),
        None
    );
}
