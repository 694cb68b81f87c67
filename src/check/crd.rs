//! Custom resources against their CustomResourceDefinitions: the served version's
//! `openAPIV3Schema`, with unknown fields rejected as the API server's strict field validation does
//! (`kubectl apply --validate=strict`, the default since Kubernetes 1.27).
//!
//! A structural validator written for the subset CRDs use (structural schemas, see the Kubernetes
//! docs "Extend the Kubernetes API with CustomResourceDefinitions", "Specifying a structural
//! schema"): `type`, `nullable`, `properties`, `additionalProperties`, `items`, `required`,
//! `enum`, numeric and length bounds, `anyOf`/`oneOf`/`allOf`/`not`, and the extensions
//! `x-kubernetes-preserve-unknown-fields`, `x-kubernetes-int-or-string` and
//! `x-kubernetes-embedded-resource`. A field is unknown where the schema lists `properties`
//! without `additionalProperties` and does not preserve unknown fields: where the API server would
//! prune it, strict validation fails. `pattern` is checked when the caller supplies a regex engine
//! ([`validate_with_patterns`]); `format` and `x-kubernetes-validations` (CEL rules) are not.
//!
//! Pure: the caller reads the CRD files (see `tests/custom_resources.rs`, `cargo xtask validate`).

use std::collections::BTreeMap;

use serde_json::Value;

/// Whether `api_version` belongs to a group built into Kubernetes (rather than one a CRD adds).
#[must_use]
pub fn is_builtin(api_version: &str) -> bool {
    let Some((group, _)) = api_version.split_once('/') else {
        return true; // `v1`: the core group
    };
    // The groups kube-apiserver serves itself (`kubectl api-versions` on a bare 1.33 cluster).
    // Other `*.k8s.io` groups, such as `gateway.networking.k8s.io` or `snapshot.storage.k8s.io`, are
    // added by CRDs.
    const GROUPS: [&str; 22] = [
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "apps",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "internal.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
        "storagemigration.k8s.io",
    ];
    GROUPS.contains(&group)
}

/// One CustomResourceDefinition: its group, kind and the schema of each served version.
#[derive(Clone, Debug, PartialEq)]
pub struct Crd {
    /// `spec.group`, e.g. `telemetry.istio.io`.
    pub group: String,
    /// `spec.names.kind`, e.g. `Telemetry`.
    pub kind: String,
    /// `openAPIV3Schema` of every served version, by version name.
    pub served: BTreeMap<String, Value>,
}

impl Crd {
    /// Reads a CRD (as JSON, e.g. parsed from its YAML file).
    ///
    /// # Errors
    /// When `crd` is not an `apiextensions.k8s.io/v1` CustomResourceDefinition with a group, a kind
    /// and at least one served version with a schema.
    pub fn from_value(crd: &Value) -> Result<Self, String> {
        if crd["apiVersion"] != "apiextensions.k8s.io/v1" || crd["kind"] != "CustomResourceDefinition" {
            return Err("is not an apiextensions.k8s.io/v1 CustomResourceDefinition".into());
        }
        let spec = &crd["spec"];
        let group = spec["group"].as_str().ok_or("has no spec.group")?.to_owned();
        let kind = spec["names"]["kind"].as_str().ok_or("has no spec.names.kind")?.to_owned();
        let served: BTreeMap<String, Value> = spec["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| v["served"] == true)
            .filter_map(|v| Some((v["name"].as_str()?.to_owned(), v["schema"]["openAPIV3Schema"].clone())))
            .filter(|(_, schema)| schema.is_object())
            .collect();
        if served.is_empty() {
            return Err(format!("{kind}.{group} serves no version with an openAPIV3Schema"));
        }
        Ok(Self { group, kind, served })
    }
}

/// CRDs by group and kind.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    crds: BTreeMap<(String, String), Crd>,
}

impl Catalog {
    /// Adds a CRD (a later one for the same group and kind replaces the earlier).
    pub fn add(&mut self, crd: Crd) {
        self.crds.insert((crd.group.clone(), crd.kind.clone()), crd);
    }

