//! Monitoring through the Prometheus Operator: a PodMonitor each for the collector gateway and
//! Jaeger, and a PrometheusRule with the stack's health alerts and the applications' RED alerts.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::components::Component;
use crate::components::Error;
use crate::components::agent::Agents;
use crate::components::collector::Gateway;
use crate::components::jaeger::{self as jaeger_component, Jaeger};
use crate::components::sampler::Sampler;
use crate::config::k8s::{self, CustomKind, CustomResource, Object};
use crate::config::prometheus::{
    self as prom, AlertRule, PodMetricsEndpoint, PodMonitor, PodMonitorSpec, PrometheusRule, PrometheusRuleSpec,
    RuleGroup, metric, span_label,
};
use crate::format;
use crate::model::profile::{Profile, RedSpec};

/// Name of the PrometheusRule.
pub const RULE_NAME: &str = "tracestack";
/// The pod label whose value becomes the `job` label of every scraped series.
pub const JOB_LABEL: &str = "app.kubernetes.io/name";
/// The pod label copied onto every series, to tell Jaeger's roles apart.
pub const COMPONENT_LABEL: &str = "app.kubernetes.io/component";
/// The window every `rate()` and `increase()` looks back over.
const WINDOW: &str = "5m";

/// The monitoring objects of a stack.
#[derive(Clone, Debug, PartialEq)]
pub struct Monitoring {
    /// The typed alert rules that `rule` carries.
    pub rules: PrometheusRule,
    /// The RED thresholds behind the `tracestack.red` rules, when span metrics are on.
    pub red: Option<RedSpec>,
    /// Scrapes the gateway's `metrics` port.
    pub collector_monitor: CustomResource,
    /// Scrapes every Jaeger pod's `metrics` port, and the `span-metrics` port where it exists.
    pub jaeger_monitor: CustomResource,
    /// Scrapes the node agents and the tail-sampling tier (and its `span-metrics` port), when
    /// they run.
    pub tier_monitors: Vec<CustomResource>,
    /// The alert rules.
    pub rule: CustomResource,
}

impl Component for Monitoring {
    fn into_objects(self) -> Vec<Object> {
        let mut objects = vec![self.collector_monitor.into(), self.jaeger_monitor.into()];
        objects.extend(self.tier_monitors.into_iter().map(Object::from));
        objects.push(self.rule.into());
        objects
    }
}

fn meta(name: &str, component: &str, profile: &Profile, version: &str) -> ObjectMeta {
    let mut labels = k8s::labels(name, component, version);
    labels.extend(profile.monitoring.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    k8s::meta(name, &profile.namespace, &labels)
}

fn custom<T: CustomKind>(meta: ObjectMeta, body: &T) -> Result<CustomResource, Error> {
    let name = meta.name.clone().unwrap_or_default();
    CustomResource::new(meta, body)
        .map_err(|e| format::Error::Serialize { what: format!("{} `{name}`", T::KIND), message: e.to_string() }.into())
}

/// The container name and `app.kubernetes.io/name` of a Deployment's pods.
fn pod_identity(deployment: &Deployment) -> (String, String) {
    let template = deployment.spec.as_ref().map(|s| &s.template);
    let container = template.and_then(|t| t.spec.as_ref()).and_then(|s| s.containers.first()).map(|c| c.name.clone());
    let app = template
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.as_ref())
        .and_then(|l| l.get(JOB_LABEL).cloned());
    (container.unwrap_or_default(), app.unwrap_or_default())
}

fn pod_monitor(selector: BTreeMap<String, String>, ports: &[&str], interval: &str) -> PodMonitor {
    PodMonitor {
        spec: PodMonitorSpec {
            job_label: JOB_LABEL.into(),
            pod_target_labels: vec![COMPONENT_LABEL.into()],
            selector: LabelSelector { match_labels: Some(selector), match_expressions: None },
            pod_metrics_endpoints: ports
                .iter()
                .map(|port| PodMetricsEndpoint {
                    port: (*port).to_owned(),
                    path: "/metrics".into(),
                    interval: interval.to_owned(),
                })
                .collect(),
        },
    }
}

