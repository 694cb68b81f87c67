//! Jaeger v2's own components: the `jaeger_storage`, `jaeger_query` and `remote_sampling`
//! extensions and the `jaeger_storage_exporter`, typed from their Go structs at v2.20.0.

use std::collections::BTreeMap;

use serde::Serialize;

use super::settings::{ClientTls, Empty, GrpcServer, HttpServer, RetryOnFailure, SendingQueue};
use crate::value::duration::Duration;

/// `jaeger_storage`: named storage backends that the query extension and the storage exporter use.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Storage {
    /// Trace backends by name.
    pub backends: BTreeMap<String, Backend>,
    /// Metric backends by name (for the UI's Monitor tab).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metric_backends: BTreeMap<String, MetricBackend>,
}

/// One metric backend of `jaeger_storage` (`cmd/internal/storageconfig.MetricBackend` at v2.20.0).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricBackend {
    /// A Prometheus-compatible API holding the `spanmetrics` connector's metrics.
    Prometheus(PrometheusMetrics),
    /// RED metrics computed from the span indices of Elasticsearch (Jaeger ≥ 2.8; the same
    /// settings as the trace backend, `escfg.Configuration`).
    Elasticsearch(Box<Elasticsearch>),
    /// The same from OpenSearch.
    Opensearch(Box<Elasticsearch>),
}

/// The `prometheus` metric backend (`internal/config/promcfg.Configuration` at v2.20.0).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PrometheusMetrics {
    /// Base URL of the Prometheus API, e.g. `http://prometheus-operated.monitoring.svc:9090`.
    pub endpoint: String,
    /// The calls metric carries the `_total` suffix (`traces_span_metrics_calls_total`).
    pub normalize_calls: bool,
    /// The duration metric carries its unit suffix (`…_duration_milliseconds_bucket`).
    pub normalize_duration: bool,
}

/// One trace storage backend.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// In-process memory: lost on restart, not shared between processes.
    Memory(Memory),
    /// Badger, embedded, on a volume.
    Badger(Badger),
    /// Elasticsearch.
    Elasticsearch(Box<Elasticsearch>),
    /// OpenSearch: the same settings as Elasticsearch (`escfg.Configuration` in both).
    Opensearch(Box<Elasticsearch>),
    /// ClickHouse (`internal/storage/v2/clickhouse.Configuration`).
    Clickhouse(Box<Clickhouse>),
}

/// The `badger` backend (`internal/storage/v1/badger.Config`, unchanged from v2.13.0 to v2.20.0).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Badger {
    /// Keep data on disk: `false` here (Badger's default is `true`, a temporary directory).
    pub ephemeral: bool,
    /// Where keys and values live.
    pub directories: BadgerDirectories,
    /// How long spans are kept.
    pub ttl: BadgerTtl,
    /// Sync each write to disk (`SyncWrites`, spelled `consistency` in the config).
    pub consistency: bool,
}

/// `badger.directories`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BadgerDirectories {
    /// Key directory.
    pub keys: String,
    /// Value directory.
    pub values: String,
}

/// `badger.ttl`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BadgerTtl {
    /// Time-to-live of spans.
    pub spans: Duration,
}

/// The `clickhouse` backend (Jaeger ≥ 2.12; `ttl` from 2.18).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Clickhouse {
    /// `native` or `http`.
    pub protocol: String,
    /// `host:port` of each server.
    pub addresses: Vec<String>,
    /// The database.
    pub database: String,
    /// Credentials (the basicauth extension's client settings: `username`, `password`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<ClickhouseAuth>,
    /// Connection timeout.
    pub dial_timeout: Duration,
    /// Create the tables at start-up if missing.
    pub create_schema: bool,
    /// Span time-to-live (Jaeger ≥ 2.18).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<Duration>,
}

/// `clickhouse.auth`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClickhouseAuth {
    /// Basic authentication.
    pub basic: ClickhouseBasicAuth,
}

/// `clickhouse.auth.basic`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClickhouseBasicAuth {
    /// Usually `${env:CLICKHOUSE_USERNAME}` from a Secret.
    pub username: String,
    /// Usually `${env:CLICKHOUSE_PASSWORD}` from a Secret.
    pub password: String,
}

/// The `memory` backend.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Memory {
    /// The oldest traces are evicted beyond this many.
    pub max_traces: u64,
}

/// Shards and replicas of one kind of index (`indices.spans`, `indices.services` ...).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IndexOptions {
    /// Primary shards per index.
    pub shards: u32,
    /// Replicas per shard.
    pub replicas: u32,
    /// How indices are named and rotated; daily indices when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation: Option<Rotation>,
}

