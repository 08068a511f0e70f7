//! Locking and installing real wheels from the package index with uv (and pip), for
//! `linux/amd64` and `linux/arm64`.
//!
//! The installers come from the workspace's `.venv` (`scripts/test.sh` installs uv there), else
//! from `PATH`. The packages are small pure-Python ones and numpy.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use mlreef_core::deps::{self, Error, Installer, Lock, LockOrigin, Options};
use mlreef_core::oci::BlobStore;
use mlreef_core::{Target, error_chain};
use sha2::Digest as _;

fn venv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin")
}

fn uv() -> Installer {
    let uv = venv().join("uv");
    if uv.is_file() {
        Installer::Uv(uv)
    } else {
        Installer::Auto
    }
}

fn pip() -> Installer {
    let python = venv().join("python");
    Installer::Pip(if python.is_file() {
        python
    } else {
        "python3".into()
    })
}

fn options(installer: Installer) -> Options {
    Options {
        installer,
        // Fail fast on a refused connection instead of retrying.
        env: BTreeMap::from([("UV_HTTP_RETRIES".to_owned(), "0".to_owned())]),
        ..Options::default()
    }
}

/// An installer that does not exist: a call that would run one fails.
fn nowhere() -> Options {
    Options {
        installer: Installer::Uv("/nonexistent/uv".into()),
        ..Options::default()
    }
}

fn store() -> (tempfile::TempDir, BlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    (dir, store)
}

/// Every file, folder and link below `dir`: its mode and bytes (a link's target).
fn tree(dir: &Path) -> BTreeMap<String, (u32, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (u32, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let name = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.insert(name, (mode, target.to_string_lossy().as_bytes().to_vec()));
            } else if meta.is_dir() {
                out.insert(format!("{name}/"), (mode, Vec::new()));
                walk(root, &path, out);
            } else {
                out.insert(name, (mode, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    out.insert(
        "./".into(),
        (
            std::fs::metadata(dir).unwrap().permissions().mode() & 0o7777,
            Vec::new(),
        ),
    );
    walk(dir, dir, &mut out);
    out
}

/// What a normalized folder never has: bytecode, uv's lock file, the host's interpreter.
fn assert_clean(tree: &BTreeMap<String, (u32, Vec<u8>)>) {
    for (path, (mode, bytes)) in tree {
        assert!(
            Path::new(path).extension().is_none_or(|e| e != "pyc") && !path.contains("__pycache__"),
            "{path}"
        );
        assert_ne!(path, ".lock");
        assert!([0o755, 0o644].contains(mode), "{path} has mode {mode:o}");
        if path.starts_with("bin/") && bytes.starts_with(b"#!") {
            assert!(
                bytes.starts_with(b"#!/usr/bin/env python3\n"),
                "{path}: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
            );
        }
    }
}

/// Each `RECORD` line of a console script names `bin/NAME` with the script's own hash.
fn assert_records_match_scripts(dir: &Path, tree: &BTreeMap<String, (u32, Vec<u8>)>) {
    let mut checked = 0;
    for (path, (_, bytes)) in tree {
        if !path.ends_with(".dist-info/RECORD") {
            continue;
        }
        for line in String::from_utf8_lossy(bytes).lines() {
            assert!(!line.starts_with("../"), "{path}: {line}");
            let fields: Vec<&str> = line.split(',').collect();
            if !fields[0].starts_with("bin/") {
                continue;
            }
            let script = std::fs::read(dir.join(fields[0])).unwrap();
            let digest = sha2::Sha256::digest(&script);
            let encoded = base64_urlsafe(&digest);
            assert_eq!(fields[1], format!("sha256={encoded}"), "{line}");
            assert_eq!(fields[2], script.len().to_string(), "{line}");
            checked += 1;
        }
    }
    assert!(checked > 0, "no console script in any RECORD");
}

fn base64_urlsafe(bytes: &[u8]) -> String {
    // Python's own encoder, as an independent check of ours.
    let hex: String = bytes.iter().fold(String::new(), |mut hex, b| {
        use std::fmt::Write as _;
        let _ = write!(hex, "{b:02x}");
        hex
    });
    let out = Command::new("python3")
        .args([
            "-c",
            "import base64,sys; print(base64.urlsafe_b64encode(bytes.fromhex(sys.argv[1])).rstrip(b'=').decode())",
            &hex,
        ])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn elf_machine(path: &Path) -> u16 {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..4], b"\x7fELF", "{}", path.display());
    u16::from_le_bytes([bytes[18], bytes[19]])
}

fn shared_object(dir: &Path) -> PathBuf {
    let core = dir.join("numpy/_core");
    std::fs::read_dir(&core)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".so"))
        .expect("an extension module in numpy/_core")
}

