//! The per-profile runbook (`README.md`): a typed [`Context`] read off a built [`Stack`] — names,
//! ports, labels, images and Secrets of the objects actually rendered — and one minijinja
//! template (`src/format/templates/runbook.md.j2`, compiled once by `format::prose`) that turns it into prose and commands.
//!
//! Nothing the runbook names is typed into the template: every object name, port, label and
//! image comes from the stack, so the commands always match what is applied.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Container, PodSpec, Service};
use serde::Serialize;

use crate::components::jaeger::{self as jaeger_component, RoleKind};
use crate::components::parts::ApplySet;
use crate::components::smoke_test;
use crate::config::collector::jaeger::{Backend, MetricBackend};
use crate::config::collector::{Exporter, Extension, Processor};
use crate::config::prometheus::metric;
use crate::format::Error;
use crate::format::prose::{code_span, markdown_text, shell_word};
use crate::model::profile::SearchEngine;
use crate::stack::Stack;

/// The runbook's file name in the profile's output directory.
pub const FILE: &str = "README.md";

/// Everything the runbook template reads.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Context {
    /// What the profile says the stack is for.
    pub description: String,
    /// The stack's namespace.
    pub namespace: String,
    /// The rendered file holding the Namespace.
    pub namespace_file: String,
    /// Where Jaeger keeps traces.
    pub storage: Storage,
    /// Secrets the stack reads but does not create, to create before applying.
    pub secrets: Vec<SecretNeed>,
    /// Every Deployment, in rollout order (Jaeger before the gateway that sends to it).
    pub deployments: Vec<DeploymentInfo>,
    /// The collector gateway.
    pub gateway: GatewayInfo,
    /// Jaeger.
    pub jaeger: JaegerInfo,
    /// The smoke-test Job.
    pub smoke: SmokeInfo,
    /// Prometheus Operator objects and alerts, when enabled.
    pub monitoring: Option<MonitoringInfo>,
    /// Self-metric names the troubleshooting recipes grep for.
    pub metrics: MetricNames,
    /// How the bundles are applied and pruned.
    pub apply: ApplyInfo,
    /// With an operator output: the resources and what the operator makes of them.
    pub operator: Option<OperatorInfo>,
}

/// The apply and prune method: server-side apply as one field manager, each bundle one ApplySet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApplyInfo {
    /// `--field-manager`.
    pub field_manager: &'static str,
    /// The root bundle's ApplySet (its parent Secret's name).
    pub root: &'static str,
    /// The smoke test's ApplySet.
    pub smoke: &'static str,
}

/// An operator output.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OperatorInfo {
    /// `opentelemetry-operator` or `jaeger-operator`.
    pub kind: &'static str,
    /// The resources: kind and name.
    pub resources: Vec<(String, String)>,
    /// `kubectl get` resource names of the resources (`opentelemetrycollector/otel`).
    pub get: Vec<String>,
}

/// Jaeger's storage.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Storage {
    /// `memory`, `badger`, `elasticsearch`, `opensearch` or `clickhouse`.
    pub kind: &'static str,
    /// The in-memory trace limit.
    pub max_traces: Option<u64>,
    /// Elasticsearch or OpenSearch URLs, ClickHouse addresses.
    pub server_urls: Vec<String>,
    /// The product name, for prose (`Elasticsearch`, `OpenSearch`, …).
    pub title: &'static str,
    /// Badger: the claim, the mount path, the span TTL.
    pub badger: Option<BadgerInfo>,
    /// ClickHouse: database, TTL, schema creation, feature gate.
    pub clickhouse: Option<ClickhouseInfo>,
    /// The index cleaner CronJob (Elasticsearch, OpenSearch).
    pub cleaner: Option<String>,
    /// The cluster's lifecycle policy, when it rolls the aliases over (Elasticsearch, OpenSearch).
    pub policy: Option<PolicyInfo>,
}

/// An ILM or ISM policy the cluster must hold, and the init container that checks it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyInfo {
    /// The policy's name.
    pub name: String,
    /// `ILM` (Elasticsearch) or `ISM` (OpenSearch).
    pub api: &'static str,
    /// The URL that creates it: the first server URL and the API path.
    pub url: String,
    /// The request body, pretty-printed JSON.
    pub body: String,
    /// The init container of the writer that installs the templates and the first index.
    pub init: String,
}

impl Storage {
    fn memory(max_traces: Option<u64>) -> Self {
        Self {
            kind: "memory",
            max_traces,
            server_urls: Vec::new(),
            title: "memory",
            badger: None,
            clickhouse: None,
            cleaner: None,
            policy: None,
        }
    }
}

/// Badger's volume, as rendered.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BadgerInfo {
    /// The PersistentVolumeClaim.
    pub claim: String,
    /// Where the pod mounts it.
    pub dir: String,
    /// Span time-to-live.
    pub ttl: String,
}

/// ClickHouse, as rendered.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClickhouseInfo {
    /// The database.
    pub database: String,
    /// The span TTL, when Jaeger sets one.
    pub ttl: Option<String>,
    /// Whether the collector role creates the schema.
    pub create_schema: bool,
    /// The feature gate the Deployments pass, when the pinned Jaeger needs one.
    pub gate: Option<String>,
}

/// A Secret the stack mounts or reads, and how to create it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SecretNeed {
    /// Secret name (in the stack's namespace).
    pub name: String,
    /// Its keys and what reads them.
    pub keys: Vec<SecretKeyUse>,
    /// `kubectl create secret generic` arguments after the name, one per key, each one shell word:
    /// a value read as an environment variable comes from the shell variable of that name, a file
    /// from `$SECRETS_DIR`, a directory outside the repository the reader chooses.
    pub from: Vec<String>,
}

