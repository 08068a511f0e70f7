//! Hostile repositories, base images and registries, one table per kind: each case is run
//! through the real `mlreef` binary under a 3 GiB address-space limit and a 60 s kill timer,
//! and must end with its expected exit status (0 when handled, 1 for a clear error; never a
//! signal, 101 or a panic) and a message naming the file, layer, registry or status.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

mod common;

const LIMIT: Duration = Duration::from_mins(1);

const TRAIN: &str = "import argparse\np = argparse.ArgumentParser()\np.add_argument('--epochs', type=int, default=3)\np.parse_args()\n";

/// What one case runs and must end with.
struct Run {
    args: Vec<String>,
    env: Vec<(String, String)>,
    status: i32,
    /// Must appear in stdout or stderr.
    says: String,
}

fn run(args: Vec<String>, status: i32, says: &str) -> Run {
    Run {
        args,
        env: Vec::new(),
        status,
        says: says.to_owned(),
    }
}

/// Runs a case through [`common::mlreef_limited`] with [`LIMIT`], the shared cache and a fixed
/// time.
fn run_limited(case: &Run, cache: &Path) -> Result<(i32, String, String), String> {
    let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
    let mut env = vec![
        ("MLREEF_CACHE", cache.to_str().expect("UTF-8 path")),
        ("SOURCE_DATE_EPOCH", "1700000000"),
    ];
    env.extend(case.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    common::mlreef_limited(&args, &env, LIMIT)
}

/// Runs every case, and fails with all the cases that did not end as expected.
fn check_all(cases: Vec<(&str, Run)>) {
    let cache = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (name, case) in cases {
        let started = Instant::now();
        let result = run_limited(&case, cache.path());
        eprintln!("{name}: {:.1?}", started.elapsed());
        let problem = match result {
            Err(problem) => Some(problem),
            Ok((code, out, err)) => {
                let both = format!("{out}{err}");
                if std::env::var_os("HOSTILE_VERBOSE").is_some() {
                    eprintln!("  exit {code}: {}", err.lines().last().unwrap_or(""));
                }
                if both.contains("panicked") || code == 101 {
                    Some(format!("panicked: {err}"))
                } else if code != case.status {
                    Some(format!("exit {code}, not {}: {both}", case.status))
                } else if !both.contains(&case.says) {
                    Some(format!("no `{}` in: {both}", case.says))
                } else {
                    None
                }
            }
        };
        if let Some(problem) = problem {
            failures.push(format!(
                "{name} (mlreef {}): {problem}",
                case.args.join(" ")
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

fn s(path: &Path) -> String {
    path.to_str().expect("UTF-8 path").to_owned()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|&a| a.to_owned()).collect()
}

// --- Repositories ---------------------------------------------------------------------------

/// A repository with `train.py`, in `root/repo` (so that `root` is outside it).
fn repo(root: &Path, name: &str) -> PathBuf {
    let repo = root.join(name).join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("train.py"), TRAIN).unwrap();
    repo
}

/// `mlreef build REPO --base scratch` into a layout next to the repository.
fn build(repo: &Path, status: i32, says: &str) -> Run {
    let out = repo.parent().unwrap().join("out");
    run(
        vec![
            "build".into(),
            s(repo),
            "--base".into(),
            "scratch".into(),
            "--python".into(),
            "3.11".into(),
            "--output".into(),
            format!("oci:{}:t", s(&out)),
        ],
        status,
        says,
    )
}

/// `mlreef params REPO/train.py`.
fn params(repo: &Path, status: i32, says: &str) -> Run {
    run(
        vec!["params".into(), s(&repo.join("train.py"))],
        status,
        says,
    )
}

/// `mlreef inspect REPO`.
fn inspect(repo: &Path, status: i32, says: &str) -> Run {
    run(vec!["inspect".into(), s(repo)], status, says)
}

/// `mlreef requirements REPO/requirements.txt --repo REPO`, which must fail.
fn requirements(repo: &Path, says: &str) -> Run {
    run(
        vec![
            "requirements".into(),
            s(&repo.join("requirements.txt")),
            "--repo".into(),
            s(repo),
        ],
        1,
        says,
    )
}

fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

fn mkfifo(path: &Path) -> bool {
    Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn hostile_repositories() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let mut cases = Vec::new();

    // Symbolic links stay links in the code layer: a loop is just two links.
    let r = repo(root, "loop");
    symlink("b", r.join("a"));
    symlink("a", r.join("b"));
    cases.push(("symlink loop a -> b -> a, built", build(&r, 0, "digest: ")));
    let r = repo(root, "loop-entry");
    std::fs::remove_file(r.join("train.py")).unwrap();
    symlink("main.py", r.join("train.py"));
    symlink("train.py", r.join("main.py"));
    cases.push((
        "symlink loop as the entry point, params",
        params(&r, 1, "train.py"),
    ));
    let r = repo(root, "parent");
    std::fs::create_dir(r.join("sub")).unwrap();
    symlink("..", r.join("sub/up"));
    symlink(".", r.join("self"));
    cases.push((
        "directory symlink to its parent, built",
        build(&r, 0, "digest: "),
    ));
    cases.push((
        "directory symlink to its parent, inspect",
        inspect(&r, 0, "parameters:       1"),
    ));

    // Links that lead out of the repository are an error naming the link.
    let r = repo(root, "out-abs");
    symlink("/etc/passwd", r.join("passwd"));
    cases.push(("absolute symlink out, built", build(&r, 1, "passwd")));
    let r = repo(root, "out-rel");
    std::fs::create_dir(r.join("data")).unwrap();
    symlink("../../../outside", r.join("data/link"));
    cases.push(("../ symlink out, built", build(&r, 1, "data/link")));

    // Names that are not plain text.
    let r = repo(root, "newline");
    std::fs::write(r.join("bad\nname.py"), "x = 1\n").unwrap();
    cases.push(("file name with a newline, built", build(&r, 0, "digest: ")));
    let r = repo(root, "latin1");
    std::fs::write(r.join(OsStr::from_bytes(b"caf\xe9.py")), "x = 1\n").unwrap();
    cases.push((
        "file name with invalid UTF-8, built",
        build(&r, 0, "digest: "),
    ));
    let r = repo(root, "latin1-dir");
    std::fs::create_dir(r.join(OsStr::from_bytes(b"d\xff\xfe"))).unwrap();
    std::fs::write(r.join(OsStr::from_bytes(b"d\xff\xfe/m.py")), "x = 1\n").unwrap();
    cases.push((
        "directory name with invalid UTF-8, inspect",
        inspect(&r, 0, "parameters:       1"),
    ));

    // Files that cannot be read as files. Tests run as root, which ignores `chmod 000`, so
    // unreadable means a FIFO (a read would block forever) or a directory.
    let r = repo(root, "fifo-entry");
    std::fs::remove_file(r.join("train.py")).unwrap();
    if mkfifo(&r.join("train.py")) {
        cases.push(("FIFO named train.py, params", params(&r, 1, "train.py")));
        cases.push(("FIFO named train.py, inspect", inspect(&r, 1, "train.py")));
    }
    let r = repo(root, "fifo-data");
    if mkfifo(&r.join("data.csv")) {
        // Left out of the code layer, and listed.
        cases.push((
            "FIFO in the repository, built",
            build(&r, 0, "data.csv (not a regular file)"),
        ));
    }
    let r = repo(root, "dir-requirements");
    std::fs::create_dir(r.join("requirements.txt")).unwrap();
    cases.push((
        "directory named requirements.txt, requirements",
        requirements(&r, "requirements.txt"),
    ));
    cases.push((
        "directory named requirements.txt, built",
        build(&r, 0, "digest: "),
    ));

    let r = repo(root, "fifo-include");
    std::fs::write(r.join("requirements.txt"), "numpy\n-r pipe.txt\n").unwrap();
    if mkfifo(&r.join("pipe.txt")) {
        cases.push(("-r of a FIFO", requirements(&r, "requirements.txt:2")));
    }
    let r = repo(root, "fifo-requirements");
    if mkfifo(&r.join("requirements.txt")) {
        cases.push((
            "FIFO named requirements.txt, requirements",
            requirements(&r, "not a regular file"),
        ));
    }

    // A device in the repository: /dev/zero would give bytes without end.
    let r = repo(root, "device");
    let made = Command::new("mknod")
        .arg(r.join("zero"))
        .args(["c", "1", "5"])
        .status()
        .is_ok_and(|s| s.success());
    if made {
        cases.push((
            "character device, built",
            build(&r, 0, "zero (not a regular file)"),
        ));
    } else {
        eprintln!("mknod failed: the device case is skipped");
    }

    // A hard link to a file outside: the repository holds its bytes, as any file's.
    let r = repo(root, "hardlink");
    let outside = root.join("hardlink/secret.txt");
    std::fs::write(&outside, "outside\n").unwrap();
    std::fs::hard_link(&outside, r.join("linked.txt")).unwrap();
    std::fs::hard_link(r.join("train.py"), r.join("train2.py")).unwrap();
    cases.push(("hard links, built", build(&r, 0, "digest: ")));

    // Size.
    let r = repo(root, "many");
    for d in 0..100 {
        let dir = r.join(format!("d{d}"));
        std::fs::create_dir(&dir).unwrap();
        for f in 0..1000 {
            std::fs::write(dir.join(format!("f{f}.txt")), b"x").unwrap();
        }
    }
    cases.push(("100,000 files, built", build(&r, 0, "digest: ")));
    let r = repo(root, "big-script");
    let mut big = String::from(TRAIN);
    let line = "x = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'\n";
    while big.len() < 50 << 20 {
        big.push_str(line);
    }
    std::fs::write(r.join("train.py"), &big).unwrap();
    cases.push((
        "50 MB entry point, params",
        params(&r, 1, "train.py: 52428"),
    ));

    // Under the limit, but its worst-case stack (256 bytes a byte) is more than the 3 GiB
    // address space: read with the stack there is room for.
    let r = repo(root, "large-script");
    let end = big[..12 << 20].rfind('\n').unwrap() + 1;
    std::fs::write(r.join("train.py"), &big[..end]).unwrap();
    cases.push(("12 MB entry point, params", params(&r, 0, "--epochs")));

    // Requirement includes.
    let r = repo(root, "cycle");
    std::fs::write(r.join("requirements.txt"), "-r other.txt\nnumpy\n").unwrap();
    std::fs::write(r.join("other.txt"), "-r requirements.txt\npyyaml\n").unwrap();
    cases.push(("-r include cycle", requirements(&r, "other.txt")));
    let r = repo(root, "self-include");
    std::fs::write(r.join("requirements.txt"), "-r requirements.txt\nnumpy\n").unwrap();
    cases.push(("-r includes itself", requirements(&r, "requirements.txt")));
    let r = repo(root, "escape");
    std::fs::write(
        r.join("requirements.txt"),
        "numpy\n-r ../../../../../../etc/passwd\n",
    )
    .unwrap();
    cases.push((
        "-r ../../etc/passwd",
        requirements(&r, "requirements.txt:2"),
    ));
    let r = repo(root, "escape-abs");
    std::fs::write(r.join("requirements.txt"), "-c /etc/passwd\nnumpy\n").unwrap();
    cases.push(("-c /etc/passwd", requirements(&r, "requirements.txt:1")));

    // Files read whole are bounded: requirements (16 MiB each, 64 MiB with their includes),
    // mlreef.yml, git's own files.
    let r = repo(root, "huge-requirements");
    let line = "numpy==1.26.4  # a requirement, padded to make the file large\n";
    std::fs::write(
        r.join("requirements.txt"),
        line.repeat((17 << 20) / line.len()),
    )
    .unwrap();
    cases.push((
        "17 MB requirements.txt",
        requirements(&r, "larger than 16777216 bytes"),
    ));
    let r = repo(root, "huge-includes");
    // Comments, which cost little to parse: the bound is on bytes read.
    let comment = format!("# {}\n", "-".repeat(1021));
    let part = format!("numpy\n{}", comment.repeat(15 << 10));
    let mut top = String::new();
    for i in 0..6 {
        std::fs::write(r.join(format!("part{i}.txt")), &part).unwrap();
        writeln!(top, "-r part{i}.txt").unwrap();
    }
    std::fs::write(r.join("requirements.txt"), top).unwrap();
    cases.push((
        "6 includes of 15 MB",
        requirements(&r, "requirements.txt:5"),
    ));
    let r = repo(root, "huge-mlreef-yml");
    std::fs::write(r.join("mlreef.yml"), "# padding\n".repeat((17 << 20) / 10)).unwrap();
    cases.push(("17 MB mlreef.yml, inspect", inspect(&r, 1, "mlreef.yml")));
    let r = repo(root, "fifo-git-head");
    std::fs::create_dir_all(r.join(".git/refs/heads")).unwrap();
    if mkfifo(&r.join(".git/HEAD")) {
        cases.push(("FIFO as .git/HEAD, build", build(&r, 0, "digest: ")));
    }
    let r = repo(root, "git-head-escape");
    std::fs::create_dir_all(r.join(".git")).unwrap();
    std::fs::write(
        r.join(".git/HEAD"),
        "ref: ../../../../../../../../etc/hostname\n",
    )
    .unwrap();
    cases.push((
        "HEAD naming a ref outside .git, build",
        build(&r, 0, "digest: "),
    ));

    check_all(cases);
}

// --- Base images ----------------------------------------------------------------------------

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// Writes `bytes` as a blob of the layout `dir`, returning its digest.
fn blob(dir: &Path, bytes: &[u8]) -> String {
    let digest = digest(bytes);
    let path = dir.join("blobs/sha256").join(&digest[7..]);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    digest
}

/// One tar entry with `name` written into the header as raw bytes (the tar crate refuses
/// `..` and absolute names).
fn entry(
    tar: &mut tar::Builder<impl Write>,
    name: &[u8],
    kind: tar::EntryType,
    link: &[u8],
    data: &[u8],
) {
    let mut header = tar::Header::new_old();
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.as_old_mut().linkname[..link.len()].copy_from_slice(link);
    header.set_entry_type(kind);
    header.set_mode(0o755);
    header.set_size(data.len() as u64);
    header.set_cksum();
    tar.append(&header, data).unwrap();
}

/// A layer holding a Python (so that the base's Python is found) and `extra` entries: the
/// gzip bytes and the digest of the tar (the diff id).
fn layer(extra: impl FnOnce(&mut tar::Builder<&mut Vec<u8>>)) -> (Vec<u8>, String) {
    let mut raw = Vec::new();
    {
        let mut tar = tar::Builder::new(&mut raw);
        entry(&mut tar, b"usr/", tar::EntryType::Directory, b"", b"");
        entry(&mut tar, b"usr/bin/", tar::EntryType::Directory, b"", b"");
        entry(
            &mut tar,
            b"usr/bin/python3.11",
            tar::EntryType::Regular,
            b"",
            b"\x7fELF",
        );
        extra(&mut tar);
        tar.finish().unwrap();
    }
    (gzip(&raw), digest(&raw))
}

fn gzip(raw: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(raw).unwrap();
    gz.finish().unwrap()
}

const LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// An OCI layout in `dir` tagged `t`, whose image has `layers` (bytes, diff id). Returns the
/// manifest bytes.
fn layout(dir: &Path, layers: &[(Vec<u8>, String)]) -> Vec<u8> {
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/bin"]},
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| &l.1).collect::<Vec<_>>()},
    }))
    .unwrap();
    let config_digest = blob(dir, &config);
    let descriptors: Vec<_> = layers
        .iter()
        .map(|(bytes, _)| {
            serde_json::json!({"mediaType": LAYER_GZIP, "digest": blob(dir, bytes), "size": bytes.len()})
        })
        .collect();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": descriptors,
    }))
    .unwrap();
    let manifest_digest = blob(dir, &manifest);
    index(dir, &manifest_digest, manifest.len() as u64);
    manifest
}