    /// How many CRDs it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.crds.len()
    }

    /// Whether it holds none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.crds.is_empty()
    }

    /// Validates a custom resource against the schema of its `apiVersion` (patterns unchecked).
    ///
    /// # Errors
    /// Every problem, each starting with the field path (`.spec.tracing[0].foo: ...`), or one
    /// message when no CRD serves the resource's kind and version.
    pub fn validate(&self, resource: &Value) -> Result<(), Vec<String>> {
        self.validate_with_patterns(resource, &|_, _| true)
    }

    /// [`Catalog::validate`], also checking strings against their schema's `pattern`.
    ///
    /// # Errors
    /// As [`Catalog::validate`].
    pub fn validate_with_patterns(&self, resource: &Value, matches: PatternMatcher<'_>) -> Result<(), Vec<String>> {
        let api_version = resource["apiVersion"].as_str().unwrap_or_default();
        let kind = resource["kind"].as_str().unwrap_or_default();
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let Some(crd) = self.crds.get(&(group.to_owned(), kind.to_owned())) else {
            return Err(vec![format!("no CustomResourceDefinition for {kind} in group `{group}`")]);
        };
        let Some(schema) = crd.served.get(version) else {
            let served: Vec<&str> = crd.served.keys().map(String::as_str).collect();
            return Err(vec![format!(
                "{kind}.{group} does not serve version `{version}` (it serves {})",
                served.join(", ")
            )]);
        };
        let errors = validate_with_patterns(schema, resource, matches);
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// Validates a whole custom resource against an `openAPIV3Schema`, with `apiVersion`, `kind` and
/// `metadata` at the top checked as the API server does for every object.
#[must_use]
pub fn validate(schema: &Value, resource: &Value) -> Vec<String> {
    validate_with_patterns(schema, resource, &|_, _| true)
}

/// Decides whether a string matches a schema `pattern` (an ECMA-262 regular expression); the
/// library has no regex engine, so callers that have one pass it here.
pub type PatternMatcher<'a> = &'a dyn Fn(&str, &str) -> bool;

/// [`validate`], also checking every string against its schema's `pattern` with `matches`.
#[must_use]
pub fn validate_with_patterns(schema: &Value, resource: &Value, matches: PatternMatcher<'_>) -> Vec<String> {
    let mut errors = Vec::new();
    let Some(object) = resource.as_object() else {
        return vec![". must be an object".into()];
    };
    for key in ["apiVersion", "kind"] {
        if !object.get(key).is_some_and(Value::is_string) {
            errors.push(format!(".{key} must be a string"));
        }
    }
    match object.get("metadata") {
        Some(Value::Object(meta)) => {
            // ObjectMeta fields a manifest may set; the rest are written by the server.
            const META: [&str; 7] =
                ["name", "namespace", "labels", "annotations", "generateName", "finalizers", "ownerReferences"];
            for (key, value) in meta {
                if !META.contains(&key.as_str()) {
                    errors.push(format!(".metadata.{key}: unknown field `{key}`"));
                } else if matches!(key.as_str(), "labels" | "annotations")
                    && !value.as_object().is_some_and(|m| m.values().all(Value::is_string))
                {
                    errors.push(format!(".metadata.{key} must be a map of strings"));
                }
            }
        }
        _ => errors.push(".metadata must be an object".into()),
    }
    let rest: serde_json::Map<String, Value> = object
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "apiVersion" | "kind" | "metadata"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // The root schema lists `apiVersion`, `kind`, `metadata` or not; they are checked above.
    let mut root = schema.clone();
    if let Some(props) = root.get_mut("properties").and_then(Value::as_object_mut) {
        for key in ["apiVersion", "kind", "metadata"] {
            props.remove(key);
        }
    }
    if let Some(required) = root.get_mut("required").and_then(Value::as_array_mut) {
        required.retain(|r| !matches!(r.as_str(), Some("apiVersion" | "kind" | "metadata")));
    }
    node(&root, &Value::Object(rest), "", true, matches, &mut errors);
    errors
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Validates `value` at `path` against `schema`. `structural` is false inside `anyOf`/`oneOf`/
/// `allOf`/`not` branches, which in a structural schema only add value validations: unknown fields
/// are judged by the enclosing schema alone.
fn node(
    schema: &Value,
    value: &Value,
    path: &str,
    structural: bool,
    matches: PatternMatcher<'_>,
    errors: &mut Vec<String>,
) {
    let at = if path.is_empty() { "." } else { path };
    let flag = |name: &str| schema.get(name) == Some(&Value::Bool(true));
    if value.is_null() {
        // The API server prunes null values of non-nullable fields before validating.
        return;
    }
    let actual = type_name(value);
    if flag("x-kubernetes-int-or-string") {
        if !matches!(actual, "integer" | "string") {
            errors.push(format!("{at} must be an integer or a string, not {actual}"));
            return;
        }
    } else if let Some(expected) = schema.get("type").and_then(Value::as_str) {
        let fits = expected == actual || (expected == "number" && actual == "integer");
        if !fits {
            errors.push(format!("{at} must be of type {expected}, not {actual}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
        errors.push(format!("{at} must be one of {}, not {value}", list.join(", ")));
    }
    bounds(schema, value, at, errors);
    if let (Some(pattern), Some(text)) = (schema.get("pattern").and_then(Value::as_str), value.as_str())
        && !matches(pattern, text)
    {
        errors.push(format!("{at} must match the pattern `{pattern}`, not {value}"));
    }
    combinators(schema, value, path, matches, errors);
    match value {
        Value::Object(map) => {
            for key in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
            {
                if !map.contains_key(key) {
                    errors.push(format!("{at}: required field `{key}` is missing"));
                }
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            let preserve = flag("x-kubernetes-preserve-unknown-fields");
            let embedded = flag("x-kubernetes-embedded-resource");
            for (key, child) in map {
                let child_path = format!("{path}.{key}");
                if let Some(sub) = properties.and_then(|p| p.get(key)) {
                    node(sub, child, &child_path, structural, matches, errors);
                } else if let Some(sub) = additional.filter(|a| a.is_object()) {
                    node(sub, child, &child_path, structural, matches, errors);
                } else if embedded && matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                } else if structural && !preserve && additional != Some(&Value::Bool(true)) {
                    errors.push(format!("{child_path}: unknown field `{key}`"));
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    node(item_schema, item, &format!("{path}[{i}]"), structural, matches, errors);
                }
            }
        }
        _ => {}
    }
}

fn bounds(schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let number = |key: &str| schema.get(key).and_then(Value::as_f64);
    let count = |key: &str| schema.get(key).and_then(Value::as_u64);
    if let Some(n) = value.as_f64() {
        if let Some(min) = number("minimum")
            && (n < min || (n == min && schema.get("exclusiveMinimum") == Some(&Value::Bool(true))))
        {
            errors.push(format!("{at} must be at least {min}, not {value}"));
        }
        if let Some(max) = number("maximum")
            && (n > max || (n == max && schema.get("exclusiveMaximum") == Some(&Value::Bool(true))))
        {
            errors.push(format!("{at} must be at most {max}, not {value}"));
        }
    }
    let size = match value {
        Value::String(s) => Some(("minLength", "maxLength", s.chars().count(), "characters")),
        Value::Array(a) => Some(("minItems", "maxItems", a.len(), "items")),
        Value::Object(o) => Some(("minProperties", "maxProperties", o.len(), "fields")),
        _ => None,
    };
    if let Some((min_key, max_key, len, unit)) = size {
        let len = len as u64;
        if let Some(min) = count(min_key).filter(|min| len < *min) {
            errors.push(format!("{at} must have at least {min} {unit}, not {len}"));
        }
        if let Some(max) = count(max_key).filter(|max| len > *max) {
            errors.push(format!("{at} must have at most {max} {unit}, not {len}"));
        }
    }
}

fn combinators(schema: &Value, value: &Value, path: &str, matches: PatternMatcher<'_>, errors: &mut Vec<String>) {
    let at = if path.is_empty() { "." } else { path };
    let passes = |branch: &Value| {
        let mut branch_errors = Vec::new();
        node(branch, value, path, false, matches, &mut branch_errors);
        branch_errors.is_empty()
    };
    let branches = |key: &str| schema.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    // `x-kubernetes-int-or-string` comes with `anyOf: [{type: integer}, {type: string}]`, already
    // enforced above.
    if !branches("anyOf").is_empty() && !branches("anyOf").iter().any(passes) {
        errors.push(format!("{at} matches none of the `anyOf` alternatives"));
    }
    if !branches("oneOf").is_empty() {
        let n = branches("oneOf").iter().filter(|b| passes(b)).count();
        if n != 1 {
            errors.push(format!("{at} must match exactly one `oneOf` alternative, matches {n}"));
        }
    }
    for (i, branch) in branches("allOf").iter().enumerate() {
        if !passes(branch) {
            errors.push(format!("{at} fails `allOf` alternative {i}"));
        }
    }
    if let Some(not) = schema.get("not")
        && passes(not)
    {
        errors.push(format!("{at} must not match the `not` schema"));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn crd() -> Crd {
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "spec": {
                "group": "example.com",
                "names": {"kind": "Widget"},
                "versions": [
                    {"name": "v1alpha1", "served": false, "schema": {"openAPIV3Schema": {"type": "object"}}},
                    {"name": "v1", "served": true, "schema": {"openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1, "maximum": 10},
                                    "mode": {"type": "string", "enum": ["a", "b"]},
                                    "port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                                    "tags": {"type": "array", "maxItems": 2, "items": {"type": "string"}},
                                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                    "choice": {"type": "object", "properties": {"x": {"type": "string"}, "y": {"type": "string"}},
                                               "oneOf": [{"required": ["x"]}, {"required": ["y"]}]}
                                }
                            }
                        }
                    }}}
                ]
            }
        });
        Crd::from_value(&crd).unwrap_or_else(|e| panic!("{e}"))
    }

    fn widget(spec: Value) -> Value {
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "labels": {"a": "b"}}, "spec": spec})
    }

    #[test]
    fn a_valid_resource_passes() {
        let mut catalog = Catalog::default();
        catalog.add(crd());
        let ok = widget(json!({"size": 3, "mode": "a", "port": "http", "tags": ["x"], "extra": {"anything": [1]},
                               "labels": {"k": "v"}, "choice": {"x": "1"}}));
        assert_eq!(catalog.validate(&ok), Ok(()));
    }

    #[test]
    fn unknown_fields_wrong_types_and_bounds_fail() {
        let mut catalog = Catalog::default();
        catalog.add(crd());
        let bad = widget(json!({"size": 11, "mode": "c", "port": 1.5, "tags": ["x", "y", 3], "labels": {"k": 1},
                                "colour": "red", "choice": {"x": "1", "y": "2"}}));
        let mut bad = bad;
        bad["metadata"]["uid"] = json!("1");
        bad["status"] = json!({});
        assert_eq!(
            catalog.validate(&bad),
            Err(vec![
                ".metadata.uid: unknown field `uid`".to_owned(),
                ".spec.choice must match exactly one `oneOf` alternative, matches 2".into(),
                ".spec.colour: unknown field `colour`".into(),
                ".spec.labels.k must be of type string, not integer".into(),
                ".spec.mode must be one of \"a\", \"b\", not \"c\"".into(),
                ".spec.port must be an integer or a string, not number".into(),
                ".spec.size must be at most 10, not 11".into(),
                ".spec.tags must have at most 2 items, not 3".into(),
                ".spec.tags[2] must be of type string, not integer".into(),
                ".status: unknown field `status`".into(),
            ])
        );
        let missing = widget(json!({}));
        assert_eq!(catalog.validate(&missing), Err(vec![".spec: required field `size` is missing".to_owned()]));
    }

    #[test]
    fn unknown_kinds_and_versions_are_named() {
        let mut catalog = Catalog::default();
        catalog.add(crd());
        let mut old = widget(json!({"size": 1}));
        old["apiVersion"] = json!("example.com/v1alpha1");
        assert_eq!(
            catalog.validate(&old),
            Err(vec!["Widget.example.com does not serve version `v1alpha1` (it serves v1)".to_owned()])
        );
        old["kind"] = json!("Gadget");
        assert_eq!(
            catalog.validate(&old),
            Err(vec!["no CustomResourceDefinition for Gadget in group `example.com`".to_owned()])
        );
    }

    #[test]
    fn built_in_groups_are_told_apart_from_custom_ones() {
        for builtin in
            ["v1", "apps/v1", "policy/v1", "autoscaling/v2", "networking.k8s.io/v1", "rbac.authorization.k8s.io/v1"]
        {
            assert!(is_builtin(builtin), "{builtin}");
        }
        for custom in [
            "telemetry.istio.io/v1",
            "monitoring.coreos.com/v1",
            "opentelemetry.io/v1alpha1",
            "gateway.networking.k8s.io/v1",
        ] {
            assert!(!is_builtin(custom), "{custom}");
        }
    }
}
