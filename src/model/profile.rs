//! The profile format: a typed, validated description of one stack, read from `profiles/*.yaml`.
//!
//! Every default lives here, in the `Default` impls and `default_*` functions, and the JSON Schema
//! editors use is derived from these same types.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::collector::distribution::{UnknownVersion, known_versions};
use crate::config::collector::{Distribution, Version};
use crate::config::istio::ROOT_NAMESPACE;
pub use crate::model::pods::PodExtras;
use crate::value::cron;
use crate::value::duration::Duration;
use crate::value::names;
use crate::value::quantity::Quantity;
pub use crate::value::resources::{CpuMemory, Resources};
use crate::value::url::HttpUrl;

/// One stack: where it runs, the collector gateway, Jaeger and sampling.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// What this profile is for, in a sentence; shown in the generated files' header.
    #[serde(default)]
    pub description: String,
    /// Namespace every object of the stack lives in: one of its own, not `default`, `kube-system`,
    /// `kube-public`, `kube-node-lease` or `istio-system` (the stack locks its namespace down).
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
    /// Collector agents on every node (a DaemonSet) in front of the gateway: applications send to
    /// the agent on their own node.
    #[serde(default)]
    pub agents: AgentsSpec,
    /// Tail sampling in two tiers: the gateway routes each trace by its id to one member of a
    /// sampling tier, which decides on the whole trace.
    #[serde(default)]
    pub tail_sampling: TailSamplingSpec,
    /// A Kafka buffer between the collectors and Jaeger: the collector that would export to Jaeger
    /// writes to a topic of an existing Kafka cluster instead, and Jaeger's receiving role
    /// consumes it.
    #[serde(default)]
    pub kafka: KafkaSpec,
    /// Jaeger v2: storage, roles and their sizes.
    #[serde(default)]
    pub jaeger: JaegerSpec,
    /// Head sampling applied in the collector gateway.
    #[serde(default)]
    pub sampling: Sampling,
    /// Expected peak load. When set, replicas, autoscaling bounds, CPU, memory, queues and batch
    /// sizes of the gateway and Jaeger's collector role are derived from it (see `sizing`); any
    /// value set explicitly in the profile wins over the derived one.
    #[serde(default)]
    pub load: Option<LoadSpec>,
    /// Pod scheduling and network isolation.
    #[serde(default)]
    pub security: SecuritySpec,
    /// Additions to every pod of the stack (tolerations, node selector, affinity, priority, pull
    /// secrets, registry mirror, labels, annotations, env, volumes); a workload's own `pod`
    /// overrides them field by field.
    #[serde(default)]
    pub pods: PodExtras,
    /// Istio: mesh-wide tracing into the gateway and sidecar injection for chosen namespaces.
    #[serde(default)]
    pub istio: IstioSpec,
    /// Applications sending traces to the gateway: each gets a kustomize Component under
    /// `apps/<name>/` that sets its OpenTelemetry SDK environment.
    #[serde(default)]
    pub apps: Vec<AppSpec>,
    /// The smoke-test Job rendered into `smoke-test/`.
    #[serde(default)]
    pub smoke_test: SmokeTestSpec,
    /// Scraping and alerting through the Prometheus Operator (off unless enabled).
    #[serde(default)]
    pub monitoring: MonitoringSpec,
    /// What the gateway and Jaeger are rendered as: plain manifests (the default),
    /// `OpenTelemetryCollector` resources of the OpenTelemetry Operator, or a `Jaeger` resource of
    /// the (v1-only) Jaeger Operator.
    #[serde(default)]
    pub output: Output,
}

/// What the Jaeger Operator's `Jaeger` resource (Jaeger v1) cannot run of a profile.
fn check_jaeger_operator(profile: &Profile, err: &mut impl FnMut(&str, String)) {
    let StorageSpec::Elasticsearch(es) = &profile.jaeger.storage else {
        err(
            "output",
            "`jaeger-operator` renders the Jaeger Operator's `production` strategy, which needs `jaeger.storage.elasticsearch`; for in-memory storage use `output: manifests` or `opentelemetry-operator`".into(),
        );
        return;
    };
    if es.lifecycle.mode == LifecycleMode::Rollover {
        err(
            "jaeger.storage.elasticsearch.lifecycle.mode",
            "`jaeger-operator` output runs the operator's daily index cleaner; use `mode: daily`, or `output: manifests` for rollover".into(),
        );
    }
    if let Some(c) = &es.credentials
        && (c.username_key != "ES_USERNAME" || c.password_key != "ES_PASSWORD")
    {
        err(
            "jaeger.storage.elasticsearch.credentials",
            "the Jaeger Operator passes every key of the Secret as an environment variable, and Jaeger v1 reads `ES_USERNAME` and `ES_PASSWORD`: name the keys so (`username_key: ES_USERNAME`, `password_key: ES_PASSWORD`)".into(),
        );
    }
    if profile.monitoring.enabled {
        err(
            "monitoring.enabled",
            "the alerts and span metrics are Jaeger v2's; the Jaeger Operator runs Jaeger v1, whose metrics differ: turn monitoring off or use `output: manifests` or `opentelemetry-operator`".into(),
        );
    }
    if profile.jaeger.collector_tls.is_some() {
        err(
            "jaeger.collector_tls",
            "`jaeger-operator` output does not wire the collector's serving certificate; remove it or use `output: manifests` or `opentelemetry-operator`".into(),
        );
    }
}

/// What the gateway and Jaeger are rendered as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Output {
    /// Deployments, ConfigMaps, Services, HPAs and PDBs, applied as they are.
    #[default]
    Manifests,
    /// The gateway and every Jaeger v2 role as `opentelemetry.io/v1beta1` `OpenTelemetryCollector`
    /// resources (image `jaegertracing/jaeger` for Jaeger), which the OpenTelemetry Operator turns
    /// into Deployments and Services named `<name>-collector…`; what the resource cannot express
    /// (NetworkPolicies, the `otlp` Service, RBAC, index maintenance) stays a plain object beside it.
    OpentelemetryOperator,
    /// The gateway as plain manifests, Jaeger as one `jaegertracing.io/v1` `Jaeger` resource of
    /// the Jaeger Operator (`production` strategy, Elasticsearch only). It runs Jaeger v1, which
    /// reached its end of life on 2025-12-31: for clusters still on that operator, until they move
    /// to `manifests` or `opentelemetry-operator`.
    JaegerOperator,
}

impl Output {
    /// The profile spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manifests => "manifests",
            Self::OpentelemetryOperator => "opentelemetry-operator",
            Self::JaegerOperator => "jaeger-operator",
        }
    }
}

/// Declared load.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadSpec {
    /// Peak spans per second across the stack.
    pub spans_per_second: u64,
    /// Average encoded span size in bytes.
    #[serde(default = "default_span_bytes")]
    #[schemars(default = "default_span_bytes")]
    pub average_span_bytes: u64,
    /// Seconds of backend outage the queues must absorb at peak without dropping spans.
    #[serde(default = "default_outage_seconds")]
    #[schemars(default = "default_outage_seconds")]
    pub outage_seconds: u64,
}

fn default_span_bytes() -> u64 {
    1024
}
fn default_outage_seconds() -> u64 {
    60
}

impl LoadSpec {
    /// The load as the sizing model takes it.
    #[must_use]
    pub fn load(&self) -> crate::model::sizing::Load {
        crate::model::sizing::Load {
            spans_per_second: self.spans_per_second,
            average_span_bytes: self.average_span_bytes,
            outage_seconds: self.outage_seconds,
        }
    }
}

/// Scheduling priority and network isolation.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SecuritySpec {
    /// PriorityClass of every pod of the stack (must exist in the cluster).
    pub priority_class_name: Option<String>,
    /// NetworkPolicies: default deny, with only the stack's own flows allowed.
    pub network_policy: NetworkPolicySpec,
}

/// Which namespaces may reach the stack.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkPolicySpec {
    /// Render NetworkPolicies (default deny for the namespace plus the stack's own flows).
    pub enabled: bool,
    /// Namespaces whose pods may send OTLP to the `otlp` Service; empty means every namespace.
    /// The stack's own namespace is always allowed.
    pub otlp_from_namespaces: Vec<String>,
    /// Namespaces whose pods may reach the Jaeger UI and query API (besides the stack's own;
    /// `kubectl port-forward` is not affected).
    pub query_from_namespaces: Vec<String>,
    /// Namespaces whose pods may scrape the `metrics` ports (where Prometheus runs).
    pub metrics_from_namespaces: Vec<String>,
    /// The cluster DNS the pods may query on port 53.
    pub dns: DnsSpec,
    /// Address blocks (CIDR, e.g. `10.0.0.1/32`) of the API server that `k8s_attributes` reads
    /// pods from. Empty: ports 443 and 6443 to any address, because the API server is no pod a
    /// selector can name, its address differs per cluster, and the policy sees the endpoint
    /// behind the `kubernetes` Service (often 6443) rather than the Service address.
    pub api_server_cidrs: Vec<String>,
}

/// Where the cluster DNS runs: DNS egress goes to those pods only, not to port 53 anywhere.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DnsSpec {
    /// Namespace of the DNS pods.
    pub namespace: String,
    /// Labels of the DNS pods (`k8s-app: kube-dns` for kube-dns and CoreDNS in kubeadm, GKE, EKS
    /// and AKS).
    pub pod_labels: BTreeMap<String, String>,
    /// The address of NodeLocal DNSCache (`169.254.20.10` by default in its manifests), which
    /// runs on the host network and no pod selector matches: when set, DNS to it is allowed too.
    pub node_local_address: Option<String>,
}

impl Default for DnsSpec {
    fn default() -> Self {
        Self {
            namespace: "kube-system".into(),
            pod_labels: [("k8s-app".to_owned(), "kube-dns".to_owned())].into(),
            node_local_address: None,
        }
    }
}

