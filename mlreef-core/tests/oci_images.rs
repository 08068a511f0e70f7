//! Images we build, written to an OCI layout and a docker-archive, checked by their bytes and
//! read back by independent tools (skopeo, umoci).

mod oci_common;

use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

use mlreef_core::oci::{
    BlobStore, CodeOptions, Compression, Error, ExcludeReason, Image, ImageRef, LayerRole,
    read_archive, read_layout, read_local_base, scan_code, write_archive, write_local,
};
use mlreef_core::platform::Platform;
use mlreef_core::progress::Silent;
use oci_common::*;
use serde_json::Value;

fn setup() -> (
    tempfile::TempDir,
    BlobStore,
    std::path::PathBuf,
    std::path::PathBuf,
) {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path().join("cache")).unwrap();
    let repo = dir.path().join("repo");
    make_repo(&repo);
    let site = dir.path().join("site-packages");
    make_site_packages(&site);
    (dir, store, repo, site)
}

#[test]
fn the_code_layer_lists_what_it_leaves_out_and_why() {
    let (_dir, _store, repo, _) = setup();
    let tree = scan_code(&repo, &CodeOptions::default()).unwrap();
    let excluded: Vec<(String, String)> = tree
        .excluded
        .iter()
        .map(|e| (e.path.clone(), e.reason.to_string()))
        .collect();
    let expected: Vec<(String, String)> = EXPECTED_EXCLUDED
        .iter()
        .map(|(p, r)| ((*p).to_owned(), (*r).to_owned()))
        .collect();
    assert_eq!(excluded, expected);
    let paths: Vec<String> = tree
        .entries
        .iter()
        .map(|e| e.path.to_string_lossy().into_owned())
        .collect();
    for kept in [
        "workdir",
        "workdir/.env.example",
        "workdir/sub/keep.log",
        "workdir/lib/docs/api.md",
        "workdir/empty",
        "workdir/.gitignore",
    ] {
        assert!(paths.iter().any(|p| p == kept), "{kept} in {paths:?}");
    }

    // An explicit include puts a secret back; a `!pattern` in .mlreefignore too.
    let options = CodeOptions {
        include: vec![".env".into()],
        ..CodeOptions::default()
    };
    let tree = scan_code(&repo, &options).unwrap();
    assert!(!tree.excluded.iter().any(|e| e.path == ".env"));
    // As in git, `!secrets/` is about the folder; what is in it answers for itself.
    fs::write(repo.join(".mlreefignore"), "!secrets/\n").unwrap();
    let tree = scan_code(&repo, &CodeOptions::default()).unwrap();
    assert!(tree.excluded.iter().any(|e| e.path == "secrets/server.pem"));
    fs::write(repo.join(".mlreefignore"), "!secrets/*.pem\n").unwrap();
    let tree = scan_code(&repo, &CodeOptions::default()).unwrap();
    assert!(!tree.excluded.iter().any(|e| e.path.starts_with("secrets")));
    assert!(
        !tree
            .excluded
            .iter()
            .any(|e| e.path.starts_with("notebooks")),
        "the new .mlreefignore no longer leaves notebooks out"
    );

    // Another output folder of the tool is left out like .mlreef/.
    let options = CodeOptions {
        outputs: vec!["lib/docs".into()],
        ..CodeOptions::default()
    };
    let tree = scan_code(&repo, &options).unwrap();
    assert!(
        tree.excluded
            .iter()
            .any(|e| e.path == "lib/docs/" && e.reason == ExcludeReason::MlreefOutput)
    );
}

