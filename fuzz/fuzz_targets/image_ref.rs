//! Image references: parsed, printed and parsed again to the same reference.
//! The body, and what each input byte means, is `mlreef_fuzz::targets::image_ref`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mlreef_fuzz::targets::image_ref(data));
