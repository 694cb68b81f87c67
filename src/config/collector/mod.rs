//! Typed OpenTelemetry Collector configuration: components, pipelines and the `service` section.
//!
//! Jaeger v2 is a collector distribution, so its configuration is a [`Config`] too; the Jaeger-only
//! components live in [`crate::config::collector::jaeger`] and plug into the same enums.

pub mod component;
pub mod distribution;
pub mod jaeger;
pub mod settings;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::format;

pub use component::{Connector, Exporter, Extension, Processor, Receiver};
pub use distribution::{ComponentKind, Distribution, Version};

/// A config and the YAML it serialises to, written once when its component is built: the ConfigMap
/// carries the text, and the cross-object check that the ConfigMap holds the config reuses it while
/// the config it is given still equals this one, instead of serialising the config a second time.
///
/// Only [`Written::new`] makes one, so the text is always exactly the config's YAML.
#[derive(Clone, Debug, PartialEq)]
pub struct Written {
    config: Config,
    text: String,
}

impl Written {
    /// Serialises `config`.
    ///
    /// # Errors
    /// [`format::Error::Serialize`] when it does not serialise.
    pub fn new(config: &Config) -> Result<Self, format::Error> {
        Ok(Self { text: crate::format::yaml::to_string(config)?, config: config.clone() })
    }

    /// The YAML.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The YAML of `config`, when it is the config this was written from.
    #[must_use]
    pub fn text_of(&self, config: &Config) -> Option<&str> {
        (self.config == *config).then_some(self.text.as_str())
    }
}

/// A component's id in a collector config: its type, optionally followed by `/name`.
///
/// The type comes from the component value itself (see [`Config::add_receiver`] and friends), so an
/// id can never name a type other than the component it identifies.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComponentId {
    type_name: &'static str,
    name: Option<String>,
}

impl ComponentId {
    /// The id `type_name` or `type_name/name`.
    #[must_use]
    pub fn new(type_name: &'static str, name: Option<&str>) -> Self {
        Self { type_name, name: name.filter(|n| !n.is_empty()).map(str::to_owned) }
    }

    /// The component type, e.g. `otlp`.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The part after `/`, if any.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{}/{name}", self.type_name),
            None => f.write_str(self.type_name),
        }
    }
}

impl Serialize for ComponentId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The signal a pipeline carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    /// Spans.
    Traces,
    /// Metrics.
    Metrics,
    /// Logs.
    Logs,
}

impl Signal {
    /// The pipeline type as the collector spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Traces => "traces",
            Self::Metrics => "metrics",
            Self::Logs => "logs",
        }
    }
}

/// A pipeline id such as `traces` or `traces/sampled`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PipelineId {
    /// What the pipeline carries.
    pub signal: Signal,
    /// The part after `/`, if any.
    pub name: Option<String>,
}

impl PipelineId {
    /// A pipeline id for `signal`, optionally named.
    #[must_use]
    pub fn new(signal: Signal, name: Option<&str>) -> Self {
        Self { signal, name: name.map(str::to_owned) }
    }
}

impl fmt::Display for PipelineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{}/{name}", self.signal.as_str()),
            None => f.write_str(self.signal.as_str()),
        }
    }
}

impl Serialize for PipelineId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One pipeline: where data enters, how it is processed (in order), and where it goes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Pipeline {
    /// Receivers (or connectors acting as receivers) feeding the pipeline.
    pub receivers: Vec<ComponentId>,
    /// Processors, applied in this order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub processors: Vec<ComponentId>,
    /// Exporters (or connectors acting as exporters) the pipeline fans out to.
    pub exporters: Vec<ComponentId>,
}

/// `service.telemetry.logs`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Logs {
    /// `debug`, `info`, `warn` or `error`.
    pub level: String,
    /// `json` or `console`.
    pub encoding: String,
}

/// `service.telemetry.metrics`: the collector's own metrics, served for Prometheus to scrape.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metrics {
    /// `none`, `basic`, `normal` or `detailed`.
    pub level: String,
    /// Where the metrics are exposed.
    pub readers: Vec<MetricReader>,
}

