//! The extension points (`pods`, each workload's `pod`, `jaeger.ingress`, `jaeger.http_route`): every one visible in a
//! snapshot of `tests/extensions/everything.yaml`, and every reference one makes (a pull, env or
//! volume Secret, a ConfigMap, the PriorityClass, the Ingress's Service port and TLS Secret, the
//! HTTPRoute's Gateway and Service port)
//! covered by a cross-object check that fails when the reference does not resolve.

use std::path::Path;

use tracestack::Stack;
use tracestack::check::{self, ObjectRef};
use tracestack::config::k8s::Object;
use tracestack::model::load;
use tracestack::render::{self, Source};

const PROFILE: &str = "tests/extensions/everything.yaml";

fn profile() -> tracestack::Profile {
    load::load_file(Path::new(PROFILE)).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_extension_point_is_in_a_snapshot() {
    let source = Source { profile: "everything".into(), origin: PROFILE.into() };
    let files = render::render_profile(&profile(), &source).unwrap_or_else(|e| panic!("{e}")).files;
    for file in [
        "otel-collector-deployment.yaml",
        "jaeger-collector-deployment.yaml",
        "jaeger-query-deployment.yaml",
        "jaeger-query-ingress.yaml",
        "jaeger-query-httproute.yaml",
        "jaeger-query-networkpolicy.yaml",
        "jaeger-es-index-cleaner-cronjob.yaml",
        "smoke-test/tracestack-smoke-job.yaml",
    ] {
        let text = files.get(file).unwrap_or_else(|| panic!("{file} is rendered"));
        // Beside, not in, tests/snapshots/, which holds exactly the built-in profiles' files.
        insta::with_settings!({ snapshot_path => "snapshots/extensions", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("everything__{}", file.replace('/', "__")), text);
        });
    }
    let gateway = &files["otel-collector-deployment.yaml"];
    // The gateway's own `pod` wins field by field: its node pool, no tolerations; the rest is `pods`.
    assert!(gateway.contains("node-pool: gateway") && !gateway.contains("tolerations:"), "{gateway}");
    assert!(gateway.contains("image: registry.example.com/hub/otel/opentelemetry-collector-k8s:0.159.0"));
    let query = &files["jaeger-query-deployment.yaml"];
    assert!(query.contains("team: tracing-ui") && query.contains("cost-center: platform"), "labels merge by key");
    assert!(query.contains("tolerations:") && query.contains("node-pool: observability"));
}

/// The violations after removing `gone` from what the stack declares external.
fn violations_without(stack: &Stack, gone: &ObjectRef) -> Vec<String> {
    let mut external = stack.external.clone();
    assert!(external.objects.remove(gone), "{gone} is declared external");
    let parts = stack.clone().into_parts().expect("parts");
    let objects: Vec<Object> = parts.bundles.into_iter().flat_map(|b| b.objects).collect();
    check::run(&objects, &stack.configs(), &external).violations.into_iter().map(|v| v.message).collect()
}

#[test]
fn every_reference_an_extension_makes_is_checked() {
    let stack = Stack::build(&profile()).expect("builds");
    stack.check().expect("the stack passes every check as built");
    let ns = "observability";
    let cases = [
        (ObjectRef::namespaced("Secret", ns, "mirror-pull"), "spec.imagePullSecrets uses Secret `mirror-pull`"),
        (ObjectRef::namespaced("Secret", ns, "corp-telemetry-env"), "Secret `corp-telemetry-env`"),
        (ObjectRef::namespaced("Secret", ns, "corp-ca-bundle"), "Secret `corp-ca-bundle`"),
        (ObjectRef::namespaced("ConfigMap", ns, "proxy-settings"), "ConfigMap `proxy-settings`"),
        (
            ObjectRef::cluster("PriorityClass", "observability-critical"),
            "runs at PriorityClass `observability-critical`",
        ),
        (
            ObjectRef::namespaced("Secret", ns, "jaeger-example-com-tls"),
            "Ingress `observability/jaeger-query` serves TLS from Secret `jaeger-example-com-tls`",
        ),
        (
            ObjectRef::namespaced("Gateway", "gateway-system", "shared-gateway"),
            "HTTPRoute `observability/jaeger-query` attaches to Gateway `gateway-system/shared-gateway`",
        ),
    ];
    for (gone, expected) in cases {
        let violations = violations_without(&stack, &gone);
        assert!(
            !violations.is_empty() && violations.iter().all(|v| v.contains(expected)),
            "without {gone}: expected violations mentioning {expected:?}, got {violations:#?}"
        );
    }
}

#[test]
fn an_ingress_to_a_port_the_service_lacks_and_duplicate_env_or_volumes_are_violations() {
    let stack = Stack::build(&profile()).expect("builds");
    let parts = stack.clone().into_parts().expect("parts");
    let mut objects: Vec<Object> = parts.bundles.into_iter().flat_map(|b| b.objects).collect();
    for object in &mut objects {
        match object {
            Object::Ingress(ingress) => {
                let path = &mut ingress.spec.as_mut().expect("spec").rules.as_mut().expect("rules")[0]
                    .http
                    .as_mut()
                    .expect("http")
                    .paths[0];
                let port = path.backend.service.as_mut().expect("a Service").port.as_mut().expect("a port");
                port.name = Some("http-ui".into());
            }
            Object::Custom(route) if route.kind == "HTTPRoute" => {
                route.body["spec"]["rules"][0]["backendRefs"][0]["port"] = 16000.into();
            }
            Object::Deployment(d) if d.metadata.name.as_deref() == Some("otel-collector") => {
                let spec = d.spec.as_mut().and_then(|s| s.template.spec.as_mut()).expect("pod spec");
                let container = &mut spec.containers[0];
                let first = container.env.as_ref().expect("env")[0].clone();
                container.env.as_mut().expect("env").push(first);
                let volume = spec.volumes.as_ref().expect("volumes")[0].clone();
                spec.volumes.as_mut().expect("volumes").push(volume);
            }
            _ => {}
        }
    }
    let messages: Vec<String> =
        check::run(&objects, &stack.configs(), &stack.external).violations.into_iter().map(|v| v.message).collect();
    assert_eq!(
        messages,
        [
            "Deployment `observability/otel-collector` declares volume `config` twice",
            "Deployment `observability/otel-collector` container `otel-collector` sets env `GOMEMLIMIT` twice: the last one wins, silently",
            "Ingress `observability/jaeger-query` routes to port `http-ui` of Service `jaeger-query`, which has no such port",
            "HTTPRoute `observability/jaeger-query` routes to port 16000 of Service `jaeger-query`, which has no such port",
        ],
        "{messages:#?}"
    );
}
