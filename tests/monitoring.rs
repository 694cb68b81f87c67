//! The rendered Prometheus Operator resources are valid: each validates against the upstream CRD's
//! `openAPIV3Schema` (`../shared/crds`), and every alert expression parses as PromQL and uses
//! only metric and label names the pinned components document.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use promql_parser::parser::{self, Expr};
use promql_parser::util::{ExprVisitor, walk_expr};
use serde_json::{Value, json};
use tracestack::k8s::Object;
use tracestack::{Stack, load, project};

const CRDS: &str = "../shared/crds";

/// Every custom resource of every profile in `profiles/`, as the JSON the files hold.
fn custom_resources() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for path in project::profile_files(Path::new("profiles")).expect("profiles/") {
        let name = load::profile_name(&path).expect("name");
        let profile = load::load_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let stack = Stack::build(&profile).unwrap_or_else(|e| panic!("{e}"));
        for object in stack.into_objects() {
            if let Object::Custom(_) = object {
                let value = object.to_ordered().expect("serialises").value().clone();
                out.push((format!("{name}: {} `{}`", object.kind(), object.name()), value));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// A small structural validator for a CRD's openAPIV3Schema: types, required, enum, pattern,
// lengths and bounds, int-or-string, and unknown fields (rejected unless the schema allows them
// with `additionalProperties` or `x-kubernetes-preserve-unknown-fields`).

fn type_ok(ty: &str, v: &Value) -> bool {
    match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        _ => false,
    }
}

fn validate(schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    if schema.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true) {
        if !(v.is_string() || v.is_i64() || v.is_u64()) {
            errors.push(format!("{path}: must be an integer or a string"));
        }
        return;
    }
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array) {
        let ok = options.iter().any(|o| {
            let mut sub = Vec::new();
            validate(o, v, path, &mut sub);
            sub.is_empty()
        });
        if !ok {
            errors.push(format!("{path}: matches none of `anyOf`"));
        }
    }
    if let Some(ty) = schema.get("type").and_then(Value::as_str)
        && !type_ok(ty, v)
    {
        errors.push(format!("{path}: must be of type {ty}, got {v}"));
        return;
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(v)
    {
        errors.push(format!("{path}: {v} is not one of {values:?}"));
    }
    if let Some(text) = v.as_str() {
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
            let re = regex::Regex::new(pattern).unwrap_or_else(|e| panic!("{path}: pattern {pattern}: {e}"));
            if !re.is_match(text) {
                errors.push(format!("{path}: `{text}` does not match {pattern}"));
            }
        }
        let len = text.chars().count() as u64;
        if schema.get("minLength").and_then(Value::as_u64).is_some_and(|m| len < m) {
            errors.push(format!("{path}: shorter than minLength"));
        }
        if schema.get("maxLength").and_then(Value::as_u64).is_some_and(|m| len > m) {
            errors.push(format!("{path}: longer than maxLength"));
        }
    }
    if let Some(n) = v.as_f64() {
        if schema.get("minimum").and_then(Value::as_f64).is_some_and(|m| n < m) {
            errors.push(format!("{path}: {n} is below the minimum"));
        }
        if schema.get("maximum").and_then(Value::as_f64).is_some_and(|m| n > m) {
            errors.push(format!("{path}: {n} is above the maximum"));
        }
    }
    if let Some(map) = v.as_object() {
        for key in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !map.contains_key(key) {
                errors.push(format!("{path}: missing required field `{key}`"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties");
        let preserve = schema.get("x-kubernetes-preserve-unknown-fields").and_then(Value::as_bool) == Some(true);
        for (key, child) in map {
            let child_path = format!("{path}.{key}");
            match (properties.and_then(|p| p.get(key)), additional) {
                (Some(sub), _) => validate(sub, child, &child_path, errors),
                (None, Some(sub)) if sub.is_object() => validate(sub, child, &child_path, errors),
                // `type: object` with no properties at all (`metadata`) is validated elsewhere.
                (None, _) if preserve || properties.is_none() => {}
                (None, _) => errors.push(format!("{child_path}: unknown field")),
            }
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), v.as_array()) {
        for (i, item) in list.iter().enumerate() {
            validate(items, item, &format!("{path}[{i}]"), errors);
        }
    }
}

/// The served version's schema of each CRD in `../shared/crds`, by `(apiVersion, kind)`.
fn crd_schemas() -> Option<BTreeMap<(String, String), Value>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(CRDS);
    if !dir.is_dir() {
        eprintln!("SKIPPED: {CRDS} not found; custom resources not validated against their CRDs");
        return None;
    }
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("read crds") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read crd");
        let crd: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let group = crd["spec"]["group"].as_str().unwrap_or_default();
        let kind = crd["spec"]["names"]["kind"].as_str().unwrap_or_default();
        for version in crd["spec"]["versions"].as_array().into_iter().flatten() {
            let api_version = format!("{group}/{}", version["name"].as_str().unwrap_or_default());
            out.insert((api_version, kind.to_owned()), version["schema"]["openAPIV3Schema"].clone());
        }
    }
    Some(out)
}

fn validate_resource(schemas: &BTreeMap<(String, String), Value>, value: &Value) -> Result<(), Vec<String>> {
    let key = (
        value["apiVersion"].as_str().unwrap_or_default().to_owned(),
        value["kind"].as_str().unwrap_or_default().to_owned(),
    );
    let schema = schemas.get(&key).ok_or_else(|| vec![format!("no CRD for {key:?}")])?;
    // Every object has these at its root, whether or not a CRD's schema lists them.
    let mut body = value.clone();
    if let Some(map) = body.as_object_mut() {
        for key in ["apiVersion", "kind", "metadata"] {
            map.remove(key);
        }
    }
    let mut errors = Vec::new();
    validate(schema, &body, "", &mut errors);
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

#[test]
fn rendered_custom_resources_validate_against_their_crds() {
    let Some(schemas) = crd_schemas() else { return };
    let resources = custom_resources();
    let kinds: BTreeSet<&str> = resources.iter().filter_map(|(_, v)| v["kind"].as_str()).collect();
    assert!(kinds.contains("PodMonitor") && kinds.contains("PrometheusRule"), "rendered kinds: {kinds:?}");
    for (what, value) in &resources {
        if let Err(errors) = validate_resource(&schemas, value) {
            panic!("{what} does not validate against its CRD:\n  {}", errors.join("\n  "));
        }
    }
    eprintln!("{} custom resources validated", resources.len());
}

#[test]
fn the_validator_rejects_what_the_api_server_would() {
    let Some(schemas) = crd_schemas() else { return };
    let rule = |rule: Value| {
        json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "x"},
               "spec": {"groups": [{"name": "g", "rules": [rule]}]}})
    };
    let check = |value: Value, expected: &str| {
        let errors = validate_resource(&schemas, &value).expect_err(expected);
        assert!(errors.iter().any(|e| e.contains(expected)), "expected `{expected}` in {errors:#?}");
    };
    assert!(validate_resource(&schemas, &rule(json!({"alert": "A", "expr": "up == 0", "for": "5m"}))).is_ok());
    check(rule(json!({"alert": "A", "expr": "up == 0", "for": "5 minutes"})), "does not match");
    check(rule(json!({"alert": "A", "for": "5m"})), "missing required field `expr`");
    check(rule(json!({"alert": "A", "expr": "up", "severity": "page"})), ".severity: unknown field");
    check(rule(json!({"alert": "A", "expr": ["up"]})), "expr: must be an integer or a string");
    let monitor = json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor", "metadata": {},
        "spec": {"selector": {}, "podMetricsEndpoints": [{"port": "metrics", "scheme": "tcp"}]}});
    check(monitor, "is not one of");
    let monitor = json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor", "metadata": {},
        "spec": {"podMetricsEndpoints": []}});
    check(monitor, "missing required field `selector`");
}

