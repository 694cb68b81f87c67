//! Suite `apiserver`: every built-in profile against a real `kube-apiserver` (with etcd, and
//! `kube-controller-manager` running the namespace, garbage-collector and PVC-protection controllers; no kubelet,
//! no scheduler). The CRDs of `../shared/crds` are installed first. For each profile the
//! runbook's own commands run, as written:
//!
//! - "Before you apply" (the Secrets) and "Apply": the server-side dry run and the apply of the
//!   root bundle as an ApplySet, with `--warnings-as-errors`, so a Pod Security warning of the
//!   namespace's `restricted` level fails the suite; then the smoke test, the Istio Telemetry and
//!   the Instrumentations, each its own ApplySet.
//! - What the server holds is exactly what was rendered (kind, namespace, name, per ApplySet); a
//!   second apply writes nothing (no `generation` grows, no `tracestack` field-manager entry is
//!   touched) and `kubectl diff` is empty.
//! - Every command of every runbook that reads state (`get`, `describe`, `auth can-i`) succeeds.
//! - "Uninstall": the namespace and every cluster-scoped object of the ApplySet are gone.
//!
//! And per profile: `demo` is first installed as the last release rendered it and at older
//! collector and Jaeger versions, then upgraded; `prod-elasticsearch` turns monitoring and an
//! autoscaler off and prunes; `istio-demo`'s app and injection Components, included in a user
//! kustomization over sample Namespaces and Deployments, patch exactly what they render. Last, the
//! `demo` gateway runs for real with `k8s_attributes` reading this server as its own
//! ServiceAccount, and the spans of a registered pod carry its namespace, pod, Deployment and
//! node; with one RBAC rule removed they do not.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::build::{self, ControlPlane};
use super::cluster::{self, Cluster, KubeApi, Objects};
use super::{Context, Report, built_jaeger, flow, images, profiles, render_variant};

/// The API server's port on the pods' bridge.
const API_PORT: u16 = 6443;
/// etcd's client and peer ports, on loopback.
const ETCD_PORTS: (u16, u16) = (23790, 23800);
/// The last output CI accepted before bundles became ApplySets (tracestack's previous output
/// format): the `demo` upgrade starts from it.
const PREVIOUS_RELEASE: &str = "bfb0ef3";
/// The collector and Jaeger versions pinned before the current ones.
const PREVIOUS_VERSIONS: [(&str, &str); 2] = [("collector.version", "0.158.0"), ("jaeger.version", "2.19.0")];
/// Runbook commands that need a kubelet, a scheduler or a local port: not run here.
const NEEDS_NODES: [&str; 6] = ["rollout", "logs", "port-forward", "wait", "exec", "top"];

pub fn run(context: &Context, report: &mut Report) -> Result<(), String> {
    for program in ["kubectl", "openssl", "git", "tar"] {
        if build::which(program).is_err() {
            report.skip("apiserver", format!("`{program}` is not installed"));
            return Ok(());
        }
    }
    let plane = build::control_plane()?;
    let work = context.work.join("apiserver");
    let _ = fs::remove_dir_all(&work);
    // The gateway of the RBAC check runs in the simulated cluster, whose bridge is where the API
    // server listens: the cluster (and its bridge) first.
    let (demo, rendered) = render_variant(&context.root, "demo", &[built_jaeger()])?;
    let mut cluster = Cluster::new(&work.join("pods"), images(context, &demo), Objects::from_files(&rendered.files)?)?;
    let started = Instant::now();
    let server = Server::start(&plane, &work.join("server"))?;
    report.pass(format!(
        "kube-apiserver {} (etcd {}) ready in {:.1} s, default admission plugins (PodSecurity included)",
        server.version,
        build::ETCD_VERSION,
        started.elapsed().as_secs_f64()
    ));
    report.check("the CRDs of ../shared/crds are installed and established", install_crds(&context.root, &server));

    let mut totals = Totals::default();
    for name in profiles(&context.root)? {
        println!("  -- {name}");
        if let Err(e) = profile(context, &server, &name, report, &mut totals) {
            report.fail(format!("{name}: apiserver checks"), e);
        }
    }
    println!(
        "  totals: {} objects applied, 0 warnings allowed, {} upgrades, {} pruned, {} runbook commands run ({} left to a kubelet)",
        totals.applied, totals.upgrades, totals.pruned, totals.commands, totals.not_run
    );
    if let Err(e) = rbac(context, &server, &mut cluster, report) {
        report.fail("k8s_attributes against the API server", e);
    }
    Ok(())
}

#[derive(Default)]
struct Totals {
    applied: usize,
    upgrades: usize,
    pruned: usize,
    commands: usize,
    not_run: usize,
}

