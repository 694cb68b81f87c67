//! The OpenTelemetry Operator's `opentelemetry.io/v1beta1` `OpenTelemetryCollector` as a typed
//! custom resource, and what the operator creates from one ([`managed`]).
//!
//! [`managed`] follows the operator's source at v0.158.0 (open-telemetry/opentelemetry-operator
//! commit be8944414a876f17fcdeb5a59b86b8866fb5c88e, the version of the CRD in `../shared/crds`):
//! names from `internal/naming/main.go` (`<name>-collector` for the Deployment, Service,
//! PodDisruptionBudget and ServiceAccount, `<name>-collector-headless`, `-monitoring`,
//! `-extension`), labels from `internal/manifests/manifestutils/labels.go`, the container from
//! `internal/manifests/collector/container.go` (`otc-container`, `--config=/conf/collector.yaml`,
//! the ConfigMap volume `otc-internal`), ports inferred from the config by the parsers in
//! `internal/components` (only for the component types tracestack emits) with `spec.ports`
//! taking precedence by number, and probes from the `health_check` extension.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    Affinity, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EnvFromSource, EnvVar, EnvVarSource,
    HTTPGetAction, KeyToPath, ObjectFieldSelector, PodSecurityContext, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, SecurityContext, Service, ServiceAccount, ServicePort, ServiceSpec, Toleration,
    TopologySpreadConstraint, Volume, VolumeMount,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::k8s::{CustomKind, Object};

/// `apiVersion` of the resource.
pub const API_VERSION: &str = "opentelemetry.io/v1beta1";
/// `kind` of the resource.
pub const KIND: &str = "OpenTelemetryCollector";
/// The operator's name for its collector container (`naming.Container`).
pub const CONTAINER: &str = "otc-container";
/// The ConfigMap key and file name the operator writes the config to (`CollectorConfigMapEntry`).
pub const CONFIG_FILE: &str = "collector.yaml";
/// Where the operator mounts the config (`container.go`).
pub const CONFIG_DIR: &str = "/conf";
/// `app.kubernetes.io/component` of every pod and object the operator makes for a collector.
pub const COMPONENT: &str = "opentelemetry-collector";
/// The port of the collector's own metrics when the config names none (`container.go`).
const DEFAULT_METRICS_PORT: i32 = 8888;

/// An `OpenTelemetryCollector`: everything but `apiVersion`, `kind` and `metadata`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpenTelemetryCollector {
    /// The spec.
    pub spec: CollectorSpec,
}

impl CustomKind for OpenTelemetryCollector {
    const API_VERSION: &'static str = API_VERSION;
    const KIND: &'static str = KIND;
}

/// The fields of `spec` tracestack sets (the CRD's names).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectorSpec {
    /// `deployment`.
    pub mode: String,
    /// `none`: the operator never rewrites a resource a GitOps repository owns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_strategy: Option<String>,
    /// Full image reference.
    pub image: String,
    /// Pods, when no autoscaler owns the count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// The HPA the operator creates (scaling the resource itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaler: Option<Autoscaler>,
    /// The PodDisruptionBudget (the operator makes one with `maxUnavailable: 1` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_disruption_budget: Option<DisruptionBudget>,
    /// Container resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Container environment (the operator appends `POD_NAME`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    /// Ports the operator adds to the container and the base Service before the ones it infers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortSpec>,
    /// Container security context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<SecurityContext>,
    /// Pod security context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_security_context: Option<PodSecurityContext>,
    /// The ServiceAccount the pods run as; the operator makes `<name>-collector` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// PriorityClass of the pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    /// Seconds a terminating pod gets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_grace_period_seconds: Option<i64>,
    /// Spread over zones and nodes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
    /// Rollout strategy of the Deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_update_strategy: Option<DeploymentStrategy>,
    /// Containers that run first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<Container>,
    /// Further volumes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    /// Where the collector container mounts them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    /// Timing of the liveness probe the operator derives from `health_check`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<ProbeSettings>,
    /// Timing of the readiness probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<ProbeSettings>,
    /// Timing of the startup probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_probe: Option<ProbeSettings>,
    /// Annotations on the pods.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pod_annotations: BTreeMap<String, String>,
    /// Taints the pods tolerate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// Node labels the pods require.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// Scheduling constraints of the pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// Secrets and ConfigMaps whose keys become environment variables of the collector container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<EnvFromSource>,
    /// The collector config, the typed config serialised.
    pub config: Value,
}

