//! The C tests (`tests/c/*.c`) include only `mlreef.h`, are built with `-Wall -Wextra -Werror`
//! (plus the address and undefined-behaviour sanitizers when the compiler supports them)
//! against the library this build made, and run; then once more under valgrind, when it is
//! installed, which must report no leaks.

use std::path::{Path, PathBuf};
use std::process::Command;

fn target_dir() -> PathBuf {
    // tests run from target/<profile>/deps; the library is in target/<profile>.
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_owned()
}

fn compiler() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".to_owned())
}

fn build(source: &Path, output: &Path, sanitize: bool) -> bool {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let lib_dir = target_dir();
    let mut command = Command::new(compiler());
    command
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g"])
        .arg("-I")
        .arg(root.join("include"))
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

fn run(binary: &Path, wrapper: Option<&[&str]>) -> std::process::Output {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mlreef-core/tests/fixtures");
    let repo = fixtures.join("modules/pytorch_train");
    let mut command = match wrapper {
        Some([program, args @ ..]) => {
            let mut c = Command::new(program);
            c.args(args).arg(binary);
            c
        }
        _ => Command::new(binary),
    };
    command
        .arg(&fixtures)
        .arg(&repo)
        .output()
        .expect("run the C test")
}

#[test]
fn c_programs_pass() {
    let dir = tempfile::tempdir().unwrap();
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c");
    for entry in std::fs::read_dir(&tests).unwrap() {
        let source = entry.unwrap().path();
        if source.extension().is_none_or(|e| e != "c") {
            continue;
        }
        let name = source.file_stem().unwrap().to_string_lossy().into_owned();
        let sanitized = dir.path().join(format!("{name}-asan"));
        let plain = dir.path().join(&name);
        build(&source, &plain, false);
        let binaries = if build(&source, &sanitized, true) {
            vec![&sanitized, &plain]
        } else {
            vec![&plain]
        };
        for binary in binaries {
            let out = run(binary, None);
            assert!(
                out.status.success(),
                "{} failed:\n{}{}",
                binary.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let valgrind = Command::new("valgrind")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if valgrind {
            let out = run(
                &plain,
                Some(&[
                    "valgrind",
                    "--leak-check=full",
                    "--errors-for-leak-kinds=definite,indirect",
                    "--error-exitcode=99",
                    "-q",
                ]),
            );
            assert!(
                out.status.success(),
                "valgrind reports problems in {name}:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn the_c_example_builds_and_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("params");
    build(&root.join("examples/c/params.c"), &binary, false);
    let out = Command::new(&binary)
        .arg(root.join("examples/train.py"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["parameters"][0]["name"], "input-path");
    let missing = Command::new(&binary)
        .arg("/nonexistent.py")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).starts_with("error 111:"));
}
