//! `mlreef publish` as processes that share a cache and a registry: many at once, and killed
//! midway. Whatever happens, every blob in the cache is the bytes its name says, no tag names
//! a partial image, and the next run completes. And what must stay secret (a registry
//! password, a docker config's auth, a repository's `.env`) reaches no output, log, label,
//! `mlreef.yml` or image.

use std::fs;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use mlreef_core::oci::{BlobStore, Digest};
use mlreef_testing::{TestRegistry, path_str, registry, skopeo};

mod common;
use common::text;

/// A small root file system as the base every module shares: its layer is made once and
/// cached, by whichever process gets there first.
fn base(dir: &Path) -> String {
    let root = dir.join("base");
    for (path, size) in [("usr/bin/tool", 200_000), ("usr/lib/data.bin", 1_000_000)] {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        // Compressible but not trivially: the same bytes in every run.
        let bytes: Vec<u8> = (0..size).map(|i: u64| (i * 7919 % 251) as u8).collect();
        fs::write(path, bytes).unwrap();
    }
    format!("rootfs:{}", root.display())
}

fn module(dir: &Path, name: &str, extra: &[u8]) -> PathBuf {
    let repo = dir.join(name);
    fs::create_dir_all(&repo).unwrap();
    fs::write(
        repo.join("train.py"),
        format!(
            "import argparse\np = argparse.ArgumentParser(description='{name}')\n\
             p.add_argument('--input-path')\np.add_argument('--output-path')\n\
             p.add_argument('--epochs', type=int, default=3)\np.parse_args()\n"
        ),
    )
    .unwrap();
    if !extra.is_empty() {
        fs::write(repo.join("weights.bin"), extra).unwrap();
    }
    repo
}

fn publish_command(repo: &Path, base: &str, target: &str, cache: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mlreef"));
    command
        .args([
            "publish",
            path_str(repo),
            "--base",
            base,
            "--python",
            "3.11",
        ])
        .args(["--push", target])
        .env("MLREEF_CACHE", cache)
        .env("SOURCE_DATE_EPOCH", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Publishes `repo` to `target` and waits: the digest it printed.
fn publish(repo: &Path, base: &str, target: &str, cache: &Path) -> String {
    digest_printed(&publish_command(repo, base, target, cache).output().unwrap())
}

/// Every blob of the cache is the bytes its name says; returns how many there are.
fn assert_cache_sound(cache: &Path) -> usize {
    let store = BlobStore::view(cache);
    let blobs = cache.join("blobs/sha256");
    let mut count = 0;
    for entry in fs::read_dir(&blobs).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let digest: Digest = format!("sha256:{name}").parse().unwrap();
        store
            .verify(&digest)
            .unwrap_or_else(|e| panic!("the cached blob {name} is corrupt: {e}"));
        count += 1;
    }
    count
}

/// The digest the registry gives `reference` (`None` when it has no such tag).
fn tagged(registry: &TestRegistry, reference: &str) -> Option<String> {
    let out = Command::new(mlreef_testing::tool("skopeo"))
        .args(["inspect", "--tls-verify=false", "--format", "{{.Digest}}"])
        .arg(format!("docker://{}/{reference}", registry.address))
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn digest_printed(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("digest: "))
        .unwrap_or_else(|| panic!("no digest in {}", text(&output.stdout)))
        .to_owned()
}

#[test]
fn sixteen_modules_and_four_copies_of_one_publish_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let base = base(dir.path());
    let cache = dir.path().join("cache");
    let registry = registry();
    let run = std::process::id();

    // Sixteen different modules, one cache, one registry, all at once.
    let children: Vec<_> = (0..16)
        .map(|i| {
            let repo = module(dir.path(), &format!("module-{i}"), &[]);
            let reference = format!("concurrent-{run}/module-{i}:1");
            let target = format!("{}/{reference}", registry.address);
            let child = publish_command(&repo, &base, &target, &cache)
                .spawn()
                .unwrap();
            (reference, child)
        })
        .collect();
    for (reference, child) in children {
        let output = child.wait_with_output().unwrap();
        let digest = digest_printed(&output);
        assert_eq!(tagged(&registry, &reference), Some(digest), "{reference}");
    }
    // The base layer once, a code layer and a config per module.
    assert!(assert_cache_sound(&cache) >= 33);

    // Four copies of one module to one tag: all succeed with one digest, the one a lone
    // publish with a fresh cache gives.
    let repo = module(dir.path(), "same", b"weights");
    let reference = format!("concurrent-{run}/same:1");
    let target = format!("{}/{reference}", registry.address);
    let children: Vec<_> = (0..4)
        .map(|_| {
            publish_command(&repo, &base, &target, &cache)
                .spawn()
                .unwrap()
        })
        .collect();
    let digests: Vec<String> = children
        .into_iter()
        .map(|c| digest_printed(&c.wait_with_output().unwrap()))
        .collect();
    assert!(digests.windows(2).all(|w| w[0] == w[1]), "{digests:?}");
    assert_eq!(tagged(&registry, &reference).as_ref(), Some(&digests[0]));
    let alone = publish(
        &repo,
        &base,
        &format!("{}/concurrent-{run}/alone:1", registry.address),
        &dir.path().join("fresh"),
    );
    assert_eq!(alone, digests[0]);
    assert!(assert_cache_sound(&cache) >= 35);
    // The registry holds exactly the tags published.
    let tags = skopeo(&[
        "list-tags",
        "--tls-verify=false",
        &format!("docker://{}/concurrent-{run}/same", registry.address),
    ]);
    let tags: serde_json::Value = serde_json::from_str(&tags).unwrap();
    assert_eq!(tags["Tags"], serde_json::json!(["1"]));
}