/// `spec.autoscaler`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Autoscaler {
    /// Lower bound.
    pub min_replicas: i32,
    /// Upper bound.
    pub max_replicas: i32,
    /// CPU utilisation target, percent.
    #[serde(rename = "targetCPUUtilization")]
    pub target_cpu_utilization: i32,
    /// Memory utilisation target, percent.
    pub target_memory_utilization: i32,
    /// Scale-up and scale-down behaviour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerBehavior>,
}

/// `spec.podDisruptionBudget`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DisruptionBudget {
    /// Pods that may be down at once.
    pub max_unavailable: IntOrString,
}

/// One entry of `spec.ports`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortSpec {
    /// Port name (container and Service).
    pub name: String,
    /// Port number.
    pub port: i32,
    /// `grpc`, `http`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
}

/// `spec.{liveness,readiness,startup}Probe`: timing only; the handler comes from the config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeSettings {
    /// Seconds between probes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_seconds: Option<i32>,
    /// Failures before the probe fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<i32>,
}

impl ProbeSettings {
    /// The timing of a probe.
    #[must_use]
    pub fn of(probe: &Probe) -> Self {
        Self { period_seconds: probe.period_seconds, failure_threshold: probe.failure_threshold }
    }
}

/// `naming.Collector`, `naming.Service`, `naming.PodDisruptionBudget`, the default ServiceAccount:
/// `<name>-collector`.
#[must_use]
pub fn collector_name(name: &str) -> String {
    truncate(&format!("{name}-collector"))
}

/// `naming.HeadlessService`: `<name>-collector-headless`.
#[must_use]
pub fn headless_service(name: &str) -> String {
    truncate(&format!("{}-headless", collector_name(name)))
}

/// `naming.MonitoringService`: `<name>-collector-monitoring`.
#[must_use]
pub fn monitoring_service(name: &str) -> String {
    truncate(&format!("{}-monitoring", collector_name(name)))
}

/// `naming.ExtensionService`: `<name>-collector-extension`.
#[must_use]
pub fn extension_service(name: &str) -> String {
    truncate(&format!("{}-extension", collector_name(name)))
}

/// `naming.Truncate(…, 63)` followed by `DNSName`'s trimming of trailing `-`.
fn truncate(name: &str) -> String {
    name.chars().take(63).collect::<String>().trim_end_matches('-').to_owned()
}

/// `manifestutils.SelectorLabels`: what selects the operator's pods.
#[must_use]
pub fn selector_labels(namespace: &str, name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/component".to_owned(), COMPONENT.to_owned()),
        ("app.kubernetes.io/instance".to_owned(), truncate(&format!("{namespace}.{name}"))),
        ("app.kubernetes.io/managed-by".to_owned(), "opentelemetry-operator".to_owned()),
        ("app.kubernetes.io/part-of".to_owned(), "opentelemetry".to_owned()),
    ])
}