impl Default for NetworkPolicySpec {
    fn default() -> Self {
        Self {
            enabled: true,
            otlp_from_namespaces: Vec::new(),
            query_from_namespaces: Vec::new(),
            metrics_from_namespaces: Vec::new(),
            dns: DnsSpec::default(),
            api_server_cidrs: Vec::new(),
        }
    }
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
            agents: AgentsSpec::default(),
            tail_sampling: TailSamplingSpec::default(),
            kafka: KafkaSpec::default(),
            jaeger: JaegerSpec::default(),
            sampling: Sampling::default(),
            load: None,
            security: SecuritySpec::default(),
            pods: PodExtras::default(),
            istio: IstioSpec::default(),
            apps: Vec::new(),
            smoke_test: SmokeTestSpec::default(),
            monitoring: MonitoringSpec::default(),
            output: Output::Manifests,
        }
    }
}

/// The collector gateway.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
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
    /// Image digest (`sha256:…`) to pin the image beyond its tag.
    pub digest: Option<String>,
    /// Pods of the gateway: a fixed count (default: derived from `load`, else 1).
    pub replicas: Option<u32>,
    /// Horizontal autoscaling bounds and targets.
    pub autoscaling: AutoscalingSpec,
    /// CPU and memory per pod (default: derived from `load`, else 100m/128Mi → 500m/256Mi).
    pub resources: Option<Resources>,
    /// `batch` processor settings.
    pub batch: BatchSpec,
    /// Exporter queue towards Jaeger.
    pub queue: QueueSpec,
    /// Exporter retries towards Jaeger.
    pub retry: RetrySpec,
    /// Log level of the collector: `debug`, `info`, `warn` or `error`.
    pub log_level: LogLevel,
    /// Add the sender's namespace, pod, Deployment and node (and `service.name` from its labels) to
    /// every span with the `k8s_attributes` processor. It needs a ClusterRole reading pods,
    /// namespaces and ReplicaSets, and egress to the API server; turn it off where cluster-scoped
    /// RBAC is not allowed.
    pub k8s_attributes: bool,
    /// Additions to the gateway's pods, over `pods`.
    pub pod: PodExtras,
}

impl Default for CollectorSpec {
    fn default() -> Self {
        Self {
            distribution: DistributionName(Distribution::OtelcolK8s),
            version: VersionText(DEFAULT_COLLECTOR_VERSION),
            image: None,
            digest: None,
            replicas: None,
            autoscaling: AutoscalingSpec::default(),
            resources: None,
            batch: BatchSpec::default(),
            queue: QueueSpec::default(),
            retry: RetrySpec::default(),
            log_level: LogLevel::Info,
            k8s_attributes: true,
            pod: PodExtras::default(),
        }
    }
}

/// Node agents: one collector per node (a DaemonSet) behind the `otel-agent` Service with
/// `internalTrafficPolicy: Local`, so an application's spans go to the agent on its own node, which
/// adds the node's attributes, batches and forwards to the gateway. Same distribution, version and
/// image as the gateway.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AgentsSpec {
    /// Run the agents; onboarded applications then send to `otel-agent` instead of `otlp`.
    pub enabled: bool,
    /// Nodes that run applications: each agent is sized for `load.spans_per_second / nodes` (the
    /// busiest node's share, when the load is uneven, is a better figure).
    pub nodes: u32,
    /// CPU and memory per agent (default: derived from `load` and `nodes`, else 50m/128Mi → 250m/128Mi).
    pub resources: Option<Resources>,
    /// Taints the agents tolerate, so they run on every node that runs applications (default: every
    /// taint, `operator: Exists`).
    pub tolerations: Vec<TolerationSpec>,
    /// `k8s_attributes` in the agent, watching only the pods of its own node (a field selector on
    /// `spec.nodeName`): the namespace, pod, Deployment and `service.name` of each sender. Needs a
    /// ClusterRole reading pods, namespaces and ReplicaSets and egress to the API server.
    pub k8s_attributes: bool,
}

impl Default for AgentsSpec {
    fn default() -> Self {
        Self {
            enabled: false,
            nodes: 3,
            resources: None,
            tolerations: vec![TolerationSpec {
                key: None,
                operator: TolerationOperator::Exists,
                value: None,
                effect: None,
            }],
            k8s_attributes: true,
        }
    }
}

/// Tail sampling: the gateway's `loadbalancing` exporter sends every span of a trace to the same
/// member of the `otel-sampler` tier (found through its headless Service), whose `tail_sampling`
/// processor keeps a trace when any policy keeps it, then exports to Jaeger.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TailSamplingSpec {
    /// Run the sampling tier.
    pub enabled: bool,
    /// How the gateway finds the sampling tier's pods: `dns` (the headless Service's addresses,
    /// re-resolved every 5 s; no API access) or `k8s` (watches the Service's EndpointSlices; a Role
    /// to list and watch them).
    pub resolver: ResolverKind,
    /// Pods of the sampling tier (default: derived from `load`, else 2).
    pub replicas: Option<u32>,
    /// CPU and memory per pod (default: derived from `load` and `decision_wait`, else
    /// 200m/512Mi → 1/512Mi).
    pub resources: Option<Resources>,
    /// How long after its first span a trace is decided: longer than the slowest trace to keep.
    #[schemars(with = "String")]
    pub decision_wait: Duration,
    /// Which traces are kept.
    pub policies: TailPolicies,
}

impl Default for TailSamplingSpec {
    fn default() -> Self {
        Self {
            enabled: false,
            resolver: ResolverKind::Dns,
            replicas: None,
            resources: None,
            decision_wait: Duration::from_secs(10),
            policies: TailPolicies::default(),
        }
    }
}

/// The Kafka buffer.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaSpec {
    /// Write spans to Kafka and have Jaeger consume them.
    pub enabled: bool,
    /// Bootstrap brokers, `host:port`, of an existing cluster.
    pub brokers: Vec<String>,
    /// The topic (create it with enough partitions for the Jaeger pods that consume it, and the
    /// retention the longest storage outage needs).
    pub topic: String,
    /// `otlp_proto` (default) or `otlp_json`: how each message encodes a batch of spans.
    pub encoding: KafkaEncoding,
    /// Consumer group of Jaeger's receiving role.
    pub group_id: String,
    /// Namespace the brokers run in, to narrow egress policies (none: any address).
    pub namespace: Option<String>,
    /// TLS to the brokers, verified with this CA bundle (none: plain text).
    pub tls: Option<SecretKeyRef>,
    /// SASL credentials from an existing Secret (none: no authentication).
    pub sasl: Option<KafkaSaslSpec>,
}

impl Default for KafkaSpec {
    fn default() -> Self {
        Self {
            enabled: false,
            brokers: Vec::new(),
            topic: "jaeger-spans".into(),
            encoding: KafkaEncoding::OtlpProto,
            group_id: "jaeger-ingester".into(),
            namespace: None,
            tls: None,
            sasl: None,
        }
    }
}

/// Message encoding on the topic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KafkaEncoding {
    /// OTLP protobuf.
    #[default]
    OtlpProto,
    /// OTLP JSON.
    OtlpJson,
}

impl KafkaEncoding {
    /// The `encoding` value of the Kafka exporter and receiver.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OtlpProto => "otlp_proto",
            Self::OtlpJson => "otlp_json",
        }
    }
}

/// SASL credentials for Kafka.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KafkaSaslSpec {
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub mechanism: SaslMechanism,
    /// The Secret, in the stack's namespace.
    pub secret: String,
    /// Key of the user name.
    #[serde(default = "default_username_key")]
    #[schemars(default = "default_username_key")]
    pub username_key: String,
    /// Key of the password.
    #[serde(default = "default_password_key")]
    #[schemars(default = "default_password_key")]
    pub password_key: String,
}

/// A SASL mechanism the Kafka clients speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum SaslMechanism {
    /// User name and password in the clear (use with TLS).
    #[serde(rename = "PLAIN")]
    Plain,
    /// SCRAM with SHA-256.
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    /// SCRAM with SHA-512.
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
}

impl SaslMechanism {
    /// The `mechanism` value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// How the load-balancing exporter finds its backends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResolverKind {
    /// DNS of the headless Service.
    #[default]
    Dns,
    /// The Kubernetes API (EndpointSlices).
    K8s,
}

/// Tail-sampling policies; a trace is kept when any keeps it.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TailPolicies {
    /// Keep every trace with a span whose status is `ERROR`.
    pub errors: bool,
    /// Keep every trace lasting at least this long (none: no latency policy).
    #[schemars(with = "Option<String>")]
    pub latency_threshold: Option<Duration>,
    /// Percentage of the other traces kept per `service.name` (at least; the baseline applies too).
    pub services: BTreeMap<String, f64>,
    /// Percentage of all traces kept regardless of the rest (0: none).
    pub baseline_percentage: f64,
}

impl Default for TailPolicies {
    fn default() -> Self {
        Self {
            errors: true,
            latency_threshold: Some(Duration::from_secs(2)),
            services: BTreeMap::new(),
            baseline_percentage: 10.0,
        }
    }
}

