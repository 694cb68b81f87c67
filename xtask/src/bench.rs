//! `cargo xtask bench`: measures the performance targets without criterion, in seconds rather than
//! minutes, and prints each figure next to its target (see BENCHMARKS.md).
//!
//! The in-process figures describe the library as users embed it, so they come from an optimised
//! build: run from the dev build that `cargo xtask` uses, the command builds `xtask` with
//! `--release` and hands over to it. The wall time of `cargo xtask render` is measured on the dev
//! build, because that is what the command runs.

#[path = "../../benches/workload/mod.rs"]
mod workload;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// Runs per in-process figure; the median is reported, with the 10th and 90th percentiles.
const RUNS: usize = 301;
/// The in-process runs are taken in this many rounds, each running every case in turn (`RUNS`
/// is a multiple of it), so that every case samples the same stretch of a machine whose speed
/// drifts: on a shared virtual machine it can change by a third from one second to the next.
const ROUNDS: usize = 7;
/// Runs of the 1,000-variant child process.
const VARIANT_RUNS: usize = 3;
/// Runs per wall-time figure of `cargo xtask render`.
const WALL_RUNS: usize = 21;

/// One measured figure, shown with its target and verdict when it has one.
struct Figure {
    what: String,
    shown: String,
    passed: Option<bool>,
}

impl Figure {
    /// A time with no target.
    fn time(what: impl Into<String>, value: Duration) -> Self {
        Self { what: what.into(), shown: millis(value), passed: None }
    }

    /// A time that must not exceed `limit_ms`.
    fn time_within(what: impl Into<String>, value: Duration, limit_ms: f64) -> Self {
        let ms = value.as_secs_f64() * 1000.0;
        Self {
            what: what.into(),
            shown: format!("{:<11} target ≤ {limit_ms} ms", millis(value)),
            passed: Some(ms <= limit_ms),
        }
    }

    /// A sampled time, shown as its median with the 10th–90th percentile range; the median is held
    /// to `limit_ms` when there is one.
    fn sampled(what: impl Into<String>, samples: &Samples, limit_ms: Option<f64>) -> Self {
        let spread = format!("{:<11} p10–p90 {}–{}", millis(samples.median), millis(samples.p10), millis(samples.p90));
        match limit_ms {
            Some(limit) => Self {
                what: what.into(),
                shown: format!("{spread:<40} target ≤ {limit} ms"),
                passed: Some(samples.median.as_secs_f64() * 1000.0 <= limit),
            },
            None => Self { what: what.into(), shown: spread, passed: None },
        }
    }
}

/// The median and the 10th and 90th percentiles of a set of run times.
struct Samples {
    median: Duration,
    p10: Duration,
    p90: Duration,
}

impl Samples {
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        let at = |q: usize| samples.get((samples.len() - 1) * q / 100).copied().unwrap_or_default();
        Self { median: at(50), p10: at(10), p90: at(90) }
    }
}

fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 { format!("{ms:.3} ms") } else { format!("{ms:.1} ms") }
}

/// What `cargo xtask bench` was asked to do.
pub struct Options {
    /// Exit non-zero when a figure misses its target.
    pub enforce: bool,
    /// Also time a cold build of `cargo xtask render` from a clean clone.
    pub cold: bool,
}