/// `manifestutils.Labels`: the resource's own labels, overridden by the selector labels, the
/// version from the image tag, and `app.kubernetes.io/name` = `object_name` unless the resource
/// sets one.
fn labels(meta: &ObjectMeta, namespace: &str, object_name: &str, image: &str) -> BTreeMap<String, String> {
    let mut labels = meta.labels.clone().unwrap_or_default();
    labels.extend(selector_labels(namespace, meta.name.as_deref().unwrap_or_default()));
    let parts: Vec<&str> = image.split(':').collect();
    let version = match parts.len() {
        3 => parts.iter().find_map(|p| p.strip_suffix("@sha256")).unwrap_or("latest").to_owned(),
        2 => parts[1].chars().take(63).collect(),
        _ => "latest".to_owned(),
    };
    labels.insert("app.kubernetes.io/version".into(), version);
    labels.entry("app.kubernetes.io/name".into()).or_insert_with(|| object_name.to_owned());
    labels
}

/// A port the operator infers from a component of the config.
#[derive(Clone, Debug, PartialEq)]
struct Inferred {
    name: String,
    port: i32,
    app_protocol: Option<&'static str>,
}

/// `naming.PortName`: the name with `/` and `_` as `-`, or `port-<n>` when longer than 15.
fn port_name(name: &str, port: i32) -> String {
    let candidate = name.replace(['/', '_'], "-");
    let valid = !candidate.is_empty()
        && candidate.len() <= 15
        && candidate.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && candidate.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && candidate.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric());
    if valid { candidate } else { format!("port-{port}") }
}

fn endpoint_port(config: &Value, default: i32) -> i32 {
    config
        .get("endpoint")
        .and_then(Value::as_str)
        .and_then(|e| e.rsplit_once(':'))
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(default)
}

