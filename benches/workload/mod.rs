//! The benchmark workload shared by `cargo bench` (benches/render.rs) and `cargo xtask bench`: the
//! built-in profiles as text, and 1,000 profile variants of the kind a per-cluster render loop sees.
//!
//! Profiles are read from `profiles/` at run time, never with `include_str!`, so editing a profile
//! never recompiles anything.

use std::path::Path;

use tracestack::Error;
use tracestack::model::load;
use tracestack::render::{self, Rendered, Source};

/// One profile as text, with the name and origin its files are rendered under.
pub struct ProfileText {
    /// Profile name (the file stem).
    pub name: String,
    /// `profiles/<name>.yaml`, as the generated headers name it.
    pub origin: String,
    /// The file's contents.
    pub text: String,
}

/// Every profile in `dir` (`*.yaml`), read into memory, sorted by name.
///
/// # Errors
/// When the directory or a file cannot be read, as a message naming it.
pub fn builtin_profiles(dir: &Path) -> Result<Vec<ProfileText>, String> {
    let paths = tracestack::io::project::profile_files(dir).map_err(|e| e.to_string())?;
    let mut profiles = Vec::with_capacity(paths.len());
    for path in paths {
        let name = load::profile_name(&path).map_err(|e| e.to_string())?;
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        profiles.push(ProfileText { origin: format!("profiles/{name}.yaml"), name, text });
    }
    Ok(profiles)
}

/// Loads, validates, builds and renders one profile text: the whole in-process path from the bytes
/// of a profile file to the bytes of its output files.
///
/// # Errors
/// The load or render error.
pub fn render_text(profile: &ProfileText) -> Result<Rendered, Error> {
    let parsed = load::load_str(&profile.origin, &profile.text)?;
    Ok(render::render_profile(&parsed, &Source { profile: profile.name.clone(), origin: profile.origin.clone() })?)
}

/// How many variants the variant benchmark renders.
pub const VARIANTS: usize = 1000;

/// `count` profile variants: namespaces, gateway and Jaeger replica counts, distributions and
/// versions, sampling, and storage (in-memory with different trace limits, or Elasticsearch with
/// different URLs, shards, replicas, credentials and CA) all vary.
#[must_use]
pub fn variants(count: usize) -> Vec<ProfileText> {
    (0..count).map(variant).collect()
}

fn variant(i: usize) -> ProfileText {
    let name = format!("cluster-{i:04}");
    // otelcol-k8s and otelcol-contrib both ship every component the gateway uses; 0.140.0 predates
    // the `otlp_grpc` exporter name, so both spellings are rendered.
    let distribution = if i.is_multiple_of(3) { "otelcol-contrib" } else { "otelcol-k8s" };
    let version = if i.is_multiple_of(5) { "0.140.0" } else { "0.159.0" };
    let percentage = [100, 50, 10][i % 3];
    let storage = if i.is_multiple_of(2) {
        format!("    memory:\n      max_traces: {}\n", 10_000 + i * 10)
    } else {
        let mut es = format!(
            "    elasticsearch:\n      server_urls:\n        - https://es-{}.elastic-{}.svc:9200\n",
            i % 7,
            i % 11
        );
        if i.is_multiple_of(5) {
            es.push_str(&format!("        - https://es-backup-{}.elastic.svc:9200\n", i % 3));
        }
        es.push_str(&format!(
            "      index_prefix: tenant-{}\n      shards: {}\n      replicas: {}\n",
            i % 13,
            1 + i % 5,
            i % 3
        ));
        if !i.is_multiple_of(3) {
            es.push_str(&format!("      credentials:\n        secret: es-credentials-{}\n", i % 4));
        }
        if i % 4 != 1 {
            es.push_str("      ca:\n        secret: es-ca\n        key: ca.pem\n");
        }
        es
    };
    let roles = if i.is_multiple_of(2) {
        String::new()
    } else {
        let role = |name: &str, replicas: usize, memory: usize| {
            format!(
                "  {name}:\n    replicas: {replicas}\n    resources:\n      requests: {{cpu: 250m, memory: {memory}Mi}}\n      limits: {{cpu: \"1\", memory: {}Mi}}\n",
                memory * 2
            )
        };
        role("collector", 1 + i % 4, 256 + (i % 3) * 256) + &role("query", 1 + i % 2, 256)
    };
    let text = format!(
        "description: Variant {i} of the benchmark workload.\n\
         namespace: tracing-{i:04}\n\
         collector:\n  distribution: {distribution}\n  version: {version}\n  replicas: {replicas}\n\
         \x20 resources:\n    requests: {{cpu: {cpu}m, memory: {mem}Mi}}\n    limits: {{cpu: \"{cpu_limit}\", memory: {mem_limit}Mi}}\n\
         \x20 queue:\n    queue_size: {queue}\n\
         jaeger:\n  storage:\n{storage}{roles}\
         sampling:\n  percentage: {percentage}\n",
        replicas = 1 + i % 6,
        cpu = 100 + (i % 8) * 50,
        mem = 128 + (i % 4) * 64,
        cpu_limit = 1 + i % 3,
        mem_limit = 512 + (i % 4) * 256,
        queue = 10_000 + (i % 10) * 5_000,
    );
    ProfileText { origin: format!("profiles/{name}.yaml"), name, text }
}
