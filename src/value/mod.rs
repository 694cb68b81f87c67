//! Value types: Kubernetes quantities and container resources, Go durations, DNS-1123 names, the
//! stack's well-known ports, the content hash, cron schedules and `http(s)://` URLs.

pub mod cron;
pub mod duration;
pub(crate) mod hash;
pub(crate) mod names;
pub mod ports;
pub mod quantity;
pub mod resources;
pub mod url;