/// `cargo xtask bench`.
pub fn run(root: &Path, options: &Options) -> Result<ExitCode, String> {
    if cfg!(debug_assertions) {
        return hand_over_to_release(root, options);
    }
    println!("tracestack benchmarks: {}", machine());
    println!(
        "in-process figures from an optimised build: median (and 10th–90th percentile) of {RUNS} runs in \
         {ROUNDS} interleaved rounds, unless stated\n"
    );
    let mut figures = Vec::new();
    let profiles = workload::builtin_profiles(&root.join("profiles"))?;
    let mut cases: Vec<Case<'_>> = Vec::new();
    for profile in &profiles {
        cases.push(Box::new(|| {
            tracestack::model::load::load_str(&profile.origin, &profile.text).map(drop).map_err(|e| e.to_string())
        }));
        cases.push(Box::new(|| workload::render_text(profile).map(drop).map_err(|e| e.to_string())));
    }
    let mut samples = interleaved(&mut cases)?.into_iter();
    for profile in &profiles {
        let (Some(load), Some(render)) = (samples.next(), samples.next()) else { break };
        figures.push(Figure::sampled(format!("load + validate {}", profile.name), &load, None));
        figures.push(Figure::sampled(
            format!("render {} to bytes (load, validate, build, render)", profile.name),
            &render,
            Some(1.0),
        ));
    }
    let (total, peak_kb) = variants_in_children()?;
    figures.push(Figure::time_within(
        format!("render {} profile variants in one process (median of {VARIANT_RUNS})", workload::VARIANTS),
        total,
        1000.0,
    ));
    let what = format!("  peak RSS of that process (VmHWM, median of {VARIANT_RUNS})");
    figures.push(match peak_kb {
        Some(kb) => {
            let mb = kb as f64 / 1024.0;
            Figure { what, shown: format!("{:<11} target ≤ 64 MB", format!("{mb:.1} MB")), passed: Some(mb <= 64.0) }
        }
        None => Figure { what, shown: "n/a (no /proc/self/status)".into(), passed: None },
    });
    figures.extend(warm_render(root)?);
    if options.cold {
        figures.extend(cold_build(root)?);
    }
    let width = figures.iter().map(|f| f.what.chars().count()).max().unwrap_or(0);
    let shown_width = figures.iter().map(|f| f.shown.chars().count()).max().unwrap_or(0);
    let mut failed = 0;
    for figure in &figures {
        let verdict = match figure.passed {
            Some(true) => "PASS",
            Some(false) => {
                failed += 1;
                "FAIL"
            }
            None => "",
        };
        let pad = width - figure.what.chars().count();
        let shown_pad = shown_width - figure.shown.chars().count();
        let line = format!("{}{}  {}{}  {verdict}", figure.what, " ".repeat(pad), figure.shown, " ".repeat(shown_pad));
        println!("{}", line.trim_end());
    }
    if failed == 0 {
        println!("\nevery target met");
        Ok(ExitCode::SUCCESS)
    } else if options.enforce {
        println!("\n{failed} target(s) missed");
        Ok(ExitCode::FAILURE)
    } else {
        println!("\n{failed} target(s) missed (exit status 0 without --enforce)");
        Ok(ExitCode::SUCCESS)
    }
}

/// Builds the optimised xtask and runs `bench` in it, passing the options on.
fn hand_over_to_release(root: &Path, options: &Options) -> Result<ExitCode, String> {
    eprintln!("building the optimised xtask (`cargo build --release -p xtask`; minutes the first time) …");
    let mut command = cargo(root);
    command.args(["run", "--release", "--quiet", "--package", "xtask", "--", "bench"]);
    if options.enforce {
        command.arg("--enforce");
    }
    if options.cold {
        command.arg("--cold");
    }
    let status = command.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `cargo` as the running cargo named it (no rustup proxy), in the workspace root.
fn cargo(root: &Path) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root);
    command
}

/// One timed in-process case.
type Case<'a> = Box<dyn FnMut() -> Result<(), String> + 'a>;

/// Times every case `RUNS` times after a warm-up of a tenth of that, in `ROUNDS` rounds that each
/// run every case in turn.
fn interleaved(cases: &mut [Case<'_>]) -> Result<Vec<Samples>, String> {
    for case in cases.iter_mut() {
        for _ in 0..RUNS / 10 {
            case()?;
        }
    }
    let mut times: Vec<Vec<Duration>> = cases.iter().map(|_| Vec::with_capacity(RUNS)).collect();
    for _ in 0..ROUNDS {
        for (case, times) in cases.iter_mut().zip(&mut times) {
            for _ in 0..RUNS / ROUNDS {
                let start = Instant::now();
                case()?;
                times.push(start.elapsed());
            }
        }
    }
    Ok(times.into_iter().map(Samples::of).collect())
}

/// `cargo xtask bench --variants-child`: renders the variants once and prints
/// `elapsed_ns=… peak_kb=… files=…` for the parent to read.
pub fn variants_child() -> Result<ExitCode, String> {
    let variants = workload::variants(workload::VARIANTS);
    let start = Instant::now();
    let mut files = 0usize;
    let mut bytes = 0usize;
    for variant in &variants {
        let rendered = workload::render_text(variant).map_err(|e| format!("variant {}: {e}", variant.name))?;
        files += rendered.files.len();
        bytes += rendered.files.values().map(String::len).sum::<usize>();
    }
    let elapsed = start.elapsed();
    let peak = peak_rss_kb().map_or_else(|| "n/a".to_owned(), |kb| kb.to_string());
    println!("elapsed_ns={} peak_kb={peak} files={files} bytes={bytes}", elapsed.as_nanos());
    Ok(ExitCode::SUCCESS)
}

/// The process's peak resident set (`VmHWM`), on Linux.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()
}

