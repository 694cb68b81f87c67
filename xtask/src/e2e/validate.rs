//! Suite `validate`: every collector and Jaeger config of every built-in profile, in every bundle,
//! is accepted by its own binary's `validate` subcommand, run with the args its workload passes
//! (`--config` paths mapped to the mounted ConfigMap's files, `--feature-gates` as rendered).
//!
//! Then the negative set: for each value the binaries reject at start-up, the real binary is shown
//! to reject a rendered config carrying it, and tracestack is shown to refuse the profile that would
//! produce it, with the file, line and field.

use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::api::core::v1::PodSpec;

use super::cluster::{Objects, image_repository};
use super::{Context, Report, collector_image, jaeger_image, profiles, render_variant};

pub fn run(context: &Context, report: &mut Report) -> Result<(), String> {
    let dir = context.work.join("validate");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut runs: Vec<(String, Vec<(&'static str, serde_json::Value)>)> = profiles(&context.root)?
        .into_iter()
        .map(|p| {
            let v = variant(&context.root, &p);
            (p, v)
        })
        .collect();
    runs.extend(lifecycle_variants());
    for (profile, changes) in runs {
        let (parsed, rendered) = render_variant(&context.root, &profile, &changes)?;
        let objects = Objects::from_files(&rendered.files)?;
        let collector_image = collector_image(&parsed);
        let jaeger_image = jaeger_image(&parsed);
        let mut workloads: Vec<(String, PodSpec)> = Vec::new();
        for d in &objects.deployments {
            if let Some(spec) = d.spec.as_ref().and_then(|s| s.template.spec.clone()) {
                workloads.push((format!("Deployment {}", d.metadata.name.as_deref().unwrap_or_default()), spec));
            }
        }
        for d in &objects.daemon_sets {
            if let Some(spec) = d.spec.as_ref().and_then(|s| s.template.spec.clone()) {
                workloads.push((format!("DaemonSet {}", d.metadata.name.as_deref().unwrap_or_default()), spec));
            }
        }
        let mut seen = 0;
        for (workload, spec) in &workloads {
            for container in &spec.containers {
                let repository = image_repository(container.image.as_deref().unwrap_or_default());
                let binary = if repository == collector_image {
                    &context.binaries.otelcol
                } else if repository == jaeger_image {
                    &context.binaries.jaeger
                } else {
                    continue;
                };
                seen += 1;
                let what = format!(
                    "{profile}: {workload} container {} config accepted by `{} validate`",
                    container.name, repository
                );
                report.check(
                    what,
                    validate_container(&dir.join(format!("{profile}-{seen}")), binary, spec, container, &objects),
                );
            }
        }
        // OpenTelemetry Operator resources: the operator runs the image with
        // `--config=/conf/collector.yaml`, the file holding `spec.config`.
        for (file, text) in &rendered.files {
            if !text.contains("kind: OpenTelemetryCollector") {
                continue;
            }
            let resource: serde_json::Value = serde_saphyr::from_str(text).map_err(|e| format!("{file}: {e}"))?;
            let image = resource["spec"]["image"].as_str().unwrap_or_default();
            let repository = image_repository(image);
            let binary = if repository == collector_image {
                &context.binaries.otelcol
            } else if repository == jaeger_image {
                &context.binaries.jaeger
            } else {
                report
                    .fail(format!("{profile}: {file}"), format!("image `{image}` is neither the collector nor Jaeger"));
                continue;
            };
            seen += 1;
            let target = dir.join(format!("{profile}-{seen}"));
            let result = std::fs::create_dir_all(&target)
                .map_err(|e| e.to_string())
                .and_then(|()| serde_saphyr::to_string(&resource["spec"]["config"]).map_err(|e| e.to_string()))
                .and_then(|config| {
                    let path = target.join("collector.yaml");
                    std::fs::write(&path, config).map_err(|e| e.to_string())?;
                    binary_validate(binary, &["validate".into(), format!("--config={}", path.display())])
                });
            report.check(format!("{profile}: {file} spec.config accepted by `{repository} validate`"), result);
        }
        if seen == 0 {
            report.fail(format!("{profile}: configs"), "no collector or Jaeger container found");
        }
    }
    negatives(context, &dir, report)
}

/// The changes a profile needs before the Jaeger the harness builds can validate it: ClickHouse's
/// `ttl` and its `storage.clickhouse` feature gate arrived in Jaeger 2.18, after the 2.13.0 the
/// harness builds, so a ClickHouse profile is validated as rendered for 2.13.0 without `ttl`
/// (tracestack refuses `ttl` below 2.18 and passes the gate from 2.18 on).
fn variant(root: &Path, profile: &str) -> Vec<(&'static str, serde_json::Value)> {
    let text = std::fs::read_to_string(root.join("profiles").join(format!("{profile}.yaml"))).unwrap_or_default();
    if text.lines().any(|l| l.trim_start().starts_with("clickhouse:")) {
        vec![super::built_jaeger(), ("jaeger.storage.clickhouse.ttl", serde_json::Value::Null)]
    } else {
        Vec::new()
    }
}

/// Settings no built-in profile carries, rendered as the harness's Jaeger takes them: rollover
/// under an ILM policy (`use_aliases` + `use_ilm`, no templates from Jaeger) with the Monitor tab
/// read from Elasticsearch, and OpenSearch's Monitor tab from the storage.
fn lifecycle_variants() -> Vec<(String, Vec<(&'static str, serde_json::Value)>)> {
    let storage_monitor = [
        ("monitoring.red.prometheus_url", serde_json::Value::Null),
        ("monitoring.red.monitor_backend", serde_json::json!("storage")),
    ];
    let mut es = vec![
        super::built_jaeger(),
        ("jaeger.storage.elasticsearch.lifecycle.mode", serde_json::json!("rollover")),
        ("jaeger.storage.elasticsearch.lifecycle.policy", serde_json::json!("jaeger-ilm-policy")),
    ];
    es.extend(storage_monitor.clone());
    let mut os = vec![super::built_jaeger()];
    os.extend(storage_monitor);
    vec![("prod-elasticsearch".into(), es), ("prod-opensearch".into(), os)]
}

/// Runs `binary validate` with the container's own args, its ConfigMap volumes written to files
/// and the mount paths in the args pointed at them.
fn validate_container(
    dir: &Path,
    binary: &Path,
    spec: &PodSpec,
    container: &k8s_openapi::api::core::v1::Container,
    objects: &Objects,
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut mapping: Vec<(String, PathBuf)> = Vec::new();
    for mount in container.volume_mounts.iter().flatten() {
        let Some(volume) = spec.volumes.iter().flatten().find(|v| v.name == mount.name) else { continue };
        let Some(source) = &volume.config_map else { continue };
        let map = objects
            .config_maps
            .iter()
            .find(|c| c.metadata.name.as_deref() == Some(source.name.as_str()))
            .ok_or_else(|| format!("ConfigMap {} is not rendered", source.name))?;
        let target = dir.join(&mount.name);
        std::fs::create_dir_all(&target).map_err(|e| e.to_string())?;
        for (key, value) in map.data.clone().unwrap_or_default() {
            let path = source.items.iter().flatten().find(|i| i.key == key).map_or(key.clone(), |i| i.path.clone());
            std::fs::write(target.join(path), value).map_err(|e| e.to_string())?;
        }
        mapping.push((mount.mount_path.trim_end_matches('/').to_string(), target));
    }
    let mut args: Vec<String> = vec!["validate".into()];
    for arg in container.args.iter().flatten() {
        let mut arg = arg.clone();
        for (from, to) in &mapping {
            if let Some(i) = arg.find(&format!("{from}/")) {
                arg = format!("{}{}{}", &arg[..i], to.display(), &arg[i + from.len()..]);
            }
        }
        args.push(arg);
    }
    if !args.iter().any(|a| a.starts_with("--config")) {
        return Err(format!("container {} passes no --config", container.name));
    }
    // The container's literal env, and a stand-in for each downward-API field and Secret key (a
    // config may name `${env:K8S_NODE_NAME}` or `${env:KAFKA_USERNAME}`, which the binary checks
    // is set; the pod would have the real value).
    let env: Vec<(String, String)> = container
        .env
        .iter()
        .flatten()
        .filter_map(|e| {
            let from = e.value_from.as_ref();
            match (&e.value, from.and_then(|f| f.field_ref.as_ref()), from.and_then(|f| f.secret_key_ref.as_ref())) {
                (Some(v), _, _) => Some((e.name.clone(), v.clone())),
                (None, Some(field), _) => {
                    Some((e.name.clone(), format!("validate-{}", field.field_path.replace('.', "-"))))
                }
                (None, None, Some(key)) => Some((e.name.clone(), format!("validate-{}-{}", key.name, key.key))),
                _ => None,
            }
        })
        .collect();
    binary_validate_with(binary, &args, &env)
}

fn binary_validate(binary: &Path, args: &[String]) -> Result<(), String> {
    binary_validate_with(binary, args, &[])
}

fn binary_validate_with(binary: &Path, args: &[String], env: &[(String, String)]) -> Result<(), String> {
    let out = Command::new(binary)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} {} exited {}: {}",
            binary.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim().lines().last().unwrap_or_default()
        ))
    }
}

