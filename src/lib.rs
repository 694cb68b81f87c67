//! tracestack renders a distributed-tracing stack for Kubernetes — OpenTelemetry Collector gateway
//! → Jaeger v2 — from a typed [`Profile`] into plain, reviewable YAML.
//!
//! Data flows one way: profile file ([`load`]) → validated [`Profile`] → component builders
//! ([`components`], over the typed [`collector`] and [`jaeger`] configs) → Kubernetes objects
//! ([`k8s::Object`]) gathered in a [`Stack`] → files ([`render`]) → disk ([`output`]).
//!
//! Beside the stack's own objects a profile can render Istio mesh tracing ([`istio`],
//! [`components::istio`]) and per-application onboarding ([`components::apps`]): install-time files
//! and kustomize Components ([`kustomize`]) for objects the stack does not own, with READMEs
//! ([`prose`]).
//!
//! # Examples
//!
//! Build the demo stack in code, reach a typed object, and render it to files:
//!
//! ```
//! use tracestack::{Profile, Stack, render};
//!
//! let mut profile = Profile::default(); // in-memory Jaeger, one collector, 100 % sampling
//! profile.collector.replicas = Some(2);
//!
//! let stack = Stack::build(&profile)?;
//! assert_eq!(stack.gateway.service.metadata.name.as_deref(), Some("otlp"));
//!
//! let source = render::Source { profile: "example".into(), origin: "code".into() };
//! let rendered = render::render_profile(&profile, &source)?;
//! assert!(rendered.files.contains_key("otlp-service.yaml"));
//! assert!(rendered.files["otel-collector-configmap.yaml"].contains("otlp_grpc/jaeger:"));
//! # Ok::<(), tracestack::Error>(())
//! ```

/// Serializer methods that refuse their input with `$error`, for the serializers that accept one
/// shape of data (`k8s::Manifest`'s struct forwarder, `yaml`'s key writer).
macro_rules! refuse {
    ($error:expr; $($name:ident($($arg:ty),*) -> $ret:ty;)*) => {
        $(fn $name(self, $(_: $arg),*) -> ::std::result::Result<$ret, Self::Error> {
            Err($error)
        })*
    };
}

pub mod check;
pub mod components;
pub mod config;
pub mod error;
pub mod format;
pub mod io;
pub mod model;
pub mod render;
pub mod stack;
pub mod value;

pub use config::collector::jaeger;
pub use config::{collector, istio, k8s, kustomize, prometheus};
pub use format::{prose, yaml};
pub use io::{output, project};
pub use model::{load, locate, plan, profile, schema, sizing};
pub use render::runbook;
pub use value::{duration, names, ports, quantity};

pub use error::Error;
pub use profile::Profile;
pub use stack::Stack;
