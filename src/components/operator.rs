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
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::components::Error;
use crate::components::collector::{self, Gateway};
use crate::components::jaeger::{self as jaeger_component, Jaeger, RoleKind};
use crate::config::collector::Config;
use crate::config::jaeger_operator;
use crate::config::k8s::{self, CustomResource};
use crate::config::otel_operator::{
    self, Autoscaler, CollectorSpec, DisruptionBudget, OpenTelemetryCollector, PortSpec, ProbeSettings,
};
use crate::model;
use crate::model::plan::WorkloadPlan;
use crate::model::profile::{Profile, StorageSpec};
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
) -> Result<(CustomResource, otel_operator::Managed), Error> {
    let template = deployment.spec.as_ref().map(|s| &s.template);
    let pod = template.and_then(|t| t.spec.clone()).unwrap_or_default();
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
        pod_annotations: Default::default(),
        config: serde_json::to_value(config).map_err(|e| invalid(name, e))?,
    };
    let meta = ObjectMeta {
        name: Some(name.to_owned()),
        namespace: deployment.metadata.namespace.clone(),
        labels: deployment.metadata.labels.clone(),
        ..ObjectMeta::default()
    };
    let managed = otel_operator::managed(&meta, &spec).map_err(|e| invalid(name, e))?;
    let resource = CustomResource::new(meta, &OpenTelemetryCollector { spec }).map_err(|e| invalid(name, e))?;
    Ok((resource, managed))
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
    let (resource, managed) = collector_resource(
        GATEWAY,
        &gateway.deployment,
        &plan.gateway,
        &gateway.config,
        collector::NAME,
        gateway_ports,
    )?;
    // Pods cannot set `automountServiceAccountToken` through the resource: the ServiceAccount does.
    gateway.service_account.automount_service_account_token = Some(profile.collector.k8s_attributes);
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
        let (resource, managed) = collector_resource(
            name,
            &role.deployment,
            role.kind.plan(&plan),
            &role.config,
            jaeger_component::NAME,
            role_ports,
        )?;
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
    let role = |workload: &WorkloadPlan| jaeger_operator::Role {
        replicas: workload.autoscaling.is_none().then(|| i32::try_from(workload.min_replicas).unwrap_or(i32::MAX)),
        autoscale: workload.autoscaling.map(|_| true),
        min_replicas: workload.autoscaling.map(|_| i32::try_from(workload.min_replicas).unwrap_or(i32::MAX)),
        max_replicas: workload.autoscaling.map(|_| i32::try_from(workload.max_replicas).unwrap_or(i32::MAX)),
        resources: Some(k8s::resources(&workload.resources)),
        priority_class_name: profile.security.priority_class_name.clone(),
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
            },
        },
        collector: role(&plan.jaeger_collector),
        // The operator autoscales the collector only.
        query: jaeger_operator::Role {
            replicas: Some(i32::try_from(plan.jaeger_query.min_replicas).unwrap_or(i32::MAX)),
            autoscale: None,
            min_replicas: None,
            max_replicas: None,
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
