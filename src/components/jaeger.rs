//! Jaeger v2: one all-in-one process over in-memory storage, or separate collector and query roles
//! over Elasticsearch; always behind the `jaeger-collector` and `jaeger-query` Services.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{
    ConfigMap, KeyToPath, SecretVolumeSource, Service, ServiceAccount, Volume, VolumeMount,
};

use crate::check::{ConfigRef, External, ObjectRef};
use crate::collector::component::{
    Batch, ClientTls, Empty, GrpcServer, HealthCheckV2, HealthCheckV2Http, HealthPath, HttpServer, MemoryLimiter,
    OtlpReceiver, RetryOnFailure, SendingQueue, ServerKeepalive, ServerParameters,
};
use crate::collector::{
    Config, Distribution, Exporter, Extension, Logs, Pipeline, PipelineId, Processor, Receiver, Signal, Telemetry,
    Version,
};
use crate::components::workload::{self, WorkloadSpec};
use crate::components::{Component, MemorySizing};
use crate::duration::Duration;
use crate::error::Error;
use crate::jaeger::{
    self as model, Auth, Backend, BasicAuth, IndexOptions, Indices, Query, QueryStorage, StorageExporter,
};
use crate::k8s::{self, Object, ServicePortSpec};
use crate::ports;
use crate::profile::{ElasticsearchSpec, Profile, Resources, StorageSpec};

/// `app.kubernetes.io/name` of every Jaeger object.
pub const NAME: &str = "jaeger";
/// Service in front of the UI and query API (16686, 16685).
pub const QUERY_SERVICE: &str = "jaeger-query";
/// Service in front of the OTLP receivers of the collector role (4317, 4318).
pub const COLLECTOR_SERVICE: &str = "jaeger-collector";
/// Headless Service over the collector role's pods, for client-side gRPC load balancing.
pub const COLLECTOR_HEADLESS_SERVICE: &str = "jaeger-collector-headless";
/// Where the config is mounted.
pub const CONFIG_DIR: &str = "/etc/jaeger";
/// The config file name (and ConfigMap key).
pub const CONFIG_FILE: &str = "config.yaml";
/// The `jaeger_storage` backend name every role uses.
pub const STORE: &str = "traces";
/// Where the Elasticsearch password file is mounted.
pub const ES_CREDENTIALS_DIR: &str = "/etc/jaeger/es-credentials";
/// Where the Elasticsearch CA bundle is mounted.
pub const ES_CA_DIR: &str = "/etc/jaeger/es-ca";

/// What a Jaeger process does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleKind {
    /// Receives, stores and serves the UI in one process.
    AllInOne,
    /// Receives OTLP and writes to storage.
    Collector,
    /// Serves the UI and the query API from storage.
    Query,
}

impl RoleKind {
    /// `app.kubernetes.io/component` of the role.
    #[must_use]
    pub fn component(self) -> &'static str {
        match self {
            Self::AllInOne => "all-in-one",
            Self::Collector => "collector",
            Self::Query => "query",
        }
    }

    /// Deployment (and ConfigMap) name of the role.
    #[must_use]
    pub fn deployment_name(self) -> &'static str {
        match self {
            Self::AllInOne => "jaeger",
            Self::Collector => "jaeger-collector",
            Self::Query => "jaeger-query",
        }
    }

    fn receives(self) -> bool {
        matches!(self, Self::AllInOne | Self::Collector)
    }

    fn serves_ui(self) -> bool {
        matches!(self, Self::AllInOne | Self::Query)
    }
}

/// One Jaeger Deployment with its config.
#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    /// What it does.
    pub kind: RoleKind,
    /// The typed Jaeger config that `config_map` carries.
    pub config: Config,
    /// The rendered config.
    pub config_map: ConfigMap,
    /// The pods.
    pub deployment: Deployment,
}

