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
    /// The `deployment.environment.name` every span carries: the gateway inserts it where an
    /// application did not set its own, and onboarded apps report it themselves. Letters, digits,
    /// `.`, `_`, `-` (e.g. `production`, `staging`, `demo`).
    #[serde(default = "default_environment")]
    #[schemars(default = "default_environment")]
    pub environment: String,
    /// The OpenTelemetry Collector gateway that applications and sidecars send OTLP to.
    #[serde(default)]
    pub collector: CollectorSpec,
    /// Jaeger v2: storage, roles and their sizes.
    #[serde(default)]
    pub jaeger: JaegerSpec,
    /// Head sampling applied in the collector gateway.
    #[serde(default)]
    pub sampling: Sampling,
    /// Istio: mesh-wide tracing into the gateway and sidecar injection for chosen namespaces.
    #[serde(default)]
    pub istio: IstioSpec,
    /// Applications sending traces to the gateway: each gets a kustomize Component under
    /// `apps/<name>/` that sets its OpenTelemetry SDK environment.
    #[serde(default)]
    pub apps: Vec<AppSpec>,
}

fn default_namespace() -> String {
    "observability".into()
}

/// `production`: a shared gateway most often runs there, and a profile for anything else says so.
fn default_environment() -> String {
    "production".into()
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            description: String::new(),
            namespace: default_namespace(),
            environment: default_environment(),
            collector: CollectorSpec::default(),
            jaeger: JaegerSpec::default(),
            sampling: Sampling::default(),
            istio: IstioSpec::default(),
            apps: Vec::new(),
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

/// Istio mesh tracing: Envoy sidecars report spans to the gateway through an OpenTelemetry
/// extension provider selected by a mesh-wide `Telemetry`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct IstioSpec {
    /// Render the Istio files (`Telemetry`, mesh config overlay and Helm values, injection
    /// component). Off by default; every other field is checked either way.
    pub enabled: bool,
    /// Name of the `meshConfig.extensionProviders` entry (type `opentelemetry`) the `Telemetry`
    /// selects.
    pub provider: String,
    /// Share of requests Envoy starts a trace for when no upstream decision came with the request,
    /// 0–100 in steps of 0.01 (Istio's own default is 1).
    pub sampling_percentage: f64,
    /// Extra tags on every span Envoy reports, by tag name: `{literal: {value}}`,
    /// `{header: {name, default_value}}` or `{environment: {name, default_value}}`.
    pub custom_tags: BTreeMap<String, CustomTag>,
    /// Namespaces whose pods get sidecars: labelled `istio-injection=enabled` by the rendered
    /// kustomize component, which the kustomization owning them includes (tracestack never
    /// creates them).
    pub namespaces: Vec<String>,
    /// Also accept Zipkin from proxies still configured through `meshConfig.defaultConfig.tracing.zipkin`:
    /// the gateway gets a `zipkin` receiver on 9411, the `otlp` Service exposes it, and the mesh
    /// config points the legacy tracer there.
    pub legacy_zipkin: bool,
}

impl Default for IstioSpec {
    fn default() -> Self {
        Self {
            enabled: false,
            provider: "otel-tracing".into(),
            sampling_percentage: 1.0,
            custom_tags: BTreeMap::new(),
            namespaces: Vec::new(),
            legacy_zipkin: false,
        }
    }
}

/// Where a custom span tag's value comes from (Istio `Telemetry` `customTags`).
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum CustomTag {
    /// The same value on every span.
    Literal {
        /// The value (not empty).
        value: String,
    },
    /// A header of the request.
    Header {
        /// Header name, lower case (Envoy stores header names lower-cased).
        name: String,
        /// Used when the request lacks the header.
        #[serde(default)]
        default_value: Option<String>,
    },
    /// An environment variable of the proxy.
    Environment {
        /// Variable name.
        name: String,
        /// Used when the variable is unset.
        #[serde(default)]
        default_value: Option<String>,
    },
}

/// One application onboarded to the gateway.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppSpec {
    /// Short name: the Component's directory `apps/<name>/` (a DNS-1123 label, unique).
    pub name: String,
    /// Namespace of the app's Deployment.
    pub namespace: String,
    /// The Deployment the Component patches (default: `name`).
    #[serde(default)]
    pub deployment: Option<String>,
    /// The container that gets the environment: a strategic-merge patch finds containers by name
    /// (default: the Deployment's name, the usual single-container convention).
    #[serde(default)]
    pub container: Option<String>,
    /// `service.name` of its spans (default: `name`).
    #[serde(default)]
    pub service_name: Option<String>,
    /// `service.version` of its spans (default: none, so the gateway takes the pod's
    /// `app.kubernetes.io/version` label or image tag).
    #[serde(default)]
    pub version: Option<String>,
    /// Runtime: `java`, `nodejs`, `python`, `dotnet` or `go`.
    pub language: Language,
    /// OTLP protocol: `http/protobuf` (the SDK default, port 4318) or `grpc` (port 4317).
    #[serde(default)]
    pub protocol: OtlpProtocol,
    /// Head sampling in the SDK (default `parentbased_traceidratio` at 1: follow the caller's
    /// decision, Envoy's included, and keep every new trace).
    #[serde(default)]
    pub sampler: SamplerSpec,
    /// Let the OpenTelemetry Operator inject its agent (an `Instrumentation` in the namespace plus
    /// the `instrumentation.opentelemetry.io/inject-<language>` annotation); not for `go`.
    #[serde(default)]
    pub auto_instrumentation: bool,
}