/// One key of a needed Secret.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SecretKeyUse {
    /// The key.
    pub key: String,
    /// `environment variable` or `file`.
    pub read_as: &'static str,
    /// The variable's name or the file's path.
    pub name: String,
    /// The Deployments that read it.
    pub deployments: Vec<String>,
}

/// One workload (a Deployment, or the node agents' DaemonSet).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeploymentInfo {
    /// `kubectl`'s short resource name: `deploy` or `daemonset`.
    pub kind: &'static str,
    /// Name.
    pub name: String,
    /// What it does, in a few words.
    pub role: String,
    /// Pods: the Deployment's count, or `min–max` when an autoscaler owns the count (the
    /// Deployment then omits `replicas`).
    pub replicas: String,
    /// Image reference.
    pub image: String,
    /// Container name.
    pub container: String,
    /// Its pods' selector as `kubectl -l` text (`k=v,k=v`).
    pub selector: String,
}

/// The gateway.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GatewayInfo {
    /// Deployment name.
    pub deployment: String,
    /// Container name.
    pub container: String,
    /// Pod selector as `kubectl -l` text.
    pub selector: String,
    /// ConfigMap with the config.
    pub config_map: String,
    /// The Service applications send to.
    pub service: String,
    /// OTLP/gRPC port.
    pub grpc_port: i32,
    /// OTLP/HTTP port.
    pub http_port: i32,
    /// Self-metrics port.
    pub metrics_port: i32,
    /// Id of the exporter towards Jaeger, e.g. `otlp_grpc/jaeger`.
    pub exporter: String,
    /// Where it sends.
    pub exporter_endpoint: String,
    /// Its queue capacity (spans).
    pub queue_size: u64,
    /// `memory_limiter` hard limit.
    pub memory_limit_mib: u32,
    /// Largest batch sent to Jaeger.
    pub send_batch_max_size: u32,
    /// Share of traces kept when the gateway samples (percent, as text), else `None`.
    pub sampling_percentage: Option<String>,
    /// Its ServiceAccount.
    pub service_account: String,
    /// Whether it reads pods from the API server (`k8s_attributes`).
    pub k8s_attributes: bool,
    /// What its ClusterRole lets it watch, as `kubectl auth can-i` names them (`pods`,
    /// `replicasets.apps`).
    pub watches: Vec<String>,
}

/// Jaeger.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JaegerInfo {
    /// Deployment receiving spans from the gateway and writing them.
    pub writer: String,
    /// Deployment serving the UI and query API.
    pub reader: String,
    /// Container name (every role).
    pub container: String,
    /// The UI Service.
    pub query_service: String,
    /// Its HTTP port.
    pub query_port: i32,
    /// Service the gateway sends to.
    pub collector_service: String,
    /// Self-metrics port.
    pub metrics_port: i32,
    /// Span-metrics port on the writer, when RED metrics are on.
    pub span_metrics_port: Option<i32>,
    /// The Prometheus the UI's Monitor tab reads, when wired.
    pub monitor_tab: Option<String>,
    /// The Monitor tab reads Jaeger's Elasticsearch/OpenSearch storage itself.
    pub monitor_storage: bool,
}

/// The smoke test.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SmokeInfo {
    /// Kustomization directory.
    pub dir: String,
    /// The Job.
    pub job: String,
    /// Its sender (init) container.
    pub sender: String,
    /// Its checker container.
    pub checker: String,
    /// Service name of the traces.
    pub service_name: String,
    /// The span attribute that carries the run (the pod's UID).
    pub run_attribute: String,
    /// Traces sent and expected.
    pub traces: String,
    /// Sender image.
    pub send_image: String,
    /// Checker image.
    pub check_image: String,
    /// Whether the traces carry `sampling.priority=1` to pass the gateway's sampler.
    pub forced_sampling: bool,
}

/// Monitoring objects and alerts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MonitoringInfo {
    /// PodMonitor names.
    pub pod_monitors: Vec<String>,
    /// PrometheusRule name.
    pub rule: String,
    /// CRDs the cluster needs (`podmonitors.monitoring.coreos.com` …).
    pub crds: Vec<String>,
    /// Extra labels on those objects, `k=v`.
    pub labels: Vec<String>,
    /// Every alert.
    pub alerts: Vec<AlertInfo>,
    /// RED thresholds, when span metrics are on.
    pub red: Option<RedInfo>,
}

/// RED alert thresholds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RedInfo {
    /// Default error share, as a percentage text.
    pub error_ratio: String,
    /// Default p99 latency.
    pub p99_latency: String,
    /// Requests per second below which a service never alerts.
    pub min_request_rate: String,
    /// Services with their own thresholds (`None`: the default applies).
    pub services: Vec<RedServiceInfo>,
}

/// One service's RED thresholds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RedServiceInfo {
    /// `service.name`.
    pub name: String,
    /// Its error share, as a percentage text.
    pub error_ratio: Option<String>,
    /// Its p99 latency.
    pub p99_latency: Option<String>,
}

/// One alert.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertInfo {
    /// Alert name.
    pub name: String,
    /// `severity` label.
    pub severity: String,
    /// `for` duration.
    pub for_: String,
    /// Its summary annotation with Prometheus template fields replaced by plain words.
    pub summary: String,
}

/// Metric names used in recipes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricNames {
    /// Receiver refusals.
    pub receiver_refused: &'static str,
    /// Memory-limiter refusals.
    pub processor_refused: &'static str,
    /// Exporter give-ups.
    pub send_failed: &'static str,
    /// Queue-full drops.
    pub enqueue_failed: &'static str,
    /// Queue fill.
    pub queue_size: &'static str,
    /// Queue capacity.
    pub queue_capacity: &'static str,
    /// Delivered spans.
    pub sent: &'static str,
    /// Received spans.
    pub accepted: &'static str,
    /// Span-metric call counter.
    pub span_calls: &'static str,
    /// Jaeger's failed Elasticsearch bulk requests.
    pub es_bulk_failed_requests: &'static str,
    /// Documents Elasticsearch refused in Jaeger's bulk requests.
    pub es_bulk_failed_documents: &'static str,
}

