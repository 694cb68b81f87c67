//! The profile and what is derived from it: the format and its validation, loading, sizing and the
//! plan, the JSON Schema.

pub mod load;
pub mod locate;
pub mod plan;
pub mod profile;
pub mod schema;
pub mod sizing;
