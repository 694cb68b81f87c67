//! A whole stack: every component of a validated profile, as typed objects in apply order.

use k8s_openapi::api::core::v1::Namespace;

use crate::components::monitoring::Monitoring;
use crate::components::smoke_test::{self, SmokeTest};
use crate::components::{self, Component, collector::Gateway, jaeger::Jaeger};
use crate::error::Error;
use crate::k8s::Object;
use crate::profile::Profile;
use crate::render::{Bundle, Document, DocumentBody, Parts};
use crate::runbook;

/// The components of one stack, each reachable by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Stack {
    /// What the profile says the stack is for.
    pub description: String,
    /// The namespace everything lives in.
    pub namespace: Namespace,
    /// The OpenTelemetry Collector gateway behind the `otlp` Service.
    pub gateway: Gateway,
    /// Jaeger behind `jaeger-collector` and `jaeger-query`.
    pub jaeger: Jaeger,
    /// PodMonitors and alert rules, when the profile enables monitoring.
    pub monitoring: Option<Monitoring>,
    /// The smoke-test Jobs (their own kustomization, applied once the stack is up).
    pub smoke_test: SmokeTest,
}

impl Stack {
    /// Builds the stack a profile describes.
    ///
    /// # Errors
    /// [`Error::Profile`] when the profile is invalid; [`Error::Config`] when a generated config
    /// would not start (e.g. a component the pinned distribution lacks).
    pub fn build(profile: &Profile) -> Result<Self, Error> {
        profile.validate().map_err(Error::Profile)?;
        let jaeger = components::jaeger::jaeger(profile)?;
        let gateway = components::collector::gateway(profile, &components::jaeger::collector_endpoint(profile))?;
        let monitoring = components::monitoring::monitoring(profile, &gateway, &jaeger)?;
        let smoke_test = smoke_test::smoke_test(profile, &gateway.service, &jaeger.query_service)?;
        Ok(Self {
            description: profile.description.clone(),
            namespace: components::namespace::namespace(&profile.namespace),
            gateway,
            jaeger,
            monitoring,
            smoke_test,
        })
    }

    /// Everything the stack renders: the root bundle of objects, the `smoke-test` bundle, and the
    /// runbook (`README.md`), written from these same objects.
    ///
    /// # Errors
    /// [`Error::Template`] when the runbook template fails.
    pub fn into_parts(self) -> Result<Parts, Error> {
        let readme = runbook::render(&runbook::Context::from_stack(&self))?;
        let smoke = self.smoke_test.clone().into_objects();
        Ok(Parts {
            bundles: vec![
                Bundle { dir: String::new(), objects: self.into_objects() },
                Bundle { dir: smoke_test::DIR.into(), objects: smoke },
            ],
            documents: vec![Document { path: runbook::FILE.into(), body: DocumentBody::Markdown(readme) }],
        })
    }

    /// Every object of the root bundle, namespace first.
    #[must_use]
    pub fn into_objects(self) -> Vec<Object> {
        let mut objects = vec![Object::Namespace(self.namespace)];
        objects.extend(self.gateway.into_objects());
        objects.extend(self.jaeger.into_objects());
        if let Some(monitoring) = self.monitoring {
            objects.extend(monitoring.into_objects());
        }
        objects
    }
}