/// One toleration (Kubernetes `Toleration` without `tolerationSeconds`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TolerationSpec {
    /// Taint key; none with `Exists` tolerates every taint.
    #[serde(default)]
    pub key: Option<String>,
    /// `Exists` (any value) or `Equal` (the value given).
    #[serde(default)]
    pub operator: TolerationOperator,
    /// Taint value, with `Equal`.
    #[serde(default)]
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`; none tolerates every effect.
    #[serde(default)]
    pub effect: Option<TaintEffect>,
}

/// How a toleration matches a taint's value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum TolerationOperator {
    /// Any value.
    #[default]
    Exists,
    /// The value given.
    Equal,
}

/// A taint effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum TaintEffect {
    /// Pods are not scheduled.
    NoSchedule,
    /// Pods are scheduled only when nothing else fits.
    PreferNoSchedule,
    /// Running pods are evicted.
    NoExecute,
}

impl TolerationOperator {
    /// The Kubernetes spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exists => "Exists",
            Self::Equal => "Equal",
        }
    }
}

impl TaintEffect {
    /// The Kubernetes spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoSchedule => "NoSchedule",
            Self::PreferNoSchedule => "PreferNoSchedule",
            Self::NoExecute => "NoExecute",
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

impl Serialize for DistributionName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

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

impl Serialize for VersionText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
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
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BatchSpec {
    /// Send a batch after this long even if it is not full.
    #[schemars(with = "String")]
    pub timeout: Duration,
    /// Send once this many spans are waiting (default: derived from `load`, else 8192).
    pub send_batch_size: Option<u32>,
    /// Never send more spans than this in one request, which keeps requests under the receiver's
    /// 4 MiB gRPC message limit (default: derived from `load`, else 10000).
    pub send_batch_max_size: Option<u32>,
}

impl Default for BatchSpec {
    fn default() -> Self {
        Self { timeout: Duration::from_millis(200), send_batch_size: None, send_batch_max_size: None }
    }
}

/// Horizontal Pod Autoscaler bounds and targets. An HPA is rendered when the maximum exceeds the
/// minimum; the Deployment then leaves `replicas` to it.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AutoscalingSpec {
    /// Fewest pods (default: `replicas`, else derived from `load`).
    pub min_replicas: Option<u32>,
    /// Most pods (default: derived from `load`; without load, no autoscaling).
    pub max_replicas: Option<u32>,
    /// Average CPU use, in percent of the request, the HPA keeps pods at.
    pub target_cpu_percent: u32,
    /// Average memory use, in percent of the request, the HPA keeps pods at.
    pub target_memory_percent: u32,
}

impl Default for AutoscalingSpec {
    fn default() -> Self {
        Self { min_replicas: None, max_replicas: None, target_cpu_percent: 70, target_memory_percent: 80 }
    }
}

/// The exporter queue in front of Jaeger.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct QueueSpec {
    /// Spans the queue holds while Jaeger is slow or down; beyond it new spans are dropped (and
    /// counted in `otelcol_exporter_enqueue_failed_spans`). Counted in spans, not batches, so
    /// its memory cost is bounded: about `queue_size` × average span size.
    /// Default: derived from `load` (the outage at peak), else 50000.
    pub queue_size: Option<u64>,
    /// Concurrent senders.
    pub num_consumers: u32,
}

impl Default for QueueSpec {
    fn default() -> Self {
        Self { queue_size: None, num_consumers: 10 }
    }
}

/// Exporter retries towards Jaeger.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RetrySpec {
    /// First wait after a failure; more than 0 (the backoff grows from it).
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
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct JaegerSpec {
    /// Jaeger version; also the image tag.
    #[schemars(with = "String")]
    pub version: VersionText,
    /// Image repository, when it is mirrored (default `jaegertracing/jaeger`).
    pub image: Option<String>,
    /// Image digest (`sha256:…`) to pin the image beyond its tag.
    pub digest: Option<String>,
    /// TLS on the collector role's OTLP receivers: an existing `kubernetes.io/tls` Secret with
    /// `tls.crt`, `tls.key` and `ca.crt` (e.g. from cert-manager) whose certificate names
    /// `jaeger-collector-headless.<namespace>.svc.cluster.local`; the gateway verifies it with `ca.crt`.
    pub collector_tls: Option<TlsSecretRef>,
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
    /// An Ingress in front of the UI and query API (`jaeger-query`, port 16686).
    pub ingress: Option<IngressSpec>,
    /// A Gateway API `HTTPRoute` to the UI and query API through an existing Gateway.
    pub http_route: Option<UiRouteSpec>,
}

/// A Gateway API `HTTPRoute` (`gateway.networking.k8s.io/v1`) for the Jaeger UI. TLS and
/// authentication belong to the Gateway's listener, which the route attaches to.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UiRouteSpec {
    /// The Gateway (declared external: it must exist, and its listener must allow routes from the
    /// stack's namespace).
    pub gateway: GatewayRef,
    /// Host names the route answers, e.g. `jaeger.example.com` (a leading `*.` is a wildcard);
    /// none: every host of the listener.
    #[serde(default)]
    pub hostnames: Vec<String>,
    /// The path prefix (default `/`).
    #[serde(default = "default_ingress_path")]
    #[schemars(default = "default_ingress_path")]
    pub path: String,
    /// The namespace the Gateway's proxy pods run in: with NetworkPolicies on, they are allowed to
    /// the query role (or list it in `security.network_policy.query_from_namespaces`).
    #[serde(default)]
    pub from_namespace: Option<String>,
}

/// A Gateway and, optionally, one of its listeners.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GatewayRef {
    /// The Gateway's name.
    pub name: String,
    /// Its namespace (default: the stack's).
    #[serde(default)]
    pub namespace: Option<String>,
    /// The listener (`sectionName`), e.g. `https`.
    #[serde(default)]
    pub section_name: Option<String>,
}

/// An Ingress for the Jaeger UI.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IngressSpec {
    /// The host name the UI is served at, e.g. `jaeger.example.com`.
    pub host: String,
    /// The IngressClass (default: the cluster's default class).
    #[serde(default)]
    pub class_name: Option<String>,
    /// The path prefix (default `/`).
    #[serde(default = "default_ingress_path")]
    #[schemars(default = "default_ingress_path")]
    pub path: String,
    /// An existing `kubernetes.io/tls` Secret, in the stack's namespace, with the host's
    /// certificate (declared external; e.g. from cert-manager).
    #[serde(default)]
    pub tls_secret: Option<String>,
    /// Annotations for the controller, e.g. authentication
    /// (`nginx.ingress.kubernetes.io/auth-url`) or cert-manager's `cert-manager.io/cluster-issuer`.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// The namespace the Ingress controller's pods run in: with NetworkPolicies on, they are
    /// allowed to the query role (or list it in `security.network_policy.query_from_namespaces`).
    #[serde(default)]
    pub controller_namespace: Option<String>,
}

fn default_ingress_path() -> String {
    "/".into()
}

impl Default for JaegerSpec {
    fn default() -> Self {
        Self {
            version: VersionText(DEFAULT_JAEGER_VERSION),
            image: None,
            digest: None,
            collector_tls: None,
            storage: StorageSpec::default(),
            all_in_one: RoleSpec::default(),
            collector: RoleSpec::default(),
            query: RoleSpec::default(),
            log_level: LogLevel::Info,
            ingress: None,
            http_route: None,
        }
    }
}

/// Replicas, autoscaling and resources of one Jaeger role; unset values are derived from `load`
/// (collector role) or take the role's defaults (all-in-one: 1 pod, 100m/256Mi → 500m/512Mi;
/// collector: 2 pods, 250m/512Mi → 1/1Gi; query: 2 pods, 100m/256Mi → 500m/512Mi).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RoleSpec {
    /// Pods of this role: a fixed count.
    pub replicas: Option<u32>,
    /// Horizontal autoscaling bounds and targets.
    pub autoscaling: AutoscalingSpec,
    /// CPU and memory per pod.
    pub resources: Option<Resources>,
    /// Exporter queue towards storage, in spans (collector role; default: derived from `load`, else
    /// 50000).
    pub queue_size: Option<u64>,
    /// Additions to this role's pods, over `pods`.
    pub pod: PodExtras,
}

/// A `kubernetes.io/tls` Secret.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsSecretRef {
    /// Secret name, in the stack's namespace.
    pub secret: String,
}

/// Trace storage: exactly one of `memory`, `badger`, `elasticsearch`, `opensearch` or
/// `clickhouse`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum StorageSpec {
    /// In-process memory: for demos; traces are lost on restart and Jaeger runs as one process.
    Memory(MemorySpec),
    /// Badger on a PersistentVolumeClaim: one Jaeger process that keeps traces across restarts
    /// (single node: one replica, no autoscaling).
    Badger(BadgerSpec),
    /// Elasticsearch 7.x or 8.x: Jaeger runs as separate collector and query roles.
    Elasticsearch(Box<ElasticsearchSpec>),
    /// OpenSearch 1.x–3.x (the same settings as Elasticsearch): separate collector and query roles.
    Opensearch(Box<ElasticsearchSpec>),
    /// ClickHouse, experimental in Jaeger (from 2.18 behind `--feature-gates=storage.clickhouse`,
    /// which tracestack passes): separate collector and query roles.
    Clickhouse(Box<ClickhouseSpec>),
}

/// Which search engine an Elasticsearch-shaped storage is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchEngine {
    /// Elasticsearch 7.x/8.x.
    Elasticsearch,
    /// OpenSearch 1.x–3.x.
    Opensearch,
}

impl SearchEngine {
    /// The profile key and Jaeger backend name: `elasticsearch` or `opensearch`.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Elasticsearch => "elasticsearch",
            Self::Opensearch => "opensearch",
        }
    }

    /// The product name, for prose.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Elasticsearch => "Elasticsearch",
            Self::Opensearch => "OpenSearch",
        }
    }
}

impl StorageSpec {
    /// The profile key of the backend (`memory`, `badger`, `elasticsearch`, …).
    #[must_use]
    pub fn key(&self) -> &'static str {
        match self {
            Self::Memory(_) => "memory",
            Self::Badger(_) => "badger",
            Self::Elasticsearch(_) => "elasticsearch",
            Self::Opensearch(_) => "opensearch",
            Self::Clickhouse(_) => "clickhouse",
        }
    }

    /// Elasticsearch or OpenSearch, with its settings.
    #[must_use]
    pub fn search(&self) -> Option<(SearchEngine, &ElasticsearchSpec)> {
        match self {
            Self::Elasticsearch(es) => Some((SearchEngine::Elasticsearch, es)),
            Self::Opensearch(os) => Some((SearchEngine::Opensearch, os)),
            Self::Memory(_) | Self::Badger(_) | Self::Clickhouse(_) => None,
        }
    }

    /// Whether several Jaeger processes share the store (split collector and query roles), or
    /// one process owns it (memory, Badger).
    #[must_use]
    pub fn shared(&self) -> bool {
        !matches!(self, Self::Memory(_) | Self::Badger(_))
    }
}

/// Badger: an embedded key-value store on a volume of the Jaeger pod.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BadgerSpec {
    /// How long spans are kept (Badger expires them itself), e.g. `72h`.
    #[schemars(with = "String")]
    pub ttl: Duration,
    /// Size of the PersistentVolumeClaim holding keys and values.
    #[schemars(with = "String")]
    pub volume_size: Quantity,
    /// StorageClass of the claim (the cluster's default when absent).
    pub storage_class: Option<String>,
    /// Sync every write to disk before acknowledging it (slower; survives a node crash, not only
    /// a process restart).
    pub sync_writes: bool,
}

impl Default for BadgerSpec {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(72 * 3600),
            volume_size: Quantity::parse("10Gi").unwrap_or_else(|_| unreachable!("built-in quantity")),
            storage_class: None,
            sync_writes: false,
        }
    }
}

/// ClickHouse storage.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClickhouseSpec {
    /// Server addresses as `host:port` (9000 native, 8123 HTTP; 9440/8443 with TLS).
    pub addresses: Vec<String>,
    /// `native` or `http`.
    #[serde(default)]
    pub protocol: ClickhouseProtocol,
    /// Database Jaeger's tables live in.
    #[serde(default = "default_clickhouse_database")]
    #[schemars(default = "default_clickhouse_database")]
    pub database: String,
    /// An existing Secret with the username and password (tracestack never writes credentials).
    pub credentials: Option<CredentialsRef>,
    /// Let the collector role create the database schema at start-up (`create_schema`); without
    /// it the schema must exist before Jaeger starts.
    #[serde(default = "default_true")]
    #[schemars(default = "default_true")]
    pub create_schema: bool,
    /// How long spans are kept (a table TTL; Jaeger ≥ 2.18). Absent: kept until removed.
    #[schemars(with = "Option<String>")]
    pub ttl: Option<Duration>,
    /// The namespace ClickHouse runs in, when in-cluster: egress NetworkPolicies then allow only
    /// that namespace.
    pub namespace: Option<String>,
}

fn default_clickhouse_database() -> String {
    "jaeger".into()
}
fn default_true() -> bool {
    true
}

/// ClickHouse's wire protocol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClickhouseProtocol {
    /// The native TCP protocol (9000).
    #[default]
    Native,
    /// HTTP (8123).
    Http,
}

impl ClickhouseProtocol {
    /// As Jaeger's config spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Native => "native",
            Self::Http => "http",
        }
    }
}

impl Default for StorageSpec {
    fn default() -> Self {
        Self::Memory(MemorySpec::default())
    }
}

/// In-memory storage.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
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
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ElasticsearchSpec {
    /// Cluster URLs, e.g. `https://elasticsearch-es-http.elastic.svc:9200`: `http` or `https`,
    /// a port from 1 to 65535 when given, no credentials (`user:password@`; see `credentials`).
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
    /// The namespace Elasticsearch runs in, when in-cluster: egress NetworkPolicies then allow
    /// only that namespace instead of any address on the Elasticsearch ports.
    pub namespace: Option<String>,
    /// Index lifecycle: daily indices deleted after the retention, or rollover aliases.
    #[serde(default)]
    pub lifecycle: LifecycleSpec,
}

