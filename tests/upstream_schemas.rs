//! Rendered custom resources and configs against the upstream definitions in `../shared` (or
//! `$TRACESTACK_SHARED`): the Telemetry and Instrumentation against their CRDs' OpenAPI schemas,
//! the mesh config's extension provider against istio/api's proto fields, and the collector
//! components added for uniform attributes and legacy Zipkin against their `config.schema.yaml`.
//! Each check is skipped, visibly, when its reference is absent.

mod common;

use std::path::{Path, PathBuf};

use common::{rendered, shared_or_skip, yaml};
use serde_json::Value;

/// A deliberately small structural validator for a CRD's `openAPIV3Schema`: types, unknown
/// fields, required fields, enums, bounds, `minLength`, and `oneOf`/`anyOf`/`allOf`/`not`.
fn validate(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let ty = schema["type"].as_str();
    let int_or_string = schema["x-kubernetes-int-or-string"] == true;
    let type_ok = match ty {
        _ if int_or_string => value.is_string() || value.is_i64() || value.is_u64(),
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        _ => true,
    };
    let nullable = value.is_null() && schema["nullable"] == true;
    if !(type_ok || nullable) {
        errors.push(format!("{path}: {value} is not of type {}", ty.unwrap_or("?")));
        return;
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        errors.push(format!("{path}: {value} is not one of {options:?}"));
    }
    if let (Some(min), Some(v)) = (schema["minimum"].as_f64(), value.as_f64())
        && v < min
    {
        errors.push(format!("{path}: {v} is below the minimum {min}"));
    }
    if let (Some(max), Some(v)) = (schema["maximum"].as_f64(), value.as_f64())
        && v > max
    {
        errors.push(format!("{path}: {v} is above the maximum {max}"));
    }
    if let (Some(min), Some(s)) = (schema["minLength"].as_u64(), value.as_str())
        && (s.chars().count() as u64) < min
    {
        errors.push(format!("{path}: `{s}` is shorter than {min}"));
    }
    let passes = |sub: &Value| {
        let mut e = Vec::new();
        validate(sub, value, path, &mut e);
        e.is_empty()
    };
    if let Some(all) = schema["allOf"].as_array() {
        for sub in all {
            validate(sub, value, path, errors);
        }
    }
    if let Some(any) = schema["anyOf"].as_array()
        && !any.iter().any(passes)
    {
        errors.push(format!("{path}: matches none of anyOf"));
    }
    if let Some(one) = schema["oneOf"].as_array() {
        let n = one.iter().filter(|s| passes(s)).count();
        if n != 1 {
            errors.push(format!("{path}: matches {n} branches of oneOf, not exactly one"));
        }
    }
    if schema["not"].is_object() && passes(&schema["not"]) {
        errors.push(format!("{path}: matches a `not` schema"));
    }
    if let (Some(required), Some(object)) = (schema["required"].as_array(), value.as_object()) {
        for key in required.iter().filter_map(Value::as_str) {
            if !object.contains_key(key) {
                errors.push(format!("{path}: `{key}` is required"));
            }
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema["properties"].as_object();
        let additional = &schema["additionalProperties"];
        if schema["x-kubernetes-preserve-unknown-fields"] == true || (properties.is_none() && additional.is_null()) {
            return;
        }
        for (key, item) in object {
            let at = format!("{path}.{key}");
            // Every object has these, whether or not a CRD's schema lists them.
            if !path.contains('.') && ["apiVersion", "kind", "metadata"].contains(&key.as_str()) {
                continue;
            }
            match properties.and_then(|p| p.get(key)) {
                Some(sub) => validate(sub, item, &at, errors),
                None if additional.is_object() => validate(additional, item, &at, errors),
                None if *additional == true => {}
                None => errors.push(format!("{at}: unknown field")),
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            validate(items, item, &format!("{path}[{i}]"), errors);
        }
    }
}

fn crd_schema(file: &Path, version: &str) -> Value {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let crd = yaml(&text);
    let versions = crd["spec"]["versions"].as_array().cloned().unwrap_or_default();
    let served = versions.iter().find(|v| v["name"] == version).unwrap_or_else(|| panic!("no {version} in the CRD"));
    assert_eq!(served["served"], true, "{version} is not served");
    served["schema"]["openAPIV3Schema"].clone()
}

/// Every rendered object of `kind`, by file.
fn rendered_objects(kind: &str) -> Vec<(String, Value)> {
    rendered()
        .into_iter()
        .filter(|(path, text)| path.ends_with(".yaml") && text.contains(&format!("\nkind: {kind}\n")))
        .map(|(path, text)| (path, yaml(&text)))
        .collect()
}

fn check_against_crd(crd: &str, kind: &str, expected_files: usize) {
    let Some(file) = shared_or_skip(&format!("crds/{crd}"), &format!("{kind} against its CRD")) else { return };
    let objects = rendered_objects(kind);
    assert_eq!(objects.len(), expected_files, "{kind} files: {:?}", objects.iter().map(|(p, _)| p).collect::<Vec<_>>());
    for (path, object) in objects {
        let version = object["apiVersion"].as_str().and_then(|v| v.rsplit('/').next()).unwrap_or_default().to_owned();
        let schema = crd_schema(&file, &version);
        let mut errors = Vec::new();
        validate(&schema, &object, kind, &mut errors);
        assert!(errors.is_empty(), "{path} does not fit {crd}:\n{}", errors.join("\n"));
    }
}

#[test]
fn telemetry_fits_the_istio_crd() {
    check_against_crd("telemetry.istio.io_telemetries.yaml", "Telemetry", 1);
}

#[test]
fn instrumentation_fits_the_operator_crd() {
    check_against_crd("opentelemetry.io_instrumentations.yaml", "Instrumentation", 1);
}

#[test]
fn the_validator_rejects_what_the_crd_forbids() {
    let Some(file) = shared_or_skip("crds/telemetry.istio.io_telemetries.yaml", "the CRD validator") else { return };
    let schema = crd_schema(&file, "v1");
    let bad = serde_json::json!({
        "apiVersion": "telemetry.istio.io/v1", "kind": "Telemetry", "metadata": {"name": "x"},
        "spec": {"tracing": [{
            "randomSamplingPercentage": 150,
            "sampling": 1,
            "customTags": {"a": {"literal": {"value": "x"}, "header": {"name": "h"}}, "b": {"literal": {"value": ""}}}
        }]}
    });
    let mut errors = Vec::new();
    validate(&schema, &bad, "Telemetry", &mut errors);
    let text = errors.join("\n");
    for expected in [
        "Telemetry.spec.tracing[0].randomSamplingPercentage: 150 is above the maximum 100",
        "Telemetry.spec.tracing[0].sampling: unknown field",
        "Telemetry.spec.tracing[0].customTags.a: matches 2 branches of oneOf, not exactly one",
        "Telemetry.spec.tracing[0].customTags.b.literal.value: `` is shorter than 1",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
}

/// `lowerCamelCase` JSON name → proto field name.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn extension_providers_use_only_proto_fields() {
    let Some(file) = shared_or_skip("schemas/istio/extension_providers.json", "meshConfig.extensionProviders fields")
    else {
        return;
    };
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{e}"));
    let proto: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let messages = &proto["messages"];
    let files = rendered();
    let mut checked = 0;
    for (path, text) in files
        .iter()
        .filter(|(p, _)| p.ends_with("istio/istiod-values.yaml") || p.ends_with("istio/istio-operator.yaml"))
    {
        let doc = yaml(text);
        let mesh = if doc["kind"] == "IstioOperator" { &doc["spec"]["meshConfig"] } else { &doc["meshConfig"] };
        for provider in mesh["extensionProviders"].as_array().cloned().unwrap_or_default() {
            let root = proto["root"].as_str().unwrap_or_default();
            walk(messages, root, &provider, &format!("{path}: extensionProviders"));
            checked += 1;
        }
    }
    assert!(checked >= 2, "expected the overlay and the values of istio-demo, checked {checked}");

    fn walk(messages: &Value, message: &str, value: &Value, at: &str) {
        let fields = messages[message].as_object().unwrap_or_else(|| panic!("no message {message}"));
        for (key, item) in value.as_object().into_iter().flatten() {
            let field = fields.get(&snake(key)).unwrap_or_else(|| panic!("{at}.{key}: not a field of {message}"));
            match field["kind"].as_str() {
                Some("message") => {
                    walk(messages, field["type"].as_str().unwrap_or_default(), item, &format!("{at}.{key}"))
                }
                Some("scalar") if field["type"] == "string" => assert!(item.is_string(), "{at}.{key}: not a string"),
                Some("scalar") if field["type"] == "uint32" => assert!(item.is_u64(), "{at}.{key}: not a uint32"),
                _ => {}
            }
        }
    }
}

/// Resolves collector `config.schema.yaml` references: a bare name is a local `$defs` entry, `/x.y`
/// is `$defs.y` of `x` in the same repository, `go.opentelemetry.io/collector/x.y` is in core.
struct Schemas {
    collector: PathBuf,
}

impl Schemas {
    fn contrib(&self) -> PathBuf {
        self.collector.join("github.com/open-telemetry/opentelemetry-collector-contrib")
    }

    fn core(&self) -> PathBuf {
        self.collector.join("go.opentelemetry.io/collector")
    }

    fn load(&self, dir: &Path) -> Value {
        let file = dir.join("config.schema.yaml");
        yaml(&std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display())))
    }

    fn resolve(&self, reference: &str, dir: &Path) -> (PathBuf, Value) {
        if !reference.contains('/') {
            return (dir.to_owned(), self.load(dir)["$defs"][reference].clone());
        }
        let (module, def) = reference.rsplit_once('.').unwrap_or_else(|| panic!("bad $ref {reference}"));
        let target = if let Some(rest) = module.strip_prefix("go.opentelemetry.io/collector/") {
            self.core().join(rest)
        } else {
            let root = if dir.starts_with(self.core()) { self.core() } else { self.contrib() };
            root.join(module.trim_start_matches('/'))
        };
        let schema = self.load(&target)["$defs"][def].clone();
        assert!(!schema.is_null(), "$ref {reference} from {} resolves to nothing", dir.display());
        (target, schema)
    }

    /// Every key of `value` is a property of `schema` (following `$ref` and `allOf`).
    fn keys(&self, schema: &Value, dir: &Path, value: &Value, at: &str) {
        if let Some(reference) = schema["$ref"].as_str() {
            let (dir, schema) = self.resolve(reference, dir);
            return self.keys(&schema, &dir, value, at);
        }
        if let Some(object) = value.as_object() {
            let mut properties = Vec::new();
            self.properties(schema, dir, &mut properties);
            for (key, item) in object {
                let (sub, sub_dir) = properties
                    .iter()
                    .find(|(name, _, _)| name == key)
                    .map(|(_, s, d)| (s.clone(), d.clone()))
                    .unwrap_or_else(|| panic!("{at}.{key}: not in the component's config schema"));
                self.keys(&sub, &sub_dir, item, &format!("{at}.{key}"));
            }
        } else if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
            for (i, item) in array.iter().enumerate() {
                self.keys(items, dir, item, &format!("{at}[{i}]"));
            }
        }
    }

    fn properties(&self, schema: &Value, dir: &Path, out: &mut Vec<(String, Value, PathBuf)>) {
        if let Some(reference) = schema["$ref"].as_str() {
            let (dir, schema) = self.resolve(reference, dir);
            return self.properties(&schema, &dir, out);
        }
        for (name, sub) in schema["properties"].as_object().into_iter().flatten() {
            out.push((name.clone(), sub.clone(), dir.to_owned()));
        }
        for sub in schema["allOf"].as_array().into_iter().flatten() {
            self.properties(sub, dir, out);
        }
    }
}

