//! One requirement line, plain and as `-e`: the PEP 508 wrapper and the line classifier.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlreef_core::requirements::{Options, parse};

fuzz_target!(|data: &[u8]| {
    mlreef_fuzz::run(|| {
        let text = String::from_utf8_lossy(data);
        mlreef_fuzz::exercise(parse(&format!("{text}\n"), &Options::default()));
        mlreef_fuzz::exercise(parse(&format!("-e {text}\n"), &Options::default()));
    });
});
