//! Python source through the legacy `@data_processor` / `@parameter` extractor.
//! The body, and what each input byte means, is `mlreef_fuzz::targets::decorators`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mlreef_fuzz::targets::decorators(data));
