//! The output formats: the one YAML writer and the one Markdown (minijinja) environment.

pub(crate) mod prose;
pub mod yaml;

// What a reader of the rendered documents can check with: the lines a runbook gives to copy into
// a shell, and how each value is made one shell word.
pub use prose::{code_block_lines, shell_word};

/// tracestack's version, as every generated file's header names it; the `tracestack` command
/// carries the same version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What can go wrong writing YAML or Markdown.
#[derive(Debug, thiserror::Error)]
pub enum Error {
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
}

/// One `  - item` line per item, for messages that list every problem.
pub(crate) fn list<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|item| format!("  - {item}")).collect::<Vec<_>>().join("\n")
}
