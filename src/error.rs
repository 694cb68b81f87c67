//! The crate's error type: any layer's error, for callers that drive several layers.

use crate::model::load::LoadError;
use crate::{check, components, format, io, model, render};

/// Everything that can go wrong between a profile file and the files on disk: the error of the
/// layer it happened in, with that layer's message.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A profile file could not be read, parsed or validated.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A profile built in code is invalid, or a value derived from it is unusable.
    #[error(transparent)]
    Model(#[from] model::Error),
    /// YAML, JSON or a prose template could not be written.
    #[error(transparent)]
    Format(#[from] format::Error),
    /// Objects or configs fail cross-object checks.
    #[error(transparent)]
    Check(#[from] check::Error),
    /// A stack could not be built.
    #[error(transparent)]
    Build(#[from] components::Error),
    /// A stack could not be rendered.
    #[error(transparent)]
    Render(#[from] render::Error),
    /// Profile files or output on disk could not be read, written or checked.
    #[error(transparent)]
    Io(#[from] io::Error),
}