#[test]
fn links_out_of_the_repository_are_refused() {
    for (name, target) in [
        ("passwd", "/etc/passwd"),
        ("up", "../outside.txt"),
        ("deep", "lib/../../outside.txt"),
    ] {
        let (dir, _store, repo, _) = setup();
        fs::write(dir.path().join("outside.txt"), "x").unwrap();
        std::os::unix::fs::symlink(target, repo.join(name)).unwrap();
        let error = scan_code(&repo, &CodeOptions::default()).unwrap_err();
        assert!(
            matches!(&error, Error::LinkOutside { link, .. } if link == name),
            "{error}"
        );
        assert!(error.to_string().contains(&format!("`{name}`")), "{error}");
        assert!(error.to_string().contains(target), "{error}");
    }
    // A link that climbs out and comes back in through the repository's own name is inside.
    let (_dir, _store, repo, _) = setup();
    std::os::unix::fs::symlink("../repo/train.py", repo.join("back")).unwrap();
    let tree = scan_code(&repo, &CodeOptions::default()).unwrap();
    let back = tree
        .entries
        .iter()
        .find(|e| e.path == Path::new("workdir/back"))
        .unwrap();
    assert_eq!(
        back.kind,
        mlreef_core::oci::EntryKind::Symlink("train.py".into())
    );
    // A link through another link that leads out is refused too.
    let (dir, _store, repo, _) = setup();
    std::os::unix::fs::symlink(dir.path(), repo.join("ignored_link")).unwrap();
    fs::write(repo.join(".mlreefignore"), "ignored_link\n").unwrap();
    std::os::unix::fs::symlink("ignored_link/outside.txt", repo.join("through")).unwrap();
    fs::write(dir.path().join("outside.txt"), "x").unwrap();
    assert!(matches!(
        scan_code(&repo, &CodeOptions::default()),
        Err(Error::LinkOutside { .. })
    ));
}

#[test]
fn the_same_tree_in_two_folders_gives_the_same_image_and_one_change_only_the_code_layer() {
    let dir = tempfile::tempdir().unwrap();
    let store_a = BlobStore::open(dir.path().join("cache-a")).unwrap();
    let store_b = BlobStore::open(dir.path().join("cache-b")).unwrap();
    let (repo_a, repo_b) = (dir.path().join("a/repo"), dir.path().join("b/other-name"));
    make_repo(&repo_a);
    make_repo(&repo_b);
    let (site_a, site_b) = (dir.path().join("a/site"), dir.path().join("b/site"));
    make_site_packages(&site_a);
    make_site_packages(&site_b);
    for compression in [Compression::Gzip, Compression::Zstd] {
        let (a, _) = build(&store_a, &repo_a, &site_a, compression);
        let (b, _) = build(&store_b, &repo_b, &site_b, compression);
        assert_eq!(a.digest(), b.digest(), "{compression:?}");
        assert_eq!(a.layers, b.layers);
    }
    let (before, _) = build(&store_a, &repo_a, &site_a, Compression::Gzip);
    fs::write(repo_a.join("lib/util.py"), "X = 2\n").unwrap();
    let (after, _) = build(&store_a, &repo_a, &site_a, Compression::Gzip);
    assert_eq!(
        before.layers[0], after.layers[0],
        "the dependency layer is unchanged"
    );
    assert_ne!(
        before.layers[1].digest, after.layers[1].digest,
        "the code layer changed"
    );
    assert_ne!(before.digest(), after.digest());
}

