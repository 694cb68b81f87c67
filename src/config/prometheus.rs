//! Prometheus Operator kinds (`PodMonitor`, `PrometheusRule`) as typed custom resources, the metric
//! names the stack's alerts and runbook use, and the PromQL quoting they need.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Serialize;

use crate::config::k8s::CustomKind;
use crate::value::duration::Duration;

/// `apiVersion` of the Prometheus Operator kinds (CRDs of prometheus-operator v0.93.0 in
/// `../shared/crds`).
pub const API_VERSION: &str = "monitoring.coreos.com/v1";

/// Metric names as Prometheus sees them from the pinned versions.
///
/// The collector's own metrics are served by the pull reader the configs declare explicitly under
/// `service.telemetry.metrics.readers`, which adds neither `_total` nor unit suffixes: the names
/// are exactly those of the mdatagen `documentation.md` of collector v0.159.0's
/// `receiver/receiverhelper`, `exporter/exporterhelper` and `processor/memorylimiterprocessor`.
/// The e2e `metrics` suite (`cargo xtask e2e --suite metrics`) reads every name an alert or the
/// runbook uses off a running v0.159.0 collector and Jaeger. Jaeger v2 is a collector build: its
/// `jaeger_storage_exporter` is an `exporterhelper` exporter (jaeger
/// `cmd/jaeger/internal/exporters/storageexporter/factory.go`), so its write failures are
/// `otelcol_exporter_send_failed_spans{exporter="jaeger_storage_exporter"}`.
pub mod metric {
    /// Spans a receiver took in.
    pub const RECEIVER_ACCEPTED_SPANS: &str = "otelcol_receiver_accepted_spans";
    /// Spans a receiver refused because the pipeline behind it did (memory limiter, full queue
    /// with back-pressure); the client was told to retry.
    pub const RECEIVER_REFUSED_SPANS: &str = "otelcol_receiver_refused_spans";
    /// Spans an exporter delivered.
    pub const EXPORTER_SENT_SPANS: &str = "otelcol_exporter_sent_spans";
    /// Spans an exporter gave up on after its retries: lost.
    pub const EXPORTER_SEND_FAILED_SPANS: &str = "otelcol_exporter_send_failed_spans";
    /// Spans an exporter could not queue because the queue was full: lost.
    pub const EXPORTER_ENQUEUE_FAILED_SPANS: &str = "otelcol_exporter_enqueue_failed_spans";
    /// Items (here spans) waiting in an exporter's queue.
    pub const EXPORTER_QUEUE_SIZE: &str = "otelcol_exporter_queue_size";
    /// Capacity of an exporter's queue, in the same unit.
    pub const EXPORTER_QUEUE_CAPACITY: &str = "otelcol_exporter_queue_capacity";
    /// Spans the `memory_limiter` refused (`otelcol_processor_refused_spans` until v0.155.0; the
    /// collector v0.159.0 `processor/memorylimiterprocessor/documentation.md`). The same refusals
    /// also show as [`RECEIVER_REFUSED_SPANS`].
    pub const PROCESSOR_REFUSED_SPANS: &str = "otelcol_processor_memory_limiter_refused_spans";
    /// Container restarts, from kube-state-metrics (labels `namespace`, `pod`, `container`).
    pub const CONTAINER_RESTARTS: &str = "kube_pod_container_status_restarts_total";
    /// Whether Prometheus's last scrape of a target succeeded (1) or not (0).
    pub const UP: &str = "up";
    /// Bulk requests Jaeger's Elasticsearch writer sent that failed as a whole (Elasticsearch
    /// down, refusing, or timing out): the count of its error-latency histogram. Jaeger's
    /// exporter reports success as soon as a span is handed to the bulk processor, so this, not
    /// `otelcol_exporter_send_failed_spans`, is where lost writes show (jaeger
    /// `internal/storage/elasticsearch/config/config.go`, `bulkCallback.invoke`; the name as a
    /// running Jaeger serves it: scope `jaeger` → `storage` → `bulk_index`, metric `latency-err`,
    /// read off Jaeger v2.13.0 writing to a failing Elasticsearch).
    pub const ES_BULK_FAILED_REQUESTS: &str = "jaeger_storage_bulk_index_latency_err_seconds_count";
    /// Documents Elasticsearch refused inside an accepted bulk request (the same callback's
    /// `errors` counter). Jaeger v2.13.0 serves it as `…_errors_total`; releases on a collector
    /// core that drops `_total` under explicit readers serve `…_errors`, so alerts match both
    /// (`{__name__=~"…_errors(_total)?"}`).
    pub const ES_BULK_FAILED_DOCUMENTS: &str = "jaeger_storage_bulk_index_errors";
    /// Span count per service, span name, kind and status: the `spanmetrics` connector's `calls`
    /// sum in namespace `traces.span.metrics`, with `_total` from the `prometheus` exporter's
    /// default `UnderscoreEscapingWithSuffixes` translation (contrib
    /// `exporter/prometheusexporter/README.md`; the same name Jaeger's SPM docs query).
    pub const SPAN_CALLS: &str = "traces_span_metrics_calls_total";
    /// Buckets of the `spanmetrics` duration histogram with unit `ms` (the unit becomes the
    /// `_milliseconds` suffix).
    pub const SPAN_DURATION_BUCKET: &str = "traces_span_metrics_duration_milliseconds_bucket";
    /// Traces the `tail_sampling` processor decided before `decision_wait` because `num_traces`
    /// was full (contrib v0.159.0 `processor/tailsamplingprocessor/documentation.md`,
    /// `processor_tail_sampling_sampling_trace_dropped_too_early`; read off a running v0.159.0
    /// collector by the e2e `tail-sampling` suite, like every name below).
    pub const TAIL_DROPPED_TOO_EARLY: &str = "otelcol_processor_tail_sampling_sampling_trace_dropped_too_early";
    /// Spans that arrived after their trace was decided: the count of the late-span age
    /// histogram (`processor_tail_sampling_sampling_late_span_age`), served once a late span came.
    pub const TAIL_LATE_SPANS: &str = "otelcol_processor_tail_sampling_sampling_late_span_age_count";
    /// Buckets of the time one decision round over every due trace took, in ms
    /// (`processor_tail_sampling_sampling_decision_timer_latency`).
    pub const TAIL_DECISION_LATENCY_BUCKET: &str =
        "otelcol_processor_tail_sampling_sampling_decision_timer_latency_bucket";
    /// Messages of a partition the consumer group has not read yet, per topic and partition
    /// (contrib `receiver/kafkareceiver/documentation.md`, `kafka_receiver_offset_lag`, unit `1`).
    /// Jaeger v2.13.0 serves it as `…_offset_lag_ratio` (read off it consuming a real broker by the
    /// e2e `kafka` suite); releases on a collector core that adds no unit suffix under explicit
    /// readers serve `…_offset_lag`, so alerts match both.
    pub const KAFKA_OFFSET_LAG: &str = "otelcol_kafka_receiver_offset_lag(_ratio)?";
    /// Messages the Kafka receiver read (`kafka_receiver_messages`, a counter): `…_messages_total`
    /// on Jaeger v2.13.0, `…_messages` without the suffix; alerts match both.
    pub const KAFKA_MESSAGES: &str = "otelcol_kafka_receiver_messages(_total)?";
    /// Traces held in memory (`processor_tail_sampling_sampling_traces_on_memory`).
    pub const TAIL_TRACES_ON_MEMORY: &str = "otelcol_processor_tail_sampling_sampling_traces_on_memory";
}

