//! Small builders for the Kubernetes objects tracestack emits: labels, metadata, containers,
//! restricted security contexts, and [`Object`], the typed union of every kind it renders.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, Container, ContainerPort, EnvVar, EnvVarSource, HTTPGetAction, Namespace,
    PersistentVolumeClaim, PodSecurityContext, PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile,
    SecretKeySelector, SecurityContext, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::{Metadata, NamespaceResourceScope, Resource};
use serde::Serialize;

use crate::value::hash::Fnv1a;
use crate::value::quantity::Quantity;
use crate::value::resources::Resources;

/// `app.kubernetes.io/part-of` of every object.
pub const PART_OF: &str = "tracestack";

/// The non-root user and group the collector and Jaeger images run as (both Dockerfiles set
/// `USER 10001`); fixed here so `runAsNonRoot` can be verified without reading the image.
pub const RUN_AS_USER: i64 = 10001;

/// The labels that select an app's pods: name and component, never the version, so an upgrade
/// never has to change an immutable Deployment selector.
#[must_use]
pub fn selector(name: &str, component: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/component".to_owned(), component.to_owned()),
        ("app.kubernetes.io/name".to_owned(), name.to_owned()),
        ("app.kubernetes.io/part-of".to_owned(), PART_OF.to_owned()),
    ])
}

/// The selector labels plus version and manager.
#[must_use]
pub fn labels(name: &str, component: &str, version: &str) -> BTreeMap<String, String> {
    let mut labels = selector(name, component);
    labels.insert("app.kubernetes.io/managed-by".into(), PART_OF.into());
    labels.insert("app.kubernetes.io/version".into(), version.into());
    labels
}

/// Metadata with a name, namespace and labels.
#[must_use]
pub fn meta(name: &str, namespace: &str, labels: &BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(namespace.to_owned()),
        labels: Some(labels.clone()),
        ..ObjectMeta::default()
    }
}

/// A container port.
#[must_use]
pub fn port(name: &str, number: u16) -> ContainerPort {
    ContainerPort {
        name: Some(name.to_owned()),
        container_port: i32::from(number),
        protocol: Some("TCP".into()),
        ..ContainerPort::default()
    }
}

/// A plain environment variable.
#[must_use]
pub fn env(name: &str, value: &str) -> EnvVar {
    EnvVar { name: name.to_owned(), value: Some(value.to_owned()), value_from: None }
}

/// An environment variable from a field of the pod (the downward API), e.g. `metadata.name`.
#[must_use]
pub fn env_from_field(name: &str, field_path: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: None,
        value_from: Some(EnvVarSource {
            field_ref: Some(k8s_openapi::api::core::v1::ObjectFieldSelector {
                api_version: None,
                field_path: field_path.to_owned(),
            }),
            ..EnvVarSource::default()
        }),
    }
}

/// An environment variable read from a key of a Secret.
#[must_use]
pub fn env_from_secret(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.to_owned(),
                key: key.to_owned(),
                optional: Some(false),
            }),
            ..EnvVarSource::default()
        }),
    }
}

/// An HTTP GET probe on a named container port.
#[must_use]
pub fn http_probe(path: &str, port_name: &str, period: i32, failures: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_owned()),
            port: IntOrString::String(port_name.to_owned()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(2),
        failure_threshold: Some(failures),
        ..Probe::default()
    }
}

/// Requests and limits from a profile's [`Resources`].
#[must_use]
pub fn resources(r: &Resources) -> ResourceRequirements {
    let pair = |cpu: &Quantity, memory: &Quantity| {
        BTreeMap::from([
            ("cpu".to_owned(), K8sQuantity(cpu.to_string())),
            ("memory".to_owned(), K8sQuantity(memory.to_string())),
        ])
    };
    ResourceRequirements {
        requests: Some(pair(&r.requests.cpu, &r.requests.memory)),
        limits: Some(pair(&r.limits.cpu, &r.limits.memory)),
        ..ResourceRequirements::default()
    }
}

/// The container security context of the Pod Security Standard *restricted* profile, with a
/// read-only root file system.
#[must_use]
pub fn restricted_container() -> SecurityContext {
    restricted_container_as(RUN_AS_USER, RUN_AS_USER)
}

