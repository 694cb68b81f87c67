//! The runbook names only what is rendered: every `kubectl` command in every profile's README is
//! parsed and each object, namespace, label selector, port, kustomization, file and Secret it
//! names is looked up among that profile's rendered objects.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use k8s_openapi::api::core::v1::PodTemplateSpec;
use tracestack::config::k8s::Object;
use tracestack::format::code_block_lines;
use tracestack::io::project;
use tracestack::model::load;
use tracestack::render::{self, DocumentBody, Source};
use tracestack::{Profile, Stack};

/// Names the runbook uses for the reader's own application, never for rendered objects.
const PLACEHOLDERS: [&str; 2] = ["YOUR_NAMESPACE", "YOUR_APP"];

/// What one profile renders, indexed for lookups.
struct Rendered {
    /// Every object with the bundle directory it is in (`.` for the root).
    objects: Vec<(String, Object)>,
    /// Every rendered file path.
    files: BTreeSet<String>,
    /// The runbook.
    readme: String,
}

fn rendered(profile: &Profile) -> Rendered {
    let stack = Stack::build(profile).unwrap_or_else(|e| panic!("{e}"));
    let parts = stack.into_parts().unwrap_or_else(|e| panic!("{e}"));
    let readme = parts
        .documents
        .iter()
        .find_map(|d| match &d.body {
            DocumentBody::Markdown(text) if d.path == "README.md" => Some(text.clone()),
            _ => None,
        })
        .expect("a README.md document");
    let mut objects: Vec<(String, Object)> = parts
        .bundles
        .iter()
        .flat_map(|b| {
            let dir = if b.dir.is_empty() { ".".to_owned() } else { b.dir.clone() };
            b.objects.iter().map(move |o| (dir.clone(), o.clone()))
        })
        .collect();
    // What an operator creates from a rendered resource is there once it is applied: the runbook
    // names those objects.
    let managed = tracestack::check::managed_objects(objects.iter().map(|(_, o)| o));
    objects.extend(managed.into_iter().map(|(_, o)| (".".to_owned(), o)));
    let source = Source { profile: "t".into(), origin: "test".into() };
    let files = render::render_parts(parts, &source).unwrap_or_else(|e| panic!("{e}")).files.into_keys().collect();
    Rendered { objects, files, readme }
}

impl Rendered {
    fn find(&self, kind: &str, ns: &str, name: &str) -> Option<&Object> {
        self.objects.iter().map(|(_, o)| o).find(|o| o.kind() == kind && o.name() == name && o.namespace() == Some(ns))
    }

    fn template(object: &Object) -> Option<&PodTemplateSpec> {
        match object {
            Object::Deployment(d) => d.spec.as_ref().map(|s| &s.template),
            Object::DaemonSet(d) => d.spec.as_ref().map(|s| &s.template),
            Object::Job(j) => j.spec.as_ref().map(|s| &s.template),
            _ => None,
        }
    }

    fn pod_templates(&self, ns: &str) -> impl Iterator<Item = &PodTemplateSpec> {
        self.objects.iter().map(|(_, o)| o).filter(move |o| o.namespace() == Some(ns)).filter_map(Self::template)
    }

    fn namespaces(&self) -> BTreeSet<&str> {
        self.objects.iter().map(|(_, o)| o).filter(|o| o.kind() == "Namespace").map(Object::name).collect()
    }

    fn bundle_dirs(&self) -> BTreeSet<&str> {
        self.objects.iter().map(|(dir, _)| dir.as_str()).collect()
    }

    /// Secret name → keys read from it by some pod.
    fn secrets_read(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for pod in self.objects.iter().filter_map(|(_, o)| Self::template(o)).filter_map(|t| t.spec.as_ref()) {
            for env in pod.containers.iter().flat_map(|c| c.env.iter().flatten()) {
                if let Some(r) = env.value_from.as_ref().and_then(|v| v.secret_key_ref.as_ref()) {
                    out.entry(r.name.clone()).or_default().insert(r.key.clone());
                }
            }
            for secret in pod.volumes.iter().flatten().filter_map(|v| v.secret.as_ref()) {
                let keys = secret.items.iter().flatten().map(|i| i.key.clone());
                out.entry(secret.secret_name.clone().unwrap_or_default()).or_default().extend(keys);
            }
        }
        out
    }
}

