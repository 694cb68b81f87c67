//! What a platform team adds to the stack's pods: scheduling (tolerations, node selector,
//! affinity, priority), image pull secrets and a registry mirror, extra labels and annotations,
//! environment and volumes — one typed value, [`PodExtras`], that every workload takes the same
//! way: the profile's `pods` for every pod, each workload's own `pod` over it
//! ([`PodExtras::over`]), applied by one function (`components::pods::apply`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::value::names;
use crate::value::quantity::Quantity;

/// Additions to a workload's pods. In `pods` they apply to every pod of the stack; in a
/// workload's `pod` (`collector.pod`, `jaeger.query.pod`, `smoke_test.pod`, …) each field set
/// replaces the one of `pods`, except `node_selector`, `labels` and `annotations`, which merge by
/// key.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PodExtras {
    /// Taints the pods tolerate, e.g. `[{key: dedicated, operator: Equal, value: observability,
    /// effect: NoSchedule}]`.
    pub tolerations: Option<Vec<Toleration>>,
    /// Node labels the pods require (`nodeSelector`).
    pub node_selector: BTreeMap<String, String>,
    /// Node affinity, beside the built-in spread over zones and nodes.
    pub affinity: Option<Affinity>,
    /// PriorityClass of the pods (an existing one; it is declared external). Overrides
    /// `security.priority_class_name`.
    pub priority_class_name: Option<String>,
    /// Secrets (`kubernetes.io/dockerconfigjson`, in the stack's namespace) the kubelet pulls
    /// the images with.
    pub image_pull_secrets: Option<Vec<String>>,
    /// A registry mirror replacing the registry of every image of the pods, keeping the
    /// repository path, tag and digest: `registry.example.com` turns
    /// `otel/opentelemetry-collector-k8s:0.159.0` into
    /// `registry.example.com/otel/opentelemetry-collector-k8s:0.159.0`. A path is allowed
    /// (`harbor.example.com/dockerhub`).
    pub image_registry: Option<String>,
    /// Extra labels on the pods (not `app.kubernetes.io/…`, which the stack's selectors use).
    pub labels: BTreeMap<String, String>,
    /// Extra annotations on the pods (not `checksum/config`, which rolls them on config changes).
    pub annotations: BTreeMap<String, String>,
    /// Extra environment variables of every container of the pods (not the init containers).
    pub env: Option<Vec<EnvVar>>,
    /// Every key of these Secrets or ConfigMaps as environment variables (`envFrom`).
    pub env_from: Option<Vec<EnvFrom>>,
    /// Extra volumes, mounted into every container of the pods (not the init containers).
    pub volumes: Option<Vec<ExtraVolume>>,
}

/// A taint the pods tolerate.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Toleration {
    /// The taint's key; without it, with `Exists`, every taint is tolerated.
    #[serde(default)]
    pub key: Option<String>,
    /// `Equal` (the default: key and value match) or `Exists` (the key matches, no value).
    #[serde(default)]
    pub operator: TolerationOperator,
    /// The taint's value (with `Equal`).
    #[serde(default)]
    pub value: Option<String>,
    /// The effect tolerated: `NoSchedule`, `PreferNoSchedule` or `NoExecute`; every effect when
    /// unset.
    #[serde(default)]
    pub effect: Option<TaintEffect>,
    /// With `NoExecute`: how long a pod stays on a node after the taint appears.
    #[serde(default)]
    pub toleration_seconds: Option<i64>,
}

/// How a toleration matches a taint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum TolerationOperator {
    /// Key and value match.
    #[default]
    Equal,
    /// The key matches, whatever the value.
    Exists,
}

/// A taint effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum TaintEffect {
    /// New pods are not scheduled there.
    NoSchedule,
    /// New pods are scheduled there only when nothing else fits.
    PreferNoSchedule,
    /// Pods are evicted.
    NoExecute,
}

impl TaintEffect {
    /// The effect as Kubernetes spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoSchedule => "NoSchedule",
            Self::PreferNoSchedule => "PreferNoSchedule",
            Self::NoExecute => "NoExecute",
        }
    }
}