#[test]
fn pure_packages_lock_install_and_run_with_the_images_python() {
    let (_cache, store) = store();
    let target = Target::new("3.11", "linux/amd64").unwrap();
    let options = options(uv());
    let lock = deps::resolve("idna\nsix\n", &target, &options, &store).unwrap();
    assert_eq!(lock.origin, LockOrigin::Resolved);
    let pins: Vec<&str> = lock.pins().collect();
    assert!(pins.iter().any(|p| p.starts_with("idna==")), "{pins:?}");
    assert!(pins.iter().any(|p| p.starts_with("six==")), "{pins:?}");
    assert!(
        lock.text.matches("--hash=sha256:").count() >= pins.len(),
        "{}",
        lock.text
    );
    // Nothing in the lock depends on when or where it was made.
    assert!(
        !lock.text.contains("uv pip compile") && !lock.text.contains("/tmp"),
        "{}",
        lock.text
    );
    let again = Options {
        refresh: true,
        ..options.clone()
    };
    assert_eq!(
        deps::resolve("idna\nsix\n", &target, &again, &store)
            .unwrap()
            .text,
        lock.text
    );

    // The same text for the same target is not resolved again: no installer is even run.
    let kept = deps::resolve("idna\nsix\n", &target, &nowhere(), &store).unwrap();
    assert_eq!((kept.origin, &kept.text), (LockOrigin::Kept, &lock.text));
    // Another target is another lock.
    assert!(
        deps::resolve(
            "idna\nsix\n",
            &Target::new("3.12", "linux/amd64").unwrap(),
            &nowhere(),
            &store
        )
        .is_err()
    );

    let installed = deps::install(&lock, &target, &options).unwrap().unwrap();
    let dir = installed.dir.path();
    assert_eq!(installed.lock, lock.text);
    assert_eq!(
        deps::install_key(&lock, &target, &options)
            .unwrap()
            .as_deref(),
        Some(installed.key.as_str())
    );
    assert!(
        installed.installer.starts_with("uv "),
        "{}",
        installed.installer
    );
    let files = tree(dir);
    assert!(
        files.contains_key("six.py") && files.contains_key("bin/idna"),
        "{:?}",
        files.keys()
    );
    assert_clean(&files);
    assert_records_match_scripts(dir, &files);

    // The console script runs with whatever `python3` is first on PATH, as the entry point.
    let run = Command::new(dir.join("bin/idna"))
        .arg("--help")
        .env("PYTHONPATH", dir)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains("usage"));
}

#[test]
fn numpy_for_amd64_and_arm64_is_byte_for_byte_the_same_twice() {
    let (_cache, store) = store();
    let options = options(uv());
    for (platform, machine) in [("linux/amd64", 62), ("linux/arm64", 183)] {
        let target = Target::new("3.11", platform).unwrap();
        let started = Instant::now();
        let lock = deps::resolve("numpy\n", &target, &options, &store).unwrap();
        let first = deps::install(&lock, &target, &options).unwrap().unwrap();
        eprintln!("{platform}: numpy lock + install {:?}", started.elapsed());
        let so = shared_object(first.dir.path());
        assert_eq!(elf_machine(&so), machine, "{}", so.display());
        let files = tree(first.dir.path());
        assert_clean(&files);
        assert_records_match_scripts(first.dir.path(), &files);

        // A second install of the same lock, in another folder: the same tree, byte for byte.
        let started = Instant::now();
        let lock = deps::resolve("numpy\n", &target, &options, &store).unwrap();
        assert_eq!(lock.origin, LockOrigin::Kept);
        let second = deps::install(&lock, &target, &options).unwrap().unwrap();
        eprintln!(
            "{platform}: numpy kept lock + install {:?}",
            started.elapsed()
        );
        assert_ne!(first.dir.path(), second.dir.path());
        assert_eq!(first.key, second.key);
        let again = tree(second.dir.path());
        assert_eq!(
            files.keys().collect::<Vec<_>>(),
            again.keys().collect::<Vec<_>>()
        );
        for (path, entry) in &files {
            assert!(again[path] == *entry, "{path} differs between two installs");
        }
    }
}

