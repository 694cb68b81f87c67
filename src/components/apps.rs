//! Application onboarding: per app, a kustomize Component whose strategic-merge patch gives the
//! app's container the OpenTelemetry SDK environment that points it at the gateway, and, for
//! OpenTelemetry Operator auto-instrumentation, an `Instrumentation` per app namespace.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::EnvVar;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::components::Error;
use crate::components::agent;
use crate::components::collector;
use crate::components::parts::{ApplySet, Bundle, Document, DocumentBody};
use crate::config::k8s::{self, CustomKind, CustomResource};
use crate::config::kustomize::{Component, Patch};
use crate::format;
use crate::format::prose::code_span;
use crate::model::profile::{AppSpec, Language, OtlpProtocol, Profile};
use crate::value::ports;

/// Directory of the app Components in a profile's output.
pub const DIR: &str = "apps";
/// Directory of the `Instrumentation` bundles (one per namespace) in a profile's output.
pub const INSTRUMENTATION_DIR: &str = "instrumentation";
/// Name of the `Instrumentation` in each app namespace.
pub const INSTRUMENTATION: &str = "tracestack";
/// The downward-API variable holding the pod name, referenced as `$(OTEL_K8S_POD_NAME)`.
pub const POD_NAME_VAR: &str = "OTEL_K8S_POD_NAME";
/// The downward-API variable holding the namespace, referenced as `$(OTEL_K8S_NAMESPACE)`.
pub const NAMESPACE_VAR: &str = "OTEL_K8S_NAMESPACE";

/// A strategic-merge patch of one container of a Deployment: only what it names changes;
/// environment variables merge by name, and the patch's come first, in the patch's order.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentPatch {
    /// `apps/v1`.
    pub api_version: &'static str,
    /// `Deployment`.
    pub kind: &'static str,
    /// Name and namespace: what kustomize matches the patch by.
    pub metadata: ObjectMeta,
    /// The pod template part.
    pub spec: DeploymentPatchSpec,
}

/// `spec` of a [`DeploymentPatch`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeploymentPatchSpec {
    /// The pod template.
    pub template: PodTemplatePatch,
}

/// `spec.template` of a [`DeploymentPatch`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PodTemplatePatch {
    /// Annotations to add (auto-instrumentation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ObjectMeta>,
    /// The containers.
    pub spec: PodSpecPatch,
}

/// `spec.template.spec` of a [`DeploymentPatch`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PodSpecPatch {
    /// Containers, matched by name.
    pub containers: Vec<ContainerPatch>,
}

/// One container of a [`DeploymentPatch`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContainerPatch {
    /// The container's name: the merge key.
    pub name: String,
    /// Variables to set.
    pub env: Vec<EnvVar>,
}

/// The OpenTelemetry Operator's `Instrumentation` (`opentelemetry.io/v1alpha1`): how its injected
/// agents export. Fields follow the operator's CRD (checked in tests against `../shared/crds`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Instrumentation {
    /// The spec.
    pub spec: InstrumentationSpec,
}

impl CustomKind for Instrumentation {
    const API_VERSION: &'static str = "opentelemetry.io/v1alpha1";
    const KIND: &'static str = "Instrumentation";
}

/// `Instrumentation.spec`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InstrumentationSpec {
    /// Where agents send OTLP.
    pub exporter: InstrumentationExporter,
    /// Context propagation formats.
    pub propagators: Vec<String>,
    /// Node.js agent settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodejs: Option<LanguageSettings>,
}

/// `Instrumentation.spec.exporter`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InstrumentationExporter {
    /// OTLP endpoint URL.
    pub endpoint: String,
}

/// Per-language settings of an `Instrumentation`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LanguageSettings {
    /// Extra environment for that language's agent.
    pub env: Vec<EnvVar>,
}

/// One onboarded app.
#[derive(Clone, Debug, PartialEq)]
pub struct App {
    /// The profile entry.
    pub spec: AppSpec,
    /// The patch of its Deployment.
    pub patch: DeploymentPatch,
}

