//! `mlreef publish` against real registries (see mlreef-testing): the JSON contract, exit
//! codes, immutable versions, and no credential in anything it prints, logs at trace level
//! included.

use std::fs;
use std::path::Path;
use std::process::Output;

use mlreef_testing::{TestRegistry, auth_registry, registry, skopeo};

mod common;
use common::{mlreef_with_env, path_str, text};

const TRAIN: &str = "import argparse\np = argparse.ArgumentParser()\np.add_argument('--epochs', type=int, default=3)\np.parse_args()\n";

fn repo(dir: &Path) -> std::path::PathBuf {
    let repo = dir.join("classifier");
    fs::create_dir_all(&repo).unwrap();
    fs::write(repo.join("train.py"), TRAIN).unwrap();
    repo
}

fn unique(name: &str) -> String {
    static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    )
}

fn publish(repo: &Path, target: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let cache = repo.with_file_name("cache");
    let mut args = vec![
        "publish",
        path_str(repo),
        "--base",
        "scratch",
        "--python",
        "3.11",
        "--push",
        target,
    ];
    args.extend_from_slice(extra);
    let mut env = env.to_vec();
    env.push(("MLREEF_CACHE", path_str(&cache)));
    env.push(("SOURCE_DATE_EPOCH", "0"));
    mlreef_with_env(&args, &env)
}

fn json(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "{}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn a_publish_prints_the_contract_and_a_version_stays_what_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repo(dir.path());
    let registry = registry();
    let target = format!("{}/{}:1", registry.address, unique("team/classifier"));

    let first = json(&publish(&repo, &target, &["--json"], &[]));
    assert_eq!(first["reference"], format!("docker://{target}"));
    assert_eq!(
        first["pushed"],
        serde_json::json!({"uploaded": 2, "skipped": 0, "mounted": 0, "bytes": first["pushed"]["bytes"]})
    );
    assert_eq!(first["module"]["entry_points"]["train"], "train.py");
    let inspected: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{target}"),
    ]))
    .unwrap();
    assert_eq!(inspected["Digest"], first["digest"]);

    let again = publish(&repo, &target, &[], &[]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let stdout = text(&again.stdout);
    assert!(
        stdout.contains("pushed: nothing new, the registry had all 2 blobs"),
        "{stdout}"
    );

    fs::write(repo.join("train.py"), format!("{TRAIN}# tuned\n")).unwrap();
    let refused = publish(&repo, &target, &[], &[]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("a published version does not change"),
        "{stderr}"
    );
    let forced = json(&publish(&repo, &target, &["--force", "--json"], &[]));
    assert_ne!(forced["digest"], first["digest"]);

    // Usage errors.
    for extra in [&["--output", "oci:x"][..], &["--push", "not a reference"]] {
        let usage = publish(&repo, &target, extra, &[]);
        assert_eq!(
            usage.status.code(),
            Some(2),
            "{extra:?}: {}",
            text(&usage.stderr)
        );
    }
}

#[test]
fn without_a_destination_the_image_goes_to_the_repository_layout() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repo(dir.path());
    let out = mlreef_with_env(
        &[
            "publish",
            path_str(&repo),
            "--base",
            "scratch",
            "--python",
            "3.11",
            "--json",
        ],
        &[("MLREEF_CACHE", path_str(&dir.path().join("cache")))],
    );
    let printed = json(&out);
    assert_eq!(
        printed["reference"],
        format!("oci:{}:local-1", path_str(&repo.join(".mlreef/images")))
    );
    assert!(printed.get("pushed").is_none());
    assert!(text(&out.stderr).contains("warning[mlreef-yml-out-of-date]: there is no mlreef.yml"));
}

