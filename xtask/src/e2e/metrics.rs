//! Suite `metrics`: every metric that an alert expression of the rendered `PrometheusRule` or a
//! command of the runbook names is on a live `/metrics` of the pods it is about, with the labels
//! it filters on.
//!
//! Counters of failures only exist once they have counted something, so the suite makes each
//! failure happen for real: traffic through the stack as rendered, then a Jaeger outage on a
//! variant with a small queue and short retries (queue full, exports given up), then a burst
//! into a gateway whose memory limit it cannot hold (the memory limiter refuses). Every series
//! seen is kept, labelled as Prometheus would label it through the rendered PodMonitors.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use promql_parser::label::MatchOp;
use promql_parser::parser::{self, Expr};
use promql_parser::util::{ExprVisitor, walk_expr};

use super::cluster::{Cluster, Objects, target_labels};
use super::flow::{smoke_job, start_stack};
use super::stress::start_load;
use super::{Context, Report, built_jaeger, http, images, render_variant};

/// One series: its name and every label, target labels included.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Series {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: String,
}

/// Metrics from outside the stack's pods: Prometheus's own `up` and kube-state-metrics.
const EXTERNAL: [&str; 2] = ["up", "kube_pod_container_status_restarts_total"];

pub fn run(context: &Context, report: &mut Report) -> Result<(), String> {
    let monitoring = ("monitoring.enabled", serde_json::Value::Bool(true));
    let k8s = ("collector.k8s_attributes", serde_json::Value::Bool(false));
    println!("  k8s_attributes is switched off (no API server); monitoring is switched on (demo leaves it off)");
    let mut seen: BTreeSet<Series> = BTreeSet::new();

    // 1. The stack as rendered, with traffic.
    let (profile, rendered) =
        render_variant(&context.root, "demo", &[built_jaeger(), k8s.clone(), monitoring.clone()])?;
    let objects = Objects::from_files(&rendered.files)?;
    let rules = rule_expressions(&objects);
    let runbook = rendered.files.get("README.md").cloned().unwrap_or_default();
    {
        let mut cluster = Cluster::new(&context.work.join("metrics"), images(context, &profile), objects)?;
        start_stack(&mut cluster, report)?;
        let job = smoke_job(cluster.objects())?;
        cluster.run_job(&job, Duration::from_secs(300)).map_err(|e| format!("smoke test: {e}"))?;
        // Failed server spans, for the error-ratio alert's `status_code` and `span_kind` labels.
        send(context, &mut cluster, "errors", "e2e-load", &["--traces=20", "--status-code=Error"])?;
        std::thread::sleep(Duration::from_secs(5));
        std::thread::sleep(Duration::from_secs(2));
        seen.extend(scrape(&cluster)?);
    }

    // 2. Jaeger down behind a small queue and short retries: the queue fills and exports are given up.
    let outage = [
        built_jaeger(),
        k8s.clone(),
        monitoring.clone(),
        ("collector.queue.queue_size", 200.into()),
        ("collector.queue.num_consumers", 1.into()),
        ("collector.retry.initial_interval", "1s".into()),
        ("collector.retry.max_interval", "1s".into()),
        ("collector.retry.max_elapsed_time", "2s".into()),
    ];
    {
        let mut cluster = without_jaeger(context, report, "metrics-outage", &outage)?;
        send(context, &mut cluster, "outage", "e2e-load", &["--rate=500", "--duration=8s", "--workers=2"])?;
        std::thread::sleep(Duration::from_secs(4));
        seen.extend(scrape(&cluster)?);
    }

    // 3. A burst into a gateway held to 96Mi with a large queue and Jaeger down: memory fills, the
    //    memory limiter refuses.
    let squeeze = [
        built_jaeger(),
        k8s,
        monitoring,
        (
            "collector.resources",
            serde_json::json!({"requests": {"cpu": "100m", "memory": "96Mi"}, "limits": {"cpu": "1", "memory": "96Mi"}}),
        ),
        ("collector.queue.queue_size", 2_000_000.into()),
    ];
    {
        let mut cluster = without_jaeger(context, report, "metrics-squeeze", &squeeze)?;
        let big = format!("--telemetry-attributes=payload=\"{}\"", "x".repeat(2048));
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            send(
                context,
                &mut cluster,
                "squeeze",
                "e2e-load",
                &["--rate=0", "--duration=5s", "--workers=4", "--child-spans=10", &big],
            )?;
            let now = scrape(&cluster)?;
            let refused = now.iter().any(|s| s.name.contains("memory_limiter_refused") && s.value != "0");
            seen.extend(now);
            if refused {
                break;
            }
        }
    }

    // 4. Elasticsearch: the production profile with Jaeger writing to a stand-in Elasticsearch,
    //    which then fails every bulk request; traffic from `checkout`, which has its own RED
    //    thresholds in that profile.
    let es = [
        built_jaeger(),
        ("collector.k8s_attributes", serde_json::Value::Bool(false)),
        ("jaeger.storage.elasticsearch.server_urls", serde_json::json!(["http://elasticsearch:9200"])),
        ("jaeger.storage.elasticsearch.credentials", serde_json::Value::Null),
        ("jaeger.storage.elasticsearch.ca", serde_json::Value::Null),
    ];
    let (profile, rendered) = render_variant(&context.root, "prod-elasticsearch", &es)?;
    let es_objects = Objects::from_files(&rendered.files)?;
    let es_rules = rule_expressions(&es_objects);
    {
        let mut cluster =
            Cluster::new(&context.work.join("metrics-elasticsearch"), images(context, &profile), es_objects)?;
        let namespace = profile.namespace.clone();
        let es_pod = cluster.client_pod("elasticsearch", &namespace)?;
        let mut fake = start_fake_es(context, &cluster, es_pod, false)?;
        start_stack(&mut cluster, report)?;
        let checkout = ["--traces=50", "--rate=20", "--status-code=Error"];
        send(context, &mut cluster, "es-ok", "checkout", &checkout)?;
        std::thread::sleep(Duration::from_secs(3));
        seen.extend(scrape(&cluster)?);
        let _ = fake.kill();
        let _ = fake.wait();
        let mut failing = start_fake_es(context, &cluster, es_pod, true)?;
        send(context, &mut cluster, "es-failing", "checkout", &checkout)?;
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            std::thread::sleep(Duration::from_secs(3));
            let now = scrape(&cluster)?;
            let failed = now
                .iter()
                .any(|s| s.name == tracestack::config::prometheus::metric::ES_BULK_FAILED_REQUESTS && s.value != "0");
            seen.extend(now);
            if failed {
                break;
            }
        }
        let _ = failing.kill();
        let _ = failing.wait();
    }

    let names: BTreeSet<&str> = seen.iter().map(|s| s.name.as_str()).collect();
    println!("  {} series of {} metrics seen (all in target/e2e/run/metrics-series.txt)", seen.len(), names.len());
    let dump: Vec<String> = seen.iter().map(|s| format!("{} {:?} {}", s.name, s.labels, s.value)).collect();
    let _ = std::fs::write(context.work.join("metrics-series.txt"), dump.join("\n"));
    if rules.is_empty() {
        report.fail("alert rules", "the monitoring variant rendered no PrometheusRule");
    }
    for (alert, expr) in &rules {
        report
            .check(format!("demo alert {alert}: every selector matches a live series"), check_expression(expr, &seen));
    }
    for (alert, expr) in &es_rules {
        report.check(
            format!("prod-elasticsearch alert {alert}: every selector matches a live series"),
            check_expression(expr, &seen),
        );
    }
    for name in runbook_metrics(&runbook) {
        report.check(
            format!("runbook metric {name} is served"),
            // Runbook commands find metrics with `grep`: a name matches where it is contained.
            if names.iter().any(|n| n.contains(name.as_str())) {
                Ok(())
            } else {
                Err(format!("not among the {} metrics served", names.len()))
            },
        );
    }
    Ok(())
}