/// A metric selector: `name{k="v",k2=~"re"}`, values quoted for PromQL.
fn select(name: &str, matchers: &[(&str, &str, &str)]) -> String {
    let inner: Vec<String> = matchers.iter().map(|(k, op, v)| format!("{k}{op}{}", prom::string(v))).collect();
    format!("{name}{{{}}}", inner.join(","))
}

fn alert(name: &str, expr: String, for_: &str, severity: &str, summary: String, description: String) -> AlertRule {
    AlertRule {
        alert: name.to_owned(),
        expr,
        for_: for_.to_owned(),
        labels: BTreeMap::from([("severity".to_owned(), severity.to_owned())]),
        annotations: BTreeMap::from([("description".to_owned(), description), ("summary".to_owned(), summary)]),
    }
}

/// What the health alerts need to know about the stack.
struct Scope<'a> {
    namespace: &'a str,
    gateway_job: &'a str,
    gateway_container: &'a str,
    gateway_exporter: String,
    jaeger_job: &'a str,
    jaeger_container: &'a str,
    queue_ratio: f64,
    /// `Elasticsearch` or `OpenSearch` when Jaeger writes to one (both serve the same bulk metrics).
    search: Option<&'static str>,
    /// Further collector tiers (node agents, tail sampling): `(job, container, exporter)`.
    tiers: Vec<(String, String, String)>,
}

