//! Markdown documents (READMEs next to the rendered files) produced from the same model as the
//! manifests with minijinja. Prose only: manifests are typed values and never pass through a
//! template.
//!
//! Every template is compiled once per process (parsing a template costs more than rendering it,
//! and a stack renders several).

use std::sync::OnceLock;

use serde::Serialize;

use crate::format::Error;

/// A template, by the name errors use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Template {
    /// The per-profile runbook, `README.md`.
    Runbook,
    /// `istio/README.md`.
    IstioReadme,
    /// `apps/README.md`.
    AppsReadme,
}

impl Template {
    /// The template's name (and the file it renders).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Runbook => "README.md",
            Self::IstioReadme => "istio/README.md",
            Self::AppsReadme => "apps/README.md",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Self::Runbook => include_str!("templates/runbook.md.j2"),
            Self::IstioReadme => include_str!("templates/istio-README.md.j2"),
            Self::AppsReadme => include_str!("templates/apps-README.md.j2"),
        }
    }

    const ALL: [Self; 3] = [Self::Runbook, Self::IstioReadme, Self::AppsReadme];
}

/// Blocks trim their own line, the final newline is kept, and an undefined variable is an error,
/// so a template cannot silently print nothing where the model lacks a field.
fn environment() -> Result<&'static minijinja::Environment<'static>, Error> {
    // A compile error is kept as (template, message): `Error` itself is not `Clone`.
    static ENV: OnceLock<Result<minijinja::Environment<'static>, (&'static str, String)>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for template in Template::ALL {
            env.add_template(template.name(), template.source()).map_err(|e| (template.name(), e.to_string()))?;
        }
        Ok(env)
    })
    .as_ref()
    .map_err(|(template, message)| Error::Template { template: (*template).into(), message: message.clone() })
}

/// Renders `template` with `context`.
///
/// # Errors
/// [`Error::Template`] when a template does not compile or refers to something `context` lacks.
pub fn markdown<S: Serialize>(template: Template, context: S) -> Result<String, Error> {
    environment()?
        .get_template(template.name())
        .and_then(|t| t.render(context))
        .map_err(|e| Error::Template { template: template.name().into(), message: e.to_string() })
}