/// `indices.<kind>.rotation` (Jaeger ≥ 2.20, where it replaces the `use_aliases`/`use_ilm`
/// flags — `internal/storage/elasticsearch/config/config_rotation.go`, added in v2.20.0; older
/// releases know only the flags).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rotation {
    /// Read and write through the `<prefix>-jaeger-span-read`/`-write` aliases that an external
    /// tool (`jaeger-es-rollover`) creates and rolls over.
    ManualRollover(Empty),
    /// The same aliases, rolled over by the cluster's own lifecycle policy (ILM on
    /// Elasticsearch, ISM on OpenSearch).
    AutoRollover(AutoRollover),
}

/// `rotation.auto_rollover`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AutoRollover {
    /// The ILM/ISM policy's name.
    pub policy_name: String,
}

/// `indices`: index names and settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Indices {
    /// Prefix of every index name, e.g. `jaeger` gives `jaeger-jaeger-span-2026-11-25`.
    pub index_prefix: String,
    /// Span indices.
    pub spans: IndexOptions,
    /// Service/operation indices.
    pub services: IndexOptions,
    /// Dependency indices.
    pub dependencies: IndexOptions,
    /// Adaptive-sampling indices.
    pub sampling: IndexOptions,
}

/// `auth.basic`: username and a password read from a file (so it can come from a Secret volume and
/// be rotated without a restart).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BasicAuth {
    /// The user; usually `${env:ES_USERNAME}` filled from a Secret.
    pub username: String,
    /// File holding the password.
    pub password_file: String,
    /// How often the password file is re-read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reload_interval: Option<Duration>,
}

/// `auth`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Auth {
    /// Basic authentication.
    pub basic: BasicAuth,
}

/// The `elasticsearch` backend.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Elasticsearch {
    /// Cluster URLs.
    pub server_urls: Vec<String>,
    /// Index names and settings.
    pub indices: Indices,
    /// Credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    /// TLS to the cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientTls>,
    /// Whether this process creates index templates on start (writers do, readers need not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_mappings: Option<bool>,
    /// Read and write through aliases (rollover) rather than daily index names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_aliases: Option<bool>,
    /// Let Elasticsearch ILM roll the write alias over (needs `use_aliases`, and `create_mappings`
    /// off: `jaeger-es-rollover init` installs the templates naming the policy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_ilm: Option<bool>,
    /// How far back the query role looks for spans (matches the retention).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_span_age: Option<Duration>,
}

/// `jaeger_query.storage`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueryStorage {
    /// Backend name in `jaeger_storage` to read traces from.
    pub traces: String,
    /// Metric backend name in `jaeger_storage` for the Monitor tab.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<String>,
}

/// The `jaeger_query` extension: the UI and the query APIs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Query {
    /// Which backends to read.
    pub storage: QueryStorage,
    /// Whether the query service traces its own requests. Jaeger v2 turns it on by default
    /// (`queryOptions.EnableTracing = true` in `cmd/jaeger/internal/extension/jaegerquery/factory.go`,
    /// v1.76.0 / 2.13.0; the key is `enable_tracing` of `cmd/query/app` `QueryOptions`, unchanged in
    /// 2.20.0) and then exports to the OTLP default `localhost:4317`, where nothing listens in the
    /// pod: tracestack turns it off.
    pub enable_tracing: bool,
    /// UI and HTTP API server, conventionally on 16686.
    pub http: HttpServer,
    /// gRPC query API, conventionally on 16685.
    pub grpc: GrpcServer,
}

/// `remote_sampling.file`: a fixed default strategy served to SDKs and Jaeger clients.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileSampling {
    /// Probability (0..=1) handed to clients without a per-service strategy.
    pub default_sampling_probability: f64,
}

/// The `remote_sampling` extension: serves sampling strategies on 5778 (HTTP) and 5779 (gRPC).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RemoteSampling {
    /// File-based (here: default-only) strategies.
    pub file: FileSampling,
    /// HTTP endpoint.
    pub http: HttpServer,
    /// gRPC endpoint.
    pub grpc: GrpcServer,
}

/// The `jaeger_storage_exporter`: writes spans into a `jaeger_storage` backend.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StorageExporter {
    /// Backend name in `jaeger_storage`.
    pub trace_storage: String,
    /// The in-memory queue in front of the backend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<SendingQueue>,
    /// Retries against the backend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_on_failure: Option<RetryOnFailure>,
}
