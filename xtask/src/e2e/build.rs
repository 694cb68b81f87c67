//! The real programs the e2e suites run, built from source through the Go module proxy and cached
//! by version: the collector (OpenTelemetry Collector Builder, from the manifest tracestack
//! generates from its component table), Jaeger v2 and telemetrygen.
//!
//! Cache: `$TRACESTACK_E2E_CACHE`, else `~/.cache/tracestack/e2e`, one directory per program and
//! version (the collector's also keyed by a hash of its manifest), so a warm run — or CI in a fresh
//! clone on the same machine — builds nothing. Go's own module and build caches sit beside it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use tracestack::collector::distribution::{ComponentKind, Distribution, Version, ships};

/// The collector version the default profiles pin (and the builder that builds it).
pub const COLLECTOR_VERSION: &str = "0.159.0";
/// telemetrygen: the contrib release matching the collector is not served by the module proxy
/// (`cmd/telemetrygen@v0.159.0` answers 403); v0.160.0 is the nearest it serves. It only generates
/// load, so its version does not change what is tested.
pub const TELEMETRYGEN_VERSION: &str = "0.160.0";
/// Jaeger v2 as a Go module: `github.com/jaegertracing/jaeger` has semver tags only up to v1.76.0
/// (= Jaeger v2.13.0); the proxy refuses v2.20.0's commit as a pseudo-version, so v1.76.0 it is
/// and the suites render their profiles with `jaeger.version: 2.13.0`.
pub const JAEGER_MODULE_VERSION: &str = "1.76.0";
/// The Jaeger release that module version is.
pub const JAEGER_VERSION: &str = "2.13.0";
/// The API server of the `apiserver` suite: `k8s.io/kubernetes`, whose staging modules (`k8s.io/api`,
/// `k8s.io/apiserver`, …) are published at `v0.<minor>.<patch>`.
pub const KUBERNETES_VERSION: &str = "1.37.2";
/// etcd for that API server (Kubernetes 1.37 is tested against etcd 3.6).
pub const ETCD_VERSION: &str = "3.6.17";

const CORE: &str = "go.opentelemetry.io/collector";
const CONTRIB: &str = "github.com/open-telemetry/opentelemetry-collector-contrib";

/// Every collector component type tracestack can emit, with its Go module.
const MODULES: &[(ComponentKind, &str, &str)] = &[
    (ComponentKind::Receiver, "otlp", "CORE/receiver/otlpreceiver"),
    (ComponentKind::Receiver, "zipkin", "CONTRIB/receiver/zipkinreceiver"),
    (ComponentKind::Receiver, "nop", "CORE/receiver/nopreceiver"),
    (ComponentKind::Processor, "memory_limiter", "CORE/processor/memorylimiterprocessor"),
    (ComponentKind::Processor, "batch", "CORE/processor/batchprocessor"),
    (ComponentKind::Processor, "probabilistic_sampler", "CONTRIB/processor/probabilisticsamplerprocessor"),
    (ComponentKind::Processor, "k8s_attributes", "CONTRIB/processor/k8sattributesprocessor"),
    (ComponentKind::Processor, "resource", "CONTRIB/processor/resourceprocessor"),
    (ComponentKind::Processor, "tail_sampling", "CONTRIB/processor/tailsamplingprocessor"),
    (ComponentKind::Exporter, "otlp_grpc", "CORE/exporter/otlpexporter"),
    (ComponentKind::Exporter, "otlp_http", "CORE/exporter/otlphttpexporter"),
    (ComponentKind::Exporter, "loadbalancing", "CONTRIB/exporter/loadbalancingexporter"),
    (ComponentKind::Exporter, "debug", "CORE/exporter/debugexporter"),
    (ComponentKind::Exporter, "nop", "CORE/exporter/nopexporter"),
    (ComponentKind::Exporter, "prometheus", "CONTRIB/exporter/prometheusexporter"),
    (ComponentKind::Exporter, "kafka", "CONTRIB/exporter/kafkaexporter"),
    (ComponentKind::Extension, "health_check", "CONTRIB/extension/healthcheckextension"),
    (ComponentKind::Extension, "pprof", "CONTRIB/extension/pprofextension"),
    (ComponentKind::Extension, "zpages", "CORE/extension/zpagesextension"),
    (ComponentKind::Connector, "forward", "CORE/connector/forwardconnector"),
    (ComponentKind::Connector, "spanmetrics", "CONTRIB/connector/spanmetricsconnector"),
];

