//! Bases pulled from a real registry (Debian's docker-registry, see mlreef-testing): the image
//! read back has the digests skopeo pushed, the platform is picked from an index, layers stay
//! in the registry until a sink needs them and are checked when they come, and a registry that
//! refuses or lies is a clear error.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

use mlreef_core::oci::{
    BlobStore, Compression, Credentials, Error, Image, ImageRef, Layer, LayerRole, Location,
    Registry, RegistryOptions, RegistryRef, canonical_json, digest_bytes, index,
};
use mlreef_core::platform::Platform;
use mlreef_core::progress::{Cancelled, Event, Silent};
use mlreef_testing::{TestRegistry, auth_registry, path_str, registry, skopeo};

/// A gzip layer holding one file, stored; its `Layer`.
fn layer(store: &BlobStore, name: &str, text: &str) -> Layer {
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(text.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_cksum();
    tar.append_data(&mut header, name, text.as_bytes()).unwrap();
    let tar = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    gz.write_all(&tar).unwrap();
    let gz = gz.finish().unwrap();
    let (digest, size) = store.put(&gz).unwrap();
    Layer {
        media_type: Compression::Gzip.media_type(),
        digest,
        size,
        diff_id: digest_bytes(&tar),
        role: LayerRole::Base,
        cached: false,
        created_by: format!("ADD {name}"),
        location: Location::Store,
    }
}

fn image(store: &BlobStore, platform: &str, text: &str) -> Image {
    let platform: Platform = platform.parse().unwrap();
    Image::scratch(&platform)
        .created_at("1970-01-01T00:00:00Z")
        .with_layer(layer(store, "hello.txt", text), "1970-01-01T00:00:00Z")
}

/// Writes an OCI layout of `images` (an index when there are several) tagged `tag`.
fn layout(dir: &Path, store: &BlobStore, images: &[Image], tag: &str) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let digest = digest_bytes(bytes);
        std::fs::write(blobs.join(digest.digest()), bytes).unwrap();
        digest
    };
    for image in images {
        put(&image.config_bytes());
        put(&image.manifest().1);
        for l in &image.layers {
            std::fs::copy(store.path(&l.digest), blobs.join(l.digest.digest())).unwrap();
        }
    }
    let (media_type, bytes) = if images.len() == 1 {
        (
            "application/vnd.oci.image.manifest.v1+json",
            images[0].manifest().1,
        )
    } else {
        ("application/vnd.oci.image.index.v1+json", index(images).1)
    };
    let digest = put(&bytes);
    let top = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": media_type,
            "digest": digest.to_string(),
            "size": bytes.len(),
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }],
    });
    std::fs::write(dir.join("index.json"), canonical_json(&top)).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

fn push(registry: &TestRegistry, dir: &Path, tag: &str, name: &str, all: bool) {
    let mut args = vec!["copy", "--dest-tls-verify=false"];
    if all {
        args.push("--all");
    }
    let creds;
    if let Some((user, password)) = &registry.credentials {
        creds = format!("{user}:{password}");
        args.extend(["--dest-creds", &creds]);
    }
    let src = format!("oci:{}:{tag}", path_str(dir));
    let dest = format!("docker://{}/{name}", registry.address);
    args.extend([src.as_str(), dest.as_str()]);
    let _ = skopeo(&args);
}

/// Puts `images` in the registry as `name` with skopeo (through a layout in `work`): an index
/// when there are several.
fn skopeo_push(
    registry: &TestRegistry,
    work: &Path,
    store: &BlobStore,
    images: &[Image],
    name: &str,
) {
    let dir = work.join("layout");
    layout(&dir, store, images, "pushed");
    push(registry, &dir, "pushed", name, images.len() > 1);
}