/// Splits a shell line into words, honouring single and double quotes.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            (None, c) => word.push(c),
        }
    }
    if any || !word.is_empty() {
        out.push(word);
    }
    out
}

/// Shell commands in a Markdown text: every line of every fenced block, and every inline code
/// span, split at `|`, `&&` and `;` (outside quotes is good enough for these texts).
fn commands(markdown: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_block = false;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            lines.push(trimmed.to_owned());
        } else {
            lines.extend(line.split('`').skip(1).step_by(2).map(str::to_owned));
        }
    }
    lines
        .iter()
        .flat_map(|l| {
            l.split(" | ").flat_map(|p| p.split("&&")).flat_map(|p| p.split(';')).map(|p| p.trim().to_owned())
        })
        .filter(|c| !c.is_empty() && !c.starts_with('#'))
        .collect()
}

/// One `kubectl` command, parsed.
#[derive(Debug, Default)]
struct Kubectl {
    namespace: Option<String>,
    /// Words that are not flags or flag values.
    args: Vec<String>,
    /// Flags with values (`-l`, `-k`, `-f`, `-c`, `--for`, `--from-file` …), repeated as given.
    flags: Vec<(String, String)>,
}

/// Flags that take a value as the next word.
const VALUE_FLAGS: [&str; 10] =
    ["-n", "--namespace", "-l", "--selector", "-k", "-f", "-c", "-o", "--tail", "--timeout"];

fn parse(command: &str) -> Option<Kubectl> {
    let words = words(command);
    if words.first().map(String::as_str) != Some("kubectl") {
        return None;
    }
    let mut k = Kubectl::default();
    let mut rest = words.into_iter().skip(1);
    while let Some(word) = rest.next() {
        if let Some((flag, value)) = word.split_once('=').filter(|(f, _)| f.starts_with('-')) {
            k.flags.push((flag.to_owned(), value.to_owned()));
        } else if VALUE_FLAGS.contains(&word.as_str()) {
            let value = rest.next().unwrap_or_default();
            k.flags.push((word, value));
        } else if word.starts_with('-') && word != "-" {
            k.flags.push((word, String::new()));
        } else {
            k.args.push(word);
        }
    }
    k.namespace = k.flag("-n").or_else(|| k.flag("--namespace")).map(str::to_owned);
    Some(k)
}

impl Kubectl {
    fn flag(&self, name: &str) -> Option<&str> {
        self.flags.iter().find(|(f, _)| f == name).map(|(_, v)| v.as_str())
    }

    fn flags_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.flags.iter().filter(move |(f, _)| f == name).map(|(_, v)| v.as_str())
    }
}

fn kind_of(short: &str) -> Option<&'static str> {
    Some(match short {
        "deploy" | "deployment" | "deployments" => "Deployment",
        "daemonset" | "ds" | "daemonsets" => "DaemonSet",
        "svc" | "service" | "services" => "Service",
        "job" | "jobs" => "Job",
        "cronjob" | "cronjobs" => "CronJob",
        "pvc" | "persistentvolumeclaim" => "PersistentVolumeClaim",
        "configmap" | "cm" | "configmaps" => "ConfigMap",
        "podmonitor" | "podmonitors" => "PodMonitor",
        "prometheusrule" | "prometheusrules" => "PrometheusRule",
        _ => return None,
    })
}

/// Ports of a Service, or the container ports of a workload's pods.
fn ports(object: &Object) -> BTreeSet<i32> {
    match object {
        Object::Service(s) => s.spec.iter().flat_map(|s| s.ports.iter().flatten()).map(|p| p.port).collect(),
        other => Rendered::template(other)
            .and_then(|t| t.spec.as_ref())
            .map(|p| p.containers.iter().flat_map(|c| c.ports.iter().flatten()).map(|p| p.container_port).collect())
            .unwrap_or_default(),
    }
}

