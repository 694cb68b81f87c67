//! Every scalar tracestack emits reads back with the same type and value under YAML 1.1, the YAML
//! kubectl reads: strings that look like `on`, `n`, `~`, `1:30`, `2024-01-01`, `1_000`, `0755`,
//! `0o17`, `.inf`, `=` or `<<` stay strings, and numbers and bools keep their values. Checked two
//! ways: a property test over generated strings in every place a profile's text can reach, and
//! every scalar of every rendered file of every profile.

mod support;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::Value;
use support::Rng;
use support::yaml11::{self, Reader, Resolved};
use tracestack::collector::component::{
    Batch, ClientTls, DebugExporter, HealthCheck, OtlpHttpExporter, OtlpReceiver, ProbabilisticSampler, SendingQueue,
};
use tracestack::collector::{Config, Exporter, Extension, Logs, Pipeline, PipelineId, Processor, Receiver, Signal};
use tracestack::config::k8s::{self, Object};
use tracestack::render::{self, Source};

#[test]
fn the_resolver_follows_the_yaml_1_1_types() {
    use Resolved::{Bool, Float, Int, Merge, Null, Str, Timestamp, Value as Val};
    let cases: &[(&str, Resolved, Resolved)] = &[
        // (scalar, yaml.org, go-yaml)
        ("on", Bool(true), Bool(true)),
        ("Off", Bool(false), Bool(false)),
        ("y", Bool(true), Bool(true)),
        ("N", Bool(false), Bool(false)),
        ("YES", Bool(true), Bool(true)),
        ("no", Bool(false), Bool(false)),
        ("~", Null, Null),
        ("null", Null, Null),
        ("", Null, Null),
        ("1:30", Int(Some(90)), Int(Some(90))),
        ("190:20:30", Int(Some(685_230)), Int(Some(685_230))),
        ("-1:30", Int(Some(-90)), Int(Some(-90))),
        ("1_000", Int(Some(1000)), Int(Some(1000))),
        ("0755", Int(Some(0o755)), Int(Some(0o755))),
        ("0o17", Str, Int(Some(15))),
        ("0x1F", Int(Some(31)), Int(Some(31))),
        ("0X1F", Str, Int(Some(31))),
        ("0b101", Int(Some(5)), Int(Some(5))),
        ("+12", Int(Some(12)), Int(Some(12))),
        ("08", Str, Float(Some(8.0))),
        ("1e3", Str, Float(Some(1000.0))),
        ("1.5e+3", Float(Some(1500.0)), Float(Some(1500.0))),
        ("1.5", Float(Some(1.5)), Float(Some(1.5))),
        (".5", Float(Some(0.5)), Float(Some(0.5))),
        ("0.159.0", Float(None), Float(None)),
        ("0.0.0.0", Float(None), Float(None)),
        ("190:20:30.15", Float(None), Float(None)),
        (".inf", Float(Some(f64::INFINITY)), Float(Some(f64::INFINITY))),
        ("-.Inf", Float(Some(f64::NEG_INFINITY)), Float(Some(f64::NEG_INFINITY))),
        ("2024-01-01", Timestamp, Timestamp),
        ("2024-1-1", Str, Timestamp),
        ("2001-12-14t21:59:43.10-05:00", Timestamp, Timestamp),
        ("2001-12-14 21:59:43.10 -5", Timestamp, Timestamp),
        ("<<", Merge, Merge),
        ("=", Val, Val),
        ("otlp_grpc/jaeger", Str, Str),
        ("128Mi", Str, Str),
        ("0.0.0.0:4317", Str, Str),
        ("1:60", Str, Str),
        ("yes please", Str, Str),
    ];
    for (text, spec, go) in cases {
        let got = (yaml11::resolve(text, Reader::Spec), yaml11::resolve(text, Reader::Go));
        // NaN != NaN, so compare the debug text.
        assert_eq!(format!("{got:?}"), format!("{:?}", (spec, go)), "{text:?}");
    }
    assert!(matches!(yaml11::resolve(".NaN", Reader::Spec), Float(Some(f)) if f.is_nan()));
}

#[test]
fn a_plain_scalar_that_changes_type_is_caught() {
    // The comparison itself must be able to fail: hand-written YAML with unquoted traps.
    let report = yaml11::compare(
        "a: on\nb: 1:30\nc: '2024-01-01'\nd: 7\n",
        &serde_json::json!({
            "a": "on", "b": "1:30", "c": "2024-01-01", "d": 7
        }),
    );
    assert_eq!(report.scalars, 8);
    assert_eq!(report.errors.len(), 4, "{:#?}", report.errors);
    assert!(report.errors[0].starts_with(".a: plain `on` reads as Bool(true) under YAML 1.1 (Spec)"));
    let report = yaml11::compare("y: 1\n", &serde_json::json!({"y": 1}));
    assert!(report.errors[0].starts_with(".y (key): plain `y` reads as Bool(true)"), "{:?}", report.errors);
    let report = yaml11::compare("x: 1e3\n", &serde_json::json!({"x": 1000.0}));
    assert!(report.errors[0].starts_with(".x: plain `1e3` reads as Str under YAML 1.1 (Spec)"), "{:?}", report.errors);
}

