//! What the fuzz targets share: a hermetic working folder, the calls made on every result, and
//! a switch to step over panics that are already reported.

use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::OnceLock;

use mlreef_core::requirements::{Options, RequirementsFile, Target, parse};

/// Panics already found and reported (see README.md): where they are raised (a file name
/// ending and a line) and a piece of their message.
const KNOWN_PANICS: &[(&str, u32, &str)] = &[
    // pep508_rs 0.9.2 `parse_name`: a name ending in `.`, `-` or `_` before another character
    // (`a.==1`, `a_[x]`, `s./`) fails `PackageName::new(..).expect(..)`.
    (
        "pep508_rs-0.9.2/src/lib.rs",
        477,
        "`PackageName` validation should match PEP 508 parsing",
    ),
    // pep508_rs 0.9.2 `parse_extras_cursor`: the same for an extra (`a[b-]`, `a[b_ ]`).
    (
        "pep508_rs-0.9.2/src/lib.rs",
        658,
        "`ExtraName` validation should match PEP 508 parsing",
    ),
    // pep508_rs 0.9.2 `parse_marker_op` (marker/parse.rs:525): `Cursor::peek_while` counts
    // characters, `Cursor::slice` takes bytes, so a non-ASCII word after a marker expression
    // slices inside a character.
    (
        "pep508_rs-0.9.2/src/cursor.rs",
        40,
        "is not a char boundary",
    ),
];

fn is_known(info: &panic::PanicHookInfo<'_>) -> bool {
    let message = info.payload_as_str().unwrap_or("");
    info.location().is_some_and(|at| {
        KNOWN_PANICS.iter().any(|(file, line, text)| {
            at.file().replace('\\', "/").ends_with(file)
                && at.line() == *line
                && message.contains(text)
        })
    })
}

/// Runs one input: in an empty working folder (see [`hermetic`]) and, when the environment
/// variable `MLREEF_FUZZ_IGNORE_KNOWN` is set (to anything), with the [`KNOWN_PANICS`] caught
/// instead of reported, so that a run can look past them for new findings. Any other panic
/// still aborts, as libFuzzer expects.
pub fn run(f: impl FnOnce()) {
    static IGNORE_KNOWN: OnceLock<bool> = OnceLock::new();
    let ignore = *IGNORE_KNOWN.get_or_init(|| {
        let on = std::env::var_os("MLREEF_FUZZ_IGNORE_KNOWN").is_some();
        if on {
            // libfuzzer-sys' hook aborts on every panic; let the known ones unwind instead.
            let abort = panic::take_hook();
            panic::set_hook(Box::new(move |info| {
                if !is_known(info) {
                    abort(info);
                }
            }));
        }
        on
    });
    hermetic(|| {
        if ignore {
            let _ = panic::catch_unwind(AssertUnwindSafe(f));
        } else {
            f();
        }
    });
}

/// Runs `f` with an empty folder of its own as the working folder.
///
/// With [`Options::default`] the text lives at `./requirements.txt` and the repository is the
/// working folder, so a `-r`/`-c` line reads files below it. In an empty folder every include
/// ends in a diagnostic (not found, outside the repository, cycle) instead of reading whatever
/// lies around the fuzzer (its corpus, its build output), which keeps runs reproducible. The
/// folder is changed back afterwards because libFuzzer re-runs its own binary by a relative
/// path (`-fork`, `-minimize_crash`, which `cargo fuzz tmin` uses).
pub fn hermetic<T>(f: impl FnOnce() -> T) -> T {
    static DIRS: OnceLock<Option<(PathBuf, PathBuf)>> = OnceLock::new();
    let dirs = DIRS.get_or_init(|| {
        let empty = std::env::temp_dir().join("mlreef-fuzz-empty");
        std::fs::create_dir_all(&empty).ok()?;
        Some((std::env::current_dir().ok()?, empty))
    });
    let Some((home, empty)) = dirs else {
        return f();
    };
    let _ = std::env::set_current_dir(empty);
    let out = f();
    let _ = std::env::set_current_dir(home);
    out
}

/// Everything a caller does with a parsed file; none of it may panic.
pub fn exercise(file: RequirementsFile) {
    let target = Target::default();
    let rendered = file.render();
    let _ = file.to_json();
    let _ = file.first_error();
    let _ = file.render_constraints();
    let _ = file.render_for(&target);
    let _ = file.applicable(&target).count();
    let _ = file.unpinned().count();
    let _ = file.local().count();
    let file = file.for_target(&target);
    let _ = file.to_json();
    // parse -> render -> parse: what we write for the installer must read back.
    let again = parse(&rendered, &Options::default());
    let _ = again.render();
    let _ = again.for_target(&target).to_json();
}
