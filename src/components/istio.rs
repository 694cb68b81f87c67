//! Istio mesh tracing into the gateway: the mesh-wide `Telemetry`, the `meshConfig` written as an
//! `IstioOperator` overlay and as istiod Helm values, and a kustomize Component that enrols
//! namespaces for sidecar injection, all checked against the gateway they point at.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::components::Error;
use crate::components::collector::{self, Gateway};
use crate::components::parts::{self, ApplySet, Bundle, Document, DocumentBody};
use crate::config::istio::{
    self, CustomTag, ExtensionProvider, IstioOperator, IstiodValues, LiteralTag, MeshConfig, OpenTelemetryProvider,
    ProviderRef, ProxyConfig, ProxyTracing, SourcedTag, Telemetry, TelemetrySpec, Tracing, ZipkinTracer,
};
use crate::config::k8s::{self, CustomResource, Object};
use crate::config::kustomize::{Component, Patch, Target};
use crate::format;
use crate::format::prose::code_span;
use crate::model::profile::{self, Profile};
use crate::value::ports;

/// Name of the mesh-wide Telemetry (the name Istio's own examples use).
pub const TELEMETRY: &str = "mesh-default";
/// The bundle directory of the mesh-wide Telemetry.
pub const TELEMETRY_DIR: &str = "istio/telemetry";
/// Directory of the Istio documents in a profile's output.
pub const DIR: &str = "istio";
/// The namespace label Istio's sidecar injector selects on.
pub const INJECTION_LABEL: &str = "istio-injection";
/// The namespace label that selects an istiod revision for injection.
pub const REVISION_LABEL: &str = "istio.io/rev";

/// The Istio part of a stack.
#[derive(Clone, Debug, PartialEq)]
pub struct Istio {
    /// The mesh config both install files carry.
    pub mesh_config: MeshConfig,
    /// The mesh-wide Telemetry, typed.
    pub telemetry: Telemetry,
    /// The same Telemetry as an object of the root bundle.
    pub telemetry_object: CustomResource,
    /// Namespaces the injection Component labels.
    pub namespaces: Vec<String>,
    /// The profile's settings, for the README.
    spec: profile::IstioSpec,
    /// The gateway's namespace, for the README.
    stack_namespace: String,
}

/// The mesh config pointing Envoy at `gateway`: an `opentelemetry` provider on the OTLP/gRPC port
/// and, in legacy mode, the Zipkin tracer on the gateway's `zipkin` receiver.
#[must_use]
pub fn mesh_config(profile: &Profile, gateway: &Gateway) -> MeshConfig {
    let host = istio::gateway_host(gateway.istio_ref());
    MeshConfig {
        enable_tracing: true,
        default_config: ProxyConfig {
            tracing: ProxyTracing {
                zipkin: collector::serves_zipkin(profile)
                    .then(|| ZipkinTracer { address: format!("{host}:{}", ports::ZIPKIN) }),
            },
        },
        extension_providers: vec![ExtensionProvider {
            name: profile.istio.provider.clone(),
            opentelemetry: OpenTelemetryProvider { service: host, port: ports::OTLP_GRPC },
        }],
    }
}

/// The mesh-wide Telemetry: the profile's provider, sampling and custom tags.
#[must_use]
pub fn telemetry(spec: &profile::IstioSpec) -> Telemetry {
    let custom_tags = spec
        .custom_tags
        .iter()
        .map(|(name, tag)| {
            let tag = match tag {
                profile::CustomTag::Literal { value } => CustomTag::Literal(LiteralTag { value: value.clone() }),
                profile::CustomTag::Header { name, default_value } => {
                    CustomTag::Header(SourcedTag { name: name.clone(), default_value: default_value.clone() })
                }
                profile::CustomTag::Environment { name, default_value } => {
                    CustomTag::Environment(SourcedTag { name: name.clone(), default_value: default_value.clone() })
                }
            };
            (name.clone(), tag)
        })
        .collect();
    Telemetry {
        spec: TelemetrySpec {
            tracing: vec![Tracing {
                providers: vec![ProviderRef { name: spec.provider.clone() }],
                random_sampling_percentage: spec.sampling_percentage,
                custom_tags,
            }],
        },
    }
}

