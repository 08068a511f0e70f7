//! The whole build (`publish::build`): a repository in, a module's image out, checked by what
//! runs it. Images are built on the Debian base the test command makes with debootstrap,
//! unpacked with umoci and run with chroot; requirements are installed from the package index by `uv`.

mod oci_common;

use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use mlreef_core::deps;
use mlreef_core::module::image_paths;
use mlreef_core::oci::{self, BlobStore, ImageRef, LayerOptions, LayerRole};
use mlreef_core::pipeline;
use mlreef_core::platform::Platform;
use mlreef_core::progress::Silent;
use mlreef_core::publish::{BuildOptions, BuildResult, build};
use mlreef_core::{Error, error_chain};
use mlreef_testing::{chroot, image_process, path_str, rootfs, skopeo, unpack};
use oci_common::{verify_archive, verify_layout};
use serde_json::Value;

const TRAIN: &str = r#"import argparse
import json

import numpy
import yaml

parser = argparse.ArgumentParser(description="Fit a line")
parser.add_argument("--input-path", default="data", help="where the data is")
parser.add_argument("--output-path", default="out", help="where results go")
parser.add_argument("--epochs", type=int, default=3, help="passes over the data")
parser.add_argument("--note", default="", help="free text")
args = parser.parse_args()
print(json.dumps({"epochs": args.epochs, "note": args.note, "input": args.input_path,
                  "numpy": numpy.__version__, "yaml": yaml.__version__}))
"#;

