//! The smoke test: a Job that sends a fixed number of traces to the `otlp` Service with
//! telemetrygen, and a Job that asks Jaeger's query API for them and fails unless they arrived.
//! Both render into their own kustomization (`smoke-test/`), applied after the stack is up.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Container, EmptyDirVolumeSource, PodSpec, PodTemplateSpec, Service, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::components::Component;
use crate::error::Error;
use crate::k8s::{self, Object};
use crate::profile::{CpuMemory, Profile, Resources};
use crate::quantity::Quantity;

/// Directory of the smoke-test kustomization, relative to the profile's output.
pub const DIR: &str = "smoke-test";
/// `service.name` of the smoke-test traces: what to look for in Jaeger.
pub const SERVICE_NAME: &str = "tracestack-smoke";
/// The Job that sends traces.
pub const SEND_JOB: &str = "tracestack-smoke-send";
/// The Job that checks they arrived.
pub const CHECK_JOB: &str = "tracestack-smoke-check";
/// `app.kubernetes.io/name` of both Jobs.
pub const APP: &str = "tracestack-smoke";
/// The telemetrygen image repository; its tags are the collector-contrib release tags
/// (`v0.159.0`), published with every collector release.
pub const TELEMETRYGEN_IMAGE: &str = "ghcr.io/open-telemetry/opentelemetry-collector-contrib/telemetrygen";
/// telemetrygen's user: `ARG USER_UID=10001`, `ARG USER_GID=10001`, `USER ${USER_UID}:${USER_GID}`
/// (contrib `cmd/telemetrygen/Dockerfile`, `FROM scratch`).
pub const TELEMETRYGEN_UID: i64 = 10001;
/// The curl image repository (Alpine with BusyBox `sh`, `grep`, `sort`, `wc`, `date`).
pub const CURL_IMAGE: &str = "curlimages/curl";
/// The pinned curl image tag.
pub const CURL_VERSION: &str = "8.12.1";
/// The user the checker runs as. curlimages/curl's own `curl_user` is UID 100 (curl/curl-container
/// `create_base_image.sh`), which can collide with a host user; the script only runs `sh` and
/// `curl` and writes nothing but `/tmp`, so it runs as the stack's high UID like every other pod.
pub const CURL_UID: i64 = crate::k8s::RUN_AS_USER;
/// The checker's group.
pub const CURL_GID: i64 = crate::k8s::RUN_AS_USER;
/// How far back the checker looks for traces: long enough for a sender that started a few
/// minutes before the checker's pod, short enough that a run an hour ago does not count.
pub const WINDOW_SECONDS: u32 = 600;
/// Query attempts of the checker, 5 s apart.
pub const ATTEMPTS: u32 = 24;

/// The checker: polls `/api/services` and `/api/traces` and counts the distinct trace ids it gets
/// back (the search response lists each trace with a `traceID`, and each of its spans repeats it).
/// Everything it needs comes from the environment, so the text is the same for every profile.
const CHECK_SCRIPT: &str = r#"set -u
since=$(( ( $(date +%s) - $WINDOW_SECONDS ) * 1000000 ))
attempt=1
found=0
services=""
while [ "$attempt" -le "$ATTEMPTS" ]; do
  services=$(curl -fsS --max-time 5 "$JAEGER_QUERY_URL/api/services" 2>&1) || services="request failed: $services"
  traces=$(curl -fsS --max-time 5 "$JAEGER_QUERY_URL/api/traces?service=$SERVICE&start=$since&limit=$LIMIT" 2>/dev/null) || traces=""
  found=$(( $(printf '%s' "$traces" | grep -o '"traceID": *"[0-9a-f]*"' | sort -u | wc -l) ))
  echo "attempt $attempt/$ATTEMPTS: Jaeger returned $found of $EXPECTED traces of $SERVICE"
  if [ "$found" -ge "$EXPECTED" ]; then
    echo "PASS: $found traces of $SERVICE arrived in Jaeger"
    exit 0
  fi
  [ "$attempt" -lt "$ATTEMPTS" ] || break
  attempt=$(( attempt + 1 ))
  sleep 5
done
echo "services Jaeger knows: $services"
echo "FAIL: expected $EXPECTED traces of $SERVICE in the last $WINDOW_SECONDS s, found $found"
exit 1
"#;

/// The smoke-test Jobs.
#[derive(Clone, Debug, PartialEq)]
pub struct SmokeTest {
    /// Sends the traces.
    pub send: Job,
    /// Checks that Jaeger has them.
    pub check: Job,
}