fn index(dir: &Path, digest: &str, size: u64) {
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest,
            "size": size,
            "annotations": {"org.opencontainers.image.ref.name": "t"},
        }],
    });
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
}

/// `mlreef build` of a small repository on the base `oci:BASE:t`, finding its Python unless
/// `python` is given.
fn build_on(root: &Path, base: &Path, python: bool, status: i32, says: &str) -> Run {
    let repo = repo(
        root,
        &format!("on-{}", base.file_name().unwrap().to_str().unwrap()),
    );
    let mut args = vec![
        "build".into(),
        s(&repo),
        "--base".into(),
        format!("oci:{}:t", s(base)),
        "--output".into(),
        format!("oci:{}:t", s(&repo.parent().unwrap().join("out"))),
    ];
    if python {
        args.extend(strings(&["--python", "3.11"]));
    }
    run(args, status, says)
}

/// A gzip whose tar holds one file of `size` zero bytes: small on disk, `size` inflated.
/// Returns the gzip and the digest of the tar.
fn gzip_bomb(size: u64) -> (Vec<u8>, String) {
    struct Tee<W: Write> {
        inner: W,
        hash: Sha256,
    }
    impl<W: Write> Write for Tee<W> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = self.inner.write(buf)?;
            self.hash.update(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.inner.flush()
        }
    }
    let gz = GzEncoder::new(Vec::new(), Compression::fast());
    let mut tee = Tee {
        inner: gz,
        hash: Sha256::new(),
    };
    let mut header = tar::Header::new_gnu();
    header.set_path("zeros").unwrap();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    tee.write_all(header.as_bytes()).unwrap();
    let chunk = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64);
        tee.write_all(&chunk[..usize::try_from(n).unwrap()])
            .unwrap();
        left -= n;
    }
    // Padding to a block, then the end of the archive.
    let pad = (512 - size % 512) % 512 + 1024;
    tee.write_all(&vec![0u8; usize::try_from(pad).unwrap()])
        .unwrap();
    let diff_id = format!("sha256:{}", hex(&tee.hash.finalize()));
    (tee.inner.finish().unwrap(), diff_id)
}

