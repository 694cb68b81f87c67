//! The tail-sampling tier: `otel-sampler` pods behind the headless `otel-sampler-headless`
//! Service. The gateway's `loadbalancing` exporter sends every span of a trace to the same member
//! (by trace id), so each member holds whole traces; its `tail_sampling` processor keeps a trace
//! when any of the profile's policies does, and exports the kept ones to Jaeger.
//!
//! The member count is fixed (no autoscaler): a new member changes which member each trace id maps
//! to, and traces in flight during the change are split.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceAccount};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};

use crate::check::{ConfigRef, ObjectRef};
use crate::components::Component;
use crate::components::Error;
use crate::components::collector;
use crate::components::jaeger;
use crate::components::kafka;
use crate::components::workload::{self, WorkloadSpec};
use crate::config::collector::component::{
    Batch, HealthCheck, MemoryLimiter, OtlpReceiver, SamplingPolicy, TailSampling,
};
use crate::config::collector::{
    Config, Extension, Logs, Pipeline, PipelineId, Processor, Receiver, Signal, Telemetry, Written, distribution,
};
use crate::config::k8s::{self, Object, ServicePortSpec};
use crate::model::plan::Plan;
use crate::model::profile::{Profile, ResolverKind, TailPolicies};
use crate::value::ports;

/// `app.kubernetes.io/name`, Deployment and ServiceAccount name of the sampling tier.
pub const NAME: &str = "otel-sampler";
/// `app.kubernetes.io/component`.
pub const COMPONENT: &str = "sampler";
/// The Role (and RoleBinding) that lets the gateway's `k8s` resolver watch the tier's
/// EndpointSlices.
pub const RESOLVER_ROLE: &str = "otel-collector-resolver";

/// The sampling tier's objects.
#[derive(Clone, Debug, PartialEq)]
pub struct Sampler {
    /// The typed collector config.
    pub config: Config,
    /// Its YAML.
    pub written: Arc<Written>,
    /// The distribution (the gateway's).
    pub distribution: distribution::Distribution,
    /// Its version.
    pub version: distribution::Version,
    /// Identity of the pods (no API access).
    pub service_account: ServiceAccount,
    /// The rendered config.
    pub config_map: ConfigMap,
    /// The pods.
    pub deployment: Deployment,
    /// Keeps all but one member up during node drains.
    pub disruption_budget: Option<PodDisruptionBudget>,
    /// `otel-sampler-headless`: every member's address, for the gateway's resolver.
    pub headless_service: Service,
    /// With the `k8s` resolver: list and watch EndpointSlices in the stack's namespace.
    pub resolver_role: Option<Role>,
    /// Grants `resolver_role` to the gateway's ServiceAccount.
    pub resolver_role_binding: Option<RoleBinding>,
}

impl Sampler {
    /// The config with where it runs, for [`crate::check`].
    #[must_use]
    pub fn config_ref(&self) -> ConfigRef {
        let ns = self.deployment.metadata.namespace.as_deref().unwrap_or_default();
        ConfigRef {
            config: self.config.clone(),
            distribution: self.distribution,
            version: self.version,
            workload: ObjectRef::namespaced("Deployment", ns, NAME),
            config_map: self.config_map.metadata.name.clone().unwrap_or_default(),
            key: collector::CONFIG_FILE.into(),
            written: Some(Arc::clone(&self.written)),
        }
    }
}

impl Component for Sampler {
    fn into_objects(self) -> Vec<Object> {
        let mut objects = vec![self.service_account.into()];
        objects.extend(self.resolver_role.map(Object::from));
        objects.extend(self.resolver_role_binding.map(Object::from));
        objects.extend([self.config_map.into(), self.headless_service.into(), self.deployment.into()]);
        objects.extend(self.disruption_budget.map(Object::from));
        objects
    }
}

/// The policies of the profile, in a fixed order: `smoke-test` (every trace of the smoke-test Job's
/// `tracestack-smoke` service, so the smoke test finds all it sent), `errors` (status `ERROR`),
/// `slow` (latency), one
/// `service-<name>` per service rate (`and` of the service name and a probabilistic share), and
/// `baseline`. Every probabilistic policy hashes the trace id the same way, so a trace kept at a
/// smaller share is also kept at a larger one: a service's effective rate is the larger of its own
/// and the baseline.
#[must_use]
pub fn policies(p: &TailPolicies) -> Vec<SamplingPolicy> {
    let mut out = vec![SamplingPolicy::string_attribute(
        "smoke-test",
        "service.name",
        &[crate::components::smoke_test::SERVICE_NAME],
    )];
    if p.errors {
        out.push(SamplingPolicy::status_code("errors", &["ERROR"]));
    }
    if let Some(threshold) = p.latency_threshold {
        out.push(SamplingPolicy::latency("slow", threshold.as_millis()));
    }
    for (service, pct) in &p.services {
        out.push(SamplingPolicy::and(
            &format!("service-{service}"),
            vec![
                SamplingPolicy::string_attribute("service", "service.name", &[service.as_str()]),
                SamplingPolicy::probabilistic("share", *pct),
            ],
        ));
    }
    if p.baseline_percentage > 0.0 {
        out.push(SamplingPolicy::probabilistic("baseline", p.baseline_percentage));
    }
    out
}