/// Containers and init containers (`kubectl logs -c` names either).
fn containers(object: &Object) -> BTreeSet<String> {
    Rendered::template(object)
        .and_then(|t| t.spec.as_ref())
        .map(|p| p.containers.iter().chain(p.init_containers.iter().flatten()).map(|c| c.name.clone()).collect())
        .unwrap_or_default()
}

fn parse_selector(text: &str) -> Result<BTreeMap<String, String>, String> {
    text.split(',')
        .map(|pair| {
            pair.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())).ok_or_else(|| format!("selector `{text}`"))
        })
        .collect()
}

/// Checks one command against the rendered objects; the error names what is wrong.
fn check(k: &Kubectl, r: &Rendered, forwarded: &mut BTreeSet<u16>) -> Result<(), String> {
    let placeholder = k.namespace.as_deref().is_some_and(|ns| PLACEHOLDERS.contains(&ns));
    if placeholder {
        // The reader's own application: it must not name anything of the stack.
        return match k.args.as_slice() {
            [verb, _, target, ..] if verb == "set" && target == "deploy/YOUR_APP" => Ok(()),
            _ => Err("a command in the application's namespace may only `set env deploy/YOUR_APP`".into()),
        };
    }
    if let Some(ns) = &k.namespace
        && !r.namespaces().contains(ns.as_str())
    {
        return Err(format!("namespace `{ns}` is not rendered"));
    }
    let ns = k.namespace.as_deref().unwrap_or_default();
    let object = |reference: &str| -> Result<&Object, String> {
        let (short, name) = reference.split_once('/').ok_or_else(|| format!("`{reference}` is not KIND/NAME"))?;
        let kind = kind_of(short).ok_or_else(|| format!("unknown kind `{short}`"))?;
        r.find(kind, ns, name).ok_or_else(|| format!("{kind} `{name}` is not rendered in namespace `{ns}`"))
    };
    let selector_matches_pods = |text: &str| -> Result<(), String> {
        let wanted = parse_selector(text)?;
        let hit = r.pod_templates(ns).any(|t| {
            let labels = t.metadata.as_ref().and_then(|m| m.labels.as_ref());
            labels.is_some_and(|l| wanted.iter().all(|(k, v)| l.get(k) == Some(v)))
        });
        if hit { Ok(()) } else { Err(format!("no rendered pod in `{ns}` has labels `{text}`")) }
    };
    let args: Vec<&str> = k.args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["apply" | "delete" | "diff"] => {
            if let Some(dir) = k.flag("-k") {
                if !r.bundle_dirs().contains(dir) {
                    return Err(format!("`-k {dir}` is not a rendered kustomization"));
                }
            } else if let Some(file) = k.flag("-f") {
                if !r.files.contains(file) {
                    return Err(format!("`-f {file}` is not a rendered file"));
                }
            } else {
                return Err("apply/delete without -k or -f".into());
            }
            if let Some(mode) = k.flag("--dry-run")
                && mode != "server"
            {
                return Err(format!("--dry-run={mode}"));
            }
            Ok(())
        }
        ["rollout", "status", target] => object(target).and_then(|o| {
            if o.kind() == "Deployment" || o.kind() == "DaemonSet" {
                Ok(())
            } else {
                Err(format!("rollout status of a {}", o.kind()))
            }
        }),
        ["logs", target] => {
            let o = object(target)?;
            match k.flag("-c") {
                Some(c) if !containers(o).contains(c) => Err(format!("`{target}` has no container `{c}`")),
                _ => Ok(()),
            }
        }
        ["wait", target] => {
            let o = object(target)?;
            let condition = k.flag("--for").unwrap_or_default();
            if o.kind() == "Job" && (condition == "condition=complete" || condition == "condition=failed") {
                Ok(())
            } else {
                Err(format!("wait --for={condition} on a {}", o.kind()))
            }
        }
        ["port-forward", target, mapping] => {
            let o = object(target)?;
            let (local, remote) = mapping.split_once(':').ok_or_else(|| format!("port mapping `{mapping}`"))?;
            let remote: i32 = remote.parse().map_err(|_| format!("port `{remote}`"))?;
            if !ports(o).contains(&remote) {
                return Err(format!("`{target}` has no port {remote} (it has {:?})", ports(o)));
            }
            forwarded.insert(local.parse().map_err(|_| format!("local port `{local}`"))?);
            Ok(())
        }
        ["get" | "describe", "pods"] => selector_matches_pods(k.flag("-l").ok_or("pods without -l")?),
        ["get", "endpointslices"] => {
            let selector = parse_selector(k.flag("-l").ok_or("endpointslices without -l")?)?;
            let service = selector.get("kubernetes.io/service-name").ok_or("endpointslices without service-name")?;
            r.find("Service", ns, service).map(|_| ()).ok_or_else(|| format!("Service `{service}` is not rendered"))
        }
        ["get", "networkpolicy"] => Ok(()),
        ["get", "nodes"] if k.namespace.is_none() => Ok(()),
        ["get", "crd", names @ ..] if !names.is_empty() && k.namespace.is_none() => {
            let rendered: BTreeSet<String> = r
                .objects
                .iter()
                .filter_map(|(_, o)| match o {
                    Object::Custom(c) => {
                        Some(format!("{}s.{}", c.kind.to_ascii_lowercase(), c.api_version.split('/').next()?))
                    }
                    _ => None,
                })
                .collect();
            names
                .iter()
                .find(|n| !rendered.contains(**n))
                .map_or(Ok(()), |n| Err(format!("CRD `{n}` is not one of a rendered kind")))
        }
        ["get", "configmap", name] => {
            r.find("ConfigMap", ns, name).map(|_| ()).ok_or_else(|| format!("ConfigMap `{name}` is not rendered"))
        }
        ["get", named @ ..] if !named.is_empty() && named.iter().all(|n| n.contains('/')) => {
            for n in named {
                let (short, name) = n.split_once('/').unwrap_or_default();
                let kind = match short {
                    "opentelemetrycollector" => "OpenTelemetryCollector",
                    "jaeger" => "Jaeger",
                    other => kind_of(other).ok_or_else(|| format!("unknown kind `{other}`"))?,
                };
                r.find(kind, ns, name).ok_or_else(|| format!("{kind} `{name}` is not rendered in `{ns}`"))?;
            }
            Ok(())
        }
        ["get", kinds] => {
            for short in kinds.split(',') {
                let kind = kind_of(short).ok_or_else(|| format!("unknown kind `{short}`"))?;
                if !r.objects.iter().any(|(_, o)| o.kind() == kind && o.namespace() == Some(ns)) {
                    return Err(format!("no {kind} is rendered in `{ns}`"));
                }
            }
            Ok(())
        }
        ["create", "job", _] => {
            let from = k.flag("--from").ok_or("create job without --from")?;
            let o = object(from)?;
            if o.kind() == "CronJob" { Ok(()) } else { Err(format!("create job --from a {}", o.kind())) }
        }
        ["create", "secret", "generic", name] => {
            let read = r.secrets_read();
            let keys = read.get(*name).ok_or_else(|| format!("no rendered pod reads Secret `{name}`"))?;
            let given: BTreeSet<String> = k
                .flags_named("--from-file")
                .chain(k.flags_named("--from-literal"))
                .map(|v| v.split_once('=').map_or(v, |(key, _)| key).to_owned())
                .collect();
            if &given == keys {
                Ok(())
            } else {
                Err(format!("Secret `{name}` gets keys {given:?}, pods read {keys:?}"))
            }
        }
        ["auth", "can-i", verb, resource] => {
            // `--as=system:serviceaccount:<ns>:<name>`: a rendered ServiceAccount, granted the
            // verb on the resource by a rendered ClusterRole.
            let account = k.flag("--as").ok_or("auth can-i without --as")?;
            let rest = account.strip_prefix("system:serviceaccount:").ok_or_else(|| format!("--as={account}"))?;
            let (sa_ns, sa) = rest.split_once(':').ok_or_else(|| format!("--as={account}"))?;
            r.find("ServiceAccount", sa_ns, sa)
                .ok_or_else(|| format!("ServiceAccount `{sa_ns}/{sa}` is not rendered"))?;
            let (plural, group) = resource.split_once('.').unwrap_or((resource, ""));
            let granted = r.objects.iter().any(|(_, o)| match o {
                Object::ClusterRole(role) => role.rules.iter().flatten().any(|rule| {
                    rule.resources.iter().flatten().any(|x| x == plural)
                        && rule.api_groups.iter().flatten().any(|g| g == group)
                        && rule.verbs.iter().any(|v| v == verb)
                }),
                _ => false,
            });
            if granted { Ok(()) } else { Err(format!("no rendered ClusterRole grants {verb} {resource}")) }
        }
        _ => Err("a kubectl command this test does not understand: teach it or change the runbook".into()),
    }
}

