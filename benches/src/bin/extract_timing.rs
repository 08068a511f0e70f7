//! `extract_timing SCRIPT [ROUNDS]`: the mean time of one in-process `extract_parameters`
//! call on SCRIPT (the same call the Python binding makes), in microseconds, for
//! `benches/python_overhead.sh` to set against the Python call.

use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(script) = args.next().map(PathBuf::from) else {
        eprintln!("usage: extract_timing SCRIPT [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: u32 = args.next().and_then(|r| r.parse().ok()).unwrap_or(2000);
    // The call the binding makes: no repository given, so extraction finds the git root.
    let options = mlreef_core::argparse::Options::default();
    let run = || mlreef_core::module::script_parameters(&script, &options);
    if let Err(error) = run() {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(run().ok());
    }
    let micros = started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    println!("{micros:.2}");
}