/// A module repository, committed at `time` (seconds since the epoch).
fn make_repo(repo: &Path, requirements: &str, time: u64) {
    fs::create_dir_all(repo.join("src")).unwrap();
    fs::write(repo.join("train.py"), TRAIN).unwrap();
    fs::write(repo.join("src/helpers.py"), "SCALE = 1\n").unwrap();
    fs::write(repo.join("requirements.txt"), requirements).unwrap();
    fs::write(repo.join(".env"), "API_TOKEN=never-in-an-image\n").unwrap();
    fs::write(repo.join(".gitignore"), "data/\n").unwrap();
    fs::create_dir_all(repo.join("data")).unwrap();
    fs::write(repo.join("data/big.csv"), "x\n1\n").unwrap();
    let date = format!("@{time} +0000");
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-qm",
            "first",
        ],
    ] {
        let out = Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(args)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn options(base: &str, output: &Path, tag: &str, cache: &Path) -> BuildOptions {
    BuildOptions {
        base: Some(base.parse().unwrap()),
        output: Some(ImageRef::Layout {
            dir: output.to_owned(),
            tag: Some(tag.to_owned()),
        }),
        cache: Some(cache.to_owned()),
        ..BuildOptions::default()
    }
}

fn debian() -> String {
    format!("rootfs:{}", rootfs().display())
}

fn roles(result: &BuildResult, platform: usize) -> Vec<LayerRole> {
    result.platforms[platform]
        .layers
        .iter()
        .map(|l| l.role)
        .collect()
}

fn run_in(rootfs: &Path, env: &[(String, String)], argv: &[&str]) -> String {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = chroot(rootfs, image_paths::CODE_DIR, &env, argv);
    assert!(
        out.status.success(),
        "{argv:?} in the image: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_module_runs_inside_its_image_on_a_debian_base() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("line-fit");
    let committed = 1_767_225_600; // 2026-01-01
    make_repo(&repo, "numpy==2.2.6\nPyYAML==6.0.2\n", committed);
    let layout = dir.path().join("images");
    let built = build(
        &repo,
        &options(&debian(), &layout, "v1", &dir.path().join("cache")),
    )
    .unwrap_or_else(|e| panic!("{}", error_chain(&e)));

    assert_eq!(
        roles(&built, 0),
        [LayerRole::Base, LayerRole::Deps, LayerRole::Code]
    );
    assert_eq!(built.platforms[0].python.as_deref(), Some("3.11"));
    assert!(
        built
            .lock
            .as_deref()
            .is_some_and(|l| l.starts_with("sha256:"))
    );
    let excluded: Vec<(&str, String)> = built
        .excluded
        .iter()
        .map(|e| (e.path.as_str(), e.reason.to_string()))
        .collect();
    assert!(
        excluded.contains(&(".env", "secret".to_owned())),
        "{excluded:?}"
    );
    assert!(
        excluded.contains(&("data/", ".gitignore".to_owned())),
        "{excluded:?}"
    );

    // Independent readers agree on what was written, and every digest checks out.
    let (digest, configs) = verify_layout(&layout, "v1");
    assert_eq!(digest, built.digest);
    assert_eq!(
        configs[0]["config"]["Entrypoint"],
        serde_json::json!(["python3", "/workdir/train.py"])
    );
    assert_eq!(
        configs[0]["history"].as_array().map(Vec::len),
        Some(3),
        "one entry per layer"
    );
    let copied = dir.path().join("copied.tar");
    let _ = skopeo(&[
        "copy",
        &format!("oci:{}:v1", path_str(&layout)),
        &format!("docker-archive:{}:line-fit:1", path_str(&copied)),
    ]);
    verify_archive(&copied);
    let inspected: Value = serde_json::from_str(&skopeo(&[
        "inspect",
        &format!("oci:{}:v1", path_str(&layout)),
    ]))
    .unwrap();
    assert_eq!(inspected["Digest"], built.digest.as_str());
    assert_eq!(
        inspected["Created"], "2026-01-01T00:00:00Z",
        "the commit's time"
    );
    let labels = &inspected["Labels"];
    assert_eq!(labels["org.opencontainers.image.title"], "line-fit");
    assert_eq!(labels["org.opencontainers.image.version"], "1");
    assert_eq!(
        labels["org.opencontainers.image.revision"]
            .as_str()
            .map(str::len),
        Some(40)
    );
    let described: mlreef_core::Module =
        serde_json::from_str(labels["com.mlreef.module"].as_str().unwrap()).unwrap();
    assert_eq!(described, built.module);

    let bundle = unpack(&layout, "v1");
    let root = bundle.path().join("bundle/rootfs");
    let site = root.join("opt/mlreef/site-packages");
    let lock = fs::read_to_string(root.join("opt/mlreef/requirements.lock")).unwrap();
    assert!(
        lock.contains("numpy==2.2.6") && lock.contains("--hash=sha256:"),
        "{lock}"
    );
    let compiled = walk(&site)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pyc"))
        .count();
    assert_eq!(compiled, 0, "no bytecode in the dependency layer");
    assert_eq!(
        fs::read(root.join("workdir/train.py")).unwrap(),
        TRAIN.as_bytes()
    );
    assert!(!root.join("workdir/.env").exists() && !root.join("workdir/data").exists());

    let (env, _) = image_process(&bundle.path().join("bundle"));
    assert!(
        env.contains(&("PYTHONPATH".into(), image_paths::SITE_PACKAGES.into())),
        "{env:?}"
    );
    // Every requirement imports with the image's own Python.
    run_in(&root, &env, &["python3", "-c", "import numpy, yaml"]);
    // The entry point's --help lists the parameters the build extracted.
    let help = run_in(&root, &env, &["python3", "/workdir/train.py", "--help"]);
    for parameter in &built.module.parameters {
        let flag = &parameter.flags[0];
        assert!(help.contains(flag.as_str()), "{flag} missing from:\n{help}");
    }
    // A console script of a dependency runs with the image's Python.
    let f2py = run_in(&root, &env, &["f2py", "-v"]);
    assert!(f2py.trim().starts_with("2.2.6"), "{f2py}");

    // The run template of mlreef.yml, as a CI job would run it in this image.
    let yaml = pipeline::render(&built.module, None, &pipeline::PipelineOptions::default());
    let file = pipeline::read(&yaml, None).unwrap();
    let template = &file.document[pipeline::RUN_TEMPLATE];
    let script = template["script"][0].as_str().unwrap();
    let values = serde_json::json!({"epochs": 7, "note": "it's a \"test\" $HOME *"});
    let argv = built
        .module
        .command_line(values.as_object().unwrap())
        .unwrap();
    let mut job_env = env.clone();
    job_env.push(("MLREEF_ARGS".into(), pipeline::shell_line(&argv)));
    job_env.push(("INPUT_PATH".into(), "/tmp/in put".into()));
    job_env.push(("OUTPUT_PATH".into(), "/tmp/out".into()));
    let printed = run_in(&root, &job_env, &["/bin/sh", "-c", script]);
    let printed: Value = serde_json::from_str(printed.trim()).unwrap();
    assert_eq!(printed["epochs"], 7);
    assert_eq!(printed["note"], "it's a \"test\" $HOME *");
    assert_eq!(printed["input"], "/tmp/in put");
    assert_eq!(printed["numpy"], "2.2.6");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                pending.push(entry.path());
            } else {
                found.push(entry.path());
            }
        }
    }
    found
}

