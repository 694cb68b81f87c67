//! The stack's namespace, labelled for the Pod Security Standard *restricted* profile.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::config::k8s;

/// Labels of objects that belong to the whole stack rather than one app.
#[must_use]
pub fn stack_labels() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/managed-by".to_owned(), k8s::PART_OF.to_owned()),
        ("app.kubernetes.io/part-of".to_owned(), k8s::PART_OF.to_owned()),
    ])
}

/// The Namespace the stack lives in. Pod Security admission enforces, audits and warns at
/// *restricted* (every pod of the stack meets it), at the version of the cluster.
#[must_use]
pub fn namespace(name: &str) -> Namespace {
    let mut labels = stack_labels();
    for mode in ["enforce", "audit", "warn"] {
        labels.insert(format!("pod-security.kubernetes.io/{mode}"), "restricted".to_owned());
        labels.insert(format!("pod-security.kubernetes.io/{mode}-version"), "latest".to_owned());
    }
    Namespace {
        metadata: ObjectMeta { name: Some(name.to_owned()), labels: Some(labels), ..ObjectMeta::default() },
        ..Namespace::default()
    }
}
