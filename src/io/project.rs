//! The layout of a tracestack checkout or GitOps repository: `profiles/*.yaml` render into
//! `generated/<profile>/`, and the profile JSON Schema into `generated/schema/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::io::Error;
use crate::model::layers::Layered;
use crate::model::load;
use crate::model::schema;
use crate::render::{self, Source};

/// The profile files in `dir` (`*.yaml` and `*.yml`, not hidden), sorted by name.
///
/// Every entry with a profile's name is returned whatever it is, so that a directory named
/// `x.yaml` or a symbolic link to nothing fails to load with its name instead of being skipped:
/// a skipped profile would look gone, and its output with it. Hidden entries (`.#demo.yaml`, an
/// editor's lock) are not profiles.
///
/// # Errors
/// [`Error::Io`] when `dir` cannot be read; [`Error::Layout`] when it holds no profile, or two
/// files give one profile name (`demo.yaml` and `demo.yml`).
pub fn profile_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let io = |source| Error::Io { path: dir.to_owned(), source };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let hidden = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if !hidden && path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(Error::Layout {
            path: dir.to_owned(),
            message: "holds no profile (`*.yaml` or `*.yml`); nothing was rendered and no output was removed".into(),
        });
    }
    for pair in files.windows(2) {
        if let [a, b] = pair
            && a.file_stem() == b.file_stem()
        {
            return Err(Error::Layout {
                path: b.clone(),
                message: format!(
                    "gives the same profile name, and so the same output folder, as {}; keep one",
                    a.display()
                ),
            });
        }
    }
    Ok(files)
}

/// `path` made absolute with every existing part resolved (symbolic links, `..`), so that two
/// spellings of one directory compare equal even before the directory exists.
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut rest = Vec::new();
    let mut existing = absolute.as_path();
    loop {
        if let Ok(real) = existing.canonicalize() {
            return rest.iter().rev().fold(real, |acc, part| acc.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

/// Refuses output folders that are, lie inside or contain the profiles directory: a render there
/// would mix generated files with the profiles, and removing stale output could reach them.
///
/// # Errors
/// [`Error::Layout`] naming the first such folder.
pub fn check_output_dirs<'a>(outputs: impl IntoIterator<Item = &'a Path>, profiles_dir: &Path) -> Result<(), Error> {
    let profiles = resolved(profiles_dir);
    for out in outputs {
        let folder = resolved(out);
        if folder.starts_with(&profiles) || profiles.starts_with(&folder) {
            return Err(Error::Layout {
                path: out.to_owned(),
                message: format!(
                    "is, lies inside or holds the profiles directory {}; write the output elsewhere (e.g. `--out generated`)",
                    profiles_dir.display()
                ),
            });
        }
    }
    Ok(())
}

/// Loads and renders one profile file (with every base it `extends`); `origin` is how headers
/// name it (e.g. `profiles/demo.yaml`).
///
/// # Errors
/// The load or render error.
pub fn render_file(path: &Path, origin: &str) -> Result<(String, render::Rendered), Error> {
    render_layers(&[path.to_owned()], &[], origin).map(|(layered, rendered)| (layered.name, rendered))
}

/// Loads profile files merged in order (each with its bases) and `--set path=value` arguments
/// ([`load::load_layered`]), and renders the result; the last file names the profile, `origin` is
/// how headers name it.
///
/// # Errors
/// The load or render error.
pub fn render_layers(files: &[PathBuf], sets: &[String], origin: &str) -> Result<(Layered, render::Rendered), Error> {
    let layered = load::load_layered(files, sets)?;
    let source = Source { profile: layered.name.clone(), origin: origin.to_owned() };
    let rendered = render::render_profile(&layered.profile, &source).map_err(|e| Error::InProfile {
        file: files.last().map(|p| p.display().to_string()).unwrap_or_default(),
        source: Box::new(e),
    })?;
    Ok((layered, rendered))
}

/// Renders every profile in `profiles_dir` plus the schema, as files relative to the output root.
/// Every profile is tried, so one run reports every broken profile. Profiles render in parallel,
/// one thread per available CPU; the result does not depend on it.
///
/// Only the directory's own files are profiles: bases they `extends` live elsewhere, by
/// convention in `bases/` beside them, and are never rendered on their own (a base is not a
/// cluster). A profile of the directory that another extends is refused for that reason.
///
/// # Errors
/// One error per profile that failed, in file order.
pub fn render_all(profiles_dir: &Path) -> Result<BTreeMap<String, String>, Vec<Error>> {
    let paths = profile_files(profiles_dir).map_err(|e| vec![e])?;
    // The schema is one more job, written as `None`.
    let jobs: Vec<Option<&PathBuf>> = paths.iter().map(Some).chain([None]).collect();
    let renders = parallel_map(&jobs, |job| match job {
        Some(path) => {
            let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            render_layers(std::slice::from_ref(*path), &[], &format!("profiles/{file}")).map(|(layered, rendered)| {
                let name = layered.name.clone();
                let files: Vec<(String, String)> =
                    rendered.files.into_iter().map(|(rel, text)| (format!("{name}/{rel}"), text)).collect();
                (files, layered.bases().map(|(base, by)| (resolved(Path::new(base)), by.to_owned())).collect())
            })
        }
        None => schema::profile_schema()
            .map(|text| (vec![(schema::SCHEMA_FILE.to_owned(), text)], Vec::new()))
            .map_err(Error::from),
    });
    let mut files = BTreeMap::new();
    let mut errors = Vec::new();
    let mut bases: Vec<(PathBuf, String)> = Vec::new();
    for render in renders {
        match render {
            Ok((rendered, extended)) => {
                files.extend(rendered);
                bases.extend(extended);
            }
            Err(e) => errors.push(e),
        }
    }
    for path in &paths {
        let real = resolved(path);
        if let Some((_, by)) = bases.iter().find(|(base, _)| *base == real) {
            errors.push(Error::Layout {
                path: path.clone(),
                message: format!(
                    "is extended by {by}, so it is a base, and a base is not a cluster: move it into `bases/` beside the profiles (and update `extends`) so it is not rendered on its own"
                ),
            });
        }
    }
    if errors.is_empty() { Ok(files) } else { Err(errors) }
}

/// `f` over `items` on up to one thread per available CPU, results in the order of `items`.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get).min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(index) else { return done };
            done.push((index, f(item)));
        }
    };
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut results = work();
        for helper in helpers {
            // A panic in `f` is a bug; carry it to the caller as it would travel without threads.
            results.extend(helper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        results
    });
    results.sort_unstable_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::parallel_map;

    #[test]
    fn parallel_map_keeps_the_order_of_its_items() {
        let items: Vec<usize> = (0..100).collect();
        assert_eq!(parallel_map(&items, |i| i * 2), (0..100).map(|i| i * 2).collect::<Vec<_>>());
        assert!(parallel_map(&[] as &[usize], |i| *i).is_empty());
    }
}
