//! `cargo xtask components`: renders `src/config/collector/distribution/table.rs` from the shared
//! `schemas/collector/components.json`.
//!
//! Output is byte-deterministic: distributions in `Distribution` declaration order, versions
//! ascending, kinds in `ComponentKind` declaration order, types in byte order. The data statics
//! carry `#[rustfmt::skip]` so their compact layout survives `cargo fmt`; everything else is
//! emitted exactly as rustfmt formats it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::path::Path;

use serde_json::{Map, Value};

/// Where the JSON lives, relative to the shared directory, and how the header names it.
const JSON_RELATIVE: &str = "schemas/collector/components.json";
const JSON_DISPLAY: &str = "../shared/schemas/collector/components.json";

/// `(name in the JSON, Distribution variant, static name)`, in `Distribution` declaration order.
const DISTRIBUTIONS: [(&str, &str, &str); 5] = [
    ("otelcol", "Otelcol", "OTELCOL"),
    ("otelcol-contrib", "OtelcolContrib", "OTELCOL_CONTRIB"),
    ("otelcol-k8s", "OtelcolK8s", "OTELCOL_K8S"),
    ("otelcol-otlp", "OtelcolOtlp", "OTELCOL_OTLP"),
    ("jaeger", "Jaeger", "JAEGER"),
];

/// Set keys, in `ComponentKind` declaration order; also the `Table` field names.
const KINDS: [&str; 5] = ["receivers", "processors", "exporters", "extensions", "connectors"];

/// Versions printed per line in the `versions` arrays.
const VERSIONS_PER_LINE: usize = 6;

/// Renders the text of `src/config/collector/distribution/table.rs` from
/// `<shared_dir>/schemas/collector/components.json`.
pub fn generate(shared_dir: &Path) -> Result<String, String> {
    let path = shared_dir.join(JSON_RELATIVE);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let json: Value = serde_json::from_str(&text).map_err(|e| format!("{} is not valid JSON: {e}", path.display()))?;
    render(&json).map_err(|e| format!("{}: {e}", path.display()))
}

/// One distribution's data, ready to print.
struct DistData {
    versions: Vec<(u32, u32, u32)>,
    /// Per kind (in `KINDS` order): type -> half-open index ranges into `versions`.
    kinds: Vec<BTreeMap<String, Vec<(usize, usize)>>>,
}

fn render(json: &Value) -> Result<String, String> {
    let root = object(json, "the top level")?;
    let provenance = provenance(root)?;
    let distributions = object(field(root, "distributions")?, "`distributions`")?;
    let sets = object(field(root, "sets")?, "`sets`")?;

    let known: BTreeSet<&str> = DISTRIBUTIONS.iter().map(|(name, _, _)| *name).collect();
    if let Some(unknown) = distributions.keys().find(|k| !known.contains(k.as_str())) {
        return Err(format!(
            "`distributions` has `{unknown}`, which `Distribution` does not know: add a variant \
             (and a DISTRIBUTIONS row in xtask/src/components.rs) first"
        ));
    }

    let mut data = Vec::with_capacity(DISTRIBUTIONS.len());
    for (name, _, _) in DISTRIBUTIONS {
        let versions = distributions.get(name).ok_or_else(|| format!("`distributions` has no `{name}`"))?;
        data.push(distribution(name, versions, sets)?);
    }

    let mut out = String::new();
    emit(&mut out, &provenance, &data).map_err(|e| format!("formatting failed: {e}"))?;
    Ok(out)
}

/// `_provenance` entries that name a repository (`owner/name` -> commit), sorted.
fn provenance(root: &Map<String, Value>) -> Result<Vec<(String, String)>, String> {
    let prov = object(field(root, "_provenance")?, "`_provenance`")?;
    let mut rows = Vec::new();
    for (repo, commit) in prov {
        if !repo.contains('/') {
            continue; // e.g. "note"
        }
        let commit = commit
            .as_str()
            .filter(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_alphanumeric()))
            .ok_or_else(|| format!("`_provenance.{repo}` is not a commit id"))?;
        if !repo.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.')) {
            return Err(format!("`_provenance` key `{repo}` is not a repository name"));
        }
        rows.push((repo.clone(), commit.to_owned()));
    }
    if rows.is_empty() {
        return Err("`_provenance` names no repository commits".to_owned());
    }
    rows.sort();
    Ok(rows)
}

