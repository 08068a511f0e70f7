//! A conda environment.yml: `parse_environment`, then the same calls as `requirements`.
//! The body, and what each input byte means, is `mlreef_fuzz::targets::environment`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mlreef_fuzz::targets::environment(data));
