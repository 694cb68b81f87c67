//! Suite `agents`: `prod-agents` as rendered on two simulated nodes. The `otel-agent` DaemonSet runs
//! one pod per node; an application process on each node sends to the endpoint the rendered
//! onboarding Component gives it (`otel-agent`, node-local by `internalTrafficPolicy: Local`); every
//! trace arrives in Jaeger through the gateway, each span naming its own node, and each agent
//! received exactly its own node's spans.
//!
//! The variant: Jaeger 2.13.0 (what the harness builds), in-memory storage and no declared load
//! (no Elasticsearch here; memory storage takes no 60k spans/s), and `k8s_attributes` off in the
//! gateway and the agents (no API server). `k8s.node.name` still comes from each agent's downward
//! API environment.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::cluster::{Cluster, Objects};
use super::flow::{query_addr, start_stack, traces};
use super::metrics::parse_exposition;
use super::{Context, Report, built_jaeger, http, images, render_variant};

const PROFILE: &str = "prod-agents";
/// The simulated nodes and how many traces the application on each sends (different counts, so a
/// span that went to the other node's agent shows).
const NODES: [(&str, usize); 2] = [("node-a", 30), ("node-b", 50)];

pub fn run(context: &Context, report: &mut Report) -> Result<(), String> {
    let changes = vec![
        built_jaeger(),
        ("jaeger.storage", serde_json::json!({"memory": {"max_traces": 50000}})),
        ("load", serde_json::Value::Null),
        ("collector.k8s_attributes", false.into()),
        ("agents.k8s_attributes", false.into()),
    ];
    let (profile, rendered) = render_variant(&context.root, PROFILE, &changes)?;
    let (endpoint, http_protocol) = onboarding_endpoint(&rendered.files)?;
    report.check(
        format!("onboarding sends to the node agents ({endpoint})"),
        if endpoint.starts_with(&format!("otel-agent.{}.svc", profile.namespace)) {
            Ok(())
        } else {
            Err("not the otel-agent Service".into())
        },
    );
    let objects = Objects::from_files(&rendered.files)?;
    let mut cluster = Cluster::new(&context.work.join("agents"), images(context, &profile), objects)?;
    start_stack(&mut cluster, report)?;
    let nodes: Vec<&str> = NODES.iter().map(|(n, _)| *n).collect();
    let agents = match cluster.run_daemon_set("otel-agent", &nodes, Duration::from_secs(90)) {
        Ok(pods) => {
            report.pass(format!("DaemonSet otel-agent: a pod on each of {} ready by its probe", nodes.join(", ")));
            pods
        }
        Err(e) => {
            report.fail("DaemonSet otel-agent", &e);
            return Ok(());
        }
    };
    let app_namespace = profile.apps.first().map_or("default", |a| a.namespace.as_str()).to_string();
    for (node, count) in NODES {
        let app = cluster.client_pod_on(&format!("app-{node}"), &app_namespace, node)?;
        let mut args = vec![
            "traces".to_string(),
            format!("--otlp-endpoint={endpoint}"),
            "--otlp-insecure".into(),
            format!("--service=app-{node}"),
            format!("--traces={count}"),
            "--workers=1".into(),
            "--rate=100".into(),
        ];
        if http_protocol {
            args.push("--otlp-http".into());
        }
        let log = context.work.join(format!("agents-telemetrygen-{node}.log"));
        let status =
            cluster.exec_in(app, &context.binaries.telemetrygen, &args, &log)?.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            report.fail(format!("the application on {node} sends"), format!("telemetrygen exited {status}:\n{text}"));
            return Ok(());
        }
    }
    let query = query_addr(&cluster)?;
    let mut spans_per_node = Vec::new();
    for (node, count) in NODES {
        let service = format!("app-{node}");
        let found = wait_for_traces(query, &service, count, Duration::from_secs(60))?;
        let spans: usize = found.iter().map(|t| t["spans"].as_array().map_or(0, Vec::len)).sum();
        spans_per_node.push(spans);
        report.check(
            format!("Jaeger holds all {count} traces of the application on {node}"),
            if found.len() == count { Ok(()) } else { Err(format!("{} traces", found.len())) },
        );
        report.check(format!("every span of {service} carries k8s.node.name={node} and the gateway's attributes"), {
            let mut wrong = Vec::new();
            for trace in &found {
                for process in trace["processes"].as_object().into_iter().flat_map(|m| m.values()) {
                    for (key, value) in
                        [("k8s.node.name", node), ("deployment.environment.name", profile.environment.as_str())]
                    {
                        let got = tag(process, key);
                        if got.as_deref() != Some(value) {
                            wrong.push(format!("{key}={got:?}"));
                        }
                    }
                }
            }
            wrong.sort();
            wrong.dedup();
            if found.is_empty() || !wrong.is_empty() { Err(wrong.join(", ")) } else { Ok(()) }
        });
    }
    // The rendered smoke-test Job, on the first node: it sends where applications send.
    let job = super::flow::smoke_job(cluster.objects())?;
    let smoke_spans = match cluster.run_job_on(&job, NODES[0].0, Duration::from_secs(300)) {
        Ok(index) => {
            let run_id = cluster.pods[index].uid.clone();
            let found = traces(query, "tracestack-smoke", &[("tracestack.smoke.run", &run_id)], 100)?;
            report.pass(format!("smoke-test Job {job} passed as rendered, through the agent on {}", NODES[0].0));
            found.iter().map(|t| t["spans"].as_array().map_or(0, Vec::len)).sum::<usize>()
        }
        Err(e) => {
            report.fail(format!("smoke-test Job {job}"), e);
            0
        }
    };
    spans_per_node[0] += smoke_spans;
    for (i, ((node, _), (&pod, spans))) in NODES.iter().zip(agents.iter().zip(&spans_per_node)).enumerate() {
        let accepted = accepted_spans(&cluster, pod)?;
        report.check(
            format!(
                "the agent on {node} received exactly its node's {spans} spans{} (otelcol_receiver_accepted_spans)",
                if i == 0 { ", the smoke test's included" } else { "" }
            ),
            if (accepted - *spans as f64).abs() < 0.5 { Ok(()) } else { Err(format!("it counted {accepted}")) },
        );
    }
    Ok(())
}

