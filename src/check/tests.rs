//! Each check, failing on an object set broken in code, with the message it gives.

use std::collections::BTreeMap;

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget,
    ResourceMetricSource,
};
use k8s_openapi::api::core::v1::{PersistentVolumeClaimVolumeSource, PodSpec, Service, Volume};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::*;
use crate::config::collector::component::{Batch, Empty};
use crate::config::collector::{Exporter, PipelineId, Processor, Signal};
use crate::config::k8s;
use crate::model::profile::Profile;
use crate::model::profile::{CredentialsRef, ElasticsearchSpec, SecretKeyRef, StorageSpec};
use crate::stack::Stack;

/// A stack's objects, configs and external declarations, to break one by one.
struct Set {
    objects: Vec<Object>,
    configs: Vec<ConfigRef>,
    external: External,
}

impl Set {
    fn of(profile: &Profile) -> Self {
        let stack = Stack::build(profile).unwrap_or_else(|e| panic!("{e}"));
        let (configs, external) = (stack.configs(), stack.external.clone());
        // Every bundle, as `render::render_stack` checks them.
        let parts = stack.into_parts().unwrap_or_else(|e| panic!("{e}"));
        Self { configs, external, objects: parts.bundles.into_iter().flat_map(|b| b.objects).collect() }
    }

    fn demo() -> Self {
        Self::of(&Profile::default())
    }

    fn elasticsearch() -> Self {
        let mut profile = Profile::default();
        profile.jaeger.storage = StorageSpec::Elasticsearch(Box::new(ElasticsearchSpec {
            credentials: Some(CredentialsRef {
                secret: "es-credentials".into(),
                username_key: "username".into(),
                password_key: "password".into(),
            }),
            ca: Some(SecretKeyRef { secret: "es-ca".into(), key: "ca.crt".into() }),
            ..ElasticsearchSpec::new(vec!["https://es.elastic.svc:9200".into()])
        }));
        Self::of(&profile)
    }

    fn outcome(&self) -> Outcome {
        run(&self.objects, &self.configs, &self.external)
    }

    fn messages(&self) -> Vec<String> {
        self.outcome().violations.into_iter().map(|v| v.message).collect()
    }

    fn object(&mut self, kind: &str, name: &str) -> &mut Object {
        self.objects
            .iter_mut()
            .find(|o| o.kind() == kind && o.name() == name)
            .unwrap_or_else(|| panic!("no {kind} {name}"))
    }

    fn service(&mut self, name: &str) -> &mut Service {
        match self.object("Service", name) {
            Object::Service(s) => s,
            _ => unreachable!(),
        }
    }

    fn pod(&mut self, deployment: &str) -> &mut PodSpec {
        match self.object("Deployment", deployment) {
            Object::Deployment(d) => d.spec.as_mut().and_then(|s| s.template.spec.as_mut()).expect("pod spec"),
            _ => unreachable!(),
        }
    }

    fn remove(&mut self, kind: &str, name: &str) {
        self.objects.retain(|o| !(o.kind() == kind && o.name() == name));
    }

    /// Changes a config and keeps its ConfigMap in step, so only the change itself is wrong.
    fn edit_config(&mut self, index: usize, edit: impl FnOnce(&mut crate::config::collector::Config)) {
        edit(&mut self.configs[index].config);
        let text = crate::format::yaml::to_string(&self.configs[index].config).expect("serialises");
        let (name, key) = (self.configs[index].config_map.clone(), self.configs[index].key.clone());
        if let Object::ConfigMap(cm) = self.object("ConfigMap", &name) {
            cm.data = Some(BTreeMap::from([(key, text)]));
        }
    }
}

/// Asserts `set` fails exactly with `expected`.
#[track_caller]
fn assert_fails(set: &Set, expected: &[&str]) {
    assert_eq!(set.messages(), expected);
}

