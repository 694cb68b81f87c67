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
