//! Custom resources validate against the upstream CRDs in `../shared/crds` (PROVENANCE.md there
//! names each file's repository and commit), with unknown fields rejected as the API server's
//! strict field validation does. Every custom resource found in rendered output is checked
//! automatically: an object whose apiVersion group is not built into Kubernetes.

mod support;

use serde_json::{Value, json};
use tracestack::check::crd::{self, Catalog};

fn catalog() -> Option<Catalog> {
    support::crd_catalog()
}

fn messages(catalog: &Catalog, resource: &Value) -> Vec<String> {
    support::validate_custom(catalog, resource)
}

#[test]
fn every_upstream_crd_loads_with_a_served_schema() {
    let Some(catalog) = catalog() else { return };
    // Istio Telemetry, Jaeger, OpenTelemetryCollector, Instrumentation, PodMonitor, ServiceMonitor,
    // PrometheusRule.
    assert_eq!(catalog.len(), 7);
}

fn telemetry(tracing: Value) -> Value {
    json!({
        "apiVersion": "telemetry.istio.io/v1",
        "kind": "Telemetry",
        "metadata": {"name": "mesh-default", "namespace": "istio-system"},
        "spec": {"tracing": [tracing]},
    })
}

#[test]
fn istio_telemetry_valid_unknown_field_and_wrong_type() {
    let Some(catalog) = catalog() else { return };
    let valid = telemetry(json!({
        "providers": [{"name": "otel-tracing"}],
        "randomSamplingPercentage": 10.0,
        "customTags": {"cluster": {"literal": {"value": "prod"}}},
    }));
    assert_eq!(messages(&catalog, &valid), Vec::<String>::new());
    let unknown = telemetry(json!({"providers": [{"name": "otel-tracing", "port": 4317}]}));
    assert_eq!(messages(&catalog, &unknown), [".spec.tracing[0].providers[0].port: unknown field `port`"]);
    let wrong_type = telemetry(json!({"providers": [{"name": "otel-tracing"}], "randomSamplingPercentage": "10%"}));
    assert_eq!(
        messages(&catalog, &wrong_type),
        [".spec.tracing[0].randomSamplingPercentage must be of type number, not string"]
    );
    let out_of_range = telemetry(json!({"randomSamplingPercentage": 150}));
    assert_eq!(
        messages(&catalog, &out_of_range),
        [".spec.tracing[0].randomSamplingPercentage must be at most 100, not 150"]
    );
}

fn prometheus_rule(rule: Value) -> Value {
    json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "tracestack", "namespace": "observability", "labels": {"release": "prometheus"}},
        "spec": {"groups": [{"name": "otel-collector", "rules": [rule]}]},
    })
}

#[test]
fn prometheus_rule_valid_unknown_field_and_wrong_type() {
    let Some(catalog) = catalog() else { return };
    let valid = prometheus_rule(json!({
        "alert": "OtelCollectorDroppingSpans",
        "expr": "rate(otelcol_exporter_enqueue_failed_spans_total[5m]) > 0",
        "for": "10m",
        "labels": {"severity": "warning"},
        "annotations": {"summary": "The gateway is dropping spans"},
    }));
    assert_eq!(messages(&catalog, &valid), Vec::<String>::new());
    let unknown = prometheus_rule(json!({"alert": "A", "expr": "up == 0", "severity": "page"}));
    assert_eq!(messages(&catalog, &unknown), [".spec.groups[0].rules[0].severity: unknown field `severity`"]);
    let wrong_type = prometheus_rule(json!({"alert": "A", "expr": "up == 0", "labels": {"severity": 1}}));
    assert_eq!(
        messages(&catalog, &wrong_type),
        [".spec.groups[0].rules[0].labels.severity must be of type string, not integer"]
    );
    let missing = prometheus_rule(json!({"alert": "A"}));
    assert_eq!(messages(&catalog, &missing), [".spec.groups[0].rules[0]: required field `expr` is missing"]);
    let bad_duration = prometheus_rule(json!({"alert": "A", "expr": "up == 0", "for": "5 minutes"}));
    let errors = messages(&catalog, &bad_duration);
    assert!(
        errors.len() == 1 && errors[0].starts_with(".spec.groups[0].rules[0].for must match the pattern"),
        "{errors:?}"
    );
    let array_expr = prometheus_rule(json!({"alert": "A", "expr": ["up"]}));
    assert_eq!(
        messages(&catalog, &array_expr),
        [".spec.groups[0].rules[0].expr must be an integer or a string, not array"]
    );
}

#[test]
fn pod_monitor_enums_and_required_fields() {
    let Some(catalog) = catalog() else { return };
    let monitor = |spec: Value| {
        json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
               "metadata": {"name": "m", "namespace": "observability"}, "spec": spec})
    };
    let errors = messages(
        &catalog,
        &monitor(json!({"selector": {}, "podMetricsEndpoints": [{"port": "metrics", "scheme": "tcp"}]})),
    );
    assert!(errors.iter().any(|e| e.contains(".spec.podMetricsEndpoints[0].scheme must be one of")), "{errors:?}");
    assert_eq!(
        messages(&catalog, &monitor(json!({"podMetricsEndpoints": []}))),
        [".spec: required field `selector` is missing"]
    );
}

#[test]
fn every_rendered_custom_resource_validates_against_its_crd() {
    let Some(catalog) = catalog() else { return };
    // Every bundle of every profile: the root, `smoke-test/`, `instrumentation/<namespace>/`.
    let resources = support::custom_resources();
    let kinds: std::collections::BTreeSet<&str> = resources.iter().filter_map(|(_, v)| v["kind"].as_str()).collect();
    for kind in ["Telemetry", "Instrumentation", "PodMonitor", "PrometheusRule"] {
        assert!(kinds.contains(kind), "no rendered {kind}: {kinds:?}");
    }
    for (what, object) in &resources {
        assert!(!crd::is_builtin(object["apiVersion"].as_str().unwrap_or_default()), "{what}");
        let errors = messages(&catalog, object);
        assert!(errors.is_empty(), "{what}:\n  {}", errors.join("\n  "));
    }
    eprintln!("{} custom resource(s) validated against upstream CRDs", resources.len());
}
