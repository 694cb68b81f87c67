//! The object-level change set between committed output and a fresh render: objects added,
//! removed and changed (by kind, namespace and name), each change as field paths with old and new
//! values, embedded multi-line text (a ConfigMap's collector or Jaeger config) as a line diff, and
//! the effects a reviewer cares about (replicas, pods that roll, immutable fields).
//!
//! Files are compared as what they hold, never as bytes: a file whose only difference is its
//! generated header (a new tracestack version) is counted, not listed as a change.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value;
use similar::TextDiff;

/// The annotation on a pod template holding the hash of the mounted config.
const CONFIG_HASH: &str = "checksum/config";

/// What a file holds, for comparing.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Id {
    /// A Kubernetes object (or a kustomization, named by its folder).
    Object {
        /// `kind`.
        kind: String,
        /// `metadata.namespace`, if any.
        namespace: Option<String>,
        /// `metadata.name`.
        name: String,
    },
    /// Any other file (a runbook, a values file, the schema), by path.
    Document {
        /// Path relative to its profile's folder.
        path: String,
    },
}

impl Id {
    /// `Kind namespace/name`, or the document's path.
    #[must_use]
    pub fn label(&self) -> String {
        match self {
            Self::Object { kind, namespace: Some(ns), name } => format!("{kind} {ns}/{name}"),
            Self::Object { kind, namespace: None, name } => format!("{kind} {name}"),
            Self::Document { path } => format!("file {path}"),
        }
    }
}

/// One changed field of a changed object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    /// A value set, removed or replaced: `None` where it is absent.
    Value {
        /// The field's path, e.g. `spec.template.spec.containers[name=otel-collector].image`.
        path: String,
        /// The committed value.
        old: Option<String>,
        /// The rendered value.
        new: Option<String>,
    },
    /// Multi-line text (an embedded config, a runbook) as a unified line diff.
    Text {
        /// The field's path, e.g. `data["config.yaml"]`; empty for a whole document.
        path: String,
        /// The unified diff's hunks.
        diff: String,
    },
}

impl Field {
    /// The field's path.
    #[must_use]
    pub fn path(&self) -> &str {
        match self {
            Self::Value { path, .. } | Self::Text { path, .. } => path,
        }
    }
}

/// How an object differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Rendered, not committed.
    Added,
    /// Committed, no longer rendered.
    Removed,
    /// Both, with these fields changed.
    Changed(Vec<Field>),
}

/// One object's change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The profile (the output folder's first part; empty for a single profile's output).
    pub profile: String,
    /// What changed.
    pub id: Id,
    /// The file, relative to the output directory.
    pub file: String,
    /// How.
    pub status: Status,
}

/// What an effect is about; effects are listed in this order within a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Topic {
    /// Replicas or autoscaling bounds.
    Replicas,
    /// CPU and memory per pod.
    Resources,
    /// Pods that roll.
    Roll,
    /// Anything needing a manual step (immutable fields) or left behind.
    Action,
}

/// A consequence worth a reviewer's attention.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Effect {
    /// The profile.
    pub profile: String,
    /// What it is about.
    pub topic: Topic,
    /// One sentence, Markdown code spans allowed.
    pub text: String,
}

/// Everything that differs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// Changed, added and removed objects, by profile, then kind, namespace and name.
    pub changes: Vec<Change>,
    /// Files whose only difference is their generated header or comments.
    pub header_only: Vec<String>,
    /// The effects, in order.
    pub effects: Vec<Effect>,
}

impl ChangeSet {
    /// How many objects were added, removed and changed.
    #[must_use]
    pub fn counts(&self) -> (usize, usize, usize) {
        let count = |f: fn(&Status) -> bool| self.changes.iter().filter(|c| f(&c.status)).count();
        (
            count(|s| matches!(s, Status::Added)),
            count(|s| matches!(s, Status::Removed)),
            count(|s| matches!(s, Status::Changed(_))),
        )
    }

