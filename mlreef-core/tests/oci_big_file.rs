//! A 2 GB file in a repository is streamed into the code layer: never whole in memory.
//! A test binary of its own, so that its peak memory is its own.

use std::fs;

use mlreef_core::oci::{BlobStore, CodeOptions, Compression, code_layer};
use mlreef_core::progress::{Cancelled, Event};

/// The peak resident memory of this process, in bytes (`VmHWM`).
fn peak_memory() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 1024
}

#[test]
fn a_two_gigabyte_sparse_file_is_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    fs::create_dir_all(&repo).unwrap();
    fs::write(repo.join("train.py"), "print(1)\n").unwrap();
    let big = fs::File::create(repo.join("weights.bin")).unwrap();
    let size: u64 = 2 << 30;
    big.set_len(size).unwrap();
    drop(big);
    let store = BlobStore::open(dir.path().join("cache")).unwrap();
    let mut options = CodeOptions::default();
    options.layer.compression = Compression::Gzip;
    let reported = std::sync::Mutex::new(Vec::new());
    let progress = |event: &Event<'_>| -> Result<(), Cancelled> {
        reported.lock().unwrap().push((event.done, event.total));
        Ok(())
    };
    let before = peak_memory();
    let started = std::time::Instant::now();
    let layer = code_layer(&store, &repo, &options, &progress)
        .unwrap()
        .layer;
    let elapsed = started.elapsed();
    let peak = peak_memory();
    eprintln!(
        "2 GiB of zeros: {:.1} s ({:.0} MiB/s), layer {} bytes, peak memory {} MB (before {} MB)",
        elapsed.as_secs_f64(),
        f64::from(u32::try_from(size >> 20).unwrap()) / elapsed.as_secs_f64(),
        layer.size,
        peak >> 20,
        before >> 20
    );
    assert!(peak < 200 << 20, "peak memory {} MB", peak >> 20);
    assert!(layer.size < 16 << 20, "zeros compress: {}", layer.size);
    let (_, tar_len) = store
        .uncompressed(&layer.digest, Compression::Gzip)
        .unwrap();
    assert!(tar_len > size, "the whole file is in the tar: {tar_len}");
    let reported = reported.into_inner().unwrap();
    let total = size + 9;
    assert_eq!(reported.first(), Some(&(0, Some(total))));
    assert_eq!(reported.last(), Some(&(total, Some(total))));
    assert!(reported.len() > 100, "progress is reported as the bytes go");
    assert!(reported.windows(2).all(|w| w[0].0 <= w[1].0));
}
