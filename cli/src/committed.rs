//! The committed output `tracestack diff` compares against: a directory on disk, or the same
//! directory at a git revision.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use tracestack::io::output;

/// What `--against` named.
pub enum Against {
    /// A directory holding generated output.
    Dir(PathBuf),
    /// A git revision: the output directory as committed there.
    Revision(String),
}

/// Generated files under `dir` (those that start with tracestack's marker), by `/`-separated path;
/// empty when `dir` does not exist.
///
/// # Errors
/// When `dir` cannot be read.
pub fn from_dir(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut found = BTreeMap::new();
    if !dir.exists() {
        return Ok(found);
    }
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        let abs = dir.join(&rel);
        let entries = std::fs::read_dir(&abs).map_err(|e| format!("{}: {e}", abs.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", abs.display()))?;
            if rel.as_os_str().is_empty() && entry.file_name() == output::STAGING {
                continue;
            }
            let child = rel.join(entry.file_name());
            let kind = entry.file_type().map_err(|e| format!("{}: {e}", entry.path().display()))?;
            if kind.is_dir() {
                pending.push(child);
            } else if kind.is_file()
                && let Ok(text) = std::fs::read_to_string(entry.path())
                && output::is_generated(&text)
            {
                found.insert(child.to_string_lossy().replace('\\', "/"), text);
            }
        }
    }
    Ok(found)
}

fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git ({e}); `--against` takes a directory without it"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!("git {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// The nearest existing directory at or above `path`, made absolute.
fn existing(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    absolute.ancestors().find(|p| p.is_dir()).map_or(absolute.clone(), Path::to_path_buf)
}

/// Whether `revision` names a commit in the repository holding `dir`.
#[must_use]
pub fn is_revision(dir: &Path, revision: &str) -> bool {
    git(&existing(dir), &["rev-parse", "--verify", "--quiet", "--end-of-options", &format!("{revision}^{{commit}}")])
        .is_ok()
}

/// Generated files of `dir` as committed at `revision`, by path relative to `dir`.
///
/// # Errors
/// When `dir` is not inside a git work tree, or git fails.
pub fn from_revision(dir: &Path, revision: &str) -> Result<BTreeMap<String, String>, String> {
    let start = existing(dir);
    let top = String::from_utf8_lossy(&git(&start, &["rev-parse", "--show-toplevel"])?).trim().to_owned();
    let top = PathBuf::from(top).canonicalize().map_err(|e| format!("git work tree: {e}"))?;
    let absolute = std::path::absolute(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // The part of `dir` that exists, resolved as git resolves the top, then the rest as given.
    let real_start = start.canonicalize().map_err(|e| format!("{}: {e}", start.display()))?;
    let rest = absolute.strip_prefix(&start).unwrap_or(Path::new(""));
    let inside = real_start.join(rest);
    let prefix = inside
        .strip_prefix(&top)
        .map_err(|_| format!("{} is not inside the git work tree {}", dir.display(), top.display()))?;
    let prefix = prefix.to_string_lossy().replace('\\', "/");
    let spec = if prefix.is_empty() { ".".to_owned() } else { prefix.clone() };
    let listing = git(&top, &["ls-tree", "-r", "-z", "--name-only", "--end-of-options", revision, "--", &spec])?;
    let mut found = BTreeMap::new();
    for path in listing.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let path = String::from_utf8_lossy(path).into_owned();
        let blob = git(&top, &["cat-file", "blob", &format!("{revision}:{path}")])?;
        let Ok(text) = String::from_utf8(blob) else { continue };
        if output::is_generated(&text) {
            let rel = if prefix.is_empty() { path.as_str() } else { path[prefix.len()..].trim_start_matches('/') };
            found.insert(rel.to_owned(), text);
        }
    }
    Ok(found)
}