/// Everything one profile goes through; `Err` stops that profile.
fn profile(
    context: &Context,
    server: &Server,
    name: &str,
    report: &mut Report,
    totals: &mut Totals,
) -> Result<(), String> {
    let (_, rendered) = render_variant(&context.root, name, &[])?;
    let dir = server.dir.join("bundles").join(name);
    write_files(&dir, &rendered.files)?;
    let readme = &rendered.files["README.md"];
    let sets = applysets(&rendered.files)?;
    let namespace = sets.iter().find(|s| s.dir.is_empty()).map(|s| s.namespace.clone()).ok_or("no root bundle")?;

    if name == "demo" {
        upgrade(context, server, name, report, totals)?;
    }
    // Namespaces the stack does not own, which the Telemetry and Instrumentations go into.
    for foreign in sets.iter().map(|s| &s.namespace).filter(|n| **n != namespace).collect::<BTreeSet<_>>() {
        server.kubectl_stdin(
            &["apply", "--server-side", "--field-manager=cluster-admin", "-f", "-"],
            &namespace_json(foreign),
        )?;
    }

    let secrets = section(readme, "## Before you apply");
    let apply = section(readme, "## Apply");
    let mut lines: Vec<String> = secrets.iter().chain(&apply).filter(|l| !verb_in(l, &NEEDS_NODES)).cloned().collect();
    lines.dedup();
    report.check(format!("{name}: the runbook's Before-you-apply and Apply commands succeed with no warnings"), {
        run_lines(server, &dir, &lines, totals)
    });
    // The other bundles, by the commands of the READMEs that document them.
    let smoke = section(readme, "## Smoke test").into_iter().take(1).collect::<Vec<_>>();
    let mut others = smoke.clone();
    if let Some(istio) = rendered.files.get("istio/README.md") {
        others
            .extend(all_commands(istio).into_iter().filter(|l| l.contains("--applyset=")).map(|l| in_dir("istio", &l)));
    }
    if let Some(apps) = rendered.files.get("apps/README.md") {
        others.extend(all_commands(apps).into_iter().filter(|l| l.contains("--applyset=")).map(|l| in_dir("apps", &l)));
    }
    report.check(format!("{name}: the smoke test, Telemetry and Instrumentation bundles apply with no warnings"), {
        run_lines(server, &dir, &others, totals)
    });
    for set in &sets {
        report.check(
            format!(
                "{name}: ApplySet {}/{} holds exactly the {} rendered objects",
                set.namespace,
                set.name,
                set.objects.len()
            ),
            server.members(set).and_then(|live| same_objects(&set.objects, &live.keys().cloned().collect())),
        );
        totals.applied += set.objects.len();
    }
    let before = sets.iter().map(|s| server.members(s)).collect::<Result<Vec<_>, _>>()?;
    let again: Vec<String> = apply
        .iter()
        .chain(&others)
        .filter(|l| l.contains("--applyset=") && !l.contains("--dry-run"))
        .cloned()
        .collect();
    report.check(
        format!("{name}: a second apply writes nothing (generations and the tracestack field manager's entries stay)"),
        {
            run_lines(server, &dir, &again, &mut Totals::default()).and_then(|()| {
                let after = sets.iter().map(|s| server.members(s)).collect::<Result<Vec<_>, _>>()?;
                let changed: Vec<String> = before
                    .iter()
                    .zip(&after)
                    .flat_map(|(b, a)| {
                        b.iter()
                            .filter(|(k, v)| a.get(*k) != Some(*v))
                            .map(|(k, v)| format!("{k}: {v} → {:?}", a.get(k)))
                    })
                    .collect();
                if changed.is_empty() { Ok(()) } else { Err(format!("changed: {}", changed.join(", "))) }
            })
        },
    );
    let review = section(readme, "## Review a change");
    let diff = review.iter().find(|l| l.contains("kubectl diff")).ok_or("the runbook has no `kubectl diff` command")?;
    report.check(format!("{name}: `{diff}` is empty after the apply"), {
        let out = server.sh(diff, &dir, Duration::from_secs(120))?;
        if out.code == Some(0) && out.stdout.trim().is_empty() {
            Ok(())
        } else {
            Err(format!("exit {:?}:\n{}{}", out.code, tail(&out.stdout, 40), tail(&out.stderr, 10)))
        }
    });

    // Every command that reads state, in every README of the profile.
    let mut read = Vec::new();
    for (path, text) in rendered.files.iter().filter(|(p, _)| p.ends_with("README.md")) {
        for line in all_commands(text) {
            if line.contains("YOUR_") || line.contains('<') {
                continue;
            }
            if verb_in(&line, &NEEDS_NODES) {
                totals.not_run += 1;
            } else if verb_in(&line, &["get", "describe", "auth"]) {
                read.push(in_dir(path.trim_end_matches("README.md").trim_end_matches('/'), &line));
            }
        }
    }
    read.sort();
    read.dedup();
    report.check(format!("{name}: the runbooks' {} commands that read state succeed", read.len()), {
        run_lines(server, &dir, &read, totals)
    });

    if name == "prod-elasticsearch" {
        prune(context, server, name, &sets[0], report, totals)?;
    }
    if name == "istio-demo" {
        components(server, &dir, &rendered.files, report)?;
    }

    let uninstall = section(readme, "## Uninstall");
    report.check(format!("{name}: the runbook's Uninstall commands remove the stack"), {
        run_lines(server, &dir, &uninstall, totals).and_then(|()| {
            let out = server.kubectl(&["get", "namespace", &namespace, "--ignore-not-found", "-o", "name"])?;
            if !out.trim().is_empty() {
                return Err(format!("namespace {namespace} is still there"));
            }
            let root = &sets[0];
            let left = server.kubectl(&[
                "get",
                "clusterroles,clusterrolebindings",
                "-l",
                &format!("{}={}", tracestack::config::k8s::APPLYSET_PART_OF, root.id),
                "-o",
                "name",
            ])?;
            if left.trim().is_empty() { Ok(()) } else { Err(format!("left behind: {}", left.trim())) }
        })
    });
    // The Telemetry and Instrumentations live in namespaces the stack does not own.
    for set in sets.iter().filter(|s| s.namespace != namespace) {
        server.kubectl(&["delete", "-k", &dir.join(&set.dir).display().to_string(), "--ignore-not-found"])?;
    }
    Ok(())
}

/// `demo` as the previous release rendered it (its own runbook's commands), then at the previous
/// collector and Jaeger versions, then as rendered now: every step applies (no immutable field
/// changed) and the server ends with exactly the current objects.
fn upgrade(
    context: &Context,
    server: &Server,
    name: &str,
    report: &mut Report,
    totals: &mut Totals,
) -> Result<(), String> {
    let old = server.dir.join("bundles").join(format!("{name}-{PREVIOUS_RELEASE}"));
    fs::create_dir_all(&old).map_err(|e| e.to_string())?;
    let archive = Command::new("git")
        .args(["archive", "--format=tar", PREVIOUS_RELEASE, &format!("generated/{name}")])
        .current_dir(&context.root)
        .output()
        .map_err(|e| format!("git archive: {e}"))?;
    if !archive.status.success() {
        return Err(format!("git archive {PREVIOUS_RELEASE}: {}", String::from_utf8_lossy(&archive.stderr)));
    }
    let mut tar = Command::new("tar")
        .args(["-x", "--strip-components=2", "-C"])
        .arg(&old)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("tar: {e}"))?;
    tar.stdin.take().ok_or("tar stdin")?.write_all(&archive.stdout).map_err(|e| e.to_string())?;
    tar.wait().map_err(|e| e.to_string())?;
    let old_readme = fs::read_to_string(old.join("README.md")).map_err(|e| e.to_string())?;
    let lines: Vec<String> =
        section(&old_readme, "## Apply").into_iter().filter(|l| !verb_in(l, &NEEDS_NODES)).collect();
    report.check(format!("{name}: the output of {PREVIOUS_RELEASE} applies with its own runbook's commands"), {
        run_lines(server, &old, &lines, totals)
    });

    let versions: Vec<(&str, serde_json::Value)> =
        PREVIOUS_VERSIONS.iter().map(|(k, v)| (*k, serde_json::Value::String((*v).into()))).collect();
    let (_, previous) = render_variant(&context.root, name, &versions)?;
    let (_, current) = render_variant(&context.root, name, &[])?;
    // First the current render at the same versions: kubectl moves the fields the client-side
    // apply owned to the field manager `tracestack` (UPGRADING.md); then a version step down and
    // back up, each a server-side apply.
    for (step, files) in [
        ("current render at the same versions (once with --force-conflicts, as UPGRADING.md says)", &current.files),
        ("previous versions", &previous.files),
        ("current versions", &current.files),
    ] {
        let dir = server.dir.join("bundles").join(format!("{name}-upgrade-{}", step.replace(' ', "-")));
        write_files(&dir, files)?;
        let force = step.contains("--force-conflicts");
        let apply: Vec<String> = section(&files["README.md"], "## Apply")
            .into_iter()
            .filter(|l| !verb_in(l, &NEEDS_NODES))
            .map(|l| {
                if force && l.contains("--applyset=") {
                    l.replacen("--server-side", "--server-side --force-conflicts", 1)
                } else {
                    l
                }
            })
            .collect();
        let root = applysets(files)?.remove(0);
        report.check(format!("{name}: upgrade to the {step} applies and the server holds exactly its objects"), {
            run_lines(server, &dir, &apply, totals)
                .and_then(|()| server.members(&root))
                .and_then(|live| same_objects(&root.objects, &live.keys().cloned().collect()))
        });
        totals.upgrades += 1;
    }
    Ok(())
}

