//! mlreef-core publishes a data scientist's Python repository as a runnable, typed AI module.
//!
//! This crate holds every capability; the `mlreef` command and the Python and C bindings are
//! thin layers over it. Each domain is a module: [`argparse`] reads a script's parameters
//! without running it, [`decorators`] reads the legacy `@data_processor` convention, and
//! [`requirements`] reads pip requirements files and conda environment files as pip does.

pub mod argparse;
pub mod decorators;
pub mod module;
pub mod parameter;
pub mod pipeline;
pub mod progress;
pub mod python;
pub mod repo;
pub mod requirements;
mod yaml;

pub use module::Module;
pub use parameter::{Diagnostic, Extraction, Nargs, Parameter, ParameterType, Severity};
pub use requirements::{Requirement, RequirementsFile, Target};