/// Starts a publish and kills it (SIGKILL) as soon as its progress shows `stage` (or after two
/// minutes); says whether it got there.
fn killed_at(repo: &Path, base: &str, target: &str, cache: &Path, stage: &str) -> bool {
    let mut child = publish_command(repo, base, target, cache).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines, heard) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_mins(2);
    let mut reached = false;
    while let Ok(line) = heard.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if line.starts_with(stage) {
            reached = true;
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    reached
}

#[test]
fn a_publish_killed_midway_leaves_no_tag_and_no_corrupt_cache() {
    let dir = tempfile::tempdir().unwrap();
    let base = base(dir.path());
    let registry = registry();
    let run = std::process::id();
    // Big enough that each stage takes a moment: 24 MB that do not compress.
    let mut weights = vec![0u8; 24 << 20];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for byte in &mut weights {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = state.to_le_bytes()[3];
    }
    let repo = module(dir.path(), "killed", &weights);
    for stage in [
        "extract",
        "layer: code",
        "base",
        "upload",
        "uploaded",
        "manifest",
    ] {
        let cache = dir
            .path()
            .join(format!("cache-{}", stage.replace([':', ' '], "-")));
        let reference = format!("killed-{run}/{}:1", stage.replace([':', ' '], "-"));
        let target = format!("{}/{reference}", registry.address);
        let reached = killed_at(&repo, &base, &target, &cache, stage);
        assert!(reached, "the publish never showed `{stage}`");
        if stage != "manifest" {
            // Killed before its manifest: no tag.
            assert_eq!(tagged(&registry, &reference), None, "killed at {stage}");
        }
        if cache.join("blobs/sha256").exists() {
            let _ = assert_cache_sound(&cache);
        }
        // What a killed writer left in the store's tmp folder (whatever this kill left, and the
        // half blob of one killed while writing), made to look two days old: the next run
        // removes it.
        let tmp = cache.join("tmp");
        fs::create_dir_all(&tmp).unwrap();
        fs::write(tmp.join("blob-killed"), &weights[..1 << 20]).unwrap();
        let leftovers = age_leftovers(&tmp);
        // The next run completes, with the digest of a clean run.
        let digest = publish(&repo, &base, &target, &cache);
        for path in leftovers {
            assert!(!path.exists(), "{} was not swept", path.display());
        }
        assert_eq!(tagged(&registry, &reference), Some(digest.clone()));
        assert!(assert_cache_sound(&cache) >= 3, "base, code and config");
        let clean = publish(
            &repo,
            &base,
            &format!("{}/killed-{run}/clean:1", registry.address),
            &dir.path().join("clean"),
        );
        assert_eq!(clean, digest, "killed at {stage}");
    }
}

