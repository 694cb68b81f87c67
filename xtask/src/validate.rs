//! `cargo xtask validate`: renders every profile in memory, runs the cross-object checks, then every
//! upstream validation that is available here (custom resources against `../shared/crds`,
//! `kubernetes-validate --strict`, `kubectl kustomize`), and prints what was checked.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use tracestack::check::{Summary, crd};
use tracestack::render::{self, Source};
use tracestack::{Stack, load, project};

/// The Kubernetes versions built-in objects are validated against (kubernetes-validate 1.37.0
/// ships schemas for 1.25.0 to 1.37.0).
const KUBERNETES_VERSIONS: [&str; 2] = ["1.25.0", "1.37.0"];

/// One profile, rendered.
struct Profile {
    name: String,
    objects: Vec<serde_json::Value>,
    files: std::collections::BTreeMap<String, String>,
}

/// Runs every validation; `Err` lists what failed.
pub fn run(root: &Path, profiles_dir: &Path) -> Result<(), String> {
    let require = std::env::var("TRACESTACK_REQUIRE_TOOLS").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    let mut profiles = Vec::new();
    let mut total = Summary::default();
    let paths = project::profile_files(profiles_dir).map_err(|e| e.to_string())?;
    for path in paths {
        match profile(&path, root) {
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
    let objects: usize = profiles.iter().map(|p| p.objects.len()).sum();
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

fn profile(path: &Path, root: &Path) -> Result<(Profile, Summary), String> {
    let name = load::profile_name(path).map_err(|e| e.to_string())?;
    let loaded = load::load_file(path).map_err(|e| e.to_string())?;
    let stack = Stack::build(&loaded).map_err(|e| format!("{}: {e}", path.display()))?;
    let summary = stack.check().map_err(|e| format!("{}: {e}", path.display()))?;
    let objects = stack
        .clone()
        .into_objects()
        .iter()
        .map(|o| o.to_ordered().map(|ordered| ordered.value().clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let origin = path.strip_prefix(root).unwrap_or(path).display().to_string();
    let rendered = render::render_stack(stack, &Source { profile: name.clone(), origin })
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((Profile { name, objects, files: rendered.files }, summary))
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
        for object in &p.objects {
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
        for (file, text) in &p.files {
            let builtin = p
                .objects
                .iter()
                .any(|o| crd::is_builtin(o["apiVersion"].as_str().unwrap_or_default()) && render_name(o) == *file);
            if builtin {
                let path = scratch.0.join(format!("{}--{file}", p.name));
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
        let dir = scratch.0.join(&p.name);
        for (file, text) in &p.files {
            write(&dir.join(file), text)?;
        }
        let out = Command::new(&kubectl).arg("kustomize").arg(&dir).output().map_err(|e| format!("kubectl: {e}"))?;
        if !out.status.success() {
            return Err(format!("kubectl kustomize {}: {}", p.name, String::from_utf8_lossy(&out.stderr)));
        }
        let built = String::from_utf8_lossy(&out.stdout);
        let mut got = BTreeSet::new();
        for doc in built.split("\n---\n").filter(|d| !d.trim().is_empty()) {
            let value: serde_json::Value =
                serde_saphyr::from_str(doc).map_err(|e| format!("kubectl kustomize {}: {e}", p.name))?;
            got.insert(identity(&value));
        }
        let want: BTreeSet<Identity> = p.objects.iter().map(identity).collect();
        if got != want {
            return Err(format!("kubectl kustomize {} builds {got:?}, the files hold {want:?}", p.name));
        }
        objects += want.len();
    }
    Ok(Outcome::Done(format!(
        "kubectl kustomize: {} profiles build exactly the {objects} objects of their files",
        profiles.len()
    )))
}
