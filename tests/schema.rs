//! The profile JSON Schema is as strict as the loader wherever JSON Schema can say the rule: every
//! case of the bad-profile corpus (`tests/bad/`) is rejected by the schema too, except those listed
//! in [`NOT_EXPRESSIBLE`] with the reason; and the schema accepts every profile the loader does
//! (the built-in ones, the layering example, the extension example).

use std::path::Path;

use tracestack::model::load;
use tracestack::model::schema::profile_schema;

/// Bad profiles whose defect JSON Schema cannot express, with why.
const NOT_EXPRESSIBLE: &[(&str, &str)] = &[
    ("alias-bomb.yaml", "aliases that expand beyond what a YAML reader takes: there is no data to check"),
    ("alias-bomb-merge-keys.yaml", "a limit on how far aliases expand: the data they expand to is valid"),
    ("batch-max-below-size.yaml", "a relation between two fields' values"),
    ("distribution-lacks-components.yaml", "the component table per distribution and version"),
    ("duplicate-key.yaml", "YAML syntax: the data has one of the keys"),
    ("jaeger-version-lacks-components.yaml", "the component table per version"),
    ("load-beyond-any-replica-bound.yaml", "sizes derived from `load`"),
    ("load-too-much-for-memory-storage.yaml", "sizes derived from `load` and sampling"),
    ("memory-limit-too-large.yaml", "the magnitude of a quantity with a suffix"),
    ("memory-limit-under-32mi.yaml", "the magnitude of a quantity with a suffix"),
    ("multiple-documents.yaml", "YAML syntax: a second document"),
    ("not-utf8.yaml", "bytes that are not text"),
    ("quantity-too-large.yaml", "the magnitude of a quantity"),
    ("request-above-limit.yaml", "a relation between two fields' values"),
    ("all-in-one-replicas-two.yaml", "a relation between the storage chosen and a role's replicas"),
    ("schedule-hour-24.yaml", "the range of a cron field"),
    ("syntax-bad-indentation.yaml", "YAML syntax"),
    ("syntax-unclosed-bracket.yaml", "YAML syntax"),
    ("tag-custom.yaml", "YAML tags, which do not survive into the data"),
    ("tag-include.yaml", "YAML tags, which do not survive into the data"),
    ("tag-python.yaml", "YAML tags, which do not survive into the data"),
];

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(&profile_schema().expect("schema")).expect("JSON");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles")
}

/// The data of a YAML file as an editor's schema check sees it; `None` when it is not YAML data.
fn data(path: &Path) -> Option<serde_json::Value> {
    let bytes = std::fs::read(path).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Some(serde_json::Value::Null);
    }
    serde_saphyr::from_str::<serde_json::Value>(text).ok()
}