fn pod_spec(deployment: &Deployment) -> Option<&PodSpec> {
    deployment.spec.as_ref().and_then(|s| s.template.spec.as_ref())
}

fn first_container(deployment: &Deployment) -> Option<&Container> {
    pod_spec(deployment).and_then(|p| p.containers.first())
}

fn container_port(deployment: &Deployment, name: &str) -> i32 {
    first_container(deployment)
        .and_then(|c| c.ports.as_ref())
        .and_then(|ports| ports.iter().find(|p| p.name.as_deref() == Some(name)))
        .map_or(0, |p| p.container_port)
}

fn service_port(service: &Service, name: &str) -> i32 {
    service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .and_then(|ports| ports.iter().find(|p| p.name.as_deref() == Some(name)))
        .map_or(0, |p| p.port)
}

fn name_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

fn selector_text(deployment: &Deployment) -> String {
    deployment
        .spec
        .as_ref()
        .and_then(|s| s.selector.match_labels.as_ref())
        .map(|labels| labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","))
        .unwrap_or_default()
}

fn deployment_info(
    deployment: &Deployment,
    autoscaler: Option<&HorizontalPodAutoscaler>,
    role: &str,
) -> DeploymentInfo {
    let container = first_container(deployment);
    DeploymentInfo {
        kind: "deploy",
        name: name_of(&deployment.metadata),
        role: role.to_owned(),
        replicas: match autoscaler.and_then(|a| a.spec.as_ref()) {
            Some(hpa) => format!("{}–{}", hpa.min_replicas.unwrap_or(1), hpa.max_replicas),
            None => deployment.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).to_string(),
        },
        image: container.and_then(|c| c.image.clone()).unwrap_or_default(),
        container: container.map(|c| c.name.clone()).unwrap_or_default(),
        selector: selector_text(deployment),
    }
}

/// How one Secret key is read.
struct KeyRead {
    read_as: &'static str,
    name: String,
    deployments: Vec<String>,
    /// Read as an environment variable (else as a file).
    env: Option<String>,
}

/// The `.gitignore` rendered beside the runbook.
pub const GITIGNORE: &str = ".gitignore";

/// The lifecycle policy of the stack, with the URL that creates it on the first server.
fn policy_info(stack: &Stack, server_urls: &[String]) -> Option<PolicyInfo> {
    let policy = stack.lifecycle.policy.as_ref()?;
    let base = server_urls.first().map(|u| u.trim_end_matches('/')).unwrap_or_default();
    Some(PolicyInfo {
        name: policy.name.clone(),
        api: match policy.engine {
            SearchEngine::Elasticsearch => "ILM",
            SearchEngine::Opensearch => "ISM",
        },
        url: format!("{base}/{}", policy.path),
        body: serde_json::to_string_pretty(&policy.body).unwrap_or_default(),
        init: stack.lifecycle.init_container.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
    })
}

/// A `.gitignore` for the profile's output directory, which is committed: the runbook reads
/// credentials from outside it, and this keeps a credential file saved here by mistake (the key
/// names of the stack's Secrets, keys and certificates) out of the repository.
#[must_use]
pub fn gitignore(context: &Context) -> String {
    let mut names: Vec<String> =
        ["*.key", "*.pem", "*.crt", "*.p12", "*.pfx", "*.jks", ".env", "*.env", "password", "username", "token"]
            .map(str::to_owned)
            .to_vec();
    for key in context.secrets.iter().flat_map(|s| &s.keys) {
        // A key is a Secret key (letters, digits, `-`, `_`, `.`), so it is a literal pattern.
        let pattern = format!("/{}", key.key);
        if !names.contains(&key.key) && !names.contains(&pattern) {
            names.push(pattern);
        }
    }
    format!(
        "# Credential files never belong here: this directory is committed, and the runbook reads them\n# from $SECRETS_DIR, outside the repository.\n{}\n",
        names.join("\n")
    )
}

