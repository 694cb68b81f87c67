//! Production settings render as intended: restricted pods everywhere, autoscaling and disruption
//! budgets where the plan says, index lifecycle modes, TLS, digests and network isolation.

use std::path::Path;

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use tracestack::Stack;
use tracestack::config::k8s::Object;
use tracestack::model::load;
use tracestack::model::profile::{LifecycleMode, Profile, StorageSpec, TlsSecretRef};

fn prod() -> Profile {
    load::load_file(Path::new("profiles/prod-elasticsearch.yaml")).expect("prod profile loads")
}

fn objects(profile: &Profile) -> Vec<Object> {
    Stack::build(profile).expect("builds").into_objects()
}

fn find<'a>(objects: &'a [Object], kind: &str, name: &str) -> &'a Object {
    objects.iter().find(|o| o.kind() == kind && o.name() == name).unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn pod_specs(objects: &[Object]) -> Vec<(String, &PodSpec)> {
    objects
        .iter()
        .filter_map(|o| match o {
            Object::Deployment(d) => {
                d.spec.as_ref().and_then(|s| s.template.spec.as_ref()).map(|p| (o.name().to_owned(), p))
            }
            Object::CronJob(c) => c
                .spec
                .as_ref()
                .and_then(|s| s.job_template.spec.as_ref())
                .and_then(|j| j.template.spec.as_ref())
                .map(|p| (o.name().to_owned(), p)),
            Object::Job(j) => j.spec.as_ref().and_then(|s| s.template.spec.as_ref()).map(|p| (o.name().to_owned(), p)),
            _ => None,
        })
        .collect()
}

fn config_text(objects: &[Object], name: &str) -> String {
    match find(objects, "ConfigMap", name) {
        Object::ConfigMap(c) => c.data.as_ref().and_then(|d| d.values().next().cloned()).unwrap_or_default(),
        _ => unreachable!(),
    }
}

fn with_es(profile: &mut Profile, f: impl FnOnce(&mut tracestack::model::profile::ElasticsearchSpec)) {
    match &mut profile.jaeger.storage {
        StorageSpec::Elasticsearch(es) => f(es),
        _ => panic!("prod profile uses Elasticsearch"),
    }
}

#[test]
fn every_pod_of_every_profile_meets_the_restricted_pod_security_standard() {
    for profile in [Profile::default(), prod()] {
        let objects = objects(&profile);
        let specs = pod_specs(&objects);
        assert!(specs.len() >= 2);
        for (name, pod) in specs {
            let psc = pod.security_context.as_ref().expect("pod security context");
            assert_eq!(psc.run_as_non_root, Some(true), "{name}");
            assert!(psc.run_as_user.is_some_and(|u| u >= 10000), "{name}: fixed non-root UID");
            assert_eq!(psc.seccomp_profile.as_ref().map(|s| s.type_.as_str()), Some("RuntimeDefault"), "{name}");
            // Only the gateway talks to the API server (`k8s_attributes` watches pods), with read-only RBAC.
            let api = name == "otel-collector";
            assert_eq!(pod.automount_service_account_token, Some(api), "{name}: API token only where needed");
            for c in pod.containers.iter().chain(pod.init_containers.iter().flatten()) {
                let sc = c.security_context.as_ref().expect("container security context");
                assert_eq!(sc.allow_privilege_escalation, Some(false), "{name}/{}", c.name);
                assert_eq!(sc.read_only_root_filesystem, Some(true), "{name}/{}", c.name);
                assert_eq!(sc.capabilities.as_ref().and_then(|c| c.drop.clone()), Some(vec!["ALL".to_owned()]));
                let resources = c.resources.as_ref().expect("resources");
                assert!(resources.limits.is_some() && resources.requests.is_some(), "{name}/{}", c.name);
            }
        }
        let rules: Vec<_> = objects
            .iter()
            .filter_map(|o| match o {
                Object::ClusterRole(r) => r.rules.clone(),
                _ => None,
            })
            .flatten()
            .collect();
        assert!(!rules.is_empty(), "the gateway's ClusterRole");
        for rule in rules {
            assert_eq!(rule.verbs, ["get", "list", "watch"], "read-only RBAC: {rule:?}");
        }
        let Object::Namespace(ns) = &objects[0] else { panic!("namespace first") };
        let labels = ns.metadata.labels.as_ref().expect("labels");
        assert_eq!(labels.get("pod-security.kubernetes.io/enforce").map(String::as_str), Some("restricted"));
    }
}

