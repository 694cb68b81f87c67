//! Profiles are inputs read at run time, never compiled in: editing one must not make cargo rebuild
//! anything. A build script or an `include_str!` of a profile would break that (cargo reruns build
//! scripts and recompiles crates whose included files change); `cargo xtask bench` checks the same
//! thing end to end by touching the profiles and asking cargo what it rebuilds.

use std::path::{Path, PathBuf};

const MANIFESTS: [&str; 2] = ["Cargo.toml", "xtask/Cargo.toml"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn no_package_has_a_build_script() {
    for manifest in MANIFESTS {
        let dir = root().join(manifest);
        let dir = dir.parent().unwrap_or(root());
        assert!(!dir.join("build.rs").exists(), "{}: a build script would run on every profile edit", dir.display());
        let text = std::fs::read_to_string(root().join(manifest)).unwrap_or_default();
        assert!(!text.is_empty(), "{manifest} not found");
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with("build =") || l.trim_start().starts_with("build=")),
            "{manifest} names a build script"
        );
    }
}

/// The library and xtask include no files but their own prose templates (`src/format/templates/`, program
/// text like the code); tests and benchmarks may include fixtures, but never a profile.
#[test]
fn no_profile_is_compiled_in() {
    let mut files = Vec::new();
    for dir in ["src", "xtask/src", "tests", "benches"] {
        rust_files(&root().join(dir), &mut files);
    }
    assert!(files.len() > 10, "expected the crate's sources, found {files:?}");
    let mut offending = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let shipped = file.starts_with(root().join("src")) || file.starts_with(root().join("xtask/src"));
        for (n, line) in text.lines().enumerate() {
            let includes = ["include_str", "include_bytes", "include"].iter().any(|m| line.contains(&format!("{m}!(")));
            let template = line.contains("\"templates/") && line.contains(".j2\"");
            if includes && (line.contains("profiles") || line.contains(".yaml") || (shipped && !template)) {
                offending.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(offending.is_empty(), "files compiled into a crate (read them at run time instead):\n{offending:#?}");
}
