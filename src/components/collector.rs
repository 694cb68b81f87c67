//! The OpenTelemetry Collector gateway: receives OTLP from applications and sidecars behind the
//! `otlp` Service and forwards every span to Jaeger's collector role over OTLP/gRPC.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceAccount};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::check::{ConfigRef, ObjectRef};
use crate::components::Component;
use crate::components::Error;
use crate::components::kafka;
use crate::components::workload::{self, WorkloadSpec};
use crate::config::collector::component::{
    AssociationSource, AttributeAction, Batch, ClientTls, DnsResolver, HealthCheck, K8sAttributes, K8sExtract,
    K8sFieldExtract, K8sFilter, K8sResolver, KafkaExporter, KafkaProducer, LoadBalancingExporter, LoadBalancingOtlp,
    LoadBalancingProtocol, LoadBalancingResolver, MemoryLimiter, OtlpExporter, OtlpReceiver, PodAssociation,
    ProbabilisticSampler, ResourceProcessor, RetryOnFailure, SendingQueue, ServerKeepalive, ServerParameters,
    ZipkinReceiver,
};
use crate::config::collector::{
    ComponentKind, Config, Exporter, Extension, Logs, Pipeline, PipelineId, Processor, Receiver, Signal, Telemetry,
    Written, distribution,
};
use crate::config::istio;
use crate::config::k8s::{self, Object, ServicePortSpec};
use crate::model::plan::{Plan, WorkloadPlan};
use crate::model::profile::{Profile, ResolverKind};
use crate::value::ports;

/// `app.kubernetes.io/name` and Deployment name of the gateway.
pub const NAME: &str = "otel-collector";
/// `app.kubernetes.io/component` of the gateway.
pub const COMPONENT: &str = "gateway";
/// The Service applications send to: `otlp.<namespace>.svc`.
pub const SERVICE: &str = "otlp";
/// Where the config is mounted.
pub const CONFIG_DIR: &str = "/conf";
/// The config file name (and ConfigMap key).
pub const CONFIG_FILE: &str = "collector.yaml";
/// Where the CA that verifies Jaeger's collector certificate is mounted, with `collector_tls`.
pub const JAEGER_CA_DIR: &str = "/etc/otelcol/jaeger-ca";
/// Seconds a terminating gateway pod gets: receivers stop first, then the batch processor and the
/// exporter queue are flushed; 60 s covers a queue drain and a few retries of the 10 s export
/// timeout.
pub const TERMINATION_GRACE_SECONDS: i64 = 60;

/// The gateway's objects.
#[derive(Clone, Debug, PartialEq)]
pub struct Gateway {
    /// The typed collector config that `config_map` carries.
    pub config: Config,
    /// The YAML `config_map` carries, written from `config` when the gateway was built.
    pub written: Arc<Written>,
    /// The distribution whose image runs `config`.
    pub distribution: distribution::Distribution,
    /// Its version (the image tag).
    pub version: distribution::Version,
    /// Identity of the pods.
    pub service_account: ServiceAccount,
    /// Read access to pods, namespaces and ReplicaSets cluster-wide, for `k8s_attributes` (none
    /// when the profile turns it off).
    pub cluster_role: Option<ClusterRole>,
    /// Grants `cluster_role` to `service_account`.
    pub cluster_role_binding: Option<ClusterRoleBinding>,
    /// The rendered config.
    pub config_map: ConfigMap,
    /// The pods.
    pub deployment: Deployment,
    /// Scales the gateway between the plan's bounds.
    pub autoscaler: Option<HorizontalPodAutoscaler>,
    /// Keeps all but one gateway pod up during node drains.
    pub disruption_budget: Option<PodDisruptionBudget>,
    /// `otlp`: OTLP gRPC 4317 and HTTP 4318.
    pub service: Service,
}