/// Whether `name` is a shell variable name (letters, digits, `_`, not starting with a digit).
fn is_shell_variable(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Secrets read by the Deployments' pods, from `secretKeyRef` env vars and `secret` volumes.
fn secrets(deployments: &[&Deployment]) -> Vec<SecretNeed> {
    let mut found: BTreeMap<String, BTreeMap<String, KeyRead>> = BTreeMap::new();
    for deployment in deployments {
        let name = name_of(&deployment.metadata);
        let Some(pod) = pod_spec(deployment) else { continue };
        let mut record = |secret: &str, key: &str, (read_as, what): (&'static str, String), env: Option<String>| {
            let entry = found.entry(secret.to_owned()).or_default().entry(key.to_owned()).or_insert(KeyRead {
                read_as,
                name: what,
                deployments: Vec::new(),
                env,
            });
            if !entry.deployments.contains(&name) {
                entry.deployments.push(name.clone());
            }
        };
        for container in &pod.containers {
            for env in container.env.iter().flatten() {
                if let Some(r) = env.value_from.as_ref().and_then(|v| v.secret_key_ref.as_ref()) {
                    record(&r.name, &r.key, ("environment variable", env.name.clone()), Some(env.name.clone()));
                }
            }
            for volume in pod.volumes.iter().flatten() {
                let Some(secret) = &volume.secret else { continue };
                let mount = container.volume_mounts.iter().flatten().find(|m| m.name == volume.name);
                let dir = mount.map(|m| m.mount_path.clone()).unwrap_or_default();
                for item in secret.items.iter().flatten() {
                    record(
                        secret.secret_name.as_deref().unwrap_or_default(),
                        &item.key,
                        ("file", format!("{dir}/{}", item.path)),
                        None,
                    );
                }
            }
        }
    }
    found
        .into_iter()
        .map(|(name, keys)| {
            // Each argument is one shell word: the key is quoted as a word of its own, followed by
            // an expansion in double quotes. Values come from outside the rendered directory, so a
            // credential file never sits beside files that are committed.
            let from = keys
                .iter()
                .map(|(key, read)| match read.env.as_deref().filter(|v| is_shell_variable(v)) {
                    // The value of an environment variable: passed from the same-named shell variable.
                    Some(var) => Ok(format!("{}\"${var}\"", shell_word(&format!("--from-literal={key}="))?)),
                    // A mounted file: read from `$SECRETS_DIR`, which must be set, out of shell history.
                    None => Ok(format!(
                        "{}\"${{SECRETS_DIR:?}}\"/{}",
                        shell_word(&format!("--from-file={key}="))?,
                        shell_word(key)?
                    )),
                })
                .collect::<Result<Vec<String>, String>>()
                .unwrap_or_default();
            let keys = keys
                .into_iter()
                .map(|(key, read)| SecretKeyUse {
                    key,
                    read_as: read.read_as,
                    name: read.name,
                    deployments: read.deployments,
                })
                .collect();
            SecretNeed { name, keys, from }
        })
        .collect()
}

/// A share (0–1) as a percentage text, e.g. `5 %`.
fn percent(ratio: f64) -> String {
    format!("{} %", crate::config::prometheus::number((ratio * 10000.0).round() / 100.0))
}

/// `{{ $labels.x }}` and `{{ $value | … }}` as italic words (`_x_`, `_value_`), the rest as
/// escaped Markdown (a summary carries service names from the profile): text between a pair of
/// backticks as a code span, everything else as text. Both escape what they hold, so an odd or
/// stray backtick in a name changes only how the summary looks.
fn plain_summary(text: &str) -> String {
    let literal = |piece: &str| -> String {
        let parts: Vec<&str> = piece.split('`').collect();
        if parts.len().is_multiple_of(2) {
            return markdown_text(piece);
        }
        parts
            .iter()
            .enumerate()
            .map(|(i, part)| if i % 2 == 1 { code_span(part) } else { markdown_text(part) })
            .collect()
    };
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&literal(&rest[..start]));
        let Some(end) = rest[start..].find("}}") else { break };
        let inner = rest[start + 2..start + end].trim();
        let word = inner
            .strip_prefix("$labels.")
            .map(|l| format!("_{}_", markdown_text(l)))
            .unwrap_or_else(|| if inner.starts_with("$value") { "_value_".into() } else { markdown_text(inner) });
        out.push_str(&word);
        rest = &rest[start + end + 2..];
    }
    out.push_str(&literal(rest));
    out
}

