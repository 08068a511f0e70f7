//! `mlreef.yml` text: read it; when it holds a module, render it (over the file and on its
//! own) and read that again, which must give the same module.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlreef_core::pipeline::{PipelineOptions, read, render};

fuzz_target!(|data: &[u8]| {
    mlreef_fuzz::run(|| {
        let text = String::from_utf8_lossy(data);
        let file = match read(&text, None) {
            Ok(file) => file,
            Err(error) => {
                let _ = error.to_string();
                return;
            }
        };
        let Some(module) = &file.module else {
            return;
        };
        let options = PipelineOptions::default();
        for existing in [Some(&file), None] {
            let rendered = render(module, existing, &options);
            let again = read(&rendered, None).unwrap_or_else(|error| {
                panic!("a rendered mlreef.yml does not read back: {error}\n{rendered}")
            });
            assert_eq!(
                again.module.as_ref(),
                Some(module),
                "a rendered mlreef.yml reads back as another module:\n{rendered}"
            );
        }
    });
});
