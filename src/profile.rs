//! The profile format: a typed, validated description of one stack, read from `profiles/*.yaml`.
//!
//! Every default lives here, in the `Default` impls and `default_*` functions, and the JSON Schema
//! editors use is derived from these same types.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::collector::{Distribution, Version};
use crate::duration::Duration;
use crate::names;
use crate::quantity::Quantity;

/// One stack: where it runs, the collector gateway, Jaeger and sampling.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// What this profile is for, in a sentence; shown in the generated files' header.
    #[serde(default)]
    pub description: String,
    /// Namespace every object of the stack lives in.
    #[serde(default = "default_namespace")]
    #[schemars(default = "default_namespace")]
    pub namespace: String,
    /// The OpenTelemetry Collector gateway that applications and sidecars send OTLP to.
    #[serde(default)]
    pub collector: CollectorSpec,
    /// Jaeger v2: storage, roles and their sizes.
    #[serde(default)]
    pub jaeger: JaegerSpec,
    /// Head sampling applied in the collector gateway.
    #[serde(default)]
    pub sampling: Sampling,
}

fn default_namespace() -> String {
    "observability".into()
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            description: String::new(),
            namespace: default_namespace(),
            collector: CollectorSpec::default(),
            jaeger: JaegerSpec::default(),
            sampling: Sampling::default(),
        }
    }
}

/// CPU and memory of one container.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// What the scheduler reserves.
    pub requests: CpuMemory,
    /// The most the container may use; the memory limit also sizes the collector's
    /// `memory_limiter` and `GOMEMLIMIT`.
    pub limits: CpuMemory,
}

/// A CPU and a memory quantity.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CpuMemory {
    /// CPU, e.g. `250m` or `2`.
    pub cpu: Quantity,
    /// Memory, e.g. `512Mi`.
    pub memory: Quantity,
}

impl Resources {
    fn sized(req_cpu: &str, req_mem: &str, lim_cpu: &str, lim_mem: &str) -> Self {
        let q = |s: &str| Quantity::parse(s).unwrap_or_else(|_| unreachable!("built-in quantity {s}"));
        Self {
            requests: CpuMemory { cpu: q(req_cpu), memory: q(req_mem) },
            limits: CpuMemory { cpu: q(lim_cpu), memory: q(lim_mem) },
        }
    }
}

/// The collector gateway.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CollectorSpec {
    /// Collector distribution: `otelcol-k8s` (default), `otelcol-contrib`, `otelcol` or `otelcol-otlp`.
    #[schemars(with = "String")]
    pub distribution: DistributionName,
    /// Collector version; also the image tag.
    #[schemars(with = "String")]
    pub version: VersionText,
    /// Image repository, when it is mirrored (default: the distribution's Docker Hub image).
    pub image: Option<String>,
    /// Pods of the gateway.
    pub replicas: u32,
    /// CPU and memory per pod.
    pub resources: Resources,
    /// `batch` processor settings.
    pub batch: BatchSpec,
    /// Exporter queue towards Jaeger.
    pub queue: QueueSpec,
    /// Exporter retries towards Jaeger.
    pub retry: RetrySpec,
    /// Log level of the collector: `debug`, `info`, `warn` or `error`.
    pub log_level: LogLevel,
}

impl Default for CollectorSpec {
    fn default() -> Self {
        Self {
            distribution: DistributionName(Distribution::OtelcolK8s),
            version: VersionText(DEFAULT_COLLECTOR_VERSION),
            image: None,
            replicas: 1,
            resources: Resources::sized("100m", "128Mi", "500m", "256Mi"),
            batch: BatchSpec::default(),
            queue: QueueSpec::default(),
            retry: RetrySpec::default(),
            log_level: LogLevel::Info,
        }
    }
}

/// The collector version tracestack pins by default.
pub const DEFAULT_COLLECTOR_VERSION: Version = Version::new(0, 159, 0);
/// The Jaeger version tracestack pins by default.
pub const DEFAULT_JAEGER_VERSION: Version = Version::new(2, 20, 0);

/// A distribution name, read from its text form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DistributionName(pub Distribution);

impl<'de> Deserialize<'de> for DistributionName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match Distribution::parse(&text) {
            Some(dist) if dist != Distribution::Jaeger => Ok(Self(dist)),
            _ => {
                let known = ["otelcol-k8s", "otelcol-contrib", "otelcol", "otelcol-otlp"];
                let hint = names::suggest(&text, known).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
                Err(serde::de::Error::custom(format!(
                    "unknown collector distribution `{text}`, expected one of {}{hint}",
                    known.join(", ")
                )))
            }
        }
    }
}

/// A version such as `0.159.0`, read from its text form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionText(pub Version);