/// Jaeger's objects.
#[derive(Clone, Debug, PartialEq)]
pub struct Jaeger {
    /// The Jaeger version (the image tag) every role runs.
    pub version: Version,
    /// What the roles use but tracestack does not render: the Elasticsearch Secrets and URLs.
    pub external: External,
    /// Identity of every Jaeger pod.
    pub service_account: ServiceAccount,
    /// One all-in-one role, or a collector and a query role.
    pub roles: Vec<Role>,
    /// `jaeger-collector`: OTLP in.
    pub collector_service: Service,
    /// `jaeger-collector-headless`, with split roles.
    pub collector_headless_service: Option<Service>,
    /// `jaeger-query`: UI and API.
    pub query_service: Service,
}

impl Jaeger {
    /// Each role's config with where it runs, for [`crate::check`].
    #[must_use]
    pub fn config_refs(&self) -> Vec<ConfigRef> {
        self.roles
            .iter()
            .map(|role| {
                let ns = role.deployment.metadata.namespace.as_deref().unwrap_or_default();
                ConfigRef {
                    config: role.config.clone(),
                    distribution: Distribution::Jaeger,
                    version: self.version,
                    workload: ObjectRef::namespaced("Deployment", ns, role.kind.deployment_name()),
                    config_map: role.config_map.metadata.name.clone().unwrap_or_default(),
                    key: CONFIG_FILE.into(),
                }
            })
            .collect()
    }
}

/// What Jaeger uses that the user provides: the Elasticsearch credentials and CA Secrets, and the
/// cluster's URLs.
#[must_use]
pub fn external(profile: &Profile) -> External {
    let mut external = External::default();
    if let StorageSpec::Elasticsearch(es) = &profile.jaeger.storage {
        let secrets = es.credentials.iter().map(|c| &c.secret).chain(es.ca.iter().map(|ca| &ca.secret));
        external.objects.extend(secrets.map(|s| ObjectRef::namespaced("Secret", &profile.namespace, s)));
        external.endpoints.extend(es.server_urls.iter().cloned());
    }
    external
}

impl Component for Jaeger {
    fn into_objects(self) -> Vec<Object> {
        let mut objects: Vec<Object> = vec![self.service_account.into()];
        for role in &self.roles {
            objects.push(role.config_map.clone().into());
        }
        objects.push(self.collector_service.into());
        if let Some(headless) = self.collector_headless_service {
            objects.push(headless.into());
        }
        objects.push(self.query_service.into());
        for role in self.roles {
            objects.push(role.deployment.into());
        }
        objects
    }
}

/// The roles a profile runs: all-in-one for in-memory storage, collector + query otherwise.
#[must_use]
pub fn role_kinds(profile: &Profile) -> &'static [RoleKind] {
    match profile.jaeger.storage {
        StorageSpec::Memory(_) => &[RoleKind::AllInOne],
        StorageSpec::Elasticsearch(_) => &[RoleKind::Collector, RoleKind::Query],
    }
}

/// Where the gateway sends spans: the collector role's OTLP/gRPC port. With several collector
/// pods it resolves every pod through the headless Service so gRPC can balance across them (a
/// ClusterIP balances per connection, and gRPC keeps one connection open).
#[must_use]
pub fn collector_endpoint(profile: &Profile) -> String {
    let ns = &profile.namespace;
    match profile.jaeger.storage {
        StorageSpec::Memory(_) => format!("{COLLECTOR_SERVICE}.{ns}.svc.cluster.local:{}", ports::OTLP_GRPC),
        StorageSpec::Elasticsearch(_) => {
            format!("dns:///{COLLECTOR_HEADLESS_SERVICE}.{ns}.svc.cluster.local:{}", ports::OTLP_GRPC)
        }
    }
}

fn role_resources(profile: &Profile, kind: RoleKind) -> &Resources {
    match kind {
        RoleKind::AllInOne => &profile.jaeger.all_in_one.resources,
        RoleKind::Collector => &profile.jaeger.collector.resources,
        RoleKind::Query => &profile.jaeger.query.resources,
    }
}