/// How indices are created and removed.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LifecycleSpec {
    /// `daily`: one index per day, deleted by a CronJob after `retention_days`; `rollover`: Jaeger
    /// reads and writes through aliases that `jaeger-es-rollover` rolls over (an init Job creates
    /// them, CronJobs roll over and trim the read alias).
    pub mode: LifecycleMode,
    /// Days of traces kept.
    pub retention_days: u32,
    /// Rollover: start a new write index once the current one is this old (`1d`, `12h`).
    pub rollover_max_age: String,
    /// Cron schedule (UTC) of the cleaner / rollover jobs, as a Kubernetes CronJob takes it: five
    /// fields (minute, hour, day of month, month, day of week) or `@daily`, `@every 12h`, ….
    pub schedule: String,
    /// Rollover only: the name of the cluster's own lifecycle policy (an ILM policy on
    /// Elasticsearch, an ISM policy on OpenSearch) that rolls the write alias over and deletes old
    /// indices, instead of tracestack's rollover, lookback and cleaner CronJobs. The policy must
    /// exist before Jaeger starts (the runbook shows it); the init container refuses to run
    /// without it. OpenSearch needs Jaeger 2.20 or newer.
    pub policy: Option<String>,
    /// Additions to the index maintenance jobs' pods, over `pods`.
    pub pod: PodExtras,
}

impl Default for LifecycleSpec {
    fn default() -> Self {
        Self {
            mode: LifecycleMode::Daily,
            retention_days: 7,
            rollover_max_age: "1d".into(),
            // Just before midnight UTC, when daily indices change over: yesterday's is complete.
            schedule: "55 23 * * *".into(),
            policy: None,
            pod: PodExtras::default(),
        }
    }
}

/// Index lifecycle mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleMode {
    /// Daily indices and an index cleaner.
    Daily,
    /// Rollover aliases maintained by `jaeger-es-rollover`.
    Rollover,
}

impl ElasticsearchSpec {
    /// Elasticsearch at `server_urls` with every other setting at its default (index prefix
    /// `jaeger`, 3 shards, 1 replica, no credentials or CA, daily indices kept 7 days).
    #[must_use]
    pub fn new(server_urls: Vec<String>) -> Self {
        Self {
            server_urls,
            index_prefix: default_index_prefix(),
            shards: default_shards(),
            replicas: default_replicas(),
            credentials: None,
            ca: None,
            namespace: None,
            lifecycle: LifecycleSpec::default(),
        }
    }
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
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
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
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
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
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Sampling {
    /// Share of traces kept, more than 0 and at most 100 (by trace id, so whole traces are kept or
    /// dropped); also the default probability Jaeger's remote sampling hands to SDKs. The
    /// collector's sampler keeps whole 1/16384 shares, rounded down, so at least 0.0062.
    pub percentage: f64,
}

impl Default for Sampling {
    fn default() -> Self {
        Self { percentage: 100.0 }
    }
}

/// Istio mesh tracing: Envoy sidecars report spans to the gateway through an OpenTelemetry
/// extension provider selected by a mesh-wide `Telemetry`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct IstioSpec {
    /// Render the Istio files (`Telemetry`, mesh config overlay and Helm values, injection
    /// component). Off by default; every other field is checked either way.
    pub enabled: bool,
    /// Name of the `meshConfig.extensionProviders` entry (type `opentelemetry`) the `Telemetry`
    /// selects.
    pub provider: String,
    /// Share of requests Envoy starts a trace for when no upstream decision came with the request,
    /// 0–100 in steps of 0.01, rounded by Envoy, so above 0 at least 0.005 (Istio's own default is 1).
    pub sampling_percentage: f64,
    /// Extra tags on every span Envoy reports, by tag name: `{literal: {value}}`,
    /// `{header: {name, default_value}}` or `{environment: {name, default_value}}`.
    pub custom_tags: BTreeMap<String, CustomTag>,
    /// Namespaces whose pods get sidecars: labelled `istio-injection=enabled` (or `istio.io/rev`
    /// with `revision`) by the rendered kustomize component, which the kustomization owning them
    /// includes (tracestack never creates them).
    pub namespaces: Vec<String>,
    /// The istiod revision (`istioctl install --revision`, Helm `revision`) for revision-based
    /// installs and canary upgrades: the mesh config files carry it, and the namespaces are
    /// labelled `istio.io/rev=<revision>` instead of `istio-injection=enabled` (which wins over
    /// `istio.io/rev`, so owners drop it).
    pub revision: Option<String>,
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
            revision: None,
            legacy_zipkin: false,
        }
    }
}

/// The smoke-test Job: its init container sends traces through the `otlp` Service, then its
/// container asks Jaeger's query API for them.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SmokeTestSpec {
    /// Traces the sender sends (each a root span and one child) and the checker expects back.
    pub traces: u32,
    /// Repository of the telemetrygen image, when it is mirrored (default
    /// `ghcr.io/open-telemetry/opentelemetry-collector-contrib/telemetrygen`); the tag is
    /// `v` + `collector.version`.
    pub telemetrygen_image: Option<String>,
    /// Repository of the curl image the checker runs, when it is mirrored (default
    /// `curlimages/curl`); the tag is tracestack's pinned curl version, and the image must run
    /// `sh` and `curl` as an arbitrary non-root user (10001) like the upstream one.
    pub curl_image: Option<String>,
    /// Additions to the Job's pod, over `pods`.
    pub pod: PodExtras,
}

impl Default for SmokeTestSpec {
    fn default() -> Self {
        Self { traces: 20, telemetrygen_image: None, curl_image: None, pod: PodExtras::default() }
    }
}

/// The most traces a smoke test may send: it is a check, not a load test.
pub const MAX_SMOKE_TRACES: u32 = 1000;

/// Scraping and alerting through the Prometheus Operator: PodMonitors for the collector's and
/// Jaeger's own metrics, a PrometheusRule with health and RED alerts, and the span metrics they
/// need. The cluster must have the `monitoring.coreos.com` CRDs.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
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

/// Where a custom span tag's value comes from (Istio `Telemetry` `customTags`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
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
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema)]
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

/// RED metrics from spans (Jaeger's `spanmetrics` connector) and the alerts on them.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
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
    /// Where Jaeger's Monitor tab reads RED metrics: `prometheus` (the span metrics at
    /// `prometheus_url`), or `storage`: computed by Jaeger from the spans in its Elasticsearch or
    /// OpenSearch storage, with no Prometheus (Jaeger 2.8 or newer).
    pub monitor_backend: MonitorBackend,
}

/// The source of Jaeger's Monitor tab.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MonitorBackend {
    /// The span metrics in Prometheus, at `monitoring.red.prometheus_url`.
    #[default]
    Prometheus,
    /// Jaeger's Elasticsearch/OpenSearch metric backend, reading the span indices themselves.
    Storage,
}

/// The first Jaeger release whose `metric_backends` take `elasticsearch` and `opensearch`
/// (v2.8.0, `cmd/jaeger/internal/extension/jaegerstorage/config.go`).
pub const STORAGE_METRICS_SINCE: Version = Version::new(2, 8, 0);
/// The first Jaeger release whose `jaeger-es-rollover init` checks an ISM policy on OpenSearch
/// (`_plugins/_ism/policies`) and whose index templates carry the ISM rollover alias; before it
/// the init looks the policy up through Elasticsearch's `_ilm` API.
pub const ISM_SINCE: Version = Version::new(2, 20, 0);

