//! `mlreef.yml`: render, read back, merge.

mod file;
mod yaml;

pub use file::{
    CODE_DIR, Change, MODULE_KEY, PUBLISH_JOB, PipelineError, PipelineFile, PipelineOptions,
    RUN_TEMPLATE, image_tag, merge, read, read_file, render,
};
