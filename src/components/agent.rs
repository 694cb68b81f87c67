//! Node agents: one collector per node (a DaemonSet) in front of the gateway. Applications send to
//! the `otel-agent` Service, whose `internalTrafficPolicy: Local` keeps their spans on their own
//! node; the agent adds the node's attributes (`k8s_attributes` watching only that node's pods, and
//! `k8s.node.name` from the downward API), batches, and forwards to the gateway over OTLP/gRPC.
//!
//! A Service with `internalTrafficPolicy: Local` rather than a host port: a `hostPort` breaks the
//! restricted (and baseline) Pod Security Standard the stack's namespace enforces, bypasses
//! NetworkPolicies on several CNIs, and needs each application to learn its node's IP; the Service
//! keeps one DNS name for every node, pod-to-pod traffic under the namespace's policies, and the
//! sender's own IP (which `k8s_attributes` matches). Its cost: while a node's agent is not ready the
//! node's applications have no endpoint, so the DaemonSet rolls with `maxSurge: 1` and
//! `maxUnavailable: 0` (a new agent is ready before the old one stops; no host port stands in the
//! way), and SDKs retry.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetSpec, DaemonSetUpdateStrategy, RollingUpdateDaemonSet};
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceAccount, Toleration};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::check::{ConfigRef, ObjectRef};
use crate::components::Component;
use crate::components::Error;
use crate::components::collector;
use crate::components::workload::{self, WorkloadSpec};
use crate::config::collector::component::{
    AttributeAction, Batch, ClientTls, HealthCheck, MemoryLimiter, OtlpExporter, OtlpReceiver, ResourceProcessor,
    RetryOnFailure, SendingQueue,
};
use crate::config::collector::{
    Config, Extension, Logs, Pipeline, PipelineId, Processor, Receiver, Signal, Telemetry, Written, distribution,
};
use crate::config::k8s::{self, Object, ServicePortSpec};
use crate::model::plan::Plan;
use crate::model::profile::Profile;
use crate::value::ports;

/// `app.kubernetes.io/name`, DaemonSet and ServiceAccount name of the agents.
pub const NAME: &str = "otel-agent";
/// `app.kubernetes.io/component` of the agents.
pub const COMPONENT: &str = "agent";
/// The Service applications send to when agents run: `otel-agent.<namespace>.svc`.
pub const SERVICE: &str = "otel-agent";
/// The environment variable holding the pod's node name (downward API `spec.nodeName`).
pub const NODE_ENV: &str = "K8S_NODE_NAME";

/// The agents' objects.
#[derive(Clone, Debug, PartialEq)]
pub struct Agents {
    /// The typed collector config that `config_map` carries.
    pub config: Config,
    /// The YAML `config_map` carries.
    pub written: Arc<Written>,
    /// The distribution whose image runs `config` (the gateway's).
    pub distribution: distribution::Distribution,
    /// Its version.
    pub version: distribution::Version,
    /// Identity of the pods.
    pub service_account: ServiceAccount,
    /// Read access to pods, namespaces and ReplicaSets for `k8s_attributes` (none when off).
    pub cluster_role: Option<ClusterRole>,
    /// Grants `cluster_role` to `service_account`.
    pub cluster_role_binding: Option<ClusterRoleBinding>,
    /// The rendered config.
    pub config_map: ConfigMap,
    /// One agent per node.
    pub daemon_set: DaemonSet,
    /// `otel-agent`: OTLP gRPC 4317 and HTTP 4318, node-local.
    pub service: Service,
}

impl Agents {
    /// The config with where it runs, for [`crate::check`].
    #[must_use]
    pub fn config_ref(&self) -> ConfigRef {
        let ns = self.daemon_set.metadata.namespace.as_deref().unwrap_or_default();
        ConfigRef {
            config: self.config.clone(),
            distribution: self.distribution,
            version: self.version,
            workload: ObjectRef::namespaced("DaemonSet", ns, NAME),
            config_map: self.config_map.metadata.name.clone().unwrap_or_default(),
            key: collector::CONFIG_FILE.into(),
            written: Some(Arc::clone(&self.written)),
        }
    }
}

impl Component for Agents {
    fn into_objects(self) -> Vec<Object> {
        let mut objects = vec![self.service_account.into()];
        objects.extend(self.cluster_role.map(Object::from));
        objects.extend(self.cluster_role_binding.map(Object::from));
        objects.extend([self.config_map.into(), self.service.into(), self.daemon_set.into()]);
        objects
    }
}