/// Runs [`variants_child`] in fresh processes, so the peak RSS is that run's alone.
fn variants_in_children() -> Result<(Duration, Option<u64>), String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the xtask binary: {e}"))?;
    let mut times = Vec::new();
    let mut peaks = Vec::new();
    for _ in 0..VARIANT_RUNS {
        let out = Command::new(&exe)
            .args(["bench", "--variants-child"])
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!("the variant run failed:\n{text}"));
        }
        let field =
            |name: &str| text.split_whitespace().find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')));
        let nanos: u64 = field("elapsed_ns")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("the variant run printed no time: {text}"))?;
        times.push(Duration::from_nanos(nanos));
        if let Some(kb) = field("peak_kb").and_then(|v| v.parse::<u64>().ok()) {
            peaks.push(kb);
        }
    }
    peaks.sort_unstable();
    let peak = (peaks.len() == VARIANT_RUNS).then(|| peaks[peaks.len() / 2]);
    Ok((Samples::of(times).median, peak))
}

/// Cores, CPU model and memory from /proc, and the rustc version.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().find_map(|l| {
                l.strip_prefix("MemTotal:").and_then(|r| r.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
        })
        .map_or_else(|| "unknown memory".into(), |kb| format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0));
    let rustc = Command::new("rustc")
        .arg("-V")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "rustc unknown".into());
    // A busy machine skews every figure; the load average says how busy it was.
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(|one| format!(", load average {one}")))
        .unwrap_or_default();
    format!("{cores} cores, {model}, {memory}, {rustc}{load}")
}

/// Compiler artifacts of `cargo build --message-format=json -p xtask`: (package id, fresh,
/// executable).
struct Artifact {
    package_id: String,
    fresh: bool,
    executable: Option<PathBuf>,
}

fn build_xtask(root: &Path, target_dir: Option<&Path>) -> Result<Vec<Artifact>, String> {
    let mut command = cargo(root);
    command.args(["build", "--quiet", "--package", "xtask", "--message-format=json"]);
    if let Some(dir) = target_dir {
        command.env("CARGO_TARGET_DIR", dir);
    }
    let out = command.stderr(Stdio::inherit()).output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err("cargo build --package xtask failed".into());
    }
    let mut artifacts = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        artifacts.push(Artifact {
            package_id: message["package_id"].as_str().unwrap_or_default().to_owned(),
            fresh: message["fresh"].as_bool().unwrap_or(false),
            executable: message["executable"].as_str().map(PathBuf::from),
        });
    }
    Ok(artifacts)
}

/// Restores a file's modification time on drop.
struct Touched {
    path: PathBuf,
    modified: SystemTime,
}

impl Drop for Touched {
    fn drop(&mut self) {
        if let Ok(file) = std::fs::File::options().write(true).open(&self.path) {
            let _ = file.set_modified(self.modified);
        }
    }
}

fn touch(path: &Path) -> Result<Touched, String> {
    let err = |e: std::io::Error| format!("{}: {e}", path.display());
    let file = std::fs::File::options().write(true).open(path).map_err(err)?;
    let modified = file.metadata().and_then(|m| m.modified()).map_err(err)?;
    file.set_modified(SystemTime::now()).map_err(err)?;
    Ok(Touched { path: path.to_owned(), modified })
}