impl AppSpec {
    /// The Deployment name.
    #[must_use]
    pub fn deployment(&self) -> &str {
        self.deployment.as_deref().unwrap_or(&self.name)
    }

    /// The container name.
    #[must_use]
    pub fn container(&self) -> &str {
        self.container.as_deref().unwrap_or(self.deployment())
    }

    /// The `service.name`.
    #[must_use]
    pub fn service_name(&self) -> &str {
        self.service_name.as_deref().unwrap_or(&self.name)
    }
}

/// An application's runtime, as the OpenTelemetry Operator names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Java (agent 2.x).
    Java,
    /// Node.js.
    Nodejs,
    /// Python.
    Python,
    /// .NET.
    Dotnet,
    /// Go.
    Go,
}

impl Language {
    /// The name in `instrumentation.opentelemetry.io/inject-<name>` and in the `Instrumentation` spec.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Java => "java",
            Self::Nodejs => "nodejs",
            Self::Python => "python",
            Self::Dotnet => "dotnet",
            Self::Go => "go",
        }
    }
}

/// The OTLP transport of an SDK (`OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum OtlpProtocol {
    /// Protobuf over HTTP, to port 4318: the default of the specification and of the Java agent 2.x.
    #[default]
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
    /// gRPC, to port 4317.
    #[serde(rename = "grpc")]
    Grpc,
}

impl OtlpProtocol {
    /// The value of `OTEL_EXPORTER_OTLP_PROTOCOL`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HttpProtobuf => "http/protobuf",
            Self::Grpc => "grpc",
        }
    }
}

/// An SDK sampler (`OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SamplerSpec {
    /// The sampler.
    #[serde(rename = "type", default)]
    pub kind: SamplerKind,
    /// Share of traces kept, 0–1, for `traceidratio` and `parentbased_traceidratio` only
    /// (default 1).
    #[serde(default)]
    pub ratio: Option<f64>,
}

/// A sampler the OpenTelemetry SDKs know (`OTEL_TRACES_SAMPLER` values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SamplerKind {
    /// Keep every span.
    AlwaysOn,
    /// Keep none.
    AlwaysOff,
    /// Keep `ratio` of traces by trace id, ignoring the caller.
    Traceidratio,
    /// Follow the caller; keep every new trace.
    ParentbasedAlwaysOn,
    /// Follow the caller; drop new traces.
    ParentbasedAlwaysOff,
    /// Follow the caller; keep `ratio` of new traces.
    #[default]
    ParentbasedTraceidratio,
}

impl SamplerKind {
    /// The value of `OTEL_TRACES_SAMPLER`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AlwaysOn => "always_on",
            Self::AlwaysOff => "always_off",
            Self::Traceidratio => "traceidratio",
            Self::ParentbasedAlwaysOn => "parentbased_always_on",
            Self::ParentbasedAlwaysOff => "parentbased_always_off",
            Self::ParentbasedTraceidratio => "parentbased_traceidratio",
        }
    }

    /// Whether it takes a ratio.
    #[must_use]
    pub fn takes_ratio(self) -> bool {
        matches!(self, Self::Traceidratio | Self::ParentbasedTraceidratio)
    }
}

