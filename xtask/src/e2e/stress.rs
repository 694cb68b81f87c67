//! Suites `faults` and `load`: the `demo` stack (the flow suite's variant) under outages and
//! overload, with the real collector and Jaeger.
//!
//! `faults`: under steady load, Jaeger stops for 30 s and starts again; every trace sent during
//! the outage arrives (counted by trace id). Then the opposite bound: behind a queue smaller than
//! the outage needs, spans are lost and `otelcol_exporter_enqueue_failed_spans` (the
//! `TracestackExporterQueueFull` alert's metric) counts them.
//!
//! `load`: the gateway, held to its Deployment's memory and CPU limits by its cgroup, takes three
//! times its planned per-pod rate: it is not OOM-killed, what it refuses is counted, and it
//! delivers again once the load drops. Measures the spans per CPU-second of the gateway and of
//! Jaeger, and the time from a span's send to its being queryable (p50, p99).

use std::process::Child;
use std::time::{Duration, Instant};

use super::cluster::{Cluster, Objects, uuid};
use super::flow::{query_addr, service_addr, start_stack, traces, variant};
use super::metrics::{Series, jaeger_pod, scrape};
use super::{Context, Report, images, otlp, render_variant};

const OUTAGE: Duration = Duration::from_secs(30);

/// telemetrygen's traces: a parent and one child span. Its `--rate` counts spans per second per
/// worker, so a rate of traces is this many times as many spans.
const SPANS_PER_TRACE: u64 = 2;

pub fn faults(context: &Context, report: &mut Report) -> Result<(), String> {
    // Within the queue: half of it fills during the outage.
    let (profile, rendered) = render_variant(&context.root, "demo", &variant())?;
    let objects = Objects::from_files(&rendered.files)?;
    let queue = gateway_queue(&objects)?;
    let traces_per_second =
        ((queue as f64 * 0.5 / OUTAGE.as_secs_f64()) / 2.0 / SPANS_PER_TRACE as f64).max(1.0).floor() as u64;
    println!("  queue {queue} spans; steady load and outage load each {traces_per_second} traces/s of 2 spans");
    let mut cluster = Cluster::new(&context.work.join("faults"), images(context, &profile), objects)?;
    start_stack(&mut cluster, report)?;
    let (sent, arrived, dropped) = outage(context, &mut cluster, traces_per_second)?;
    report.check(
        format!(
            "a {} s Jaeger outage under steady load loses nothing: {arrived} of {sent} traces sent during it arrived",
            OUTAGE.as_secs()
        ),
        if arrived == sent && dropped == 0 {
            Ok(())
        } else {
            Err(format!("{arrived} of {sent} arrived, {dropped} spans dropped at the queue"))
        },
    );
    drop(cluster);

    // Beyond the queue: a queue of 1,000 spans cannot hold 30 s of the same load.
    let mut changes = variant();
    changes.push(("collector.queue.queue_size", 1000.into()));
    let (profile, rendered) = render_variant(&context.root, "demo", &changes)?;
    let mut cluster = Cluster::new(
        &context.work.join("faults-overflow"),
        images(context, &profile),
        Objects::from_files(&rendered.files)?,
    )?;
    start_stack(&mut cluster, report)?;
    let (sent, arrived, dropped) = outage(context, &mut cluster, traces_per_second)?;
    report.check(
        format!("an outage longer than the queue holds loses spans ({arrived} of {sent} traces arrived) and says so ({dropped} spans counted by otelcol_exporter_enqueue_failed_spans)"),
        if arrived < sent && dropped > 0 { Ok(()) } else { Err(format!("{arrived} of {sent} arrived, {dropped} counted as dropped")) },
    );
    Ok(())
}

