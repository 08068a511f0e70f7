//! The body of every fuzz target: one function per target, taking the raw input.
//!
//! The binaries in `fuzz_targets/` only hand libFuzzer's input to these functions, and
//! `mlreef-core/tests/fuzz_regressions.rs` includes this file to replay the inputs kept in
//! `mlreef-core/tests/fixtures/fuzz/<target>/` in a normal `cargo test`. So this file may use
//! `mlreef_core`, `serde_json` and `std` only, never libFuzzer.
//!
//! The property of every target: errors are fine; panics, hangs and running out of memory are
//! not. Where a result has a contract (its JSON reads back, a rendering parses to the same
//! value), the target asserts it.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use mlreef_core::Extraction;
use mlreef_core::Module;
use mlreef_core::decorators::DecoratorExtraction;
use mlreef_core::oci::{BlobStore, ImageRef, digest_bytes, layout_labels, read_layout};
use mlreef_core::pipeline::{
    Assignment, PipelineOptions, read, render, shell_line, values_from_text,
};
use mlreef_core::platform::Platform;
use mlreef_core::progress::Silent;
use mlreef_core::requirements::{self, RequirementsFile, Target};
use serde_json::{Map, Value};

/// A target's body.
pub type Body = fn(&[u8]);

/// The targets by name, as `cargo fuzz list` names them.
pub const ALL: &[(&str, Body)] = &[
    ("requirements", requirements),
    ("requirement_line", requirement_line),
    ("environment", environment),
    ("argparse", argparse),
    ("decorators", decorators),
    ("mlreef_yml", mlreef_yml),
    ("command_line", command_line),
    ("image_ref", image_ref),
    ("oci_json", oci_json),
];

/// A whole requirements file: `parse`, then render / JSON / target evaluation / re-parse.
pub fn requirements(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    hermetic(|| {
        exercise(requirements::parse(
            &text,
            &requirements::Options::default(),
        ));
    });
}

/// One requirement line, plain and as `-e`: the PEP 508 wrapper and the line classifier.
pub fn requirement_line(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    hermetic(|| {
        let options = requirements::Options::default();
        exercise(requirements::parse(&format!("{text}\n"), &options));
        exercise(requirements::parse(&format!("-e {text}\n"), &options));
    });
}

/// A conda environment.yml: `parse_environment`, then the same calls as `requirements`.
pub fn environment(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    hermetic(
        || match requirements::parse_environment(&text, &requirements::Options::default()) {
            Ok(file) => exercise(file),
            Err(error) => {
                let _ = error.to_string();
                let _ = error.position();
            }
        },
    );
}

/// Python source through the argparse extractor; its JSON contract must read back.
pub fn argparse(data: &[u8]) {
    use mlreef_core::argparse::{Options, extract};
    let text = String::from_utf8_lossy(data);
    // The repository is the (empty) working folder: imports of repository modules all end in a
    // diagnostic. An odd length also keeps the findings that affect no parameter.
    let options = Options {
        verbose: data.len() % 2 == 1,
        ..Options::default()
    };
    hermetic(|| match extract(&text, &options) {
        Ok(extraction) => {
            let json = extraction.to_json();
            // `mlreef params --json` must be readable as what it describes.
            if let Err(error) = serde_json::from_str::<Extraction>(&json) {
                panic!("the JSON of an extraction does not read back: {error}\n{json}");
            }
        }
        Err(error) => {
            let _ = error.to_string();
        }
    });
}

/// Python source through the legacy `@data_processor` / `@parameter` extractor.
pub fn decorators(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    hermetic(|| match mlreef_core::decorators::extract(&text) {
        Ok(extraction) => {
            let json = serde_json::to_string(&extraction).expect("an extraction serializes");
            if let Err(error) = serde_json::from_str::<DecoratorExtraction>(&json) {
                panic!("the JSON of a decorator extraction does not read back: {error}\n{json}");
            }
        }
        Err(error) => {
            let _ = error.to_string();
        }
    });
}

/// `mlreef.yml` text: read it; when it holds a module, render it (over the file and on its own)
/// and read that again, which must give the same module.
pub fn mlreef_yml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    hermetic(|| {
        let file = match read(&text, None) {
            Ok(file) => file,
            Err(error) => {
                let _ = error.to_string();
                return;
            }
        };
        let Some(module) = &file.module else {
            return;
        };
        let options = PipelineOptions::default();
        for existing in [Some(&file), None] {
            let rendered = render(module, existing, &options);
            let again = read(&rendered, None).unwrap_or_else(|error| {
                panic!("a rendered mlreef.yml does not read back: {error}\n{rendered}")
            });
            assert_eq!(
                again.module.as_ref(),
                Some(module),
                "a rendered mlreef.yml reads back as another module:\n{rendered}"
            );
        }
    });
}