#[test]
fn the_built_in_stacks_pass_and_are_counted() {
    let demo = Set::demo().outcome();
    assert_eq!(demo.violations, []);
    // Namespace, 6 NetworkPolicies, 2 ServiceAccounts, ClusterRole and binding, 2 ConfigMaps,
    // 3 Services, 2 Deployments, and the smoke-test Job.
    assert_eq!((demo.summary.objects, demo.summary.configs), (18, 2));
    let es = Set::elasticsearch().outcome();
    assert_eq!(es.violations, []);
    // Adds a second Jaeger role with its HPA, PDB and Services, and the index cleaner.
    assert_eq!((es.summary.objects, es.summary.configs), (26, 3));
    // Every object, label, port, reference and component is one check: far more than objects.
    assert!(demo.summary.checks > 150 && es.summary.checks > demo.summary.checks, "{demo:?} {es:?}");
}

#[test]
fn a_service_selecting_no_workload_fails() {
    let mut set = Set::demo();
    let selector = set.service("otlp").spec.as_mut().and_then(|s| s.selector.as_mut()).expect("selector");
    selector.insert("app.kubernetes.io/name".into(), "otel-kollector".into());
    assert_fails(
        &set,
        &["Service `observability/otlp` selects app.kubernetes.io/component=gateway,\
           app.kubernetes.io/name=otel-kollector,app.kubernetes.io/part-of=tracestack but no workload in \
           `observability` has those pod labels"],
    );
}

#[test]
fn a_service_port_targeting_an_undeclared_container_port_fails() {
    let mut set = Set::demo();
    let ports = set.service("otlp").spec.as_mut().and_then(|s| s.ports.as_mut()).expect("ports");
    ports[0].target_port = Some(IntOrString::String("otlp-grcp".into()));
    ports[1].target_port = Some(IntOrString::Int(4319));
    assert_fails(
        &set,
        &[
            "Service `otlp` port `otlp-grpc` targets container port `otlp-grcp`, which Deployment `otel-collector` \
             does not declare",
            "Service `otlp` port `otlp-http` targets container port 4319, which Deployment `otel-collector` does \
             not declare",
        ],
    );
    // A numeric target that a container declares is fine.
    let ports = set.service("otlp").spec.as_mut().and_then(|s| s.ports.as_mut()).expect("ports");
    ports[0].target_port = Some(IntOrString::Int(4317));
    ports[1].target_port = None; // defaults to `port`, 4318, which is declared
    assert_fails(&set, &[]);
}

#[test]
fn a_missing_config_map_fails_for_the_pod_and_the_config() {
    let mut set = Set::demo();
    set.remove("ConfigMap", "jaeger");
    assert_fails(
        &set,
        &[
            "Deployment `observability/jaeger` volume `config` mounts ConfigMap `jaeger`, which is neither rendered \
             nor declared external",
            "Deployment `observability/jaeger` config: ConfigMap `jaeger` with key `config.yaml` is not rendered",
        ],
    );
}

#[test]
fn secrets_must_be_rendered_or_declared_external() {
    let mut set = Set::elasticsearch();
    assert_fails(&set, &[]);
    set.external.objects.clear();
    let messages = set.messages();
    // Two Jaeger roles mount both Secrets and read the username; the index cleaner reads both keys.
    assert_eq!(messages.len(), 9, "{messages:#?}");
    assert_eq!(
        messages[0],
        "Deployment `observability/jaeger-collector` volume `es-credentials` mounts Secret `es-credentials`, which \
         is neither rendered nor declared external"
    );
    assert_eq!(
        messages[2],
        "Deployment `observability/jaeger-collector` container `jaeger` env `ES_USERNAME` reads Secret \
         `es-credentials`, which is neither rendered nor declared external"
    );
}

#[test]
fn service_accounts_and_claims_must_exist() {
    let mut set = Set::demo();
    set.remove("ServiceAccount", "otel-collector");
    set.pod("jaeger").volumes.get_or_insert_default().push(Volume {
        name: "data".into(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: "jaeger-data".into(),
            read_only: None,
        }),
        ..Volume::default()
    });
    assert_fails(
        &set,
        &[
            "ClusterRoleBinding `otel-collector-observability` binds ServiceAccount `observability/otel-collector`, \
             which is neither rendered nor declared external",
            "Deployment `observability/otel-collector` spec.serviceAccountName uses ServiceAccount `otel-collector`, \
             which is neither rendered nor declared external",
            "Deployment `observability/jaeger` volume `data` mounts PersistentVolumeClaim `jaeger-data`, which is \
             neither rendered nor declared external",
        ],
    );
    set.external.objects.insert(ObjectRef::namespaced("PersistentVolumeClaim", "observability", "jaeger-data"));
    set.external.objects.insert(ObjectRef::namespaced("ServiceAccount", "observability", "otel-collector"));
    assert_fails(&set, &[]);
}

