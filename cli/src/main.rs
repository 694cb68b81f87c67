//! `tracestack`: renders an OpenTelemetry Collector → Jaeger v2 tracing stack for Kubernetes from
//! profile files into plain YAML, in a GitOps repository (`profiles/` → `generated/` under the
//! current directory), and checks, validates and diffs that output.
//!
//! Every command is a thin layer over the library: [`tracestack::io::project::Selection`] says
//! which profiles render where, and the same function renders for `cargo xtask render`.

mod committed;
mod diff;
mod starters;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tracestack::io::{output, project};

/// Exit status: the command ran and found nothing wrong.
const OK: u8 = 0;
/// Exit status: findings — a profile that fails, stale output, a failed check, or (with
/// `diff --exit-code`) changes.
const FINDINGS: u8 = 1;
/// Exit status: the command could not run as asked (bad arguments, a file in the way).
const USAGE: u8 = 2;

const AFTER_HELP: &str = "\
Defaults resolve against the current directory (or -C DIR): profiles/*.yaml render into
generated/<profile>/, the profile schema into generated/schema/.

Exit status: 0 ok; 1 findings (a profile that fails, stale output, a failed check, changes with
`diff --exit-code`); 2 usage error (bad arguments, a file in the way, an unknown revision).

Examples:
  tracestack init --shape production-elasticsearch prod   # writes profiles/prod.yaml
  tracestack render                                        # profiles/ -> generated/
  tracestack check                                         # CI: exit 1 when generated/ is stale
  tracestack diff --against origin/main --format markdown  # a pull-request comment";

#[derive(Parser)]
#[command(
    name = "tracestack",
    version,
    about = "Render an OpenTelemetry Collector -> Jaeger v2 tracing stack for Kubernetes into plain YAML",
    after_help = AFTER_HELP
)]
struct Cli {
    /// Run as if started in DIR.
    #[arg(short = 'C', value_name = "DIR", global = true)]
    directory: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// Which profiles, and where their output goes.
#[derive(Args, Clone)]
struct Select {
    /// Only this profile: a name from the profiles directory, or a path to a profile file.
    #[arg(long, value_name = "NAME|FILE")]
    profile: Option<String>,
    /// Directory of profile files.
    #[arg(long, value_name = "DIR", default_value = "profiles")]
    profiles: PathBuf,
    /// Output directory [default: generated, or generated/<profile> with --profile or -f].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// A profile file merged over --profile and the files before it (repeatable, in order; each
    /// with the bases it `extends`); the last names the profile. Renders that one profile.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Override one field of the merged profile: PATH=VALUE, VALUE as YAML, empty removes it
    /// (repeatable), e.g. `--set collector.replicas=3`. Needs --profile or -f.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
}

impl Select {
    /// The library's selection, every path given relative to `base` (the current directory, or
    /// `-C DIR`); a profile given by name stays a name.
    fn selection(&self, base: &Path) -> project::Selection {
        let profile = self.profile.as_deref().map(|given| {
            if project::names_a_file(given) {
                base.join(given).to_string_lossy().into_owned()
            } else {
                given.to_owned()
            }
        });
        project::Selection {
            base: base.to_owned(),
            profiles: Some(base.join(&self.profiles)),
            profile,
            out: self.out.as_ref().map(|o| base.join(o)),
            files: self.files.iter().map(|f| base.join(f)).collect(),
            sets: self.sets.clone(),
        }
    }

