//! The file system: the `profiles/` → `generated/` layout, and writing and checking output.

pub mod output;
pub mod project;