impl<'de> Deserialize<'de> for VersionText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Version::parse(&text).map(Self).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is not a version; write it as `MAJOR.MINOR.PATCH`, e.g. `0.159.0`"
            ))
        })
    }
}

/// Log level of a collector or Jaeger process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Everything, including per-batch details.
    Debug,
    /// Start-up, shutdown and problems.
    Info,
    /// Problems only.
    Warn,
    /// Errors only.
    Error,
}

impl LogLevel {
    /// The level as the collector spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// `batch` processor settings.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BatchSpec {
    /// Send a batch after this long even if it is not full.
    #[schemars(with = "String")]
    pub timeout: Duration,
    /// Send once this many spans are waiting.
    pub send_batch_size: u32,
    /// Never send more spans than this in one request; keeps requests under the receiver's 4 MiB
    /// gRPC message limit.
    pub send_batch_max_size: u32,
}

impl Default for BatchSpec {
    fn default() -> Self {
        // The collector's own defaults (200ms, 8192) with an upper bound: unbounded batches can
        // exceed Jaeger's gRPC message limit when spans are large.
        Self { timeout: Duration::from_millis(200), send_batch_size: 8192, send_batch_max_size: 10000 }
    }
}

/// The exporter queue in front of Jaeger.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct QueueSpec {
    /// Spans the queue holds while Jaeger is slow or down; beyond it new spans are dropped (and
    /// counted in `otelcol_exporter_enqueue_failed_spans_total`). Counted in spans, not batches, so
    /// its memory cost is bounded: about `queue_size` × average span size.
    pub queue_size: u64,
    /// Concurrent senders.
    pub num_consumers: u32,
}

impl Default for QueueSpec {
    fn default() -> Self {
        Self { queue_size: 50_000, num_consumers: 10 }
    }
}

/// Exporter retries towards Jaeger.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RetrySpec {
    /// First wait after a failure.
    #[schemars(with = "String")]
    pub initial_interval: Duration,
    /// Longest wait between tries.
    #[schemars(with = "String")]
    pub max_interval: Duration,
    /// Drop a batch after retrying this long.
    #[schemars(with = "String")]
    pub max_elapsed_time: Duration,
}

impl Default for RetrySpec {
    fn default() -> Self {
        Self {
            initial_interval: Duration::from_secs(5),
            max_interval: Duration::from_secs(30),
            max_elapsed_time: Duration::from_secs(300),
        }
    }
}

/// Jaeger v2.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct JaegerSpec {
    /// Jaeger version; also the image tag.
    #[schemars(with = "String")]
    pub version: VersionText,
    /// Image repository, when it is mirrored (default `jaegertracing/jaeger`).
    pub image: Option<String>,
    /// Where traces are kept.
    pub storage: StorageSpec,
    /// The all-in-one process (used with `memory` storage).
    pub all_in_one: RoleSpec,
    /// The collector role: receives OTLP from the gateway and writes to storage (shared storage only).
    pub collector: RoleSpec,
    /// The query role: UI and API, reads from storage (shared storage only).
    pub query: RoleSpec,
    /// Log level of Jaeger.
    pub log_level: LogLevel,
}

impl Default for JaegerSpec {
    fn default() -> Self {
        Self {
            version: VersionText(DEFAULT_JAEGER_VERSION),
            image: None,
            storage: StorageSpec::default(),
            all_in_one: RoleSpec { replicas: 1, resources: Resources::sized("100m", "256Mi", "500m", "512Mi") },
            collector: RoleSpec { replicas: 2, resources: Resources::sized("250m", "512Mi", "1", "1Gi") },
            query: RoleSpec { replicas: 2, resources: Resources::sized("100m", "256Mi", "500m", "512Mi") },
            log_level: LogLevel::Info,
        }
    }
}

/// Replicas and resources of one Jaeger role.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    /// Pods of this role.
    pub replicas: u32,
    /// CPU and memory per pod.
    pub resources: Resources,
}

/// Trace storage: exactly one of `memory` or `elasticsearch`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum StorageSpec {
    /// In-process memory: for demos; traces are lost on restart and Jaeger runs as one process.
    Memory(MemorySpec),
    /// Elasticsearch: Jaeger runs as separate collector and query roles.
    Elasticsearch(ElasticsearchSpec),
}

impl Default for StorageSpec {
    fn default() -> Self {
        Self::Memory(MemorySpec::default())
    }
}

/// In-memory storage.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MemorySpec {
    /// The oldest traces are evicted beyond this many; bounds Jaeger's memory.
    pub max_traces: u64,
}

impl Default for MemorySpec {
    fn default() -> Self {
        Self { max_traces: 50_000 }
    }
}