#[test]
fn hostile_base_images() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let mut cases = Vec::new();
    let base = |name: &str| {
        let dir = root.join("bases").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    };

    // A sound base, for comparison: its Python is found and the image is written.
    let b = base("sound");
    layout(&b, &[layer(|_| {})]);
    cases.push(("sound base", build_on(root, &b, false, 0, "digest: ")));

    // Entries that would leave the root file system name the layer.
    let b = base("dotdot");
    layout(
        &b,
        &[layer(|t| {
            entry(t, b"../../etc/evil", tar::EntryType::Regular, b"", b"x");
        })],
    );
    cases.push((
        "layer with ../",
        build_on(
            root,
            &b,
            false,
            1,
            "has the entry `../../etc/evil`, which leaves",
        ),
    ));
    let b = base("dotdot-inner");
    layout(
        &b,
        &[layer(|t| {
            entry(t, b"usr/../../evil", tar::EntryType::Regular, b"", b"x");
        })],
    );
    cases.push((
        "layer with usr/../../",
        build_on(root, &b, false, 1, "has the entry `usr/../../evil`"),
    ));
    let b = base("absolute");
    layout(
        &b,
        &[layer(|t| {
            entry(t, b"/etc/evil", tar::EntryType::Regular, b"", b"x");
        })],
    );
    cases.push((
        "layer with an absolute path",
        build_on(root, &b, false, 1, "has the entry `/etc/evil`"),
    ));
    // A symbolic link out of the root is only a link: layers are never unpacked here.
    for (name, target) in [
        ("link-out", &b"../../../../../etc"[..]),
        ("link-abs", b"/etc"),
    ] {
        let b = base(name);
        layout(
            &b,
            &[layer(|t| {
                entry(t, b"usr/lib/escape", tar::EntryType::Symlink, target, b"");
            })],
        );
        cases.push((
            "layer with a symlink pointing out",
            build_on(root, &b, false, 0, "digest: "),
        ));
    }
    // A hard link must name an entry of the root file system.
    let b = base("hardlink-out");
    layout(
        &b,
        &[layer(|t| {
            entry(
                t,
                b"usr/lib/hard",
                tar::EntryType::Link,
                b"../../etc/passwd",
                b"",
            );
        })],
    );
    cases.push((
        "layer with a hard link pointing out",
        build_on(root, &b, false, 1, "has the entry `../../etc/passwd`"),
    ));

    // Blobs that are not what their descriptors say.
    let b = base("manifest-digest");
    let manifest = layout(&b, &[layer(|_| {})]);
    let real = digest(&manifest);
    let mut tampered = manifest.clone();
    tampered.extend_from_slice(b"\n");
    std::fs::write(b.join("blobs/sha256").join(&real[7..]), &tampered).unwrap();
    index(&b, &real, tampered.len() as u64);
    cases.push((
        "manifest whose digest does not match",
        build_on(root, &b, true, 1, &format!("not the expected {real}")),
    ));
    let b = base("big-manifest");
    let mut huge = b"{\"schemaVersion\":2,\"x\":\"".to_vec();
    huge.resize(9 << 20, b'a');
    huge.extend_from_slice(b"\"}");
    let huge_digest = blob(&b, &huge);
    index(&b, &huge_digest, huge.len() as u64);
    cases.push((
        "manifest over 8 MiB",
        build_on(root, &b, true, 1, "8388608"),
    ));
    let b = base("big-manifest-small-size");
    let huge_digest = blob(&b, &huge);
    index(&b, &huge_digest, 500);
    cases.push((
        "manifest over 8 MiB, descriptor says 500 bytes",
        build_on(root, &b, true, 1, "is larger than 8388608 bytes"),
    ));
    let b = base("big-config");
    let mut config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"x":""#
            .to_vec();
    config.resize(9 << 20, b'a');
    config.extend_from_slice(b"\"}");
    let config_digest = blob(&b, &config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [],
    }))
    .unwrap();
    let manifest_digest = blob(&b, &manifest);
    index(&b, &manifest_digest, manifest.len() as u64);
    cases.push(("config over 8 MiB", build_on(root, &b, true, 1, "8388608")));

    // Layers that are not sound gzip.
    let b = base("not-gzip");
    let mut raw = Vec::new();
    {
        let mut tar = tar::Builder::new(&mut raw);
        entry(
            &mut tar,
            b"usr/bin/python3.11",
            tar::EntryType::Regular,
            b"",
            b"x",
        );
        tar.finish().unwrap();
    }
    layout(&b, &[(raw.clone(), digest(&raw))]);
    cases.push((
        "layer that is not gzip",
        build_on(root, &b, false, 1, "it is not a Gzip layer"),
    ));
    let b = base("truncated");
    let (mut bytes, diff_id) = layer(|t| {
        let data: Vec<u8> = (0..200_000u32).flat_map(u32::to_le_bytes).collect();
        entry(t, b"usr/lib/data", tar::EntryType::Regular, b"", &data);
    });
    bytes.truncate(bytes.len() / 2);
    layout(&b, &[(bytes, diff_id)]);
    cases.push((
        "truncated layer",
        build_on(root, &b, false, 1, "incomplete deflate stream"),
    ));
    // A gzip of a few MB that inflates to 4 GiB: streamed, never held or unpacked.
    let b = base("bomb");
    let started = Instant::now();
    let bomb = gzip_bomb(4 << 30);
    eprintln!(
        "gzip bomb: {} bytes in {:.1?}",
        bomb.0.len(),
        started.elapsed()
    );
    layout(&b, &[layer(|_| {}), bomb]);
    cases.push(("gzip bomb layer", build_on(root, &b, false, 0, "digest: ")));

    check_all(cases);
}

