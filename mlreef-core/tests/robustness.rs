//! No input makes the extractor panic: every fixture, cut and mangled in many ways, either
//! extracts or fails with a positioned error.
//!
//! The mutations come from a fixed-seed generator, so a failure reproduces; the seed and the
//! mutated source are in the failure message.

mod common;

use mlreef_core::argparse::{Error, Options, extract};

/// xorshift64*: small, deterministic, good enough to pick cut points.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap()
    }
}

/// Python fragments that tend to reach unusual parser and interpreter states.
const FRAGMENTS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    "\n",
    "    ",
    "\\\n",
    "'",
    "\"",
    "f\"{",
    "}\"",
    "*",
    "**",
    "lambda",
    "def f(",
    "class C(",
    "return",
    "parser",
    ".add_argument(",
    "=",
    "-",
    "not ",
    " if ",
    " else ",
    "for x in ",
    "import ",
    "from . import ",
    "...",
    "#",
    "é",
    "\u{feff}",
    "\t",
    "0x",
    "1e",
];

fn mutate(source: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = source.chars().collect();
    for _ in 0..=rng.below(3) {
        let len = chars.len();
        match rng.below(4) {
            0 => chars.truncate(rng.below(len + 1)),
            1 => {
                let a = rng.below(len + 1);
                let b = (a + rng.below(40)).min(len);
                chars.drain(a..b);
            }
            2 => {
                let a = rng.below(len + 1);
                let b = (a + rng.below(60)).min(len);
                let copy: Vec<char> = chars[a..b].to_vec();
                let at = rng.below(chars.len() + 1);
                chars.splice(at..at, copy);
            }
            _ => {
                let at = rng.below(len + 1);
                let fragment = FRAGMENTS[rng.below(FRAGMENTS.len())];
                chars.splice(at..at, fragment.chars());
            }
        }
    }
    chars.into_iter().collect()
}

#[test]
fn mangled_fixtures_never_panic() {
    let seed = 0x6d6c_7265_6566_u64;
    let mut rng = Rng(seed);
    let mut checked = 0;
    for f in common::argparse_fixtures() {
        let source = std::fs::read_to_string(&f.entry).unwrap();
        let options = Options {
            repo: Some(f.repo.clone()),
            path: Some(f.entry.clone()),
            ..Options::default()
        };
        for round in 0..40 {
            let mangled = mutate(&source, &mut rng);
            let result = std::panic::catch_unwind(|| extract(&mangled, &options));
            match result {
                Ok(Ok(_)) => {}
                Ok(Err(Error::Syntax { line, column, .. })) => {
                    assert!(
                        line >= 1 && column >= 1,
                        "{} round {round}: position {line}:{column}",
                        f.name
                    );
                }
                Ok(Err(other)) => panic!("{} round {round}: unexpected error {other}", f.name),
                Err(payload) => panic!(
                    "{} round {round} (seed {seed:#x}) panicked ({:?}) on:\n{mangled}",
                    f.name,
                    payload.downcast_ref::<String>()
                ),
            }
            checked += 1;
        }
    }
    assert!(checked > 2000, "only {checked} inputs checked");
}

#[test]
fn every_prefix_of_a_realistic_script_is_handled() {
    let fixture = common::argparse_fixtures()
        .into_iter()
        .find(|f| f.name == "realistic_pytorch_train")
        .unwrap();
    let source = std::fs::read_to_string(&fixture.entry).unwrap();
    let options = Options::default();
    for (cut, _) in source.char_indices() {
        let prefix = &source[..cut];
        if let Err(e) = extract(prefix, &options) {
            assert!(
                matches!(e, Error::Syntax { .. }),
                "prefix of {cut} bytes: {e}"
            );
        }
    }
}