/// Elasticsearch storage.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ElasticsearchSpec {
    /// Cluster URLs, e.g. `https://elasticsearch-es-http.elastic.svc:9200`.
    pub server_urls: Vec<String>,
    /// Prefix of Jaeger's index names.
    #[serde(default = "default_index_prefix")]
    #[schemars(default = "default_index_prefix")]
    pub index_prefix: String,
    /// Primary shards of each span index.
    #[serde(default = "default_shards")]
    #[schemars(default = "default_shards")]
    pub shards: u32,
    /// Replicas of each shard.
    #[serde(default = "default_replicas")]
    #[schemars(default = "default_replicas")]
    pub replicas: u32,
    /// An existing Secret with the username and password (tracestack never writes credentials).
    pub credentials: Option<CredentialsRef>,
    /// An existing Secret with the CA bundle that signed the cluster's certificate.
    pub ca: Option<SecretKeyRef>,
}

fn default_index_prefix() -> String {
    "jaeger".into()
}
fn default_shards() -> u32 {
    3
}
fn default_replicas() -> u32 {
    1
}

/// A Secret holding a username and a password.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialsRef {
    /// Secret name, in the stack's namespace.
    pub secret: String,
    /// Key of the username.
    #[serde(default = "default_username_key")]
    #[schemars(default = "default_username_key")]
    pub username_key: String,
    /// Key of the password.
    #[serde(default = "default_password_key")]
    #[schemars(default = "default_password_key")]
    pub password_key: String,
}

fn default_username_key() -> String {
    "username".into()
}
fn default_password_key() -> String {
    "password".into()
}

/// One key of a Secret.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretKeyRef {
    /// Secret name, in the stack's namespace.
    pub secret: String,
    /// Key within it.
    #[serde(default = "default_ca_key")]
    #[schemars(default = "default_ca_key")]
    pub key: String,
}

fn default_ca_key() -> String {
    "ca.crt".into()
}

/// Head sampling in the collector gateway.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Sampling {
    /// Share of traces kept, 0–100 (by trace id, so whole traces are kept or dropped); also the
    /// default probability Jaeger's remote sampling hands to SDKs.
    pub percentage: f64,
}

impl Default for Sampling {
    fn default() -> Self {
        Self { percentage: 100.0 }
    }
}

/// A problem with one field of a profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path of the field, e.g. `collector.replicas`.
    pub path: String,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
}