fn reference(registry: &TestRegistry, name: &str) -> RegistryRef {
    match format!("docker://{}/{name}", registry.address)
        .parse()
        .unwrap()
    {
        ImageRef::Registry(r) => r,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_base_is_pulled_with_its_digests_and_its_layers_fetched_when_needed() {
    let work = tempfile::tempdir().unwrap();
    let store = BlobStore::open(work.path().join("store")).unwrap();
    let built = image(&store, "linux/amd64", "hello from the base\n");
    let registry = registry();
    skopeo_push(
        &registry,
        work.path(),
        &store,
        std::slice::from_ref(&built),
        "tests/pull-base:1",
    );

    let fresh = BlobStore::open(work.path().join("fresh")).unwrap();
    let client = Registry::new(&RegistryOptions::default()).unwrap();
    let platform = Platform::linux_amd64();
    let pulled = client
        .pull_image(
            &reference(&registry, "tests/pull-base:1"),
            &platform,
            &fresh,
        )
        .unwrap();
    assert_eq!(pulled.digest(), built.digest());
    assert_eq!(pulled.layers[0].diff_id, built.layers[0].diff_id);
    // The config came, the layer did not yet.
    assert!(fresh.contains(&digest_bytes(&built.config_bytes())));
    assert!(!fresh.contains(&built.layers[0].digest));
    assert!(matches!(
        pulled.layers[0].location,
        Location::Registry { .. }
    ));
    client.materialize(&pulled, &fresh).unwrap();
    // Fetched, and still known to be in the registry: a push there mounts it.
    assert!(fresh.contains(&built.layers[0].digest));
    assert!(matches!(
        pulled.layers[0].location,
        Location::Registry { .. }
    ));
    assert_eq!(
        fresh.verify(&built.layers[0].digest).unwrap(),
        built.layers[0].size
    );

    // By digest too.
    let by_digest = format!("tests/pull-base@{}", built.digest());
    let again = client
        .pull_image(&reference(&registry, &by_digest), &platform, &fresh)
        .unwrap();
    assert_eq!(again.digest(), built.digest());
}

#[test]
fn the_platform_is_picked_from_an_index() {
    let work = tempfile::tempdir().unwrap();
    let store = BlobStore::open(work.path().join("store")).unwrap();
    let amd64 = image(&store, "linux/amd64", "x86_64\n");
    let arm64 = image(&store, "linux/arm64", "aarch64\n");
    let registry = registry();
    skopeo_push(
        &registry,
        work.path(),
        &store,
        &[amd64.clone(), arm64.clone()],
        "tests/multi:1",
    );
    let client = Registry::new(&RegistryOptions::default()).unwrap();
    let r = reference(&registry, "tests/multi:1");
    for (platform, expected) in [("linux/arm64", &arm64), ("linux/amd64", &amd64)] {
        let pulled = client
            .pull_image(&r, &platform.parse().unwrap(), &store)
            .unwrap();
        assert_eq!(pulled.digest(), expected.digest(), "{platform}");
    }
    let missing = client.pull_image(&r, &"linux/s390x".parse().unwrap(), &store);
    assert!(
        matches!(&missing, Err(Error::NoPlatform { wanted, available, .. })
            if wanted == "linux/s390x" && available.len() == 2),
        "{missing:?}"
    );
}

#[test]
fn credentials_open_a_registry_with_basic_auth_and_never_show() {
    let work = tempfile::tempdir().unwrap();
    let store = BlobStore::open(work.path().join("store")).unwrap();
    let built = image(&store, "linux/amd64", "private\n");
    let registry = auth_registry();
    skopeo_push(
        &registry,
        work.path(),
        &store,
        std::slice::from_ref(&built),
        "tests/private:1",
    );
    let r = reference(&registry, "tests/private:1");
    let platform = Platform::linux_amd64();

    let anonymous = Registry::new(&RegistryOptions::default()).unwrap();
    let refused = anonymous.pull_image(&r, &platform, &store).unwrap_err();
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
    let (user, password) = registry.credentials.clone().unwrap();
    let wrong = RegistryOptions {
        credentials: vec![(
            registry.address.clone(),
            Credentials {
                username: user.clone(),
                password: "not-the-password-7c1e".into(),
            },
        )],
        ..RegistryOptions::default()
    };
    let error = Registry::new(&wrong)
        .unwrap()
        .pull_image(&r, &platform, &store)
        .unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("not-the-password-7c1e"), "{shown}");
    let right = RegistryOptions {
        credentials: vec![(
            registry.address.clone(),
            Credentials {
                username: user,
                password,
            },
        )],
        ..RegistryOptions::default()
    };
    let client = Registry::new(&right).unwrap();
    let pulled = client.pull_image(&r, &platform, &store).unwrap();
    assert_eq!(pulled.digest(), built.digest());
    client.materialize(&pulled, &store).unwrap();
}

/// A registry that serves a manifest whose config blob is not what its digest says.
fn lying_registry() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let config_digest = digest_bytes(config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest.to_string(),
            "size": config.len(),
        },
        "layers": [],
    }))
    .unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let n = stream.read(&mut request).unwrap_or(0);
            let request = String::from_utf8_lossy(&request[..n]).to_string();
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let (content_type, body): (&str, Vec<u8>) = if path.contains("/manifests/") {
                (
                    "application/vnd.oci.image.manifest.v1+json",
                    manifest.clone(),
                )
            } else if path.contains("/blobs/") {
                // Not the config the digest names.
                ("application/octet-stream", b"{\"tampered\":true}".to_vec())
            } else {
                ("application/json", b"{}".to_vec())
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    address
}