/// The Istio part of `profile`'s stack, or `None` when `istio.enabled` is off.
///
/// # Errors
/// [`Error::Istio`] when the mesh config or the Telemetry would not reach `gateway` (see
/// [`istio::check`]); [`Error::Format`] if the Telemetry does not serialise.
pub fn istio(profile: &Profile, gateway: &Gateway) -> Result<Option<Istio>, Error> {
    if !profile.istio.enabled {
        return Ok(None);
    }
    let mesh_config = mesh_config(profile, gateway);
    let telemetry = telemetry(&profile.istio);
    let telemetry_id = format!("{}/{TELEMETRY}", istio::ROOT_NAMESPACE);
    istio::check(&mesh_config, &telemetry, &telemetry_id, gateway.istio_ref()).map_err(Error::Istio)?;
    let labels = BTreeMap::from([
        ("app.kubernetes.io/managed-by".to_owned(), k8s::PART_OF.to_owned()),
        ("app.kubernetes.io/part-of".to_owned(), k8s::PART_OF.to_owned()),
    ]);
    let telemetry_object = CustomResource::new(k8s::meta(TELEMETRY, istio::ROOT_NAMESPACE, &labels), &telemetry)
        .map_err(|e| format::Error::Serialize { what: format!("Telemetry `{TELEMETRY}`"), message: e.to_string() })?;
    Ok(Some(Istio {
        mesh_config,
        telemetry,
        telemetry_object,
        namespaces: profile.istio.namespaces.clone(),
        spec: profile.istio.clone(),
        stack_namespace: profile.namespace.clone(),
    }))
}

/// The namespace patch file of the injection Component for `namespace`.
#[must_use]
pub fn namespace_patch_file(namespace: &str) -> String {
    format!("{namespace}-namespace-patch.yaml")
}

#[derive(Serialize)]
struct TagRow {
    name: String,
    source: String,
}

#[derive(Serialize)]
struct Readme<'a> {
    service: &'a str,
    port: u16,
    provider: &'a str,
    root_namespace: &'a str,
    telemetry: &'a str,
    telemetry_file: String,
    field_manager: &'a str,
    telemetry_applyset: &'a str,
    sampling: String,
    custom_tags: Vec<TagRow>,
    namespace_list: String,
    zipkin_address: Option<&'a str>,
    stack_namespace: &'a str,
    injection: String,
    helm_release: String,
    revision: Option<&'a str>,
}

fn yaml<T: Serialize>(path: String, value: &T) -> Result<Document, Error> {
    let value = serde_json::to_value(value)
        .map_err(|e| format::Error::Serialize { what: path.clone(), message: e.to_string() })?;
    Ok(Document { path, body: DocumentBody::Yaml(value) })
}

/// The label that enrols a namespace: `istio-injection=enabled`, or `istio.io/rev=<revision>`.
///
/// The patch cannot also remove `istio-injection` (which wins over `istio.io/rev`, Istio's sidecar
/// injection guide, "Controlling the injection policy"): kustomize writes a `null` in a patch with a
/// `target` as the string `"null"` (kubernetes-sigs/kustomize#5995), and a JSON patch `remove`
/// fails where the label is absent. The README tells owners to drop it.
fn injection_label(revision: Option<&str>) -> (String, String) {
    match revision {
        None => (INJECTION_LABEL.to_owned(), "enabled".to_owned()),
        Some(revision) => (REVISION_LABEL.to_owned(), revision.to_owned()),
    }
}

fn join_code(items: &[String]) -> String {
    match items {
        [] => "no namespaces".to_owned(),
        [one] => code_span(one),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(|n| code_span(n)).collect();
            format!("{} and {}", init.join(", "), code_span(last))
        }
    }
}

impl Istio {
    /// The `istio/telemetry` bundle: the mesh-wide Telemetry, in Istio's root namespace. A bundle
    /// of its own because it is applied (and pruned) in that namespace, by whoever owns the mesh.
    #[must_use]
    pub fn bundle(&self) -> Bundle {
        Bundle {
            dir: TELEMETRY_DIR.into(),
            objects: vec![self.telemetry_object.clone().into()],
            applyset: Some(ApplySet::new(ApplySet::MESH_TELEMETRY, istio::ROOT_NAMESPACE)),
        }
    }

