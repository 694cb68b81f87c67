//! Rendered configs against the upstream definitions in `../shared` (or `$TRACESTACK_SHARED`): the
//! mesh config's extension provider against istio/api's proto fields, and the collector components
//! added for uniform attributes and legacy Zipkin against their `config.schema.yaml` (custom
//! resources against their CRDs: `custom_resources.rs`). Each check is skipped, visibly, when its
//! reference is absent.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{rendered, shared_or_skip, yaml};

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