#[test]
fn a_blob_that_does_not_match_its_digest_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let store = BlobStore::open(work.path()).unwrap();
    let address = lying_registry();
    let r = match format!("docker://{address}/tests/liar:1").parse().unwrap() {
        ImageRef::Registry(r) => r,
        other => panic!("{other:?}"),
    };
    let client = Registry::new(&RegistryOptions::default()).unwrap();
    let error = client
        .pull_image(&r, &Platform::linux_amd64(), &store)
        .unwrap_err();
    assert!(matches!(error, Error::DigestMismatch { .. }), "{error:?}");
    // Nothing half-written is left in the store.
    assert_eq!(
        std::fs::read_dir(work.path().join("tmp")).unwrap().count(),
        0
    );
}

/// The digest of what `oci:DIR:TAG` names, as skopeo reads it (the sha256 of its raw manifest).
fn skopeo_layout_digest(dir: &Path, tag: &str) -> String {
    let raw = skopeo(&["inspect", "--raw", &format!("oci:{}:{tag}", path_str(dir))]);
    digest_bytes(raw.as_bytes()).to_string()
}

/// The digest the registry gives `name`, as skopeo reads it.
fn skopeo_registry_digest(registry: &TestRegistry, name: &str) -> String {
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{}/{name}", registry.address),
    ]);
    digest_bytes(raw.as_bytes()).to_string()
}