/// The sampling tier's config: `otlp` in; `memory_limiter`, `tail_sampling`, `batch`; out to
/// Jaeger like the gateway would.
///
/// # Errors
/// When the distribution does not ship a component.
pub fn config(profile: &Profile, plan: &Plan, jaeger_endpoint: &str) -> Result<Config, Error> {
    let spec = &profile.collector;
    let t = &profile.tail_sampling;
    let mut config = Config::default();
    config.enable_extension(
        None,
        Extension::HealthCheck(HealthCheck { endpoint: format!("0.0.0.0:{}", ports::HEALTH), path: "/".into() }),
    );
    let receivers = vec![
        config.add_receiver(None, Receiver::Otlp(OtlpReceiver::all_interfaces(ports::OTLP_GRPC, ports::OTLP_HTTP))),
    ];
    let wait = t.decision_wait.as_secs_ceil().max(1);
    let processors = vec![
        config.add_processor(
            None,
            Processor::MemoryLimiter(MemoryLimiter {
                check_interval: crate::value::duration::Duration::from_secs(1),
                limit_mib: plan.sampler.memory.limit_mib,
                spike_limit_mib: plan.sampler.memory.spike_limit_mib,
            }),
        ),
        config.add_processor(
            None,
            Processor::TailSampling(TailSampling {
                decision_wait: t.decision_wait,
                num_traces: plan.sampler_num_traces,
                expected_new_traces_per_sec: (plan.sampler_num_traces / wait / 2).max(1),
                policies: policies(&t.policies),
            }),
        ),
        config.add_processor(
            None,
            Processor::Batch(Batch {
                timeout: spec.batch.timeout,
                send_batch_size: plan.sampler.batch_size,
                send_batch_max_size: plan.sampler.batch_max,
            }),
        ),
    ];
    let (name, exporter) = collector::backend_exporter(profile, &plan.sampler, jaeger_endpoint)?;
    let jaeger = config.add_exporter(Some(name), exporter);
    if jaeger::span_metrics_enabled(profile) {
        // RED metrics from every span, before `tail_sampling` keeps some: a second pipeline from
        // the same receiver into the `spanmetrics` connector, served on the `span-metrics` port.
        let connector = jaeger::add_span_metrics(&mut config, profile);
        config.add_pipeline(
            PipelineId::new(Signal::Traces, Some("spanmetrics")),
            Pipeline {
                receivers: receivers.clone(),
                processors: vec![processors[0].clone()],
                exporters: vec![connector],
            },
        );
    }
    config.add_pipeline(
        PipelineId::new(Signal::Traces, None),
        Pipeline { receivers, processors, exporters: vec![jaeger] },
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

/// The sampling tier, when the profile enables it.
///
/// # Errors
/// See [`config`].
pub fn sampler(profile: &Profile, plan: &Plan, jaeger_endpoint: &str) -> Result<Option<Sampler>, Error> {
    if !profile.tail_sampling.enabled {
        return Ok(None);
    }
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
        .map(|tls| k8s::secret_volume("jaeger-ca", &tls.secret, &[("ca.crt", "ca.crt")], collector::JAEGER_CA_DIR))
        .collect();
    let mut env = vec![k8s::env("GOMEMLIMIT", &plan.sampler.memory.gomemlimit())];
    if profile.kafka.enabled {
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
        plan: &plan.sampler,
        config_dir: collector::CONFIG_DIR,
        config_file: collector::CONFIG_FILE,
        config_text: written.text().to_owned(),
        ports: [
            k8s::port("otlp-grpc", ports::OTLP_GRPC),
            k8s::port("otlp-http", ports::OTLP_HTTP),
            k8s::port("metrics", ports::COLLECTOR_METRICS),
            k8s::port(jaeger::SPAN_METRICS_PORT, ports::SPAN_METRICS),
            k8s::port("health", ports::HEALTH),
        ]
        .into_iter()
        .filter(|p| jaeger::span_metrics_enabled(profile) || p.container_port != i32::from(ports::SPAN_METRICS))
        .collect(),
        env,
        volumes,
        health_path: "/",
        service_account: NAME,
        api_access: false,
        priority_class_name: profile.security.priority_class_name.as_deref(),
        // Traces held for `decision_wait` are decided and exported on shutdown.
        termination_grace_seconds: collector::TERMINATION_GRACE_SECONDS,
        init_containers: Vec::new(),
        init_volumes: Vec::new(),
    });
    let labels = k8s::labels(NAME, COMPONENT, &version);
    let headless_service = k8s::service(
        collector::SAMPLER_HEADLESS_SERVICE,
        ns,
        &labels,
        k8s::selector(NAME, COMPONENT),
        &[ServicePortSpec { name: "otlp-grpc", port: ports::OTLP_GRPC, app_protocol: "grpc" }],
        true,
    );
    let (resolver_role, resolver_role_binding) =
        (profile.tail_sampling.resolver == ResolverKind::K8s).then(|| resolver_rbac(ns, &labels)).unzip();
    Ok(Some(Sampler {
        config,
        written,
        distribution: spec.distribution.0,
        version: spec.version.0,
        service_account: workload::service_account(NAME, NAME, COMPONENT, ns, &version),
        config_map: workload.config_map,
        deployment: workload.deployment,
        disruption_budget: workload.disruption_budget,
        headless_service,
        resolver_role,
        resolver_role_binding,
    }))
}

/// What the `loadbalancing` exporter's `k8s` resolver reads (contrib
/// `exporter/loadbalancingexporter/resolver_k8s.go`, v0.159.0): it lists and watches
/// `discovery.k8s.io` EndpointSlices in the Service's namespace, nothing else.
fn resolver_rbac(namespace: &str, labels: &std::collections::BTreeMap<String, String>) -> (Role, RoleBinding) {
    let meta = k8s::meta(RESOLVER_ROLE, namespace, labels);
    let role = Role {
        metadata: meta.clone(),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec!["discovery.k8s.io".into()]),
            resources: Some(vec!["endpointslices".into()]),
            verbs: vec!["list".into(), "watch".into()],
            ..PolicyRule::default()
        }]),
    };
    let binding = RoleBinding {
        metadata: meta,
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: RESOLVER_ROLE.into(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: collector::NAME.into(),
            namespace: Some(namespace.into()),
            ..Subject::default()
        }]),
    };
    (role, binding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::duration::Duration;

    #[test]
    fn policies_follow_the_profile() {
        let mut p = TailPolicies::default();
        p.services.insert("checkout".into(), 50.0);
        let names: Vec<(String, &str)> = policies(&p).into_iter().map(|x| (x.name, x.kind)).collect();
        assert_eq!(
            names,
            [
                ("smoke-test".to_owned(), "string_attribute"),
                ("errors".to_owned(), "status_code"),
                ("slow".to_owned(), "latency"),
                ("service-checkout".to_owned(), "and"),
                ("baseline".to_owned(), "probabilistic")
            ]
        );
        p.latency_threshold = Some(Duration::from_millis(1500));
        assert_eq!(policies(&p)[2].latency.as_ref().map(|l| l.threshold_ms), Some(1500));
    }

    #[test]
    fn the_k8s_resolver_gets_exactly_endpointslices_and_the_gateway_its_token() {
        let mut profile = Profile::default();
        profile.tail_sampling.enabled = true;
        profile.tail_sampling.resolver = ResolverKind::K8s;
        profile.collector.k8s_attributes = false;
        let stack = crate::stack::Stack::build(&profile).unwrap_or_else(|e| panic!("{e}"));
        let sampler = stack.sampler.as_ref().expect("enabled");
        let rules = sampler.resolver_role.as_ref().and_then(|r| r.rules.clone()).unwrap_or_default();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].resources.as_deref(), Some(&["endpointslices".to_owned()][..]));
        assert_eq!(rules[0].verbs, ["list", "watch"]);
        let pod = stack.gateway.deployment.spec.as_ref().and_then(|s| s.template.spec.as_ref());
        assert_eq!(pod.and_then(|p| p.automount_service_account_token), Some(true));
        profile.tail_sampling.resolver = ResolverKind::Dns;
        let stack = crate::stack::Stack::build(&profile).unwrap_or_else(|e| panic!("{e}"));
        assert!(stack.sampler.as_ref().is_some_and(|s| s.resolver_role.is_none()));
        let pod = stack.gateway.deployment.spec.as_ref().and_then(|s| s.template.spec.as_ref());
        assert_eq!(pod.and_then(|p| p.automount_service_account_token), Some(false));
    }
}