    /// Whether nothing but headers differ.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// A parsed file.
struct Parsed {
    profile: String,
    id: Id,
    file: String,
    content: Content,
}

enum Content {
    Structured(Value),
    Text(String),
}

/// Compares committed files with rendered ones, both by path relative to the output directory;
/// with `grouped`, each path's first part is its profile (the output of every profile). Files equal
/// byte for byte are skipped: they cannot change anything, and parsing them is most of the work.
#[must_use]
pub fn compare(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>, grouped: bool) -> ChangeSet {
    let index = |files: &BTreeMap<String, String>, other: &BTreeMap<String, String>| {
        files
            .iter()
            .filter(|(rel, text)| other.get(*rel) != Some(*text))
            .map(|(rel, text)| {
                let parsed = parse(rel, text, grouped);
                ((parsed.profile.clone(), parsed.id.clone()), parsed)
            })
            .collect::<BTreeMap<(String, Id), Parsed>>()
    };
    let (old, new) = (index(old, new), index(new, old));
    let keys: BTreeSet<&(String, Id)> = old.keys().chain(new.keys()).collect();
    let mut set = ChangeSet::default();
    for key in keys {
        let (profile, id) = key.clone();
        match (old.get(key), new.get(key)) {
            (None, Some(n)) => set.changes.push(Change { profile, id, file: n.file.clone(), status: Status::Added }),
            (Some(o), None) => set.changes.push(Change { profile, id, file: o.file.clone(), status: Status::Removed }),
            (Some(o), Some(n)) => {
                let mut fields = Vec::new();
                match (&o.content, &n.content) {
                    (Content::Structured(a), Content::Structured(b)) => diff_values("", a, b, &mut fields),
                    (Content::Text(a), Content::Text(b)) => {
                        if a != b {
                            fields.push(Field::Text { path: String::new(), diff: unified(a, b) });
                        }
                    }
                    _ => fields.push(Field::Value {
                        path: String::new(),
                        old: Some("(not YAML)".into()),
                        new: Some("(YAML)".into()),
                    }),
                }
                if fields.is_empty() {
                    set.header_only.push(n.file.clone());
                } else {
                    set.changes.push(Change { profile, id, file: n.file.clone(), status: Status::Changed(fields) });
                }
            }
            (None, None) => {}
        }
    }
    set.effects = effects(&set.changes, &old, &new);
    set
}

fn parse(rel: &str, text: &str, grouped: bool) -> Parsed {
    let (profile, inner) = match rel.split_once('/') {
        Some((profile, inner)) if grouped => (profile.to_owned(), inner.to_owned()),
        _ if grouped => (String::new(), rel.to_owned()),
        _ => (String::new(), rel.to_owned()),
    };
    let document = |content| Parsed {
        profile: profile.clone(),
        id: Id::Document { path: inner.clone() },
        file: rel.to_owned(),
        content,
    };
    if rel.ends_with(".yaml") || rel.ends_with(".yml") {
        if let Ok(value) = serde_saphyr::from_str::<Value>(text) {
            if let Some(kind) = value.get("kind").and_then(Value::as_str) {
                let metadata = value.get("metadata");
                let field = |name: &str| metadata.and_then(|m| m.get(name)).and_then(Value::as_str).map(str::to_owned);
                let folder = inner.rsplit_once('/').map_or(".", |(dir, _)| dir).to_owned();
                let id = Id::Object {
                    kind: kind.to_owned(),
                    namespace: field("namespace"),
                    name: field("name").unwrap_or(folder),
                };
                return Parsed { profile, id, file: rel.to_owned(), content: Content::Structured(value) };
            }
            return document(Content::Structured(value));
        }
    } else if rel.ends_with(".json")
        && let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(text)
    {
        // The schema's `$comment` is its generated header.
        map.remove("$comment");
        return document(Content::Structured(Value::Object(map)));
    }
    document(Content::Text(without_header(text)))
}

/// `text` without its generated header lines.
fn without_header(text: &str) -> String {
    let mut lines = text.split_inclusive('\n').peekable();
    while let Some(line) = lines.peek() {
        let header = line.starts_with("# Generated by tracestack")
            || line.starts_with("<!-- Generated by tracestack")
            || line.starts_with("# change the profile and run");
        if !header {
            break;
        }
        lines.next();
    }
    lines.collect()
}

fn unified(old: &str, new: &str) -> String {
    TextDiff::from_lines(old, new).unified_diff().context_radius(3).to_string()
}

fn is_plain_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn join(path: &str, key: &str) -> String {
    if is_plain_key(key) {
        if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
    } else {
        format!("{path}[{}]", Value::String(key.to_owned()))
    }
}

/// A scalar as a reviewer reads it; a list or map as compact JSON, cut at 160 characters.
fn show(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 160 { text.chars().take(159).chain(['…']).collect() } else { text }
}

/// The names of a list whose every element is a map with a distinct `name` (containers, ports,
/// env, volumes), so elements are matched by name rather than position.
fn names(items: &[Value]) -> Option<Vec<&str>> {
    let names: Vec<&str> = items.iter().map(|i| i.get("name").and_then(Value::as_str)).collect::<Option<_>>()?;
    let distinct: BTreeSet<&&str> = names.iter().collect();
    (distinct.len() == names.len()).then_some(names)
}

fn diff_values(path: &str, old: &Value, new: &Value, out: &mut Vec<Field>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let child = join(path, key);
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => diff_values(&child, x, y, out),
                    (x, y) => out.push(Field::Value { path: child, old: x.map(show), new: y.map(show) }),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => match (names(a), names(b)) {
            (Some(na), Some(nb)) if !a.is_empty() && !b.is_empty() => {
                for (name, x) in na.iter().zip(a) {
                    let child = format!("{path}[name={name}]");
                    match nb.iter().position(|n| n == name) {
                        Some(i) => diff_values(&child, x, &b[i], out),
                        None => out.push(Field::Value { path: child, old: Some(show(x)), new: None }),
                    }
                }
                for (name, y) in nb.iter().zip(b) {
                    if !na.contains(name) {
                        out.push(Field::Value { path: format!("{path}[name={name}]"), old: None, new: Some(show(y)) });
                    }
                }
                let common_old: Vec<&&str> = na.iter().filter(|n| nb.contains(n)).collect();
                let common_new: Vec<&&str> = nb.iter().filter(|n| na.contains(n)).collect();
                if common_old != common_new {
                    let list = |v: &[&&str]| v.iter().map(|n| **n).collect::<Vec<_>>().join(", ");
                    out.push(Field::Value {
                        path: format!("{path} (order)"),
                        old: Some(list(&common_old)),
                        new: Some(list(&common_new)),
                    });
                }
            }
            _ => {
                for i in 0..a.len().max(b.len()) {
                    let child = format!("{path}[{i}]");
                    match (a.get(i), b.get(i)) {
                        (Some(x), Some(y)) => diff_values(&child, x, y, out),
                        (x, y) => out.push(Field::Value { path: child, old: x.map(show), new: y.map(show) }),
                    }
                }
            }
        },
        (Value::String(a), Value::String(b)) if a.contains('\n') || b.contains('\n') => {
            out.push(Field::Text { path: path.to_owned(), diff: unified(a, b) });
        }
        _ => out.push(Field::Value { path: path.to_owned(), old: Some(show(old)), new: Some(show(new)) }),
    }
}