/// [`restricted_container`] for an image whose non-root user has another UID and GID.
#[must_use]
pub fn restricted_container_as(uid: i64, gid: i64) -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities { drop: Some(vec!["ALL".into()]), add: None }),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        run_as_group: Some(gid),
        seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), localhost_profile: None }),
        ..SecurityContext::default()
    }
}

/// The pod security context matching [`restricted_container`].
#[must_use]
pub fn restricted_pod() -> PodSecurityContext {
    restricted_pod_as(RUN_AS_USER, RUN_AS_USER)
}

/// [`restricted_pod`] for another UID and GID.
#[must_use]
pub fn restricted_pod_as(uid: i64, gid: i64) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        run_as_group: Some(gid),
        fs_group: Some(gid),
        seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), localhost_profile: None }),
        ..PodSecurityContext::default()
    }
}

/// A container with the restricted security context and the given image, args and resources.
#[must_use]
pub fn container(name: &str, image: &str, args: Vec<String>, resources: &Resources) -> Container {
    Container {
        name: name.to_owned(),
        image: Some(image.to_owned()),
        image_pull_policy: Some("IfNotPresent".into()),
        args: Some(args),
        resources: Some(self::resources(resources)),
        security_context: Some(restricted_container()),
        ..Container::default()
    }
}

/// A volume holding selected keys of a Secret (`key` → file `path`), mounted read-only at `dir`,
/// readable by the pod's group only. A missing Secret keeps the pod from starting, which beats a
/// process that starts without its credentials.
#[must_use]
pub fn secret_volume(
    name: &str,
    secret: &str,
    keys: &[(&str, &str)],
    dir: &str,
) -> (k8s_openapi::api::core::v1::Volume, k8s_openapi::api::core::v1::VolumeMount) {
    use k8s_openapi::api::core::v1::{KeyToPath, SecretVolumeSource, Volume, VolumeMount};
    (
        Volume {
            name: name.to_owned(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(secret.to_owned()),
                items: Some(
                    keys.iter()
                        .map(|(key, path)| KeyToPath { key: (*key).to_owned(), path: (*path).to_owned(), mode: None })
                        .collect(),
                ),
                default_mode: Some(0o440),
                optional: Some(false),
            }),
            ..Volume::default()
        },
        VolumeMount {
            name: name.to_owned(),
            mount_path: dir.to_owned(),
            read_only: Some(true),
            ..VolumeMount::default()
        },
    )
}

/// An image reference: `repository:tag`, or `repository:tag@digest` when a digest pins it.
#[must_use]
pub fn image(repository: &str, tag: &str, digest: Option<&str>) -> String {
    match digest {
        Some(digest) => format!("{repository}:{tag}@{digest}"),
        None => format!("{repository}:{tag}"),
    }
}

/// The label `kubectl apply --applyset` puts on every object of an ApplySet, and prunes by.
pub const APPLYSET_PART_OF: &str = "applyset.kubernetes.io/part-of";

/// The ID of the ApplySet whose parent is the Secret `name` in `namespace`, as kubectl computes
/// it (KEP-3659; `kubectl/pkg/cmd/apply/applyset.go`, `ID()`): `applyset-` + base64url, unpadded,
/// of the SHA-256 of `<name>.<namespace>.<kind>.<group>` + `-v1`. kubectl labels each member with
/// it (and refuses input that carries the label already), so it finds an ApplySet's objects:
/// `kubectl get … -l applyset.kubernetes.io/part-of=<ID>`.
#[must_use]
pub fn applyset_id(name: &str, namespace: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("{name}.{namespace}.Secret.").as_bytes());
    format!("applyset-{}-v1", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest))
}

/// A 64-bit FNV-1a hash in hex: a stable, dependency-free content hash for the pod-template
/// annotation that rolls pods when their config changes (collisions are harmless there).
#[must_use]
pub fn content_hash(parts: &[&str]) -> String {
    use std::hash::Hasher as _;
    let mut hash = Fnv1a::default();
    for part in parts {
        hash.write(part.as_bytes());
        hash.write_u8(0);
    }
    format!("{:016x}", hash.finish())
}