#[test]
fn config_map_keys_read_by_env_must_exist() {
    let mut set = Set::demo();
    let container = &mut set.pod("jaeger").containers[0];
    container.env.get_or_insert_default().push(k8s_openapi::api::core::v1::EnvVar {
        name: "LEVEL".into(),
        value: None,
        value_from: Some(k8s_openapi::api::core::v1::EnvVarSource {
            config_map_key_ref: Some(k8s_openapi::api::core::v1::ConfigMapKeySelector {
                name: "jaeger".into(),
                key: "level".into(),
                optional: None,
            }),
            ..Default::default()
        }),
    });
    assert_fails(
        &set,
        &["Deployment `observability/jaeger` container `jaeger` env `LEVEL` reads key `level` of ConfigMap `jaeger`, \
           which has no such key"],
    );
}

#[test]
fn mounts_and_probes_must_name_what_the_pod_declares() {
    let mut set = Set::demo();
    let container = &mut set.pod("jaeger").containers[0];
    container.volume_mounts.get_or_insert_default()[0].name = "konfig".into();
    container.readiness_probe = Some(k8s::http_probe("/status", "healthz", 5, 3));
    if let Some(probe) = container.liveness_probe.as_mut().and_then(|p| p.http_get.as_mut()) {
        probe.port = IntOrString::Int(13134);
    }
    assert_fails(
        &set,
        &[
            "Deployment `observability/jaeger` container `jaeger` mounts volume `konfig` at `/etc/jaeger`, which the \
             pod does not declare",
            "Deployment `observability/jaeger` container `jaeger` livenessProbe targets port 13134, which the \
             container does not declare",
            "Deployment `observability/jaeger` container `jaeger` readinessProbe targets port `healthz`, which the \
             container does not declare",
            "Deployment `observability/jaeger` config: no container of Deployment `observability/jaeger` mounts \
             ConfigMap `jaeger`",
        ],
    );
}

#[test]
fn identities_names_labels_and_namespaces() {
    let mut set = Set::demo();
    let copy = set.object("Service", "otlp").clone();
    set.objects.push(copy);
    let Object::ConfigMap(cm) = set.object("ConfigMap", "otel-collector") else { unreachable!() };
    cm.metadata.namespace = Some("tracing".into());
    let Object::ServiceAccount(sa) = set.object("ServiceAccount", "jaeger") else { unreachable!() };
    sa.metadata.labels.get_or_insert_default().insert("team".into(), "-sre".into());
    set.objects.push(Object::from(Service {
        metadata: ObjectMeta {
            name: Some("4317-otlp".into()),
            namespace: Some("observability".into()),
            ..ObjectMeta::default()
        },
        ..Service::default()
    }));
    set.pod("jaeger").containers[0].ports.get_or_insert_default()[0].name = Some("otlp-grpc-receiver".into());
    let messages = set.messages();
    let expected = [
        "Service `observability/otlp` is rendered twice",
        "ConfigMap `tracing/otel-collector` is in namespace `tracing`, but Namespace `tracing` is neither rendered nor \
         declared external",
        "ServiceAccount `observability/jaeger` metadata.labels `team`: `-sre` is not a valid label value: it must be \
         empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric \
         character",
        "Deployment `observability/jaeger` container `jaeger` port name `otlp-grpc-receiver` must be at most 15 lower \
         case letters, digits and '-', with at least one letter and no leading, trailing or double '-' (IANA service \
         name)",
        "Service `observability/4317-otlp` metadata.name: `4317-otlp` is not a valid Service name: it must start with a lower case \
         letter (DNS-1035)",
    ];
    for e in expected {
        assert!(messages.iter().any(|m| m == e), "missing {e:?} in {messages:#?}");
    }
}