// --- Registries -----------------------------------------------------------------------------

/// What a fake registry sends for one request path.
type Answer = fn(&str, &mut TcpStream);

/// A registry on a free port that answers each request with `answer`.
fn registry(answer: Answer) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut request = [0u8; 8192];
                let n = stream.read(&mut request).unwrap_or(0);
                let request = String::from_utf8_lossy(&request[..n]).to_string();
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
                answer(&path, &mut stream);
            });
        }
    });
    address
}

fn respond(stream: &mut TcpStream, content_type: &str, extra: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// Writes bytes until the client goes away.
fn endless(stream: &mut TcpStream, content_type: &str, length: &str) {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n{length}Connection: close\r\n\r\n"
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(b"{\"a\":\"");
    let chunk = vec![b'a'; 64 << 10];
    while stream.write_all(&chunk).is_ok() {}
}

const CONFIG: &[u8] =
    br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

fn manifest() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(CONFIG), "size": CONFIG.len()},
        "layers": [],
    }))
    .unwrap()
}

fn pull(root: &Path, name: &str, address: &str, status: i32, says: &str) -> Run {
    run(
        vec![
            "pull".into(),
            format!("{address}/tests/{name}:1"),
            "--output".into(),
            format!("oci:{}:t", s(&root.join(name))),
        ],
        status,
        says,
    )
}