impl Context {
    /// Reads the context off a built stack.
    #[must_use]
    pub fn from_stack(stack: &Stack) -> Self {
        let namespace = name_of(&stack.namespace.metadata);
        let gw = &stack.gateway;
        let exporter =
            gw.config.exporters.iter().find(|(id, _)| id.name() == Some("jaeger") || id.name() == Some("sampler"));
        let (exporter_id, endpoint, queue_size) = match exporter {
            Some((id, Exporter::OtlpGrpc(e) | Exporter::Otlp(e))) => {
                (id.to_string(), e.endpoint.clone(), e.sending_queue.as_ref().map_or(0, |q| q.queue_size))
            }
            Some((id, Exporter::LoadBalancing(e))) => {
                let target = match (&e.resolver.dns, &e.resolver.k8s) {
                    (Some(dns), _) => format!("{}:{}", dns.hostname, dns.port),
                    (None, Some(k8s)) => k8s.service.clone(),
                    (None, None) => String::new(),
                };
                (id.to_string(), target, e.sending_queue.as_ref().map_or(0, |q| q.queue_size))
            }
            Some((id, _)) => (id.to_string(), String::new(), 0),
            None => (String::new(), String::new(), 0),
        };
        let mut memory_limit_mib = 0;
        let mut send_batch_max_size = 0;
        let mut sampling_percentage = None;
        let mut k8s_attributes = false;
        for processor in gw.config.processors.values() {
            match processor {
                Processor::MemoryLimiter(m) => memory_limit_mib = m.limit_mib,
                Processor::Batch(b) => send_batch_max_size = b.send_batch_max_size,
                Processor::ProbabilisticSampler(p) => {
                    sampling_percentage = Some(crate::config::prometheus::number(p.sampling_percentage));
                }
                Processor::K8sAttributes(_) | Processor::K8sAttributesLegacy(_) => k8s_attributes = true,
                Processor::Resource(_) | Processor::TailSampling(_) => {}
            }
        }
        let gateway =
            GatewayInfo {
                deployment: name_of(&gw.deployment.metadata),
                container: first_container(&gw.deployment).map(|c| c.name.clone()).unwrap_or_default(),
                selector: selector_text(&gw.deployment),
                config_map: name_of(&gw.config_map.metadata),
                service: name_of(&gw.service.metadata),
                grpc_port: service_port(&gw.service, "otlp-grpc"),
                http_port: service_port(&gw.service, "otlp-http"),
                metrics_port: container_port(&gw.deployment, "metrics"),
                exporter: exporter_id,
                exporter_endpoint: endpoint,
                queue_size,
                memory_limit_mib,
                send_batch_max_size,
                sampling_percentage,
                service_account: gw
                    .deployment
                    .spec
                    .as_ref()
                    .and_then(|s| s.template.spec.as_ref())
                    .and_then(|s| s.service_account_name.clone())
                    .unwrap_or_else(|| "default".into()),
                k8s_attributes,
                watches: gw
                    .cluster_role
                    .iter()
                    .flat_map(|role| role.rules.iter().flatten())
                    .filter(|rule| rule.verbs.iter().any(|v| v == "watch"))
                    .flat_map(|rule| {
                        let groups = rule.api_groups.clone().unwrap_or_default();
                        let resources = rule.resources.clone().unwrap_or_default();
                        resources
                            .iter()
                            .flat_map(|resource| {
                                groups.iter().map(move |g| {
                                    if g.is_empty() { resource.clone() } else { format!("{resource}.{g}") }
                                })
                            })
                            .collect::<Vec<_>>()
                    })
                    .collect(),
            };

        let roles = &stack.jaeger.roles;
        let writer = roles.iter().find(|r| r.kind.receives());
        let reader = roles.iter().find(|r| r.kind.serves_ui());
        let storage = roles
            .iter()
            .find_map(|r| {
                r.config.extensions.values().find_map(|e| match e {
                    Extension::JaegerStorage(s) => s.backends.values().next().cloned(),
                    _ => None,
                })
            })
            .map_or(Storage::memory(None), |b| {
                let cleaner = stack
                    .lifecycle
                    .cron_jobs
                    .iter()
                    .map(|c| name_of(&c.metadata))
                    .find(|n| n.ends_with("index-cleaner"));
                let gate = writer
                    .and_then(|r| first_container(&r.deployment))
                    .and_then(|c| c.args.as_ref())
                    .and_then(|args| args.iter().find_map(|a| a.strip_prefix("--feature-gates=")))
                    .map(str::to_owned);
                let claim = stack.jaeger.volume_claim.as_ref().map(|c| name_of(&c.metadata)).unwrap_or_default();
                match b {
                    Backend::Memory(m) => Storage::memory(Some(m.max_traces)),
                    Backend::Badger(badger) => Storage {
                        kind: "badger",
                        title: "Badger",
                        badger: Some(BadgerInfo {
                            claim,
                            dir: jaeger_component::BADGER_DIR.into(),
                            ttl: badger.ttl.spans.to_string(),
                        }),
                        ..Storage::memory(None)
                    },
                    Backend::Elasticsearch(es) => Storage {
                        kind: "elasticsearch",
                        title: "Elasticsearch",
                        server_urls: es.server_urls.clone(),
                        cleaner,
                        policy: policy_info(stack, &es.server_urls),
                        ..Storage::memory(None)
                    },
                    Backend::Opensearch(os) => Storage {
                        kind: "opensearch",
                        title: "OpenSearch",
                        server_urls: os.server_urls.clone(),
                        cleaner,
                        policy: policy_info(stack, &os.server_urls),
                        ..Storage::memory(None)
                    },
                    Backend::Clickhouse(ch) => Storage {
                        kind: "clickhouse",
                        title: "ClickHouse",
                        server_urls: ch.addresses.clone(),
                        clickhouse: Some(ClickhouseInfo {
                            database: ch.database.clone(),
                            ttl: ch.ttl.map(|t| t.to_string()),
                            create_schema: ch.create_schema,
                            gate,
                        }),
                        ..Storage::memory(None)
                    },
                }
            });
        let writer_deployment = writer.map(|r| &r.deployment);
        let span_metrics_port =
            writer_deployment.map(|d| container_port(d, jaeger_component::SPAN_METRICS_PORT)).filter(|port| *port != 0);
        let jaeger = JaegerInfo {
            writer: writer.map(|r| name_of(&r.deployment.metadata)).unwrap_or_default(),
            reader: reader.map(|r| name_of(&r.deployment.metadata)).unwrap_or_default(),
            container: writer_deployment.and_then(first_container).map(|c| c.name.clone()).unwrap_or_default(),
            query_service: name_of(&stack.jaeger.query_service.metadata),
            query_port: service_port(&stack.jaeger.query_service, "http-query"),
            collector_service: name_of(&stack.jaeger.collector_service.metadata),
            // Jaeger v1 (under the Jaeger Operator) serves its metrics on the admin port.
            metrics_port: writer_deployment.map_or(0, |d| match container_port(d, jaeger_component::METRICS_PORT) {
                0 => container_port(d, "admin-http"),
                port => port,
            }),
            span_metrics_port,
            monitor_storage: reader.is_some_and(|r| {
                r.config.extensions.values().any(|e| {
                    matches!(e, Extension::JaegerStorage(s) if s.metric_backends.values().any(|b| matches!(b, MetricBackend::Elasticsearch(_) | MetricBackend::Opensearch(_))))
                })
            }),
            monitor_tab: reader.and_then(|r| {
                r.config.extensions.values().find_map(|e| match e {
                    Extension::JaegerStorage(s) => s.metric_backends.values().next().and_then(|b| match b {
                        MetricBackend::Prometheus(p) => Some(p.endpoint.clone()),
                        MetricBackend::Elasticsearch(_) | MetricBackend::Opensearch(_) => None,
                    }),
                    _ => None,
                })
            }),
        };

        let mut deployments: Vec<DeploymentInfo> = roles
            .iter()
            .map(|r| {
                let role = match r.kind {
                    RoleKind::AllInOne => "Jaeger all-in-one: receives, stores and serves the UI",
                    RoleKind::Collector => "Jaeger collector role: receives OTLP, writes to storage",
                    RoleKind::Query => "Jaeger query role: UI and query API",
                };
                deployment_info(&r.deployment, r.autoscaler.as_ref(), role)
            })
            .collect();
        if let Some(sampler) = &stack.sampler {
            deployments.push(deployment_info(
                &sampler.deployment,
                None,
                "tail-sampling tier: decides on whole traces, writes the kept ones to Jaeger",
            ));
        }
        deployments.push(deployment_info(
            &gw.deployment,
            gw.autoscaler.as_ref(),
            "collector gateway: receives OTLP from applications",
        ));
        if let Some(agents) = &stack.agents {
            let template = agents.daemon_set.spec.as_ref().map(|s| &s.template);
            let container = template.and_then(|t| t.spec.as_ref()).and_then(|p| p.containers.first());
            deployments.push(DeploymentInfo {
                kind: "daemonset",
                name: name_of(&agents.daemon_set.metadata),
                role: "node agents: one per node, receive OTLP from the node's applications".into(),
                replicas: "one per node".into(),
                image: container.and_then(|c| c.image.clone()).unwrap_or_default(),
                container: container.map(|c| c.name.clone()).unwrap_or_default(),
                selector: agents
                    .daemon_set
                    .spec
                    .as_ref()
                    .and_then(|s| s.selector.match_labels.as_ref())
                    .map(|l| l.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","))
                    .unwrap_or_default(),
            });
        }

