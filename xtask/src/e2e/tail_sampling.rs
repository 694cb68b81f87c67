//! Suite `tail-sampling`: `prod-tail-sampling` as rendered, with two gateway pods (tier 1) and the
//! two members of the `otel-sampler` tier (tier 2) found through its headless Service. The harness
//! sends a known mix of four-span traces, each trace split over both gateways (root and first child
//! to one, the other two children to the other): traces with an error on one child, traces whose
//! root lasts longer than the latency threshold, ordinary traces of `checkout` (a per-service
//! share) and of another service (the baseline). Every error and slow trace must be in Jaeger whole
//! — which it only is when one member saw all four spans, since only one of the two halves shows
//! the error or the duration — and the ordinary ones at their configured shares, within three
//! standard deviations of the binomial count.
//!
//! The tier's span metrics count every request before sampling, and every metric the rendered
//! tail-sampling and RED alerts name is served by the tier (after a late span made the late-span
//! histogram appear).
//!
//! The variant: Jaeger 2.13.0, in-memory storage and no declared load (no Elasticsearch here),
//! `k8s_attributes` off (no API server), and a 3 s `decision_wait` to keep the run short.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::cluster::{Cluster, Objects, uuid};
use super::flow::query_addr;
use super::metrics::parse_exposition;
use super::{Context, Report, built_jaeger, http, images, render_variant};

const PROFILE: &str = "prod-tail-sampling";
const DECISION_WAIT_SECS: u64 = 3;

/// One kind of trace in the mix.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Error,
    Slow,
    Checkout,
    Other,
}

impl Kind {
    fn service(self) -> &'static str {
        match self {
            Self::Checkout => "checkout",
            _ => "storefront",
        }
    }
}