fn health_rules(s: &Scope<'_>) -> Vec<AlertRule> {
    let ns = s.namespace;
    let regex = |items: &mut dyn Iterator<Item = &str>| items.map(prom::regex_literal).collect::<Vec<_>>().join("|");
    let both = regex(&mut [s.gateway_job, s.jaeger_job].into_iter().chain(s.tiers.iter().map(|t| t.0.as_str())));
    let gateway = [("namespace", "=", ns), ("job", "=", s.gateway_job)];
    let any_job = [("namespace", "=", ns), ("job", "=~", both.as_str())];
    let rate = |name: &str, matchers: &[(&str, &str, &str)], by: &str| {
        format!("sum by ({by}) (rate({}[{WINDOW}]))", select(name, matchers))
    };
    let containers =
        regex(&mut [s.gateway_container, s.jaeger_container].into_iter().chain(s.tiers.iter().map(|t| t.1.as_str())));
    // Every collector tier's exporter towards the next hop: lost spans wherever they are lost.
    let tier_jobs = regex(&mut std::iter::once(s.gateway_job).chain(s.tiers.iter().map(|t| t.0.as_str())));
    let tier_exporters =
        regex(&mut std::iter::once(s.gateway_exporter.as_str()).chain(s.tiers.iter().map(|t| t.2.as_str())));
    let send_failed: Vec<(&str, &str, &str)> = if s.tiers.is_empty() {
        vec![("namespace", "=", ns), ("job", "=", s.gateway_job), ("exporter", "=", &s.gateway_exporter)]
    } else {
        vec![("namespace", "=", ns), ("job", "=~", &tier_jobs), ("exporter", "=~", &tier_exporters)]
    };
    let send_failed_summary = if s.tiers.is_empty() {
        format!("the gateway cannot deliver spans to Jaeger ({})", s.gateway_exporter)
    } else {
        "{{ $labels.pod }} cannot deliver spans to the next hop ({{ $labels.exporter }})".to_owned()
    };
    let mut rules = vec![
        alert(
            "TracestackCollectorDown",
            format!("absent({} == 1)", select(metric::UP, &gateway)),
            "5m",
            "critical",
            format!("no collector gateway pod in `{ns}` is up"),
            format!(
                "Prometheus scrapes no healthy `{}` pod in namespace {ns}: applications cannot deliver spans. See the runbook, \"Connection refused\".",
                s.gateway_job
            ),
        ),
        alert(
            "TracestackReceiverRefusingSpans",
            format!("{} > 0", rate(metric::RECEIVER_REFUSED_SPANS, &any_job, "namespace, job, pod, receiver")),
            "5m",
            "warning",
            "{{ $labels.pod }} refuses spans on receiver {{ $labels.receiver }}".into(),
            "{{ $labels.pod }} refuses {{ $value | humanize }} spans/s: the pipeline behind the receiver pushes back (memory limiter or a full queue). Senders retry, but may drop. See the runbook, \"Spans dropped\".".into(),
        ),
        alert(
            "TracestackMemoryLimiterRefusing",
            {
                let mut m = any_job.to_vec();
                m.push(("processor", "=", "memory_limiter"));
                format!("{} > 0", rate(metric::PROCESSOR_REFUSED_SPANS, &m, "namespace, job, pod"))
            },
            "5m",
            "warning",
            "{{ $labels.pod }} is above its memory limit and refuses data".into(),
            "The memory_limiter of {{ $labels.pod }} refuses {{ $value | humanize }} spans/s: the pod needs more memory or more replicas. See the runbook, \"Spans dropped\".".into(),
        ),
        alert(
            "TracestackExporterSendFailing",
            format!("{} > 0", rate(metric::EXPORTER_SEND_FAILED_SPANS, &send_failed, "namespace, job, pod, exporter")),
            "5m",
            "critical",
            send_failed_summary,
            "{{ $labels.pod }} gave up on {{ $value | humanize }} spans/s after retries: they are lost. See the runbook, \"Spans dropped\".".into(),
        ),
        alert(
            "TracestackExporterQueueFull",
            format!("{} > 0", rate(metric::EXPORTER_ENQUEUE_FAILED_SPANS, &any_job, "namespace, job, pod, exporter")),
            "5m",
            "critical",
            "the queue of {{ $labels.exporter }} on {{ $labels.pod }} is full".into(),
            "{{ $labels.pod }} drops {{ $value | humanize }} spans/s because the queue of {{ $labels.exporter }} is full. See the runbook, \"Spans dropped\".".into(),
        ),
        alert(
            "TracestackExporterQueueFilling",
            format!(
                "max by (namespace, job, pod, exporter) ({} / {}) > {}",
                select(metric::EXPORTER_QUEUE_SIZE, &any_job),
                select(metric::EXPORTER_QUEUE_CAPACITY, &any_job),
                prom::number(s.queue_ratio)
            ),
            "10m",
            "warning",
            "the queue of {{ $labels.exporter }} on {{ $labels.pod }} is {{ $value | humanizePercentage }} full".into(),
            "Spans wait in the queue of {{ $labels.exporter }} faster than it drains: the next hop is slow or down. Once full, spans are dropped. See the runbook, \"Spans dropped\".".into(),
        ),
        alert(
            "TracestackContainerRestarting",
            format!(
                "increase({}[15m]) > 2",
                select(metric::CONTAINER_RESTARTS, &[("namespace", "=", ns), ("container", "=~", &containers)])
            ),
            "5m",
            "warning",
            "{{ $labels.pod }} restarted {{ $value | humanize }} times in 15 minutes".into(),
            "Container {{ $labels.container }} of {{ $labels.pod }} keeps restarting (out of memory, failing probes or a bad config). See the runbook, \"Connection refused\".".into(),
        ),
    ];
    if let Some(engine) = s.search {
        let m = [("namespace", "=", ns), ("job", "=", s.jaeger_job)];
        let documents = format!(
            "{{__name__=~{},{}}}",
            prom::string(&format!("{}(_total)?", metric::ES_BULK_FAILED_DOCUMENTS)),
            m.iter().map(|(k, op, v)| format!("{k}{op}{}", prom::string(v))).collect::<Vec<_>>().join(",")
        );
        rules.push(alert(
            "TracestackJaegerBulkWritesFailing",
            format!(
                "({} > 0) or (sum by (namespace, job, pod) (rate({documents}[{WINDOW}])) > 0)",
                rate(metric::ES_BULK_FAILED_REQUESTS, &m, "namespace, job, pod")
            ),
            "5m",
            "critical",
            format!("Jaeger's writes to {engine} fail"),
            format!("{{{{ $labels.pod }}}} has bulk writes to {engine} failing: those spans are lost (Jaeger's exporter does not see it; its log says `bulk request`). Check {engine}'s health, disk and credentials."),
        ));
    }
    rules
}

