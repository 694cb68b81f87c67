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

/// How generated headers name the profile file at `path`: its path relative to the repository that
/// holds it (the nearest directory above it with a `.git` entry, a work tree or a clone), with `/`
/// separators — `profiles/demo.yaml`. Outside any repository, its folder's name and its own
/// (`profiles/demo.yaml` again for a GitOps directory not yet under git). Neither depends on the
/// current directory or on where the repository is checked out, so rendering the same profile from
/// anywhere gives the same bytes, and no absolute path leaks into a file.
#[must_use]
pub fn origin(path: &Path) -> String {
    let file = path.canonicalize().unwrap_or_else(|_| resolved(path));
    let repository = file.ancestors().skip(1).find(|dir| dir.join(".git").exists());
    let relative = match repository {
        Some(root) => file.strip_prefix(root).map(Path::to_path_buf).unwrap_or_else(|_| file.clone()),
        None => {
            let mut tail: Vec<_> = file.components().rev().take(2).collect();
            tail.reverse();
            tail.iter().collect()
        }
    };
    let parts: Vec<String> = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    parts.join("/")
}

/// Loads and renders one profile file (with every base it `extends`); `origin` is how headers
/// name it (e.g. `profiles/demo.yaml`, see [`origin`]).
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
        Some(path) => render_layers(std::slice::from_ref(*path), &[], &origin(path)).map(|(layered, rendered)| {
            let name = layered.name.clone();
            let files: Vec<(String, String)> =
                rendered.files.into_iter().map(|(rel, text)| (format!("{name}/{rel}"), text)).collect();
            (files, layered.bases().map(|(base, by)| (resolved(Path::new(base)), by.to_owned())).collect())
        }),
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

/// Which profiles to render and where their output goes, as the command line gives them; every
/// default resolves against [`Selection::base`] (the current directory for the `tracestack`
/// command, the checkout for `cargo xtask`), never against where a binary was built.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// The directory the defaults are relative to.
    pub base: PathBuf,
    /// The profiles directory; default `<base>/profiles`.
    pub profiles: Option<PathBuf>,
    /// Only this profile: a name from the profiles directory, or a path to a profile file.
    pub profile: Option<String>,
    /// The output directory; default `<base>/generated` (`<base>/generated/<profile>` with
    /// [`Selection::profile`] or [`Selection::files`]).
    pub out: Option<PathBuf>,
    /// Profile files merged in order after [`Selection::profile`] (`-f FILE`, each with its
    /// bases); the last names the profile. With any, one layered profile is rendered.
    pub files: Vec<PathBuf>,
    /// `--set path=value` overrides applied over the merged files.
    pub sets: Vec<String>,
}

/// Whether a `--profile` value is a path to a profile file (it ends in `.yaml`/`.yml` or holds a
/// `/`) rather than the name of one in the profiles directory.
#[must_use]
pub fn names_a_file(given: &str) -> bool {
    given.ends_with(".yaml") || given.ends_with(".yml") || given.contains('/')
}

/// What a [`Selection`] renders: the output directory and its files, relative to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The output directory the files belong in.
    pub dir: PathBuf,
    /// File contents by `/`-separated path relative to [`Target::dir`].
    pub files: BTreeMap<String, String>,
}

impl Selection {
    /// The profiles directory.
    #[must_use]
    pub fn profiles_dir(&self) -> PathBuf {
        self.profiles.clone().unwrap_or_else(|| self.base.join("profiles"))
    }

    /// The profile file [`Selection::profile`] names: a path when it looks like one
    /// ([`names_a_file`]), else `<profiles>/<name>.yaml`.
    #[must_use]
    pub fn profile_file(&self) -> Option<PathBuf> {
        let name = self.profile.as_deref()?;
        Some(if names_a_file(name) { PathBuf::from(name) } else { self.profiles_dir().join(format!("{name}.yaml")) })
    }

    /// The files one layered profile is merged from: [`Selection::profile`]'s file, then
    /// [`Selection::files`]; `None` when the selection is not layered (no `-f` and no `--set`).
    #[must_use]
    pub fn layers(&self) -> Option<Vec<PathBuf>> {
        if self.files.is_empty() && self.sets.is_empty() {
            return None;
        }
        Some(self.profile_file().into_iter().chain(self.files.iter().cloned()).collect())
    }

