//! `cargo xtask`: renders profiles into `generated/`, checks that it is fresh, validates the output
//! against every check and upstream validator available, regenerates the collector component table
//! from `../shared`, and measures the performance targets.

mod bench;
mod components;
mod e2e;
mod validate;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracestack::io::{output, project};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "tracestack's project tasks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render profiles into Kubernetes YAML (all of profiles/ into generated/ by default).
    Render {
        /// Render only this profile (a name from profiles/, or a path to a profile file).
        #[arg(long)]
        profile: Option<String>,
        /// A profile file merged over the ones before it (repeatable; maps merge by key, lists
        /// replace, `null` removes); the last names the profile. Renders that one profile.
        #[arg(short = 'f', long = "file")]
        file: Vec<PathBuf>,
        /// Set one field over the files, e.g. `--set collector.replicas=3` (repeatable; the value
        /// is YAML; nothing after `=` removes the field).
        #[arg(long)]
        set: Vec<String>,
        /// Print a field's effective value and the file and line each layer sets it at, and
        /// write nothing (e.g. `--explain collector.replicas`).
        #[arg(long, value_name = "FIELD")]
        explain: Option<String>,
        /// Output directory (default: generated/, or generated/<profile> with --profile).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Directory of profile files (default: profiles/).
        #[arg(long)]
        profiles: Option<PathBuf>,
        /// Write nothing; fail naming every stale, missing or extra file.
        #[arg(long)]
        check: bool,
        /// Also remove generated output of profiles that were not rendered (their profile file is
        /// gone); without it that output is kept and listed.
        #[arg(long)]
        prune_profiles: bool,
    },
    /// Check a kustomization laid over rendered output: refuse a namespace change, renames,
    /// selector labels, pinned image tags and config patches, naming the line and the profile field
    /// to use instead.
    Overlay {
        /// The profile the overlay's resources were rendered from (a name from profiles/, or a path).
        #[arg(long)]
        profile: String,
        /// The user's kustomization.yaml.
        kustomization: PathBuf,
    },
    /// Render every profile in memory and run every check: the cross-object checks, custom resources
    /// against ../shared/crds, `kubernetes-validate --strict` and `kubectl kustomize` where available.
    Validate {
        /// Directory of profile files (default: profiles/).
        #[arg(long)]
        profiles: Option<PathBuf>,
    },
    /// Regenerate src/config/collector/distribution/table.rs from ../shared/schemas/collector/components.json.
    Components {
        /// Write nothing; fail if the committed table differs.
        #[arg(long)]
        check: bool,
    },
    /// Run the rendered stack for real: the real collector, Jaeger and telemetrygen, built from
    /// source and cached, in a simulated cluster of network namespaces (needs root and Go).
    E2e {
        /// Run only this suite (repeatable): validate, flow, metrics, opensearch, badger, faults, load.
        #[arg(long)]
        suite: Vec<String>,
        /// Write the collector builder manifest (xtask/e2e/otelcol-builder.yaml) and exit.
        #[arg(long)]
        manifest: bool,
    },
    /// A stand-in Elasticsearch for the e2e `metrics` suite (started by the harness).
    #[command(hide = true)]
    E2eFakeEs {
        /// Address to listen on.
        #[arg(long)]
        listen: String,
        /// Fail every bulk request (HTTP 500).
        #[arg(long)]
        fail: bool,
    },
    /// Measure render speed, memory and warm render wall time against their targets (BENCHMARKS.md).
    Bench {
        /// Exit non-zero when a figure misses its target.
        #[arg(long)]
        enforce: bool,
        /// Also time a cold build of `cargo xtask render` in a clean clone (takes minutes).
        #[arg(long)]
        cold: bool,
        /// Render the 1,000 variants once and print time and peak memory (run by `bench` itself).
        #[arg(long, hide = true)]
        variants_child: bool,
    },
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Render { profile, file, set, explain, out, profiles, check, prune_profiles } => {
            let options = output::Options { prune: prune_profiles };
            let layers = Layers { files: file, sets: set, explain };
            render(profile.as_deref(), &layers, out, profiles, check, options).map(|()| ExitCode::SUCCESS)
        }
        Command::Overlay { profile, kustomization } => overlay(&profile, &kustomization).map(|()| ExitCode::SUCCESS),
        Command::Components { check } => regenerate_components(check).map(|()| ExitCode::SUCCESS),
        Command::Bench { variants_child: true, .. } => bench::variants_child(),
        Command::Bench { enforce, cold, variants_child: false } => {
            bench::run(&root(), &bench::Options { enforce, cold })
        }
        Command::E2e { suite, manifest } => e2e::run(&root(), &suite, manifest),
        Command::E2eFakeEs { listen, fail } => e2e::fake_es::serve(&listen, fail).map(|()| ExitCode::SUCCESS),
        Command::Validate { profiles } => {
            let root = root();
            let profiles = profiles.unwrap_or_else(|| root.join("profiles"));
            validate::run(&root, &profiles).map(|()| ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `-f`, `--set` and `--explain` of `render`.
struct Layers {
    files: Vec<PathBuf>,
    sets: Vec<String>,
    explain: Option<String>,
}

fn render(
    profile: Option<&str>,
    layers: &Layers,
    out: Option<PathBuf>,
    profiles: Option<PathBuf>,
    check: bool,
    options: output::Options,
) -> Result<(), String> {
    let root = root();
    let selection = project::Selection {
        base: root.clone(),
        profiles,
        profile: profile.map(str::to_owned),
        out,
        files: layers.files.clone(),
        sets: layers.sets.clone(),
    };
    if let Some(field) = &layers.explain {
        println!("{}", selection.explain(field).map_err(|e| e.to_string())?);
        return Ok(());
    }
    let project::Target { dir, files } = selection.render().map_err(|errors| {
        let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
        if selection.profile.is_none()
            && selection.files.is_empty()
            && errors
                .iter()
                .all(|e| matches!(e, tracestack::io::Error::InProfile { .. } | tracestack::io::Error::Load(_)))
        {
            format!("{}\n{} profile(s) failed; nothing was written", list.join("\n"), errors.len())
        } else {
            format!("{}\nnothing was written", list.join("\n"))
        }
    })?;
    let shown = dir.strip_prefix(&root).unwrap_or(&dir).display().to_string();
    if check {
        output::check_dir_with(&dir, &files, options).map_err(|e| e.to_string())?;
        println!("{shown}: {} files up to date", files.len());
        return Ok(());
    }
    let report = output::write_dir_with(&dir, &files, options).map_err(|e| format!("{e}\nnothing was changed"))?;
    print!("{}", report.summary(&shown));
    if let Some(leftover) = &report.leftover {
        eprintln!("warning: {leftover}");
    }
    Ok(())
}

fn overlay(profile: &str, kustomization: &Path) -> Result<(), String> {
    let root = root();
    let path = if profile.ends_with(".yaml") || profile.ends_with(".yml") || profile.contains('/') {
        PathBuf::from(profile)
    } else {
        root.join("profiles").join(format!("{profile}.yaml"))
    };
    let loaded = tracestack::load_file(&path).map_err(|e| e.to_string())?;
    let stack = tracestack::Stack::build(&loaded).map_err(|e| e.to_string())?;
    tracestack::io::overlay::check_file(kustomization, &stack).map_err(|e| e.to_string())?;
    println!("{}: changes nothing the profile writes", kustomization.display());
    Ok(())
}

fn regenerate_components(check: bool) -> Result<(), String> {
    let root = root();
    let text = components::generate(&root.join("../shared"))?;
    let target = root.join("src/config/collector/distribution/table.rs");
    let current = std::fs::read_to_string(&target).unwrap_or_default();
    if current == text {
        println!("{}: up to date", target.display());
        return Ok(());
    }
    if check {
        return Err(format!("{} is stale; run `cargo xtask components`", target.display()));
    }
    std::fs::write(&target, text).map_err(|e| format!("{}: {e}", target.display()))?;
    println!("{}: written", target.display());
    Ok(())
}