/// A `demo` variant started, then its Jaeger stopped: the gateway alone, its exports failing.
fn without_jaeger(
    context: &Context,
    report: &mut Report,
    name: &str,
    changes: &[(&str, serde_json::Value)],
) -> Result<Cluster, String> {
    let (profile, rendered) = render_variant(&context.root, "demo", changes)?;
    let mut cluster =
        Cluster::new(&context.work.join(name), images(context, &profile), Objects::from_files(&rendered.files)?)?;
    start_stack(&mut cluster, report)?;
    let jaeger = jaeger_pod(&cluster)?;
    cluster.stop(jaeger);
    Ok(cluster)
}

/// The pod of the Jaeger Deployment that receives from the gateway.
pub fn jaeger_pod(cluster: &Cluster) -> Result<usize, String> {
    cluster
        .pods
        .iter()
        .position(|p| p.labels.get("app.kubernetes.io/name").is_some_and(|n| n == "jaeger"))
        .ok_or_else(|| "no Jaeger pod".into())
}

/// Starts the stand-in Elasticsearch in its pod and waits until it answers.
fn start_fake_es(context: &Context, cluster: &Cluster, pod: usize, fail: bool) -> Result<std::process::Child, String> {
    let program = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut args = vec!["e2e-fake-es".to_string(), "--listen=0.0.0.0:9200".to_string()];
    if fail {
        args.push("--fail".into());
    }
    let log = context.work.join(format!("fake-es-{}.log", if fail { "failing" } else { "ok" }));
    let child = cluster.exec_in(pod, &program, &args, &log)?;
    let addr = std::net::SocketAddr::from((cluster.pods[pod].ip, 9200));
    let until = Instant::now() + Duration::from_secs(10);
    while http::get(addr, "/", Duration::from_secs(1)).is_err() {
        if Instant::now() > until {
            return Err("the stand-in Elasticsearch did not start".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(child)
}

/// Runs telemetrygen as `service` to the `otlp` Service from a client pod in the stack's
/// namespace; waits.
fn send(context: &Context, cluster: &mut Cluster, run: &str, service: &str, extra: &[&str]) -> Result<(), String> {
    let mut child = start_load(context, cluster, run, service, extra)?;
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        println!("  telemetrygen ({run}) exited {status}");
    }
    Ok(())
}

/// Scrapes every pod as the rendered PodMonitors say (port, path), labelling each series as
/// Prometheus would; pods no PodMonitor selects are scraped on their `metrics` port.
pub fn scrape(cluster: &Cluster) -> Result<Vec<Series>, String> {
    let monitors: Vec<&serde_json::Value> =
        cluster.objects().all.iter().filter(|o| o["kind"] == "PodMonitor").collect();
    let mut out = Vec::new();
    for pod in cluster.pods.iter().filter(|p| p.ready) {
        let mut endpoints: Vec<Endpoint> = Vec::new();
        for monitor in &monitors {
            let spec = &monitor["spec"];
            let selected = spec["selector"]["matchLabels"]
                .as_object()
                .is_some_and(|m| m.iter().all(|(k, v)| pod.labels.get(k).map(String::as_str) == v.as_str()));
            if !selected {
                continue;
            }
            let job_label = spec["jobLabel"].as_str().unwrap_or_default();
            let targets: Vec<String> = spec["podTargetLabels"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            for endpoint in spec["podMetricsEndpoints"].as_array().into_iter().flatten() {
                let port = endpoint["port"].as_str().unwrap_or("metrics").to_string();
                let path = endpoint["path"].as_str().unwrap_or("/metrics").to_string();
                let mut labels = target_labels(pod, job_label, &targets);
                labels.insert(("endpoint".into(), port.clone()));
                endpoints.push((port, path, labels));
            }
        }
        if endpoints.is_empty() && monitors.is_empty() {
            endpoints.push(("metrics".into(), "/metrics".into(), target_labels(pod, "app.kubernetes.io/name", &[])));
        }
        for (port, path, labels) in endpoints {
            // Prometheus makes a target only of a pod that declares the endpoint's port.
            let Ok(addr) = pod.port(&k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(port.clone()))
            else {
                continue;
            };
            let body =
                http::get(addr, &path, Duration::from_secs(5)).map_err(|e| format!("scraping {}: {e}", pod.name))?.body;
            for mut series in parse_exposition(&body) {
                // Prometheus without `honorLabels` (the PodMonitors leave it unset): a target
                // label wins, the scraped label of the same name becomes `exported_<name>`.
                for (k, v) in &labels {
                    if let Some(old) = series.labels.insert(k.clone(), v.clone()) {
                        series.labels.insert(format!("exported_{k}"), old);
                    }
                }
                out.push(series);
            }
        }
    }
    Ok(out)
}

/// The Prometheus text format, one series per sample line.
pub fn parse_exposition(text: &str) -> Vec<Series> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (head, value) = match line.rfind('}') {
            Some(i) => (&line[..=i], line[i + 1..].trim()),
            None => line.split_once(' ').map_or((line, ""), |(h, v)| (h, v.trim())),
        };
        let (name, labels) = match head.split_once('{') {
            Some((name, rest)) => (name, parse_labels(rest.trim_end_matches('}'))),
            None => (head, BTreeMap::new()),
        };
        let value = value.split_whitespace().next().unwrap_or_default().to_string();
        out.push(Series { name: name.to_string(), labels, value });
    }
    out
}

fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while let Some((key, after)) = rest.split_once("=\"") {
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        value.push(if n == 'n' { '\n' } else { n });
                    }
                }
                '"' => {
                    end = i + 1;
                    break;
                }
                c => value.push(c),
            }
        }
        labels.insert(key.trim_start_matches(',').trim().to_string(), value);
        rest = &after[end..];
    }
    labels
}

