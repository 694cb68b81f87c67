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
    for profile in profiles(&context.root)? {
        let (parsed, rendered) = render_variant(&context.root, &profile, &[])?;
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
        if seen == 0 {
            report.fail(format!("{profile}: configs"), "no collector or Jaeger container found");
        }
    }
    negatives(context, &dir, report)
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