fn distribution(name: &str, versions: &Value, sets: &Map<String, Value>) -> Result<DistData, String> {
    let versions = object(versions, &format!("`distributions.{name}`"))?;
    let mut by_version: BTreeMap<(u32, u32, u32), &str> = BTreeMap::new();
    for (version, set_id) in versions {
        let parsed =
            parse_version(version).ok_or_else(|| format!("`distributions.{name}` has a bad version `{version}`"))?;
        let set_id =
            set_id.as_str().ok_or_else(|| format!("`distributions.{name}.{version}` is not a set id string"))?;
        if by_version.insert(parsed, set_id).is_some() {
            return Err(format!("`distributions.{name}` lists {version} twice"));
        }
    }
    if by_version.is_empty() {
        return Err(format!("`distributions.{name}` is empty"));
    }
    if by_version.len() > usize::from(u16::MAX) {
        return Err(format!("`distributions.{name}` has more versions than a u16 index can address"));
    }

    // Per kind: type -> indices (ascending) of the versions whose set lists it.
    let mut present: Vec<BTreeMap<String, Vec<usize>>> = vec![BTreeMap::new(); KINDS.len()];
    for (index, (version, set_id)) in by_version.iter().enumerate() {
        let set = sets.get(*set_id).ok_or_else(|| {
            let (major, minor, patch) = version;
            format!("`distributions.{name}.{major}.{minor}.{patch}` names unknown set `{set_id}`")
        })?;
        let set = object(set, &format!("`sets.{set_id}`"))?;
        if let Some(extra) = set.keys().find(|k| !KINDS.contains(&k.as_str())) {
            return Err(format!("`sets.{set_id}` has unknown kind `{extra}`"));
        }
        for (kind, types) in KINDS.iter().zip(present.iter_mut()) {
            let list = field(set, kind)
                .map_err(|_| format!("`sets.{set_id}` has no `{kind}`"))?
                .as_array()
                .ok_or_else(|| format!("`sets.{set_id}.{kind}` is not an array"))?;
            let mut seen = BTreeSet::new();
            for type_name in list {
                let type_name = type_name
                    .as_str()
                    .filter(|t| valid_type(t))
                    .ok_or_else(|| format!("`sets.{set_id}.{kind}` has an invalid type name {type_name}"))?;
                if seen.insert(type_name) {
                    types.entry(type_name.to_owned()).or_default().push(index);
                }
            }
        }
    }

    let kinds = present
        .into_iter()
        .map(|types| types.into_iter().map(|(type_name, indices)| (type_name, ranges(&indices))).collect())
        .collect();
    Ok(DistData { versions: by_version.into_keys().collect(), kinds })
}

/// Collapses ascending indices into half-open `start..end` runs.
fn ranges(indices: &[usize]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &i in indices {
        match out.last_mut() {
            Some((_, end)) if *end == i => *end = i + 1,
            _ => out.push((i, i + 1)),
        }
    }
    out
}

/// `MAJOR.MINOR.PATCH` with an optional leading `v`, no leading zeros (as `Version::parse`).
fn parse_version(s: &str) -> Option<(u32, u32, u32)> {
    let s = s.strip_prefix('v').unwrap_or(s);
    let mut parts = s.split('.');
    let major = parse_part(parts.next()?)?;
    let minor = parse_part(parts.next()?)?;
    let patch = parse_part(parts.next()?)?;
    match parts.next() {
        Some(_) => None,
        None => Some((major, minor, patch)),
    }
}

fn parse_part(s: &str) -> Option<u32> {
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

/// The collector's own rule for component types (`component.Type`):
/// `^[a-zA-Z][0-9a-zA-Z_]{0,62}$`. It also means the name needs no escaping in a Rust literal.
fn valid_type(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.len() <= 63
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    value.as_object().ok_or_else(|| format!("{what} is not an object"))
}

fn field<'a>(map: &'a Map<String, Value>, key: &str) -> Result<&'a Value, String> {
    map.get(key).ok_or_else(|| format!("missing `{key}`"))
}