/// What kind of workload this is, from its `app.kubernetes.io/component` label (`gateway`,
/// `collector`, …), for effects such as "gateway `otel-collector` replicas 2–3 → 4–8".
fn role(value: &Value) -> String {
    value
        .pointer("/metadata/labels/app.kubernetes.io~1component")
        .and_then(Value::as_str)
        .map_or_else(String::new, |c| format!("{c} "))
}

fn number(value: &Value, pointer: &str) -> Option<i64> {
    value.pointer(pointer).and_then(Value::as_i64)
}

fn range(value: &Value) -> String {
    let min = number(value, "/spec/minReplicas").unwrap_or(1);
    let max = number(value, "/spec/maxReplicas").map_or_else(|| "?".to_owned(), |m| m.to_string());
    format!("{min}–{max}")
}

/// Each container's CPU and memory that changed, as `request/limit`: `cpu 1450m/2900m →
/// 2150m/4300m, memory 1152Mi/1152Mi → 1664Mi/1664Mi`, the container named when there are several.
fn resources(before: &Value, after: &Value, template: &str) -> String {
    let pointer = format!("/{}/spec/containers", template.replace('.', "/"));
    let containers = |v: &Value| v.pointer(&pointer).and_then(Value::as_array).cloned().unwrap_or_default();
    let (old, new) = (containers(before), containers(after));
    let several = new.len() > 1;
    let mut parts = Vec::new();
    for container in &new {
        let name = container.get("name").and_then(Value::as_str).unwrap_or_default();
        let Some(previous) = old.iter().find(|c| c.get("name").and_then(Value::as_str) == Some(name)) else {
            continue;
        };
        let pair = |c: &Value, resource: &str| {
            let get =
                |kind: &str| c.pointer(&format!("/resources/{kind}/{resource}")).map_or_else(|| "-".to_owned(), show);
            format!("{}/{}", get("requests"), get("limits"))
        };
        for resource in ["cpu", "memory"] {
            let (was, now) = (pair(previous, resource), pair(container, resource));
            if was != now {
                let prefix = if several { format!("{name} ") } else { String::new() };
                parts.push(format!("{prefix}{resource} {was} → {now}"));
            }
        }
    }
    if parts.is_empty() { String::new() } else { format!("{} (request/limit)", parts.join(", ")) }
}

