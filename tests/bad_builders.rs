//! Broken builder calls: configs, profiles and object sets assembled wrongly in code. Each one is
//! refused with a message that names the field (and, across objects, both objects), and nothing is
//! rendered.

use k8s_openapi::api::core::v1::ConfigMap;
use tracestack::check::{self, ObjectRef};
use tracestack::collector::component::{Batch, Empty, HealthCheck, OtlpExporter, OtlpReceiver};
use tracestack::collector::{
    ComponentId, Config, Connector, Distribution, Exporter, Extension, Pipeline, PipelineId, Processor, Receiver,
    Signal, Version,
};
use tracestack::config::k8s::Object;
use tracestack::model::profile::{ElasticsearchSpec, StorageSpec};
use tracestack::render::{self, Source};
use tracestack::{Profile, Stack, components, model};

const K8S: Distribution = Distribution::OtelcolK8s;
const V159: Version = Version::new(0, 159, 0);

fn source() -> Source {
    Source { profile: "bad".into(), origin: "tests/bad_builders.rs".into() }
}

/// A minimal valid gateway config: otlp → batch → debug.
fn config() -> Config {
    let mut config = Config::default();
    let otlp = config.add_receiver(None, Receiver::Otlp(OtlpReceiver::all_interfaces(4317, 4318)));
    let batch = config.add_processor(
        None,
        Processor::Batch(Batch {
            timeout: tracestack::value::duration::Duration::from_millis(200),
            send_batch_size: 10,
            send_batch_max_size: 20,
        }),
    );
    let debug = config.add_exporter(
        None,
        Exporter::Debug(tracestack::collector::component::DebugExporter { verbosity: "basic".into() }),
    );
    config.add_pipeline(
        PipelineId::new(Signal::Traces, None),
        Pipeline { receivers: vec![otlp], processors: vec![batch], exporters: vec![debug] },
    );
    config
}

/// The messages `Config::validate` gives for `config` on `dist` `version`.
fn config_errors(config: &Config, dist: Distribution, version: Version) -> Vec<String> {
    config.validate(dist, version).err().unwrap_or_default().iter().map(ToString::to_string).collect()
}

fn traces(config: &mut Config) -> &mut Pipeline {
    config.service.pipelines.get_mut(&PipelineId::new(Signal::Traces, None)).expect("traces pipeline")
}

#[test]
fn the_minimal_config_is_valid() {
    assert_eq!(config_errors(&config(), K8S, V159), Vec::<String>::new());
}

#[test]
fn a_pipeline_naming_an_undefined_processor() {
    let mut c = config();
    traces(&mut c).processors.push(ComponentId::new("memory_limiter", None));
    assert_eq!(
        config_errors(&c, K8S, V159),
        [
            "service.pipelines.traces.processors uses processor `memory_limiter`, which is not defined under `processors`"
        ]
    );
}

#[test]
fn a_pipeline_naming_an_undefined_exporter_and_receiver() {
    let mut c = config();
    traces(&mut c).exporters.push(ComponentId::new("otlp_grpc", Some("jaeger")));
    traces(&mut c).receivers.push(ComponentId::new("zipkin", None));
    assert_eq!(
        config_errors(&c, K8S, V159),
        [
            "service.pipelines.traces.receivers uses receiver `zipkin`, which is not defined under `receivers`",
            "service.pipelines.traces.exporters uses exporter `otlp_grpc/jaeger`, which is not defined under `exporters`",
        ]
    );
}

#[test]
fn an_extension_enabled_but_not_defined_and_one_defined_but_not_enabled() {
    let mut c = config();
    c.service.extensions.push(ComponentId::new("pprof", None));
    c.add_extension(None, Extension::HealthCheck(HealthCheck { endpoint: "0.0.0.0:13133".into(), path: "/".into() }));
    assert_eq!(
        config_errors(&c, K8S, V159),
        [
            "service.extensions uses extension `pprof`, which is not defined under `extensions`",
            "extension `health_check` is defined but never used by a pipeline",
        ]
    );
}