/// The address the agents export to: the gateway's `otlp` Service, OTLP/gRPC.
#[must_use]
pub fn gateway_endpoint(profile: &Profile) -> String {
    format!("{}.{}.svc.cluster.local:{}", collector::SERVICE, profile.namespace, ports::OTLP_GRPC)
}

/// The agent's collector config: `otlp` in; `memory_limiter`, `k8s_attributes` for its own node's
/// pods, `resource/node` (`k8s.node.name` from the downward API, so every span names its node even
/// without API access), `batch`; out over OTLP/gRPC to the gateway with a short queue.
///
/// # Errors
/// When the distribution does not ship a component or does not know the pinned version.
pub fn config(profile: &Profile, plan: &Plan) -> Result<Config, Error> {
    let spec = &profile.collector;
    let mut config = Config::default();
    config.enable_extension(
        None,
        Extension::HealthCheck(HealthCheck { endpoint: format!("0.0.0.0:{}", ports::HEALTH), path: "/".into() }),
    );
    let receivers = vec![
        config.add_receiver(None, Receiver::Otlp(OtlpReceiver::all_interfaces(ports::OTLP_GRPC, ports::OTLP_HTTP))),
    ];
    let mut processors = vec![config.add_processor(
        None,
        Processor::MemoryLimiter(MemoryLimiter {
            check_interval: crate::value::duration::Duration::from_secs(1),
            limit_mib: plan.agent.memory.limit_mib,
            spike_limit_mib: plan.agent.memory.spike_limit_mib,
        }),
    )];
    if profile.agents.k8s_attributes {
        // Senders reach the agent directly (a node-local Service keeps their own IP), so the
        // connection is a sound last resort here.
        processors.push(config.add_processor(
            None,
            collector::k8s_attributes(spec.distribution.0, spec.version.0, Some(NODE_ENV), true)?,
        ));
    }
    processors.push(config.add_processor(
        Some("node"),
        Processor::Resource(ResourceProcessor {
            attributes: vec![AttributeAction {
                key: "k8s.node.name".into(),
                value: Some(format!("${{env:{NODE_ENV}}}")),
                from_attribute: None,
                action: "upsert".into(),
            }],
        }),
    ));
    processors.push(config.add_processor(
        None,
        Processor::Batch(Batch {
            timeout: spec.batch.timeout,
            send_batch_size: plan.agent.batch_size,
            send_batch_max_size: plan.agent.batch_max,
        }),
    ));
    let exporter = OtlpExporter {
        endpoint: gateway_endpoint(profile),
        balancer_name: None,
        tls: ClientTls::plaintext(),
        compression: None,
        timeout: Some(crate::value::duration::Duration::from_secs(10)),
        sending_queue: Some(SendingQueue {
            enabled: true,
            num_consumers: spec.queue.num_consumers,
            queue_size: plan.agent.queue_spans,
            sizer: "items".into(),
            block_on_overflow: None,
        }),
        retry_on_failure: Some(RetryOnFailure {
            enabled: true,
            initial_interval: spec.retry.initial_interval,
            max_interval: spec.retry.max_interval,
            max_elapsed_time: spec.retry.max_elapsed_time,
        }),
    };
    let exporter = collector::otlp_grpc_exporter(spec.distribution.0, spec.version.0, exporter)?;
    let gateway = config.add_exporter(Some("gateway"), exporter);
    config.add_pipeline(
        PipelineId::new(Signal::Traces, None),
        Pipeline { receivers, processors, exporters: vec![gateway] },
    );
    config.service.telemetry = Telemetry {
        logs: Logs { level: spec.log_level.as_str().into(), encoding: "json".into() },
        ..Telemetry::default()
    };
    config
        .validate(spec.distribution.0, spec.version.0)
        .map_err(|errors| Error::Config { component: NAME.into(), errors })?;
    Ok(config)
}