impl Default for RedSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            error_ratio: 0.05,
            p99_latency: Duration::from_secs(1),
            min_request_rate: 0.1,
            services: BTreeMap::new(),
            prometheus_url: None,
            monitor_backend: MonitorBackend::Prometheus,
        }
    }
}

/// The OTLP transport of an SDK (`OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
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
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
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
const NO_INJECTION_NAMESPACES: [&str; 4] = [ROOT_NAMESPACE, "kube-node-lease", "kube-public", "kube-system"];

/// Namespaces the stack may not own: it enforces the restricted Pod Security Standard on its
/// namespace and denies all traffic there by default, which would break everything else that runs
/// in a system or shared namespace (and Istio's control plane in its root namespace).
const SHARED_NAMESPACES: [&str; 5] = ["default", ROOT_NAMESPACE, "kube-node-lease", "kube-public", "kube-system"];

/// Per-service RED thresholds; an unset one keeps the default.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
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
        } else if SHARED_NAMESPACES.contains(&self.namespace.as_str()) {
            err(
                "namespace",
                format!(
                    "`{}` is a system or shared namespace: the stack labels its namespace for the restricted Pod Security Standard and denies all traffic there by default, which would break what else runs in it; use a namespace of its own, e.g. `observability`",
                    self.namespace
                ),
            );
        }
        if let Err(e) = attribute_value(&self.environment) {
            err("environment", e);
        }
        check_version("collector.version", self.collector.distribution.0, self.collector.version.0, &mut err);
        check_version("jaeger.version", Distribution::Jaeger, self.jaeger.version.0, &mut err);
        check_workload(
            "collector",
            self.collector.replicas,
            &self.collector.autoscaling,
            self.collector.resources.as_ref(),
            &mut err,
        );
        for (path, image, digest) in [
            ("collector", &self.collector.image, &self.collector.digest),
            ("jaeger", &self.jaeger.image, &self.jaeger.digest),
        ] {
            if let Some(image) = image {
                check_image(&format!("{path}.image"), image, &mut err);
            }
            if let Some(digest) = digest {
                check_digest(&format!("{path}.digest"), digest, &mut err);
            }
        }
        let b = &self.collector.batch;
        if b.send_batch_size == Some(0) {
            err("collector.batch.send_batch_size", "must be at least 1 (got 0)".into());
        }
        if let (Some(size), Some(max)) = (b.send_batch_size, b.send_batch_max_size)
            && max != 0
            && max < size
        {
            err(
                "collector.batch.send_batch_max_size",
                format!("({max}) must be 0 or at least `send_batch_size` ({size})"),
            );
        }
        if b.timeout.as_nanos() == 0 {
            err("collector.batch.timeout", "must be longer than 0s".into());
        }
        if self.collector.queue.queue_size == Some(0) {
            err("collector.queue.queue_size", "must be at least 1 (got 0)".into());
        }
        if self.collector.queue.num_consumers == 0 {
            err("collector.queue.num_consumers", "must be at least 1 (got 0)".into());
        }
        let r = &self.collector.retry;
        // configretry's `validateMaxElapsedTime` (collector config/configretry v1.65.0, the
        // collector v0.159.0 release): 0 means "retry forever"; any other value below either
        // interval is refused at start-up.
        if r.max_elapsed_time.as_nanos() > 0 && r.max_elapsed_time < r.max_interval.max(r.initial_interval) {
            err(
                "collector.retry.max_elapsed_time",
                format!(
                    "({}) must be 0 (retry until the queue gives up) or at least `max_interval` ({}) and `initial_interval` ({})",
                    r.max_elapsed_time, r.max_interval, r.initial_interval
                ),
            );
        }
        // configretry accepts 0, but the exponential backoff (cenkalti/backoff) multiplies the
        // interval it starts from: from 0 every retry is immediate, a busy loop against Jaeger.
        if r.initial_interval.as_nanos() == 0 {
            err(
                "collector.retry.initial_interval",
                "must be longer than 0s: from 0 the backoff never grows and every retry is immediate".into(),
            );
        }
        if r.max_interval < r.initial_interval {
            err(
                "collector.retry.max_interval",
                format!("({}) must not be shorter than `initial_interval` ({})", r.max_interval, r.initial_interval),
            );
        }
        if let Err(e) = check_sampling_percentage(self.sampling.percentage) {
            err("sampling.percentage", e);
        }
        if let Some(load) = &self.load {
            if load.spans_per_second == 0 {
                err("load.spans_per_second", "must be at least 1 (got 0)".into());
            }
            if !(16..=1_048_576).contains(&load.average_span_bytes) {
                err(
                    "load.average_span_bytes",
                    format!("must be between 16 and 1048576 (got {})", load.average_span_bytes),
                );
            }
            if load.outage_seconds > 3600 {
                err(
                    "load.outage_seconds",
                    format!(
                        "must be at most 3600 (got {}): longer outages need a persistent queue, not memory",
                        load.outage_seconds
                    ),
                );
            }
        }
        check_agents(&self.agents, &mut err);
        if self.kafka.enabled {
            check_kafka(&self.kafka, &mut err);
            let kafka = crate::config::collector::distribution::ships(
                self.collector.distribution.0,
                self.collector.version.0,
                crate::config::collector::ComponentKind::Exporter,
                "kafka",
            );
            if kafka == Ok(false) {
                err(
                    "collector.distribution",
                    format!(
                        "`{}` ships no `kafka` exporter, which `kafka.enabled` needs; use `otelcol-contrib`",
                        self.collector.distribution.0.name()
                    ),
                );
            }
        }
        if self.tail_sampling.enabled {
            check_tail_sampling(&self.tail_sampling, self.sampling.percentage, &mut err);
            let prometheus = crate::config::collector::distribution::ships(
                self.collector.distribution.0,
                self.collector.version.0,
                crate::config::collector::ComponentKind::Exporter,
                "prometheus",
            );
            if self.monitoring.enabled && self.monitoring.red.enabled && prometheus == Ok(false) {
                err(
                    "collector.distribution",
                    format!(
                        "`{}` ships no `prometheus` exporter, which the tail-sampling tier needs to serve span metrics counted before sampling (Jaeger would count only the kept traces: every error and slow one, a share of the rest); use `otelcol-contrib`, or set `monitoring.red.enabled: false`",
                        self.collector.distribution.0.name()
                    ),
                );
            }
        }
        check_istio(&self.istio, &self.namespace, &mut err);
        check_apps(&self.apps, &mut err);
        check_smoke_test(&self.smoke_test, &mut err);
        if self.monitoring.enabled {
            check_monitoring(&self.monitoring, &self.jaeger.storage, self.jaeger.version.0, &mut err);
        }
        let roles: &[(&str, &RoleSpec)] = match &self.jaeger.storage {
            StorageSpec::Memory(m) => {
                if m.max_traces == 0 {
                    err("jaeger.storage.memory.max_traces", "must be at least 1 (got 0)".into());
                }
                let a = &self.jaeger.all_in_one;
                let many = a.replicas.filter(|r| *r > 1).or(a.autoscaling.max_replicas.filter(|r| *r > 1));
                if let Some(n) = many {
                    let field = if a.replicas.is_some_and(|r| r > 1) { "replicas" } else { "autoscaling.max_replicas" };
                    err(
                        &format!("jaeger.all_in_one.{field}"),
                        format!(
                            "must be 1 with `memory` storage (got {n}): each replica would keep its own traces, and the UI would show a random subset"
                        ),
                    );
                }
                if self.jaeger.collector_tls.is_some() {
                    err(
                        "jaeger.collector_tls",
                        "needs split roles (Elasticsearch storage); the all-in-one demo receives in plain text".into(),
                    );
                }
                &[("jaeger.all_in_one", a)]
            }
            StorageSpec::Badger(b) => {
                let a = &self.jaeger.all_in_one;
                let many = a.replicas.filter(|r| *r > 1).or(a.autoscaling.max_replicas.filter(|r| *r > 1));
                if let Some(n) = many {
                    let field = if a.replicas.is_some_and(|r| r > 1) { "replicas" } else { "autoscaling.max_replicas" };
                    err(
                        &format!("jaeger.all_in_one.{field}"),
                        format!(
                            "must be 1 with `badger` storage (got {n}): Badger is a single-node store on one ReadWriteOnce volume; use `elasticsearch`, `opensearch` or `clickhouse` to scale out"
                        ),
                    );
                }
                if b.ttl.as_nanos() == 0 {
                    err("jaeger.storage.badger.ttl", "must be longer than 0s, e.g. `72h`".into());
                }
                if b.volume_size.bytes().is_none_or(|v| v < 1 << 20) {
                    err(
                        "jaeger.storage.badger.volume_size",
                        format!("`{}` must be a size of at least 1Mi, e.g. `10Gi`", b.volume_size),
                    );
                }
                if let Some(class) = &b.storage_class
                    && let Err(e) = names::dns1123_subdomain(class)
                {
                    err("jaeger.storage.badger.storage_class", e);
                }
                if self.jaeger.collector_tls.is_some() {
                    err(
                        "jaeger.collector_tls",
                        "needs split roles (shared storage); the single-node Jaeger receives in plain text".into(),
                    );
                }
                &[("jaeger.all_in_one", a)]
            }
            StorageSpec::Elasticsearch(es) => {
                check_elasticsearch("jaeger.storage.elasticsearch", es, &mut err);
                check_policy("jaeger.storage.elasticsearch", es, false, self.jaeger.version.0, &mut err);
                &[("jaeger.collector", &self.jaeger.collector), ("jaeger.query", &self.jaeger.query)]
            }
            StorageSpec::Opensearch(os) => {
                check_elasticsearch("jaeger.storage.opensearch", os, &mut err);
                check_policy("jaeger.storage.opensearch", os, true, self.jaeger.version.0, &mut err);
                &[("jaeger.collector", &self.jaeger.collector), ("jaeger.query", &self.jaeger.query)]
            }
            StorageSpec::Clickhouse(ch) => {
                check_clickhouse(ch, self.jaeger.version.0, &mut err);
                &[("jaeger.collector", &self.jaeger.collector), ("jaeger.query", &self.jaeger.query)]
            }
        };
        for (path, role) in roles {
            check_workload(path, role.replicas, &role.autoscaling, role.resources.as_ref(), &mut err);
            if role.queue_size == Some(0) {
                err(&format!("{path}.queue_size"), "must be at least 1 (got 0)".into());
            }
        }
        if let Some(tls) = &self.jaeger.collector_tls
            && let Err(e) = names::dns1123_subdomain(&tls.secret)
        {
            err("jaeger.collector_tls.secret", e);
        }
        let sec = &self.security;
        if let Some(pc) = &sec.priority_class_name
            && let Err(e) = names::dns1123_subdomain(pc)
        {
            err("security.priority_class_name", e);
        }
        let np = &sec.network_policy;
        for (field, list) in [
            ("otlp_from_namespaces", &np.otlp_from_namespaces),
            ("query_from_namespaces", &np.query_from_namespaces),
            ("metrics_from_namespaces", &np.metrics_from_namespaces),
        ] {
            for (i, ns) in list.iter().enumerate() {
                if let Err(e) = names::dns1123_label(ns) {
                    err(&format!("security.network_policy.{field}[{i}]"), e);
                }
            }
        }
        check_dns(&np.dns, &mut err);
        self.pods.validate("pods", &mut err);
        self.collector.pod.validate("collector.pod", &mut err);
        for (path, role) in [
            ("jaeger.all_in_one.pod", &self.jaeger.all_in_one),
            ("jaeger.collector.pod", &self.jaeger.collector),
            ("jaeger.query.pod", &self.jaeger.query),
        ] {
            role.pod.validate(path, &mut err);
        }
        self.smoke_test.pod.validate("smoke_test.pod", &mut err);
        if let StorageSpec::Elasticsearch(es) = &self.jaeger.storage {
            es.lifecycle.pod.validate("jaeger.storage.elasticsearch.lifecycle.pod", &mut err);
        }
        if let Some(ingress) = &self.jaeger.ingress {
            check_ingress(ingress, np, &mut err);
        }
        if let Some(route) = &self.jaeger.http_route {
            check_http_route(route, np, &mut err);
        }
        for (i, cidr) in np.api_server_cidrs.iter().enumerate() {
            if let Err(e) = check_cidr(cidr) {
                err(&format!("security.network_policy.api_server_cidrs[{i}]"), e);
            }
        }
        if self.output == Output::JaegerOperator {
            check_jaeger_operator(self, &mut err);
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// A Kafka topic or group name: 1–249 of `a-z A-Z 0-9 . _ -`, not `.` or `..`.
fn kafka_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 249
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!("`{name}` must be 1–249 of letters, digits, `.`, `_`, `-` (not `.` or `..`)"))
    }
}

