//! Suite `kafka`: `prod-kafka` as rendered, with a real Apache Kafka broker (KRaft, one node, from
//! Maven Central's `kafka_2.13` on the machine's JDK) in a pod of its own. The gateway writes every
//! span to the topic and Jaeger's receiving role consumes it. Then the storage (here Jaeger itself:
//! in-memory storage lives in the consuming process) stops for a while; everything sent meanwhile
//! waits in the topic, and once Jaeger is back every one of those traces arrives.
//!
//! The variant: Jaeger 2.13.0 with in-memory storage and no declared load (no Elasticsearch here),
//! `k8s_attributes` off (no API server), the broker's pod address as `kafka.brokers`, and no TLS or
//! SASL (the broker listens in plain text; those settings are checked by the binaries' `validate`).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::cluster::{Cluster, Objects};
use super::flow::query_addr;
use super::metrics::{jaeger_pod, parse_exposition};
use super::{Context, Report, build, built_jaeger, http, images, otlp, render_variant};

const PROFILE: &str = "prod-kafka";
const OUTAGE: Duration = Duration::from_secs(20);
const BROKER_PORT: u16 = 9092;

pub fn run(context: &Context, report: &mut Report) -> Result<(), String> {
    let libs = match build::kafka() {
        Ok(libs) => libs,
        Err(e) => {
            report.skip("kafka", e);
            return Ok(());
        }
    };
    let work = context.work.join("kafka");
    let mut cluster = Cluster::new(&work, super::cluster::Images::default(), Objects::default())?;
    let namespace = "kafka";
    let broker_pod = cluster.client_pod("kafka-0", namespace)?;
    let broker_ip = cluster.pods[broker_pod].ip;
    let broker = format!("{broker_ip}:{BROKER_PORT}");
    let changes = vec![
        built_jaeger(),
        ("jaeger.storage", serde_json::json!({"memory": {"max_traces": 50000}})),
        ("load", serde_json::Value::Null),
        ("collector.k8s_attributes", false.into()),
        ("kafka.brokers", serde_json::json!([broker])),
        ("kafka.tls", serde_json::Value::Null),
        ("kafka.sasl", serde_json::Value::Null),
        ("kafka.namespace", serde_json::Value::Null),
    ];
    let (profile, rendered) = render_variant(&context.root, PROFILE, &changes)?;
    let objects = Objects::from_files(&rendered.files)?;
    let images = images(context, &profile);
    drop(cluster);
    // The cluster again, with the rendered objects: the broker's pod is the first, at the address
    // rendered into `kafka.brokers`.
    let mut cluster = Cluster::new(&work, images, objects)?;
    let broker_pod = cluster.client_pod("kafka-0", namespace)?;
    if cluster.pods[broker_pod].ip != broker_ip {
        return Err(format!("the broker's pod got {} instead of {broker_ip}", cluster.pods[broker_pod].ip));
    }
    let _broker = start_broker(&cluster, broker_pod, &libs, &work.join("broker"))?;
    report.pass(format!("Kafka {} broker (KRaft) listening on {broker}", build::KAFKA_VERSION));
    for name in ["jaeger", "otel-collector"] {
        match cluster.run_deployment(name, None, Duration::from_secs(90)) {
            Ok(pods) => {
                report.pass(format!("Deployment {name}: {} pod(s) ready by their readiness probes", pods.len()))
            }
            Err(e) => {
                report.fail(format!("Deployment {name}"), &e);
                return Ok(());
            }
        }
    }
    let gateway = gateway_addr(&cluster)?;
    let query = query_addr(&cluster)?;

    // Through the topic while everything runs.
    let before: Vec<String> = (0..20).map(|_| otlp::trace_id()).collect();
    for id in &before {
        otlp::send_trace(gateway, "kafka-e2e", id)?;
    }
    let arrived = wait_queryable(query, &before, Duration::from_secs(60));
    report.check(
        format!("gateway → Kafka → Jaeger: {arrived} of {} traces arrived", before.len()),
        if arrived == before.len() { Ok(()) } else { Err("not every trace".into()) },
    );

    // Storage down: Jaeger (in-memory storage, the consumer too) stops; the gateway keeps writing
    // to the topic.
    let jaeger = jaeger_pod(&cluster)?;
    cluster.stop(jaeger);
    let started = Instant::now();
    let mut during = Vec::new();
    while started.elapsed() < OUTAGE {
        let id = otlp::trace_id();
        otlp::send_trace(gateway, "kafka-e2e", &id)?;
        during.push(id);
        std::thread::sleep(Duration::from_millis(200));
    }
    let sent_spans = metric(&cluster, gateway_pod(&cluster)?, "otelcol_exporter_sent_spans")?;
    // `+ 0.0`: a sum over no series is -0.0.
    let failed = metric(&cluster, gateway_pod(&cluster)?, "otelcol_exporter_send_failed_spans")? + 0.0;
    println!(
        "  Jaeger stopped for {} s; {} traces sent meanwhile; the gateway's exporter sent {sent_spans} spans, failed {failed}",
        OUTAGE.as_secs(),
        during.len()
    );
    cluster.restart(jaeger, Duration::from_secs(90))?;
    let query = query_addr(&cluster)?;
    let arrived = wait_queryable(query, &during, Duration::from_secs(90));
    report.check(
        format!(
            "a {} s storage outage loses nothing: {arrived} of {} traces sent during it arrived once Jaeger was back",
            OUTAGE.as_secs(),
            during.len()
        ),
        if arrived == during.len() && failed == 0.0 { Ok(()) } else { Err(format!("{failed} spans failed to send")) },
    );

    // The consumer metrics the Kafka alerts read, on the consuming pod.
    let served = parse_exposition(
        &http::get(
            cluster.pods[jaeger].port(&IntOrString::String("metrics".into()))?,
            "/metrics",
            Duration::from_secs(5),
        )?
        .body,
    );
    let mut names: Vec<&str> =
        served.iter().map(|s| s.name.as_str()).filter(|n| n.starts_with("otelcol_kafka_receiver")).collect();
    names.sort_unstable();
    names.dedup();
    println!("  Jaeger's Kafka receiver serves: {}", names.join(", "));
    let rule = cluster.objects().all.iter().find(|o| o["kind"] == "PrometheusRule").cloned();
    for group in rule.iter().flat_map(|r| r["spec"]["groups"].as_array().cloned().unwrap_or_default()) {
        if group["name"] != "tracestack.kafka" {
            continue;
        }
        for alert in group["rules"].as_array().into_iter().flatten() {
            let expr = alert["expr"].as_str().unwrap_or_default();
            // Each `__name__=~"name(_suffix)?"`: a served name that is the base or base+suffix.
            let mut metrics: Vec<&str> =
                expr.split("__name__=~\"").skip(1).filter_map(|rest| rest.split('"').next()).collect();
            metrics.sort_unstable();
            metrics.dedup();
            let matches = |pattern: &str, name: &str| {
                let (base, suffix) = pattern.split_once('(').unwrap_or((pattern, ""));
                let suffix = suffix.trim_end_matches(")?");
                name == base || (!suffix.is_empty() && name == format!("{base}{suffix}"))
            };
            let missing: Vec<&&str> = metrics.iter().filter(|m| !served.iter().any(|s| matches(m, &s.name))).collect();
            report.check(
                format!("alert {}: Jaeger serves {}", alert["alert"].as_str().unwrap_or_default(), metrics.join(", ")),
                if missing.is_empty() { Ok(()) } else { Err(format!("not served: {missing:?}")) },
            );
        }
    }
    Ok(())
}