/// Whole scalars YAML 1.1 (or go-yaml) reads as something other than a string, and YAML syntax.
const TRAPS: &[&str] = &[
    "y",
    "Y",
    "n",
    "N",
    "yes",
    "No",
    "ON",
    "off",
    "On",
    "true",
    "False",
    "~",
    "null",
    "Null",
    "NULL",
    "",
    "0",
    "-0",
    "00",
    "0755",
    "0o17",
    "0O17",
    "0x1F",
    "0X1f",
    "0b101",
    "0B1",
    "1_000",
    "_1",
    "1__0",
    "+1",
    "08",
    "1:30",
    "-1:30",
    "190:20:30",
    "1:30.5",
    "1.5",
    "1.",
    ".5",
    ".",
    "1e3",
    "1E-3",
    "1.5e+3",
    "1_0.0_1",
    "0.159.0",
    "0.0.0.0",
    ".inf",
    "-.Inf",
    "+.INF",
    ".nan",
    ".NaN",
    "inf",
    "nan",
    "2024-01-01",
    "2024-1-1",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10 -5",
    "2001-12-15T02:59:43.1Z",
    "=",
    "<<",
    "-",
    "?",
    ":",
    "---",
    "...",
    "#",
    "&a",
    "*a",
    "!",
    "!!str",
    "|",
    ">",
    "%",
    "@",
    "`",
    "'",
    "\"",
    "{",
    "}",
    "[",
    "]",
    ",",
    " ",
    "\t",
    "\n",
    "\\",
    "a: b",
    "a #b",
    "key:",
    ": x",
    "- x",
    "? x",
    "0.0.0.0:4317",
    "é",
    "✓",
    "\u{85}",
    "\u{2028}",
    "\u{feff}",
    "\r",
    "\r\n",
    "\u{7f}",
];

/// Characters to build other strings from.
const ALPHABET: &[char] = &[
    '0', '1', '5', '9', '.', ':', '-', '+', '_', 'e', 'E', 'x', 'o', 'b', 'y', 'n', 'T', 'Z', ' ', '#', '\'', '"',
    '\n', 'a',
];

fn string(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => (*rng.pick(TRAPS)).to_owned(),
        1 => (0..1 + rng.below(8)).map(|_| *rng.pick(ALPHABET)).collect(),
        _ => (0..1 + rng.below(3))
            .map(|_| if rng.below(3) == 0 { rng.pick(ALPHABET).to_string() } else { (*rng.pick(TRAPS)).to_owned() })
            .collect(),
    }
}

const FLOATS: &[f64] = &[0.1, 1e-7, 5e-324, 1e21, 1e15, 100.0, 33.333_333_333_333_336, 0.5, 1.0, 99.999, 1e300];

/// A collector config holding generated strings and numbers wherever the model has them.
fn config(rng: &mut Rng) -> Config {
    let mut config = Config::default();
    let health = config.enable_extension(
        Some(&string(rng).replace(['/', '\n'], "x")),
        Extension::HealthCheck(HealthCheck { endpoint: string(rng), path: string(rng) }),
    );
    let _ = health;
    let otlp = config.add_receiver(None, Receiver::Otlp(OtlpReceiver::all_interfaces(4317, 4318)));
    let sampler = config.add_processor(
        None,
        Processor::ProbabilisticSampler(ProbabilisticSampler { sampling_percentage: *rng.pick(FLOATS) }),
    );
    let batch = config.add_processor(
        None,
        Processor::Batch(Batch {
            timeout: tracestack::value::duration::Duration::from_millis(rng.next() % 100_000),
            send_batch_size: rng.next() as u32,
            send_batch_max_size: 0,
        }),
    );
    let http = config.add_exporter(
        None,
        Exporter::OtlpHttp(OtlpHttpExporter {
            endpoint: string(rng),
            tls: Some(ClientTls {
                ca_file: Some(string(rng)),
                server_name_override: Some(string(rng)),
                ..ClientTls::default()
            }),
            sending_queue: Some(SendingQueue {
                enabled: rng.below(2) == 0,
                num_consumers: rng.next() as u32,
                queue_size: rng.next(),
                sizer: string(rng),
                block_on_overflow: Some(true),
            }),
            retry_on_failure: None,
        }),
    );
    let debug = config.add_exporter(None, Exporter::Debug(DebugExporter { verbosity: string(rng) }));
    config.add_pipeline(
        PipelineId::new(Signal::Traces, None),
        Pipeline { receivers: vec![otlp], processors: vec![sampler, batch], exporters: vec![http, debug] },
    );
    config.service.telemetry.logs = Logs { level: string(rng), encoding: string(rng) };
    config
}

