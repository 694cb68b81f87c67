//! The collector components tracestack can emit, one typed struct per component config.
//!
//! Keys follow the components' own `config.schema.yaml` at the pinned versions (collector core
//! v0.159.0); optional keys are left out when unset so the component's default applies.

use serde::Serialize;

use super::jaeger;
pub use super::settings::{
    ClientTls, Empty, GrpcServer, HttpServer, RetryOnFailure, SendingQueue, ServerKeepalive, ServerParameters,
    ServerTls,
};
use crate::value::duration::Duration;

/// Which OTLP protocols the receiver serves.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OtlpProtocols {
    /// OTLP/gRPC, conventionally on 4317.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc: Option<GrpcServer>,
    /// OTLP/HTTP, conventionally on 4318.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpServer>,
}

/// The `otlp` receiver.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OtlpReceiver {
    /// Served protocols.
    pub protocols: OtlpProtocols,
}

impl OtlpReceiver {
    /// gRPC on `0.0.0.0:grpc` and HTTP on `0.0.0.0:http`.
    ///
    /// Since v0.104 the receiver binds to `localhost` unless told otherwise, which nothing outside
    /// the pod can reach; a pod has its own network namespace, so `0.0.0.0` exposes it only to the
    /// Service in front of it.
    #[must_use]
    pub fn all_interfaces(grpc: u16, http: u16) -> Self {
        Self {
            protocols: OtlpProtocols {
                grpc: Some(GrpcServer { endpoint: format!("0.0.0.0:{grpc}"), ..GrpcServer::default() }),
                http: Some(HttpServer { endpoint: format!("0.0.0.0:{http}"), tls: None }),
            },
        }
    }
}

/// The `zipkin` receiver (for Envoy sidecars still on the legacy Zipkin tracer).
///
/// Since contrib v0.128.0 the server settings live under `protocols.http`; the top-level
/// `endpoint` is deprecated (`receiver/zipkinreceiver/config.go`: "Deprecated: [v0.128.0] Use
/// protocols.http instead"). [`ZipkinReceiver::listening_on`] picks the form a version understands.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ZipkinReceiver {
    /// The served protocols (v0.128.0 and later).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocols: Option<ZipkinProtocols>,
    /// `host:port` to listen on, for versions before v0.128.0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// `protocols` of the `zipkin` receiver.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ZipkinProtocols {
    /// Zipkin v2 over HTTP (JSON or protobuf).
    pub http: HttpServer,
}

impl ZipkinReceiver {
    /// The first collector version with `protocols.http`.
    pub const PROTOCOLS_SINCE: crate::config::collector::Version = crate::config::collector::Version::new(0, 128, 0);

    /// Listens on `0.0.0.0:port`, in the form `version` reads.
    #[must_use]
    pub fn listening_on(port: u16, version: crate::config::collector::Version) -> Self {
        let endpoint = format!("0.0.0.0:{port}");
        if version >= Self::PROTOCOLS_SINCE {
            Self { protocols: Some(ZipkinProtocols { http: HttpServer { endpoint, tls: None } }), endpoint: None }
        } else {
            Self { protocols: None, endpoint: Some(endpoint) }
        }
    }

    /// The `host:port` the receiver listens on, whichever form holds it.
    #[must_use]
    pub fn endpoint(&self) -> Option<&str> {
        self.protocols.as_ref().map(|p| p.http.endpoint.as_str()).or(self.endpoint.as_deref())
    }
}

/// What the Kafka exporter and receiver share (contrib `pkg/kafka/configkafka` `ClientConfig`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KafkaClient {
    /// Bootstrap brokers, `host:port`.
    pub brokers: Vec<String>,
    /// TLS to the brokers (none: plain text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientTls>,
    /// SASL authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<KafkaAuth>,
}

/// `auth` of [`KafkaClient`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KafkaAuth {
    /// SASL.
    pub sasl: KafkaSasl,
}

/// `auth.sasl` of [`KafkaClient`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KafkaSasl {
    /// User name (a `${env:…}` reference to a Secret-backed variable).
    pub username: String,
    /// Password (the same).
    pub password: String,
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub mechanism: String,
}

/// `traces` of the Kafka exporter and receiver.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KafkaTopic {
    /// The topic.
    pub topic: String,
    /// `otlp_proto` or `otlp_json`.
    pub encoding: String,
}