/// Checks every command and `svc` address of a README; returns the kubectl commands checked.
fn check_readme(r: &Rendered) -> Result<usize, Vec<String>> {
    let mut errors = Vec::new();
    let mut forwarded = BTreeSet::new();
    let mut checked = 0;
    let all = commands(&r.readme);
    for command in &all {
        // A bare `kubectl` is the tool named in prose, not a command.
        if let Some(k) = parse(command).filter(|k| !k.args.is_empty() || !k.flags.is_empty()) {
            checked += 1;
            if let Err(e) = check(&k, r, &mut forwarded) {
                errors.push(format!("`{command}`: {e}"));
            }
        }
    }
    // `curl localhost:PORT` only after a port-forward to PORT.
    for command in all.iter().filter(|c| c.starts_with("curl ")) {
        let port = command.split("localhost:").nth(1).and_then(|rest| rest.split('/').next());
        match port.and_then(|p| p.parse::<u16>().ok()) {
            Some(p) if forwarded.contains(&p) => {}
            _ => errors.push(format!("`{command}`: no port-forward in the runbook opens that local port")),
        }
    }
    // In-cluster addresses `NAME.NAMESPACE.svc[.cluster.local]:PORT` in the stack's namespace name
    // a rendered Service port.
    for (start, _) in r.readme.match_indices(".svc") {
        let before = &r.readme[..start];
        let host_start =
            before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.')).map_or(0, |i| i + 1);
        let host = &before[host_start..];
        let after = r.readme[start + 4..].trim_start_matches(".cluster.local");
        let Some(port) =
            after.strip_prefix(':').map(|p| p.chars().take_while(char::is_ascii_digit).collect::<String>())
        else {
            continue;
        };
        let Some((service, ns)) = host.rsplit_once('.') else { continue };
        // Services elsewhere (an existing Elasticsearch) come from the profile, not the stack.
        if !r.namespaces().contains(ns) {
            continue;
        }
        let service = service.trim_start_matches("dns:///");
        let ok = r.find("Service", ns, service).is_some_and(|s| port.parse().is_ok_and(|p| ports(s).contains(&p)));
        if !ok {
            errors.push(format!("address `{host}.svc:{port}` is not a rendered Service port"));
        }
    }
    if errors.is_empty() { Ok(checked) } else { Err(errors) }
}