/// `user:password` in base64, as an `Authorization: Basic` header or docker's config carry it.
fn basic(user: &str, password: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = format!("{user}:{password}").into_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn assert_no_secret(output: &Output, secrets: &[&str]) {
    let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
    for secret in secrets {
        assert!(!all.contains(secret), "`{secret}` printed:\n{all}");
    }
}

#[test]
fn no_credential_is_ever_printed_or_logged() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repo(dir.path());
    let TestRegistry {
        address,
        credentials,
    } = auth_registry();
    let (user, password) = credentials.unwrap();
    let encoded = basic(&user, &password);
    let secrets = [password.as_str(), encoded.as_str()];
    let trace = ("RUST_LOG", "trace");

    // From the environment, with every library's logs on.
    let target = format!("{address}/{}:1", unique("private/classifier"));
    let env = [
        trace,
        ("MLREEF_REGISTRY", address.as_str()),
        ("MLREEF_REGISTRY_USER", user.as_str()),
        ("MLREEF_REGISTRY_PASSWORD", password.as_str()),
    ];
    let pushed = publish(&repo, &target, &["--json"], &env);
    assert!(pushed.status.success(), "{}", text(&pushed.stderr));
    assert!(text(&pushed.stderr).contains("DEBUG"), "the logs were on");
    assert_no_secret(&pushed, &secrets);

    // From docker's config.json, and a summary for people.
    let docker = dir.path().join("docker");
    fs::create_dir_all(&docker).unwrap();
    fs::write(
        docker.join("config.json"),
        format!(r#"{{"auths": {{"{address}": {{"auth": "{encoded}"}}}}}}"#),
    )
    .unwrap();
    let target_ok = format!("{address}/{}:1", unique("private/classifier"));
    let env = [trace, ("DOCKER_CONFIG", path_str(&docker))];
    let pushed = publish(&repo, &target_ok, &[], &env);
    assert!(pushed.status.success(), "{}", text(&pushed.stderr));
    assert_no_secret(&pushed, &secrets);

    // Refused: the error names the registry and the status, not what was sent.
    let wrong = format!("{password}-wrong");
    let target = format!("{address}/{}:1", unique("private/classifier"));
    let env = [
        trace,
        ("MLREEF_REGISTRY_USER", user.as_str()),
        ("MLREEF_REGISTRY_PASSWORD", wrong.as_str()),
    ];
    let refused = publish(&repo, &target, &[], &env);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains(&address) && stderr.contains("401"),
        "{stderr}"
    );
    let wrong_encoded = basic(&user, &wrong);
    assert_no_secret(&refused, &[&wrong, &wrong_encoded, &password]);

    // Nor does what it pushed: the config with its labels.
    let config = skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("--creds={user}:{password}"),
        "--config",
        &format!("docker://{target_ok}"),
    ]);
    assert!(config.contains("com.mlreef.module"), "{config}");
    for secret in &secrets {
        assert!(!config.contains(secret), "the config holds a credential");
    }
}

#[test]
fn push_sends_a_layout_as_it_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repo(dir.path());
    let layout = dir.path().join("layout");
    let built = mlreef_with_env(
        &[
            "build",
            path_str(&repo),
            "--base",
            "scratch",
            "--output",
            &format!("oci:{}:v1", path_str(&layout)),
            "--json",
        ],
        &[("MLREEF_CACHE", path_str(&dir.path().join("cache")))],
    );
    let built = json(&built);
    // The same image with Docker's media types, as skopeo converts it: other digests, kept too.
    let docker = dir.path().join("docker");
    let _ = skopeo(&[
        "copy",
        "--format",
        "v2s2",
        &format!("oci:{}:v1", path_str(&layout)),
        &format!("oci:{}:v1", path_str(&docker)),
    ]);
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(docker.join("index.json")).unwrap()).unwrap();
    let docker_digest = index["manifests"][0]["digest"].clone();
    assert_ne!(docker_digest, built["digest"]);

    let registry = registry();
    for (source, digest) in [(&layout, &built["digest"]), (&docker, &docker_digest)] {
        let target = format!("{}/{}:1", registry.address, unique("team/pushed"));
        let source = format!("oci:{}:v1", path_str(source));
        let pushed = json(&mlreef_with_env(&["push", &source, &target, "--json"], &[]));
        assert_eq!(&pushed["digest"], digest);
        assert_eq!(pushed["pushed"]["uploaded"], 2);
        let inspected = skopeo(&[
            "inspect",
            "--tls-verify=false",
            "--format",
            "{{.Digest}}",
            &format!("docker://{target}"),
        ]);
        assert_eq!(inspected.trim(), digest.as_str().unwrap());
        let again = json(&mlreef_with_env(&["push", &source, &target, "--json"], &[]));
        assert_eq!(again["pushed"]["skipped"], 2);
    }

    let target = format!("{}/{}:1", registry.address, unique("team/pushed"));
    let not_a_layout = mlreef_with_env(&["push", "docker-archive:x.tar", &target], &[]);
    assert_eq!(not_a_layout.status.code(), Some(1));
    assert!(text(&not_a_layout.stderr).contains("not an OCI layout"));
    let source = format!("oci:{}:v1", path_str(&layout));
    let not_a_registry = mlreef_with_env(&["push", &source, "oci:elsewhere"], &[]);
    assert_eq!(
        not_a_registry.status.code(),
        Some(2),
        "{}",
        text(&not_a_registry.stderr)
    );
}

