//! Suite `flow`: the `demo` stack as rendered, running in the simulated cluster: Jaeger and the
//! gateway become ready by their own probes, the rendered smoke-test Job (telemetrygen, then the
//! checker) passes, and the spans in Jaeger carry the resource attributes the gateway promises.

use std::net::SocketAddr;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::cluster::{Cluster, Objects, image_repository};
use super::{Context, Report, built_jaeger, http, images, render_variant};

/// Without an API server `k8s_attributes` has no pods to read: it is off here, and the `apiserver`
/// suite runs it against a real one.
pub fn variant() -> Vec<(&'static str, serde_json::Value)> {
    vec![built_jaeger(), ("collector.k8s_attributes", false.into())]
}

pub fn run(context: &Context, report: &mut Report) -> Result<(), String> {
    println!("  k8s_attributes is switched off here (no API server); the apiserver suite runs it against one");
    let (profile, rendered) = render_variant(&context.root, "demo", &variant())?;
    let objects = Objects::from_files(&rendered.files)?;
    let mut cluster = Cluster::new(&context.work.join("flow"), images(context, &profile), objects)?;
    println!("  resource limits: {}", cluster.cgroup_mode);
    report.check("every Service port is its container port", cluster.check_service_ports());
    start_stack(&mut cluster, report)?;
    let job = smoke_job(cluster.objects())?;
    let index = match cluster.run_job(&job, Duration::from_secs(300)) {
        Ok(index) => {
            report.pass(format!("smoke-test Job {job} passed as rendered"));
            index
        }
        Err(e) => {
            report.fail(format!("smoke-test Job {job}"), e);
            return Ok(());
        }
    };
    let run_id = cluster.pods[index].uid.clone();
    let query = query_addr(&cluster)?;
    let traces = traces(query, "tracestack-smoke", &[("tracestack.smoke.run", &run_id)], 100)?;
    report.check(
        format!("Jaeger holds the run's {} traces", profile.smoke_test.traces),
        if traces.len() == profile.smoke_test.traces as usize {
            Ok(())
        } else {
            Err(format!("{} traces", traces.len()))
        },
    );
    let expected = [("deployment.environment.name", profile.environment.as_str()), ("service.version", "unknown")];
    report.check("every span carries deployment.environment.name and the service.version default", {
        let mut problems = Vec::new();
        for trace in &traces {
            for process in trace["processes"].as_object().into_iter().flat_map(|m| m.values()) {
                for (key, value) in expected {
                    let found = process["tags"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|t| t["key"] == key)
                        .map(|t| t["value"].clone());
                    if found.as_ref().and_then(|v| v.as_str()) != Some(value) {
                        problems.push(format!("{key}={found:?}"));
                    }
                }
            }
        }
        problems.dedup();
        if traces.is_empty() || !problems.is_empty() {
            Err(format!("{} traces; {}", traces.len(), problems.join(", ")))
        } else {
            Ok(())
        }
    });
    Ok(())
}

/// Starts every Deployment, Jaeger's first (the gateway exports to it), each ready by its probe.
pub fn start_stack(cluster: &mut Cluster, report: &mut Report) -> Result<(), String> {
    let mut names: Vec<(bool, String)> = cluster
        .objects()
        .deployments
        .iter()
        .map(|d| {
            let image = d
                .spec
                .as_ref()
                .and_then(|s| s.template.spec.as_ref())
                .and_then(|s| s.containers.first())
                .and_then(|c| c.image.clone())
                .unwrap_or_default();
            (!image_repository(&image).contains("jaeger"), d.metadata.name.clone().unwrap_or_default())
        })
        .collect();
    names.sort();
    for (_, name) in names {
        match cluster.run_deployment(&name, None, Duration::from_secs(90)) {
            Ok(pods) => {
                report.pass(format!("Deployment {name}: {} pod(s) ready by their readiness probes", pods.len()))
            }
            Err(e) => {
                report.fail(format!("Deployment {name}"), &e);
                return Err(format!("the stack did not start: {e}"));
            }
        }
    }
    Ok(())
}

/// The one Job of the smoke-test bundle.
pub fn smoke_job(objects: &Objects) -> Result<String, String> {
    objects.jobs.first().and_then(|j| j.metadata.name.clone()).ok_or_else(|| "no smoke-test Job was rendered".into())
}

/// Jaeger's query API: the first ready pod behind the `jaeger-query` Service's port.
pub fn query_addr(cluster: &Cluster) -> Result<SocketAddr, String> {
    service_addr(cluster, "jaeger-query", None)
}

/// The address of a ready pod behind a Service port (the first port, or the one named).
pub fn service_addr(cluster: &Cluster, service: &str, port_name: Option<&str>) -> Result<SocketAddr, String> {
    let svc = cluster
        .objects()
        .services
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some(service))
        .ok_or_else(|| format!("no Service {service}"))?;
    let spec = svc.spec.as_ref().ok_or("Service without spec")?;
    let port = spec
        .ports
        .iter()
        .flatten()
        .find(|p| port_name.is_none_or(|n| p.name.as_deref() == Some(n)))
        .ok_or_else(|| format!("Service {service} has no port {port_name:?}"))?;
    let selector = spec.selector.clone().unwrap_or_default();
    let pod = cluster
        .pods
        .iter()
        .find(|p| p.ready && selector.iter().all(|(k, v)| p.labels.get(k) == Some(v)))
        .ok_or_else(|| format!("no ready pod behind Service {service}"))?;
    pod.port(port.target_port.as_ref().unwrap_or(&IntOrString::Int(port.port)))
}

/// Traces of a service from Jaeger's HTTP API, filtered by span tags.
pub fn traces(
    query: SocketAddr,
    service: &str,
    tags: &[(&str, &str)],
    limit: usize,
) -> Result<Vec<serde_json::Value>, String> {
    let tags: serde_json::Map<String, serde_json::Value> =
        tags.iter().map(|(k, v)| ((*k).to_string(), (*v).into())).collect();
    let tags = serde_json::Value::Object(tags).to_string();
    let path = format!("/api/traces?service={}&limit={limit}&lookback=1h&tags={}", encode(service), encode(&tags));
    let response = http::get(query, &path, Duration::from_secs(10))?;
    if response.status != 200 {
        return Err(format!("GET {path}: HTTP {}: {}", response.status, response.body));
    }
    let value: serde_json::Value = serde_json::from_str(&response.body).map_err(|e| format!("GET {path}: {e}"))?;
    Ok(value["data"].as_array().cloned().unwrap_or_default())
}

/// Percent-encodes a query parameter.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
