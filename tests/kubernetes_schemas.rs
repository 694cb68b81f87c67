//! Every built-in object of every profile passes `kubernetes-validate --strict` (the pip package:
//! the Kubernetes OpenAPI schemas as JSON Schema, with unknown fields rejected) for the oldest and
//! newest Kubernetes versions tracestack supports, 1.25 and 1.37 (the newest that
//! kubernetes-validate 1.37.0, the version `.ci/run` pins, ships).
//!
//! The tool is `$TRACESTACK_KUBERNETES_VALIDATE`, else `.ci/.venv/bin/kubernetes-validate` (what
//! `.ci/run` installs), else `kubernetes-validate` on `PATH`. Without it the tests skip visibly,
//! unless `TRACESTACK_REQUIRE_TOOLS=1` (set by `.ci/run`) makes that a failure.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use tracestack::check::crd;

/// The Kubernetes versions every object must validate against.
const VERSIONS: [&str; 2] = ["1.25.0", "1.37.0"];

fn tool() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("TRACESTACK_KUBERNETES_VALIDATE").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/.venv/bin/kubernetes-validate")),
        Some(PathBuf::from("kubernetes-validate")),
    ];
    let found = candidates
        .into_iter()
        .flatten()
        .find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()));
    if found.is_none() {
        support::skip(
            "kubernetes-validate not found (`.ci/run` installs it into .ci/.venv); Kubernetes schemas not checked",
        );
    }
    found
}

/// A scratch directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tracestack-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        Self(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the tool strictly against `version`; returns success and its combined output.
fn validate(tool: &Path, version: &str, files: &[PathBuf]) -> (bool, String) {
    let out = Command::new(tool)
        .args(["--strict", "--kubernetes-version", version])
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", tool.display()));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn every_built_in_object_passes_strict_schema_validation() {
    let Some(tool) = tool() else { return };
    let scratch = Scratch::new("kubernetes-validate");
    let mut files = Vec::new();
    for (profile, objects) in support::object_files() {
        for (file, text) in objects {
            let object = support::parse(&format!("{profile}/{file}"), &text);
            // Custom resources are checked against their CRDs (tests/custom_resources.rs).
            if crd::is_builtin(object["apiVersion"].as_str().unwrap_or_default()) {
                files.push(scratch.write(&format!("{profile}--{file}"), &text));
            }
        }
    }
    assert!(files.len() >= 20, "only {} objects", files.len());
    for version in VERSIONS {
        let (ok, output) = validate(&tool, version, &files);
        assert!(ok, "kubernetes-validate --strict -k {version} failed:\n{output}");
        let short = version.trim_end_matches(".0");
        for file in &files {
            let name = file.display().to_string();
            let passed = output.lines().any(|l| l.contains(&name) && l.contains("passed") && l.contains(short));
            assert!(passed, "{name} was not validated against {version}:\n{output}");
        }
        eprintln!("kubernetes-validate --strict: {} objects pass Kubernetes {version}", files.len());
    }
}

#[test]
fn the_validator_rejects_unknown_fields_and_wrong_types() {
    let Some(tool) = tool() else { return };
    let scratch = Scratch::new("kubernetes-validate-bad");
    let unknown = scratch.write(
        "unknown.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: otlp\nspec:\n  ports:\n  - port: 4317\n    appProtocl: grpc\n",
    );
    let wrong_type = scratch.write(
        "wrong-type.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: \"3\"\n  selector: {}\n  template: {}\n",
    );
    for version in VERSIONS {
        let (ok, output) = validate(&tool, version, std::slice::from_ref(&unknown));
        assert!(!ok && output.contains("'appProtocl' was unexpected"), "{version}: {output}");
        let (ok, output) = validate(&tool, version, std::slice::from_ref(&wrong_type));
        assert!(!ok && output.contains("is not of type 'integer'"), "{version}: {output}");
    }
}

#[test]
fn every_extension_point_and_the_layered_examples_pass_strict_schema_validation() {
    let Some(tool) = tool() else { return };
    let scratch = Scratch::new("kubernetes-validate-extensions");
    let mut files = Vec::new();
    for path in ["tests/extensions/everything.yaml", "examples/layering/eu-west.yaml", "examples/layering/us-east.yaml"]
    {
        let (name, rendered) =
            tracestack::io::project::render_file(Path::new(path), path).unwrap_or_else(|e| panic!("{e}"));
        for (file, text) in
            rendered.files.iter().filter(|(f, _)| f.ends_with(".yaml") && !f.ends_with("kustomization.yaml"))
        {
            let object = support::parse(&format!("{name}/{file}"), text);
            if crd::is_builtin(object["apiVersion"].as_str().unwrap_or_default()) {
                files.push(scratch.write(&format!("{name}--{}", file.replace('/', "--")), text));
            }
        }
    }
    assert!(files.iter().any(|f| f.display().to_string().ends_with("jaeger-query-ingress.yaml")), "the Ingress");
    for version in VERSIONS {
        let (ok, output) = validate(&tool, version, &files);
        assert!(ok, "kubernetes-validate --strict -k {version} failed:\n{output}");
    }
}
