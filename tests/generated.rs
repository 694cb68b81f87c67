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
fn kubectl_kustomize_builds_every_profile_with_every_object() {
    if Command::new("kubectl").arg("version").arg("--client").output().is_err() {
        eprintln!("SKIPPED: kubectl not found; `kubectl kustomize` not checked");
        return;
    }
    let files = rendered();
    let profiles: std::collections::BTreeSet<&str> =
        files.keys().filter_map(|p| p.split_once('/')).map(|(dir, _)| dir).filter(|d| *d != "schema").collect();
    assert!(profiles.len() >= 2, "expected at least demo and prod-elasticsearch, got {profiles:?}");
    for profile in profiles {
        let dir = Path::new("generated").join(profile);
        let out = Command::new("kubectl").arg("kustomize").arg(&dir).output().expect("kubectl runs");
        assert!(out.status.success(), "kubectl kustomize {}: {}", dir.display(), String::from_utf8_lossy(&out.stderr));
        let built = String::from_utf8_lossy(&out.stdout);
        let objects = built.split("\n---\n").filter(|doc| doc.contains("kind:")).count();
        let expected = files
            .keys()
            .filter(|p| {
                p.starts_with(&format!("{profile}/")) && !p.ends_with("kustomization.yaml") && p.ends_with(".yaml")
            })
            .filter(|p| !p[profile.len() + 1..].contains('/'))
            .count();
        assert_eq!(objects, expected, "{profile}: kustomize output has {objects} objects, the files {expected}");
    }
}