/// Every alert of every rendered PrometheusRule: `(name, expr)`.
fn rule_expressions(objects: &Objects) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for rule in objects.all.iter().filter(|o| o["kind"] == "PrometheusRule") {
        for group in rule["spec"]["groups"].as_array().into_iter().flatten() {
            for r in group["rules"].as_array().into_iter().flatten() {
                let name = r["alert"].as_str().or_else(|| r["record"].as_str()).unwrap_or_default();
                out.push((name.to_string(), r["expr"].as_str().unwrap_or_default().to_string()));
            }
        }
    }
    out
}

/// A label matcher: label, operator, value.
type Matcher = (String, MatchOp, String);

/// One scrape: port name, path, and the target labels Prometheus adds.
type Endpoint = (String, String, BTreeSet<(String, String)>);

#[derive(Default)]
struct Selectors(Vec<(String, Vec<Matcher>)>);

impl ExprVisitor for Selectors {
    type Error = ();
    fn pre_visit(&mut self, expr: &Expr) -> Result<bool, ()> {
        let vs = match expr {
            Expr::VectorSelector(vs) => vs,
            Expr::MatrixSelector(ms) => &ms.vs,
            _ => return Ok(true),
        };
        let matchers = vs.matchers.matchers.iter().map(|m| (m.name.clone(), m.op.clone(), m.value.clone())).collect();
        self.0.push((vs.name.clone().unwrap_or_default(), matchers));
        Ok(true)
    }
}