/// Modules the Go module proxy refuses at the pinned version (HTTP 403 "This module version is
/// not available"): left out of the build. No built-in profile uses them; a config that does fails
/// the `validate` suite with the collector's own "unknown type" error.
const REFUSED: &[(&str, &str)] = &[("receiver/zipkinreceiver", "0.159.0"), ("receiver/nopreceiver", "0.159.0")];

/// The Apache Kafka broker the `kafka` suite runs (KRaft mode, on the machine's JDK 17), from
/// Maven Central's `org.apache.kafka:kafka_2.13` and its dependencies.
pub const KAFKA_VERSION: &str = "4.1.1";

/// Where the builder manifest is committed (`tests` hold it fresh).
pub const MANIFEST_PATH: &str = "xtask/e2e/otelcol-builder.yaml";

/// The OpenTelemetry Collector Builder manifest: every component of `otelcol-k8s` or
/// `otelcol-contrib` at `version` that tracestack can emit, at that version. One binary stands in
/// for both distributions (profiles that need the `prometheus` or `kafka` exporter pin
/// `otelcol-contrib`); tracestack's own component table keeps a config for `otelcol-k8s` from
/// naming what only contrib ships, so the superset accepts no config the real image would refuse
/// for a missing component.
pub fn manifest(version: &str) -> Result<String, String> {
    let v = Version::parse(version).ok_or_else(|| format!("`{version}` is not a version"))?;
    let mut out = String::new();
    writeln!(out, "# Generated by `cargo xtask e2e --manifest` from tracestack's component table: every component")
        .unwrap();
    writeln!(
        out,
        "# of otelcol-k8s or otelcol-contrib {version} that tracestack can emit. Built by the e2e harness; do not edit by hand."
    )
    .unwrap();
    for (module, at) in REFUSED {
        if *at == version {
            writeln!(out, "# Left out: {module} v{at} (refused by the Go module proxy).").unwrap();
        }
    }
    writeln!(out, "dist:\n  name: otelcol-tracestack\n  description: otelcol-k8s and otelcol-contrib components tracestack emits\n  version: {version}").unwrap();
    for kind in [
        ComponentKind::Receiver,
        ComponentKind::Processor,
        ComponentKind::Exporter,
        ComponentKind::Extension,
        ComponentKind::Connector,
    ] {
        let mut modules: Vec<String> = Vec::new();
        for (k, type_name, module) in MODULES {
            if *k != kind {
                continue;
            }
            let mut shipped = false;
            for d in [Distribution::OtelcolK8s, Distribution::OtelcolContrib] {
                shipped |= ships(d, v, kind, type_name).map_err(|e| e.to_string())?;
            }
            if !shipped {
                continue;
            }
            let path = module.replace("CORE", CORE).replace("CONTRIB", CONTRIB);
            let short = module.split_once('/').map_or("", |(_, s)| s);
            if REFUSED.iter().any(|(m, at)| *m == short && *at == version) {
                continue;
            }
            let line = format!("  - gomod: {path} v{version}");
            if !modules.contains(&line) {
                modules.push(line);
            }
        }
        if !modules.is_empty() {
            writeln!(out, "{}:", kind.plural()).unwrap();
            for m in modules {
                writeln!(out, "{m}").unwrap();
            }
        }
    }
    Ok(out)
}

/// The built programs.
pub struct Binaries {
    pub otelcol: PathBuf,
    pub jaeger: PathBuf,
    pub telemetrygen: PathBuf,
}

/// The cache directory.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TRACESTACK_E2E_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
    home.join(".cache/tracestack/e2e")
}

