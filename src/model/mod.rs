//! The profile and what is derived from it: the format and its validation, loading, sizing and the
//! plan, the JSON Schema.

pub mod layers;
pub mod load;
pub(crate) mod locate;
pub mod plan;
pub mod pods;
pub mod profile;
pub mod schema;
pub mod sizing;

use crate::format::list;
use crate::model::profile::FieldError;

/// A profile, or a value derived from it, that cannot be built on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A profile built in code failed validation.
    #[error("invalid profile:\n{}", list(.0.iter().map(|e| format!("{}: {}", e.path, e.message))))]
    Profile(Vec<FieldError>),
    /// A value derived from the profile is unusable.
    #[error("{path}: {message}")]
    Invalid {
        /// Dotted path of the field.
        path: String,
        /// What is wrong.
        message: String,
    },
}