#[test]
fn a_connector_used_on_one_side_only() {
    let mut c = config();
    let forward = c.add_connector(None, Connector::Forward(Empty {}));
    traces(&mut c).exporters.push(forward);
    assert_eq!(
        config_errors(&c, K8S, V159),
        [
            "connector `forward` must be an exporter of one pipeline and a receiver of another; it is only used as an exporter"
        ]
    );
}

#[test]
fn a_pipeline_without_receivers() {
    let mut c = config();
    traces(&mut c).receivers.clear();
    assert_eq!(
        config_errors(&c, K8S, V159),
        ["pipeline `traces` has no receivers", "receiver `otlp` is defined but never used by a pipeline"]
    );
}

#[test]
fn a_component_the_distribution_lacks() {
    // Jaeger's storage exporter exists only in the Jaeger binary, not in otelcol-k8s.
    let mut c = config();
    let storage = c.add_exporter(
        None,
        Exporter::JaegerStorage(tracestack::collector::jaeger::StorageExporter {
            trace_storage: "traces".into(),
            queue: None,
            retry_on_failure: None,
        }),
    );
    traces(&mut c).exporters.push(storage);
    assert_eq!(
        config_errors(&c, K8S, V159),
        ["otelcol-k8s 0.159.0 does not ship the exporter `jaeger_storage_exporter` (it ships in jaeger)"]
    );
    // The OTLP-only distribution lacks the sampler that otelcol-k8s has.
    let mut c = config();
    let sampler = c.add_processor(
        None,
        Processor::ProbabilisticSampler(tracestack::collector::component::ProbabilisticSampler {
            sampling_percentage: 10.0,
        }),
    );
    traces(&mut c).processors.insert(0, sampler);
    assert_eq!(
        config_errors(&c, Distribution::OtelcolOtlp, V159),
        [
            "otelcol-otlp 0.159.0 does not ship the processor `batch` (it ships in otelcol, otelcol-contrib, \
             otelcol-k8s, jaeger)",
            "otelcol-otlp 0.159.0 does not ship the processor `probabilistic_sampler` (it ships in otelcol, \
             otelcol-contrib, otelcol-k8s)",
            "otelcol-otlp 0.159.0 does not ship the exporter `debug` (it ships in otelcol, otelcol-contrib, \
             otelcol-k8s, jaeger)",
        ]
    );
    // Jaeger ships healthcheckv2, not the collector's health_check.
    let mut c = config();
    c.enable_extension(
        None,
        Extension::HealthCheck(HealthCheck { endpoint: "0.0.0.0:13133".into(), path: "/".into() }),
    );
    assert_eq!(
        config_errors(&c, Distribution::Jaeger, Version::new(2, 20, 0)),
        [
            "jaeger 2.20.0 does not ship the extension `health_check` (it ships in otelcol, otelcol-contrib, otelcol-k8s)"
        ]
    );
}

#[test]
fn an_exporter_name_newer_than_the_pinned_version() {
    let mut c = config();
    let grpc = c.add_exporter(
        Some("jaeger"),
        Exporter::OtlpGrpc(OtlpExporter {
            endpoint: "jaeger-collector:4317".into(),
            balancer_name: None,
            tls: tracestack::collector::component::ClientTls::plaintext(),
            compression: None,
            timeout: None,
            sending_queue: None,
            retry_on_failure: None,
        }),
    );
    traces(&mut c).exporters.push(grpc);
    assert_eq!(
        config_errors(&c, K8S, Version::new(0, 120, 0)),
        ["otelcol-k8s 0.120.0 does not ship the exporter `otlp_grpc` (it was added in 0.144.0)"]
    );
}