/// Node affinity: labels the nodes must have, and labels preferred.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Affinity {
    /// Every expression must match a node for a pod to run there.
    pub required: Vec<NodeExpression>,
    /// Nodes matching these are preferred, by weight.
    pub preferred: Vec<WeightedNodeExpression>,
}

/// A node label requirement.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeExpression {
    /// The node label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt` or `Lt`.
    pub operator: NodeOperator,
    /// Values: at least one for `In`/`NotIn`, none for `Exists`/`DoesNotExist`, one integer for
    /// `Gt`/`Lt`.
    #[serde(default)]
    pub values: Vec<String>,
}

/// A preferred node label requirement.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightedNodeExpression {
    /// 1–100.
    #[schemars(range(min = 1, max = 100))]
    pub weight: i32,
    /// The node label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt` or `Lt`.
    pub operator: NodeOperator,
    /// Values, as for a required expression.
    #[serde(default)]
    pub values: Vec<String>,
}

/// A node selector operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum NodeOperator {
    /// The label's value is one of `values`.
    In,
    /// The label's value is none of `values`.
    NotIn,
    /// The node has the label.
    Exists,
    /// The node lacks the label.
    DoesNotExist,
    /// The label's value, an integer, is greater than `values[0]`.
    Gt,
    /// The label's value, an integer, is less than `values[0]`.
    Lt,
}

impl NodeOperator {
    /// The operator as Kubernetes spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::In => "In",
            Self::NotIn => "NotIn",
            Self::Exists => "Exists",
            Self::DoesNotExist => "DoesNotExist",
            Self::Gt => "Gt",
            Self::Lt => "Lt",
        }
    }
}

/// An environment variable: exactly one of a literal `value`, a `secret` key or a `config_map`
/// key.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [{"required": ["value"]}, {"required": ["secret"]}, {"required": ["config_map"]}]))]
pub struct EnvVar {
    /// The variable's name (letters, digits and `_`, not starting with a digit).
    pub name: String,
    /// A literal value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// One key of a Secret in the stack's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<KeyRef>,
    /// One key of a ConfigMap in the stack's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<KeyRef>,
}

/// One key of a Secret or ConfigMap.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRef {
    /// The object's name.
    pub name: String,
    /// The key.
    pub key: String,
}

/// All keys of a Secret or ConfigMap as environment variables.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum EnvFrom {
    /// A Secret in the stack's namespace.
    Secret(String),
    /// A ConfigMap in the stack's namespace.
    ConfigMap(String),
}

/// A volume mounted into the pods' containers.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtraVolume {
    /// The volume's name (a DNS-1123 label; not `config` or `tmp`, the stack's own).
    pub name: String,
    /// Where it is mounted (an absolute path).
    pub mount_path: String,
    /// Mounted read-only (default `true`).
    #[serde(default = "yes")]
    #[schemars(default = "yes")]
    pub read_only: bool,
    /// What it holds.
    pub source: VolumeSource,
}

fn yes() -> bool {
    true
}

/// What an extra volume holds: exactly one of these.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum VolumeSource {
    /// A Secret in the stack's namespace.
    Secret(String),
    /// A ConfigMap in the stack's namespace.
    ConfigMap(String),
    /// An empty directory of at most this size (e.g. `256Mi`).
    EmptyDir(Quantity),
}

/// Labels tracestack sets on its pods, which its selectors and change detection rely on.
const RESERVED_LABEL_PREFIX: &str = "app.kubernetes.io/";
/// The annotation that rolls pods when their config changes.
const RESERVED_ANNOTATION: &str = "checksum/config";
/// Volumes every workload of the stack declares.
const RESERVED_VOLUMES: [&str; 2] = ["config", "tmp"];

