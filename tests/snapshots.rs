//! Locks every rendered file of every profile in `profiles/` byte for byte, one named snapshot per
//! file (`tests/snapshots/<profile>__<file>.snap`), reviewed with `cargo insta review`.

use std::collections::BTreeSet;
use std::path::Path;

fn rendered() -> std::collections::BTreeMap<String, String> {
    match tracestack::io::project::render_all(Path::new("profiles")) {
        Ok(files) => files,
        Err(errors) => panic!("profiles fail to render: {errors:#?}"),
    }
}

fn snapshot_name(path: &str) -> String {
    path.replace('/', "__")
}

#[test]
fn every_rendered_file_matches_its_snapshot() {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for (path, text) in rendered() {
            settings_for(&path).bind(|| insta::assert_snapshot!(snapshot_name(&path), text));
        }
    });
}

fn settings_for(path: &str) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_description(path);
    settings
}

#[test]
fn no_snapshot_is_left_for_a_file_that_is_no_longer_rendered() {
    let expected: BTreeSet<String> = rendered().keys().map(|p| format!("{}.snap", snapshot_name(p))).collect();
    let dir = Path::new("tests/snapshots");
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .filter(|name| name.ends_with(".snap"))
                .collect()
        })
        .unwrap_or_default();
    let orphans: Vec<&String> = on_disk.difference(&expected).collect();
    assert!(orphans.is_empty(), "snapshots without a rendered file (delete them): {orphans:?}");
}