// ---------------------------------------------------------------------------------------------
// PromQL: every expression parses, and names only documented metrics and labels.

/// Labels Prometheus attaches to every series scraped through a PodMonitor (prometheus-operator
/// adds `namespace`, `pod`, `container`, `endpoint`; `job` comes from `jobLabel`, `instance` from
/// the target) plus the pod label the PodMonitors copy (`podTargetLabels`).
const TARGET_LABELS: [&str; 7] =
    ["namespace", "pod", "container", "endpoint", "job", "instance", "app_kubernetes_io_component"];

/// Documented metrics and their own labels, independent of the names the library builds, so a
/// misspelt constant in `src/prometheus.rs` fails here.
fn documented() -> BTreeMap<&'static str, Vec<&'static str>> {
    let spans = ["service_name", "span_name", "span_kind", "status_code"];
    BTreeMap::from([
        // collector receiver/receiverhelper documentation.md (e329b88b); `_total` from the pull reader.
        ("otelcol_receiver_accepted_spans_total", vec!["receiver", "transport"]),
        ("otelcol_receiver_refused_spans_total", vec!["receiver", "transport"]),
        // collector exporter/exporterhelper documentation.md (c6f5d60c).
        ("otelcol_exporter_sent_spans_total", vec!["exporter"]),
        ("otelcol_exporter_send_failed_spans_total", vec!["exporter"]),
        ("otelcol_exporter_enqueue_failed_spans_total", vec!["exporter"]),
        ("otelcol_exporter_queue_size", vec!["exporter", "data_type"]),
        ("otelcol_exporter_queue_capacity", vec!["exporter", "data_type"]),
        // collector processor/memorylimiterprocessor documentation.md (cc6d049c).
        ("otelcol_processor_refused_spans_total", vec!["processor"]),
        // kube-state-metrics pod metrics: namespace, pod, uid, container.
        ("kube_pod_container_status_restarts_total", vec!["uid"]),
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
        let labels = vs.matchers.matchers.iter().map(|m| m.name.clone()).collect();
        self.0.push((vs.name.clone().unwrap_or_default(), labels));
        Ok(true)
    }
}

fn expressions() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (what, value) in custom_resources() {
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
        ("sum(rate(otelcol_exporter_send_failed_spans_total[5m]) > 0", "does not parse"),
        (
            "rate(otelcol_exporter_send_failed_spans[5m]) > 0",
            "metric `otelcol_exporter_send_failed_spans` is not documented",
        ),
        (r#"rate(traces_span_metrics_calls_total{status="ERROR"}[5m])"#, "has no label `status`"),
    ];
    for (expr, expected) in cases {
        let err = check_expression(expr).expect_err(expr);
        assert!(err.contains(expected), "{expr}: {err}");
    }
    assert_eq!(check_expression(r#"up{job="otel-collector"} == 1"#), Ok(1));
}
