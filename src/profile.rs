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
    /// The smoke-test Jobs rendered into `smoke-test/`.
    #[serde(default)]
    pub smoke_test: SmokeTestSpec,
    /// Scraping and alerting through the Prometheus Operator (off unless enabled).
    #[serde(default)]
    pub monitoring: MonitoringSpec,
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
            smoke_test: SmokeTestSpec::default(),
            monitoring: MonitoringSpec::default(),
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

/// The smoke-test Jobs: one sends traces through the `otlp` Service, one asks Jaeger's query API
/// for them.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SmokeTestSpec {
    /// Traces the sender sends (each a root span and one child) and the checker expects back.
    pub traces: u32,
    /// Repository of the telemetrygen image, when it is mirrored (default
    /// `ghcr.io/open-telemetry/opentelemetry-collector-contrib/telemetrygen`); the tag is
    /// `v` + `collector.version`.
    pub telemetrygen_image: Option<String>,
    /// Repository of the curl image the checker runs, when it is mirrored (default
    /// `curlimages/curl`); the tag is tracestack's pinned curl version, and the image must run as
    /// UID 100 like the upstream one.
    pub curl_image: Option<String>,
}

impl Default for SmokeTestSpec {
    fn default() -> Self {
        Self { traces: 20, telemetrygen_image: None, curl_image: None }
    }
}

/// The most traces a smoke test may send: it is a check, not a load test.
pub const MAX_SMOKE_TRACES: u32 = 1000;

/// Scraping and alerting through the Prometheus Operator: PodMonitors for the collector's and
/// Jaeger's own metrics, a PrometheusRule with health and RED alerts, and the span metrics they
/// need. The cluster must have the `monitoring.coreos.com` CRDs.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MonitoringSpec {
    /// Render the PodMonitors and the PrometheusRule, and compute span metrics.
    pub enabled: bool,
    /// Labels added to the PodMonitors and the PrometheusRule so your Prometheus selects them
    /// (kube-prometheus-stack selects `release: <its Helm release name>`).
    pub labels: BTreeMap<String, String>,
    /// How often Prometheus scrapes the collector and Jaeger.
    #[schemars(with = "String")]
    pub scrape_interval: Duration,
    /// Alert when an exporter queue is fuller than this share of its capacity (0–1).
    pub queue_alert_ratio: f64,
    /// RED (rate, errors, duration) metrics and alerts for the applications sending traces.
    pub red: RedSpec,
}

impl Default for MonitoringSpec {
    fn default() -> Self {
        Self {
            enabled: false,
            labels: BTreeMap::new(),
            scrape_interval: Duration::from_secs(30),
            queue_alert_ratio: 0.8,
            red: RedSpec::default(),
        }
    }
}

/// RED metrics from spans (Jaeger's `spanmetrics` connector) and the alerts on them.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RedSpec {
    /// Compute span metrics and alert on them (with `monitoring.enabled`).
    pub enabled: bool,
    /// Alert when more than this share (0–1) of a service's server and consumer spans are errors.
    pub error_ratio: f64,
    /// Alert when a service's 99th-percentile server/consumer span duration is above this.
    #[schemars(with = "String")]
    pub p99_latency: Duration,
    /// Only alert on services receiving at least this many requests per second (as sampled), so
    /// one failed request of three does not page anyone.
    pub min_request_rate: f64,
    /// Thresholds for individual services (by `service.name`), overriding the two above.
    pub services: BTreeMap<String, RedThresholds>,
    /// Base URL of the Prometheus that scrapes the span metrics, e.g.
    /// `http://prometheus-operated.monitoring.svc:9090`: fills Jaeger's Monitor tab. Unset: no
    /// Monitor tab.
    pub prometheus_url: Option<String>,
}

impl Default for RedSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            error_ratio: 0.05,
            p99_latency: Duration::from_secs(1),
            min_request_rate: 0.1,
            services: BTreeMap::new(),
            prometheus_url: None,
        }
    }
}