impl Component for SmokeTest {
    fn into_objects(self) -> Vec<Object> {
        vec![self.send.into(), self.check.into()]
    }
}

fn service_port(service: &Service, name: &str) -> Result<i32, Error> {
    let service_name = service.metadata.name.as_deref().unwrap_or_default();
    service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .and_then(|ports| ports.iter().find(|p| p.name.as_deref() == Some(name)))
        .map(|p| p.port)
        .ok_or_else(|| Error::Invalid {
            path: format!("Service `{service_name}`"),
            message: format!("has no port named `{name}`"),
        })
}

/// `name.namespace.svc:port` of a Service port: the short form resolves in any cluster domain.
fn address(service: &Service, port: &str) -> Result<String, Error> {
    let name = service.metadata.name.as_deref().unwrap_or_default();
    let ns = service.metadata.namespace.as_deref().unwrap_or_default();
    Ok(format!("{name}.{ns}.svc:{}", service_port(service, port)?))
}

fn resources(cpu_request: u64, memory_request: u64, cpu_limit: u64, memory_limit: u64) -> Resources {
    Resources {
        requests: CpuMemory {
            cpu: Quantity::from_millicores(cpu_request),
            memory: Quantity::from_mebibytes(memory_request),
        },
        limits: CpuMemory { cpu: Quantity::from_millicores(cpu_limit), memory: Quantity::from_mebibytes(memory_limit) },
    }
}

struct JobShape<'a> {
    name: &'a str,
    component: &'a str,
    version: &'a str,
    namespace: &'a str,
    backoff_limit: i32,
    deadline_seconds: i64,
    uid: i64,
    gid: i64,
    container: Container,
    volumes: Vec<Volume>,
}

fn job(shape: JobShape<'_>) -> Job {
    let labels = k8s::labels(APP, shape.component, shape.version);
    Job {
        metadata: k8s::meta(shape.name, shape.namespace, &labels),
        spec: Some(JobSpec {
            backoff_limit: Some(shape.backoff_limit),
            active_deadline_seconds: Some(shape.deadline_seconds),
            // Keep the finished Job (and its log) for an hour; after that `kubectl apply` runs it
            // again.
            ttl_seconds_after_finished: Some(3600),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(labels), ..ObjectMeta::default() }),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".into()),
                    automount_service_account_token: Some(false),
                    security_context: Some(k8s::restricted_pod_as(shape.uid, shape.gid)),
                    containers: vec![shape.container],
                    volumes: (!shape.volumes.is_empty()).then_some(shape.volumes),
                    ..PodSpec::default()
                }),
            },
            ..JobSpec::default()
        }),
        ..Job::default()
    }
}

/// The sender's arguments: `traces` with a fixed count and service name, to the `otlp` Service's
/// gRPC port in plain text (flags from contrib `cmd/telemetrygen/internal/config/config.go` and
/// `pkg/traces/config.go`).
fn send_args(profile: &Profile, otlp_endpoint: &str) -> Vec<String> {
    let mut args = vec![
        "traces".to_owned(),
        format!("--otlp-endpoint={otlp_endpoint}"),
        "--otlp-insecure".to_owned(),
        format!("--traces={}", profile.smoke_test.traces),
        format!("--service={SERVICE_NAME}"),
    ];
    if profile.sampling.percentage < 100.0 {
        // The gateway's `probabilistic_sampler` keeps every span with `sampling.priority` above 0
        // whatever the percentage (its README: the priority "takes priority over trace ID
        // hashing"), so the checker can expect every trace.
        args.push("--telemetry-attributes=sampling.priority=1".to_owned());
    }
    args
}