impl PodExtras {
    /// `self` (a workload's `pod`) over `base` (the profile's `pods`): each field set here
    /// replaces `base`'s; `node_selector`, `labels` and `annotations` merge by key, this one's
    /// value winning.
    #[must_use]
    pub fn over(&self, base: &PodExtras) -> PodExtras {
        let merge = |mine: &BTreeMap<String, String>, theirs: &BTreeMap<String, String>| {
            let mut out = theirs.clone();
            out.extend(mine.iter().map(|(k, v)| (k.clone(), v.clone())));
            out
        };
        PodExtras {
            tolerations: self.tolerations.clone().or_else(|| base.tolerations.clone()),
            node_selector: merge(&self.node_selector, &base.node_selector),
            affinity: self.affinity.clone().or_else(|| base.affinity.clone()),
            priority_class_name: self.priority_class_name.clone().or_else(|| base.priority_class_name.clone()),
            image_pull_secrets: self.image_pull_secrets.clone().or_else(|| base.image_pull_secrets.clone()),
            image_registry: self.image_registry.clone().or_else(|| base.image_registry.clone()),
            labels: merge(&self.labels, &base.labels),
            annotations: merge(&self.annotations, &base.annotations),
            env: self.env.clone().or_else(|| base.env.clone()),
            env_from: self.env_from.clone().or_else(|| base.env_from.clone()),
            volumes: self.volumes.clone().or_else(|| base.volumes.clone()),
        }
    }

