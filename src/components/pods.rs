//! Applies a profile's pod additions ([`PodExtras`]) to a workload's pod template: one function
//! for every workload (the gateway, each Jaeger role, the jobs), so a workload added later adopts
//! them with one call and the same field in its profile section.

use k8s_openapi::api::core::v1::{
    Affinity, ConfigMapEnvSource, ConfigMapKeySelector, ConfigMapVolumeSource, EmptyDirVolumeSource, EnvFromSource,
    EnvVar, EnvVarSource, LocalObjectReference, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm,
    PodTemplateSpec, PreferredSchedulingTerm, SecretEnvSource, SecretKeySelector, SecretVolumeSource, Toleration,
    Volume, VolumeMount,
};

use crate::check::{External, ObjectRef};
use crate::model::pods::{self, EnvFrom, PodExtras, TolerationOperator, VolumeSource};
use crate::model::profile::Profile;

/// The additions for one workload: its own `pod` over the profile's `pods`, with
/// `security.priority_class_name` as the last fallback for the priority.
#[must_use]
pub fn effective(profile: &Profile, workload: &PodExtras) -> PodExtras {
    let mut extras = workload.over(&profile.pods);
    if extras.priority_class_name.is_none() {
        extras.priority_class_name.clone_from(&profile.security.priority_class_name);
    }
    extras
}

/// What `extras` makes the pods use without rendering it: pull and env Secrets, ConfigMaps, and
/// the PriorityClass, declared external so that the cross-object checks accept exactly those.
#[must_use]
pub fn external(extras: &PodExtras, namespace: &str) -> External {
    let mut external = External::default();
    external.objects.extend(extras.secrets().map(|s| ObjectRef::namespaced("Secret", namespace, s)));
    external.objects.extend(extras.config_maps().map(|c| ObjectRef::namespaced("ConfigMap", namespace, c)));
    external.objects.extend(extras.priority_class_name.iter().map(|p| ObjectRef::cluster("PriorityClass", p)));
    external
}

