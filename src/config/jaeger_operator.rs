//! The Jaeger Operator's `jaegertracing.io/v1` `Jaeger` (Jaeger v1, end of life 2025-12-31) as a
//! typed custom resource, and what the operator creates from one ([`managed`]).
//!
//! [`managed`] follows jaegertracing/jaeger-operator at commit
//! 87d8ae049d910a65015a14c409dbdd1a8e561099 (operator 1.65.0, the CRD in `../shared/crds`):
//! `pkg/util/util.go` `Labels` (`app: jaeger`, `app.kubernetes.io/{name,instance,component,
//! part-of,managed-by}`), `pkg/service/collector.go` (`<name>-collector`, `-collector-headless`,
//! OTLP as `grpc-otlp` 4317 and `http-otlp` 4318 unless turned off), `pkg/service/query.go`
//! (`<name>-query`, `http-query` 16686, `grpc-query` 16685, `admin-http` 16687) and the
//! Deployments of `pkg/deployment/{collector,query}.go`.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Affinity, Container, ContainerPort, LocalObjectReference, PodSecurityContext, PodSpec, PodTemplateSpec,
    ResourceRequirements, SecurityContext, Service, ServicePort, ServiceSpec, Toleration, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::k8s::{CustomKind, Object};

/// `apiVersion` of the resource.
pub const API_VERSION: &str = "jaegertracing.io/v1";
/// `kind` of the resource.
pub const KIND: &str = "Jaeger";

/// A `Jaeger`: everything but `apiVersion`, `kind` and `metadata`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Jaeger {
    /// The spec.
    pub spec: JaegerSpec,
}

impl CustomKind for Jaeger {
    const API_VERSION: &'static str = API_VERSION;
    const KIND: &'static str = KIND;
}

/// The fields of `spec` tracestack sets (the CRD's names).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JaegerSpec {
    /// `production`: separate collector and query Deployments on external storage.
    pub strategy: String,
    /// Storage.
    pub storage: Storage,
    /// The collector Deployment.
    pub collector: Role,
    /// The query Deployment.
    pub query: Role,
    /// Pod security context of every Deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<PodSecurityContext>,
    /// Container security context of every Deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_security_context: Option<SecurityContext>,
    /// Volumes of every Deployment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    /// Their mounts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
}

/// `spec.storage`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Storage {
    /// `elasticsearch`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Flags without their `--`, nested by `.`: `{es: {server-urls: …}}`.
    pub options: Value,
    /// A Secret every key of which becomes an environment variable (`ES_USERNAME`, `ES_PASSWORD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// The daily index cleaner CronJob.
    pub es_index_cleaner: IndexCleaner,
}

/// `spec.storage.esIndexCleaner`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexCleaner {
    /// Whether the operator creates it.
    pub enabled: bool,
    /// Days of indices kept.
    pub number_of_days: u32,
    /// Cron schedule.
    pub schedule: String,
    /// PriorityClass of the CronJob's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    /// What the profile adds to the CronJob's pods (no `nodeSelector`: the CRD has none here).
    #[serde(flatten)]
    pub pod: PodFields,
}

/// The pod fields the profile's pod additions map to, shared by `spec.collector`, `spec.query` and
/// `spec.storage.esIndexCleaner` (the CRD's names).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodFields {
    /// Pod annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Pod labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Taints the pods tolerate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// Scheduling constraints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// Node labels the pods require (not on `esIndexCleaner`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// Secrets the images are pulled with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<LocalObjectReference>,
    /// Further volumes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    /// Their mounts in the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
}

/// `spec.collector` / `spec.query`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    /// Pods, without autoscaling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Whether the operator creates an HPA (collector only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<bool>,
    /// HPA lower bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<i32>,
    /// HPA upper bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replicas: Option<i32>,
    /// Container resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// PriorityClass of the pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    /// What the profile adds to the pods.
    #[serde(flatten)]
    pub pod: PodFields,
}

/// `util.Labels`: the labels, also the selector, of an object the operator makes.
#[must_use]
pub fn labels(instance: &str, object: &str, component: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app".to_owned(), "jaeger".to_owned()),
        ("app.kubernetes.io/component".to_owned(), component.to_owned()),
        ("app.kubernetes.io/instance".to_owned(), instance.to_owned()),
        ("app.kubernetes.io/managed-by".to_owned(), "jaeger-operator".to_owned()),
        ("app.kubernetes.io/name".to_owned(), object.to_owned()),
        ("app.kubernetes.io/part-of".to_owned(), "jaeger".to_owned()),
    ])
}

/// `<name>-collector`.
#[must_use]
pub fn collector_service(name: &str) -> String {
    format!("{name}-collector")
}

/// `<name>-collector-headless`.
#[must_use]
pub fn collector_headless_service(name: &str) -> String {
    format!("{name}-collector-headless")
}

/// `<name>-query`.
#[must_use]
pub fn query_service(name: &str) -> String {
    format!("{name}-query")
}

/// The labels of the index cleaner's pods (`pkg/cronjob/es_index_cleaner.go`).
#[must_use]
pub fn index_cleaner_selector(name: &str) -> BTreeMap<String, String> {
    let mut selector = labels(name, &format!("{name}-es-index-cleaner"), "cronjob-es-index-cleaner");
    selector.remove("app.kubernetes.io/name");
    selector
}

