//! The file system: the `profiles/` → `generated/` layout, and writing and checking output.

pub mod output;
pub mod overlay;
pub mod project;

use std::path::PathBuf;

use crate::format::{self, list};
use crate::model::load::LoadError;
use crate::render;

/// What can go wrong between profile files and the files on disk.
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
        source: Box<render::Error>,
    },
    /// The profile schema does not serialise.
    #[error(transparent)]
    Format(#[from] format::Error),
    /// Reading or writing a file failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The profiles directory or the output directory cannot be used as given.
    #[error("{}: {message}", .path.display())]
    Layout {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// Output on disk differs from what the profiles render.
    #[error("{} generated file(s) are out of date:\n{}\nrun `tracestack render` (`cargo xtask render` in a tracestack checkout) and commit the result; `tracestack diff` shows what changed", .0.len(), list(.0.iter()))]
    Stale(Vec<output::Drift>),
}
