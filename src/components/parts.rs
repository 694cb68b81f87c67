//! What a stack hands to rendering: bundles of objects, each applied through one
//! `kustomization.yaml`, and documents no kustomization applies; and the file each object lands in.

use crate::config::k8s::Object;

/// Objects applied together through one `kustomization.yaml` in `dir` (`""` is the profile's own
/// directory; e.g. `smoke-test` for a separately applied set).
#[derive(Clone, Debug, PartialEq)]
pub struct Bundle {
    /// Directory relative to the profile's output directory, `/`-separated, `""` for the root.
    pub dir: String,
    /// The objects, one file each.
    pub objects: Vec<Object>,
    /// The ApplySet the bundle is applied and pruned as (every namespaced object must be in its
    /// namespace); `None` for objects applied without pruning.
    pub applyset: Option<ApplySet>,
}

/// An ApplySet (`kubectl apply --server-side --applyset=<name> --prune -n <namespace>`): kubectl
/// keeps the parent Secret `<namespace>/<name>` listing what the bundle applied, and prunes what a
/// later render no longer holds. Every namespaced object of the bundle is in `namespace`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplySet {
    /// The parent Secret's name.
    pub name: String,
    /// The parent's namespace.
    pub namespace: String,
}

impl ApplySet {
    /// The field manager every documented `kubectl apply --server-side` uses.
    pub const FIELD_MANAGER: &str = "tracestack";
    /// The stack's own objects (the profile directory).
    pub const ROOT: &str = "tracestack";
    /// The smoke-test Job and what it needs.
    pub const SMOKE_TEST: &str = "tracestack-smoke-test";
    /// An application namespace's `Instrumentation`.
    pub const INSTRUMENTATION: &str = "tracestack-instrumentation";
    /// The mesh-wide Istio `Telemetry`.
    pub const MESH_TELEMETRY: &str = "tracestack-mesh-telemetry";

    /// `name` in `namespace`.
    #[must_use]
    pub fn new(name: &str, namespace: &str) -> Self {
        Self { name: name.to_owned(), namespace: namespace.to_owned() }
    }

    /// The ID kubectl labels members with (`applyset.kubernetes.io/part-of`).
    #[must_use]
    pub fn id(&self) -> String {
        crate::config::k8s::applyset_id(&self.name, &self.namespace)
    }
}

/// What an extra document holds.
#[derive(Clone, Debug, PartialEq)]
pub enum DocumentBody {
    /// A YAML document (an operator overlay, Helm values, a kustomize patch …): written with the
    /// same writer and key order as objects.
    Yaml(serde_json::Value),
    /// Prose (Markdown), produced by a template from the same model as the manifests.
    Markdown(String),
    /// Plain text whose comments start with `#` (`.gitignore`): written after the YAML header.
    Text(String),
}

/// A file that no kustomization applies: install-time configuration for other tools, patches for
/// objects the stack does not own, documentation.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// Path relative to the profile's output directory.
    pub path: String,
    /// Contents.
    pub body: DocumentBody,
}

/// Everything a stack renders: bundles of objects and extra documents.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Parts {
    /// Kustomize-applied object sets; the first is the profile root.
    pub bundles: Vec<Bundle>,
    /// Other files.
    pub documents: Vec<Document>,
}

/// The file an object is written to: `<name>-<kind>.yaml`, e.g. `otlp-service.yaml`.
#[must_use]
pub fn file_name(object: &Object) -> String {
    file_name_of(object.name(), object.kind())
}

/// The file an object of `kind` named `name` is written to (see [`file_name`]).
#[must_use]
pub fn file_name_of(name: &str, kind: &str) -> String {
    let mut file = String::with_capacity(name.len() + kind.len() + 6);
    file.push_str(name);
    file.push('-');
    file.extend(kind.chars().map(|c| c.to_ascii_lowercase()));
    file.push_str(".yaml");
    file
}