/// Builds (or finds cached) every program; prints what it did and how long it took.
pub fn ensure(root: &Path) -> Result<Binaries, String> {
    which("go")
        .map_err(|_| "`go` is not installed (Go 1.25 or newer is needed to build the e2e programs)".to_string())?;
    let cache = cache_dir();
    // Pods mount a /tmp of their own (the rendered `tmp` emptyDir), which hides anything below the
    // machine's /tmp: the programs must live elsewhere.
    if cache.starts_with("/tmp") {
        return Err(format!(
            "the e2e cache {} is under /tmp, which the simulated pods mount over: they could not run the programs; set TRACESTACK_E2E_CACHE to a directory outside /tmp",
            cache.display()
        ));
    }
    std::fs::create_dir_all(&cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    let manifest_text =
        std::fs::read_to_string(root.join(MANIFEST_PATH)).map_err(|e| format!("{MANIFEST_PATH}: {e}"))?;
    let otelcol = collector(&cache, &manifest_text)?;
    let jaeger = jaeger(&cache)?;
    let telemetrygen = telemetrygen(&cache)?;
    Ok(Binaries { otelcol, jaeger, telemetrygen })
}

fn collector(cache: &Path, manifest: &str) -> Result<PathBuf, String> {
    let key = format!("otelcol-{COLLECTOR_VERSION}-{:016x}", fnv(manifest.as_bytes()));
    let dir = cache.join(&key);
    let binary = dir.join("out/otelcol-tracestack");
    if binary.exists() {
        println!("build: {key}: cached");
        return Ok(binary);
    }
    let started = Instant::now();
    let tools = cache.join(format!("builder-{COLLECTOR_VERSION}"));
    go_install(&tools, &format!("{CORE}/cmd/builder@v{COLLECTOR_VERSION}"))?;
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    // The builder writes its sources and the binary to `dist.output_path`.
    let config = manifest.replacen(
        &format!("  version: {COLLECTOR_VERSION}\n"),
        &format!("  version: {COLLECTOR_VERSION}\n  output_path: {}\n", dir.join("out").display()),
        1,
    );
    std::fs::write(dir.join("builder.yaml"), config).map_err(|e| e.to_string())?;
    let status = Command::new(tools.join("builder"))
        .arg("--config")
        .arg(dir.join("builder.yaml"))
        .current_dir(&dir)
        .status()
        .map_err(|e| format!("builder: {e}"))?;
    if !status.success() || !binary.exists() {
        return Err(format!(
            "the OpenTelemetry Collector Builder failed ({status}); manifest {}",
            dir.join("builder.yaml").display()
        ));
    }
    println!("build: {key}: built in {:.0} s", started.elapsed().as_secs_f64());
    Ok(binary)
}

fn jaeger(cache: &Path) -> Result<PathBuf, String> {
    // Jaeger's main package imports its module's internal packages, so it is built as a package of
    // a required module; its one `replace` is repeated because a dependency's replaces do not apply.
    cached(cache, &format!("jaeger-{JAEGER_VERSION}"), &["jaeger"], |dir| {
        build_as_dependency(
            &dir.join("src"),
            "jaeger",
            &jaeger_requires(),
            &["github.com/jaegertracing/jaeger/cmd/jaeger"],
            None,
            &dir.join("jaeger").display().to_string(),
        )
    })
    .map(|dir| dir.join("jaeger"))
}

/// The go.mod lines that require Jaeger's module as the harness builds it.
pub fn jaeger_requires() -> String {
    format!(
        "require github.com/jaegertracing/jaeger v{JAEGER_MODULE_VERSION}\n\n\
         replace github.com/Shopify/sarama => github.com/Shopify/sarama v1.33.0\n"
    )
}

/// The control plane of the `apiserver` suite: built only when that suite runs.
pub struct ControlPlane {
    pub kube_apiserver: PathBuf,
    /// Runs the namespace, garbage-collector and PVC-protection controllers only (no kubelet, no
    /// scheduler).
    pub kube_controller_manager: PathBuf,
    pub etcd: PathBuf,
}

/// Builds (or finds cached) `kube-apiserver`, `kube-controller-manager` and `etcd`.
pub fn control_plane() -> Result<ControlPlane, String> {
    let cache = cache_dir();
    let dir = kubernetes(&cache)?;
    Ok(ControlPlane {
        kube_apiserver: dir.join("kube-apiserver"),
        kube_controller_manager: dir.join("kube-controller-manager"),
        etcd: etcd(&cache)?,
    })
}

/// `kube-apiserver` and `kube-controller-manager`, in the directory returned.
fn kubernetes(cache: &Path) -> Result<PathBuf, String> {
    let key = format!("kubernetes-{KUBERNETES_VERSION}");
    cached(cache, &key, &["kube-apiserver", "kube-controller-manager"], build_kubernetes)
}

fn build_kubernetes(dir: &Path) -> Result<(), String> {
    let src = dir.join("src");
    std::fs::create_dir_all(&src).map_err(|e| e.to_string())?;
    // `k8s.io/kubernetes` points its staging modules at `./staging/...` with `replace` lines, which
    // do not apply to a module that requires it: the requiring module repeats them with the
    // published versions (`v0.37.2` for Kubernetes 1.37.2).
    let module = format!("k8s.io/kubernetes@v{KUBERNETES_VERSION}");
    let output = Command::new("go")
        .args(["mod", "download", "-json", &module])
        .current_dir(&src)
        .output()
        .map_err(|e| format!("go mod download {module}: {e}"))?;
    if !output.status.success() {
        return Err(format!("go mod download {module} failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    let info: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("go mod download {module}: {e}"))?;
    let go_mod = info["GoMod"].as_str().ok_or_else(|| format!("go mod download {module}: no GoMod"))?;
    let upstream = std::fs::read_to_string(go_mod).map_err(|e| format!("{go_mod}: {e}"))?;
    let staging = format!("v0.{}", KUBERNETES_VERSION.split_once('.').map_or("", |(_, rest)| rest));
    let mut requires = format!("require k8s.io/kubernetes v{KUBERNETES_VERSION}\n\n");
    for line in upstream.lines() {
        if let Some((name, target)) = line.trim().split_once(" => ")
            && target.starts_with("./staging/")
        {
            let name = name.trim();
            writeln!(requires, "replace {name} => {name} {staging}").unwrap();
        }
    }
    // The version the server reports (`kubectl version`, discovery): a module build has no git
    // metadata, so it is stamped the way Kubernetes' own build does.
    let (major, minor) =
        KUBERNETES_VERSION.split_once('.').map_or(("", ""), |(a, b)| (a, b.split('.').next().unwrap_or("")));
    let ldflags = format!(
        "-X k8s.io/component-base/version.gitVersion=v{KUBERNETES_VERSION} \
         -X k8s.io/component-base/version.gitMajor={major} -X k8s.io/component-base/version.gitMinor={minor} \
         -X k8s.io/component-base/version.gitTreeState=clean"
    );
    build_as_dependency(
        &src,
        "kubernetes",
        &requires,
        &["k8s.io/kubernetes/cmd/kube-apiserver", "k8s.io/kubernetes/cmd/kube-controller-manager"],
        Some(&ldflags),
        &format!("{}/", dir.display()),
    )
}

fn etcd(cache: &Path) -> Result<PathBuf, String> {
    // etcd's server module carries `replace` lines, so `go install …@version` refuses it.
    cached(cache, &format!("etcd-{ETCD_VERSION}"), &["etcd"], |dir| {
        build_as_dependency(
            &dir.join("src"),
            "etcd",
            &format!("require go.etcd.io/etcd/server/v3 v{ETCD_VERSION}\n"),
            &["go.etcd.io/etcd/server/v3"],
            None,
            &dir.join("etcd").display().to_string(),
        )
    })
    .map(|dir| dir.join("etcd"))
}

fn telemetrygen(cache: &Path) -> Result<PathBuf, String> {
    cached(cache, &format!("telemetrygen-{TELEMETRYGEN_VERSION}"), &["telemetrygen"], |dir| {
        go_install(dir, &format!("{CONTRIB}/cmd/telemetrygen@v{TELEMETRYGEN_VERSION}"))
    })
    .map(|dir| dir.join("telemetrygen"))
}

/// `cache/key` with `outputs` in it: as found when all of them exist, else after `build` made them
/// there; prints which, and how long a build took.
pub fn cached(
    cache: &Path,
    key: &str,
    outputs: &[&str],
    build: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<PathBuf, String> {
    let dir = cache.join(key);
    if outputs.iter().all(|o| dir.join(o).exists()) {
        println!("build: {key}: cached");
        return Ok(dir);
    }
    let started = Instant::now();
    build(&dir)?;
    println!("build: {key}: built in {:.0} s", started.elapsed().as_secs_f64());
    Ok(dir)
}

/// The Kafka broker's class path directory (every jar of `kafka_2.13` and its dependencies, with
/// an SLF4J binding so it logs), fetched once with Maven into the cache.
///
/// # Errors
/// When `mvn` or `java` is missing, or Maven fails.
pub fn kafka() -> Result<PathBuf, String> {
    which("java").map_err(|_| "`java` (a JDK 17 or newer) is not installed".to_string())?;
    let dir = cache_dir().join(format!("kafka-{KAFKA_VERSION}"));
    let libs = dir.join("libs");
    if libs.join(format!("kafka_2.13-{KAFKA_VERSION}.jar")).exists() {
        println!("build: kafka-{KAFKA_VERSION}: cached");
        return Ok(libs);
    }
    which("mvn").map_err(|_| "`mvn` (Maven) is not installed".to_string())?;
    let started = Instant::now();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(
        dir.join("pom.xml"),
        format!(
            "<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n  <modelVersion>4.0.0</modelVersion>\n  \
             <groupId>tracestack.e2e</groupId>\n  <artifactId>kafka-broker</artifactId>\n  <version>1</version>\n  \
             <dependencies>\n    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>\
             <version>{KAFKA_VERSION}</version></dependency>\n    <dependency><groupId>org.slf4j</groupId>\
             <artifactId>slf4j-simple</artifactId><version>1.7.36</version></dependency>\n  </dependencies>\n</project>\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let status = Command::new("mvn")
        .args(["-q", "-B", "dependency:copy-dependencies"])
        .arg(format!("-DoutputDirectory={}", libs.display()))
        .current_dir(&dir)
        .status()
        .map_err(|e| format!("mvn: {e}"))?;
    if !status.success() {
        return Err(format!("mvn dependency:copy-dependencies for kafka_2.13 {KAFKA_VERSION} failed ({status})"));
    }
    println!("build: kafka-{KAFKA_VERSION}: fetched in {:.0} s", started.elapsed().as_secs_f64());
    Ok(libs)
}

/// Builds `packages` of a module that cannot be built with `go install …@version` (its main
/// package imports internal packages, or its go.mod has `replace` lines): as packages of a small
/// module in `src` whose go.mod is `requires` (the `require` and any repeated `replace` lines) and
/// whose `tools.go` imports them, with `-ldflags` when given, into `output` (a file for one
/// package, a directory ending in `/` for several).
pub fn build_as_dependency(
    src: &Path,
    name: &str,
    requires: &str,
    packages: &[&str],
    ldflags: Option<&str>,
    output: &str,
) -> Result<(), String> {
    std::fs::create_dir_all(src).map_err(|e| format!("{}: {e}", src.display()))?;
    std::fs::write(src.join("go.mod"), format!("module tracestack.e2e/{name}\n\ngo 1.25\n\n{requires}"))
        .map_err(|e| e.to_string())?;
    let imports: String = packages.iter().map(|p| format!("\t_ \"{p}\"\n")).collect();
    std::fs::write(src.join("tools.go"), format!("//go:build tools\n\npackage tools\n\nimport (\n{imports})\n"))
        .map_err(|e| e.to_string())?;
    go(src, &["mod", "tidy"])?;
    let mut args = vec!["build", "-trimpath"];
    if let Some(flags) = ldflags {
        args.extend(["-ldflags", flags]);
    }
    args.extend(["-o", output]);
    args.extend(packages);
    go(src, &args)
}

fn go_install(bin: &Path, package: &str) -> Result<(), String> {
    let name = package.rsplit('/').next().unwrap_or(package).split('@').next().unwrap_or(package);
    if bin.join(name).exists() {
        return Ok(());
    }
    std::fs::create_dir_all(bin).map_err(|e| e.to_string())?;
    let status = Command::new("go")
        .args(["install", "-trimpath", package])
        .env("GOBIN", bin)
        .env("CGO_ENABLED", "0")
        .status()
        .map_err(|e| format!("go install {package}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("go install {package} failed ({status})")) }
}

fn go(dir: &Path, args: &[&str]) -> Result<(), String> {
    let status = Command::new("go")
        .args(args)
        .current_dir(dir)
        .env("CGO_ENABLED", "0")
        .status()
        .map_err(|e| format!("go {}: {e}", args.join(" ")))?;
    if status.success() { Ok(()) } else { Err(format!("go {} in {} failed ({status})", args.join(" "), dir.display())) }
}

/// Whether a program is on `PATH`.
pub fn which(program: &str) -> Result<PathBuf, String> {
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join(program)).find(|p| p.is_file()))
        .ok_or_else(|| format!("`{program}` is not on PATH"))
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed builder manifest is what the component table gives today.
    #[test]
    fn manifest_is_fresh() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
        let committed = std::fs::read_to_string(root.join(MANIFEST_PATH)).unwrap_or_default();
        assert_eq!(
            committed,
            manifest(COLLECTOR_VERSION).unwrap(),
            "{MANIFEST_PATH} is stale: run `cargo xtask e2e --manifest`"
        );
    }

    #[test]
    fn manifest_holds_what_profiles_emit() {
        let m = manifest(COLLECTOR_VERSION).unwrap();
        for module in
            ["otlpreceiver", "k8sattributesprocessor", "memorylimiterprocessor", "otlpexporter", "healthcheckextension"]
        {
            assert!(m.contains(module), "{module} missing from\n{m}");
        }
        // otelcol-contrib's, for the profiles that pin it.
        for module in ["prometheusexporter", "kafkaexporter"] {
            assert!(m.contains(module), "{module} missing from\n{m}");
        }
    }
}
