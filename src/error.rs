//! The crate's error type.

use std::path::PathBuf;

use crate::config::collector::ConfigError;
use crate::model::load::LoadError;

/// Everything that can go wrong between a profile file and the files on disk.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A profile file could not be read, parsed or validated.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A profile file loaded, but its stack could not be built or rendered.
    #[error("{file}: {source}")]
    InProfile {
        /// The profile file.
        file: String,
        /// What went wrong.
        #[source]
        source: Box<Error>,
    },
    /// A profile built in code failed validation.
    #[error("invalid profile:\n{}", list(.0.iter().map(|e| format!("{}: {}", e.path, e.message))))]
    Profile(Vec<crate::model::profile::FieldError>),
    /// A value derived from the profile is unusable.
    #[error("{path}: {message}")]
    Invalid {
        /// Dotted path of the field.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A generated collector or Jaeger config is inconsistent.
    #[error("the `{component}` config is inconsistent:\n{}", list(.errors.iter()))]
    Config {
        /// The workload whose config it is.
        component: String,
        /// Each problem.
        errors: Vec<ConfigError>,
    },
    /// The Istio configuration would not reach the collector gateway it is rendered with.
    #[error("the Istio configuration does not reach the gateway:\n{}", list(.0.iter()))]
    Istio(Vec<crate::config::istio::CheckError>),
    /// The rendered objects or configs fail cross-object checks (see [`crate::check`]).
    #[error("the rendered objects fail {} cross-object check(s):\n{}", .0.len(), list(.0.iter()))]
    Check(Vec<crate::check::Violation>),
    /// Two objects would be written to the same file.
    #[error("{kind} `{name}` is rendered twice (file `{file}`)")]
    Duplicate {
        /// Object kind.
        kind: String,
        /// Object name.
        name: String,
        /// The file both would be written to.
        file: String,
    },
    /// YAML or JSON serialisation failed.
    #[error("could not serialise {what}: {message}")]
    Serialize {
        /// What was being serialised.
        what: String,
        /// The serialiser's message.
        message: String,
    },
    /// A prose template (the runbook) failed to render.
    #[error("could not render {template}: {message}")]
    Template {
        /// The template's name.
        template: String,
        /// What went wrong, from the template engine.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// Output on disk differs from what the profiles render.
    #[error("{} generated file(s) are out of date:\n{}\nrun `cargo xtask render` and commit the result", .0.len(), list(.0.iter()))]
    Stale(Vec<crate::io::output::Drift>),
}

fn list<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|item| format!("  - {item}")).collect::<Vec<_>>().join("\n")
}