/// Steady load throughout; Jaeger stopped for [`OUTAGE`] while a counted run is sent; Jaeger
/// started again. Returns (traces sent in the counted run, of those found in Jaeger, spans the
/// gateway counted as dropped at its queue).
fn outage(context: &Context, cluster: &mut Cluster, traces_per_second: u64) -> Result<(u64, u64, u64), String> {
    let steady_seconds = OUTAGE.as_secs() + 40;
    let mut steady = start_load(
        context,
        cluster,
        "steady",
        "e2e-steady",
        &[&format!("--rate={}", traces_per_second * SPANS_PER_TRACE), &format!("--duration={steady_seconds}s")],
    )?;
    std::thread::sleep(Duration::from_secs(5));
    let jaeger = jaeger_pod(cluster)?;
    let signalled = Instant::now();
    cluster.stop(jaeger);
    let stopped = Instant::now();
    println!("  Jaeger stopped {:.1} s after SIGTERM", signalled.elapsed().as_secs_f64());
    let run = uuid();
    let sent = traces_per_second * (OUTAGE.as_secs() - 5);
    let mut counted = start_load(
        context,
        cluster,
        &run,
        "e2e-outage",
        &[&format!("--rate={}", traces_per_second * SPANS_PER_TRACE), &format!("--traces={sent}")],
    )?;
    let _ = counted.wait();
    std::thread::sleep(OUTAGE.saturating_sub(stopped.elapsed()));
    cluster.restart(jaeger, Duration::from_secs(60))?;
    println!("  Jaeger was down {:.1} s (from its exit until it was ready again)", stopped.elapsed().as_secs_f64());
    let _ = steady.wait();
    let query = query_addr(cluster)?;
    let until = Instant::now() + Duration::from_secs(120);
    let mut arrived = 0;
    while Instant::now() < until {
        arrived = traces(query, "e2e-outage", &[("e2e.run", &run)], sent as usize + 100)?.len() as u64;
        if arrived >= sent {
            break;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    let series = scrape(cluster)?;
    let dropped = sum(&series, "otelcol_exporter_enqueue_failed_spans", "otel-collector");
    Ok((sent, arrived, dropped as u64))
}

pub fn load(context: &Context, report: &mut Report) -> Result<(), String> {
    let (profile, rendered) = render_variant(&context.root, "demo", &variant())?;
    let objects = Objects::from_files(&rendered.files)?;
    let gateway_cpu = container_limit(&objects, "otel-collector", "cpu")?;
    let planned = (tracestack::model::sizing::GATEWAY.spans_per_core as f64 * gateway_cpu).round() as u64;
    let mut cluster = Cluster::new(&context.work.join("load"), images(context, &profile), objects)?;
    println!(
        "  limits: {}; gateway CPU limit {gateway_cpu} core(s): planned {planned} spans/s per pod",
        cluster.cgroup_mode
    );
    start_stack(&mut cluster, report)?;
    let gateway = cluster.pods.iter().position(|p| p.name.starts_with("otel-collector")).ok_or("no gateway pod")?;

    // Latency at the planned rate.
    let mut background = start_load(
        context,
        &mut cluster,
        "planned",
        "e2e-planned",
        &[&format!("--rate={}", planned / 2), "--workers=2", "--duration=40s"],
    )?;
    std::thread::sleep(Duration::from_secs(5));
    let otlp_http = service_addr(&cluster, "otlp", Some("otlp-http"))?;
    let query = query_addr(&cluster)?;
    let mut latencies = Vec::new();
    for _ in 0..40 {
        let id = otlp::trace_id();
        let sent = Instant::now();
        otlp::send_trace(otlp_http, "e2e-latency", &id)?;
        while !otlp::queryable(query, &id) && sent.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(20));
        }
        latencies.push(sent.elapsed());
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = background.wait();
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
    println!(
        "  send→queryable at the planned rate: p50 {:.0} ms, p99 {:.0} ms ({} traces)",
        p(0.5),
        p(0.99),
        latencies.len()
    );
    report.check(
        "send→queryable p99 under 10 s at the planned rate",
        if p(0.99) < 10_000.0 { Ok(()) } else { Err(format!("p99 {:.0} ms", p(0.99))) },
    );

    // Three times the planned rate for 40 s.
    let before = scrape(&cluster)?;
    let cpu_before = (process_cpu(&before, "otel-collector"), process_cpu(&before, "jaeger"));
    let started = Instant::now();
    let rate = planned * 3;
    // Spans of about 1 KiB (the average span size the production profile plans with), from
    // enough workers that the generator is not the bottleneck.
    let payload = format!("--telemetry-attributes=payload=\"{}\"", "x".repeat(900));
    let workers = 12;
    let mut overload = start_load(
        context,
        &mut cluster,
        "overload",
        "e2e-overload",
        &[&format!("--rate={}", rate / workers), &format!("--workers={workers}"), "--duration=40s", &payload],
    )?;
    let _ = overload.wait();
    let elapsed = started.elapsed().as_secs_f64();
    let after = scrape(&cluster)?;
    let cpu_after = (process_cpu(&after, "otel-collector"), process_cpu(&after, "jaeger"));
    let accepted = sum(&after, "otelcol_receiver_accepted_spans", "otel-collector")
        - sum(&before, "otelcol_receiver_accepted_spans", "otel-collector");
    let refused = sum(&after, "otelcol_receiver_refused_spans", "otel-collector")
        - sum(&before, "otelcol_receiver_refused_spans", "otel-collector");
    let limiter = sum(&after, "otelcol_processor_memory_limiter_refused_spans", "otel-collector").max(0.0) as u64;
    let dropped = sum(&after, "otelcol_exporter_enqueue_failed_spans", "otel-collector").max(0.0) as u64;
    let stored = sum(&after, "otelcol_receiver_accepted_spans", "jaeger")
        + sum(&after, "otelcol_receiver_accepted_spans_total", "jaeger")
        - sum(&before, "otelcol_receiver_accepted_spans", "jaeger")
        - sum(&before, "otelcol_receiver_accepted_spans_total", "jaeger");
    let gateway_cpu_used = cpu_after.0 - cpu_before.0;
    let jaeger_cpu_used = cpu_after.1 - cpu_before.1;
    println!(
        "  offered {rate} spans/s for {elapsed:.0} s: gateway accepted {:.0}/s, refused {:.0}/s (memory limiter {limiter} in all), dropped at the queue {dropped}; Jaeger took {:.0}/s",
        accepted / elapsed,
        refused / elapsed,
        stored / elapsed
    );
    println!(
        "  CPU: gateway {:.2} cores → {:.0} spans per CPU-second; Jaeger {:.2} cores → {:.0} spans per CPU-second",
        gateway_cpu_used / elapsed,
        accepted / gateway_cpu_used.max(0.001),
        jaeger_cpu_used / elapsed,
        stored / jaeger_cpu_used.max(0.001)
    );
    let (peak, limit, oom) = memory(&cluster, gateway);
    println!("  gateway memory: peak {} MiB of its {} MiB limit, OOM kills {oom}", peak >> 20, limit >> 20);
    report.check(
        "3× the planned rate: the gateway is not OOM-killed and stays within its memory limit",
        if cluster.exited(gateway, "otel-collector").is_none() && oom == 0 {
            Ok(())
        } else {
            Err(format!("exited or OOM-killed ({oom} OOM kills)"))
        },
    );
    let send_failed = sum(&after, "otelcol_exporter_send_failed_spans", "otel-collector");
    report.check(
        "1 KiB spans: every gateway batch fits Jaeger's gRPC receive limit (no send failures)",
        if send_failed == 0.0 { Ok(()) } else { Err(format!("{send_failed} spans failed to send")) },
    );
    report.check(
        "3× the planned rate: every span offered is accepted, refused or dropped with a count",
        if accepted > 0.0 { Ok(()) } else { Err("the gateway accepted nothing".into()) },
    );

    // Recovery: once the load is gone, new traces arrive.
    std::thread::sleep(Duration::from_secs(10));
    let recovered = (0..10).all(|_| {
        let id = otlp::trace_id();
        otlp::send_trace(otlp_http, "e2e-recovery", &id).is_ok() && {
            let sent = Instant::now();
            while !otlp::queryable(query, &id) && sent.elapsed() < Duration::from_secs(60) {
                std::thread::sleep(Duration::from_millis(100));
            }
            otlp::queryable(query, &id)
        }
    });
    report.check(
        "after the overload, new traces arrive again",
        if recovered { Ok(()) } else { Err("a trace did not arrive within 60 s".into()) },
    );
    let _ = std::fs::write(
        context.work.join("load-figures.txt"),
        format!(
            "planned={planned}\noffered={rate}\naccepted_per_s={:.0}\nrefused_per_s={:.0}\ngateway_spans_per_cpu_s={:.0}\njaeger_spans_per_cpu_s={:.0}\np50_ms={:.0}\np99_ms={:.0}\npeak_mib={}\n",
            accepted / elapsed,
            refused / elapsed,
            accepted / gateway_cpu_used.max(0.001),
            stored / jaeger_cpu_used.max(0.001),
            p(0.5),
            p(0.99),
            peak >> 20
        ),
    );
    Ok(())
}

/// Starts telemetrygen from a client pod in the stack's namespace towards the `otlp` Service.
pub fn start_load(
    context: &Context,
    cluster: &mut Cluster,
    run: &str,
    service: &str,
    extra: &[&str],
) -> Result<Child, String> {
    let namespace = cluster.pods.first().map(|p| p.namespace.clone()).unwrap_or_default();
    let name = format!("loadgen-{}", cluster.pods.len());
    let index = cluster.client_pod(&name, &namespace)?;
    let mut args: Vec<String> = vec![
        "traces".into(),
        format!("--otlp-endpoint=otlp.{namespace}.svc:4317"),
        "--otlp-insecure".into(),
        format!("--service={service}"),
        format!("--telemetry-attributes=e2e.run=\"{run}\""),
    ];
    args.extend(extra.iter().map(|s| (*s).to_string()));
    let log = context.work.join(format!("telemetrygen-{service}.log"));
    cluster.exec_in(index, &context.binaries.telemetrygen, &args, &log)
}

/// The sum of a metric over the series of pods whose `job` is `job`.
pub fn sum(series: &[Series], name: &str, job: &str) -> f64 {
    series
        .iter()
        .filter(|s| s.name == name && s.labels.get("job").is_some_and(|j| j == job))
        .filter_map(|s| s.value.parse::<f64>().ok())
        .sum()
}

/// The gateway's `sending_queue.queue_size` as rendered.
fn gateway_queue(objects: &Objects) -> Result<u64, String> {
    let map = objects
        .config_maps
        .iter()
        .find(|c| c.metadata.name.as_deref() == Some("otel-collector"))
        .ok_or("no otel-collector ConfigMap")?;
    let text = map.data.as_ref().and_then(|d| d.values().next()).ok_or("empty ConfigMap")?;
    let config: serde_json::Value = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    config["exporters"]
        .as_object()
        .and_then(|e| e.values().find_map(|x| x["sending_queue"]["queue_size"].as_u64()))
        .ok_or_else(|| "the gateway's exporter has no queue_size".into())
}

/// A container's CPU limit in cores.
fn container_limit(objects: &Objects, deployment: &str, resource: &str) -> Result<f64, String> {
    let d = objects.deployment(deployment)?;
    let q = d
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|s| s.containers.first())
        .and_then(|c| c.resources.as_ref()?.limits.as_ref()?.get(resource).cloned())
        .ok_or_else(|| format!("{deployment} has no {resource} limit"))?;
    Ok(super::cluster::parse_millis(&q.0).unwrap_or(1000) as f64 / 1000.0)
}

