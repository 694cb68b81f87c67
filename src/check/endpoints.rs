//! The network endpoints a typed collector or Jaeger config names: where it connects (exporters,
//! storage backends) and where it listens (receivers, extensions, self-metrics).
//!
//! Every component variant is matched by name, without a catch-all, so a component added to the
//! typed model cannot compile until it says which endpoints it has.

use crate::config::collector::jaeger::{Backend, MetricBackend};
use crate::config::collector::{Config, Connector, Exporter, Extension, Processor, Receiver};

/// The protocol a client speaks to an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP over gRPC: the Service port needs `appProtocol: grpc`.
    OtlpGrpc,
    /// OTLP over HTTP: the Service port needs `appProtocol: http`.
    OtlpHttp,
    /// Plain HTTP(S), e.g. Elasticsearch's REST API: `appProtocol` `http` or `https`.
    Http,
    /// The Kafka protocol, to brokers.
    Kafka,
}

impl Protocol {
    /// The `appProtocol` values of a Service port that fit.
    #[must_use]
    pub fn app_protocols(self) -> &'static [&'static str] {
        match self {
            Self::OtlpGrpc => &["grpc"],
            Self::OtlpHttp => &["http"],
            Self::Http => &["http", "https"],
            Self::Kafka => &["kafka", "tcp"],
        }
    }

    /// `OTLP/gRPC`, `OTLP/HTTP` or `HTTP`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::OtlpGrpc => "OTLP/gRPC",
            Self::OtlpHttp => "OTLP/HTTP",
            Self::Http => "HTTP",
            Self::Kafka => "Kafka",
        }
    }
}

/// An endpoint a config connects to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    /// The component, e.g. ``exporter `otlp_grpc/jaeger` ``.
    pub component: String,
    /// The field within it, e.g. `endpoint`.
    pub field: String,
    /// The address as written, e.g. `dns:///jaeger-collector-headless.observability.svc.cluster.local:4317`.
    pub address: String,
    /// What it speaks.
    pub protocol: Protocol,
    /// Whether the client resolves every address behind the name and balances over them (gRPC
    /// `dns:///` with `round_robin`), which only a headless Service makes possible.
    pub every_address: bool,
}

/// An endpoint a config listens on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    /// The component, e.g. ``receiver `otlp` ``.
    pub component: String,
    /// The field within it, e.g. `protocols.grpc.endpoint`.
    pub field: String,
    /// The listen address as written, e.g. `0.0.0.0:4317`.
    pub address: String,
}

/// Every broker a Kafka client bootstraps from.
fn kafka_clients(component: &str, client: &crate::config::collector::component::KafkaClient) -> Vec<Client> {
    client
        .brokers
        .iter()
        .map(|broker| Client {
            component: component.to_owned(),
            field: "brokers".into(),
            address: broker.clone(),
            protocol: Protocol::Kafka,
            every_address: false,
        })
        .collect()
}