fn role_replicas(profile: &Profile, kind: RoleKind) -> u32 {
    match kind {
        RoleKind::AllInOne => profile.jaeger.all_in_one.replicas,
        RoleKind::Collector => profile.jaeger.collector.replicas,
        RoleKind::Query => profile.jaeger.query.replicas,
    }
}

fn memory_sizing(profile: &Profile, kind: RoleKind) -> Result<MemorySizing, Error> {
    let limit = &role_resources(profile, kind).limits.memory;
    limit.bytes().map(MemorySizing::from_limit_bytes).ok_or_else(|| Error::Invalid {
        path: format!("jaeger.{}.resources.limits.memory", kind.component().replace('-', "_")),
        message: format!("`{limit}` is not a memory size"),
    })
}

fn backend(profile: &Profile, kind: RoleKind) -> Backend {
    match &profile.jaeger.storage {
        StorageSpec::Memory(m) => Backend::Memory(model::Memory { max_traces: m.max_traces }),
        StorageSpec::Elasticsearch(es) => Backend::Elasticsearch(Box::new(elasticsearch(es, kind))),
    }
}

fn elasticsearch(es: &ElasticsearchSpec, kind: RoleKind) -> model::Elasticsearch {
    let spans = IndexOptions { shards: es.shards, replicas: es.replicas };
    // Service and dependency indices are tiny next to span indices: one shard is enough.
    let small = IndexOptions { shards: 1, replicas: es.replicas };
    model::Elasticsearch {
        server_urls: es.server_urls.clone(),
        indices: Indices {
            index_prefix: es.index_prefix.clone(),
            spans,
            services: small.clone(),
            dependencies: small.clone(),
            sampling: small,
        },
        auth: es.credentials.as_ref().map(|_| Auth {
            basic: BasicAuth {
                username: "${env:ES_USERNAME}".into(),
                password_file: format!("{ES_CREDENTIALS_DIR}/password"),
                reload_interval: Some(Duration::from_secs(60)),
            },
        }),
        tls: es
            .ca
            .as_ref()
            .map(|ca| ClientTls { ca_file: Some(format!("{ES_CA_DIR}/{}", ca.key)), ..ClientTls::default() }),
        // Only the writer installs index templates; readers must not race it.
        create_mappings: Some(kind == RoleKind::Collector),
        use_aliases: None,
        use_ilm: None,
        max_span_age: None,
    }
}

