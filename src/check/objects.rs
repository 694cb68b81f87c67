//! Checks between Kubernetes objects: identities and names, Service selectors and target ports,
//! what pods reference (ConfigMaps, Secrets, ServiceAccounts, claims, volumes, probe ports), and
//! what autoscalers and disruption budgets point at.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Container, PodSpec, Probe, Service};
use k8s_openapi::api::networking::v1::{Ingress, IngressServiceBackend, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Checker, Id, Index, describe_labels, key_of, selector, short};
use crate::config::k8s::Object;
use crate::value::names;

pub(super) fn check(index: &Index<'_>, checker: &mut Checker) {
    identities(index, checker);
    for object in index.objects.iter().copied() {
        names_and_labels(object, checker);
        match object {
            Object::Service(service) => service_targets(index, object, service, checker),
            Object::PodDisruptionBudget(pdb) => disruption_budget(index, object, pdb, checker),
            Object::HorizontalPodAutoscaler(hpa) => autoscaler(index, object, hpa, checker),
            Object::NetworkPolicy(np) => network_policy(index, object, np, checker),
            Object::ClusterRoleBinding(binding) => role_binding(index, object, binding, checker),
            Object::Ingress(ingress) => ingress_backends(index, object, ingress, checker),
            Object::Custom(route) if route.kind == "HTTPRoute" => http_route(index, object, &route.body, checker),
            Object::Namespace(_)
            | Object::ServiceAccount(_)
            | Object::ConfigMap(_)
            | Object::Deployment(_)
            | Object::PersistentVolumeClaim(_)
            | Object::DaemonSet(_)
            | Object::Job(_)
            | Object::CronJob(_)
            | Object::ClusterRole(_)
            | Object::Role(_)
            | Object::RoleBinding(_) => {}
            Object::Custom(custom) if custom.kind == "PodMonitor" => pod_monitor(index, object, custom, checker),
            Object::Custom(_) => {}
        }
        if let Some(spec) = object.pod_template().and_then(|t| t.spec.as_ref()) {
            pod_references(index, object, spec, checker);
        }
    }
}

/// Objects an operator creates from a rendered resource: none may also be rendered (the operator
/// and `kubectl apply` would fight over it), and what their pods reference (the ServiceAccount,
/// Secrets and ConfigMaps the resource names) must exist. How an operator builds its own objects
/// is its business and not checked further.
pub(super) fn check_managed(index: &Index<'_>, managed: &[(super::ObjectRef, Object)], checker: &mut Checker) {
    for (source, object) in managed {
        let id = Id(object);
        let rendered = index.objects.iter().any(|o| key_of(o) == key_of(object));
        checker.check("operator", !rendered, || format!("{id} is rendered, but the operator creates it from {source}"));
        if let Some(spec) = object.pod_template().and_then(|t| t.spec.as_ref()) {
            pod_references(index, object, spec, checker);
        }
    }
}