/// Monitoring and the query autoscaler off: the apply prunes exactly the objects the render
/// dropped, and the Secrets created by hand in the namespace stay.
fn prune(
    context: &Context,
    server: &Server,
    name: &str,
    before: &ApplySetBundle,
    report: &mut Report,
    totals: &mut Totals,
) -> Result<(), String> {
    let changes = [
        ("monitoring.enabled", serde_json::Value::Bool(false)),
        ("jaeger.query.autoscaling", serde_json::json!({"min_replicas": 2, "max_replicas": 2})),
    ];
    let (_, rendered) = render_variant(&context.root, name, &changes)?;
    let dir = server.dir.join("bundles").join(format!("{name}-pruned"));
    write_files(&dir, &rendered.files)?;
    let after = applysets(&rendered.files)?.remove(0);
    let gone: BTreeSet<Key> = before.objects.difference(&after.objects).cloned().collect();
    let secrets_before = server.kubectl(&["-n", &before.namespace, "get", "secrets", "-o", "name"])?;
    let apply: Vec<String> =
        section(&rendered.files["README.md"], "## Apply").into_iter().filter(|l| !verb_in(l, &NEEDS_NODES)).collect();
    report.check(
        format!(
            "{name}: monitoring and the query HPA off, the apply prunes exactly {} objects ({}) and keeps the hand-made Secrets",
            gone.len(),
            gone.iter().map(|k| k.kind.as_str()).collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>().join(", ")
        ),
        run_lines(server, &dir, &apply, totals).and_then(|()| {
            if gone.is_empty() {
                return Err("the variant drops no object".into());
            }
            let live: BTreeSet<Key> = server.members(&after)?.keys().cloned().collect();
            same_objects(&after.objects, &live)?;
            for key in &gone {
                if server.exists(key)? {
                    return Err(format!("{key} is still in the server"));
                }
            }
            let secrets_after = server.kubectl(&["-n", &before.namespace, "get", "secrets", "-o", "name"])?;
            if secrets_after != secrets_before {
                return Err(format!("Secrets before:\n{secrets_before}after:\n{secrets_after}"));
            }
            Ok(())
        }),
    );
    totals.pruned += gone.len();
    Ok(())
}

/// The app and injection Components in a user kustomization over sample Namespaces and
/// Deployments already in the server: the apply leaves every object as `kubectl kustomize` built
/// it (the patched fields, and the user's own).
fn components(
    server: &Server,
    dir: &Path,
    files: &BTreeMap<String, String>,
    report: &mut Report,
) -> Result<(), String> {
    let mut namespaces = BTreeSet::new();
    let mut deployments: Vec<serde_json::Value> = Vec::new();
    let mut component_dirs: BTreeSet<String> = BTreeSet::new();
    for (path, text) in files {
        let Some(rest) = path.strip_prefix("apps/").or_else(|| path.strip_prefix("istio/injection/")) else { continue };
        if !rest.ends_with("-patch.yaml") {
            continue;
        }
        component_dirs.insert(path.rsplit_once('/').map_or("", |(d, _)| d).to_string());
        let patch: serde_json::Value = serde_saphyr::from_str(text).map_err(|e| format!("{path}: {e}"))?;
        let meta = &patch["metadata"];
        match patch["kind"].as_str() {
            Some("Namespace") => {
                namespaces.insert(meta["name"].as_str().unwrap_or_default().to_string());
            }
            Some("Deployment") => {
                let (ns, name) =
                    (meta["namespace"].as_str().unwrap_or_default(), meta["name"].as_str().unwrap_or_default());
                namespaces.insert(ns.to_string());
                let containers: Vec<serde_json::Value> = patch["spec"]["template"]["spec"]["containers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(
                        |c| serde_json::json!({"name": c["name"], "image": format!("registry.example.com/{name}:1.0")}),
                    )
                    .collect();
                deployments.push(serde_json::json!({
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": name, "namespace": ns, "labels": {"team": "sample"}},
                    "spec": {
                        "replicas": 2,
                        "selector": {"matchLabels": {"app": name}},
                        "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": containers}}
                    }
                }));
            }
            _ => {}
        }
    }
    let mut docs: Vec<serde_json::Value> = namespaces
        .iter()
        .map(|n| serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n, "labels": {"team": "sample"}}}))
        .collect();
    docs.extend(deployments);
    let user = server.dir.join("user-kustomization");
    fs::create_dir_all(&user).map_err(|e| e.to_string())?;
    let sample: String = docs.iter().map(|d| format!("---\n{d}\n")).collect();
    fs::write(user.join("sample.yaml"), &sample).map_err(|e| e.to_string())?;
    // kustomize wants components as paths relative to the kustomization.
    let bundle = dir.strip_prefix(&server.dir).map_err(|e| e.to_string())?;
    let components: Vec<String> = component_dirs.iter().map(|d| format!("../{}/{d}", bundle.display())).collect();
    let kustomization = serde_json::json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "resources": ["sample.yaml"], "components": components,
    });
    fs::write(user.join("kustomization.yaml"), kustomization.to_string()).map_err(|e| e.to_string())?;
    let user_dir = user.display().to_string();
    server.kubectl(&[
        "apply",
        "--server-side",
        "--field-manager=app-team",
        "-f",
        &user.join("sample.yaml").display().to_string(),
    ])?;
    report.check(
        format!(
            "istio-demo: {} Components in a user kustomization over {} sample objects apply with no warnings, and the server holds every object exactly as built",
            component_dirs.len(),
            docs.len()
        ),
        server
            .kubectl(&["--warnings-as-errors", "apply", "--server-side", "--field-manager=app-team", "-k", &user_dir])
            .and_then(|_| {
                let built = server.kubectl(&["kustomize", &user_dir])?;
                let mut problems = Vec::new();
                let mut patched = 0;
                for doc in built.split("\n---\n") {
                    let want: serde_json::Value = serde_saphyr::from_str(doc).map_err(|e| e.to_string())?;
                    let key = Key::of(&want);
                    let live = server.get(&key)?;
                    if let Err(e) = contains(&live, &want, &key.to_string()) {
                        problems.push(e);
                    }
                    patched += 1;
                }
                if patched != docs.len() {
                    problems.push(format!("kustomize built {patched} objects, not {}", docs.len()));
                }
                if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
            }),
    );
    for n in &namespaces {
        let _ = server.kubectl(&["delete", "namespace", n, "--wait=false"]);
    }
    Ok(())
}

