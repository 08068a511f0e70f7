//! `mlreef.yml` text: read, and a module in it rendered and read back as the same module.
//! The body, and what each input byte means, is `mlreef_fuzz::targets::mlreef_yml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mlreef_fuzz::targets::mlreef_yml(data));
