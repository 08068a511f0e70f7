//! The C tests (`tests/c/test_*.c`) include only `mlreef.h`, are built with `-Wall -Wextra
//! -Werror` (plus the address and undefined-behaviour sanitizers when the compiler supports
//! them) against the library this build made, and run; then once more under valgrind, when it
//! is installed, which must report no leaks. Each run gets the fixtures folder, a module
//! repository to read, an empty folder of its own to write in, and a registry
//! (`MLREEF_TEST_REGISTRY`).

mod common;

use std::path::Path;
use std::process::Command;

use common::{build, root};

fn run(binary: &Path, wrapper: Option<&[&str]>) -> std::process::Output {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mlreef-core/tests/fixtures");
    let repo = fixtures.join("modules/pytorch_train");
    let scratch = tempfile::tempdir().unwrap();
    let mut command = match wrapper {
        Some([program, args @ ..]) => {
            let mut c = Command::new(program);
            c.args(args).arg(binary);
            c
        }
        _ => Command::new(binary),
    };
    // The programs that publish find the test registry here (started when the test command
    // did not start one).
    command
        .env("MLREEF_TEST_REGISTRY", mlreef_testing::registry().address)
        .arg(&fixtures)
        .arg(&repo)
        .arg(scratch.path())
        .output()
        .expect("run the C test")
}

#[test]
fn c_programs_pass() {
    let dir = tempfile::tempdir().unwrap();
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c");
    for entry in std::fs::read_dir(&tests).unwrap() {
        let source = entry.unwrap().path();
        let name = source.file_stem().unwrap().to_string_lossy().into_owned();
        // Other programs there are tools of other tests (`print_json.c`).
        if source.extension().is_none_or(|e| e != "c") || !name.starts_with("test_") {
            continue;
        }
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
    let root = root();
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
