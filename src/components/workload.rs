//! The Deployment + ConfigMap shape shared by the collector gateway and every Jaeger role: one
//! config file mounted read-only, restricted security, health probes, and a config hash on the pod
//! template so that a config change rolls the pods.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, ContainerPort, EmptyDirVolumeSource, EnvVar, PodSpec, PodTemplateSpec,
    ServiceAccount, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::k8s;
use crate::profile::Resources;

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
    /// Pod count.
    pub replicas: u32,
    /// Container resources.
    pub resources: &'a Resources,
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
}

/// A workload's ConfigMap and Deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// The mounted config.
    pub config_map: ConfigMap,
    /// The pods.
    pub deployment: Deployment,
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

/// Builds the ConfigMap and Deployment of one workload.
#[must_use]
pub fn build(spec: WorkloadSpec<'_>) -> Workload {
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
    for (volume, mount) in spec.volumes {
        volumes.push(volume);
        mounts.push(mount);
    }
    let mut container = k8s::container(
        spec.app,
        &spec.image,
        vec![format!("--config={}/{}", spec.config_dir, spec.config_file)],
        spec.resources,
    );
    container.ports = Some(spec.ports);
    container.env = (!spec.env.is_empty()).then_some(spec.env);
    container.volume_mounts = Some(mounts);
    container.readiness_probe = Some(k8s::http_probe(spec.health_path, "health", 5, 3));
    container.liveness_probe = Some(k8s::http_probe(spec.health_path, "health", 10, 6));
    container.startup_probe = Some(k8s::http_probe(spec.health_path, "health", 2, 30));
    let annotations = BTreeMap::from([(
        CONFIG_HASH_ANNOTATION.to_owned(),
        k8s::content_hash(&[spec.config_file, &spec.config_text]),
    )]);
    let deployment = Deployment {
        metadata: k8s::meta(spec.name, spec.namespace, &labels),
        spec: Some(DeploymentSpec {
            replicas: Some(i32::try_from(spec.replicas).unwrap_or(i32::MAX)),
            revision_history_limit: Some(5),
            selector: LabelSelector { match_labels: Some(selector), match_expressions: None },
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                // Never below the declared capacity during a rollout.
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: Some(IntOrString::Int(1)),
                    max_unavailable: Some(IntOrString::Int(0)),
                }),
            }),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    annotations: Some(annotations),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    service_account_name: Some(spec.service_account.to_owned()),
                    automount_service_account_token: Some(spec.api_access),
                    security_context: Some(k8s::restricted_pod()),
                    containers: vec![container],
                    volumes: Some(volumes),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    };
    Workload { config_map, deployment }
}
