//! Building C programs against the library this build made.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// `target/<profile>`: tests run from its `deps` folder, and the library is in it.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_owned()
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn compiler() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".to_owned())
}

/// Builds `source` (which includes only `mlreef.h`) with `-Wall -Wextra -Werror`, and with
/// the address and undefined-behaviour sanitizers when `sanitize` is set. A build without
/// sanitizers must succeed; with them it may fail (a compiler without them), which gives
/// `false`.
pub fn build(source: &Path, output: &Path, sanitize: bool) -> bool {
    let lib_dir = target_dir();
    let mut command = Command::new(compiler());
    command
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g"])
        .arg("-I")
        .arg(root().join("include"))
        .arg(source)
        .arg("-o")
        .arg(output)
        .arg(format!("-L{}", lib_dir.display()))
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .arg("-lmlreef");
    if sanitize {
        command
            .arg("-fsanitize=address,undefined")
            .arg("-fno-sanitize-recover=all");
    }
    let result = command.output().expect("a C compiler (cc)");
    assert!(
        result.status.success() || sanitize,
        "{} does not build:\n{}",
        source.display(),
        String::from_utf8_lossy(&result.stderr)
    );
    result.status.success()
}