/// One metric reader; tracestack only uses a Prometheus pull endpoint.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricReader {
    /// The pull reader.
    pub pull: PullReader,
}

/// `pull: {exporter: {prometheus: {host, port}}}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PullReader {
    /// The exporter of the pull reader.
    pub exporter: PullExporter,
}

/// The Prometheus exporter of a pull reader.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PullExporter {
    /// Host and port to listen on.
    pub prometheus: PrometheusEndpoint,
}

/// Host and port of the self-metrics endpoint.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PrometheusEndpoint {
    /// Listen address; `0.0.0.0` so that Prometheus can scrape the pod.
    pub host: String,
    /// Listen port.
    pub port: u16,
}

impl Metrics {
    /// Self-metrics at `level` served on `0.0.0.0:port`.
    ///
    /// Since v0.123 the collector binds its self-metrics to `localhost:8888` unless told otherwise
    /// (the `address` key was replaced by `readers`), which a Prometheus outside the pod cannot reach.
    #[must_use]
    pub fn prometheus(level: &str, port: u16) -> Self {
        Self {
            level: level.to_owned(),
            readers: vec![MetricReader {
                pull: PullReader {
                    exporter: PullExporter { prometheus: PrometheusEndpoint { host: "0.0.0.0".into(), port } },
                },
            }],
        }
    }
}

/// `service.telemetry`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Telemetry {
    /// Log settings.
    pub logs: Logs,
    /// Self-metrics settings.
    pub metrics: Metrics,
}

impl Default for Telemetry {
    fn default() -> Self {
        Self {
            logs: Logs { level: "info".into(), encoding: "json".into() },
            metrics: Metrics::prometheus("normal", crate::value::ports::COLLECTOR_METRICS),
        }
    }
}

/// The `service` section: enabled extensions, pipelines and self-telemetry.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Service {
    /// Extensions to start, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<ComponentId>,
    /// Pipelines by id.
    pub pipelines: BTreeMap<PipelineId, Pipeline>,
    /// Self-telemetry.
    pub telemetry: Telemetry,
}

/// A whole collector (or Jaeger v2) configuration file.
///
/// Maps are ordered by id, so the same config always serialises to the same bytes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Config {
    /// Where data enters.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub receivers: BTreeMap<ComponentId, Receiver>,
    /// What is done to it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub processors: BTreeMap<ComponentId, Processor>,
    /// Components that join pipelines.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub connectors: BTreeMap<ComponentId, Connector>,
    /// Where it leaves.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub exporters: BTreeMap<ComponentId, Exporter>,
    /// Health, storage, query and other services that are not in a pipeline.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extensions: BTreeMap<ComponentId, Extension>,
    /// Pipelines and telemetry.
    pub service: Service,
}

/// Something wrong with a [`Config`]: a reference to nothing, an unused component, or a component
/// the pinned distribution does not ship.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A pipeline or `service.extensions` names a component that is not defined.
    #[error("{place} uses {kind} `{id}`, which is not defined under `{section}`")]
    Undefined {
        /// Where the reference is, e.g. `service.pipelines.traces.processors`.
        place: String,
        /// What kind of component was expected.
        kind: ComponentKind,
        /// The id used.
        id: String,
        /// The section that should define it.
        section: &'static str,
    },
    /// A component is defined but no pipeline (or `service.extensions`) uses it.
    #[error("{kind} `{id}` is defined but never used by a pipeline")]
    Unused {
        /// What kind of component.
        kind: ComponentKind,
        /// Its id.
        id: String,
    },
    /// A connector is used on only one side of the pipelines.
    #[error(
        "connector `{id}` must be an exporter of one pipeline and a receiver of another; it is only used as {side}"
    )]
    ConnectorOneSided {
        /// The connector id.
        id: String,
        /// `an exporter` or `a receiver`.
        side: &'static str,
    },
    /// A pipeline has no receiver or no exporter.
    #[error("pipeline `{pipeline}` has no {missing}")]
    EmptyPipeline {
        /// The pipeline id.
        pipeline: String,
        /// `receivers` or `exporters`.
        missing: &'static str,
    },
    /// The pinned distribution does not ship a component type.
    #[error("{distribution} {version} does not ship the {kind} `{type_name}`{hint}")]
    NotShipped {
        /// Distribution name.
        distribution: &'static str,
        /// Its version.
        version: Version,
        /// Component kind.
        kind: ComponentKind,
        /// Component type.
        type_name: &'static str,
        /// A note on when it was removed, or which distribution has it.
        hint: String,
    },
    /// The component table does not know this distribution version.
    #[error("{0}")]
    UnknownVersion(String),
}

