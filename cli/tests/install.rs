//! The `tracestack` command as a platform team gets it: installed with `cargo install --path cli`
//! into a root of its own, then run from a GitOps directory outside any tracestack checkout —
//! init → render → check → edit → diff → render — with a cleared environment, so nothing can come
//! from the checkout it was built in. The diff of a known change is asserted field by field.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("tracestack-cli-{}-{name}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path).expect("clear stale temp dir");
        }
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path.canonicalize().expect("temp dir resolves"))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn describe(output: &Output) -> String {
    format!(
        "status: {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Installs the command with `cargo install --path cli --root <root>`, sharing the workspace's
/// target directory (a debug build, so the test reuses what `cargo test` compiled).
fn install(root: &Path) -> PathBuf {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir").to_owned();
    let output = Command::new(env!("CARGO"))
        .args(["install", "--quiet", "--debug", "--locked", "--offline", "--path"])
        .arg(cli)
        .arg("--root")
        .arg(root)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("run cargo install");
    assert!(output.status.success(), "cargo install failed:\n{}", describe(&output));
    let binary = root.join("bin").join(format!("tracestack{}", std::env::consts::EXE_SUFFIX));
    assert!(binary.is_file(), "cargo install put no tracestack in {}", root.display());
    binary
}

/// Runs commands in one directory with a cleared environment: PATH holds the install root's
/// `bin` and the system's, so `tracestack` is found as a user finds it.
struct Shell {
    dir: PathBuf,
    path: String,
    home: PathBuf,
}

impl Shell {
    fn run(&self, program: &str, args: &[&str]) -> Output {
        Command::new(program)
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", &self.path)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"))
    }

    /// `tracestack <args>`, expecting exit status `code`; returns standard output.
    fn tracestack(&self, args: &[&str], code: i32) -> String {
        let output = self.run("tracestack", args);
        assert_eq!(output.status.code(), Some(code), "tracestack {}:\n{}", args.join(" "), describe(&output));
        String::from_utf8(output.stdout).expect("UTF-8 output")
    }

    fn git(&self, args: &[&str]) {
        let output = self.run("git", args);
        assert!(output.status.success(), "git {}:\n{}", args.join(" "), describe(&output));
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }
}

fn field<'a>(change: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    change["fields"]
        .as_array()
        .and_then(|fields| fields.iter().find(|f| f["path"] == path))
        .unwrap_or_else(|| panic!("no field {path} in {change:#}"))
}

fn change<'a>(diff: &'a serde_json::Value, kind: &str, name: &str) -> &'a serde_json::Value {
    diff["changes"]
        .as_array()
        .and_then(|changes| changes.iter().find(|c| c["kind"] == kind && c["name"] == name))
        .unwrap_or_else(|| panic!("no change of {kind} {name} in {diff:#}"))
}