/// Every selector of the expression matches a series seen (metrics from outside the stack are
/// checked only for their target labels: some scraped pod must carry them).
fn check_expression(expr: &str, seen: &BTreeSet<Series>) -> Result<(), String> {
    let ast = parser::parse(expr).map_err(|e| format!("does not parse: {e}"))?;
    let mut selectors = Selectors::default();
    walk_expr(&mut selectors, &ast).map_err(|()| "walk failed".to_string())?;
    let mut missing = Vec::new();
    for (name, matchers) in &selectors.0 {
        let external = EXTERNAL.contains(&name.as_str());
        let found = seen.iter().any(|s| {
            (external || name.is_empty() || &s.name == name)
                && matchers.iter().all(|(label, op, value)| {
                    if external && !["namespace", "job", "pod"].contains(&label.as_str()) {
                        return true;
                    }
                    let actual = if label == "__name__" {
                        s.name.as_str()
                    } else {
                        s.labels.get(label).map_or("", String::as_str)
                    };
                    match op {
                        MatchOp::Equal => actual == value,
                        MatchOp::NotEqual => actual != value,
                        MatchOp::Re(re) => re.is_match(actual),
                        MatchOp::NotRe(re) => !re.is_match(actual),
                    }
                })
        });
        if !found {
            let served: Vec<&str> = seen
                .iter()
                .filter(|s| s.name.starts_with(name.split('_').take(2).collect::<Vec<_>>().join("_").as_str()))
                .map(|s| s.name.as_str())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .take(12)
                .collect();
            missing.push(format!(
                "no live series for `{name}` with {}; similar names served: {}",
                describe(matchers),
                served.join(", ")
            ));
        }
    }
    if missing.is_empty() { Ok(()) } else { Err(missing.join("; ")) }
}

fn describe(matchers: &[Matcher]) -> String {
    matchers.iter().map(|(l, op, v)| format!("{l}{op}{v:?}")).collect::<Vec<_>>().join(",")
}

/// Metric names a runbook command uses: words in its code that start like the stack's metrics.
fn runbook_metrics(runbook: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut in_code = false;
    for line in runbook.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        let code: Vec<&str> = if in_code { vec![line] } else { line.split('`').skip(1).step_by(2).collect() };
        for part in code {
            for word in part.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if ["otelcol_", "traces_span_metrics_", "jaeger_storage_"].iter().any(|p| word.starts_with(p))
                    && word.len() > 12
                {
                    names.insert(word.to_string());
                }
            }
        }
    }
    names
}