macro_rules! objects {
    ($($(#[$doc:meta])* $variant:ident($ty:ty),)*) => {
        /// One Kubernetes object of a rendered stack.
        ///
        /// Every variant is boxed: the typed objects run to kilobytes (a Deployment is 2.4 KB), and
        /// an object moves several times between its component and its file, so a pointer-sized
        /// object saves more copying than its one allocation costs.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Object {
            $($(#[$doc])* $variant(Box<$ty>),)*
            /// A custom resource (Istio, OpenTelemetry Operator, prometheus-operator kinds).
            Custom(Box<CustomResource>),
        }

        impl Object {
            /// The object's `kind`.
            #[must_use]
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => <$ty as Resource>::KIND,)*
                    Self::Custom(o) => o.kind,
                }
            }

            /// The object's `apiVersion`.
            #[must_use]
            pub fn api_version(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => <$ty as Resource>::API_VERSION,)*
                    Self::Custom(o) => o.api_version,
                }
            }

            /// The object's metadata.
            #[must_use]
            pub fn metadata(&self) -> &ObjectMeta {
                match self {
                    $(Self::$variant(o) => o.metadata(),)*
                    Self::Custom(o) => &o.metadata,
                }
            }

            /// The object's metadata, to change.
            pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
                match self {
                    $(Self::$variant(o) => o.metadata_mut(),)*
                    Self::Custom(o) => &mut o.metadata,
                }
            }

            /// Whether objects of this kind live in a namespace (rather than cluster-wide).
            #[must_use]
            pub fn is_namespaced(&self) -> bool {
                match self {
                    $(Self::$variant(_) => std::any::TypeId::of::<<$ty as Resource>::Scope>()
                        == std::any::TypeId::of::<NamespaceResourceScope>(),)*
                    // Every custom kind tracestack renders (Telemetry, Instrumentation, PodMonitor,
                    // PrometheusRule) is namespaced.
                    Self::Custom(_) => true,
                }
            }

            /// Writes every field but `apiVersion`, `kind` and `metadata` into an open map.
            fn serialize_rest<M: serde::ser::SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
                match self {
                    $(Self::$variant(o) => o.serialize(RestSerializer(map)),)*
                    Self::Custom(_) => Ok(()),
                }
            }

            fn to_json(&self) -> Result<serde_json::Value, serde_json::Error> {
                match self {
                    $(Self::$variant(o) => serde_json::to_value(o),)*
                    Self::Custom(o) => o.to_json(),
                }
            }
        }

        $(
            impl From<$ty> for Object {
                fn from(o: $ty) -> Self { Self::$variant(Box::new(o)) }
            }
        )*
    };
}

objects! {
    /// A Namespace.
    Namespace(Namespace),
    /// A ServiceAccount.
    ServiceAccount(ServiceAccount),
    /// A ConfigMap.
    ConfigMap(ConfigMap),
    /// A Service.
    Service(Service),
    /// A Deployment.
    Deployment(Deployment),
    /// A PersistentVolumeClaim.
    PersistentVolumeClaim(PersistentVolumeClaim),
    /// A DaemonSet.
    DaemonSet(DaemonSet),
    /// A HorizontalPodAutoscaler (`autoscaling/v2`).
    HorizontalPodAutoscaler(HorizontalPodAutoscaler),
    /// A PodDisruptionBudget (`policy/v1`).
    PodDisruptionBudget(PodDisruptionBudget),
    /// A NetworkPolicy.
    NetworkPolicy(NetworkPolicy),
    /// An Ingress (`networking.k8s.io/v1`).
    Ingress(Ingress),
    /// A Job.
    Job(Job),
    /// A CronJob.
    CronJob(CronJob),
    /// A ClusterRole.
    ClusterRole(ClusterRole),
    /// A ClusterRoleBinding.
    ClusterRoleBinding(ClusterRoleBinding),
    /// A Role.
    Role(Role),
    /// A RoleBinding.
    RoleBinding(RoleBinding),
}

/// A custom resource kind with a typed body: implement this for the small typed structs that
/// model Istio, OpenTelemetry Operator or prometheus-operator resources, then wrap a value with
/// [`CustomResource::new`].
pub trait CustomKind: Serialize {
    /// `group/version`, e.g. `telemetry.istio.io/v1`.
    const API_VERSION: &'static str;
    /// The kind, e.g. `Telemetry`.
    const KIND: &'static str;
}