fn structured<'a>(map: &'a BTreeMap<(String, Id), Parsed>, change: &Change) -> Option<&'a Value> {
    match &map.get(&(change.profile.clone(), change.id.clone()))?.content {
        Content::Structured(value) => Some(value),
        Content::Text(_) => None,
    }
}

fn effects(
    changes: &[Change],
    old: &BTreeMap<(String, Id), Parsed>,
    new: &BTreeMap<(String, Id), Parsed>,
) -> Vec<Effect> {
    let mut effects = Vec::new();
    let mut removed: BTreeMap<&str, usize> = BTreeMap::new();
    for change in changes {
        let Id::Object { kind, name, .. } = &change.id else { continue };
        let mut say =
            |topic: Topic, text: String| effects.push(Effect { profile: change.profile.clone(), topic, text });
        let before = structured(old, change);
        let after = structured(new, change);
        match (&change.status, kind.as_str()) {
            (Status::Changed(fields), "HorizontalPodAutoscaler") => {
                let scaled = fields.iter().any(|f| matches!(f.path(), "spec.minReplicas" | "spec.maxReplicas"));
                if let (true, Some(b), Some(a)) = (scaled, before, after) {
                    let target = a.pointer("/spec/scaleTargetRef/name").and_then(Value::as_str).unwrap_or(name);
                    say(Topic::Replicas, format!("{}`{target}` replicas {} → {}", role(a), range(b), range(a)));
                }
            }
            (Status::Added, "HorizontalPodAutoscaler") => {
                if let Some(a) = after {
                    let target = a.pointer("/spec/scaleTargetRef/name").and_then(Value::as_str).unwrap_or(name);
                    say(Topic::Replicas, format!("{}`{target}` is autoscaled now: replicas {}", role(a), range(a)));
                }
            }
            (Status::Removed, "HorizontalPodAutoscaler") => {
                if let Some(b) = before {
                    let target = b.pointer("/spec/scaleTargetRef/name").and_then(Value::as_str).unwrap_or(name);
                    say(Topic::Replicas, format!("{}`{target}` is no longer autoscaled (was {})", role(b), range(b)));
                }
            }
            (Status::Changed(fields), "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob") => {
                let who = after.map_or_else(String::new, role);
                if let Some(f) = fields.iter().find(|f| f.path() == "spec.replicas")
                    && let Field::Value { old, new, .. } = f
                {
                    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "unset".into());
                    say(Topic::Replicas, format!("{who}`{name}` replicas {} → {}", show(old), show(new)));
                }
                let template = if kind == "CronJob" { "spec.jobTemplate.spec.template" } else { "spec.template" };
                let in_template: Vec<&Field> =
                    fields.iter().filter(|f| f.path().starts_with(&format!("{template}."))).collect();
                let hash = in_template.iter().any(|f| f.path().ends_with(&format!("[\"{CONFIG_HASH}\"]")));
                if kind == "Job" && !in_template.is_empty() {
                    say(
                        Topic::Action,
                        format!(
                            "Job `{name}` changed its pod template, which is immutable: delete the Job before applying"
                        ),
                    );
                } else if !in_template.is_empty() {
                    let why = match (hash, in_template.len() > 1) {
                        (true, false) => "config hash changed",
                        (true, true) => "config hash and pod template changed",
                        _ => "pod template changed",
                    };
                    let what = if kind == "CronJob" { "its next jobs' pods change" } else { "pods will roll" };
                    say(Topic::Roll, format!("{who}`{name}`: {what}: {why}"));
                }
                if let (Some(b), Some(a)) = (before, after) {
                    let resources = resources(b, a, template);
                    if !resources.is_empty() {
                        say(Topic::Resources, format!("{who}`{name}` per pod: {resources}"));
                    }
                }
                if fields.iter().any(|f| f.path().starts_with("spec.selector")) {
                    say(
                        Topic::Action,
                        format!(
                            "{who}`{name}`: the selector changed, which is immutable: the {kind} must be deleted and recreated"
                        ),
                    );
                }
            }
            (Status::Removed, _) => *removed.entry(change.profile.as_str()).or_default() += 1,
            _ => {}
        }
    }
    for (profile, removed) in removed {
        effects.push(Effect {
            profile: profile.to_owned(),
            topic: Topic::Action,
            text: format!(
                "{removed} object(s) no longer rendered: they stay in the cluster unless the apply prunes them or they are deleted"
            ),
        });
    }
    // By profile, then topic; within a topic in object order (stable).
    effects.sort_by(|a, b| (&a.profile, a.topic).cmp(&(&b.profile, b.topic)));
    effects
}

