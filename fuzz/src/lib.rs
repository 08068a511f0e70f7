//! The fuzz targets of `mlreef-core`. Their bodies live in [`targets`], shared with the replay
//! of kept inputs in `mlreef-core/tests/fuzz_regressions.rs`; each binary in `fuzz_targets/`
//! only hands libFuzzer's input to one of them.

pub mod targets;
