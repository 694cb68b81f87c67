//! `cargo xtask validate`: renders every profile in memory, runs the cross-object checks, then every
//! upstream validation that is available here (custom resources against `../shared/crds`,
//! `kubernetes-validate --strict`, `kubectl kustomize`), and prints what was checked.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use tracestack::Stack;
use tracestack::check::{Summary, crd};
use tracestack::io::project;
use tracestack::model::load;
use tracestack::render::{self, Source};

/// The Kubernetes versions built-in objects are validated against (kubernetes-validate 1.37.0
/// ships schemas for 1.25.0 to 1.37.0).
const KUBERNETES_VERSIONS: [&str; 2] = ["1.25.0", "1.37.0"];

/// One profile, rendered: every bundle's directory with its objects, and the files.
struct Profile {
    name: String,
    bundles: Vec<(String, Vec<serde_json::Value>)>,
    files: std::collections::BTreeMap<String, String>,
}

impl Profile {
    /// Every object of every bundle, with the file it is rendered to.
    fn objects(&self) -> impl Iterator<Item = (String, &serde_json::Value)> {
        self.bundles.iter().flat_map(|(dir, objects)| {
            objects.iter().map(move |o| {
                let file = render_name(o);
                (if dir.is_empty() { file } else { format!("{dir}/{file}") }, o)
            })
        })
    }
}