/// The endpoint (`host:port`) and whether it is OTLP/HTTP, from the first onboarded app's rendered
/// patch.
fn onboarding_endpoint(files: &std::collections::BTreeMap<String, String>) -> Result<(String, bool), String> {
    let (name, text) = files
        .iter()
        .find(|(name, _)| name.starts_with("apps/") && name.ends_with("-deployment-patch.yaml"))
        .ok_or("no onboarding patch was rendered")?;
    let patch: serde_json::Value = serde_saphyr::from_str(text).map_err(|e| format!("{name}: {e}"))?;
    let env = patch["spec"]["template"]["spec"]["containers"][0]["env"].as_array().cloned().unwrap_or_default();
    let value = |key: &str| env.iter().find(|e| e["name"] == key).and_then(|e| e["value"].as_str()).map(str::to_string);
    let url = value("OTEL_EXPORTER_OTLP_ENDPOINT").ok_or_else(|| format!("{name}: no OTEL_EXPORTER_OTLP_ENDPOINT"))?;
    let protocol = value("OTEL_EXPORTER_OTLP_PROTOCOL").unwrap_or_default();
    let host_port = url.split("://").nth(1).unwrap_or(&url).trim_end_matches('/').to_string();
    Ok((host_port, protocol == "http/protobuf"))
}

fn wait_for_traces(
    query: SocketAddr,
    service: &str,
    count: usize,
    timeout: Duration,
) -> Result<Vec<serde_json::Value>, String> {
    let until = Instant::now() + timeout;
    loop {
        let found = traces(query, service, &[], count * 2).unwrap_or_default();
        if found.len() >= count || Instant::now() > until {
            return Ok(found);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn tag(process: &serde_json::Value, key: &str) -> Option<String> {
    process["tags"].as_array()?.iter().find(|t| t["key"] == key).and_then(|t| t["value"].as_str()).map(str::to_string)
}

/// `otelcol_receiver_accepted_spans` summed over a pod's series.
fn accepted_spans(cluster: &Cluster, pod: usize) -> Result<f64, String> {
    let addr = cluster.pods[pod].port(&IntOrString::String("metrics".into()))?;
    let body = http::get(addr, "/metrics", Duration::from_secs(5))?.body;
    Ok(parse_exposition(&body)
        .iter()
        .filter(|s| s.name == "otelcol_receiver_accepted_spans")
        .filter_map(|s| s.value.parse::<f64>().ok())
        .sum())
}