/// The demo gateway with `k8s_attributes`, as its ServiceAccount, against this server: spans from
/// a registered pod's IP carry its namespace, pod, Deployment and node, and the `service.name`
/// derived from the Deployment; with the ReplicaSet rule taken out of its ClusterRole they lose
/// the Deployment.
fn rbac(context: &Context, server: &Server, cluster: &mut Cluster, report: &mut Report) -> Result<(), String> {
    let (_, rendered) = render_variant(&context.root, "demo", &[built_jaeger()])?;
    let dir = server.dir.join("bundles").join("demo-rbac");
    write_files(&dir, &rendered.files)?;
    let readme = &rendered.files["README.md"];
    let apply: Vec<String> = section(readme, "## Apply").into_iter().filter(|l| !verb_in(l, &NEEDS_NODES)).collect();
    run_lines(server, &dir, &apply, &mut Totals::default())?;
    let set = applysets(&rendered.files)?.remove(0);
    let gateway = cluster.objects().deployment("otel-collector")?.clone();
    let pod_spec = gateway.spec.as_ref().and_then(|s| s.template.spec.as_ref()).ok_or("gateway without pod spec")?;
    let account = pod_spec.service_account_name.clone().unwrap_or_else(|| "default".into());
    let token = server.kubectl(&["-n", &set.namespace, "create", "token", &account, "--duration=2h"])?;
    let ca = fs::read(server.dir.join("ca.crt")).map_err(|e| e.to_string())?;
    cluster.api = Some(KubeApi {
        host: cluster::BRIDGE_IP,
        port: API_PORT,
        ca,
        tokens: BTreeMap::from([((set.namespace.clone(), account.clone()), token.trim().to_string())]),
    });

    // The sending pod: a Deployment → ReplicaSet → Pod chain with the pod's IP in its status.
    let apps_ns = "e2e-apps";
    let sender = cluster.client_pod("checkout-7d4b9c6f8-x2x7q", apps_ns)?;
    let ip = cluster.pods[sender].ip;
    register_pod(server, apps_ns, "checkout", "7d4b9c6f8", "x2x7q", "e2e-node-1", ip)?;
    flow::start_stack(cluster, report)?;
    let query = flow::query_addr(cluster)?;

    let expected = [
        ("k8s.namespace.name", apps_ns),
        ("k8s.pod.name", "checkout-7d4b9c6f8-x2x7q"),
        ("k8s.deployment.name", "checkout"),
        ("k8s.node.name", "e2e-node-1"),
        ("service.name", "checkout"),
    ];
    let tags = send_and_read(cluster, sender, query);
    report.check(
        format!("k8s_attributes as ServiceAccount {}/{account} with the rendered ClusterRole: the spans of pod {apps_ns}/checkout-7d4b9c6f8-x2x7q ({ip}) carry its namespace, pod, Deployment, node and service.name checkout", set.namespace),
        missing(&tags, &expected),
    );

    // Each rule of the rendered ClusterRole taken out in turn: the spans must lose something, or
    // the rule grants more than the gateway needs.
    let role = set.objects.iter().find(|k| k.kind == "ClusterRole").ok_or("no ClusterRole rendered")?;
    let rules = server.get(role)?["rules"].clone();
    let gateway_pod = cluster.pods.iter().position(|p| p.name.starts_with("otel-collector")).ok_or("no gateway pod")?;
    for (index, rule) in rules.as_array().into_iter().flatten().enumerate() {
        let what = format!("{}", rule["resources"]);
        server.kubectl(&[
            "patch",
            "clusterrole",
            &role.name,
            "--type=json",
            "-p",
            &format!(r#"[{{"op":"remove","path":"/rules/{index}"}}]"#),
        ])?;
        cluster.stop(gateway_pod);
        cluster.restart(gateway_pod, Duration::from_secs(90))?;
        let result = send_and_read(cluster, sender, query);
        server.kubectl(&[
            "patch",
            "clusterrole",
            &role.name,
            "--type=merge",
            "-p",
            &serde_json::json!({ "rules": rules }).to_string(),
        ])?;
        report.check(
            format!("without the ClusterRole's rule on {what} the spans lose attributes (the check above can fail; the rule is needed)"),
            match result {
                Ok(tags) => match missing(&Ok(tags.clone()), &expected) {
                    Err(lost) => {
                        println!("  without {what}: {lost}");
                        Ok(())
                    }
                    Ok(()) => Err(format!("every attribute is still there without it: {tags:?}")),
                },
                Err(e) => Err(e),
            },
        );
    }
    // The runbook's apply converges again (the rules are back at the rendered values, so the
    // patches' field manager does not conflict with it).
    report.check(
        "the runbook's apply converges after the RBAC experiments",
        run_lines(server, &dir, &apply, &mut Totals::default()),
    );
    let _ = server.kubectl(&["delete", "namespace", apps_ns, "--wait=false"]);
    Ok(())
}

/// Creates Deployment `name`, its ReplicaSet `name-hash` and Pod `name-hash-suffix` on `node`,
/// each owned by the one before, and sets the pod's IP and phase in its status.
fn register_pod(
    server: &Server,
    ns: &str,
    name: &str,
    hash: &str,
    suffix: &str,
    node: &str,
    ip: Ipv4Addr,
) -> Result<(), String> {
    server.kubectl_stdin(&["apply", "--server-side", "--field-manager=e2e", "-f", "-"], &namespace_json(ns))?;
    let _ = server.kubectl(&["-n", ns, "create", "serviceaccount", "default"]);
    let labels = serde_json::json!({"app": name, "pod-template-hash": hash});
    let image = format!("registry.example.com/{name}:1.0");
    let containers = serde_json::json!([{"name": name, "image": image}]);
    let deployment = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": containers}}}
    });
    let uid = |kind: &str, n: &str| -> Result<String, String> {
        Ok(server.kubectl(&["-n", ns, "get", kind, n, "-o", "jsonpath={.metadata.uid}"])?.trim().to_string())
    };
    server.kubectl_stdin(&["create", "-f", "-"], &deployment.to_string())?;
    let rs_name = format!("{name}-{hash}");
    let owner = |kind: &str, n: &str, uid: String| serde_json::json!([{"apiVersion": "apps/v1", "kind": kind, "name": n, "uid": uid, "controller": true, "blockOwnerDeletion": true}]);
    let replicaset = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": rs_name, "namespace": ns, "labels": labels, "ownerReferences": owner("Deployment", name, uid("deployment", name)?)},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}}}
    });
    server.kubectl_stdin(&["create", "-f", "-"], &replicaset.to_string())?;
    let pod_name = format!("{rs_name}-{suffix}");
    let pod = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod_name, "namespace": ns, "labels": labels, "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name, "uid": uid("replicaset", &rs_name)?, "controller": true}]},
        "spec": {"nodeName": node, "containers": containers}
    });
    server.kubectl_stdin(&["create", "-f", "-"], &pod.to_string())?;
    let status = serde_json::json!({"status": {"phase": "Running", "podIP": ip.to_string(), "podIPs": [{"ip": ip.to_string()}], "hostIP": cluster::BRIDGE_IP.to_string()}});
    server.kubectl(&[
        "-n",
        ns,
        "patch",
        "pod",
        &pod_name,
        "--subresource=status",
        "--type=merge",
        "-p",
        &status.to_string(),
    ])?;
    Ok(())
}

