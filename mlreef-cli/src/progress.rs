//! Progress on stderr: bars when it is a terminal, one plain line per step otherwise (a CI log
//! stays readable), nothing with `--json`.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal as _;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use mlreef_core::progress::{Cancelled, Event, Progress};

/// Stages whose `done` and `total` count bytes.
const BYTE_STAGES: [&str; 5] = ["layer", "copy", "write", "upload", "fetch"];

pub struct Reporter {
    mode: Mode,
}

enum Mode {
    Quiet,
    Lines(Mutex<HashSet<String>>),
    Bars {
        multi: MultiProgress,
        bars: Mutex<HashMap<String, ProgressBar>>,
        said: Mutex<HashSet<String>>,
    },
}

impl Reporter {
    /// Quiet for `--json`; bars on a terminal; lines otherwise.
    pub fn new(quiet: bool) -> Reporter {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bars {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10)),
                bars: Mutex::new(HashMap::new()),
                said: Mutex::new(HashSet::new()),
            }
        } else {
            Mode::Lines(Mutex::new(HashSet::new()))
        };
        Reporter { mode }
    }

    /// Ends every bar, so that what is printed next starts on a clean line.
    pub fn finish(&self) {
        if let Mode::Bars { bars, multi, .. } = &self.mode {
            for (_, bar) in lock(bars).drain() {
                bar.finish_and_clear();
            }
            let _ = multi.clear();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `sha256:0123456789ab` for a digest, the text otherwise.
fn short(detail: &str) -> &str {
    if detail.starts_with("sha256:") {
        detail.get(..19).unwrap_or(detail)
    } else {
        detail
    }
}

fn line(event: &Event<'_>) -> String {
    match event.detail {
        Some(detail) => format!("{}: {}", event.stage, short(detail)),
        None => event.stage.to_owned(),
    }
}

impl Progress for Reporter {
    fn report(&self, event: &Event<'_>) -> Result<(), Cancelled> {
        match &self.mode {
            Mode::Quiet => {}
            Mode::Lines(said) => {
                // Retries are news each time; every other step is said once.
                let text = line(event);
                if event.stage == "retry" || lock(said).insert(text.clone()) {
                    eprintln!("{text}");
                }
            }
            Mode::Bars { multi, bars, said } => {
                let key = line(event);
                if let (true, Some(total)) = (BYTE_STAGES.contains(&event.stage), event.total) {
                    let mut bars = lock(bars);
                    let bar = bars.entry(key.clone()).or_insert_with(|| {
                        let bar = multi.add(ProgressBar::new(total));
                        bar.set_style(
                            ProgressStyle::with_template(
                                "{msg:32!} {bar:30} {binary_bytes:>10}/{binary_total_bytes:<10} {binary_bytes_per_sec}",
                            )
                            .unwrap_or_else(|_| ProgressStyle::default_bar()),
                        );
                        bar.set_message(key.clone());
                        bar.enable_steady_tick(Duration::from_millis(200));
                        bar
                    });
                    bar.set_position(event.done.min(total));
                    if event.done >= total {
                        bar.finish();
                    }
                } else {
                    if event.stage == "uploaded" {
                        let upload = format!("upload: {}", short(event.detail.unwrap_or("")));
                        if let Some(bar) = lock(bars).get(&upload) {
                            bar.finish();
                        }
                    }
                    if event.stage == "retry" || lock(said).insert(key.clone()) {
                        let _ = multi.println(key);
                    }
                }
            }
        }
        Ok(())
    }
}