/// The Jaeger config of one role.
///
/// # Errors
/// When a memory limit cannot be read or a component does not ship in Jaeger's pinned version.
pub fn config(profile: &Profile, kind: RoleKind) -> Result<Config, Error> {
    let mut config = Config::default();
    config.enable_extension(
        None,
        Extension::JaegerStorage(model::Storage { backends: [(STORE.to_owned(), backend(profile, kind))].into() }),
    );
    if kind.serves_ui() {
        config.enable_extension(
            None,
            Extension::JaegerQuery(Query {
                storage: QueryStorage { traces: STORE.into() },
                http: HttpServer { endpoint: format!("0.0.0.0:{}", ports::JAEGER_QUERY_HTTP), tls: None },
                grpc: GrpcServer { endpoint: format!("0.0.0.0:{}", ports::JAEGER_QUERY_GRPC), ..GrpcServer::default() },
            }),
        );
    }
    config.enable_extension(
        None,
        Extension::HealthCheckV2(HealthCheckV2 {
            use_v2: true,
            http: HealthCheckV2Http {
                endpoint: format!("0.0.0.0:{}", ports::HEALTH),
                status: HealthPath { enabled: true, path: "/status".into() },
            },
        }),
    );
    let pipeline = if kind.receives() {
        let mut otlp = OtlpReceiver::all_interfaces(ports::OTLP_GRPC, ports::OTLP_HTTP);
        if kind == RoleKind::Collector
            && let Some(grpc) = &mut otlp.protocols.grpc
        {
            // Gateways hold one gRPC connection each; closing it every minute makes them
            // re-resolve the headless Service and spread over pods added since.
            grpc.keepalive = Some(ServerKeepalive {
                server_parameters: ServerParameters {
                    max_connection_age: Duration::from_secs(60),
                    max_connection_age_grace: Duration::from_secs(10),
                },
            });
        }
        let receiver = config.add_receiver(None, Receiver::Otlp(otlp));
        let sizing = memory_sizing(profile, kind)?;
        let limiter = config.add_processor(
            None,
            Processor::MemoryLimiter(MemoryLimiter {
                check_interval: Duration::from_secs(1),
                limit_mib: sizing.limit_mib,
                spike_limit_mib: sizing.spike_limit_mib,
            }),
        );
        let batch = config.add_processor(
            None,
            Processor::Batch(Batch {
                timeout: Duration::from_millis(200),
                send_batch_size: 1000,
                send_batch_max_size: 2000,
            }),
        );
        let exporter = config.add_exporter(
            None,
            Exporter::JaegerStorage(StorageExporter {
                trace_storage: STORE.into(),
                queue: matches!(kind, RoleKind::Collector).then(|| SendingQueue {
                    enabled: true,
                    num_consumers: 10,
                    queue_size: 1000,
                    sizer: "requests".into(),
                    block_on_overflow: None,
                }),
                retry_on_failure: matches!(kind, RoleKind::Collector).then(|| RetryOnFailure {
                    enabled: true,
                    initial_interval: Duration::from_secs(1),
                    max_interval: Duration::from_secs(30),
                    max_elapsed_time: Duration::from_secs(300),
                }),
            }),
        );
        Pipeline { receivers: vec![receiver], processors: vec![limiter, batch], exporters: vec![exporter] }
    } else {
        // A collector process needs a pipeline; the query role has nothing to receive.
        let receiver = config.add_receiver(None, Receiver::Nop(Empty {}));
        let exporter = config.add_exporter(None, Exporter::Nop(Empty {}));
        Pipeline { receivers: vec![receiver], processors: Vec::new(), exporters: vec![exporter] }
    };
    config.add_pipeline(PipelineId::new(Signal::Traces, None), pipeline);
    config.service.telemetry = Telemetry {
        logs: Logs { level: profile.jaeger.log_level.as_str().into(), encoding: "json".into() },
        ..Telemetry::default()
    };
    config
        .validate(Distribution::Jaeger, profile.jaeger.version.0)
        .map_err(|errors| Error::Config { component: kind.deployment_name().into(), errors })?;
    Ok(config)
}

fn storage_mounts(profile: &Profile) -> (Vec<k8s_openapi::api::core::v1::EnvVar>, Vec<(Volume, VolumeMount)>) {
    let StorageSpec::Elasticsearch(es) = &profile.jaeger.storage else {
        return (Vec::new(), Vec::new());
    };
    let mut env = Vec::new();
    let mut volumes = Vec::new();
    let secret_volume = |name: &str, secret: &str, key: &str, path: &str, dir: &str| {
        (
            Volume {
                name: name.to_owned(),
                secret: Some(SecretVolumeSource {
                    secret_name: Some(secret.to_owned()),
                    items: Some(vec![KeyToPath { key: key.to_owned(), path: path.to_owned(), mode: None }]),
                    default_mode: Some(0o440),
                    optional: Some(false),
                }),
                ..Volume::default()
            },
            VolumeMount {
                name: name.to_owned(),
                mount_path: dir.to_owned(),
                read_only: Some(true),
                ..VolumeMount::default()
            },
        )
    };
    if let Some(c) = &es.credentials {
        env.push(k8s::env_from_secret("ES_USERNAME", &c.secret, &c.username_key));
        volumes.push(secret_volume("es-credentials", &c.secret, &c.password_key, "password", ES_CREDENTIALS_DIR));
    }
    if let Some(ca) = &es.ca {
        volumes.push(secret_volume("es-ca", &ca.secret, &ca.key, &ca.key, ES_CA_DIR));
    }
    (env, volumes)
}

