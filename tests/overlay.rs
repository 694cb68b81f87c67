//! A user's kustomize overlay over rendered output: a namespace change (and renames, selector
//! labels, pinned tags, config patches) is refused with the line and the profile field to use;
//! labels, annotations, a registry and patches of other fields pass. With kubectl, the overlay
//! the check refuses is built to show what it would do: objects moved, configs still naming the
//! old namespace.

mod support;

use std::path::Path;

use support::TempDir;
use tracestack::Stack;
use tracestack::io::overlay;
use tracestack::model::load;

fn demo() -> Stack {
    Stack::build(&load::load_file(Path::new("profiles/demo.yaml")).expect("demo loads")).expect("builds")
}

const REFUSED: &str = "\
resources: [../generated/demo]
namespace: tracing
namePrefix: eu-
commonLabels: {team: obs}
labels:
  - pairs: {tier: infra}
    includeSelectors: true
images:
  - name: otel/opentelemetry-collector-k8s
    newTag: 0.160.0
patches:
  - target: {kind: ConfigMap, name: otel-collector}
    patch: '[{op: replace, path: /data/collector.yaml, value: x}]'
";

#[test]
fn an_overlay_that_changes_what_the_profile_wrote_is_refused_line_by_line() {
    let refusals = overlay::check(REFUSED, &demo()).expect_err("refused");
    let got: Vec<(Option<usize>, &str)> = refusals.iter().map(|r| (r.line, r.field.as_str())).collect();
    assert_eq!(
        got,
        [
            (Some(2), "namespace"),
            (Some(3), "namePrefix"),
            (Some(4), "commonLabels"),
            (Some(7), "labels[0].includeSelectors"),
            (Some(10), "images[0].newTag"),
            (Some(12), "patches[0]"),
        ]
    );
    assert!(refusals[0].message.contains("`jaeger-collector.observability.svc`"), "{}", refusals[0].message);
    assert!(refusals[0].message.ends_with("set `namespace: tracing` in the profile and render instead"));
}

#[test]
fn labels_annotations_a_registry_and_other_patches_pass() {
    let safe = "\
resources: [../generated/demo]
namespace: observability
labels:
  - pairs: {cost-center: platform}
commonAnnotations: {owner: platform-team}
images:
  - name: otel/opentelemetry-collector-k8s
    newName: registry.example.com/otel/opentelemetry-collector-k8s
patches:
  - target: {kind: Deployment, name: otel-collector}
    patch: '[{op: add, path: /spec/template/spec/nodeSelector, value: {pool: obs}}]'
";
    overlay::check(safe, &demo()).unwrap_or_else(|r| panic!("{r:#?}"));
}

#[test]
fn kustomize_applies_a_namespace_overlay_only_to_metadata() {
    if !support::kubectl_or_skip("what a namespace overlay does") {
        return;
    }
    let dir = TempDir::with_rendered("overlay-namespace");
    dir.write("overlay/kustomization.yaml", "resources: [../generated/demo]\nnamespace: tracing\n");
    let objects = support::kustomize(&dir.0.join("overlay")).unwrap_or_else(|e| panic!("{e}"));
    let config = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "otel-collector")
        .expect("the gateway's ConfigMap");
    assert_eq!(config["metadata"]["namespace"], "tracing", "the object moved");
    let text = config["data"]["collector.yaml"].as_str().expect("config text");
    assert!(text.contains("jaeger-collector.observability.svc"), "the config still names the old namespace:\n{text}");
}
