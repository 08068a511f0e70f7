//! Throughput of the requirements parser, the way `mlreef requirements` reads a file.
//!
//! Run with `cargo bench -p mlreef-benches --bench requirements`. The corpus and the realistic
//! fixtures go through `parse_file`, so reading, decoding and following `-r` includes are
//! measured along with parsing; throughput counts the top-level files' bytes only. The
//! generated pip-compile file is parsed from memory with `parse`.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mlreef_benches::{
    pip_compile_requirements, requirements_corpus_dir, requirements_corpus_files,
    requirements_fixtures,
};
use mlreef_core::requirements::{Options, parse, parse_file};

fn total_bytes(files: &[impl AsRef<Path>]) -> u64 {
    files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum()
}

fn bench_requirements(c: &mut Criterion) {
    let mut group = c.benchmark_group("requirements");
    group.measurement_time(Duration::from_secs(3));

    let corpus = requirements_corpus_files();
    assert!(
        !corpus.is_empty(),
        "no .txt files under {}",
        requirements_corpus_dir().display()
    );
    // An empty env keeps `${VAR}` as written, so the result does not depend on the shell.
    let options = Options {
        repo: Some(requirements_corpus_dir()),
        env: Some(std::collections::HashMap::new()),
        ..Options::default()
    };
    group.throughput(Throughput::Bytes(total_bytes(&corpus)));
    group.bench_function("corpus", |b| {
        b.iter(|| {
            for path in &corpus {
                let _ = black_box(parse_file(black_box(path), &options));
            }
        });
    });

    let options = Options::default();
    for path in requirements_fixtures() {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        group.throughput(Throughput::Bytes(total_bytes(&[&path])));
        group.bench_with_input(BenchmarkId::new("fixture", name), &path, |b, path| {
            b.iter(|| parse_file(black_box(path), &options));
        });
    }

    let text = pip_compile_requirements(10_000);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("pip_compile_10k_lines", |b| {
        b.iter(|| parse(black_box(&text), &options));
    });
    group.finish();
}

criterion_group!(benches, bench_requirements);
criterion_main!(benches);
