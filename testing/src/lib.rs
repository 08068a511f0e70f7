//! Test support shared by the workspace's tests: the real components tests talk to.
//!
//! - [`registry`]: a Debian `docker-registry` on 127.0.0.1. The test command
//!   (`scripts/test.sh`) starts one anonymous and one with htpasswd basic auth for the whole
//!   run and names them in `MLREEF_TEST_REGISTRY` and `MLREEF_TEST_REGISTRY_AUTH`; a test run
//!   without them (`cargo test` alone) starts its own, stopped (and its folder removed) by a
//!   watchdog once the process has ended.
//! - [`tool`]: the path of an independent tool (`skopeo`, `umoci`), or a panic that says how to
//!   install it: a test that checks with a tool must not pass without it.

pub mod proxy;

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A registry to push to and pull from.
#[derive(Debug, Clone)]
pub struct TestRegistry {
    /// `127.0.0.1:PORT`.
    pub address: String,
    /// The user and password of a registry with basic auth; `None` for an anonymous one.
    pub credentials: Option<(String, String)>,
}

/// The path of `name` on PATH; panics with the package to install when it is missing.
#[must_use]
pub fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not installed: scripts/test.sh installs it (apt-get install {name})"
            )
        })
}

/// Starts docker-registry (`$0`) with the config `$1` in a background watchdog that stops it
/// once the test process `$2` is gone and removes its folder `$3` (a static is never dropped,
/// so nothing inside the process could). The shell itself returns at once.
const WATCHDOG: &str = r#"(
    "$0" serve "$1" >/dev/null 2>&1 & registry=$!
    while kill -0 "$2" 2>/dev/null; do sleep 1; done
    kill "$registry"; wait "$registry"; rm -rf "$3"
) >/dev/null 2>&1 &"#;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// Starts `docker-registry serve` on a free port, with basic auth when `credentials` is given.
fn start(credentials: Option<(&str, &str)>) -> String {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let port = free_port();
    let mut config = format!(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
        dir.path().join("data").display()
    );
    if let Some((user, password)) = credentials {
        let htpasswd = dir.path().join("htpasswd");
        let out = Command::new(tool("htpasswd"))
            .args(["-Bbn", user, password])
            .output()
            .expect("htpasswd runs");
        std::fs::write(&htpasswd, &out.stdout).expect("htpasswd file");
        let _ = write!(
            config,
            "auth:\n  htpasswd:\n    realm: mlreef-test\n    path: {}\n",
            htpasswd.display()
        );
    }
    let config_path = dir.path().join("config.yml");
    std::fs::write(&config_path, config).expect("registry config");
    // The registry outlives no test run: a watchdog stops it when this process ends.
    let dir = dir.keep();
    let started = Command::new("/bin/sh")
        .arg("-c")
        .arg(WATCHDOG)
        .arg(tool("docker-registry"))
        .arg(&config_path)
        .arg(std::process::id().to_string())
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("sh runs");
    assert!(started.success(), "docker-registry starts");
    let address = format!("127.0.0.1:{port}");
    wait_for(&address);
    address
}