/// Sets every entry of `tmp` two days back (older than `STALE_AFTER`); returns them.
fn age_leftovers(tmp: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(tmp) else {
        return Vec::new();
    };
    let old = std::time::SystemTime::now() - 2 * mlreef_core::oci::STALE_AFTER;
    entries
        .map(|entry| entry.unwrap().path())
        .inspect(|path| {
            fs::File::open(path).unwrap().set_modified(old).unwrap();
        })
        .collect()
}

/// Every file under `root` whose bytes contain `needle`.
fn files_containing(root: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file()
                && fs::read(entry.path())
                    .unwrap()
                    .windows(needle.len())
                    .any(|w| w == needle)
            {
                found.push(entry.path());
            }
        }
    }
    found
}

#[test]
fn secrets_reach_neither_output_nor_logs_nor_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let base = base(dir.path());
    let registry = mlreef_testing::auth_registry();
    let (user, password) = registry.credentials.clone().unwrap();
    let token = "tok-5d0b7e0c1f9a2b3c";
    let repo = module(dir.path(), "secretive", &[]);
    fs::write(repo.join(".env"), format!("API_TOKEN={token}\n")).unwrap();
    fs::create_dir_all(repo.join(".aws")).unwrap();
    fs::write(repo.join(".aws/credentials"), format!("key={token}\n")).unwrap();
    // A docker config whose auth is the registry login, as a CI runner has it.
    let docker = dir.path().join("docker");
    fs::create_dir_all(&docker).unwrap();
    let auth = {
        let login = format!("{user}:{password}");
        let out = Command::new("base64")
            .arg("-w0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write as _;
                child.stdin.take().unwrap().write_all(login.as_bytes())?;
                child.wait_with_output()
            })
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    fs::write(
        docker.join("config.json"),
        format!(
            r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
            registry.address
        ),
    )
    .unwrap();
    let secrets = [token, password.as_str(), auth.as_str()];
    let run = std::process::id();
    let cache = dir.path().join("cache");
    let publish = |reference: &str, extra: &[&str], listed: &str| {
        let target = format!("{}/{reference}", registry.address);
        let mut command = publish_command(&repo, &base, &target, &cache);
        command
            .args(extra)
            .env("RUST_LOG", "trace")
            .env("DOCKER_CONFIG", &docker);
        let output = command.output().unwrap();
        let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert!(output.status.success(), "{all}");
        assert!(text(&output.stderr).contains("DEBUG"), "the logs were on");
        for secret in secrets {
            assert!(!all.contains(secret), "`{secret}` printed:\n{all}");
        }
        assert!(all.contains(listed), "what was left out is listed:\n{all}");
        target
    };

    let target = publish(&format!("secrets-{run}/module:1"), &[], ".env");
    // Nor in the image: its files, its config and labels.
    let layout = dir.path().join("layout");
    let creds = format!("--src-creds={user}:{password}");
    let _ = skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &creds,
        &format!("docker://{target}"),
        &format!("oci:{}:back", path_str(&layout)),
    ]);
    let bundle = mlreef_testing::unpack(&layout, "back");
    for secret in secrets {
        let found = files_containing(bundle.path(), secret.as_bytes());
        assert!(found.is_empty(), "`{secret}` in the image: {found:?}");
    }
    // Nor in mlreef.yml, which init writes from the same description.
    let init = Command::new(env!("CARGO_BIN_EXE_mlreef"))
        .args(["init", path_str(&repo)])
        .output()
        .unwrap();
    assert!(init.status.success());
    let yml = fs::read_to_string(repo.join("mlreef.yml")).unwrap();
    assert!(secrets.iter().all(|s| !yml.contains(s)), "{yml}");

    // Included on purpose, .env is in the image, and nothing else of it is printed.
    let target = publish(
        &format!("secrets-{run}/included:1"),
        &["--include", ".env"],
        ".aws/ (secret)",
    );
    let layout = dir.path().join("included");
    let _ = skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &creds,
        &format!("docker://{target}"),
        &format!("oci:{}:back", path_str(&layout)),
    ]);
    let bundle = mlreef_testing::unpack(&layout, "back");
    let found = files_containing(bundle.path(), token.as_bytes());
    assert_eq!(
        found,
        [bundle.path().join("bundle/rootfs/workdir/.env")],
        "only the included file"
    );
}