/// The agents, when the profile enables them.
///
/// # Errors
/// See [`config`].
pub fn agents(profile: &Profile, plan: &Plan) -> Result<Option<Agents>, Error> {
    if !profile.agents.enabled {
        return Ok(None);
    }
    let spec = &profile.collector;
    let ns = profile.namespace.as_str();
    let version = spec.version.0.to_string();
    let config = config(profile, plan)?;
    let written = Arc::new(Written::new(&config)?);
    let image = k8s::image(
        spec.image.as_deref().unwrap_or(spec.distribution.0.default_image()),
        &version,
        spec.digest.as_deref(),
    );
    let k8s_attributes = profile.agents.k8s_attributes;
    let (config_map, mut template) = workload::pod(&WorkloadSpec {
        name: NAME,
        app: NAME,
        component: COMPONENT,
        namespace: ns,
        version: version.clone(),
        image,
        plan: &plan.agent,
        config_dir: collector::CONFIG_DIR,
        config_file: collector::CONFIG_FILE,
        config_text: written.text().to_owned(),
        ports: vec![
            k8s::port("otlp-grpc", ports::OTLP_GRPC),
            k8s::port("otlp-http", ports::OTLP_HTTP),
            k8s::port("metrics", ports::COLLECTOR_METRICS),
            k8s::port("health", ports::HEALTH),
        ],
        env: vec![
            k8s::env_from_field(NODE_ENV, "spec.nodeName"),
            k8s::env("GOMEMLIMIT", &plan.agent.memory.gomemlimit()),
        ],
        volumes: Vec::new(),
        health_path: "/",
        service_account: NAME,
        api_access: k8s_attributes,
        priority_class_name: profile.security.priority_class_name.as_deref(),
        // An agent holds seconds of its node's spans: less to drain than the gateway.
        termination_grace_seconds: 30,
        init_containers: Vec::new(),
        init_volumes: Vec::new(),
    });
    if let Some(pod) = template.spec.as_mut() {
        pod.tolerations = (!profile.agents.tolerations.is_empty()).then(|| {
            profile
                .agents
                .tolerations
                .iter()
                .map(|t| Toleration {
                    key: t.key.clone(),
                    operator: Some(t.operator.as_str().to_owned()),
                    value: t.value.clone(),
                    effect: t.effect.map(|e| e.as_str().to_owned()),
                    toleration_seconds: None,
                })
                .collect()
        });
    }
    let labels = k8s::labels(NAME, COMPONENT, &version);
    let selector = k8s::selector(NAME, COMPONENT);
    let daemon_set = DaemonSet {
        metadata: k8s::meta(NAME, ns, &labels),
        spec: Some(DaemonSetSpec {
            selector: LabelSelector { match_labels: Some(selector.clone()), match_expressions: None },
            template,
            revision_history_limit: Some(5),
            update_strategy: Some(DaemonSetUpdateStrategy {
                type_: Some("RollingUpdate".into()),
                // The new agent is ready on the node before the old one stops, so the node-local
                // Service always has an endpoint.
                rolling_update: Some(RollingUpdateDaemonSet {
                    max_surge: Some(IntOrString::Int(1)),
                    max_unavailable: Some(IntOrString::Int(0)),
                }),
            }),
            ..DaemonSetSpec::default()
        }),
        ..DaemonSet::default()
    };
    let mut service = k8s::service(
        SERVICE,
        ns,
        &labels,
        selector,
        &[
            ServicePortSpec { name: "otlp-grpc", port: ports::OTLP_GRPC, app_protocol: "grpc" },
            ServicePortSpec { name: "otlp-http", port: ports::OTLP_HTTP, app_protocol: "http" },
        ],
        false,
    );
    if let Some(s) = service.spec.as_mut() {
        s.internal_traffic_policy = Some("Local".into());
    }
    let (cluster_role, cluster_role_binding) = k8s_attributes.then(|| rbac(ns, &labels)).unzip();
    Ok(Some(Agents {
        config,
        written,
        distribution: spec.distribution.0,
        version: spec.version.0,
        service_account: workload::service_account(NAME, NAME, COMPONENT, ns, &version),
        cluster_role,
        cluster_role_binding,
        config_map,
        daemon_set,
        service,
    }))
}

/// The name of the agents' ClusterRole and ClusterRoleBinding (carries the namespace, like the
/// gateway's).
#[must_use]
pub fn cluster_role_name(namespace: &str) -> String {
    format!("{NAME}-{namespace}")
}

