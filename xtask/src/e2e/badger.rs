//! Suite `badger`: the `badger` stack as rendered — one Jaeger pod keeping spans in Badger on its
//! PersistentVolumeClaim (a directory of this machine bind-mounted where the pod mounts the claim,
//! writable through the pod's `fsGroup` as the kubelet makes it) — keeps the smoke test's traces
//! across a restart of the Jaeger pod.

use std::time::{Duration, Instant};

use super::cluster::Cluster;
use super::flow::{query_addr, smoke_job, start_stack, traces};
use super::{Context, Report, built_jaeger, images, render_variant};

pub fn run(context: &Context, report: &mut Report) -> Result<(), String> {
    println!("  k8s_attributes is switched off: the simulated cluster has no API server for it to read pods from");
    let changes = [built_jaeger(), ("collector.k8s_attributes", serde_json::Value::Bool(false))];
    let (profile, rendered) = render_variant(&context.root, "badger", &changes)?;
    let objects = super::cluster::Objects::from_files(&rendered.files)?;
    report.check("a PersistentVolumeClaim and a Recreate strategy are rendered, no HPA", check_objects(&objects));
    let mut cluster = Cluster::new(&context.work.join("badger"), images(context, &profile), objects)?;
    start_stack(&mut cluster, report)?;
    let job = smoke_job(cluster.objects())?;
    let index = match cluster.run_job(&job, Duration::from_secs(300)) {
        Ok(index) => {
            report.pass(format!("smoke-test Job {job} passed as rendered, on Badger"));
            index
        }
        Err(e) => {
            report.fail(format!("smoke-test Job {job}"), e);
            return Ok(());
        }
    };
    let run_id = cluster.pods[index].uid.clone();
    let expected = profile.smoke_test.traces as usize;
    let before = traces(query_addr(&cluster)?, "tracestack-smoke", &[("tracestack.smoke.run", &run_id)], 1000)?;
    let spans: usize = before.iter().map(|t| t["spans"].as_array().map_or(0, Vec::len)).sum();
    println!("  before the restart: {} traces, {spans} spans", before.len());
    let jaeger = cluster
        .pods
        .iter()
        .position(|p| p.labels.get("app.kubernetes.io/name").map(String::as_str) == Some("jaeger"))
        .ok_or("no Jaeger pod")?;
    let files = badger_files(&cluster, jaeger);
    println!("  Badger files on the claim: {files}");
    let started = Instant::now();
    cluster.stop(jaeger);
    cluster.restart(jaeger, Duration::from_secs(120))?;
    println!("  Jaeger stopped (SIGTERM) and started again in {:.1} s", started.elapsed().as_secs_f64());
    let after = traces(query_addr(&cluster)?, "tracestack-smoke", &[("tracestack.smoke.run", &run_id)], 1000)?;
    let spans_after: usize = after.iter().map(|t| t["spans"].as_array().map_or(0, Vec::len)).sum();
    println!("  after the restart: {} traces, {spans_after} spans", after.len());
    report.check(
        format!("the run's {expected} traces survive a restart of the Jaeger pod"),
        if before.len() == expected && after.len() == expected && spans_after == spans {
            Ok(())
        } else {
            Err(format!("{} traces before, {} after ({spans} / {spans_after} spans)", before.len(), after.len()))
        },
    );
    Ok(())
}

fn check_objects(objects: &super::cluster::Objects) -> Result<(), String> {
    if !objects.all.iter().any(|o| o["kind"] == "PersistentVolumeClaim") {
        return Err("no PersistentVolumeClaim".into());
    }
    if objects.all.iter().any(|o| o["kind"] == "HorizontalPodAutoscaler" || o["kind"] == "StatefulSet") {
        return Err("an HPA or a StatefulSet is rendered".into());
    }
    let jaeger = objects.deployment("jaeger")?;
    let spec = jaeger.spec.as_ref().ok_or("no spec")?;
    if spec.strategy.as_ref().and_then(|s| s.type_.as_deref()) != Some("Recreate") {
        return Err("the Jaeger Deployment does not recreate its pod".into());
    }
    if spec.replicas != Some(1) {
        return Err(format!("replicas {:?}", spec.replicas));
    }
    Ok(())
}

/// The files Badger wrote on the claim, counted, for the output.
fn badger_files(cluster: &Cluster, pod: usize) -> String {
    let dir = cluster.pod_dir(pod).join("volumes/badger");
    let count = |sub: &str| std::fs::read_dir(dir.join(sub)).map(|d| d.count()).unwrap_or(0);
    format!("{} in keys/, {} in values/", count("keys"), count("values"))
}
