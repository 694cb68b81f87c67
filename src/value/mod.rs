//! Value types: Kubernetes quantities, Go durations, DNS-1123 names, the stack's well-known ports.

pub mod duration;
pub mod names;
pub mod ports;
pub mod quantity;
