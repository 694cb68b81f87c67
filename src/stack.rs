//! A whole stack: every component of a validated profile, as typed objects in apply order.

use k8s_openapi::api::core::v1::Namespace;

use crate::components::{self, Component, apps::Apps, collector::Gateway, istio::Istio, jaeger::Jaeger};
use crate::error::Error;
use crate::k8s::Object;
use crate::profile::Profile;
use crate::render::{Bundle, Parts};

/// The components of one stack, each reachable by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Stack {
    /// The namespace everything lives in.
    pub namespace: Namespace,
    /// The OpenTelemetry Collector gateway behind the `otlp` Service.
    pub gateway: Gateway,
    /// Jaeger behind `jaeger-collector` and `jaeger-query`.
    pub jaeger: Jaeger,
    /// Istio mesh tracing, when the profile enables it.
    pub istio: Option<Istio>,
    /// Onboarded applications.
    pub apps: Apps,
}

impl Stack {
    /// Builds the stack a profile describes.
    ///
    /// # Errors
    /// [`Error::Profile`] when the profile is invalid; [`Error::Config`] when a generated config
    /// would not start (e.g. a component the pinned distribution lacks); [`Error::Istio`] when the
    /// Istio configuration would not reach the gateway.
    pub fn build(profile: &Profile) -> Result<Self, Error> {
        profile.validate().map_err(Error::Profile)?;
        let jaeger = components::jaeger::jaeger(profile)?;
        let gateway = components::collector::gateway(profile, &components::jaeger::collector_endpoint(profile))?;
        let istio = components::istio::istio(profile, &gateway)?;
        let apps = components::apps::apps(profile)?;
        Ok(Self { namespace: components::namespace::namespace(&profile.namespace), gateway, jaeger, istio, apps })
    }

    /// Everything the stack renders: the root bundle of objects, plus any sub-bundles and extra
    /// documents.
    ///
    /// # Errors
    /// [`Error::Serialize`] when a document does not serialise.
    pub fn into_parts(self) -> Result<Parts, Error> {
        let mut documents = Vec::new();
        if let Some(istio) = &self.istio {
            documents.extend(istio.documents()?);
        }
        documents.extend(self.apps.documents()?);
        let mut bundles = self.apps.bundles();
        bundles.insert(0, Bundle { dir: String::new(), objects: self.into_objects() });
        Ok(Parts { bundles, documents })
    }

    /// Every object of the root bundle, namespace first.
    #[must_use]
    pub fn into_objects(self) -> Vec<Object> {
        let mut objects = vec![Object::Namespace(self.namespace)];
        objects.extend(self.gateway.into_objects());
        objects.extend(self.jaeger.into_objects());
        if let Some(istio) = &self.istio {
            objects.extend(istio.objects());
        }
        objects
    }
}