/// Every onboarded app, and the `Instrumentation` of each namespace that uses auto-instrumentation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Apps {
    /// The apps, in profile order.
    pub apps: Vec<App>,
    /// `Instrumentation` objects by namespace.
    pub instrumentations: BTreeMap<String, CustomResource>,
    /// The gateway's namespace.
    pub stack_namespace: String,
    /// The Service apps send to (`otlp`, or `otel-agent` with node agents).
    pub service: &'static str,
    /// The profile's `environment`.
    pub environment: String,
}

/// The Service applications send to: the node agents' `otel-agent` when they run (it keeps each
/// app's spans on its own node), else the gateway's `otlp`.
#[must_use]
pub fn receiving_service(profile: &Profile) -> &'static str {
    if profile.agents.enabled { agent::SERVICE } else { collector::SERVICE }
}

/// The OTLP endpoint URL of `service` for `protocol`: `http://<service>.<ns>.svc.cluster.local:4318`
/// for HTTP/protobuf, `:4317` for gRPC (the SDKs take a URL for both).
#[must_use]
pub fn endpoint(service: &str, namespace: &str, protocol: OtlpProtocol) -> String {
    let port = match protocol {
        OtlpProtocol::HttpProtobuf => ports::OTLP_HTTP,
        OtlpProtocol::Grpc => ports::OTLP_GRPC,
    };
    format!("http://{service}.{namespace}.svc.cluster.local:{port}")
}

/// The SDK environment of `app`, in an order that lets later values use earlier ones: the
/// downward-API variables first, then `OTEL_RESOURCE_ATTRIBUTES` referring to them as `$(VAR)`
/// (Kubernetes expands only variables defined earlier in the list).
#[must_use]
pub fn environment(app: &AppSpec, service: &str, stack_namespace: &str, deployment_environment: &str) -> Vec<EnvVar> {
    let mut attributes = Vec::new();
    if let Some(version) = &app.version {
        attributes.push(format!("service.version={version}"));
    }
    attributes.extend([
        format!("deployment.environment.name={deployment_environment}"),
        format!("k8s.namespace.name=$({NAMESPACE_VAR})"),
        format!("k8s.pod.name=$({POD_NAME_VAR})"),
        format!("k8s.deployment.name={}", app.deployment()),
        format!("k8s.container.name={}", app.container()),
    ]);
    let mut env = vec![
        k8s::env_from_field(POD_NAME_VAR, "metadata.name"),
        k8s::env_from_field(NAMESPACE_VAR, "metadata.namespace"),
        k8s::env("OTEL_SERVICE_NAME", app.service_name()),
        k8s::env("OTEL_RESOURCE_ATTRIBUTES", &attributes.join(",")),
        k8s::env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint(service, stack_namespace, app.protocol)),
        k8s::env("OTEL_EXPORTER_OTLP_PROTOCOL", app.protocol.as_str()),
        k8s::env("OTEL_TRACES_SAMPLER", app.sampler.kind.as_str()),
    ];
    if app.sampler.kind.takes_ratio() {
        env.push(k8s::env("OTEL_TRACES_SAMPLER_ARG", &app.sampler.ratio.unwrap_or(1.0).to_string()));
    }
    env
}

/// The annotation asking the OpenTelemetry Operator to inject `language`'s agent.
#[must_use]
pub fn inject_annotation(language: Language) -> String {
    format!("instrumentation.opentelemetry.io/inject-{}", language.as_str())
}

/// The Deployment patch of `app`.
#[must_use]
pub fn patch(app: &AppSpec, profile: &Profile) -> DeploymentPatch {
    // The value names the Instrumentation in the pod's namespace (the operator also accepts
    // `"true"`, which needs exactly one there).
    let metadata = app.auto_instrumentation.then(|| ObjectMeta {
        annotations: Some(BTreeMap::from([(inject_annotation(app.language), INSTRUMENTATION.to_owned())])),
        ..ObjectMeta::default()
    });
    DeploymentPatch {
        api_version: "apps/v1",
        kind: "Deployment",
        metadata: ObjectMeta {
            name: Some(app.deployment().to_owned()),
            namespace: Some(app.namespace.clone()),
            ..ObjectMeta::default()
        },
        spec: DeploymentPatchSpec {
            template: PodTemplatePatch {
                metadata,
                spec: PodSpecPatch {
                    containers: vec![ContainerPatch {
                        name: app.container().to_owned(),
                        env: environment(app, receiving_service(profile), &profile.namespace, &profile.environment),
                    }],
                },
            },
        },
    }
}

