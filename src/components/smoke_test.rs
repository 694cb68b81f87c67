//! The smoke test: one Job whose init container sends a fixed number of traces to the `otlp`
//! Service with telemetrygen, tagged with the pod's UID, and whose container then asks Jaeger's
//! query API for the traces with that tag and fails unless every one arrived. Traces of an earlier
//! run carry another UID, so a rerun never passes on them. The Job renders into its own
//! kustomization (`smoke-test/`), applied after the stack is up.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Container, EmptyDirVolumeSource, PodSpec, PodTemplateSpec, Service, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::components::Component;
use crate::components::Error;
use crate::config::k8s::{self, Object};
use crate::model;
use crate::model::profile::{CpuMemory, Profile, Resources};
use crate::value::quantity::Quantity;

/// Directory of the smoke-test kustomization, relative to the profile's output.
pub const DIR: &str = "smoke-test";
/// `service.name` of the smoke-test traces: what to look for in Jaeger.
pub const SERVICE_NAME: &str = "tracestack-smoke";
/// The Job, also its `app.kubernetes.io/name`.
pub const JOB: &str = "tracestack-smoke";
/// The init container that sends the traces.
pub const SENDER: &str = "telemetrygen";
/// The container that checks they arrived.
pub const CHECKER: &str = "check";
/// The span attribute that carries the run: the pod's UID (`metadata.uid`), new for every pod the
/// Job starts.
pub const RUN_ATTRIBUTE: &str = "tracestack.smoke.run";
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
pub const CURL_UID: i64 = crate::config::k8s::RUN_AS_USER;
/// The checker's group.
pub const CURL_GID: i64 = crate::config::k8s::RUN_AS_USER;
/// How far back the checker searches: the sender ran just before it in the same pod, so this only
/// bounds the search; the run tag decides which traces count.
pub const WINDOW_SECONDS: u32 = 600;
/// Query attempts of the checker, 5 s apart.
pub const ATTEMPTS: u32 = 24;

/// The checker: polls `/api/services` and `/api/traces` for this run's tag and counts the distinct
/// trace ids it gets back (the search response lists each trace with a `traceID`, and each of its
/// spans repeats it). `tag=key:value` is the query API's tag filter (jaeger
/// `cmd/query/app/query_parser.go`: `tag ::= 'tag=' keyValue`, `keyValue := strValue ':' strValue`).
/// Everything it needs comes from the environment, so the text is the same for every profile.
const CHECK_SCRIPT: &str = r#"set -u
since=$(( ( $(date +%s) - $WINDOW_SECONDS ) * 1000000 ))
attempt=1
found=0
services=""
while [ "$attempt" -le "$ATTEMPTS" ]; do
  services=$(curl -fsS --max-time 5 "$JAEGER_QUERY_URL/api/services" 2>&1) || services="request failed: $services"
  traces=$(curl -fsS --max-time 5 "$JAEGER_QUERY_URL/api/traces?service=$SERVICE&tag=$RUN_ATTRIBUTE:$RUN_ID&start=$since&limit=$LIMIT" 2>/dev/null) || traces=""
  found=$(( $(printf '%s' "$traces" | grep -o '"traceID": *"[0-9a-f]*"' | sort -u | wc -l) ))
  echo "attempt $attempt/$ATTEMPTS: Jaeger returned $found of $EXPECTED traces of $SERVICE run $RUN_ID"
  if [ "$found" -ge "$EXPECTED" ]; then
    echo "PASS: $found traces of $SERVICE run $RUN_ID arrived in Jaeger"
    exit 0
  fi
  [ "$attempt" -lt "$ATTEMPTS" ] || break
  attempt=$(( attempt + 1 ))
  sleep 5
done
echo "services Jaeger knows: $services"
echo "FAIL: expected $EXPECTED traces of $SERVICE run $RUN_ID (span attribute $RUN_ATTRIBUTE), found $found"
exit 1
"#;

/// The smoke-test Job.
#[derive(Clone, Debug, PartialEq)]
pub struct SmokeTest {
    /// Sends the traces (init container), then checks that Jaeger has them.
    pub job: Job,
}

