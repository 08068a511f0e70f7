//! Evaluating imported repository modules on demand against evaluating each whole at import,
//! on a generated repository shaped like pytorch-image-models: a package of 300 model modules
//! (about 4.8 MB) that the training script imports, while only a small helper module and a
//! constant reach its parser.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use mlreef_benches::synthetic_model_zoo;
use mlreef_core::argparse::{Imports, Options, extract_file};

fn bench_imports(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let script = synthetic_model_zoo(dir.path(), 300);
    let options = |imports| Options {
        imports,
        ..Options::default()
    };
    let on_demand = options(Imports::OnDemand);
    let eager = options(Imports::Eager);
    // The comparison is only fair if both find the same parameters.
    let a = extract_file(&script, &on_demand).expect("the script reads");
    let b = extract_file(&script, &eager).expect("the script reads");
    assert_eq!(a.parameters, b.parameters, "on demand and eager disagree");
    assert_eq!(a.parameters.len(), 10);

    let mut group = c.benchmark_group("imports");
    group.measurement_time(Duration::from_secs(10));
    group.sample_size(20);
    group.bench_function("on_demand", |bench| {
        bench.iter(|| extract_file(black_box(&script), &on_demand));
    });
    group.bench_function("eager", |bench| {
        bench.iter(|| extract_file(black_box(&script), &eager));
    });
    group.finish();
}

criterion_group!(benches, bench_imports);
criterion_main!(benches);
