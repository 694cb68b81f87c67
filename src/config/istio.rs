//! Typed Istio configuration tracestack writes (mesh config, `Telemetry`, `IstioOperator` overlay,
//! istiod Helm values) and the checks that it reaches the collector gateway it is rendered with.
//!
//! Field names are the proto JSON names (lowerCamelCase) that istioctl and istiod read. The
//! extension provider fields follow `MeshConfig.ExtensionProvider` in istio/api
//! `mesh/v1alpha1/config.proto` (checked in tests against `../shared/schemas/istio`); the
//! `Telemetry` fields follow the `telemetries.telemetry.istio.io` CRD (checked against
//! `../shared/crds`).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use serde::Serialize;

use crate::config::collector::component::OtlpReceiver;
use crate::config::collector::{Config, Receiver};
use crate::config::k8s::CustomKind;

/// The namespace Istio reads mesh-wide configuration from (its default `rootNamespace`).
pub const ROOT_NAMESPACE: &str = "istio-system";

/// The part of `meshConfig` tracestack sets.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshConfig {
    /// Whether Envoy traces at all.
    pub enable_tracing: bool,
    /// Proxy defaults; tracestack only sets the legacy tracer.
    pub default_config: ProxyConfig,
    /// Named telemetry backends a `Telemetry` can select.
    pub extension_providers: Vec<ExtensionProvider>,
}

/// `meshConfig.defaultConfig` (`ProxyConfig`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProxyConfig {
    /// The legacy tracer settings.
    pub tracing: ProxyTracing,
}

/// `meshConfig.defaultConfig.tracing`: empty (`{}`) turns the legacy tracer off, as Istio's
/// Telemetry API task does ("disable legacy MeshConfig tracing options").
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ProxyTracing {
    /// The legacy Zipkin tracer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zipkin: Option<ZipkinTracer>,
}

/// `meshConfig.defaultConfig.tracing.zipkin`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ZipkinTracer {
    /// `host:port` of a Zipkin v2 HTTP endpoint.
    pub address: String,
}

/// One `meshConfig.extensionProviders` entry; tracestack only writes `opentelemetry` ones.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExtensionProvider {
    /// The name a `Telemetry` selects it by.
    pub name: String,
    /// An OTLP/gRPC trace exporter.
    pub opentelemetry: OpenTelemetryProvider,
}

/// `MeshConfig.ExtensionProvider.OpenTelemetryTracingProvider`: Envoy's OpenTelemetry tracer
/// exporting OTLP over gRPC (no `http` block) to `service:port`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OpenTelemetryProvider {
    /// Fully qualified host of the Service, e.g. `otlp.observability.svc.cluster.local`.
    pub service: String,
    /// Its OTLP/gRPC port.
    pub port: u16,
}

/// An `IstioOperator` overlay for `istioctl install -f`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IstioOperator {
    /// `install.istio.io/v1alpha1`.
    pub api_version: &'static str,
    /// `IstioOperator`.
    pub kind: &'static str,
    /// The overlay.
    pub spec: IstioOperatorSpec,
}

/// `IstioOperator.spec`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IstioOperatorSpec {
    /// The istiod revision this overlay installs, for revision-based installs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Mesh config merged into the installed one.
    pub mesh_config: MeshConfig,
}

impl IstioOperator {
    /// An overlay carrying `mesh_config`, for `revision` when given.
    #[must_use]
    pub fn new(mesh_config: MeshConfig, revision: Option<String>) -> Self {
        Self {
            api_version: "install.istio.io/v1alpha1",
            kind: "IstioOperator",
            spec: IstioOperatorSpec { revision, mesh_config },
        }
    }
}

/// Values for the `istiod` Helm chart, whose top-level `meshConfig` is merged over the mesh config
/// the chart generates (`manifests/charts/istio-control/istio-discovery/values.yaml`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IstiodValues {
    /// The chart's top-level `revision`, for revision-based installs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The mesh config.
    pub mesh_config: MeshConfig,
}

/// A `Telemetry` (`telemetry.istio.io/v1`, Istio 1.22 and later).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Telemetry {
    /// The spec.
    pub spec: TelemetrySpec,
}

impl CustomKind for Telemetry {
    const API_VERSION: &'static str = "telemetry.istio.io/v1";
    const KIND: &'static str = "Telemetry";
}

/// `Telemetry.spec`; without a selector it applies to every workload in its namespace, and in the
/// root namespace to the whole mesh.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TelemetrySpec {
    /// Tracing settings.
    pub tracing: Vec<Tracing>,
}

/// One `Telemetry.spec.tracing` entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tracing {
    /// The extension providers spans are reported to.
    pub providers: Vec<ProviderRef>,
    /// Share of requests without an upstream sampling decision that start a trace, 0–100.
    pub random_sampling_percentage: f64,
    /// Extra span tags by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_tags: BTreeMap<String, CustomTag>,
}