#[test]
fn a_pull_copies_an_index_byte_for_byte_and_a_platform_alone_when_asked() {
    let work = tempfile::tempdir().unwrap();
    let store = BlobStore::open(work.path().join("store")).unwrap();
    let amd64 = image(&store, "linux/amd64", "pulled on x86_64\n");
    let arm64 = image(&store, "linux/arm64", "pulled on aarch64\n");
    let registry = registry();
    skopeo_push(
        &registry,
        work.path(),
        &store,
        &[amd64.clone(), arm64.clone()],
        "tests/pull-multi:1",
    );
    let r = reference(&registry, "tests/pull-multi:1");
    let served = skopeo_registry_digest(&registry, "tests/pull-multi:1");

    let client = Registry::new(&RegistryOptions::default()).unwrap();
    let cache = BlobStore::open(work.path().join("cache")).unwrap();
    let out = work.path().join("pulled");
    let events = std::sync::Mutex::new(Vec::new());
    let progress = |e: &Event<'_>| {
        events
            .lock()
            .unwrap()
            .push((e.stage.to_owned(), e.done, e.total));
        Ok(())
    };
    let whole = client
        .pull_layout(&r, None, &cache, &out, Some("all"), &progress)
        .unwrap();
    assert_eq!(whole.digest.to_string(), served);
    assert_eq!(whole.platforms, ["linux/amd64", "linux/arm64"]);
    // Two configs and two layers, all fetched.
    assert_eq!((whole.blobs, whole.fetched), (4, 4));
    assert_eq!(skopeo_layout_digest(&out, "all"), served);
    let last = events.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last, ("fetch".to_owned(), whole.bytes, Some(whole.bytes)));
    // Every blob of the layout is the bytes its digest names, as skopeo copies them to a
    // registry: the copy back has the registry's digest.
    let _ = skopeo(&[
        "copy",
        "--all",
        "--dest-tls-verify=false",
        &format!("oci:{}:all", path_str(&out)),
        &format!("docker://{}/tests/pull-multi:copied", registry.address),
    ]);
    assert_eq!(
        skopeo_registry_digest(&registry, "tests/pull-multi:copied"),
        served
    );

    // One platform: the layout names that platform's manifest; the blobs are in the cache now.
    let arm = client
        .pull_layout(
            &r,
            Some(&"linux/arm64".parse().unwrap()),
            &cache,
            &out,
            Some("arm64"),
            &Silent,
        )
        .unwrap();
    assert_eq!(arm.digest, arm64.digest());
    assert_eq!((arm.blobs, arm.fetched, arm.bytes), (2, 0, 0));
    assert_eq!(
        skopeo_layout_digest(&out, "arm64"),
        arm64.digest().to_string()
    );
    // Both tags are in the one layout, which reads back as a base.
    let read = mlreef_core::oci::read_layout(
        &cache,
        &out,
        Some("arm64"),
        &"linux/arm64".parse().unwrap(),
        &Silent,
    )
    .unwrap();
    assert_eq!(read.digest(), arm64.digest());
    assert_eq!(skopeo_layout_digest(&out, "all"), served);

    let missing = client.pull_layout(
        &r,
        Some(&"linux/s390x".parse().unwrap()),
        &cache,
        &out,
        Some("s390x"),
        &Silent,
    );
    assert!(
        matches!(missing, Err(Error::NoPlatform { .. })),
        "{missing:?}"
    );
}

#[test]
fn a_pull_that_fails_or_is_cancelled_tags_nothing() {
    let work = tempfile::tempdir().unwrap();
    let store = BlobStore::open(work.path().join("store")).unwrap();
    let built = image(&store, "linux/amd64", "never tagged\n");
    let registry = registry();
    skopeo_push(
        &registry,
        work.path(),
        &store,
        std::slice::from_ref(&built),
        "tests/pull-cancel:1",
    );
    let client = Registry::new(&RegistryOptions::default()).unwrap();
    let cache = BlobStore::open(work.path().join("cache")).unwrap();
    let out = work.path().join("pulled");
    let stop = |e: &Event<'_>| {
        if e.stage == "fetch" && e.done > 0 {
            Err(Cancelled)
        } else {
            Ok(())
        }
    };
    let cancelled = client.pull_layout(
        &reference(&registry, "tests/pull-cancel:1"),
        None,
        &cache,
        &out,
        Some("one"),
        &stop,
    );
    assert!(matches!(cancelled, Err(Error::Cancelled)), "{cancelled:?}");
    assert!(!out.join("index.json").exists());

    // A registry whose config is not what its digest says: an error, and no tag.
    let address = lying_registry();
    let liar = match format!("docker://{address}/tests/liar:1").parse().unwrap() {
        ImageRef::Registry(r) => r,
        other => panic!("{other:?}"),
    };
    let error = client
        .pull_layout(&liar, None, &cache, &out, Some("liar"), &Silent)
        .unwrap_err();
    assert!(matches!(error, Error::DigestMismatch { .. }), "{error:?}");
    assert!(!out.join("index.json").exists());

    // The next pull completes.
    let pulled = client
        .pull_layout(
            &reference(&registry, "tests/pull-cancel:1"),
            None,
            &cache,
            &out,
            Some("one"),
            &Silent,
        )
        .unwrap();
    assert_eq!(pulled.digest, built.digest());
    assert_eq!(
        skopeo_layout_digest(&out, "one"),
        built.digest().to_string()
    );
}
