//! Arbitrary Python source through the argparse extractor, then its JSON contract read back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlreef_core::Extraction;
use mlreef_core::argparse::{Options, extract};

fuzz_target!(|data: &[u8]| {
    mlreef_fuzz::run(|| {
        let text = String::from_utf8_lossy(data);
        // The repository is the (empty) working folder: imports of repository modules all end
        // in a diagnostic. An odd length also keeps the findings that affect no parameter.
        let options = Options {
            verbose: data.len() % 2 == 1,
            ..Options::default()
        };
        match extract(&text, &options) {
            Ok(extraction) => {
                let json = extraction.to_json();
                // `mlreef params --json` must be readable as what it describes.
                if let Err(error) = serde_json::from_str::<Extraction>(&json) {
                    panic!("the JSON of an extraction does not read back: {error}\n{json}");
                }
            }
            Err(error) => {
                let _ = error.to_string();
            }
        }
    });
});