/// Plain text for a terminal.
#[must_use]
pub fn text(set: &ChangeSet) -> String {
    let mut out = String::new();
    let mut profile = None;
    for change in &set.changes {
        if profile != Some(&change.profile) {
            profile = Some(&change.profile);
            if !change.profile.is_empty() {
                let _ = writeln!(out, "{}:", change.profile);
            }
        }
        let (sign, fields) = match &change.status {
            Status::Added => ('+', None),
            Status::Removed => ('-', None),
            Status::Changed(fields) => ('~', Some(fields)),
        };
        let _ = writeln!(out, "  {sign} {}  ({})", change.id.label(), change.file);
        for field in fields.into_iter().flatten() {
            match field {
                Field::Value { path, old, new } => {
                    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
                    let _ = writeln!(out, "      {path}: {} → {}", show(old), show(new));
                }
                Field::Text { path, diff } => {
                    let _ = writeln!(out, "      {}:", if path.is_empty() { "text" } else { path });
                    for line in diff.lines() {
                        let _ = writeln!(out, "        {line}");
                    }
                }
            }
        }
    }
    if !set.effects.is_empty() {
        let _ = writeln!(out, "effects:");
        for effect in &set.effects {
            let _ = writeln!(out, "  - {}{}", in_profile(&effect.profile), effect.text.replace('`', ""));
        }
    }
    let _ = writeln!(out, "{}", summary(set));
    out
}

fn in_profile(profile: &str) -> String {
    if profile.is_empty() { String::new() } else { format!("{profile}: ") }
}

fn summary(set: &ChangeSet) -> String {
    let (added, removed, changed) = set.counts();
    let mut line = if set.is_empty() {
        "no object changes".to_owned()
    } else {
        format!("{changed} changed, {added} added, {removed} removed")
    };
    if !set.header_only.is_empty() {
        let _ = write!(line, "; {} file(s) differ only in their generated header", set.header_only.len());
    }
    line
}