fn errors(validator: &jsonschema::Validator, value: &serde_json::Value) -> Vec<String> {
    validator.iter_errors(value).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

#[test]
fn the_schema_rejects_every_bad_profile_it_can_express() {
    let validator = validator();
    let mut files: Vec<String> = std::fs::read_dir("tests/bad")
        .expect("tests/bad")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    for (file, _) in NOT_EXPRESSIBLE {
        assert!(files.iter().any(|f| f == file), "{file} is listed but not in tests/bad");
    }
    let mut accepted = Vec::new();
    for file in &files {
        let path = Path::new("tests/bad").join(file);
        assert!(load::load_file(&path).is_err() || file.ends_with("lacks-components.yaml"), "{file} loads");
        if NOT_EXPRESSIBLE.iter().any(|(f, _)| f == file) {
            continue;
        }
        let value = data(&path).unwrap_or_else(|| panic!("{file}: not YAML data; list it in NOT_EXPRESSIBLE"));
        if validator.is_valid(&value) {
            accepted.push(file.clone());
        }
    }
    assert!(accepted.is_empty(), "the schema accepts bad profiles the loader refuses: {accepted:#?}");
}

#[test]
fn the_schema_accepts_every_profile_the_loader_does() {
    let validator = validator();
    let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir("profiles")
        .expect("profiles")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.extend(
        ["examples/layering/eu-west.yaml", "examples/layering/us-east.yaml", "examples/layering/bases/production.yaml"]
            .map(Into::into),
    );
    paths.push("tests/extensions/everything.yaml".into());
    for path in &paths {
        load::load_file(path).unwrap_or_else(|e| panic!("{e}"));
        let value = data(path).expect("YAML data");
        let found = errors(&validator, &value);
        assert!(found.is_empty(), "{}: the schema refuses a profile the loader accepts:\n{found:#?}", path.display());
    }
    // The merged form of a layered profile too (what `--explain` and tools that generate profiles
    // see), serialised back from the loaded profile.
    for path in &paths {
        let profile = load::load_file(path).expect("loads");
        let value = serde_json::to_value(&profile).expect("serialises");
        let found = errors(&validator, &value);
        assert!(found.is_empty(), "{} serialised: {found:#?}", path.display());
    }
}

#[test]
fn the_schema_states_rules_the_types_alone_do_not() {
    let validator = validator();
    let refused = |yaml: &str| {
        let value: serde_json::Value = serde_saphyr::from_str(yaml).expect("YAML");
        !validator.is_valid(&value)
    };
    // One case per kind of rule: range, pattern, enum, one-of, formats, conditional.
    assert!(refused("collector: {autoscaling: {target_cpu_percent: 5}}"));
    assert!(refused("pods: {labels: {app.kubernetes.io/name: x}}"));
    assert!(refused("pods: {tolerations: [{key: k, effect: NoSchedul}]}"));
    assert!(refused("pods: {env: [{name: A, value: x, secret: {name: s, key: k}}]}"));
    assert!(refused("pods: {env: [{name: A}]}"));
    assert!(refused("pods: {image_pull_secrets: [Bad_Name]}"));
    assert!(refused("security: {network_policy: {dns: {node_local_address: 169.254.20}}}"));
    assert!(refused("monitoring: {enabled: true, queue_alert_ratio: 2}"));
    assert!(!refused("monitoring: {enabled: false, queue_alert_ratio: 2}"), "off, monitoring is not checked");
    assert!(refused("jaeger: {ingress: {host: Jaeger.Example.com}}"));
    assert!(refused("extends: ''"));
    assert!(!refused("extends: bases/production.yaml\ncollector: {replicas: 2}"));
}

/// The schema node at a dotted `path` (`apps[].name` steps into list items), through `$ref`,
/// `anyOf`/`oneOf` and option variants.
fn resolve<'a>(root: &'a serde_json::Value, node: &'a serde_json::Value, path: &[&str]) -> bool {
    let node = match node.get("$ref").and_then(|r| r.as_str()) {
        Some(r) => r.trim_start_matches("#/").split('/').fold(root, |n, part| &n[part]),
        None => node,
    };
    let Some((first, rest)) = path.split_first() else { return true };
    let alternatives =
        ["anyOf", "oneOf", "allOf"].iter().filter_map(|k| node.get(*k)).filter_map(|v| v.as_array()).flatten();
    for alternative in alternatives {
        if resolve(root, alternative, path) {
            return true;
        }
    }
    // A final `*` stands for every field of an object (`jaeger.storage.opensearch.*`).
    if *first == "*" && rest.is_empty() {
        return node.get("properties").and_then(|p| p.as_object()).is_some_and(|p| !p.is_empty());
    }
    if let Some(items) = node.get("items")
        && first.ends_with("[]")
    {
        let key = first.trim_end_matches("[]");
        return node.get("properties").is_none() && key.is_empty() && resolve(root, items, rest);
    }
    let (key, list) = match first.strip_suffix("[]") {
        Some(key) => (key, true),
        None => (*first, false),
    };
    // `<name>` stands for any key of a map.
    let child = if key.starts_with('<') {
        node.get("additionalProperties")
    } else {
        node.get("properties").and_then(|p| p.get(key))
    };
    match child {
        Some(child) if list => child.get("items").is_some_and(|items| resolve(root, items, rest)),
        Some(child) => resolve(root, child, rest),
        None => false,
    }
}

#[test]
fn the_readme_reference_and_the_schema_name_the_same_fields() {
    let schema: serde_json::Value = serde_json::from_str(&profile_schema().expect("schema")).expect("JSON");
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let start = readme.find("## Profile reference").expect("a Profile reference section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let top: Vec<&str> = schema["properties"].as_object().expect("properties").keys().map(String::as_str).collect();
    let mut named = std::collections::BTreeSet::new();
    let mut unknown = Vec::new();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let cell = row.split(" | ").next().unwrap_or_default();
        for token in cell.split('`').skip(1).step_by(2) {
            let Some(first) = token.split(['.', '[']).next() else { continue };
            if !top.contains(&first) {
                continue;
            }
            named.insert(first.to_owned());
            let path: Vec<&str> = token.split('.').collect();
            if !resolve(&schema, &schema, &path) {
                unknown.push(token.to_owned());
            }
        }
    }
    assert!(unknown.is_empty(), "README.md names fields the schema lacks: {unknown:?}");
    let missing: Vec<&&str> = top.iter().filter(|t| !named.contains(**t)).collect();
    assert!(missing.is_empty(), "schema fields the README's reference leaves out: {missing:?}");
}
