//! The crate's one error type. Each domain keeps its own enum (what can go wrong reading a
//! script is not what can go wrong writing `mlreef.yml`); [`Error`] holds any of them, so a
//! caller that chains several steps can use `?` throughout and still ask where the problem is.
//!
//! It names every domain, so it sits below all of them in the layers: no domain returns it, only
//! the flows that chain domains ([`crate::publish`]).

use std::path::Path;

use crate::progress::Cancelled;
use crate::{argparse, deps, module, oci, pipeline, requirements};

/// Any error of the crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A script that cannot be read as Python source.
    #[error(transparent)]
    Script(#[from] argparse::Error),
    /// A requirements or environment file that cannot be read at all.
    #[error(transparent)]
    Requirements(#[from] requirements::Error),
    /// A Python version or platform that is not one.
    #[error(transparent)]
    Target(#[from] requirements::TargetError),
    /// A repository that does not make a module.
    #[error(transparent)]
    Module(#[from] module::Error),
    /// An `mlreef.yml` that cannot be read.
    #[error(transparent)]
    Pipeline(#[from] pipeline::PipelineError),
    /// Parameter values argparse would not accept.
    #[error(transparent)]
    CommandLine(#[from] pipeline::CommandLineError),
    /// `init` wrote nothing.
    #[error(transparent)]
    Init(#[from] pipeline::InitError),
    /// The base's Python, or resolving or installing the requirements.
    #[error(transparent)]
    Deps(#[from] deps::Error),
    /// Reading a base, writing a layer or an image, or a registry.
    #[error(transparent)]
    Image(#[from] oci::Error),
    /// The caller's progress callback asked to stop.
    #[error("cancelled")]
    Cancelled,
}

impl From<Cancelled> for Error {
    fn from(_: Cancelled) -> Self {
        Error::Cancelled
    }
}

/// An error and its causes as one line, `error: cause: cause` (errors here keep their causes
/// out of their own message, so that a caller can choose how to show them).
#[must_use]
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Where an error is: the file, and the 1-based line and column in it, as far as known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Location<'a> {
    path: Option<&'a Path>,
    line: Option<usize>,
    column: Option<usize>,
}

impl Error {
    /// The file the error is about, when it names one.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.location().path
    }

    /// The 1-based line of the problem, when known.
    #[must_use]
    pub fn line(&self) -> Option<usize> {
        self.location().line
    }

    /// The 1-based column of the problem, when known.
    #[must_use]
    pub fn column(&self) -> Option<usize> {
        self.location().column
    }

    fn location(&self) -> Location<'_> {
        match self {
            Error::Script(e) => script(e),
            Error::Requirements(e) => requirements_file(e),
            Error::Module(e) => module_error(e),
            Error::Pipeline(e) => recorded(e),
            Error::Init(e) => init(e),
            Error::Deps(e) => positioned(e.path(), None),
            Error::Image(e) => positioned(e.path(), None),
            Error::Target(_) | Error::CommandLine(_) | Error::Cancelled => Location::default(),
        }
    }
}

fn positioned(path: Option<&Path>, position: Option<(usize, usize)>) -> Location<'_> {
    Location {
        path,
        line: position.map(|(line, _)| line),
        // 0 stands for "no column" where a domain knows only the line.
        column: position.map(|(_, column)| column).filter(|c| *c > 0),
    }
}

fn script(error: &argparse::Error) -> Location<'_> {
    let path = match error {
        argparse::Error::Syntax { path, .. }
        | argparse::Error::NotUtf8 { path, .. }
        | argparse::Error::Binary { path }
        | argparse::Error::TooLarge { path, .. } => path.as_deref(),
        argparse::Error::Io { path, .. } => Some(path.as_path()),
    };
    positioned(path, error.position())
}

fn requirements_file(error: &requirements::Error) -> Location<'_> {
    let path = match error {
        requirements::Error::Io { path, .. }
        | requirements::Error::Decode { path, .. }
        | requirements::Error::Yaml { path, .. } => path,
    };
    positioned(Some(path), error.position())
}

fn recorded(error: &module::RecordedError) -> Location<'_> {
    positioned(error.path(), error.position())
}

fn module_error(error: &module::Error) -> Location<'_> {
    match error {
        module::Error::Script(e) => script(e),
        module::Error::Requirements(e) => requirements_file(e),
        module::Error::Recorded(e) => recorded(e),
        module::Error::Io { path, .. } | module::Error::OutsideRepository { path, .. } => {
            positioned(Some(path), None)
        }
        module::Error::NoEntryPoint { repo } | module::Error::AmbiguousEntryPoint { repo, .. } => {
            positioned(Some(repo), None)
        }
        module::Error::Cancelled => Location::default(),
    }
}

fn init(error: &pipeline::InitError) -> Location<'_> {
    match error {
        pipeline::InitError::Existing(e) => recorded(e),
        pipeline::InitError::Discover(e) => module_error(e),
        pipeline::InitError::Write { path, .. } => positioned(Some(path), None),
        pipeline::InitError::Cancelled => Location::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_domain_converts_and_keeps_its_position() {
        fn first<T>(result: Result<T, impl Into<Error>>) -> Error {
            match result {
                Ok(_) => panic!("an error"),
                Err(e) => e.into(),
            }
        }
        let syntax = first(argparse::extract(
            "x = (\n",
            &argparse::Options {
                path: Some("train.py".into()),
                ..argparse::Options::default()
            },
        ));
        assert_eq!(syntax.path(), Some(Path::new("train.py")));
        assert_eq!(syntax.line(), Some(2));
        assert!(syntax.column().is_some());

        let yaml = first(pipeline::read("a: [1\n", Some(Path::new("mlreef.yml"))));
        assert_eq!(
            (yaml.line(), yaml.path()),
            (Some(2), Some(Path::new("mlreef.yml")))
        );
        let shape = first(pipeline::read("- 1\n", None));
        assert_eq!((shape.line(), shape.column()), (Some(1), None));

        let environment = first(requirements::parse_environment(
            "dependencies: [numpy\n",
            &requirements::Options {
                path: Some("environment.yml".into()),
                ..requirements::Options::default()
            },
        ));
        assert_eq!(environment.line(), Some(2));
        assert!(matches!(environment, Error::Requirements(_)));

        let missing = first(crate::Module::discover(
            Path::new("/nonexistent/mlreef-repo"),
            &module::DiscoverOptions::default(),
        ));
        assert_eq!(missing.path(), Some(Path::new("/nonexistent/mlreef-repo")));
        assert_eq!(missing.line(), None);
        let target = first(requirements::Target::new("three", "linux/amd64"));
        assert!(target.to_string().contains("three"));
        assert_eq!(Error::from(Cancelled).to_string(), "cancelled");
    }
}