#[test]
fn a_layout_is_read_by_skopeo_and_umoci_and_its_bytes_check_out() {
    let (dir, store, repo, site) = setup();
    let (image, _) = build(&store, &repo, &site, Compression::Gzip);
    let layout = dir.path().join("layout");
    let descriptor = to_layout(&store, &layout, "main-1", &image);
    assert_eq!(*descriptor.digest(), image.digest());
    let (digest, configs) = verify_layout(&layout, "main-1");
    assert_eq!(digest, image.digest().to_string());
    assert_eq!(configs[0]["config"]["Entrypoint"][1], "/workdir/train.py");

    // Writing again changes nothing; a second tag is added beside the first.
    to_layout(&store, &layout, "main-1", &image);
    let (other, _) = {
        fs::write(repo.join("train.py"), "print('v2')\n").unwrap();
        build(&store, &repo, &site, Compression::Gzip)
    };
    to_layout(&store, &layout, "main-2", &other);
    let index: Value =
        serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2);
    // Writing a tag again replaces its entry and keeps the other.
    to_layout(&store, &layout, "main-1", &other);
    let index: Value =
        serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifests = index["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 2);
    assert_eq!(
        verify_layout(&layout, "main-2").0,
        other.digest().to_string()
    );
    assert_eq!(
        verify_layout(&layout, "main-1").0,
        other.digest().to_string()
    );
    to_layout(&store, &layout, "main-1", &image);

    // Read back as a base, it is the same image.
    let fresh = BlobStore::open(dir.path().join("fresh-cache")).unwrap();
    let read = read_layout(
        &fresh,
        &layout,
        Some("main-1"),
        &Platform::linux_amd64(),
        &Silent,
    )
    .unwrap();
    assert_eq!(read.digest(), image.digest());
    assert!(
        read.layers
            .iter()
            .all(|l| l.role == LayerRole::Base && l.cached)
    );

    let Some(mut inspect) = skopeo() else { return };
    let inspected: Value = serde_json::from_str(&run(inspect
        .arg("inspect")
        .arg(format!("oci:{}:main-1", layout.display()))))
    .unwrap();
    assert_eq!(inspected["Digest"], image.digest().to_string());
    assert_eq!(inspected["Architecture"], "amd64");
    let layers: Vec<String> = image.layers.iter().map(|l| l.digest.to_string()).collect();
    assert_eq!(inspected["Layers"], serde_json::json!(layers));

    let copy = dir.path().join("copy");
    run(skopeo()
        .unwrap()
        .arg("copy")
        .arg(format!("oci:{}:main-1", layout.display()))
        .arg(format!("oci:{}:copied", copy.display())));
    let (copied, _) = verify_layout(&copy, "copied");
    assert_eq!(
        copied,
        image.digest().to_string(),
        "skopeo copies it unchanged"
    );

    let Some(rootfs) = umoci_unpack(&layout, "main-1", &dir.path().join("bundle")) else {
        return;
    };
    fs::write(repo.join("train.py"), "print('train')\n").unwrap();
    assert_eq!(tree(&rootfs.join("workdir")), expected_workdir(&repo));
    let site_tree = tree(&rootfs.join("opt/mlreef/site-packages"));
    assert_eq!(
        site_tree["pkg/__init__.py"],
        Node::File {
            mode: 0o644,
            contents: b"VERSION = '1'\n".to_vec()
        }
    );
    assert!(matches!(
        site_tree["bin/tool"],
        Node::File { mode: 0o755, .. }
    ));
    let meta = fs::metadata(rootfs.join("workdir/train.py")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (0, 0));
    assert_eq!(meta.mtime(), i64::try_from(MTIME).unwrap());
    for (excluded, _) in EXPECTED_EXCLUDED {
        assert!(
            !rootfs
                .join("workdir")
                .join(excluded.trim_end_matches('/'))
                .exists()
        );
    }
}

#[test]
fn a_docker_archive_is_read_by_skopeo_and_back_as_a_base() {
    let (dir, store, repo, site) = setup();
    let (image, _) = build(&store, &repo, &site, Compression::Gzip);
    let archive = dir.path().join("image.tar");
    let config_digest = write_archive(
        &store,
        &archive,
        Some("team/module:1"),
        std::slice::from_ref(&image),
        &Silent,
    )
    .unwrap();
    let manifest = verify_archive(&archive);
    assert_eq!(
        manifest[0]["RepoTags"],
        serde_json::json!(["team/module:1"])
    );
    assert_eq!(
        manifest[0]["Config"],
        format!("{}.json", config_digest.digest())
    );
    // The same image twice gives the same file.
    let again = dir.path().join("again.tar");
    write_archive(
        &store,
        &again,
        Some("team/module:1"),
        std::slice::from_ref(&image),
        &Silent,
    )
    .unwrap();
    assert_eq!(file_digest(&archive), file_digest(&again));

    // Read back as a base: uncompressed layers whose digest is their diff_id.
    let fresh = BlobStore::open(dir.path().join("fresh-cache")).unwrap();
    let base = read_archive(
        &fresh,
        &archive,
        Some("team/module:1"),
        &Platform::linux_amd64(),
        &Silent,
    )
    .unwrap();
    assert_eq!(base.config, image.config);
    for (read, built) in base.layers.iter().zip(&image.layers) {
        assert_eq!(read.diff_id, built.diff_id);
        assert_eq!(read.digest, read.diff_id);
        assert_eq!(read.media_type, mlreef_core::oci::MediaType::ImageLayer);
    }
    let reference: ImageRef = format!("docker-archive:{}", archive.display())
        .parse()
        .unwrap();
    let base = read_local_base(
        &fresh,
        &reference,
        &Platform::linux_amd64(),
        &mlreef_core::oci::LayerOptions::default(),
        &Silent,
    )
    .unwrap();
    assert_eq!(base.layers.len(), 2);

    let Some(mut inspect) = skopeo() else { return };
    let inspected: Value = serde_json::from_str(&run(inspect
        .arg("inspect")
        .arg(format!("docker-archive:{}", archive.display()))))
    .unwrap();
    assert_eq!(inspected["Os"], "linux");
    assert_eq!(inspected["Layers"].as_array().unwrap().len(), 2);
    let out = dir.path().join("from-archive");
    run(skopeo()
        .unwrap()
        .arg("copy")
        .arg(format!("docker-archive:{}", archive.display()))
        .arg(format!("oci:{}:copied", out.display())));
    let (_, configs) = verify_layout(&out, "copied");
    let diff_ids: Vec<String> = image.layers.iter().map(|l| l.diff_id.to_string()).collect();
    assert_eq!(
        configs[0]["rootfs"]["diff_ids"],
        serde_json::json!(diff_ids)
    );
    // skopeo's layout is a base we read too.
    let read = read_layout(
        &fresh,
        &out,
        Some("copied"),
        &Platform::linux_amd64(),
        &Silent,
    )
    .unwrap();
    assert_eq!(read.layers.len(), 2);
    if let Some(rootfs) = umoci_unpack(&out, "copied", &dir.path().join("bundle")) {
        assert_eq!(tree(&rootfs.join("workdir")), expected_workdir(&repo));
    }
}