/// Adds `extras` to a pod template. Labels and annotations the template already has are kept
/// (the profile refuses the ones tracestack sets); env, `envFrom` and mounts go to every
/// container, not the init containers; the registry mirror rewrites every image, init
/// containers' too.
pub fn apply(extras: &PodExtras, template: &mut PodTemplateSpec) {
    let meta = template.metadata.get_or_insert_with(Default::default);
    if !extras.labels.is_empty() {
        let labels = meta.labels.get_or_insert_with(Default::default);
        for (k, v) in &extras.labels {
            labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if !extras.annotations.is_empty() {
        let annotations = meta.annotations.get_or_insert_with(Default::default);
        for (k, v) in &extras.annotations {
            annotations.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let spec = template.spec.get_or_insert_with(Default::default);
    if let Some(tolerations) = extras.tolerations.as_ref().filter(|t| !t.is_empty()) {
        spec.tolerations = Some(
            tolerations
                .iter()
                .map(|t| Toleration {
                    key: t.key.clone(),
                    operator: Some(match t.operator {
                        TolerationOperator::Equal => "Equal".into(),
                        TolerationOperator::Exists => "Exists".into(),
                    }),
                    value: t.value.clone(),
                    effect: t.effect.map(|e| e.as_str().to_owned()),
                    toleration_seconds: t.toleration_seconds,
                })
                .collect(),
        );
    }
    if !extras.node_selector.is_empty() {
        spec.node_selector.get_or_insert_with(Default::default).extend(extras.node_selector.clone());
    }
    if let Some(affinity) = &extras.affinity {
        let requirement = |key: &str, operator: pods::NodeOperator, values: &[String]| NodeSelectorRequirement {
            key: key.to_owned(),
            operator: operator.as_str().to_owned(),
            values: (!values.is_empty()).then(|| values.to_vec()),
        };
        let required = (!affinity.required.is_empty()).then(|| NodeSelector {
            node_selector_terms: vec![NodeSelectorTerm {
                match_expressions: Some(
                    affinity.required.iter().map(|e| requirement(&e.key, e.operator, &e.values)).collect(),
                ),
                match_fields: None,
            }],
        });
        let preferred = (!affinity.preferred.is_empty()).then(|| {
            affinity
                .preferred
                .iter()
                .map(|e| PreferredSchedulingTerm {
                    weight: e.weight,
                    preference: NodeSelectorTerm {
                        match_expressions: Some(vec![requirement(&e.key, e.operator, &e.values)]),
                        match_fields: None,
                    },
                })
                .collect()
        });
        if required.is_some() || preferred.is_some() {
            spec.affinity = Some(Affinity {
                node_affinity: Some(NodeAffinity {
                    required_during_scheduling_ignored_during_execution: required,
                    preferred_during_scheduling_ignored_during_execution: preferred,
                }),
                ..Affinity::default()
            });
        }
    }
    if let Some(priority) = &extras.priority_class_name {
        spec.priority_class_name = Some(priority.clone());
    }
    if let Some(secrets) = extras.image_pull_secrets.as_ref().filter(|s| !s.is_empty()) {
        spec.image_pull_secrets =
            Some(secrets.iter().map(|name| LocalObjectReference { name: name.clone() }).collect());
    }
    if let Some(mirror) = &extras.image_registry {
        for container in spec.containers.iter_mut().chain(spec.init_containers.iter_mut().flatten()) {
            if let Some(image) = &container.image {
                container.image = Some(pods::mirrored(image, mirror));
            }
        }
    }
    let env: Vec<EnvVar> = extras.env.iter().flatten().map(env_var).collect();
    let env_from: Vec<EnvFromSource> = extras.env_from.iter().flatten().map(env_from).collect();
    let mut mounts = Vec::new();
    for volume in extras.volumes.iter().flatten() {
        let mut v = Volume { name: volume.name.clone(), ..Volume::default() };
        match &volume.source {
            VolumeSource::Secret(name) => {
                v.secret =
                    Some(SecretVolumeSource { secret_name: Some(name.clone()), ..SecretVolumeSource::default() });
            }
            VolumeSource::ConfigMap(name) => {
                v.config_map = Some(ConfigMapVolumeSource { name: name.clone(), ..ConfigMapVolumeSource::default() });
            }
            VolumeSource::EmptyDir(size) => {
                v.empty_dir = Some(EmptyDirVolumeSource {
                    size_limit: Some(k8s_openapi::apimachinery::pkg::api::resource::Quantity(size.as_str().to_owned())),
                    ..EmptyDirVolumeSource::default()
                });
            }
        }
        spec.volumes.get_or_insert_with(Vec::new).push(v);
        mounts.push(VolumeMount {
            name: volume.name.clone(),
            mount_path: volume.mount_path.clone(),
            read_only: Some(volume.read_only),
            ..VolumeMount::default()
        });
    }
    for container in &mut spec.containers {
        if !env.is_empty() {
            container.env.get_or_insert_with(Vec::new).extend(env.iter().cloned());
        }
        if !env_from.is_empty() {
            container.env_from.get_or_insert_with(Vec::new).extend(env_from.iter().cloned());
        }
        if !mounts.is_empty() {
            container.volume_mounts.get_or_insert_with(Vec::new).extend(mounts.iter().cloned());
        }
    }
}

fn env_var(var: &pods::EnvVar) -> EnvVar {
    let value_from = if let Some(r) = &var.secret {
        Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector { name: r.name.clone(), key: r.key.clone(), optional: None }),
            ..EnvVarSource::default()
        })
    } else {
        var.config_map.as_ref().map(|r| EnvVarSource {
            config_map_key_ref: Some(ConfigMapKeySelector { name: r.name.clone(), key: r.key.clone(), optional: None }),
            ..EnvVarSource::default()
        })
    };
    EnvVar { name: var.name.clone(), value: var.value.clone(), value_from }
}

fn env_from(from: &EnvFrom) -> EnvFromSource {
    match from {
        EnvFrom::Secret(name) => EnvFromSource {
            secret_ref: Some(SecretEnvSource { name: name.clone(), optional: None }),
            ..EnvFromSource::default()
        },
        EnvFrom::ConfigMap(name) => EnvFromSource {
            config_map_ref: Some(ConfigMapEnvSource { name: name.clone(), optional: None }),
            ..EnvFromSource::default()
        },
    }
}