impl Component for SmokeTest {
    fn into_objects(self) -> Vec<Object> {
        vec![self.job.into()]
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
        .ok_or_else(|| {
            Error::Model(model::Error::Invalid {
                path: format!("Service `{service_name}`"),
                message: format!("has no port named `{name}`"),
            })
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

fn send_args(profile: &Profile, otlp_endpoint: &str) -> Vec<String> {
    let mut args = vec![
        "traces".to_owned(),
        format!("--otlp-endpoint={otlp_endpoint}"),
        "--otlp-insecure".to_owned(),
        format!("--traces={}", profile.smoke_test.traces),
        format!("--service={SERVICE_NAME}"),
        // A string attribute is `key="value"` (telemetrygen's `--telemetry-attributes`); the kubelet
        // expands `$(RUN_ID)` from the container's environment.
        format!("--telemetry-attributes={RUN_ATTRIBUTE}=\"$(RUN_ID)\""),
    ];
    if profile.sampling.percentage < 100.0 {
        args.push("--telemetry-attributes=sampling.priority=1".to_owned());
    }
    args
}

/// The smoke-test Job: telemetrygen sends to `otlp`, then the checker asks `query`.
///
/// # Errors
/// [`Error::Model`] ([`model::Error::Invalid`]) when a Service lacks the port the Job uses.
pub fn smoke_test(profile: &Profile, otlp: &Service, query: &Service) -> Result<SmokeTest, Error> {
    let spec = &profile.smoke_test;
    let ns = profile.namespace.as_str();
    let collector_version = profile.collector.version.0.to_string();
    let run_id = k8s::env_from_field("RUN_ID", "metadata.uid");
    let telemetrygen =
        format!("{}:v{collector_version}", spec.telemetrygen_image.as_deref().unwrap_or(TELEMETRYGEN_IMAGE));
    let mut sender = k8s::container(
        SENDER,
        &telemetrygen,
        send_args(profile, &address(otlp, "otlp-grpc")?),
        &resources(50, 32, 200, 128),
    );
    sender.security_context = Some(k8s::restricted_container_as(TELEMETRYGEN_UID, TELEMETRYGEN_UID));
    sender.env = Some(vec![run_id.clone()]);

    let curl = format!("{}:{CURL_VERSION}", spec.curl_image.as_deref().unwrap_or(CURL_IMAGE));
    let mut checker =
        k8s::container(CHECKER, &curl, vec!["-c".to_owned(), CHECK_SCRIPT.to_owned()], &resources(10, 16, 100, 32));
    checker.command = Some(vec!["/bin/sh".to_owned()]);
    checker.security_context = Some(k8s::restricted_container_as(CURL_UID, CURL_GID));
    checker.env = Some(vec![
        k8s::env("JAEGER_QUERY_URL", &format!("http://{}", address(query, "http-query")?)),
        k8s::env("SERVICE", SERVICE_NAME),
        k8s::env("RUN_ATTRIBUTE", RUN_ATTRIBUTE),
        run_id,
        k8s::env("EXPECTED", &spec.traces.to_string()),
        k8s::env("LIMIT", &(u64::from(spec.traces) * 2).to_string()),
        k8s::env("ATTEMPTS", &ATTEMPTS.to_string()),
        k8s::env("WINDOW_SECONDS", &WINDOW_SECONDS.to_string()),
    ]);
    checker.volume_mounts =
        Some(vec![VolumeMount { name: "tmp".into(), mount_path: "/tmp".into(), ..VolumeMount::default() }]);

    let labels = k8s::labels(JOB, "smoke-test", &collector_version);
    let job = Job {
        metadata: k8s::meta(JOB, ns, &labels),
        spec: Some(JobSpec {
            // A retry is a new pod with a new UID, so it sends its own traces again.
            backoff_limit: Some(1),
            // Sending takes seconds; the checker polls for two minutes after it.
            active_deadline_seconds: Some(480),
            ttl_seconds_after_finished: Some(3600),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(labels), ..ObjectMeta::default() }),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".into()),
                    automount_service_account_token: Some(false),
                    security_context: Some(k8s::restricted_pod_as(CURL_UID, CURL_GID)),
                    init_containers: Some(vec![sender]),
                    containers: vec![checker],
                    volumes: Some(vec![Volume {
                        name: "tmp".into(),
                        empty_dir: Some(EmptyDirVolumeSource {
                            size_limit: Some(k8s_openapi::apimachinery::pkg::api::resource::Quantity("16Mi".into())),
                            ..EmptyDirVolumeSource::default()
                        }),
                        ..Volume::default()
                    }]),
                    ..PodSpec::default()
                }),
            },
            ..JobSpec::default()
        }),
        ..Job::default()
    };
    Ok(SmokeTest { job })
}

fn pod_spec(job: &Job) -> Option<&PodSpec> {
    job.spec.as_ref().and_then(|s| s.template.spec.as_ref())
}

/// The literal environment of the checker container.
#[must_use]
pub fn env_of(job: &Job) -> BTreeMap<String, String> {
    pod_spec(job)
        .and_then(|p| p.containers.first())
        .and_then(|c| c.env.as_ref())
        .map(|env| env.iter().filter_map(|e| Some((e.name.clone(), e.value.clone()?))).collect())
        .unwrap_or_default()
}

/// The sender (init container).
#[must_use]
pub fn sender(job: &Job) -> Option<&Container> {
    pod_spec(job).and_then(|p| p.init_containers.as_ref()).and_then(|c| c.first())
}