#[test]
fn several_platforms_make_an_index_in_a_layout_and_an_error_in_an_archive() {
    let (dir, store, repo, site) = setup();
    let (amd64, _) = build(&store, &repo, &site, Compression::Gzip);
    let arm64_platform: Platform = "linux/arm64".parse().unwrap();
    let mut arm64 = Image::scratch(&arm64_platform);
    arm64.config.set_created(amd64.config.created().clone());
    let arm64 = amd64.layers.iter().fold(arm64, |image, layer| {
        image.with_layer(layer.clone(), "2023-11-14T22:13:20Z")
    });
    let layout = dir.path().join("layout");
    let images = [amd64.clone(), arm64.clone()];
    let reference: ImageRef = format!("oci:{}:multi", layout.display()).parse().unwrap();
    let digest = write_local(&store, &reference, &images, &Silent).unwrap();
    assert_eq!(
        digest,
        mlreef_core::oci::digest_bytes(&mlreef_core::oci::index(&images).1)
    );
    let (top, configs) = verify_layout(&layout, "multi");
    assert_eq!(top, digest.to_string());
    assert_eq!(configs.len(), 2);
    assert_eq!(configs[1]["architecture"], "arm64");
    // The platform asked for is picked from the index.
    let fresh = BlobStore::open(dir.path().join("fresh")).unwrap();
    let read = read_layout(&fresh, &layout, Some("multi"), &arm64_platform, &Silent).unwrap();
    assert_eq!(read.digest(), arm64.digest());
    let error = read_layout(
        &fresh,
        &layout,
        Some("multi"),
        &"linux/s390x".parse().unwrap(),
        &Silent,
    )
    .unwrap_err();
    assert!(matches!(error, Error::NoPlatform { .. }), "{error}");
    assert!(error.to_string().contains("linux/arm64"), "{error}");

    let archive: ImageRef = format!("docker-archive:{}", dir.path().join("x.tar").display())
        .parse()
        .unwrap();
    let error = write_local(&store, &archive, &images, &Silent).unwrap_err();
    assert!(matches!(error, Error::Unsupported(_)), "{error}");
    assert!(error.to_string().contains("one platform"), "{error}");
    assert!(!dir.path().join("x.tar").exists());

    if let Some(mut inspect) = skopeo() {
        let raw: Value = serde_json::from_str(&run(inspect
            .args(["inspect", "--raw"])
            .arg(format!("oci:{}:multi", layout.display()))))
        .unwrap();
        assert_eq!(raw["manifests"].as_array().unwrap().len(), 2);
        let arm: Value = serde_json::from_str(&run(skopeo()
            .unwrap()
            .args(["--override-arch", "arm64", "inspect"])
            .arg(format!("oci:{}:multi", layout.display()))))
        .unwrap();
        // skopeo names the image by the index it came from, and describes the arm64 one.
        assert_eq!(arm["Digest"], digest.to_string());
        assert_eq!(arm["Architecture"], "arm64");
    }
}
