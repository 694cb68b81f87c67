//! Markdown documents (READMEs next to the rendered files) produced from the same model as the
//! manifests with minijinja. Prose only: manifests are typed values and never pass through a
//! template.

use serde::Serialize;

use crate::error::Error;

/// Renders `template` (minijinja syntax) with `context`; `name` identifies it in errors. Blocks
/// trim their own line, the final newline is kept, and an undefined variable is an error, so a
/// template cannot silently print nothing where the model lacks a field.
///
/// # Errors
/// [`Error::Serialize`] when the template does not parse or refers to something `context` lacks.
pub fn markdown<S: Serialize>(name: &str, template: &str, context: S) -> Result<String, Error> {
    let mut env = minijinja::Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.template_from_str(template)
        .and_then(|t| t.render(context))
        .map_err(|e| Error::Serialize { what: name.to_owned(), message: e.to_string() })
}
