//! Throughput of the static argparse extractor on realistic training scripts.
//!
//! Run with `cargo bench -p mlreef-benches --bench argparse`. Each script is extracted the way
//! `mlreef params` does it (its repository set, so helper modules are followed), from source
//! already in memory: reading the entry point is not measured, reading helpers is.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mlreef_benches::{fixture_scripts, fixtures_dir, synthetic_script};
use mlreef_core::argparse::{Options, default_repo, extract};
use mlreef_core::source::read as read_source;

fn options_for(script: &Path) -> Options {
    Options {
        repo: Some(default_repo(script)),
        path: Some(script.to_path_buf()),
        ..Options::default()
    }
}

fn bench_extract(c: &mut Criterion) {
    let scripts: Vec<_> = fixture_scripts()
        .into_iter()
        .map(|path| {
            let source = read_source(&path).unwrap_or_else(|e| panic!("{e}"));
            let options = options_for(&path);
            (path, source, options)
        })
        .collect();
    assert!(
        !scripts.is_empty(),
        "no fixtures under {}",
        fixtures_dir().display()
    );

    let mut group = c.benchmark_group("argparse_extract");
    group.measurement_time(Duration::from_secs(3));

    for (path, source, options) in &scripts {
        let name = path
            .strip_prefix(fixtures_dir())
            .unwrap_or(path)
            .display()
            .to_string();
        group.throughput(Throughput::Bytes(source.len() as u64));
        group.bench_with_input(BenchmarkId::new("fixture", name), source, |b, source| {
            b.iter(|| extract(black_box(source), options));
        });
    }

    let total: usize = scripts.iter().map(|(_, source, _)| source.len()).sum();
    group.throughput(Throughput::Bytes(total as u64));
    group.bench_function("all_fixtures", |b| {
        b.iter(|| {
            for (_, source, options) in &scripts {
                let _ = black_box(extract(black_box(source), options));
            }
        });
    });

    let synthetic = synthetic_script(200_000);
    let options = Options::default();
    group.throughput(Throughput::Bytes(synthetic.len() as u64));
    group.bench_function("synthetic_200k", |b| {
        b.iter(|| extract(black_box(&synthetic), &options));
    });
    group.finish();
}

criterion_group!(benches, bench_extract);
criterion_main!(benches);
