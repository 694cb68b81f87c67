//! The OpenTelemetry Collector gateway: receives OTLP from applications and sidecars behind the
//! `otlp` Service and forwards every span to Jaeger's collector role over OTLP/gRPC.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceAccount};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;

use crate::collector::component::{
    Batch, ClientTls, HealthCheck, MemoryLimiter, OtlpExporter, OtlpReceiver, ProbabilisticSampler, RetryOnFailure,
    SendingQueue,
};
use crate::collector::{
    ComponentKind, Config, Exporter, Extension, Logs, Pipeline, PipelineId, Processor, Receiver, Signal, Telemetry,
    distribution,
};
use crate::components::Component;
use crate::components::workload::{self, WorkloadSpec};
use crate::error::Error;
use crate::k8s::{self, Object, ServicePortSpec};
use crate::plan::Plan;
use crate::ports;
use crate::profile::Profile;

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
    /// Identity of the pods.
    pub service_account: ServiceAccount,
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

impl Component for Gateway {
    fn into_objects(self) -> Vec<Object> {
        let mut objects =
            vec![self.service_account.into(), self.config_map.into(), self.service.into(), self.deployment.into()];
        objects.extend(self.autoscaler.map(Object::from));
        objects.extend(self.disruption_budget.map(Object::from));
        objects
    }
}

/// The gateway's collector config: `otlp` in; `memory_limiter` first, optional sampling, `batch`
/// last; out over OTLP/gRPC to `jaeger_endpoint` with a bounded queue and retries.
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
    let otlp =
        config.add_receiver(None, Receiver::Otlp(OtlpReceiver::all_interfaces(ports::OTLP_GRPC, ports::OTLP_HTTP)));
    let mut processors = vec![config.add_processor(
        None,
        Processor::MemoryLimiter(MemoryLimiter {
            check_interval: crate::duration::Duration::from_secs(1),
            limit_mib: sizing.limit_mib,
            spike_limit_mib: sizing.spike_limit_mib,
        }),
    )];
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
    let exporter = OtlpExporter {
        endpoint: jaeger_endpoint.to_owned(),
        balancer_name: jaeger_endpoint.starts_with("dns:///").then(|| "round_robin".to_owned()),
        tls: match &profile.jaeger.collector_tls {
            Some(_) => ClientTls { ca_file: Some(format!("{JAEGER_CA_DIR}/ca.crt")), ..ClientTls::default() },
            None => ClientTls::plaintext(),
        },
        compression: None,
        timeout: Some(crate::duration::Duration::from_secs(10)),
        sending_queue: Some(SendingQueue {
            enabled: true,
            num_consumers: spec.queue.num_consumers,
            queue_size: plan.gateway.queue_spans,
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
    let exporter = otlp_grpc_exporter(spec.distribution.0, spec.version.0, exporter)?;
    let jaeger = config.add_exporter(Some("jaeger"), exporter);
    config.add_pipeline(
        PipelineId::new(Signal::Traces, None),
        Pipeline { receivers: vec![otlp], processors, exporters: vec![jaeger] },
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
            errors: vec![crate::collector::ConfigError::UnknownVersion(e.to_string())],
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
    let config_text = crate::yaml::to_string(&config)?;
    let image = k8s::image(
        spec.image.as_deref().unwrap_or(spec.distribution.0.default_image()),
        &version,
        spec.digest.as_deref(),
    );
    let volumes = profile
        .jaeger
        .collector_tls
        .iter()
        .map(|tls| k8s::secret_volume("jaeger-ca", &tls.secret, &[("ca.crt", "ca.crt")], JAEGER_CA_DIR))
        .collect();
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
        config_text,
        ports: vec![
            k8s::port("otlp-grpc", ports::OTLP_GRPC),
            k8s::port("otlp-http", ports::OTLP_HTTP),
            k8s::port("metrics", ports::COLLECTOR_METRICS),
            k8s::port("health", ports::HEALTH),
        ],
        env: vec![k8s::env("GOMEMLIMIT", &plan.gateway.memory.gomemlimit())],
        volumes,
        health_path: "/",
        service_account: NAME,
        api_access: false,
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
        ],
        false,
    );
    Ok(Gateway {
        config,
        service_account: workload::service_account(NAME, NAME, COMPONENT, ns, &version),
        config_map: workload.config_map,
        deployment: workload.deployment,
        autoscaler: workload.autoscaler,
        disruption_budget: workload.disruption_budget,
        service,
    })
}
