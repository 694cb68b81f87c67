//! `cargo xtask e2e`: the rendered stack run for real. Builds the real collector, Jaeger v2 and
//! telemetrygen from source ([`build`]), then runs the suites:
//!
//! - `validate`: every collector and Jaeger config of every built-in profile (every bundle) is
//!   accepted by its own binary's `validate`, with the args its Deployment passes; configs the
//!   binaries reject are already refused by tracestack with a located error.
//! - `flow`: the `demo` stack, as rendered, runs in a simulated cluster ([`cluster`]); the rendered
//!   smoke-test Job passes, and the spans carry the resource attributes the gateway promises.
//! - `apiserver`: every bundle of every profile against a real `kube-apiserver` by the runbook's
//!   own commands (server-side apply as ApplySets, no warnings under Pod Security `restricted`,
//!   re-apply changes nothing, upgrade, prune, uninstall, the read commands), and the gateway's
//!   `k8s_attributes` reading it with the rendered RBAC.
//! - `metrics`: every metric an alert expression or a runbook command names is on a live
//!   `/metrics` of the pods the alert is about, with the labels it filters on.
//! - `opensearch`: `prod-opensearch` on a real OpenSearch node from Maven Central: written, read
//!   back, the index cleaner run once.
//! - `badger`: the `badger` profile's single Jaeger keeps its traces across a restart.
//! - `faults`: a Jaeger outage within the queue's capacity loses nothing; a longer one loses spans
//!   and the metrics the alerts read say so.
//! - `load`: the gateway under its memory limit at 3× its planned rate: no OOM kill, refusals
//!   counted, recovery; throughput per core and send→queryable latency measured.
//!
//! - `agents`: `prod-agents` on two simulated nodes: an agent per node, each application sending to
//!   its own node's agent, every trace in Jaeger with its node's attributes.
//! - `tail-sampling`: `prod-tail-sampling` with two gateways and two sampling members: a known mix
//!   of traces, each split over both gateways; error and slow traces kept whole, ordinary ones at
//!   their shares.
//! - `kafka`: `prod-kafka` with a real Kafka broker (KRaft, from Maven Central, on the machine's
//!   JDK): gateway → topic → Jaeger; a storage outage meanwhile loses nothing.
//!
//! Ends with `e2e: N passed, M failed, K skipped`. Needs root (network namespaces, mounts,
//! cgroups) and Go; without them every suite skips, which `TRACESTACK_REQUIRE_TOOLS=1` turns
//! into failures.

mod agents;
mod apiserver;
mod badger;
pub mod build;
pub mod cluster;
pub mod fake_es;
mod flow;
pub mod http;
mod kafka;
mod metrics;
mod opensearch;
mod otlp;
mod stress;
mod tail_sampling;
mod validate;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tracestack::Profile;
use tracestack::collector::distribution::Distribution;
use tracestack::components::smoke_test;
use tracestack::model::load;
use tracestack::render::{self, Source};

/// The suites, in the order `cargo xtask e2e` runs them.
pub const SUITES: [&str; 11] = [
    "validate",
    "flow",
    "apiserver",
    "metrics",
    "opensearch",
    "badger",
    "faults",
    "load",
    "agents",
    "tail-sampling",
    "kafka",
];

/// Counts of one run.
#[derive(Default)]
pub struct Report {
    passed: usize,
    failed: Vec<String>,
    skipped: Vec<String>,
}

impl Report {
    pub fn pass(&mut self, what: impl std::fmt::Display) {
        println!("  ok    {what}");
        self.passed += 1;
    }

    pub fn fail(&mut self, what: impl std::fmt::Display, why: impl std::fmt::Display) {
        println!("  FAIL  {what}: {why}");
        self.failed.push(what.to_string());
    }

    pub fn skip(&mut self, what: impl std::fmt::Display, why: impl std::fmt::Display) {
        println!("  skip  {what}: {why}");
        self.skipped.push(what.to_string());
    }

    /// `Ok` → pass, `Err` → fail.
    pub fn check(&mut self, what: impl std::fmt::Display, result: Result<(), String>) {
        match result {
            Ok(()) => self.pass(what),
            Err(e) => self.fail(what, e),
        }
    }
}

/// What every suite gets.
pub struct Context {
    pub root: PathBuf,
    pub binaries: build::Binaries,
    pub work: PathBuf,
}

