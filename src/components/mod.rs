//! The stack's components, each one function of the profile that returns its named objects.

pub mod apps;
pub mod collector;
pub mod istio;
pub mod jaeger;
pub mod monitoring;
pub mod namespace;
pub mod network;
pub mod smoke_test;
pub mod workload;

use crate::config::k8s::Object;

/// Memory settings derived from a container's memory limit.
///
/// The collector's `memory_limiter` hard limit is 80 % of the container limit and its spike
/// headroom 20 % of that, so data is refused from 64 % on; `GOMEMLIMIT` is set to the hard limit so
/// the Go GC works harder before the limiter has to refuse data (the memory_limiter README
/// recommends GOMEMLIMIT at about 80 % of the container's limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemorySizing {
    /// `memory_limiter.limit_mib`.
    pub limit_mib: u32,
    /// `memory_limiter.spike_limit_mib`.
    pub spike_limit_mib: u32,
}

impl MemorySizing {
    /// Sizing for a container limit of `limit_bytes`.
    #[must_use]
    pub fn from_limit_bytes(limit_bytes: u64) -> Self {
        let limit_mib = u32::try_from(limit_bytes / (1024 * 1024) * 4 / 5).unwrap_or(u32::MAX);
        Self { limit_mib, spike_limit_mib: limit_mib / 5 }
    }

    /// The `GOMEMLIMIT` value, e.g. `409MiB`.
    #[must_use]
    pub fn gomemlimit(self) -> String {
        format!("{}MiB", self.limit_mib)
    }
}

/// Objects in apply order, for components that return named fields.
pub trait Component {
    /// The component's objects, in the order they should be applied.
    fn into_objects(self) -> Vec<Object>;
}
