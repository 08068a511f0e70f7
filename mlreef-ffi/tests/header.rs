//! `include/mlreef.h` is what the pinned cbindgen generates from this crate, and its version
//! macros are Cargo.toml's version. `MLREEF_BLESS=1` rewrites the header.

use std::path::Path;

fn generate() -> String {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut out);
    String::from_utf8(out).unwrap()
}

fn header_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../include/mlreef.h")
}

#[test]
fn header_is_current() {
    let generated = generate();
    if std::env::var_os("MLREEF_BLESS").is_some() {
        std::fs::write(header_path(), &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(header_path()).unwrap_or_default();
    assert!(
        committed == generated,
        "include/mlreef.h is stale: run `MLREEF_BLESS=1 cargo test -p mlreef-ffi --test header` and commit it"
    );
}

#[test]
#[allow(unsafe_code)] // reads the library's static version string
fn version_macros_match_cargo_toml() {
    let header = std::fs::read_to_string(header_path()).unwrap();
    let version: Vec<&str> = env!("CARGO_PKG_VERSION").split('.').collect();
    for (name, value) in ["MAJOR", "MINOR", "PATCH"].iter().zip(&version) {
        let line = format!("#define MLREEF_VERSION_{name} {value}");
        assert!(
            header.contains(&line),
            "`{line}` missing from include/mlreef.h"
        );
    }
    // SAFETY: `mlreef_version` returns a pointer to a static NUL-terminated string.
    let library = unsafe { std::ffi::CStr::from_ptr(mlreef::mlreef_version()) };
    assert_eq!(library.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}