/// The modules `command_line` picks from by its first byte.
const MODULES: &[&str] = &[
    include_str!("../../mlreef-core/tests/fixtures/modules/subcommands.mlreef.yml"),
    include_str!("../../mlreef-core/tests/fixtures/modules/pytorch_train.mlreef.yml"),
    include_str!("../../mlreef-core/tests/fixtures/modules/detection_tools.mlreef.yml"),
    include_str!("../../mlreef-core/tests/fixtures/modules/imagenet_reference.mlreef.yml"),
    include_str!("../../mlreef-core/tests/fixtures/modules/legacy_decorators.mlreef.yml"),
    include_str!("../../mlreef-core/tests/fixtures/modules/visualization_user_edits.mlreef.yml"),
    include_str!("../../mlreef-core/tests/fixtures/modules/yolo_helpers.mlreef.yml"),
    include_str!("../../mlreef-core/tests/fixtures/modules/hf_conda.mlreef.yml"),
];

fn modules() -> &'static [Module] {
    static PARSED: OnceLock<Vec<Module>> = OnceLock::new();
    PARSED.get_or_init(|| {
        MODULES
            .iter()
            .map(|text| {
                read(text, None)
                    .expect("an example mlreef.yml reads")
                    .module
                    .expect("an example mlreef.yml holds a module")
            })
            .collect()
    })
}

/// `NAME=TEXT` and `NAME:=JSON` lines, as `mlreef run-args` reads them; `None` when a line is
/// neither.
fn assignments(text: &str) -> Option<Vec<Assignment>> {
    text.lines()
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (name, rest) = line.split_once('=')?;
            Some(match name.strip_suffix(':') {
                Some(name) => Assignment::Json {
                    name: name.to_owned(),
                    value: serde_json::from_str(rest).ok()?,
                },
                None => Assignment::Text {
                    name: name.to_owned(),
                    text: rest.to_owned(),
                },
            })
        })
        .collect()
}

