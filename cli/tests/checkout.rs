//! The `tracestack` command over tracestack's own checkout: it renders the same bytes as
//! `cargo xtask render` (the committed `generated/`), and a broken profile exits 1 naming file and
//! line with nothing written.

use std::path::Path;
use std::process::{Command, Output};

fn checkout() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the checkout holds cli/")
}

fn tracestack(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tracestack")).args(args).output().expect("run tracestack")
}

fn describe(output: &Output) -> String {
    format!(
        "status: {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_command_and_cargo_xtask_render_the_same_bytes() {
    let root = checkout().to_str().expect("UTF-8 path");
    let output = tracestack(&["-C", root, "check"]);
    assert!(output.status.success(), "generated/ differs from what `tracestack` renders:\n{}", describe(&output));
    let output = tracestack(&["-C", root, "diff", "--exit-code"]);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "no object changes\n", "{}", describe(&output));
}

#[test]
fn a_broken_profile_exits_1_naming_file_and_line_and_writes_nothing() {
    let out = std::env::temp_dir().join(format!("tracestack-cli-checkout-{}", std::process::id()));
    let root = checkout().to_str().expect("UTF-8 path");
    let output = tracestack(&[
        "-C",
        root,
        "render",
        "--profile",
        "tests/bad/collector-key-misspelt.yaml",
        "--out",
        out.to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("collector-key-misspelt.yaml:5:3:") && err.contains("did you mean `replicas`?"), "{err}");
    assert!(err.ends_with("; nothing was written\n"), "{err}");
    assert!(!out.exists(), "{} was created", out.display());
}

#[test]
fn validate_checks_every_profile_and_builds_every_applied_kustomization() {
    let root = checkout().to_str().expect("UTF-8 path");
    let output = tracestack(&["-C", root, "validate"]);
    assert!(output.status.success(), "{}", describe(&output));
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        said.contains("istio-demo: 20 objects, 2 configs: ")
            && said.contains(&format!("validated {} profile(s)", profiles().len())),
        "{said}"
    );
    let kubectl = Command::new("kubectl").args(["version", "--client"]).output().is_ok_and(|o| o.status.success());
    if kubectl {
        // Every profile's root bundle and smoke test, istio-demo's instrumentation/shop and
        // istio/telemetry; the app and injection Components are not built on their own.
        let expected = 2 * profiles().len() + 2;
        assert!(said.contains(&format!("kubectl kustomize: {expected} kustomization(s) built")), "{said}");
    } else {
        assert!(std::env::var("TRACESTACK_REQUIRE_TOOLS").as_deref() != Ok("1"), "kubectl is required: {said}");
        eprintln!("skipped: kubectl not found; `tracestack validate` ran without kubectl kustomize");
        assert!(said.contains("skipped: kubectl kustomize"), "{said}");
    }
}

/// The built-in profiles of this checkout.
fn profiles() -> Vec<std::path::PathBuf> {
    let dir = checkout().join("profiles");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect()
}
