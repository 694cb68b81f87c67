//! Suite `opensearch`: the `prod-opensearch` stack as rendered, on a real OpenSearch node.
//!
//! OpenSearch 2.19 (the last line that runs on Java 17) comes from Maven Central as
//! `org.opensearch:opensearch` and its runtime dependencies, with the `transport-netty4` module
//! (`org.opensearch.plugin:transport-netty4-client` and its Netty jars) laid out as the
//! distribution lays out `modules/`; Maven resolves and copies them (`mvn dependency:copy-dependencies`
//! over a generated pom) into the cache, once. The node runs single-node, as an unprivileged user,
//! in a simulated pod named `opensearch`, so Jaeger reaches `http://opensearch:9200`.
//!
//! Then: Jaeger's collector and query roles start from the rendered configs and write to it, the
//! rendered smoke-test Job passes, the spans are in OpenSearch's span index and read back through
//! Jaeger's query API, the alert's bulk metrics are served with `kind="opensearch"`, and the
//! rendered index-cleaner CronJob, run once as a Job (what `kubectl create job --from=cronjob/…`
//! makes), queries the node's indices and keeps today's (it selects by creation time, which the
//! node sets, so an index past the retention cannot be made here).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::build::{self, cache_dir, which};
use super::cluster::{Cluster, Objects};
use super::flow::{query_addr, smoke_job, start_stack, traces};
use super::{Context, Report, built_jaeger, http, images, render_variant};

/// The OpenSearch release: the newest 2.19 that Maven Central serves (3.x needs Java 21).
pub const OPENSEARCH_VERSION: &str = "2.19.6";
/// The user the node runs as (OpenSearch refuses root).
const OPENSEARCH_UID: u32 = 1000;
/// The index cleaner's image repository, as the CronJob names it.
const CLEANER_IMAGE: &str = "jaegertracing/jaeger-es-index-cleaner";

