//! Helpers the integration tests share: every profile rendered in memory, its objects as JSON, the
//! upstream references in `../shared`, and external tools that may be missing.

// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every rendered file of every profile in `profiles/`, by `<profile>/<file>` (plus the schema).
pub fn rendered() -> BTreeMap<String, String> {
    match tracestack::project::render_all(Path::new("profiles")) {
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

pub mod yaml11;