/// The smoke-test Jobs for a profile, addressed to the given `otlp` and `jaeger-query` Services.
///
/// # Errors
/// When a Service lacks the port the Jobs use.
pub fn smoke_test(profile: &Profile, otlp: &Service, query: &Service) -> Result<SmokeTest, Error> {
    let spec = &profile.smoke_test;
    let ns = profile.namespace.as_str();
    let collector_version = profile.collector.version.0.to_string();
    let telemetrygen =
        format!("{}:v{collector_version}", spec.telemetrygen_image.as_deref().unwrap_or(TELEMETRYGEN_IMAGE));
    let mut sender = k8s::container(
        "telemetrygen",
        &telemetrygen,
        send_args(profile, &address(otlp, "otlp-grpc")?),
        &resources(50, 32, 200, 128),
    );
    sender.security_context = Some(k8s::restricted_container_as(TELEMETRYGEN_UID, TELEMETRYGEN_UID));
    let send = job(JobShape {
        name: SEND_JOB,
        component: "send",
        version: &collector_version,
        namespace: ns,
        // telemetrygen exits non-zero when it cannot export (e.g. the gateway is not ready yet);
        // two retries with the Job's back-off cover a rollout still in progress.
        backoff_limit: 2,
        deadline_seconds: 180,
        uid: TELEMETRYGEN_UID,
        gid: TELEMETRYGEN_UID,
        container: sender,
        volumes: Vec::new(),
    });

    let curl = format!("{}:{CURL_VERSION}", spec.curl_image.as_deref().unwrap_or(CURL_IMAGE));
    let mut checker =
        k8s::container("check", &curl, vec!["-c".to_owned(), CHECK_SCRIPT.to_owned()], &resources(10, 16, 100, 32));
    checker.command = Some(vec!["/bin/sh".to_owned()]);
    checker.security_context = Some(k8s::restricted_container_as(CURL_UID, CURL_GID));
    checker.env = Some(vec![
        k8s::env("JAEGER_QUERY_URL", &format!("http://{}", address(query, "http-query")?)),
        k8s::env("SERVICE", SERVICE_NAME),
        k8s::env("EXPECTED", &spec.traces.to_string()),
        k8s::env("LIMIT", &(u64::from(spec.traces) * 2).to_string()),
        k8s::env("ATTEMPTS", &ATTEMPTS.to_string()),
        k8s::env("WINDOW_SECONDS", &WINDOW_SECONDS.to_string()),
    ]);
    checker.volume_mounts =
        Some(vec![VolumeMount { name: "tmp".into(), mount_path: "/tmp".into(), ..VolumeMount::default() }]);
    let check = job(JobShape {
        name: CHECK_JOB,
        component: "check",
        version: CURL_VERSION,
        namespace: ns,
        // The script retries by itself (ATTEMPTS × 5 s); a second pod would only repeat it.
        backoff_limit: 0,
        deadline_seconds: 300,
        uid: CURL_UID,
        gid: CURL_GID,
        container: checker,
        volumes: vec![Volume {
            name: "tmp".into(),
            empty_dir: Some(EmptyDirVolumeSource {
                size_limit: Some(k8s_openapi::apimachinery::pkg::api::resource::Quantity("16Mi".into())),
                ..EmptyDirVolumeSource::default()
            }),
            ..Volume::default()
        }],
    });
    Ok(SmokeTest { send, check })
}