pub fn run(context: &Context, report: &mut Report) -> Result<(), String> {
    let started = Instant::now();
    let home = match fetch() {
        Ok(home) => home,
        Err(e) => {
            report.fail("OpenSearch from Maven Central", e);
            return Ok(());
        }
    };
    println!("  OpenSearch {OPENSEARCH_VERSION}: ready in {:.0} s", started.elapsed().as_secs_f64());
    let cleaner = match index_cleaner() {
        Ok(b) => b,
        Err(e) => {
            report.fail("jaeger-es-index-cleaner build", e);
            return Ok(());
        }
    };
    let base = "jaeger.storage.opensearch";
    let changes = [
        built_jaeger(),
        ("collector.k8s_attributes", serde_json::Value::Bool(false)),
        (&format!("{base}.server_urls") as &str, serde_json::json!(["http://opensearch:9200"])),
        (&format!("{base}.ca") as &str, serde_json::Value::Null),
    ]
    .map(|(k, v)| (k.to_string(), v));
    let changes: Vec<(&str, serde_json::Value)> = changes.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    println!(
        "  k8s_attributes off (no API server); plain HTTP to the node, which runs without the security plugin (no CA)"
    );
    let (profile, rendered) = render_variant(&context.root, "prod-opensearch", &changes)?;
    let mut objects = Objects::from_files(&rendered.files)?;
    // What the user creates before applying: the credentials Secret the runbook names.
    let namespace = profile.namespace.clone();
    let credentials = match &profile.jaeger.storage {
        tracestack::model::profile::StorageSpec::Opensearch(os) => os.credentials.clone(),
        _ => None,
    };
    if let Some(c) = &credentials {
        objects.secrets.push(Secret {
            metadata: ObjectMeta {
                name: Some(c.secret.clone()),
                namespace: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            string_data: Some(
                [(c.username_key.clone(), "jaeger".to_string()), (c.password_key.clone(), "e2e-password".to_string())]
                    .into(),
            ),
            ..Secret::default()
        });
        println!("  Secret {} created as the runbook says (the node ignores credentials)", c.secret);
    }
    // `kubectl create job --from=cronjob/jaeger-es-index-cleaner`: the CronJob's job template as a Job.
    let cron = objects
        .all
        .iter()
        .find(|o| {
            o["kind"] == "CronJob" && o["metadata"]["name"].as_str().is_some_and(|n| n.ends_with("index-cleaner"))
        })
        .cloned()
        .ok_or("prod-opensearch renders no index-cleaner CronJob")?;
    let cron_name = cron["metadata"]["name"].as_str().unwrap_or_default().to_string();
    let manual = format!("{cron_name}-manual");
    let mut job_value = serde_json::json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": manual, "namespace": cron["metadata"]["namespace"]},
        "spec": cron["spec"]["jobTemplate"]["spec"],
    });
    job_value["metadata"]["labels"] = cron["metadata"]["labels"].clone();
    let job: Job = serde_json::from_value(job_value).map_err(|e| format!("the CronJob's job template: {e}"))?;
    objects.jobs.push(job);

    let mut imgs = images(context, &profile);
    imgs.binaries.insert(CLEANER_IMAGE.to_string(), cleaner);
    let work = context.work.join("opensearch");
    let mut cluster = Cluster::new(&work, imgs, objects)?;
    let node_pod = cluster.client_pod("opensearch", &namespace)?;
    let node_started = Instant::now();
    let mut node = start_node(&cluster, node_pod, &home, &work.join("node"))?;
    let addr = std::net::SocketAddr::from((cluster.pods[node_pod].ip, 9200));
    let ready = wait_green(addr, Duration::from_secs(180));
    report.check(
        format!("OpenSearch {OPENSEARCH_VERSION} node up (single-node, Java 17, uid {OPENSEARCH_UID})"),
        ready.clone().map(|()| println!("  node ready in {:.0} s", node_started.elapsed().as_secs_f64())),
    );
    if ready.is_err() {
        let _ = node.kill();
        let _ = node.wait();
        return Ok(());
    }
    let result = exercise(&mut cluster, &profile, addr, &manual, report);
    let _ = node.kill();
    let _ = node.wait();
    result
}

