//! The Deployment shape shared by the collector gateway and every Jaeger role: one config file
//! mounted read-only, restricted security, health probes, spread over zones and nodes, a config
//! hash on the pod template so that a config change rolls the pods, and — when the plan says so —
//! an HPA and a PodDisruptionBudget.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscaler,
    HorizontalPodAutoscalerBehavior, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, ContainerPort, EmptyDirVolumeSource, EnvVar, PodSpec, PodTemplateSpec,
    ServiceAccount, TopologySpreadConstraint, Volume, VolumeMount,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::config::k8s::{self, Object};
use crate::model::plan::WorkloadPlan;

/// Annotation on the pod template holding a hash of the mounted config.
pub const CONFIG_HASH_ANNOTATION: &str = "checksum/config";

/// Everything that differs between the stack's workloads.
#[derive(Clone, Debug)]
pub struct WorkloadSpec<'a> {
    /// Deployment and ConfigMap name.
    pub name: &'a str,
    /// `app.kubernetes.io/name`.
    pub app: &'a str,
    /// `app.kubernetes.io/component`.
    pub component: &'a str,
    /// Namespace.
    pub namespace: &'a str,
    /// `app.kubernetes.io/version` and image tag.
    pub version: String,
    /// Full image reference.
    pub image: String,
    /// Replicas, resources and autoscaling.
    pub plan: &'a WorkloadPlan,
    /// Directory the ConfigMap is mounted at.
    pub config_dir: &'a str,
    /// File name of the config within it (also the ConfigMap key).
    pub config_file: &'a str,
    /// The config file's text.
    pub config_text: String,
    /// Container ports; one must be named `health`.
    pub ports: Vec<ContainerPort>,
    /// Environment.
    pub env: Vec<EnvVar>,
    /// Further volumes and where they are mounted.
    pub volumes: Vec<(Volume, VolumeMount)>,
    /// Path of the health endpoint on the `health` port.
    pub health_path: &'a str,
    /// ServiceAccount the pods run as.
    pub service_account: &'a str,
    /// Whether the pods need the API server token.
    pub api_access: bool,
    /// PriorityClass of the pods.
    pub priority_class_name: Option<&'a str>,
    /// Seconds a terminating pod gets to flush its batches and drain its queue.
    pub termination_grace_seconds: i64,
    /// Containers that run to completion before the main one starts, and the volumes only they use.
    pub init_containers: Vec<k8s_openapi::api::core::v1::Container>,
    /// Volumes only the init containers mount.
    pub init_volumes: Vec<Volume>,
}

/// A workload's objects.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// The mounted config.
    pub config_map: ConfigMap,
    /// The pods.
    pub deployment: Deployment,
    /// Scales the Deployment between the plan's bounds, when they differ.
    pub autoscaler: Option<HorizontalPodAutoscaler>,
    /// Keeps all but one pod up during voluntary disruptions, when there are at least two.
    pub disruption_budget: Option<PodDisruptionBudget>,
}

impl Workload {
    /// The objects in apply order (ConfigMap first, so pods find it).
    #[must_use]
    pub fn into_objects(self) -> Vec<Object> {
        let mut objects = vec![Object::from(self.config_map), Object::from(self.deployment)];
        objects.extend(self.autoscaler.map(Object::from));
        objects.extend(self.disruption_budget.map(Object::from));
        objects
    }
}

/// A ServiceAccount for an app; its token is not mounted unless a pod asks for it.
#[must_use]
pub fn service_account(name: &str, app: &str, component: &str, namespace: &str, version: &str) -> ServiceAccount {
    ServiceAccount {
        metadata: k8s::meta(name, namespace, &k8s::labels(app, component, version)),
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    }
}

/// Spread pods over zones and nodes. `ScheduleAnyway` keeps a small or single-zone cluster
/// schedulable: the constraint ranks nodes rather than blocking pods.
fn spread(selector: &BTreeMap<String, String>) -> Vec<TopologySpreadConstraint> {
    ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
        .into_iter()
        .map(|key| TopologySpreadConstraint {
            max_skew: 1,
            topology_key: key.to_owned(),
            when_unsatisfiable: "ScheduleAnyway".to_owned(),
            label_selector: Some(LabelSelector { match_labels: Some(selector.clone()), match_expressions: None }),
            ..TopologySpreadConstraint::default()
        })
        .collect()
}

fn autoscaler(spec: &WorkloadSpec<'_>, labels: &BTreeMap<String, String>) -> Option<HorizontalPodAutoscaler> {
    let targets = spec.plan.autoscaling?;
    let metric = |name: &str, percent: u32| MetricSpec {
        type_: "Resource".into(),
        resource: Some(ResourceMetricSource {
            name: name.to_owned(),
            target: MetricTarget {
                type_: "Utilization".into(),
                average_utilization: Some(i32::try_from(percent).unwrap_or(100)),
                ..MetricTarget::default()
            },
        }),
        ..MetricSpec::default()
    };
    Some(HorizontalPodAutoscaler {
        metadata: k8s::meta(spec.name, spec.namespace, labels),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: spec.name.to_owned(),
            },
            min_replicas: Some(i32::try_from(spec.plan.min_replicas).unwrap_or(i32::MAX)),
            max_replicas: i32::try_from(spec.plan.max_replicas).unwrap_or(i32::MAX),
            metrics: Some(vec![metric("cpu", targets.cpu_percent), metric("memory", targets.memory_percent)]),
            // Scale down one pod a minute after five quiet minutes: each pod holds a queue and
            // in-flight batches, and traffic often returns.
            behavior: Some(HorizontalPodAutoscalerBehavior {
                scale_down: Some(HPAScalingRules {
                    stabilization_window_seconds: Some(300),
                    policies: Some(vec![HPAScalingPolicy { type_: "Pods".into(), value: 1, period_seconds: 60 }]),
                    select_policy: None,
                    ..HPAScalingRules::default()
                }),
                scale_up: None,
            }),
        }),
        ..HorizontalPodAutoscaler::default()
    })
}