    /// Every Secret the pods would read or pull with, by name.
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        let env = self.env.iter().flatten().filter_map(|e| e.secret.as_ref().map(|r| r.name.as_str()));
        let from = self.env_from.iter().flatten().filter_map(|e| match e {
            EnvFrom::Secret(name) => Some(name.as_str()),
            EnvFrom::ConfigMap(_) => None,
        });
        let volumes = self.volumes.iter().flatten().filter_map(|v| match &v.source {
            VolumeSource::Secret(name) => Some(name.as_str()),
            _ => None,
        });
        self.image_pull_secrets.iter().flatten().map(String::as_str).chain(env).chain(from).chain(volumes)
    }

    /// Every ConfigMap the pods would read, by name.
    pub fn config_maps(&self) -> impl Iterator<Item = &str> {
        let env = self.env.iter().flatten().filter_map(|e| e.config_map.as_ref().map(|r| r.name.as_str()));
        let from = self.env_from.iter().flatten().filter_map(|e| match e {
            EnvFrom::ConfigMap(name) => Some(name.as_str()),
            EnvFrom::Secret(_) => None,
        });
        let volumes = self.volumes.iter().flatten().filter_map(|v| match &v.source {
            VolumeSource::ConfigMap(name) => Some(name.as_str()),
            _ => None,
        });
        env.chain(from).chain(volumes)
    }

    /// Checks names, label syntax, taint effects and operators, each problem at `base.field…`.
    pub fn validate(&self, base: &str, err: &mut impl FnMut(&str, String)) {
        for (i, t) in self.tolerations.iter().flatten().enumerate() {
            let at = format!("{base}.tolerations[{i}]");
            if let Some(Err(e)) = t.key.as_deref().map(names::qualified_name) {
                err(&format!("{at}.key"), e);
            }
            match t.operator {
                TolerationOperator::Exists if t.value.is_some() => {
                    err(
                        &format!("{at}.value"),
                        "must be unset with `operator: Exists`, which matches any value".into(),
                    );
                }
                TolerationOperator::Equal if t.key.is_none() => {
                    err(
                        &format!("{at}.key"),
                        "is required with `operator: Equal` (only `Exists` may match every key)".into(),
                    );
                }
                _ => {}
            }
            if let Some(Err(e)) = t.value.as_deref().map(names::label_value) {
                err(&format!("{at}.value"), e);
            }
            if t.toleration_seconds.is_some() && t.effect != Some(TaintEffect::NoExecute) {
                err(&format!("{at}.toleration_seconds"), "applies to `effect: NoExecute` only".into());
            }
        }
        labels(&format!("{base}.node_selector"), &self.node_selector, err);
        if let Some(affinity) = &self.affinity {
            for (i, e) in affinity.required.iter().enumerate() {
                expression(&format!("{base}.affinity.required[{i}]"), &e.key, e.operator, &e.values, err);
            }
            for (i, e) in affinity.preferred.iter().enumerate() {
                let at = format!("{base}.affinity.preferred[{i}]");
                if !(1..=100).contains(&e.weight) {
                    err(&format!("{at}.weight"), format!("must be from 1 to 100 (got {})", e.weight));
                }
                expression(&at, &e.key, e.operator, &e.values, err);
            }
        }
        if let Some(Err(e)) = self.priority_class_name.as_deref().map(names::dns1123_subdomain) {
            err(&format!("{base}.priority_class_name"), e);
        }
        for (i, secret) in self.image_pull_secrets.iter().flatten().enumerate() {
            if let Err(e) = names::dns1123_subdomain(secret) {
                err(&format!("{base}.image_pull_secrets[{i}]"), e);
            }
        }
        if let Some(Err(e)) = self.image_registry.as_deref().map(registry) {
            err(&format!("{base}.image_registry"), e);
        }
        labels(&format!("{base}.labels"), &self.labels, err);
        for key in self.labels.keys().filter(|k| k.starts_with(RESERVED_LABEL_PREFIX)) {
            err(
                &format!("{base}.labels.{key}"),
                format!(
                    "`{key}` is set by tracestack: its Services, policies and budgets select pods by the `{RESERVED_LABEL_PREFIX}` labels"
                ),
            );
        }
        for key in self.annotations.keys() {
            if let Err(e) = names::qualified_name(key) {
                err(&format!("{base}.annotations.{key}"), e);
            } else if key == RESERVED_ANNOTATION {
                err(
                    &format!("{base}.annotations.{key}"),
                    format!("`{key}` is set by tracestack: a hash of the config that rolls the pods when it changes"),
                );
            }
        }
        let mut seen = BTreeMap::new();
        for (i, var) in self.env.iter().flatten().enumerate() {
            let at = format!("{base}.env[{i}]");
            let ident = var.name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && var.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !ident {
                err(
                    &format!("{at}.name"),
                    format!("`{}` must be letters, digits and `_`, not starting with a digit", var.name),
                );
            } else if let Some(first) = seen.insert(var.name.as_str(), i) {
                err(&format!("{at}.name"), format!("`{}` is already set by {base}.env[{first}]", var.name));
            }
            let sources = usize::from(var.value.is_some())
                + usize::from(var.secret.is_some())
                + usize::from(var.config_map.is_some());
            if sources != 1 {
                err(
                    &at,
                    format!(
                        "`{}` must have exactly one of `value`, `secret` or `config_map` (has {sources})",
                        var.name
                    ),
                );
            }
            for (field, r) in [("secret", &var.secret), ("config_map", &var.config_map)] {
                if let Some(r) = r {
                    key_ref(&format!("{at}.{field}"), r, err);
                }
            }
        }
        for (i, from) in self.env_from.iter().flatten().enumerate() {
            let (EnvFrom::Secret(name) | EnvFrom::ConfigMap(name)) = from;
            if let Err(e) = names::dns1123_subdomain(name) {
                err(&format!("{base}.env_from[{i}]"), e);
            }
        }
        let mut seen = BTreeMap::new();
        for (i, volume) in self.volumes.iter().flatten().enumerate() {
            let at = format!("{base}.volumes[{i}]");
            if let Err(e) = names::dns1123_label(&volume.name) {
                err(&format!("{at}.name"), e);
            } else if RESERVED_VOLUMES.contains(&volume.name.as_str()) {
                err(
                    &format!("{at}.name"),
                    format!("`{}` is a volume every workload of the stack declares; choose another name", volume.name),
                );
            } else if let Some(first) = seen.insert(volume.name.as_str(), i) {
                err(&format!("{at}.name"), format!("`{}` is already the name of {base}.volumes[{first}]", volume.name));
            }
            let path_ok = volume.mount_path.starts_with('/')
                && !volume.mount_path.contains(':')
                && !volume.mount_path.split('/').any(|part| part == "..")
                && volume.mount_path != "/"
                && volume.mount_path != "/tmp";
            if !path_ok {
                err(
                    &format!("{at}.mount_path"),
                    format!("`{}` must be an absolute path, not `/` or `/tmp`, without `..` or `:`", volume.mount_path),
                );
            }
            match &volume.source {
                VolumeSource::Secret(name) | VolumeSource::ConfigMap(name) => {
                    if let Err(e) = names::dns1123_subdomain(name) {
                        err(&format!("{at}.source"), e);
                    }
                }
                VolumeSource::EmptyDir(size) => {
                    if size.bytes().is_none_or(|b| b == 0) {
                        err(
                            &format!("{at}.source.empty_dir"),
                            format!("`{size}` must be a size of more than 0, e.g. `256Mi`"),
                        );
                    }
                }
            }
        }
    }
}