impl Gateway {
    /// What the Istio configuration must reach, for [`istio::check`].
    #[must_use]
    pub fn istio_ref(&self) -> istio::GatewayRef<'_> {
        istio::GatewayRef { service: &self.service, deployment: &self.deployment, config: &self.config }
    }

    /// The config with where it runs, for [`crate::check`].
    #[must_use]
    pub fn config_ref(&self) -> ConfigRef {
        let ns = self.deployment.metadata.namespace.as_deref().unwrap_or_default();
        ConfigRef {
            config: self.config.clone(),
            distribution: self.distribution,
            version: self.version,
            workload: ObjectRef::namespaced("Deployment", ns, self.deployment.metadata.name.as_deref().unwrap_or(NAME)),
            config_map: self.config_map.metadata.name.clone().unwrap_or_default(),
            key: self
                .config_map
                .data
                .as_ref()
                .and_then(|d| d.keys().next().cloned())
                .unwrap_or_else(|| CONFIG_FILE.into()),
            written: Some(Arc::clone(&self.written)),
        }
    }
}

impl Component for Gateway {
    fn into_objects(self) -> Vec<Object> {
        let mut objects = vec![self.service_account.into()];
        objects.extend(self.cluster_role.map(Object::from));
        objects.extend(self.cluster_role_binding.map(Object::from));
        objects.extend([self.config_map.into(), self.service.into(), self.deployment.into()]);
        objects.extend(self.autoscaler.map(Object::from));
        objects.extend(self.disruption_budget.map(Object::from));
        objects
    }
}