/// A Markdown code span holding `text` whatever it contains, safe in a table cell.
fn code(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let ticks = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') || text.is_empty() { " " } else { "" };
    format!("{ticks}{pad}{}{pad}{ticks}", text.replace('|', "\\|").replace('\n', " "))
}

/// Markdown text: escapes what would start markup.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An effect's text: its backtick pairs as code spans, the rest escaped.
fn effect_markdown(text: &str) -> String {
    text.split('`').enumerate().map(|(i, part)| if i % 2 == 1 { code(part) } else { escape(part) }).collect()
}

/// A fence longer than any backtick run in `text`.
fn fence(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// Markdown for a pull-request comment: a summary line, the effects, a table of objects, and per
/// changed object its fields (line diffs for embedded configs) in a collapsed section.
#[must_use]
pub fn markdown(set: &ChangeSet) -> String {
    let mut out = String::from("### tracestack diff\n\n");
    let _ = writeln!(out, "{}\n", escape(&summary(set)));
    if set.is_empty() {
        return out;
    }
    if !set.effects.is_empty() {
        out.push_str("**Effects**\n\n");
        for effect in &set.effects {
            let _ = writeln!(out, "- {}{}", escape(&in_profile(&effect.profile)), effect_markdown(&effect.text));
        }
        out.push('\n');
    }
    out.push_str("| | Profile | Kind | Namespace | Name |\n|---|---|---|---|---|\n");
    for change in &set.changes {
        let status = match change.status {
            Status::Added => "added",
            Status::Removed => "removed",
            Status::Changed(_) => "changed",
        };
        let (kind, namespace, name) = match &change.id {
            Id::Object { kind, namespace, name } => (kind.as_str(), namespace.as_deref().unwrap_or(""), name.as_str()),
            Id::Document { path } => ("file", "", path.as_str()),
        };
        let cell = |s: &str| if s.is_empty() { String::new() } else { code(s) };
        let _ = writeln!(
            out,
            "| {status} | {} | {} | {} | {} |",
            cell(&change.profile),
            cell(kind),
            cell(namespace),
            cell(name)
        );
    }
    for change in &set.changes {
        let Status::Changed(fields) = &change.status else { continue };
        let profile = if change.profile.is_empty() { String::new() } else { format!(" ({})", change.profile) };
        let _ = writeln!(out, "\n<details><summary>{}{}</summary>\n", html(&change.id.label()), html(&profile));
        let values: Vec<&Field> = fields.iter().filter(|f| matches!(f, Field::Value { .. })).collect();
        if !values.is_empty() {
            out.push_str("| Field | Old | New |\n|---|---|---|\n");
            for field in values {
                if let Field::Value { path, old, new } = field {
                    let cell = |v: &Option<String>| v.as_deref().map_or_else(|| "—".to_owned(), code);
                    let _ = writeln!(out, "| {} | {} | {} |", code(path), cell(old), cell(new));
                }
            }
            out.push('\n');
        }
        for field in fields {
            if let Field::Text { path, diff } = field {
                let fence = fence(diff);
                if !path.is_empty() {
                    let _ = writeln!(out, "{}:\n", code(path));
                }
                let _ = writeln!(out, "{fence}diff\n{}{fence}\n", diff);
            }
        }
        out.push_str("</details>\n");
    }
    out
}

fn html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        entries.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    const HPA: &str = "# Generated by tracestack 0.1.0 from p (profile `p`). Do not edit by hand:\n# change the profile and run `cargo xtask render`.\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  labels:\n    app.kubernetes.io/component: gateway\n  name: otel-collector\n  namespace: observability\nspec:\n  maxReplicas: 3\n  minReplicas: 2\n  scaleTargetRef:\n    name: otel-collector\n";

    #[test]
    fn replicas_config_and_header_changes_are_told_apart() {
        let old = files(&[
            ("p/hpa.yaml", HPA),
            (
                "p/cm.yaml",
                "kind: ConfigMap\nmetadata:\n  name: c\n  namespace: o\ndata:\n  config.yaml: |\n    a: 1\n    b: 2\n",
            ),
            ("p/svc.yaml", "# Generated by tracestack 0.1.0\nkind: Service\nmetadata:\n  name: s\n"),
            ("p/gone.yaml", "kind: Secret\nmetadata:\n  name: x\n"),
            (
                "p/deploy.yaml",
                "kind: Deployment\nmetadata:\n  name: otel-collector\nspec:\n  template:\n    metadata:\n      annotations:\n        checksum/config: \"1\"\n    spec:\n      containers:\n      - name: a\n        image: x:1\n      - name: b\n        image: y:1\n",
            ),
        ]);
        let new = files(&[
            (
                "p/hpa.yaml",
                &HPA.replace("maxReplicas: 3", "maxReplicas: 8").replace("minReplicas: 2", "minReplicas: 4"),
            ),
            (
                "p/cm.yaml",
                "kind: ConfigMap\nmetadata:\n  name: c\n  namespace: o\ndata:\n  config.yaml: |\n    a: 1\n    b: 3\n",
            ),
            ("p/svc.yaml", "# Generated by tracestack 0.2.0\nkind: Service\nmetadata:\n  name: s\n"),
            ("p/new.yaml", "kind: PodDisruptionBudget\nmetadata:\n  name: pdb\n  namespace: o\n"),
            (
                "p/deploy.yaml",
                "kind: Deployment\nmetadata:\n  name: otel-collector\nspec:\n  template:\n    metadata:\n      annotations:\n        checksum/config: \"2\"\n    spec:\n      containers:\n      - name: b\n        image: y:1\n      - name: a\n        image: x:2\n",
            ),
        ]);
        let set = compare(&old, &new, true);
        assert_eq!(set.counts(), (1, 1, 3));
        assert_eq!(set.header_only, ["p/svc.yaml"]);
        let fields = |label: &str| match &set.changes.iter().find(|c| c.id.label() == label).unwrap().status {
            Status::Changed(fields) => fields.clone(),
            other => panic!("{label}: {other:?}"),
        };
        assert_eq!(
            fields("ConfigMap o/c"),
            [Field::Text {
                path: "data[\"config.yaml\"]".into(),
                diff: "@@ -1,2 +1,2 @@\n a: 1\n-b: 2\n+b: 3\n".into()
            }]
        );
        let deploy = fields("Deployment otel-collector");
        let paths: Vec<&str> = deploy.iter().map(Field::path).collect();
        assert_eq!(
            paths,
            [
                "spec.template.metadata.annotations[\"checksum/config\"]",
                "spec.template.spec.containers[name=a].image",
                "spec.template.spec.containers (order)"
            ]
        );
        let effects: Vec<&str> = set.effects.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(
            effects,
            [
                "gateway `otel-collector` replicas 2–3 → 4–8",
                "`otel-collector`: pods will roll: config hash and pod template changed",
                "1 object(s) no longer rendered: they stay in the cluster unless the apply prunes them or they are deleted",
            ]
        );
        let md = markdown(&set);
        assert!(md.contains("- p: gateway `otel-collector` replicas 2–3 → 4–8\n"), "{md}");
        assert!(md.contains("| `spec.maxReplicas` | `3` | `8` |"), "{md}");
        assert!(md.contains("```diff\n@@ -1,2 +1,2 @@\n a: 1\n-b: 2\n+b: 3\n```"), "{md}");
        assert!(md.contains("| added | `p` | `PodDisruptionBudget` | `o` | `pdb` |"), "{md}");
    }

    #[test]
    fn equal_outputs_have_no_changes() {
        let same = files(&[("p/hpa.yaml", HPA)]);
        let set = compare(&same, &same, true);
        assert!(set.is_empty() && set.header_only.is_empty() && set.effects.is_empty());
        assert_eq!(text(&set), "no object changes\n");
    }

    #[test]
    fn code_spans_hold_backticks_and_pipes() {
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("x`y"), "``x`y``");
        assert_eq!(escape("*a* <b>"), "\\*a\\* \\<b\\>");
    }
}
