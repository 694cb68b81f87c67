//! Cross-object checks over a whole rendered set: every reference between objects resolves, and
//! every collector or Jaeger config is wired, shipped by its pinned build and reaches what it names.
//!
//! [`crate::render::render_stack`] runs them before anything is written, and `cargo xtask validate`
//! runs them over every profile and prints how many ran. Each failure names both objects and the
//! field, e.g. "Service `observability/otlp` selects app.kubernetes.io/name=otel-collector but no
//! workload in `observability` has those pod labels".
//!
//! The checks read the typed objects ([`Object`]) and the typed configs ([`ConfigRef`]), never
//! rendered text, and are written over every kind [`Object`] can hold, so that a kind added later
//! (a PodDisruptionBudget, an autoscaler) is checked the day it is first rendered.

mod configs;
pub mod crd;
pub(crate) mod endpoints;
mod objects;
pub(crate) mod selector;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use crate::config::collector::{Config, Distribution, Version, Written};
use crate::config::k8s::Object;
use crate::format::list;

/// An object's identity: kind, namespace (for namespaced kinds) and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    /// `kind`, e.g. `Secret`.
    pub kind: String,
    /// Namespace; `None` for cluster-scoped kinds.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl ObjectRef {
    /// A namespaced object.
    #[must_use]
    pub fn namespaced(kind: &str, namespace: &str, name: &str) -> Self {
        Self { kind: kind.to_owned(), namespace: Some(namespace.to_owned()), name: name.to_owned() }
    }

    /// A cluster-scoped object.
    #[must_use]
    pub fn cluster(kind: &str, name: &str) -> Self {
        Self { kind: kind.to_owned(), namespace: None, name: name.to_owned() }
    }

    /// The identity of a rendered object.
    #[must_use]
    pub fn of(object: &Object) -> Self {
        Self {
            kind: object.kind().to_owned(),
            namespace: object.namespace().map(str::to_owned),
            name: object.name().to_owned(),
        }
    }
}

/// Shown as ``Service `observability/otlp` ``, or ``Namespace `observability` `` when cluster-scoped.
impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show_id(f, (&self.kind, self.namespace.as_deref(), &self.name))
    }
}

/// An identity borrowed from an object or an [`ObjectRef`]: kind, namespace, name. The checks look
/// objects up and compare them by it, so that no lookup copies a string.
type Key<'a> = (&'a str, Option<&'a str>, &'a str);

fn key_of(object: &Object) -> Key<'_> {
    (object.kind(), object.namespace(), object.name())
}

fn show_id(f: &mut fmt::Formatter<'_>, (kind, namespace, name): Key<'_>) -> fmt::Result {
    match namespace {
        Some(ns) => write!(f, "{kind} `{ns}/{name}`"),
        None => write!(f, "{kind} `{name}`"),
    }
}

/// A rendered object's identity in messages, shown as [`ObjectRef`] shows it; formatted only when
/// a check fails.
#[derive(Clone, Copy)]
struct Id<'a>(&'a Object);

impl fmt::Display for Id<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show_id(f, key_of(self.0))
    }
}

/// What a stack uses but does not render: objects the user creates (Secrets with credentials) and
/// endpoints outside the stack (an Elasticsearch cluster). References to them are not failures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct External {
    /// Objects that already exist in the cluster.
    pub objects: BTreeSet<ObjectRef>,
    /// Endpoints exactly as written into a config, e.g. `https://elasticsearch.elastic.svc:9200`.
    pub endpoints: BTreeSet<String>,
}

impl External {
    /// Adds everything `other` declares.
    pub fn extend(&mut self, other: External) {
        self.objects.extend(other.objects);
        self.endpoints.extend(other.endpoints);
    }
}

/// A collector or Jaeger config, the build it runs on and where it is mounted.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigRef {
    /// The typed config.
    pub config: Config,
    /// The distribution of the image that runs it.
    pub distribution: Distribution,
    /// Its version.
    pub version: Version,
    /// The workload whose containers run it, e.g. Deployment `observability/otel-collector`.
    pub workload: ObjectRef,
    /// The ConfigMap (in the workload's namespace) that carries it.
    pub config_map: String,
    /// The key of the ConfigMap holding the config file.
    pub key: String,
    /// The YAML the component wrote into the ConfigMap, with the config it was written from; the
    /// check compares texts while `config` still equals that one, and serialises `config` otherwise.
    pub written: Option<Arc<Written>>,
}

/// One failed check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which check failed, e.g. `service-selector`.
    pub check: &'static str,
    /// What is wrong, naming both objects and the field.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The objects or configs fail cross-object checks: every violation.
#[derive(Debug, thiserror::Error)]
#[error("the rendered objects fail {} cross-object check(s):\n{}", .0.len(), list(.0.iter()))]
pub struct Error(pub Vec<Violation>);

/// How much was checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Objects in the set.
    pub objects: usize,
    /// Collector and Jaeger configs.
    pub configs: usize,
    /// Individual checks evaluated (one per reference, port, selector, component ...).
    pub checks: usize,
}

impl std::ops::AddAssign for Summary {
    fn add_assign(&mut self, other: Self) {
        self.objects += other.objects;
        self.configs += other.configs;
        self.checks += other.checks;
    }
}

/// The result of [`run`]: counts and every violation, in a stable order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// How much was checked.
    pub summary: Summary,
    /// Every failure.
    pub violations: Vec<Violation>,
}