/// Health of the tail-sampling tier: traces decided too early (`num_traces` too small), spans
/// arriving after their trace's decision (`decision_wait` too short), decision rounds falling
/// behind, and the trace buffer filling up.
fn tail_sampling_rules(ns: &str, job: &str, num_traces: u64) -> Vec<AlertRule> {
    let m = [("namespace", "=", ns), ("job", "=", job)];
    let rate = |name: &str, by: &str| format!("sum by ({by}) (rate({}[{WINDOW}]))", select(name, &m));
    vec![
        alert(
            "TracestackTailSamplingDroppedTooEarly",
            format!("{} > 0", rate(metric::TAIL_DROPPED_TOO_EARLY, "namespace, job, pod")),
            "5m",
            "warning",
            "{{ $labels.pod }} decides traces before their decision wait".into(),
            format!(
                "{{{{ $labels.pod }}}} holds more traces than `num_traces` ({num_traces}) and decides {{{{ $value | humanize }}}} traces/s early, on part of their spans: raise `tail_sampling.replicas` or its memory, or lower `decision_wait`."
            ),
        ),
        alert(
            "TracestackTailSamplingLateSpans",
            format!(
                "{} / {} > 0.01",
                rate(metric::TAIL_LATE_SPANS, "namespace, job, pod"),
                rate(metric::RECEIVER_ACCEPTED_SPANS, "namespace, job, pod")
            ),
            "15m",
            "warning",
            "{{ $labels.pod }} receives spans after their trace was decided".into(),
            "{{ $value | humanizePercentage }} of the spans {{ $labels.pod }} receives come after their trace's decision and follow it without being weighed: traces last longer than `tail_sampling.decision_wait`.".into(),
        ),
        alert(
            "TracestackTailSamplingDecisionSlow",
            format!(
                "histogram_quantile(0.99, sum by (namespace, job, pod, le) (rate({}[{WINDOW}]))) > 1000",
                select(metric::TAIL_DECISION_LATENCY_BUCKET, &m)
            ),
            "10m",
            "warning",
            "{{ $labels.pod }} takes over a second per decision round".into(),
            "The decision rounds of {{ $labels.pod }} (every second) take {{ $value | humanize }} ms at p99: it falls behind, traces wait longer than `decision_wait` and memory grows. Give the tier more CPU or replicas.".into(),
        ),
        alert(
            "TracestackTailSamplingBufferFull",
            format!("max by (namespace, job, pod) ({}) / {num_traces} > 0.9", select(metric::TAIL_TRACES_ON_MEMORY, &m)),
            "10m",
            "warning",
            "{{ $labels.pod }} holds over 90 % of the traces it may".into(),
            format!("{{{{ $labels.pod }}}} is near `num_traces` ({num_traces}): beyond it traces are decided early."),
        ),
    ]
}