    /// Whether one profile is selected (by --profile or -f), as `--set` and `--explain` need.
    fn one_profile(&self) -> bool {
        self.profile.is_some() || !self.files.is_empty()
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// For a terminal.
    Text,
    /// For a pull-request comment.
    Markdown,
    /// The change set as JSON, for tools.
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Write a starter profile for a chosen shape, and say what to edit.
    #[command(after_help = "Examples:\n  tracestack init                       # profiles/demo.yaml\n  \
                            tracestack init --shape production-elasticsearch prod")]
    Init {
        /// The profile's name: the file is <profiles>/<NAME>.yaml, its output generated/<NAME>/.
        name: Option<String>,
        /// The shape to start from.
        #[arg(long, value_enum, default_value = "demo")]
        shape: starters::Shape,
        /// Directory of profile files.
        #[arg(long, value_name = "DIR", default_value = "profiles")]
        profiles: PathBuf,
        /// Output directory the schema modeline points into.
        #[arg(long, value_name = "DIR", default_value = "generated")]
        out: PathBuf,
        /// Overwrite an existing profile file.
        #[arg(long)]
        force: bool,
    },
    /// Render profiles into Kubernetes YAML (every profile in profiles/ into generated/).
    #[command(after_help = "Examples:\n  tracestack render\n  tracestack render --profile prod\n  \
                            tracestack render --profile clusters/eu/tracing.yaml --out clusters/eu/generated\n  \
                            tracestack render -f clusters/eu.yaml --set collector.replicas=3\n  \
                            tracestack render -f clusters/eu.yaml --explain jaeger.storage")]
    Render {
        #[command(flatten)]
        select: Select,
        /// Print the effective value of FIELD (a dotted path, e.g. `collector.replicas`) and every
        /// layer that sets it, latest first; writes nothing. Needs --profile or -f.
        #[arg(long, value_name = "FIELD")]
        explain: Option<String>,
        /// Also remove generated output of profiles that were not rendered (their profile file is
        /// gone); without it that output is kept and listed.
        #[arg(long)]
        prune_profiles: bool,
    },
    /// Exit 1 naming every stale, missing or extra output file (writes nothing).
    #[command(after_help = "Examples:\n  tracestack check            # in CI, after checkout\n  \
                            tracestack check --profile prod")]
    Check {
        #[command(flatten)]
        select: Select,
        /// Also report generated output of profiles that are no longer rendered.
        #[arg(long)]
        prune_profiles: bool,
    },
    /// Show what a render would change, object by object.
    ///
    /// Added, removed and changed objects by kind, namespace and name; per changed object the
    /// changed fields with old -> new values, embedded configs as line diffs; and the effects
    /// (replicas, pods that roll, immutable fields).
    #[command(
        after_help = "Compares against the output directory on disk unless --against names another directory or a \
                            git revision (the output directory as committed there).\n\n\
                            Examples:\n  tracestack diff\n  tracestack diff --against HEAD\n  \
                            tracestack diff --against origin/main --format markdown > comment.md"
    )]
    Diff {
        #[command(flatten)]
        select: Select,
        /// A directory of generated output, or a git revision [default: the output directory].
        #[arg(long, value_name = "DIR|GIT-REF")]
        against: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Exit 1 when objects changed (as `git diff --exit-code`); without it a diff exits 0.
        #[arg(long)]
        exit_code: bool,
    },
    /// Render in memory and run every check (writes nothing).
    ///
    /// The cross-object checks of every profile, then `kubectl kustomize` of every kustomization
    /// when kubectl is installed (said so when it is not).
    #[command(after_help = "Examples:\n  tracestack validate\n  tracestack validate --profile prod")]
    Validate {
        #[command(flatten)]
        select: Select,
    },
    /// Print the profile JSON Schema (the file the profiles' `$schema` modeline names).
    #[command(after_help = "Examples:\n  tracestack schema > profile.schema.json")]
    Schema {
        /// Write it to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// A failure with its exit status.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn findings(message: impl Into<String>) -> Self {
        Self { code: FINDINGS, message: message.into() }
    }