/// Runs every check over `objects` (a slice, or borrowed objects from several bundles) and
/// `configs`; references to `external` things are accepted.
#[must_use]
pub fn run<'a>(objects: impl IntoIterator<Item = &'a Object>, configs: &[ConfigRef], external: &External) -> Outcome {
    let objects: Vec<&Object> = objects.into_iter().collect();
    let mut checker = Checker::default();
    let managed = operated(objects.iter().copied(), &mut checker);
    let managed_refs: Vec<&Object> = managed.iter().map(|(_, o)| o).collect();
    let index = Index::new(&objects, &managed_refs, external);
    objects::check(&index, &mut checker);
    objects::check_managed(&index, &managed, &mut checker);
    configs::check(&index, configs, &mut checker);
    Outcome {
        summary: Summary { objects: objects.len(), configs: configs.len(), checks: checker.checks },
        violations: checker.violations,
    }
}

/// What operators create from the operator resources among `objects` (`OpenTelemetryCollector`,
/// `Jaeger`): the Deployments, Services, ConfigMaps and budgets other objects refer to, each with
/// the identity of the resource it comes from. Checks treat them as objects that will exist; the
/// runbook test reads them to resolve commands naming them.
#[must_use]
pub fn managed_objects<'a>(objects: impl IntoIterator<Item = &'a Object>) -> Vec<(ObjectRef, Object)> {
    operated(objects, &mut Checker::default())
}

fn operated<'a>(objects: impl IntoIterator<Item = &'a Object>, checker: &mut Checker) -> Vec<(ObjectRef, Object)> {
    use crate::config::{jaeger_operator, otel_operator};
    let mut managed = Vec::new();
    for object in objects {
        let Object::Custom(custom) = object else { continue };
        let body = serde_json::Value::Object(custom.body.clone());
        let made = match (custom.api_version, custom.kind) {
            (otel_operator::API_VERSION, otel_operator::KIND) => {
                serde_json::from_value::<otel_operator::OpenTelemetryCollector>(body)
                    .map_err(|e| e.to_string())
                    .and_then(|r| otel_operator::managed(&custom.metadata, &r.spec))
                    .map(otel_operator::Managed::into_objects)
            }
            (jaeger_operator::API_VERSION, jaeger_operator::KIND) => {
                serde_json::from_value::<jaeger_operator::Jaeger>(body)
                    .map_err(|e| e.to_string())
                    .and_then(|r| jaeger_operator::managed(&custom.metadata, &r.spec))
                    .map(jaeger_operator::Managed::into_objects)
            }
            _ => continue,
        };
        let id = ObjectRef::of(object);
        match made {
            Ok(made) => {
                checker.checks += 1;
                managed.extend(made.into_iter().map(|o| (id.clone(), o)));
            }
            Err(e) => checker.fail("operator", format!("{id}: what the operator creates from it is unknown: {e}")),
        }
    }
    managed
}

/// [`run`], as a `Result`.
///
/// # Errors
/// [`Error`] with every violation when any check fails.
pub fn check<'a>(
    objects: impl IntoIterator<Item = &'a Object>,
    configs: &[ConfigRef],
    external: &External,
) -> Result<Summary, Error> {
    let outcome = run(objects, configs, external);
    if outcome.violations.is_empty() { Ok(outcome.summary) } else { Err(Error(outcome.violations)) }
}

/// Counts checks and collects failures.
#[derive(Default)]
struct Checker {
    checks: usize,
    violations: Vec<Violation>,
}

impl Checker {
    /// Records one check; `message` is only built when it fails.
    fn check(&mut self, check: &'static str, ok: bool, message: impl FnOnce() -> String) {
        self.checks += 1;
        if !ok {
            self.violations.push(Violation { check, message: message() });
        }
    }

    /// Records one failed check.
    fn fail(&mut self, check: &'static str, message: String) {
        self.check(check, false, || message);
    }
}

/// The rendered objects by identity, plus what is declared external.
struct Index<'a> {
    objects: &'a [&'a Object],
    /// What operators will create from rendered resources: looked up like rendered objects.
    managed: &'a [&'a Object],
    by_ref: BTreeMap<Key<'a>, &'a Object>,
    external: &'a External,
    external_objects: BTreeSet<Key<'a>>,
}

impl<'a> Index<'a> {
    fn new(objects: &'a [&'a Object], managed: &'a [&'a Object], external: &'a External) -> Self {
        // The first of two objects with one identity wins; the duplicate itself is a violation.
        let mut by_ref = BTreeMap::new();
        for object in objects.iter().chain(managed).copied() {
            by_ref.entry(key_of(object)).or_insert(object);
        }
        let external_objects =
            external.objects.iter().map(|r| (r.kind.as_str(), r.namespace.as_deref(), r.name.as_str())).collect();
        Self { objects, managed, by_ref, external, external_objects }
    }

    fn get(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<&'a Object> {
        self.by_ref.get(&(kind, namespace, name)).copied()
    }

    fn is_external(&self, kind: &str, namespace: Option<&str>, name: &str) -> bool {
        self.external_objects.contains(&(kind, namespace, name))
    }

    /// Whether an object is rendered or declared external.
    fn exists(&self, kind: &str, namespace: Option<&str>, name: &str) -> bool {
        self.get(kind, namespace, name).is_some() || self.is_external(kind, namespace, name)
    }

    /// Every workload (an object with a pod template) in `namespace`.
    fn workloads_in(&self, namespace: Option<&'a str>) -> impl Iterator<Item = &'a Object> + 'a {
        self.objects
            .iter()
            .chain(self.managed)
            .copied()
            .filter(move |o| o.namespace() == namespace && o.pod_template().is_some())
    }
}

/// `key=value,key=value`, sorted by key.
fn describe_labels(labels: &BTreeMap<String, String>) -> String {
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

/// An object named without its namespace: ``Deployment `otel-collector` ``.
fn short(object: &Object) -> String {
    format!("{} `{}`", object.kind(), object.name())
}

#[cfg(test)]
mod tests;