        let mut readers: Vec<&Deployment> = roles.iter().map(|r| &r.deployment).collect();
        readers.push(&gw.deployment);

        let job = &stack.smoke_test.job;
        let check_env = smoke_test::env_of(job);
        let sender = smoke_test::sender(job);
        let checker = smoke_test::checker(job);
        let image =
            |c: Option<&k8s_openapi::api::core::v1::Container>| c.and_then(|c| c.image.clone()).unwrap_or_default();
        let send_args = sender.and_then(|c| c.args.clone()).unwrap_or_default();
        let smoke = SmokeInfo {
            dir: smoke_test::DIR.into(),
            job: name_of(&job.metadata),
            sender: sender.map(|c| c.name.clone()).unwrap_or_default(),
            checker: checker.map(|c| c.name.clone()).unwrap_or_default(),
            service_name: check_env.get("SERVICE").cloned().unwrap_or_default(),
            run_attribute: check_env.get("RUN_ATTRIBUTE").cloned().unwrap_or_default(),
            traces: check_env.get("EXPECTED").cloned().unwrap_or_default(),
            send_image: image(sender),
            check_image: image(checker),
            forced_sampling: send_args.iter().any(|a| a.contains("sampling.priority")),
        };

        let monitoring = stack.monitoring.as_ref().map(|m| {
            let customs = [&m.collector_monitor, &m.jaeger_monitor, &m.rule];
            let mut crds: Vec<String> = customs
                .iter()
                .map(|c| {
                    let group = c.api_version.split('/').next().unwrap_or_default();
                    format!("{}s.{group}", c.kind.to_ascii_lowercase())
                })
                .collect();
            crds.dedup();
            let own = crate::config::k8s::labels("", "", "");
            let labels = m
                .rule
                .metadata
                .labels
                .iter()
                .flatten()
                .filter(|(k, _)| !own.contains_key(*k))
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            MonitoringInfo {
                pod_monitors: [&m.collector_monitor, &m.jaeger_monitor]
                    .into_iter()
                    .chain(&m.tier_monitors)
                    .map(|c| name_of(&c.metadata))
                    .collect(),
                rule: name_of(&m.rule.metadata),
                crds,
                labels,
                alerts: m
                    .rules
                    .spec
                    .groups
                    .iter()
                    .flat_map(|g| &g.rules)
                    .map(|r| AlertInfo {
                        name: r.alert.clone(),
                        severity: r.labels.get("severity").cloned().unwrap_or_default(),
                        for_: r.for_.clone(),
                        summary: plain_summary(r.annotations.get("summary").map_or("", String::as_str)),
                    })
                    .collect(),
                red: m.red.as_ref().map(|red| RedInfo {
                    error_ratio: percent(red.error_ratio),
                    p99_latency: crate::config::prometheus::duration(red.p99_latency),
                    min_request_rate: crate::config::prometheus::number(red.min_request_rate),
                    services: red
                        .services
                        .iter()
                        .map(|(name, t)| RedServiceInfo {
                            name: name.clone(),
                            error_ratio: t.error_ratio.map(percent),
                            p99_latency: t.p99_latency.map(crate::config::prometheus::duration),
                        })
                        .collect(),
                }),
            }
        });

        Self {
            description: stack.description.clone(),
            namespace_file: crate::components::parts::file_name_of(
                stack.namespace.metadata.name.as_deref().unwrap_or_default(),
                <k8s_openapi::api::core::v1::Namespace as k8s_openapi::Resource>::KIND,
            ),
            namespace,
            storage,
            secrets: secrets(&readers),
            deployments,
            gateway,
            jaeger,
            smoke,
            monitoring,
            operator: stack.operator.as_ref().map(|o| OperatorInfo {
                kind: if o.gateway { "opentelemetry-operator" } else { "jaeger-operator" },
                resources: o.resources.iter().map(|r| (r.kind.to_owned(), name_of(&r.metadata))).collect(),
                get: o
                    .resources
                    .iter()
                    .map(|r| format!("{}/{}", r.kind.to_ascii_lowercase(), name_of(&r.metadata)))
                    .collect(),
            }),
            metrics: MetricNames {
                receiver_refused: metric::RECEIVER_REFUSED_SPANS,
                processor_refused: metric::PROCESSOR_REFUSED_SPANS,
                send_failed: metric::EXPORTER_SEND_FAILED_SPANS,
                enqueue_failed: metric::EXPORTER_ENQUEUE_FAILED_SPANS,
                queue_size: metric::EXPORTER_QUEUE_SIZE,
                queue_capacity: metric::EXPORTER_QUEUE_CAPACITY,
                sent: metric::EXPORTER_SENT_SPANS,
                accepted: metric::RECEIVER_ACCEPTED_SPANS,
                span_calls: metric::SPAN_CALLS,
                es_bulk_failed_requests: metric::ES_BULK_FAILED_REQUESTS,
                es_bulk_failed_documents: metric::ES_BULK_FAILED_DOCUMENTS,
            },
            apply: ApplyInfo {
                field_manager: ApplySet::FIELD_MANAGER,
                root: ApplySet::ROOT,
                smoke: ApplySet::SMOKE_TEST,
            },
        }
    }
}

