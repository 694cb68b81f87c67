//! The pod extension points reach every workload of every storage backend (Badger's single
//! Jaeger, ClickHouse's and OpenSearch's roles, OpenSearch's index maintenance) and the operator
//! outputs: an `OpenTelemetryCollector` carries tolerations, node selector, affinity, PriorityClass,
//! env, `envFrom`, volumes, pod annotations and labels (its pull Secrets go on the ServiceAccount its
//! pods run as); the Jaeger Operator's `Jaeger` carries what its CRD has and refuses the rest with
//! the field's path. Every resource validates against its upstream CRD.

mod support;

use std::path::Path;

use serde_json::Value;
use tracestack::Stack;
use tracestack::config::k8s::Object;
use tracestack::model::load;
use tracestack::model::profile::{Output, Profile};

/// The `pods` of tests/extensions/everything.yaml (every extension point).
fn everything() -> Profile {
    load::load_file(Path::new("tests/extensions/everything.yaml")).unwrap_or_else(|e| panic!("{e}"))
}

fn with_pods(name: &str) -> Profile {
    let mut profile = load::load_file(Path::new(&format!("profiles/{name}.yaml"))).unwrap_or_else(|e| panic!("{e}"));
    profile.pods = everything().pods;
    profile
}

/// Every object of every bundle, as JSON, after the stack's checks pass.
fn objects(profile: &Profile) -> Vec<Value> {
    let stack = Stack::build(profile).unwrap_or_else(|e| panic!("{e}"));
    let parts = stack.into_parts().unwrap_or_else(|e| panic!("{e}"));
    let objects: Vec<Object> = parts.bundles.into_iter().flat_map(|b| b.objects).collect();
    objects.iter().map(|o| o.to_ordered().expect("serialises").value().clone()).collect()
}

/// `(kind/name, pod spec)` of every Deployment, Job and CronJob.
fn pods(objects: &[Value]) -> Vec<(String, Value)> {
    objects
        .iter()
        .filter_map(|o| {
            let spec = match o["kind"].as_str()? {
                "Deployment" | "Job" => &o["spec"]["template"]["spec"],
                "CronJob" => &o["spec"]["jobTemplate"]["spec"]["template"]["spec"],
                _ => return None,
            };
            Some((format!("{}/{}", o["kind"].as_str()?, o["metadata"]["name"].as_str()?), spec.clone()))
        })
        .collect()
}

fn tolerates(pod: &Value) -> bool {
    pod["tolerations"].as_array().is_some_and(|t| t.iter().any(|t| t["key"] == "dedicated"))
}

#[test]
fn every_workload_of_every_storage_backend_gets_the_pod_additions() {
    for (name, expected) in [
        ("badger", &["Deployment/jaeger"][..]),
        ("clickhouse", &["Deployment/jaeger-collector", "Deployment/jaeger-query"][..]),
        (
            "prod-opensearch",
            &["Deployment/jaeger-collector", "Deployment/jaeger-query", "CronJob/jaeger-es-index-cleaner"][..],
        ),
    ] {
        let pods = pods(&objects(&with_pods(name)));
        for workload in expected {
            assert!(pods.iter().any(|(n, _)| n == workload), "{name}: {workload} is rendered: {pods:?}");
        }
        for (workload, pod) in &pods {
            assert!(tolerates(pod), "{name}: {workload} tolerates the `pods` taint");
            assert_eq!(pod["priorityClassName"], "observability-critical", "{name}: {workload}");
            assert_eq!(pod["imagePullSecrets"][0]["name"], "mirror-pull", "{name}: {workload}");
            assert!(
                pod["volumes"].as_array().is_some_and(|v| v.iter().any(|v| v["name"] == "corp-ca")),
                "{name}: {workload}"
            );
        }
    }
}

fn resource<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("{kind} `{name}` is rendered"))
}

fn valid_against_crd(resource: &Value) {
    if let Some(catalog) = support::crd_catalog() {
        let messages = support::validate_custom(&catalog, resource);
        assert!(messages.is_empty(), "{}: {messages:?}", resource["metadata"]["name"]);
    }
}

