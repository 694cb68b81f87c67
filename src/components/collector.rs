//! The OpenTelemetry Collector gateway: receives OTLP from applications and sidecars behind the
//! `otlp` Service and forwards every span to Jaeger's collector role over OTLP/gRPC.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceAccount};

use crate::check::{ConfigRef, ObjectRef};
use crate::collector::component::{
    Batch, ClientTls, HealthCheck, MemoryLimiter, OtlpExporter, OtlpReceiver, ProbabilisticSampler, RetryOnFailure,
    SendingQueue,
};
use crate::collector::{
    ComponentKind, Config, Exporter, Extension, Logs, Pipeline, PipelineId, Processor, Receiver, Signal, Telemetry,
    distribution,
};
use crate::components::workload::{self, WorkloadSpec};
use crate::components::{Component, MemorySizing};
use crate::error::Error;
use crate::k8s::{self, Object, ServicePortSpec};
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

/// The gateway's objects.
#[derive(Clone, Debug, PartialEq)]
pub struct Gateway {
    /// The typed collector config that `config_map` carries.
    pub config: Config,
    /// The distribution whose image runs `config`.
    pub distribution: distribution::Distribution,
    /// Its version (the image tag).
    pub version: distribution::Version,
    /// Identity of the pods.
    pub service_account: ServiceAccount,
    /// The rendered config.
    pub config_map: ConfigMap,
    /// The pods.
    pub deployment: Deployment,
    /// `otlp`: OTLP gRPC 4317 and HTTP 4318.
    pub service: Service,
}

impl Gateway {
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
            key: CONFIG_FILE.into(),
        }
    }
}

impl Component for Gateway {
    fn into_objects(self) -> Vec<Object> {
        vec![self.service_account.into(), self.config_map.into(), self.service.into(), self.deployment.into()]
    }
}

/// The gateway's collector config: `otlp` in; `memory_limiter` first, optional sampling, `batch`
/// last; out over OTLP/gRPC to `jaeger_endpoint` with a bounded queue and retries.
///
/// # Errors
/// When the memory limit cannot be read or the distribution does not know the pinned version.
pub fn config(profile: &Profile, jaeger_endpoint: &str) -> Result<Config, Error> {
    let spec = &profile.collector;
    let sizing = memory_sizing(profile)?;
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
            send_batch_size: spec.batch.send_batch_size,
            send_batch_max_size: spec.batch.send_batch_max_size,
        }),
    ));
    let exporter = OtlpExporter {
        endpoint: jaeger_endpoint.to_owned(),
        balancer_name: jaeger_endpoint.starts_with("dns:///").then(|| "round_robin".to_owned()),
        tls: ClientTls::plaintext(),
        compression: None,
        timeout: Some(crate::duration::Duration::from_secs(10)),
        sending_queue: Some(SendingQueue {
            enabled: true,
            num_consumers: spec.queue.num_consumers,
            queue_size: spec.queue.queue_size,
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

/// Memory-limiter sizing from the gateway's memory limit.
///
/// # Errors
/// When the limit is not a byte quantity.
pub fn memory_sizing(profile: &Profile) -> Result<MemorySizing, Error> {
    let limit = &profile.collector.resources.limits.memory;
    limit.bytes().map(MemorySizing::from_limit_bytes).ok_or_else(|| Error::Invalid {
        path: "collector.resources.limits.memory".into(),
        message: format!("`{limit}` is not a memory size"),
    })
}

/// The gateway: its config, ServiceAccount, ConfigMap, Deployment and the `otlp` Service.
///
/// # Errors
/// See [`config`].
pub fn gateway(profile: &Profile, jaeger_endpoint: &str) -> Result<Gateway, Error> {
    let spec = &profile.collector;
    let ns = profile.namespace.as_str();
    let version = spec.version.0.to_string();
    let config = config(profile, jaeger_endpoint)?;
    let config_text = crate::yaml::to_string(&config)?;
    let sizing = memory_sizing(profile)?;
    let image = format!("{}:{version}", spec.image.as_deref().unwrap_or(spec.distribution.0.default_image()));
    let workload = workload::build(WorkloadSpec {
        name: NAME,
        app: NAME,
        component: COMPONENT,
        namespace: ns,
        version: version.clone(),
        image,
        replicas: spec.replicas,
        resources: &spec.resources,
        config_dir: CONFIG_DIR,
        config_file: CONFIG_FILE,
        config_text,
        ports: vec![
            k8s::port("otlp-grpc", ports::OTLP_GRPC),
            k8s::port("otlp-http", ports::OTLP_HTTP),
            k8s::port("metrics", ports::COLLECTOR_METRICS),
            k8s::port("health", ports::HEALTH),
        ],
        env: vec![k8s::env("GOMEMLIMIT", &sizing.gomemlimit())],
        volumes: Vec::new(),
        health_path: "/",
        service_account: NAME,
        api_access: false,
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
        distribution: spec.distribution.0,
        version: spec.version.0,
        service_account: workload::service_account(NAME, NAME, COMPONENT, ns, &version),
        config_map: workload.config_map,
        deployment: workload.deployment,
        service,
    })
}
