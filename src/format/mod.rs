//! The output formats: the one YAML writer and the one Markdown (minijinja) environment.

pub mod prose;
pub mod yaml;
