//! Gateway API kinds as typed custom resources: the `HTTPRoute` (`gateway.networking.k8s.io/v1`,
//! Gateway API v1.0 and later) that publishes the Jaeger UI through a Gateway the cluster already
//! runs.

use serde::Serialize;

use crate::config::k8s::CustomKind;

/// `apiVersion` of the standard-channel routes.
pub const API_VERSION: &str = "gateway.networking.k8s.io/v1";

/// An `HTTPRoute`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HttpRoute {
    /// `spec`.
    pub spec: HttpRouteSpec,
}

impl CustomKind for HttpRoute {
    const API_VERSION: &'static str = API_VERSION;
    const KIND: &'static str = "HTTPRoute";
}

/// `HTTPRoute.spec`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteSpec {
    /// The Gateways (listeners) the route attaches to.
    pub parent_refs: Vec<ParentRef>,
    /// Host names the route answers; none: every host of the listener.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    /// The rules.
    pub rules: Vec<HttpRouteRule>,
}

/// A Gateway the route attaches to (`group` and `kind` default to `gateway.networking.k8s.io`
/// and `Gateway`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentRef {
    /// The Gateway's name.
    pub name: String,
    /// Its namespace; the route's when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// One listener of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
}

/// One rule: requests matching `matches` go to `backend_refs`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteRule {
    /// The requests matched.
    pub matches: Vec<HttpRouteMatch>,
    /// Where they go.
    pub backend_refs: Vec<BackendRef>,
}

/// A request match on the path.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HttpRouteMatch {
    /// The path match.
    pub path: PathMatch,
}

/// A path prefix.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathMatch {
    /// `PathPrefix`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The prefix.
    pub value: String,
}

/// A Service port in the route's namespace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BackendRef {
    /// The Service.
    pub name: String,
    /// Its port (a number: Gateway API names no ports).
    pub port: u16,
}