/// What the operator creates from a `Jaeger`, as far as other objects refer to it.
#[derive(Clone, Debug, PartialEq)]
pub struct Managed {
    /// `<name>-collector`.
    pub collector: Deployment,
    /// `<name>-query`.
    pub query: Deployment,
    /// `<name>-collector`, `<name>-collector-headless`, `<name>-query`.
    pub services: Vec<Service>,
    /// `<name>-es-index-cleaner`, when enabled.
    pub index_cleaner: Option<CronJob>,
}

impl Managed {
    /// Every object.
    #[must_use]
    pub fn into_objects(self) -> Vec<Object> {
        let mut objects = vec![Object::from(self.collector), Object::from(self.query)];
        objects.extend(self.services.into_iter().map(Object::from));
        objects.extend(self.index_cleaner.map(Object::from));
        objects
    }
}

fn deployment(
    ns: &str,
    object: &str,
    labels: &BTreeMap<String, String>,
    container: &str,
    ports: &[(&str, i32)],
    role: &Role,
) -> Deployment {
    let meta = ObjectMeta {
        name: Some(object.to_owned()),
        namespace: Some(ns.to_owned()),
        labels: Some(labels.clone()),
        ..ObjectMeta::default()
    };
    Deployment {
        metadata: meta.clone(),
        spec: Some(DeploymentSpec {
            replicas: role.replicas.or(role.min_replicas),
            selector: LabelSelector { match_labels: Some(labels.clone()), match_expressions: None },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(labels.clone()), ..ObjectMeta::default() }),
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: container.to_owned(),
                        ports: Some(
                            ports
                                .iter()
                                .map(|(name, port)| ContainerPort {
                                    name: Some((*name).to_owned()),
                                    container_port: *port,
                                    ..ContainerPort::default()
                                })
                                .collect(),
                        ),
                        resources: role.resources.clone(),
                        ..Container::default()
                    }],
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

fn service(
    ns: &str,
    name: &str,
    selector: &BTreeMap<String, String>,
    ports: &[(&str, i32)],
    headless: bool,
) -> Service {
    Service {
        metadata: ObjectMeta { name: Some(name.to_owned()), namespace: Some(ns.to_owned()), ..ObjectMeta::default() },
        spec: Some(ServiceSpec {
            cluster_ip: headless.then(|| "None".to_owned()),
            selector: Some(selector.clone()),
            ports: Some(
                ports
                    .iter()
                    .map(|(name, port)| ServicePort {
                        name: Some((*name).to_owned()),
                        port: *port,
                        target_port: Some(IntOrString::Int(*port)),
                        ..ServicePort::default()
                    })
                    .collect(),
            ),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// What the operator creates from a `production` `Jaeger`.
///
/// # Errors
/// When the resource has no name or namespace, or another strategy.
pub fn managed(meta: &ObjectMeta, spec: &JaegerSpec) -> Result<Managed, String> {
    let (Some(name), Some(ns)) = (meta.name.as_deref(), meta.namespace.as_deref()) else {
        return Err("has no metadata.name or metadata.namespace".into());
    };
    if spec.strategy != "production" {
        return Err(format!("strategy `{}`: only `production` is modelled", spec.strategy));
    }
    let collector_name = collector_service(name);
    let query_name = query_service(name);
    let collector_labels = labels(name, &collector_name, "collector");
    let query_labels = labels(name, &query_name, "query");
    // The collector container declares no OTLP ports; its Service forwards 4317 and 4318 by number.
    let collector_container =
        [("zipkin", 9411), ("c-tchan-trft", 14267), ("c-binary-trft", 14268), ("admin-http", 14269), ("grpc", 14250)];
    let collector_ports = [
        ("http-zipkin", 9411),
        ("grpc-jaeger", 14250),
        ("http-c-tchan-trft", 14267),
        ("http-c-binary-trft", 14268),
        ("admin-http", 14269),
        ("grpc-otlp", 4317),
        ("http-otlp", 4318),
    ];
    let query_ports = [("http-query", 16686), ("grpc-query", 16685), ("admin-http", 16687)];
    Ok(Managed {
        collector: deployment(
            ns,
            &collector_name,
            &collector_labels,
            "jaeger-collector",
            &collector_container,
            &spec.collector,
        ),
        query: deployment(
            ns,
            &query_name,
            &query_labels,
            "jaeger-query",
            &[("query", 16686), ("grpc-query", 16685), ("admin-http", 16687)],
            &spec.query,
        ),
        index_cleaner: spec.storage.es_index_cleaner.enabled.then(|| {
            let cleaner = format!("{name}-es-index-cleaner");
            let labels = labels(name, &cleaner, "cronjob-es-index-cleaner");
            CronJob {
                metadata: ObjectMeta {
                    name: Some(cleaner.clone()),
                    namespace: Some(ns.to_owned()),
                    labels: Some(labels.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(CronJobSpec {
                    schedule: spec.storage.es_index_cleaner.schedule.clone(),
                    job_template: JobTemplateSpec {
                        spec: Some(JobSpec {
                            template: PodTemplateSpec {
                                metadata: Some(ObjectMeta { labels: Some(labels), ..ObjectMeta::default() }),
                                spec: Some(PodSpec {
                                    containers: vec![Container { name: cleaner, ..Container::default() }],
                                    ..PodSpec::default()
                                }),
                            },
                            ..JobSpec::default()
                        }),
                        ..JobTemplateSpec::default()
                    },
                    ..CronJobSpec::default()
                }),
                ..CronJob::default()
            }
        }),
        services: vec![
            service(ns, &collector_name, &collector_labels, &collector_ports, false),
            service(ns, &collector_headless_service(name), &collector_labels, &collector_ports, true),
            service(ns, &query_name, &query_labels, &query_ports, false),
        ],
    })
}