fn profiles() -> Vec<(String, Profile)> {
    project::profile_files(Path::new("profiles"))
        .expect("profiles/ lists")
        .into_iter()
        .map(|path| {
            let name = load::profile_name(&path).expect("profile name");
            (name, load::load_file(&path).unwrap_or_else(|e| panic!("{e}")))
        })
        .collect()
}

#[test]
fn every_runbook_command_names_only_rendered_objects() {
    let profiles = profiles();
    assert!(profiles.len() >= 2);
    for (name, profile) in profiles {
        let r = rendered(&profile);
        match check_readme(&r) {
            Ok(checked) => {
                // Apply, rollout, look, smoke test, troubleshooting: a runbook with fewer is broken.
                assert!(checked >= 25, "{name}: only {checked} kubectl commands found");
                eprintln!("{name}: {checked} kubectl commands checked");
            }
            Err(errors) => panic!("{name}/README.md:\n  {}", errors.join("\n  ")),
        }
    }
}

#[test]
fn a_runbook_naming_something_not_rendered_is_caught() {
    let profile = Profile::default();
    let good = rendered(&profile);
    assert!(check_readme(&good).is_ok());
    for (from, to, expected) in [
        ("svc/jaeger-query 16686:16686", "svc/jaeger-ui 16686:16686", "Service `jaeger-ui` is not rendered"),
        ("svc/jaeger-query 16686:16686", "svc/jaeger-query 16687:16687", "has no port 16687"),
        ("rollout status deploy/otel-collector", "rollout status deploy/collector", "Deployment `collector`"),
        ("service-name=otlp", "service-name=otel", "Service `otel` is not rendered"),
        ("app.kubernetes.io/component=gateway", "app.kubernetes.io/component=agent", "no rendered pod"),
        ("-k smoke-test", "-k smoke-tests", "`-k smoke-tests` is not a rendered kustomization"),
        ("job/tracestack-smoke ", "job/smoke ", "Job `smoke`"),
        ("job/tracestack-smoke -c telemetrygen", "job/tracestack-smoke -c sender", "no container `sender`"),
        ("kubectl -n observability", "kubectl -n monitoring", "namespace `monitoring` is not rendered"),
        ("otlp.observability.svc:4318", "otlp.observability.svc:4319", "address `otlp.observability.svc:4319`"),
        ("curl -s localhost:8888", "curl -s localhost:9999", "no port-forward"),
        ("get configmap otel-collector", "get configmap collector", "ConfigMap `collector`"),
    ] {
        assert!(good.readme.contains(from), "the runbook no longer contains `{from}`");
        let bad = Rendered {
            objects: good.objects.clone(),
            files: good.files.clone(),
            readme: good.readme.replacen(from, to, 1),
        };
        let errors = check_readme(&bad).expect_err(to);
        assert!(errors.iter().any(|e| e.contains(expected)), "{to}: {errors:#?}");
    }
}