/// Namespaces Istio's injector never touches, or that a sidecar would break.
const NO_INJECTION_NAMESPACES: [&str; 4] = ["istio-system", "kube-node-lease", "kube-public", "kube-system"];

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
        if let Err(e) = attribute_value(&self.environment) {
            err("environment", e);
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
        check_istio(&self.istio, &self.namespace, &mut err);
        check_apps(&self.apps, &mut err);
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

/// Checks a value tracestack writes into `OTEL_RESOURCE_ATTRIBUTES` or a collector attribute:
/// 1–255 characters of letters, digits and `.`, `_`, `-`, `+`, `:`, `/`, `@`, none of which needs
/// escaping there (the variable is a `key=value,…` list in W3C baggage syntax, where `,`, `=`, `;`,
/// `%`, quotes, backslashes and spaces would have to be percent-encoded).
///
/// # Errors
/// A message naming the value and the rule.
pub fn attribute_value(value: &str) -> Result<(), String> {
    let ok = !value.is_empty()
        && value.len() <= 255
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b".-_+:/@".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{value}` must be 1–255 letters, digits, `.`, `_`, `-`, `+`, `:`, `/` or `@` (it goes into OTEL_RESOURCE_ATTRIBUTES unescaped)"
        ))
    }
}

fn check_istio(istio: &IstioSpec, stack_namespace: &str, err: &mut impl FnMut(&str, String)) {
    if let Err(e) = names::dns1123_label(&istio.provider) {
        err("istio.provider", e);
    }
    let p = istio.sampling_percentage;
    if !(p.is_finite() && (0.0..=100.0).contains(&p)) {
        err("istio.sampling_percentage", format!("must be from 0 to 100 (got {p})"));
    }
    for (tag, source) in &istio.custom_tags {
        let path = format!("istio.custom_tags.{tag}");
        if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b)) {
            err(&path, format!("tag name `{tag}` must be letters, digits, `.`, `_`, `-` or `/`"));
        }
        match source {
            CustomTag::Literal { value } if value.is_empty() => {
                err(&format!("{path}.literal.value"), "must not be empty (Istio requires a value)".into());
            }
            CustomTag::Literal { .. } => {}
            CustomTag::Header { name, .. } => {
                let token = !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b));
                if !token {
                    err(
                        &format!("{path}.header.name"),
                        format!("`{name}` must be a lower-case HTTP header name (Envoy matches lower-cased names)"),
                    );
                }
            }
            CustomTag::Environment { name, .. } => {
                let ident = name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !ident {
                    err(
                        &format!("{path}.environment.name"),
                        format!(
                            "`{name}` must be an environment variable name (letters, digits, `_`, not starting with a digit)"
                        ),
                    );
                }
            }
        }
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, ns) in istio.namespaces.iter().enumerate() {
        let path = format!("istio.namespaces[{i}]");
        if let Err(e) = names::dns1123_label(ns) {
            err(&path, e);
        } else if let Some(first) = seen.get(ns.as_str()) {
            err(&path, format!("`{ns}` is already listed at istio.namespaces[{first}]"));
        } else if ns == stack_namespace {
            err(
                &path,
                format!(
                    "`{ns}` is the stack's own namespace: a sidecar in front of the gateway would hide each sender's pod IP from `k8s_attributes`, and Envoy would trace the span exports themselves"
                ),
            );
        } else if NO_INJECTION_NAMESPACES.contains(&ns.as_str()) {
            err(&path, format!("`{ns}` is a system namespace Istio does not inject sidecars into"));
        }
        seen.entry(ns.as_str()).or_insert(i);
    }
}

fn check_apps(apps: &[AppSpec], err: &mut impl FnMut(&str, String)) {
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut deployments: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (i, app) in apps.iter().enumerate() {
        let at = |field: &str| format!("apps[{i}].{field}");
        if let Err(e) = names::dns1123_label(&app.name) {
            err(&at("name"), e);
        } else if let Some(first) = names.get(app.name.as_str()) {
            err(
                &at("name"),
                format!(
                    "`{}` is already the name of apps[{first}]; names must be unique (each is a directory `apps/<name>/`)",
                    app.name
                ),
            );
        }
        names.entry(app.name.as_str()).or_insert(i);
        if let Err(e) = names::dns1123_label(&app.namespace) {
            err(&at("namespace"), e);
        }
        match (&app.deployment, names::dns1123_subdomain(app.deployment())) {
            (Some(_), Err(e)) => err(&at("deployment"), e),
            _ => {
                if let Some(first) = deployments.get(&(app.namespace.as_str(), app.deployment())) {
                    err(
                        &at("deployment"),
                        format!(
                            "Deployment `{}/{}` is already onboarded by apps[{first}]; two Components would patch one container",
                            app.namespace,
                            app.deployment()
                        ),
                    );
                }
                deployments.entry((app.namespace.as_str(), app.deployment())).or_insert(i);
            }
        }
        let deployment_ok = names::dns1123_subdomain(app.deployment()).is_ok();
        if let (true, Err(e)) = (app.container.is_some() || deployment_ok, names::dns1123_label(app.container())) {
            let what = if app.container.is_some() {
                e
            } else {
                format!("defaults to the Deployment name, and {e}; set `container` to the container's name")
            };
            err(&at("container"), what);
        }
        if let Some(name) = &app.service_name
            && let Err(e) = attribute_value(name)
        {
            err(&at("service_name"), e);
        }
        if let Some(version) = &app.version
            && let Err(e) = attribute_value(version)
        {
            err(&at("version"), e);
        }
        match app.sampler.ratio {
            Some(_) if !app.sampler.kind.takes_ratio() => err(
                &at("sampler.ratio"),
                format!(
                    "`{}` takes no ratio; use `traceidratio` or `parentbased_traceidratio`, or drop `ratio`",
                    app.sampler.kind.as_str()
                ),
            ),
            Some(r) if !(r.is_finite() && (0.0..=1.0).contains(&r)) => {
                err(&at("sampler.ratio"), format!("must be from 0 to 1 (got {r})"));
            }
            _ => {}
        }
        if app.auto_instrumentation && app.language == Language::Go {
            err(
                &at("auto_instrumentation"),
                "is not offered for `go`: the Operator instruments Go with a privileged eBPF sidecar, which the restricted Pod Security Standard forbids; use the Go SDK, which reads the environment the Component sets".into(),
            );
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
