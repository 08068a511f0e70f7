//! `mlreef.yml` (render, read back, merge) and runs of a module: command lines for chosen
//! parameter values.

mod command;
mod file;
mod values;

pub use command::{CommandLineError, command_line, shell_line};
pub use file::{
    CODE_DIR, Change, MODULE_KEY, PUBLISH_JOB, PipelineError, PipelineFile, PipelineOptions,
    RUN_TEMPLATE, image_tag, merge, read, read_file, render,
};
pub use values::{Assignment, values_from_text};
