//! The JSON Schema of the profile format, for editors (yaml-language-server) and reviewers.

use serde_json::{Map, Value, json};

use crate::config::collector::Distribution;
use crate::config::collector::distribution::known_versions;
use crate::format::{Error, VERSION};
use crate::model::profile::Profile;

// The rules of `Profile::validate` that JSON Schema can say, added to the derived schema so that an
// editor flags what `render` refuses. Rules between fields (a maximum below a minimum), of the
// component table per distribution, of sizes derived from `load` and of cron fields stay with the
// loader; tests/schema.rs lists every case of the bad-profile corpus the schema cannot express.

/// A DNS-1123 label (namespaces, names of labels-like things).
const DNS_LABEL: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/// A DNS-1123 subdomain (object names).
const DNS_SUBDOMAIN: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// A key of a Secret or ConfigMap.
const SECRET_KEY: &str = "^[-._a-zA-Z0-9]+$";
/// A label or annotation key: an optional DNS subdomain prefix and `/`, then a name.
const QUALIFIED_NAME: &str = "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$";
/// A label value.
const LABEL_VALUE: &str = "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";
/// A value written into `OTEL_RESOURCE_ATTRIBUTES` unescaped.
const ATTRIBUTE: &str = "^[A-Za-z0-9._+:/@-]{1,255}$";
/// An image repository without tag or digest.
const IMAGE: &str = "^([^\\s@]*/)?[^\\s@/:]*$";
/// A Go duration, as the loader parses it (non-negative).
const DURATION: &str = "^\\+?(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|ms|s|m|h))+)$";
/// A duration of nothing.
const ZERO_DURATION: &str = "^\\+?(0|((0+(\\.0*)?|\\.0+)(ns|us|µs|ms|s|m|h))+)$";
/// An `http(s)://` URL: no credentials, a port from 1 to 65535 when given.
const HTTP_URL: &str = "^https?://(\\[[0-9A-Fa-f:.]+\\]|[^\\[\\]/?#@:\\s]+)(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?([/?#][^\\s@]*)?$";
/// An IPv4 or IPv6 block in CIDR notation.
const CIDR: &str = "^(([0-9]{1,3}\\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))$";

fn string(pattern: &str, max: usize) -> Value {
    json!({"pattern": pattern, "maxLength": max})
}

fn label() -> Value {
    string(DNS_LABEL, 63)
}

fn subdomain() -> Value {
    string(DNS_SUBDOMAIN, 253)
}

fn items(schema: Value) -> Value {
    json!({"items": schema})
}

fn labels_map() -> Value {
    json!({"propertyNames": string(QUALIFIED_NAME, 316), "additionalProperties": string(LABEL_VALUE, 63)})
}

/// Merges `extra` into the schema of `property` of definition `def` (`""`: the top level).
fn patch(defs: &mut Map<String, Value>, def: &str, property: &str, extra: Value) {
    let Some(target) = defs.get_mut(def).and_then(|d| d.get_mut("properties")).and_then(|p| p.get_mut(property)) else {
        return;
    };
    merge(target, extra);
}

fn merge(target: &mut Value, extra: Value) {
    if let (Value::Object(target), Value::Object(extra)) = (target, extra) {
        for (k, v) in extra {
            match target.get_mut(&k) {
                Some(existing @ Value::Object(_)) if v.is_object() => merge(existing, v),
                _ => {
                    target.insert(k, v);
                }
            }
        }
    }
}

fn versions(distributions: &[Distribution]) -> Value {
    let mut all: Vec<String> =
        distributions.iter().flat_map(|d| known_versions(*d).iter().map(ToString::to_string)).collect();
    all.sort();
    all.dedup();
    json!({"enum": all})
}