/// CPU seconds a job's processes have used, as each reports it (`otelcol_process_cpu_seconds`;
/// Jaeger 2.13's older collector core still adds `_total`).
fn process_cpu(series: &[Series], job: &str) -> f64 {
    sum(series, "otelcol_process_cpu_seconds", job) + sum(series, "otelcol_process_cpu_seconds_total", job)
}

/// Peak memory, limit and OOM kills of a pod's memory cgroup (bytes, bytes, count).
fn memory(cluster: &Cluster, pod: usize) -> (u64, u64, u64) {
    let Some(dir) = cluster.pods[pod].memory_cgroup() else { return (0, 0, 0) };
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
    let number = |f: &str| read(f).trim().parse::<u64>().unwrap_or(0);
    if dir.join("memory.max").exists() {
        let events = read("memory.events");
        let oom =
            events.lines().find_map(|l| l.strip_prefix("oom_kill ")).and_then(|n| n.trim().parse().ok()).unwrap_or(0);
        (number("memory.peak"), number("memory.max"), oom)
    } else {
        let control = read("memory.oom_control");
        let oom =
            control.lines().find_map(|l| l.strip_prefix("oom_kill ")).and_then(|n| n.trim().parse().ok()).unwrap_or(0);
        (number("memory.max_usage_in_bytes"), number("memory.limit_in_bytes"), oom)
    }
}
