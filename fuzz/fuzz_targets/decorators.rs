//! Arbitrary Python source through the legacy `@data_processor` / `@parameter` extractor.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlreef_core::decorators::{DecoratorExtraction, extract};

fuzz_target!(|data: &[u8]| {
    mlreef_fuzz::run(|| {
        let text = String::from_utf8_lossy(data);
        match extract(&text) {
            Ok(extraction) => {
                let json = serde_json::to_string(&extraction).expect("an extraction serializes");
                if let Err(error) = serde_json::from_str::<DecoratorExtraction>(&json) {
                    panic!("the JSON of a decorator extraction does not read back: {error}\n{json}");
                }
            }
            Err(error) => {
                let _ = error.to_string();
            }
        }
    });
});
