//! A whole requirements file: parse, render, JSON, target evaluation, parse again.
//! The body, and what each input byte means, is `mlreef_fuzz::targets::requirements`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mlreef_fuzz::targets::requirements(data));
