//! Bases from the file system (`rootfs:`, `oci:`, `docker-archive:`), and the bad ones each
//! must refuse with a clear error.

mod oci_common;

use std::fs;
use std::io::Read as _;
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::Path;
use std::process::Command;

use mlreef_core::oci::{
    BlobStore, Compression, Error, ImageRef, LayerOptions, MAX_JSON_BYTES, read_archive,
    read_layout, read_local_base, rootfs_image,
};
use mlreef_core::platform::Platform;
use mlreef_core::progress::Silent;
use oci_common::*;
use serde_json::json;

fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).unwrap();
}

fn mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A tiny root file system with what a real one has: owners, setuid, sticky, absolute links,
/// hard links, a device, a fifo, a socket.
fn make_rootfs(root: &Path) -> bool {
    for dir in ["usr/bin", "etc", "home/user", "tmp", "run", "dev"] {
        fs::create_dir_all(root.join(dir)).unwrap();
    }
    fs::write(root.join("usr/bin/dash"), "dash").unwrap();
    mode(&root.join("usr/bin/dash"), 0o755);
    fs::write(root.join("usr/bin/su"), "su").unwrap();
    mode(&root.join("usr/bin/su"), 0o4755);
    std::os::unix::fs::symlink("/usr/bin/dash", root.join("usr/bin/sh")).unwrap();
    std::os::unix::fs::symlink("usr/bin", root.join("bin")).unwrap();
    fs::write(root.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    fs::hard_link(root.join("etc/passwd"), root.join("etc/passwd.link")).unwrap();
    fs::write(root.join("home/user/notes"), "mine").unwrap();
    mode(&root.join("home/user/notes"), 0o600);
    mode(&root.join("home/user"), 0o700);
    mode(&root.join("tmp"), 0o1777);
    run(Command::new("mkfifo").arg(root.join("run/initctl")));
    let _socket = std::os::unix::net::UnixListener::bind(root.join("run/sock")).unwrap();
    if !is_root() {
        return false;
    }
    chown(&root.join("home/user/notes"), 1000, 1001);
    chown(&root.join("home/user"), 1000, 1001);
    run(Command::new("mknod")
        .arg(root.join("dev/null"))
        .args(["c", "1", "3"]));
    mode(&root.join("dev/null"), 0o666);
    true
}

#[test]
fn a_rootfs_keeps_owners_modes_links_and_devices() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path().join("cache")).unwrap();
    let root = dir.path().join("rootfs");
    let as_root = make_rootfs(&root);
    let options = LayerOptions {
        mtime: MTIME,
        ..LayerOptions::default()
    };
    let reference: ImageRef = format!("rootfs:{}", root.display()).parse().unwrap();
    let platform = Platform::linux_amd64();
    let image = read_local_base(&store, &reference, &platform, &options, &Silent).unwrap();
    assert_eq!(image.layers.len(), 1);
    assert_eq!(
        image.config.created().as_deref(),
        Some("2023-11-14T22:13:20Z")
    );
    // The same tree elsewhere, at another time, gives the same image.
    let copy = dir.path().join("elsewhere");
    run(Command::new("cp").arg("-a").arg(&root).arg(&copy));
    let again = rootfs_image(&store, &copy, &platform, &options, &Silent).unwrap();
    assert_eq!(again.digest(), image.digest());

    // The layer's headers, read by a tar reader.
    let layer = &image.layers[0];
    let blob = fs::File::open(store.path(&layer.digest)).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(blob));
    let mut names = Vec::new();
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let header = entry.header();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        assert_eq!(header.mtime().unwrap(), MTIME);
        assert_eq!(header.username_bytes().unwrap_or_default(), b"");
        assert_eq!(header.groupname_bytes().unwrap_or_default(), b"");
        match name.as_str() {
            "usr/bin/su" => assert_eq!(header.mode().unwrap(), 0o4755),
            "usr/bin/sh" => assert_eq!(
                entry.link_name().unwrap().unwrap(),
                Path::new("/usr/bin/dash")
            ),
            "etc/passwd.link" => {
                assert_eq!(header.entry_type(), tar::EntryType::Link);
                assert_eq!(entry.link_name().unwrap().unwrap(), Path::new("etc/passwd"));
            }
            "run/initctl" => assert_eq!(header.entry_type(), tar::EntryType::Fifo),
            "dev/null" => {
                assert_eq!(header.entry_type(), tar::EntryType::Char);
                assert_eq!(header.device_major().unwrap(), Some(1));
                assert_eq!(header.device_minor().unwrap(), Some(3));
            }
            "home/user/notes" if as_root => {
                assert_eq!((header.uid().unwrap(), header.gid().unwrap()), (1000, 1001));
            }
            _ => {}
        }
        names.push(name);
    }
    assert!(
        !names.iter().any(|n| n == "run/sock"),
        "a socket is left out"
    );
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| Path::new(a).cmp(Path::new(b)));
    assert_eq!(names, sorted, "entries are sorted");

    let layout = dir.path().join("layout");
    to_layout(&store, &layout, "base", &image);
    verify_layout(&layout, "base");
    let Some(unpacked) = umoci_unpack(&layout, "base", &dir.path().join("bundle")) else {
        return;
    };
    let meta = |p: &str| fs::symlink_metadata(unpacked.join(p)).unwrap();
    assert_eq!(meta("usr/bin/su").mode() & 0o7777, 0o4755);
    assert_eq!(meta("tmp").mode() & 0o7777, 0o1777);
    assert_eq!(
        fs::read_link(unpacked.join("usr/bin/sh")).unwrap(),
        Path::new("/usr/bin/dash")
    );
    assert_eq!(
        fs::read_link(unpacked.join("bin")).unwrap(),
        Path::new("usr/bin")
    );
    assert_eq!(meta("etc/passwd").ino(), meta("etc/passwd.link").ino());
    assert!(meta("run/initctl").file_type().is_fifo());
    if as_root {
        assert_eq!(
            (meta("home/user").uid(), meta("home/user").gid()),
            (1000, 1001)
        );
        assert_eq!(meta("home/user").mode() & 0o7777, 0o700);
        assert!(meta("dev/null").file_type().is_char_device());
        assert_eq!(meta("dev/null").rdev(), meta("dev/null").rdev());
    }
}

