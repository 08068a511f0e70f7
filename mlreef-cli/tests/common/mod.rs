//! Running the `mlreef` binary in tests.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `mlreef ARGS` with extra environment variables.
pub fn mlreef_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlreef"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run mlreef")
}

pub fn mlreef(args: &[&str]) -> Output {
    mlreef_with_env(args, &[])
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Runs `mlreef ARGS` with extra environment variables under a 3 GiB address-space limit
/// (`ulimit -v`), killed once it outlives `limit`. Returns its exit status, stdout and stderr,
/// or why it did not exit in order (a hang, a signal).
pub fn mlreef_limited(
    args: &[&str],
    env: &[(&str, &str)],
    limit: Duration,
) -> Result<(i32, String, String), String> {
    let quoted: Vec<String> = args
        .iter()
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    let script = format!(
        "ulimit -v 3145728 && exec '{}' {}",
        env!("CARGO_BIN_EXE_mlreef"),
        quoted.join(" ")
    );
    // Files, not pipes: a chatty run cannot block on a full pipe while we wait for it.
    let out_dir = tempfile::tempdir().unwrap();
    let stdout = std::fs::File::create(out_dir.path().join("out")).unwrap();
    let stderr = std::fs::File::create(out_dir.path().join("err")).unwrap();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr))
        .spawn()
        .expect("sh runs");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("did not finish within {limit:?}: a hang"));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |name: &str| {
        String::from_utf8_lossy(&std::fs::read(out_dir.path().join(name)).unwrap_or_default())
            .into_owned()
    };
    let (out, err) = (read("out"), read("err"));
    match status.code() {
        Some(code) => Ok((code, out, err)),
        None => Err(format!("killed by a signal ({status}); stderr: {err}")),
    }
}
