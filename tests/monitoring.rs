//! Every rendered alert expression parses as PromQL and uses only metric and label names the pinned
//! components document (the resources themselves are validated against their CRDs in
//! `custom_resources.rs`).

mod support;

use std::collections::BTreeMap;

use promql_parser::parser::{self, Expr};
use promql_parser::util::{ExprVisitor, walk_expr};

// ---------------------------------------------------------------------------------------------
// PromQL: every expression parses, and names only documented metrics and labels.

/// Labels Prometheus attaches to every series scraped through a PodMonitor (prometheus-operator
/// adds `namespace`, `pod`, `container`, `endpoint`; `job` comes from `jobLabel`, `instance` from
/// the target) plus the pod label the PodMonitors copy (`podTargetLabels`).
const TARGET_LABELS: [&str; 7] =
    ["namespace", "pod", "container", "endpoint", "job", "instance", "app_kubernetes_io_component"];

/// Documented metrics and their own labels, independent of the names the library builds, so a
/// misspelt constant in `src/config/prometheus.rs` fails here.
fn documented() -> BTreeMap<&'static str, Vec<&'static str>> {
    let spans = ["service_name", "span_name", "span_kind", "status_code"];
    BTreeMap::from([
        // collector v0.159.0 receiver/receiverhelper documentation.md; the explicit pull reader adds no
        // `_total` (names read off a running collector by `cargo xtask e2e --suite metrics`).
        ("otelcol_receiver_accepted_spans", vec!["receiver", "transport"]),
        ("otelcol_receiver_refused_spans", vec!["receiver", "transport"]),
        // collector exporter/exporterhelper documentation.md (c6f5d60c).
        ("otelcol_exporter_sent_spans", vec!["exporter"]),
        ("otelcol_exporter_send_failed_spans", vec!["exporter"]),
        ("otelcol_exporter_enqueue_failed_spans", vec!["exporter"]),
        ("otelcol_exporter_queue_size", vec!["exporter", "data_type"]),
        ("otelcol_exporter_queue_capacity", vec!["exporter", "data_type"]),
        // collector v0.159.0 processor/memorylimiterprocessor documentation.md (renamed in v0.155.0).
        ("otelcol_processor_memory_limiter_refused_spans", vec!["processor"]),
        // kube-state-metrics pod metrics: namespace, pod, uid, container.
        ("kube_pod_container_status_restarts_total", vec!["uid"]),
        // Jaeger's Elasticsearch bulk writer (jaeger internal/storage/elasticsearch/config/config.go,
        // `bulkCallback`), read off Jaeger v2.13.0 writing to a failing Elasticsearch; the
        // documents counter is matched with and without `_total`.
        ("jaeger_storage_bulk_index_latency_err_seconds_count", vec!["kind", "name", "role"]),
        ("jaeger_storage_bulk_index_errors(_total)?", vec!["kind", "name", "role"]),
        // contrib v0.159.0 processor/tailsamplingprocessor metadata.yaml (telemetry), read off a
        // running v0.159.0 collector by `cargo xtask e2e --suite tail-sampling`.
        ("otelcol_processor_tail_sampling_sampling_trace_dropped_too_early", vec![]),
        ("otelcol_processor_tail_sampling_sampling_late_span_age_count", vec![]),
        ("otelcol_processor_tail_sampling_sampling_decision_timer_latency_bucket", vec!["le"]),
        ("otelcol_processor_tail_sampling_sampling_traces_on_memory", vec![]),
        // contrib receiver/kafkareceiver documentation.md (v0.140.1, in Jaeger v2.13.0), read off
        // Jaeger consuming a real broker by `cargo xtask e2e --suite kafka`.
        ("otelcol_kafka_receiver_offset_lag(_ratio)?", vec!["topic", "partition"]),
        ("otelcol_kafka_receiver_messages(_total)?", vec!["topic", "partition"]),
        // Prometheus's own per-target series.
        ("up", vec![]),
        // contrib spanmetricsconnector: `calls` and `duration` (unit ms) in namespace
        // traces.span.metrics, default dimensions; `le` of a histogram bucket.
        ("traces_span_metrics_calls_total", spans.to_vec()),
        ("traces_span_metrics_duration_milliseconds_bucket", [&spans[..], &["le"]].concat()),
    ])
}

#[derive(Default)]
struct Selectors(Vec<(String, Vec<String>)>);

impl ExprVisitor for Selectors {
    type Error = ();
    fn pre_visit(&mut self, expr: &Expr) -> Result<bool, ()> {
        let vs = match expr {
            Expr::VectorSelector(vs) => vs,
            Expr::MatrixSelector(ms) => &ms.vs,
            _ => return Ok(true),
        };
        // A selector by name regex (`{__name__=~"…"}`) is named by that regex.
        let by_regex = vs.matchers.matchers.iter().find(|m| m.name == "__name__").map(|m| m.value.clone());
        let labels = vs.matchers.matchers.iter().filter(|m| m.name != "__name__").map(|m| m.name.clone()).collect();
        self.0.push((vs.name.clone().or(by_regex).unwrap_or_default(), labels));
        Ok(true)
    }
}

fn expressions() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (what, value) in support::custom_resources() {
        for group in value["spec"]["groups"].as_array().into_iter().flatten() {
            for rule in group["rules"].as_array().into_iter().flatten() {
                let name = rule["alert"].as_str().unwrap_or_default();
                out.push((format!("{what} {name}"), rule["expr"].as_str().unwrap_or_default().to_owned()));
            }
        }
    }
    out
}

fn check_expression(expr: &str) -> Result<usize, String> {
    let ast = parser::parse(expr).map_err(|e| format!("does not parse: {e}"))?;
    let mut selectors = Selectors::default();
    walk_expr(&mut selectors, &ast).map_err(|()| "walk failed".to_owned())?;
    let documented = documented();
    for (name, labels) in &selectors.0 {
        let own = documented.get(name.as_str()).ok_or_else(|| format!("metric `{name}` is not documented"))?;
        if let Some(label) = labels.iter().find(|l| !own.contains(&l.as_str()) && !TARGET_LABELS.contains(&l.as_str()))
        {
            return Err(format!("metric `{name}` has no label `{label}`"));
        }
    }
    Ok(selectors.0.len())
}

#[test]
fn every_alert_expression_parses_and_names_documented_metrics() {
    let expressions = expressions();
    assert!(expressions.len() >= 10, "only {} alert expressions rendered", expressions.len());
    let mut selectors = 0;
    for (what, expr) in &expressions {
        match check_expression(expr) {
            Ok(n) => selectors += n,
            Err(e) => panic!("{what}: {e}\n{expr}"),
        }
    }
    eprintln!("{} expressions parsed, {selectors} selectors checked", expressions.len());
}

#[test]
fn a_bad_expression_or_name_is_caught() {
    let cases = [
        ("sum(rate(otelcol_exporter_send_failed_spans[5m]) > 0", "does not parse"),
        (
            "rate(otelcol_exporter_send_failed_spans_total[5m]) > 0",
            "metric `otelcol_exporter_send_failed_spans_total` is not documented",
        ),
        (r#"rate(traces_span_metrics_calls_total{status="ERROR"}[5m])"#, "has no label `status`"),
    ];
    for (expr, expected) in cases {
        let err = check_expression(expr).expect_err(expr);
        assert!(err.contains(expected), "{expr}: {err}");
    }
    assert_eq!(check_expression(r#"up{job="otel-collector"} == 1"#), Ok(1));
}