fn emit(out: &mut String, provenance: &[(String, String)], data: &[DistData]) -> fmt::Result {
    writeln!(out, "// @generated by `cargo xtask components` from {JSON_DISPLAY}.")?;
    writeln!(out, "// Do not edit: change the JSON (or xtask/src/components.rs) and rerun.")?;
    writeln!(out, "// Upstream commits (the JSON's `_provenance`):")?;
    for (repo, commit) in provenance {
        writeln!(out, "//   {repo} {commit}")?;
    }
    out.push_str(concat!(
        "\n",
        "//! Generated component table behind [`distribution`](super): for every distribution, the\n",
        "//! versions it knows and, per component kind and type, the runs of those versions that ship it.\n",
        "\n",
        "use super::{Distribution, Version};\n",
        "\n",
        "/// One distribution's versions and component types.\n",
        "pub(super) struct Table {\n",
        "    /// Every version the table knows, strictly ascending.\n",
        "    pub(super) versions: &'static [Version],\n",
        "    /// Receiver types shipped (see [`Entry`]).\n",
        "    pub(super) receivers: &'static [Entry],\n",
        "    /// Processor types shipped (see [`Entry`]).\n",
        "    pub(super) processors: &'static [Entry],\n",
        "    /// Exporter types shipped (see [`Entry`]).\n",
        "    pub(super) exporters: &'static [Entry],\n",
        "    /// Extension types shipped (see [`Entry`]).\n",
        "    pub(super) extensions: &'static [Entry],\n",
        "    /// Connector types shipped (see [`Entry`]).\n",
        "    pub(super) connectors: &'static [Entry],\n",
        "}\n",
        "\n",
        "/// `(type, runs)`, entries sorted by type (byte order); each run `(start, end)` is the\n",
        "/// half-open index range `start..end` into [`Table::versions`] of versions shipping the type.\n",
        "/// Runs are ascending, non-empty and non-adjacent.\n",
        "pub(super) type Entry = (&'static str, &'static [(u16, u16)]);\n",
        "\n",
        "/// The table for `d`.\n",
        "pub(super) fn table(d: Distribution) -> &'static Table {\n",
        "    match d {\n",
    ));
    for (_, variant, static_name) in DISTRIBUTIONS {
        writeln!(out, "        Distribution::{variant} => &{static_name},")?;
    }
    out.push_str(concat!(
        "    }\n",
        "}\n",
        "\n",
        "/// Short constructor for the version arrays below.\n",
        "const fn v(major: u32, minor: u32, patch: u32) -> Version {\n",
        "    Version::new(major, minor, patch)\n",
        "}\n",
    ));
    for ((_, _, static_name), dist) in DISTRIBUTIONS.iter().zip(data) {
        writeln!(out)?;
        table_static(out, static_name, dist)?;
    }
    Ok(())
}

fn table_static(out: &mut String, static_name: &str, dist: &DistData) -> fmt::Result {
    writeln!(out, "#[rustfmt::skip]")?;
    writeln!(out, "static {static_name}: Table = Table {{")?;
    writeln!(out, "    versions: &[")?;
    for chunk in dist.versions.chunks(VERSIONS_PER_LINE) {
        out.push_str("       ");
        for (major, minor, patch) in chunk {
            write!(out, " v({major}, {minor}, {patch}),")?;
        }
        writeln!(out)?;
    }
    writeln!(out, "    ],")?;
    for (kind, types) in KINDS.iter().zip(&dist.kinds) {
        if types.is_empty() {
            writeln!(out, "    {kind}: &[],")?;
            continue;
        }
        writeln!(out, "    {kind}: &[")?;
        for (type_name, runs) in types {
            write!(out, "        (\"{type_name}\", &[")?;
            for (i, (start, end)) in runs.iter().enumerate() {
                let sep = if i == 0 { "" } else { ", " };
                write!(out, "{sep}({start}, {end})")?;
            }
            writeln!(out, "]),")?;
        }
        writeln!(out, "    ],")?;
    }
    writeln!(out, "}};")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed table matches what the generator makes from the shared JSON
    /// (skipped when `../shared` is not checked out next to the workspace).
    #[test]
    fn committed_table_is_fresh() {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let shared = manifest.join("../../shared");
        if !shared.join(JSON_RELATIVE).exists() {
            eprintln!("SKIPPED: {JSON_DISPLAY} not found; freshness not checked");
            return;
        }
        let generated = generate(&shared);
        let committed = std::fs::read_to_string(manifest.join("../src/config/collector/distribution/table.rs"));
        match (generated, committed) {
            (Ok(generated), Ok(committed)) => assert!(
                generated == committed,
                "src/config/collector/distribution/table.rs is stale: run `cargo xtask components`"
            ),
            (generated, committed) => {
                panic!("generate: {:?}; read: {:?}", generated.err(), committed.err())
            }
        }
    }

    #[test]
    fn runs_collapse() {
        assert_eq!(ranges(&[0, 1, 2, 5, 6, 9]), vec![(0, 3), (5, 7), (9, 10)]);
        assert_eq!(ranges(&[]), Vec::<(usize, usize)>::new());
    }

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("0.159.0"), Some((0, 159, 0)));
        assert_eq!(parse_version("v2.14.1"), Some((2, 14, 1)));
        assert_eq!(parse_version("2.0.0-rc1"), None);
        assert_eq!(parse_version("01.2.3"), None);
        assert_eq!(parse_version("1.2"), None);
    }

    #[test]
    fn rejects_unknown_distribution() {
        let json = serde_json::json!({
            "_provenance": {"a/b": "abc"},
            "distributions": {"otelcol-ebpf": {}},
            "sets": {},
        });
        assert!(render(&json).is_err_and(|e| e.contains("otelcol-ebpf")));
    }
}