/// `message_marking` of the Kafka receiver.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MessageMarking {
    /// Commit a message's offset only after the pipeline consumed it (not before).
    pub after: bool,
    /// Also when the pipeline failed on it (false: it is read again).
    pub on_error: bool,
}

/// The `kafka` receiver (contrib `receiver/kafkareceiver`, in Jaeger v2).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KafkaReceiver {
    /// Brokers, TLS, authentication.
    #[serde(flatten)]
    pub client: KafkaClient,
    /// The topic and encoding of spans.
    pub traces: KafkaTopic,
    /// Consumer group.
    pub group_id: String,
    /// Where a new group starts: `earliest` or `latest`.
    pub initial_offset: String,
    /// When offsets are committed.
    pub message_marking: MessageMarking,
}

/// A receiver.
#[allow(clippy::large_enum_variant)] // a config holds a handful; not worth a Box
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Receiver {
    /// `otlp`.
    Otlp(OtlpReceiver),
    /// `zipkin`.
    Zipkin(ZipkinReceiver),
    /// `nop`: receives nothing; lets a Jaeger query-only process have the pipeline a collector needs.
    Nop(Empty),
    /// `kafka`: consumes a topic.
    Kafka(KafkaReceiver),
}

impl Receiver {
    /// The component type.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Otlp(_) => "otlp",
            Self::Zipkin(_) => "zipkin",
            Self::Nop(_) => "nop",
            Self::Kafka(_) => "kafka",
        }
    }
}

/// The `memory_limiter` processor: refuses data before the process runs out of memory.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemoryLimiter {
    /// How often memory use is measured.
    pub check_interval: Duration,
    /// Hard limit in MiB: above it the collector forces a GC and refuses data.
    pub limit_mib: u32,
    /// Headroom below the hard limit; above `limit_mib - spike_limit_mib` data is refused.
    pub spike_limit_mib: u32,
}

/// The `batch` processor.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Batch {
    /// Send a batch after this long even if it is not full.
    pub timeout: Duration,
    /// Send once this many spans are waiting.
    pub send_batch_size: u32,
    /// Never send more than this many spans at once (0 = no bound).
    pub send_batch_max_size: u32,
}

/// The `probabilistic_sampler` processor: keeps a fixed share of traces, by trace id.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbabilisticSampler {
    /// Share of traces kept, in percent.
    pub sampling_percentage: f64,
}

/// The `k8s_attributes` processor (`k8sattributes` before contrib v0.146.0): looks up the pod each
/// span comes from and adds its Kubernetes metadata as resource attributes.
///
/// Keys from contrib `processor/k8sattributesprocessor/config.schema.yaml` (and `auth_type` from
/// `internal/k8sconfig`). The processor only sets an attribute that is missing or empty
/// (`setResourceAttribute` in `processor.go`), so what an SDK reports always wins.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct K8sAttributes {
    /// How it reaches the API server: `serviceAccount` (the pod's own token).
    pub auth_type: String,
    /// `true` only tags the sender's IP (for agents in front of a gateway); the gateway looks up.
    pub passthrough: bool,
    /// Which pods it watches (all when unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<K8sFilter>,
    /// What to add.
    pub extract: K8sExtract,
    /// How a span finds its pod, tried in order.
    pub pod_association: Vec<PodAssociation>,
}

/// `filter` of [`K8sAttributes`] (contrib `processor/k8sattributesprocessor/config.go`,
/// `FilterConfig`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct K8sFilter {
    /// Watch only the pods of the node named by this environment variable (the pod's
    /// `spec.nodeName` through the downward API): a field selector on the informer, so an agent
    /// holds its own node's pods rather than the cluster's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_from_env_var: Option<String>,
}

/// `extract` of [`K8sAttributes`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct K8sExtract {
    /// Resource attributes to add, by name (`k8s.pod.name`, `service.name`, …).
    pub metadata: Vec<String>,
    /// Pod labels copied into attributes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<K8sFieldExtract>,
}

/// One label (or annotation) copied into a resource attribute.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct K8sFieldExtract {
    /// The resource attribute to set.
    pub tag_name: String,
    /// The label key.
    pub key: String,
    /// Which object carries the label: `pod`, `namespace`, `node`, …
    pub from: String,
}

/// One pod association rule: every source must match.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PodAssociation {
    /// The sources.
    pub sources: Vec<AssociationSource>,
}

