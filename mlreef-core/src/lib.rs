//! mlreef-core publishes a data scientist's Python repository as a runnable, typed AI module.
//!
//! This crate holds every capability; the `mlreef` command and the Python and C bindings are
//! thin layers over it. Each domain is a module, and each uses only those above it here:
//! [`repo`] knows the repository (its root, relative paths, the boundary no read crosses),
//! [`python`] parses Python, [`argparse`] reads a script's parameters without running it,
//! [`decorators`] reads the legacy `@data_processor` convention, [`requirements`] reads pip
//! requirements files and conda environment files as pip does, [`module`] describes, discovers
//! and merges modules, [`pipeline`] renders and writes `mlreef.yml` ([`pipeline::init`])
//! and makes command lines for runs, [`oci`] builds images without a daemon, and [`deps`] finds
//! the base image's Python and installs a module's requirements as wheels for the image's
//! platform. Every domain error converts into [`Error`], which [`publish`] returns: the flow
//! that chains them all, from a repository to a module's image.

pub mod argparse;
pub mod decorators;
pub mod deps;
mod error;
pub mod module;
pub mod oci;
pub mod parameter;
pub mod pipeline;
pub mod platform;
pub mod progress;
pub mod publish;
pub mod python;
pub mod repo;
pub mod requirements;
pub mod source;
mod yaml;

pub use error::{Error, error_chain};
pub use module::Module;
pub use parameter::{Action, Diagnostic, Extraction, Nargs, Parameter, ParameterType, Severity};
pub use requirements::{Requirement, RequirementsFile, Target};
