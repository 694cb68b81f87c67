//! Kustomize Components (`kind: Component`): typed `kustomization.yaml` files that carry patches
//! for objects a stack does not own, to be listed under `components:` by the kustomization that
//! owns them.

use serde::Serialize;

/// A kustomize Component's `kustomization.yaml`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    /// `kustomize.config.k8s.io/v1alpha1`.
    pub api_version: &'static str,
    /// `Component`.
    pub kind: &'static str,
    /// Patches applied to the including kustomization's objects.
    pub patches: Vec<Patch>,
}

impl Component {
    /// A Component applying `patches`.
    #[must_use]
    pub fn new(patches: Vec<Patch>) -> Self {
        Self { api_version: "kustomize.config.k8s.io/v1alpha1", kind: "Component", patches }
    }
}

/// One patch file, relative to the Component's directory.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Patch {
    /// The patch file (a strategic-merge patch: a partial object).
    pub path: String,
    /// The objects it applies to; without it, kustomize matches the patch's own kind, name and
    /// namespace and fails when nothing matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
}

/// A kustomize target selector; every field set must match (name and namespace as regular
/// expressions matching the whole value).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Target {
    /// API version of the kind, e.g. `v1`.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Object name.
    pub name: String,
}
