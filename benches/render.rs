//! `cargo bench`: criterion benchmarks of the in-process paths — load and validate a profile, render
//! each built-in profile to bytes, and render 1,000 profile variants (`cargo xtask bench` prints the
//! same figures against their targets in seconds, without criterion). `cargo test` runs each
//! benchmark once, so a broken benchmark fails the test suite.

mod workload;

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn profiles() -> Vec<workload::ProfileText> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    workload::builtin_profiles(&dir).unwrap_or_else(|e| panic!("cannot read the built-in profiles: {e}"))
}

/// Profile text → validated `Profile`.
fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    for profile in profiles() {
        group.bench_function(&profile.name, |b| {
            b.iter(|| black_box(tracestack::model::load::load_str(&profile.origin, black_box(&profile.text))))
        });
    }
    group.finish();
}

/// Profile text → rendered files: load, validate, build and render, as `cargo xtask render` does
/// for each profile minus the disk.
fn render(c: &mut Criterion) {
    let mut group = c.benchmark_group("render");
    for profile in profiles() {
        if let Err(e) = workload::render_text(&profile) {
            panic!("{} does not render: {e}", profile.name);
        }
        group.bench_function(&profile.name, |b| b.iter(|| black_box(workload::render_text(black_box(&profile)))));
    }
    group.finish();
}

/// 1,000 different profiles rendered one after another in one process.
fn variants(c: &mut Criterion) {
    let variants = workload::variants(workload::VARIANTS);
    let mut group = c.benchmark_group("variants");
    group.sample_size(10).measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(variants.len() as u64));
    group.bench_function("1000", |b| {
        b.iter(|| {
            let mut bytes = 0usize;
            for variant in &variants {
                match workload::render_text(black_box(variant)) {
                    Ok(rendered) => bytes += rendered.files.values().map(String::len).sum::<usize>(),
                    Err(e) => panic!("variant {} does not render: {e}\n{}", variant.name, variant.text),
                }
            }
            black_box(bytes)
        })
    });
    group.finish();
}

criterion_group!(benches, load, render, variants);
criterion_main!(benches);
