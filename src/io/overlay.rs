//! A kustomization a user lays over rendered output: what it may change and what it may not.
//!
//! The namespace, object names and the labels the selectors use are written into configs (the
//! gateway's exporter endpoint `jaeger-collector.<namespace>.svc`, Istio's provider address),
//! cluster-scoped names (`otel-collector-<namespace>`), NetworkPolicy peers and alert rules; image
//! tags are pinned by the versions the component table checks; a ConfigMap's config is hashed onto
//! its pods. An overlay that changes any of those renders objects that disagree with each other
//! although each looks fine, so [`check`] refuses it, naming the line and the profile field to use
//! instead. Labels (without `includeSelectors`), annotations, a registry via `images[].newName`,
//! and patches of the other fields of the stack's objects stay the user's to change.

use std::path::Path;

use serde_json::Value;

use crate::io::Error;
use crate::model::locate;
use crate::stack::Stack;

/// One thing an overlay changes that it may not, with where it says so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// 1-based line in the kustomization, when found.
    pub line: Option<usize>,
    /// The field, e.g. `namespace`.
    pub field: String,
    /// Why it is refused and what to do instead.
    pub message: String,
}

/// The repositories of every image the stack's pods run (without tag or digest).
fn repositories(stack: &Stack) -> Vec<String> {
    let mut repos: Vec<String> = stack
        .clone()
        .into_objects()
        .iter()
        .chain(crate::components::Component::into_objects(stack.smoke_test.clone()).iter())
        .filter_map(|o| o.pod_template().and_then(|t| t.spec.clone()))
        .flat_map(|spec| spec.containers.into_iter().chain(spec.init_containers.unwrap_or_default()))
        .filter_map(|c| c.image)
        .map(|image| {
            let image = image.split('@').next().unwrap_or_default().to_owned();
            match image.rsplit_once(':') {
                Some((repo, tag)) if !tag.contains('/') => repo.to_owned(),
                _ => image,
            }
        })
        .collect();
    repos.sort();
    repos.dedup();
    repos
}

/// Checks the text of a user's `kustomization.yaml` that includes `stack`'s rendered output.
///
/// # Errors
/// Every refusal, or one for text that is not a YAML mapping.
pub fn check(text: &str, stack: &Stack) -> Result<(), Vec<Refusal>> {
    let value: Value = serde_saphyr::from_str(text).map_err(|e| {
        vec![Refusal { line: None, field: String::new(), message: format!("is not a YAML mapping: {e}") }]
    })?;
    let mut refusals = Vec::new();
    let mut refuse = |field: &str, message: String| {
        let line = locate::locate(text, &locate::parse_path(field)).map(|(line, _)| line);
        refusals.push(Refusal { line, field: field.to_owned(), message });
    };
    let namespace = stack.namespace.metadata.name.as_deref().unwrap_or_default();
    if let Some(ns) = value.get("namespace").and_then(Value::as_str)
        && ns != namespace
    {
        refuse(
            "namespace",
            format!(
                "moves the objects to `{ns}` but leaves `{namespace}` where the profile wrote it: in the gateway's exporter endpoint (`jaeger-collector.{namespace}.svc`), the cluster-scoped names (`otel-collector-{namespace}`), NetworkPolicy peers, Istio's provider address and the alert rules; set `namespace: {ns}` in the profile and render instead"
            ),
        );
    }
    for field in ["namePrefix", "nameSuffix"] {
        if value.get(field).is_some() {
            refuse(
                field,
                "renames objects whose names the configs, Services, bindings, policies and runbook refer to by the rendered name; keep the names and place the stack in a namespace of its own".into(),
            );
        }
    }
    if value.get("commonLabels").is_some() {
        refuse(
            "commonLabels",
            "also rewrites the selectors of Deployments (immutable once applied), Services and NetworkPolicies, but not those of PodMonitors; use `labels:` (without `includeSelectors`) or the profile's `pods.labels`".into(),
        );
    }
    for (i, entry) in value.get("labels").and_then(Value::as_array).into_iter().flatten().enumerate() {
        if entry.get("includeSelectors").and_then(Value::as_bool) == Some(true) {
            refuse(
                &format!("labels[{i}].includeSelectors"),
                "rewrites the stack's selectors as `commonLabels` does; drop `includeSelectors`".into(),
            );
        }
    }
    let repos = repositories(stack);
    for (i, entry) in value.get("images").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let name = entry.get("name").and_then(Value::as_str).unwrap_or_default();
        if !repos.iter().any(|r| r == name) {
            continue;
        }
        for field in ["newTag", "digest"] {
            if entry.get(field).is_some() {
                refuse(
                    &format!("images[{i}].{field}"),
                    format!(
                        "changes the tag of `{name}`, which the profile's version pins (and the component table checks the config against): set `collector.version` / `jaeger.version` and `digest` in the profile; a mirror is `pods.image_registry`"
                    ),
                );
            }
        }
    }
    let configs: Vec<String> = stack.configs().iter().map(|c| c.config_map.clone()).collect();
    for key in ["patches", "patchesStrategicMerge", "patchesJson6902"] {
        for (i, patch) in value.get(key).and_then(Value::as_array).into_iter().flatten().enumerate() {
            let target = patch.get("target");
            let kind = target.and_then(|t| t.get("kind")).and_then(Value::as_str);
            let name = target.and_then(|t| t.get("name")).and_then(Value::as_str);
            let inline = patch.get("patch").and_then(Value::as_str).or_else(|| patch.as_str()).unwrap_or_default();
            let names_config = |n: &str| configs.iter().any(|c| c == n);
            let hits = (kind == Some("ConfigMap") && name.is_none_or(names_config))
                || (inline.contains("kind: ConfigMap") && configs.iter().any(|c| inline.contains(c.as_str())));
            if hits {
                refuse(
                    &format!("{key}[{i}]"),
                    "patches a collector or Jaeger config: the config is typed and checked before it is written, and a hash of it on the pod template rolls the pods; change the profile instead".into(),
                );
            }
        }
    }
    if refusals.is_empty() { Ok(()) } else { Err(refusals) }
}

/// [`check`] over a kustomization file.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::Layout`] listing every refusal.
pub fn check_file(path: &Path, stack: &Stack) -> Result<(), Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    check(&text, stack).map_err(|refusals| Error::Layout {
        path: path.to_owned(),
        message: refusals
            .iter()
            .map(|r| match r.line {
                Some(line) => format!("line {line}: `{}` {}", r.field, r.message),
                None => format!("`{}` {}", r.field, r.message),
            })
            .collect::<Vec<_>>()
            .join("\n  "),
    })
}