/// Sets every file's modification time under `dir` to `time`.
fn touch_all(dir: &Path, time: std::time::SystemTime) {
    for path in walk(dir) {
        if !path.components().any(|c| c.as_os_str() == ".git") {
            fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(time)
                .unwrap();
        }
    }
}

#[test]
fn the_same_repository_gives_the_same_digest_anywhere_and_one_change_only_the_code_layer() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a/fit"), dir.path().join("b/elsewhere/fit"));
    let requirements = "PyYAML==6.0.2\n";
    make_repo(&a, requirements, 1_700_000_000);
    make_repo(&b, requirements, 1_700_000_000);
    // Made at different times, in different folders, built into different caches.
    touch_all(
        &a,
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000),
    );
    let first = build(
        &a,
        &options(
            &debian(),
            &dir.path().join("out-a"),
            "v1",
            &dir.path().join("cache-a"),
        ),
    )
    .unwrap_or_else(|e| panic!("{}", error_chain(&e)));
    let second = build(
        &b,
        &options(
            &debian(),
            &dir.path().join("out-b"),
            "v1",
            &dir.path().join("cache-b"),
        ),
    )
    .unwrap_or_else(|e| panic!("{}", error_chain(&e)));
    assert_eq!(first.digest, second.digest);
    assert_eq!(first.platforms, second.platforms);

    // Built again: the base and the dependencies come from the cache.
    fs::write(a.join("src/helpers.py"), "SCALE = 2\n").unwrap();
    let changed = build(
        &a,
        &options(
            &debian(),
            &dir.path().join("out-a"),
            "v2",
            &dir.path().join("cache-a"),
        ),
    )
    .unwrap_or_else(|e| panic!("{}", error_chain(&e)));
    let (before, after) = (&first.platforms[0].layers, &changed.platforms[0].layers);
    for (kept, again) in before[..2].iter().zip(&after[..2]) {
        assert_eq!(kept.digest, again.digest);
        assert!(again.cached, "{again:?}");
    }
    assert_ne!(before[2].digest, after[2].digest, "the code layer changed");
    assert_ne!(first.digest, changed.digest);
}

/// The ELF machine of the first shared object under `prefix` in the gzip layer `blob`.
fn elf_machine(blob: &Path, prefix: &str) -> Option<u16> {
    let file = fs::File::open(blob).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        if path.starts_with(prefix) && Path::new(&path).extension().is_some_and(|e| e == "so") {
            let mut header = [0u8; 20];
            entry.read_exact(&mut header).unwrap();
            assert_eq!(&header[..4], b"\x7fELF", "{path}");
            return Some(u16::from_le_bytes([header[18], header[19]]));
        }
    }
    None
}

#[test]
fn two_platforms_make_an_index_with_each_platforms_wheels() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("fit");
    make_repo(&repo, "numpy==2.2.6\nPyYAML==6.0.2\n", 1_700_000_000);
    let layout = dir.path().join("images");
    let mut options = options("scratch", &layout, "multi", &dir.path().join("cache"));
    options.platforms = vec![Platform::linux_amd64(), "linux/arm64".parse().unwrap()];
    options.deps.python = Some("3.11".into());
    let built = build(&repo, &options).unwrap_or_else(|e| panic!("{}", error_chain(&e)));
    let (digest, configs) = verify_layout(&layout, "multi");
    assert_eq!(digest, built.digest);
    let architectures: Vec<&str> = configs
        .iter()
        .map(|c| c["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(architectures, ["amd64", "arm64"]);

    let raw: Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--raw",
        &format!("oci:{}:multi", path_str(&layout)),
    ]))
    .unwrap();
    assert_eq!(raw["mediaType"], "application/vnd.oci.image.index.v1+json");
    let listed: Vec<(String, String)> = raw["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["platform"]["architecture"].as_str().unwrap().to_owned(),
                m["digest"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("amd64".to_owned(), built.platforms[0].digest.clone()),
            ("arm64".to_owned(), built.platforms[1].digest.clone())
        ]
    );
    let (amd64, arm64) = (&built.platforms[0].layers, &built.platforms[1].layers);
    assert_eq!(amd64[1], arm64[1], "one code layer for both");
    assert_ne!(amd64[0].digest, arm64[0].digest, "a dependency layer each");
    let blob = |digest: &str| layout.join("blobs/sha256").join(&digest[7..]);
    let numpy = "opt/mlreef/site-packages/numpy/_core/";
    assert_eq!(
        elf_machine(&blob(&amd64[0].digest), numpy),
        Some(62),
        "x86-64"
    );
    assert_eq!(
        elf_machine(&blob(&arm64[0].digest), numpy),
        Some(183),
        "AArch64"
    );
}