#[test]
fn opentelemetry_collector_resources_carry_the_pod_additions() {
    let mut profile = with_pods("operator-demo");
    assert_eq!(profile.output, Output::OpentelemetryOperator);
    profile.pods.annotations.insert("example.com/owner".into(), "platform-team".into());
    let objects = objects(&profile);
    for name in ["otel", "jaeger"] {
        let cr = resource(&objects, "OpenTelemetryCollector", name);
        let spec = &cr["spec"];
        assert_eq!(spec["tolerations"][0]["key"], "dedicated", "{name}");
        assert_eq!(spec["nodeSelector"]["node-pool"], "observability", "{name}");
        assert!(spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"].is_object());
        assert_eq!(spec["priorityClassName"], "observability-critical", "{name}");
        assert_eq!(spec["envFrom"][0]["secretRef"]["name"], "corp-telemetry-env", "{name}");
        assert!(spec["env"].as_array().is_some_and(|e| e.iter().any(|e| e["name"] == "HTTPS_PROXY")), "{name}");
        assert!(spec["volumes"].as_array().is_some_and(|v| v.iter().any(|v| v["name"] == "corp-ca")), "{name}");
        assert!(spec["volumeMounts"].as_array().is_some_and(|v| v.iter().any(|v| v["name"] == "corp-ca")));
        assert_eq!(spec["podAnnotations"]["example.com/owner"], "platform-team", "{name}");
        assert!(spec["podAnnotations"].get("checksum/config").is_none(), "the operator rolls pods itself");
        assert_eq!(cr["metadata"]["labels"]["cost-center"], "platform", "{name}");
        assert!(spec["image"].as_str().is_some_and(|i| i.starts_with("registry.example.com/hub/")), "{name}");
        valid_against_crd(cr);
    }
    for account in ["otel-collector", "jaeger"] {
        let sa = resource(&objects, "ServiceAccount", account);
        assert_eq!(sa["imagePullSecrets"][0]["name"], "mirror-pull", "{account}: the pods' pull Secret");
    }
}

#[test]
fn the_jaeger_resource_carries_what_its_crd_has_and_refuses_the_rest_by_path() {
    let base = || {
        let mut profile = with_pods("jaeger-operator-prod");
        assert_eq!(profile.output, Output::JaegerOperator);
        profile.pods.env = None;
        profile.pods.env_from = None;
        profile.pods.image_registry = None;
        profile.pods.node_selector.clear();
        profile
    };
    let objects = objects(&base());
    let jaeger = resource(&objects, "Jaeger", "jaeger");
    for role in ["collector", "query"] {
        let spec = &jaeger["spec"][role];
        assert_eq!(spec["tolerations"][0]["key"], "dedicated", "{role}");
        assert_eq!(spec["priorityClassName"], "observability-critical", "{role}");
        assert_eq!(spec["imagePullSecrets"][0]["name"], "mirror-pull", "{role}");
        assert_eq!(spec["labels"]["cost-center"], "platform", "{role}");
        assert_eq!(spec["volumeMounts"][0]["name"], "corp-ca", "{role}");
    }
    let cleaner = &jaeger["spec"]["storage"]["esIndexCleaner"];
    assert_eq!(cleaner["tolerations"][0]["key"], "dedicated");
    assert_eq!(cleaner["priorityClassName"], "observability-critical");
    valid_against_crd(jaeger);

    let refused = |profile: Profile| Stack::build(&profile).expect_err("refused").to_string();
    let mut env = base();
    env.pods.env = everything().pods.env;
    let message = refused(env);
    assert!(message.contains("pods.env") && message.contains("output: manifests"), "{message}");
    let mut own = base();
    own.jaeger.query.pod.image_registry = Some("mirror.internal:5000".into());
    let message = refused(own);
    assert!(message.contains("jaeger.query.pod.image_registry"), "{message}");
    let mut cleaner = base();
    cleaner.pods.node_selector.insert("node-pool".into(), "observability".into());
    let message = refused(cleaner);
    assert!(message.contains("pods.node_selector") && message.contains("esIndexCleaner"), "{message}");
}