/// Health of the Kafka buffer's consumer (Jaeger's receiving role): a lag that keeps growing, and
/// a lag nobody reads.
fn kafka_rules(ns: &str, job: &str) -> Vec<AlertRule> {
    let m = [("namespace", "=", ns), ("job", "=", job)];
    // The names differ by Jaeger release (suffixes): select by a `__name__` pattern.
    let by_name = |pattern: &str| {
        let rest: Vec<String> = m.iter().map(|(k, op, v)| format!("{k}{op}{}", prom::string(v))).collect();
        format!("{{__name__=~{},{}}}", prom::string(pattern), rest.join(","))
    };
    let lag = by_name(metric::KAFKA_OFFSET_LAG);
    vec![
        alert(
            "TracestackKafkaConsumerLagGrowing",
            format!("sum by (namespace, job, topic) (deriv({lag}[10m])) > 0"),
            "30m",
            "warning",
            "Jaeger falls behind the Kafka topic {{ $labels.topic }}".into(),
            "The consumer group's lag on {{ $labels.topic }} has grown for 30 minutes: Jaeger writes slower than the collectors produce (storage slow or failing, too few Jaeger pods or partitions). Spans wait in the topic; they are lost once its retention passes.".into(),
        ),
        alert(
            "TracestackKafkaConsumerStalled",
            format!(
                "(sum by (namespace, job, topic) ({lag}) > 0) unless (sum by (namespace, job, topic) (rate({}[{WINDOW}])) > 0)",
                by_name(metric::KAFKA_MESSAGES)
            ),
            "10m",
            "critical",
            "nothing consumes the Kafka topic {{ $labels.topic }}".into(),
            "{{ $value | humanize }} messages wait on {{ $labels.topic }} and Jaeger reads none: its pods are down, cannot reach the brokers or are not in the group. Spans wait in the topic; they are lost once its retention passes.".into(),
        ),
    ]
}

/// The span-metrics selector of RED alerts: this stack's Jaeger, entry spans, optionally one
/// status and a service condition.
fn span_selector(name: &str, ns: &str, job: &str, errors_only: bool, service: &ServiceMatch<'_>) -> String {
    let mut m = vec![("namespace", "=", ns), ("job", "=", job), (span_label::KIND, "=~", span_label::ENTRY_KINDS)];
    if errors_only {
        m.push((span_label::STATUS, "=", span_label::ERROR));
    }
    let excluded;
    match service {
        ServiceMatch::One(name) => m.push((span_label::SERVICE, "=", name)),
        ServiceMatch::AllBut(names) if !names.is_empty() => {
            excluded = names.iter().map(|n| prom::regex_literal(n)).collect::<Vec<_>>().join("|");
            m.push((span_label::SERVICE, "!~", &excluded));
        }
        ServiceMatch::AllBut(_) => {}
    }
    select(name, &m)
}

