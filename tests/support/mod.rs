//! Helpers the integration tests share: every profile rendered in memory, its objects as JSON, the
//! upstream references in `../shared` (CRDs loaded into one catalog), `kubectl kustomize`, temporary
//! directories, and external tools that may be missing.

// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use tracestack::check::crd::{Catalog, Crd};

/// Every rendered file of every profile in `profiles/`, by `<profile>/<file>` (plus the schema).
pub fn rendered() -> BTreeMap<String, String> {
    match tracestack::io::project::render_all(Path::new("profiles")) {
        Ok(files) => files,
        Err(errors) => panic!("profiles fail to render: {errors:#?}"),
    }
}

/// The rendered object files (not `kustomization.yaml`, not the schema), by profile, then file name.
pub fn object_files() -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (path, text) in rendered() {
        let Some((profile, file)) = path.split_once('/') else { continue };
        if profile == "schema" || file == "kustomization.yaml" || file.contains('/') || !file.ends_with(".yaml") {
            continue;
        }
        out.entry(profile.to_owned()).or_default().insert(file.to_owned(), text);
    }
    assert!(out.len() >= 2, "expected at least the demo and prod-elasticsearch profiles, got {:?}", out.keys());
    out
}

/// A YAML document as JSON.
pub fn parse(what: &str, text: &str) -> serde_json::Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{what} does not parse: {e}"))
}

/// The upstream references: `$TRACESTACK_SHARED` when set, else `../shared` next to the
/// repository, if it is there.
pub fn shared() -> Option<PathBuf> {
    let dir = std::env::var_os("TRACESTACK_SHARED")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"), PathBuf::from);
    dir.is_dir().then_some(dir)
}

/// Whether CI asked for every external tool to be present (`TRACESTACK_REQUIRE_TOOLS=1`, set by
/// `.ci/run`), so that a missing one fails rather than skips.
pub fn tools_required() -> bool {
    std::env::var("TRACESTACK_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

/// Skips a test visibly, or fails it when CI requires the tool.
pub fn skip(reason: &str) {
    assert!(!tools_required(), "TRACESTACK_REQUIRE_TOOLS=1 but {reason}");
    eprintln!("SKIPPED: {reason}");
}

/// A YAML document as JSON (panics naming nothing but the text; see [`parse`]).
pub fn yaml(text: &str) -> serde_json::Value {
    parse("YAML", text)
}

/// `rel` under the upstream references, or `None` after a visible skip naming `what`.
pub fn shared_or_skip(rel: &str, what: &str) -> Option<PathBuf> {
    let path = shared().map(|dir| dir.join(rel)).filter(|p| p.exists());
    if path.is_none() {
        eprintln!("SKIPPED: ../shared/{rel} not found; {what} not checked");
    }
    path
}

/// The upstream CRDs (`../shared/crds`) in one catalog, or `None` after a visible skip.
pub fn crd_catalog() -> Option<Catalog> {
    let dir = shared_or_skip("crds", "custom resources against their CRDs")?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut catalog = Catalog::default();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let value = parse(&path.display().to_string(), &text);
        catalog.add(Crd::from_value(&value).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    }
    Some(catalog)
}

/// Matches a CRD `pattern` (ECMA-262 regexes; the ones in the upstream CRDs are also valid for the
/// `regex` crate) anchored as JSON Schema does not: a pattern matches anywhere unless anchored.
pub fn pattern_matches(pattern: &str, text: &str) -> bool {
    regex::Regex::new(pattern).unwrap_or_else(|e| panic!("CRD pattern `{pattern}`: {e}")).is_match(text)
}

/// Validates a custom resource against the catalog, patterns included.
pub fn validate_custom(catalog: &Catalog, resource: &serde_json::Value) -> Vec<String> {
    catalog.validate_with_patterns(resource, &pattern_matches).err().unwrap_or_default()
}

/// Every custom resource every profile applies (all bundles), as `(label, JSON)`.
pub fn custom_resources() -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for path in tracestack::io::project::profile_files(Path::new("profiles")).expect("profiles/") {
        let name = tracestack::model::load::profile_name(&path).expect("name");
        let profile = tracestack::model::load::load_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let parts = tracestack::Stack::build(&profile).and_then(tracestack::Stack::into_parts);
        for bundle in parts.unwrap_or_else(|e| panic!("{e}")).bundles {
            for object in bundle.objects.iter().filter(|o| matches!(o, tracestack::config::k8s::Object::Custom(_))) {
                let value = object.to_ordered().expect("serialises").value().clone();
                out.push((format!("{name}/{}: {} `{}`", bundle.dir, object.kind(), object.name()), value));
            }
        }
    }
    out
}

/// Whether `kubectl` runs; a visible skip (or, when CI requires tools, a failure) when it does not.
pub fn kubectl_or_skip(what: &str) -> bool {
    let ok = Command::new("kubectl").args(["version", "--client"]).output().is_ok_and(|o| o.status.success());
    if !ok {
        skip(&format!("kubectl not found; {what} not checked"));
    }
    ok
}

/// `kubectl kustomize dir`: the built objects, or the error output.
pub fn kustomize(dir: &Path) -> Result<Vec<serde_json::Value>, String> {
    let out = Command::new("kubectl").arg("kustomize").arg(dir).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    Ok(text.split("\n---\n").filter(|doc| doc.contains("kind:")).map(yaml).collect())
}

/// A directory under the system temp directory, removed again when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh, empty directory named after `name` and this process.
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tracestack-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        Self(dir)
    }

    /// Writes `text` to `rel` (creating directories).
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.0.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{}: {e}", parent.display()));
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    }

    /// Writes every rendered file under `generated/`.
    pub fn with_rendered(name: &str) -> Self {
        let dir = Self::new(name);
        for (rel, text) in rendered() {
            dir.write(&format!("generated/{rel}"), &text);
        }
        dir
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// splitmix64: a fixed-seed PRNG, so every run of a generated test tries the same inputs.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }

    /// One of `items` (which must not be empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

pub mod yaml11;