/// A value the collector rejects at start-up: how it reaches a rendered config, and the profile
/// field that would produce it.
struct Negative {
    what: &'static str,
    /// The path in the gateway's config to set, and the value.
    config: (&'static [&'static str], serde_json::Value),
    /// The profile field and value that would render it.
    profile: (&'static str, serde_json::Value),
    /// What tracestack's error must say.
    message: &'static str,
}

fn negatives(context: &Context, dir: &Path, report: &mut Report) -> Result<(), String> {
    const EXPORTER: &str = "otlp_grpc/jaeger";
    let cases = [
        Negative {
            what: "queue_size 0",
            config: (&["exporters", EXPORTER, "sending_queue", "queue_size"], 0.into()),
            profile: ("collector.queue.queue_size", 0.into()),
            message: "collector.queue.queue_size",
        },
        Negative {
            what: "num_consumers 0",
            config: (&["exporters", EXPORTER, "sending_queue", "num_consumers"], 0.into()),
            profile: ("collector.queue.num_consumers", 0.into()),
            message: "collector.queue.num_consumers",
        },
        Negative {
            what: "retry max_elapsed_time below max_interval",
            config: (&["exporters", EXPORTER, "retry_on_failure", "max_elapsed_time"], "10s".into()),
            profile: ("collector.retry.max_elapsed_time", "10s".into()),
            message: "collector.retry.max_elapsed_time",
        },
        Negative {
            what: "a duration beyond Go's int64 nanoseconds",
            config: (&["exporters", EXPORTER, "timeout"], "3000000h".into()),
            profile: ("collector.retry.max_elapsed_time", "3000000h".into()),
            message: "collector.retry.max_elapsed_time",
        },
        Negative {
            what: "batch send_batch_max_size below send_batch_size",
            config: (&["processors", "batch", "send_batch_max_size"], 10.into()),
            profile: ("collector.batch.send_batch_max_size", 10.into()),
            message: "collector.batch.send_batch_max_size",
        },
        Negative {
            // `Validate` of the probabilistic sampler refuses a share below 2^-56; tracestack
            // refuses everything below one of the sampler's 16384 shares, which keeps nothing.
            what: "a sampling percentage too small for the probabilistic sampler",
            config: (&["processors", "probabilistic_sampler", "sampling_percentage"], 1e-16.into()),
            profile: ("sampling.percentage", 1e-16.into()),
            message: "sampling.percentage",
        },
    ];
    let (_, rendered) = render_variant(&context.root, "demo", &[])?;
    let text =
        rendered.files.get("otel-collector-configmap.yaml").ok_or("demo renders no otel-collector-configmap.yaml")?;
    let map: serde_json::Value = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    let config_text = map["data"]["collector.yaml"].as_str().ok_or("no collector.yaml key")?;
    let config: serde_json::Value = serde_saphyr::from_str(config_text).map_err(|e| e.to_string())?;
    for (i, case) in cases.iter().enumerate() {
        let mut bad = config.clone();
        let mut at = &mut bad;
        for key in case.config.0 {
            at = &mut at[*key];
        }
        *at = case.config.1.clone();
        let path = dir.join(format!("negative-{i}.yaml"));
        std::fs::write(&path, serde_saphyr::to_string(&bad).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        let rejected =
            binary_validate(&context.binaries.otelcol, &["validate".into(), format!("--config={}", path.display())]);
        report.check(
            format!("collector rejects {}", case.what),
            match rejected {
                Ok(()) => Err("the collector accepted it: this case no longer needs a rule".into()),
                Err(_) => Ok(()),
            },
        );
        let refused = render_variant(&context.root, "demo", &[(case.profile.0, case.profile.1.clone())]);
        report.check(
            format!("tracestack refuses {} ({})", case.what, case.profile.0),
            match refused {
                Ok(_) => Err(format!("`{}: {}` rendered without an error", case.profile.0, case.profile.1)),
                Err(e) if e.contains(case.message) && e.contains("profiles/demo.yaml") => Ok(()),
                Err(e) => Err(format!("the error does not name {} in profiles/demo.yaml: {e}", case.message)),
            },
        );
    }
    Ok(())
}