/// The ConfigMap and pod template of a workload: what a Deployment and a DaemonSet share.
#[must_use]
pub fn pod(spec: &WorkloadSpec<'_>) -> (ConfigMap, PodTemplateSpec) {
    let labels = k8s::labels(spec.app, spec.component, &spec.version);
    let selector = k8s::selector(spec.app, spec.component);
    let config_map = ConfigMap {
        metadata: k8s::meta(spec.name, spec.namespace, &labels),
        data: Some(BTreeMap::from([(spec.config_file.to_owned(), spec.config_text.clone())])),
        ..ConfigMap::default()
    };
    let mut volumes = vec![
        Volume {
            name: "config".into(),
            config_map: Some(ConfigMapVolumeSource { name: spec.name.to_owned(), ..ConfigMapVolumeSource::default() }),
            ..Volume::default()
        },
        // The images declare /tmp as a volume; with a read-only root file system it must be one.
        Volume {
            name: "tmp".into(),
            empty_dir: Some(EmptyDirVolumeSource {
                size_limit: Some(k8s_openapi::apimachinery::pkg::api::resource::Quantity("64Mi".into())),
                ..EmptyDirVolumeSource::default()
            }),
            ..Volume::default()
        },
    ];
    let mut mounts = vec![
        VolumeMount {
            name: "config".into(),
            mount_path: spec.config_dir.to_owned(),
            read_only: Some(true),
            ..VolumeMount::default()
        },
        VolumeMount { name: "tmp".into(), mount_path: "/tmp".into(), ..VolumeMount::default() },
    ];
    for (volume, mount) in spec.volumes.iter().cloned() {
        volumes.push(volume);
        mounts.push(mount);
    }
    for volume in &spec.init_volumes {
        if !volumes.iter().any(|v| v.name == volume.name) {
            volumes.push(volume.clone());
        }
    }
    let mut container = k8s::container(
        spec.app,
        &spec.image,
        vec![format!("--config={}/{}", spec.config_dir, spec.config_file)],
        &spec.plan.resources,
    );
    container.ports = Some(spec.ports.clone());
    container.env = (!spec.env.is_empty()).then(|| spec.env.clone());
    container.volume_mounts = Some(mounts);
    container.readiness_probe = Some(k8s::http_probe(spec.health_path, "health", 5, 3));
    container.liveness_probe = Some(k8s::http_probe(spec.health_path, "health", 10, 6));
    container.startup_probe = Some(k8s::http_probe(spec.health_path, "health", 2, 30));
    let annotations = BTreeMap::from([(
        CONFIG_HASH_ANNOTATION.to_owned(),
        k8s::content_hash(&[spec.config_file, &spec.config_text]),
    )]);
    let template = PodTemplateSpec {
        metadata: Some(ObjectMeta { labels: Some(labels), annotations: Some(annotations), ..ObjectMeta::default() }),
        spec: Some(PodSpec {
            service_account_name: Some(spec.service_account.to_owned()),
            automount_service_account_token: Some(spec.api_access),
            security_context: Some(k8s::restricted_pod()),
            priority_class_name: spec.priority_class_name.map(str::to_owned),
            termination_grace_period_seconds: Some(spec.termination_grace_seconds),
            topology_spread_constraints: (spec.plan.max_replicas > 1).then(|| spread(&selector)),
            init_containers: (!spec.init_containers.is_empty()).then(|| spec.init_containers.clone()),
            containers: vec![container],
            volumes: Some(volumes),
            ..PodSpec::default()
        }),
    };
    (config_map, template)
}

/// Builds the objects of one workload.
#[must_use]
pub fn build(spec: WorkloadSpec<'_>) -> Workload {
    let labels = k8s::labels(spec.app, spec.component, &spec.version);
    let selector = k8s::selector(spec.app, spec.component);
    let (config_map, template) = pod(&spec);
    let autoscaler = autoscaler(&spec, &labels);
    let disruption_budget = (spec.plan.min_replicas >= 2).then(|| PodDisruptionBudget {
        metadata: k8s::meta(spec.name, spec.namespace, &labels),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector { match_labels: Some(selector.clone()), match_expressions: None }),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    });
    let deployment = Deployment {
        metadata: k8s::meta(spec.name, spec.namespace, &labels),
        spec: Some(DeploymentSpec {
            // With an HPA the count is left to it: a GitOps re-apply must not reset a scaled-out
            // Deployment to its minimum.
            replicas: autoscaler.is_none().then(|| i32::try_from(spec.plan.min_replicas).unwrap_or(i32::MAX)),
            revision_history_limit: Some(5),
            selector: LabelSelector { match_labels: Some(selector.clone()), match_expressions: None },
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                // Never below the declared capacity during a rollout.
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: Some(IntOrString::Int(1)),
                    max_unavailable: Some(IntOrString::Int(0)),
                }),
            }),
            template,
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    };
    Workload { config_map, deployment, autoscaler, disruption_budget }
}
