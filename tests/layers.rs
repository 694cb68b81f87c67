//! Profile layering: two cluster profiles over one base (`examples/layering/`) render outputs that
//! differ only where their overrides say; errors name the file and line the bad value came from,
//! in the base or the override; cycles and missing bases are refused; `render` renders leaf
//! profiles only; several files merge in order and `--set` goes last.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use support::TempDir;
use tracestack::Profile;
use tracestack::model::load;
use tracestack::render::{self, Source};

const EXAMPLE: &str = "examples/layering";

fn layered(files: &[&str], sets: &[&str]) -> Result<tracestack::model::layers::Layered, String> {
    let files: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
    let sets: Vec<String> = sets.iter().map(|s| (*s).to_owned()).collect();
    load::load_layered(&files, &sets).map_err(|e| e.to_string())
}

fn example(cluster: &str) -> Profile {
    layered(&[&format!("{EXAMPLE}/{cluster}.yaml")], &[]).unwrap_or_else(|e| panic!("{e}")).profile
}

/// The files of `profile`, rendered under one name so that only the profile's values differ.
fn files(profile: &Profile) -> BTreeMap<String, String> {
    let source = Source { profile: "cluster".into(), origin: "cluster.yaml".into() };
    render::render_profile(profile, &source).unwrap_or_else(|e| panic!("{e}")).files
}

#[test]
fn a_cluster_profile_is_its_base_with_its_overrides() {
    let base = load::load_file(Path::new(&format!("{EXAMPLE}/bases/production.yaml"))).expect("the base loads alone");
    let mut eu = base.clone();
    let tracestack::model::profile::StorageSpec::Elasticsearch(es) = &mut eu.jaeger.storage else {
        panic!("the base stores in Elasticsearch")
    };
    es.server_urls = vec!["https://es-eu-west.elastic-system.svc:9200".into()];
    eu.monitoring.labels.insert("release".into(), "kube-prometheus-eu".into());
    assert_eq!(example("eu-west"), eu, "eu-west is the base with its two overrides and nothing else");

    let mut us = base;
    let tracestack::model::profile::StorageSpec::Elasticsearch(es) = &mut us.jaeger.storage else { unreachable!() };
    es.server_urls = vec!["https://es-us-east.elastic-system.svc:9200".into()];
    us.environment = "production-us".into();
    assert_eq!(example("us-east"), us, "us-east is the base with its two overrides and nothing else");
}

#[test]
fn two_clusters_over_one_base_render_differently_only_where_their_overrides_say() {
    let eu = files(&example("eu-west"));
    let us = files(&example("us-east"));
    assert_eq!(eu.keys().collect::<Vec<_>>(), us.keys().collect::<Vec<_>>(), "the same files");
    // Every line that differs carries one of the overrides, or is the config hash on a pod
    // template (which changes with the config it hashes).
    let eu_values = ["es-eu-west", "kube-prometheus-eu"];
    let us_values = ["es-us-east", "production-us"];
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut differing = Vec::new();
    for (file, eu_text) in &eu {
        let us_text = &us[file];
        if eu_text == us_text {
            continue;
        }
        differing.push(file.clone());
        let (eu_lines, us_lines): (Vec<&str>, Vec<&str>) = (eu_text.lines().collect(), us_text.lines().collect());
        assert_eq!(eu_lines.len(), us_lines.len(), "{file}: the same shape, only values differ");
        for (a, b) in eu_lines.iter().zip(&us_lines).filter(|(a, b)| a != b) {
            if a.contains("checksum/config") {
                continue;
            }
            let explained = |line: &str, values: &[&'static str], seen: &mut BTreeMap<&str, usize>| {
                let found = values.iter().find(|v| line.contains(**v));
                if let Some(v) = found {
                    *seen.entry(v).or_default() += 1;
                }
                found.is_some()
            };
            // A line may differ by the other cluster's value alone (eu-west keeps `production`).
            let by_eu = explained(a, &eu_values, &mut seen);
            let by_us = explained(b, &us_values, &mut seen);
            assert!(by_eu || by_us, "{file}: a difference no override explains:\n  eu-west: {a}\n  us-east: {b}");
        }
    }
    for value in eu_values.iter().chain(&us_values) {
        assert!(seen.contains_key(value), "override `{value}` shows in no rendered file (differing: {differing:?})");
    }
    assert!(differing.len() < eu.len() / 2, "most files are shared: {differing:?}");
}

