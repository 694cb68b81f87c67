//! `yaml::to_string` lays out block YAML itself and leaves every scalar it cannot prove plain to
//! serde-saphyr; these tests hold its bytes equal to serde-saphyr's own output for every document
//! of every built-in profile and of 300 profile variants, and for 20,000 random documents built
//! from strings YAML treats specially, and a document nested 45 levels deep.

mod support;
#[allow(dead_code)]
#[path = "../benches/workload/mod.rs"]
mod workload;

use serde::Serialize;
use serde_json::{Map, Value};
use support::Rng;
use tracestack::Stack;
use tracestack::format::yaml;
use tracestack::render::DocumentBody;

#[track_caller]
fn assert_same<T: Serialize>(what: &str, value: &T) {
    let fast = yaml::to_string(value).unwrap_or_else(|e| panic!("{what}: {e}"));
    let reference = yaml::with_serde_saphyr(value).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(fast == reference, "{what}: the writers differ\n--- to_string\n{fast}\n--- serde-saphyr\n{reference}");
}

/// Every object, config and YAML document a stack renders.
fn stack_documents(name: &str, stack: Stack) -> usize {
    let mut count = 0;
    for config in stack.configs() {
        assert_same(&format!("{name}: {} config", config.workload), &config.config);
        count += 1;
    }
    let parts = stack.into_parts().unwrap_or_else(|e| panic!("{name}: {e}"));
    for object in parts.bundles.iter().flat_map(|b| &b.objects) {
        assert_same(&format!("{name}: {} {}", object.kind(), object.name()), &object.manifest());
        count += 1;
    }
    for doc in &parts.documents {
        if let DocumentBody::Yaml(value) = &doc.body {
            assert_same(&format!("{name}: {}", doc.path), &tracestack::config::k8s::Ordered::new(value.clone()));
            count += 1;
        }
    }
    count
}

#[test]
fn every_document_of_every_profile_and_variant_is_written_as_serde_saphyr_writes_it() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    let mut profiles = workload::builtin_profiles(&dir).unwrap_or_else(|e| panic!("{e}"));
    profiles.extend(workload::variants(300));
    let mut documents = 0;
    for profile in &profiles {
        let loaded =
            tracestack::model::load::load_str(&profile.origin, &profile.text).unwrap_or_else(|e| panic!("{e}"));
        let stack = Stack::build(&loaded).unwrap_or_else(|e| panic!("{}: {e}", profile.name));
        documents += stack_documents(&profile.name, stack);
    }
    assert!(documents > 7_000, "only {documents} documents compared");
}

/// Strings YAML reads specially, or that sit on the edge of what is plain.
const TRICKY: &[&str] = &[
    "",
    " ",
    "a",
    "y",
    "Y",
    "n",
    "No",
    "yes",
    "ON",
    "off",
    "true",
    "False",
    "null",
    "Null",
    "~",
    "nan",
    ".nan",
    "inf",
    "-inf",
    ".Inf",
    "0",
    "1",
    "-1",
    "+1",
    "01",
    "0x1F",
    "0o17",
    "0b101",
    "1_000",
    "1.5",
    "1e3",
    "6.",
    ".5",
    "1:30",
    "190:20:30",
    "2024-01-01",
    "2024-01-01T10:00:00Z",
    "<<",
    "=",
    "-",
    "--",
    "---",
    "...",
    "- a",
    "? a",
    "a: b",
    "a:",
    ":a",
    "a:b",
    "a #b",
    "a#b",
    "#a",
    "&a",
    "*a",
    "!a",
    "|",
    ">",
    "'a'",
    "\"a\"",
    "%a",
    "@a",
    "`a",
    "a,b",
    "[a]",
    "{a}",
    "a b",
    " a",
    "a ",
    "a\tb",
    "a\nb",
    "a\n",
    "a\n\n",
    "\n",
    "\na",
    " a\nb\n",
    "a\n b\n",
    "a\r\nb",
    "é",
    "ü:ber",
    "\u{2028}",
    "\u{feff}a",
    "a\u{85}b",
    "1.0.0",
    "v1",
    "http://a:80/b",
    "--config=/a.yaml",
    "512Mi",
    "100m",
    "10s",
    "app.kubernetes.io/name",
    "a-b_c.d/e",
    "A1",
    "z9-",
    "a.",
    "a/",
    "a_",
    "x-y:z",
    "key: value\nother: 2\n",
    "  indented\nblock\n",
    "line\n  more\n",
    "trailing \nspace\n",
    "tab\tline\n",
];

fn random_string(rng: &mut Rng) -> String {
    if rng.below(3) == 0 {
        return (*rng.pick(TRICKY)).to_owned();
    }
    let alphabet: Vec<char> = "abcXYZ0129-_./:#@ '\"\n\t{}[],&*!|>%`=~?é\u{2028}".chars().collect();
    (0..rng.below(12)).map(|_| *rng.pick(&alphabet)).collect()
}

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    let leaf = depth >= 4 || rng.below(3) == 0;
    match if leaf { rng.below(6) } else { 6 + rng.below(2) } {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::from(rng.next() as i64 >> rng.below(64)),
        3 => Value::from(f64::from(u32::try_from(rng.below(100_000)).unwrap_or(0)) / 8.0),
        4 | 5 => Value::String(random_string(rng)),
        6 => Value::Array((0..rng.below(4)).map(|_| random_value(rng, depth + 1)).collect()),
        _ => {
            let mut map = Map::new();
            for _ in 0..rng.below(4) {
                let key = if rng.below(2) == 0 {
                    (*rng.pick(&["name", "spec", "a.b/c", "x-y"])).to_owned()
                } else {
                    random_string(rng)
                };
                map.insert(key, random_value(rng, depth + 1));
            }
            Value::Object(map)
        }
    }
}

#[test]
fn random_documents_are_written_as_serde_saphyr_writes_them() {
    let mut rng = Rng(0x005e_ed0f_7ace);
    for case in 0..20_000 {
        let value = random_value(&mut rng, 0);
        assert_same(&format!("case {case}: {value}"), &value);
    }
}

#[test]
fn the_tricky_strings_are_quoted_where_yaml_1_1_would_read_them_as_something_else() {
    // A few outcomes spelled out, so the writer's plain fast path cannot drift unnoticed.
    let cases = [("on", "\"on\"\n"), ("n", "\"n\"\n"), ("1:30", "\"1:30\"\n"), ("2.20.0", "\"2.20.0\"\n")];
    for (input, written) in cases {
        assert_eq!(yaml::to_string(&input).expect("serialises"), written, "{input}");
    }
    let map = std::collections::BTreeMap::from([("image", "jaegertracing/jaeger:2.20.0"), ("y", "yes")]);
    assert_eq!(yaml::to_string(&map).expect("serialises"), "image: jaegertracing/jaeger:2.20.0\n\"y\": \"yes\"\n");
}

#[test]
fn deep_nesting_and_long_blocks_are_written_as_serde_saphyr_writes_them() {
    // Indentation past the writer's 64-space chunk, in maps and in sequences, with a literal block
    // at the bottom.
    let mut value = Value::String("first line\n  second, indented\n\nlast\n".into());
    for depth in 0..45 {
        value = if depth % 3 == 0 {
            Value::Array(vec![value, Value::from(depth)])
        } else {
            serde_json::json!({ "k": value })
        };
    }
    assert_same("45 levels", &value);
}
