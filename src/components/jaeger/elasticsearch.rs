//! Elasticsearch index lifecycle: Jaeger's own `jaeger-es-index-cleaner` and `jaeger-es-rollover`
//! tools (same version as Jaeger), run as CronJobs — and, with rollover, as an init container of
//! the collector role so the write aliases exist before the first span is written.
//!
//! Tool usage (jaegertracing/jaeger `cmd/es-index-cleaner`, `cmd/es-rollover`): the cleaner takes
//! `<days> <url>`, the rollover tool `init|rollover|lookback <url>`; both read their flags from
//! upper-case environment variables (`INDEX_PREFIX`, `ES_USERNAME`, `ES_TLS_CA`, `ES_USE_ILM`,
//! `ES_ILM_POLICY_NAME` — viper's `es.use-ilm` and `es.ilm-policy-name`, `cmd/es-rollover/app/flags.go`).
//!
//! With a lifecycle policy (`lifecycle.policy`), only the init runs: the cluster's ILM (or, with
//! Jaeger ≥ 2.20, OpenSearch's ISM) policy rolls the write alias over and deletes old indices.

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Container, EmptyDirVolumeSource, EnvVar, PodSpec, PodTemplateSpec, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::NAME;
use crate::config::k8s::{self, Object};
use crate::model::profile::{CpuMemory, ElasticsearchSpec, LifecycleMode, Profile, Resources, SearchEngine};
use crate::value::quantity::Quantity;

/// `app.kubernetes.io/component` of the maintenance pods.
pub const COMPONENT: &str = "es-maintenance";
/// Where the tools find the Elasticsearch CA bundle.
const CA_DIR: &str = "/etc/es-ca";

/// The lifecycle objects of an Elasticsearch-backed stack.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lifecycle {
    /// Scheduled maintenance: the index cleaner, and with rollover the rollover and lookback jobs.
    pub cron_jobs: Vec<CronJob>,
    /// With rollover: creates the index templates and aliases before Jaeger's collector starts.
    pub init_container: Option<Container>,
    /// Volumes the maintenance containers mount.
    pub volumes: Vec<Volume>,
    /// With a lifecycle policy: the policy the cluster must hold before Jaeger starts (tracestack
    /// renders no object for it; the runbook shows how to create it).
    pub policy: Option<Policy>,
}

/// A lifecycle policy the cluster holds: Elasticsearch ILM or OpenSearch ISM.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// The policy's name (`ES_ILM_POLICY_NAME` of the init container).
    pub name: String,
    /// Which engine's API takes it.
    pub engine: SearchEngine,
    /// The API path that creates it: `_ilm/policy/<name>` or `_plugins/_ism/policies/<name>`.
    pub path: String,
    /// The request body.
    pub body: serde_json::Value,
}

/// The policy for `es`: roll the write alias over after `rollover_max_age`, delete an index
/// `retention_days` after (ILM: after its rollover; ISM: after its creation). ISM attaches
/// itself to the rollover indices through `ism_template`; ILM through the index templates that
/// `jaeger-es-rollover init` installs.
fn policy(engine: SearchEngine, es: &ElasticsearchSpec, name: &str) -> Policy {
    let age = &es.lifecycle.rollover_max_age;
    let retention = format!("{}d", es.lifecycle.retention_days);
    let (path, body) = match engine {
        SearchEngine::Elasticsearch => (
            format!("_ilm/policy/{name}"),
            serde_json::json!({
                "policy": {
                    "phases": {
                        "hot": { "min_age": "0ms", "actions": { "rollover": { "max_age": age } } },
                        "delete": { "min_age": retention, "actions": { "delete": {} } }
                    }
                }
            }),
        ),
        SearchEngine::Opensearch => {
            let patterns: Vec<String> = ["span", "service", "dependencies"]
                .iter()
                .map(|kind| format!("{}-jaeger-{kind}-*", es.index_prefix))
                .collect();
            (
                format!("_plugins/_ism/policies/{name}"),
                serde_json::json!({
                    "policy": {
                        "description": "Jaeger indices: roll over, then delete after the retention",
                        "default_state": "hot",
                        "states": [
                            {
                                "name": "hot",
                                "actions": [{ "rollover": { "min_index_age": age } }],
                                "transitions": [{ "state_name": "delete", "conditions": { "min_index_age": retention } }]
                            },
                            { "name": "delete", "actions": [{ "delete": {} }], "transitions": [] }
                        ],
                        "ism_template": [{ "index_patterns": patterns, "priority": 100 }]
                    }
                }),
            )
        }
    };
    Policy { name: name.to_owned(), engine, path, body }
}

