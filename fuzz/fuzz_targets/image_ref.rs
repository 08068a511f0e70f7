//! Image references: parsing, and Display -> parse giving the same reference back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlreef_core::oci::ImageRef;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.parse::<ImageRef>() {
        Ok(reference) => {
            let printed = reference.to_string();
            match printed.parse::<ImageRef>() {
                Ok(again) => assert_eq!(
                    again, reference,
                    "`{text}` prints as `{printed}`, which reads as another reference"
                ),
                Err(error) => panic!("`{text}` prints as `{printed}`, which does not read: {error}"),
            }
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