#[test]
fn explain_names_the_layer_in_effect_and_the_ones_it_overrides() {
    let eu = layered(&[&format!("{EXAMPLE}/eu-west.yaml")], &[]).expect("loads");
    let text = eu.explain("monitoring.labels.release").expect("a field").to_string();
    assert_eq!(
        text,
        "monitoring.labels.release: kube-prometheus-eu\n  set by examples/layering/eu-west.yaml:14:14\n  overrides examples/layering/bases/production.yaml:32:14"
    );
    let text = eu.explain("environment").expect("a field").to_string();
    assert_eq!(text, "environment: production\n  set by examples/layering/bases/production.yaml:7:14");
    let text = eu.explain("collector.replicas").expect("a field").to_string();
    assert_eq!(
        text,
        "collector.replicas: null\n  planned: 2–3 pods, autoscaled (derived from `load`)\n  the default: no layer sets it"
    );
    let text = eu.explain("collector.log_level").expect("a field").to_string();
    assert!(text.starts_with("collector.log_level: info\n  the default: no layer sets it"), "{text}");
    let set = layered(&[&format!("{EXAMPLE}/eu-west.yaml")], &["collector.log_level=debug"]).expect("loads");
    assert_eq!(
        set.explain("collector.log_level").expect("a field").to_string(),
        "collector.log_level: debug\n  set by --set collector.log_level=debug"
    );
    assert_eq!(
        eu.explain("collector.replica").expect_err("no such field"),
        "the profile has no field `collector.replica` (a dotted path, e.g. `collector.replicas` or `apps[0].name`)"
    );
}

#[test]
fn errors_point_at_the_file_and_line_the_bad_value_came_from() {
    let dir = TempDir::new("layers-errors");
    dir.write("bases/base.yaml", "namespace: observability\ncollector:\n  replicas: 0\n");
    let leaf = dir.write("leaf.yaml", "extends: bases/base.yaml\nenvironment: staging\n");
    let error = load::load_file(&leaf).expect_err("replicas 0 in the base").to_string();
    let base = dir.0.join("bases/base.yaml");
    assert_eq!(
        error,
        format!("{}:3:13: `collector.replicas`: must be at least 1 (got 0)\n     3 |   replicas: 0", base.display())
    );
    let leaf = dir.write("leaf.yaml", "extends: bases/base.yaml\n\ncollector:\n  replicas: 2\n  replica: 3\n");
    let error = load::load_file(&leaf).expect_err("a misspelt key in the leaf").to_string();
    assert!(
        error.starts_with(&format!("{}:5:3: `collector.replica`: unknown field `replica`", leaf.display())),
        "{error}"
    );
    assert!(error.contains("(did you mean `replicas`?)"), "{error}");
    // The override fixes the base: a leaf value wins.
    let leaf = dir.write("leaf.yaml", "extends: bases/base.yaml\ncollector:\n  replicas: 2\n");
    assert_eq!(load::load_file(&leaf).expect("the leaf overrides the bad value").collector.replicas, Some(2));
    // Removing an inherited entry with null gives the default back.
    let leaf = dir.write("leaf.yaml", "extends: bases/base.yaml\ncollector:\n  replicas: null\n");
    assert_eq!(load::load_file(&leaf).expect("null removes").collector.replicas, None);
    // A syntax error in a base is reported in the base.
    dir.write("bases/broken.yaml", "collector:\n  replicas: [1\n");
    let leaf = dir.write("leaf.yaml", "extends: bases/broken.yaml\n");
    let error = load::load_file(&leaf).expect_err("broken base").to_string();
    assert!(error.starts_with(&dir.0.join("bases/broken.yaml").display().to_string()), "{error}");
    assert!(error.contains("is not valid YAML"), "{error}");
}

#[test]
fn a_base_that_is_missing_or_extends_its_own_child_is_refused() {
    let dir = TempDir::new("layers-cycles");
    let leaf = dir.write("leaf.yaml", "extends: bases/none.yaml\n");
    let error = load::load_file(&leaf).expect_err("missing base").to_string();
    assert!(
        error.contains("leaf.yaml:1:10: `extends`: names `")
            && error.contains("bases/none.yaml`, which does not exist"),
        "{error}"
    );
    dir.write("a.yaml", "extends: b.yaml\n");
    dir.write("b.yaml", "extends: c.yaml\n");
    let c = dir.write("c.yaml", "extends: a.yaml\n");
    let error = load::load_file(&c).expect_err("a cycle").to_string();
    let p = |name: &str| dir.0.join(name).display().to_string();
    assert_eq!(
        error,
        format!(
            "{}:1:10: `extends`: makes a cycle: {} → {} → {} → {}; a base cannot extend a profile that extends it\n     1 | extends: c.yaml",
            p("b.yaml"),
            p("c.yaml"),
            p("a.yaml"),
            p("b.yaml"),
            p("c.yaml")
        )
    );
    let itself = dir.write("self.yaml", "extends: self.yaml\n");
    assert!(load::load_file(&itself).expect_err("itself").to_string().contains("makes a cycle"));
    let list = dir.write("list.yaml", "extends: [a.yaml]\n");
    assert!(load::load_file(&list).expect_err("a list").to_string().contains("must name the base profile file"));
}

