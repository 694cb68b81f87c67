//! `cargo xtask render` end to end, through the real binary: a broken profile fails with the file
//! named and nothing written; `--check` names every stale, missing and extra file; files tracestack
//! did not generate are never touched; and rendering is deterministic.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs `cargo xtask render <args>` from the package root.
fn xtask_render(args: &[&str]) -> Output {
    Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--package", "xtask", "--", "render"])
        .args(args)
        .current_dir(ROOT)
        .output()
        .expect("run cargo xtask")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn describe(output: &Output) -> String {
    format!(
        "status: {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let path = std::env::temp_dir().join(format!("tracestack-xtask-cli-{}-{test}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path).expect("clear stale temp dir");
        }
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn arg(&self) -> &str {
        self.0.to_str().expect("temp dir path is UTF-8")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every file under `dir` by path relative to it, with its bytes; empty when `dir` is missing.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root").to_owned();
                out.insert(rel, std::fs::read(&path).expect("read file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out
}

fn names(snapshot: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<String> {
    snapshot.keys().map(|p| p.display().to_string()).collect()
}

#[test]
fn bad_profile_fails_naming_the_file_and_writes_nothing() {
    let out = TempDir::new("bad-profile");
    std::fs::write(out.path().join("keep.txt"), "a file of the user's own\n").expect("write keep.txt");
    std::fs::copy(Path::new(ROOT).join("generated/demo/otlp-service.yaml"), out.path().join("otlp-service.yaml"))
        .expect("copy a generated file");
    let before = snapshot(out.path());

    let output = xtask_render(&["--profile", "tests/bad/collector-key-misspelt.yaml", "--out", out.arg()]);

    assert!(!output.status.success(), "a bad profile rendered:\n{}", describe(&output));
    let err = stderr(&output);
    assert!(err.contains("tests/bad/collector-key-misspelt.yaml:5:3:"), "file and line not named:\n{err}");
    assert!(err.contains("`collector.replica`") && err.contains("did you mean `replicas`?"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(snapshot(out.path()), before, "the output directory changed");
}

#[test]
fn profile_failing_at_build_time_writes_nothing() {
    let out = TempDir::new("build-failure");
    std::fs::copy(Path::new(ROOT).join("generated/demo/otlp-service.yaml"), out.path().join("otlp-service.yaml"))
        .expect("copy a generated file");
    let before = snapshot(out.path());

    let output = xtask_render(&["--profile", "tests/bad/distribution-lacks-components.yaml", "--out", out.arg()]);

    assert!(!output.status.success(), "a profile that cannot be built rendered:\n{}", describe(&output));
    let err = stderr(&output);
    assert!(err.contains("otelcol-otlp 0.159.0 does not ship the processor `batch`"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(snapshot(out.path()), before, "the output directory changed");
}

#[test]
fn missing_profile_file_is_named() {
    let out = TempDir::new("missing-profile");
    let output = xtask_render(&["--profile", "tests/bad/no-such-profile.yaml", "--out", out.arg()]);
    assert!(!output.status.success(), "{}", describe(&output));
    let err = stderr(&output);
    assert!(err.contains("tests/bad/no-such-profile.yaml") && err.contains("cannot read the file"), "{err}");
    assert!(snapshot(out.path()).is_empty(), "files were written for a missing profile");
}

#[test]
fn one_bad_profile_among_good_ones_writes_nothing() {
    let profiles = TempDir::new("profiles-dir");
    std::fs::copy(Path::new(ROOT).join("profiles/demo.yaml"), profiles.path().join("demo.yaml")).expect("copy demo");
    std::fs::copy(Path::new(ROOT).join("tests/bad/sampling-above-100.yaml"), profiles.path().join("too-much.yaml"))
        .expect("copy a bad profile");
    let parent = TempDir::new("profiles-dir-out");
    let out = parent.path().join("generated");

    let output = xtask_render(&["--profiles", profiles.arg(), "--out", out.to_str().expect("UTF-8 path")]);

    assert!(!output.status.success(), "a directory with a bad profile rendered:\n{}", describe(&output));
    let err = stderr(&output);
    assert!(err.contains("too-much.yaml:3:15:"), "the bad file is not named:\n{err}");
    assert!(err.contains("`sampling.percentage`"), "{err}");
    assert!(!err.contains("demo.yaml"), "the good profile is reported:\n{err}");
    assert!(err.contains("1 profile(s) failed; nothing was written"), "{err}");
    assert!(!out.exists(), "the output directory was created");
}

#[test]
fn check_names_stale_missing_and_extra_files_and_render_keeps_the_users_files() {
    let dir = TempDir::new("check");
    let out = dir.arg();

    let first = xtask_render(&["--profile", "demo", "--out", out]);
    assert!(first.status.success(), "{}", describe(&first));
    let rendered = snapshot(dir.path());
    assert!(rendered.len() >= 5, "few files rendered: {:?}", names(&rendered));
    assert!(rendered.contains_key(Path::new("kustomization.yaml")), "{:?}", names(&rendered));
    assert!(rendered.contains_key(Path::new("otlp-service.yaml")), "{:?}", names(&rendered));

    let check = xtask_render(&["--profile", "demo", "--out", out, "--check"]);
    assert!(check.status.success(), "a fresh render is not up to date:\n{}", describe(&check));

    // One stale, one missing, one extra generated file; and a note of the user's own.
    let stale = dir.path().join("otlp-service.yaml");
    let mut text = std::fs::read_to_string(&stale).expect("read otlp-service.yaml");
    text.push_str("# edited by hand\n");
    std::fs::write(&stale, text).expect("edit otlp-service.yaml");
    std::fs::remove_file(dir.path().join("kustomization.yaml")).expect("delete kustomization.yaml");
    std::fs::copy(dir.path().join("jaeger-configmap.yaml"), dir.path().join("old-jaeger-configmap.yaml"))
        .expect("copy to an extra file");
    let notes = "Our own notes about this stack; tracestack must leave them alone.\n";
    std::fs::write(dir.path().join("notes.md"), notes).expect("write notes.md");
    let drifted = snapshot(dir.path());

    let check = xtask_render(&["--profile", "demo", "--out", out, "--check"]);
    assert!(!check.status.success(), "--check passed on a drifted directory:\n{}", describe(&check));
    let err = stderr(&check);
    let line_with = |kind: &str, file: &str| err.lines().any(|l| l.contains(kind) && l.contains(file));
    assert!(line_with("stale:", "otlp-service.yaml"), "{err}");
    assert!(line_with("missing:", "kustomization.yaml"), "{err}");
    assert!(line_with("extra:", "old-jaeger-configmap.yaml"), "{err}");
    assert!(!err.contains("notes.md"), "a file tracestack did not generate was reported:\n{err}");
    assert_eq!(snapshot(dir.path()), drifted, "--check changed the directory");

    let again = xtask_render(&["--profile", "demo", "--out", out]);
    assert!(again.status.success(), "{}", describe(&again));
    let mut expected = rendered;
    expected.insert(PathBuf::from("notes.md"), notes.as_bytes().to_vec());
    assert_eq!(names(&snapshot(dir.path())), names(&expected));
    assert_eq!(snapshot(dir.path()), expected, "the render did not restore the files, or touched notes.md");

    let check = xtask_render(&["--profile", "demo", "--out", out, "--check"]);
    assert!(check.status.success(), "notes.md made --check fail:\n{}", describe(&check));
}

#[test]
fn rendering_twice_gives_identical_files() {
    let first = TempDir::new("twice-a");
    let second = TempDir::new("twice-b");

    for dir in [&first, &second] {
        let output = xtask_render(&["--profile", "prod-elasticsearch", "--out", dir.arg()]);
        assert!(output.status.success(), "{}", describe(&output));
    }
    let once = snapshot(first.path());
    assert!(!once.is_empty(), "nothing rendered");
    assert_eq!(once, snapshot(second.path()), "two renders into fresh directories differ");

    let output = xtask_render(&["--profile", "prod-elasticsearch", "--out", first.arg()]);
    assert!(output.status.success(), "{}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(&format!("0 written, {} unchanged, 0 removed", once.len())), "{stdout}");
    assert_eq!(snapshot(first.path()), once, "rendering over the same output changed it");
}

/// `<temp>/profiles/` holding a copy of the `demo` profile under each of `names`.
fn demo_copies(temp: &TempDir, names: &[&str]) -> PathBuf {
    let profiles = temp.path().join("profiles");
    std::fs::create_dir_all(&profiles).expect("mkdir profiles");
    for name in names {
        std::fs::copy(Path::new(ROOT).join("profiles/demo.yaml"), profiles.join(name)).expect("copy demo");
    }
    profiles
}

/// A profiles directory holding `demo.yaml`, and an output directory rendered from it plus the
/// output of a profile `old` rendered earlier.
fn rendered_with_old_output(test: &str) -> (TempDir, PathBuf, PathBuf) {
    let temp = TempDir::new(test);
    let profiles = demo_copies(&temp, &["demo.yaml", "old.yaml"]);
    let out = temp.path().join("generated");
    let first = xtask_render(&["--profiles", profiles.to_str().expect("UTF-8"), "--out", out.to_str().expect("UTF-8")]);
    assert!(first.status.success(), "{}", describe(&first));
    assert!(out.join("old/README.md").exists());
    std::fs::remove_file(profiles.join("old.yaml")).expect("remove old.yaml");
    (temp, profiles, out)
}

#[test]
fn profiles_that_cannot_be_read_are_errors_and_their_output_stays() {
    let (_temp, profiles, out) = rendered_with_old_output("unreadable-profiles");
    let before = snapshot(&out);
    let render = |profiles: &Path| {
        xtask_render(&["--profiles", profiles.to_str().expect("UTF-8"), "--out", out.to_str().expect("UTF-8")])
    };

    // `old.yaml` as a link to nothing: an error naming it, not a profile that is gone.
    std::os::unix::fs::symlink("nowhere/old.yaml", profiles.join("old.yaml")).expect("symlink");
    let output = render(&profiles);
    assert!(!output.status.success(), "{}", describe(&output));
    let err = stderr(&output);
    assert!(err.contains("old.yaml: is a symbolic link to `nowhere/old.yaml`, which does not exist"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(snapshot(&out), before, "the output changed");
    std::fs::remove_file(profiles.join("old.yaml")).expect("rm link");

    // A directory named like a profile.
    std::fs::create_dir(profiles.join("old.yaml")).expect("mkdir old.yaml");
    let err = stderr(&render(&profiles));
    assert!(err.contains("old.yaml: is a directory, not a profile file"), "{err}");
    assert_eq!(snapshot(&out), before, "the output changed");
    std::fs::remove_dir(profiles.join("old.yaml")).expect("rmdir");

    // A named pipe would block a read for ever.
    let made = Command::new("mkfifo").arg(profiles.join("old.yaml")).status().expect("run mkfifo");
    assert!(made.success());
    let err = stderr(&render(&profiles));
    assert!(err.contains("old.yaml: is not a regular file (a pipe, socket or device)"), "{err}");
    assert_eq!(snapshot(&out), before, "the output changed");
    std::fs::remove_file(profiles.join("old.yaml")).expect("rm fifo");

    // Two files for one profile name.
    std::fs::copy(profiles.join("demo.yaml"), profiles.join("demo.yml")).expect("copy demo.yml");
    let err = stderr(&render(&profiles));
    assert!(err.contains("demo.yml: gives the same profile name, and so the same output folder, as"), "{err}");
    assert_eq!(snapshot(&out), before, "the output changed");
    std::fs::remove_file(profiles.join("demo.yml")).expect("rm demo.yml");

    // A profile named like the schema's folder.
    std::fs::copy(profiles.join("demo.yaml"), profiles.join("schema.yaml")).expect("copy schema.yaml");
    let err = stderr(&render(&profiles));
    assert!(err.contains("schema.yaml: the file name gives the profile name and its output folder, and `schema/` holds the profile schema"), "{err}");
    assert_eq!(snapshot(&out), before, "the output changed");
    std::fs::remove_file(profiles.join("schema.yaml")).expect("rm schema.yaml");

    // No profile at all.
    let empty = profiles.with_file_name("empty");
    std::fs::create_dir(&empty).expect("mkdir empty");
    let err = stderr(&render(&empty));
    assert!(
        err.contains("empty: holds no profile (`*.yaml` or `*.yml`); nothing was rendered and no output was removed"),
        "{err}"
    );
    assert_eq!(snapshot(&out), before, "the output changed");
}

#[test]
fn a_profile_that_is_gone_keeps_its_output_until_pruned() {
    let (_temp, profiles, out) = rendered_with_old_output("prune");
    let args = ["--profiles", profiles.to_str().expect("UTF-8"), "--out", out.to_str().expect("UTF-8")];
    let old: Vec<String> = names(&snapshot(&out.join("old")));
    assert!(old.len() > 5, "{old:?}");

    let output = xtask_render(&args);
    assert!(output.status.success(), "{}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("0 removed"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "kept {} generated file(s) of profiles not rendered now; `--prune-profiles` removes them",
            old.len()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("    old/README.md"), "{stdout}");
    assert_eq!(names(&snapshot(&out.join("old"))), old, "the output of `old` changed");
    let check = xtask_render(&[&args[..], &["--check"]].concat());
    assert!(check.status.success(), "{}", describe(&check));

    let output = xtask_render(&[&args[..], &["--prune-profiles", "--check"]].concat());
    assert!(!output.status.success(), "{}", describe(&output));
    assert!(
        stderr(&output).contains("extra:   ") && stderr(&output).contains("old/README.md"),
        "{}",
        describe(&output)
    );

    let output = xtask_render(&[&args[..], &["--prune-profiles"]].concat());
    assert!(output.status.success(), "{}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout
            .contains(&format!("pruned profile `old`: {} file(s) of a profile no longer rendered removed", old.len())),
        "{stdout}"
    );
    assert!(stdout.contains("  removed old/README.md"), "{stdout}");
    assert!(!out.join("old").exists(), "the folder of `old` stayed");
    assert!(out.join("demo/README.md").exists() && out.join("schema/profile.schema.json").exists());
}

#[test]
fn yml_profiles_render() {
    let temp = TempDir::new("yml");
    let profiles = demo_copies(&temp, &["short.yml"]);
    let out = temp.path().join("generated");
    let output =
        xtask_render(&["--profiles", profiles.to_str().expect("UTF-8"), "--out", out.to_str().expect("UTF-8")]);
    assert!(output.status.success(), "{}", describe(&output));
    let readme = std::fs::read_to_string(out.join("short/README.md")).expect("short/README.md");
    assert!(readme.contains("(profile `short`)"), "{readme}");
}

#[test]
fn output_into_the_profiles_directory_is_refused() {
    let temp = TempDir::new("into-profiles");
    let profiles = demo_copies(&temp, &["demo.yaml"]);
    let before = snapshot(temp.path());
    let p = profiles.to_str().expect("UTF-8");
    for args in [
        vec!["--profiles", p, "--out", p],
        vec!["--profiles", p, "--out", &format!("{p}/sub/..")],
        vec!["--profile", &format!("{p}/demo.yaml"), "--out", &format!("{p}/demo")],
        vec!["--profile", &format!("{p}/demo.yaml"), "--out", temp.arg()],
    ] {
        let output = xtask_render(&args);
        assert!(!output.status.success(), "{args:?}: {}", describe(&output));
        let err = stderr(&output);
        assert!(
            err.contains("is, lies inside or holds the profiles directory") && err.contains("nothing was written"),
            "{args:?}: {err}"
        );
        assert_eq!(snapshot(temp.path()), before, "{args:?} changed files");
    }
}

/// A directory where a rendered file goes stops the render before anything changes, and no
/// staging directory is left behind.
#[test]
fn a_blocked_path_changes_nothing() {
    let dir = TempDir::new("blocked");
    let first = xtask_render(&["--profile", "demo", "--out", dir.arg()]);
    assert!(first.status.success(), "{}", describe(&first));
    let stale = dir.path().join("otlp-service.yaml");
    std::fs::write(
        &stale,
        "# Generated by tracestack from profiles/demo.yaml (profile `demo`). Do not edit by hand:\nold: 1\n",
    )
    .expect("make a file stale");
    std::fs::remove_file(dir.path().join("README.md")).expect("rm README.md");
    std::fs::create_dir_all(dir.path().join("README.md/notes")).expect("a directory where README.md goes");
    let before = snapshot(dir.path());

    let output = xtask_render(&["--profile", "demo", "--out", dir.arg()]);

    assert!(!output.status.success(), "{}", describe(&output));
    let err = stderr(&output);
    assert!(err.contains("README.md: is a directory where tracestack writes a file; move it away first"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(snapshot(dir.path()), before, "the output directory changed");
    assert!(!dir.path().join(".tracestack-staging").exists());
}

#[test]
fn layers_render_explain_and_fail_through_the_binary() {
    let out = TempDir::new("layers");
    let rendered = xtask_render(&[
        "-f",
        "examples/layering/us-east.yaml",
        "--set",
        "collector.log_level=debug",
        "--out",
        out.arg(),
    ]);
    assert!(rendered.status.success(), "{}", describe(&rendered));
    let files = snapshot(out.path());
    let config = String::from_utf8_lossy(&files[Path::new("otel-collector-configmap.yaml")]).into_owned();
    assert!(config.contains("level: debug") && config.contains("value: production-us"), "{config}");
    let header = String::from_utf8_lossy(&files[Path::new("otlp-service.yaml")]).into_owned();
    assert!(header.contains("examples/layering/us-east.yaml (profile `us-east`)"), "{header}");

    let explained = xtask_render(&["-f", "examples/layering/us-east.yaml", "--explain", "environment"]);
    assert!(explained.status.success(), "{}", describe(&explained));
    assert_eq!(
        String::from_utf8_lossy(&explained.stdout),
        "environment: production-us\n  set by examples/layering/us-east.yaml:7:14\n  overrides examples/layering/bases/production.yaml:7:14\n"
    );

    let empty = TempDir::new("layers-bad");
    let bad = xtask_render(&["-f", "examples/layering/us-east.yaml", "--set", "apps[0].name=x", "--out", empty.arg()]);
    assert!(!bad.status.success(), "{}", describe(&bad));
    assert_eq!(
        stderr(&bad),
        "error: --set apps[0].name=x: `apps` is not set, so it has no item [0]; set the whole list, e.g. `apps=[…]`\nnothing was written\n"
    );
    assert!(snapshot(empty.path()).is_empty(), "nothing written");
}
