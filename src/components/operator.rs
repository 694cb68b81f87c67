//! Operator outputs: the gateway and Jaeger's roles as the OpenTelemetry Operator's
//! `OpenTelemetryCollector` resources, or Jaeger as the Jaeger Operator's `Jaeger` resource.
//!
//! Each resource is made from the same typed config and the same plain workload the `manifests`
//! output renders, carrying everything of it the resource can express. The components' own
//! Deployments and Services are then replaced by what the operator will create from the resource
//! ([`otel_operator::managed`], [`jaeger_operator::managed`]), so that everything referring to
//! them (the gateway's exporter endpoint, NetworkPolicies, PodMonitors, the smoke test, the
//! runbook) follows the operator's names and labels.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, LocalObjectReference, PodSpec, PodTemplateSpec, Service, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::components::Error;
use crate::components::collector::{self, Gateway};
use crate::components::jaeger::{self as jaeger_component, Jaeger, RoleKind};
use crate::components::{pods, workload};
use crate::config::collector::Config;
use crate::config::jaeger_operator;
use crate::config::k8s::{self, CustomResource};
use crate::config::otel_operator::{
    self, Autoscaler, CollectorSpec, DisruptionBudget, OpenTelemetryCollector, PortSpec, ProbeSettings,
};
use crate::model;
use crate::model::plan::WorkloadPlan;
use crate::model::profile::{PodExtras, Profile, StorageSpec};
use crate::value::ports;

/// The gateway's `OpenTelemetryCollector`: the operator names its Deployment `otel-collector`,
/// as the `manifests` output does.
pub const GATEWAY: &str = "otel";
/// Jaeger's receiving role (all-in-one or collector): the operator names its Services
/// `jaeger-collector` and `jaeger-collector-headless`, as the `manifests` output does.
pub const JAEGER: &str = "jaeger";
/// Jaeger's query role with split roles: Deployment and Service `jaeger-query-collector`.
pub const JAEGER_QUERY: &str = "jaeger-query";

/// The operator resources of a stack.
#[derive(Clone, Debug, PartialEq)]
pub struct Operated {
    /// `OpenTelemetryCollector` or `Jaeger` resources, in apply order.
    pub resources: Vec<CustomResource>,
    /// Whether the gateway is one of them (else it stays plain manifests).
    pub gateway: bool,
}

fn invalid(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Model(model::Error::Invalid { path: what.to_owned(), message: e.to_string() })
}