fn check_kafka(k: &KafkaSpec, err: &mut impl FnMut(&str, String)) {
    if k.brokers.is_empty() {
        err("kafka.brokers", "must name at least one broker, `host:port`".into());
    }
    for (i, broker) in k.brokers.iter().enumerate() {
        let ok = broker.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty()
                && !host.contains(char::is_whitespace)
                && !host.contains('/')
                && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        if !ok {
            err(&format!("kafka.brokers[{i}]"), format!("`{broker}` must be `host:port`, port 1–65535"));
        }
    }
    if let Err(e) = kafka_name(&k.topic) {
        err("kafka.topic", e);
    }
    if let Err(e) = kafka_name(&k.group_id) {
        err("kafka.group_id", e);
    }
    if let Some(ns) = &k.namespace
        && let Err(e) = names::dns1123_label(ns)
    {
        err("kafka.namespace", e);
    }
    if let Some(tls) = &k.tls {
        if let Err(e) = names::dns1123_subdomain(&tls.secret) {
            err("kafka.tls.secret", e);
        }
        if let Err(e) = names::secret_key(&tls.key) {
            err("kafka.tls.key", e);
        }
    }
    if let Some(sasl) = &k.sasl {
        if let Err(e) = names::dns1123_subdomain(&sasl.secret) {
            err("kafka.sasl.secret", e);
        }
        for (field, key) in [("username_key", &sasl.username_key), ("password_key", &sasl.password_key)] {
            if let Err(e) = names::secret_key(key) {
                err(&format!("kafka.sasl.{field}"), e);
            }
        }
    }
}

fn check_tail_sampling(t: &TailSamplingSpec, head: f64, err: &mut impl FnMut(&str, String)) {
    if head < 100.0 {
        err(
            "sampling.percentage",
            format!(
                "({head}) must be 100 with `tail_sampling`: head sampling in the gateway would drop spans before the tail tier sees their traces whole; use `tail_sampling.policies.baseline_percentage`"
            ),
        );
    }
    if t.replicas == Some(0) {
        err("tail_sampling.replicas", "must be at least 1 (got 0)".into());
    }
    if let Some(r) = &t.resources {
        check_resources("tail_sampling.resources", r, err);
    }
    if !(1..=120).contains(&t.decision_wait.as_millis().div_ceil(1000)) || t.decision_wait.as_millis() < 1000 {
        err("tail_sampling.decision_wait", format!("must be from 1s to 120s (got {})", t.decision_wait));
    }
    let p = &t.policies;
    if let Some(l) = p.latency_threshold
        && l.as_millis() == 0
    {
        err("tail_sampling.policies.latency_threshold", "must be at least 1ms".into());
    }
    if !(0.0..=100.0).contains(&p.baseline_percentage) || !p.baseline_percentage.is_finite() {
        err(
            "tail_sampling.policies.baseline_percentage",
            format!("must be from 0 to 100 (got {})", p.baseline_percentage),
        );
    }
    for (service, pct) in &p.services {
        if let Err(e) = attribute_value(service) {
            err(&format!("tail_sampling.policies.services.{service}"), e);
        }
        if !(pct.is_finite() && *pct > 0.0 && *pct <= 100.0) {
            err(
                &format!("tail_sampling.policies.services.{service}"),
                format!("must be more than 0 and at most 100 (got {pct})"),
            );
        }
    }
    if !p.errors && p.latency_threshold.is_none() && p.services.is_empty() && p.baseline_percentage == 0.0 {
        err("tail_sampling.policies", "keep no trace at all: enable at least one policy".into());
    }
}

fn check_agents(agents: &AgentsSpec, err: &mut impl FnMut(&str, String)) {
    if agents.nodes == 0 {
        err("agents.nodes", "must be at least 1 (got 0)".into());
    }
    if let Some(resources) = &agents.resources {
        check_resources("agents.resources", resources, err);
    }
    for (i, t) in agents.tolerations.iter().enumerate() {
        let at = format!("agents.tolerations[{i}]");
        if let Some(key) = &t.key
            && let Err(e) = names::qualified_name(key)
        {
            err(&format!("{at}.key"), e);
        }
        match (t.operator, &t.key, &t.value) {
            (TolerationOperator::Exists, _, Some(_)) => {
                err(&format!("{at}.value"), "must be empty with `operator: Exists`, which matches any value".into());
            }
            (TolerationOperator::Equal, None, _) => {
                err(&format!("{at}.key"), "is required with `operator: Equal`".into());
            }
            (TolerationOperator::Equal, Some(_), Some(v)) => {
                if let Err(e) = names::label_value(v) {
                    err(&format!("{at}.value"), e);
                }
            }
            _ => {}
        }
    }
}

fn check_dns(dns: &DnsSpec, err: &mut impl FnMut(&str, String)) {
    let base = "security.network_policy.dns";
    if let Err(e) = names::dns1123_label(&dns.namespace) {
        err(&format!("{base}.namespace"), e);
    }
    if dns.pod_labels.is_empty() {
        err(
            &format!("{base}.pod_labels"),
            "must name at least one label of the DNS pods, e.g. `k8s-app: kube-dns`".into(),
        );
    }
    for (key, value) in &dns.pod_labels {
        if let Err(e) = names::qualified_name(key).and_then(|()| names::label_value(value)) {
            err(&format!("{base}.pod_labels.{key}"), e);
        }
    }
    if let Some(address) = &dns.node_local_address
        && address.parse::<std::net::IpAddr>().is_err()
    {
        err(
            &format!("{base}.node_local_address"),
            format!("`{address}` must be an IP address, e.g. `169.254.20.10` (NodeLocal DNSCache's default)"),
        );
    }
}

fn check_ingress(ingress: &IngressSpec, np: &NetworkPolicySpec, err: &mut impl FnMut(&str, String)) {
    let base = "jaeger.ingress";
    if let Err(e) = names::dns1123_subdomain(&ingress.host) {
        err(&format!("{base}.host"), e);
    }
    for (field, value) in [("class_name", &ingress.class_name), ("tls_secret", &ingress.tls_secret)] {
        if let Some(Err(e)) = value.as_deref().map(names::dns1123_subdomain) {
            err(&format!("{base}.{field}"), e);
        }
    }
    let path_ok = ingress.path.starts_with('/') && !ingress.path.contains(char::is_whitespace);
    if !path_ok {
        err(&format!("{base}.path"), format!("`{}` must start with `/` and hold no spaces", ingress.path));
    }
    for key in ingress.annotations.keys() {
        if let Err(e) = names::qualified_name(key) {
            err(&format!("{base}.annotations.{key}"), e);
        }
    }
    match &ingress.controller_namespace {
        Some(ns) => {
            if let Err(e) = names::dns1123_label(ns) {
                err(&format!("{base}.controller_namespace"), e);
            }
        }
        None if np.enabled && np.query_from_namespaces.is_empty() => err(
            &format!("{base}.controller_namespace"),
            "is needed with NetworkPolicies on: the Ingress controller's pods must be allowed to reach `jaeger-query`; name their namespace (e.g. `ingress-nginx`) here or in `security.network_policy.query_from_namespaces`".into(),
        ),
        None => {}
    }
}