/// Which services a RED rule covers.
enum ServiceMatch<'a> {
    /// One service with its own threshold.
    One(&'a str),
    /// Every service but those with their own threshold.
    AllBut(Vec<&'a str>),
}

fn red_rules(red: &RedSpec, ns: &str, job: &str) -> Vec<AlertRule> {
    let by = span_label::SERVICE;
    let busy = |service: &ServiceMatch<'_>| {
        format!(
            "sum by ({by}) (rate({}[{WINDOW}])) >= {}",
            span_selector(metric::SPAN_CALLS, ns, job, false, service),
            prom::number(red.min_request_rate)
        )
    };
    let who = |service: &ServiceMatch<'_>| match service {
        ServiceMatch::One(name) => (*name).to_owned(),
        ServiceMatch::AllBut(_) => "{{ $labels.service_name }}".to_owned(),
    };
    let error_rule = |service: ServiceMatch<'_>, ratio: f64| {
        let expr = format!(
            "(\n  sum by ({by}) (rate({}[{WINDOW}]))\n/\n  sum by ({by}) (rate({}[{WINDOW}]))\n) > {}\nand\n{}",
            span_selector(metric::SPAN_CALLS, ns, job, true, &service),
            span_selector(metric::SPAN_CALLS, ns, job, false, &service),
            prom::number(ratio),
            busy(&service)
        );
        alert(
            "TracestackServiceErrorRatioHigh",
            expr,
            "10m",
            "warning",
            format!("{} fails more than {} of its requests", who(&service), percent(ratio)),
            format!(
                "{{{{ $value | humanizePercentage }}}} of the server and consumer spans of {{{{ $labels.service_name }}}} end in an error (threshold {}). Open the service in Jaeger and filter on `error=true`.",
                percent(ratio)
            ),
        )
    };
    let latency_rule = |service: ServiceMatch<'_>, p99: crate::value::duration::Duration| {
        let expr = format!(
            "histogram_quantile(0.99, sum by ({by}, le) (rate({}[{WINDOW}]))) > {}\nand\n{}",
            span_selector(metric::SPAN_DURATION_BUCKET, ns, job, false, &service),
            p99.as_millis(),
            busy(&service)
        );
        alert(
            "TracestackServiceLatencyHigh",
            expr,
            "10m",
            "warning",
            format!("the p99 latency of {} is above {}", who(&service), prom::duration(p99)),
            format!(
                "99 % of the requests of {{{{ $labels.service_name }}}} take up to {{{{ $value | humanize }}}} ms (threshold {} ms). Open the service in Jaeger and sort its traces by duration.",
                p99.as_millis()
            ),
        )
    };
    let own_ratio: Vec<&str> =
        red.services.iter().filter(|(_, t)| t.error_ratio.is_some()).map(|(n, _)| n.as_str()).collect();
    let own_latency: Vec<&str> =
        red.services.iter().filter(|(_, t)| t.p99_latency.is_some()).map(|(n, _)| n.as_str()).collect();
    let mut rules = vec![error_rule(ServiceMatch::AllBut(own_ratio), red.error_ratio)];
    rules.extend(red.services.iter().filter_map(|(n, t)| t.error_ratio.map(|r| error_rule(ServiceMatch::One(n), r))));
    rules.push(latency_rule(ServiceMatch::AllBut(own_latency), red.p99_latency));
    rules.extend(red.services.iter().filter_map(|(n, t)| t.p99_latency.map(|d| latency_rule(ServiceMatch::One(n), d))));
    rules
}

fn percent(ratio: f64) -> String {
    format!("{} %", prom::number((ratio * 10000.0).round() / 100.0))
}

fn components_agent_job() -> String {
    crate::components::agent::NAME.to_owned()
}

fn components_agent_container(agents: &Agents) -> String {
    agents
        .daemon_set
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.containers.first())
        .map(|c| c.name.clone())
        .unwrap_or_default()
}

/// `num_traces` of the tier's `tail_sampling` processor, as rendered.
fn tail_sampling_num_traces(sampler: &Sampler) -> u64 {
    sampler
        .config
        .processors
        .values()
        .find_map(|p| match p {
            crate::config::collector::Processor::TailSampling(t) => Some(t.num_traces),
            _ => None,
        })
        .unwrap_or_default()
}