fn exercise(
    cluster: &mut Cluster,
    profile: &tracestack::Profile,
    addr: std::net::SocketAddr,
    manual: &str,
    report: &mut Report,
) -> Result<(), String> {
    start_stack(cluster, report)?;
    let job = smoke_job(cluster.objects())?;
    let index = match cluster.run_job(&job, Duration::from_secs(300)) {
        Ok(index) => {
            report.pass(format!("smoke-test Job {job} passed as rendered, against OpenSearch"));
            index
        }
        Err(e) => {
            report.fail(format!("smoke-test Job {job}"), e);
            return Ok(());
        }
    };
    let run_id = cluster.pods[index].uid.clone();
    let expected = profile.smoke_test.traces as usize;
    let query = query_addr(cluster)?;
    let read = traces(query, "tracestack-smoke", &[("tracestack.smoke.run", &run_id)], 1000)?;
    let spans_read: usize = read.iter().map(|t| t["spans"].as_array().map_or(0, Vec::len)).sum();
    println!("  read back through jaeger-query: {} traces, {spans_read} spans", read.len());
    report.check(
        format!("jaeger-query reads the run's {expected} traces back from OpenSearch"),
        if read.len() == expected { Ok(()) } else { Err(format!("{} traces", read.len())) },
    );
    let prefix = match &profile.jaeger.storage {
        tracestack::model::profile::StorageSpec::Opensearch(os) => os.index_prefix.clone(),
        _ => "jaeger".into(),
    };
    let _ = http::request(addr, "POST", "/_refresh", None, Duration::from_secs(10));
    let count = http::get(addr, &format!("/{prefix}-jaeger-span-*/_count"), Duration::from_secs(10))?;
    let docs =
        serde_json::from_str::<serde_json::Value>(&count.body).ok().and_then(|v| v["count"].as_u64()).unwrap_or(0);
    println!("  OpenSearch holds {docs} span documents in {prefix}-jaeger-span-*");
    report.check(
        "the spans are documents in OpenSearch's span index",
        if docs as usize >= spans_read && docs > 0 { Ok(()) } else { Err(format!("{docs} documents")) },
    );
    // The alert reads Jaeger's bulk metrics: served by the writer, labelled with the backend.
    let writer = cluster
        .pods
        .iter()
        .find(|p| {
            p.ready
                && p.labels.get("app.kubernetes.io/component").map(String::as_str) == Some("collector")
                && p.labels.get("app.kubernetes.io/name").map(String::as_str) == Some("jaeger")
        })
        .ok_or("no ready Jaeger collector pod")?;
    let metrics = http::get(std::net::SocketAddr::from((writer.ip, 8888)), "/metrics", Duration::from_secs(10))?;
    let bulk: Vec<&str> = metrics
        .body
        .lines()
        .filter(|l| l.starts_with("jaeger_storage_bulk_index") && l.contains("kind=\"opensearch\""))
        .collect();
    report.check(
        "Jaeger serves the alert's bulk-index metrics with kind=\"opensearch\"",
        if bulk.is_empty() {
            Err("no jaeger_storage_bulk_index_* series with kind=\"opensearch\"".into())
        } else {
            Ok(())
        },
    );

    // The index cleaner picks indices by their creation time on the node (not by name), which
    // OpenSearch sets itself (`index.creation_date` is refused at creation: "unknown setting"):
    // every index here is from today, so the run must query them all and delete none.
    let before = indices(addr, &prefix)?;
    let started = Instant::now();
    let result = cluster.run_job(manual, Duration::from_secs(120));
    let after = indices(addr, &prefix)?;
    let log = result.map(|i| std::fs::read_to_string(cluster.pods[i].log("es-index-cleaner")).unwrap_or_default());
    println!(
        "  index cleaner ran in {:.1} s: {} span/service indices before, {} after",
        started.elapsed().as_secs_f64(),
        before.len(),
        after.len()
    );
    report.check(
        format!("the index-cleaner CronJob, run once as Job {manual}, queries the node's indices and keeps those within the retention"),
        match log {
            Err(e) => Err(e),
            Ok(_) if before.is_empty() || after != before => Err(format!("{before:?} before, {after:?} after")),
            Ok(log) if !before.iter().all(|i| log.contains(i.as_str())) => Err(format!("its log does not list {before:?}:\n{log}")),
            Ok(_) => Ok(()),
        },
    );
    Ok(())
}

/// Span and service index names with the prefix.
fn indices(addr: std::net::SocketAddr, prefix: &str) -> Result<Vec<String>, String> {
    let r = http::get(addr, &format!("/_cat/indices/{prefix}-jaeger-*?h=index"), Duration::from_secs(10))?;
    let mut names: Vec<String> = r.body.lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
    names.sort();
    Ok(names)
}

