//! Jaeger v2: one all-in-one process over in-memory storage, or separate collector and query roles
//! over Elasticsearch; always behind the `jaeger-collector` and `jaeger-query` Services. Jaeger's
//! own Elasticsearch index maintenance is in [`elasticsearch`].

pub mod elasticsearch;

use std::sync::Arc;

use crate::config::gateway_api::{
    BackendRef, HttpRoute, HttpRouteMatch, HttpRouteRule, HttpRouteSpec, ParentRef, PathMatch,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::apps::v1::DeploymentStrategy;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, Service,
    ServiceAccount, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule, IngressServiceBackend, IngressSpec,
    IngressTLS, ServiceBackendPort,
};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;

use crate::check::{ConfigRef, External, ObjectRef};
use crate::components::Component;
use crate::components::Error;
use crate::components::kafka;
use crate::components::workload::{self, WorkloadSpec};
use crate::config::collector::component::{
    Batch, ClientTls, Empty, ExplicitBuckets, GrpcServer, HealthCheckV2, HealthCheckV2Http, HealthPath, HttpServer,
    KafkaReceiver, MemoryLimiter, MessageMarking, OtlpReceiver, PrometheusExporter, RetryOnFailure, SendingQueue,
    ServerKeepalive, ServerParameters, ServerTls, SpanMetrics, SpanMetricsHistogram,
};
use crate::config::collector::jaeger::{
    self as model, Auth, Backend, BasicAuth, IndexOptions, Indices, Query, QueryStorage, Rotation, StorageExporter,
};
use crate::config::collector::{
    Config, Connector, Distribution, Exporter, Extension, Logs, Pipeline, PipelineId, Processor, Receiver, Signal,
    Telemetry, Version, Written,
};
use crate::config::k8s::{self, CustomResource, Object, ServicePortSpec};
use crate::model::plan::{Plan, WorkloadPlan};
use crate::model::profile::{
    BadgerSpec, CLICKHOUSE_TTL_SINCE, ClickhouseSpec, ElasticsearchSpec, LifecycleMode, MonitorBackend, PodExtras,
    Profile, SearchEngine, StorageSpec,
};
use crate::value::duration::Duration;
use crate::value::ports;

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
/// The `jaeger_storage` metric backend name of the Monitor tab.
pub const METRICS_STORE: &str = "span-metrics";
/// Where the Elasticsearch password file is mounted.
pub const ES_CREDENTIALS_DIR: &str = "/etc/jaeger/es-credentials";
/// Name of the container port serving span metrics (RED metrics per service).
pub const SPAN_METRICS_PORT: &str = "span-metrics";
/// Name of the container port serving the process's own metrics (every role).
pub const METRICS_PORT: &str = "metrics";
/// Where the Elasticsearch CA bundle is mounted.
pub const ES_CA_DIR: &str = "/etc/jaeger/es-ca";
/// Where Badger's volume is mounted (keys in `keys/`, values in `values/`).
pub const BADGER_DIR: &str = "/badger";
/// Name of Badger's PersistentVolumeClaim (and of the pod's volume).
pub const BADGER_CLAIM: &str = "jaeger-badger";
/// The first Jaeger release with `indices.<kind>.rotation`; older ones take `use_aliases`.
pub const ROTATION_SINCE: Version = Version::new(2, 20, 0);
/// The feature gate Jaeger ≥ 2.18 needs for its (experimental) ClickHouse backend.
pub const CLICKHOUSE_GATE: &str = "storage.clickhouse";
/// Where the collector role's serving certificate is mounted, with `collector_tls`.
pub const TLS_DIR: &str = "/etc/jaeger/tls";

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

    /// The role's own pod additions in the profile (`jaeger.<role>.pod`).
    #[must_use]
    pub fn pod(self, profile: &Profile) -> &PodExtras {
        match self {
            Self::AllInOne => &profile.jaeger.all_in_one.pod,
            Self::Collector => &profile.jaeger.collector.pod,
            Self::Query => &profile.jaeger.query.pod,
        }
    }

    /// Where the role's pod additions are in the profile, for errors.
    #[must_use]
    pub fn pod_path(self) -> &'static str {
        match self {
            Self::AllInOne => "jaeger.all_in_one.pod",
            Self::Collector => "jaeger.collector.pod",
            Self::Query => "jaeger.query.pod",
        }
    }

    /// Whether the role receives OTLP (and writes to storage).
    #[must_use]
    pub fn receives(self) -> bool {
        matches!(self, Self::AllInOne | Self::Collector)
    }

    /// Whether the role serves the UI and query API.
    #[must_use]
    pub fn serves_ui(self) -> bool {
        matches!(self, Self::AllInOne | Self::Query)
    }

    /// Seconds a terminating pod gets: writers flush their queue to storage, readers only finish
    /// requests.
    fn termination_grace_seconds(self) -> i64 {
        match self {
            Self::Collector => 60,
            Self::AllInOne | Self::Query => 30,
        }
    }

    /// This role's effective size.
    #[must_use]
    pub fn plan(self, plan: &Plan) -> &WorkloadPlan {
        match self {
            Self::AllInOne => &plan.all_in_one,
            Self::Collector => &plan.jaeger_collector,
            Self::Query => &plan.jaeger_query,
        }
    }
}