/// Where a pod identifier comes from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AssociationSource {
    /// `resource_attribute` or `connection` (the sender's IP).
    pub from: String,
    /// The attribute, with `resource_attribute`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl AssociationSource {
    /// A resource attribute.
    #[must_use]
    pub fn attribute(name: &str) -> Self {
        Self { from: "resource_attribute".into(), name: Some(name.into()) }
    }

    /// The IP address of the incoming connection.
    #[must_use]
    pub fn connection() -> Self {
        Self { from: "connection".into(), name: None }
    }
}

/// The `resource` processor: inserts, updates or deletes resource attributes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResourceProcessor {
    /// Actions, applied in order.
    pub attributes: Vec<AttributeAction>,
}

/// One action of the `resource` (or `attributes`) processor (contrib
/// `internal/coreinternal/attraction` `action_key_value`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AttributeAction {
    /// The attribute acted on.
    pub key: String,
    /// A literal value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Copy the value of this attribute instead (nothing happens when it is absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_attribute: Option<String>,
    /// `insert` (only when the key is missing), `update`, `upsert`, `delete`, …
    pub action: String,
}

impl AttributeAction {
    /// Sets `key` to `value` only where `key` is missing.
    #[must_use]
    pub fn insert_value(key: &str, value: &str) -> Self {
        Self { key: key.into(), value: Some(value.into()), from_attribute: None, action: "insert".into() }
    }

    /// Copies `from` into `key` only where `key` is missing (and `from` is present).
    #[must_use]
    pub fn insert_from(key: &str, from: &str) -> Self {
        Self { key: key.into(), value: None, from_attribute: Some(from.into()), action: "insert".into() }
    }
}

/// The `tail_sampling` processor: holds each trace for `decision_wait`, then keeps it when any policy
/// says so (contrib `processor/tailsamplingprocessor/config.go`, v0.159.0).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TailSampling {
    /// How long after its first span a trace is decided.
    pub decision_wait: Duration,
    /// Traces held in memory at once; the oldest is decided early (and counted) beyond it.
    pub num_traces: u64,
    /// Expected new traces per second: sizes the processor's internal maps.
    pub expected_new_traces_per_sec: u64,
    /// The policies; a trace is kept when any keeps it.
    pub policies: Vec<SamplingPolicy>,
}

/// One policy of [`TailSampling`] (also an `and_sub_policy` entry): `name`, `type` and the one
/// settings key its type reads.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SamplingPolicy {
    /// Policy name (in the processor's metrics as `policy`).
    pub name: String,
    /// `status_code`, `latency`, `probabilistic`, `string_attribute` or `and`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `status_code` settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<StatusCodePolicy>,
    /// `latency` settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencyPolicy>,
    /// `probabilistic` settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probabilistic: Option<ProbabilisticPolicy>,
    /// `string_attribute` settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string_attribute: Option<StringAttributePolicy>,
    /// `and` settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub and: Option<AndPolicy>,
}

impl SamplingPolicy {
    fn new(name: &str, kind: &'static str) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            status_code: None,
            latency: None,
            probabilistic: None,
            string_attribute: None,
            and: None,
        }
    }

    /// Keeps traces with a span whose status is one of `codes` (`ERROR`, `OK`, `UNSET`).
    #[must_use]
    pub fn status_code(name: &str, codes: &[&str]) -> Self {
        Self {
            status_code: Some(StatusCodePolicy { status_codes: codes.iter().map(|c| (*c).to_owned()).collect() }),
            ..Self::new(name, "status_code")
        }
    }

    /// Keeps traces lasting at least `threshold_ms` (first span start to last span end).
    #[must_use]
    pub fn latency(name: &str, threshold_ms: u64) -> Self {
        Self { latency: Some(LatencyPolicy { threshold_ms }), ..Self::new(name, "latency") }
    }

    /// Keeps `percentage` % of traces by a hash of the trace id.
    #[must_use]
    pub fn probabilistic(name: &str, percentage: f64) -> Self {
        Self {
            probabilistic: Some(ProbabilisticPolicy { sampling_percentage: percentage }),
            ..Self::new(name, "probabilistic")
        }
    }

    /// Matches traces with a span whose `key` is one of `values`.
    #[must_use]
    pub fn string_attribute(name: &str, key: &str, values: &[&str]) -> Self {
        Self {
            string_attribute: Some(StringAttributePolicy {
                key: key.to_owned(),
                values: values.iter().map(|v| (*v).to_owned()).collect(),
            }),
            ..Self::new(name, "string_attribute")
        }
    }

    /// Keeps a trace when every sub-policy does.
    #[must_use]
    pub fn and(name: &str, sub: Vec<Self>) -> Self {
        Self { and: Some(AndPolicy { and_sub_policy: sub }), ..Self::new(name, "and") }
    }
}