fn labels(path: &str, map: &BTreeMap<String, String>, err: &mut impl FnMut(&str, String)) {
    for (key, value) in map {
        if let Err(e) = names::qualified_name(key).and_then(|()| names::label_value(value)) {
            err(&format!("{path}.{key}"), e);
        }
    }
}

fn key_ref(at: &str, r: &KeyRef, err: &mut impl FnMut(&str, String)) {
    if let Err(e) = names::dns1123_subdomain(&r.name) {
        err(&format!("{at}.name"), e);
    }
    if let Err(e) = names::secret_key(&r.key) {
        err(&format!("{at}.key"), e);
    }
}

fn expression(at: &str, key: &str, operator: NodeOperator, values: &[String], err: &mut impl FnMut(&str, String)) {
    if let Err(e) = names::qualified_name(key) {
        err(&format!("{at}.key"), e);
    }
    let fits = match operator {
        NodeOperator::In | NodeOperator::NotIn => !values.is_empty(),
        NodeOperator::Exists | NodeOperator::DoesNotExist => values.is_empty(),
        NodeOperator::Gt | NodeOperator::Lt => values.len() == 1 && values[0].parse::<i64>().is_ok(),
    };
    if !fits {
        let rule = match operator {
            NodeOperator::In | NodeOperator::NotIn => "takes at least one value",
            NodeOperator::Exists | NodeOperator::DoesNotExist => "takes no values",
            NodeOperator::Gt | NodeOperator::Lt => "takes exactly one value, an integer",
        };
        err(&format!("{at}.values"), format!("`{}` {rule}", operator.as_str()));
    }
    for (i, value) in values.iter().enumerate() {
        if let Err(e) = names::label_value(value) {
            err(&format!("{at}.values[{i}]"), e);
        }
    }
}

/// A registry host (with an optional port) and optional path, as an image reference starts.
fn registry(text: &str) -> Result<(), String> {
    let bad = || {
        format!(
            "`{text}` must be a registry host with an optional port and path, e.g. `registry.example.com` or `harbor.example.com:8443/dockerhub`, without a scheme, tag or digest"
        )
    };
    let (host, path) = text.split_once('/').unwrap_or((text, ""));
    let (name, port) = host.split_once(':').unwrap_or((host, ""));
    let host_ok = !name.is_empty()
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && (port.is_empty() || port.parse::<u16>().is_ok_and(|p| p > 0));
    let path_ok = text.split_once('/').is_none()
        || path.split('/').all(|c| {
            !c.is_empty()
                && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && c.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        });
    if host_ok && path_ok { Ok(()) } else { Err(bad()) }
}

