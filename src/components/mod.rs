//! The stack's components, each one function of the profile that returns its named objects.

pub mod agent;
pub mod apps;
pub mod collector;
pub mod istio;
pub mod jaeger;
pub mod kafka;
pub mod monitoring;
pub mod namespace;
pub mod network;
pub mod operator;
pub mod parts;
pub mod pods;
pub mod sampler;
pub mod smoke_test;
pub mod workload;

use crate::config::collector::ConfigError;
use crate::config::istio::CheckError;
use crate::config::k8s::Object;
use crate::format::{self, list};
use crate::model;

/// What can go wrong building a component.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The profile is invalid, or a value derived from it (or from a built object) is unusable.
    #[error(transparent)]
    Model(#[from] model::Error),
    /// A generated collector or Jaeger config is inconsistent.
    #[error("the `{component}` config is inconsistent:\n{}", list(.errors.iter()))]
    Config {
        /// The workload whose config it is.
        component: String,
        /// Each problem.
        errors: Vec<ConfigError>,
    },
    /// The Istio configuration would not reach the collector gateway it is rendered with.
    #[error("the Istio configuration does not reach the gateway:\n{}", list(.0.iter()))]
    Istio(Vec<CheckError>),
    /// An object or document does not serialise, or a README template fails.
    #[error(transparent)]
    Format(#[from] format::Error),
}

/// Objects in apply order, for components that return named fields.
pub trait Component {
    /// The component's objects, in the order they should be applied.
    fn into_objects(self) -> Vec<Object>;
}
