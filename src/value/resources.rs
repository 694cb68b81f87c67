//! CPU and memory requests and limits of a container, as a profile states them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::value::quantity::Quantity;

/// CPU and memory of one container.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// What the scheduler reserves.
    pub requests: CpuMemory,
    /// The most the container may use; the memory limit also sizes the collector's
    /// `memory_limiter` and `GOMEMLIMIT`.
    pub limits: CpuMemory,
}

/// A CPU and a memory quantity.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CpuMemory {
    /// CPU, e.g. `250m` or `2`.
    pub cpu: Quantity,
    /// Memory, e.g. `512Mi`.
    pub memory: Quantity,
}