/// One Jaeger Deployment with its config.
#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    /// What it does.
    pub kind: RoleKind,
    /// The typed Jaeger config that `config_map` carries.
    pub config: Config,
    /// The YAML `config_map` carries, written from `config` when the role was built.
    pub written: Arc<Written>,
    /// The rendered config.
    pub config_map: ConfigMap,
    /// The pods.
    pub deployment: Deployment,
    /// Scales the role between the plan's bounds.
    pub autoscaler: Option<HorizontalPodAutoscaler>,
    /// Keeps all but one pod up during node drains.
    pub disruption_budget: Option<PodDisruptionBudget>,
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
    /// Badger's volume.
    pub volume_claim: Option<PersistentVolumeClaim>,
    /// `jaeger-query`: the UI from outside the cluster, when the profile asks for it.
    pub ingress: Option<Ingress>,
    /// `jaeger-query`: the UI through a Gateway API Gateway, when the profile asks for it.
    pub http_route: Option<CustomResource>,
}

impl Jaeger {
    /// Each role's config with where it runs, for [`crate::check`].
    #[must_use]
    pub fn config_refs(&self) -> Vec<ConfigRef> {
        self.roles
            .iter()
            .map(|role| {
                let ns = role.deployment.metadata.namespace.as_deref().unwrap_or_default();
                let key = role.config_map.data.as_ref().and_then(|d| d.keys().next().cloned());
                ConfigRef {
                    config: role.config.clone(),
                    distribution: Distribution::Jaeger,
                    version: self.version,
                    workload: ObjectRef::namespaced(
                        "Deployment",
                        ns,
                        role.deployment.metadata.name.as_deref().unwrap_or(role.kind.deployment_name()),
                    ),
                    config_map: role.config_map.metadata.name.clone().unwrap_or_default(),
                    key: key.unwrap_or_else(|| CONFIG_FILE.into()),
                    written: Some(Arc::clone(&role.written)),
                }
            })
            .collect()
    }
}

