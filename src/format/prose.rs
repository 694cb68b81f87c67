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
///
/// Every value a template prints is escaped for where it lands, because profile text (a
/// description, a service name, a URL, a tag) reaches these documents, and their shell commands
/// are copied into terminals: by default as Markdown text ([`markdown_text`]: no line of its own,
/// no code span, link, HTML or table cell), `| code` as one inline code span ([`code_span`]) and
/// `| sh` as one shell word ([`shell_word`]). A value printed without a filter is therefore never
/// more than escaped text.
fn environment() -> Result<&'static minijinja::Environment<'static>, Error> {
    // A compile error is kept as (template, message): `Error` itself is not `Clone`.
    static ENV: OnceLock<Result<minijinja::Environment<'static>, (&'static str, String)>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_formatter(|out, _state, value| {
            match value.as_str() {
                Some(text) if !value.is_safe() => out.write_str(&markdown_text(text))?,
                _ => write!(out, "{value}")?,
            }
            Ok(())
        });
        env.add_filter("code", |value: minijinja::Value| {
            minijinja::Value::from_safe_string(code_span(&value.to_string()))
        });
        env.add_filter("sh", |value: minijinja::Value| {
            shell_word(&value.to_string())
                .map(minijinja::Value::from_safe_string)
                .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e))
        });
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

/// The lines of `markdown`'s fenced code blocks, without their indentation: what a reader copies
/// into a shell.
#[must_use]
pub fn code_block_lines(markdown: &str) -> Vec<&str> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
        } else if inside {
            out.push(line.trim());
        }
    }
    out
}

/// `text` as Markdown text inside a paragraph or table cell: control characters (a line break
/// among them) become spaces, so it never starts a line of its own (a heading, a fence, a list);
/// Markdown's and HTML's active characters are backslash-escaped (CommonMark lets any ASCII
/// punctuation be escaped), so it opens no code span, emphasis, link, HTML tag or table cell.
#[must_use]
pub fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.push(' ');
            continue;
        }
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '!' | '&') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` as one inline code span: the delimiters are one backtick longer than the longest run of
/// backticks inside (CommonMark's rule), padded with a space when the text starts or ends with a
/// backtick, and control characters become spaces, so the span cannot end early or span lines.
/// A `|` is written `\|`: in a table even a code span's pipe would end the cell (GitHub Flavored
/// Markdown, "Tables"), and the escape is what keeps it inside.
#[must_use]
pub fn code_span(text: &str) -> String {
    let text: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let text = text.replace('|', r"\|");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// `text` as one POSIX shell word: as it is when it holds only characters no shell treats
/// specially, else in single quotes (inside which nothing is special; a `'` is written `'\''`).
///
/// # Errors
/// When `text` holds a control character: a line break would start a second command line in the
/// copied block.
pub fn shell_word(text: &str) -> Result<String, String> {
    if text.chars().any(char::is_control) {
        return Err(format!("{text:?} holds a control character and cannot be one word of a shell command"));
    }
    let plain = !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b));
    Ok(if plain { text.to_owned() } else { format!("'{}'", text.replace('\'', r"'\''")) })
}

#[cfg(test)]
mod tests {
    use super::{code_span, markdown_text, shell_word};

    #[test]
    fn text_cannot_leave_its_line_or_open_markup() {
        assert_eq!(markdown_text("a\n# b `c` <d> [e](f) | g"), r"a \# b \`c\` \<d\> \[e\](f) \| g");
        assert_eq!(markdown_text("otel-collector.observability"), "otel-collector.observability");
    }

    #[test]
    fn code_spans_outlast_the_backticks_inside() {
        assert_eq!(code_span("jaeger"), "`jaeger`");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`x``"), "``` `x`` ```");
        assert_eq!(code_span("a\nb"), "`a b`");
        assert_eq!(code_span("a|b"), r"`a\|b`");
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("deploy/otel-collector").as_deref(), Ok("deploy/otel-collector"));
        assert_eq!(shell_word("a b").as_deref(), Ok("'a b'"));
        assert_eq!(shell_word("$(reboot);'x'").as_deref(), Ok(r"'$(reboot);'\''x'\'''"));
        assert_eq!(shell_word("").as_deref(), Ok("''"));
        assert!(shell_word("a\nb").is_err());
    }
}