/// Sends one trace from inside the sender's network namespace (so the gateway sees its IP), with
/// no `service.name`, until Jaeger holds it; returns its process tags and `service.name`.
fn send_and_read(
    cluster: &Cluster,
    sender: usize,
    query: std::net::SocketAddr,
) -> Result<BTreeMap<String, String>, String> {
    let curl = build::which("curl")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    while Instant::now() < deadline {
        let trace_id = super::otlp::trace_id();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let body = serde_json::json!({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "tracestack-e2e"}, "spans": [{
            "traceId": trace_id, "spanId": &trace_id[..16], "name": "checkout", "kind": 2,
            "startTimeUnixNano": (now - 1_000_000).to_string(), "endTimeUnixNano": now.to_string()}]}]}]});
        let log = cluster.pods[sender].log("curl");
        let args: Vec<String> = [
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &body.to_string(),
            "http://otlp.observability.svc.cluster.local:4318/v1/traces",
        ]
        .iter()
        .map(|s| (*s).to_string())
        .collect();
        let mut child = cluster.exec_in(sender, &curl, &args, &log)?;
        let _ = child.wait();
        std::thread::sleep(Duration::from_secs(3));
        let response = super::http::get(query, &format!("/api/traces/{trace_id}"), Duration::from_secs(5));
        match response {
            Ok(r) if r.status == 200 => {
                let value: serde_json::Value = serde_json::from_str(&r.body).map_err(|e| e.to_string())?;
                let mut tags = BTreeMap::new();
                for process in value["data"][0]["processes"].as_object().into_iter().flat_map(|m| m.values()) {
                    tags.insert(
                        "service.name".to_string(),
                        process["serviceName"].as_str().unwrap_or_default().to_string(),
                    );
                    for tag in process["tags"].as_array().into_iter().flatten() {
                        tags.insert(
                            tag["key"].as_str().unwrap_or_default().to_string(),
                            tag["value"].to_string().trim_matches('"').to_string(),
                        );
                    }
                }
                return Ok(tags);
            }
            Ok(r) => last = format!("GET /api/traces/{trace_id}: HTTP {}", r.status),
            Err(e) => last = e,
        }
    }
    Err(format!(
        "the trace never reached Jaeger within 60 s ({last}); curl: {}",
        fs::read_to_string(cluster.pods[sender].log("curl")).unwrap_or_default()
    ))
}

fn missing(tags: &Result<BTreeMap<String, String>, String>, expected: &[(&str, &str)]) -> Result<(), String> {
    let tags = tags.as_ref().map_err(Clone::clone)?;
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(k, v)| tags.get(*k).map(String::as_str) != Some(*v))
        .map(|(k, v)| format!("{k}: want {v}, got {:?}", tags.get(*k)))
        .collect();
    if wrong.is_empty() { Ok(()) } else { Err(wrong.join("; ")) }
}

/// kind / namespace / name of an object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    kind: String,
    namespace: String,
    name: String,
}

