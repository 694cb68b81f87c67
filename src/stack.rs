//! A whole stack: every component of a validated profile, as typed objects in apply order.
//!
//! What a stack renders ([`Stack::into_parts`]) and its checks ([`Stack::check`]) include the
//! runbook, which is written from the built stack: they are defined in [`crate::render`].

use k8s_openapi::api::core::v1::Namespace;

use crate::check::{self, ConfigRef, External};
use crate::components::Error;
use crate::components::agent::Agents;
use crate::components::jaeger::elasticsearch::{self, Lifecycle};
use crate::components::jaeger::{Jaeger, RoleKind};
use crate::components::monitoring::Monitoring;
use crate::components::network::{self, Endpoint, Policies, Topology};
use crate::components::operator::{self, Operated};
use crate::components::pods;
use crate::components::sampler::Sampler;
use crate::components::smoke_test::{self, SmokeTest};
use crate::components::{self, Component, apps::Apps, collector::Gateway, istio::Istio};
use crate::config::k8s::{self, Object};
use crate::model;
use crate::model::plan::Plan;
use crate::model::profile::{Output, PodExtras, Profile};
use k8s_openapi::api::core::v1::PodTemplateSpec;

/// The components of one stack, each reachable by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Stack {
    /// What the profile says the stack is for.
    pub description: String,
    /// The effective size of every workload.
    pub plan: Plan,
    /// The namespace everything lives in.
    pub namespace: Namespace,
    /// Default deny plus the stack's own flows, unless the profile turns them off.
    pub network_policies: Option<Policies>,
    /// The OpenTelemetry Collector gateway behind the `otlp` Service.
    pub gateway: Gateway,
    /// Collector agents on every node, when the profile enables them.
    pub agents: Option<Agents>,
    /// The tail-sampling tier, when the profile enables it.
    pub sampler: Option<Sampler>,
    /// Jaeger behind `jaeger-collector` and `jaeger-query`.
    pub jaeger: Jaeger,
    /// Elasticsearch index maintenance.
    pub lifecycle: Lifecycle,
    /// Istio mesh tracing, when the profile enables it.
    pub istio: Option<Istio>,
    /// Onboarded applications.
    pub apps: Apps,
    /// PodMonitors and alert rules, when the profile enables monitoring.
    pub monitoring: Option<Monitoring>,
    /// The smoke-test Job (its own kustomization, applied once the stack is up).
    pub smoke_test: SmokeTest,
    /// What the stack uses but does not render (Secrets the user creates, outside endpoints);
    /// [`crate::check`] accepts references to these.
    pub external: External,
    /// With an operator output: the resources the operator turns into the workloads that
    /// `gateway` and `jaeger` then describe as the operator will create them.
    pub operator: Option<Operated>,
}

fn job_endpoint(job: &k8s_openapi::api::batch::v1::Job) -> Endpoint {
    Endpoint {
        name: job.metadata.name.clone().unwrap_or_default(),
        selector: job
            .spec
            .as_ref()
            .and_then(|s| s.template.metadata.as_ref())
            .and_then(|m| m.labels.clone())
            .map(|mut labels| {
                // Pod labels minus the version, like every selector of the stack.
                labels.remove("app.kubernetes.io/version");
                labels.remove("app.kubernetes.io/managed-by");
                labels
            })
            .unwrap_or_default(),
    }
}

/// The numbers of the named container ports of a Deployment's first container, in the given order.
fn container_ports(deployment: &k8s_openapi::api::apps::v1::Deployment, names: &[&str]) -> Vec<u16> {
    let ports = deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.containers.first())
        .and_then(|c| c.ports.clone())
        .unwrap_or_default();
    names
        .iter()
        .filter_map(|name| ports.iter().find(|p| p.name.as_deref() == Some(*name)))
        .filter_map(|p| u16::try_from(p.container_port).ok())
        .collect()
}

fn selector_of(deployment: &k8s_openapi::api::apps::v1::Deployment) -> std::collections::BTreeMap<String, String> {
    deployment.spec.as_ref().and_then(|s| s.selector.match_labels.clone()).unwrap_or_default()
}

