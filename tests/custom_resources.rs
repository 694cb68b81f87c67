//! Custom resources validate against the upstream CRDs in `../shared/crds` (PROVENANCE.md there
//! names each file's repository and commit), with unknown fields rejected as the API server's
//! strict field validation does. Every custom resource found in rendered output is checked
//! automatically: an object whose apiVersion group is not built into Kubernetes.

mod support;

use serde_json::{Value, json};
use tracestack::check::crd::{self, Catalog, Crd};

/// The CRDs of `../shared/crds`, or `None` (after a visible skip) when it is absent.
fn catalog() -> Option<Catalog> {
    let Some(dir) = support::shared().map(|s| s.join("crds")).filter(|d| d.is_dir()) else {
        eprintln!("SKIPPED: ../shared/crds not found; custom resources are not validated against upstream CRDs");
        return None;
    };
    let mut catalog = Catalog::default();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let value = support::parse(&path.display().to_string(), &text);
        catalog.add(Crd::from_value(&value).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    }
    Some(catalog)
}

fn messages(catalog: &Catalog, resource: &Value) -> Vec<String> {
    catalog.validate(resource).err().unwrap_or_default()
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
}

#[test]
fn every_rendered_custom_resource_validates_against_its_crd() {
    let Some(catalog) = catalog() else { return };
    let mut checked = 0;
    let mut builtin = 0;
    for (profile, files) in support::object_files() {
        for (file, text) in files {
            let object = support::parse(&format!("{profile}/{file}"), &text);
            let api_version = object["apiVersion"].as_str().unwrap_or_default();
            if crd::is_builtin(api_version) {
                builtin += 1;
                continue;
            }
            if let Err(errors) = catalog.validate(&object) {
                panic!("{profile}/{file} ({api_version} {}):\n  {}", object["kind"], errors.join("\n  "));
            }
            checked += 1;
        }
    }
    assert!(builtin > 0);
    eprintln!(
        "{checked} custom resource(s) validated against upstream CRDs ({builtin} built-in objects left to kubernetes-validate)"
    );
}