fn check_http_route(route: &UiRouteSpec, np: &NetworkPolicySpec, err: &mut impl FnMut(&str, String)) {
    let base = "jaeger.http_route";
    if let Err(e) = names::dns1123_subdomain(&route.gateway.name) {
        err(&format!("{base}.gateway.name"), e);
    }
    if let Some(Err(e)) = route.gateway.namespace.as_deref().map(names::dns1123_label) {
        err(&format!("{base}.gateway.namespace"), e);
    }
    if let Some(Err(e)) = route.gateway.section_name.as_deref().map(names::dns1123_subdomain) {
        err(&format!("{base}.gateway.section_name"), e);
    }
    for (i, host) in route.hostnames.iter().enumerate() {
        if let Err(e) = names::dns1123_subdomain(host.strip_prefix("*.").unwrap_or(host)) {
            err(&format!("{base}.hostnames[{i}]"), format!("{e}; a leading `*.` (a wildcard) is allowed"));
        }
    }
    if !route.path.starts_with('/') || route.path.contains(char::is_whitespace) {
        err(&format!("{base}.path"), format!("`{}` must start with `/` and hold no spaces", route.path));
    }
    match &route.from_namespace {
        Some(ns) => {
            if let Err(e) = names::dns1123_label(ns) {
                err(&format!("{base}.from_namespace"), e);
            }
        }
        None if np.enabled && np.query_from_namespaces.is_empty() => err(
            &format!("{base}.from_namespace"),
            "is needed with NetworkPolicies on: the Gateway's proxy pods must be allowed to reach `jaeger-query`; name their namespace here or in `security.network_policy.query_from_namespaces`".into(),
        ),
        None => {}
    }
}

/// A CIDR as a NetworkPolicy `ipBlock` takes it: an IPv4 or IPv6 address, `/`, a prefix length
/// within the address's bits.
fn check_cidr(cidr: &str) -> Result<(), String> {
    let bad = || format!("`{cidr}` must be an address block in CIDR notation, e.g. `10.0.0.1/32` or `fd00::/64`");
    let (address, prefix) = cidr.split_once('/').ok_or_else(bad)?;
    let bits = match address.parse::<std::net::IpAddr>().map_err(|_| bad())? {
        std::net::IpAddr::V4(_) => 32,
        std::net::IpAddr::V6(_) => 128,
    };
    match prefix.parse::<u8>() {
        Ok(p) if p <= bits && prefix.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
        _ => Err(bad()),
    }
}

/// Hash buckets of the collector's `probabilistic_sampler` in its default `hash_seed` mode
/// (`numHashBuckets` in contrib `processor/probabilisticsamplerprocessor/sampler_mode.go`,
/// v0.159.0).
const SAMPLER_BUCKETS: u32 = 0x4000;

/// A sampling percentage the gateway's `probabilistic_sampler` applies as given: more than 0, at
/// most 100, and at least one of its hash buckets.
///
/// The processor reads `sampling_percentage` as a `float32`; `Validate` refuses a share below
/// 2⁻⁵⁶ and `makeSampler` in `hash_seed` mode (the default, tracestack sets no mode) keeps
/// `uint32(pct * 163.84)` of 16384 buckets, computed in `float32` and rounded down: a percentage
/// that makes that 0 gets a sampler that keeps nothing, without an error. Above one bucket the
/// share is rounded down to a multiple of 100/16384 %, which the message of a rejected value
/// states.
///
/// # Errors
/// A message naming the value and the smallest one kept.
pub fn check_sampling_percentage(p: f64) -> Result<(), String> {
    if !(p.is_finite() && p > 0.0 && p <= 100.0) {
        return Err(format!("must be more than 0 and at most 100 (got {p})"));
    }
    // `float32(pct) * percentageScaleFactor` in Go: both operands are float32.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let buckets = (p as f32 * (SAMPLER_BUCKETS as f32 / 100.0)) as u32;
    if buckets == 0 {
        let smallest = 100.0 / f64::from(SAMPLER_BUCKETS);
        return Err(format!(
            "({p}) keeps no trace at all: the collector's `probabilistic_sampler` keeps whole 1/{SAMPLER_BUCKETS} shares of trace ids, rounded down, so the smallest percentage it applies is {smallest} (one share)"
        ));
    }
    Ok(())
}

/// A version the component table does not know cannot be rendered (every component is checked
/// against it), so it is reported here, on its field, rather than from deep inside the build.
fn check_version(path: &str, distribution: Distribution, version: Version, err: &mut impl FnMut(&str, String)) {
    if known_versions(distribution).binary_search(&version).is_err() {
        err(path, UnknownVersion { distribution, version }.to_string());
    }
}

fn check_workload(
    path: &str,
    replicas: Option<u32>,
    autoscaling: &AutoscalingSpec,
    resources: Option<&Resources>,
    err: &mut impl FnMut(&str, String),
) {
    if replicas == Some(0) {
        err(&format!("{path}.replicas"), "must be at least 1 (got 0)".into());
    }
    if autoscaling.min_replicas == Some(0) {
        err(&format!("{path}.autoscaling.min_replicas"), "must be at least 1 (got 0)".into());
    }
    if let (Some(min), Some(max)) = (autoscaling.min_replicas.or(replicas), autoscaling.max_replicas)
        && max < min
    {
        err(&format!("{path}.autoscaling.max_replicas"), format!("({max}) must not be below the minimum ({min})"));
    }
    for (field, value) in [
        ("target_cpu_percent", autoscaling.target_cpu_percent),
        ("target_memory_percent", autoscaling.target_memory_percent),
    ] {
        if !(10..=100).contains(&value) {
            err(&format!("{path}.autoscaling.{field}"), format!("must be between 10 and 100 (got {value})"));
        }
    }
    if let Some(r) = resources {
        check_resources(&format!("{path}.resources"), r, err);
    }
}