impl Stack {
    /// Builds the stack a profile describes.
    ///
    /// # Errors
    /// [`Error::Model`] when the profile is invalid; [`Error::Config`] when a generated config
    /// would not start (e.g. a component the pinned distribution lacks); [`Error::Istio`] when the
    /// Istio configuration would not reach the gateway.
    pub fn build(profile: &Profile) -> Result<Self, Error> {
        profile.validate().map_err(model::Error::Profile)?;
        let plan = Plan::resolve(profile)?;
        let mut jaeger = components::jaeger::jaeger(profile, &plan)?;
        let mut gateway =
            components::collector::gateway(profile, &plan, &components::jaeger::collector_endpoint(profile))?;
        let mut agents = components::agent::agents(profile, &plan)?;
        let mut sampler =
            components::sampler::sampler(profile, &plan, &components::jaeger::collector_endpoint(profile))?;
        let mut external = External::default();
        external.extend(jaeger.external.clone());
        // The profile's pod additions, the same way for every workload; before an operator output
        // turns the pods into operator resources, which carry them over or refuse them.
        let mut extend_pods = |own: &PodExtras, template: Option<&mut PodTemplateSpec>| {
            let extras = pods::effective(profile, own);
            if let Some(template) = template {
                pods::apply(&extras, template);
            }
            external.extend(pods::external(&extras, &profile.namespace));
        };
        extend_pods(&profile.collector.pod, gateway.deployment.spec.as_mut().map(|s| &mut s.template));
        // The node agents and the sampling tier take the profile-wide `pods`.
        if let Some(agents) = agents.as_mut() {
            extend_pods(&PodExtras::default(), agents.daemon_set.spec.as_mut().map(|s| &mut s.template));
        }
        if let Some(sampler) = sampler.as_mut() {
            extend_pods(&PodExtras::default(), sampler.deployment.spec.as_mut().map(|s| &mut s.template));
        }
        for role in &mut jaeger.roles {
            extend_pods(role.kind.pod(profile), role.deployment.spec.as_mut().map(|s| &mut s.template));
        }
        let operator = match profile.output {
            Output::Manifests => None,
            Output::OpentelemetryOperator => Some(operator::opentelemetry(profile, &mut gateway, &mut jaeger)?),
            Output::JaegerOperator => Some(operator::jaeger_operator(profile, &mut jaeger)?),
        };
        // The Jaeger Operator runs its own index cleaner.
        let mut lifecycle = if profile.output == Output::JaegerOperator {
            Lifecycle::default()
        } else {
            elasticsearch::lifecycle(profile)
        };
        if let Some((_, es)) = profile.jaeger.storage.search() {
            for cron_job in &mut lifecycle.cron_jobs {
                let template =
                    cron_job.spec.as_mut().and_then(|s| s.job_template.spec.as_mut()).map(|s| &mut s.template);
                extend_pods(&es.lifecycle.pod, template);
            }
        }
        let istio = components::istio::istio(profile, &gateway)?;
        let apps = components::apps::apps(profile)?;
        let monitoring =
            components::monitoring::monitoring(profile, &gateway, &jaeger, agents.as_ref(), sampler.as_ref())?;
        // The smoke test sends where applications send: the node agents when they run.
        let smoke_target = agents.as_ref().map_or(&gateway.service, |a| &a.service);
        let mut smoke_test = smoke_test::smoke_test(profile, smoke_target, &jaeger.query_service)?;
        extend_pods(&profile.smoke_test.pod, smoke_test.job.spec.as_mut().map(|s| &mut s.template));
        // Namespaces the stack puts objects in without owning them: Istio's root namespace and
        // the namespaces of onboarded applications.
        let foreign_namespaces = istio
            .as_ref()
            .map(|_| crate::config::istio::ROOT_NAMESPACE.to_owned())
            .into_iter()
            .chain(profile.apps.iter().map(|app| app.namespace.clone()));
        external.objects.extend(foreign_namespaces.map(|ns| check::ObjectRef::cluster("Namespace", &ns)));

        let network_policies = profile.security.network_policy.enabled.then(|| {
            let endpoint = |kind: RoleKind| {
                let role = jaeger.roles.iter().find(|r| r.kind == kind).or(jaeger.roles.first());
                Endpoint {
                    name: role.map_or(kind.deployment_name(), |r| r.kind.deployment_name()).to_owned(),
                    selector: role.map(|r| selector_of(&r.deployment)).unwrap_or_default(),
                }
            };
            let gateway_ports = gateway
                .service
                .spec
                .as_ref()
                .and_then(|s| s.ports.as_ref())
                .map(|ports| ports.iter().filter_map(|p| u16::try_from(p.port).ok()).collect())
                .unwrap_or_default();
            let es_clients = if profile.output == Output::JaegerOperator {
                vec![Endpoint {
                    name: "jaeger-es-index-cleaner".into(),
                    selector: crate::config::jaeger_operator::index_cleaner_selector(operator::JAEGER),
                }]
            } else if lifecycle.cron_jobs.is_empty() {
                Vec::new()
            } else {
                vec![Endpoint {
                    name: "jaeger-es-maintenance".into(),
                    selector: k8s::selector(components::jaeger::NAME, elasticsearch::COMPONENT),
                }]
            };
            network::policies(
                profile,
                &Topology {
                    gateway: Endpoint {
                        name: components::collector::NAME.into(),
                        selector: selector_of(&gateway.deployment),
                    },
                    gateway_ports,
                    // `k8s_attributes` reads the API server with the pod's token.
                    gateway_api_access: profile.collector.k8s_attributes,
                    jaeger_receiver: endpoint(if jaeger.roles.len() > 1 {
                        RoleKind::Collector
                    } else {
                        RoleKind::AllInOne
                    }),
                    jaeger_query: endpoint(if jaeger.roles.len() > 1 { RoleKind::Query } else { RoleKind::AllInOne }),
                    es_clients,
                    jaeger_receiver_metrics_ports: jaeger
                        .roles
                        .iter()
                        .find(|r| r.kind != RoleKind::Query)
                        .map(|r| container_ports(&r.deployment, &["metrics", components::jaeger::SPAN_METRICS_PORT]))
                        .unwrap_or_default(),
                    smoke_test: Some(job_endpoint(&smoke_test.job)),
                    agents: agents.as_ref().map(|a| network::AgentEndpoint {
                        endpoint: Endpoint {
                            name: components::agent::NAME.into(),
                            selector: a
                                .daemon_set
                                .spec
                                .as_ref()
                                .and_then(|s| s.selector.match_labels.clone())
                                .unwrap_or_default(),
                        },
                        api_access: a.cluster_role.is_some(),
                    }),
                    sampler: sampler.as_ref().map(|s| Endpoint {
                        name: components::sampler::NAME.into(),
                        selector: selector_of(&s.deployment),
                    }),
                    kafka: profile
                        .kafka
                        .enabled
                        .then(|| (profile.kafka.namespace.clone(), components::kafka::broker_ports(profile))),
                    sampler_metrics_ports: sampler
                        .as_ref()
                        .map(|s| container_ports(&s.deployment, &["metrics", components::jaeger::SPAN_METRICS_PORT]))
                        .unwrap_or_default(),
                    prometheus_url: components::jaeger::monitor_prometheus_url(profile),
                },
            )
        });
        Ok(Self {
            description: profile.description.clone(),
            plan,
            namespace: components::namespace::namespace(&profile.namespace),
            network_policies,
            gateway,
            agents,
            sampler,
            jaeger,
            lifecycle,
            istio,
            apps,
            monitoring,
            smoke_test,
            external,
            operator,
        })
    }