#[test]
fn list_inspect_and_pull_read_back_what_was_published() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repo(dir.path());
    let TestRegistry {
        address,
        credentials,
    } = auth_registry();
    let (user, password) = credentials.unwrap();
    let encoded = basic(&user, &password);
    let name = unique("team/catalogue");
    let reader = dir.path().join("reader");
    let env = [
        ("RUST_LOG", "trace"),
        ("MLREEF_REGISTRY_USER", user.as_str()),
        ("MLREEF_REGISTRY_PASSWORD", password.as_str()),
        ("MLREEF_CACHE", path_str(&reader)),
    ];
    let published = json(&publish(
        &repo,
        &format!("{address}/{name}:1"),
        &["--json"],
        &env,
    ));

    let listed = mlreef_with_env(&["list", &format!("{address}/{name}"), "--json"], &env);
    assert_no_secret(&listed, &[&password, &encoded]);
    let listed = json(&listed);
    assert_eq!(listed["repository"], format!("docker://{address}/{name}"));
    assert_eq!(
        listed["tags"],
        serde_json::json!([{
            "tag": "1",
            "digest": published["digest"],
            "module": {
                "name": "classifier",
                "slug": "classifier",
                "kind": published["module"]["kind"],
                "version": "1",
                "description": null,
                "parameters": 1,
            },
        }])
    );
    let table = mlreef_with_env(&["list", &format!("docker://{address}/{name}")], &env);
    assert!(table.status.success(), "{}", text(&table.stderr));
    let short = &published["digest"].as_str().unwrap()[..19];
    assert!(
        text(&table.stdout)
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("1 ") && l.contains("classifier") && l.ends_with(short)),
        "{}",
        text(&table.stdout)
    );

    // The module a registry reference describes is the one published, byte for byte as JSON.
    let image = format!("docker://{address}/{name}:1");
    let inspected = json(&mlreef_with_env(&["inspect", &image, "--json"], &env));
    assert_eq!(inspected, published["module"]);
    let missing = mlreef_with_env(&["inspect", &format!("docker://{address}/{name}:2")], &env);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr).contains("has no image `2`"),
        "{}",
        text(&missing.stderr)
    );

    // Pulled, the layout has the registry's digest, and inspects the same.
    let layout = format!("oci:{}:pulled", path_str(&dir.path().join("layout")));
    let pulled = mlreef_with_env(&["pull", &image, "--output", &layout, "--json"], &env);
    assert_no_secret(&pulled, &[&password, &encoded]);
    let pulled = json(&pulled);
    assert_eq!(pulled["digest"], published["digest"]);
    assert_eq!(pulled["source"], image);
    assert_eq!(pulled["platforms"], serde_json::json!(["linux/amd64"]));
    assert_eq!(
        json(&mlreef_with_env(&["inspect", &layout, "--json"], &env)),
        published["module"]
    );
    let raw = skopeo(&["inspect", "--raw", &layout]);
    assert_eq!(
        mlreef_core::oci::digest_bytes(raw.as_bytes()).to_string(),
        published["digest"].as_str().unwrap()
    );
    let not_a_layout = mlreef_with_env(&["pull", &image, "--output", "docker-archive:x.tar"], &env);
    assert_eq!(not_a_layout.status.code(), Some(2));
}