/// `status_code` of a [`SamplingPolicy`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusCodePolicy {
    /// Status codes that keep a trace.
    pub status_codes: Vec<String>,
}

/// `latency` of a [`SamplingPolicy`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LatencyPolicy {
    /// Milliseconds from the trace's first span start to its last span end.
    pub threshold_ms: u64,
}

/// `probabilistic` of a [`SamplingPolicy`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbabilisticPolicy {
    /// Share kept, in percent.
    pub sampling_percentage: f64,
}

/// `string_attribute` of a [`SamplingPolicy`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StringAttributePolicy {
    /// Resource or span attribute.
    pub key: String,
    /// Values that match.
    pub values: Vec<String>,
}

/// `and` of a [`SamplingPolicy`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AndPolicy {
    /// Policies that must all keep the trace.
    pub and_sub_policy: Vec<SamplingPolicy>,
}

/// A processor.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Processor {
    /// `memory_limiter`.
    MemoryLimiter(MemoryLimiter),
    /// `batch`.
    Batch(Batch),
    /// `probabilistic_sampler`.
    ProbabilisticSampler(ProbabilisticSampler),
    /// `k8s_attributes`: the name since contrib v0.146.0.
    K8sAttributes(K8sAttributes),
    /// `k8sattributes`: the name before v0.146.0 (a deprecated alias since).
    K8sAttributesLegacy(K8sAttributes),
    /// `resource`.
    Resource(ResourceProcessor),
    /// `tail_sampling`.
    TailSampling(TailSampling),
}

impl Processor {
    /// The component type.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::MemoryLimiter(_) => "memory_limiter",
            Self::Batch(_) => "batch",
            Self::ProbabilisticSampler(_) => "probabilistic_sampler",
            Self::K8sAttributes(_) => "k8s_attributes",
            Self::K8sAttributesLegacy(_) => "k8sattributes",
            Self::Resource(_) => "resource",
            Self::TailSampling(_) => "tail_sampling",
        }
    }
}

/// The OTLP/gRPC exporter (`otlp_grpc`, formerly `otlp`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OtlpExporter {
    /// `host:port` of the receiving gRPC server, or `dns:///host:port` to resolve every address.
    pub endpoint: String,
    /// gRPC load-balancing policy, e.g. `round_robin` across every address `dns:///` resolves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balancer_name: Option<String>,
    /// TLS to the server.
    pub tls: ClientTls,
    /// `gzip`, `zstd`, `snappy` or `none` (collector default gzip).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// Per-request timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// The in-memory queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sending_queue: Option<SendingQueue>,
    /// Retries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_on_failure: Option<RetryOnFailure>,
}

/// The OTLP/HTTP exporter (`otlp_http`, formerly `otlphttp`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OtlpHttpExporter {
    /// Base URL, e.g. `http://jaeger-collector:4318`.
    pub endpoint: String,
    /// TLS to the server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientTls>,
    /// The in-memory queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sending_queue: Option<SendingQueue>,
    /// Retries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_on_failure: Option<RetryOnFailure>,
}

/// The `prometheus` exporter: serves the pipeline's metrics on `endpoint` for Prometheus to scrape
/// (at `/metrics`). Only `endpoint` is set: every other key keeps the exporter's default (contrib
/// `exporter/prometheusexporter/README.md`: `endpoint` is the one required setting).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PrometheusExporter {
    /// `host:port` to serve on, e.g. `0.0.0.0:8889`.
    pub endpoint: String,
}

/// The `debug` exporter: writes data to the collector's log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DebugExporter {
    /// `basic`, `normal` or `detailed`.
    pub verbosity: String,
}

