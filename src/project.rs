//! The layout of a tracestack checkout or GitOps repository: `profiles/*.yaml` render into
//! `generated/<profile>/`, and the profile JSON Schema into `generated/schema/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::load;
use crate::render::{self, Source};
use crate::schema;

/// The profile files in `dir` (`*.yaml`), sorted by name.
///
/// # Errors
/// [`Error::Io`] when `dir` cannot be read.
pub fn profile_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let io = |source| Error::Io { path: dir.to_owned(), source };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().is_some_and(|e| e == "yaml") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Loads and renders one profile file; `origin` is how headers name it (e.g. `profiles/demo.yaml`).
///
/// # Errors
/// The load or render error.
pub fn render_file(path: &Path, origin: &str) -> Result<(String, render::Rendered), Error> {
    let name = load::profile_name(path)?;
    let profile = load::load_file(path)?;
    let rendered = render::render_profile(&profile, &Source { profile: name.clone(), origin: origin.to_owned() })
        .map_err(|e| Error::InProfile { file: path.display().to_string(), source: Box::new(e) })?;
    Ok((name, rendered))
}

/// Renders every profile in `profiles_dir` plus the schema, as files relative to the output root.
/// Every profile is tried, so one run reports every broken profile.
///
/// # Errors
/// One error per profile that failed, in file order.
pub fn render_all(profiles_dir: &Path) -> Result<BTreeMap<String, String>, Vec<Error>> {
    let paths = profile_files(profiles_dir).map_err(|e| vec![e])?;
    let mut files = BTreeMap::new();
    let mut errors = Vec::new();
    for path in paths {
        let origin =
            format!("profiles/{}", path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        match render_file(&path, &origin) {
            Ok((name, rendered)) => {
                for (rel, text) in rendered.files {
                    files.insert(format!("{name}/{rel}"), text);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    match schema::profile_schema() {
        Ok(text) => {
            files.insert(schema::SCHEMA_FILE.to_owned(), text);
        }
        Err(e) => errors.push(e),
    }
    if errors.is_empty() { Ok(files) } else { Err(errors) }
}
