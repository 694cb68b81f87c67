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
//! # Using the crate
//!
//! The library enables no Kubernetes API version of k8s-openapi (a library must leave that to the
//! binary), so a program that uses it names one, with the same k8s-openapi minor version:
//!
//! ```toml
//! [dependencies]
//! tracestack = { git = "…", tag = "…" }   # or `path = "…"`: the crate is not on crates.io
//! k8s-openapi = { version = "0.29", features = ["v1_33"] }
//! ```
//!
//! Without a `v1_*` feature the build stops in k8s-openapi's build script ("None of the v1_*
//! features are enabled"); `v1_33` is the oldest 0.29 supports and what tracestack's own binaries
//! use, so no field newer than a 1.33 cluster knows is emitted. `cargo doc -p tracestack --features
//! k8s-openapi/v1_33` documents the crate alone; docs.rs builds it the same way.
//!
//! The names a program needs are at the root: [`Profile`] (and [`PodExtras`]), [`load_file`] /
//! [`load_layered`] for profile files, [`Stack`], [`render_profile`] / [`render_stack`] /
//! [`render_parts`] with [`Source`] and [`Rendered`], [`Object`] with [`CustomKind`] and
//! [`CustomResource`] for objects of one's own, [`collector`] for collector configs, and [`Error`].
//!
//! # Examples
//!
//! Build the demo stack in code, reach a typed object, and render it to files:
//!
//! ```
//! use tracestack::{Profile, Source, Stack, render_profile};
//!
//! let mut profile = Profile::default(); // in-memory Jaeger, one collector, 100 % sampling
//! profile.collector.replicas = Some(2);
//!
//! let stack = Stack::build(&profile)?;
//! assert_eq!(stack.gateway.service.metadata.name.as_deref(), Some("otlp"));
//!
//! let source = Source { profile: "example".into(), origin: "code".into() };
//! let rendered = render_profile(&profile, &source)?;
//! assert!(rendered.files.contains_key("otlp-service.yaml"));
//! assert!(rendered.files["otel-collector-configmap.yaml"].contains("otlp_grpc/jaeger:"));
//! # Ok::<(), tracestack::Error>(())
//! ```
//!
//! Read typed objects: every object of a stack is a k8s-openapi value (or a typed custom
//! resource), so a program inspects or changes fields, not text:
//!
//! ```
//! use tracestack::{Object, Profile, Stack};
//!
//! let stack = Stack::build(&Profile::default())?;
//! let gateway = &stack.gateway.deployment; // k8s_openapi::api::apps::v1::Deployment
//! let pod = gateway.spec.as_ref().and_then(|s| s.template.spec.as_ref()).expect("a pod spec");
//! assert_eq!(pod.containers[0].name, "otel-collector");
//! let kinds: Vec<&str> = stack.into_objects().iter().map(Object::kind).collect();
//! assert!(kinds.contains(&"NetworkPolicy"));
//! # Ok::<(), tracestack::Error>(())
//! ```
//!
//! Add an object of your own to the rendered set: it is checked with the stack's objects (here, a
//! ConfigMap in the stack's namespace) and gets its own file and kustomization entry:
//!
//! ```
//! use std::collections::BTreeMap;
//!
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
//! use tracestack::{Object, Profile, Source, Stack, check, render_parts};
//!
//! let stack = Stack::build(&Profile::default())?;
//! let (configs, external) = (stack.configs(), stack.external.clone());
//! let mut parts = stack.into_parts()?;
//! parts.bundles[0].objects.push(Object::from(ConfigMap {
//!     metadata: ObjectMeta {
//!         name: Some("team-contacts".into()),
//!         namespace: Some("observability".into()),
//!         ..ObjectMeta::default()
//!     },
//!     data: Some(BTreeMap::from([("on-call".into(), "#tracing".into())])),
//!     ..ConfigMap::default()
//! }));
//! check::check(parts.bundles.iter().flat_map(|b| &b.objects), &configs, &external)?;
//! let rendered = render_parts(parts, &Source { profile: "example".into(), origin: "code".into() })?;
//! assert!(rendered.files.contains_key("team-contacts-configmap.yaml"));
//! assert!(rendered.files["kustomization.yaml"].contains("team-contacts-configmap.yaml"));
//! # Ok::<(), tracestack::Error>(())
//! ```
//!
//! Load a layered profile and ask where a value came from, or write a profile back as YAML:
//!
//! ```no_run
//! use std::path::PathBuf;
//!
//! let layered = tracestack::load_layered(&[PathBuf::from("profiles/eu-west.yaml")], &["collector.replicas=3".into()])?;
//! println!("{}", layered.explain("collector.replicas").map_err(std::io::Error::other)?);
//! let yaml = tracestack::format::yaml::to_string(&layered.profile)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
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
pub use config::k8s::{CustomKind, CustomResource, Object};
pub use error::Error;
pub use model::layers::Layered;
pub use model::load::{LoadError, load_file, load_layered};
pub use model::pods::PodExtras;
pub use model::profile::Profile;
pub use render::{Rendered, Source, render_parts, render_profile, render_stack};
pub use stack::Stack;