/// A PodMonitor selects pods in its namespace (or those its `namespaceSelector` names), and every
/// endpoint's `port` is a container port name of each selected pod.
fn pod_monitor(index: &Index<'_>, object: &Object, custom: &crate::config::k8s::CustomResource, checker: &mut Checker) {
    let id = Id(object);
    let spec = &custom.body["spec"];
    let wanted: BTreeMap<String, String> = spec["selector"]["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
        .collect();
    let namespaces: Vec<&str> = match spec["namespaceSelector"]["matchNames"].as_array() {
        Some(names) => names.iter().filter_map(|n| n.as_str()).collect(),
        None => object.namespace().into_iter().collect(),
    };
    let selected: Vec<&Object> = namespaces
        .iter()
        .flat_map(|ns| index.workloads_in(Some(ns)))
        .filter(|w| selector::matches_map(&wanted, pod_labels(w)))
        .collect();
    checker.check("pod-monitor", !selected.is_empty(), || {
        format!(
            "{id} selects {} but no workload in {} has those pod labels",
            describe_labels(&wanted),
            namespaces.join(", ")
        )
    });
    // Prometheus scrapes a port on the pods that declare it; a selected pod without it adds no
    // target, but a port no selected pod declares is never scraped.
    for endpoint in spec["podMetricsEndpoints"].as_array().into_iter().flatten() {
        let Some(port) = endpoint["port"].as_str() else { continue };
        let declared = selected.iter().any(|w| {
            w.pod_template()
                .and_then(|t| t.spec.as_ref())
                .is_some_and(|p| containers(p).any(|c| container_declares(c, &IntOrString::String(port.to_owned()))))
        });
        checker.check("pod-monitor", declared || selected.is_empty(), || {
            let names: Vec<String> = selected.iter().map(|w| Id(w).to_string()).collect();
            format!("{id} scrapes port `{port}`, which no selected pod declares ({})", names.join(", "))
        });
    }
}

/// Every identity once; namespaced objects in a namespace that exists, cluster-scoped ones in none.
fn identities(index: &Index<'_>, checker: &mut Checker) {
    let mut seen = BTreeSet::new();
    for object in index.objects.iter().copied() {
        let id = Id(object);
        let fresh = seen.insert(key_of(object));
        checker.check("unique", fresh, || format!("{id} is rendered twice"));
        match (object.is_namespaced(), object.namespace()) {
            (true, None) => checker.fail("namespace", format!("{id} has no metadata.namespace")),
            (true, Some(ns)) => checker.check("namespace", index.exists("Namespace", None, ns), || {
                format!("{id} is in namespace `{ns}`, but Namespace `{ns}` is neither rendered nor declared external")
            }),
            (false, Some(ns)) => {
                checker.fail("namespace", format!("{id} is cluster-scoped but sets metadata.namespace `{ns}`"))
            }
            (false, None) => {}
        }
    }
}

/// Names and labels the API server would refuse.
fn names_and_labels(object: &Object, checker: &mut Checker) {
    let id = Id(object);
    let name = object.name();
    // Services and Namespaces are DNS labels (Services DNS-1035: starting with a letter,
    // `ValidateServiceName` in k8s.io/kubernetes pkg/apis/core/validation); other kinds here are
    // DNS-1123 subdomains.
    let verdict = match object.kind() {
        "Namespace" => names::dns1123_label(name),
        "Service" => names::dns1123_label(name).and_then(|()| {
            if name.starts_with(|c: char| c.is_ascii_lowercase()) {
                Ok(())
            } else {
                Err(format!("`{name}` is not a valid Service name: it must start with a lower case letter (DNS-1035)"))
            }
        }),
        _ => names::dns1123_subdomain(name),
    };
    checker.check("name", verdict.is_ok(), || format!("{id} metadata.name: {}", verdict.clone().unwrap_err()));
    let mut label_sets = vec![("metadata.labels", object.metadata().labels.as_ref())];
    if let Some(template) = object.pod_template() {
        label_sets.push(("spec.template.metadata.labels", template.metadata.as_ref().and_then(|m| m.labels.as_ref())));
    }
    for (field, labels) in label_sets {
        for (key, value) in labels.into_iter().flatten() {
            let key_ok = names::qualified_name(key);
            checker.check("label", key_ok.is_ok(), || format!("{id} {field} key: {}", key_ok.clone().unwrap_err()));
            let value_ok = names::label_value(value);
            checker.check("label", value_ok.is_ok(), || {
                format!("{id} {field} `{key}`: {}", value_ok.clone().unwrap_err())
            });
        }
    }
    for container in object.pod_template().and_then(|t| t.spec.as_ref()).map(containers).into_iter().flatten() {
        let mut seen = BTreeSet::new();
        for port in container.ports.iter().flatten() {
            let Some(port_name) = &port.name else { continue };
            let ok = is_port_name(port_name);
            checker.check("name", ok, || {
                format!(
                    "{id} container `{}` port name `{port_name}` must be at most 15 lower case letters, digits and \
                     '-', with at least one letter and no leading, trailing or double '-' (IANA service name)",
                    container.name
                )
            });
            let fresh = seen.insert(port_name.as_str());
            checker.check("name", fresh, || {
                format!("{id} container `{}` declares port name `{port_name}` twice", container.name)
            });
        }
    }
}

/// An IANA service name, as container port names must be (`IsValidPortName` in apimachinery
/// `pkg/util/validation`): 1–15 of `a-z0-9-`, at least one letter, no `-` at either end or twice.
fn is_port_name(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.bytes().any(|b| b.is_ascii_lowercase())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// Every container of a pod, init containers first.
fn containers(spec: &PodSpec) -> impl Iterator<Item = &Container> {
    spec.init_containers.iter().flatten().chain(spec.containers.iter())
}

fn pod_labels(object: &Object) -> &BTreeMap<String, String> {
    static NONE: BTreeMap<String, String> = BTreeMap::new();
    object.pod_template().and_then(|t| t.metadata.as_ref()).and_then(|m| m.labels.as_ref()).unwrap_or(&NONE)
}

/// Whether any container of `spec` declares `port` (by name or number).
fn declares_port(spec: &PodSpec, port: &IntOrString) -> bool {
    containers(spec).any(|c| container_declares(c, port))
}

fn container_declares(container: &Container, port: &IntOrString) -> bool {
    container.ports.iter().flatten().any(|p| match port {
        IntOrString::Int(n) => p.container_port == *n,
        IntOrString::String(name) => p.name.as_deref() == Some(name.as_str()),
    })
}

fn port_text(port: &IntOrString) -> String {
    match port {
        IntOrString::Int(n) => n.to_string(),
        IntOrString::String(s) => format!("`{s}`"),
    }
}

/// A Service selects a workload's pods, and each of its ports targets a port those pods declare.
fn service_targets(index: &Index<'_>, object: &Object, service: &Service, checker: &mut Checker) {
    let id = Id(object);
    let Some(spec) = &service.spec else { return };
    // A Service without a selector has its endpoints managed by hand (or is an ExternalName).
    let Some(wanted) = spec.selector.as_ref().filter(|s| !s.is_empty()) else { return };
    let ns = object.namespace();
    let selected: Vec<&Object> =
        index.workloads_in(ns).filter(|w| selector::matches_map(wanted, pod_labels(w))).collect();
    checker.check("service-selector", !selected.is_empty(), || {
        format!(
            "{id} selects {} but no workload in `{}` has those pod labels",
            describe_labels(wanted),
            ns.unwrap_or_default()
        )
    });
    for port in spec.ports.iter().flatten() {
        let target = port.target_port.clone().unwrap_or(IntOrString::Int(port.port));
        let port_name = port.name.clone().unwrap_or_else(|| port.port.to_string());
        for workload in &selected {
            let Some(pod) = workload.pod_template().and_then(|t| t.spec.as_ref()) else { continue };
            checker.check("service-port", declares_port(pod, &target), || {
                format!(
                    "Service `{}` port `{port_name}` targets container port {}, which {} does not declare",
                    object.name(),
                    port_text(&target),
                    short(workload)
                )
            });
        }
    }
}

/// Every backend of an Ingress is a port of a Service in its namespace, and every TLS Secret
/// exists or is declared external.
fn ingress_backends(index: &Index<'_>, object: &Object, ingress: &Ingress, checker: &mut Checker) {
    let id = Id(object);
    let ns = object.namespace();
    let Some(spec) = &ingress.spec else { return };
    let paths = spec.rules.iter().flatten().filter_map(|r| r.http.as_ref()).flat_map(|h| &h.paths);
    let backends = spec.default_backend.iter().chain(paths.map(|p| &p.backend));
    for backend in backends {
        let Some(IngressServiceBackend { name, port }) = &backend.service else {
            checker.fail("ingress-backend", format!("{id} has a backend that is not a Service"));
            continue;
        };
        let Some(Object::Service(service)) = index.get("Service", ns, name) else {
            checker.fail("ingress-backend", format!("{id} routes to Service `{name}`, which is not rendered"));
            continue;
        };
        let ports = service.spec.iter().flat_map(|s| s.ports.iter().flatten());
        let found = ports.clone().any(|p| {
            port.as_ref().is_some_and(|want| {
                want.number.is_some_and(|n| n == p.port)
                    || want.name.as_deref().is_some_and(|n| p.name.as_deref() == Some(n))
            })
        });
        checker.check("ingress-backend", found, || {
            let want = port.as_ref().map_or("no port".to_owned(), |p| {
                p.name.clone().unwrap_or_else(|| p.number.map(|n| n.to_string()).unwrap_or_default())
            });
            format!("{id} routes to port `{want}` of Service `{name}`, which has no such port")
        });
    }
    for tls in spec.tls.iter().flatten() {
        if let Some(secret) = &tls.secret_name {
            checker.check("ingress-tls", index.exists("Secret", ns, secret), || {
                format!("{id} serves TLS from Secret `{secret}`, which is neither rendered nor declared external")
            });
        }
    }
}

/// Every Gateway an HTTPRoute attaches to is rendered or declared external, and every backend is a
/// port (by number, as Gateway API names them) of a Service in the route's namespace.
fn http_route(
    index: &Index<'_>,
    object: &Object,
    body: &serde_json::Map<String, serde_json::Value>,
    checker: &mut Checker,
) {
    let id = Id(object);
    let ns = object.namespace();
    let spec = body.get("spec");
    for parent in spec.and_then(|s| s.get("parentRefs")).and_then(|p| p.as_array()).into_iter().flatten() {
        let name = parent.get("name").and_then(|n| n.as_str()).unwrap_or_default();
        let parent_ns = parent.get("namespace").and_then(|n| n.as_str()).or(ns);
        checker.check("route-parent", index.exists("Gateway", parent_ns, name), || {
            format!(
                "{id} attaches to Gateway `{}/{name}`, which is neither rendered nor declared external",
                parent_ns.unwrap_or_default()
            )
        });
    }
    let rules = spec.and_then(|s| s.get("rules")).and_then(|r| r.as_array()).into_iter().flatten();
    for backend in rules.filter_map(|r| r.get("backendRefs")).filter_map(|b| b.as_array()).flatten() {
        let name = backend.get("name").and_then(|n| n.as_str()).unwrap_or_default();
        let port = backend.get("port").and_then(serde_json::Value::as_i64);
        let Some(Object::Service(service)) = index.get("Service", ns, name) else {
            checker.fail("route-backend", format!("{id} routes to Service `{name}`, which is not rendered"));
            continue;
        };
        let found = service.spec.iter().flat_map(|s| s.ports.iter().flatten()).any(|p| Some(i64::from(p.port)) == port);
        checker.check("route-backend", found, || {
            format!("{id} routes to port {} of Service `{name}`, which has no such port", port.unwrap_or_default())
        });
    }
}

/// ConfigMaps, Secrets, ServiceAccounts and claims a pod uses exist; mounts name declared volumes;
/// probes hit declared ports; its PriorityClass exists; volume names and each container's env names
/// are unique.
fn pod_references(index: &Index<'_>, object: &Object, spec: &PodSpec, checker: &mut Checker) {
    let id = Id(object);
    let ns = object.namespace();
    if let Some(priority) = &spec.priority_class_name {
        checker.check("priority-class", index.exists("PriorityClass", None, priority), || {
            format!("{id} runs at PriorityClass `{priority}`, which is neither rendered nor declared external")
        });
    }
    let mut names = BTreeSet::new();
    for volume in spec.volumes.iter().flatten() {
        checker.check("volume-unique", names.insert(volume.name.as_str()), || {
            format!("{id} declares volume `{}` twice", volume.name)
        });
    }
    for container in containers(spec) {
        let mut env = BTreeSet::new();
        for var in container.env.iter().flatten() {
            checker.check("env-unique", env.insert(var.name.as_str()), || {
                format!(
                    "{id} container `{}` sets env `{}` twice: the last one wins, silently",
                    container.name, var.name
                )
            });
        }
    }
    for r in references(spec) {
        let Reference { what, kind, name, key, optional } = r;
        let found = index.get(kind, ns, name);
        let exists = found.is_some() || index.is_external(kind, ns, name);
        checker.check("pod-reference", exists || optional, || {
            format!("{id} {what} {kind} `{name}`, which is neither rendered nor declared external")
        });
        if let (Some(Object::ConfigMap(cm)), Some(key)) = (found, key) {
            let has = cm.data.as_ref().is_some_and(|d| d.contains_key(key))
                || cm.binary_data.as_ref().is_some_and(|d| d.contains_key(key));
            checker.check("pod-reference", has || optional, || {
                format!("{id} {what} key `{key}` of ConfigMap `{name}`, which has no such key")
            });
        }
    }
    let volumes: BTreeSet<&str> = spec.volumes.iter().flatten().map(|v| v.name.as_str()).collect();
    for container in containers(spec) {
        let c = &container.name;
        for mount in container.volume_mounts.iter().flatten() {
            checker.check("volume-mount", volumes.contains(mount.name.as_str()), || {
                format!(
                    "{id} container `{c}` mounts volume `{}` at `{}`, which the pod does not declare",
                    mount.name, mount.mount_path
                )
            });
        }
        let probes = [
            ("livenessProbe", &container.liveness_probe),
            ("readinessProbe", &container.readiness_probe),
            ("startupProbe", &container.startup_probe),
        ];
        for (field, probe) in probes {
            if let Some(port) = probe.as_ref().and_then(probe_port) {
                // A probe's named port must be one of the same container (API server rule).
                checker.check("probe-port", container_declares(container, &port), || {
                    format!(
                        "{id} container `{c}` {field} targets port {}, which the container does not declare",
                        port_text(&port)
                    )
                });
            }
        }
    }
}

/// One object a pod refers to by name.
struct Reference<'a> {
    /// Where and how, e.g. ``volume `config` mounts``.
    what: What<'a>,
    kind: &'static str,
    name: &'a str,
    /// A key that must be in it (ConfigMaps only: Secrets may be external, with unknown keys).
    key: Option<&'a str>,
    /// `optional: true`: it may be missing.
    optional: bool,
}

/// Where in a pod spec a reference is made, shown only when it fails.
#[derive(Clone, Copy)]
enum What<'a> {
    ServiceAccount,
    PullSecret,
    /// A volume's name and how it uses the object (`mounts`, `reads`, `projects`).
    Volume(&'a str, &'static str),
    /// A container's name and an env var's.
    Env(&'a str, &'a str),
    /// A container's name.
    EnvFrom(&'a str),
}

impl std::fmt::Display for What<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ServiceAccount => f.write_str("spec.serviceAccountName uses"),
            Self::PullSecret => f.write_str("spec.imagePullSecrets uses"),
            Self::Volume(volume, verb) => write!(f, "volume `{volume}` {verb}"),
            Self::Env(container, env) => write!(f, "container `{container}` env `{env}` reads"),
            Self::EnvFrom(container) => write!(f, "container `{container}` envFrom reads"),
        }
    }
}