/// A tar holding `entries` as they are written, `../` included (the tar crate refuses to write
/// such paths through its checked setters).
fn raw_tar(entries: &[(&str, Option<&str>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, link) in entries {
        let mut header = tar::Header::new_old();
        let name = &mut header.as_old_mut().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        if let Some(target) = link {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_link_name(target).unwrap();
            header.set_size(0);
        } else {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(4);
        }
        header.set_mode(0o755);
        header.set_cksum();
        let data: &[u8] = if link.is_some() { b"" } else { b"ELF\n" };
        builder.append(&header, data).unwrap();
    }
    builder.into_inner().unwrap()
}

/// A docker-archive (as `docker save` writes) of one image of one layer with `entries`.
fn archive_base(file: &Path, entries: &[(&str, Option<&str>)]) -> String {
    let layer = raw_tar(entries);
    let diff_id = oci::digest_bytes(&layer).to_string();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!([
        {"Config": "config.json", "RepoTags": ["base:1"], "Layers": ["layer/layer.tar"]}
    ]))
    .unwrap();
    let mut builder = tar::Builder::new(fs::File::create(file).unwrap());
    for (name, bytes) in [
        ("manifest.json", manifest),
        ("config.json", config),
        ("layer/layer.tar", layer),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, &bytes[..]).unwrap();
    }
    builder.finish().unwrap();
    format!("docker-archive:{}", file.display())
}