/// The ports of the components the pipelines and `service.extensions` use, by kind, as the
/// operator's parsers infer them (`otlp`, `zipkin` receivers; `prometheus` exporter;
/// `health_check`, `jaeger_query` extensions; other types open no port).
fn inferred_ports(config: &Value, kind: &str) -> Vec<Inferred> {
    let mut ids: Vec<&str> = Vec::new();
    if kind == "extensions" {
        ids.extend(config["service"]["extensions"].as_array().into_iter().flatten().filter_map(Value::as_str));
    } else {
        for pipeline in config["service"]["pipelines"].as_object().into_iter().flat_map(|p| p.values()) {
            for id in pipeline[kind].as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
    }
    ids.sort_unstable();
    let mut ports = Vec::new();
    for id in ids {
        let component = &config[kind][id];
        let type_name = id.split('/').next().unwrap_or(id);
        match (kind, type_name) {
            ("receivers", "otlp") => {
                for (protocol, default, app) in [("grpc", 4317, "grpc"), ("http", 4318, "http")] {
                    if let Some(p) = component["protocols"].get(protocol).filter(|p| !p.is_null()) {
                        let port = endpoint_port(p, default);
                        ports.push(Inferred {
                            name: port_name(&format!("{id}-{protocol}"), port),
                            port,
                            app_protocol: Some(app),
                        });
                    }
                }
            }
            ("receivers", "zipkin") => {
                let port = endpoint_port(component, 9411);
                ports.push(Inferred { name: port_name(id, port), port, app_protocol: Some("http") });
            }
            ("exporters", "prometheus") => {
                let port = endpoint_port(component, 8888);
                ports.push(Inferred { name: port_name(id, port), port, app_protocol: None });
            }
            ("extensions", "health_check") => {
                let port = endpoint_port(component, 13133);
                ports.push(Inferred { name: port_name(id, port), port, app_protocol: None });
            }
            ("extensions", "jaeger_query") => {
                let http = endpoint_port(&component["http"], 16686);
                ports.push(Inferred { name: port_name(id, http), port: http, app_protocol: None });
                if let Some(grpc) = component["grpc"].get("endpoint").map(|_| endpoint_port(&component["grpc"], 0))
                    && grpc != http
                    && grpc != 0
                {
                    ports.push(Inferred { name: port_name(&format!("{id}-2"), grpc), port: grpc, app_protocol: None });
                }
            }
            _ => {}
        }
    }
    ports
}

/// `filterPort`: `spec.ports` first; an inferred port whose number is taken is dropped, one whose
/// name is taken becomes `port-<n>`.
fn merge(spec: &[PortSpec], inferred: Vec<Inferred>) -> Vec<Inferred> {
    let mut ports: Vec<Inferred> = spec
        .iter()
        .map(|p| Inferred {
            name: p.name.clone(),
            port: p.port,
            app_protocol: match p.app_protocol.as_deref() {
                Some("grpc") => Some("grpc"),
                Some("http") => Some("http"),
                _ => None,
            },
        })
        .collect();
    for mut candidate in inferred {
        if spec.iter().any(|p| p.port == candidate.port) {
            continue;
        }
        if spec.iter().any(|p| p.name == candidate.name) {
            candidate.name = format!("port-{}", candidate.port);
            if spec.iter().any(|p| p.name == candidate.name) {
                continue;
            }
        }
        ports.push(candidate);
    }
    ports
}

/// The port of the collector's own metrics: the pull reader's port, else 8888.
fn metrics_port(config: &Value) -> i32 {
    config["service"]["telemetry"]["metrics"]["readers"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|r| r["pull"]["exporter"]["prometheus"]["port"].as_i64())
        .and_then(|p| i32::try_from(p).ok())
        .unwrap_or(DEFAULT_METRICS_PORT)
}

/// What the operator creates from one resource, the objects other objects refer to.
#[derive(Clone, Debug, PartialEq)]
pub struct Managed {
    /// `<name>-collector`.
    pub deployment: Deployment,
    /// The config as the operator writes it; its name ends in a hash of the config
    /// (`<name>-collector-<8 hex digits>`), which nothing outside the operator refers to.
    pub config_map: ConfigMap,
    /// `<name>-collector` (with receiver or exporter ports) and `-headless`.
    pub services: Vec<Service>,
    /// `<name>-collector-monitoring`.
    pub monitoring_service: Service,
    /// `<name>-collector-extension`, when an extension opens a port.
    pub extension_service: Option<Service>,
    /// `<name>-collector`, when the resource names no ServiceAccount.
    pub service_account: Option<ServiceAccount>,
    /// `<name>-collector`.
    pub disruption_budget: PodDisruptionBudget,
}

impl Managed {
    /// Every object, Deployment first.
    #[must_use]
    pub fn into_objects(self) -> Vec<Object> {
        let mut objects = vec![Object::from(self.deployment), Object::from(self.config_map)];
        objects.extend(self.services.into_iter().map(Object::from));
        objects.push(self.monitoring_service.into());
        objects.extend(self.extension_service.map(Object::from));
        objects.extend(self.service_account.map(Object::from));
        objects.push(self.disruption_budget.into());
        objects
    }
}

fn service(
    name: String,
    namespace: &str,
    labels: BTreeMap<String, String>,
    selector: &BTreeMap<String, String>,
    ports: &[Inferred],
    headless: bool,
) -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(namespace.to_owned()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        spec: Some(ServiceSpec {
            cluster_ip: headless.then(|| "None".to_owned()),
            selector: Some(selector.clone()),
            ports: Some(
                ports
                    .iter()
                    .map(|p| ServicePort {
                        name: Some(p.name.clone()),
                        port: p.port,
                        target_port: Some(IntOrString::Int(p.port)),
                        app_protocol: p.app_protocol.map(str::to_owned),
                        ..ServicePort::default()
                    })
                    .collect(),
            ),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// What the operator creates from an `OpenTelemetryCollector` in `deployment` mode, as far as
/// other objects refer to it.
///
/// # Errors
/// When the resource has no name or namespace, or is not in `deployment` mode.
pub fn managed(meta: &ObjectMeta, spec: &CollectorSpec) -> Result<Managed, String> {
    let (Some(name), Some(ns)) = (meta.name.as_deref(), meta.namespace.as_deref()) else {
        return Err("has no metadata.name or metadata.namespace".into());
    };
    if spec.mode != "deployment" {
        return Err(format!("mode `{}`: only `deployment` is modelled", spec.mode));
    }
    let object = collector_name(name);
    let labels = labels(meta, ns, &object, &spec.image);
    let selector = selector_labels(ns, name);
    let config = &spec.config;
    let mut service_ports = inferred_ports(config, "receivers");
    service_ports.extend(inferred_ports(config, "exporters"));
    let extension_ports = inferred_ports(config, "extensions");
    let base_ports = merge(&spec.ports, service_ports.clone());
    let metrics = metrics_port(config);
    let mut container_inferred = service_ports;
    container_inferred.extend(extension_ports.clone());
    container_inferred.push(Inferred { name: "metrics".into(), port: metrics, app_protocol: None });
    let mut container_ports = merge(&spec.ports, container_inferred);
    container_ports.sort_by(|a, b| a.name.cmp(&b.name));

    let text = serde_json::to_string(config).map_err(|e| e.to_string())?;
    let hash = crate::config::k8s::content_hash(&[&text]);
    let config_map_name = truncate(&format!("{object}-{}", &hash[..8]));
    let config_map = ConfigMap {
        metadata: ObjectMeta {
            name: Some(config_map_name.clone()),
            namespace: Some(ns.to_owned()),
            labels: Some(labels.clone()),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(CONFIG_FILE.to_owned(), text)])),
        ..ConfigMap::default()
    };
    let health = inferred_ports(config, "extensions").into_iter().find(|p| p.name.starts_with("health"));
    let probe = |settings: &Option<ProbeSettings>| {
        health.as_ref().filter(|_| config["extensions"].get("health_check").is_some()).map(|h| {
            let path = config["extensions"]["health_check"]["path"].as_str().unwrap_or("/").to_owned();
            Probe {
                http_get: Some(HTTPGetAction {
                    path: Some(path),
                    port: IntOrString::Int(h.port),
                    ..HTTPGetAction::default()
                }),
                period_seconds: settings.as_ref().and_then(|s| s.period_seconds),
                failure_threshold: settings.as_ref().and_then(|s| s.failure_threshold),
                ..Probe::default()
            }
        })
    };
    let mut env = spec.env.clone();
    if !env.iter().any(|e| e.name == "POD_NAME") {
        env.push(EnvVar {
            name: "POD_NAME".into(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector { field_path: "metadata.name".into(), api_version: None }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        });
    }
    let mut mounts =
        vec![VolumeMount { name: "otc-internal".into(), mount_path: CONFIG_DIR.into(), ..VolumeMount::default() }];
    mounts.extend(spec.volume_mounts.iter().cloned());
    let container = Container {
        name: CONTAINER.into(),
        image: Some(spec.image.clone()),
        args: Some(vec![format!("--config={CONFIG_DIR}/{CONFIG_FILE}")]),
        ports: Some(
            container_ports
                .iter()
                .map(|p| ContainerPort {
                    name: Some(p.name.clone()),
                    container_port: p.port,
                    ..ContainerPort::default()
                })
                .collect(),
        ),
        env: Some(env),
        env_from: (!spec.env_from.is_empty()).then(|| spec.env_from.clone()),
        resources: spec.resources.clone(),
        security_context: spec.security_context.clone(),
        volume_mounts: Some(mounts),
        liveness_probe: probe(&spec.liveness_probe),
        readiness_probe: probe(&spec.readiness_probe),
        startup_probe: probe(&spec.startup_probe),
        ..Container::default()
    };
    let mut volumes = vec![Volume {
        name: "otc-internal".into(),
        config_map: Some(ConfigMapVolumeSource {
            name: config_map_name,
            items: Some(vec![KeyToPath { key: CONFIG_FILE.into(), path: CONFIG_FILE.into(), mode: None }]),
            ..ConfigMapVolumeSource::default()
        }),
        ..Volume::default()
    }];
    volumes.extend(spec.volumes.iter().cloned());
    let service_account_name = spec.service_account.clone().unwrap_or_else(|| object.clone());
    let object_meta = |object_name: &str, mut labels: BTreeMap<String, String>| {
        labels.insert("app.kubernetes.io/name".into(), object_name.to_owned());
        ObjectMeta {
            name: Some(object_name.to_owned()),
            namespace: Some(ns.to_owned()),
            labels: Some(labels),
            ..ObjectMeta::default()
        }
    };
    let deployment = Deployment {
        metadata: ObjectMeta {
            name: Some(object.clone()),
            namespace: Some(ns.to_owned()),
            labels: Some(labels.clone()),
            ..ObjectMeta::default()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(spec.autoscaler.as_ref().map_or(spec.replicas.unwrap_or(1), |a| a.min_replicas)),
            selector: LabelSelector { match_labels: Some(selector.clone()), match_expressions: None },
            strategy: spec.deployment_update_strategy.clone(),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels.clone()),
                    annotations: (!spec.pod_annotations.is_empty()).then(|| spec.pod_annotations.clone()),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    service_account_name: Some(service_account_name),
                    init_containers: (!spec.init_containers.is_empty()).then(|| spec.init_containers.clone()),
                    containers: vec![container],
                    volumes: Some(volumes),
                    security_context: spec.pod_security_context.clone(),
                    priority_class_name: spec.priority_class_name.clone(),
                    tolerations: (!spec.tolerations.is_empty()).then(|| spec.tolerations.clone()),
                    node_selector: (!spec.node_selector.is_empty()).then(|| spec.node_selector.clone()),
                    affinity: spec.affinity.clone(),
                    termination_grace_period_seconds: spec.termination_grace_period_seconds,
                    topology_spread_constraints: (!spec.topology_spread_constraints.is_empty())
                        .then(|| spec.topology_spread_constraints.clone()),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    };
    let mut services = Vec::new();
    if !base_ports.is_empty() {
        let mut base_labels = labels.clone();
        base_labels.insert("operator.opentelemetry.io/collector-service-type".into(), "base".into());
        let base = service(object.clone(), ns, base_labels.clone(), &selector, &base_ports, false);
        base_labels.insert("operator.opentelemetry.io/collector-service-type".into(), "headless".into());
        base_labels.insert("operator.opentelemetry.io/collector-headless-service".into(), "Exists".into());
        services.push(base);
        services.push(service(headless_service(name), ns, base_labels, &selector, &base_ports, true));
    }
    let monitoring_name = monitoring_service(name);
    let mut monitoring_labels = object_meta(&monitoring_name, labels.clone()).labels.unwrap_or_default();
    monitoring_labels.insert("operator.opentelemetry.io/collector-monitoring-service".into(), "Exists".into());
    monitoring_labels.insert("operator.opentelemetry.io/collector-service-type".into(), "monitoring".into());
    let monitoring_service = service(
        monitoring_name,
        ns,
        monitoring_labels,
        &selector,
        &[Inferred { name: "monitoring".into(), port: metrics, app_protocol: None }],
        false,
    );
    let extension_service = (!extension_ports.is_empty()).then(|| {
        let extension_name = extension_service(name);
        let mut extension_labels = object_meta(&extension_name, labels.clone()).labels.unwrap_or_default();
        extension_labels.insert("operator.opentelemetry.io/collector-service-type".into(), "extension".into());
        service(extension_name, ns, extension_labels, &selector, &extension_ports, false)
    });
    let service_account = spec
        .service_account
        .is_none()
        .then(|| ServiceAccount { metadata: object_meta(&object, labels.clone()), ..ServiceAccount::default() });
    let disruption_budget = PodDisruptionBudget {
        metadata: object_meta(&object, labels),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(
                spec.pod_disruption_budget.as_ref().map_or(IntOrString::Int(1), |p| p.max_unavailable.clone()),
            ),
            selector: Some(LabelSelector { match_labels: Some(selector), match_expressions: None }),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    };
    Ok(Managed {
        deployment,
        config_map,
        services,
        monitoring_service,
        extension_service,
        service_account,
        disruption_budget,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_operator() {
        assert_eq!(collector_name("otel"), "otel-collector");
        assert_eq!(headless_service("jaeger"), "jaeger-collector-headless");
        assert_eq!(monitoring_service("jaeger"), "jaeger-collector-monitoring");
        assert_eq!(extension_service("jaeger-query"), "jaeger-query-collector-extension");
        assert_eq!(port_name("jaeger_query", 16686), "jaeger-query");
        assert_eq!(port_name("otlp/very-long-name-grpc", 4317), "port-4317");
        let long = "a".repeat(70);
        assert_eq!(collector_name(&long).len(), 63);
    }

    #[test]
    fn ports_are_inferred_from_the_config_and_spec_ports_win_by_number() {
        let config = serde_json::json!({
            "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}, "http": {"endpoint": "0.0.0.0:4318"}}}},
            "exporters": {"nop": {}},
            "extensions": {"health_check": {"endpoint": "0.0.0.0:13133", "path": "/"},
                           "jaeger_query": {"http": {"endpoint": "0.0.0.0:16686"}, "grpc": {"endpoint": "0.0.0.0:16685"}}},
            "service": {"extensions": ["health_check", "jaeger_query"],
                        "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["nop"]}}},
        });
        let spec = CollectorSpec {
            mode: "deployment".into(),
            image: "jaegertracing/jaeger:2.20.0".into(),
            ports: vec![PortSpec { name: "http-query".into(), port: 16686, app_protocol: Some("http".into()) }],
            config,
            ..CollectorSpec::default()
        };
        let meta = ObjectMeta { name: Some("jaeger".into()), namespace: Some("obs".into()), ..ObjectMeta::default() };
        let managed = managed(&meta, &spec).unwrap_or_else(|e| panic!("{e}"));
        let names = |s: &Service| -> Vec<(String, i32)> {
            s.spec
                .as_ref()
                .and_then(|s| s.ports.as_ref())
                .into_iter()
                .flatten()
                .map(|p| (p.name.clone().unwrap_or_default(), p.port))
                .collect()
        };
        assert_eq!(managed.services[0].metadata.name.as_deref(), Some("jaeger-collector"));
        assert_eq!(
            names(&managed.services[0]),
            [("http-query".into(), 16686), ("otlp-grpc".into(), 4317), ("otlp-http".into(), 4318)]
        );
        let extension = managed.extension_service.as_ref().expect("jaeger_query opens a port");
        assert_eq!(
            names(extension),
            [("health-check".into(), 13133), ("jaeger-query".into(), 16686), ("jaeger-query-2".into(), 16685)]
        );
        let pod = managed.deployment.spec.as_ref().and_then(|s| s.template.spec.as_ref()).expect("pod");
        let container_ports: Vec<&str> =
            pod.containers[0].ports.iter().flatten().filter_map(|p| p.name.as_deref()).collect();
        assert_eq!(
            container_ports,
            ["health-check", "http-query", "jaeger-query-2", "metrics", "otlp-grpc", "otlp-http"]
        );
        assert_eq!(pod.service_account_name.as_deref(), Some("jaeger-collector"));
        let labels = managed
            .deployment
            .spec
            .as_ref()
            .and_then(|s| s.template.metadata.as_ref())
            .and_then(|m| m.labels.clone())
            .unwrap_or_default();
        assert_eq!(labels["app.kubernetes.io/instance"], "obs.jaeger");
        assert_eq!(labels["app.kubernetes.io/version"], "2.20.0");
        assert_eq!(labels["app.kubernetes.io/name"], "jaeger-collector");
        let readiness = pod.containers[0].readiness_probe.as_ref().and_then(|p| p.http_get.as_ref()).expect("probe");
        assert_eq!(readiness.port, IntOrString::Int(13133));
    }
}