/// Every ServiceAccount, Secret, ConfigMap and claim `spec` refers to.
fn references(spec: &PodSpec) -> Vec<Reference<'_>> {
    let mut refs = Vec::new();
    if let Some(sa) = spec.service_account_name.as_deref().filter(|sa| *sa != "default") {
        // Every namespace has a `default` ServiceAccount; any other must be created.
        refs.push(reference(What::ServiceAccount, "ServiceAccount", sa, None, None));
    }
    for secret in spec.image_pull_secrets.iter().flatten() {
        refs.push(reference(What::PullSecret, "Secret", &secret.name, None, None));
    }
    for volume in spec.volumes.iter().flatten() {
        let what = |verb| What::Volume(&volume.name, verb);
        if let Some(cm) = &volume.config_map {
            refs.push(reference(what("mounts"), "ConfigMap", &cm.name, None, cm.optional));
            for item in cm.items.iter().flatten() {
                refs.push(reference(what("reads"), "ConfigMap", &cm.name, Some(&item.key), cm.optional));
            }
        }
        if let Some(secret) = &volume.secret {
            let name = secret.secret_name.as_deref().unwrap_or_default();
            refs.push(reference(what("mounts"), "Secret", name, None, secret.optional));
        }
        if let Some(claim) = &volume.persistent_volume_claim {
            refs.push(reference(what("mounts"), "PersistentVolumeClaim", &claim.claim_name, None, None));
        }
        for source in volume.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
            if let Some(cm) = &source.config_map {
                refs.push(reference(what("projects"), "ConfigMap", &cm.name, None, cm.optional));
            }
            if let Some(secret) = &source.secret {
                refs.push(reference(what("projects"), "Secret", &secret.name, None, secret.optional));
            }
        }
    }
    for container in containers(spec) {
        let c = &container.name;
        for env in container.env.iter().flatten() {
            let Some(from) = &env.value_from else { continue };
            let what = What::Env(c, &env.name);
            if let Some(r) = &from.config_map_key_ref {
                refs.push(reference(what, "ConfigMap", &r.name, Some(&r.key), r.optional));
            }
            if let Some(r) = &from.secret_key_ref {
                refs.push(reference(what, "Secret", &r.name, None, r.optional));
            }
        }
        for from in container.env_from.iter().flatten() {
            let what = What::EnvFrom(c);
            if let Some(r) = &from.config_map_ref {
                refs.push(reference(what, "ConfigMap", &r.name, None, r.optional));
            }
            if let Some(r) = &from.secret_ref {
                refs.push(reference(what, "Secret", &r.name, None, r.optional));
            }
        }
    }
    refs
}

