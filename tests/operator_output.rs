//! The operator outputs refer to the names the `manifests` output uses where the operator keeps
//! them, and to the operator's own names (from its source, see `config::otel_operator` and
//! `config::jaeger_operator`) where it does not; every reference resolves to a rendered object or
//! one the operator creates from a rendered resource.

use std::collections::BTreeSet;
use std::path::Path;

use tracestack::Stack;
use tracestack::config::k8s::Object;
use tracestack::model::load;
use tracestack::model::profile::{Output, Profile};

fn profile(name: &str, output: Output) -> Profile {
    let mut profile = load::load_file(Path::new(&format!("profiles/{name}.yaml"))).unwrap_or_else(|e| panic!("{e}"));
    profile.output = output;
    profile
}

struct Built {
    exporter_endpoint: String,
    query_url: String,
    rendered: Vec<Object>,
    managed: Vec<Object>,
}

fn build(profile: &Profile) -> Built {
    let stack = Stack::build(profile).unwrap_or_else(|e| panic!("{e}"));
    let exporter_endpoint =
        serde_json::to_value(&stack.gateway.config).expect("config")["exporters"]["otlp_grpc/jaeger"]["endpoint"]
            .as_str()
            .expect("an endpoint")
            .to_owned();
    let job = serde_json::to_value(&stack.smoke_test.job).expect("job");
    let query_url = job["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["name"] == "JAEGER_QUERY_URL")
        .and_then(|e| e["value"].as_str())
        .expect("the checker's JAEGER_QUERY_URL")
        .to_owned();
    let parts = stack.into_parts().unwrap_or_else(|e| panic!("{e}"));
    let rendered: Vec<Object> = parts.bundles.into_iter().flat_map(|b| b.objects).collect();
    let managed = tracestack::check::managed_objects(&rendered).into_iter().map(|(_, o)| o).collect();
    Built { exporter_endpoint, query_url, rendered, managed }
}

fn names(objects: &[Object], kind: &str) -> BTreeSet<String> {
    objects.iter().filter(|o| o.kind() == kind).map(|o| o.name().to_owned()).collect()
}

#[test]
fn opentelemetry_operator_keeps_the_names_it_can_and_follows_the_operator_elsewhere() {
    for (name, query_service) in [("demo", "jaeger-collector"), ("prod-elasticsearch", "jaeger-query-collector")] {
        let plain = build(&profile(name, Output::Manifests));
        let operated = build(&profile(name, Output::OpentelemetryOperator));
        // Kept: where applications send, where the gateway sends, the gateway's Deployment, every
        // NetworkPolicy.
        assert_eq!(operated.exporter_endpoint, plain.exporter_endpoint, "{name}");
        assert!(names(&operated.rendered, "Service").contains("otlp"), "{name}");
        assert!(names(&operated.managed, "Deployment").contains("otel-collector"), "{name}");
        assert!(names(&plain.rendered, "Deployment").contains("otel-collector"), "{name}");
        assert_eq!(names(&operated.rendered, "NetworkPolicy"), names(&plain.rendered, "NetworkPolicy"), "{name}");
        assert!(names(&plain.rendered, "Service").contains("jaeger-collector"), "{name}");
        assert!(names(&operated.managed, "Service").contains("jaeger-collector"), "{name}");
        // The operator's rules: `<resource>-collector`, and nothing it creates is also rendered.
        assert!(
            operated.query_url.starts_with(&format!("http://{query_service}.observability.svc:16686")),
            "{name}: {}",
            operated.query_url
        );
        assert!(plain.query_url.starts_with("http://jaeger-query.observability.svc:16686"), "{name}");
        assert!(names(&operated.managed, "Service").contains(query_service), "{name}");
        for kind in ["Deployment", "ConfigMap", "HorizontalPodAutoscaler", "PodDisruptionBudget"] {
            let rendered = names(&operated.rendered, kind);
            assert!(rendered.is_empty(), "{name}: {kind} {rendered:?} rendered beside the operator resources");
        }
        let deployments = names(&operated.managed, "Deployment");
        for d in &deployments {
            assert!(d.ends_with("-collector"), "{name}: {d}");
        }
        // Every Deployment the plain output renders has its operator counterpart.
        assert_eq!(deployments.len(), names(&plain.rendered, "Deployment").len(), "{name}");
    }
}

#[test]
fn jaeger_operator_keeps_the_names_the_gateway_and_the_smoke_test_use() {
    let plain = build(&profile("prod-elasticsearch", Output::Manifests));
    let legacy = build(&profile("jaeger-operator-prod", Output::JaegerOperator));
    assert_eq!(legacy.exporter_endpoint, plain.exporter_endpoint);
    assert_eq!(legacy.query_url, plain.query_url);
    assert_eq!(
        names(&legacy.managed, "Service"),
        ["jaeger-collector", "jaeger-collector-headless", "jaeger-query"].map(str::to_owned).into()
    );
    assert_eq!(names(&legacy.managed, "Deployment"), ["jaeger-collector", "jaeger-query"].map(str::to_owned).into());
    assert!(names(&legacy.rendered, "Deployment").contains("otel-collector"));
    assert!(!names(&legacy.rendered, "Deployment").contains("jaeger-collector"));
    assert_eq!(names(&legacy.rendered, "Jaeger"), ["jaeger".to_owned()].into());
}

#[test]
fn a_plain_object_where_the_operator_creates_one_is_refused() {
    let stack =
        Stack::build(&profile("operator-demo", Output::OpentelemetryOperator)).unwrap_or_else(|e| panic!("{e}"));
    let configs = stack.configs();
    let external = stack.external.clone();
    let mut objects = stack.into_objects();
    let clash = objects
        .iter()
        .find_map(|o| match o {
            Object::Service(s) if o.name() == "otlp" => {
                let mut s = (**s).clone();
                s.metadata.name = Some("otel-collector".into());
                Some(Object::from(s))
            }
            _ => None,
        })
        .expect("the otlp Service");
    objects.push(clash);
    let outcome = tracestack::check::run(&objects, &configs, &external);
    assert!(
        outcome
            .violations
            .iter()
            .any(|v| v.check == "operator" && v.message.contains("Service `observability/otel-collector` is rendered")),
        "{:?}",
        outcome.violations
    );
}

#[test]
fn the_jaeger_operator_output_refuses_what_jaeger_v1_cannot_run() {
    let mut p = profile("demo", Output::JaegerOperator);
    let errors = p.validate().expect_err("memory storage");
    assert!(errors.iter().any(|e| e.path == "output"), "{errors:?}");
    p = profile("prod-elasticsearch", Output::JaegerOperator);
    let errors = p.validate().expect_err("monitoring and the credentials' keys");
    let paths: BTreeSet<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert!(
        paths.contains("monitoring.enabled") && paths.contains("jaeger.storage.elasticsearch.credentials"),
        "{paths:?}"
    );
}