/// Values for a fixed module's parameters: the first byte picks one of [`MODULES`], the rest is
/// a JSON object of values for `Module::command_line`, or else assignment lines for
/// `pipeline::values_from_text`; then `shell_line` of the command line.
pub fn command_line(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let modules = modules();
    let module = &modules[usize::from(pick) % modules.len()];
    let text = String::from_utf8_lossy(rest);
    let values = match serde_json::from_str::<Map<String, Value>>(&text) {
        Ok(values) => Ok(values),
        Err(_) => match assignments(&text) {
            Some(assignments) => values_from_text(&module.parameters, assignments),
            None => return,
        },
    };
    match values.and_then(|values| module.command_line(&values)) {
        Ok(argv) => {
            let _ = shell_line(&argv);
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
}

/// Image references: parsing, and Display -> parse giving the same reference back.
pub fn image_ref(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.parse::<ImageRef>() {
        Ok(reference) => {
            let printed = reference.to_string();
            match printed.parse::<ImageRef>() {
                Ok(again) => assert_eq!(
                    again, reference,
                    "`{text}` prints as `{printed}`, which reads as another reference"
                ),
                Err(error) => {
                    panic!("`{text}` prints as `{printed}`, which does not read: {error}")
                }
            }
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
}

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// The fixed config of `oci_json` modes 2 and 3.
const CONFIG: &str = r#"{"architecture":"amd64","os":"linux","config":{"Labels":{"com.mlreef.module":"{}"}},"rootfs":{"type":"layers","diff_ids":[]},"history":[]}"#;
const OCI_DIR_PREFIX: &str = "mlreef-fuzz-oci-";

/// A layout folder and a blob store of this process's own (fuzz jobs may run side by side),
/// `$TMPDIR/mlreef-fuzz-oci-<pid>`. libFuzzer ends a process without running destructors, so
/// the folders of processes that are gone are removed here instead.
fn oci_dirs() -> &'static (PathBuf, BlobStore) {
    static DIRS: OnceLock<(PathBuf, BlobStore)> = OnceLock::new();
    DIRS.get_or_init(|| {
        let tmp = std::env::temp_dir();
        if let Ok(entries) = std::fs::read_dir(&tmp) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let pid = name.to_str().and_then(|n| n.strip_prefix(OCI_DIR_PREFIX));
                if pid.is_some_and(|pid| !Path::new("/proc").join(pid).exists()) {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let root = tmp.join(format!("{OCI_DIR_PREFIX}{}", std::process::id()));
        let layout = root.join("layout");
        std::fs::create_dir_all(&layout).expect("a temporary folder");
        let store = BlobStore::open(root.join("store")).expect("a blob store");
        (layout, store)
    })
}

fn descriptor(media_type: &str, bytes: &[u8]) -> String {
    format!(
        r#"{{"mediaType":"{media_type}","digest":"{}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"latest"}}}}"#,
        digest_bytes(bytes),
        bytes.len()
    )
}

fn index_of(descriptor: &str) -> String {
    format!(r#"{{"schemaVersion":2,"mediaType":"{INDEX}","manifests":[{descriptor}]}}"#)
}

fn manifest_with(config: &[u8]) -> String {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{MANIFEST}","config":{},"layers":[]}}"#,
        descriptor(CONFIG_TYPE, config)
    )
}

fn put_blob(layout: &Path, bytes: &[u8]) {
    let digest = digest_bytes(bytes);
    let path = layout.join("blobs/sha256").join(digest.digest());
    std::fs::write(path, bytes).expect("a blob is written");
}

/// Manifests, indexes and configs as an OCI layout holds them, read the way `oci:DIR` bases and
/// `mlreef inspect oci:DIR` read them (`read_layout`, `layout_labels`). The first byte picks
/// what the rest is (modulo 4):
/// 0. the blob of an image manifest named by `index.json`;
/// 1. the blob of a (nested) image index named by `index.json`;
/// 2. the config blob of a fixed manifest named by `index.json`;
/// 3. `index.json` itself, next to the blobs of a fixed, valid image (manifest and config).
pub fn oci_json(data: &[u8]) {
    // One layout at a time (a test may replay inputs on several threads).
    static ONE: Mutex<()> = Mutex::new(());
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let _one = ONE.lock().unwrap_or_else(PoisonError::into_inner);
    let (layout, store) = oci_dirs();
    // A fresh layout for every input.
    let _ = std::fs::remove_dir_all(layout.join("blobs"));
    std::fs::create_dir_all(layout.join("blobs/sha256")).expect("a blobs folder");
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .expect("oci-layout is written");
    let index = match mode % 4 {
        0 => {
            put_blob(layout, rest);
            index_of(&descriptor(MANIFEST, rest))
        }
        1 => {
            put_blob(layout, rest);
            index_of(&descriptor(INDEX, rest))
        }
        2 => {
            let manifest = manifest_with(rest);
            put_blob(layout, rest);
            put_blob(layout, manifest.as_bytes());
            index_of(&descriptor(MANIFEST, manifest.as_bytes()))
        }
        _ => {
            let manifest = manifest_with(CONFIG.as_bytes());
            put_blob(layout, CONFIG.as_bytes());
            put_blob(layout, manifest.as_bytes());
            String::from_utf8_lossy(rest).into_owned()
        }
    };
    std::fs::write(layout.join("index.json"), index).expect("index.json is written");
    let platform = Platform::linux_amd64();
    for tag in [None, Some("latest")] {
        if let Err(error) = read_layout(store, layout, tag, &platform, &Silent) {
            let _ = error.to_string();
        }
        match layout_labels(layout, tag) {
            Ok(labels) => {
                let _ = format!("{labels:?}");
            }
            Err(error) => {
                let _ = error.to_string();
            }
        }
    }
}

/// Runs `f` with an empty folder of its own as the working folder, one call at a time.
///
/// With the default options the text lives in the working folder, which is the repository, so
/// an include or an import reads files below it. In an empty folder every one of them ends in a
/// diagnostic (not found, outside the repository, cycle) instead of reading whatever lies around
/// the fuzzer (its corpus, its build output), which keeps runs reproducible. The folder is
/// changed back afterwards because libFuzzer re-runs its own binary by a relative path (`-fork`,
/// `-minimize_crash`, which `cargo fuzz tmin` uses). The working folder belongs to the process,
/// hence the lock.
fn hermetic<T>(f: impl FnOnce() -> T) -> T {
    static LOCK: Mutex<()> = Mutex::new(());
    static DIRS: OnceLock<Option<(PathBuf, PathBuf)>> = OnceLock::new();
    let _lock = LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    let dirs = DIRS.get_or_init(|| {
        let empty = std::env::temp_dir().join("mlreef-fuzz-empty");
        std::fs::create_dir_all(&empty).ok()?;
        Some((std::env::current_dir().ok()?, empty))
    });
    let Some((home, empty)) = dirs else {
        return f();
    };
    let _ = std::env::set_current_dir(empty);
    let out = f();
    let _ = std::env::set_current_dir(home);
    out
}

/// Everything a caller does with a parsed requirements file; none of it may panic.
fn exercise(file: RequirementsFile) {
    let target = Target::default();
    let rendered = file.render();
    let _ = file.to_json();
    let _ = file.first_error();
    let _ = file.render_constraints();
    let _ = file.render_for(&target);
    let _ = file.applicable(&target).count();
    let _ = file.unpinned().count();
    let _ = file.local().count();
    let file = file.for_target(&target);
    let _ = file.to_json();
    // parse -> render -> parse: what we write for the installer must read back.
    let again = requirements::parse(&rendered, &requirements::Options::default());
    let _ = again.render();
    let _ = again.for_target(&target).to_json();
}