/// The warm-build figures: whether editing a profile recompiles anything, and the wall time of
/// rendering every built-in profile through the dev binary and through `cargo xtask render`.
fn warm_render(root: &Path) -> Result<Vec<Figure>, String> {
    let mut figures = Vec::new();
    let artifacts = build_xtask(root, None)?;
    let binary = artifacts
        .iter()
        .find_map(|a| a.executable.clone())
        .ok_or("cargo build --package xtask reported no executable")?;

    // Profiles are read at run time: a newer profile must leave every artifact fresh. A build script
    // watching profiles/, or an include_str! of one, would show up here as a rebuilt artifact.
    let touched = tracestack::io::project::profile_files(&root.join("profiles"))
        .map_err(|e| e.to_string())?
        .iter()
        .map(|p| touch(p))
        .collect::<Result<Vec<_>, _>>()?;
    let rebuilt: Vec<String> = build_xtask(root, None)?
        .into_iter()
        .filter(|a| !a.fresh)
        .map(|a| a.package_id.split_whitespace().next().unwrap_or_default().to_owned())
        .collect();
    drop(touched);
    let mut note = String::new();
    if !rebuilt.is_empty() {
        let _ = write!(note, " ({} rebuilt: {})", rebuilt.len(), rebuilt.join(", "));
    }
    figures.push(Figure {
        what: "editing a profile recompiles nothing".into(),
        shown: if rebuilt.is_empty() { "nothing rebuilt".into() } else { format!("rebuilt{note}") },
        passed: Some(rebuilt.is_empty()),
    });

    let out = std::env::temp_dir().join(format!("tracestack-bench-{}", std::process::id()));
    let result = (|| {
        let out_arg = out.to_string_lossy().into_owned();
        let direct = || {
            let mut c = Command::new(&binary);
            c.current_dir(root).args(["render", "--out", &out_arg]);
            c
        };
        // The first run writes every file; the timed runs find them up to date, as a re-render of
        // committed output does.
        wall_time(1, direct)?;
        figures.push(Figure::time_within(
            format!("render all profiles: dev xtask binary, warm (median of {WALL_RUNS})"),
            wall_time(WALL_RUNS, direct)?,
            50.0,
        ));
        let through_cargo = || {
            // `cargo` from PATH, as users type it (a rustup proxy, usually).
            let mut c = Command::new("cargo");
            c.current_dir(root).args(["xtask", "render", "--out", &out_arg]);
            c
        };
        figures.push(Figure::time_within(
            format!("render all profiles: cargo xtask render, warm (median of {WALL_RUNS})"),
            wall_time(WALL_RUNS, through_cargo)?,
            50.0,
        ));
        figures.push(Figure::time(
            format!("  of which cargo's up-to-date check alone (median of {WALL_RUNS})"),
            wall_time(WALL_RUNS, || {
                let mut c = Command::new("cargo");
                c.current_dir(root).args(["build", "--quiet", "--package", "xtask"]);
                c
            })?,
        ));
        Ok::<_, String>(())
    })();
    let _ = std::fs::remove_dir_all(&out);
    result.map(|()| figures)
}

/// Median wall time of `runs` runs of a command, which must succeed.
fn wall_time(runs: usize, command: impl Fn() -> Command) -> Result<Duration, String> {
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let mut c = command();
        let start = Instant::now();
        let out = c.output().map_err(|e| format!("cannot run {:?}: {e}", c.get_program()))?;
        samples.push(start.elapsed());
        if !out.status.success() {
            return Err(format!("{:?} failed:\n{}", c, String::from_utf8_lossy(&out.stderr)));
        }
    }
    Ok(Samples::of(samples).median)
}

/// `--cold`: clones the repository (its committed HEAD) into a temporary directory and times
/// `cargo xtask render` there with an empty target directory; crates come from the local registry
/// cache, so this is compile time, not download time.
fn cold_build(root: &Path) -> Result<Vec<Figure>, String> {
    let dir = std::env::temp_dir().join(format!("tracestack-cold-{}", std::process::id()));
    let result = (|| {
        let status = Command::new("git")
            .args(["clone", "--quiet", "--no-hardlinks"])
            .arg(root)
            .arg(&dir)
            .status()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !status.success() {
            return Err("git clone failed".to_owned());
        }
        let target = dir.join("target");
        let start = Instant::now();
        let out = Command::new("cargo")
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", &target)
            .args(["xtask", "render"])
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        let elapsed = start.elapsed();
        if !out.status.success() {
            return Err(format!("cold cargo xtask render failed:\n{}", String::from_utf8_lossy(&out.stderr)));
        }
        let mut packages: Vec<String> = build_xtask(&dir, Some(&target))?.into_iter().map(|a| a.package_id).collect();
        packages.sort();
        packages.dedup();
        Ok(vec![
            Figure::time("cold cargo xtask render: clean clone, empty target dir", elapsed),
            Figure { what: "  crates compiled".into(), shown: packages.len().to_string(), passed: None },
        ])
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