/// Label values the `spanmetrics` connector writes (its default dimensions `service.name`,
/// `span.kind` and `status.code`, as `service_name`, `span_kind`, `status_code` on a Prometheus
/// endpoint; values are the OTLP enum names, contrib `spanmetricsconnector/README.md`).
pub mod span_label {
    /// The service label.
    pub const SERVICE: &str = "service_name";
    /// The span-kind label.
    pub const KIND: &str = "span_kind";
    /// The status-code label.
    pub const STATUS: &str = "status_code";
    /// Spans a service served: its RED metrics count these (what Jaeger's Monitor tab shows by
    /// default too).
    pub const ENTRY_KINDS: &str = "SPAN_KIND_SERVER|SPAN_KIND_CONSUMER";
    /// The status of a failed span.
    pub const ERROR: &str = "STATUS_CODE_ERROR";
}

/// `PodMonitor`: which pods Prometheus scrapes, on which named ports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PodMonitor {
    /// The specification.
    pub spec: PodMonitorSpec,
}

impl CustomKind for PodMonitor {
    const API_VERSION: &'static str = API_VERSION;
    const KIND: &'static str = "PodMonitor";
}

/// `PodMonitor.spec`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMonitorSpec {
    /// Pod label whose value becomes the `job` label (e.g. `app.kubernetes.io/name`).
    pub job_label: String,
    /// Pod labels copied onto every series (so alerts can tell Jaeger's roles apart).
    pub pod_target_labels: Vec<String>,
    /// The pods, in the PodMonitor's own namespace.
    pub selector: LabelSelector,
    /// Ports to scrape.
    pub pod_metrics_endpoints: Vec<PodMetricsEndpoint>,
}