/// An `OpenTelemetryCollector` carrying a plain workload's pods, and what the operator makes of it.
fn collector_resource(
    name: &str,
    deployment: &Deployment,
    plan: &WorkloadPlan,
    config: &Config,
    service_account: &str,
    ports: Vec<PortSpec>,
) -> Result<(CustomResource, otel_operator::Managed, Vec<LocalObjectReference>), Error> {
    let template = deployment.spec.as_ref().map(|s| &s.template);
    let pod = template.and_then(|t| t.spec.clone()).unwrap_or_default();
    let pod_meta = template.and_then(|t| t.metadata.clone()).unwrap_or_default();
    // The operator rolls the pods itself (its ConfigMap's name carries the config's hash).
    let mut pod_annotations = pod_meta.annotations.clone().unwrap_or_default();
    pod_annotations.remove(workload::CONFIG_HASH_ANNOTATION);
    // Pod labels beyond the workload's own (the profile's `pod.labels`): the operator puts the
    // resource's labels on everything it creates, pods included.
    let own_labels = deployment.metadata.labels.clone().unwrap_or_default();
    let mut labels = own_labels.clone();
    for (key, value) in pod_meta.labels.iter().flatten() {
        labels.entry(key.clone()).or_insert_with(|| value.clone());
    }
    let container = pod.containers.first().cloned().unwrap_or_default();
    // The operator mounts the config itself; every other volume is carried over.
    let config_volumes: Vec<String> =
        pod.volumes.iter().flatten().filter(|v| v.config_map.is_some()).map(|v| v.name.clone()).collect();
    let spec = CollectorSpec {
        mode: "deployment".into(),
        upgrade_strategy: Some("none".into()),
        image: container.image.clone().unwrap_or_default(),
        replicas: plan.autoscaling.is_none().then(|| i32::try_from(plan.min_replicas).unwrap_or(i32::MAX)),
        autoscaler: plan.autoscaling.map(|targets| Autoscaler {
            min_replicas: i32::try_from(plan.min_replicas).unwrap_or(i32::MAX),
            max_replicas: i32::try_from(plan.max_replicas).unwrap_or(i32::MAX),
            target_cpu_utilization: i32::try_from(targets.cpu_percent).unwrap_or(100),
            target_memory_utilization: i32::try_from(targets.memory_percent).unwrap_or(100),
            behavior: None,
        }),
        pod_disruption_budget: Some(DisruptionBudget { max_unavailable: IntOrString::Int(1) }),
        resources: container.resources.clone(),
        env: container.env.clone().unwrap_or_default(),
        ports,
        security_context: container.security_context.clone(),
        pod_security_context: pod.security_context.clone(),
        service_account: Some(service_account.to_owned()),
        priority_class_name: pod.priority_class_name.clone(),
        termination_grace_period_seconds: pod.termination_grace_period_seconds,
        topology_spread_constraints: pod.topology_spread_constraints.clone().unwrap_or_default(),
        deployment_update_strategy: deployment.spec.as_ref().and_then(|s| s.strategy.clone()),
        init_containers: pod.init_containers.clone().unwrap_or_default(),
        volumes: pod.volumes.iter().flatten().filter(|v| !config_volumes.contains(&v.name)).cloned().collect(),
        volume_mounts: container
            .volume_mounts
            .iter()
            .flatten()
            .filter(|m| !config_volumes.contains(&m.name))
            .cloned()
            .collect(),
        liveness_probe: container.liveness_probe.as_ref().map(ProbeSettings::of),
        readiness_probe: container.readiness_probe.as_ref().map(ProbeSettings::of),
        startup_probe: container.startup_probe.as_ref().map(ProbeSettings::of),
        pod_annotations,
        tolerations: pod.tolerations.clone().unwrap_or_default(),
        node_selector: pod.node_selector.clone().unwrap_or_default(),
        affinity: pod.affinity.clone(),
        env_from: container.env_from.clone().unwrap_or_default(),
        config: serde_json::to_value(config).map_err(|e| invalid(name, e))?,
    };
    let meta = ObjectMeta {
        name: Some(name.to_owned()),
        namespace: deployment.metadata.namespace.clone(),
        labels: (!labels.is_empty()).then_some(labels),
        ..ObjectMeta::default()
    };
    let managed = otel_operator::managed(&meta, &spec).map_err(|e| invalid(name, e))?;
    let resource = CustomResource::new(meta, &OpenTelemetryCollector { spec }).map_err(|e| invalid(name, e))?;
    // The resource has no `imagePullSecrets`: the pods get them from the ServiceAccount they run as.
    Ok((resource, managed, pod.image_pull_secrets.unwrap_or_default()))
}

/// A pod addition a resource cannot carry: its field, whether a `PodExtras` sets it, and why.
type Refusal = (&'static str, fn(&PodExtras) -> bool, &'static str);

/// Where the index maintenance pods' additions are in the profile.
const LIFECYCLE_POD: &str = "jaeger.storage.elasticsearch.lifecycle.pod";

