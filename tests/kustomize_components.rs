//! The rendered kustomize Components do what their READMEs promise when a user's kustomization
//! includes them: `kubectl kustomize` on small user kustomizations built around the `istio-demo`
//! output (skipped, visibly, without kubectl).

mod support;

use serde_json::Value;
use support::{TempDir, kubectl_or_skip, kustomize};

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {objects:#?}"))
}

fn namespace(name: &str, labels: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  labels:\n{labels}")
}

#[test]
fn the_injection_component_labels_the_enrolled_namespaces_it_finds() {
    if !kubectl_or_skip("the Istio injection Component") {
        return;
    }
    let dir = TempDir::with_rendered("injection");
    dir.write("team/shop.yaml", &namespace("shop", "    team: shop\n"));
    dir.write("team/payments.yaml", &namespace("payments", "    team: payments\n"));
    dir.write("team/other.yaml", &namespace("other", "    team: other\n"));
    dir.write(
        "team/kustomization.yaml",
        "resources: [shop.yaml, payments.yaml, other.yaml]\ncomponents: [../generated/istio-demo/istio/injection]\n",
    );
    let objects = kustomize(&dir.0.join("team")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(objects.len(), 3, "the Component adds no objects: {objects:#?}");
    for (ns, injected) in [("shop", true), ("payments", true), ("other", false)] {
        let labels = &find(&objects, "Namespace", ns)["metadata"]["labels"];
        assert_eq!(labels["team"], ns, "the owner's labels stay on {ns}");
        let expected = if injected { Value::from("enabled") } else { Value::Null };
        assert_eq!(labels["istio-injection"], expected, "{ns}: {labels}");
    }

    // A kustomization that owns only one enrolled namespace includes the same Component.
    dir.write("solo/shop.yaml", &namespace("shop", "    team: shop\n"));
    dir.write(
        "solo/kustomization.yaml",
        "resources: [shop.yaml]\ncomponents: [../generated/istio-demo/istio/injection]\n",
    );
    let objects = kustomize(&dir.0.join("solo")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(find(&objects, "Namespace", "shop")["metadata"]["labels"]["istio-injection"], "enabled");
}

#[test]
fn with_a_revision_the_component_labels_istio_io_rev() {
    if !kubectl_or_skip("the Istio injection Component with a revision") {
        return;
    }
    let mut profile = tracestack::model::load::load_file(std::path::Path::new("profiles/istio-demo.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    profile.istio.revision = Some("1-27".into());
    let source = tracestack::render::Source { profile: "istio-demo".into(), origin: "test".into() };
    let rendered = tracestack::render::render_profile(&profile, &source).unwrap_or_else(|e| panic!("{e}"));
    let dir = TempDir::new("injection-revision");
    for (rel, text) in &rendered.files {
        dir.write(&format!("gen/{rel}"), text);
    }
    dir.write("team/shop.yaml", &namespace("shop", "    team: shop\n"));
    dir.write("team/kustomization.yaml", "resources: [shop.yaml]\ncomponents: [../gen/istio/injection]\n");
    let objects = kustomize(&dir.0.join("team")).unwrap_or_else(|e| panic!("{e}"));
    let labels = &find(&objects, "Namespace", "shop")["metadata"]["labels"];
    assert_eq!(labels, &serde_json::json!({"team": "shop", "istio.io/rev": "1-27"}), "{labels}");
}

const CHECKOUT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  namespace: shop
spec:
  selector:
    matchLabels: {app: checkout}
  template:
    metadata:
      labels: {app: checkout}
    spec:
      containers:
      - name: checkout
        image: example/checkout:1.4.2
        env:
        - name: JAVA_OPTS
          value: -Xmx512m
        - name: OTEL_SERVICE_NAME
          value: set-by-hand
";

const PAYMENTS: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments
spec:
  selector:
    matchLabels: {app: payments}
  template:
    metadata:
      labels: {app: payments}
    spec:
      containers:
      - name: api
        image: example/payments:2.0.1
      - name: cache
        image: redis:7
";

fn env(deployment: &Value, container: &str) -> Vec<(String, Value)> {
    let containers = deployment["spec"]["template"]["spec"]["containers"].as_array().cloned().unwrap_or_default();
    let c = containers.iter().find(|c| c["name"] == container).unwrap_or_else(|| panic!("no container {container}"));
    c["env"]
        .as_array()
        .map(|env| {
            env.iter()
                .map(|e| {
                    let value = if e["value"].is_null() { e["valueFrom"].clone() } else { e["value"].clone() };
                    (e["name"].as_str().unwrap_or_default().to_owned(), value)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn an_app_component_sets_the_sdk_environment_on_its_container() {
    if !kubectl_or_skip("the app Components") {
        return;
    }
    let dir = TempDir::with_rendered("apps");
    dir.write("shop/checkout.yaml", CHECKOUT);
    dir.write(
        "shop/kustomization.yaml",
        "resources: [checkout.yaml]\ncomponents: [../generated/istio-demo/apps/checkout]\n",
    );
    let objects = kustomize(&dir.0.join("shop")).unwrap_or_else(|e| panic!("{e}"));
    let deployment = find(&objects, "Deployment", "checkout");
    let env = env(deployment, "checkout");
    let names: Vec<&str> = env.iter().map(|(n, _)| n.as_str()).collect();
    let position =
        |name: &str| names.iter().position(|n| *n == name).unwrap_or_else(|| panic!("{name} missing: {names:?}"));
    // `$(VAR)` only expands variables defined earlier in the list.
    assert!(position("OTEL_K8S_POD_NAME") < position("OTEL_RESOURCE_ATTRIBUTES"));
    assert!(position("OTEL_K8S_NAMESPACE") < position("OTEL_RESOURCE_ATTRIBUTES"));
    let value = |name: &str| env[position(name)].1.clone();
    assert_eq!(value("OTEL_K8S_POD_NAME")["fieldRef"]["fieldPath"], "metadata.name");
    assert_eq!(value("OTEL_K8S_NAMESPACE")["fieldRef"]["fieldPath"], "metadata.namespace");
    assert_eq!(value("OTEL_SERVICE_NAME"), "checkout", "the Component's value replaces the hand-set one");
    assert_eq!(names.iter().filter(|n| **n == "OTEL_SERVICE_NAME").count(), 1);
    assert_eq!(value("OTEL_EXPORTER_OTLP_ENDPOINT"), "http://otlp.observability.svc.cluster.local:4318");
    assert_eq!(value("OTEL_EXPORTER_OTLP_PROTOCOL"), "http/protobuf");
    assert_eq!(value("JAVA_OPTS"), "-Xmx512m", "the app's own variables stay");
    let attributes = value("OTEL_RESOURCE_ATTRIBUTES");
    let attributes = attributes.as_str().unwrap_or_default();
    for part in ["service.version=1.4.2", "deployment.environment.name=demo", "k8s.pod.name=$(OTEL_K8S_POD_NAME)"] {
        assert!(attributes.split(',').any(|a| a == part), "{part} not in {attributes}");
    }
    let template = &deployment["spec"]["template"]["metadata"];
    assert_eq!(template["annotations"]["instrumentation.opentelemetry.io/inject-java"], "tracestack");
    assert_eq!(template["labels"]["app"], "checkout", "the selector labels stay");
    assert_eq!(deployment["spec"]["template"]["spec"]["containers"][0]["image"], "example/checkout:1.4.2");
}

#[test]
fn an_app_component_patches_only_the_named_container_and_works_from_an_overlay() {
    if !kubectl_or_skip("the app Components") {
        return;
    }
    let dir = TempDir::with_rendered("overlay");
    // The namespace comes from the base's `namespace:` field, so the Component sits in an overlay.
    dir.write("base/payments.yaml", PAYMENTS);
    dir.write("base/kustomization.yaml", "namespace: payments\nresources: [payments.yaml]\n");
    dir.write(
        "overlay/kustomization.yaml",
        "resources: [../base]\ncomponents: [../generated/istio-demo/apps/payments-api]\n",
    );
    let objects = kustomize(&dir.0.join("overlay")).unwrap_or_else(|e| panic!("{e}"));
    let deployment = find(&objects, "Deployment", "payments");
    let api = env(deployment, "api");
    assert!(
        api.contains(&(
            "OTEL_EXPORTER_OTLP_ENDPOINT".into(),
            "http://otlp.observability.svc.cluster.local:4317".into()
        ))
    );
    assert!(api.contains(&("OTEL_EXPORTER_OTLP_PROTOCOL".into(), "grpc".into())));
    assert!(api.contains(&("OTEL_TRACES_SAMPLER_ARG".into(), "0.5".into())));
    assert!(env(deployment, "cache").is_empty(), "the other container is left alone");
    assert!(deployment["spec"]["template"]["metadata"]["annotations"].is_null(), "no agent asked for");

    // Without the Deployment the build fails instead of silently doing nothing.
    dir.write("empty/kustomization.yaml", "resources: []\ncomponents: [../generated/istio-demo/apps/payments-api]\n");
    let err = kustomize(&dir.0.join("empty")).err().unwrap_or_default();
    assert!(err.contains("Deployment.v1.apps/payments.payments"), "{err}");
}

#[test]
fn every_sub_bundle_builds() {
    if !kubectl_or_skip("the sub-bundles") {
        return;
    }
    let dir = TempDir::with_rendered("bundles");
    let files = support::rendered();
    let bundles: Vec<&str> = files
        .iter()
        .filter(|(path, text)| {
            path.ends_with("/kustomization.yaml")
                && path.matches('/').count() > 1
                && text.contains("kind: Kustomization")
        })
        .map(|(path, _)| path.trim_end_matches("/kustomization.yaml"))
        .collect();
    assert!(bundles.contains(&"istio-demo/instrumentation/shop"), "{bundles:?}");
    for bundle in bundles {
        let objects = kustomize(&dir.0.join("generated").join(bundle)).unwrap_or_else(|e| panic!("{bundle}: {e}"));
        assert!(!objects.is_empty(), "{bundle} builds no objects");
    }
}