#[test]
fn a_requirement_without_a_wheel_is_named_with_the_platform() {
    let (_cache, store) = store();
    // docopt 0.6.2 is published as an sdist only.
    let target = Target::new("3.11", "linux/arm64").unwrap();
    let error = deps::resolve("docopt==0.6.2\nsix\n", &target, &options(uv()), &store).unwrap_err();
    let Error::NoWheel {
        requirement,
        platform,
        python,
        ..
    } = &error
    else {
        panic!("{}", error_chain(&error));
    };
    assert_eq!(
        (requirement.as_str(), platform.as_str(), python.as_str()),
        ("docopt==0.6.2", "linux/arm64", "3.11")
    );
    let text = error_chain(&error);
    assert!(
        text.contains("`docopt==0.6.2` has no wheel for linux/arm64"),
        "{text}"
    );
    assert!(
        text.contains("no usable wheels"),
        "the installer's words are the cause: {text}"
    );

    // A lock naming the sdist's hash fails the same way at install, with uv and with pip.
    let lock = Lock::given(
        "docopt==0.6.2 \\\n    --hash=sha256:49b3a825280bd66b3aa83585ef59c4a8c82f2c8a522dbe754a8bc8d08c85c491\n",
    );
    for installer in [uv(), pip()] {
        let error = deps::install(&lock, &target, &options(installer)).unwrap_err();
        assert!(
            matches!(&error, Error::NoWheel { requirement, .. } if requirement.contains("docopt")),
            "{}",
            error_chain(&error)
        );
    }
}

#[test]
fn a_lock_given_back_is_installed_as_it_is() {
    let (_cache, store) = store();
    let target = Target::new("3.11", "linux/amd64").unwrap();
    // six 1.16.0, older than what a resolution would choose today.
    let text = "six==1.16.0 \\\n    --hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254\n";
    let given = Options {
        lock: Some(text.to_owned()),
        ..nowhere()
    };
    let lock = deps::resolve("six\n", &target, &given, &store).unwrap();
    assert_eq!((lock.origin, lock.text.as_str()), (LockOrigin::Given, text));
    let installed = deps::install(&lock, &target, &options(uv()))
        .unwrap()
        .unwrap();
    assert!(installed.dir.path().join("six-1.16.0.dist-info").is_dir());
    assert_eq!(installed.lock, text);
}

#[test]
fn pip_installs_when_uv_is_missing() {
    let (_cache, store) = store();
    let target = Target::new("3.11", "linux/arm64").unwrap();
    let options = options(pip());
    let lock = deps::resolve("idna\nsix\n", &target, &options, &store).unwrap();
    assert_eq!(lock.pins().count(), 2, "{}", lock.text);
    assert_eq!(
        lock.text.matches("--hash=sha256:").count(),
        2,
        "{}",
        lock.text
    );
    let first = deps::install(&lock, &target, &options).unwrap().unwrap();
    assert!(first.installer.starts_with("pip "), "{}", first.installer);
    let files = tree(first.dir.path());
    assert!(files.contains_key("bin/idna"));
    assert_eq!(files["six-1.17.0.dist-info/INSTALLER"].1, b"pip\n");
    assert_clean(&files);
    assert_records_match_scripts(first.dir.path(), &files);
    let second = deps::install(&lock, &target, &options).unwrap().unwrap();
    assert!(tree(second.dir.path()) == files, "two pip installs differ");
}

#[test]
fn installer_output_never_shows_credentials() {
    let (_cache, store) = store();
    let target = Target::new("3.11", "linux/amd64").unwrap();
    let secret = "tok-abcdef-123456";
    let mut options = options(uv());
    options
        .env
        .insert("MLREEF_TEST_TOKEN".into(), secret.into());
    // Port 9 refuses: uv prints the URL it could not fetch, with the expanded value.
    let requirements =
        "six @ https://127.0.0.1:9/${MLREEF_TEST_TOKEN}/six-1.17.0-py2.py3-none-any.whl\n";
    let error = deps::resolve(requirements, &target, &options, &store).unwrap_err();
    let text = error_chain(&error);
    assert!(matches!(error, Error::Failed { .. }), "{text}");
    assert!(text.contains("127.0.0.1:9/****/six"), "{text}");
    assert!(!text.contains(secret), "{text}");
    assert!(!format!("{options:?}").contains(secret));

    let requirements = "--index-url https://user:supersecret99@127.0.0.1:9/simple\nsix\n";
    let error = deps::resolve(requirements, &target, &options, &store).unwrap_err();
    let text = error_chain(&error);
    assert!(!text.contains("supersecret99"), "{text}");
}

#[test]
fn every_wait_is_bounded_and_nothing_installs_for_nothing() {
    let (_cache, store) = store();
    let target = Target::new("3.11", "linux/amd64").unwrap();
    let hasty = Options {
        timeout: std::time::Duration::from_millis(1),
        ..options(uv())
    };
    let error = deps::resolve("six\n", &target, &hasty, &store).unwrap_err();
    assert!(
        matches!(error, Error::Timeout { .. }),
        "{}",
        error_chain(&error)
    );

    let lock = deps::resolve("# no requirements\n\n", &target, &nowhere(), &store).unwrap();
    assert!(lock.is_empty());
    assert!(deps::install(&lock, &target, &nowhere()).unwrap().is_none());
    assert!(
        deps::install_key(&lock, &target, &nowhere())
            .unwrap()
            .is_none()
    );
}