    /// `--explain FIELD`: the effective value of `field` in the selected profile (merged from its
    /// layers and `--set` values) and every layer that sets it ([`Layered::explain`]).
    ///
    /// # Errors
    /// [`Error::Layout`] when no profile is selected; the load error; an unknown field.
    pub fn explain(&self, field: &str) -> Result<String, Error> {
        let files: Vec<PathBuf> = self.profile_file().into_iter().chain(self.files.iter().cloned()).collect();
        if files.is_empty() {
            return Err(Error::Layout {
                path: self.profiles_dir(),
                message: "`--explain` needs one profile: `--profile NAME` or `-f FILE`".into(),
            });
        }
        let layered = load::load_layered(&files, &self.sets)?;
        let explanation = layered.explain(field).map_err(|message| Error::Layout {
            path: files.last().cloned().unwrap_or_default(),
            message: format!("--explain {field}: {message}"),
        })?;
        Ok(explanation.to_string())
    }

    /// Renders the selection in memory, after refusing an output directory that is, lies inside or
    /// holds the profiles directory ([`check_output_dirs`]). Nothing is written.
    ///
    /// # Errors
    /// Every profile that failed (all are tried), or the layout error.
    pub fn render(&self) -> Result<Target, Vec<Error>> {
        let profiles = self.profiles_dir();
        if let Some(paths) = self.layers() {
            let Some(last) = paths.last() else {
                return Err(vec![Error::Layout {
                    path: profiles,
                    message: "`--set` needs a profile: `--profile NAME` or `-f FILE`".into(),
                }]);
            };
            let (layered, rendered) = render_layers(&paths, &self.sets, &origin(last)).map_err(|e| vec![e])?;
            let dir = self.out.clone().unwrap_or_else(|| self.base.join("generated").join(&layered.name));
            let from = last.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            check_output_dirs([dir.as_path()], from).map_err(|e| vec![e])?;
            return Ok(Target { dir, files: rendered.files });
        }
        match self.profile_file() {
            None => {
                let files = render_all(&profiles)?;
                let dir = self.out.clone().unwrap_or_else(|| self.base.join("generated"));
                // Each profile's folder and the schema's, as rendered.
                let folders: std::collections::BTreeSet<PathBuf> =
                    files.keys().filter_map(|rel| rel.split('/').next()).map(|top| dir.join(top)).collect();
                check_output_dirs(folders.iter().map(PathBuf::as_path), &profiles).map_err(|e| vec![e])?;
                Ok(Target { dir, files })
            }
            Some(path) => {
                let (name, rendered) = render_file(&path, &origin(&path)).map_err(|e| vec![e])?;
                let dir = self.out.clone().unwrap_or_else(|| self.base.join("generated").join(name));
                let from = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
                check_output_dirs([dir.as_path()], from).map_err(|e| vec![e])?;
                Ok(Target { dir, files: rendered.files })
            }
        }
    }
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
    use super::{origin, parallel_map};

    #[test]
    fn origin_is_relative_to_the_repository_whatever_the_current_directory() {
        let base = std::env::temp_dir().join(format!("tracestack-origin-{}", std::process::id()));
        let repo = base.join("gitops");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("clusters/eu/profiles")).unwrap();
        let profile = repo.join("clusters/eu/profiles/mine.yaml");
        std::fs::write(&profile, "{}\n").unwrap();
        std::fs::create_dir_all(base.join("loose/profiles")).unwrap();
        let loose = base.join("loose/profiles/demo.yaml");
        std::fs::write(&loose, "{}\n").unwrap();

        let by_absolute = origin(&profile);
        let by_dotted = origin(&repo.join("clusters/eu/../eu/profiles/mine.yaml"));
        let outside = origin(&loose);
        let _ = std::fs::remove_dir_all(&base);
        assert_eq!(by_absolute, "clusters/eu/profiles/mine.yaml");
        assert_eq!(by_dotted, by_absolute);
        assert_eq!(outside, "profiles/demo.yaml");
    }

    #[test]
    fn parallel_map_keeps_the_order_of_its_items() {
        let items: Vec<usize> = (0..100).collect();
        assert_eq!(parallel_map(&items, |i| i * 2), (0..100).map(|i| i * 2).collect::<Vec<_>>());
        assert!(parallel_map(&[] as &[usize], |i| *i).is_empty());
    }
}