macro_rules! add_fns {
    ($($(#[$doc:meta])* $fn_name:ident, $field:ident, $ty:ty;)*) => {
        $(
            $(#[$doc])*
            pub fn $fn_name(&mut self, name: Option<&str>, component: $ty) -> ComponentId {
                let id = ComponentId::new(component.type_name(), name);
                self.$field.insert(id.clone(), component);
                id
            }
        )*
    };
}

impl Config {
    add_fns! {
        /// Adds a receiver (id `type` or `type/name`) and returns its id.
        add_receiver, receivers, Receiver;
        /// Adds a processor and returns its id.
        add_processor, processors, Processor;
        /// Adds a connector and returns its id.
        add_connector, connectors, Connector;
        /// Adds an exporter and returns its id.
        add_exporter, exporters, Exporter;
        /// Adds an extension and returns its id; it is not enabled until listed in
        /// `service.extensions` (see [`Config::enable_extension`]).
        add_extension, extensions, Extension;
    }

    /// Adds an extension and enables it in `service.extensions`.
    pub fn enable_extension(&mut self, name: Option<&str>, extension: Extension) -> ComponentId {
        let id = self.add_extension(name, extension);
        self.service.extensions.push(id.clone());
        id
    }

    /// Adds a pipeline.
    pub fn add_pipeline(&mut self, id: PipelineId, pipeline: Pipeline) {
        self.service.pipelines.insert(id, pipeline);
    }

    /// Every component type with its kind, for distribution checks.
    pub fn component_types(&self) -> impl Iterator<Item = (ComponentKind, &'static str)> + '_ {
        let r = self.receivers.keys().map(|id| (ComponentKind::Receiver, id.type_name()));
        let p = self.processors.keys().map(|id| (ComponentKind::Processor, id.type_name()));
        let c = self.connectors.keys().map(|id| (ComponentKind::Connector, id.type_name()));
        let e = self.exporters.keys().map(|id| (ComponentKind::Exporter, id.type_name()));
        let x = self.extensions.keys().map(|id| (ComponentKind::Extension, id.type_name()));
        r.chain(p).chain(c).chain(e).chain(x)
    }

    /// Checks that every reference resolves, nothing defined is unused, connectors join two
    /// pipelines, and every component ships in `distribution` at `version`.
    ///
    /// # Errors
    /// Every problem found, in a stable order.
    pub fn validate(&self, distribution: Distribution, version: Version) -> Result<(), Vec<ConfigError>> {
        let mut errors = self.check_wiring();
        errors.extend(check_shipped(self, distribution, version));
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    fn check_wiring(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        let mut used_as_receiver = std::collections::BTreeSet::new();
        let mut used_as_exporter = std::collections::BTreeSet::new();
        let mut used = std::collections::BTreeSet::new();
        for id in &self.service.extensions {
            used.insert((ComponentKind::Extension, id.clone()));
            if !self.extensions.contains_key(id) {
                errors.push(undefined("service.extensions", ComponentKind::Extension, id));
            }
        }
        for (pid, pipeline) in &self.service.pipelines {
            for (list, missing) in [(&pipeline.receivers, "receivers"), (&pipeline.exporters, "exporters")] {
                if list.is_empty() {
                    errors.push(ConfigError::EmptyPipeline { pipeline: pid.to_string(), missing });
                }
            }
            let place = |part: &str| format!("service.pipelines.{pid}.{part}");
            for id in &pipeline.receivers {
                if self.connectors.contains_key(id) {
                    used_as_receiver.insert(id.clone());
                } else if self.receivers.contains_key(id) {
                    used.insert((ComponentKind::Receiver, id.clone()));
                } else {
                    errors.push(undefined(&place("receivers"), ComponentKind::Receiver, id));
                }
            }
            for id in &pipeline.processors {
                if self.processors.contains_key(id) {
                    used.insert((ComponentKind::Processor, id.clone()));
                } else {
                    errors.push(undefined(&place("processors"), ComponentKind::Processor, id));
                }
            }
            for id in &pipeline.exporters {
                if self.connectors.contains_key(id) {
                    used_as_exporter.insert(id.clone());
                } else if self.exporters.contains_key(id) {
                    used.insert((ComponentKind::Exporter, id.clone()));
                } else {
                    errors.push(undefined(&place("exporters"), ComponentKind::Exporter, id));
                }
            }
        }
        let defined = [
            (ComponentKind::Receiver, self.receivers.keys().collect::<Vec<_>>()),
            (ComponentKind::Processor, self.processors.keys().collect()),
            (ComponentKind::Exporter, self.exporters.keys().collect()),
            (ComponentKind::Extension, self.extensions.keys().collect()),
        ];
        for (kind, ids) in defined {
            for id in ids {
                if !used.contains(&(kind, id.clone())) {
                    errors.push(ConfigError::Unused { kind, id: id.to_string() });
                }
            }
        }
        for id in self.connectors.keys() {
            match (used_as_exporter.contains(id), used_as_receiver.contains(id)) {
                (true, true) => {}
                (false, false) => {
                    errors.push(ConfigError::Unused { kind: ComponentKind::Connector, id: id.to_string() });
                }
                (true, false) => {
                    errors.push(ConfigError::ConnectorOneSided { id: id.to_string(), side: "an exporter" });
                }
                (false, true) => {
                    errors.push(ConfigError::ConnectorOneSided { id: id.to_string(), side: "a receiver" });
                }
            }
        }
        errors
    }
}

fn undefined(place: &str, kind: ComponentKind, id: &ComponentId) -> ConfigError {
    ConfigError::Undefined { place: place.to_owned(), kind, id: id.to_string(), section: kind.plural() }
}

fn check_shipped(config: &Config, distribution: Distribution, version: Version) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (kind, type_name) in config.component_types() {
        if !seen.insert((kind, type_name)) {
            continue;
        }
        match distribution::ships(distribution, version, kind, type_name) {
            Ok(true) => {}
            Ok(false) => {
                let first = distribution::first_version_with(distribution, kind, type_name);
                let last = distribution::last_version_with(distribution, kind, type_name);
                let hint = match (first, last) {
                    (Some(first), _) if version < first => format!(" (it was added in {first})"),
                    (_, Some(last)) if version > last => format!(" (it was removed after {last})"),
                    _ => {
                        let elsewhere: Vec<&str> = Distribution::ALL
                            .iter()
                            .filter(|d| {
                                distribution::known_versions(**d)
                                    .last()
                                    .is_some_and(|v| distribution::ships(**d, *v, kind, type_name) == Ok(true))
                            })
                            .map(|d| d.name())
                            .collect();
                        if elsewhere.is_empty() {
                            String::new()
                        } else {
                            format!(" (it ships in {})", elsewhere.join(", "))
                        }
                    }
                };
                errors.push(ConfigError::NotShipped {
                    distribution: distribution.name(),
                    version,
                    kind,
                    type_name,
                    hint,
                });
            }
            Err(unknown) => {
                errors.push(ConfigError::UnknownVersion(unknown.to_string()));
                break;
            }
        }
    }
    errors
}