/// A provider selected by name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProviderRef {
    /// A `meshConfig.extensionProviders` name.
    pub name: String,
}

/// Where a custom tag's value comes from: exactly one source.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomTag {
    /// A fixed value.
    Literal(LiteralTag),
    /// A request header.
    Header(SourcedTag),
    /// An environment variable of the proxy.
    Environment(SourcedTag),
}

/// `customTags.<tag>.literal`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LiteralTag {
    /// The value.
    pub value: String,
}

/// `customTags.<tag>.header` or `.environment`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourcedTag {
    /// Header or variable name.
    pub name: String,
    /// Used when it is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
}

/// A way the Istio configuration fails to reach the gateway: `subject` (the Istio side) and
/// `problem` (what the stack has instead).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{subject}: {problem}")]
pub struct CheckError {
    /// The Istio setting, e.g. `meshConfig.extensionProviders[otel-tracing].opentelemetry`.
    pub subject: String,
    /// What is wrong, naming the stack's side.
    pub problem: String,
}

/// The collector gateway as the Istio configuration must reach it: its Service, the Deployment
/// whose container ports the Service targets, and the config whose receivers listen on them.
#[derive(Clone, Copy, Debug)]
pub struct GatewayRef<'a> {
    /// The Service Istio's providers name.
    pub service: &'a Service,
    /// The Deployment behind the Service.
    pub deployment: &'a Deployment,
    /// The collector config the Deployment runs.
    pub config: &'a Config,
}

/// What a Service port of the gateway leads to.
struct Backend {
    service_port: String,
    container_port: u16,
}