/// Per-service RED thresholds; an unset one keeps the default.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedThresholds {
    /// Error share (0–1) above which to alert.
    pub error_ratio: Option<f64>,
    /// 99th-percentile duration above which to alert.
    #[schemars(with = "Option<String>")]
    pub p99_latency: Option<Duration>,
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
        check_smoke_test(&self.smoke_test, &mut err);
        if self.monitoring.enabled {
            check_monitoring(&self.monitoring, &mut err);
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

fn check_smoke_test(spec: &SmokeTestSpec, err: &mut impl FnMut(&str, String)) {
    if spec.traces == 0 || spec.traces > MAX_SMOKE_TRACES {
        err("smoke_test.traces", format!("must be from 1 to {MAX_SMOKE_TRACES} (got {})", spec.traces));
    }
    if let Some(image) = &spec.telemetrygen_image {
        check_image("smoke_test.telemetrygen_image", image, err);
    }
    if let Some(image) = &spec.curl_image {
        check_image("smoke_test.curl_image", image, err);
    }
}

fn check_ratio(path: &str, value: f64, err: &mut impl FnMut(&str, String)) {
    if !(value.is_finite() && value > 0.0 && value <= 1.0) {
        err(path, format!("must be more than 0 and at most 1 (got {value})"));
    }
}

fn check_monitoring(spec: &MonitoringSpec, err: &mut impl FnMut(&str, String)) {
    for (key, value) in &spec.labels {
        if let Err(e) = names::qualified_name(key) {
            err(&format!("monitoring.labels.{key}"), e);
        }
        if let Err(e) = names::label_value(value) {
            err(&format!("monitoring.labels.{key}"), e);
        }
    }
    if spec.scrape_interval.as_millis() == 0 {
        err("monitoring.scrape_interval", "must be at least 1ms".into());
    }
    check_ratio("monitoring.queue_alert_ratio", spec.queue_alert_ratio, err);
    let red = &spec.red;
    if !red.enabled {
        return;
    }
    check_ratio("monitoring.red.error_ratio", red.error_ratio, err);
    if red.p99_latency.as_millis() == 0 {
        err("monitoring.red.p99_latency", "must be at least 1ms".into());
    }
    if !(red.min_request_rate.is_finite() && red.min_request_rate >= 0.0) {
        err("monitoring.red.min_request_rate", format!("must be 0 or more (got {})", red.min_request_rate));
    }
    if let Some(url) = &red.prometheus_url
        && !is_http_url(url)
    {
        err("monitoring.red.prometheus_url", format!("`{url}` must be an `http://` or `https://` URL"));
    }
    for (service, thresholds) in &red.services {
        let path = format!("monitoring.red.services.{service}");
        // The name goes into alert annotations, which Prometheus expands as Go templates.
        if service.is_empty() || service.chars().any(char::is_control) || service.contains("{{") {
            err(&path, "a service name must be non-empty text without control characters or `{{`".into());
        }
        if thresholds.error_ratio.is_none() && thresholds.p99_latency.is_none() {
            err(&path, "sets no threshold; give `error_ratio`, `p99_latency` or both".into());
        }
        if let Some(ratio) = thresholds.error_ratio {
            check_ratio(&format!("{path}.error_ratio"), ratio, err);
        }
        if thresholds.p99_latency.is_some_and(|d| d.as_millis() == 0) {
            err(&format!("{path}.p99_latency"), "must be at least 1ms".into());
        }
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

fn is_http_url(url: &str) -> bool {
    url.strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace))
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
        if !is_http_url(url) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The validation errors of the default profile after `edit`, as `path: message` lines.
    fn errors(edit: impl FnOnce(&mut Profile)) -> Vec<String> {
        let mut profile = Profile::default();
        edit(&mut profile);
        profile.validate().err().unwrap_or_default().into_iter().map(|e| format!("{}: {}", e.path, e.message)).collect()
    }

    #[test]
    fn smoke_test_trace_count_is_bounded() {
        assert_eq!(errors(|p| p.smoke_test.traces = 0), ["smoke_test.traces: must be from 1 to 1000 (got 0)"]);
        assert_eq!(errors(|p| p.smoke_test.traces = 1001), ["smoke_test.traces: must be from 1 to 1000 (got 1001)"]);
        assert_eq!(
            errors(|p| p.smoke_test.curl_image = Some("curlimages/curl:8".into())),
            [
                "smoke_test.curl_image: `curlimages/curl:8` must be an image repository without tag or digest (the tag comes from `version`)"
            ]
        );
    }

    #[test]
    fn monitoring_is_checked_only_when_enabled() {
        let broken = |p: &mut Profile| {
            p.monitoring.queue_alert_ratio = 1.5;
            p.monitoring.red.error_ratio = 0.0;
        };
        assert!(errors(broken).is_empty());
        assert_eq!(
            errors(|p| {
                broken(p);
                p.monitoring.enabled = true;
            }),
            [
                "monitoring.queue_alert_ratio: must be more than 0 and at most 1 (got 1.5)",
                "monitoring.red.error_ratio: must be more than 0 and at most 1 (got 0)",
            ]
        );
    }

    #[test]
    fn monitoring_labels_and_service_overrides_are_checked() {
        let errors = errors(|p| {
            p.monitoring.enabled = true;
            p.monitoring.labels.insert("release".into(), "kube prometheus".into());
            p.monitoring.red.p99_latency = Duration::from_millis(0);
            p.monitoring.red.min_request_rate = -1.0;
            p.monitoring.red.prometheus_url = Some("prometheus:9090".into());
            p.monitoring.red.services.insert("checkout".into(), RedThresholds::default());
            p.monitoring
                .red
                .services
                .insert("{{x}}".into(), RedThresholds { error_ratio: Some(0.1), p99_latency: None });
            p.monitoring.red.services.insert(
                "cart".into(),
                RedThresholds { error_ratio: Some(2.0), p99_latency: Some(Duration::from_secs(1)) },
            );
        });
        assert_eq!(
            errors,
            [
                "monitoring.labels.release: `kube prometheus` is not a valid label value: it must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
                "monitoring.red.p99_latency: must be at least 1ms",
                "monitoring.red.min_request_rate: must be 0 or more (got -1)",
                "monitoring.red.prometheus_url: `prometheus:9090` must be an `http://` or `https://` URL",
                "monitoring.red.services.cart.error_ratio: must be more than 0 and at most 1 (got 2)",
                "monitoring.red.services.checkout: sets no threshold; give `error_ratio`, `p99_latency` or both",
                "monitoring.red.services.{{x}}: a service name must be non-empty text without control characters or `{{`",
            ]
        );
    }
}