/// Objects with generated strings in ConfigMap data, labels, annotations and env values.
fn objects(rng: &mut Rng, config_text: &str) -> Vec<Object> {
    let mut labels = BTreeMap::new();
    let mut annotations = BTreeMap::new();
    let mut data = BTreeMap::from([("collector.yaml".to_owned(), config_text.to_owned())]);
    for _ in 0..3 {
        labels.insert(string(rng), string(rng));
        annotations.insert(string(rng), string(rng));
        data.insert(string(rng), string(rng));
    }
    let mut meta = k8s::meta("generated", "observability", &labels);
    meta.annotations = Some(annotations);
    let config_map = ConfigMap { metadata: meta, data: Some(data), ..ConfigMap::default() };
    let resources =
        tracestack::model::plan::Plan::resolve(&tracestack::Profile::default()).expect("plan").gateway.resources;
    let mut container = k8s::container("c", &string(rng), vec![string(rng), string(rng)], &resources);
    container.env = Some((0..3).map(|i| k8s::env(&format!("V{i}"), &string(rng))).collect());
    let deployment = k8s_openapi::api::apps::v1::Deployment {
        metadata: k8s::meta("generated", "observability", &labels),
        spec: Some(k8s_openapi::api::apps::v1::DeploymentSpec {
            replicas: Some(rng.next() as i32),
            template: k8s_openapi::api::core::v1::PodTemplateSpec {
                metadata: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                    labels: Some(labels.clone()),
                    ..Default::default()
                }),
                spec: Some(k8s_openapi::api::core::v1::PodSpec { containers: vec![container], ..Default::default() }),
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    vec![config_map.into(), deployment.into()]
}

/// Line breaks in YAML 1.1 that YAML 1.2 treats as ordinary characters (YAML 1.1 spec, 5.4
/// "Line Break Characters": NEL, LS, PS); left raw in a scalar, a 1.1 reader folds them.
fn raw_1_1_breaks(text: &str) -> bool {
    text.contains(['\u{85}', '\u{2028}', '\u{2029}'])
}

#[test]
fn generated_strings_and_numbers_survive_a_yaml_1_1_reader() {
    let mut rng = Rng(0x7472_6163_6573_7461); // "tracesta"
    let mut scalars = 0;
    let mut failures = Vec::new();
    let cases = 1500;
    for case in 0..cases {
        let config = config(&mut rng);
        let config_json = serde_json::to_value(&config).expect("config serialises");
        let config_text = tracestack::format::yaml::to_string(&config).expect("config renders");
        let objects = objects(&mut rng, &config_text);
        let expected: Vec<(String, Value)> =
            objects.iter().map(|o| (render::file_name(o), o.to_ordered().expect("orders").value().clone())).collect();
        let source = Source { profile: "generated".into(), origin: "tests/yaml11.rs".into() };
        let rendered = render::render_objects(objects, &source).expect("renders");
        let mut check = |what: String, text: &str, value: &Value| {
            let report = yaml11::compare(text, value);
            scalars += report.scalars;
            if raw_1_1_breaks(text) {
                failures.push(format!("case {case} {what}: a raw NEL/LS/PS, which YAML 1.1 reads as a line break"));
            }
            failures.extend(report.errors.into_iter().map(|e| format!("case {case} {what}: {e}")));
        };
        for (file, value) in &expected {
            check(file.clone(), &rendered.files[file], value);
        }
        check("collector.yaml".into(), &config_text, &config_json);
        assert!(failures.len() < 20, "{failures:#?}");
    }
    assert!(failures.is_empty(), "{failures:#?}");
    eprintln!("YAML 1.1: {cases} generated cases, {scalars} scalars read back unchanged");
    assert!(scalars > cases * 100);
}

#[test]
fn every_scalar_of_every_rendered_file_survives_a_yaml_1_1_reader() {
    let mut scalars = 0;
    let mut failures = Vec::new();
    let paths =
        tracestack::io::project::profile_files(std::path::Path::new("profiles")).expect("profiles/ is readable");
    assert!(paths.len() >= 2);
    for path in paths {
        let profile = tracestack::model::load::load_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let stack = tracestack::Stack::build(&profile).unwrap_or_else(|e| panic!("{e}"));
        let source = Source { profile: "p".into(), origin: path.display().to_string() };
        let configs = stack.configs();
        let objects = stack.clone().into_objects();
        let rendered = render::render_stack(stack, &source).unwrap_or_else(|e| panic!("{e}"));
        let mut check = |what: String, text: &str, value: &Value| {
            let report = yaml11::compare(text, value);
            scalars += report.scalars;
            if raw_1_1_breaks(text) {
                failures.push(format!("{what}: a raw NEL/LS/PS, which YAML 1.1 reads as a line break"));
            }
            failures.extend(report.errors.into_iter().map(|e| format!("{what}: {e}")));
        };
        // Each file against the object that was written, not against another reading of the file.
        for object in &objects {
            let file = render::file_name(object);
            let value = object.to_ordered().expect("orders").value().clone();
            check(format!("{}: {file}", path.display()), &rendered.files[&file], &value);
        }
        // The collector and Jaeger config files inside the ConfigMaps are YAML too.
        for config in configs {
            let text = tracestack::format::yaml::to_string(&config.config).expect("renders");
            let value = serde_json::to_value(&config.config).expect("serialises");
            check(format!("{}: {} {}", path.display(), config.config_map, config.key), &text, &value);
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    eprintln!("YAML 1.1: {scalars} scalars of the rendered profiles read back unchanged");
    assert!(scalars > 1000);
}