impl Key {
    fn of(object: &serde_json::Value) -> Self {
        Self {
            kind: object["kind"].as_str().unwrap_or_default().to_string(),
            namespace: object["metadata"]["namespace"].as_str().unwrap_or_default().to_string(),
            name: object["metadata"]["name"].as_str().unwrap_or_default().to_string(),
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// One rendered bundle applied as an ApplySet.
struct ApplySetBundle {
    dir: String,
    name: String,
    namespace: String,
    id: String,
    objects: BTreeSet<Key>,
}

/// The bundles a render's runbooks apply as ApplySets (`--applyset=NAME -n NS -k DIR`), root
/// first, each with the objects of its directory.
fn applysets(files: &BTreeMap<String, String>) -> Result<Vec<ApplySetBundle>, String> {
    let mut sets: BTreeMap<String, ApplySetBundle> = BTreeMap::new();
    for (readme, text) in files.iter().filter(|(p, _)| p.ends_with("README.md")) {
        let base = readme.trim_end_matches("README.md").trim_end_matches('/');
        for line in all_commands(text) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let value = |flag: &str| words.iter().position(|w| *w == flag).and_then(|i| words.get(i + 1)).copied();
            let Some(name) = words.iter().find_map(|w| w.strip_prefix("--applyset=")) else { continue };
            let (Some(namespace), Some(dir)) = (value("-n"), value("-k")) else {
                return Err(format!("{readme}: `{line}` applies an ApplySet without -n and -k"));
            };
            let dir = normalize(base, dir);
            let mut objects = BTreeSet::new();
            for (path, text) in files {
                let (parent, file) = path.rsplit_once('/').unwrap_or(("", path));
                if parent != dir || !file.ends_with(".yaml") || file == "kustomization.yaml" {
                    continue;
                }
                let object: serde_json::Value = serde_saphyr::from_str(text).map_err(|e| format!("{path}: {e}"))?;
                objects.insert(Key::of(&object));
            }
            if objects.is_empty() {
                return Err(format!("{readme}: `{line}` applies `{dir}`, which holds no rendered object"));
            }
            let id = tracestack::config::k8s::applyset_id(name, namespace);
            sets.insert(
                dir.clone(),
                ApplySetBundle { dir, name: name.to_string(), namespace: namespace.to_string(), id, objects },
            );
        }
    }
    if !sets.contains_key("") {
        return Err("no runbook command applies the profile directory as an ApplySet".into());
    }
    let mut sets: Vec<ApplySetBundle> = sets.into_values().collect();
    sets.sort_by_key(|s| !s.dir.is_empty());
    Ok(sets)
}

/// `dir` (as a command in the README of `base` names it) relative to the profile directory.
fn normalize(base: &str, dir: &str) -> String {
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in dir.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn same_objects(want: &BTreeSet<Key>, live: &BTreeSet<Key>) -> Result<(), String> {
    let missing: Vec<String> = want.difference(live).map(ToString::to_string).collect();
    let extra: Vec<String> = live.difference(want).map(ToString::to_string).collect();
    if missing.is_empty() && extra.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "missing in the server: [{}]; in the server but not rendered: [{}]",
            missing.join(", "),
            extra.join(", ")
        ))
    }
}

/// Whether `live` holds everything `want` says: maps key by key, lists of named items by name,
/// other lists item by item, scalars equal.
fn contains(live: &serde_json::Value, want: &serde_json::Value, at: &str) -> Result<(), String> {
    use serde_json::Value;
    match (live, want) {
        (Value::Object(l), Value::Object(w)) => {
            for (k, wv) in w {
                let lv = l.get(k).ok_or_else(|| format!("{at}.{k}: missing in the server"))?;
                contains(lv, wv, &format!("{at}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(l), Value::Array(w)) => {
            if w.iter().all(|x| x.get("name").is_some()) {
                for wv in w {
                    let lv = l
                        .iter()
                        .find(|x| x.get("name") == wv.get("name"))
                        .ok_or_else(|| format!("{at}[{}]: missing", wv["name"]))?;
                    contains(lv, wv, &format!("{at}[{}]", wv["name"]))?;
                }
                Ok(())
            } else if l.len() == w.len() {
                l.iter().zip(w).enumerate().try_for_each(|(i, (lv, wv))| contains(lv, wv, &format!("{at}[{i}]")))
            } else {
                Err(format!("{at}: {} items in the server, {} built", l.len(), w.len()))
            }
        }
        (l, w) if l == w => Ok(()),
        (l, w) => Err(format!("{at}: {l} in the server, {w} built")),
    }
}

/// The shell lines of the ```sh blocks under a `## ` heading, up to the next `## ` heading, with
/// `\`-continued lines joined and comment lines dropped.
fn section(readme: &str, heading: &str) -> Vec<String> {
    let Some(start) = readme.find(&format!("\n{heading}\n")) else { return Vec::new() };
    let rest = &readme[start + heading.len() + 2..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    all_commands(&rest[..end])
}

/// Every shell line of every ```sh block.
fn all_commands(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in markdown.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_block = !in_block && trimmed == "```sh";
            continue;
        }
        if !in_block || trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(trimmed);
        out.push(std::mem::take(&mut pending));
    }
    out
}

/// Whether a `kubectl` line's verb (its first word after the flags) is one of `verbs`.
fn verb_in(line: &str, verbs: &[&str]) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some(k) = words.iter().position(|w| *w == "kubectl") else { return false };
    let mut i = k + 1;
    while i < words.len() && words[i].starts_with('-') {
        i += if words[i].contains('=') || matches!(words[i], "--warnings-as-errors") { 1 } else { 2 };
    }
    words.get(i).is_some_and(|v| verbs.contains(v))
}

/// A README command of a sub-directory, run from the profile directory.
fn in_dir(dir: &str, line: &str) -> String {
    if dir.is_empty() { line.to_string() } else { format!("cd {dir} && {line}") }
}

/// Runs runbook lines in `dir` (`kubectl apply` with `--warnings-as-errors`); the first failure
/// is the error.
fn run_lines(server: &Server, dir: &Path, lines: &[String], totals: &mut Totals) -> Result<(), String> {
    if lines.is_empty() {
        return Err("no commands found".into());
    }
    for line in lines {
        let line = line.replace("kubectl apply", "kubectl --warnings-as-errors apply");
        let out = server.sh(&line, dir, Duration::from_secs(180))?;
        if out.code != Some(0) {
            return Err(format!("`{line}` exit {:?}:\n{}{}", out.code, tail(&out.stderr, 20), tail(&out.stdout, 10)));
        }
        totals.commands += 1;
    }
    Ok(())
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].iter().map(|l| format!("{l}\n")).collect()
}

fn write_files(dir: &Path, files: &BTreeMap<String, String>) -> Result<(), String> {
    let _ = fs::remove_dir_all(dir);
    for (path, text) in files {
        let target = dir.join(path);
        fs::create_dir_all(target.parent().unwrap_or(dir)).map_err(|e| e.to_string())?;
        fs::write(&target, text).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    Ok(())
}

fn namespace_json(name: &str) -> String {
    serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}).to_string()
}

fn install_crds(root: &Path, server: &Server) -> Result<(), String> {
    let dir = root.parent().unwrap_or(root).join("shared/crds");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    for file in &files {
        server.kubectl(&[
            "apply",
            "--server-side",
            "--field-manager=crd-installer",
            "-f",
            &file.display().to_string(),
        ])?;
    }
    server.kubectl(&["wait", "--for=condition=Established", "crd", "--all", "--timeout=60s"])?;
    println!("  {} CRD files installed from {}", files.len(), dir.display());
    Ok(())
}