/// What Jaeger uses that the user provides: the Elasticsearch credentials and CA Secrets, the
/// cluster's URLs, the collector role's TLS Secret, and the Prometheus behind the Monitor tab.
#[must_use]
pub fn external(profile: &Profile) -> External {
    let mut external = External::default();
    if let Some((_, es)) = profile.jaeger.storage.search() {
        let secrets = es.credentials.iter().map(|c| &c.secret).chain(es.ca.iter().map(|ca| &ca.secret));
        external.objects.extend(secrets.map(|s| ObjectRef::namespaced("Secret", &profile.namespace, s)));
        external.endpoints.extend(es.server_urls.iter().cloned());
    }
    if let StorageSpec::Clickhouse(ch) = &profile.jaeger.storage {
        external
            .objects
            .extend(ch.credentials.iter().map(|c| ObjectRef::namespaced("Secret", &profile.namespace, &c.secret)));
    }
    if let Some(tls) = &profile.jaeger.collector_tls {
        external.objects.insert(ObjectRef::namespaced("Secret", &profile.namespace, &tls.secret));
    }
    if let Some(secret) = profile.jaeger.ingress.as_ref().and_then(|i| i.tls_secret.as_ref()) {
        external.objects.insert(ObjectRef::namespaced("Secret", &profile.namespace, secret));
    }
    if let Some(route) = &profile.jaeger.http_route {
        let ns = route.gateway.namespace.as_deref().unwrap_or(&profile.namespace);
        external.objects.insert(ObjectRef::namespaced("Gateway", ns, &route.gateway.name));
    }
    external.endpoints.extend(monitor_prometheus_url(profile));
    if profile.kafka.enabled {
        external.endpoints.extend(profile.kafka.brokers.iter().cloned());
        let secrets = profile.kafka.tls.iter().map(|t| &t.secret).chain(profile.kafka.sasl.iter().map(|s| &s.secret));
        external.objects.extend(secrets.map(|s| ObjectRef::namespaced("Secret", &profile.namespace, s)));
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
        objects.extend(self.volume_claim.map(Object::from));
        objects.extend(self.ingress.map(Object::from));
        objects.extend(self.http_route.map(Object::from));
        for role in self.roles {
            objects.push(role.deployment.into());
            objects.extend(role.autoscaler.map(Object::from));
            objects.extend(role.disruption_budget.map(Object::from));
        }
        objects
    }
}

/// The roles a profile runs: all-in-one for in-memory and Badger storage, collector + query
/// for shared storage.
#[must_use]
pub fn role_kinds(profile: &Profile) -> &'static [RoleKind] {
    if profile.jaeger.storage.shared() { &[RoleKind::Collector, RoleKind::Query] } else { &[RoleKind::AllInOne] }
}

/// Where the gateway sends spans: the collector role's OTLP/gRPC port. With several collector
/// pods it resolves every pod through the headless Service so gRPC can balance across them (a
/// ClusterIP balances per connection, and gRPC keeps one connection open).
#[must_use]
pub fn collector_endpoint(profile: &Profile) -> String {
    let ns = &profile.namespace;
    if profile.jaeger.storage.shared() {
        format!("dns:///{COLLECTOR_HEADLESS_SERVICE}.{ns}.svc.cluster.local:{}", ports::OTLP_GRPC)
    } else {
        format!("{COLLECTOR_SERVICE}.{ns}.svc.cluster.local:{}", ports::OTLP_GRPC)
    }
}

fn backend(profile: &Profile, kind: RoleKind) -> Backend {
    let version = profile.jaeger.version.0;
    match &profile.jaeger.storage {
        StorageSpec::Memory(m) => Backend::Memory(model::Memory { max_traces: m.max_traces }),
        StorageSpec::Badger(b) => Backend::Badger(badger(b)),
        StorageSpec::Elasticsearch(es) => Backend::Elasticsearch(Box::new(elasticsearch(es, kind, version))),
        StorageSpec::Opensearch(os) => Backend::Opensearch(Box::new(elasticsearch(os, kind, version))),
        StorageSpec::Clickhouse(ch) => Backend::Clickhouse(Box::new(clickhouse(ch, kind, version))),
    }
}

fn badger(b: &BadgerSpec) -> model::Badger {
    model::Badger {
        ephemeral: false,
        directories: model::BadgerDirectories {
            keys: format!("{BADGER_DIR}/keys"),
            values: format!("{BADGER_DIR}/values"),
        },
        ttl: model::BadgerTtl { spans: b.ttl },
        consistency: b.sync_writes,
    }
}

/// Jaeger's ClickHouse settings; `ttl` only where the pinned Jaeger takes it (the profile check
/// refuses it below 2.18).
fn clickhouse(ch: &ClickhouseSpec, kind: RoleKind, version: Version) -> model::Clickhouse {
    model::Clickhouse {
        protocol: ch.protocol.as_str().into(),
        addresses: ch.addresses.clone(),
        database: ch.database.clone(),
        auth: ch.credentials.as_ref().map(|_| model::ClickhouseAuth {
            basic: model::ClickhouseBasicAuth {
                username: "${env:CLICKHOUSE_USERNAME}".into(),
                password: "${env:CLICKHOUSE_PASSWORD}".into(),
            },
        }),
        dial_timeout: Duration::from_secs(10),
        // Only the writer creates tables; readers must not race it.
        create_schema: ch.create_schema && kind.receives(),
        ttl: ch.ttl.filter(|_| version >= CLICKHOUSE_TTL_SINCE),
    }
}