fn reference<'a>(
    what: What<'a>,
    kind: &'static str,
    name: &'a str,
    key: Option<&'a str>,
    optional: Option<bool>,
) -> Reference<'a> {
    Reference { what, kind, name, key, optional: optional == Some(true) }
}

fn probe_port(probe: &Probe) -> Option<IntOrString> {
    probe
        .http_get
        .as_ref()
        .map(|h| h.port.clone())
        .or_else(|| probe.tcp_socket.as_ref().map(|t| t.port.clone()))
        .or_else(|| probe.grpc.as_ref().map(|g| IntOrString::Int(g.port)))
}

/// The autoscaler's target exists and is a workload; resource-utilisation metrics have requests
/// to be measured against (without a request the autoscaler cannot compute a utilisation).
fn autoscaler(index: &Index<'_>, object: &Object, hpa: &HorizontalPodAutoscaler, checker: &mut Checker) {
    let id = Id(object);
    let Some(spec) = &hpa.spec else {
        checker.fail("hpa-target", format!("{id} has no spec"));
        return;
    };
    let target_ref = &spec.scale_target_ref;
    let target = index.get(&target_ref.kind, object.namespace(), &target_ref.name);
    let what = format!("{} `{}`", target_ref.kind, target_ref.name);
    checker.check("hpa-target", target.is_some(), || {
        format!(
            "{id} spec.scaleTargetRef names {what}, which is not rendered in `{}`",
            object.namespace().unwrap_or("")
        )
    });
    let Some(target) = target else { return };
    if let Some(api_version) = &target_ref.api_version {
        checker.check("hpa-target", api_version == target.api_version(), || {
            format!(
                "{id} spec.scaleTargetRef names {what} as `{api_version}`, but it is rendered as `{}`",
                target.api_version()
            )
        });
    }
    let pod = target.pod_template().and_then(|t| t.spec.as_ref());
    checker.check("hpa-target", pod.is_some() && target.replicas().is_some(), || {
        format!("{id} spec.scaleTargetRef names {what}, which has no pods to scale")
    });
    let min = spec.min_replicas.unwrap_or(1);
    checker.check("hpa-target", min <= spec.max_replicas, || {
        format!("{id} spec.minReplicas ({min}) exceeds spec.maxReplicas ({})", spec.max_replicas)
    });
    let Some(pod) = pod else { return };
    for metric in spec.metrics.iter().flatten() {
        let (resource, only, utilization) = match (&metric.resource, &metric.container_resource) {
            (Some(r), _) => (&r.name, None, r.target.type_ == "Utilization"),
            (None, Some(c)) => (&c.name, Some(c.container.as_str()), c.target.type_ == "Utilization"),
            (None, None) => continue,
        };
        if let Some(only) = only {
            checker.check("hpa-metric", pod.containers.iter().any(|c| c.name == only), || {
                format!("{id} spec.metrics scales on container `{only}`, which {what} does not run")
            });
        }
        if !utilization {
            continue;
        }
        for container in pod.containers.iter().filter(|c| only.is_none_or(|o| o == c.name)) {
            let requested = container
                .resources
                .as_ref()
                .and_then(|r| r.requests.as_ref())
                .is_some_and(|r| r.contains_key(resource.as_str()));
            checker.check("hpa-metric", requested, || {
                format!(
                    "{id} scales on {resource} utilization, but container `{}` of {what} requests no {resource}",
                    container.name
                )
            });
        }
    }
}