/// The environment of a Job's first container, by name.
#[must_use]
pub fn env_of(job: &Job) -> BTreeMap<String, String> {
    job.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.containers.first())
        .and_then(|c| c.env.as_ref())
        .map(|env| env.iter().filter_map(|e| Some((e.name.clone(), e.value.clone()?))).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::Stack;

    fn stack(edit: impl FnOnce(&mut Profile)) -> Stack {
        let mut profile = Profile::default();
        edit(&mut profile);
        match Stack::build(&profile) {
            Ok(stack) => stack,
            Err(e) => panic!("{e}"),
        }
    }

    fn args(job: &Job) -> Vec<String> {
        job.spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .and_then(|p| p.containers.first())
            .and_then(|c| c.args.clone())
            .unwrap_or_default()
    }

    #[test]
    fn sender_targets_the_otlp_service_with_the_collector_version_of_telemetrygen() {
        let stack = stack(|p| p.smoke_test.traces = 7);
        let send = &stack.smoke_test.send;
        let container = &send.spec.as_ref().unwrap().template.spec.as_ref().unwrap().containers[0];
        assert_eq!(
            container.image.as_deref(),
            Some("ghcr.io/open-telemetry/opentelemetry-collector-contrib/telemetrygen:v0.159.0")
        );
        assert_eq!(
            args(send),
            [
                "traces",
                "--otlp-endpoint=otlp.observability.svc:4317",
                "--otlp-insecure",
                "--traces=7",
                "--service=tracestack-smoke"
            ]
        );
        let check = env_of(&stack.smoke_test.check);
        assert_eq!(check["JAEGER_QUERY_URL"], "http://jaeger-query.observability.svc:16686");
        assert_eq!(check["EXPECTED"], "7");
    }

    #[test]
    fn sampled_profiles_mark_smoke_spans_to_be_kept() {
        let stack = stack(|p| p.sampling.percentage = 10.0);
        assert!(args(&stack.smoke_test.send).contains(&"--telemetry-attributes=sampling.priority=1".to_owned()));
    }

    /// Serves canned Jaeger answers on loopback and records the request lines.
    fn fake_jaeger(traces_body: &'static str) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = std::sync::Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().take(16) {
                let Ok(mut stream) = stream else { continue };
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
                let _ = reader.read_line(&mut line);
                // Read the headers up to the blank line so curl sees a clean exchange.
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let body = if line.contains("/api/services") {
                    r#"{"data":["tracestack-smoke"],"total":1,"limit":0,"offset":0,"errors":null}"#
                } else {
                    traces_body
                };
                log.lock().expect("lock").push(line.trim().to_owned());
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (url, seen)
    }

    /// Runs the checker script with `sh`; `None` (and a SKIPPED note) without `sh` or `curl`.
    fn run_check(url: &str, expected: u32) -> Option<(bool, String)> {
        let have = |tool: &str| std::process::Command::new(tool).arg("--version").output().is_ok();
        if !have("curl") || std::process::Command::new("sh").arg("-c").arg("true").output().is_err() {
            eprintln!("SKIPPED: `sh` or `curl` not found; the smoke-test checker script was not run");
            return None;
        }
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(CHECK_SCRIPT)
            .env("JAEGER_QUERY_URL", url)
            .env("SERVICE", SERVICE_NAME)
            .env("EXPECTED", expected.to_string())
            .env("LIMIT", "10")
            .env("ATTEMPTS", "1")
            .env("WINDOW_SECONDS", "600")
            .output()
            .expect("sh runs");
        Some((out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned()))
    }

    // Three traces, each listed once with its spans repeating the trace id.
    const THREE_TRACES: &str = r#"{"data":[{"traceID":"aa01","spans":[{"traceID":"aa01","spanID":"1"},{"traceID":"aa01","spanID":"2","references":[{"refType":"CHILD_OF","traceID":"aa01","spanID":"1"}]}]},{"traceID":"bb02","spans":[{"traceID":"bb02","spanID":"3"}]},{"traceID":"cc03","spans":[{"traceID":"cc03","spanID":"4"}]}],"total":0,"limit":0,"offset":0,"errors":null}"#;

    #[test]
    fn checker_passes_when_every_trace_arrived_and_counts_distinct_trace_ids() {
        let (url, seen) = fake_jaeger(THREE_TRACES);
        let Some((ok, out)) = run_check(&url, 3) else { return };
        assert!(ok, "{out}");
        assert!(out.contains("PASS: 3 traces of tracestack-smoke arrived in Jaeger"), "{out}");
        let requests = seen.lock().expect("lock").clone();
        assert!(requests.iter().any(|r| r.starts_with("GET /api/services ")), "{requests:?}");
        assert!(
            requests
                .iter()
                .any(|r| r.starts_with("GET /api/traces?service=tracestack-smoke&start=") && r.contains("&limit=10 ")),
            "{requests:?}"
        );
    }

    #[test]
    fn checker_fails_naming_what_it_found_when_traces_are_missing() {
        let (url, _) = fake_jaeger(THREE_TRACES);
        let Some((ok, out)) = run_check(&url, 4) else { return };
        assert!(!ok, "{out}");
        assert!(out.contains("attempt 1/1: Jaeger returned 3 of 4 traces of tracestack-smoke"), "{out}");
        assert!(out.contains(r#"services Jaeger knows: {"data":["tracestack-smoke"]"#), "{out}");
        assert!(out.contains("FAIL: expected 4 traces of tracestack-smoke in the last 600 s, found 3"), "{out}");
    }

    #[test]
    fn checker_fails_when_jaeger_is_unreachable() {
        // A port nothing listens on: bind, note it, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let Some((ok, out)) = run_check(&format!("http://127.0.0.1:{port}"), 1) else { return };
        assert!(!ok, "{out}");
        assert!(out.contains("services Jaeger knows: request failed: curl:"), "{out}");
        assert!(out.contains("found 0"), "{out}");
    }

    #[test]
    fn jobs_are_bounded_and_restricted() {
        let stack = stack(|_| {});
        for job in [&stack.smoke_test.send, &stack.smoke_test.check] {
            let spec = job.spec.as_ref().unwrap();
            assert!(spec.backoff_limit.is_some() && spec.active_deadline_seconds.is_some());
            assert!(spec.ttl_seconds_after_finished.is_some());
            let pod = spec.template.spec.as_ref().unwrap();
            assert_eq!(pod.automount_service_account_token, Some(false));
            let sc = pod.containers[0].security_context.as_ref().unwrap();
            assert_eq!(sc.run_as_non_root, Some(true));
            assert_eq!(sc.read_only_root_filesystem, Some(true));
            assert_eq!(sc.allow_privilege_escalation, Some(false));
            assert!(sc.run_as_user.is_some_and(|uid| uid > 0));
        }
    }
}