#[test]
fn bad_inputs_are_clear_errors_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("fit");
    make_repo(&repo, "PyYAML==6.0.2\n", 1_700_000_000);
    let cache = dir.path().join("cache");
    let out = dir.path().join("out");

    // A base layer with an entry that leaves the root file system.
    let base = archive_base(
        &dir.path().join("dotdot.tar"),
        &[
            ("usr/bin/python3.11", None),
            ("../../etc/cron.d/evil", None),
        ],
    );
    let error = build(&repo, &options(&base, &out, "v1", &cache)).unwrap_err();
    assert!(
        matches!(&error, Error::Deps(deps::Error::UnsafeLayerPath { path, .. }) if path == "../../etc/cron.d/evil"),
        "{}",
        error_chain(&error)
    );
    assert!(!out.exists());

    // Absolute links are the image's own: they point into it, and are never followed here.
    let base = archive_base(
        &dir.path().join("links.tar"),
        &[
            ("usr/bin/python3.12", None),
            ("usr/bin/python3", Some("/usr/bin/python3.12")),
            ("etc/passwd", Some("/etc/shadow")),
        ],
    );
    fs::write(repo.join("requirements.txt"), "").unwrap();
    let built = build(&repo, &options(&base, &out, "v1", &cache))
        .unwrap_or_else(|e| panic!("{}", error_chain(&e)));
    assert_eq!(built.platforms[0].python.as_deref(), Some("3.12"));

    // A base blob that is not what its digest says.
    let base_out = dir.path().join("corrupt");
    let mut scratch = options("scratch", &base_out, "v1", &cache);
    scratch.deps.python = Some("3.11".into());
    build(&repo, &scratch).unwrap();
    let blobs = base_out.join("blobs/sha256");
    for blob in fs::read_dir(&blobs).unwrap() {
        let path = blob.unwrap().path();
        let mut bytes = fs::read(&path).unwrap();
        bytes.push(b'!');
        fs::write(&path, bytes).unwrap();
    }
    let error = build(
        &repo,
        &options(
            &format!("oci:{}:v1", base_out.display()),
            &dir.path().join("never"),
            "v1",
            &cache,
        ),
    )
    .unwrap_err();
    assert!(
        matches!(&error, Error::Image(oci::Error::DigestMismatch { what, .. }) if what.contains("corrupt")),
        "{}",
        error_chain(&error)
    );
    assert!(!dir.path().join("never").exists());

    // A requirement that has no wheel: named, with the platform, and nothing written.
    fs::write(repo.join("requirements.txt"), "docopt==0.6.2\n").unwrap();
    let error = build(&repo, &scratch_to(&dir.path().join("no-wheel"), &cache)).unwrap_err();
    assert!(
        matches!(&error, Error::Deps(deps::Error::NoWheel { requirement, platform, .. })
            if requirement == "docopt==0.6.2" && platform == "linux/amd64"),
        "{}",
        error_chain(&error)
    );
    assert!(!dir.path().join("no-wheel").exists());
    fs::write(repo.join("requirements.txt"), "").unwrap();

    // A link in the repository to a file outside it.
    std::os::unix::fs::symlink("/etc/passwd", repo.join("users")).unwrap();
    let error = build(&repo, &scratch_to(&dir.path().join("linked"), &cache)).unwrap_err();
    assert!(
        matches!(&error, Error::Image(oci::Error::LinkOutside { link, .. }) if link == "users"),
        "{}",
        error_chain(&error)
    );
    assert!(error.to_string().contains("/etc/passwd"), "{error}");
    fs::remove_file(repo.join("users")).unwrap();

    // An output that is not one.
    for (output, says) in [
        ("docker://127.0.0.1:9/team/fit:1", "mlreef publish"),
        ("scratch", "can be a base, not an output"),
    ] {
        let mut options = scratch_to(&dir.path().join("unused"), &cache);
        options.output = Some(output.parse().unwrap());
        let error = build(&repo, &options).unwrap_err();
        assert!(error.to_string().contains(says), "{error}");
    }
    let mut options = scratch_to(&dir.path().join("unused"), &cache);
    options.output = Some(
        format!("docker-archive:{}/two.tar", dir.path().display())
            .parse()
            .unwrap(),
    );
    options.platforms = vec![Platform::linux_amd64(), "linux/arm64".parse().unwrap()];
    let error = build(&repo, &options).unwrap_err();
    assert!(error.to_string().contains("holds one platform"), "{error}");
}

fn scratch_to(out: &Path, cache: &Path) -> BuildOptions {
    let mut options = options("scratch", out, "v1", cache);
    options.deps.python = Some("3.11".into());
    options
}

#[test]
fn a_root_file_system_is_tarred_once_until_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    fs::create_dir_all(root.join("usr/bin")).unwrap();
    fs::write(root.join("usr/bin/tool"), "#!/bin/sh\n").unwrap();
    std::os::unix::fs::symlink("tool", root.join("usr/bin/alias")).unwrap();
    let store = BlobStore::open(dir.path().join("cache")).unwrap();
    let options = LayerOptions {
        role: LayerRole::Base,
        ..LayerOptions::default()
    };
    let first = oci::rootfs_layer(&store, &root, &options, &Silent).unwrap();
    let again = oci::rootfs_layer(&store, &root, &options, &Silent).unwrap();
    assert!(!first.cached && again.cached);
    assert_eq!(first.digest, again.digest);
    // Another time in the layer is another layer.
    let later = LayerOptions {
        mtime: 60,
        ..options.clone()
    };
    assert!(
        !oci::rootfs_layer(&store, &root, &later, &Silent)
            .unwrap()
            .cached
    );
    // A changed file, even of the same size, is seen.
    fs::write(root.join("usr/bin/tool"), "#!/bin/ksh\n").unwrap();
    let changed = oci::rootfs_layer(&store, &root, &options, &Silent).unwrap();
    assert!(!changed.cached);
    assert_ne!(changed.digest, first.digest);
    // As is a link pointed elsewhere.
    fs::remove_file(root.join("usr/bin/alias")).unwrap();
    std::os::unix::fs::symlink("other", root.join("usr/bin/alias")).unwrap();
    assert!(
        !oci::rootfs_layer(&store, &root, &options, &Silent)
            .unwrap()
            .cached
    );
}
