//! Python source through the argparse extractor; its JSON must read back.
//! The body, and what each input byte means, is `mlreef_fuzz::targets::argparse`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mlreef_fuzz::targets::argparse(data));