    /// The documents under `istio/`: the `IstioOperator` overlay, the istiod values, the injection
    /// Component with one namespace patch per enrolled namespace, and a README.
    ///
    /// # Errors
    /// [`Error::Format`] on a serialiser or template error.
    pub fn documents(&self) -> Result<Vec<Document>, Error> {
        let mut docs = vec![
            yaml(
                format!("{DIR}/istio-operator.yaml"),
                &IstioOperator::new(self.mesh_config.clone(), self.spec.revision.clone()),
            )?,
            yaml(
                format!("{DIR}/istiod-values.yaml"),
                &IstiodValues { revision: self.spec.revision.clone(), mesh_config: self.mesh_config.clone() },
            )?,
        ];
        let mut patches = Vec::new();
        for namespace in &self.namespaces {
            let file = namespace_patch_file(namespace);
            // A strategic-merge patch: only the injection labels change; everything else the owner
            // set stays.
            let patch = Namespace {
                metadata: ObjectMeta {
                    name: Some(namespace.clone()),
                    labels: Some(BTreeMap::from([injection_label(self.spec.revision.as_deref())])),
                    ..ObjectMeta::default()
                },
                ..Namespace::default()
            };
            docs.push(yaml(format!("{DIR}/injection/{file}"), &patch)?);
            // Selected by name: a kustomization holding only some of the namespaces patches those.
            patches.push(Patch {
                path: file,
                target: Some(Target { version: "v1".into(), kind: "Namespace".into(), name: namespace.clone() }),
            });
        }
        docs.push(yaml(format!("{DIR}/injection/kustomization.yaml"), &Component::new(patches))?);
        let provider = &self.mesh_config.extension_providers[0];
        let readme = Readme {
            service: &provider.opentelemetry.service,
            port: provider.opentelemetry.port,
            provider: &provider.name,
            root_namespace: istio::ROOT_NAMESPACE,
            telemetry: TELEMETRY,
            telemetry_file: parts::file_name(&Object::from(self.telemetry_object.clone())),
            field_manager: ApplySet::FIELD_MANAGER,
            telemetry_applyset: ApplySet::MESH_TELEMETRY,
            sampling: self.spec.sampling_percentage.to_string(),
            custom_tags: self
                .spec
                .custom_tags
                .iter()
                .map(|(name, tag)| TagRow {
                    name: name.clone(),
                    source: match tag {
                        profile::CustomTag::Literal { value } => code_span(value),
                        profile::CustomTag::Header { name, default_value } => {
                            format!("request header {}{}", code_span(name), or_default(default_value.as_deref()))
                        }
                        profile::CustomTag::Environment { name, default_value } => {
                            format!(
                                "proxy environment variable {}{}",
                                code_span(name),
                                or_default(default_value.as_deref())
                            )
                        }
                    },
                })
                .collect(),
            namespace_list: join_code(&self.namespaces),
            zipkin_address: self.mesh_config.default_config.tracing.zipkin.as_ref().map(|z| z.address.as_str()),
            stack_namespace: &self.stack_namespace,
            injection: {
                let (key, value) = injection_label(self.spec.revision.as_deref());
                code_span(&format!("{key}={value}"))
            },
            helm_release: self
                .spec
                .revision
                .as_deref()
                .map_or_else(|| "istiod".to_owned(), |rev| format!("istiod-{rev}")),
            revision: self.spec.revision.as_deref(),
        };
        docs.push(Document {
            path: format!("{DIR}/README.md"),
            body: DocumentBody::Markdown(crate::format::prose::markdown(
                crate::format::prose::Template::IstioReadme,
                readme,
            )?),
        });
        Ok(docs)
    }
}