fn role(profile: &Profile, kind: RoleKind) -> Result<Role, Error> {
    let version = profile.jaeger.version.0.to_string();
    let config = config(profile, kind)?;
    let config_text = crate::yaml::to_string(&config)?;
    let (mut env, volumes) = storage_mounts(profile);
    let mut ports = Vec::new();
    if kind.receives() {
        ports.push(k8s::port("otlp-grpc", ports::OTLP_GRPC));
        ports.push(k8s::port("otlp-http", ports::OTLP_HTTP));
        env.insert(0, k8s::env("GOMEMLIMIT", &memory_sizing(profile, kind)?.gomemlimit()));
    }
    if kind.serves_ui() {
        ports.push(k8s::port("http-query", ports::JAEGER_QUERY_HTTP));
        ports.push(k8s::port("grpc-query", ports::JAEGER_QUERY_GRPC));
    }
    ports.push(k8s::port("metrics", ports::COLLECTOR_METRICS));
    ports.push(k8s::port("health", ports::HEALTH));
    let image =
        format!("{}:{version}", profile.jaeger.image.as_deref().unwrap_or(Distribution::Jaeger.default_image()));
    let workload = workload::build(WorkloadSpec {
        name: kind.deployment_name(),
        app: NAME,
        component: kind.component(),
        namespace: &profile.namespace,
        version,
        image,
        replicas: role_replicas(profile, kind),
        resources: role_resources(profile, kind),
        config_dir: CONFIG_DIR,
        config_file: CONFIG_FILE,
        config_text,
        ports,
        env,
        volumes,
        health_path: "/status",
        service_account: NAME,
        api_access: false,
    });
    Ok(Role { kind, config, config_map: workload.config_map, deployment: workload.deployment })
}

/// Jaeger's roles, their Services and ServiceAccount.
///
/// # Errors
/// See [`config`].
pub fn jaeger(profile: &Profile) -> Result<Jaeger, Error> {
    let ns = profile.namespace.as_str();
    let version = profile.jaeger.version.0.to_string();
    let roles = role_kinds(profile).iter().map(|kind| role(profile, *kind)).collect::<Result<Vec<_>, _>>()?;
    let receiving = role_kinds(profile).iter().copied().find(|k| k.receives()).unwrap_or(RoleKind::AllInOne);
    let serving = role_kinds(profile).iter().copied().find(|k| k.serves_ui()).unwrap_or(RoleKind::AllInOne);
    let otlp_ports = [
        ServicePortSpec { name: "otlp-grpc", port: ports::OTLP_GRPC, app_protocol: "grpc" },
        ServicePortSpec { name: "otlp-http", port: ports::OTLP_HTTP, app_protocol: "http" },
    ];
    let collector_labels = k8s::labels(NAME, receiving.component(), &version);
    let collector_service = k8s::service(
        COLLECTOR_SERVICE,
        ns,
        &collector_labels,
        k8s::selector(NAME, receiving.component()),
        &otlp_ports,
        false,
    );
    let collector_headless_service = (receiving == RoleKind::Collector).then(|| {
        k8s::service(
            COLLECTOR_HEADLESS_SERVICE,
            ns,
            &collector_labels,
            k8s::selector(NAME, receiving.component()),
            &otlp_ports[..1],
            true,
        )
    });
    let query_service = k8s::service(
        QUERY_SERVICE,
        ns,
        &k8s::labels(NAME, serving.component(), &version),
        k8s::selector(NAME, serving.component()),
        &[
            ServicePortSpec { name: "http-query", port: ports::JAEGER_QUERY_HTTP, app_protocol: "http" },
            ServicePortSpec { name: "grpc-query", port: ports::JAEGER_QUERY_GRPC, app_protocol: "grpc" },
        ],
        false,
    );
    Ok(Jaeger {
        version: profile.jaeger.version.0,
        external: external(profile),
        service_account: workload::service_account(NAME, NAME, "jaeger", ns, &version),
        roles,
        collector_service,
        collector_headless_service,
        query_service,
    })
}