fn hpa(target: &str, min: i32, max: i32, resource: &str) -> Object {
    Object::from(HorizontalPodAutoscaler {
        metadata: ObjectMeta {
            name: Some("gateway".into()),
            namespace: Some("observability".into()),
            ..ObjectMeta::default()
        },
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: target.into(),
            },
            min_replicas: Some(min),
            max_replicas: max,
            metrics: Some(vec![MetricSpec {
                type_: "Resource".into(),
                resource: Some(ResourceMetricSource {
                    name: resource.into(),
                    target: MetricTarget {
                        type_: "Utilization".into(),
                        average_utilization: Some(70),
                        ..Default::default()
                    },
                }),
                ..MetricSpec::default()
            }]),
            behavior: None,
        }),
        status: None,
    })
}

#[test]
fn an_autoscaler_must_target_a_rendered_workload_with_requests() {
    let mut set = Set::demo();
    set.objects.push(hpa("otel-collector", 2, 5, "cpu"));
    assert_fails(&set, &[]);
    set.objects.pop();
    set.objects.push(hpa("otel-colector", 2, 5, "cpu"));
    assert_fails(
        &set,
        &[
            "HorizontalPodAutoscaler `observability/gateway` spec.scaleTargetRef names Deployment `otel-colector`, which \
           is not rendered in `observability`",
        ],
    );
    set.objects.pop();
    set.objects.push(hpa("otel-collector", 6, 5, "ephemeral-storage"));
    assert_fails(
        &set,
        &[
            "HorizontalPodAutoscaler `observability/gateway` spec.minReplicas (6) exceeds spec.maxReplicas (5)",
            "HorizontalPodAutoscaler `observability/gateway` scales on ephemeral-storage utilization, but container \
             `otel-collector` of Deployment `otel-collector` requests no ephemeral-storage",
        ],
    );
}

fn pdb(labels: &[(&str, &str)], min_available: i32) -> Object {
    Object::from(PodDisruptionBudget {
        metadata: ObjectMeta {
            name: Some("gateway".into()),
            namespace: Some("observability".into()),
            ..ObjectMeta::default()
        },
        spec: Some(PodDisruptionBudgetSpec {
            min_available: Some(IntOrString::Int(min_available)),
            selector: Some(LabelSelector {
                match_labels: Some(labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()),
                match_expressions: None,
            }),
            ..PodDisruptionBudgetSpec::default()
        }),
        status: None,
    })
}

#[test]
fn a_disruption_budget_must_select_pods_and_allow_an_eviction() {
    let mut set = Set::demo();
    set.objects.push(pdb(&[("app.kubernetes.io/name", "otel-collector")], 1));
    // One replica, at least one available: a drain could never evict it.
    assert_fails(
        &set,
        &["PodDisruptionBudget `observability/gateway` spec.minAvailable 1 with Deployment `otel-collector` at 1 \
           replica(s) allows no voluntary eviction, so node drains block"],
    );
    // With an autoscaler keeping at least two pods, one may go.
    set.objects.push(hpa("otel-collector", 2, 5, "cpu"));
    assert_fails(&set, &[]);
    set.objects.retain(|o| o.kind() != "PodDisruptionBudget");
    set.objects.push(pdb(&[("app.kubernetes.io/name", "otel-collector"), ("app.kubernetes.io/component", "agent")], 1));
    assert_fails(
        &set,
        &["PodDisruptionBudget `observability/gateway` selects app.kubernetes.io/component=agent,\
           app.kubernetes.io/name=otel-collector but no workload in `observability` has those pod labels"],
    );
}

#[test]
fn a_pipeline_naming_an_undefined_processor_fails_with_the_config_message() {
    let mut set = Set::demo();
    set.edit_config(0, |config| {
        let pipeline = config.service.pipelines.get_mut(&PipelineId::new(Signal::Traces, None)).expect("traces");
        pipeline.processors.push(crate::config::collector::ComponentId::new("batch", Some("late")));
    });
    assert_fails(
        &set,
        &["Deployment `observability/otel-collector` config: service.pipelines.traces.processors uses processor \
           `batch/late`, which is not defined under `processors`"],
    );
}