/// Checks that `mesh` and `telemetry` (named `telemetry_id`, `namespace/name`) reach `gateway`:
/// every OpenTelemetry provider's service and port are the gateway Service's OTLP/gRPC port, every
/// provider the `Telemetry` selects is defined, and a legacy Zipkin address is a Service port
/// backed by a `zipkin` receiver.
///
/// # Errors
/// Every mismatch found, each naming both sides.
pub fn check(
    mesh: &MeshConfig,
    telemetry: &Telemetry,
    telemetry_id: &str,
    gateway: GatewayRef<'_>,
) -> Result<(), Vec<CheckError>> {
    let mut errors = Vec::new();
    for provider in &mesh.extension_providers {
        let subject = format!("meshConfig.extensionProviders[{}].opentelemetry", provider.name);
        let host = provider.opentelemetry.service.rsplit('/').next().unwrap_or_default();
        let problem = resolve(gateway, host, provider.opentelemetry.port).and_then(|backend| {
            let grpc = otlp_receivers(gateway)
                .any(|(_, r)| r.protocols.grpc.as_ref().is_some_and(|g| port_of(&g.endpoint) == Some(backend.container_port)));
            if grpc {
                Ok(())
            } else {
                Err(format!(
                    "port {} is Service `{}` port `{}` (container port {}), where the collector serves {}, not OTLP/gRPC",
                    provider.opentelemetry.port,
                    service_name(gateway),
                    backend.service_port,
                    backend.container_port,
                    served_on(gateway, backend.container_port)
                ))
            }
        });
        if let Err(problem) = problem {
            errors.push(CheckError { subject, problem });
        }
    }
    let defined: Vec<&str> = mesh.extension_providers.iter().map(|p| p.name.as_str()).collect();
    for (i, tracing) in telemetry.spec.tracing.iter().enumerate() {
        for (j, provider) in tracing.providers.iter().enumerate() {
            if !defined.contains(&provider.name.as_str()) {
                errors.push(CheckError {
                    subject: format!("Telemetry `{telemetry_id}` spec.tracing[{i}].providers[{j}]"),
                    problem: format!(
                        "selects provider `{}`, which meshConfig.extensionProviders does not define (it defines {})",
                        provider.name,
                        if defined.is_empty() { "none".to_owned() } else { format!("`{}`", defined.join("`, `")) }
                    ),
                });
            }
        }
    }
    if let Some(zipkin) = &mesh.default_config.tracing.zipkin {
        let subject = "meshConfig.defaultConfig.tracing.zipkin.address".to_owned();
        let problem = match zipkin.address.rsplit_once(':') {
            None => Err(format!("`{}` is not `host:port`", zipkin.address)),
            Some((host, port)) => match port.parse::<u16>() {
                Err(_) => Err(format!("`{}` has no valid port", zipkin.address)),
                Ok(port) => resolve(gateway, host, port).and_then(|backend| {
                    let zipkin_receiver = gateway.config.receivers.values().any(|r| {
                        matches!(r, Receiver::Zipkin(z) if z.endpoint().and_then(port_of) == Some(backend.container_port))
                    });
                    if zipkin_receiver {
                        Ok(())
                    } else {
                        Err(format!(
                            "`{}` is Service `{}` port `{}` (container port {}), where the collector serves {}, not a `zipkin` receiver",
                            zipkin.address,
                            service_name(gateway),
                            backend.service_port,
                            backend.container_port,
                            served_on(gateway, backend.container_port)
                        ))
                    }
                }),
            },
        };
        if let Err(problem) = problem {
            errors.push(CheckError { subject, problem });
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// The fully qualified host of the gateway Service, as Istio's service registry names it.
#[must_use]
pub fn gateway_host(gateway: GatewayRef<'_>) -> String {
    format!(
        "{}.{}.svc.cluster.local",
        service_name(gateway),
        gateway.service.metadata.namespace.as_deref().unwrap_or_default()
    )
}

fn service_name(gateway: GatewayRef<'_>) -> &str {
    gateway.service.metadata.name.as_deref().unwrap_or_default()
}

/// Follows `host:port` to the container port behind the gateway Service.
fn resolve(gateway: GatewayRef<'_>, host: &str, port: u16) -> Result<Backend, String> {
    let expected = gateway_host(gateway);
    if host != expected {
        return Err(format!(
            "host `{host}` is not the gateway Service `{}` (`{expected}`; Istio needs the fully qualified name)",
            service_name(gateway)
        ));
    }
    let ports = gateway.service.spec.as_ref().and_then(|s| s.ports.as_deref()).unwrap_or_default();
    let Some(service_port) = ports.iter().find(|p| p.port == i32::from(port)) else {
        let listed: Vec<String> =
            ports.iter().map(|p| format!("{} {}", p.name.as_deref().unwrap_or_default(), p.port)).collect();
        return Err(format!(
            "Service `{}` has no port {port} (it has {})",
            service_name(gateway),
            if listed.is_empty() { "none".to_owned() } else { listed.join(", ") }
        ));
    };
    let name = service_port.name.clone().unwrap_or_default();
    let containers = gateway.deployment.spec.as_ref().and_then(|s| s.template.spec.as_ref()).map(|s| &s.containers);
    let container_ports = containers.into_iter().flatten().flat_map(|c| c.ports.iter().flatten());
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let target = match &service_port.target_port {
        Some(IntOrString::String(target)) => container_ports
            .clone()
            .find(|p| p.name.as_deref() == Some(target.as_str()))
            .map(|p| p.container_port)
            .ok_or_else(|| {
                format!("Service `{}` port `{name}` targets container port `{target}`, which the gateway pods do not declare", service_name(gateway))
            })?,
        Some(IntOrString::Int(n)) => *n,
        None => service_port.port,
    };
    let container_port = u16::try_from(target).map_err(|_| format!("container port {target} is out of range"))?;
    Ok(Backend { service_port: name, container_port })
}

fn otlp_receivers(gateway: GatewayRef<'_>) -> impl Iterator<Item = (String, &OtlpReceiver)> {
    gateway.config.receivers.iter().filter_map(|(id, r)| match r {
        Receiver::Otlp(otlp) => Some((id.to_string(), otlp)),
        _ => None,
    })
}

/// What the gateway's receivers serve on `port`, for messages: "`otlp` (OTLP/HTTP)", "nothing".
fn served_on(gateway: GatewayRef<'_>, port: u16) -> String {
    let mut served = Vec::new();
    for (id, receiver) in &gateway.config.receivers {
        match receiver {
            Receiver::Otlp(otlp) => {
                if otlp.protocols.grpc.as_ref().is_some_and(|g| port_of(&g.endpoint) == Some(port)) {
                    served.push(format!("`{id}` (OTLP/gRPC)"));
                }
                if otlp.protocols.http.as_ref().is_some_and(|h| port_of(&h.endpoint) == Some(port)) {
                    served.push(format!("`{id}` (OTLP/HTTP)"));
                }
            }
            Receiver::Zipkin(z) => {
                if z.endpoint().and_then(port_of) == Some(port) {
                    served.push(format!("`{id}` (Zipkin)"));
                }
            }
            // A Kafka consumer serves no port.
            Receiver::Nop(_) | Receiver::Kafka(_) => {}
        }
    }
    if served.is_empty() { "nothing".to_owned() } else { served.join(" and ") }
}

fn port_of(endpoint: &str) -> Option<u16> {
    endpoint.rsplit_once(':').and_then(|(_, port)| port.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::collector::Gateway;
    use crate::model::profile::Profile;

    fn gateway(profile: &Profile) -> Gateway {
        let plan = crate::model::plan::Plan::resolve(profile).unwrap_or_else(|e| panic!("{e}"));
        crate::components::collector::gateway(profile, &plan, "jaeger:4317").unwrap_or_else(|e| panic!("{e}"))
    }

    fn mesh(service: &str, port: u16, zipkin: Option<&str>) -> MeshConfig {
        MeshConfig {
            enable_tracing: true,
            default_config: ProxyConfig {
                tracing: ProxyTracing { zipkin: zipkin.map(|a| ZipkinTracer { address: a.into() }) },
            },
            extension_providers: vec![ExtensionProvider {
                name: "otel-tracing".into(),
                opentelemetry: OpenTelemetryProvider { service: service.into(), port },
            }],
        }
    }

    fn telemetry(provider: &str) -> Telemetry {
        Telemetry {
            spec: TelemetrySpec {
                tracing: vec![Tracing {
                    providers: vec![ProviderRef { name: provider.into() }],
                    random_sampling_percentage: 10.0,
                    custom_tags: BTreeMap::new(),
                }],
            },
        }
    }

    fn problems(mesh: &MeshConfig, telemetry: &Telemetry, gateway: &Gateway) -> Vec<String> {
        match check(mesh, telemetry, "istio-system/mesh-default", gateway.istio_ref()) {
            Ok(()) => Vec::new(),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    const HOST: &str = "otlp.observability.svc.cluster.local";

    #[test]
    fn the_provider_on_the_grpc_port_of_the_gateway_service_passes() {
        let g = gateway(&Profile::default());
        assert_eq!(problems(&mesh(HOST, 4317, None), &telemetry("otel-tracing"), &g), Vec::<String>::new());
        // Istio's `<namespace>/<host>` form names the same Service.
        assert!(
            problems(&mesh(&format!("observability/{HOST}"), 4317, None), &telemetry("otel-tracing"), &g).is_empty()
        );
    }

    #[test]
    fn a_provider_on_the_http_port_names_the_port_and_what_serves_it() {
        let g = gateway(&Profile::default());
        assert_eq!(
            problems(&mesh(HOST, 4318, None), &telemetry("otel-tracing"), &g),
            [
                "meshConfig.extensionProviders[otel-tracing].opentelemetry: port 4318 is Service `otlp` port `otlp-http` (container port 4318), where the collector serves `otlp` (OTLP/HTTP), not OTLP/gRPC"
            ]
        );
    }

    #[test]
    fn a_provider_elsewhere_names_the_gateway_service() {
        let g = gateway(&Profile::default());
        assert_eq!(
            problems(&mesh("otlp.observability.svc", 4317, None), &telemetry("otel-tracing"), &g),
            [
                "meshConfig.extensionProviders[otel-tracing].opentelemetry: host `otlp.observability.svc` is not the gateway Service `otlp` (`otlp.observability.svc.cluster.local`; Istio needs the fully qualified name)"
            ]
        );
        assert_eq!(
            problems(&mesh(HOST, 55680, None), &telemetry("otel-tracing"), &g),
            [
                "meshConfig.extensionProviders[otel-tracing].opentelemetry: Service `otlp` has no port 55680 (it has otlp-grpc 4317, otlp-http 4318)"
            ]
        );
    }

    #[test]
    fn a_telemetry_selecting_an_undefined_provider_names_the_defined_ones() {
        let g = gateway(&Profile::default());
        assert_eq!(
            problems(&mesh(HOST, 4317, None), &telemetry("otel"), &g),
            [
                "Telemetry `istio-system/mesh-default` spec.tracing[0].providers[0]: selects provider `otel`, which meshConfig.extensionProviders does not define (it defines `otel-tracing`)"
            ]
        );
    }

    #[test]
    fn a_zipkin_address_needs_a_zipkin_receiver_behind_it() {
        // Without the legacy switch the gateway has no zipkin receiver and no 9411 port.
        let plain = gateway(&Profile::default());
        let on_zipkin_port = mesh(HOST, 4317, Some(&format!("{HOST}:9411")));
        assert_eq!(
            problems(&on_zipkin_port, &telemetry("otel-tracing"), &plain),
            [
                "meshConfig.defaultConfig.tracing.zipkin.address: Service `otlp` has no port 9411 (it has otlp-grpc 4317, otlp-http 4318)"
            ]
        );
        // The tutorial's mistake: the legacy Zipkin tracer pointed at the OTLP/gRPC port.
        let mut legacy = Profile::default();
        legacy.istio.enabled = true;
        legacy.istio.legacy_zipkin = true;
        let legacy = gateway(&legacy);
        assert_eq!(
            problems(&mesh(HOST, 4317, Some(&format!("{HOST}:4317"))), &telemetry("otel-tracing"), &legacy),
            [format!(
                "meshConfig.defaultConfig.tracing.zipkin.address: `{HOST}:4317` is Service `otlp` port `otlp-grpc` (container port 4317), where the collector serves `otlp` (OTLP/gRPC), not a `zipkin` receiver"
            )]
        );
        assert!(problems(&on_zipkin_port, &telemetry("otel-tracing"), &legacy).is_empty());
    }
}