/// The budget selects some workload's pods, and still lets a node drain evict one of them.
fn disruption_budget(index: &Index<'_>, object: &Object, pdb: &PodDisruptionBudget, checker: &mut Checker) {
    let id = Id(object);
    let ns = object.namespace();
    let Some(spec) = &pdb.spec else {
        checker.fail("pdb-selector", format!("{id} has no spec"));
        return;
    };
    // In policy/v1 a null selector selects no pods; an empty one selects every pod.
    let Some(wanted) = &spec.selector else {
        checker.fail("pdb-selector", format!("{id} has no spec.selector, so it selects no pods"));
        return;
    };
    let selected: Vec<&Object> = index.workloads_in(ns).filter(|w| selector::matches(wanted, pod_labels(w))).collect();
    checker.check("pdb-selector", !selected.is_empty(), || {
        format!(
            "{id} selects {} but no workload in `{}` has those pod labels",
            selector::describe(wanted),
            ns.unwrap_or_default()
        )
    });
    for workload in selected {
        let replicas = min_replicas(index, workload);
        let blocked = match (&spec.min_available, &spec.max_unavailable) {
            (Some(IntOrString::Int(n)), _) => (*n >= replicas).then(|| format!("spec.minAvailable {n}")),
            (Some(IntOrString::String(p)), _) => (p == "100%").then(|| format!("spec.minAvailable {p}")),
            (None, Some(IntOrString::Int(0))) => Some("spec.maxUnavailable 0".to_owned()),
            (None, Some(IntOrString::String(p))) => (p == "0%").then(|| format!("spec.maxUnavailable {p}")),
            _ => None,
        };
        checker.check("pdb-eviction", blocked.is_none(), || {
            format!(
                "{id} {} with {} at {replicas} replica(s) allows no voluntary eviction, so node drains block",
                blocked.clone().unwrap_or_default(),
                short(workload)
            )
        });
    }
}