#[test]
fn files_merge_in_order_and_set_goes_last() {
    let dir = TempDir::new("layers-order");
    let a = dir.write(
        "a.yaml",
        "collector:\n  replicas: 2\n  log_level: warn\napps:\n  - {name: a, namespace: shop, language: go}\n",
    );
    let b = dir.write("b.yaml", "collector:\n  replicas: 3\n");
    let files = [a.clone(), b.clone()];
    let layered = load::load_layered(&files, &[]).expect("merges");
    assert_eq!(layered.name, "b", "the last file names the profile");
    assert_eq!(layered.profile.collector.replicas, Some(3));
    assert_eq!(layered.profile.collector.log_level.as_str(), "warn", "maps merge by key");
    let sets =
        ["collector.replicas=4".to_owned(), "apps[0].language=java".to_owned(), "collector.log_level=".to_owned()];
    let layered = load::load_layered(&files, &sets).expect("sets apply");
    assert_eq!(layered.profile.collector.replicas, Some(4));
    assert_eq!(layered.profile.apps[0].language.as_str(), "java");
    assert_eq!(layered.profile.collector.log_level.as_str(), "info", "an empty --set removes the field");
    let error = load::load_layered(&files, &["apps[3].name=x".to_owned()]).expect_err("past the end").to_string();
    assert_eq!(
        error,
        "--set apps[3].name=x: `apps` has 1 item(s), so `apps[3]` is past its end; set the whole list instead"
    );
    let error = load::load_layered(&files, &["collector.replicas=-1".to_owned()]).expect_err("a bad value").to_string();
    assert!(error.starts_with("--set collector.replicas=-1:1:20: `collector.replicas`:"), "{error}");
    // A base two files share is merged once, before the first: the second file's chain does not
    // bring it back over the first file's overrides.
    let both =
        load::load_layered(&[format!("{EXAMPLE}/eu-west.yaml").into(), format!("{EXAMPLE}/us-east.yaml").into()], &[])
            .expect("merges");
    assert_eq!(
        both.layers.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
        ["examples/layering/bases/production.yaml", "examples/layering/eu-west.yaml", "examples/layering/us-east.yaml"]
    );
    assert_eq!(both.profile.monitoring.labels["release"], "kube-prometheus-eu", "eu-west's override stays");
    assert_eq!(both.profile.environment, "production-us");
    // Lists replace: a later `apps` is the whole list.
    let c = dir.write("c.yaml", "apps: []\n");
    let layered = load::load_layered(&[a, b, c], &[]).expect("merges");
    assert!(layered.profile.apps.is_empty());
}

#[test]
fn render_all_renders_leaf_profiles_only() {
    let dir = TempDir::new("layers-render-all");
    dir.write("profiles/bases/base.yaml", "environment: staging\n");
    dir.write("profiles/one.yaml", "extends: bases/base.yaml\n");
    dir.write("profiles/two.yaml", "extends: bases/base.yaml\nsampling: {percentage: 50}\n");
    let files = tracestack::io::project::render_all(&dir.0.join("profiles")).unwrap_or_else(|e| panic!("{e:?}"));
    let profiles: std::collections::BTreeSet<&str> = files.keys().filter_map(|k| k.split('/').next()).collect();
    assert_eq!(profiles.into_iter().collect::<Vec<_>>(), ["one", "schema", "two"], "the base is not rendered");
    // A profile of the directory that another extends is a base in the wrong place.
    dir.write("profiles/three.yaml", "extends: one.yaml\n");
    let errors = tracestack::io::project::render_all(&dir.0.join("profiles")).expect_err("one is a base");
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 1, "{text:?}");
    assert!(
        text[0].contains("one.yaml") && text[0].contains("is extended by") && text[0].contains("move it into `bases/`"),
        "{}",
        text[0]
    );
}

#[test]
fn a_profile_serialises_back_to_yaml_that_loads_to_the_same_profile() {
    for cluster in ["eu-west", "us-east"] {
        let profile = example(cluster);
        let yaml = tracestack::format::yaml::to_string(&profile).expect("serialises");
        let again = load::load_str("round-trip.yaml", &yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        assert_eq!(again, profile, "{cluster}");
    }
    for path in ["profiles/demo.yaml", "profiles/istio-demo.yaml", "profiles/prod-elasticsearch.yaml"] {
        let profile = load::load_file(Path::new(path)).expect("loads");
        let yaml = tracestack::format::yaml::to_string(&profile).expect("serialises");
        assert_eq!(load::load_str(path, &yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}")), profile, "{path}");
    }
}