/// Runs every validation; `Err` lists what failed.
pub fn run(root: &Path, profiles_dir: &Path) -> Result<(), String> {
    let require = std::env::var("TRACESTACK_REQUIRE_TOOLS").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    let mut profiles = Vec::new();
    let mut total = Summary::default();
    let paths = project::profile_files(profiles_dir).map_err(|e| e.to_string())?;
    for path in paths {
        match profile(&path) {
            Ok((p, summary)) => {
                println!(
                    "{}: {} objects, {} configs: {} cross-object checks passed",
                    p.name, summary.objects, summary.configs, summary.checks
                );
                total += summary;
                profiles.push(p);
            }
            Err(e) => failures.push(e),
        }
    }
    let objects: usize = profiles.iter().map(|p| p.objects().count()).sum();
    println!(
        "cross-object checks: {} profiles, {} objects, {} configs, {} checks",
        profiles.len(),
        total.objects,
        total.configs,
        total.checks
    );
    let mut skipped = Vec::new();
    for step in [custom_resources, kubernetes_validate, kustomize] {
        match step(root, &profiles) {
            Ok(Outcome::Done(line)) => println!("{line}"),
            Ok(Outcome::Skipped(why)) => {
                println!("skipped: {why}");
                skipped.push(why);
            }
            Err(e) => failures.push(e),
        }
    }
    if require && !skipped.is_empty() {
        failures.push(format!("TRACESTACK_REQUIRE_TOOLS=1 but: {}", skipped.join("; ")));
    }
    if failures.is_empty() {
        println!("validated {objects} objects of {} profiles", profiles.len());
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

enum Outcome {
    Done(String),
    Skipped(String),
}

fn profile(path: &Path) -> Result<(Profile, Summary), String> {
    let name = load::profile_name(path).map_err(|e| e.to_string())?;
    let loaded = load::load_file(path).map_err(|e| e.to_string())?;
    let stack = Stack::build(&loaded).map_err(|e| format!("{}: {e}", path.display()))?;
    let summary = stack.check().map_err(|e| format!("{}: {e}", path.display()))?;
    let parts = stack.clone().into_parts().map_err(|e| format!("{}: {e}", path.display()))?;
    let bundles = parts
        .bundles
        .iter()
        .map(|bundle| {
            let objects = bundle
                .objects
                .iter()
                .map(|o| o.to_ordered().map(|ordered| ordered.value().clone()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((bundle.dir.clone(), objects))
        })
        .collect::<Result<Vec<_>, serde_json::Error>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let origin = project::origin(path);
    let rendered = render::render_stack(stack, &Source { profile: name.clone(), origin })
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((Profile { name, bundles, files: rendered.files }, summary))
}

fn custom_resources(root: &Path, profiles: &[Profile]) -> Result<Outcome, String> {
    let shared = std::env::var_os("TRACESTACK_SHARED").map_or_else(|| root.join("../shared"), PathBuf::from);
    let dir = shared.join("crds");
    if !dir.is_dir() {
        return Ok(Outcome::Skipped("../shared/crds not found; custom resources not validated".into()));
    }
    let mut catalog = crd::Catalog::default();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let value: serde_json::Value = serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        catalog.add(crd::Crd::from_value(&value).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    let mut validated = 0;
    let mut errors = Vec::new();
    for p in profiles {
        for (_, object) in p.objects() {
            if crd::is_builtin(object["apiVersion"].as_str().unwrap_or_default()) {
                continue;
            }
            validated += 1;
            if let Err(problems) = catalog.validate(object) {
                errors.push(format!(
                    "{}: {} `{}`: {}",
                    p.name,
                    object["kind"],
                    object["metadata"]["name"],
                    problems.join("; ")
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(Outcome::Done(format!(
            "custom resources: {validated} validated against {} upstream CRDs (unknown fields rejected)",
            catalog.len()
        )))
    } else {
        Err(errors.join("\n"))
    }
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("tracestack-xtask-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn works(program: &Path, args: &[&str]) -> bool {
    Command::new(program).args(args).output().is_ok_and(|o| o.status.success())
}

fn kubernetes_validate(root: &Path, profiles: &[Profile]) -> Result<Outcome, String> {
    let venv = root.join(".ci/.venv/bin/kubernetes-validate");
    let Some(tool) = [venv, PathBuf::from("kubernetes-validate")].into_iter().find(|t| works(t, &["--version"])) else {
        return Ok(Outcome::Skipped("kubernetes-validate not found (`.ci/run` installs it into .ci/.venv)".into()));
    };
    let scratch = Scratch::new("kubernetes-validate")?;
    let mut files = Vec::new();
    for p in profiles {
        for (file, object) in p.objects() {
            if crd::is_builtin(object["apiVersion"].as_str().unwrap_or_default())
                && let Some(text) = p.files.get(&file)
            {
                let path = scratch.0.join(format!("{}--{}", p.name, file.replace('/', "--")));
                write(&path, text)?;
                files.push(path);
            }
        }
    }
    for version in KUBERNETES_VERSIONS {
        let out = Command::new(&tool)
            .args(["--strict", "--quiet", "--kubernetes-version", version])
            .args(&files)
            .output()
            .map_err(|e| format!("{}: {e}", tool.display()))?;
        if !out.status.success() {
            return Err(format!(
                "kubernetes-validate --strict -k {version}:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    Ok(Outcome::Done(format!(
        "kubernetes-validate --strict: {} built-in objects pass Kubernetes {}",
        files.len(),
        KUBERNETES_VERSIONS.join(" and ")
    )))
}

/// The file an object is rendered to (`<name>-<kind>.yaml`).
fn render_name(object: &serde_json::Value) -> String {
    format!(
        "{}-{}.yaml",
        object["metadata"]["name"].as_str().unwrap_or_default(),
        object["kind"].as_str().unwrap_or_default().to_ascii_lowercase()
    )
}

type Identity = (String, String, String);

fn identity(object: &serde_json::Value) -> Identity {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    (text(&object["kind"]), text(&object["metadata"]["namespace"]), text(&object["metadata"]["name"]))
}

fn kustomize(_root: &Path, profiles: &[Profile]) -> Result<Outcome, String> {
    let kubectl = PathBuf::from("kubectl");
    if !works(&kubectl, &["version", "--client"]) {
        return Ok(Outcome::Skipped("kubectl not found; `kubectl kustomize` not run".into()));
    }
    let scratch = Scratch::new("kustomize")?;
    let mut objects = 0;
    for p in profiles {
        let root = scratch.0.join(&p.name);
        for (file, text) in &p.files {
            write(&root.join(file), text)?;
        }
        // Every bundle is a kustomization of its own (the root, `smoke-test/`, …).
        for (bundle, bundle_objects) in &p.bundles {
            let dir = root.join(bundle);
            let what = if bundle.is_empty() { p.name.clone() } else { format!("{}/{bundle}", p.name) };
            let out =
                Command::new(&kubectl).arg("kustomize").arg(&dir).output().map_err(|e| format!("kubectl: {e}"))?;
            if !out.status.success() {
                return Err(format!("kubectl kustomize {what}: {}", String::from_utf8_lossy(&out.stderr)));
            }
            let built = String::from_utf8_lossy(&out.stdout);
            let mut got = BTreeSet::new();
            for doc in built.split("\n---\n").filter(|d| !d.trim().is_empty()) {
                let value: serde_json::Value =
                    serde_saphyr::from_str(doc).map_err(|e| format!("kubectl kustomize {what}: {e}"))?;
                got.insert(identity(&value));
            }
            let want: BTreeSet<Identity> = bundle_objects.iter().map(identity).collect();
            if got != want {
                return Err(format!("kubectl kustomize {what} builds {got:?}, the files hold {want:?}"));
            }
            objects += want.len();
        }
    }
    Ok(Outcome::Done(format!(
        "kubectl kustomize: {} profiles build exactly the {objects} objects of their files",
        profiles.len()
    )))
}