/// A NetworkPolicy that selects no pod, or allows traffic from or to pods that do not exist,
/// protects nothing and lets nothing through: its pod selectors must match rendered workloads.
fn network_policy(index: &Index<'_>, object: &Object, np: &NetworkPolicy, checker: &mut Checker) {
    let id = Id(object);
    let ns = object.namespace();
    let Some(spec) = &np.spec else {
        checker.fail("netpol-selector", format!("{id} has no spec"));
        return;
    };
    let matches_pods = |selector: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector| {
        index.workloads_in(ns).any(|w| selector::matches(selector, pod_labels(w)))
    };
    // An empty selector selects every pod of the namespace (a default deny); a non-empty one must
    // select a workload.
    if let Some(selector) =
        spec.pod_selector.as_ref().filter(|s| s.match_labels.is_some() || s.match_expressions.is_some())
    {
        checker.check("netpol-selector", matches_pods(selector), || {
            format!(
                "{id} spec.podSelector {} matches no workload in `{}`",
                selector::describe(selector),
                ns.unwrap_or_default()
            )
        });
    }
    let peers = spec
        .ingress
        .iter()
        .flatten()
        .flat_map(|r| r.from.iter().flatten().map(|p| ("ingress.from", p)))
        .chain(spec.egress.iter().flatten().flat_map(|r| r.to.iter().flatten().map(|p| ("egress.to", p))));
    for (field, peer) in peers {
        // Peers in other namespaces are outside the rendered set; same-namespace pod peers are not.
        if let (None, Some(selector)) = (&peer.namespace_selector, &peer.pod_selector) {
            checker.check("netpol-peer", matches_pods(selector), || {
                format!(
                    "{id} {field} podSelector {} matches no workload in `{}`",
                    selector::describe(selector),
                    ns.unwrap_or_default()
                )
            });
        }
    }
}