impl Lifecycle {
    /// The CronJobs (the init container belongs to the collector role's Deployment).
    #[must_use]
    pub fn into_objects(self) -> Vec<Object> {
        self.cron_jobs.into_iter().map(Object::from).collect()
    }
}

fn small() -> Resources {
    let q = |s: &str| Quantity::parse(s).unwrap_or_else(|_| unreachable!("built-in quantity {s}"));
    Resources {
        requests: CpuMemory { cpu: q("50m"), memory: q("64Mi") },
        limits: CpuMemory { cpu: q("200m"), memory: q("128Mi") },
    }
}

fn env(es: &ElasticsearchSpec) -> Vec<EnvVar> {
    let mut env = vec![k8s::env("INDEX_PREFIX", &es.index_prefix)];
    if let Some(c) = &es.credentials {
        env.push(k8s::env_from_secret("ES_USERNAME", &c.secret, &c.username_key));
        env.push(k8s::env_from_secret("ES_PASSWORD", &c.secret, &c.password_key));
    }
    if let Some(ca) = &es.ca {
        env.push(k8s::env("ES_TLS_ENABLED", "true"));
        env.push(k8s::env("ES_TLS_CA", &format!("{CA_DIR}/{}", ca.key)));
    }
    env
}

fn volumes(es: &ElasticsearchSpec) -> Vec<Volume> {
    let mut volumes =
        vec![Volume { name: "tmp".into(), empty_dir: Some(EmptyDirVolumeSource::default()), ..Volume::default() }];
    if let Some(ca) = &es.ca {
        volumes.push(k8s::secret_volume("es-ca", &ca.secret, &[(&ca.key, &ca.key)], CA_DIR).0);
    }
    volumes
}

fn tool(name: &str, image: String, args: Vec<String>, mut env: Vec<EnvVar>, es: &ElasticsearchSpec) -> Container {
    let mut c = k8s::container(name, &image, args, &small());
    env.extend(self::env(es));
    c.env = Some(env);
    let mut mounts = vec![VolumeMount { name: "tmp".into(), mount_path: "/tmp".into(), ..VolumeMount::default() }];
    if es.ca.is_some() {
        mounts.push(VolumeMount {
            name: "es-ca".into(),
            mount_path: CA_DIR.into(),
            read_only: Some(true),
            ..VolumeMount::default()
        });
    }
    c.volume_mounts = Some(mounts);
    c
}

fn cron_job(profile: &Profile, es: &ElasticsearchSpec, name: &str, schedule: &str, container: Container) -> CronJob {
    let version = profile.jaeger.version.0.to_string();
    let labels = k8s::labels(NAME, COMPONENT, &version);
    CronJob {
        metadata: k8s::meta(name, &profile.namespace, &labels),
        spec: Some(CronJobSpec {
            schedule: schedule.to_owned(),
            time_zone: Some("Etc/UTC".into()),
            concurrency_policy: Some("Forbid".into()),
            starting_deadline_seconds: Some(600),
            successful_jobs_history_limit: Some(1),
            failed_jobs_history_limit: Some(3),
            job_template: JobTemplateSpec {
                metadata: None,
                spec: Some(JobSpec {
                    backoff_limit: Some(3),
                    active_deadline_seconds: Some(900),
                    template: PodTemplateSpec {
                        metadata: Some(ObjectMeta { labels: Some(labels), ..ObjectMeta::default() }),
                        spec: Some(PodSpec {
                            restart_policy: Some("OnFailure".into()),
                            service_account_name: Some(NAME.into()),
                            automount_service_account_token: Some(false),
                            security_context: Some(k8s::restricted_pod()),
                            priority_class_name: profile.security.priority_class_name.clone(),
                            containers: vec![container],
                            volumes: Some(volumes(es)),
                            ..PodSpec::default()
                        }),
                    },
                    ..JobSpec::default()
                }),
            },
            ..CronJobSpec::default()
        }),
        ..CronJob::default()
    }
}