/// A docker-archive made by hand from `members`.
fn archive(path: &Path, members: &[(&str, Vec<u8>)]) {
    let mut builder = tar::Builder::new(fs::File::create(path).unwrap());
    for (name, bytes) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, &bytes[..]).unwrap();
    }
    builder.finish().unwrap();
}

/// A layer tar holding one file.
fn layer_tar(text: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(text.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(&mut header, "hello.txt", text.as_bytes())
        .unwrap();
    builder.into_inner().unwrap()
}

fn config(diff_ids: &[String], arch: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "architecture": arch,
        "os": "linux",
        "config": {"Env": ["PYTHON_VERSION=3.11.9"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": "ADD hello.txt /"}, {"created_by": "ADD again"}]
    }))
    .unwrap()
}

fn expect_error(
    result: Result<mlreef_core::oci::Image, Error>,
    check: impl Fn(&Error) -> bool,
    words: &str,
) {
    let error = result.expect_err("the base is refused");
    assert!(check(&error), "unexpected error: {error:?}");
    assert!(
        error.to_string().contains(words),
        "`{error}` should say `{words}`"
    );
}

#[test]
fn docker_archives_from_docker_save_are_read_and_bad_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path().join("cache")).unwrap();
    let amd64 = Platform::linux_amd64();
    let layer = layer_tar("hello\n");
    let diff_id = sha256(&layer);
    let good_config = config(&[diff_id.clone(), diff_id.clone()], "amd64");
    let config_name = format!(
        "{}.json",
        sha256(&good_config).trim_start_matches("sha256:")
    );
    let manifest = |config: &str, layers: &[&str], tags: &[&str]| {
        serde_json::to_vec(&json!([{"Config": config, "RepoTags": tags, "Layers": layers}]))
            .unwrap()
    };

    // The classic layout of `docker save`, with a shared layer linked as docker does.
    let good = dir.path().join("good.tar");
    {
        let mut builder = tar::Builder::new(fs::File::create(&good).unwrap());
        let mut add = |name: &str, bytes: &[u8]| {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, bytes).unwrap();
        };
        add("aaa/layer.tar", &layer);
        add(&config_name, &good_config);
        add(
            "manifest.json",
            &manifest(
                &config_name,
                &["aaa/layer.tar", "bbb/layer.tar"],
                &["python:3.11"],
            ),
        );
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        header.set_cksum();
        builder
            .append_link(&mut header, "bbb/layer.tar", "../aaa/layer.tar")
            .unwrap();
        builder.finish().unwrap();
    }
    let image = read_archive(
        &store,
        &good,
        Some("docker.io/library/python:3.11"),
        &amd64,
        &Silent,
    )
    .unwrap();
    assert_eq!(image.layers.len(), 2);
    assert_eq!(image.layers[0].digest.to_string(), diff_id);
    assert_eq!(image.layers[0].created_by, "ADD hello.txt /");
    assert_eq!(
        image
            .config
            .config()
            .as_ref()
            .unwrap()
            .env()
            .as_ref()
            .unwrap()[0],
        "PYTHON_VERSION=3.11.9"
    );

    // A config whose diff_ids disagree with the layers.
    let bad_config = config(&[diff_id.clone(), sha256(b"other")], "amd64");
    let bad = dir.path().join("bad-diff.tar");
    archive(
        &bad,
        &[
            ("a.tar", layer.clone()),
            ("config.json", bad_config.clone()),
            (
                "manifest.json",
                manifest("config.json", &["a.tar", "a.tar"], &[]),
            ),
        ],
    );
    expect_error(
        read_archive(&store, &bad, None, &amd64, &Silent),
        |e| matches!(e, Error::Invalid { .. }),
        "diff_id",
    );
    // As many diff_ids as layers.
    archive(
        &bad,
        &[
            ("a.tar", layer.clone()),
            ("config.json", good_config.clone()),
            ("manifest.json", manifest("config.json", &["a.tar"], &[])),
        ],
    );
    expect_error(
        read_archive(&store, &bad, None, &amd64, &Silent),
        |e| matches!(e, Error::Invalid { .. }),
        "2 layers",
    );
    // A blob named by a digest that is not its own.
    let fake = format!("blobs/sha256/{}", "0".repeat(64));
    archive(
        &bad,
        &[
            (fake.as_str(), layer.clone()),
            ("config.json", good_config.clone()),
            (
                "manifest.json",
                manifest("config.json", &[&fake, &fake], &[]),
            ),
        ],
    );
    expect_error(
        read_archive(
            &BlobStore::open(dir.path().join("c2")).unwrap(),
            &bad,
            None,
            &amd64,
            &Silent,
        ),
        |e| matches!(e, Error::DigestMismatch { .. }),
        &"0".repeat(64),
    );
    // A tag the archive does not have.
    expect_error(
        read_archive(&store, &good, Some("python:3.12"), &amd64, &Silent),
        |e| matches!(e, Error::NoTag { .. }),
        "python:3.11",
    );
    // Another platform.
    expect_error(
        read_archive(
            &store,
            &good,
            None,
            &"linux/arm64".parse().unwrap(),
            &Silent,
        ),
        |e| matches!(e, Error::NoPlatform { .. }),
        "linux/amd64",
    );
    // A manifest.json larger than anything we read.
    #[allow(clippy::cast_possible_truncation)]
    let huge = vec![b' '; MAX_JSON_BYTES as usize + 1];
    archive(&bad, &[("manifest.json", huge)]);
    expect_error(
        read_archive(&store, &bad, None, &amd64, &Silent),
        |e| matches!(e, Error::TooLarge { .. }),
        "manifest.json",
    );
    // Not a tar at all.
    fs::write(
        &bad,
        b"not a tar, and more than a header's worth of it".repeat(20),
    )
    .unwrap();
    assert!(read_archive(&store, &bad, None, &amd64, &Silent).is_err());
}

