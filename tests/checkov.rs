//! checkov (the PyPI package) finds no failed check in any rendered profile, with the skips and
//! their reasons in `.checkov.yaml`. `.ci/run` installs it; elsewhere the test skips visibly unless
//! `TRACESTACK_REQUIRE_TOOLS=1`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn checkov() -> Option<PathBuf> {
    let candidates = [std::env::var_os("CHECKOV").map(PathBuf::from), Some(PathBuf::from(".ci/.venv/bin/checkov"))];
    for candidate in candidates.into_iter().flatten() {
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    Command::new("checkov").arg("--version").output().ok().filter(|o| o.status.success()).map(|_| "checkov".into())
}

#[test]
fn checkov_finds_no_failed_check_in_any_profile() {
    let Some(checkov) = checkov() else {
        assert!(
            std::env::var("TRACESTACK_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "checkov is required (TRACESTACK_REQUIRE_TOOLS=1) but not installed"
        );
        eprintln!("SKIPPED: checkov not found (set CHECKOV or run .ci/run); checkov not run");
        return;
    };
    let mut profiles: Vec<PathBuf> = std::fs::read_dir("generated")
        .expect("generated/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("kustomization.yaml").is_file())
        .collect();
    profiles.sort();
    assert!(profiles.len() >= 2, "expected rendered profiles under generated/");
    for dir in profiles {
        let out = Command::new(&checkov)
            .args(["--config-file", ".checkov.yaml", "-d"])
            .arg(&dir)
            .args(["-o", "json"])
            .output()
            .expect("checkov runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "checkov output for {} is not JSON ({e}):\n{stdout}\n{}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let summary = &report["summary"];
        let failed = summary["failed"].as_u64().unwrap_or(u64::MAX);
        let passed = summary["passed"].as_u64().unwrap_or(0);
        let failures: Vec<String> = report["results"]["failed_checks"]
            .as_array()
            .map(|checks| {
                checks.iter().map(|c| format!("{} {} ({})", c["check_id"], c["resource"], c["check_name"])).collect()
            })
            .unwrap_or_default();
        assert_eq!(failed, 0, "{}: checkov failed checks:\n{}", Path::new(&dir).display(), failures.join("\n"));
        // An operator output renders no Deployments (the operator makes them), so fewer checks
        // apply there: about 100 against about 200 for a plain profile.
        assert!(passed > 60, "{}: only {passed} checks passed; is checkov reading the files?", dir.display());
        eprintln!("checkov {}: {passed} passed, 0 failed", dir.display());
    }
}