/// Waits for the cluster health to be at least yellow.
fn wait_green(addr: std::net::SocketAddr, timeout: Duration) -> Result<(), String> {
    let until = Instant::now() + timeout;
    loop {
        if let Ok(r) = http::get(addr, "/_cluster/health", Duration::from_secs(2))
            && r.status == 200
            && (r.body.contains("\"green\"") || r.body.contains("\"yellow\""))
        {
            return Ok(());
        }
        if Instant::now() > until {
            return Err(format!("no healthy node on {addr} after {timeout:?}"));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Starts the node in the pod's network namespace as an unprivileged user. The distribution's
/// layout is copied into `dir` (the cache lies under root's home, which that user cannot read).
fn start_node(cluster: &Cluster, pod: usize, cached: &Path, dir: &Path) -> Result<std::process::Child, String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let status = Command::new("cp").arg("-a").arg(cached).arg(dir.join("home")).status().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("cp -a {} failed", cached.display()));
    }
    let home = dir.join("home");
    let config = home.join("config");
    std::fs::create_dir_all(&config).map_err(|e| e.to_string())?;
    std::fs::write(
        config.join("opensearch.yml"),
        format!(
            "cluster.name: tracestack-e2e\nnode.name: opensearch\nnetwork.host: 0.0.0.0\nhttp.port: 9200\n\
             transport.port: 9300\ndiscovery.type: single-node\npath.data: {0}/data\npath.logs: {0}/logs\n\
             action.auto_create_index: true\n",
            home.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(
        config.join("log4j2.properties"),
        "status = error\nappender.console.type = Console\nappender.console.name = console\n\
         appender.console.layout.type = PatternLayout\n\
         appender.console.layout.pattern = [%d{ISO8601}][%-5p][%c{1.}] [%node_name]%marker %m%n\n\
         rootLogger.level = info\nrootLogger.appenderRef.console.ref = console\n",
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(config.join("jvm.options"), "").map_err(|e| e.to_string())?;
    let owner = format!("{OPENSEARCH_UID}:{OPENSEARCH_UID}");
    let status = Command::new("chown").args(["-R", &owner]).arg(dir).status().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("chown {owner} {} failed", dir.display()));
    }
    let java = which("java").map_err(|_| "`java` (JDK 17) is not installed".to_string())?;
    let classpath = format!("{}/lib/*", home.display());
    let args: Vec<String> = vec![
        format!("--reuid={OPENSEARCH_UID}"),
        format!("--regid={OPENSEARCH_UID}"),
        "--clear-groups".into(),
        "--".into(),
        java.display().to_string(),
        "-Xms512m".into(),
        "-Xmx512m".into(),
        "-XX:+UseSerialGC".into(),
        "-Djava.security.manager=allow".into(),
        format!("-Djava.io.tmpdir={}", dir.display()),
        format!("-Dopensearch.path.home={}", home.display()),
        format!("-Dopensearch.path.conf={}", config.display()),
        "-Dopensearch.distribution.type=tar".into(),
        "-Dopensearch.bundled_jdk=false".into(),
        "-cp".into(),
        classpath,
        "org.opensearch.bootstrap.OpenSearch".into(),
    ];
    let setpriv = which("setpriv")?;
    cluster.exec_in(pod, &setpriv, &args, &dir.join("opensearch.log"))
}

/// The OpenSearch node's files, from Maven Central through Maven, cached by version: `lib/`
/// (the server and its runtime dependencies, log4j-core and the plugin class loader, which the
/// distribution puts beside them) and `modules/transport-netty4/` (the transport and HTTP layer,
/// with the descriptor and security policy the distribution ships for it).
pub fn fetch() -> Result<PathBuf, String> {
    let dir = cache_dir().join(format!("opensearch-{OPENSEARCH_VERSION}"));
    let home = dir.join("home");
    if home.join(".complete").exists() {
        println!("build: opensearch-{OPENSEARCH_VERSION}: cached");
        return Ok(home);
    }
    let mvn = which("mvn").map_err(|_| "`mvn` (Maven) is not installed; .ci/run installs it".to_string())?;
    let started = Instant::now();
    let _ = std::fs::remove_dir_all(&dir);
    let v = OPENSEARCH_VERSION;
    let core = [
        ("org.opensearch", "opensearch", v),
        ("org.opensearch", "opensearch-plugin-classloader", v),
        ("org.apache.logging.log4j", "log4j-core", "2.25.4"),
    ];
    let netty = [("org.opensearch.plugin", "transport-netty4-client", v)];
    copy_dependencies(&mvn, &dir.join("core"), &core, &home.join("lib"))?;
    let module = home.join("modules/transport-netty4");
    copy_dependencies(&mvn, &dir.join("netty"), &netty, &module)?;
    // The module holds only what the server's class path lacks (jar hell otherwise).
    let lib: Vec<String> = std::fs::read_dir(home.join("lib"))
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for entry in std::fs::read_dir(&module).map_err(|e| e.to_string())?.flatten() {
        if lib.contains(&entry.file_name().to_string_lossy().into_owned()) {
            std::fs::remove_file(entry.path()).map_err(|e| e.to_string())?;
        }
    }
    std::fs::write(
        module.join("plugin-descriptor.properties"),
        format!(
            "description=Netty 4 based transport implementation\nversion={v}\nname=transport-netty4\n\
             classname=org.opensearch.transport.Netty4Plugin\njava.version=11\nopensearch.version={v}\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    // The policy the distribution's modules/transport-netty4 carries.
    std::fs::write(
        module.join("plugin-security.policy"),
        "grant codeBase \"${codebase.netty-common}\" {\n\
         \x20 permission java.io.FilePermission \"/proc/sys/net/core/somaxconn\", \"read\";\n\
         \x20 permission java.net.SocketPermission \"*\", \"accept,connect\";\n\
         \x20 permission java.lang.RuntimePermission \"*\", \"setContextClassLoader\";\n};\n\
         grant codeBase \"${codebase.netty-transport}\" {\n\
         \x20 permission java.util.PropertyPermission \"sun.nio.ch.bugLevel\", \"write\";\n};\n",
    )
    .map_err(|e| e.to_string())?;
    for sub in ["bin", "plugins", "config"] {
        std::fs::create_dir_all(home.join(sub)).map_err(|e| e.to_string())?;
    }
    std::fs::write(home.join(".complete"), "").map_err(|e| e.to_string())?;
    println!(
        "build: opensearch-{OPENSEARCH_VERSION}: fetched through Maven in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(home)
}

/// `mvn dependency:copy-dependencies` of a pom that depends on `artifacts`, into `out`.
fn copy_dependencies(mvn: &Path, dir: &Path, artifacts: &[(&str, &str, &str)], out: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let deps: String = artifacts
        .iter()
        .map(|(g, a, v)| {
            format!("<dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version></dependency>")
        })
        .collect();
    std::fs::write(
        dir.join("pom.xml"),
        format!(
            "<project xmlns=\"http://maven.apache.org/POM/4.0.0\"><modelVersion>4.0.0</modelVersion>\
             <groupId>tracestack.e2e</groupId><artifactId>opensearch-node</artifactId><version>1</version>\
             <packaging>pom</packaging><dependencies>{deps}</dependencies></project>\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let output = Command::new(mvn)
        .args(["-q", "-B", "dependency:copy-dependencies", "-DincludeScope=runtime"])
        .arg(format!("-DoutputDirectory={}", out.display()))
        .current_dir(dir)
        .output()
        .map_err(|e| format!("mvn: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        let text = String::from_utf8_lossy(&output.stdout);
        Err(format!(
            "mvn dependency:copy-dependencies in {} failed: {}",
            dir.display(),
            text.lines().rev().take(5).collect::<Vec<_>>().join(" | ")
        ))
    }
}

/// Jaeger's `es-index-cleaner` at the version the harness builds, from the same module.
pub fn index_cleaner() -> Result<PathBuf, String> {
    let key = format!("jaeger-es-index-cleaner-{}", build::JAEGER_VERSION);
    build::cached(&cache_dir(), &key, &["es-index-cleaner"], |dir| {
        build::build_as_dependency(
            &dir.join("src"),
            "esindexcleaner",
            &build::jaeger_requires(),
            &["github.com/jaegertracing/jaeger/cmd/es-index-cleaner"],
            None,
            &dir.join("es-index-cleaner").display().to_string(),
        )
    })
    .map(|dir| dir.join("es-index-cleaner"))
}