/// A Jaeger Operator role's (or its index cleaner's) pod fields and PriorityClass from the
/// effective pod additions (`own` over `pods`). What the `Jaeger` resource cannot express there is
/// refused, naming the field where it is set: `env` and `env_from` (no such field), `image_registry`
/// (the operator chooses Jaeger v1's images), and `node_selector` on the index cleaner.
fn jaeger_pod(
    profile: &Profile,
    own: &PodExtras,
    own_path: &str,
    node_selector: bool,
) -> Result<(jaeger_operator::PodFields, Option<String>), Error> {
    let extras = pods::effective(profile, own);
    let refused: [Refusal; 4] = [
        ("env", |e| e.env.as_ref().is_some_and(|v| !v.is_empty()), "the `Jaeger` resource has no `env`"),
        ("env_from", |e| e.env_from.as_ref().is_some_and(|v| !v.is_empty()), "the `Jaeger` resource has no `envFrom`"),
        (
            "image_registry",
            |e| e.image_registry.is_some(),
            "the Jaeger Operator chooses Jaeger v1's images itself, so no mirror can be applied to them",
        ),
        (
            "node_selector",
            |e| !e.node_selector.is_empty(),
            "the `Jaeger` resource's `esIndexCleaner` has no `nodeSelector` (use `affinity.required`)",
        ),
    ];
    for (field, set, why) in refused {
        if field == "node_selector" && node_selector {
            continue;
        }
        if set(&extras) {
            let path = if set(own) { format!("{own_path}.{field}") } else { format!("pods.{field}") };
            return Err(invalid(
                &path,
                format!("cannot be carried by `output: jaeger-operator`: {why}; remove it or use `output: manifests`"),
            ));
        }
    }
    // The pod `pods::apply` makes of the additions, read back as Kubernetes types.
    let mut template = PodTemplateSpec {
        spec: Some(PodSpec { containers: vec![Container::default()], ..PodSpec::default() }),
        ..PodTemplateSpec::default()
    };
    pods::apply(&extras, &mut template);
    let meta = template.metadata.unwrap_or_default();
    let spec = template.spec.unwrap_or_default();
    let fields = jaeger_operator::PodFields {
        annotations: meta.annotations.unwrap_or_default(),
        labels: meta.labels.unwrap_or_default(),
        tolerations: spec.tolerations.unwrap_or_default(),
        affinity: spec.affinity,
        node_selector: spec.node_selector.unwrap_or_default(),
        image_pull_secrets: spec.image_pull_secrets.unwrap_or_default(),
        volumes: spec.volumes.unwrap_or_default(),
        volume_mounts: spec.containers.into_iter().next().and_then(|c| c.volume_mounts).unwrap_or_default(),
    };
    Ok((fields, spec.priority_class_name))
}

/// Adds pull Secrets to a ServiceAccount, each once, in order.
fn add_pull_secrets(account: &mut ServiceAccount, secrets: Vec<LocalObjectReference>) {
    if secrets.is_empty() {
        return;
    }
    let list = account.image_pull_secrets.get_or_insert_with(Vec::new);
    for secret in secrets {
        if !list.contains(&secret) {
            list.push(secret);
        }
    }
}

fn port(name: &str, number: u16, app_protocol: Option<&str>) -> PortSpec {
    PortSpec { name: name.to_owned(), port: i32::from(number), app_protocol: app_protocol.map(str::to_owned) }
}