/// Runs the suites named (all when empty); the exit code says whether any failed (or, with
/// `TRACESTACK_REQUIRE_TOOLS=1`, skipped).
pub fn run(root: &Path, suites: &[String], write_manifest: bool) -> Result<ExitCode, String> {
    if write_manifest {
        let text = build::manifest(build::COLLECTOR_VERSION)?;
        let path = root.join(build::MANIFEST_PATH);
        std::fs::create_dir_all(path.parent().unwrap_or(root)).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("{}: written", build::MANIFEST_PATH);
        return Ok(ExitCode::SUCCESS);
    }
    for s in suites {
        if !SUITES.contains(&s.as_str()) {
            return Err(format!("no suite `{s}`; the suites are {}", SUITES.join(", ")));
        }
    }
    let chosen: Vec<&str> =
        SUITES.iter().copied().filter(|s| suites.is_empty() || suites.iter().any(|x| x == s)).collect();
    let require = std::env::var("TRACESTACK_REQUIRE_TOOLS").is_ok_and(|v| v == "1");
    // The simulated cluster's names (bridge, network namespaces, hosts files) are fixed: one run
    // at a time on a machine, the next one waits.
    let _lock = exclusive_run_lock()?;
    let mut report = Report::default();
    let missing = prerequisites();
    let context = match missing {
        Some(why) => {
            for s in &chosen {
                report.skip(s, &why);
            }
            None
        }
        None => match build::ensure(root) {
            Ok(binaries) => Some(Context { root: root.to_path_buf(), binaries, work: root.join("target/e2e/run") }),
            Err(e) => {
                for s in &chosen {
                    report.fail(s, format!("building the programs: {e}"));
                }
                None
            }
        },
    };
    if let Some(context) = context {
        for suite in &chosen {
            println!("== e2e {suite}");
            let result = match *suite {
                "validate" => validate::run(&context, &mut report),
                "flow" => flow::run(&context, &mut report),
                "apiserver" => apiserver::run(&context, &mut report),
                "metrics" => metrics::run(&context, &mut report),
                "opensearch" => opensearch::run(&context, &mut report),
                "badger" => badger::run(&context, &mut report),
                "faults" => stress::faults(&context, &mut report),
                "load" => stress::load(&context, &mut report),
                "agents" => agents::run(&context, &mut report),
                "tail-sampling" => tail_sampling::run(&context, &mut report),
                "kafka" => kafka::run(&context, &mut report),
                _ => unreachable!("suite names are checked above"),
            };
            if let Err(e) = result {
                report.fail(format!("{suite} suite"), e);
            }
        }
    }
    println!("e2e: {} passed, {} failed, {} skipped", report.passed, report.failed.len(), report.skipped.len());
    let bad = !report.failed.is_empty() || (require && !report.skipped.is_empty());
    if require && !report.skipped.is_empty() {
        println!("TRACESTACK_REQUIRE_TOOLS=1: a skip is a failure");
    }
    Ok(if bad { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Holds `/run/tracestack-e2e.lock` (the temp dir where `/run` is not writable) until dropped;
/// waits, saying so, while another run holds it.
fn exclusive_run_lock() -> Result<std::fs::File, String> {
    let dir = if Path::new("/run").is_dir() { PathBuf::from("/run") } else { std::env::temp_dir() };
    let path = dir.join("tracestack-e2e.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            println!("e2e: another run holds {}; waiting for it", path.display());
            file.lock().map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(format!("{}: {e}", path.display())),
    }
    Ok(file)
}

/// Why the suites cannot run here, if they cannot.
fn prerequisites() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return Some("the simulated cluster needs Linux network namespaces".into());
    }
    // The effective user id: the second field of `Uid:` in /proc/self/status.
    let uid = std::fs::read_to_string("/proc/self/status").ok().and_then(|s| {
        s.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(2)).map(str::to_string)
    });
    if uid.as_deref() != Some("0") {
        return Some("needs root (network namespaces, mounts, cgroups)".into());
    }
    for program in ["go", "ip", "setpriv", "mount", "sh", "curl"] {
        if build::which(program).is_err() {
            return Some(format!("`{program}` is not installed"));
        }
    }
    None
}

/// A built-in profile with fields changed for a run (e.g. `jaeger.version` to the Jaeger the
/// harness could build), rendered in memory. The changes are printed: every one is a variant the
/// profile format offers, not an edit of rendered text.
pub fn render_variant(
    root: &Path,
    profile: &str,
    changes: &[(&str, serde_json::Value)],
) -> Result<(Profile, render::Rendered), String> {
    let path = root.join("profiles").join(format!("{profile}.yaml"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut value: serde_json::Value = serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    for (field, new) in changes {
        let mut at = &mut value;
        let parts: Vec<&str> = field.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            if i + 1 == parts.len() {
                at[*part] = new.clone();
            } else {
                if at.get(*part).is_none() {
                    at[*part] = serde_json::json!({});
                }
                at = &mut at[*part];
            }
        }
    }
    if !changes.is_empty() {
        let list: Vec<String> = changes.iter().map(|(f, v)| format!("{f}: {v}")).collect();
        println!("  {profile} with {}", list.join(", "));
    }
    let yaml = serde_saphyr::to_string(&value).map_err(|e| e.to_string())?;
    let origin = format!("profiles/{profile}.yaml");
    let profile_value = load::load_str(&origin, &yaml).map_err(|e| e.to_string())?;
    let rendered = render::render_profile(&profile_value, &Source { profile: profile.to_string(), origin })
        .map_err(|e| e.to_string())?;
    Ok((profile_value, rendered))
}

/// Every built-in profile's name.
pub fn profiles(root: &Path) -> Result<Vec<String>, String> {
    let files = tracestack::io::project::profile_files(&root.join("profiles")).map_err(|e| e.to_string())?;
    Ok(files.iter().filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned())).collect())
}

/// The Jaeger version the harness runs, as a profile change.
pub fn built_jaeger() -> (&'static str, serde_json::Value) {
    ("jaeger.version", serde_json::Value::String(build::JAEGER_VERSION.into()))
}

/// The image → binary map for a simulated cluster.
pub fn images(context: &Context, profile: &Profile) -> cluster::Images {
    let mut images = cluster::Images::default();
    images.binaries.insert(collector_image(profile), context.binaries.otelcol.clone());
    images.binaries.insert(jaeger_image(profile), context.binaries.jaeger.clone());
    let telemetrygen = profile.smoke_test.telemetrygen_image.as_deref().unwrap_or(smoke_test::TELEMETRYGEN_IMAGE);
    images.binaries.insert(telemetrygen.to_string(), context.binaries.telemetrygen.clone());
    images
}

/// The collector's image repository: the profile's mirror, else the distribution's image.
pub fn collector_image(profile: &Profile) -> String {
    profile.collector.image.clone().unwrap_or_else(|| profile.collector.distribution.0.default_image().to_string())
}

/// Jaeger's image repository: the profile's mirror, else `jaegertracing/jaeger`.
pub fn jaeger_image(profile: &Profile) -> String {
    profile.jaeger.image.clone().unwrap_or_else(|| Distribution::Jaeger.default_image().to_string())
}