impl Profile {
    /// Checks what the types alone cannot: names, ranges, required lists and relations.
    ///
    /// # Errors
    /// Every problem found, each naming its field.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut err = |path: &str, message: String| errors.push(FieldError { path: path.into(), message });
        if let Err(e) = names::dns1123_label(&self.namespace) {
            err("namespace", e);
        }
        let versions = [
            ("collector.version", self.collector.distribution.0, self.collector.version.0),
            ("jaeger.version", Distribution::Jaeger, self.jaeger.version.0),
        ];
        for (path, dist, version) in versions {
            // Every component is checked against the pinned build's table, so the version must be in it.
            if crate::collector::distribution::known_versions(dist).binary_search(&version).is_err() {
                err(path, crate::collector::distribution::UnknownVersion { distribution: dist, version }.to_string());
            }
        }
        if self.collector.replicas == 0 {
            err("collector.replicas", "must be at least 1 (got 0)".into());
        }
        check_resources("collector.resources", &self.collector.resources, &mut err);
        if let Some(image) = &self.collector.image {
            check_image("collector.image", image, &mut err);
        }
        if let Some(image) = &self.jaeger.image {
            check_image("jaeger.image", image, &mut err);
        }
        let b = &self.collector.batch;
        if b.send_batch_size == 0 {
            err("collector.batch.send_batch_size", "must be at least 1 (got 0)".into());
        }
        if b.send_batch_max_size != 0 && b.send_batch_max_size < b.send_batch_size {
            err(
                "collector.batch.send_batch_max_size",
                format!("({}) must be 0 or at least `send_batch_size` ({})", b.send_batch_max_size, b.send_batch_size),
            );
        }
        if b.timeout.as_nanos() == 0 {
            err("collector.batch.timeout", "must be longer than 0s".into());
        }
        if self.collector.queue.queue_size == 0 {
            err("collector.queue.queue_size", "must be at least 1 (got 0)".into());
        }
        if self.collector.queue.num_consumers == 0 {
            err("collector.queue.num_consumers", "must be at least 1 (got 0)".into());
        }
        let r = &self.collector.retry;
        if r.max_interval < r.initial_interval {
            err(
                "collector.retry.max_interval",
                format!("({}) must not be shorter than `initial_interval` ({})", r.max_interval, r.initial_interval),
            );
        }
        let p = self.sampling.percentage;
        if !(p.is_finite() && p > 0.0 && p <= 100.0) {
            err("sampling.percentage", format!("must be more than 0 and at most 100 (got {p})"));
        }
        let roles: &[(&str, &RoleSpec)] = match &self.jaeger.storage {
            StorageSpec::Memory(m) => {
                if m.max_traces == 0 {
                    err("jaeger.storage.memory.max_traces", "must be at least 1 (got 0)".into());
                }
                if self.jaeger.all_in_one.replicas != 1 {
                    err(
                        "jaeger.all_in_one.replicas",
                        format!(
                            "must be 1 with `memory` storage (got {}): each replica would keep its own traces, and the UI would show a random subset",
                            self.jaeger.all_in_one.replicas
                        ),
                    );
                }
                &[("jaeger.all_in_one", &self.jaeger.all_in_one)]
            }
            StorageSpec::Elasticsearch(es) => {
                check_elasticsearch(es, &mut err);
                &[("jaeger.collector", &self.jaeger.collector), ("jaeger.query", &self.jaeger.query)]
            }
        };
        for (path, role) in roles {
            if role.replicas == 0 {
                err(&format!("{path}.replicas"), "must be at least 1 (got 0)".into());
            }
            check_resources(&format!("{path}.resources"), &role.resources, &mut err);
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

fn check_image(path: &str, image: &str, err: &mut impl FnMut(&str, String)) {
    if image.is_empty()
        || image.contains(char::is_whitespace)
        || image.contains('@')
        || image.rsplit('/').next().is_some_and(|last| last.contains(':'))
    {
        err(
            path,
            format!("`{image}` must be an image repository without tag or digest (the tag comes from `version`)"),
        );
    }
}

fn check_resources(path: &str, r: &Resources, err: &mut impl FnMut(&str, String)) {
    let pairs = [("cpu", &r.requests.cpu, &r.limits.cpu), ("memory", &r.requests.memory, &r.limits.memory)];
    for (name, request, limit) in pairs {
        match (request.millis(), limit.millis()) {
            (Some(req), Some(lim)) => {
                if lim == 0 {
                    err(&format!("{path}.limits.{name}"), "must be more than 0".into());
                } else if req > lim {
                    err(&format!("{path}.requests.{name}"), format!("({request}) must not exceed the limit ({limit})"));
                }
            }
            (None, _) => {
                err(&format!("{path}.requests.{name}"), format!("`{request}` must be a non-negative quantity"))
            }
            (_, None) => err(&format!("{path}.limits.{name}"), format!("`{limit}` must be a non-negative quantity")),
        }
    }
    if r.limits.memory.bytes().is_some_and(|b| b < 32 * 1024 * 1024) {
        err(&format!("{path}.limits.memory"), format!("({}) must be at least 32Mi for a Go process", r.limits.memory));
    }
}

fn check_elasticsearch(es: &ElasticsearchSpec, err: &mut impl FnMut(&str, String)) {
    let base = "jaeger.storage.elasticsearch";
    if es.server_urls.is_empty() {
        err(
            &format!("{base}.server_urls"),
            "must list at least one URL, e.g. `https://elasticsearch.elastic.svc:9200`".into(),
        );
    }
    for (i, url) in es.server_urls.iter().enumerate() {
        let ok = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace));
        if !ok {
            err(&format!("{base}.server_urls[{i}]"), format!("`{url}` must be an `http://` or `https://` URL"));
        }
    }
    let prefix_ok = !es.index_prefix.is_empty()
        && es.index_prefix.len() <= 64
        && es.index_prefix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && !es.index_prefix.starts_with(['-', '_']);
    if !prefix_ok {
        err(
            &format!("{base}.index_prefix"),
            format!(
                "`{}` must be 1–64 lowercase letters, digits, `-` or `_`, not starting with `-` or `_` (Elasticsearch index name rules)",
                es.index_prefix
            ),
        );
    }
    if es.shards == 0 {
        err(&format!("{base}.shards"), "must be at least 1 (got 0)".into());
    }
    if let Some(c) = &es.credentials
        && let Err(e) = names::dns1123_subdomain(&c.secret)
    {
        err(&format!("{base}.credentials.secret"), e);
    }
    if let Some(ca) = &es.ca {
        if let Err(e) = names::dns1123_subdomain(&ca.secret) {
            err(&format!("{base}.ca.secret"), e);
        }
        if es.server_urls.iter().all(|u| u.starts_with("http://")) && !es.server_urls.is_empty() {
            err(
                &format!("{base}.ca"),
                "is set but every server URL is `http://`; use `https://` URLs or drop `ca`".into(),
            );
        }
    }
}

/// Labels of the whole profile; unused for now but kept as a typed map for callers.
pub type Labels = BTreeMap<String, String>;