/// The control plane: etcd, kube-apiserver and kube-controller-manager, stopped when dropped.
struct Server {
    dir: PathBuf,
    kubeconfig: PathBuf,
    version: String,
    processes: Vec<Child>,
}

struct ShOutput {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Server {
    fn start(plane: &ControlPlane, dir: &Path) -> Result<Self, String> {
        let _ = fs::remove_dir_all(dir);
        fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        certificates(dir)?;
        let host = cluster::BRIDGE_IP.to_string();
        let mut server = Self {
            dir: dir.to_path_buf(),
            kubeconfig: dir.join("kubeconfig"),
            version: String::new(),
            processes: Vec::new(),
        };
        let (client, peer) = ETCD_PORTS;
        server.spawn(
            "etcd",
            &plane.etcd,
            &[
                "--data-dir",
                &dir.join("etcd").display().to_string(),
                "--listen-client-urls",
                &format!("http://127.0.0.1:{client}"),
                "--advertise-client-urls",
                &format!("http://127.0.0.1:{client}"),
                "--listen-peer-urls",
                &format!("http://127.0.0.1:{peer}"),
                "--initial-advertise-peer-urls",
                &format!("http://127.0.0.1:{peer}"),
                "--initial-cluster",
                &format!("default=http://127.0.0.1:{peer}"),
                "--listen-metrics-urls",
                "",
            ],
        )?;
        server.wait_alive("etcd", Duration::from_secs(30), || {
            super::http::get(std::net::SocketAddr::from(([127, 0, 0, 1], client)), "/health", Duration::from_secs(2))
                .is_ok_and(|r| r.status == 200)
        })?;
        let file = |name: &str| dir.join(name).display().to_string();
        server.spawn(
            "kube-apiserver",
            &plane.kube_apiserver,
            &[
                &format!("--etcd-servers=http://127.0.0.1:{client}"),
                &format!("--bind-address={host}"),
                &format!("--advertise-address={host}"),
                &format!("--secure-port={API_PORT}"),
                &format!("--tls-cert-file={}", file("server.crt")),
                &format!("--tls-private-key-file={}", file("server.key")),
                &format!("--client-ca-file={}", file("ca.crt")),
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                &format!("--service-account-key-file={}", file("sa.pub")),
                &format!("--service-account-signing-key-file={}", file("sa.key")),
                "--service-cluster-ip-range=10.96.0.0/16",
                "--authorization-mode=Node,RBAC",
                "--profiling=false",
            ],
        )?;
        let url = format!("https://{host}:{API_PORT}");
        for args in [
            vec![
                "config",
                "set-cluster",
                "e2e",
                "--server",
                &url,
                "--certificate-authority",
                &file("ca.crt"),
                "--embed-certs",
            ],
            vec![
                "config",
                "set-credentials",
                "admin",
                "--client-certificate",
                &file("admin.crt"),
                "--client-key",
                &file("admin.key"),
                "--embed-certs",
            ],
            vec!["config", "set-context", "e2e", "--cluster", "e2e", "--user", "admin"],
            vec!["config", "use-context", "e2e"],
        ] {
            server.kubectl(&args)?;
        }
        let kubeconfig = server.kubeconfig.clone();
        server.wait_alive("kube-apiserver", Duration::from_secs(120), || server_ready(&kubeconfig))?;
        let kubeconfig = server.kubeconfig.display().to_string();
        server.spawn(
            "kube-controller-manager",
            &plane.kube_controller_manager,
            &[
                &format!("--kubeconfig={kubeconfig}"),
                &format!("--authentication-kubeconfig={kubeconfig}"),
                &format!("--authorization-kubeconfig={kubeconfig}"),
                "--controllers=namespace-controller,garbage-collector-controller,persistentvolumeclaim-protection-controller",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                "--secure-port=0",
            ],
        )?;
        let version: serde_json::Value =
            serde_json::from_str(&server.kubectl(&["version", "-o", "json"])?).map_err(|e| e.to_string())?;
        server.version = version["serverVersion"]["gitVersion"].as_str().unwrap_or("?").to_string();
        Ok(server)
    }