/// Waits until something listens on `address` (at most 20 s).
fn wait_for(address: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(address).is_err() {
        assert!(
            Instant::now() < deadline,
            "the registry at {address} did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The anonymous registry of the test run.
#[must_use]
pub fn registry() -> TestRegistry {
    static REGISTRY: OnceLock<String> = OnceLock::new();
    let address = REGISTRY
        .get_or_init(|| std::env::var("MLREEF_TEST_REGISTRY").unwrap_or_else(|_| start(None)));
    TestRegistry {
        address: address.clone(),
        credentials: None,
    }
}

/// The registry with basic auth of the test run.
#[must_use]
pub fn auth_registry() -> TestRegistry {
    static REGISTRY: OnceLock<(String, String, String)> = OnceLock::new();
    let (address, user, password) = REGISTRY.get_or_init(|| {
        if let (Ok(address), Ok(user), Ok(password)) = (
            std::env::var("MLREEF_TEST_REGISTRY_AUTH"),
            std::env::var("MLREEF_TEST_REGISTRY_USER"),
            std::env::var("MLREEF_TEST_REGISTRY_PASSWORD"),
        ) {
            (address, user, password)
        } else {
            let (user, password) = ("mlreef-tester", "test-password-2f9c");
            (
                start(Some((user, password))),
                user.to_owned(),
                password.to_owned(),
            )
        }
    });
    TestRegistry {
        address: address.clone(),
        credentials: Some((user.clone(), password.clone())),
    }
}

/// Runs `skopeo ARGS` (with TLS verification off, the test registries speak plain HTTP) and
/// returns its stdout; panics with its stderr when it fails.
#[must_use]
pub fn skopeo(args: &[&str]) -> String {
    let out = Command::new(tool("skopeo"))
        .args(args)
        .output()
        .expect("skopeo runs");
    assert!(
        out.status.success(),
        "skopeo {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A file's path as a `&str` (test paths are UTF-8).
#[must_use]
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// The Debian base root file system the test command makes with debootstrap (bookworm minbase
/// with python3, pip and CA certificates); panics with how to make it when it is missing.
#[must_use]
pub fn rootfs() -> PathBuf {
    let path = std::env::var_os("MLREEF_TEST_ROOTFS")
        .map(PathBuf::from)
        .or_else(|| {
            let home = std::env::var_os("HOME").map(PathBuf::from)?;
            let candidate = home.join(".cache/mlreef-tests/bookworm-python3");
            candidate
                .with_extension("complete")
                .exists()
                .then_some(candidate)
        });
    match path {
        Some(path) if path.join("usr/bin/python3").exists() => path,
        _ => panic!(
            "no Debian base root file system: scripts/test.sh makes one with debootstrap \
             (or set MLREEF_TEST_ROOTFS to a bookworm minbase with python3)"
        ),
    }
}

/// An image unpacked with `umoci unpack` (an independent reader of OCI layouts): the bundle
/// folder, whose `rootfs` is the image's file system.
#[must_use]
pub fn unpack(layout: &Path, tag: &str) -> tempfile::TempDir {
    let bundle = tempfile::tempdir().expect("a temporary folder");
    let target = bundle.path().join("bundle");
    let out = Command::new(tool("umoci"))
        .arg("unpack")
        .arg("--image")
        .arg(format!("{}:{tag}", path_str(layout)))
        .arg(&target)
        .output()
        .expect("umoci runs");
    assert!(
        out.status.success(),
        "umoci unpack {}:{tag}: {}",
        layout.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    bundle
}

/// The environment and working folder an image gives its process, from the runtime config
/// umoci made of it: `bundle` is the folder holding `config.json` and `rootfs`.
#[must_use]
pub fn image_process(bundle: &Path) -> (Vec<(String, String)>, String) {
    let text = std::fs::read(bundle.join("config.json")).expect("the bundle's config.json");
    let config: serde_json::Value = serde_json::from_slice(&text).expect("a JSON runtime config");
    let env = config["process"]["env"]
        .as_array()
        .expect("process.env")
        .iter()
        .filter_map(|e| e.as_str()?.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let cwd = config["process"]["cwd"].as_str().unwrap_or("/").to_owned();
    (env, cwd)
}

/// Runs `argv` inside `rootfs` with `chroot` (root only), with a clean environment plus `env`
/// and the image's working directory `cwd`.
#[must_use]
pub fn chroot(
    rootfs: &Path,
    cwd: &str,
    env: &[(&str, &str)],
    argv: &[&str],
) -> std::process::Output {
    let mut command = Command::new(tool("chroot"));
    command
        .arg(rootfs)
        .arg("/usr/bin/env")
        .arg("-i")
        .arg("PATH=/usr/local/bin:/usr/bin:/bin")
        .arg("HOME=/root");
    for (name, value) in env {
        command.arg(format!("{name}={value}"));
    }
    command
        .arg("/bin/sh")
        .arg("-c")
        .arg("cd \"$0\" && exec \"$@\"")
        .arg(cwd)
        .args(argv);
    command.output().expect("chroot runs")
}