#[test]
fn secrets_in_the_runbook_are_the_ones_the_pods_read() {
    let (_, prod) = profiles().into_iter().find(|(n, _)| n == "prod-elasticsearch").expect("prod profile");
    let good = rendered(&prod);
    assert!(good.readme.contains("create secret generic jaeger-es-credentials"));
    let bad = Rendered {
        objects: good.objects.clone(),
        files: good.files.clone(),
        readme: good.readme.replace("--from-file=password=", "--from-file=pass="),
    };
    let errors = check_readme(&bad).expect_err("wrong key");
    assert!(errors.iter().any(|e| e.contains("Secret `jaeger-es-credentials` gets keys")), "{errors:#?}");
}

/// Credentials are read from outside the rendered (committed) directory: `--from-file` paths are
/// under `$SECRETS_DIR`, which must be set, never beside the runbook.
#[test]
fn secret_files_are_read_from_outside_the_output() {
    let mut seen = 0;
    for (name, profile) in profiles() {
        let readme = rendered(&profile).readme;
        for command in readme.lines().filter(|l| l.contains(" create secret generic ")) {
            let words = shlex::split(command).unwrap_or_else(|| panic!("{name}: {command}"));
            for word in words.iter().filter_map(|w| w.strip_prefix("--from-file=")) {
                let (_, path) = word.split_once('=').unwrap_or(("", word));
                assert!(path.starts_with("${SECRETS_DIR:?}/"), "{name}: {command}");
                seen += 1;
            }
        }
    }
    assert!(seen >= 2, "no --from-file in any runbook");
}