/// A ClusterRoleBinding grants a rendered (or external) ClusterRole to ServiceAccounts that exist.
fn role_binding(index: &Index<'_>, object: &Object, binding: &ClusterRoleBinding, checker: &mut Checker) {
    let id = Id(object);
    let role = &binding.role_ref;
    checker.check("rbac-role", role.kind != "ClusterRole" || index.exists("ClusterRole", None, &role.name), || {
        format!("{id} roleRef names ClusterRole `{}`, which is neither rendered nor declared external", role.name)
    });
    for subject in binding.subjects.iter().flatten().filter(|s| s.kind == "ServiceAccount") {
        let ns = subject.namespace.as_deref();
        checker.check("rbac-subject", index.exists("ServiceAccount", ns, &subject.name), || {
            format!(
                "{id} binds ServiceAccount `{}/{}`, which is neither rendered nor declared external",
                ns.unwrap_or_default(),
                subject.name
            )
        });
    }
}

/// The fewest pods a workload runs: an autoscaler's `minReplicas` when one targets it, else its
/// replica count.
fn min_replicas(index: &Index<'_>, workload: &Object) -> i32 {
    index
        .objects
        .iter()
        .filter_map(|o| match o {
            Object::HorizontalPodAutoscaler(h) if o.namespace() == workload.namespace() => h.spec.as_ref(),
            _ => None,
        })
        .find(|s| s.scale_target_ref.kind == workload.kind() && s.scale_target_ref.name == workload.name())
        .map_or_else(|| workload.replicas().unwrap_or(1), |s| s.min_replicas.unwrap_or(1))
}