/// The `Instrumentation` of an app namespace: agents export OTLP/HTTP to the gateway's 4318 (the
/// protocol the Java 2.x, Python and .NET agents default to), except Node.js, whose operator image
/// exports OTLP/gRPC and so gets 4317. An onboarded container's own `OTEL_EXPORTER_OTLP_*` win: the
/// operator only adds variables a container does not already set.
#[must_use]
pub fn instrumentation(service: &str, stack_namespace: &str) -> Instrumentation {
    Instrumentation {
        spec: InstrumentationSpec {
            exporter: InstrumentationExporter {
                endpoint: endpoint(service, stack_namespace, OtlpProtocol::HttpProtobuf),
            },
            propagators: vec!["tracecontext".into(), "baggage".into()],
            nodejs: Some(LanguageSettings {
                env: vec![k8s::env(
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    &endpoint(service, stack_namespace, OtlpProtocol::Grpc),
                )],
            }),
        },
    }
}

/// Every app of `profile`.
///
/// # Errors
/// [`Error::Format`] if an `Instrumentation` does not serialise.
pub fn apps(profile: &Profile) -> Result<Apps, Error> {
    let labels = BTreeMap::from([
        ("app.kubernetes.io/managed-by".to_owned(), k8s::PART_OF.to_owned()),
        ("app.kubernetes.io/part-of".to_owned(), k8s::PART_OF.to_owned()),
    ]);
    let mut instrumentations = BTreeMap::new();
    for app in profile.apps.iter().filter(|a| a.auto_instrumentation) {
        if instrumentations.contains_key(&app.namespace) {
            continue;
        }
        let object = CustomResource::new(
            k8s::meta(INSTRUMENTATION, &app.namespace, &labels),
            &instrumentation(receiving_service(profile), &profile.namespace),
        )
        .map_err(|e| format::Error::Serialize {
            what: format!("Instrumentation `{}/{INSTRUMENTATION}`", app.namespace),
            message: e.to_string(),
        })?;
        instrumentations.insert(app.namespace.clone(), object);
    }
    Ok(Apps {
        apps: profile.apps.iter().map(|spec| App { spec: spec.clone(), patch: patch(spec, profile) }).collect(),
        instrumentations,
        stack_namespace: profile.namespace.clone(),
        service: receiving_service(profile),
        environment: profile.environment.clone(),
    })
}

/// The patch file of `app`'s Component.
#[must_use]
pub fn patch_file(app: &AppSpec) -> String {
    format!("{}-deployment-patch.yaml", app.deployment())
}

#[derive(Serialize)]
struct ReadmeApp<'a> {
    name: &'a str,
    namespace: &'a str,
    deployment: &'a str,
    container: &'a str,
    service_name: &'a str,
    language: &'a str,
    endpoint: String,
    protocol: &'a str,
    sampler: String,
    env: Vec<(String, String)>,
    annotation: Option<String>,
}

#[derive(Serialize)]
struct Readme<'a> {
    apps: Vec<ReadmeApp<'a>>,
    instrumented_namespaces: Vec<&'a str>,
    field_manager: &'a str,
    instrumentation_applyset: &'a str,
    stack_namespace: &'a str,
    environment: &'a str,
}

impl Apps {
    /// One bundle per namespace with auto-instrumentation, holding its `Instrumentation`.
    #[must_use]
    pub fn bundles(&self) -> Vec<Bundle> {
        self.instrumentations
            .iter()
            .map(|(namespace, object)| Bundle {
                dir: format!("{INSTRUMENTATION_DIR}/{namespace}"),
                objects: vec![object.clone().into()],
                applyset: Some(ApplySet::new(ApplySet::INSTRUMENTATION, namespace)),
            })
            .collect()
    }

