//! `generated/` is what the profiles render, byte for byte, and every generated profile directory
//! is a kustomization kubectl accepts.

use std::path::Path;
use std::process::Command;

use tracestack::{output, project};

fn rendered() -> std::collections::BTreeMap<String, String> {
    match project::render_all(Path::new("profiles")) {
        Ok(files) => files,
        Err(errors) => panic!("profiles fail to render: {errors:#?}"),
    }
}

#[test]
fn generated_is_fresh() {
    if let Err(e) = output::check_dir(Path::new("generated"), &rendered()) {
        panic!("{e}");
    }
}

#[test]
fn rendering_twice_gives_identical_bytes() {
    assert_eq!(rendered(), rendered());
}

#[test]
fn every_file_starts_with_the_generated_header_and_ends_with_a_newline() {
    for (path, text) in rendered() {
        assert!(output::is_generated(&text), "{path} lacks the generated-file marker");
        assert!(text.ends_with('\n'), "{path} does not end with a newline");
        assert!(!text.contains('\t') && !text.contains('\r'), "{path} contains a tab or CR");
    }
}

#[test]
fn kubectl_kustomize_builds_every_kustomization_with_every_object() {
    if Command::new("kubectl").arg("version").arg("--client").output().is_err() {
        eprintln!("SKIPPED: kubectl not found; `kubectl kustomize` not checked");
        return;
    }
    let files = rendered();
    // Every directory holding a kustomization: each profile's root, its `smoke-test/` and other
    // bundles. Kustomize Components (`kind: Component`, e.g. `apps/<name>/`) only build inside a
    // kustomization that owns their targets; tests/kustomize_components.rs covers those.
    let dirs: std::collections::BTreeSet<&str> = files
        .iter()
        .filter(|(_, text)| text.contains("\nkind: Kustomization\n"))
        .filter_map(|(p, _)| p.strip_suffix("/kustomization.yaml"))
        .collect();
    assert!(dirs.len() >= 4, "expected two bundles in each of demo and prod-elasticsearch, got {dirs:?}");
    for dir in dirs {
        let path = Path::new("generated").join(dir);
        let out = Command::new("kubectl").arg("kustomize").arg(&path).output().expect("kubectl runs");
        assert!(out.status.success(), "kubectl kustomize {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        let built = String::from_utf8_lossy(&out.stdout);
        let objects = built.split("\n---\n").filter(|doc| doc.contains("kind:")).count();
        let expected = files
            .keys()
            .filter_map(|p| p.strip_prefix(&format!("{dir}/")))
            .filter(|rest| !rest.contains('/') && rest.ends_with(".yaml") && *rest != "kustomization.yaml")
            .count();
        assert_eq!(objects, expected, "{dir}: kustomize output has {objects} objects, the files {expected}");
    }
}