#[test]
fn autoscaled_workloads_leave_replicas_to_the_hpa_and_have_disruption_budgets() {
    let prod_objects = objects(&prod());
    for name in ["otel-collector", "jaeger-collector", "jaeger-query"] {
        let objects = &prod_objects;
        let Object::Deployment(d) = find(objects, "Deployment", name) else { unreachable!() };
        assert_eq!(d.spec.as_ref().and_then(|s| s.replicas), None, "{name}: the HPA owns the count");
        let Object::HorizontalPodAutoscaler(h) = find(objects, "HorizontalPodAutoscaler", name) else { unreachable!() };
        let spec = h.spec.as_ref().expect("hpa spec");
        assert!(spec.min_replicas.unwrap_or(1) >= 2 && spec.max_replicas > spec.min_replicas.unwrap_or(1));
        assert_eq!(spec.scale_target_ref.name, name);
        find(objects, "PodDisruptionBudget", name);
    }
    // The demo runs single pods: no HPA, no PDB (a PDB on one pod would block node drains).
    let demo = objects(&Profile::default());
    assert!(!demo.iter().any(|o| matches!(o, Object::HorizontalPodAutoscaler(_) | Object::PodDisruptionBudget(_))));
}

#[test]
fn daily_lifecycle_cleans_indices_after_the_retention() {
    let objects = objects(&prod());
    let Object::CronJob(c) = find(&objects, "CronJob", "jaeger-es-index-cleaner") else { unreachable!() };
    let pod =
        c.spec.as_ref().and_then(|s| s.job_template.spec.as_ref()).and_then(|j| j.template.spec.as_ref()).unwrap();
    let container = &pod.containers[0];
    assert_eq!(container.image.as_deref(), Some("jaegertracing/jaeger-es-index-cleaner:2.20.0"));
    assert_eq!(
        container.args.as_deref(),
        Some(&["7".to_owned(), "https://elasticsearch-es-http.elastic-system.svc:9200".to_owned()][..])
    );
    assert!(config_text(&objects, "jaeger-query").contains("max_span_age: 168h"));
    assert!(!config_text(&objects, "jaeger-collector").contains("rotation"));
}

#[test]
fn rollover_lifecycle_initialises_aliases_before_jaeger_writes_and_rolls_them() {
    let mut profile = prod();
    with_es(&mut profile, |es| {
        es.lifecycle.mode = LifecycleMode::Rollover;
        es.lifecycle.retention_days = 14;
    });
    let objects = objects(&profile);
    let names: Vec<&str> = objects.iter().filter(|o| o.kind() == "CronJob").map(Object::name).collect();
    assert_eq!(names, ["jaeger-es-rollover", "jaeger-es-lookback", "jaeger-es-index-cleaner"]);
    let Object::Deployment(d) = find(&objects, "Deployment", "jaeger-collector") else { unreachable!() };
    let init = d.spec.as_ref().and_then(|s| s.template.spec.as_ref()).and_then(|p| p.init_containers.clone());
    let init = init.expect("init container");
    assert_eq!(init[0].image.as_deref(), Some("jaegertracing/jaeger-es-rollover:2.20.0"));
    assert_eq!(init[0].args.as_ref().map(|a| a[0].as_str()), Some("init"));
    let Object::Deployment(q) = find(&objects, "Deployment", "jaeger-query") else { unreachable!() };
    assert!(q.spec.as_ref().and_then(|s| s.template.spec.as_ref()).and_then(|p| p.init_containers.as_ref()).is_none());
    let config = config_text(&objects, "jaeger-collector");
    assert_eq!(config.matches("manual_rollover: {}").count(), 3, "spans, services and dependencies:\n{config}");
    assert!(config.contains("max_span_age: 336h"));
}

#[test]
fn collector_tls_encrypts_the_hop_from_gateway_to_jaeger() {
    let mut profile = prod();
    profile.jaeger.collector_tls = Some(TlsSecretRef { secret: "jaeger-collector-tls".into() });
    let objects = objects(&profile);
    let gateway = config_text(&objects, "otel-collector");
    assert!(gateway.contains("ca_file: /etc/otelcol/jaeger-ca/ca.crt"), "{gateway}");
    assert!(!gateway.contains("insecure: true"));
    let jaeger = config_text(&objects, "jaeger-collector");
    assert_eq!(jaeger.matches("cert_file: /etc/jaeger/tls/tls.crt").count(), 2, "gRPC and HTTP receivers");
}

