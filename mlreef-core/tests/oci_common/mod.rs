//! What the OCI tests share: a sample repository, a small build, independent tools (skopeo,
//! umoci), and checks that recompute every digest, size and `diff_id` from the bytes.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::Command;

use flate2::read::MultiGzDecoder;
use mlreef_core::oci::{
    BlobStore, CodeLayer, CodeOptions, Compression, Image, LayerOptions, LayerRole, code_layer,
    digest_bytes, directory_layer, rfc3339,
};
use mlreef_core::platform::Platform;
use mlreef_core::progress::Silent;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// The fixed time of every test build.
pub const MTIME: u64 = 1_700_000_000;

/// An independent tool, or `None` (the test is skipped) when it is missing; the test command
/// sets `MLREEF_REQUIRE_TOOLS=1`, which makes a missing tool a failure.
pub fn tool(name: &str) -> Option<Command> {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(Command::new(name));
    }
    assert!(
        std::env::var_os("MLREEF_REQUIRE_TOOLS").is_none(),
        "`{name}` is required (apt-get install {name})"
    );
    eprintln!("skipped: `{name}` is not installed");
    None
}

/// Runs a command and returns its standard output; panics with its error output on failure.
pub fn run(command: &mut Command) -> String {
    let output = command.output().expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

pub fn skopeo() -> Option<Command> {
    let mut command = tool("skopeo")?;
    // No /etc/containers/policy.json is needed for local transports.
    command.arg("--insecure-policy");
    Some(command)
}

pub fn is_root() -> bool {
    run(Command::new("id").arg("-u")).trim() == "0"
}

fn write(path: &Path, text: &str, mode: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A repository with something for every rule of the code layer.
pub fn make_repo(repo: &Path) {
    fs::create_dir_all(repo).unwrap();
    write(&repo.join("train.py"), "print('train')\n", 0o775);
    write(&repo.join("lib/util.py"), "X = 1\n", 0o600);
    write(
        &repo.join("lib/docs/api.md"),
        "kept: .dockerignore is anchored\n",
        0o644,
    );
    std::os::unix::fs::symlink("util.py", repo.join("lib/link_rel")).unwrap();
    // An absolute link inside the repository is stored relative.
    let canonical = fs::canonicalize(repo).unwrap();
    std::os::unix::fs::symlink(canonical.join("train.py"), repo.join("lib/abs_inside")).unwrap();
    write(&repo.join(".gitignore"), "data/\n*.log\n", 0o644);
    write(&repo.join("data/big.csv"), "a,b\n", 0o644);
    write(&repo.join("run.log"), "log\n", 0o644);
    write(
        &repo.join("sub/.gitignore"),
        "!keep.log\nlocal.txt\n",
        0o644,
    );
    write(
        &repo.join("sub/keep.log"),
        "kept by a nested !pattern\n",
        0o644,
    );
    write(&repo.join("sub/local.txt"), "left out\n", 0o644);
    write(
        &repo.join(".dockerignore"),
        "# docs are built elsewhere\ndocs/\n",
        0o644,
    );
    write(&repo.join("docs/readme.md"), "left out\n", 0o644);
    write(
        &repo.join(".mlreefignore"),
        "notebooks/\n!.env.example\n",
        0o644,
    );
    write(&repo.join("notebooks/a.ipynb"), "{}\n", 0o644);
    write(&repo.join(".env"), "TOKEN=secret\n", 0o600);
    write(&repo.join(".env.example"), "TOKEN=\n", 0o644);
    write(&repo.join("secrets/server.pem"), "-----BEGIN-----\n", 0o600);
    write(&repo.join(".aws/credentials"), "[default]\n", 0o600);
    write(&repo.join(".git/HEAD"), "ref: refs/heads/main\n", 0o644);
    write(&repo.join(".mlreef/images/oci-layout"), "{}\n", 0o644);
    fs::create_dir_all(repo.join("empty")).unwrap();
    run(Command::new("mkfifo").arg(repo.join("pipe")));
}

/// What the code layer of [`make_repo`] leaves out, and why.
pub const EXPECTED_EXCLUDED: &[(&str, &str)] = &[
    (".aws/", "secret"),
    (".env", "secret"),
    (".git/", ".git"),
    (".mlreef/", "mlreef output"),
    ("data/", ".gitignore"),
    ("docs/", ".dockerignore"),
    ("notebooks/", ".mlreefignore"),
    ("pipe", "not a regular file"),
    ("run.log", ".gitignore"),
    ("secrets/server.pem", "secret"),
    ("sub/local.txt", ".gitignore"),
];

/// A small dependency folder, as an installer would leave it.
pub fn make_site_packages(dir: &Path) {
    write(&dir.join("pkg/__init__.py"), "VERSION = '1'\n", 0o664);
    write(&dir.join("bin/tool"), "#!/usr/bin/env python3\n", 0o775);
}

/// A test build: scratch, a dependency layer, the code layer, and a config.
pub fn build(
    store: &BlobStore,
    repo: &Path,
    site_packages: &Path,
    compression: Compression,
) -> (Image, CodeLayer) {
    let platform = Platform::linux_amd64();
    let created = rfc3339(MTIME);
    let deps = directory_layer(
        store,
        site_packages,
        "opt/mlreef/site-packages",
        &LayerOptions {
            compression,
            mtime: MTIME,
            role: LayerRole::Deps,
            created_by: "mlreef deps".into(),
            ..LayerOptions::default()
        },
    )
    .unwrap();
    let mut options = CodeOptions::default();
    options.layer.mtime = MTIME;
    options.layer.compression = compression;
    let code = code_layer(store, repo, &options, &Silent).unwrap();
    let image = Image::scratch(&platform)
        .created_at(&created)
        .with_layer(deps, &created)
        .with_layer(code.layer.clone(), &created)
        .with_config(|config| {
            config.set_entrypoint(Some(vec!["python3".into(), "/workdir/train.py".into()]));
            config.set_working_dir(Some("/workdir".into()));
            config.set_env(Some(vec![
                "PYTHONPATH=/opt/mlreef/site-packages".into(),
                "PYTHONUNBUFFERED=1".into(),
            ]));
        });
    (image, code)
}

fn hex(hash: &[u8]) -> String {
    let digits = hash.iter().fold(String::new(), |mut out, b| {
        use std::fmt::Write as _;
        let _ = write!(out, "{b:02x}");
        out
    });
    format!("sha256:{digits}")
}

/// The digest of `bytes`, computed here rather than by the code under test.
pub fn sha256(bytes: &[u8]) -> String {
    hex(Sha256::digest(bytes).as_slice())
}

/// The sha256 and length of a stream.
pub fn sha256_of(mut reader: impl Read) -> (String, u64) {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 16];
    let mut len = 0;
    loop {
        let n = reader.read(&mut buffer).unwrap();
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        len += n as u64;
    }
    (hex(hasher.finalize().as_slice()), len)
}

/// A layer blob decompressed, by its media type.
pub fn decompressed<'a>(media_type: &str, file: fs::File) -> Box<dyn Read + 'a> {
    if media_type.ends_with("+gzip") || media_type.ends_with(".tar.gzip") {
        Box::new(MultiGzDecoder::new(file))
    } else if media_type.ends_with("+zstd") {
        Box::new(zstd::stream::read::Decoder::new(file).unwrap())
    } else {
        Box::new(file)
    }
}

fn blob(layout: &Path, digest: &str) -> PathBuf {
    layout
        .join("blobs/sha256")
        .join(digest.strip_prefix("sha256:").unwrap())
}

/// Checks the image `tag` of a layout from its bytes alone: every blob's sha256 and size
/// against its descriptor, every layer's `diff_id` against the config. Returns the manifest
/// descriptor's digest (or the index's) and the config.
pub fn verify_layout(layout: &Path, tag: &str) -> (String, Vec<Value>) {
    let marker: Value =
        serde_json::from_slice(&fs::read(layout.join("oci-layout")).unwrap()).unwrap();
    assert_eq!(marker["imageLayoutVersion"], "1.0.0");
    let index: Value =
        serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    let entry = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("no tag {tag} in {index}"))
        .clone();
    let check = |descriptor: &Value| -> Vec<u8> {
        let bytes = fs::read(blob(layout, descriptor["digest"].as_str().unwrap())).unwrap();
        assert_eq!(sha256(&bytes), descriptor["digest"].as_str().unwrap());
        assert_eq!(bytes.len() as u64, descriptor["size"].as_u64().unwrap());
        bytes
    };
    let bytes = check(&entry);
    let top: Value = serde_json::from_slice(&bytes).unwrap();
    let manifests = if entry["mediaType"] == "application/vnd.oci.image.index.v1+json" {
        top["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| serde_json::from_slice::<Value>(&check(d)).unwrap())
            .collect()
    } else {
        vec![top]
    };
    let mut configs = Vec::new();
    for manifest in manifests {
        assert_eq!(manifest["schemaVersion"], 2);
        let config: Value = serde_json::from_slice(&check(&manifest["config"])).unwrap();
        let diff_ids = config["rootfs"]["diff_ids"].as_array().unwrap();
        let layers = manifest["layers"].as_array().unwrap();
        assert_eq!(diff_ids.len(), layers.len());
        for (layer, diff_id) in layers.iter().zip(diff_ids) {
            let digest = layer["digest"].as_str().unwrap();
            let path = blob(layout, digest);
            let (actual, len) = sha256_of(fs::File::open(&path).unwrap());
            assert_eq!(actual, digest);
            assert_eq!(len, layer["size"].as_u64().unwrap());
            let (tar_digest, _) = sha256_of(decompressed(
                layer["mediaType"].as_str().unwrap(),
                fs::File::open(&path).unwrap(),
            ));
            assert_eq!(tar_digest, diff_id.as_str().unwrap());
        }
        configs.push(config);
    }
    (entry["digest"].as_str().unwrap().to_owned(), configs)
}

/// Checks a docker-archive from its bytes alone: the config's name is its digest, each layer
/// tar's sha256 is the config's `diff_id`. Returns `manifest.json`.
pub fn verify_archive(file: &Path) -> Value {
    let mut members = BTreeMap::new();
    let mut archive = tar::Archive::new(fs::File::open(file).unwrap());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let header = entry.header();
        assert_eq!(header.uid().unwrap(), 0);
        assert_eq!(header.mtime().unwrap(), 0);
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        members.insert(name, bytes);
    }
    let manifest: Value = serde_json::from_slice(&members["manifest.json"]).unwrap();
    let image = &manifest[0];
    let config_name = image["Config"].as_str().unwrap();
    let config_bytes = &members[config_name];
    assert_eq!(
        format!(
            "{}.json",
            sha256(config_bytes).strip_prefix("sha256:").unwrap()
        ),
        config_name
    );
    let config: Value = serde_json::from_slice(config_bytes).unwrap();
    let diff_ids = config["rootfs"]["diff_ids"].as_array().unwrap();
    let layers = image["Layers"].as_array().unwrap();
    assert_eq!(layers.len(), diff_ids.len());
    for (layer, diff_id) in layers.iter().zip(diff_ids) {
        let bytes = &members[layer.as_str().unwrap()];
        assert_eq!(sha256(bytes), diff_id.as_str().unwrap(), "{layer}");
        // An uncompressed tar, which a tar reader lists.
        assert!(tar::Archive::new(&bytes[..]).entries().unwrap().count() > 0);
    }
    manifest
}

