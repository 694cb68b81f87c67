//! tracestack renders a distributed-tracing stack for Kubernetes — OpenTelemetry Collector gateway
//! → Jaeger v2 — from a typed [`Profile`] into plain, reviewable YAML.
//!
//! Data flows one way: profile file ([`model::load`]) → validated [`Profile`] → component builders
//! ([`components`], over the typed [`collector`] and [`collector::jaeger`] configs) → Kubernetes
//! objects ([`config::k8s::Object`]) gathered in a [`Stack`] → files ([`render`]) → disk
//! ([`io::output`]).
//!
//! Beside the stack's own objects a profile can render Istio mesh tracing ([`config::istio`],
//! [`components::istio`]) and per-application onboarding ([`components::apps`]): install-time files
//! and kustomize Components ([`config::kustomize`]) for objects the stack does not own, with
//! READMEs.
//!
//! The modules are layers, lowest first: [`value`] → [`format`](mod@format) → [`config`] →
//! [`model`] → [`check`] → [`components`] and the [`Stack`] → [`render`] → [`io`]. Each imports
//! only from its own layer or below (ARCHITECTURE.md). An error belongs to the layer that raises
//! it; [`Error`] wraps them all.
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

// The layers, lowest first, ranked as in tests/architecture.rs: a module imports only from its own
// layer or below. (The comments also keep rustfmt from sorting the list.)
// 0: value types.
pub mod value;
// 1: the YAML and Markdown writers.
pub mod format;
// 2: typed configuration.
pub mod config;
// 3: the profile and what is derived from it.
pub mod model;
// 4: cross-object checks.
pub mod check;
// 5: the components, and the stack that gathers them.
pub mod components;
mod stack;
// 6: objects and documents to files.
pub mod render;
// 7: the file system.
pub mod io;
// 8: the crate's error, wrapping every layer's.
mod error;

pub use config::collector;
pub use error::Error;
pub use model::profile::Profile;
pub use stack::Stack;
