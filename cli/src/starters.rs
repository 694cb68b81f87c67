//! `tracestack init`: starter profiles, one per shape, each with the `$schema` modeline editors
//! read and a list of what to edit.

use std::path::{Component, Path, PathBuf};

use clap::ValueEnum;
use tracestack::model::schema::SCHEMA_FILE;

use crate::{Failure, OK, shown};

/// The shapes a starter profile can take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Shape {
    /// One collector, Jaeger all-in-one with in-memory storage: a laptop cluster or a test namespace.
    Demo,
    /// A load-sized, autoscaled gateway and Jaeger collector/query roles on your Elasticsearch.
    ProductionElasticsearch,
}

impl Shape {
    /// The starter's text, after the modeline.
    const fn body(self) -> &'static str {
        match self {
            Self::Demo => include_str!("../starters/demo.yaml"),
            Self::ProductionElasticsearch => include_str!("../starters/production-elasticsearch.yaml"),
        }
    }

    /// The name a profile of this shape gets when none is given.
    const fn default_name(self) -> &'static str {
        match self {
            Self::Demo => "demo",
            Self::ProductionElasticsearch => "production",
        }
    }

    /// What to edit before the first render, field by field.
    const fn edits(self) -> &'static [&'static str] {
        match self {
            Self::Demo => &[
                "namespace: the namespace the stack creates (default observability)",
                "environment: deployment.environment.name for spans that do not set it",
                "jaeger.storage.memory.max_traces: how many traces the in-memory store keeps",
            ],
            Self::ProductionElasticsearch => &[
                "load.spans_per_second: your peak; replicas, CPU, memory, queues and batches follow from it",
                "jaeger.storage.elasticsearch.server_urls and .namespace: your Elasticsearch and where it runs",
                "jaeger.storage.elasticsearch.credentials and .ca: Secrets you create before applying",
                "security.network_policy.query_from_namespaces / metrics_from_namespaces: your ingress and Prometheus",
                "monitoring.enabled and .labels: once the Prometheus Operator runs, the labels your Prometheus selects",
            ],
        }
    }
}

/// `to` relative to the directory `from`, both made absolute first: `../generated/schema/…`.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    let normal = |p: PathBuf| -> Vec<Component<'static>> {
        let mut parts: Vec<Component<'static>> = Vec::new();
        for part in p.components() {
            match part {
                Component::CurDir => {}
                Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                    parts.pop();
                }
                other => parts.push(match other {
                    Component::Normal(n) => Component::Normal(Box::leak(n.to_owned().into_boxed_os_str())),
                    Component::RootDir => Component::RootDir,
                    _ => Component::CurDir,
                }),
            }
        }
        parts
    };
    let (from, to) = (normal(absolute(from)), normal(absolute(to)));
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut path = PathBuf::new();
    for _ in common..from.len() {
        path.push("..");
    }
    for part in &to[common..] {
        path.push(part.as_os_str());
    }
    path
}

/// The starter profile's full text: the modeline pointing at `schema` (relative to the profile's
/// folder), then the shape's body.
#[must_use]
pub fn text(shape: Shape, schema: &str) -> String {
    format!("# yaml-language-server: $schema={schema}\n{}", shape.body())
}

/// Writes `<profiles>/<name>.yaml` for `shape` and prints what to edit; refuses to overwrite an
/// existing file without `force`.
pub fn init(
    base: &Path,
    name: Option<&str>,
    shape: Shape,
    profiles: &Path,
    out: &Path,
    force: bool,
) -> Result<u8, Failure> {
    let name = name.unwrap_or(shape.default_name());
    let file = profiles.join(format!("{name}.yaml"));
    tracestack::model::load::profile_name(&file).map_err(|e| Failure::usage(e.to_string()))?;
    if file.exists() && !force {
        return Err(Failure::usage(format!(
            "{} exists; pick another name, or pass --force to overwrite it",
            shown(base, &file)
        )));
    }
    let schema = relative(profiles, &out.join(SCHEMA_FILE)).to_string_lossy().replace('\\', "/");
    std::fs::create_dir_all(profiles).map_err(|e| Failure::usage(format!("{}: {e}", shown(base, profiles))))?;
    std::fs::write(&file, text(shape, &schema)).map_err(|e| Failure::usage(format!("{}: {e}", shown(base, &file))))?;
    let shape_name = shape.to_possible_value().map_or_else(String::new, |v| v.get_name().to_owned());
    println!("{}: written ({shape_name} starter)", shown(base, &file));
    println!("edit before the first render:");
    for edit in shape.edits() {
        println!("  - {edit}");
    }
    println!(
        "then run `tracestack render`: it writes {}/{name}/ and the schema your editor reads ({}).",
        shown(base, out),
        shown(base, &out.join(SCHEMA_FILE))
    );
    Ok(OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_modeline_points_from_the_profiles_folder_to_the_schema() {
        let rel = |from: &str, to: &str| relative(Path::new(from), Path::new(to)).display().to_string();
        assert_eq!(
            rel("/r/profiles", "/r/generated/schema/profile.schema.json"),
            "../generated/schema/profile.schema.json"
        );
        assert_eq!(rel("/r/a/b", "/r/out/x.json"), "../../out/x.json");
        assert_eq!(rel("/r/./profiles/../p", "/r/g/x.json"), "../g/x.json");
    }

    #[test]
    fn every_starter_loads_as_a_valid_profile() {
        for shape in Shape::value_variants() {
            let text = text(*shape, "../generated/schema/profile.schema.json");
            assert!(text.starts_with("# yaml-language-server: $schema=../generated/schema/profile.schema.json\n#\n"));
            let profile = tracestack::model::load::load_str("starter.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
            let source =
                tracestack::render::Source { profile: "starter".into(), origin: "profiles/starter.yaml".into() };
            tracestack::render::render_profile(&profile, &source).unwrap_or_else(|e| panic!("{shape:?}: {e}"));
        }
    }
}