/// Turns the gateway and every Jaeger role into `OpenTelemetryCollector` resources; the gateway
/// and Jaeger then hold the Deployments, ConfigMaps and Services the operator will create. The
/// `otlp` Service stays a plain object (applications, Istio and onboarded apps send to it),
/// selecting the operator's pods.
///
/// # Errors
/// When a resource does not serialise.
pub fn opentelemetry(profile: &Profile, gateway: &mut Gateway, jaeger: &mut Jaeger) -> Result<Operated, Error> {
    let mut resources = Vec::new();
    let mut gateway_ports = Vec::new();
    if collector::serves_zipkin(profile) {
        gateway_ports.push(port(collector::ZIPKIN_PORT, ports::ZIPKIN, Some("http")));
    }
    let plan = crate::model::plan::Plan::resolve(profile)?;
    let (resource, managed, pull_secrets) = collector_resource(
        GATEWAY,
        &gateway.deployment,
        &plan.gateway,
        &gateway.config,
        collector::NAME,
        gateway_ports,
    )?;
    // Pods cannot set `automountServiceAccountToken` through the resource: the ServiceAccount does.
    gateway.service_account.automount_service_account_token = Some(profile.collector.k8s_attributes);
    add_pull_secrets(&mut gateway.service_account, pull_secrets);
    if let Some(spec) = gateway.service.spec.as_mut() {
        spec.selector = Some(otel_operator::selector_labels(&profile.namespace, GATEWAY));
    }
    gateway.deployment = managed.deployment;
    gateway.config_map = managed.config_map;
    gateway.autoscaler = None;
    gateway.disruption_budget = None;
    resources.push(resource);

    let split = jaeger.roles.len() > 1;
    for role in &mut jaeger.roles {
        let name = if role.kind == RoleKind::Query { JAEGER_QUERY } else { JAEGER };
        let mut role_ports = Vec::new();
        if role.kind.serves_ui() {
            role_ports.push(port("http-query", ports::JAEGER_QUERY_HTTP, Some("http")));
            role_ports.push(port("grpc-query", ports::JAEGER_QUERY_GRPC, Some("grpc")));
        }
        if role.kind.receives() && jaeger_component::span_metrics_enabled(profile) {
            role_ports.push(port(jaeger_component::SPAN_METRICS_PORT, ports::SPAN_METRICS, None));
        }
        let (resource, managed, pull_secrets) = collector_resource(
            name,
            &role.deployment,
            role.kind.plan(&plan),
            &role.config,
            jaeger_component::NAME,
            role_ports,
        )?;
        // Every role runs as the one `jaeger` ServiceAccount: it carries each role's pull Secrets.
        add_pull_secrets(&mut jaeger.service_account, pull_secrets);
        let base = managed.services.first().cloned();
        if role.kind.receives() {
            let headless = managed.services.get(1).cloned();
            if let Some(base) = base.clone() {
                jaeger.collector_service = base;
            }
            jaeger.collector_headless_service = if split { headless } else { None };
        }
        if role.kind.serves_ui()
            && let Some(base) = base
        {
            jaeger.query_service = base;
        }
        role.deployment = managed.deployment;
        role.config_map = managed.config_map;
        role.autoscaler = None;
        role.disruption_budget = None;
        resources.push(resource);
    }
    Ok(Operated { resources, gateway: true })
}