    /// Waits until `ready`, while the last process started (`name`) keeps running: one that
    /// exits (a port already taken, say) is an error with its log, never a stranger's server
    /// answering in its place.
    fn wait_alive(&mut self, name: &str, timeout: Duration, ready: impl Fn() -> bool) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let exited = self.processes.last_mut().and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                let log = fs::read_to_string(self.dir.join(format!("{name}.log"))).unwrap_or_default();
                return Err(format!("{name} exited ({status}):\n{}", tail(&log, 15)));
            }
            if ready() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let log = fs::read_to_string(self.dir.join(format!("{name}.log"))).unwrap_or_default();
                return Err(format!("{name} not ready in {} s:\n{}", timeout.as_secs(), tail(&log, 15)));
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    fn spawn(&mut self, name: &str, program: &Path, args: &[&str]) -> Result<(), String> {
        let log = fs::File::create(self.dir.join(format!("{name}.log"))).map_err(|e| e.to_string())?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(program)
            .args(args)
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("{}: {e}", program.display()))?;
        self.processes.push(child);
        Ok(())
    }

    /// `kubectl` with this server's kubeconfig; stdout, or the error with stderr.
    fn kubectl(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .output()
            .map_err(|e| format!("kubectl: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!("kubectl {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
        }
    }

    fn kubectl_stdin(&self, args: &[&str], input: &str) -> Result<String, String> {
        let mut child = Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("kubectl: {e}"))?;
        child.stdin.take().ok_or("stdin")?.write_all(input.as_bytes()).map_err(|e| e.to_string())?;
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!("kubectl {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
        }
    }

    /// A runbook line through `sh`, in `dir`, with this server's kubeconfig and the values the
    /// runbook asks the reader for (`$SECRETS_DIR` with a file per key, each `$NAME` set).
    fn sh(&self, line: &str, dir: &Path, timeout: Duration) -> Result<ShOutput, String> {
        let secrets = self.dir.join("secrets");
        fs::create_dir_all(&secrets).map_err(|e| e.to_string())?;
        let mut vars: Vec<(String, String)> = Vec::new();
        for part in line.split("\"${SECRETS_DIR:?}\"/").skip(1) {
            let file: String = part.chars().take_while(|c| !c.is_whitespace() && *c != '"').collect();
            fs::write(secrets.join(&file), format!("e2e-{file}")).map_err(|e| e.to_string())?;
        }
        for part in line.split("\"$").skip(1) {
            let name: String = part.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                vars.push((name, "e2e".into()));
            }
        }
        let stdout = self.dir.join("sh.out");
        let stderr = self.dir.join("sh.err");
        let mut child = Command::new("sh")
            .args(["-c", line])
            .current_dir(dir)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("SECRETS_DIR", &secrets)
            .envs(vars)
            .stdout(fs::File::create(&stdout).map_err(|e| e.to_string())?)
            .stderr(fs::File::create(&stderr).map_err(|e| e.to_string())?)
            .spawn()
            .map_err(|e| format!("sh: {e}"))?;
        let deadline = Instant::now() + timeout;
        let code = loop {
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                break status.code();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("`{line}` did not finish in {} s", timeout.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        Ok(ShOutput {
            code,
            stdout: fs::read_to_string(&stdout).unwrap_or_default(),
            stderr: fs::read_to_string(&stderr).unwrap_or_default(),
        })
    }

    /// The members of an ApplySet in the server (by the kinds its parent lists and its label),
    /// each with what an apply that changed it would change: its `generation` and the time of the
    /// `tracestack` field manager's entry. (Not the `resourceVersion`: controllers write objects
    /// too, e.g. the PVC-protection controller a claim, with or without an apply.)
    fn members(&self, set: &ApplySetBundle) -> Result<BTreeMap<Key, String>, String> {
        let parent: serde_json::Value =
            serde_json::from_str(&self.kubectl(&["-n", &set.namespace, "get", "secret", &set.name, "-o", "json"])?)
                .map_err(|e| e.to_string())?;
        let kinds = parent["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"]
            .as_str()
            .unwrap_or_default();
        if kinds.is_empty() {
            return Ok(BTreeMap::new());
        }
        let label = format!("{}={}", tracestack::config::k8s::APPLYSET_PART_OF, set.id);
        let list: serde_json::Value = serde_json::from_str(&self.kubectl(&[
            "get",
            kinds,
            "-A",
            "-l",
            &label,
            "-o",
            "json",
            "--show-managed-fields",
        ])?)
        .map_err(|e| e.to_string())?;
        Ok(list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|o| {
                let applied = o["metadata"]["managedFields"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|m| m["manager"] == "tracestack")
                    .map(|m| format!("{}@{}", m["operation"], m["time"]))
                    .collect::<Vec<_>>()
                    .join(",");
                (Key::of(o), format!("generation {} applied {applied}", o["metadata"]["generation"]))
            })
            .collect())
    }

    fn get(&self, key: &Key) -> Result<serde_json::Value, String> {
        let mut args = vec!["get", key.kind.as_str(), key.name.as_str(), "-o", "json"];
        if !key.namespace.is_empty() {
            args.extend(["-n", key.namespace.as_str()]);
        }
        serde_json::from_str(&self.kubectl(&args)?).map_err(|e| e.to_string())
    }

    fn exists(&self, key: &Key) -> Result<bool, String> {
        let mut args = vec!["get", key.kind.as_str(), key.name.as_str(), "--ignore-not-found", "-o", "name"];
        if !key.namespace.is_empty() {
            args.extend(["-n", key.namespace.as_str()]);
        }
        Ok(!self.kubectl(&args)?.trim().is_empty())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        for child in self.processes.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn server_ready(kubeconfig: &Path) -> bool {
    Command::new("kubectl")
        .args(["get", "--raw", "/readyz"])
        .env("KUBECONFIG", kubeconfig)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A CA, the server's certificate (for the bridge address and the in-cluster names), an admin
/// client certificate (`system:masters`) and the ServiceAccount signing key pair, with openssl.
fn certificates(dir: &Path) -> Result<(), String> {
    let san = format!(
        "subjectAltName=IP:{},IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n",
        cluster::BRIDGE_IP
    );
    fs::write(dir.join("san.ext"), san).map_err(|e| e.to_string())?;
    let steps: [&[&str]; 8] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=tracestack-e2e-ca",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=kube-apiserver",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "admin.key",
            "-out",
            "admin.csr",
            "-subj",
            "/O=system:masters/CN=tracestack-e2e-admin",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "admin.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "admin.crt",
            "-days",
            "2",
        ],
        &["genrsa", "-out", "sa.key", "2048"],
        &["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"],
        &["version"],
    ];
    for args in steps {
        let out = Command::new("openssl").args(args).current_dir(dir).output().map_err(|e| format!("openssl: {e}"))?;
        if !out.status.success() {
            return Err(format!("openssl {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runbook_sections_give_their_shell_lines() {
        let md = "# T\n\n## Apply\n\nText\n\n```sh\nkubectl apply -f ns.yaml\n# comment\nkubectl get \\\n  pods\n```\n\n```yaml\nnot: shell\n```\n\n## Next\n\n```sh\nkubectl delete -k .\n```\n";
        assert_eq!(section(md, "## Apply"), ["kubectl apply -f ns.yaml", "kubectl get pods"]);
        assert_eq!(section(md, "## Next"), ["kubectl delete -k ."]);
        assert!(section(md, "## Missing").is_empty());
    }

    #[test]
    fn bundle_directories_are_relative_to_the_profile() {
        assert_eq!(normalize("", "."), "");
        assert_eq!(normalize("", "smoke-test"), "smoke-test");
        assert_eq!(normalize("istio", "telemetry"), "istio/telemetry");
        assert_eq!(normalize("apps", "../instrumentation/shop"), "instrumentation/shop");
    }

    #[test]
    fn verbs_are_found_after_flags() {
        assert!(verb_in("kubectl -n observability get pods", &["get"]));
        assert!(verb_in("KUBECTL_APPLYSET=true kubectl apply --server-side -k .", &["apply"]));
        assert!(verb_in("cd istio && kubectl --warnings-as-errors apply -k telemetry", &["apply"]));
        assert!(!verb_in("kubectl -n observability logs deploy/x", &["get"]));
    }

    #[test]
    fn contains_matches_named_items_and_reports_the_path() {
        let live =
            serde_json::json!({"a": {"env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}, "b": 1});
        assert!(contains(&live, &serde_json::json!({"a": {"env": [{"name": "Y", "value": "2"}]}}), "o").is_ok());
        assert_eq!(
            contains(&live, &serde_json::json!({"a": {"env": [{"name": "Y", "value": "3"}]}}), "o").unwrap_err(),
            "o.a.env[\"Y\"].value: \"2\" in the server, \"3\" built"
        );
    }
}
