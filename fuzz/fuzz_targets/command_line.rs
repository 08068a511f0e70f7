//! Values for a fixed module's parameters: the first byte picks one of the example modules
//! (`mlreef-core/tests/fixtures/modules/*.mlreef.yml`), the rest is a JSON object of values
//! for `Module::command_line`, or else `NAME=TEXT` / `NAME:=JSON` lines for
//! `pipeline::values_from_text`. Errors are fine; panics are not.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mlreef_core::Module;
use mlreef_core::pipeline::{Assignment, read, shell_line, values_from_text};
use serde_json::{Map, Value};

const FIXTURES: &[&str] = &[
    include_str!("../../mlreef-core/tests/fixtures/modules/subcommands.mlreef.yml"),
    include_str!("../../mlreef-core/tests/fixtures/modules/pytorch_train.mlreef.yml"),
    include_str!("../../mlreef-core/tests/fixtures/modules/detection_tools.mlreef.yml"),
    include_str!("../../mlreef-core/tests/fixtures/modules/imagenet_reference.mlreef.yml"),
    include_str!("../../mlreef-core/tests/fixtures/modules/legacy_decorators.mlreef.yml"),
    include_str!("../../mlreef-core/tests/fixtures/modules/visualization_user_edits.mlreef.yml"),
    include_str!("../../mlreef-core/tests/fixtures/modules/yolo_helpers.mlreef.yml"),
    include_str!("../../mlreef-core/tests/fixtures/modules/hf_conda.mlreef.yml"),
];

fn modules() -> &'static [Module] {
    static MODULES: OnceLock<Vec<Module>> = OnceLock::new();
    MODULES.get_or_init(|| {
        FIXTURES
            .iter()
            .map(|text| {
                read(text, None)
                    .expect("an example mlreef.yml reads")
                    .module
                    .expect("an example mlreef.yml holds a module")
            })
            .collect()
    })
}

fn assignments(text: &str) -> Option<Vec<Assignment>> {
    text.lines()
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (name, rest) = line.split_once('=')?;
            Some(match name.strip_suffix(':') {
                Some(name) => Assignment::Json {
                    name: name.to_owned(),
                    value: serde_json::from_str(rest).ok()?,
                },
                None => Assignment::Text {
                    name: name.to_owned(),
                    text: rest.to_owned(),
                },
            })
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let modules = modules();
    let module = &modules[usize::from(pick) % modules.len()];
    let text = String::from_utf8_lossy(rest);
    let values = match serde_json::from_str::<Map<String, Value>>(&text) {
        Ok(values) => Ok(values),
        Err(_) => match assignments(&text) {
            Some(assignments) => values_from_text(&module.parameters, assignments),
            None => return,
        },
    };
    match values.and_then(|values| module.command_line(&values)) {
        Ok(argv) => {
            let _ = shell_line(&argv);
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