/// The monitoring objects, or `None` when the profile does not enable monitoring.
///
/// # Errors
/// When a custom resource does not serialise.
pub fn monitoring(
    profile: &Profile,
    gateway: &Gateway,
    jaeger: &Jaeger,
    agents: Option<&Agents>,
    sampler: Option<&Sampler>,
) -> Result<Option<Monitoring>, Error> {
    if !profile.monitoring.enabled {
        return Ok(None);
    }
    let spec = &profile.monitoring;
    let ns = profile.namespace.as_str();
    let interval = prom::duration(spec.scrape_interval);
    let (gateway_container, gateway_job) = pod_identity(&gateway.deployment);
    let jaeger_deployment = jaeger.roles.first().map(|r| &r.deployment);
    let (jaeger_container, jaeger_job) = jaeger_deployment.map(pod_identity).unwrap_or_default();
    // The exporter of the traces pipeline: to Jaeger, or to the tail-sampling tier.
    let exporter_of = |config: &crate::config::collector::Config| {
        config
            .service
            .pipelines
            .get(&crate::config::collector::PipelineId::new(crate::config::collector::Signal::Traces, None))
            .and_then(|p| p.exporters.first())
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    let gateway_exporter = exporter_of(&gateway.config);
    let collector_version = profile.collector.version.0.to_string();
    let jaeger_version = profile.jaeger.version.0.to_string();

    let gateway_selector =
        gateway.deployment.spec.as_ref().and_then(|s| s.selector.match_labels.clone()).unwrap_or_default();
    let collector = pod_monitor(gateway_selector, &["metrics"], &interval);
    // Every Jaeger role: select on name and part-of, not on the role's component.
    // The pod labels every role shares, but the version, the role and an operator's instance.
    let role_labels = |d: &k8s_openapi::api::apps::v1::Deployment| {
        d.spec.as_ref().and_then(|s| s.template.metadata.as_ref()).and_then(|m| m.labels.clone()).unwrap_or_default()
    };
    let mut jaeger_selector: BTreeMap<String, String> =
        jaeger.roles.first().map(|r| role_labels(&r.deployment)).unwrap_or_default();
    for role in &jaeger.roles {
        let labels = role_labels(&role.deployment);
        jaeger_selector.retain(|k, v| labels.get(k) == Some(v));
    }
    for varying in
        [COMPONENT_LABEL, "app.kubernetes.io/version", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by"]
    {
        jaeger_selector.remove(varying);
    }
    let mut jaeger_ports = vec![jaeger_component::METRICS_PORT];
    if jaeger_component::computes_span_metrics(profile) {
        jaeger_ports.push(jaeger_component::SPAN_METRICS_PORT);
    }
    let jaeger_monitor = pod_monitor(jaeger_selector, &jaeger_ports, &interval);

    let scope = Scope {
        namespace: ns,
        gateway_job: &gateway_job,
        gateway_container: &gateway_container,
        gateway_exporter,
        jaeger_job: &jaeger_job,
        jaeger_container: &jaeger_container,
        queue_ratio: spec.queue_alert_ratio,
        search: profile.jaeger.storage.search().map(|(engine, _)| engine.title()),
        tiers: {
            let mut tiers = Vec::new();
            if let Some(a) = agents {
                tiers.push((components_agent_job(), components_agent_container(a), exporter_of(&a.config)));
            }
            if let Some(t) = sampler {
                let (container, job) = pod_identity(&t.deployment);
                tiers.push((job, container, exporter_of(&t.config)));
            }
            tiers
        },
    };
    let mut tier_monitors = Vec::new();
    if let Some(a) = agents {
        let selector = a.daemon_set.spec.as_ref().and_then(|s| s.selector.match_labels.clone()).unwrap_or_default();
        let monitor = pod_monitor(selector, &["metrics"], &interval);
        tier_monitors.push(custom(meta(&components_agent_job(), "monitoring", profile, &collector_version), &monitor)?);
    }
    let mut groups = vec![RuleGroup { name: "tracestack.pipeline".into(), rules: health_rules(&scope) }];
    // RED from Jaeger's receiving role, or from the tail-sampling tier (before it samples).
    let mut red_job = jaeger_job.clone();
    if let Some(t) = sampler {
        let (_, job) = pod_identity(&t.deployment);
        let mut ports = vec!["metrics"];
        if jaeger_component::span_metrics_enabled(profile) {
            ports.push(jaeger_component::SPAN_METRICS_PORT);
        }
        let selector = t.deployment.spec.as_ref().and_then(|s| s.selector.match_labels.clone()).unwrap_or_default();
        tier_monitors.push(custom(
            meta(&job, "monitoring", profile, &collector_version),
            &pod_monitor(selector, &ports, &interval),
        )?);
        groups.push(RuleGroup {
            name: "tracestack.tail_sampling".into(),
            rules: tail_sampling_rules(ns, &job, tail_sampling_num_traces(t)),
        });
        red_job = job;
    }
    if jaeger_component::span_metrics_enabled(profile) {
        groups.push(RuleGroup { name: "tracestack.red".into(), rules: red_rules(&spec.red, ns, &red_job) });
    }
    if profile.kafka.enabled {
        let receiving = jaeger.roles.iter().find(|r| r.kind.receives()).map(|r| &r.deployment);
        let (_, job) = receiving.map(pod_identity).unwrap_or_default();
        groups.push(RuleGroup { name: "tracestack.kafka".into(), rules: kafka_rules(ns, &job) });
    }
    let rules = PrometheusRule { spec: PrometheusRuleSpec { groups } };
    Ok(Some(Monitoring {
        collector_monitor: custom(meta(&gateway_job, "monitoring", profile, &collector_version), &collector)?,
        jaeger_monitor: custom(meta(&jaeger_job, "monitoring", profile, &jaeger_version), &jaeger_monitor)?,
        tier_monitors,
        rule: custom(meta(RULE_NAME, "alerts", profile, &collector_version), &rules)?,
        rules,
        red: jaeger_component::span_metrics_enabled(profile).then(|| spec.red.clone()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::profile::RedThresholds;
    use crate::stack::Stack;

    fn rules(edit: impl FnOnce(&mut Profile)) -> Option<PrometheusRule> {
        let mut profile = Profile::default();
        profile.monitoring.enabled = true;
        edit(&mut profile);
        Stack::build(&profile).unwrap_or_else(|e| panic!("{e}")).monitoring.map(|m| m.rules)
    }

    fn exprs(rules: &PrometheusRule, alert: &str) -> Vec<String> {
        rules.spec.groups.iter().flat_map(|g| &g.rules).filter(|r| r.alert == alert).map(|r| r.expr.clone()).collect()
    }

    #[test]
    fn nothing_is_rendered_unless_monitoring_is_enabled() {
        assert_eq!(rules(|p| p.monitoring.enabled = false), None);
    }

    #[test]
    fn red_rules_follow_the_profile_and_overrides_are_excluded_from_the_default() {
        let rules = rules(|p| {
            p.monitoring
                .red
                .services
                .insert("shop.v2".into(), RedThresholds { error_ratio: Some(0.01), p99_latency: None });
        })
        .expect("enabled");
        let errors = exprs(&rules, "TracestackServiceErrorRatioHigh");
        assert_eq!(errors.len(), 2);
        // The dot is escaped for the regex and the backslash for the PromQL string.
        assert!(errors[0].contains(r#"service_name!~"shop\\.v2""#), "{}", errors[0]);
        assert!(errors[0].contains(") > 0.05\nand\n"), "{}", errors[0]);
        assert!(errors[1].contains(r#"service_name="shop.v2""#) && errors[1].contains(") > 0.01\n"), "{}", errors[1]);
        // No latency override: the default latency rule covers every service.
        let latency = exprs(&rules, "TracestackServiceLatencyHigh");
        assert_eq!(latency.len(), 1);
        assert!(!latency[0].contains("service_name!~") && latency[0].contains("[5m]))) > 1000\n"), "{}", latency[0]);
    }

    #[test]
    fn without_red_only_the_pipeline_alerts_remain() {
        let rules = rules(|p| p.monitoring.red.enabled = false).expect("enabled");
        let groups: Vec<&str> = rules.spec.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(groups, ["tracestack.pipeline"]);
    }

    #[test]
    fn the_send_failure_alert_names_the_exporter_of_the_pinned_version() {
        let old = rules(|p| {
            p.collector.version = crate::model::profile::VersionText(crate::config::collector::Version::new(0, 140, 0))
        })
        .expect("enabled");
        assert!(exprs(&old, "TracestackExporterSendFailing")[0].contains(r#"exporter="otlp/jaeger""#));
        let new = rules(|_| {}).expect("enabled");
        assert!(exprs(&new, "TracestackExporterSendFailing")[0].contains(r#"exporter="otlp_grpc/jaeger""#));
    }
}
