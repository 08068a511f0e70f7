//! Replays the inputs the fuzzers found (`tests/fixtures/fuzz/<target>/<input>`) through the
//! same target bodies `cargo fuzz` runs (`fuzz/src/targets.rs`, included below), in a normal
//! `cargo test`: a crash that was fixed stays fixed without a nightly-flag build.
//!
//! As under libFuzzer, a panic counts even where the library catches it (`catch_unwind` around
//! a dependency): the test watches every panic through the panic hook.

#[path = "../../fuzz/src/targets.rs"]
mod targets;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

static PANICS: AtomicUsize = AtomicUsize::new(0);

#[test]
fn every_kept_fuzz_input_runs_without_a_panic() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        default(info);
    }));

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut replayed = 0;
    let mut failed = Vec::new();
    for folder in std::fs::read_dir(&root).expect("tests/fixtures/fuzz is readable") {
        let folder = folder.expect("a folder entry").path();
        let name = folder.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Some((_, target)) = targets::ALL.iter().find(|(target, _)| *target == name) else {
            panic!("{}: no fuzz target has this name", folder.display());
        };
        let mut inputs: Vec<_> = std::fs::read_dir(&folder)
            .expect("a target's folder is readable")
            .map(|entry| entry.expect("an input").path())
            .collect();
        inputs.sort();
        for input in inputs {
            let data = std::fs::read(&input).expect("an input is readable");
            let before = PANICS.load(Ordering::SeqCst);
            let outcome = std::panic::catch_unwind(|| target(&data));
            if outcome.is_err() || PANICS.load(Ordering::SeqCst) != before {
                failed.push(input.display().to_string());
            }
            replayed += 1;
        }
    }
    let _ = std::panic::take_hook();
    assert!(replayed > 0, "no input under {}", root.display());
    assert!(failed.is_empty(), "inputs that panic again: {failed:#?}");
}