fn or_default(default: Option<&str>) -> String {
    default.map(|d| format!(", else {}", code_span(d))).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::collector::{PipelineId, Signal};

    fn profile(legacy: bool) -> Profile {
        let mut profile = Profile::default();
        profile.istio.enabled = true;
        profile.istio.legacy_zipkin = legacy;
        profile.istio.namespaces = vec!["shop".into()];
        profile
    }

    fn build(profile: &Profile) -> (Gateway, Option<Istio>) {
        let plan = crate::model::plan::Plan::resolve(profile).unwrap_or_else(|e| panic!("{e}"));
        let gateway = collector::gateway(profile, &plan, "jaeger:4317").unwrap_or_else(|e| panic!("{e}"));
        let istio = istio(profile, &gateway).unwrap_or_else(|e| panic!("{e}"));
        (gateway, istio)
    }

    fn service_ports(gateway: &Gateway) -> Vec<(String, i32, String)> {
        let ports = gateway.service.spec.as_ref().and_then(|s| s.ports.clone()).unwrap_or_default();
        ports.into_iter().map(|p| (p.name.unwrap_or_default(), p.port, p.app_protocol.unwrap_or_default())).collect()
    }

    #[test]
    fn the_provider_points_at_the_gateway_grpc_port_and_the_legacy_tracer_is_off() {
        let (gateway, istio) = build(&profile(false));
        let Some(istio) = istio else { panic!("enabled") };
        let provider = &istio.mesh_config.extension_providers[0];
        assert_eq!(
            (provider.name.as_str(), provider.opentelemetry.service.as_str(), provider.opentelemetry.port),
            ("otel-tracing", "otlp.observability.svc.cluster.local", 4317)
        );
        assert_eq!(istio.mesh_config.default_config.tracing.zipkin, None);
        assert!(!gateway.config.receivers.keys().any(|id| id.type_name() == "zipkin"));
        assert_eq!(service_ports(&gateway).len(), 2);
    }

    #[test]
    fn legacy_mode_adds_a_zipkin_receiver_port_and_address_that_agree() {
        let (gateway, istio) = build(&profile(true));
        let Some(istio) = istio else { panic!("enabled") };
        let zipkin = istio.mesh_config.default_config.tracing.zipkin.as_ref().map(|z| z.address.as_str());
        assert_eq!(zipkin, Some("otlp.observability.svc.cluster.local:9411"));
        assert_eq!(service_ports(&gateway)[2], ("http-zipkin".to_owned(), 9411, "http".to_owned()));
        let traces = &gateway.config.service.pipelines[&PipelineId::new(Signal::Traces, None)];
        let receivers: Vec<String> = traces.receivers.iter().map(ToString::to_string).collect();
        assert_eq!(receivers, ["otlp", "zipkin"]);
        let text = crate::format::yaml::to_string(&gateway.config).unwrap_or_else(|e| panic!("{e}"));
        assert!(text.contains("  zipkin:\n    protocols:\n      http:\n        endpoint: 0.0.0.0:9411\n"), "{text}");
    }

    #[test]
    fn a_disabled_section_renders_nothing_and_opens_no_port() {
        let mut p = profile(true);
        p.istio.enabled = false;
        let (gateway, istio) = build(&p);
        assert!(istio.is_none());
        assert_eq!(service_ports(&gateway).len(), 2);
    }

    #[test]
    fn documents_hold_the_overlay_the_values_and_one_patch_per_namespace() {
        let mut p = profile(false);
        p.istio.namespaces = vec!["shop".into(), "payments".into()];
        let Some(istio) = build(&p).1 else { panic!("enabled") };
        let docs = istio.documents().unwrap_or_else(|e| panic!("{e}"));
        let paths: Vec<&str> = docs.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "istio/istio-operator.yaml",
                "istio/istiod-values.yaml",
                "istio/injection/shop-namespace-patch.yaml",
                "istio/injection/payments-namespace-patch.yaml",
                "istio/injection/kustomization.yaml",
                "istio/README.md"
            ]
        );
        let DocumentBody::Yaml(overlay) = &docs[0].body else { panic!() };
        let DocumentBody::Yaml(values) = &docs[1].body else { panic!() };
        assert_eq!(overlay["spec"]["meshConfig"], values["meshConfig"]);
        assert_eq!(overlay["kind"], "IstioOperator");
    }

    #[test]
    fn a_revision_goes_into_both_mesh_config_files_and_replaces_the_injection_label() {
        let mut p = profile(false);
        p.istio.namespaces = vec!["shop".into()];
        p.istio.revision = Some("1-27".into());
        let Some(istio) = build(&p).1 else { panic!("enabled") };
        let docs = istio.documents().unwrap_or_else(|e| panic!("{e}"));
        let DocumentBody::Yaml(overlay) = &docs[0].body else { panic!() };
        let DocumentBody::Yaml(values) = &docs[1].body else { panic!() };
        let DocumentBody::Yaml(patch) = &docs[2].body else { panic!() };
        assert_eq!((&overlay["spec"]["revision"], &values["revision"]), (&"1-27".into(), &"1-27".into()));
        assert_eq!(patch["metadata"]["labels"], serde_json::json!({"istio.io/rev": "1-27"}));
        let DocumentBody::Markdown(readme) = &docs[4].body else { panic!() };
        for text in ["`istio.io/rev=1-27`", "helm upgrade istiod-1-27 ", "-L istio-injection -L istio.io/rev"] {
            assert!(readme.contains(text), "{text}: {readme}");
        }
        // Without a revision, neither file names one.
        p.istio.revision = None;
        let Some(istio) = build(&p).1 else { panic!("enabled") };
        let docs = istio.documents().unwrap_or_else(|e| panic!("{e}"));
        let DocumentBody::Yaml(overlay) = &docs[0].body else { panic!() };
        assert!(overlay["spec"].get("revision").is_none());
    }
}