/// A custom resource ready to render: apiVersion, kind, metadata, and the body fields (`spec`, …)
/// serialised from a typed [`CustomKind`] value.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomResource {
    /// `group/version`.
    pub api_version: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Name, namespace, labels.
    pub metadata: ObjectMeta,
    /// Every top-level field but `apiVersion`, `kind` and `metadata`.
    pub body: serde_json::Map<String, serde_json::Value>,
}

impl CustomResource {
    /// Wraps a typed body (a struct whose fields are the resource's top-level fields, e.g.
    /// `{spec: …}`).
    ///
    /// # Errors
    /// When `body` does not serialise to a JSON object.
    pub fn new<T: CustomKind>(metadata: ObjectMeta, body: &T) -> Result<Self, serde_json::Error> {
        let body = match serde_json::to_value(body)? {
            serde_json::Value::Object(map) => map,
            other => {
                return Err(serde::ser::Error::custom(format!("the body of a {} must be a map, not {other}", T::KIND)));
            }
        };
        Ok(Self { api_version: T::API_VERSION, kind: T::KIND, metadata, body })
    }

    fn to_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        let mut map = self.body.clone();
        map.insert("apiVersion".into(), self.api_version.into());
        map.insert("kind".into(), self.kind.into());
        map.insert("metadata".into(), serde_json::to_value(&self.metadata)?);
        Ok(serde_json::Value::Object(map))
    }
}

impl From<CustomResource> for Object {
    fn from(o: CustomResource) -> Self {
        Self::Custom(Box::new(o))
    }
}

impl Object {
    /// The object's name.
    #[must_use]
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }

    /// The object's namespace, if it is namespaced.
    #[must_use]
    pub fn namespace(&self) -> Option<&str> {
        self.metadata().namespace.as_deref()
    }

    /// The pod template of a workload; `None` for kinds that run no pods. Every kind is listed, so
    /// a new workload kind cannot be added without saying where its pods are.
    #[must_use]
    pub fn pod_template(&self) -> Option<&PodTemplateSpec> {
        match self {
            Self::Deployment(d) => d.spec.as_ref().map(|s| &s.template),
            Self::DaemonSet(d) => d.spec.as_ref().map(|s| &s.template),
            Self::Job(j) => j.spec.as_ref().map(|s| &s.template),
            Self::CronJob(c) => c.spec.as_ref().and_then(|s| s.job_template.spec.as_ref()).map(|s| &s.template),
            Self::Namespace(_)
            | Self::ServiceAccount(_)
            | Self::ConfigMap(_)
            | Self::PersistentVolumeClaim(_)
            | Self::Service(_)
            | Self::PodDisruptionBudget(_)
            | Self::HorizontalPodAutoscaler(_)
            | Self::NetworkPolicy(_)
            | Self::Ingress(_)
            | Self::ClusterRole(_)
            | Self::ClusterRoleBinding(_)
            | Self::Role(_)
            | Self::RoleBinding(_)
            | Self::Custom(_) => None,
        }
    }

    /// The declared pod count of a workload (the API server's default of 1 when unset); `None` for
    /// kinds without a replica count.
    #[must_use]
    pub fn replicas(&self) -> Option<i32> {
        match self {
            Self::Deployment(d) => Some(d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)),
            Self::Namespace(_)
            | Self::ServiceAccount(_)
            | Self::ConfigMap(_)
            | Self::PersistentVolumeClaim(_)
            | Self::Service(_)
            | Self::PodDisruptionBudget(_)
            | Self::HorizontalPodAutoscaler(_)
            | Self::NetworkPolicy(_)
            | Self::Ingress(_)
            | Self::Job(_)
            | Self::CronJob(_)
            | Self::DaemonSet(_)
            | Self::ClusterRole(_)
            | Self::ClusterRoleBinding(_)
            | Self::Role(_)
            | Self::RoleBinding(_)
            | Self::Custom(_) => None,
        }
    }

    /// The object as a JSON tree with keys in a fixed order: `apiVersion`, `kind`, `metadata`
    /// first, then every other key sorted, at every depth.
    ///
    /// # Errors
    /// Only if serialisation of a k8s-openapi type fails, which it does not for valid values.
    pub fn to_ordered(&self) -> Result<Ordered, serde_json::Error> {
        Ok(Ordered::top(self.to_json()?))
    }
}