#[test]
fn installed_command_runs_a_gitops_directory_from_init_to_diff() {
    let tmp = TempDir::new("install");
    let root = tmp.0.join("root");
    install(&root);
    let gitops = tmp.0.join("gitops");
    let home = tmp.0.join("home");
    std::fs::create_dir_all(&gitops).expect("create gitops dir");
    std::fs::create_dir_all(&home).expect("create home");
    let system = std::env::var("PATH").unwrap_or_default();
    let shell = Shell { dir: gitops.clone(), path: format!("{}:{system}", root.join("bin").display()), home };
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("checkout").to_owned();
    assert!(!gitops.starts_with(&checkout), "the GitOps directory must lie outside the checkout");

    // --version, and a usage error exits 2.
    assert_eq!(shell.tracestack(&["--version"], 0), format!("tracestack {VERSION}\n"));
    shell.tracestack(&["render", "--no-such-flag"], 2);
    // Before init there are no profiles: a usage error that says what to do.
    let output = shell.run("tracestack", &["render"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("run `tracestack init`"), "{}", describe(&output));

    // init: a starter with the schema modeline, and what to edit.
    let said = shell.tracestack(&["init", "--shape", "production-elasticsearch", "prod"], 0);
    assert!(said.starts_with("profiles/prod.yaml: written (production-elasticsearch starter)\n"), "{said}");
    assert!(said.contains("load.spans_per_second"), "{said}");
    let profile = shell.read("profiles/prod.yaml");
    assert!(profile.starts_with("# yaml-language-server: $schema=../generated/schema/profile.schema.json\n"));
    shell.tracestack(&["init", "--shape", "production-elasticsearch", "prod"], 2);
    shell.tracestack(&["init"], 0);
    assert!(shell.read("profiles/demo.yaml").contains("memory:"));

    // render, then check; the header names the version and the repository-relative profile.
    let said = shell.tracestack(&["render"], 0);
    assert!(said.starts_with("generated: "), "{said}");
    let hpa = shell.read("generated/prod/otel-collector-horizontalpodautoscaler.yaml");
    assert!(
        hpa.starts_with(&format!(
            "# Generated by tracestack {VERSION} from profiles/prod.yaml (profile `prod`). Do not edit by hand:\n\
             # change the profile and run `tracestack render`.\n"
        )),
        "{hpa}"
    );
    assert!(hpa.contains("maxReplicas: 3\n") && hpa.contains("minReplicas: 2\n"), "{hpa}");
    let schema = shell.read("generated/schema/profile.schema.json");
    assert_eq!(shell.tracestack(&["schema"], 0), schema);
    assert!(shell.tracestack(&["check"], 0).contains("files up to date"));
    shell.tracestack(&["validate"], 0);

    // The same profile by absolute path, from another working directory: the same bytes.
    let absolute = gitops.join("profiles/prod.yaml");
    let out = gitops.join("generated/prod");
    let said = shell
        .tracestack(&["-C", "/", "render", "--profile", absolute.to_str().unwrap(), "--out", out.to_str().unwrap()], 0);
    assert!(said.contains(" 0 written, "), "rendering from elsewhere changed files: {said}");
    assert!(!shell.read("generated/prod/otlp-service.yaml").contains(gitops.to_str().unwrap()));

    shell.git(&["init", "--quiet"]);
    shell.git(&["add", "."]);
    shell.git(&["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "tracing"]);

    // Edit: three times the load.
    std::fs::write(&absolute, profile.replace("spans_per_second: 20000", "spans_per_second: 60000"))
        .expect("edit the profile");
    let output = shell.run("tracestack", &["check"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stale = String::from_utf8_lossy(&output.stderr);
    assert!(stale.contains("stale:   generated/prod/otel-collector-horizontalpodautoscaler.yaml"), "{stale}");

    // The diff, field by field.
    let json: serde_json::Value =
        serde_json::from_str(&shell.tracestack(&["diff", "--format", "json"], 0)).expect("JSON diff");
    let hpa = change(&json, "HorizontalPodAutoscaler", "otel-collector");
    assert_eq!(hpa["status"], "changed");
    assert_eq!(hpa["profile"], "prod");
    assert_eq!(hpa["namespace"], "observability");
    assert_eq!(hpa["file"], "prod/otel-collector-horizontalpodautoscaler.yaml");
    assert_eq!(field(hpa, "spec.minReplicas")["old"], "2");
    assert_eq!(field(hpa, "spec.minReplicas")["new"], "4");
    assert_eq!(field(hpa, "spec.maxReplicas")["old"], "3");
    assert_eq!(field(hpa, "spec.maxReplicas")["new"], "8");
    let config = change(&json, "ConfigMap", "otel-collector");
    let embedded = field(config, "data[\"collector.yaml\"]")["diff"].as_str().expect("a line diff of the config");
    assert!(embedded.starts_with("@@ "), "{embedded}");
    assert!(embedded.lines().any(|l| l.starts_with('-') && l.contains("queue_size:")), "{embedded}");
    assert!(embedded.lines().any(|l| l.starts_with('+') && l.contains("queue_size:")), "{embedded}");
    let deployment = change(&json, "Deployment", "otel-collector");
    let hash = field(deployment, "spec.template.metadata.annotations[\"checksum/config\"]");
    assert_ne!(hash["old"], hash["new"]);
    let container = "spec.template.spec.containers[name=otel-collector]";
    let memory = field(deployment, &format!("{container}.resources.limits.memory"));
    assert!(memory["old"].is_string() && memory["new"].is_string() && memory["old"] != memory["new"]);
    // The demo did not change, and nothing was added or removed.
    assert!(json["changes"].as_array().unwrap().iter().all(|c| c["profile"] == "prod"), "{json:#}");
    assert_eq!((json["added"].as_u64(), json["removed"].as_u64()), (Some(0), Some(0)));
    let effects: Vec<&str> = json["effects"].as_array().unwrap().iter().filter_map(|e| e["text"].as_str()).collect();
    assert!(effects.contains(&"gateway otel-collector replicas 2–3 → 4–8"), "{effects:?}");
    assert!(
        effects.contains(&"gateway otel-collector: pods will roll: config hash and pod template changed"),
        "{effects:?}"
    );
    let per_pod = format!(
        "gateway otel-collector per pod: cpu {}/{} → {}/{}, memory {}/{} → {}/{} (request/limit)",
        field(deployment, &format!("{container}.resources.requests.cpu"))["old"].as_str().unwrap(),
        field(deployment, &format!("{container}.resources.limits.cpu"))["old"].as_str().unwrap(),
        field(deployment, &format!("{container}.resources.requests.cpu"))["new"].as_str().unwrap(),
        field(deployment, &format!("{container}.resources.limits.cpu"))["new"].as_str().unwrap(),
        field(deployment, &format!("{container}.resources.requests.memory"))["old"].as_str().unwrap(),
        memory["old"].as_str().unwrap(),
        field(deployment, &format!("{container}.resources.requests.memory"))["new"].as_str().unwrap(),
        memory["new"].as_str().unwrap(),
    );
    assert!(effects.contains(&per_pod.as_str()), "{per_pod} not in {effects:?}");

    let markdown = shell.tracestack(&["diff", "--format", "markdown"], 0);
    assert!(markdown.starts_with("### tracestack diff\n\n"), "{markdown}");
    assert!(markdown.contains("- prod: gateway `otel-collector` replicas 2–3 → 4–8\n"), "{markdown}");
    assert!(
        markdown.contains("| changed | `prod` | `HorizontalPodAutoscaler` | `observability` | `otel-collector` |"),
        "{markdown}"
    );
    assert!(markdown.contains("| `spec.minReplicas` | `2` | `4` |"), "{markdown}");
    assert!(markdown.contains("`data[\"collector.yaml\"]`:\n\n```diff\n@@ "), "{markdown}");
    // The README shows this very change's effects.
    let readme = std::fs::read_to_string(checkout.join("README.md")).expect("README.md");
    let shown = readme
        .split("```text\n**Effects**\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("README shows the effects of a diff");
    assert!(markdown.contains(&format!("**Effects**\n{shown}")), "README's effects differ from:\n{markdown}");
    // Against the committed revision, the same change set; --exit-code makes it a finding.
    assert_eq!(shell.tracestack(&["diff", "--against", "HEAD", "--format", "markdown"], 0), markdown);
    shell.tracestack(&["diff", "--exit-code"], 1);
    shell.tracestack(&["diff", "--against", "no-such-revision"], 2);

    // Render the change: the directory is current again, the commit is now behind it.
    assert!(shell.tracestack(&["render"], 0).contains(" written, "));
    shell.tracestack(&["check"], 0);
    assert_eq!(shell.tracestack(&["diff", "--exit-code"], 0), "no object changes\n");
    let against_head = shell.tracestack(&["diff", "--against", "HEAD", "--exit-code"], 1);
    assert!(against_head.contains("spec.maxReplicas: 3 → 8"), "{against_head}");
    assert!(shell.read("generated/prod/otel-collector-horizontalpodautoscaler.yaml").contains("maxReplicas: 8\n"));
}