#[test]
fn bad_layouts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path().join("cache")).unwrap();
    let repo = dir.path().join("repo");
    make_repo(&repo);
    let site = dir.path().join("site");
    make_site_packages(&site);
    let (image, _) = build(&store, &repo, &site, Compression::Gzip);
    let layout = dir.path().join("layout");
    to_layout(&store, &layout, "v1", &image);
    to_layout(&store, &layout, "v2", &image);
    let amd64 = Platform::linux_amd64();
    let fresh = || BlobStore::open(dir.path().join(format!("fresh-{}", rand_suffix()))).unwrap();

    expect_error(
        read_layout(&fresh(), &layout, Some("v3"), &amd64, &Silent),
        |e| matches!(e, Error::NoTag { .. }),
        "v1, v2",
    );
    expect_error(
        read_layout(&fresh(), &layout, None, &amd64, &Silent),
        |e| matches!(e, Error::Invalid { .. }),
        "tag",
    );

    // A layer blob whose bytes are not its digest (same size, one byte changed).
    let tampered = dir.path().join("tampered");
    run(Command::new("cp").arg("-r").arg(&layout).arg(&tampered));
    let code = &image.layers[1];
    let path = tampered.join("blobs/sha256").join(code.digest.digest());
    let mut bytes = Vec::new();
    fs::File::open(&path)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    fs::remove_file(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&path, &bytes).unwrap();
    let store_for_tampered = fresh();
    expect_error(
        read_layout(&store_for_tampered, &tampered, Some("v1"), &amd64, &Silent),
        |e| matches!(e, Error::DigestMismatch { .. }),
        code.digest.digest(),
    );
    assert!(
        !store_for_tampered.contains(&code.digest),
        "nothing bad is stored"
    );

    // A manifest (or config) said to be larger than anything we read.
    let index_path = tampered.join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&fs::read(&index_path).unwrap()).unwrap();
    index["manifests"][0]["size"] = json!(MAX_JSON_BYTES + 1);
    fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
    expect_error(
        read_layout(&fresh(), &tampered, Some("v1"), &amd64, &Silent),
        |e| matches!(e, Error::TooLarge { .. }),
        "manifest",
    );
    // A manifest whose bytes are not its digest.
    index["manifests"][0]["size"] = index["manifests"][1]["size"].clone();
    let manifest_path = tampered.join("blobs/sha256").join(image.digest().digest());
    let manifest = fs::read(&manifest_path).unwrap();
    fs::remove_file(&manifest_path).unwrap();
    fs::write(
        &manifest_path,
        String::from_utf8(manifest)
            .unwrap()
            .replace("\"schemaVersion\":2", "\"schemaVersion\":3"),
    )
    .unwrap();
    fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
    expect_error(
        read_layout(&fresh(), &tampered, Some("v2"), &amd64, &Silent),
        |e| matches!(e, Error::DigestMismatch { .. }),
        "manifest",
    );
    // Not a layout.
    assert!(matches!(
        read_layout(&fresh(), dir.path(), None, &amd64, &Silent),
        Err(Error::Io { .. })
    ));
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