/// One scraped port of the selected pods.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PodMetricsEndpoint {
    /// Container port name.
    pub port: String,
    /// HTTP path, `/metrics`.
    pub path: String,
    /// Scrape interval, in Prometheus duration syntax.
    pub interval: String,
}

/// `PrometheusRule`: alerting rules evaluated by a Prometheus that selects it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PrometheusRule {
    /// The specification.
    pub spec: PrometheusRuleSpec,
}

impl CustomKind for PrometheusRule {
    const API_VERSION: &'static str = API_VERSION;
    const KIND: &'static str = "PrometheusRule";
}

/// `PrometheusRule.spec`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PrometheusRuleSpec {
    /// Rule groups, each evaluated in order.
    pub groups: Vec<RuleGroup>,
}

/// A named group of rules.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleGroup {
    /// Group name, unique within the rule.
    pub name: String,
    /// The alerts.
    pub rules: Vec<AlertRule>,
}

/// One alerting rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertRule {
    /// Alert name.
    pub alert: String,
    /// PromQL expression; every series it returns is a firing alert.
    pub expr: String,
    /// How long the expression must hold before the alert fires.
    #[serde(rename = "for")]
    pub for_: String,
    /// Labels on the alert (`severity`).
    pub labels: BTreeMap<String, String>,
    /// `summary`, `description` and `runbook` text.
    pub annotations: BTreeMap<String, String>,
}

/// A duration in Prometheus syntax (`30s`, `5m`, `1h30m`, `1s500ms`): hours, minutes, seconds
/// and milliseconds, largest first; sub-millisecond parts are dropped.
#[must_use]
pub fn duration(d: Duration) -> String {
    let mut ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in [("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

/// A PromQL double-quoted string literal for `text`.
#[must_use]
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

/// `text` as a regular expression (RE2) that matches exactly it, for `=~`/`!~` matchers.
#[must_use]
pub fn regex_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A number as PromQL writes it: no exponent, no trailing zeros (`0.05`, `1000`).
#[must_use]
pub fn number(value: f64) -> String {
    let text = format!("{value}");
    if text.contains('e') {
        format!("{value:.12}").trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_prometheus_units() {
        let check = |d: Duration, expected: &str| assert_eq!(duration(d), expected);
        check(Duration::from_secs(30), "30s");
        check(Duration::from_secs(300), "5m");
        check(Duration::from_secs(5400), "1h30m");
        check(Duration::from_millis(1500), "1s500ms");
        check(Duration::from_millis(0), "0s");
    }

    #[test]
    fn strings_and_regexes_are_quoted() {
        assert_eq!(string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(regex_literal("shop.v2|x"), r"shop\.v2\|x");
        assert_eq!(string(&regex_literal("a.b")), r#""a\\.b""#);
    }

    #[test]
    fn numbers_have_no_exponent() {
        assert_eq!(number(0.05), "0.05");
        assert_eq!(number(1000.0), "1000");
        assert_eq!(number(0.8), "0.8");
        assert_eq!(number(1e-7), "0.0000001");
    }
}