/// Formats the broker's storage and starts it in its pod; waits until it accepts connections.
fn start_broker(cluster: &Cluster, pod: usize, libs: &Path, dir: &Path) -> Result<Child, String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let ip = cluster.pods[pod].ip;
    let properties = dir.join("server.properties");
    std::fs::write(
        &properties,
        format!(
            "process.roles=broker,controller\nnode.id=1\ncontroller.quorum.voters=1@{ip}:9093\n\
             listeners=PLAINTEXT://{ip}:{BROKER_PORT},CONTROLLER://{ip}:9093\nadvertised.listeners=PLAINTEXT://{ip}:{BROKER_PORT}\n\
             controller.listener.names=CONTROLLER\ninter.broker.listener.name=PLAINTEXT\n\
             listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\nlog.dirs={}\nnum.partitions=2\n\
             offsets.topic.replication.factor=1\ntransaction.state.log.replication.factor=1\ntransaction.state.log.min.isr=1\n\
             share.coordinator.state.topic.replication.factor=1\nshare.coordinator.state.topic.min.isr=1\n\
             group.initial.rebalance.delay.ms=0\n",
            dir.join("data").display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let java = build::which("java")?;
    let classpath = format!("{}/*", libs.display());
    let log = dir.join("format.log");
    let status = cluster
        .exec_in(
            pod,
            &java,
            &[
                "-cp".into(),
                classpath.clone(),
                "kafka.tools.StorageTool".into(),
                "format".into(),
                "-t".into(),
                // Any 16 bytes, base64url without padding, as `kafka-storage random-uuid` prints.
                "dHJhY2VzdGFja2UyZWtmaw".into(),
                "-c".into(),
                properties.display().to_string(),
            ],
            &log,
        )?
        .wait()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!(
            "formatting the broker's storage failed:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        ));
    }
    let log = dir.join("kafka.log");
    let child = cluster.exec_in(
        pod,
        &java,
        &["-Xmx512m".into(), "-cp".into(), classpath, "kafka.Kafka".into(), properties.display().to_string()],
        &log,
    )?;
    let addr = SocketAddr::from((ip, BROKER_PORT));
    let until = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err() {
        if Instant::now() > until {
            return Err(format!(
                "the broker did not listen on {addr}:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            ));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    Ok(child)
}

fn gateway_pod(cluster: &Cluster) -> Result<usize, String> {
    cluster
        .pods
        .iter()
        .position(|p| p.labels.get("app.kubernetes.io/name").is_some_and(|n| n == "otel-collector"))
        .ok_or_else(|| "no gateway pod".into())
}

fn gateway_addr(cluster: &Cluster) -> Result<SocketAddr, String> {
    cluster.pods[gateway_pod(cluster)?].port(&IntOrString::Int(4318))
}

/// How many of `ids` Jaeger returns, waiting up to `timeout` for all.
fn wait_queryable(query: SocketAddr, ids: &[String], timeout: Duration) -> usize {
    let until = Instant::now() + timeout;
    let mut missing: Vec<&String> = ids.iter().collect();
    loop {
        missing.retain(|id| !otlp::queryable(query, id));
        if missing.is_empty() || Instant::now() > until {
            return ids.len() - missing.len();
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A metric summed over a pod's series.
fn metric(cluster: &Cluster, pod: usize, name: &str) -> Result<f64, String> {
    let addr = cluster.pods[pod].port(&IntOrString::String("metrics".into()))?;
    Ok(parse_exposition(&http::get(addr, "/metrics", Duration::from_secs(5))?.body)
        .iter()
        .filter(|s| s.name == name)
        .filter_map(|s| s.value.parse::<f64>().ok())
        .sum())
}