/// Every endpoint `config` connects to.
#[must_use]
pub fn clients(config: &Config) -> Vec<Client> {
    let mut out = Vec::new();
    for (id, exporter) in &config.exporters {
        let component = format!("exporter `{id}`");
        match exporter {
            Exporter::OtlpGrpc(e) | Exporter::Otlp(e) => out.push(Client {
                component,
                field: "endpoint".into(),
                address: e.endpoint.clone(),
                protocol: Protocol::OtlpGrpc,
                every_address: e.endpoint.starts_with("dns:///") && e.balancer_name.as_deref() == Some("round_robin"),
            }),
            Exporter::OtlpHttp(e) => out.push(Client {
                component,
                field: "endpoint".into(),
                address: e.endpoint.clone(),
                protocol: Protocol::OtlpHttp,
                every_address: false,
            }),
            // The DNS resolver balances over every address of its name (a headless Service); the
            // k8s resolver reads the Service's EndpointSlices, so any Service port will do.
            Exporter::LoadBalancing(e) => {
                if let Some(dns) = &e.resolver.dns {
                    out.push(Client {
                        component: component.clone(),
                        field: "resolver.dns.hostname".into(),
                        address: format!("{}:{}", dns.hostname, dns.port),
                        protocol: Protocol::OtlpGrpc,
                        every_address: true,
                    });
                }
                if let Some(k8s) = &e.resolver.k8s {
                    for port in &k8s.ports {
                        out.push(Client {
                            component: component.clone(),
                            field: "resolver.k8s.service".into(),
                            address: format!("{}:{port}", k8s.service),
                            protocol: Protocol::OtlpGrpc,
                            every_address: false,
                        });
                    }
                }
            }
            Exporter::Kafka(e) => out.extend(kafka_clients(&component, &e.client)),
            Exporter::Debug(_) | Exporter::JaegerStorage(_) | Exporter::Nop(_) | Exporter::Prometheus(_) => {}
        }
    }
    for (id, extension) in &config.extensions {
        match extension {
            Extension::JaegerStorage(storage) => {
                for (name, backend) in &storage.metric_backends {
                    match backend {
                        MetricBackend::Prometheus(p) => out.push(Client {
                            component: format!("extension `{id}`"),
                            field: format!("metric_backends.{name}.prometheus.endpoint"),
                            address: p.endpoint.clone(),
                            protocol: Protocol::Http,
                            every_address: false,
                        }),
                        MetricBackend::Elasticsearch(es) | MetricBackend::Opensearch(es) => {
                            let key = if matches!(backend, MetricBackend::Opensearch(_)) {
                                "opensearch"
                            } else {
                                "elasticsearch"
                            };
                            for (i, url) in es.server_urls.iter().enumerate() {
                                out.push(Client {
                                    component: format!("extension `{id}`"),
                                    field: format!("metric_backends.{name}.{key}.server_urls[{i}]"),
                                    address: url.clone(),
                                    protocol: Protocol::Http,
                                    every_address: false,
                                });
                            }
                        }
                    }
                }
                for (name, backend) in &storage.backends {
                    match backend {
                        // In-process stores connect to nothing; ClickHouse addresses are
                        // `host:port` of a server outside the stack that no rendered Service serves.
                        Backend::Memory(_) | Backend::Badger(_) | Backend::Clickhouse(_) => {}
                        Backend::Elasticsearch(es) | Backend::Opensearch(es) => {
                            let key =
                                if matches!(backend, Backend::Opensearch(_)) { "opensearch" } else { "elasticsearch" };
                            for (i, url) in es.server_urls.iter().enumerate() {
                                out.push(Client {
                                    component: format!("extension `{id}`"),
                                    field: format!("backends.{name}.{key}.server_urls[{i}]"),
                                    address: url.clone(),
                                    protocol: Protocol::Http,
                                    every_address: false,
                                });
                            }
                        }
                    }
                }
            }
            Extension::HealthCheck(_)
            | Extension::HealthCheckV2(_)
            | Extension::Pprof(_)
            | Extension::Zpages(_)
            | Extension::JaegerQuery(_)
            | Extension::RemoteSampling(_) => {}
        }
    }
    // Receivers, processors and connectors of the typed model connect to nothing, but a Kafka
    // consumer, which connects to its brokers.
    for (id, receiver) in &config.receivers {
        match receiver {
            Receiver::Kafka(r) => out.extend(kafka_clients(&format!("receiver `{id}`"), &r.client)),
            Receiver::Otlp(_) | Receiver::Zipkin(_) | Receiver::Nop(_) => {}
        }
    }
    for processor in config.processors.values() {
        match processor {
            Processor::MemoryLimiter(_)
            | Processor::Batch(_)
            | Processor::ProbabilisticSampler(_)
            | Processor::K8sAttributes(_)
            | Processor::K8sAttributesLegacy(_)
            | Processor::Resource(_)
            | Processor::TailSampling(_) => {}
        }
    }
    for connector in config.connectors.values() {
        match connector {
            Connector::Forward(_) | Connector::SpanMetrics(_) => {}
        }
    }
    out
}