/// The gateway's collector config: `otlp` in; `memory_limiter` first, then `k8s_attributes` and
/// `resource/defaults` (uniform resource attributes), optional sampling, `batch` last; out over
/// OTLP/gRPC to `jaeger_endpoint` with a bounded queue and retries.
///
/// # Errors
/// When the distribution does not ship a component or does not know the pinned version.
pub fn config(profile: &Profile, plan: &Plan, jaeger_endpoint: &str) -> Result<Config, Error> {
    let spec = &profile.collector;
    let sizing = plan.gateway.memory;
    let mut config = Config::default();
    let health = config.enable_extension(
        None,
        Extension::HealthCheck(HealthCheck { endpoint: format!("0.0.0.0:{}", ports::HEALTH), path: "/".into() }),
    );
    debug_assert_eq!(health.type_name(), "health_check");
    let mut otlp = OtlpReceiver::all_interfaces(ports::OTLP_GRPC, ports::OTLP_HTTP);
    if profile.agents.enabled
        && let Some(grpc) = otlp.protocols.grpc.as_mut()
    {
        // Each agent holds one long-lived gRPC connection through the `otlp` Service, which picks a
        // gateway pod once per connection: closing connections every minute spreads the agents
        // over pods added since (as Jaeger's receiver does for the gateways).
        grpc.keepalive = Some(ServerKeepalive {
            server_parameters: ServerParameters {
                max_connection_age: crate::value::duration::Duration::from_secs(60),
                max_connection_age_grace: crate::value::duration::Duration::from_secs(10),
            },
        });
    }
    let mut receivers = vec![config.add_receiver(None, Receiver::Otlp(otlp))];
    if serves_zipkin(profile) {
        receivers.push(
            config.add_receiver(None, Receiver::Zipkin(ZipkinReceiver::listening_on(ports::ZIPKIN, spec.version.0))),
        );
    }
    let mut processors = vec![config.add_processor(
        None,
        Processor::MemoryLimiter(MemoryLimiter {
            check_interval: crate::value::duration::Duration::from_secs(1),
            limit_mib: sizing.limit_mib,
            spike_limit_mib: sizing.spike_limit_mib,
        }),
    )];
    // `k8s_attributes` must run before `batch`: batching drops the connection context whose sender
    // IP is the last-resort pod association (the processor's README, "connection").
    if spec.k8s_attributes {
        // Behind node agents the sender's address is an agent's, never the application's: spans
        // the agents could not place keep what they report rather than the agent pod's metadata.
        let by_connection = !profile.agents.enabled;
        processors.push(
            config.add_processor(None, k8s_attributes(spec.distribution.0, spec.version.0, None, by_connection)?),
        );
    }
    processors.push(config.add_processor(Some("defaults"), resource_defaults(&profile.environment)));
    if profile.sampling.percentage < 100.0 {
        processors.push(config.add_processor(
            None,
            Processor::ProbabilisticSampler(ProbabilisticSampler { sampling_percentage: profile.sampling.percentage }),
        ));
    }
    processors.push(config.add_processor(
        None,
        Processor::Batch(Batch {
            timeout: spec.batch.timeout,
            send_batch_size: plan.gateway.batch_size,
            send_batch_max_size: plan.gateway.batch_max,
        }),
    ));
    let exporter = if profile.tail_sampling.enabled {
        // Every span of a trace to the same member of the sampling tier, so each member decides
        // on whole traces.
        config.add_exporter(Some("sampler"), sampler_exporter(profile, plan))
    } else {
        let (name, exporter) = backend_exporter(profile, &plan.gateway, jaeger_endpoint)?;
        config.add_exporter(Some(name), exporter)
    };
    config.add_pipeline(
        PipelineId::new(Signal::Traces, None),
        Pipeline { receivers, processors, exporters: vec![exporter] },
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

/// OTLP/gRPC to Jaeger's receiving role at `endpoint`, with the workload's queue and the profile's
/// retries: the gateway's exporter, or the sampling tier's behind it.
///
/// # Errors
/// When the component table does not know the pinned version.
pub fn jaeger_exporter(profile: &Profile, plan: &WorkloadPlan, endpoint: &str) -> Result<Exporter, Error> {
    let spec = &profile.collector;
    let exporter = OtlpExporter {
        endpoint: endpoint.to_owned(),
        balancer_name: endpoint.starts_with("dns:///").then(|| "round_robin".to_owned()),
        tls: match &profile.jaeger.collector_tls {
            Some(_) => ClientTls { ca_file: Some(format!("{JAEGER_CA_DIR}/ca.crt")), ..ClientTls::default() },
            None => ClientTls::plaintext(),
        },
        compression: None,
        timeout: Some(crate::value::duration::Duration::from_secs(10)),
        sending_queue: Some(SendingQueue {
            enabled: true,
            num_consumers: spec.queue.num_consumers,
            queue_size: plan.queue_spans,
            sizer: "items".into(),
            block_on_overflow: None,
        }),
        retry_on_failure: Some(retry(profile)),
    };
    otlp_grpc_exporter(spec.distribution.0, spec.version.0, exporter)
}

/// What the last collector before Jaeger exports with, and its name: the Kafka topic with
/// `kafka.enabled` (every replica must have the message: `required_acks: -1`; each message keyed
/// by trace id), else OTLP/gRPC to Jaeger.
///
/// # Errors
/// When the component table does not know the pinned version.
pub fn backend_exporter(
    profile: &Profile,
    plan: &WorkloadPlan,
    jaeger_endpoint: &str,
) -> Result<(&'static str, Exporter), Error> {
    if !profile.kafka.enabled {
        return Ok(("jaeger", jaeger_exporter(profile, plan, jaeger_endpoint)?));
    }
    Ok((
        "spans",
        Exporter::Kafka(KafkaExporter {
            client: kafka::client(profile),
            traces: kafka::topic(profile),
            partition_traces_by_id: true,
            producer: KafkaProducer { required_acks: -1, compression: "zstd".into() },
            timeout: Some(crate::value::duration::Duration::from_secs(10)),
            sending_queue: Some(SendingQueue {
                enabled: true,
                num_consumers: profile.collector.queue.num_consumers,
                queue_size: plan.queue_spans,
                sizer: "items".into(),
                block_on_overflow: None,
            }),
            retry_on_failure: Some(retry(profile)),
        }),
    ))
}

fn retry(profile: &Profile) -> RetryOnFailure {
    let r = &profile.collector.retry;
    RetryOnFailure {
        enabled: true,
        initial_interval: r.initial_interval,
        max_interval: r.max_interval,
        max_elapsed_time: r.max_elapsed_time,
    }
}

/// The headless Service of the sampling tier (the `loadbalancing` exporter resolves its members).
pub const SAMPLER_HEADLESS_SERVICE: &str = "otel-sampler-headless";

/// The gateway's `loadbalancing` exporter to the sampling tier: routing by trace id, each member
/// over OTLP/gRPC, found by DNS on the headless Service or through its EndpointSlices.
#[must_use]
pub fn sampler_exporter(profile: &Profile, plan: &Plan) -> Exporter {
    let ns = &profile.namespace;
    let resolver = match profile.tail_sampling.resolver {
        ResolverKind::Dns => LoadBalancingResolver {
            dns: Some(DnsResolver {
                hostname: format!("{SAMPLER_HEADLESS_SERVICE}.{ns}.svc.cluster.local"),
                port: ports::OTLP_GRPC.to_string(),
                interval: crate::value::duration::Duration::from_secs(5),
            }),
            k8s: None,
        },
        ResolverKind::K8s => LoadBalancingResolver {
            dns: None,
            k8s: Some(K8sResolver {
                service: format!("{SAMPLER_HEADLESS_SERVICE}.{ns}"),
                ports: vec![ports::OTLP_GRPC],
            }),
        },
    };
    Exporter::LoadBalancing(LoadBalancingExporter {
        routing_key: "traceID".into(),
        protocol: LoadBalancingProtocol {
            otlp: LoadBalancingOtlp {
                tls: ClientTls::plaintext(),
                timeout: crate::value::duration::Duration::from_secs(10),
            },
        },
        resolver,
        timeout: None,
        sending_queue: Some(SendingQueue {
            enabled: true,
            num_consumers: profile.collector.queue.num_consumers,
            queue_size: plan.gateway.queue_spans,
            sizer: "items".into(),
            block_on_overflow: None,
        }),
        retry_on_failure: Some(retry(profile)),
    })
}

/// Whether the gateway also receives Zipkin, for Envoy proxies on Istio's legacy tracer.
#[must_use]
pub fn serves_zipkin(profile: &Profile) -> bool {
    profile.istio.enabled && profile.istio.legacy_zipkin
}

/// Name of the gateway's Zipkin port (container and Service): `http-` so that Istio, which picks
/// a port's protocol from its name prefix or `appProtocol`, treats it as HTTP.
pub const ZIPKIN_PORT: &str = "http-zipkin";

/// The first contrib version whose `k8s_attributes` computes `service.name` and `service.version`
/// from the well-known `app.kubernetes.io/{instance,name,version}` pod labels (falling back to the
/// workload name and the image tag) when they are listed under `extract.metadata`: contrib PR #37114,
/// "Add option to configure automatic service resource attributes", released in v0.127.0.
pub const SERVICE_ATTRIBUTES_SINCE: distribution::Version = distribution::Version::new(0, 127, 0);

/// `k8s_attributes` for a gateway: the sender's namespace, pod, Deployment and node, plus
/// `service.name`/`service.version` from the pod's well-known labels, each only where the span's
/// resource lacks it.
///
/// A span finds its pod by the pod UID or the pod name and namespace it reports (onboarded apps
/// report both, see [`crate::components::apps`], which keeps working behind a mesh sidecar or any
/// proxy), and failing that, when `by_connection`, by the sender's IP address. With `node_env` the
/// processor watches only the pods of the node that variable names (a node agent).
///
/// # Errors
/// When the component table does not know `version`.
pub fn k8s_attributes(
    dist: distribution::Distribution,
    version: distribution::Version,
    node_env: Option<&str>,
    by_connection: bool,
) -> Result<Processor, Error> {
    let mut metadata: Vec<String> =
        ["k8s.namespace.name", "k8s.pod.name", "k8s.pod.uid", "k8s.deployment.name", "k8s.node.name"]
            .map(str::to_owned)
            .to_vec();
    let mut labels = Vec::new();
    if version >= SERVICE_ATTRIBUTES_SINCE {
        metadata.extend(["service.name".to_owned(), "service.version".to_owned()]);
    } else {
        for (attribute, label) in
            [("service.name", "app.kubernetes.io/name"), ("service.version", "app.kubernetes.io/version")]
        {
            labels.push(K8sFieldExtract { tag_name: attribute.into(), key: label.into(), from: "pod".into() });
        }
    }
    let mut pod_association = vec![
        PodAssociation { sources: vec![AssociationSource::attribute("k8s.pod.uid")] },
        PodAssociation {
            sources: vec![
                AssociationSource::attribute("k8s.namespace.name"),
                AssociationSource::attribute("k8s.pod.name"),
            ],
        },
    ];
    if by_connection {
        pod_association.push(PodAssociation { sources: vec![AssociationSource::connection()] });
    }
    let processor = K8sAttributes {
        auth_type: "serviceAccount".into(),
        passthrough: false,
        filter: node_env.map(|env| K8sFilter { node_from_env_var: Some(env.to_owned()) }),
        extract: K8sExtract { metadata, labels },
        pod_association,
    };
    let modern =
        distribution::ships(dist, version, ComponentKind::Processor, "k8s_attributes").map_err(|e| Error::Config {
            component: NAME.into(),
            errors: vec![crate::config::collector::ConfigError::UnknownVersion(e.to_string())],
        })?;
    Ok(if modern { Processor::K8sAttributes(processor) } else { Processor::K8sAttributesLegacy(processor) })
}

/// `resource/defaults`: fills what neither the application nor `k8s_attributes` set, never
/// overwriting (`insert`): `deployment.environment.name` from the profile, `service.name` from the
/// Deployment (else `unknown_service`, the OpenTelemetry default) and `service.version` `unknown`.
#[must_use]
pub fn resource_defaults(environment: &str) -> Processor {
    Processor::Resource(ResourceProcessor {
        attributes: vec![
            AttributeAction::insert_value("deployment.environment.name", environment),
            AttributeAction::insert_from("service.name", "k8s.deployment.name"),
            AttributeAction::insert_value("service.name", "unknown_service"),
            AttributeAction::insert_value("service.version", "unknown"),
        ],
    })
}

/// The OTLP/gRPC exporter under the name the pinned version uses: `otlp_grpc` where it ships,
/// else `otlp` (renamed in v0.144.0, where `otlp` became a deprecated alias that logs a warning).
///
/// # Errors
/// When the component table does not know `version`.
pub fn otlp_grpc_exporter(
    dist: distribution::Distribution,
    version: distribution::Version,
    exporter: OtlpExporter,
) -> Result<Exporter, Error> {
    let modern =
        distribution::ships(dist, version, ComponentKind::Exporter, "otlp_grpc").map_err(|e| Error::Config {
            component: NAME.into(),
            errors: vec![crate::config::collector::ConfigError::UnknownVersion(e.to_string())],
        })?;
    Ok(if modern { Exporter::OtlpGrpc(exporter) } else { Exporter::Otlp(exporter) })
}

/// The gateway: its config, ServiceAccount, ConfigMap, Deployment and the `otlp` Service.
///
/// # Errors
/// See [`config`].
pub fn gateway(profile: &Profile, plan: &Plan, jaeger_endpoint: &str) -> Result<Gateway, Error> {
    let spec = &profile.collector;
    let ns = profile.namespace.as_str();
    let version = spec.version.0.to_string();
    let config = config(profile, plan, jaeger_endpoint)?;
    let written = Arc::new(Written::new(&config)?);
    let image = k8s::image(
        spec.image.as_deref().unwrap_or(spec.distribution.0.default_image()),
        &version,
        spec.digest.as_deref(),
    );
    let mut volumes: Vec<_> = profile
        .jaeger
        .collector_tls
        .iter()
        .map(|tls| k8s::secret_volume("jaeger-ca", &tls.secret, &[("ca.crt", "ca.crt")], JAEGER_CA_DIR))
        .collect();
    let mut env = vec![k8s::env("GOMEMLIMIT", &plan.gateway.memory.gomemlimit())];
    // The gateway writes to Kafka unless a tail-sampling tier stands between.
    if profile.kafka.enabled && !profile.tail_sampling.enabled {
        volumes.extend(kafka::volumes(profile));
        env.extend(kafka::env(profile));
    }
    let workload = workload::build(WorkloadSpec {
        name: NAME,
        app: NAME,
        component: COMPONENT,
        namespace: ns,
        version: version.clone(),
        image,
        plan: &plan.gateway,
        config_dir: CONFIG_DIR,
        config_file: CONFIG_FILE,
        config_text: written.text().to_owned(),
        ports: [
            k8s::port("otlp-grpc", ports::OTLP_GRPC),
            k8s::port("otlp-http", ports::OTLP_HTTP),
            k8s::port(ZIPKIN_PORT, ports::ZIPKIN),
            k8s::port("metrics", ports::COLLECTOR_METRICS),
            k8s::port("health", ports::HEALTH),
        ]
        .into_iter()
        .filter(|p| serves_zipkin(profile) || p.container_port != i32::from(ports::ZIPKIN))
        .collect(),
        env,
        volumes,
        health_path: "/",
        service_account: NAME,
        // `k8s_attributes` watches the API server with the pod's ServiceAccount token; without it the
        // token is not mounted.
        api_access: spec.k8s_attributes
            || (profile.tail_sampling.enabled && profile.tail_sampling.resolver == ResolverKind::K8s),
        priority_class_name: profile.security.priority_class_name.as_deref(),
        termination_grace_seconds: TERMINATION_GRACE_SECONDS,
        init_containers: Vec::new(),
        init_volumes: Vec::new(),
    });
    let labels = k8s::labels(NAME, COMPONENT, &version);
    let service = k8s::service(
        SERVICE,
        ns,
        &labels,
        k8s::selector(NAME, COMPONENT),
        &[
            ServicePortSpec { name: "otlp-grpc", port: ports::OTLP_GRPC, app_protocol: "grpc" },
            ServicePortSpec { name: "otlp-http", port: ports::OTLP_HTTP, app_protocol: "http" },
            ServicePortSpec { name: ZIPKIN_PORT, port: ports::ZIPKIN, app_protocol: "http" },
        ][..if serves_zipkin(profile) { 3 } else { 2 }],
        false,
    );
    let (cluster_role, cluster_role_binding) = spec.k8s_attributes.then(|| rbac(ns, &labels, spec.version.0)).unzip();
    Ok(Gateway {
        config,
        written,
        distribution: spec.distribution.0,
        version: spec.version.0,
        service_account: workload::service_account(NAME, NAME, COMPONENT, ns, &version),
        cluster_role,
        cluster_role_binding,
        config_map: workload.config_map,
        deployment: workload.deployment,
        autoscaler: workload.autoscaler,
        disruption_budget: workload.disruption_budget,
        service,
    })
}

/// The name of the gateway's ClusterRole and ClusterRoleBinding: cluster-scoped, so it carries the
/// namespace to let two stacks share a cluster.
#[must_use]
pub fn cluster_role_name(namespace: &str) -> String {
    format!("{NAME}-{namespace}")
}

/// The first contrib release whose `k8s_attributes` derives `k8s.deployment.name` from the owning
/// ReplicaSet's name (`deployment_name_from_replicaset` on by default: `factory.go` of v0.155.0;
/// v0.152.0 still defaults it off and watches ReplicaSets; the module proxy serves neither v0.153.0
/// nor v0.154.0, so they keep the ReplicaSet rule).
const DEPLOYMENT_NAME_WITHOUT_REPLICASETS: distribution::Version = distribution::Version::new(0, 155, 0);

/// Least privilege for `k8s_attributes`: `get`, `watch`, `list` on pods and namespaces (the
/// processor always runs both informers) and, before v0.155.0, on ReplicaSets (in `apps`), which
/// those versions watch to find a pod's Deployment. Nothing else: no nodes (the node name comes
/// from the pod), no Deployments (no Deployment labels are extracted). The `apiserver` e2e suite
/// takes each rule out in turn and sees the spans lose attributes.
fn rbac(
    namespace: &str,
    labels: &std::collections::BTreeMap<String, String>,
    version: distribution::Version,
) -> (ClusterRole, ClusterRoleBinding) {
    let name = cluster_role_name(namespace);
    let meta = ObjectMeta { name: Some(name.clone()), labels: Some(labels.clone()), ..ObjectMeta::default() };
    let verbs = || ["get", "list", "watch"].map(str::to_owned).to_vec();
    let role = ClusterRole {
        metadata: meta.clone(),
        rules: Some(
            [
                Some(PolicyRule {
                    api_groups: Some(vec![String::new()]),
                    resources: Some(vec!["namespaces".into(), "pods".into()]),
                    verbs: verbs(),
                    ..PolicyRule::default()
                }),
                (version < DEPLOYMENT_NAME_WITHOUT_REPLICASETS).then(|| PolicyRule {
                    api_groups: Some(vec!["apps".into()]),
                    resources: Some(vec!["replicasets".into()]),
                    verbs: verbs(),
                    ..PolicyRule::default()
                }),
            ]
            .into_iter()
            .flatten()
            .collect(),
        ),
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
    use crate::config::collector::Version;

    fn processors(profile: &Profile) -> Vec<String> {
        let plan = crate::model::plan::Plan::resolve(profile).unwrap_or_else(|e| panic!("{e}"));
        let config = config(profile, &plan, "jaeger:4317").unwrap_or_else(|e| panic!("{e}"));
        let pipeline = &config.service.pipelines[&PipelineId::new(Signal::Traces, None)];
        pipeline.processors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn attributes_are_made_uniform_after_the_memory_limiter_and_before_sampling_and_batching() {
        let mut profile = Profile::default();
        assert_eq!(processors(&profile), ["memory_limiter", "k8s_attributes", "resource/defaults", "batch"]);
        profile.sampling.percentage = 10.0;
        assert_eq!(
            processors(&profile),
            ["memory_limiter", "k8s_attributes", "resource/defaults", "probabilistic_sampler", "batch"]
        );
    }

    #[test]
    fn k8s_attributes_takes_the_name_and_options_the_pinned_version_knows() {
        let at =
            |v| k8s_attributes(distribution::Distribution::OtelcolK8s, v, None, true).unwrap_or_else(|e| panic!("{e}"));
        let modern = at(Version::new(0, 159, 0));
        assert_eq!(modern.type_name(), "k8s_attributes");
        let Processor::K8sAttributes(p) = &modern else { panic!("{modern:?}") };
        assert!(p.extract.metadata.contains(&"service.name".to_owned()) && p.extract.labels.is_empty());
        assert!(p.extract.metadata.contains(&"service.version".to_owned()));

        let renamed_later = at(Version::new(0, 140, 0));
        assert_eq!(renamed_later.type_name(), "k8sattributes");
        let Processor::K8sAttributesLegacy(p) = &renamed_later else { panic!("{renamed_later:?}") };
        assert!(p.extract.metadata.contains(&"service.name".to_owned()));

        // Before v0.127.0 `service.name` is not a metadata key: copy the well-known labels instead.
        let old = at(Version::new(0, 120, 0));
        let Processor::K8sAttributesLegacy(p) = &old else { panic!("{old:?}") };
        assert!(!p.extract.metadata.iter().any(|m| m.starts_with("service.")));
        let labels: Vec<(&str, &str)> =
            p.extract.labels.iter().map(|l| (l.tag_name.as_str(), l.key.as_str())).collect();
        assert_eq!(
            labels,
            [("service.name", "app.kubernetes.io/name"), ("service.version", "app.kubernetes.io/version")]
        );
    }

    #[test]
    fn resource_defaults_only_insert() {
        let Processor::Resource(r) = resource_defaults("staging") else { panic!() };
        assert!(r.attributes.iter().all(|a| a.action == "insert"));
        assert_eq!(r.attributes[0].value.as_deref(), Some("staging"));
        assert_eq!(r.attributes[0].key, "deployment.environment.name");
    }

    #[test]
    fn without_k8s_attributes_the_gateway_needs_no_cluster_role_and_no_api_server() {
        let mut profile = Profile::default();
        profile.collector.k8s_attributes = false;
        assert_eq!(processors(&profile), ["memory_limiter", "resource/defaults", "batch"]);
        let stack = crate::stack::Stack::build(&profile).unwrap_or_else(|e| panic!("{e}"));
        assert!(stack.gateway.cluster_role.is_none() && stack.gateway.cluster_role_binding.is_none());
        let pod = stack.gateway.deployment.spec.as_ref().and_then(|s| s.template.spec.as_ref());
        assert_eq!(pod.and_then(|p| p.automount_service_account_token), Some(false));
        let source = crate::render::Source { profile: "p".into(), origin: "p.yaml".into() };
        let rendered = crate::render::render_stack(stack, &source).unwrap_or_else(|e| panic!("{e}"));
        assert!(!rendered.files.keys().any(|f| f.contains("clusterrole")), "{:?}", rendered.files.keys());
        let policy = &rendered.files["otel-collector-networkpolicy.yaml"];
        assert!(!policy.contains("port: 6443"), "{policy}");
        assert!(!rendered.files["otel-collector-configmap.yaml"].contains("k8s_attributes"));
    }

    #[test]
    fn the_gateway_reads_the_api_with_least_privilege() {
        let profile = Profile::default();
        let plan = crate::model::plan::Plan::resolve(&profile).unwrap_or_else(|e| panic!("{e}"));
        let gateway = gateway(&profile, &plan, "jaeger:4317").unwrap_or_else(|e| panic!("{e}"));
        let spec = gateway.deployment.spec.as_ref().and_then(|s| s.template.spec.as_ref());
        assert_eq!(spec.and_then(|s| s.automount_service_account_token), Some(true));
        let rules = gateway.cluster_role.expect("k8s_attributes is on by default").rules.unwrap_or_default();
        let granted: Vec<(String, String, Vec<String>)> = rules
            .iter()
            .flat_map(|r| {
                let groups = r.api_groups.clone().unwrap_or_default();
                let resources = r.resources.clone().unwrap_or_default();
                groups
                    .into_iter()
                    .flat_map(move |g| resources.clone().into_iter().map(move |res| (g.clone(), res)))
                    .map(|(g, res)| (g, res, r.verbs.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let read = ["get", "list", "watch"].map(str::to_owned).to_vec();
        assert_eq!(
            granted,
            [(String::new(), "namespaces".to_owned(), read.clone()), (String::new(), "pods".to_owned(), read.clone())]
        );
        // Before v0.155.0 the processor watches ReplicaSets for `k8s.deployment.name`.
        let (old, _) = rbac("observability", &std::collections::BTreeMap::new(), distribution::Version::new(0, 152, 0));
        let old: Vec<String> =
            old.rules.unwrap_or_default().iter().flat_map(|r| r.resources.clone().unwrap_or_default()).collect();
        assert_eq!(old, ["namespaces", "pods", "replicasets"]);
        let binding = gateway.cluster_role_binding.expect("k8s_attributes is on by default");
        let subject = &binding.subjects.unwrap_or_default()[0];
        assert_eq!((subject.name.as_str(), subject.namespace.as_deref()), (NAME, Some("observability")));
        assert_eq!(binding.role_ref.name, "otel-collector-observability");
    }
}
