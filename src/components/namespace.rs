//! The stack's namespace.

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::k8s;

/// The Namespace the stack lives in, labelled as part of tracestack.
#[must_use]
pub fn namespace(name: &str) -> Namespace {
    let mut labels = std::collections::BTreeMap::new();
    labels.insert("app.kubernetes.io/part-of".to_owned(), k8s::PART_OF.to_owned());
    labels.insert("app.kubernetes.io/managed-by".to_owned(), k8s::PART_OF.to_owned());
    Namespace {
        metadata: ObjectMeta { name: Some(name.to_owned()), labels: Some(labels), ..ObjectMeta::default() },
        ..Namespace::default()
    }
}
