//! Cross-checks the generated component table against the shared `components.json`: every
//! (distribution, version, kind, type) the JSON lists must ship, and nothing else may.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use tracestack::collector::distribution::{ComponentKind, Distribution, Version, known_versions, ships, types};

const JSON: &str = "../shared/schemas/collector/components.json";

#[test]
fn table_matches_components_json() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(JSON);
    if !path.exists() {
        eprintln!("SKIPPED: {JSON} not found; component table not cross-checked");
        return;
    }
    let text = std::fs::read_to_string(&path).expect("read components.json");
    let json: Value = serde_json::from_str(&text).expect("components.json is JSON");
    let distributions = json["distributions"].as_object().expect("`distributions` object");
    let sets = json["sets"].as_object().expect("`sets` object");

    let names: BTreeSet<&str> = distributions.keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = Distribution::ALL.iter().map(|d| d.name()).collect();
    assert_eq!(names, expected, "distributions in the JSON vs Distribution::ALL");

    // Membership facts checked in each direction; they must come out equal.
    let mut json_facts = 0usize;
    let mut table_facts = 0usize;
    for (name, versions) in distributions {
        let d = Distribution::parse(name).expect("known distribution");
        let versions = versions.as_object().expect("version -> set id");

        let json_versions: BTreeSet<Version> =
            versions.keys().map(|v| Version::parse(v).unwrap_or_else(|| panic!("{name}: bad version {v}"))).collect();
        let table_versions: BTreeSet<Version> = known_versions(d).iter().copied().collect();
        assert_eq!(json_versions, table_versions, "{name}: versions");
        assert_eq!(known_versions(d).len(), versions.len(), "{name}: duplicates");

        for (version, set_id) in versions {
            let v = Version::parse(version).expect("checked above");
            let set_id = set_id.as_str().expect("set id string");
            let set = &sets[set_id];
            for kind in ComponentKind::ALL {
                let listed: BTreeSet<&str> = set[kind.plural()]
                    .as_array()
                    .unwrap_or_else(|| panic!("sets.{set_id}.{} array", kind.plural()))
                    .iter()
                    .map(|t| t.as_str().expect("type name string"))
                    .collect();
                // JSON -> table.
                for type_name in &listed {
                    assert_eq!(
                        ships(d, v, kind, type_name),
                        Ok(true),
                        "{name} {version} should ship {kind} `{type_name}`"
                    );
                    json_facts += 1;
                }
                // Table -> JSON.
                let shipped = types(d, v, kind).expect("known version");
                for type_name in &shipped {
                    assert!(listed.contains(type_name), "{name} {version} should not ship {kind} `{type_name}`");
                    table_facts += 1;
                }
                assert_eq!(shipped.len(), listed.len(), "{name} {version} {kind}");
            }
        }
    }
    assert_eq!(json_facts, table_facts);
    assert!(json_facts > 0);
    eprintln!("checked {json_facts} (distribution, version, kind, type) facts in both directions");
}