/// The lifecycle objects of `profile`; empty without Elasticsearch.
#[must_use]
pub fn lifecycle(profile: &Profile) -> Lifecycle {
    let Some((engine, es)) = profile.jaeger.storage.search() else {
        return Lifecycle::default();
    };
    let version = profile.jaeger.version.0.to_string();
    let url = es.server_urls.first().cloned().unwrap_or_default();
    let days = es.lifecycle.retention_days.to_string();
    let cleaner_image = format!("jaegertracing/jaeger-es-index-cleaner:{version}");
    let rollover_image = format!("jaegertracing/jaeger-es-rollover:{version}");
    let schedule = es.lifecycle.schedule.as_str();
    match es.lifecycle.mode {
        LifecycleMode::Daily => Lifecycle {
            cron_jobs: vec![cron_job(
                profile,
                es,
                "jaeger-es-index-cleaner",
                schedule,
                tool("es-index-cleaner", cleaner_image, vec![days, url], Vec::new(), es),
            )],
            init_container: None,
            volumes: volumes(es),
            policy: None,
        },
        LifecycleMode::Rollover if es.lifecycle.policy.is_some() => {
            // The cluster's ILM/ISM policy rolls over and deletes: no CronJobs. The init installs
            // templates naming the policy (`ES_USE_ILM`), checks the policy exists and creates
            // the first index with its read and write aliases (the write alias as write index).
            let policy = es.lifecycle.policy.clone().unwrap_or_default();
            let init = tool(
                "es-rollover-init",
                rollover_image,
                vec!["init".into(), url],
                vec![
                    k8s::env("SHARDS", &es.shards.to_string()),
                    k8s::env("REPLICAS", &es.replicas.to_string()),
                    k8s::env("ES_USE_ILM", "true"),
                    k8s::env("ES_ILM_POLICY_NAME", &policy),
                ],
                es,
            );
            Lifecycle {
                cron_jobs: Vec::new(),
                init_container: Some(init),
                volumes: volumes(es),
                policy: Some(self::policy(engine, es, &policy)),
            }
        }
        LifecycleMode::Rollover => {
            let conditions = format!("{{\"max_age\": \"{}\"}}", es.lifecycle.rollover_max_age);
            let init = tool(
                "es-rollover-init",
                rollover_image.clone(),
                vec!["init".into(), url.clone()],
                vec![k8s::env("SHARDS", &es.shards.to_string()), k8s::env("REPLICAS", &es.replicas.to_string())],
                es,
            );
            Lifecycle {
                cron_jobs: vec![
                    cron_job(
                        profile,
                        es,
                        "jaeger-es-rollover",
                        // Hourly: the condition decides when a new index starts.
                        "15 * * * *",
                        tool(
                            "es-rollover",
                            rollover_image.clone(),
                            vec!["rollover".into(), url.clone()],
                            vec![k8s::env("CONDITIONS", &conditions)],
                            es,
                        ),
                    ),
                    cron_job(
                        profile,
                        es,
                        "jaeger-es-lookback",
                        schedule,
                        tool(
                            "es-lookback",
                            rollover_image,
                            vec!["lookback".into(), url.clone()],
                            vec![k8s::env("UNIT", "days"), k8s::env("UNIT_COUNT", &days)],
                            es,
                        ),
                    ),
                    cron_job(
                        profile,
                        es,
                        "jaeger-es-index-cleaner",
                        schedule,
                        tool(
                            "es-index-cleaner",
                            cleaner_image,
                            vec![days, url],
                            vec![k8s::env("ROLLOVER", "true")],
                            es,
                        ),
                    ),
                ],
                init_container: Some(init),
                volumes: volumes(es),
                policy: None,
            }
        }
    }
}
