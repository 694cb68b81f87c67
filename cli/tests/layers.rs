//! `tracestack render`, `check` and `validate` over layered profiles (`-f FILE`…, `--set
//! PATH=VALUE`…) and `render --explain FIELD`, through the same library functions as `cargo xtask
//! render`, with the exit statuses the command documents: 0 ok, 1 findings, 2 usage.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const US_EAST: &str = "examples/layering/us-east.yaml";

fn checkout() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the checkout holds cli/")
}

/// Runs `tracestack` in the checkout, so the files it names read as given.
fn tracestack(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tracestack")).current_dir(checkout()).args(args).output().expect("run tracestack")
}

fn describe(output: &Output) -> String {
    format!(
        "status: {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn expect(output: &Output, code: i32) -> String {
    assert_eq!(output.status.code(), Some(code), "{}", describe(output));
    String::from_utf8_lossy(if code == 0 { &output.stdout } else { &output.stderr }).into_owned()
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tracestack-cli-layers-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }

    fn arg(&self) -> &str {
        self.0.to_str().expect("UTF-8 path")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn render_and_check_a_layered_profile_with_set_values() {
    let out = TempDir::new("render");
    let said =
        expect(&tracestack(&["render", "-f", US_EAST, "--set", "collector.log_level=debug", "--out", out.arg()]), 0);
    assert!(said.contains(" written, 0 unchanged, 0 removed"), "{said}");
    let config = std::fs::read_to_string(out.0.join("otel-collector-configmap.yaml")).expect("the gateway config");
    // `debug` from --set, `production-us` from us-east.yaml over its base.
    assert!(config.contains("level: debug") && config.contains("value: production-us"), "{config}");
    let service = std::fs::read_to_string(out.0.join("otlp-service.yaml")).expect("a rendered file");
    assert!(service.contains("from examples/layering/us-east.yaml (profile `us-east`)"), "{service}");

    // `check` renders the same layers: up to date; another --set value makes the output stale.
    let said =
        expect(&tracestack(&["check", "-f", US_EAST, "--set", "collector.log_level=debug", "--out", out.arg()]), 0);
    assert!(said.contains("files up to date"), "{said}");
    let stale =
        expect(&tracestack(&["check", "-f", US_EAST, "--set", "collector.log_level=warn", "--out", out.arg()]), 1);
    assert!(stale.contains("otel-collector-configmap.yaml"), "{stale}");

    // The same merge as `--profile` plus `-f`: a file over a profile of the profiles directory.
    let said = expect(&tracestack(&["validate", "-f", US_EAST, "--set", "collector.log_level=debug"]), 0);
    assert!(said.contains("us-east: ") && said.contains("validated 1 profile(s)"), "{said}");
}

#[test]
fn explain_names_every_layer_that_sets_a_field() {
    let said = expect(&tracestack(&["render", "-f", US_EAST, "--explain", "environment"]), 0);
    assert_eq!(
        said,
        "environment: production-us\n  set by examples/layering/us-east.yaml:7:14\n  overrides examples/layering/bases/production.yaml:7:14\n"
    );
    let said =
        expect(&tracestack(&["render", "-f", US_EAST, "--set", "environment=canary", "--explain", "environment"]), 0);
    assert!(said.starts_with("environment: canary\n  set by --set environment=canary"), "{said}");
}

#[test]
fn bad_layers_exit_1_and_bad_arguments_exit_2_writing_nothing() {
    let out = TempDir::new("bad");
    let err = expect(&tracestack(&["render", "-f", US_EAST, "--set", "apps[0].name=x", "--out", out.arg()]), 1);
    assert_eq!(
        err,
        "error: --set apps[0].name=x: `apps` is not set, so it has no item [0]; set the whole list, e.g. `apps=[…]`\n1 profile(s) failed; nothing was written\n"
    );
    assert!(!out.0.exists(), "nothing was written");

    let err = expect(&tracestack(&["render", "--set", "collector.log_level=debug", "--out", out.arg()]), 2);
    assert!(err.contains("`--set` needs one profile"), "{err}");
    let err = expect(&tracestack(&["render", "--explain", "environment"]), 2);
    assert!(err.contains("`--explain` needs one profile"), "{err}");
    let err = expect(&tracestack(&["render", "-f", US_EAST, "--explain", "no_such_field"]), 2);
    assert!(err.contains("no_such_field"), "{err}");
    let err = expect(&tracestack(&["render", "-f", "examples/layering/missing.yaml", "--explain", "environment"]), 1);
    assert!(err.contains("missing.yaml"), "{err}");
    assert!(!out.0.exists(), "nothing was written");
}