/// Jaeger as one `production` `Jaeger` resource of the Jaeger Operator (Jaeger v1) over the
/// profile's Elasticsearch; Jaeger then holds the Deployments and Services the operator will create.
///
/// # Errors
/// When the profile's storage is not Elasticsearch (the profile's validation refuses that first)
/// or the resource does not serialise.
pub fn jaeger_operator(profile: &Profile, jaeger: &mut Jaeger) -> Result<Operated, Error> {
    let StorageSpec::Elasticsearch(es) = &profile.jaeger.storage else {
        return Err(invalid("output", "`jaeger-operator` needs Elasticsearch storage"));
    };
    let plan = crate::model::plan::Plan::resolve(profile)?;
    let ns = profile.namespace.as_str();
    let mut es_options = serde_json::json!({
        "server-urls": es.server_urls.join(","),
        "index-prefix": es.index_prefix,
        "num-shards": es.shards,
        "num-replicas": es.replicas,
    });
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    if let Some(ca) = &es.ca {
        let (volume, mount) =
            k8s::secret_volume("es-ca", &ca.secret, &[(&ca.key, &ca.key)], jaeger_component::ES_CA_DIR);
        volumes.push(volume);
        mounts.push(mount);
        es_options["tls"] =
            serde_json::json!({"enabled": true, "ca": format!("{}/{}", jaeger_component::ES_CA_DIR, ca.key)});
    }
    let collector_pod = jaeger_pod(profile, RoleKind::Collector.pod(profile), RoleKind::Collector.pod_path(), true)?;
    let query_pod = jaeger_pod(profile, RoleKind::Query.pod(profile), RoleKind::Query.pod_path(), true)?;
    let cleaner_pod = jaeger_pod(profile, &es.lifecycle.pod, LIFECYCLE_POD, false)?;
    let role = |workload: &WorkloadPlan| jaeger_operator::Role {
        replicas: workload.autoscaling.is_none().then(|| i32::try_from(workload.min_replicas).unwrap_or(i32::MAX)),
        autoscale: workload.autoscaling.map(|_| true),
        min_replicas: workload.autoscaling.map(|_| i32::try_from(workload.min_replicas).unwrap_or(i32::MAX)),
        max_replicas: workload.autoscaling.map(|_| i32::try_from(workload.max_replicas).unwrap_or(i32::MAX)),
        resources: Some(k8s::resources(&workload.resources)),
        priority_class_name: None,
        pod: jaeger_operator::PodFields::default(),
    };
    let spec = jaeger_operator::JaegerSpec {
        strategy: "production".into(),
        storage: jaeger_operator::Storage {
            type_: "elasticsearch".into(),
            options: serde_json::json!({ "es": es_options }),
            secret_name: es.credentials.as_ref().map(|c| c.secret.clone()),
            es_index_cleaner: jaeger_operator::IndexCleaner {
                enabled: true,
                number_of_days: es.lifecycle.retention_days,
                schedule: es.lifecycle.schedule.to_string(),
                priority_class_name: cleaner_pod.1,
                pod: cleaner_pod.0,
            },
        },
        collector: jaeger_operator::Role {
            priority_class_name: collector_pod.1,
            pod: collector_pod.0,
            ..role(&plan.jaeger_collector)
        },
        // The operator autoscales the collector only.
        query: jaeger_operator::Role {
            replicas: Some(i32::try_from(plan.jaeger_query.min_replicas).unwrap_or(i32::MAX)),
            autoscale: None,
            min_replicas: None,
            max_replicas: None,
            priority_class_name: query_pod.1,
            pod: query_pod.0,
            ..role(&plan.jaeger_query)
        },
        security_context: Some(k8s::restricted_pod()),
        container_security_context: Some(k8s::restricted_container()),
        volumes,
        volume_mounts: mounts,
    };
    // No version label: the operator picks Jaeger v1's version, not `jaeger.version`.
    let mut labels = k8s::selector(jaeger_component::NAME, "jaeger");
    labels.insert("app.kubernetes.io/managed-by".into(), k8s::PART_OF.into());
    let meta = k8s::meta(JAEGER, ns, &labels);
    let managed = jaeger_operator::managed(&meta, &spec).map_err(|e| invalid(JAEGER, e))?;
    let resource = CustomResource::new(meta, &jaeger_operator::Jaeger { spec }).map_err(|e| invalid(JAEGER, e))?;
    let service = |name: &str| -> Option<Service> {
        managed.services.iter().find(|s| s.metadata.name.as_deref() == Some(name)).cloned()
    };
    if let Some(s) = service(&jaeger_operator::collector_service(JAEGER)) {
        jaeger.collector_service = s;
    }
    jaeger.collector_headless_service = service(&jaeger_operator::collector_headless_service(JAEGER));
    if let Some(s) = service(&jaeger_operator::query_service(JAEGER)) {
        jaeger.query_service = s;
    }
    for role in &mut jaeger.roles {
        role.deployment = if role.kind == RoleKind::Query { managed.query.clone() } else { managed.collector.clone() };
        role.autoscaler = None;
        role.disruption_budget = None;
    }
    Ok(Operated { resources: vec![resource], gateway: false })
}