#[test]
fn a_version_the_component_table_does_not_know() {
    let mut profile = Profile::default();
    profile.collector.version.0 = Version::new(0, 99, 0);
    profile.jaeger.version.0 = Version::new(1, 60, 0);
    let err = Stack::build(&profile).expect_err("0.99.0 is unknown");
    assert_eq!(
        err.to_string(),
        "invalid profile:\n  - collector.version: otelcol-k8s 0.99.0 is not in tracestack's component table (it \
         knows 0.100.0 to 0.159.0)\n  - jaeger.version: jaeger 1.60.0 is not in tracestack's component table (it \
         knows 2.0.0 to 2.20.0)"
    );
}

fn profile_error(edit: impl FnOnce(&mut Profile)) -> String {
    let mut profile = Profile::default();
    edit(&mut profile);
    let err = render::render_profile(&profile, &source()).expect_err("the profile is invalid");
    assert!(matches!(err, render::Error::Build(components::Error::Model(model::Error::Profile(_)))), "{err:?}");
    err.to_string()
}

#[test]
fn sampling_150_percent() {
    assert_eq!(
        profile_error(|p| p.sampling.percentage = 150.0),
        "invalid profile:\n  - sampling.percentage: must be more than 0 and at most 100 (got 150)"
    );
    assert_eq!(
        profile_error(|p| p.sampling.percentage = f64::NAN),
        "invalid profile:\n  - sampling.percentage: must be more than 0 and at most 100 (got NaN)"
    );
}

#[test]
fn zero_replicas() {
    assert_eq!(
        profile_error(|p| p.collector.replicas = Some(0)),
        "invalid profile:\n  - collector.replicas: must be at least 1 (got 0)"
    );
}

#[test]
fn a_namespace_that_is_not_dns_1123() {
    assert_eq!(
        profile_error(|p| p.namespace = "Observability_Prod".into()),
        "invalid profile:\n  - namespace: `Observability_Prod` is not a valid DNS-1123 label: it must consist of lower \
         case alphanumeric characters or '-', and must start and end with an alphanumeric character (did you mean \
         `observability-prod`?)"
    );
}

#[test]
fn elasticsearch_without_urls_and_a_bad_secret_name() {
    let message = profile_error(|p| {
        p.jaeger.storage = StorageSpec::Elasticsearch(Box::new(ElasticsearchSpec {
            credentials: Some(tracestack::model::profile::CredentialsRef {
                secret: "ES creds".into(),
                username_key: "username".into(),
                password_key: "password".into(),
            }),
            ..ElasticsearchSpec::new(Vec::new())
        }));
    });
    assert!(
        message.starts_with(
            "invalid profile:\n  - jaeger.storage.elasticsearch.server_urls: must list at least one URL, e.g. \
             `https://elasticsearch.elastic.svc:9200`\n  - jaeger.storage.elasticsearch.credentials.secret: `ES creds` \
             is not a valid DNS-1123 subdomain"
        ),
        "{message}"
    );
}

/// The demo stack's parts, to break across objects.
fn demo() -> (Vec<Object>, Vec<check::ConfigRef>, check::External) {
    let stack = Stack::build(&Profile::default()).expect("demo builds");
    let (configs, external) = (stack.configs(), stack.external.clone());
    // Every bundle, as `render::render_stack` checks them.
    let parts = stack.into_parts().expect("parts");
    (parts.bundles.into_iter().flat_map(|b| b.objects).collect(), configs, external)
}

fn violations(objects: &[Object], configs: &[check::ConfigRef], external: &check::External) -> Vec<String> {
    check::run(objects, configs, external).violations.into_iter().map(|v| v.message).collect()
}