#[test]
fn unused_components_and_unshipped_ones_fail() {
    let mut set = Set::demo();
    set.edit_config(1, |config| {
        config.add_processor(
            Some("spare"),
            Processor::Batch(Batch {
                timeout: crate::value::duration::Duration::from_secs(1),
                send_batch_size: 1,
                send_batch_max_size: 1,
            }),
        );
    });
    set.configs[0].distribution = Distribution::OtelcolOtlp;
    assert_fails(
        &set,
        &[
            "Deployment `observability/otel-collector` config: otelcol-otlp 0.159.0 does not ship the processor `batch` \
             (it ships in otelcol, otelcol-contrib, otelcol-k8s, jaeger)",
            "Deployment `observability/otel-collector` config: otelcol-otlp 0.159.0 does not ship the processor \
             `k8s_attributes` (it ships in otelcol-contrib, otelcol-k8s)",
            "Deployment `observability/otel-collector` config: otelcol-otlp 0.159.0 does not ship the processor \
             `memory_limiter` (it ships in otelcol, otelcol-contrib, otelcol-k8s, jaeger)",
            "Deployment `observability/otel-collector` config: otelcol-otlp 0.159.0 does not ship the processor \
             `resource` (it ships in otelcol, otelcol-contrib, otelcol-k8s)",
            "Deployment `observability/otel-collector` config: otelcol-otlp 0.159.0 does not ship the extension \
             `health_check` (it ships in otelcol, otelcol-contrib, otelcol-k8s)",
            "Deployment `observability/jaeger` config: processor `batch/spare` is defined but never used by a pipeline",
        ],
    );
}

fn exporter_endpoint(set: &mut Set, endpoint: &str) {
    set.edit_config(0, |config| {
        for exporter in config.exporters.values_mut() {
            if let Exporter::OtlpGrpc(e) = exporter {
                e.endpoint = endpoint.into();
                e.balancer_name = endpoint.starts_with("dns:///").then(|| "round_robin".into());
            }
        }
    });
}

#[test]
fn an_endpoint_to_a_service_that_is_not_rendered_fails() {
    let mut set = Set::demo();
    exporter_endpoint(&mut set, "jaeger-collecter.observability.svc:4317");
    assert_fails(
        &set,
        &["Deployment `observability/otel-collector` config: exporter `otlp_grpc/jaeger` endpoint \
           `jaeger-collecter.observability.svc:4317` names Service `observability/jaeger-collecter`, which is neither \
           rendered nor declared external"],
    );
    exporter_endpoint(&mut set, "jaeger-collector:4317");
    assert_fails(&set, &[]);
    exporter_endpoint(&mut set, "collector.example.com:4317");
    assert_fails(
        &set,
        &["Deployment `observability/otel-collector` config: exporter `otlp_grpc/jaeger` endpoint \
           `collector.example.com:4317` names `collector.example.com`, which is not an in-cluster Service name nor \
           declared external"],
    );
    set.external.endpoints.insert("collector.example.com:4317".into());
    assert_fails(&set, &[]);
}

#[test]
fn an_endpoint_must_hit_a_port_of_the_fitting_protocol() {
    let mut set = Set::demo();
    exporter_endpoint(&mut set, "jaeger-collector.observability.svc.cluster.local:4318");
    assert_fails(
        &set,
        &["Deployment `observability/otel-collector` config: exporter `otlp_grpc/jaeger` endpoint \
           `jaeger-collector.observability.svc.cluster.local:4318` speaks OTLP/gRPC but port 4318 `otlp-http` of \
           Service `jaeger-collector` has appProtocol `http` (expected `grpc`)"],
    );
    exporter_endpoint(&mut set, "jaeger-collector.observability.svc.cluster.local:14250");
    assert_fails(
        &set,
        &["Deployment `observability/otel-collector` config: exporter `otlp_grpc/jaeger` endpoint \
           `jaeger-collector.observability.svc.cluster.local:14250` names port 14250 of Service `jaeger-collector`, \
           which exposes only 4317 `otlp-grpc`, 4318 `otlp-http`"],
    );
}

#[test]
fn client_side_balancing_needs_a_headless_service() {
    let mut set = Set::elasticsearch();
    exporter_endpoint(&mut set, "dns:///jaeger-collector.observability.svc.cluster.local:4317");
    assert_fails(
        &set,
        &["Deployment `observability/otel-collector` config: exporter `otlp_grpc/jaeger` endpoint \
           `dns:///jaeger-collector.observability.svc.cluster.local:4317` balances over every address of Service \
           `jaeger-collector`, but it is not headless (clusterIP: None), so DNS returns one virtual IP and nothing is \
           balanced"],
    );
}