/// `image` with its registry replaced by `mirror`, keeping the repository path, tag and digest:
/// the first path component is the registry when it has a `.` or `:` or is `localhost`;
/// otherwise the image is on Docker Hub, whose single-name images live under `library/`.
#[must_use]
pub fn mirrored(image: &str, mirror: &str) -> String {
    let (first, rest) = image.split_once('/').unwrap_or(("", image));
    let is_registry = !first.is_empty() && (first.contains(['.', ':']) || first == "localhost");
    let path = match (is_registry, first.is_empty()) {
        (true, _) => rest.to_owned(),
        (false, true) => format!("library/{rest}"),
        (false, false) => image.to_owned(),
    };
    format!("{}/{path}", mirror.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mirror_keeps_path_tag_and_digest() {
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(mirrored("otel/col:0.159.0", "m.example.com"), "m.example.com/otel/col:0.159.0");
        assert_eq!(
            mirrored(&format!("otel/col:1@{d}"), "m.example.com/hub"),
            format!("m.example.com/hub/otel/col:1@{d}")
        );
        assert_eq!(
            mirrored("ghcr.io/open-telemetry/x/telemetrygen:v1", "m:5000"),
            "m:5000/open-telemetry/x/telemetrygen:v1"
        );
        assert_eq!(mirrored("busybox:1", "m.example.com"), "m.example.com/library/busybox:1");
        assert_eq!(mirrored("localhost/a:1", "m.example.com"), "m.example.com/a:1");
    }

    #[test]
    fn registries_are_hosts_with_optional_port_and_path() {
        for ok in ["registry.example.com", "harbor.example.com:8443/dockerhub", "localhost:5000", "m/a/b"] {
            assert!(registry(ok).is_ok(), "{ok}");
        }
        for bad in
            ["https://r.example.com", "r.example.com/", "r.example.com:0", "r..com", "r.com/Upper", "r.com:x", ""]
        {
            assert!(registry(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_workload_overrides_the_stack_wide_extras_field_by_field() {
        let base = PodExtras {
            tolerations: Some(vec![Toleration { key: Some("a".into()), ..Toleration::default() }]),
            node_selector: [("pool".to_owned(), "obs".to_owned()), ("zone".to_owned(), "a".to_owned())].into(),
            image_pull_secrets: Some(vec!["regcred".into()]),
            ..PodExtras::default()
        };
        let mine = PodExtras {
            tolerations: Some(Vec::new()),
            node_selector: [("zone".to_owned(), "b".to_owned())].into(),
            ..PodExtras::default()
        };
        let merged = mine.over(&base);
        assert_eq!(merged.tolerations, Some(Vec::new()), "a list set replaces, even when empty");
        assert_eq!(
            merged.node_selector,
            [("pool".to_owned(), "obs".to_owned()), ("zone".to_owned(), "b".to_owned())].into()
        );
        assert_eq!(merged.image_pull_secrets, Some(vec!["regcred".to_owned()]), "unset fields are inherited");
    }

    #[test]
    fn every_field_is_validated_at_its_path() {
        let extras: PodExtras = serde_json::from_value(serde_json::json!({
            "tolerations": [{"operator": "Exists", "value": "x"}, {"key": "k", "toleration_seconds": 5}, {"operator": "Equal"}],
            "node_selector": {"bad key!": "v"},
            "affinity": {"required": [{"key": "k", "operator": "In"}], "preferred": [{"weight": 0, "key": "k", "operator": "Gt", "values": ["x"]}]},
            "priority_class_name": "Not_A_Name",
            "image_pull_secrets": ["UPPER"],
            "image_registry": "https://mirror",
            "labels": {"app.kubernetes.io/name": "x", "team": "has space"},
            "annotations": {"checksum/config": "x"},
            "env": [{"name": "1X", "value": "v"}, {"name": "A", "secret": {"name": "s", "key": "k k"}}, {"name": "A", "value": "w"}],
            "env_from": [{"config_map": "Bad"}],
            "volumes": [{"name": "config", "mount_path": "/x", "source": {"secret": "s"}}, {"name": "c", "mount_path": "rel", "source": {"empty_dir": "0"}}]
        }))
        .expect("the shape is valid");
        let mut errors = Vec::new();
        extras.validate("pods", &mut |path: &str, message: String| errors.push(format!("{path}: {message}")));
        let paths: Vec<&str> = errors.iter().map(|e| e.split(": ").next().unwrap_or_default()).collect();
        assert_eq!(
            paths,
            [
                "pods.tolerations[0].value",
                "pods.tolerations[1].toleration_seconds",
                "pods.tolerations[2].key",
                "pods.node_selector.bad key!",
                "pods.affinity.required[0].values",
                "pods.affinity.preferred[0].weight",
                "pods.affinity.preferred[0].values",
                "pods.priority_class_name",
                "pods.image_pull_secrets[0]",
                "pods.image_registry",
                "pods.labels.team",
                "pods.labels.app.kubernetes.io/name",
                "pods.annotations.checksum/config",
                "pods.env[0].name",
                "pods.env[1].secret.key",
                "pods.env[2].name",
                "pods.env_from[0]",
                "pods.volumes[0].name",
                "pods.volumes[1].mount_path",
                "pods.volumes[1].source.empty_dir",
            ],
            "{errors:#?}"
        );
    }
}