#[test]
fn uniform_attribute_and_zipkin_components_use_only_schema_keys() {
    let Some(collector) = shared_or_skip("schemas/collector", "collector component keys") else { return };
    let schemas = Schemas { collector };
    // The k8s profile's gateway, and one with legacy Zipkin for the receiver.
    let mut legacy = tracestack::Profile::default();
    legacy.istio.enabled = true;
    legacy.istio.legacy_zipkin = true;
    let mut checked = Vec::new();
    for profile in [tracestack::Profile::default(), legacy] {
        let stack = tracestack::Stack::build(&profile).unwrap_or_else(|e| panic!("{e}"));
        let config = serde_json::to_value(&stack.gateway.config).unwrap_or_else(|e| panic!("{e}"));
        for (section, id, module) in [
            ("processors", "k8s_attributes", "processor/k8sattributesprocessor"),
            ("processors", "resource/defaults", "processor/resourceprocessor"),
            ("receivers", "zipkin", "receiver/zipkinreceiver"),
        ] {
            let value = &config[section][id];
            if value.is_null() {
                continue;
            }
            let dir = schemas.contrib().join(module);
            let schema = schemas.load(&dir);
            schemas.keys(&schema, &dir, value, &format!("{section}.{id}"));
            checked.push(id);
        }
    }
    assert_eq!(checked, ["k8s_attributes", "resource/defaults", "k8s_attributes", "resource/defaults", "zipkin"]);
}