/// A tree as the tests compare it: path -> what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir { mode: u32 },
    File { mode: u32, contents: Vec<u8> },
    Link { target: PathBuf },
}

pub fn tree(root: &Path) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let meta = fs::symlink_metadata(&path).unwrap();
            let mode = meta.mode() & 0o7777;
            let node = if meta.is_dir() {
                pending.push(path.clone());
                Node::Dir { mode }
            } else if meta.is_file() {
                Node::File {
                    mode,
                    contents: fs::read(&path).unwrap(),
                }
            } else if meta.file_type().is_symlink() {
                Node::Link {
                    target: fs::read_link(&path).unwrap(),
                }
            } else {
                continue;
            };
            out.insert(relative, node);
        }
    }
    out
}

/// What `/workdir` must hold for [`make_repo`]: its tree without what is left out, modes
/// normalized, the absolute link made relative.
pub fn expected_workdir(repo: &Path) -> BTreeMap<String, Node> {
    let excluded: Vec<&str> = EXPECTED_EXCLUDED
        .iter()
        .map(|e| e.0.trim_end_matches('/'))
        .collect();
    tree(repo)
        .into_iter()
        .filter(|(path, _)| {
            !excluded
                .iter()
                .any(|e| path == e || path.starts_with(&format!("{e}/")))
        })
        .map(|(path, node)| {
            let node = match node {
                Node::Dir { .. } => Node::Dir { mode: 0o755 },
                Node::File { mode, contents } => Node::File {
                    mode: if mode & 0o111 != 0 { 0o755 } else { 0o644 },
                    contents,
                },
                Node::Link { .. } if path == "lib/abs_inside" => Node::Link {
                    target: "../train.py".into(),
                },
                link @ Node::Link { .. } => link,
            };
            (path, node)
        })
        .collect()
}

/// `umoci unpack`s the image `tag` of `layout` and returns the bundle's root file system.
pub fn umoci_unpack(layout: &Path, tag: &str, bundle: &Path) -> Option<PathBuf> {
    let mut umoci = tool("umoci")?;
    umoci
        .args(["unpack", "--image"])
        .arg(format!("{}:{tag}", layout.display()));
    if !is_root() {
        umoci.arg("--rootless");
    }
    run(umoci.arg(bundle));
    Some(bundle.join("rootfs"))
}

/// The digest of a file's bytes.
pub fn file_digest(path: &Path) -> String {
    digest_bytes(&fs::read(path).unwrap()).to_string()
}

/// Writes one image to `layout` as `tag`.
pub fn to_layout(
    store: &BlobStore,
    layout: &Path,
    tag: &str,
    image: &Image,
) -> mlreef_core::oci::Descriptor {
    mlreef_core::oci::write_layout(
        store,
        layout,
        Some(tag),
        std::slice::from_ref(image),
        &Silent,
    )
    .unwrap()
}