    /// Every collector and Jaeger config with where it runs.
    #[must_use]
    pub fn configs(&self) -> Vec<ConfigRef> {
        let mut configs = vec![self.gateway.config_ref()];
        configs.extend(self.agents.as_ref().map(Agents::config_ref));
        configs.extend(self.sampler.as_ref().map(Sampler::config_ref));
        // Under the Jaeger Operator, Jaeger v1 runs on flags, not on these configs.
        if self.operator.as_ref().is_none_or(|o| o.gateway) {
            configs.extend(self.jaeger.config_refs());
        }
        configs
    }

    /// Every object of the root bundle, namespace first.
    #[must_use]
    pub fn into_objects(self) -> Vec<Object> {
        let mut objects = vec![Object::from(self.namespace)];
        objects.extend(self.network_policies.map(Policies::into_objects).unwrap_or_default());
        match self.operator {
            None => {
                objects.extend(self.gateway.into_objects());
                objects.extend(self.jaeger.into_objects());
            }
            Some(operated) => {
                if operated.gateway {
                    // What the `OpenTelemetryCollector` cannot express stays plain: the
                    // ServiceAccounts (named by the resources), RBAC and the `otlp` Service.
                    let gateway = self.gateway;
                    objects.push(gateway.service_account.into());
                    objects.extend(gateway.cluster_role.map(Object::from));
                    objects.extend(gateway.cluster_role_binding.map(Object::from));
                    objects.push(gateway.service.into());
                    objects.push(self.jaeger.service_account.into());
                } else {
                    objects.extend(self.gateway.into_objects());
                }
                objects.extend(operated.resources.into_iter().map(Object::from));
            }
        }
        objects.extend(self.agents.map(Agents::into_objects).unwrap_or_default());
        objects.extend(self.sampler.map(Sampler::into_objects).unwrap_or_default());
        objects.extend(self.lifecycle.into_objects());
        if let Some(monitoring) = self.monitoring {
            objects.extend(monitoring.into_objects());
        }
        objects
    }
}