/// Elasticsearch or OpenSearch settings. Rollover reads and writes through aliases: from Jaeger
/// 2.20 through `indices.<kind>.rotation`, before it through `use_aliases` (2.20 still reads the
/// flag, with a deprecation warning, and refuses the two together).
fn elasticsearch(es: &ElasticsearchSpec, kind: RoleKind, version: Version) -> model::Elasticsearch {
    let current = version >= ROTATION_SINCE;
    let rollover = es.lifecycle.mode == LifecycleMode::Rollover;
    // With a lifecycle policy the cluster rolls the aliases over; `jaeger-es-rollover init`
    // installs the index templates naming it, so no Jaeger process writes templates.
    let policy = es.lifecycle.policy.as_ref().filter(|_| rollover);
    let rotation = (rollover && current).then(|| match policy {
        Some(name) => Rotation::AutoRollover(model::AutoRollover { policy_name: name.clone() }),
        None => Rotation::ManualRollover(Empty {}),
    });
    let spans = IndexOptions { shards: es.shards, replicas: es.replicas, rotation: rotation.clone() };
    // Service and dependency indices are tiny next to span indices: one shard is enough.
    let small = IndexOptions { shards: 1, replicas: es.replicas, rotation };
    model::Elasticsearch {
        server_urls: es.server_urls.clone(),
        indices: Indices {
            index_prefix: es.index_prefix.clone(),
            spans,
            services: small.clone(),
            dependencies: small.clone(),
            // Sampling indices serve adaptive sampling only, which this stack does not run, and
            // `jaeger-es-rollover` creates no aliases for them: they stay daily.
            sampling: IndexOptions { rotation: None, ..small },
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
        create_mappings: Some(kind == RoleKind::Collector && policy.is_none()),
        use_aliases: (rollover && !current).then_some(true),
        use_ilm: (policy.is_some() && !current).then_some(true),
        // Queries look back exactly as far as indices are kept.
        max_span_age: Some(Duration::from_secs(u64::from(es.lifecycle.retention_days) * 86_400)),
    }
}

/// The Jaeger config of one role.
///
/// # Errors
/// When a memory limit cannot be read or a component does not ship in Jaeger's pinned version.
pub fn config(profile: &Profile, plan: &Plan, kind: RoleKind) -> Result<Config, Error> {
    let role_plan = kind.plan(plan);
    let mut config = Config::default();
    config.enable_extension(
        None,
        Extension::JaegerStorage(model::Storage {
            backends: [(STORE.to_owned(), backend(profile, kind))].into(),
            metric_backends: monitor_tab_backend(profile, kind).into_iter().collect(),
        }),
    );
    if kind.serves_ui() {
        config.enable_extension(
            None,
            Extension::JaegerQuery(Query {
                storage: QueryStorage {
                    traces: STORE.into(),
                    metrics: monitor_tab_backend(profile, kind).map(|(name, _)| name),
                },
                enable_tracing: false,
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
        if kind == RoleKind::Collector && profile.jaeger.collector_tls.is_some() {
            let server_tls = ServerTls {
                cert_file: format!("{TLS_DIR}/tls.crt"),
                key_file: format!("{TLS_DIR}/tls.key"),
                client_ca_file: None,
            };
            if let Some(grpc) = &mut otlp.protocols.grpc {
                grpc.tls = Some(server_tls.clone());
            }
            if let Some(http) = &mut otlp.protocols.http {
                http.tls = Some(server_tls);
            }
        }
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
        let mut receivers = vec![config.add_receiver(None, Receiver::Otlp(otlp))];
        if profile.kafka.enabled {
            // The ingester: consume the topic the collectors write to. Offsets are committed only
            // after the pipeline took a message, and not when it failed, so it is read again.
            receivers.push(config.add_receiver(
                None,
                Receiver::Kafka(KafkaReceiver {
                    client: kafka::client(profile),
                    traces: kafka::topic(profile),
                    group_id: profile.kafka.group_id.clone(),
                    initial_offset: "earliest".into(),
                    message_marking: MessageMarking { after: true, on_error: false },
                }),
            ));
        }
        let sizing = role_plan.memory;
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
                send_batch_size: role_plan.batch_size,
                send_batch_max_size: role_plan.batch_max,
            }),
        );
        let exporter = config.add_exporter(
            None,
            Exporter::JaegerStorage(StorageExporter {
                trace_storage: STORE.into(),
                queue: matches!(kind, RoleKind::Collector).then(|| SendingQueue {
                    enabled: true,
                    num_consumers: 10,
                    queue_size: role_plan.queue_spans,
                    sizer: "items".into(),
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
        let mut exporters = vec![exporter];
        if computes_span_metrics(profile) {
            exporters.push(add_span_metrics(&mut config, profile));
        }
        Pipeline { receivers, processors: vec![limiter, batch], exporters }
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

/// The Prometheus URL Jaeger's Monitor tab reads span metrics from, when the profile has one.
#[must_use]
pub fn monitor_prometheus_url(profile: &Profile) -> Option<String> {
    profile.monitoring.red.prometheus_url.clone().filter(|_| span_metrics_enabled(profile))
}

/// The `jaeger_storage` metric backend that feeds the UI's Monitor tab, on roles serving the UI
/// when the profile names a Prometheus URL: the layout of Jaeger's `cmd/jaeger/config-spm.yaml`
/// (`metric_backends.<name>.prometheus: {endpoint, normalize_calls: true, normalize_duration:
/// true}` and `jaeger_query.storage.metrics: <name>`), whose connector defaults match ours.
///
/// With `monitor_backend: storage`, the Elasticsearch/OpenSearch metric backend instead: the trace
/// backend's own settings as the query role reads them (it writes no templates).
fn monitor_tab_backend(profile: &Profile, kind: RoleKind) -> Option<(String, model::MetricBackend)> {
    if storage_monitor_enabled(profile) {
        let (engine, es) = profile.jaeger.storage.search()?;
        let settings = Box::new(elasticsearch(es, RoleKind::Query, profile.jaeger.version.0));
        let backend = match engine {
            SearchEngine::Elasticsearch => model::MetricBackend::Elasticsearch(settings),
            SearchEngine::Opensearch => model::MetricBackend::Opensearch(settings),
        };
        return kind.serves_ui().then(|| (METRICS_STORE.to_owned(), backend));
    }
    let url = monitor_prometheus_url(profile)?;
    kind.serves_ui().then(|| {
        (
            METRICS_STORE.to_owned(),
            model::MetricBackend::Prometheus(model::PrometheusMetrics {
                endpoint: url.clone(),
                normalize_calls: true,
                normalize_duration: true,
            }),
        )
    })
}

/// Whether the Monitor tab reads Jaeger's storage (`monitoring.red.monitor_backend: storage`, with
/// monitoring enabled and Elasticsearch or OpenSearch storage).
#[must_use]
pub fn storage_monitor_enabled(profile: &Profile) -> bool {
    profile.monitoring.enabled
        && profile.monitoring.red.monitor_backend == MonitorBackend::Storage
        && profile.jaeger.storage.search().is_some()
}

/// Whether the receiving role computes RED metrics from spans: with monitoring and its `red` part
/// enabled.
#[must_use]
pub fn span_metrics_enabled(profile: &Profile) -> bool {
    profile.monitoring.enabled && profile.monitoring.red.enabled
}

/// Whether Jaeger's receiving role computes the span metrics: when they are on and no tail-sampling
/// tier runs. With one, the tier computes them from every span before it samples (Jaeger would
/// count only the kept traces, among which every error and every slow one), see
/// [`crate::components::sampler`].
#[must_use]
pub fn computes_span_metrics(profile: &Profile) -> bool {
    span_metrics_enabled(profile) && !profile.tail_sampling.enabled
}

/// The `spanmetrics` connector's default duration buckets (contrib
/// `connector/spanmetricsconnector/README.md`), written out so that every alert threshold can be
/// added as a bucket bound.
const DEFAULT_BUCKETS_MS: [u64; 16] = [2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10000, 15000];

/// Duration buckets: the connector's defaults plus every p99 threshold of the profile. With each
/// threshold a bucket bound, `histogram_quantile(0.99, …) > threshold` holds exactly when more
/// than 1 % of spans took longer, instead of depending on interpolation inside a wide bucket.
#[must_use]
pub fn span_duration_buckets(profile: &Profile) -> Vec<Duration> {
    let red = &profile.monitoring.red;
    let thresholds = std::iter::once(red.p99_latency).chain(red.services.values().filter_map(|t| t.p99_latency));
    let mut buckets: Vec<Duration> = DEFAULT_BUCKETS_MS.iter().map(|ms| Duration::from_millis(*ms)).collect();
    // The histogram is in milliseconds: a bound finer than that would be written as a fraction.
    buckets.extend(thresholds.map(|d| Duration::from_millis(d.as_millis())));
    buckets.sort();
    buckets.dedup();
    buckets
}

/// Adds the `spanmetrics` connector and a `metrics/spanmetrics` pipeline that serves its output
/// on the `span-metrics` port; returns the connector's id for the traces pipeline's exporters.
///
/// This is the layout of Jaeger's own SPM example (jaeger `docker-compose/monitor/jaeger-v2-config.yml`:
/// `exporters: [jaeger_storage_exporter, spanmetrics]`, then `receivers: [spanmetrics]`,
/// `exporters: [prometheus]` on `0.0.0.0:8889`). It runs in Jaeger rather than in the gateway
/// because `otelcol-k8s` ships `spanmetrics` but no `prometheus` exporter, while Jaeger ships both.
pub fn add_span_metrics(config: &mut Config, profile: &Profile) -> crate::config::collector::ComponentId {
    let connector = config.add_connector(
        None,
        Connector::SpanMetrics(SpanMetrics {
            namespace: "traces.span.metrics".into(),
            histogram: SpanMetricsHistogram {
                unit: "ms".into(),
                explicit: ExplicitBuckets { buckets: span_duration_buckets(profile) },
            },
            metrics_flush_interval: Duration::from_secs(15),
        }),
    );
    let prometheus = config.add_exporter(
        None,
        Exporter::Prometheus(PrometheusExporter { endpoint: format!("0.0.0.0:{}", ports::SPAN_METRICS) }),
    );
    config.add_pipeline(
        PipelineId::new(Signal::Metrics, Some("spanmetrics")),
        Pipeline { receivers: vec![connector.clone()], processors: Vec::new(), exporters: vec![prometheus] },
    );
    connector
}

fn storage_mounts(profile: &Profile) -> (Vec<k8s_openapi::api::core::v1::EnvVar>, Vec<(Volume, VolumeMount)>) {
    if let StorageSpec::Badger(_) = &profile.jaeger.storage {
        let volume = Volume {
            name: "badger".into(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: BADGER_CLAIM.into(),
                read_only: None,
            }),
            ..Volume::default()
        };
        let mount = VolumeMount { name: "badger".into(), mount_path: BADGER_DIR.into(), ..VolumeMount::default() };
        return (Vec::new(), vec![(volume, mount)]);
    }
    if let StorageSpec::Clickhouse(ch) = &profile.jaeger.storage {
        let env = ch
            .credentials
            .iter()
            .flat_map(|c| {
                [
                    k8s::env_from_secret("CLICKHOUSE_USERNAME", &c.secret, &c.username_key),
                    k8s::env_from_secret("CLICKHOUSE_PASSWORD", &c.secret, &c.password_key),
                ]
            })
            .collect();
        return (env, Vec::new());
    }
    let Some((_, es)) = profile.jaeger.storage.search() else {
        return (Vec::new(), Vec::new());
    };
    let mut env = Vec::new();
    let mut volumes = Vec::new();
    if let Some(c) = &es.credentials {
        env.push(k8s::env_from_secret("ES_USERNAME", &c.secret, &c.username_key));
        volumes.push(k8s::secret_volume(
            "es-credentials",
            &c.secret,
            &[(&c.password_key, "password")],
            ES_CREDENTIALS_DIR,
        ));
    }
    if let Some(ca) = &es.ca {
        volumes.push(k8s::secret_volume("es-ca", &ca.secret, &[(&ca.key, &ca.key)], ES_CA_DIR));
    }
    (env, volumes)
}

fn role(profile: &Profile, plan: &Plan, kind: RoleKind) -> Result<Role, Error> {
    let version = profile.jaeger.version.0.to_string();
    let config = config(profile, plan, kind)?;
    let written = Arc::new(Written::new(&config)?);
    let (mut env, mut volumes) = storage_mounts(profile);
    let lifecycle = elasticsearch::lifecycle(profile);
    let init = lifecycle.init_container.as_ref().filter(|_| kind == RoleKind::Collector);
    if kind == RoleKind::Collector
        && let Some(tls) = &profile.jaeger.collector_tls
    {
        volumes.push(k8s::secret_volume(
            "tls",
            &tls.secret,
            &[("tls.crt", "tls.crt"), ("tls.key", "tls.key")],
            TLS_DIR,
        ));
    }
    if kind.receives() && profile.kafka.enabled {
        volumes.extend(kafka::volumes(profile));
        env.extend(kafka::env(profile));
    }
    let mut ports = Vec::new();
    if kind.receives() {
        ports.push(k8s::port("otlp-grpc", ports::OTLP_GRPC));
        ports.push(k8s::port("otlp-http", ports::OTLP_HTTP));
        env.insert(0, k8s::env("GOMEMLIMIT", &kind.plan(plan).memory.gomemlimit()));
    }
    if kind.serves_ui() {
        ports.push(k8s::port("http-query", ports::JAEGER_QUERY_HTTP));
        ports.push(k8s::port("grpc-query", ports::JAEGER_QUERY_GRPC));
    }
    ports.push(k8s::port(METRICS_PORT, ports::COLLECTOR_METRICS));
    if kind.receives() && computes_span_metrics(profile) {
        ports.push(k8s::port(SPAN_METRICS_PORT, ports::SPAN_METRICS));
    }
    ports.push(k8s::port("health", ports::HEALTH));
    let image = k8s::image(
        profile.jaeger.image.as_deref().unwrap_or(Distribution::Jaeger.default_image()),
        &version,
        profile.jaeger.digest.as_deref(),
    );
    let workload = workload::build(WorkloadSpec {
        name: kind.deployment_name(),
        app: NAME,
        component: kind.component(),
        namespace: &profile.namespace,
        version,
        image,
        plan: kind.plan(plan),
        config_dir: CONFIG_DIR,
        config_file: CONFIG_FILE,
        config_text: written.text().to_owned(),
        ports,
        env,
        volumes,
        health_path: "/status",
        service_account: NAME,
        api_access: false,
        priority_class_name: profile.security.priority_class_name.as_deref(),
        termination_grace_seconds: kind.termination_grace_seconds(),
        init_containers: init.into_iter().cloned().collect(),
        init_volumes: if init.is_some() { lifecycle.volumes.clone() } else { Vec::new() },
    });
    let mut deployment = workload.deployment;
    if let Some(spec) = deployment.spec.as_mut() {
        if matches!(profile.jaeger.storage, StorageSpec::Badger(_)) {
            // One ReadWriteOnce volume: the old pod lets go of it before the new one starts.
            spec.strategy = Some(DeploymentStrategy { type_: Some("Recreate".into()), rolling_update: None });
        }
        if let (StorageSpec::Clickhouse(_), Some(pod)) = (&profile.jaeger.storage, spec.template.spec.as_mut())
            && profile.jaeger.version.0 >= CLICKHOUSE_TTL_SINCE
        {
            for container in &mut pod.containers {
                container.args.get_or_insert_with(Vec::new).push(format!("--feature-gates={CLICKHOUSE_GATE}"));
            }
        }
    }
    Ok(Role {
        kind,
        config,
        written,
        config_map: workload.config_map,
        deployment,
        autoscaler: workload.autoscaler,
        disruption_budget: workload.disruption_budget,
    })
}

/// Jaeger's roles, their Services and ServiceAccount.
///
/// # Errors
/// See [`config`].
pub fn jaeger(profile: &Profile, plan: &Plan) -> Result<Jaeger, Error> {
    let ns = profile.namespace.as_str();
    let version = profile.jaeger.version.0.to_string();
    let roles = role_kinds(profile).iter().map(|kind| role(profile, plan, *kind)).collect::<Result<Vec<_>, _>>()?;
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
    let volume_claim = match &profile.jaeger.storage {
        StorageSpec::Badger(b) => Some(badger_claim(profile, b, &version)),
        _ => None,
    };
    let ingress = profile.jaeger.ingress.as_ref().map(|spec| {
        let mut meta = k8s::meta(QUERY_SERVICE, ns, &k8s::labels(NAME, serving.component(), &version));
        meta.annotations = (!spec.annotations.is_empty()).then(|| spec.annotations.clone());
        Ingress {
            metadata: meta,
            spec: Some(IngressSpec {
                ingress_class_name: spec.class_name.clone(),
                rules: Some(vec![IngressRule {
                    host: Some(spec.host.clone()),
                    http: Some(HTTPIngressRuleValue {
                        paths: vec![HTTPIngressPath {
                            path: Some(spec.path.clone()),
                            path_type: "Prefix".into(),
                            backend: IngressBackend {
                                service: Some(IngressServiceBackend {
                                    name: QUERY_SERVICE.into(),
                                    port: Some(ServiceBackendPort { name: Some("http-query".into()), number: None }),
                                }),
                                resource: None,
                            },
                        }],
                    }),
                }]),
                tls: spec.tls_secret.as_ref().map(|secret| {
                    vec![IngressTLS { hosts: Some(vec![spec.host.clone()]), secret_name: Some(secret.clone()) }]
                }),
                default_backend: None,
            }),
            ..Ingress::default()
        }
    });
    let http_route = profile
        .jaeger
        .http_route
        .as_ref()
        .map(|spec| {
            let route = HttpRoute {
                spec: HttpRouteSpec {
                    parent_refs: vec![ParentRef {
                        name: spec.gateway.name.clone(),
                        namespace: spec.gateway.namespace.clone(),
                        section_name: spec.gateway.section_name.clone(),
                    }],
                    hostnames: spec.hostnames.clone(),
                    rules: vec![HttpRouteRule {
                        matches: vec![HttpRouteMatch {
                            path: PathMatch { kind: "PathPrefix", value: spec.path.clone() },
                        }],
                        backend_refs: vec![BackendRef { name: QUERY_SERVICE.into(), port: ports::JAEGER_QUERY_HTTP }],
                    }],
                },
            };
            let meta = k8s::meta(QUERY_SERVICE, ns, &k8s::labels(NAME, serving.component(), &version));
            CustomResource::new(meta, &route)
        })
        .transpose()
        .map_err(|e| {
            Error::Format(crate::format::Error::Serialize { what: "HTTPRoute".into(), message: e.to_string() })
        })?;
    Ok(Jaeger {
        volume_claim,
        version: profile.jaeger.version.0,
        external: external(profile),
        service_account: workload::service_account(NAME, NAME, "jaeger", ns, &version),
        roles,
        collector_service,
        collector_headless_service,
        query_service,
        ingress,
        http_route,
    })
}

/// Badger's PersistentVolumeClaim: ReadWriteOnce, the profile's size and class.
fn badger_claim(profile: &Profile, b: &BadgerSpec, version: &str) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: k8s::meta(
            BADGER_CLAIM,
            &profile.namespace,
            &k8s::labels(NAME, RoleKind::AllInOne.component(), version),
        ),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            storage_class_name: b.storage_class.clone(),
            // The API server's default, written out: without it every server-side apply of the
            // claim writes the object again (a new resourceVersion, though nothing changed),
            // which the `apiserver` e2e suite catches.
            volume_mode: Some("Filesystem".into()),
            resources: Some(VolumeResourceRequirements {
                requests: Some(
                    [(
                        "storage".to_owned(),
                        k8s_openapi::apimachinery::pkg::api::resource::Quantity(b.volume_size.to_string()),
                    )]
                    .into(),
                ),
                limits: None,
            }),
            ..PersistentVolumeClaimSpec::default()
        }),
        ..PersistentVolumeClaim::default()
    }
}