fn check_digest(path: &str, digest: &str, err: &mut impl FnMut(&str, String)) {
    let ok = digest
        .strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    if !ok {
        err(path, format!("`{digest}` must be `sha256:` followed by 64 lowercase hex digits"));
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
    // The revision names istiod's Service (`istiod-<revision>`) and is a label value.
    if let Some(Err(e)) = istio.revision.as_deref().map(names::dns1123_label) {
        err("istio.revision", e);
    }
    let p = istio.sampling_percentage;
    if !(p.is_finite() && (0.0..=100.0).contains(&p)) {
        err("istio.sampling_percentage", format!("must be from 0 to 100 (got {p})"));
    } else if p > 0.0 && (p * 100.0).round() == 0.0 {
        // Envoy reads `random_sampling` as a whole number of 1/10000 shares, rounded
        // (`PROTOBUF_PERCENT_TO_ROUNDED_INTEGER_OR_DEFAULT(tracing_config, random_sampling, 10000,
        // 10000)` in its HTTP connection manager config): below half a share it traces nothing.
        err(
            "istio.sampling_percentage",
            format!(
                "({p}) traces nothing: Envoy keeps whole 1/10000 shares of requests, rounded, so the smallest percentage it applies is 0.005; use 0 to turn tracing off"
            ),
        );
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

fn check_monitoring(spec: &MonitoringSpec, storage: &StorageSpec, jaeger: Version, err: &mut impl FnMut(&str, String)) {
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
    if red.monitor_backend == MonitorBackend::Storage {
        if storage.search().is_none() {
            err(
                "monitoring.red.monitor_backend",
                "`storage` needs Elasticsearch or OpenSearch storage (Jaeger computes the Monitor tab from their span indices); use `prometheus` with `prometheus_url`".into(),
            );
        }
        if jaeger < STORAGE_METRICS_SINCE {
            err(
                "monitoring.red.monitor_backend",
                format!("`storage` needs Jaeger {STORAGE_METRICS_SINCE} or newer (jaeger.version is {jaeger})"),
            );
        }
        if red.prometheus_url.is_some() {
            err(
                "monitoring.red.prometheus_url",
                "is not read with `monitor_backend: storage`; drop it, or set `monitor_backend: prometheus`".into(),
            );
        }
    }
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
    if let Some(Err(e)) = red.prometheus_url.as_deref().map(HttpUrl::parse) {
        err("monitoring.red.prometheus_url", e);
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
            (None, _) => err(&format!("{path}.requests.{name}"), out_of_range(request)),
            (_, None) => err(&format!("{path}.limits.{name}"), out_of_range(limit)),
        }
    }
    // The memory limit also sizes `memory_limiter` and `GOMEMLIMIT`, counted in bytes as a `u64`.
    if r.limits.memory.millis().is_some() && r.limits.memory.bytes().is_none() {
        err(&format!("{path}.limits.memory"), out_of_range(&r.limits.memory));
    }
    if r.limits.memory.bytes().is_some_and(|b| b < 32 * 1024 * 1024) {
        err(&format!("{path}.limits.memory"), format!("({}) must be at least 32Mi for a Go process", r.limits.memory));
    }
}

/// Why a quantity has no value in thousandths: it is negative, or too large to count.
fn out_of_range(q: &Quantity) -> String {
    if q.as_str().starts_with('-') {
        format!("`{q}` must not be negative")
    } else {
        format!("`{q}` is too large to be a CPU or memory amount")
    }
}

/// The first Jaeger release with a `clickhouse` trace backend.
pub const CLICKHOUSE_SINCE: Version = Version::new(2, 12, 0);
/// The first Jaeger release whose ClickHouse backend takes `ttl` (and needs the
/// `storage.clickhouse` feature gate).
pub const CLICKHOUSE_TTL_SINCE: Version = Version::new(2, 18, 0);

fn check_clickhouse(ch: &ClickhouseSpec, jaeger: Version, err: &mut impl FnMut(&str, String)) {
    let base = "jaeger.storage.clickhouse";
    if jaeger < CLICKHOUSE_SINCE {
        err(base, format!("needs Jaeger {CLICKHOUSE_SINCE} or newer (jaeger.version is {jaeger})"));
    }
    if ch.addresses.is_empty() {
        err(
            &format!("{base}.addresses"),
            "must list at least one `host:port`, e.g. `clickhouse.clickhouse.svc:9000`".into(),
        );
    }
    for (i, address) in ch.addresses.iter().enumerate() {
        let ok = address.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && !host.contains('/') && !host.contains('@') && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        if !ok {
            err(
                &format!("{base}.addresses[{i}]"),
                format!(
                    "`{address}` must be `host:port` with a port from 1 to 65535 and no scheme or credentials, e.g. `clickhouse.clickhouse.svc:9000`"
                ),
            );
        }
    }
    let db_ok = !ch.database.is_empty()
        && ch.database.len() <= 64
        && ch.database.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !ch.database.starts_with(|c: char| c.is_ascii_digit());
    if !db_ok {
        err(
            &format!("{base}.database"),
            format!("`{}` must be 1–64 letters, digits or `_`, not starting with a digit", ch.database),
        );
    }
    if let Some(ttl) = ch.ttl {
        if ttl.as_nanos() == 0 || ttl.as_nanos() % 1_000_000_000 != 0 {
            err(&format!("{base}.ttl"), format!("`{ttl}` must be a whole number of seconds above 0, e.g. `168h`"));
        }
        if jaeger < CLICKHOUSE_TTL_SINCE {
            err(
                &format!("{base}.ttl"),
                format!(
                    "needs Jaeger {CLICKHOUSE_TTL_SINCE} or newer (jaeger.version is {jaeger}); drop it and expire data with your own table TTL"
                ),
            );
        }
    }
    if let Some(ns) = &ch.namespace
        && let Err(e) = names::dns1123_label(ns)
    {
        err(&format!("{base}.namespace"), e);
    }
    if let Some(c) = &ch.credentials {
        if let Err(e) = names::dns1123_subdomain(&c.secret) {
            err(&format!("{base}.credentials.secret"), e);
        }
        for (field, key) in [("username_key", &c.username_key), ("password_key", &c.password_key)] {
            if let Err(e) = names::secret_key(key) {
                err(&format!("{base}.credentials.{field}"), e);
            }
        }
    }
}

/// `lifecycle.policy`: rollover only, a policy name the cluster accepts, and on OpenSearch a Jaeger
/// whose rollover init knows ISM.
fn check_policy(
    base: &str,
    es: &ElasticsearchSpec,
    opensearch: bool,
    jaeger: Version,
    err: &mut impl FnMut(&str, String),
) {
    let Some(policy) = &es.lifecycle.policy else { return };
    let path = format!("{base}.lifecycle.policy");
    if es.lifecycle.mode != LifecycleMode::Rollover {
        err(
            &path,
            "needs `mode: rollover` (a lifecycle policy rolls over aliases); drop it or set `mode: rollover`".into(),
        );
    }
    let name_ok = !policy.is_empty()
        && policy.len() <= 255
        && policy.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_' || b == b'.')
        && !policy.starts_with(['-', '_', '.']);
    if !name_ok {
        err(
            &path,
            format!(
                "`{policy}` must be 1–255 lowercase letters, digits, `-`, `_` or `.`, not starting with `-`, `_` or `.`, e.g. `jaeger-ilm-policy`"
            ),
        );
    }
    if opensearch && jaeger < ISM_SINCE {
        err(
            &path,
            format!(
                "needs Jaeger {ISM_SINCE} or newer on OpenSearch (jaeger.version is {jaeger}): older `jaeger-es-rollover init` looks the policy up through Elasticsearch's `_ilm` API, which OpenSearch does not serve, and its index templates carry no ISM rollover alias; drop `policy` to use the rollover CronJobs"
            ),
        );
    }
}

fn check_elasticsearch(base: &str, es: &ElasticsearchSpec, err: &mut impl FnMut(&str, String)) {
    if es.server_urls.is_empty() {
        err(
            &format!("{base}.server_urls"),
            "must list at least one URL, e.g. `https://elasticsearch.elastic.svc:9200`".into(),
        );
    }
    for (i, url) in es.server_urls.iter().enumerate() {
        if let Err(e) = HttpUrl::parse(url) {
            err(&format!("{base}.server_urls[{i}]"), e);
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
    if let Some(ns) = &es.namespace
        && let Err(e) = names::dns1123_label(ns)
    {
        err(&format!("{base}.namespace"), e);
    }
    let life = &es.lifecycle;
    if !(1..=3650).contains(&life.retention_days) {
        err(
            &format!("{base}.lifecycle.retention_days"),
            format!("must be between 1 and 3650 (got {})", life.retention_days),
        );
    }
    if let Err(e) = cron::check(&life.schedule) {
        err(&format!("{base}.lifecycle.schedule"), e);
    }
    let age_ok = life
        .rollover_max_age
        .strip_suffix(['d', 'h', 'm'])
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && n != "0" && !n.starts_with('0'));
    if !age_ok {
        err(
            &format!("{base}.lifecycle.rollover_max_age"),
            format!("`{}` must be a whole number of days, hours or minutes, e.g. `1d` or `12h`", life.rollover_max_age),
        );
    }
    if let Some(c) = &es.credentials {
        if let Err(e) = names::dns1123_subdomain(&c.secret) {
            err(&format!("{base}.credentials.secret"), e);
        }
        for (field, key) in [("username_key", &c.username_key), ("password_key", &c.password_key)] {
            if let Err(e) = names::secret_key(key) {
                err(&format!("{base}.credentials.{field}"), e);
            }
        }
    }
    if let Some(ca) = &es.ca {
        if let Err(e) = names::dns1123_subdomain(&ca.secret) {
            err(&format!("{base}.ca.secret"), e);
        }
        if let Err(e) = names::secret_key(&ca.key) {
            err(&format!("{base}.ca.key"), e);
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
    fn tail_sampling_needs_whole_traces_and_a_prometheus_exporter_for_red() {
        let on = |p: &mut Profile| p.tail_sampling.enabled = true;
        assert!(errors(on).is_empty(), "{:?}", errors(on));
        let head = errors(|p| {
            on(p);
            p.sampling.percentage = 50.0;
        });
        assert_eq!(head.len(), 1);
        assert!(head[0].starts_with("sampling.percentage: (50) must be 100 with `tail_sampling`"), "{head:?}");
        let red = errors(|p| {
            on(p);
            p.monitoring.enabled = true;
        });
        assert_eq!(red.len(), 1);
        assert!(red[0].starts_with("collector.distribution: `otelcol-k8s` ships no `prometheus` exporter"), "{red:?}");
        assert!(
            errors(|p| {
                on(p);
                p.monitoring.enabled = true;
                p.collector.distribution = DistributionName(Distribution::OtelcolContrib);
            })
            .is_empty()
        );
        let nothing = errors(|p| {
            on(p);
            p.tail_sampling.policies = TailPolicies {
                errors: false,
                latency_threshold: None,
                services: BTreeMap::new(),
                baseline_percentage: 0.0,
            };
        });
        assert_eq!(nothing, ["tail_sampling.policies: keep no trace at all: enable at least one policy"]);
        let bad = errors(|p| {
            on(p);
            p.tail_sampling.decision_wait = Duration::from_millis(500);
            p.tail_sampling.policies.services.insert("checkout".into(), 0.0);
        });
        assert_eq!(
            bad,
            [
                "tail_sampling.decision_wait: must be from 1s to 120s (got 500ms)",
                "tail_sampling.policies.services.checkout: must be more than 0 and at most 100 (got 0)"
            ]
        );
    }

    #[test]
    fn kafka_needs_brokers_names_and_a_kafka_exporter() {
        let on = |p: &mut Profile| {
            p.kafka.enabled = true;
            p.kafka.brokers = vec!["kafka.kafka.svc:9092".into()];
            p.collector.distribution = DistributionName(Distribution::OtelcolContrib);
        };
        assert!(errors(on).is_empty(), "{:?}", errors(on));
        let k8s = errors(|p| {
            on(p);
            p.collector.distribution = DistributionName(Distribution::OtelcolK8s);
        });
        assert_eq!(
            k8s,
            [
                "collector.distribution: `otelcol-k8s` ships no `kafka` exporter, which `kafka.enabled` needs; use `otelcol-contrib`"
            ]
        );
        let bad = errors(|p| {
            on(p);
            p.kafka.brokers = vec!["kafka".into(), "kafka:0".into()];
            p.kafka.topic = "spans/all".into();
        });
        assert_eq!(
            bad,
            [
                "kafka.brokers[0]: `kafka` must be `host:port`, port 1–65535",
                "kafka.brokers[1]: `kafka:0` must be `host:port`, port 1–65535",
                "kafka.topic: `spans/all` must be 1–249 of letters, digits, `.`, `_`, `-` (not `.` or `..`)"
            ]
        );
        assert_eq!(
            errors(|p| {
                on(p);
                p.kafka.brokers.clear();
            }),
            ["kafka.brokers: must name at least one broker, `host:port`"]
        );
    }

    #[test]
    fn agents_need_a_node_and_well_formed_tolerations() {
        assert_eq!(errors(|p| p.agents.nodes = 0), ["agents.nodes: must be at least 1 (got 0)"]);
        let toleration = |operator, key: Option<&str>, value: Option<&str>| TolerationSpec {
            key: key.map(str::to_owned),
            operator,
            value: value.map(str::to_owned),
            effect: Some(TaintEffect::NoSchedule),
        };
        assert_eq!(
            errors(|p| p.agents.tolerations = vec![toleration(TolerationOperator::Equal, None, Some("x"))]),
            ["agents.tolerations[0].key: is required with `operator: Equal`"]
        );
        assert_eq!(
            errors(|p| p.agents.tolerations = vec![toleration(TolerationOperator::Exists, Some("pool"), Some("x"))]),
            ["agents.tolerations[0].value: must be empty with `operator: Exists`, which matches any value"]
        );
        assert!(
            errors(|p| p.agents.tolerations =
                vec![toleration(TolerationOperator::Equal, Some("example.com/pool"), Some("apps"))])
            .is_empty()
        );
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
                "monitoring.red.prometheus_url: `prometheus:9090` must be an `http://` or `https://` URL: the scheme is neither",
                "monitoring.red.services.cart.error_ratio: must be more than 0 and at most 1 (got 2)",
                "monitoring.red.services.checkout: sets no threshold; give `error_ratio`, `p99_latency` or both",
                "monitoring.red.services.{{x}}: a service name must be non-empty text without control characters or `{{`",
            ]
        );
    }
}
