//! `mlreef.yml` (render, read back, and the whole `init` flow) and runs of a module: command
//! lines for chosen parameter values.

mod command;
mod file;
mod init;
mod values;

use serde_json::{Map, Value as Json};

use crate::module::Module;

pub use crate::module::{Change, MODULE_KEY, merge};
pub use command::{CommandLineError, command_line, shell_line};
pub use file::{
    CODE_DIR, PACKAGE, PUBLISH_JOB, PipelineError, PipelineFile, PipelineOptions, RUN_TEMPLATE,
    image_tag, read, read_file, render,
};
pub use init::{FILE_NAME, InitError, InitOptions, InitOutcome, InitStatus, init, init_with};
pub use values::{Assignment, values_from_text};

// Runs are this layer's business; the description itself (`module`) knows nothing of them.
impl Module {
    /// The argv (after `python SCRIPT`) that runs the module with `values`, keyed by
    /// parameter name; see [`command_line`] for the rules.
    pub fn command_line(
        &self,
        values: &Map<String, Json>,
    ) -> Result<Vec<String>, CommandLineError> {
        command_line(&self.parameters, values)
    }
}
