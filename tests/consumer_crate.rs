//! A separate program that depends on tracestack with exactly the lines README.md and the crate
//! docs give (the crate by path here, k8s-openapi with one version feature) builds offline and
//! runs: it builds a stack, reads a typed object, adds a ConfigMap of its own and renders.

use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The `[dependencies]` lines the README gives for k8s-openapi, read from the README itself so the
/// test fails when they change without the test.
fn readme_k8s_line() -> String {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README.md");
    readme
        .lines()
        .find(|l| l.starts_with("k8s-openapi = "))
        .unwrap_or_else(|| panic!("README.md gives no `k8s-openapi = …` dependency line"))
        .split(" #")
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

const MAIN: &str = r#"
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use tracestack::{Object, Profile, Source, Stack, check, render_parts};

fn main() -> Result<(), tracestack::Error> {
    let mut profile = Profile::default();
    profile.environment = "consumer".into();
    let stack = Stack::build(&profile)?;
    let image = stack.gateway.deployment.spec.as_ref().and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.containers[0].image.clone()).unwrap_or_default();
    let (configs, external) = (stack.configs(), stack.external.clone());
    let mut parts = stack.into_parts()?;
    parts.bundles[0].objects.push(Object::from(ConfigMap {
        metadata: ObjectMeta { name: Some("mine".into()), namespace: Some("observability".into()), ..ObjectMeta::default() },
        data: Some(BTreeMap::from([("k".into(), "v".into())])),
        ..ConfigMap::default()
    }));
    check::check(parts.bundles.iter().flat_map(|b| &b.objects), &configs, &external)?;
    let rendered = render_parts(parts, &Source { profile: "consumer".into(), origin: "code".into() })?;
    println!("image {image}");
    println!("files {}", rendered.files.len());
    println!("mine {}", rendered.files.contains_key("mine-configmap.yaml"));
    Ok(())
}
"#;

#[test]
fn a_separate_crate_builds_and_runs_with_the_documented_dependency_lines() {
    let dir = std::env::temp_dir().join(format!("tracestack-consumer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).expect("create the crate");
    let manifest = format!(
        "[package]\nname = \"consumer\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\ntracestack = {{ path = {root:?} }}\n{k8s}\n\n[profile.dev]\ndebug = 0\n\n[workspace]\n",
        root = ROOT,
        k8s = readme_k8s_line(),
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("Cargo.toml");
    std::fs::write(dir.join("src/main.rs"), MAIN).expect("main.rs");
    // The same versions as tracestack's own lock file, and its target directory: nothing is
    // fetched (`--offline`) and what tracestack's build already compiled is reused.
    std::fs::copy(Path::new(ROOT).join("Cargo.lock"), dir.join("Cargo.lock")).expect("Cargo.lock");
    let output = Command::new(env!("CARGO"))
        .args(["run", "--offline", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", Path::new(ROOT).join("target"))
        .output()
        .expect("run cargo");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the consumer crate failed:\n{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("image otel/opentelemetry-collector-k8s:0.159.0"), "{stdout}");
    assert!(stdout.contains("mine true"), "{stdout}");
}