/// The `loadbalancing` exporter (`load_balancing` since contrib renamed it, the old name a
/// deprecated alias): routes each trace, by trace id, to one of the backends its resolver finds, so
/// one backend sees every span of a trace (contrib `exporter/loadbalancingexporter/config.go`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadBalancingExporter {
    /// `traceID`: every span of a trace to the same backend.
    pub routing_key: String,
    /// How to reach each backend.
    pub protocol: LoadBalancingProtocol,
    /// How backends are found.
    pub resolver: LoadBalancingResolver,
    /// Per-request timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// The queue in front of the routing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sending_queue: Option<SendingQueue>,
    /// Retries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_on_failure: Option<RetryOnFailure>,
}

/// `protocol` of [`LoadBalancingExporter`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadBalancingProtocol {
    /// OTLP/gRPC to each backend (the `endpoint` is filled in per backend).
    pub otlp: LoadBalancingOtlp,
}

/// `protocol.otlp` of [`LoadBalancingExporter`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadBalancingOtlp {
    /// TLS to each backend.
    pub tls: ClientTls,
    /// Per-request timeout.
    pub timeout: Duration,
}

/// `resolver` of [`LoadBalancingExporter`]: exactly one of `dns` and `k8s`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadBalancingResolver {
    /// Every address of a (headless) Service name, re-resolved every `interval`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsResolver>,
    /// The Service's EndpointSlices, watched through the API server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k8s: Option<K8sResolver>,
}

/// `resolver.dns`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DnsResolver {
    /// The name to resolve.
    pub hostname: String,
    /// The backends' port.
    pub port: String,
    /// How often to resolve again.
    pub interval: Duration,
}

/// `resolver.k8s`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct K8sResolver {
    /// `<service>.<namespace>`.
    pub service: String,
    /// The backends' ports.
    pub ports: Vec<u16>,
}

/// The `kafka` exporter (contrib `exporter/kafkaexporter`, v0.159.0).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KafkaExporter {
    /// Brokers, TLS, authentication.
    #[serde(flatten)]
    pub client: KafkaClient,
    /// The topic and encoding of spans.
    pub traces: KafkaTopic,
    /// Key each message by trace id, so a trace's spans share a partition.
    pub partition_traces_by_id: bool,
    /// Producer settings.
    pub producer: KafkaProducer,
    /// Per-request timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// The queue in front of the producer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sending_queue: Option<SendingQueue>,
    /// Retries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_on_failure: Option<RetryOnFailure>,
}

/// `producer` of [`KafkaExporter`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KafkaProducer {
    /// `-1`: every in-sync replica has the message before it counts as sent.
    pub required_acks: i32,
    /// `none`, `gzip`, `snappy`, `lz4` or `zstd`.
    pub compression: String,
}

/// An exporter.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Exporter {
    /// `otlp_grpc`: the name of the OTLP/gRPC exporter since collector v0.144.0.
    OtlpGrpc(OtlpExporter),
    /// `otlp`: the OTLP/gRPC exporter's name before v0.144.0 (a deprecated alias since).
    Otlp(OtlpExporter),
    /// `otlp_http`: the name of the OTLP/HTTP exporter since collector v0.144.0.
    OtlpHttp(OtlpHttpExporter),
    /// `debug`.
    Debug(DebugExporter),
    /// `jaeger_storage_exporter` (Jaeger v2 only): writes spans to a `jaeger_storage` backend.
    JaegerStorage(jaeger::StorageExporter),
    /// `prometheus`: serves metrics for Prometheus to scrape.
    Prometheus(PrometheusExporter),
    /// `nop`: discards everything.
    Nop(Empty),
    /// `loadbalancing`: routes traces by trace id to backends it resolves.
    LoadBalancing(LoadBalancingExporter),
    /// `kafka`: writes to a topic.
    Kafka(KafkaExporter),
}

impl Exporter {
    /// The component type.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::OtlpGrpc(_) => "otlp_grpc",
            Self::Otlp(_) => "otlp",
            Self::OtlpHttp(_) => "otlp_http",
            Self::Debug(_) => "debug",
            Self::JaegerStorage(_) => "jaeger_storage_exporter",
            Self::Prometheus(_) => "prometheus",
            Self::Nop(_) => "nop",
            // The deprecated alias every release accepts (renamed `load_balancing` in contrib; the
            // table dates no rename), like `spanmetrics` below.
            Self::LoadBalancing(_) => "loadbalancing",
            Self::Kafka(_) => "kafka",
        }
    }
}

/// The `health_check` extension of the collector.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HealthCheck {
    /// `host:port` to serve on, conventionally `0.0.0.0:13133`.
    pub endpoint: String,
    /// Path of the status endpoint.
    pub path: String,
}

