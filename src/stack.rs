//! A whole stack: every component of a validated profile, as typed objects in apply order.

use k8s_openapi::api::core::v1::Namespace;

use crate::check::{self, ConfigRef, External, Summary};
use crate::components::{self, Component, collector::Gateway, jaeger::Jaeger};
use crate::error::Error;
use crate::k8s::Object;
use crate::profile::Profile;

/// The components of one stack, each reachable by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Stack {
    /// The namespace everything lives in.
    pub namespace: Namespace,
    /// The OpenTelemetry Collector gateway behind the `otlp` Service.
    pub gateway: Gateway,
    /// Jaeger behind `jaeger-collector` and `jaeger-query`.
    pub jaeger: Jaeger,
    /// What the stack uses but does not render (Secrets the user creates, outside endpoints);
    /// [`crate::check`] accepts references to these.
    pub external: External,
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
        let mut external = External::default();
        external.extend(jaeger.external.clone());
        Ok(Self { namespace: components::namespace::namespace(&profile.namespace), gateway, jaeger, external })
    }

    /// Every collector and Jaeger config with where it runs.
    #[must_use]
    pub fn configs(&self) -> Vec<ConfigRef> {
        let mut configs = vec![self.gateway.config_ref()];
        configs.extend(self.jaeger.config_refs());
        configs
    }

    /// Runs the cross-object checks over the whole stack.
    ///
    /// # Errors
    /// [`Error::Check`] naming every violation.
    pub fn check(&self) -> Result<Summary, Error> {
        check::check(&self.clone().into_objects(), &self.configs(), &self.external)
    }

    /// Every object, namespace first.
    #[must_use]
    pub fn into_objects(self) -> Vec<Object> {
        let mut objects = vec![Object::Namespace(self.namespace)];
        objects.extend(self.gateway.into_objects());
        objects.extend(self.jaeger.into_objects());
        objects
    }
}