/// The checker.
#[must_use]
pub fn checker(job: &Job) -> Option<&Container> {
    pod_spec(job).and_then(|p| p.containers.first())
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
        sender(job).and_then(|c| c.args.clone()).unwrap_or_default()
    }

    #[test]
    fn sender_targets_the_otlp_service_with_the_collector_version_of_telemetrygen() {
        let stack = stack(|p| p.smoke_test.traces = 7);
        let job = &stack.smoke_test.job;
        let container = sender(job).expect("sender");
        assert_eq!(
            container.image.as_deref(),
            Some("ghcr.io/open-telemetry/opentelemetry-collector-contrib/telemetrygen:v0.159.0")
        );
        assert_eq!(
            args(job),
            [
                "traces",
                "--otlp-endpoint=otlp.observability.svc:4317",
                "--otlp-insecure",
                "--traces=7",
                "--service=tracestack-smoke",
                "--telemetry-attributes=tracestack.smoke.run=\"$(RUN_ID)\""
            ]
        );
        let check = env_of(job);
        assert_eq!(check["JAEGER_QUERY_URL"], "http://jaeger-query.observability.svc:16686");
        assert_eq!(check["EXPECTED"], "7");
        assert_eq!(check["RUN_ATTRIBUTE"], "tracestack.smoke.run");
    }

    #[test]
    fn sender_and_checker_share_the_pod_uid_as_the_run() {
        let stack = stack(|_| {});
        let job = &stack.smoke_test.job;
        let run_id = |c: &Container| {
            c.env
                .iter()
                .flatten()
                .find(|e| e.name == "RUN_ID")
                .and_then(|e| e.value_from.as_ref())
                .and_then(|v| v.field_ref.as_ref())
                .map(|f| f.field_path.clone())
        };
        assert_eq!(run_id(sender(job).expect("sender")).as_deref(), Some("metadata.uid"));
        assert_eq!(run_id(checker(job).expect("checker")).as_deref(), Some("metadata.uid"));
        // The sender runs first and alone: an init container, so the checker starts once it is done.
        let pod = pod_spec(job).expect("pod");
        assert_eq!(pod.init_containers.as_ref().map(Vec::len), Some(1));
        assert_eq!(pod.containers.len(), 1);
    }

    #[test]
    fn sampled_profiles_mark_smoke_spans_to_be_kept() {
        let stack = stack(|p| p.sampling.percentage = 10.0);
        assert!(args(&stack.smoke_test.job).contains(&"--telemetry-attributes=sampling.priority=1".to_owned()));
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
            .env("RUN_ATTRIBUTE", RUN_ATTRIBUTE)
            .env("RUN_ID", "4f1c2d3e-0000-4000-8000-000000000001")
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
        assert!(
            out.contains(
                "PASS: 3 traces of tracestack-smoke run 4f1c2d3e-0000-4000-8000-000000000001 arrived in Jaeger"
            ),
            "{out}"
        );
        let requests = seen.lock().expect("lock").clone();
        assert!(requests.iter().any(|r| r.starts_with("GET /api/services ")), "{requests:?}");
        // Only this run's traces: the tag filter carries the pod's UID.
        assert!(
            requests.iter().any(|r| r.starts_with(
                "GET /api/traces?service=tracestack-smoke&tag=tracestack.smoke.run:4f1c2d3e-0000-4000-8000-000000000001&start="
            ) && r.contains("&limit=10 ")),
            "{requests:?}"
        );
    }

    #[test]
    fn checker_fails_naming_what_it_found_when_traces_are_missing() {
        let (url, _) = fake_jaeger(THREE_TRACES);
        let Some((ok, out)) = run_check(&url, 4) else { return };
        assert!(!ok, "{out}");
        assert!(out.contains("attempt 1/1: Jaeger returned 3 of 4 traces of tracestack-smoke run 4f1c2d3e-"), "{out}");
        assert!(out.contains(r#"services Jaeger knows: {"data":["tracestack-smoke"]"#), "{out}");
        assert!(
            out.contains(
                "FAIL: expected 4 traces of tracestack-smoke run 4f1c2d3e-0000-4000-8000-000000000001 (span attribute \
                 tracestack.smoke.run), found 3"
            ),
            "{out}"
        );
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
    fn the_job_is_bounded_and_restricted() {
        let stack = stack(|_| {});
        let job = &stack.smoke_test.job;
        let spec = job.spec.as_ref().unwrap();
        assert!(spec.backoff_limit.is_some() && spec.active_deadline_seconds.is_some());
        assert!(spec.ttl_seconds_after_finished.is_some());
        let pod = spec.template.spec.as_ref().unwrap();
        assert_eq!(pod.automount_service_account_token, Some(false));
        for container in [sender(job).expect("sender"), checker(job).expect("checker")] {
            let sc = container.security_context.as_ref().unwrap();
            assert_eq!(sc.run_as_non_root, Some(true));
            assert_eq!(sc.read_only_root_filesystem, Some(true));
            assert_eq!(sc.allow_privilege_escalation, Some(false));
            assert!(sc.run_as_user.is_some_and(|uid| uid > 0));
        }
    }
}