/// A JSON tree that serialises maps with `apiVersion`, `kind`, `metadata` first at the top and
/// sorted keys everywhere, independent of serde_json's `preserve_order` feature.
#[derive(Clone, Debug, PartialEq)]
pub struct Ordered {
    value: serde_json::Value,
    top: bool,
}

impl Ordered {
    /// Orders a whole document: `apiVersion`, `kind`, `metadata` first at the top, keys sorted.
    #[must_use]
    pub fn new(value: serde_json::Value) -> Self {
        Self { value, top: true }
    }

    fn top(value: serde_json::Value) -> Self {
        Self::new(value)
    }

    /// The underlying JSON value.
    #[must_use]
    pub fn value(&self) -> &serde_json::Value {
        &self.value
    }
}

const FIRST_KEYS: [&str; 3] = ["apiVersion", "kind", "metadata"];

struct Node<'a>(&'a serde_json::Value);

impl Serialize for Node<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_value(self.0, false, s)
    }
}

impl Serialize for Ordered {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_value(&self.value, self.top, s)
    }
}

fn serialize_value<S: serde::Serializer>(value: &serde_json::Value, top: bool, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::{SerializeMap, SerializeSeq};
    match value {
        serde_json::Value::Object(map) => {
            let mut out = s.serialize_map(Some(map.len()))?;
            if top {
                for key in FIRST_KEYS {
                    if let Some(value) = map.get(key) {
                        out.serialize_entry(key, &Node(value))?;
                    }
                }
            }
            let rest = |(key, _): &(&String, &serde_json::Value)| !top || !FIRST_KEYS.contains(&key.as_str());
            // Without `preserve_order` the map is a BTreeMap and already iterates in key order; only
            // an insertion-ordered map needs its entries collected and sorted.
            if map.keys().is_sorted() {
                for (key, value) in map.iter().filter(rest) {
                    out.serialize_entry(key, &Node(value))?;
                }
            } else {
                let mut entries: Vec<(&String, &serde_json::Value)> = map.iter().filter(rest).collect();
                entries.sort_unstable_by_key(|(key, _)| key.as_str());
                for (key, value) in entries {
                    out.serialize_entry(key, &Node(value))?;
                }
            }
            out.end()
        }
        serde_json::Value::Array(items) => {
            let mut out = s.serialize_seq(Some(items.len()))?;
            for item in items {
                out.serialize_element(&Node(item))?;
            }
            out.end()
        }
        other => other.serialize(s),
    }
}

/// One port of a Service, forwarded to the container port of the same name.
#[derive(Clone, Copy, Debug)]
pub struct ServicePortSpec<'a> {
    /// Port name, also the target container port's name.
    pub name: &'a str,
    /// Port number.
    pub port: u16,
    /// `appProtocol` (`grpc`, `http`), so meshes pick the right protocol.
    pub app_protocol: &'a str,
}