#[test]
fn a_digest_pins_the_image_beyond_its_tag() {
    let mut profile = Profile::default();
    let digest = format!("sha256:{}", "ab".repeat(32));
    profile.collector.digest = Some(digest.clone());
    let objects = objects(&profile);
    let Object::Deployment(d) = find(&objects, "Deployment", "otel-collector") else { unreachable!() };
    let image = d.spec.as_ref().and_then(|s| s.template.spec.as_ref()).and_then(|p| p.containers[0].image.clone());
    assert_eq!(image, Some(format!("otel/opentelemetry-collector-k8s:0.159.0@{digest}")));
}

#[test]
fn network_policies_deny_by_default_and_can_be_turned_off() {
    let objects = objects(&prod());
    let policies: Vec<&str> = objects.iter().filter(|o| o.kind() == "NetworkPolicy").map(Object::name).collect();
    assert_eq!(
        policies,
        [
            "default-deny",
            "allow-dns",
            "otel-collector",
            "jaeger-collector",
            "jaeger-query",
            "tracestack-smoke",
            "jaeger-es-maintenance"
        ]
    );
    let mut open = prod();
    open.security.network_policy.enabled = false;
    assert!(!Stack::build(&open).expect("builds").into_objects().iter().any(|o| o.kind() == "NetworkPolicy"));
}

/// Jaeger v2's query extension traces itself by default, to `localhost:4317` where nothing
/// listens in its pod: every config that serves the UI turns it off.
#[test]
fn the_query_role_does_not_trace_itself() {
    let demo = load::load_file(Path::new("profiles/demo.yaml")).expect("demo loads");
    for (profile, config_map) in [(demo, "jaeger"), (prod(), "jaeger-query")] {
        let text = config_text(&objects(&profile), config_map);
        assert!(text.contains("jaeger_query:") && text.contains("enable_tracing: false"), "{text}");
    }
}

fn policy(objects: &[Object], name: &str) -> k8s_openapi::api::networking::v1::NetworkPolicySpec {
    match find(objects, "NetworkPolicy", name) {
        Object::NetworkPolicy(p) => p.spec.clone().expect("spec"),
        _ => unreachable!(),
    }
}

/// DNS egress reaches the cluster DNS pods only, plus NodeLocal DNSCache's address when given.
#[test]
fn dns_egress_is_scoped_to_the_cluster_dns() {
    let mut profile = prod();
    let spec = policy(&objects(&profile), "allow-dns");
    let rule = &spec.egress.expect("egress")[0];
    let peers = rule.to.clone().expect("peers");
    assert_eq!(peers.len(), 1, "{peers:?}");
    let peer = &peers[0];
    let ns = peer.namespace_selector.as_ref().and_then(|s| s.match_expressions.clone()).expect("namespace selector");
    assert_eq!(ns[0].values.as_deref(), Some(&["kube-system".to_owned()][..]));
    let pods = peer.pod_selector.as_ref().and_then(|s| s.match_labels.clone()).expect("pod selector");
    assert_eq!(pods, [("k8s-app".to_owned(), "kube-dns".to_owned())].into());

    profile.security.network_policy.dns.node_local_address = Some("169.254.20.10".into());
    let spec = policy(&objects(&profile), "allow-dns");
    let peers = spec.egress.expect("egress")[0].to.clone().expect("peers");
    assert_eq!(peers[1].ip_block.as_ref().map(|b| b.cidr.as_str()), Some("169.254.20.10/32"));
}

/// The gateway's API-server egress is to any address on 443/6443 unless the profile names the
/// API server's address blocks.
#[test]
fn api_server_egress_narrows_to_the_given_address_blocks() {
    let mut profile = prod();
    let api_rule = |profile: &Profile| {
        let spec = policy(&objects(profile), "otel-collector");
        spec.egress
            .expect("egress")
            .into_iter()
            .find(|r| r.ports.iter().flatten().any(|p| p.port == Some(IntOrString::Int(6443))))
            .expect("an API server rule")
    };
    assert_eq!(api_rule(&profile).to, None);
    profile.security.network_policy.api_server_cidrs = vec!["10.0.0.1/32".into(), "fd00::1/128".into()];
    let cidrs: Vec<String> =
        api_rule(&profile).to.expect("peers").into_iter().filter_map(|p| p.ip_block.map(|b| b.cidr)).collect();
    assert_eq!(cidrs, ["10.0.0.1/32", "fd00::1/128"]);
}
