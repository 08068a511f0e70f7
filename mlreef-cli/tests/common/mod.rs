//! Running the `mlreef` binary in tests.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

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