#[test]
fn external_elasticsearch_urls_are_skipped_only_when_declared() {
    let mut set = Set::elasticsearch();
    set.external.endpoints.clear();
    let messages = set.messages();
    assert_eq!(
        messages,
        [
            "Deployment `observability/jaeger-collector` config: extension `jaeger_storage` \
             backends.traces.elasticsearch.server_urls[0] `https://es.elastic.svc:9200` names Service \
             `elastic/es`, which is neither rendered nor declared external",
            "Deployment `observability/jaeger-query` config: extension `jaeger_storage` \
             backends.traces.elasticsearch.server_urls[0] `https://es.elastic.svc:9200` names Service \
             `elastic/es`, which is neither rendered nor declared external",
        ]
    );
}

#[test]
fn every_declared_port_needs_a_reachable_listener() {
    let mut set = Set::demo();
    set.edit_config(0, |config| {
        config.service.telemetry.metrics = crate::config::collector::Metrics::prometheus("normal", 8889);
        for receiver in config.receivers.values_mut() {
            if let crate::config::collector::Receiver::Otlp(r) = receiver
                && let Some(grpc) = r.protocols.grpc.as_mut()
            {
                grpc.endpoint = "localhost:4317".into();
            }
        }
    });
    assert_fails(
        &set,
        &[
            "Deployment `observability/otel-collector` config: receiver `otlp` protocols.grpc.endpoint \
             `localhost:4317` listens on loopback only, so port `otlp-grpc` of container `otel-collector` is \
             unreachable from other pods; listen on `0.0.0.0`",
            "Deployment `observability/otel-collector` config: container `otel-collector` declares port `metrics` \
             (8888), but the config listens on no such port",
        ],
    );
}

#[test]
fn a_config_map_out_of_step_with_its_config_fails() {
    let mut set = Set::demo();
    set.configs[0].config.add_exporter(Some("spare"), Exporter::Nop(Empty {}));
    let messages = set.messages();
    assert_eq!(
        messages,
        [
            "Deployment `observability/otel-collector` config: exporter `nop/spare` is defined but never used by a \
             pipeline",
            "Deployment `observability/otel-collector` config: ConfigMap `otel-collector` key `collector.yaml` does \
             not hold this config; render both from the same typed config",
        ]
    );
}

#[test]
fn a_config_map_edited_after_its_config_was_written_fails() {
    // The config is unchanged, so the check compares the ConfigMap with the text written at build.
    let mut set = Set::demo();
    if let Object::ConfigMap(cm) = set.object("ConfigMap", "otel-collector") {
        cm.data.iter_mut().flat_map(|d| d.values_mut()).for_each(|text| text.push_str("extra: true\n"));
    }
    assert_eq!(
        set.messages(),
        ["Deployment `observability/otel-collector` config: ConfigMap `otel-collector` key `collector.yaml` does not \
          hold this config; render both from the same typed config"]
    );
}

#[test]
fn a_stack_whose_config_changed_after_the_build_does_not_render() {
    // The text written at build no longer belongs to the config, so the check serialises it again.
    let mut stack = Stack::build(&Profile::default()).unwrap_or_else(|e| panic!("{e}"));
    for processor in stack.gateway.config.processors.values_mut() {
        if let Processor::Batch(batch) = processor {
            batch.send_batch_size += 1;
        }
    }
    let source = crate::render::Source { profile: "demo".into(), origin: "demo.yaml".into() };
    let err = crate::render::render_stack(stack, &source).expect_err("the ConfigMap is stale");
    assert!(
        err.to_string().contains("ConfigMap `otel-collector` key `collector.yaml` does not hold this config"),
        "{err}"
    );
}

#[test]
fn the_error_lists_every_violation() {
    let mut set = Set::demo();
    set.remove("Namespace", "observability");
    let err = check(&set.objects, &set.configs, &set.external).expect_err("namespace missing");
    let text = err.to_string();
    // Every namespaced object of the demo: its NetworkPolicies, ServiceAccounts, ConfigMaps, Services,
    // Deployments and smoke-test Job.
    assert!(text.starts_with("the rendered objects fail 15 cross-object check(s):\n  - NetworkPolicy "), "{text}");
    assert!(text.contains("\n  - Deployment `observability/jaeger` is in namespace `observability`, but Namespace"));
}