#[test]
fn hostile_registries() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let mut cases = Vec::new();

    let address = registry(|path, stream| {
        if path.contains("/manifests/") {
            endless(stream, MANIFEST_TYPE, "");
        } else {
            respond(stream, "application/json", "", b"{}");
        }
    });
    cases.push((
        "endless manifest body",
        pull(root, "endless-manifest", &address, 1, &address),
    ));
    let address = registry(|path, stream| {
        if path.contains("/manifests/") {
            endless(stream, MANIFEST_TYPE, "Content-Length: 100000000000\r\n");
        } else {
            respond(stream, "application/json", "", b"{}");
        }
    });
    cases.push((
        "manifest of 100 GB announced",
        pull(root, "huge-manifest", &address, 1, &address),
    ));
    let address = registry(|path, stream| {
        if path.contains("/manifests/") {
            respond(stream, MANIFEST_TYPE, "", &manifest());
        } else if path.contains("/blobs/") {
            endless(stream, "application/octet-stream", "");
        } else {
            respond(stream, "application/json", "", b"{}");
        }
    });
    cases.push((
        "endless blob body",
        pull(root, "endless-blob", &address, 1, &digest(CONFIG)[..19]),
    ));
    let address = registry(|path, stream| {
        if path.contains("/manifests/") {
            let wrong = format!("Docker-Content-Digest: {}\r\n", digest(b"another"));
            respond(stream, MANIFEST_TYPE, &wrong, &manifest());
        } else if path.contains("/blobs/") {
            respond(stream, "application/octet-stream", "", CONFIG);
        } else {
            respond(stream, "application/json", "", b"{}");
        }
    });
    cases.push((
        "Docker-Content-Digest that does not match",
        pull(root, "wrong-digest", &address, 1, "not the expected"),
    ));
    let address = registry(|_, _| std::thread::sleep(Duration::from_mins(10)));
    let mut silent = pull(root, "silent", &address, 1, &address);
    silent
        .env
        .push(("MLREEF_REGISTRY_TIMEOUT".into(), "2".into()));
    cases.push(("registry that never answers, pull", silent));
    let r = repo(root, "push-silent");
    let mut silent = run(
        vec![
            "publish".into(),
            s(&r),
            "--base".into(),
            "scratch".into(),
            "--push".into(),
            format!("{address}/tests/silent:1"),
        ],
        1,
        &address,
    );
    silent
        .env
        .push(("MLREEF_REGISTRY_TIMEOUT".into(), "2".into()));
    cases.push(("registry that never answers, publish", silent));

    check_all(cases);
}