fn constrain_top(props: &mut Map<String, Value>) {
    let mut top = Map::new();
    top.insert("properties".into(), Value::Object(std::mem::take(props)));
    let mut defs = Map::new();
    defs.insert(String::new(), Value::Object(top));
    let shared = json!({"not": {"enum": ["default", "kube-system", "kube-public", "kube-node-lease", "istio-system"]}});
    patch(&mut defs, "", "namespace", label());
    patch(&mut defs, "", "namespace", shared);
    patch(&mut defs, "", "environment", json!({"pattern": ATTRIBUTE}));
    patch(&mut defs, "", "extends", json!({}));
    if let Some(Value::Object(props_back)) = defs.remove("").and_then(|mut t| t.get_mut("properties").map(Value::take))
    {
        *props = props_back;
    }
    props.insert(
        "extends".into(),
        json!({
            "description": "A base profile this one is layered over: a path relative to this file (by convention `bases/<name>.yaml`). Maps merge by key, lists replace, `null` removes an inherited entry.",
            "type": "string",
            "minLength": 1
        }),
    );
}

#[allow(clippy::too_many_lines)]
fn constrain(defs: &mut Map<String, Value>) {
    let at_least_one = json!({"minimum": 1});
    let collectors =
        [Distribution::OtelcolK8s, Distribution::OtelcolContrib, Distribution::Otelcol, Distribution::OtelcolOtlp];
    patch(
        defs,
        "CollectorSpec",
        "distribution",
        json!({"enum": ["otelcol-k8s", "otelcol-contrib", "otelcol", "otelcol-otlp"]}),
    );
    patch(defs, "CollectorSpec", "version", versions(&collectors));
    patch(defs, "JaegerSpec", "version", versions(&[Distribution::Jaeger]));
    for def in ["CollectorSpec", "JaegerSpec"] {
        patch(defs, def, "image", json!({"pattern": IMAGE, "minLength": 1}));
        patch(defs, def, "digest", json!({"pattern": "^sha256:[0-9a-f]{64}$"}));
    }
    for def in ["CollectorSpec", "RoleSpec"] {
        patch(defs, def, "replicas", at_least_one.clone());
    }
    patch(defs, "RoleSpec", "queue_size", at_least_one.clone());
    patch(defs, "AutoscalingSpec", "min_replicas", at_least_one.clone());
    for field in ["target_cpu_percent", "target_memory_percent"] {
        patch(defs, "AutoscalingSpec", field, json!({"minimum": 10, "maximum": 100}));
    }
    patch(defs, "BatchSpec", "send_batch_size", at_least_one.clone());
    patch(defs, "BatchSpec", "timeout", json!({"pattern": DURATION, "not": {"pattern": ZERO_DURATION}}));
    patch(defs, "QueueSpec", "queue_size", at_least_one.clone());
    patch(defs, "QueueSpec", "num_consumers", at_least_one.clone());
    patch(defs, "RetrySpec", "initial_interval", json!({"pattern": DURATION, "not": {"pattern": ZERO_DURATION}}));
    for field in ["max_interval", "max_elapsed_time"] {
        patch(defs, "RetrySpec", field, json!({"pattern": DURATION}));
    }
    // The sampler keeps whole 1/16384 shares: 100/16384 % is the smallest it applies.
    patch(defs, "Sampling", "percentage", json!({"minimum": 100.0 / 16384.0, "maximum": 100}));
    patch(defs, "LoadSpec", "spans_per_second", at_least_one.clone());
    patch(defs, "LoadSpec", "average_span_bytes", json!({"minimum": 16, "maximum": 1_048_576}));
    patch(defs, "LoadSpec", "outage_seconds", json!({"maximum": 3600}));
    patch(defs, "MemorySpec", "max_traces", at_least_one.clone());
    patch(defs, "TlsSecretRef", "secret", subdomain());
    patch(defs, "ElasticsearchSpec", "server_urls", json!({"minItems": 1, "items": {"pattern": HTTP_URL}}));
    patch(defs, "ElasticsearchSpec", "index_prefix", json!({"pattern": "^[a-z0-9][a-z0-9_-]*$", "maxLength": 64}));
    patch(defs, "ElasticsearchSpec", "shards", at_least_one.clone());
    patch(defs, "ElasticsearchSpec", "namespace", label());
    patch(defs, "LifecycleSpec", "retention_days", json!({"minimum": 1, "maximum": 3650}));
    patch(defs, "LifecycleSpec", "rollover_max_age", json!({"pattern": "^[1-9][0-9]*[dhm]$"}));
    patch(defs, "LifecycleSpec", "schedule", json!({"pattern": "^(@.+|\\s*\\S+(\\s+\\S+){4}\\s*)$"}));
    for (def, field) in [("CredentialsRef", "secret"), ("SecretKeyRef", "secret")] {
        patch(defs, def, field, subdomain());
    }
    for (def, field) in [
        ("CredentialsRef", "username_key"),
        ("CredentialsRef", "password_key"),
        ("SecretKeyRef", "key"),
        ("KeyRef", "key"),
    ] {
        patch(defs, def, field, string(SECRET_KEY, 253));
    }
    patch(defs, "SecuritySpec", "priority_class_name", subdomain());
    for field in ["otlp_from_namespaces", "query_from_namespaces", "metrics_from_namespaces"] {
        patch(defs, "NetworkPolicySpec", field, items(label()));
    }
    patch(defs, "NetworkPolicySpec", "api_server_cidrs", items(json!({"pattern": CIDR})));
    patch(defs, "DnsSpec", "namespace", label());
    patch(defs, "DnsSpec", "pod_labels", labels_map());
    patch(defs, "DnsSpec", "pod_labels", json!({"minProperties": 1}));
    patch(
        defs,
        "DnsSpec",
        "node_local_address",
        json!({"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}, {"type": "null"}]}),
    );
    patch(defs, "IstioSpec", "provider", label());
    patch(defs, "IstioSpec", "revision", label());
    patch(
        defs,
        "IstioSpec",
        "sampling_percentage",
        json!({"minimum": 0, "maximum": 100, "anyOf": [{"const": 0}, {"minimum": 0.005}]}),
    );
    patch(defs, "IstioSpec", "custom_tags", json!({"propertyNames": {"pattern": "^[A-Za-z0-9._/-]+$"}}));
    let system = json!({"not": {"enum": ["istio-system", "kube-node-lease", "kube-public", "kube-system"]}});
    patch(
        defs,
        "IstioSpec",
        "namespaces",
        json!({"uniqueItems": true, "items": {"pattern": DNS_LABEL, "maxLength": 63, "not": system["not"]}}),
    );
    patch(defs, "AppSpec", "name", label());
    patch(defs, "AppSpec", "namespace", label());
    patch(defs, "AppSpec", "deployment", subdomain());
    patch(defs, "AppSpec", "container", label());
    for field in ["service_name", "version"] {
        patch(defs, "AppSpec", field, json!({"pattern": ATTRIBUTE}));
    }
    patch(defs, "SamplerSpec", "ratio", json!({"minimum": 0, "maximum": 1}));
    patch(defs, "SmokeTestSpec", "traces", json!({"minimum": 1, "maximum": 1000}));
    for field in ["telemetrygen_image", "curl_image"] {
        patch(defs, "SmokeTestSpec", field, json!({"pattern": IMAGE, "minLength": 1}));
    }
    // Monitoring is checked only when enabled, and so is it here.
    if let Some(Value::Object(monitoring)) = defs.get_mut("MonitoringSpec") {
        monitoring.insert("if".into(), json!({"properties": {"enabled": {"const": true}}, "required": ["enabled"]}));
        monitoring.insert(
            "then".into(),
            json!({"properties": {
                "labels": labels_map(),
                "queue_alert_ratio": {"exclusiveMinimum": 0, "maximum": 1},
                "red": {"if": {"not": {"properties": {"enabled": {"const": false}}, "required": ["enabled"]}},
                        "then": {"properties": {
                            "error_ratio": {"exclusiveMinimum": 0, "maximum": 1},
                            "min_request_rate": {"minimum": 0},
                            "prometheus_url": {"anyOf": [{"type": "null"}, {"pattern": HTTP_URL}]}
                        }}}
            }}),
        );
    }
    // The pod additions.
    patch(defs, "PodExtras", "node_selector", labels_map());
    patch(defs, "PodExtras", "labels", labels_map());
    patch(defs, "PodExtras", "labels", json!({"propertyNames": {"not": {"pattern": "^app\\.kubernetes\\.io/"}}}));
    patch(
        defs,
        "PodExtras",
        "annotations",
        json!({"propertyNames": {"pattern": QUALIFIED_NAME, "not": {"const": "checksum/config"}}}),
    );
    patch(defs, "PodExtras", "priority_class_name", subdomain());
    patch(defs, "PodExtras", "image_pull_secrets", items(subdomain()));
    patch(
        defs,
        "PodExtras",
        "image_registry",
        json!({"pattern": "^[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?(/[a-z0-9][a-z0-9._-]*)*$"}),
    );
    patch(defs, "Toleration", "key", string(QUALIFIED_NAME, 316));
    patch(defs, "Toleration", "value", string(LABEL_VALUE, 63));
    patch(defs, "NodeExpression", "key", string(QUALIFIED_NAME, 316));
    patch(defs, "WeightedNodeExpression", "key", string(QUALIFIED_NAME, 316));
    patch(defs, "EnvVar", "name", json!({"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}));
    patch(defs, "KeyRef", "name", subdomain());
    patch(defs, "ExtraVolume", "name", label());
    patch(defs, "ExtraVolume", "name", json!({"not": {"enum": ["config", "tmp"]}}));
    patch(defs, "ExtraVolume", "mount_path", json!({"pattern": "^/[^:]*$", "not": {"enum": ["/", "/tmp"]}}));
    patch(defs, "IngressSpec", "host", subdomain());
    patch(defs, "IngressSpec", "class_name", subdomain());
    patch(defs, "IngressSpec", "tls_secret", subdomain());
    patch(defs, "IngressSpec", "path", json!({"pattern": "^/\\S*$"}));
    patch(defs, "IngressSpec", "controller_namespace", label());
    patch(defs, "GatewayRef", "name", subdomain());
    patch(defs, "GatewayRef", "namespace", label());
    patch(defs, "GatewayRef", "section_name", subdomain());
    patch(
        defs,
        "UiRouteSpec",
        "hostnames",
        items(
            json!({"pattern": "^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", "maxLength": 253}),
        ),
    );
    patch(defs, "UiRouteSpec", "path", json!({"pattern": "^/\\S*$"}));
    patch(defs, "UiRouteSpec", "from_namespace", label());
    patch(defs, "IngressSpec", "annotations", json!({"propertyNames": {"pattern": QUALIFIED_NAME}}));
    // Durations the loader parses.
    for (def, field) in
        [("MonitoringSpec", "scrape_interval"), ("RedSpec", "p99_latency"), ("RedThresholds", "p99_latency")]
    {
        patch(defs, def, field, json!({"pattern": DURATION}));
    }
}

/// Path of the schema under the output root, as profiles reference it.
pub const SCHEMA_FILE: &str = "schema/profile.schema.json";

/// The profile format as a JSON Schema (draft-07, which yaml-language-server understands),
/// pretty-printed with a trailing newline; its `$comment` marks it as generated.
///
/// # Errors
/// Only if JSON serialisation fails.
pub fn profile_schema() -> Result<String, Error> {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<Profile>();
    // `$comment` goes first so the file starts with the generated-file marker whatever map order
    // serde_json is built with (`$comment` also sorts first).
    let mut root = serde_json::Map::new();
    root.insert(
        "$comment".into(),
        format!("Generated by tracestack {VERSION} (`tracestack render`) from the Profile type. Do not edit by hand.")
            .into(),
    );
    root.insert("title".into(), "tracestack profile".into());
    if let serde_json::Value::Object(fields) = schema.to_value() {
        for (key, value) in fields {
            root.entry(key).or_insert(value);
        }
    }
    if let Some(serde_json::Value::Object(defs)) = root.get_mut("definitions") {
        constrain(defs);
    }
    if let Some(serde_json::Value::Object(props)) = root.get_mut("properties") {
        constrain_top(props);
    }
    let mut text = serde_json::to_string_pretty(&root)
        .map_err(|e| Error::Serialize { what: "profile schema".into(), message: e.to_string() })?;
    text.push('\n');
    Ok(text)
}