/// `http.status` / `http.config` of `healthcheckv2`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HealthPath {
    /// Whether the endpoint is served.
    pub enabled: bool,
    /// Its path.
    pub path: String,
}

/// The HTTP server of `healthcheckv2`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HealthCheckV2Http {
    /// `host:port` to serve on.
    pub endpoint: String,
    /// The status endpoint.
    pub status: HealthPath,
}

/// The `healthcheckv2` extension (the one Jaeger v2 ships).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HealthCheckV2 {
    /// Use the component-status based implementation rather than the legacy one.
    pub use_v2: bool,
    /// HTTP status server.
    pub http: HealthCheckV2Http,
}

/// An extension with just an endpoint (`pprof`, `zpages`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EndpointExtension {
    /// `host:port` to serve on.
    pub endpoint: String,
}

/// An extension.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Extension {
    /// `health_check`.
    HealthCheck(HealthCheck),
    /// `healthcheckv2`.
    HealthCheckV2(HealthCheckV2),
    /// `pprof`.
    Pprof(EndpointExtension),
    /// `zpages`.
    Zpages(EndpointExtension),
    /// `jaeger_storage` (Jaeger v2 only).
    JaegerStorage(jaeger::Storage),
    /// `jaeger_query` (Jaeger v2 only).
    JaegerQuery(jaeger::Query),
    /// `remote_sampling` (Jaeger v2 only).
    RemoteSampling(jaeger::RemoteSampling),
}

impl Extension {
    /// The component type.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::HealthCheck(_) => "health_check",
            Self::HealthCheckV2(_) => "healthcheckv2",
            Self::Pprof(_) => "pprof",
            Self::Zpages(_) => "zpages",
            Self::JaegerStorage(_) => "jaeger_storage",
            Self::JaegerQuery(_) => "jaeger_query",
            Self::RemoteSampling(_) => "remote_sampling",
        }
    }
}

/// `histogram.explicit` of the `spanmetrics` connector.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExplicitBuckets {
    /// Upper bounds of the duration buckets, ascending.
    pub buckets: Vec<Duration>,
}

/// `histogram` of the `spanmetrics` connector.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpanMetricsHistogram {
    /// `ms` or `s`: the unit of the duration histogram, and so of its metric name
    /// (`…_duration_milliseconds_bucket` for `ms` on a Prometheus endpoint).
    pub unit: String,
    /// Explicit bucket bounds.
    pub explicit: ExplicitBuckets,
}

/// The `spanmetrics` connector: turns the spans of a traces pipeline into request, error and
/// duration (RED) metrics per service, span name, span kind and status code.
///
/// Keys from contrib `connector/spanmetricsconnector/config.schema.yaml`; only keys present since
/// long before every pinned release are set. `namespace` and `histogram.unit` are spelled out
/// although they equal today's defaults (`traces.span.metrics` and `ms`, contrib
/// `spanmetricsconnector/factory.go`): the alert rules name the resulting metrics, and the
/// connector's `connector.spanmetrics.useSecondAsDefaultMetricsUnit` feature gate (alpha since
/// v0.137.0) would switch the default unit, and with it every metric name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpanMetrics {
    /// Prefix of the metric names: `traces.span.metrics` gives `traces_span_metrics_calls_total`.
    pub namespace: String,
    /// The duration histogram.
    pub histogram: SpanMetricsHistogram,
    /// How often the aggregated metrics are handed to the metrics pipeline.
    pub metrics_flush_interval: Duration,
}

/// A connector.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Connector {
    /// `forward`: passes data from one pipeline to another unchanged.
    Forward(Empty),
    /// `spanmetrics`: RED metrics from spans (traces in, metrics out).
    SpanMetrics(SpanMetrics),
}

impl Connector {
    /// The component type.
    ///
    /// `spanmetrics` is the name every pinned release accepts: contrib renamed the type to
    /// `span_metrics` and kept `spanmetrics` as a deprecated alias (`metadata.yaml`:
    /// `type: span_metrics`, `deprecated_type: spanmetrics`), which at worst logs a deprecation
    /// warning, while `span_metrics` would fail on releases before the rename. The component table
    /// (from module names) cannot tell which Jaeger release has it.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Forward(_) => "forward",
            Self::SpanMetrics(_) => "spanmetrics",
        }
    }
}