    /// Per app `apps/<name>/kustomization.yaml` (a Component) and its patch, plus `apps/README.md`;
    /// nothing when no app is onboarded.
    ///
    /// # Errors
    /// [`Error::Format`] on a serialiser or template error.
    pub fn documents(&self) -> Result<Vec<Document>, Error> {
        if self.apps.is_empty() {
            return Ok(Vec::new());
        }
        let yaml = |path: String, value: Result<serde_json::Value, serde_json::Error>| {
            value
                .map(|v| Document { path: path.clone(), body: DocumentBody::Yaml(v) })
                .map_err(|e| format::Error::Serialize { what: path, message: e.to_string() })
        };
        let mut docs = Vec::new();
        for app in &self.apps {
            let file = patch_file(&app.spec);
            docs.push(yaml(format!("{DIR}/{}/{file}", app.spec.name), serde_json::to_value(&app.patch))?);
            // No target: kustomize matches the patch's own name and namespace, and fails loudly
            // when the including kustomization has no such Deployment.
            let component = Component::new(vec![Patch { path: file, target: None }]);
            docs.push(yaml(format!("{DIR}/{}/kustomization.yaml", app.spec.name), serde_json::to_value(&component))?);
        }
        let readme = Readme {
            apps: self
                .apps
                .iter()
                .map(|app| {
                    let env = app.patch.spec.template.spec.containers[0]
                        .env
                        .iter()
                        .map(|e| {
                            let value = match (&e.value, &e.value_from) {
                                (Some(v), _) => code_span(v),
                                (None, Some(from)) => format!(
                                    "pod field {}",
                                    code_span(from.field_ref.as_ref().map_or("", |f| f.field_path.as_str()))
                                ),
                                (None, None) => String::new(),
                            };
                            (e.name.clone(), value)
                        })
                        .collect();
                    ReadmeApp {
                        name: &app.spec.name,
                        namespace: &app.spec.namespace,
                        deployment: app.spec.deployment(),
                        container: app.spec.container(),
                        service_name: app.spec.service_name(),
                        language: app.spec.language.as_str(),
                        endpoint: endpoint(self.service, &self.stack_namespace, app.spec.protocol),
                        protocol: app.spec.protocol.as_str(),
                        sampler: app.spec.sampler.kind.as_str().to_owned(),
                        env,
                        annotation: app.spec.auto_instrumentation.then(|| inject_annotation(app.spec.language)),
                    }
                })
                .collect(),
            instrumented_namespaces: self.instrumentations.keys().map(String::as_str).collect(),
            field_manager: ApplySet::FIELD_MANAGER,
            instrumentation_applyset: ApplySet::INSTRUMENTATION,
            stack_namespace: &self.stack_namespace,
            environment: &self.environment,
        };
        docs.push(Document {
            path: format!("{DIR}/README.md"),
            body: DocumentBody::Markdown(crate::format::prose::markdown(
                crate::format::prose::Template::AppsReadme,
                readme,
            )?),
        });
        Ok(docs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::profile::{SamplerKind, SamplerSpec};

    fn app(name: &str, namespace: &str, language: Language) -> AppSpec {
        AppSpec {
            name: name.into(),
            namespace: namespace.into(),
            deployment: None,
            container: None,
            service_name: None,
            version: None,
            language,
            protocol: OtlpProtocol::default(),
            sampler: SamplerSpec::default(),
            auto_instrumentation: false,
        }
    }

    fn env(app: &AppSpec) -> Vec<(String, String)> {
        environment(app, collector::SERVICE, "observability", "staging")
            .into_iter()
            .map(|e| {
                let value = e.value.unwrap_or_else(|| {
                    e.value_from
                        .and_then(|f| f.field_ref)
                        .map(|f| format!("field:{}", f.field_path))
                        .unwrap_or_default()
                });
                (e.name, value)
            })
            .collect()
    }

    #[test]
    fn the_downward_api_variables_come_before_the_attributes_that_use_them() {
        let mut a = app("checkout", "shop", Language::Java);
        a.version = Some("1.4.2".into());
        let env = env(&a);
        let names: Vec<&str> = env.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "OTEL_K8S_POD_NAME",
                "OTEL_K8S_NAMESPACE",
                "OTEL_SERVICE_NAME",
                "OTEL_RESOURCE_ATTRIBUTES",
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "OTEL_EXPORTER_OTLP_PROTOCOL",
                "OTEL_TRACES_SAMPLER",
                "OTEL_TRACES_SAMPLER_ARG"
            ]
        );
        assert_eq!(env[0].1, "field:metadata.name");
        assert_eq!(env[1].1, "field:metadata.namespace");
        assert_eq!(
            env[3].1,
            "service.version=1.4.2,deployment.environment.name=staging,k8s.namespace.name=$(OTEL_K8S_NAMESPACE),k8s.pod.name=$(OTEL_K8S_POD_NAME),k8s.deployment.name=checkout,k8s.container.name=checkout"
        );
        assert_eq!(env[4].1, "http://otlp.observability.svc.cluster.local:4318");
        assert_eq!(env[5].1, "http/protobuf");
        assert_eq!((env[6].1.as_str(), env[7].1.as_str()), ("parentbased_traceidratio", "1"));
    }