/// A Service selecting an app's pods.
#[must_use]
pub fn service(
    name: &str,
    namespace: &str,
    labels: &BTreeMap<String, String>,
    selector: BTreeMap<String, String>,
    ports: &[ServicePortSpec<'_>],
    headless: bool,
) -> Service {
    use k8s_openapi::api::core::v1::{ServicePort, ServiceSpec};
    Service {
        metadata: meta(name, namespace, labels),
        spec: Some(ServiceSpec {
            type_: (!headless).then(|| "ClusterIP".to_owned()),
            cluster_ip: headless.then(|| "None".to_owned()),
            selector: Some(selector),
            ports: Some(
                ports
                    .iter()
                    .map(|p| ServicePort {
                        name: Some(p.name.to_owned()),
                        port: i32::from(p.port),
                        target_port: Some(IntOrString::String(p.name.to_owned())),
                        protocol: Some("TCP".into()),
                        app_protocol: Some(p.app_protocol.to_owned()),
                        ..ServicePort::default()
                    })
                    .collect(),
            ),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// An object serialised straight from its typed value, without an intermediate JSON tree:
/// `apiVersion`, `kind` and `metadata` first, then the object's other fields in the order its type
/// writes them (k8s-openapi writes fields sorted by name, so the bytes equal those of
/// [`Object::to_ordered`]; a test holds them equal); a custom resource's stored body is written
/// with its keys sorted.
pub struct Manifest<'a>(pub &'a Object);

impl Object {
    /// The object as a [`Manifest`], the fast way to serialise it.
    #[must_use]
    pub fn manifest(&self) -> Manifest<'_> {
        Manifest(self)
    }
}

impl Serialize for Manifest<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let object = self.0;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("apiVersion", object.api_version())?;
        map.serialize_entry("kind", object.kind())?;
        map.serialize_entry("metadata", object.metadata())?;
        if let Object::Custom(custom) = object {
            // The body was built from typed structs in their field order: sort it, as the tree does.
            let mut keys: Vec<&String> = custom.body.keys().filter(|k| !FIRST_KEYS.contains(&k.as_str())).collect();
            keys.sort_unstable();
            for key in keys {
                map.serialize_entry(key, &Node(&custom.body[key]))?;
            }
        } else {
            object.serialize_rest(&mut map)?;
        }
        map.end()
    }
}

/// Forwards a struct's fields, except `apiVersion`, `kind` and `metadata`, into an open map.
struct Rest<'m, M>(&'m mut M);

impl<M: serde::ser::SerializeMap> serde::ser::SerializeStruct for Rest<'_, M> {
    type Ok = ();
    type Error = M::Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), M::Error> {
        if FIRST_KEYS.contains(&key) { Ok(()) } else { self.0.serialize_entry(key, value) }
    }
    fn end(self) -> Result<(), M::Error> {
        Ok(())
    }
}

/// A serializer that accepts exactly one struct and writes its fields into an open map.
struct RestSerializer<'m, M>(&'m mut M);

impl<'m, M: serde::ser::SerializeMap> serde::Serializer for RestSerializer<'m, M> {
    type Ok = ();
    type Error = M::Error;
    type SerializeSeq = serde::ser::Impossible<(), M::Error>;
    type SerializeTuple = serde::ser::Impossible<(), M::Error>;
    type SerializeTupleStruct = serde::ser::Impossible<(), M::Error>;
    type SerializeTupleVariant = serde::ser::Impossible<(), M::Error>;
    type SerializeMap = serde::ser::Impossible<(), M::Error>;
    type SerializeStruct = Rest<'m, M>;
    type SerializeStructVariant = serde::ser::Impossible<(), M::Error>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Rest<'m, M>, M::Error> {
        Ok(Rest(self.0))
    }

    refuse! {
        serde::ser::Error::custom("a Kubernetes object serialises as a struct");
        serialize_bool(bool) -> ();
        serialize_i8(i8) -> ();
        serialize_i16(i16) -> ();
        serialize_i32(i32) -> ();
        serialize_i64(i64) -> ();
        serialize_u8(u8) -> ();
        serialize_u16(u16) -> ();
        serialize_u32(u32) -> ();
        serialize_u64(u64) -> ();
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_char(char) -> ();
        serialize_str(&str) -> ();
        serialize_bytes(&[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_unit_variant(&'static str, u32, &'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), M::Error> {
        Err(serde::ser::Error::custom("a Kubernetes object serialises as a struct"))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, _: &T) -> Result<(), M::Error> {
        Err(serde::ser::Error::custom("a Kubernetes object serialises as a struct"))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), M::Error> {
        Err(serde::ser::Error::custom("a Kubernetes object serialises as a struct"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ID kubectl v1.32 wrote on the parent Secret `observability/tracestack`
    /// (`applyset.kubernetes.io/id`) when it applied a bundle against a real API server.
    #[test]
    fn applyset_id_is_the_one_kubectl_computes() {
        assert_eq!(
            applyset_id("tracestack", "observability"),
            "applyset-XLVvrd8jEXxDpCXs7RCEkIzL3Gxr-VIn6k_FmjGI43Y-v1"
        );
        assert_ne!(applyset_id("tracestack", "other"), applyset_id("tracestack", "observability"));
    }
}
