//! A conda environment.yml: `parse_environment`, then the same calls as `requirements`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlreef_core::requirements::{Options, parse_environment};

fuzz_target!(|data: &[u8]| {
    mlreef_fuzz::run(|| {
        let text = String::from_utf8_lossy(data);
        match parse_environment(&text, &Options::default()) {
            Ok(file) => mlreef_fuzz::exercise(file),
            Err(error) => {
                let _ = error.to_string();
                let _ = error.position();
            }
        }
    });
});