    #[test]
    fn grpc_goes_to_4317_and_samplers_without_a_ratio_get_no_argument() {
        let mut a = app("ledger", "payments", Language::Go);
        a.protocol = OtlpProtocol::Grpc;
        a.sampler = SamplerSpec { kind: SamplerKind::AlwaysOn, ratio: None };
        let env = env(&a);
        assert!(env.contains(&(
            "OTEL_EXPORTER_OTLP_ENDPOINT".into(),
            "http://otlp.observability.svc.cluster.local:4317".into()
        )));
        assert!(env.contains(&("OTEL_EXPORTER_OTLP_PROTOCOL".into(), "grpc".into())));
        assert!(env.contains(&("OTEL_TRACES_SAMPLER".into(), "always_on".into())));
        assert!(!env.iter().any(|(n, _)| n == "OTEL_TRACES_SAMPLER_ARG"));
        assert!(!env[3].1.contains("service.version"), "no version, no attribute: {}", env[3].1);
        a.sampler = SamplerSpec { kind: SamplerKind::Traceidratio, ratio: Some(0.25) };
        assert!(self::env(&a).contains(&("OTEL_TRACES_SAMPLER_ARG".into(), "0.25".into())));
    }

    #[test]
    fn the_patch_targets_the_container_by_name_and_asks_for_the_agent_only_when_told() {
        let mut profile = Profile::default();
        let mut a = app("payments-api", "payments", Language::Python);
        a.deployment = Some("payments".into());
        a.container = Some("api".into());
        let p = patch(&a, &profile);
        assert_eq!(p.metadata.name.as_deref(), Some("payments"));
        assert_eq!(p.metadata.namespace.as_deref(), Some("payments"));
        assert_eq!(p.spec.template.spec.containers[0].name, "api");
        assert_eq!(p.spec.template.metadata, None);
        assert_eq!(patch_file(&a), "payments-deployment-patch.yaml");

        a.auto_instrumentation = true;
        let annotations = patch(&a, &profile).spec.template.metadata.and_then(|m| m.annotations).unwrap_or_default();
        assert_eq!(
            annotations,
            BTreeMap::from([("instrumentation.opentelemetry.io/inject-python".to_owned(), "tracestack".to_owned())])
        );

        let mut second = app("worker", "payments", Language::Nodejs);
        second.auto_instrumentation = true;
        profile.apps = vec![a, second, app("web", "shop", Language::Dotnet)];
        let apps = apps(&profile).unwrap_or_else(|e| panic!("{e}"));
        // One Instrumentation per namespace that uses it, however many apps there.
        assert_eq!(apps.instrumentations.keys().collect::<Vec<_>>(), ["payments"]);
        let bundles = apps.bundles();
        assert_eq!(bundles.len(), 1);
        assert_eq!(bundles[0].dir, "instrumentation/payments");
    }

    #[test]
    fn no_apps_no_documents() {
        let apps = apps(&Profile::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(apps.documents().map(|d| d.len()).ok(), Some(0));
        assert!(apps.bundles().is_empty());
    }
}
