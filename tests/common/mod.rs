//! Helpers shared by the integration tests: the rendered profiles on disk, YAML as JSON values,
//! `kubectl kustomize`, and the upstream references in `../shared`.

#![allow(dead_code)] // each test binary uses a different subset

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every rendered file of every profile in `profiles/`, by path relative to the output root.
pub fn rendered() -> BTreeMap<String, String> {
    match tracestack::project::render_all(Path::new("profiles")) {
        Ok(files) => files,
        Err(errors) => panic!("profiles fail to render: {errors:#?}"),
    }
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

/// Whether `kubectl` runs; prints a SKIPPED line naming `what` when it does not.
pub fn kubectl_or_skip(what: &str) -> bool {
    let ok = Command::new("kubectl").args(["version", "--client"]).output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: kubectl not found; {what} not checked");
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

/// A YAML document as a JSON value.
pub fn yaml(text: &str) -> serde_json::Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"))
}

/// The upstream references (`../shared`, or `$TRACESTACK_SHARED` when set), if present; prints a
/// SKIPPED line naming `what` when `rel` is not there.
pub fn shared_or_skip(rel: &str, what: &str) -> Option<PathBuf> {
    let root = std::env::var_os("TRACESTACK_SHARED").map_or_else(|| PathBuf::from("../shared"), PathBuf::from);
    let path = root.join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("SKIPPED: {} not found; {what} not checked", path.display());
        None
    }
}