/// Every endpoint `config` listens on, self-metrics included.
#[must_use]
pub fn servers(config: &Config) -> Vec<Server> {
    let mut out = Vec::new();
    let mut add = |component: String, field: &str, address: &str| {
        out.push(Server { component, field: field.to_owned(), address: address.to_owned() });
    };
    for (id, receiver) in &config.receivers {
        let component = format!("receiver `{id}`");
        match receiver {
            Receiver::Otlp(r) => {
                if let Some(grpc) = &r.protocols.grpc {
                    add(component.clone(), "protocols.grpc.endpoint", &grpc.endpoint);
                }
                if let Some(http) = &r.protocols.http {
                    add(component, "protocols.http.endpoint", &http.endpoint);
                }
            }
            Receiver::Zipkin(r) => {
                if let Some(protocols) = &r.protocols {
                    add(component.clone(), "protocols.http.endpoint", &protocols.http.endpoint);
                }
                if let Some(endpoint) = &r.endpoint {
                    add(component, "endpoint", endpoint);
                }
            }
            Receiver::Nop(_) | Receiver::Kafka(_) => {}
        }
    }
    for (id, extension) in &config.extensions {
        let component = format!("extension `{id}`");
        match extension {
            Extension::HealthCheck(e) => add(component, "endpoint", &e.endpoint),
            Extension::HealthCheckV2(e) => add(component, "http.endpoint", &e.http.endpoint),
            Extension::Pprof(e) | Extension::Zpages(e) => add(component, "endpoint", &e.endpoint),
            Extension::JaegerQuery(q) => {
                add(component.clone(), "http.endpoint", &q.http.endpoint);
                add(component, "grpc.endpoint", &q.grpc.endpoint);
            }
            Extension::RemoteSampling(s) => {
                add(component.clone(), "http.endpoint", &s.http.endpoint);
                add(component, "grpc.endpoint", &s.grpc.endpoint);
            }
            Extension::JaegerStorage(_) => {}
        }
    }
    for (id, exporter) in &config.exporters {
        if let Exporter::Prometheus(e) = exporter {
            add(format!("exporter `{id}`"), "endpoint", &e.endpoint);
        }
    }
    for (i, reader) in config.service.telemetry.metrics.readers.iter().enumerate() {
        let prometheus = &reader.pull.exporter.prometheus;
        add(
            "service.telemetry.metrics".into(),
            &format!("readers[{i}].pull.exporter.prometheus"),
            &format!("{}:{}", prometheus.host, prometheus.port),
        );
    }
    out
}

/// Host and port of an address: `host:port`, `[::1]:port`, `dns:///host:port`, or a URL
/// `http(s)://host[:port][/path]` (port 80 or 443 when left out).
#[must_use]
pub fn host_port(address: &str) -> Option<(&str, u16)> {
    let (rest, default_port) = if let Some(rest) = address.strip_prefix("dns:///") {
        (rest, None)
    } else if let Some(rest) = address.strip_prefix("http://") {
        (rest, Some(80))
    } else if let Some(rest) = address.strip_prefix("https://") {
        (rest, Some(443))
    } else {
        (address, None)
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && !port.contains(']') => (host, Some(port.parse().ok()?)),
        _ => (authority, None),
    };
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let port = port.or(default_port)?;
    (!host.is_empty()).then_some((host, port))
}

/// The Service an in-cluster host name names: `name` (in `namespace`), `name.ns`, `name.ns.svc` or
/// `name.ns.svc.cluster.local`; `None` for anything else (an IP, an outside host name).
#[must_use]
pub fn service_of<'a>(host: &'a str, namespace: &'a str) -> Option<(&'a str, &'a str)> {
    let host = host.strip_suffix(".cluster.local").unwrap_or(host);
    let host = host.strip_suffix(".svc").unwrap_or(host);
    let parts: Vec<&str> = host.split('.').collect();
    let label = |s: &str| crate::value::names::dns1123_label(s).is_ok();
    match parts.as_slice() {
        [name] if label(name) && !name.bytes().all(|b| b.is_ascii_digit()) => Some((name, namespace)),
        [name, ns] if label(name) && label(ns) => Some((name, ns)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_into_host_and_port() {
        assert_eq!(
            host_port("jaeger-collector.observability.svc:4317"),
            Some(("jaeger-collector.observability.svc", 4317))
        );
        assert_eq!(host_port("dns:///j.o.svc.cluster.local:4317"), Some(("j.o.svc.cluster.local", 4317)));
        assert_eq!(host_port("https://es.elastic.svc:9200/"), Some(("es.elastic.svc", 9200)));
        assert_eq!(host_port("https://es.example.com"), Some(("es.example.com", 443)));
        assert_eq!(host_port("http://otlp:4318/v1/traces"), Some(("otlp", 4318)));
        assert_eq!(host_port("[::]:4317"), Some(("::", 4317)));
        assert_eq!(host_port("0.0.0.0:13133"), Some(("0.0.0.0", 13133)));
        assert_eq!(host_port("otlp"), None);
        assert_eq!(host_port("otlp:99999"), None);
        assert_eq!(host_port(":4317"), None);
    }

    #[test]
    fn in_cluster_names_resolve_to_a_service() {
        assert_eq!(service_of("otlp", "observability"), Some(("otlp", "observability")));
        assert_eq!(service_of("otlp.other", "observability"), Some(("otlp", "other")));
        assert_eq!(service_of("otlp.other.svc", "observability"), Some(("otlp", "other")));
        assert_eq!(service_of("otlp.other.svc.cluster.local", "x"), Some(("otlp", "other")));
        assert_eq!(service_of("es.example.com", "x"), None);
        assert_eq!(service_of("10.0.0.1", "x"), None);
        assert_eq!(service_of("localhost", "x"), Some(("localhost", "x")));
    }
}
