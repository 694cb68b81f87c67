//! `generated/` is what the profiles render, byte for byte, and every generated profile directory
//! is a kustomization from which `kubectl kustomize` builds exactly the objects of its files.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use support::rendered;
use tracestack::io::output;

#[test]
fn generated_is_fresh() {
    if let Err(e) = output::check_dir(Path::new("generated"), &rendered()) {
        panic!("{e}");
    }
}

#[test]
fn rendering_twice_gives_identical_bytes() {
    assert_eq!(rendered(), rendered());
}

#[test]
fn every_file_starts_with_the_generated_header_and_ends_with_a_newline() {
    for (path, text) in rendered() {
        assert!(output::is_generated(&text), "{path} lacks the generated-file marker");
        assert!(text.ends_with('\n'), "{path} does not end with a newline");
        assert!(!text.contains('\t') && !text.contains('\r'), "{path} contains a tab or CR");
    }
}

/// `(kind, namespace, name)` of an object.
type Identity = (String, String, String);

/// Empty lists and maps the API server drops on the way in (a NetworkPolicy rule's `ports: []`,
/// which also opens every port; a selector's `matchLabels: {}`): the stored object then differs
/// from the applied one, so every server-side apply writes it again.
#[test]
fn no_object_holds_an_empty_list_or_map_the_api_server_drops() {
    for (path, text) in rendered() {
        if !path.ends_with(".yaml") {
            continue;
        }
        for key in ["ports: []", "matchLabels: {}", "matchExpressions: []"] {
            assert!(!text.contains(key), "{path} holds `{key}`");
        }
    }
}

fn identity(object: &serde_json::Value) -> Identity {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    (text(&object["kind"]), text(&object["metadata"]["namespace"]), text(&object["metadata"]["name"]))
}

#[test]
fn kubectl_kustomize_builds_every_profile_into_exactly_its_objects() {
    if Command::new("kubectl").arg("version").arg("--client").output().is_err() {
        support::skip("kubectl not found; `kubectl kustomize` not checked");
        return;
    }
    let profiles = support::object_files();
    for (profile, files) in profiles {
        let expected: BTreeSet<Identity> =
            files.iter().map(|(file, text)| identity(&support::parse(&format!("{profile}/{file}"), text))).collect();
        assert_eq!(expected.len(), files.len(), "{profile}: two files hold one object");
        let dir = Path::new("generated").join(&profile);
        let out = Command::new("kubectl").arg("kustomize").arg(&dir).output().expect("kubectl runs");
        assert!(out.status.success(), "kubectl kustomize {}: {}", dir.display(), String::from_utf8_lossy(&out.stderr));
        let built = String::from_utf8_lossy(&out.stdout);
        let documents: Vec<&str> = built.split("\n---\n").filter(|doc| !doc.trim().is_empty()).collect();
        let objects: Vec<Identity> =
            documents.iter().map(|doc| identity(&support::parse(&format!("kustomize {profile}"), doc))).collect();
        let built_set: BTreeSet<Identity> = objects.iter().cloned().collect();
        assert_eq!(objects.len(), built_set.len(), "{profile}: kustomize emits an object twice: {objects:?}");
        assert_eq!(built_set, expected, "{profile}: kustomize output and the rendered files hold different objects");
    }
}

#[test]
fn kubectl_kustomize_builds_every_kustomization_with_every_object() {
    if Command::new("kubectl").arg("version").arg("--client").output().is_err() {
        eprintln!("SKIPPED: kubectl not found; `kubectl kustomize` not checked");
        return;
    }
    let files = rendered();
    // Every directory holding a kustomization: each profile's root, its `smoke-test/` and other
    // bundles. Kustomize Components (`kind: Component`, e.g. `apps/<name>/`) only build inside a
    // kustomization that owns their targets; tests/kustomize_components.rs covers those.
    let dirs: std::collections::BTreeSet<&str> = files
        .iter()
        .filter(|(_, text)| text.contains("\nkind: Kustomization\n"))
        .filter_map(|(p, _)| p.strip_suffix("/kustomization.yaml"))
        .collect();
    assert!(dirs.len() >= 4, "expected two bundles in each of demo and prod-elasticsearch, got {dirs:?}");
    for dir in dirs {
        let path = Path::new("generated").join(dir);
        let out = Command::new("kubectl").arg("kustomize").arg(&path).output().expect("kubectl runs");
        assert!(out.status.success(), "kubectl kustomize {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        let built = String::from_utf8_lossy(&out.stdout);
        let objects = built.split("\n---\n").filter(|doc| doc.contains("kind:")).count();
        let expected = files
            .keys()
            .filter_map(|p| p.strip_prefix(&format!("{dir}/")))
            .filter(|rest| !rest.contains('/') && rest.ends_with(".yaml") && *rest != "kustomization.yaml")
            .count();
        assert_eq!(objects, expected, "{dir}: kustomize output has {objects} objects, the files {expected}");
    }
}

/// Objects are written straight from their typed values (`k8s::Manifest`); that must give the same
/// bytes as the sorted JSON tree (`Object::to_ordered`), whose order is the documented one.
#[test]
fn the_direct_writer_matches_the_sorted_tree_for_every_object() {
    let mut compared = 0;
    for path in tracestack::io::project::profile_files(Path::new("profiles")).expect("profiles/") {
        let profile = tracestack::model::load::load_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let parts = tracestack::Stack::build(&profile).and_then(tracestack::Stack::into_parts);
        for object in parts.unwrap_or_else(|e| panic!("{e}")).bundles.iter().flat_map(|b| &b.objects) {
            let direct = tracestack::format::yaml::to_string(&object.manifest()).expect("direct");
            let tree = tracestack::format::yaml::to_string(&object.to_ordered().expect("tree")).expect("tree");
            assert_eq!(direct, tree, "{} `{}`", object.kind(), object.name());
            compared += 1;
        }
    }
    assert!(compared > 50, "compared only {compared} objects");
}
