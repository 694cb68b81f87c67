//! The stack's components, each one function of the profile that returns its named objects.

pub mod apps;
pub mod collector;
pub mod istio;
pub mod jaeger;
pub mod monitoring;
pub mod namespace;
pub mod network;
pub mod parts;
pub mod smoke_test;
pub mod workload;

use crate::config::k8s::Object;

/// Objects in apply order, for components that return named fields.
pub trait Component {
    /// The component's objects, in the order they should be applied.
    fn into_objects(self) -> Vec<Object>;
}