#[test]
fn an_endpoint_to_a_service_that_does_not_exist_fails_the_render() {
    let mut stack = Stack::build(&Profile::default()).expect("demo builds");
    for exporter in stack.gateway.config.exporters.values_mut() {
        if let Exporter::OtlpGrpc(e) = exporter {
            e.endpoint = "jaeger.tracing.svc.cluster.local:4317".into();
        }
    }
    let text = tracestack::format::yaml::to_string(&stack.gateway.config).expect("renders");
    stack.gateway.config_map.data = Some([("collector.yaml".to_owned(), text)].into());
    let err = render::render_stack(stack, &source()).expect_err("the endpoint resolves to nothing");
    assert_eq!(
        err.to_string(),
        "the rendered objects fail 1 cross-object check(s):\n  - Deployment `observability/otel-collector` config: \
         exporter `otlp_grpc/jaeger` endpoint `jaeger.tracing.svc.cluster.local:4317` names Service \
         `tracing/jaeger`, which is neither rendered nor declared external"
    );
}

#[test]
fn a_service_whose_selector_matches_nothing_fails_the_render() {
    let mut stack = Stack::build(&Profile::default()).expect("demo builds");
    if let Some(selector) = stack.jaeger.query_service.spec.as_mut().and_then(|s| s.selector.as_mut()) {
        selector.insert("app.kubernetes.io/component".into(), "query".into());
    }
    let err = render::render_stack(stack, &source()).expect_err("jaeger-query selects nothing");
    assert_eq!(
        err.to_string(),
        "the rendered objects fail 1 cross-object check(s):\n  - Service `observability/jaeger-query` selects \
         app.kubernetes.io/component=query,app.kubernetes.io/name=jaeger,app.kubernetes.io/part-of=tracestack but no \
         workload in `observability` has those pod labels"
    );
}

#[test]
fn duplicate_object_names() {
    let (mut objects, configs, external) = demo();
    let duplicate = objects.iter().find(|o| o.kind() == "Service").cloned().expect("a Service");
    objects.push(duplicate);
    assert_eq!(violations(&objects, &configs, &external), ["Service `observability/otlp` is rendered twice"]);
    let err = render::render_objects(objects, &source()).expect_err("two objects, one file");
    assert_eq!(err.to_string(), "Service `otlp` is rendered twice (file `otlp-service.yaml`)");
}

#[test]
fn an_object_name_that_is_not_dns_1123() {
    let (mut objects, configs, external) = demo();
    objects.push(Object::from(ConfigMap {
        metadata: tracestack::config::k8s::meta("Extra_Config", "observability", &Default::default()),
        ..ConfigMap::default()
    }));
    assert_eq!(
        violations(&objects, &configs, &external),
        ["ConfigMap `observability/Extra_Config` metadata.name: `Extra_Config` is not a valid DNS-1123 subdomain: it \
          must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric \
          character (did you mean `extra-config`?)"]
    );
}

#[test]
fn a_secret_that_is_neither_rendered_nor_declared_external() {
    let mut profile = Profile::default();
    profile.jaeger.storage = StorageSpec::Elasticsearch(Box::new(ElasticsearchSpec {
        shards: 1,
        replicas: 0,
        credentials: Some(tracestack::model::profile::CredentialsRef {
            secret: "es".into(),
            username_key: "u".into(),
            password_key: "p".into(),
        }),
        ..ElasticsearchSpec::new(vec!["http://elasticsearch:9200".into()])
    }));
    let mut stack = Stack::build(&profile).expect("builds");
    assert!(stack.external.objects.contains(&ObjectRef::namespaced("Secret", "observability", "es")));
    stack.external.objects.clear();
    let err = render::render_stack(stack, &source()).expect_err("the Secret is not declared");
    let text = err.to_string();
    // Both Jaeger roles mount it and read the username; the index cleaner reads both keys.
    assert!(text.starts_with("the rendered objects fail 6 cross-object check(s):\n"), "{text}");
    assert!(text.contains(
        "  - Deployment `observability/jaeger-query` container `jaeger` env `ES_USERNAME` reads Secret `es`, which is \
         neither rendered nor declared external"
    ));
}