/// What node-scoped `k8s_attributes` reads: `get`, `list`, `watch` on pods (its informer filters
/// them by node), namespaces and ReplicaSets (for `k8s.deployment.name`). No nodes: the node name
/// comes from the downward API.
fn rbac(namespace: &str, labels: &std::collections::BTreeMap<String, String>) -> (ClusterRole, ClusterRoleBinding) {
    let name = cluster_role_name(namespace);
    let meta = ObjectMeta { name: Some(name.clone()), labels: Some(labels.clone()), ..ObjectMeta::default() };
    let verbs = || ["get", "list", "watch"].map(str::to_owned).to_vec();
    let role = ClusterRole {
        metadata: meta.clone(),
        rules: Some(vec![
            PolicyRule {
                api_groups: Some(vec![String::new()]),
                resources: Some(vec!["namespaces".into(), "pods".into()]),
                verbs: verbs(),
                ..PolicyRule::default()
            },
            PolicyRule {
                api_groups: Some(vec!["apps".into()]),
                resources: Some(vec!["replicasets".into()]),
                verbs: verbs(),
                ..PolicyRule::default()
            },
        ]),
        ..ClusterRole::default()
    };
    let binding = ClusterRoleBinding {
        metadata: meta,
        role_ref: RoleRef { api_group: "rbac.authorization.k8s.io".into(), kind: "ClusterRole".into(), name },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: NAME.into(),
            namespace: Some(namespace.into()),
            ..Subject::default()
        }]),
    };
    (role, binding)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_agents() -> Profile {
        let mut profile = Profile::default();
        profile.agents.enabled = true;
        profile
    }

    #[test]
    fn no_agents_unless_enabled() {
        let profile = Profile::default();
        let plan = Plan::resolve(&profile).unwrap_or_else(|e| panic!("{e}"));
        assert!(agents(&profile, &plan).unwrap_or_else(|e| panic!("{e}")).is_none());
    }

    #[test]
    fn the_agent_watches_its_own_node_and_names_it() {
        let profile = with_agents();
        let plan = Plan::resolve(&profile).unwrap_or_else(|e| panic!("{e}"));
        let agents = agents(&profile, &plan).unwrap_or_else(|e| panic!("{e}")).expect("enabled");
        let text = agents.written.text();
        assert!(text.contains("node_from_env_var: K8S_NODE_NAME"), "{text}");
        assert!(text.contains("value: ${env:K8S_NODE_NAME}"), "{text}");
        assert!(text.contains("endpoint: otlp.observability.svc.cluster.local:4317"), "{text}");
        let pod = agents.daemon_set.spec.as_ref().and_then(|s| s.template.spec.as_ref()).expect("pod");
        let env = pod.containers[0].env.clone().unwrap_or_default();
        let node = env.iter().find(|e| e.name == NODE_ENV).and_then(|e| e.value_from.as_ref());
        assert_eq!(node.and_then(|f| f.field_ref.as_ref()).map(|f| f.field_path.as_str()), Some("spec.nodeName"));
        assert_eq!(agents.service.spec.as_ref().and_then(|s| s.internal_traffic_policy.as_deref()), Some("Local"));
    }

    #[test]
    fn restricted_without_host_access() {
        let profile = with_agents();
        let plan = Plan::resolve(&profile).unwrap_or_else(|e| panic!("{e}"));
        let agents = agents(&profile, &plan).unwrap_or_else(|e| panic!("{e}")).expect("enabled");
        let pod = agents.daemon_set.spec.as_ref().and_then(|s| s.template.spec.as_ref()).expect("pod");
        assert_ne!(pod.host_network, Some(true));
        assert_ne!(pod.host_pid, Some(true));
        assert!(pod.volumes.iter().flatten().all(|v| v.host_path.is_none()));
        assert!(pod.containers.iter().flat_map(|c| c.ports.iter().flatten()).all(|p| p.host_port.is_none()));
        let tolerations = pod.tolerations.clone().unwrap_or_default();
        assert_eq!(tolerations.len(), 1);
        assert_eq!(tolerations[0].operator.as_deref(), Some("Exists"));
    }

    #[test]
    fn without_k8s_attributes_no_cluster_role_and_no_token() {
        let mut profile = with_agents();
        profile.agents.k8s_attributes = false;
        let plan = Plan::resolve(&profile).unwrap_or_else(|e| panic!("{e}"));
        let agents = agents(&profile, &plan).unwrap_or_else(|e| panic!("{e}")).expect("enabled");
        assert!(agents.cluster_role.is_none());
        assert!(!agents.written.text().contains("k8s_attributes"));
        let pod = agents.daemon_set.spec.as_ref().and_then(|s| s.template.spec.as_ref()).expect("pod");
        assert_eq!(pod.automount_service_account_token, Some(false));
    }
}
