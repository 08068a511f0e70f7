//! `mlreef.yml` (render, read back, merge) and runs of a module: command lines for chosen
//! parameter values.

mod command;
mod file;

pub use command::{CommandLineError, command_line, shell_line};
pub use file::{
    CODE_DIR, Change, MODULE_KEY, PUBLISH_JOB, PipelineError, PipelineFile, PipelineOptions,
    RUN_TEMPLATE, image_tag, merge, read, read_file, render,
};