/// Renders the runbook.
///
/// # Errors
/// [`Error::Template`] when the template does not compile or reads a field the context lacks.
pub fn render(context: &Context) -> Result<String, Error> {
    Ok(tidy(&crate::format::prose::markdown(crate::format::prose::Template::Runbook, context)?))
}

/// Collapses runs of blank lines the template's conditionals leave, so the Markdown reads clean.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::profile::{CredentialsRef, ElasticsearchSpec, Profile, SecretKeyRef, StorageSpec};

    fn context(edit: impl FnOnce(&mut Profile)) -> Context {
        let mut profile = Profile::default();
        edit(&mut profile);
        Context::from_stack(&Stack::build(&profile).unwrap_or_else(|e| panic!("{e}")))
    }

    fn elasticsearch(p: &mut Profile) {
        p.jaeger.storage = StorageSpec::Elasticsearch(Box::new(ElasticsearchSpec {
            shards: 1,
            replicas: 0,
            credentials: Some(CredentialsRef {
                secret: "es-login".into(),
                username_key: "user".into(),
                password_key: "pass".into(),
            }),
            ca: Some(SecretKeyRef { secret: "es-ca".into(), key: "ca.pem".into() }),
            ..ElasticsearchSpec::new(vec!["https://es.search.svc:9200".into()])
        }));
    }

    #[test]
    fn context_is_read_off_the_rendered_objects() {
        let c = context(|p| p.namespace = "tracing".into());
        assert_eq!(c.namespace, "tracing");
        assert_eq!(c.namespace_file, "tracing-namespace.yaml");
        assert_eq!(c.storage, Storage::memory(Some(50_000)));
        assert!(c.secrets.is_empty());
        let names: Vec<&str> = c.deployments.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["jaeger", "otel-collector"]);
        let g = &c.gateway;
        assert_eq!((g.service.as_str(), g.grpc_port, g.http_port, g.metrics_port), ("otlp", 4317, 4318, 8888));
        assert_eq!(g.exporter, "otlp_grpc/jaeger");
        assert_eq!(g.exporter_endpoint, "jaeger-collector.tracing.svc.cluster.local:4317");
        assert_eq!(
            g.selector,
            "app.kubernetes.io/component=gateway,app.kubernetes.io/name=otel-collector,app.kubernetes.io/part-of=tracestack"
        );
        assert_eq!((g.memory_limit_mib, g.queue_size, g.sampling_percentage.clone()), (204, 50_000, None));
        assert_eq!((c.jaeger.writer.as_str(), c.jaeger.reader.as_str()), ("jaeger", "jaeger"));
        assert_eq!((c.jaeger.query_service.as_str(), c.jaeger.query_port), ("jaeger-query", 16686));
        assert_eq!(c.jaeger.span_metrics_port, None);
        assert_eq!((c.smoke.job.as_str(), c.smoke.traces.as_str()), ("tracestack-smoke", "20"));
        assert_eq!((c.smoke.sender.as_str(), c.smoke.checker.as_str()), ("telemetrygen", "check"));
        assert_eq!(c.smoke.run_attribute, "tracestack.smoke.run");
        assert!(c.monitoring.is_none());
    }

    #[test]
    fn secrets_come_from_the_pods_that_read_them() {
        let c = context(elasticsearch);
        let secrets: Vec<(&str, &Vec<String>)> = c.secrets.iter().map(|s| (s.name.as_str(), &s.from)).collect();
        assert_eq!(
            secrets,
            [
                ("es-ca", &vec![r#"--from-file=ca.pem="${SECRETS_DIR:?}"/ca.pem"#.to_owned()]),
                (
                    "es-login",
                    &vec![
                        r#"--from-file=pass="${SECRETS_DIR:?}"/pass"#.to_owned(),
                        r#"--from-literal=user="$ES_USERNAME""#.to_owned()
                    ]
                ),
            ]
        );
        let user = &c.secrets[1].keys[1];
        assert_eq!((user.read_as, user.name.as_str()), ("environment variable", "ES_USERNAME"));
        assert_eq!(user.deployments, ["jaeger-collector", "jaeger-query"]);
        assert_eq!(c.storage.kind, "elasticsearch");
        assert_eq!((c.jaeger.writer.as_str(), c.jaeger.reader.as_str()), ("jaeger-collector", "jaeger-query"));
    }

    #[test]
    fn monitoring_context_lists_alerts_and_red_thresholds() {
        let c = context(|p| {
            p.monitoring.enabled = true;
            p.monitoring.labels.insert("release".into(), "prom".into());
            p.monitoring.red.services.insert(
                "cart".into(),
                crate::model::profile::RedThresholds { error_ratio: Some(0.015), p99_latency: None },
            );
        });
        let m = c.monitoring.expect("monitoring on");
        assert_eq!(m.pod_monitors, ["otel-collector", "jaeger"]);
        assert_eq!(m.crds, ["podmonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com"]);
        assert_eq!(m.labels, ["release=prom"]);
        let red = m.red.expect("red on");
        assert_eq!((red.error_ratio.as_str(), red.p99_latency.as_str()), ("5 %", "1s"));
        assert_eq!(red.services[0].error_ratio.as_deref(), Some("1.5 %"));
        assert!(m.alerts.iter().any(|a| a.summary == "cart fails more than 1.5 % of its requests"));
        assert_eq!(c.jaeger.span_metrics_port, Some(8889));
        assert_eq!(c.jaeger.monitor_tab, None);
        let c = context(|p| {
            p.monitoring.enabled = true;
            p.monitoring.red.prometheus_url = Some("http://prom.mon.svc:9090".into());
        });
        assert_eq!(c.jaeger.monitor_tab.as_deref(), Some("http://prom.mon.svc:9090"));
    }

    #[test]
    fn rendered_runbook_follows_the_profile() {
        let text = render(&context(|p| p.sampling.percentage = 25.0)).expect("renders");
        assert!(text.contains("keeps 25 % of traces (by trace id)"), "{text}");
        assert!(text.contains("The gateway keeps 25 % of traces"), "{text}");
        assert!(text.contains("They also carry `sampling.priority=1`"), "{text}");
        assert!(!text.contains("## Monitoring and alerts"));
        assert!(!text.contains("\n\n\n"), "no runs of blank lines");
        let text = render(&context(elasticsearch)).expect("renders");
        assert!(text.contains(
            r#"kubectl -n observability create secret generic es-login --from-file=pass="${SECRETS_DIR:?}"/pass"#
        ));
        assert!(text.contains("in Elasticsearch (https://es.search.svc:9200)"));
    }

    #[test]
    fn alert_summaries_read_as_words() {
        assert_eq!(
            plain_summary("{{ $labels.pod }} is {{ $value | humanizePercentage }} full"),
            "_pod_ is _value_ full"
        );
        assert_eq!(plain_summary("no fields"), "no fields");
        assert_eq!(plain_summary("no pod in `observability` is up"), "no pod in `observability` is up");
        assert_eq!(plain_summary("cart`; rm -rf / # fails"), r"cart\`; rm -rf / \# fails");
        assert_eq!(plain_summary("a `b|c` d"), r"a `b\|c` d");
    }

    #[test]
    fn hostile_values_stay_one_shell_word_and_escaped_text() {
        let hostile = "x; rm -rf / #$(reboot) `id` 'q' \"d\" | tee";
        let baseline = render(&context(elasticsearch)).expect("render");
        let mut c = context(elasticsearch);
        c.description = "desc\n```sh\nrm -rf /\n```\n# Injected heading\n<script>x</script> [a](javascript:x)".into();
        c.namespace = hostile.into();
        c.deployments[0].name = hostile.into();
        c.secrets[0].name = hostile.into();
        c.storage.server_urls = vec!["https://es:9200/`x`\n# Injected".into()];
        let text = render(&c).expect("render");

        // The document keeps its shape: the same code fences and headings, no line of the input's.
        let marks = |t: &str| t.lines().filter(|l| l.trim_start().starts_with("```") || l.starts_with('#')).count();
        assert_eq!(marks(&text), marks(&baseline), "{text}");
        for line in text.lines() {
            for injected in ["rm -rf", "# Injected", "<script>", "```sh\nrm"] {
                assert!(!line.trim_start().starts_with(injected), "injected line {line:?}");
            }
        }
        assert!(
            text.contains(
                r"desc \`\`\`sh rm -rf / \`\`\` \# Injected heading \<script\>x\</script\> \[a\](javascript:x)"
            ),
            "{text}"
        );

        // Every command parses, and each value is exactly one word.
        let mut seen = 0;
        for line in crate::format::prose::code_block_lines(&text) {
            let words = shlex::split(line).unwrap_or_else(|| panic!("does not parse: {line}"));
            // `YOUR_NAMESPACE` stands for the reader's own namespace.
            if words.first().map(String::as_str) == Some("kubectl")
                && words.get(1).map(String::as_str) == Some("-n")
                && words[2] != "YOUR_NAMESPACE"
            {
                assert_eq!(words[2], hostile, "{line}");
                seen += 1;
            }
            if words.get(3).is_some_and(|w| w == "rollout") && words[5].starts_with("deploy/x") {
                assert_eq!(words[3..], ["rollout", "status", &format!("deploy/{hostile}"), "--timeout=5m"], "{line}");
                seen += 100;
            }
            if line.contains(" create secret generic ") && words[6] == hostile {
                assert!(words[7..].iter().all(|w| w.starts_with("--from-")), "{line}");
            }
        }
        assert!(seen > 110, "{seen}: the hostile Deployment's rollout or the kubectl commands are missing");
        assert!(text.contains(&format!("create secret generic {}", shell_word(hostile).expect("word"))));

        // A line break cannot be one word of a command: rendering refuses it.
        c.namespace = "a\nkubectl delete ns kube-system".into();
        assert!(render(&c).is_err());
    }

    #[test]
    fn autoscaled_deployments_show_their_autoscalers_bounds() {
        let c = context(|p| {
            elasticsearch(p);
            p.load = Some(crate::model::profile::LoadSpec {
                spans_per_second: 20_000,
                average_span_bytes: 1024,
                outage_seconds: 60,
            });
        });
        let replicas: Vec<(&str, &str)> =
            c.deployments.iter().map(|d| (d.name.as_str(), d.replicas.as_str())).collect();
        assert_eq!(replicas, [("jaeger-collector", "3–6"), ("jaeger-query", "2–4"), ("otel-collector", "2–3")]);
        let fixed = context(|_| {});
        assert!(fixed.deployments.iter().all(|d| d.replicas == "1"), "{:?}", fixed.deployments);
        let text = render(&c).expect("render");
        assert!(
            text.contains("| `otel-collector` | collector gateway: receives OTLP from applications | 2–3 |"),
            "{text}"
        );
    }
}