pub fn run(context: &Context, report: &mut Report) -> Result<(), String> {
    let changes = vec![
        built_jaeger(),
        ("jaeger.storage", serde_json::json!({"memory": {"max_traces": 50000}})),
        ("load", serde_json::Value::Null),
        ("collector.k8s_attributes", false.into()),
        ("tail_sampling.decision_wait", format!("{DECISION_WAIT_SECS}s").into()),
    ];
    let (profile, rendered) = render_variant(&context.root, PROFILE, &changes)?;
    let policies = &profile.tail_sampling.policies;
    let threshold = policies.latency_threshold.ok_or("the profile sets no latency threshold")?;
    let checkout_share = *policies.services.get("checkout").ok_or("the profile sets no share for checkout")?;
    let baseline = policies.baseline_percentage;
    let objects = Objects::from_files(&rendered.files)?;
    let mut cluster = Cluster::new(&context.work.join("tail-sampling"), images(context, &profile), objects)?;
    report.check("every Service port is its container port", cluster.check_service_ports());
    let mut gateways = Vec::new();
    let mut samplers = Vec::new();
    for (name, replicas) in [("jaeger", None), ("otel-sampler", Some(2)), ("otel-collector", Some(2))] {
        match cluster.run_deployment(name, replicas, Duration::from_secs(90)) {
            Ok(pods) => {
                report.pass(format!("Deployment {name}: {} pod(s) ready by their readiness probes", pods.len()));
                match name {
                    "otel-collector" => gateways = pods,
                    "otel-sampler" => samplers = pods,
                    _ => {}
                }
            }
            Err(e) => {
                report.fail(format!("Deployment {name}"), &e);
                return Ok(());
            }
        }
    }
    // The loadbalancing exporter resolves the headless Service every 5 s: give it one round.
    std::thread::sleep(Duration::from_secs(6));
    let to = |i: usize| -> Result<SocketAddr, String> { cluster.pods[gateways[i]].port(&IntOrString::Int(4318)) };
    let (g0, g1) = (to(0)?, to(1)?);
    let mix: Vec<(Kind, usize)> = vec![(Kind::Error, 40), (Kind::Slow, 40), (Kind::Checkout, 200), (Kind::Other, 400)];
    let mut sent: Vec<(Kind, String)> = Vec::new();
    for (kind, count) in &mix {
        for _ in 0..*count {
            let trace_id = uuid().replace('-', "");
            send_split(g0, g1, *kind, &trace_id, threshold.as_millis())?;
            sent.push((*kind, trace_id));
        }
    }
    println!("  sent {} traces of 4 spans, each split over both gateways", sent.len());
    // Decisions fall `decision_wait` after a trace's first span; then batch and export.
    std::thread::sleep(Duration::from_secs(DECISION_WAIT_SECS + 8));
    let query = query_addr(&cluster)?;
    let kept = |kind: Kind| -> (usize, usize, Vec<String>) {
        let mut whole = 0;
        let mut total = 0;
        let mut partial = Vec::new();
        for (_, id) in sent.iter().filter(|(k, _)| *k == kind) {
            match spans_in_jaeger(query, id) {
                0 => {}
                4 => {
                    whole += 1;
                    total += 1;
                }
                n => {
                    total += 1;
                    partial.push(format!("{id}: {n} spans"));
                }
            }
        }
        (whole, total, partial)
    };
    for (kind, label) in [(Kind::Error, "error"), (Kind::Slow, "slow")] {
        let count = mix.iter().find(|(k, _)| *k == kind).map_or(0, |(_, n)| *n);
        let (whole, _, partial) = kept(kind);
        report.check(
            format!("every {label} trace is in Jaeger whole ({count} of {count}, 4 spans each)"),
            if whole == count && partial.is_empty() {
                Ok(())
            } else {
                Err(format!("{whole} whole; partial: {}", partial.join(", ")))
            },
        );
    }
    for (kind, label, share) in
        [(Kind::Checkout, "checkout", checkout_share.max(baseline)), (Kind::Other, "storefront", baseline)]
    {
        let n = mix.iter().find(|(k, _)| *k == kind).map_or(0, |(_, n)| *n);
        let (whole, total, partial) = kept(kind);
        let p = share / 100.0;
        #[allow(clippy::cast_precision_loss)]
        let (mean, sd) = (n as f64 * p, (n as f64 * p * (1.0 - p)).sqrt());
        #[allow(clippy::cast_precision_loss)]
        let within = (whole as f64 - mean).abs() <= 3.0 * sd;
        report.check(
            format!(
                "{label}: {whole} of {n} ordinary traces kept, {share} % expected ({mean:.0} ± {:.0}, three standard deviations), each whole",
                3.0 * sd
            ),
            if within && partial.is_empty() && total == whole {
                Ok(())
            } else {
                Err(format!("partial: {}", partial.join(", ")))
            },
        );
    }
    // A span of an already decided trace: the sampling member that decided it counts it late.
    if let Some((_, id)) = sent.iter().find(|(k, _)| *k == Kind::Error) {
        send_split(g0, g1, Kind::Other, id, threshold.as_millis())?;
    }
    // The span metrics are flushed every 15 s.
    std::thread::sleep(Duration::from_secs(17));
    let mut served: Vec<super::metrics::Series> = Vec::new();
    for &pod in &samplers {
        for port in ["metrics", "span-metrics"] {
            let addr = cluster.pods[pod].port(&IntOrString::String(port.into()))?;
            served.extend(parse_exposition(&http::get(addr, "/metrics", Duration::from_secs(5))?.body));
        }
    }
    let roots = |service: &str| -> f64 {
        served
            .iter()
            .filter(|s| {
                s.name == "traces_span_metrics_calls_total"
                    && s.labels.get("span_kind").is_some_and(|k| k == "SPAN_KIND_SERVER")
                    && s.labels.get("service_name").is_some_and(|n| n == service)
            })
            .filter_map(|s| s.value.parse::<f64>().ok())
            .sum()
    };
    for service in ["checkout", "storefront"] {
        // The late trace above is one more `storefront` request.
        let sent_roots =
            sent.iter().filter(|(k, _)| k.service() == service).count() + usize::from(service == "storefront");
        let counted = roots(service);
        report.check(
            format!(
                "span metrics count every {service} request before sampling ({counted} of {sent_roots} server spans)"
            ),
            #[allow(clippy::cast_precision_loss)]
            if (counted - sent_roots as f64).abs() < 0.5 { Ok(()) } else { Err("not every request".into()) },
        );
    }
    // Every metric the rendered tail-sampling and RED alerts name is served by the tier.
    let rule = cluster
        .objects()
        .all
        .iter()
        .find(|o| o["kind"] == "PrometheusRule")
        .cloned()
        .ok_or("no PrometheusRule was rendered")?;
    for group in rule["spec"]["groups"].as_array().into_iter().flatten() {
        let name = group["name"].as_str().unwrap_or_default();
        if name != "tracestack.tail_sampling" && name != "tracestack.red" {
            continue;
        }
        for alert in group["rules"].as_array().into_iter().flatten() {
            let expr = alert["expr"].as_str().unwrap_or_default();
            let mut metrics: Vec<&str> = expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("otelcol_") || w.starts_with("traces_span_metrics"))
                .collect();
            metrics.sort_unstable();
            metrics.dedup();
            let missing: Vec<&&str> = metrics.iter().filter(|m| !served.iter().any(|s| s.name == **m)).collect();
            report.check(
                format!(
                    "alert {}: the tier serves {}",
                    alert["alert"].as_str().unwrap_or_default(),
                    metrics.join(", ")
                ),
                if missing.is_empty() { Ok(()) } else { Err(format!("not served: {missing:?}")) },
            );
        }
    }
    let mut received = Vec::new();
    for &pod in &samplers {
        received.push(metric_sum(&cluster, pod, "otelcol_receiver_accepted_spans")?);
    }
    #[allow(clippy::cast_precision_loss)]
    let all = (sent.len() * 4 + 4) as f64; // and the late trace's four
    report.check(
        format!("both sampling members took part and together received every span ({received:?} of {all})"),
        if received.iter().all(|r| *r > 0.0) && (received.iter().sum::<f64>() - all).abs() < 0.5 {
            Ok(())
        } else {
            Err("not both members, or spans missing".into())
        },
    );
    Ok(())
}