#[test]
fn shell_words_and_commands_are_split_like_a_shell() {
    assert_eq!(words(r#"kubectl -n x create secret generic s --from-literal=u="$U" 'a b'"#).len(), 9);
    assert_eq!(words(r#"--from-literal=u="$U""#), [r#"--from-literal=u=$U"#]);
    let cmds = commands("text `kubectl get nodes` more\n```sh\nkubectl logs deploy/x | grep -E 'a|b'\n# note\n```\n");
    assert_eq!(cmds, ["kubectl get nodes", "kubectl logs deploy/x", "grep -E 'a|b'"]);
}

/// Profile text that reaches the documents (a description, RED service names, Elasticsearch
/// URLs, Istio tag values) cannot add a line, a heading or a code block, and every command still
/// parses as a shell would, with the same words as for benign text.
#[test]
fn hostile_profile_text_stays_text() {
    let profile = |description: &str, service: &str, url_path: &str, tag: &str| {
        let yaml = format!(
            r#"description: "{description}"
monitoring:
  enabled: true
  red:
    services:
      "{service}": {{error_ratio: 0.1}}
istio:
  enabled: true
  namespaces: [shop]
  custom_tags:
    team: {{literal: {{value: "{tag}"}}}}
jaeger:
  storage:
    elasticsearch:
      server_urls: ["https://es.search.svc:9200/{url_path}"]
"#
        );
        let profile = tracestack::model::load::load_str("hostile.yaml", &yaml).unwrap_or_else(|e| panic!("{e}"));
        let source = tracestack::render::Source { profile: "hostile".into(), origin: "hostile.yaml".into() };
        tracestack::render::render_profile(&profile, &source).unwrap_or_else(|e| panic!("{e}")).files
    };
    let benign = profile("A stack.", "cart", "x", "shop");
    let hostile = profile(
        r"A stack.\n```sh\nrm -rf /\n```\n# Injected\n<img src=x onerror=alert(1)>",
        "cart`; rm -rf / # | x |",
        "$(rm%20-rf);'x'&y=*",
        r"```\n# Injected\nrm -rf /",
    );
    let shape = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.trim_start().starts_with("```") || l.starts_with('#') || l.starts_with('|'))
            .map(|l| l.replace(r"\|", "").split('|').count().to_string() + &l.chars().take(3).collect::<String>())
            .collect()
    };
    for (path, text) in hostile.iter().filter(|(p, _)| p.ends_with(".md")) {
        let base = &benign[path];
        assert_eq!(shape(text), shape(base), "{path}: headings, fences or table rows changed");
        for line in text.lines() {
            let line = line.trim_start();
            for injected in ["rm -rf", "# Injected", "<img"] {
                assert!(!line.starts_with(injected), "{path}: injected line {line:?}");
            }
        }
        let (ours, theirs) = (code_block_lines(text), code_block_lines(base));
        assert_eq!(ours.len(), theirs.len(), "{path}");
        for (a, b) in ours.iter().zip(&theirs) {
            let words = shlex::split(a).unwrap_or_else(|| panic!("{path}: does not parse: {a}"));
            assert_eq!(Some(words), shlex::split(b), "{path}: a command changed with the profile's text");
        }
    }
}

/// On a fresh cluster the server-side dry run fails on every namespaced object until the
/// Namespace exists: each runbook applies the Namespace's file before its first dry run.
#[test]
fn the_namespace_is_applied_before_the_first_dry_run() {
    for (name, profile) in profiles() {
        let r = rendered(&profile);
        let lines: Vec<&str> = r.readme.lines().map(str::trim).collect();
        let dry_run = lines
            .iter()
            .position(|l| l.contains("kubectl apply") && l.ends_with("--dry-run=server"))
            .expect("a dry run");
        let namespace = lines
            .iter()
            .position(|l| l.starts_with("kubectl apply") && l.contains(" -f ") && l.ends_with("-namespace.yaml"))
            .unwrap_or_else(|| panic!("{name}: the Namespace is never applied"));
        assert!(namespace < dry_run, "{name}: the dry run comes before the Namespace");
        let file = lines[namespace].rsplit(' ').next().unwrap_or_default();
        assert!(r.files.contains(file), "{name}: {file} is not rendered");
    }
}
