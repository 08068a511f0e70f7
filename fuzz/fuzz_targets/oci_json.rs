//! Manifests, indexes, configs and `index.json` in an OCI layout, read as bases are.
//! The body, and what each input byte means, is `mlreef_fuzz::targets::oci_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mlreef_fuzz::targets::oci_json(data));
