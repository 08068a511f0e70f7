//! One requirement line, plain and as `-e`: the PEP 508 wrapper and the line classifier.
//! The body, and what each input byte means, is `mlreef_fuzz::targets::requirement_line`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mlreef_fuzz::targets::requirement_line(data));