/// Sends one trace of four spans: root and first child to `a`, the other two children to `b`.
/// An error trace marks the third span `ERROR`; a slow trace's root lasts past `threshold_ms`.
fn send_split(a: SocketAddr, b: SocketAddr, kind: Kind, trace_id: &str, threshold_ms: u64) -> Result<(), String> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    let root_ms: u128 = if kind == Kind::Slow { u128::from(threshold_ms) + 1000 } else { 20 };
    let start = now - root_ms * 1_000_000;
    let root = &trace_id[..16];
    let span = |i: usize, parent: Option<&str>, error: bool| {
        let id = if i == 0 { root.to_string() } else { format!("{}{i:02x}", &trace_id[16..30]) };
        let (s, e) = if i == 0 { (start, now) } else { (start + 1_000_000, start + 5_000_000) };
        let mut v = serde_json::json!({
            "traceId": trace_id,
            "spanId": id,
            "name": format!("op-{i}"),
            "kind": if i == 0 { 2 } else { 3 },
            "startTimeUnixNano": s.to_string(),
            "endTimeUnixNano": e.to_string(),
        });
        if let Some(p) = parent {
            v["parentSpanId"] = p.into();
        }
        if error {
            v["status"] = serde_json::json!({"code": 2, "message": "failed"});
        }
        v
    };
    let error = kind == Kind::Error;
    let halves = [
        (a, vec![span(0, None, false), span(1, Some(root), false)]),
        (b, vec![span(2, Some(root), error), span(3, Some(root), false)]),
    ];
    for (to, spans) in halves {
        let body = serde_json::json!({
            "resourceSpans": [{
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": kind.service()}}]},
                "scopeSpans": [{"scope": {"name": "tracestack-e2e"}, "spans": spans}]
            }]
        })
        .to_string();
        let response = http::request(
            to,
            "POST",
            "/v1/traces",
            Some(("application/json", body.as_bytes())),
            Duration::from_secs(5),
        )?;
        if response.status != 200 {
            return Err(format!("POST /v1/traces: HTTP {}: {}", response.status, response.body));
        }
    }
    Ok(())
}

/// Spans Jaeger holds for a trace id (0 when it has none).
fn spans_in_jaeger(query: SocketAddr, trace_id: &str) -> usize {
    let Ok(r) = http::get(query, &format!("/api/traces/{trace_id}"), Duration::from_secs(5)) else { return 0 };
    if r.status != 200 {
        return 0;
    }
    let value: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
    value["data"][0]["spans"].as_array().map_or(0, Vec::len)
}

/// A metric summed over a pod's series.
fn metric_sum(cluster: &Cluster, pod: usize, name: &str) -> Result<f64, String> {
    let addr = cluster.pods[pod].port(&IntOrString::String("metrics".into()))?;
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        match http::get(addr, "/metrics", Duration::from_secs(5)) {
            Ok(r) => {
                return Ok(parse_exposition(&r.body)
                    .iter()
                    .filter(|s| s.name == name)
                    .filter_map(|s| s.value.parse::<f64>().ok())
                    .sum());
            }
            Err(e) if Instant::now() > until => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}