    fn usage(message: impl Into<String>) -> Self {
        Self { code: USAGE, message: message.into() }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let base = match &cli.directory {
        Some(dir) if !dir.is_dir() => {
            eprintln!("error: -C {}: not a directory", dir.display());
            return ExitCode::from(USAGE);
        }
        Some(dir) => dir.clone(),
        None => PathBuf::new(),
    };
    let result = match cli.command {
        Command::Init { name, shape, profiles, out, force } => {
            starters::init(&base, name.as_deref(), shape, &base.join(profiles), &base.join(out), force)
        }
        Command::Render { select, explain: Some(field), .. } => explain(&base, &select, &field),
        Command::Render { select, prune_profiles, explain: None } => render(&base, &select, prune_profiles),
        Command::Check { select, prune_profiles } => check(&base, &select, prune_profiles),
        Command::Diff { select, against, format, exit_code } => {
            diff(&base, &select, against.as_deref(), format, exit_code)
        }
        Command::Validate { select } => validate(&base, &select),
        Command::Schema { out } => schema(&base, out.as_deref()),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Failure { code, message }) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}

/// A path as the user gave it: relative to the base directory, without a leading `./`.
fn shown(base: &Path, path: &Path) -> String {
    path.strip_prefix(base).unwrap_or(path).display().to_string()
}

/// Renders the selection in memory; a failure lists every profile that failed.
fn rendered(base: &Path, select: &Select, what: &str) -> Result<project::Target, Failure> {
    let selection = select.selection(base);
    let profiles = selection.profiles_dir();
    if !select.sets.is_empty() && !select.one_profile() {
        return Err(Failure::usage("`--set` needs one profile: `--profile NAME` or `-f FILE`"));
    }
    if !select.one_profile() && !profiles.is_dir() {
        return Err(Failure::usage(format!(
            "{}: no profiles directory here; run `tracestack init` to write a first profile, or pass --profiles DIR",
            shown(base, &profiles)
        )));
    }
    selection.render().map_err(|errors| {
        let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let failed = errors.iter().filter(|e| !matches!(e, tracestack::io::Error::Layout { .. })).count();
        let count = if failed > 0 { format!("\n{failed} profile(s) failed") } else { String::new() };
        Failure::findings(format!("{}{count}; {what}", list.join("\n")))
    })
}

/// `render --explain FIELD`: the field's effective value and the layers that set it.
fn explain(base: &Path, select: &Select, field: &str) -> Result<u8, Failure> {
    if !select.one_profile() {
        return Err(Failure::usage("`--explain` needs one profile: `--profile NAME` or `-f FILE`"));
    }
    let text = select.selection(base).explain(field).map_err(|e| match e {
        // An unknown field is a bad argument; a profile that fails to load is a finding.
        tracestack::io::Error::Layout { .. } => Failure::usage(e.to_string()),
        e => Failure::findings(format!("{e}\nnothing was explained")),
    })?;
    println!("{text}");
    Ok(OK)
}

fn render(base: &Path, select: &Select, prune: bool) -> Result<u8, Failure> {
    let project::Target { dir, files } = rendered(base, select, "nothing was written")?;
    let report = output::write_dir_with(&dir, &files, output::Options { prune })
        .map_err(|e| Failure::findings(format!("{e}\nnothing was changed")))?;
    print!("{}", report.summary(&shown(base, &dir)));
    if let Some(leftover) = &report.leftover {
        eprintln!("warning: {leftover}");
    }
    Ok(OK)
}

fn check(base: &Path, select: &Select, prune: bool) -> Result<u8, Failure> {
    let project::Target { dir, files } = rendered(base, select, "nothing was checked")?;
    output::check_dir_with(&dir, &files, output::Options { prune }).map_err(|e| Failure::findings(e.to_string()))?;
    println!("{}: {} files up to date", shown(base, &dir), files.len());
    Ok(OK)
}

fn diff(base: &Path, select: &Select, against: Option<&str>, format: Format, exit_code: bool) -> Result<u8, Failure> {
    let project::Target { dir, files } = rendered(base, select, "nothing to compare")?;
    let against = match against {
        None => committed::Against::Dir(dir.clone()),
        Some(given) => {
            let path = base.join(given);
            if path.is_dir() {
                committed::Against::Dir(path)
            } else if committed::is_revision(&dir, given) {
                committed::Against::Revision(given.to_owned())
            } else {
                return Err(Failure::usage(format!(
                    "--against {given}: neither a directory nor a git revision of the repository holding {}",
                    shown(base, &dir)
                )));
            }
        }
    };
    let old = match &against {
        committed::Against::Dir(path) => committed::from_dir(path),
        committed::Against::Revision(revision) => committed::from_revision(&dir, revision),
    }
    .map_err(Failure::usage)?;
    let set = diff::compare(&old, &files, select.profile.is_none());
    let text = match format {
        Format::Text => diff::text(&set),
        Format::Markdown => diff::markdown(&set),
        Format::Json => json(&set),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).map_err(|e| Failure::findings(format!("standard output: {e}")))?;
    Ok(if exit_code && !set.is_empty() { FINDINGS } else { OK })
}

fn json(set: &diff::ChangeSet) -> String {
    use serde_json::{Value, json};
    let changes: Vec<Value> = set
        .changes
        .iter()
        .map(|change| {
            let (kind, namespace, name, path) = match &change.id {
                diff::Id::Object { kind, namespace, name } => {
                    (Some(kind.clone()), namespace.clone(), Some(name.clone()), None)
                }
                diff::Id::Document { path } => (None, None, None, Some(path.clone())),
            };
            let (status, fields) = match &change.status {
                diff::Status::Added => ("added", Vec::new()),
                diff::Status::Removed => ("removed", Vec::new()),
                diff::Status::Changed(fields) => ("changed", fields.clone()),
            };
            let fields: Vec<Value> = fields
                .iter()
                .map(|field| match field {
                    diff::Field::Value { path, old, new } => json!({"path": path, "old": old, "new": new}),
                    diff::Field::Text { path, diff } => json!({"path": path, "diff": diff}),
                })
                .collect();
            json!({
                "profile": change.profile, "status": status, "kind": kind, "namespace": namespace,
                "name": name, "document": path, "file": change.file, "fields": fields,
            })
        })
        .collect();
    let effects: Vec<Value> = set
        .effects
        .iter()
        .map(|e| {
            let topic = format!("{:?}", e.topic).to_lowercase();
            json!({"profile": e.profile, "topic": topic, "text": e.text.replace('`', "")})
        })
        .collect();
    let (added, removed, changed) = set.counts();
    let value = json!({
        "added": added, "removed": removed, "changed": changed,
        "header_only": set.header_only, "changes": changes, "effects": effects,
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

fn validate(base: &Path, select: &Select) -> Result<u8, Failure> {
    if !select.sets.is_empty() && !select.one_profile() {
        return Err(Failure::usage("`--set` needs one profile: `--profile NAME` or `-f FILE`"));
    }
    let selection = select.selection(base);
    // One layered profile (its files and `--set` values), or each profile file on its own.
    let targets: Vec<Vec<PathBuf>> = match (selection.layers(), selection.profile_file()) {
        (Some(layers), _) => vec![layers],
        (None, Some(path)) => vec![vec![path]],
        (None, None) => project::profile_files(&selection.profiles_dir())
            .map_err(|e| Failure::usage(e.to_string()))?
            .into_iter()
            .map(|path| vec![path])
            .collect(),
    };
    let mut failures = Vec::new();
    let mut bundles = Vec::new();
    for layers in &targets {
        match validate_profile(layers, &selection.sets) {
            Ok((name, summary, files)) => {
                println!(
                    "{name}: {} objects, {} configs: {} cross-object checks passed",
                    summary.objects, summary.configs, summary.checks
                );
                bundles.push((name, files));
            }
            Err(e) => failures.push(e),
        }
    }
    match kustomize(&bundles) {
        Ok(line) => println!("{line}"),
        Err(e) => failures.push(e),
    }
    if failures.is_empty() {
        println!("validated {} profile(s)", bundles.len());
        Ok(OK)
    } else {
        Err(Failure::findings(failures.join("\n")))
    }
}

type Files = std::collections::BTreeMap<String, String>;

/// Loads one profile from its files (each with its bases, the last naming it) and `--set` values,
/// then builds, checks and renders it.
fn validate_profile(
    layers: &[PathBuf],
    sets: &[String],
) -> Result<(String, tracestack::check::Summary, Files), String> {
    use tracestack::model::load;
    let path = layers.last().map(PathBuf::as_path).unwrap_or(Path::new("profile"));
    let layered = load::load_layered(layers, sets).map_err(|e| e.to_string())?;
    let (name, profile) = (layered.name, layered.profile);
    let stack = tracestack::Stack::build(&profile).map_err(|e| format!("{}: {e}", path.display()))?;
    let summary = stack.check().map_err(|e| format!("{}: {e}", path.display()))?;
    let source = tracestack::render::Source { profile: name.clone(), origin: project::origin(path) };
    let rendered = tracestack::render::render_stack(stack, &source).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((name, summary, rendered.files))
}

/// `kubectl kustomize` of every kustomization every profile renders (not the kustomize
/// Components, which build inside their owners' kustomizations), from a scratch directory;
/// skipped (and said so) without kubectl.
fn kustomize(profiles: &[(String, Files)]) -> Result<String, String> {
    let kubectl = std::env::var_os("KUBECTL").map_or_else(|| PathBuf::from("kubectl"), PathBuf::from);
    let found = std::process::Command::new(&kubectl).args(["version", "--client"]).output();
    if !found.is_ok_and(|o| o.status.success()) {
        return Ok("skipped: kubectl kustomize (kubectl not found; install it to build every kustomization)".into());
    }
    let scratch = std::env::temp_dir().join(format!("tracestack-validate-{}", std::process::id()));
    let result = (|| {
        let mut built = 0;
        for (name, files) in profiles {
            let root = scratch.join(name);
            for (rel, text) in files {
                let path = root.join(rel);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
                }
                std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            }
            // Kustomizations the stack applies; kustomize Components (`apps/<name>/`,
            // `istio/injection/`) patch their owners' objects and build only inside their owners'.
            let applied = files.iter().filter(|(rel, text)| {
                (rel.as_str() == "kustomization.yaml" || rel.ends_with("/kustomization.yaml"))
                    && !text.contains("\nkind: Component\n")
            });
            for rel in applied.map(|(rel, _)| rel) {
                let dir = rel.strip_suffix("kustomization.yaml").unwrap_or_default();
                let out = std::process::Command::new(&kubectl)
                    .arg("kustomize")
                    .arg(root.join(dir))
                    .output()
                    .map_err(|e| format!("kubectl: {e}"))?;
                if !out.status.success() {
                    return Err(format!(
                        "{name}/{dir}: kubectl kustomize failed: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    ));
                }
                built += 1;
            }
        }
        Ok(format!("kubectl kustomize: {built} kustomization(s) built"))
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn schema(base: &Path, out: Option<&Path>) -> Result<u8, Failure> {
    let text = tracestack::model::schema::profile_schema().map_err(|e| Failure::findings(e.to_string()))?;
    match out {
        None => {
            std::io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .map_err(|e| Failure::findings(format!("standard output: {e}")))?;
        }
        Some(path) => {
            let path = base.join(path);
            std::fs::write(&path, text).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
            println!("{}: written", shown(base, &path));
        }
    }
    Ok(OK)
}
