//! A whole requirements file: `parse`, then render / JSON / target evaluation / re-parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlreef_core::requirements::{Options, parse};

fuzz_target!(|data: &[u8]| {
    mlreef_fuzz::run(|| {
        let text = String::from_utf8_lossy(data);
        mlreef_fuzz::exercise(parse(&text, &Options::default()));
    });
});
