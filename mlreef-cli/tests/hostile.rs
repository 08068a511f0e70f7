//! Hostile inputs, one case per class: each is read by the real `mlreef` binary under a 3 GiB
//! address-space limit and a generous kill timer, and must end with its expected exit status
//! and diagnostics: never a panic, an abort, runaway memory or a hang. How fast and how small
//! each run is, is measured by `benches/hostile.sh`, not here.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

mod common;

/// What a case must end with.
struct Expect {
    status: i32,
    /// Diagnostic codes (or, for errors, texts on stderr) that must be reported.
    codes: &'static [&'static str],
    /// The number of parameters found, when it matters.
    parameters: Option<usize>,
}

const BOUNDED: Expect = Expect {
    status: 0,
    codes: &["too-complex"],
    parameters: None,
};

/// Runs `mlreef ARGS` through [`common::mlreef_limited`]; a run that outlives five minutes or
/// ends by a signal fails the test.
fn run_limited(args: &[&str]) -> (i32, String, String) {
    common::mlreef_limited(args, &[], Duration::from_mins(5))
        .unwrap_or_else(|problem| panic!("`mlreef {}` {problem}", args.join(" ")))
}

fn check_script(name: &str, source: &str, expect: &Expect) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train.py");
    std::fs::write(&path, source).unwrap();
    let (status, out, err) = run_limited(&["params", "--json", path.to_str().unwrap()]);
    assert_eq!(status, expect.status, "{name}: stderr {err}");
    let json: Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {}", &out[..out.len().min(300)]));
    let codes: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    for code in expect.codes {
        assert!(codes.contains(code), "{name}: no `{code}` in {codes:?}");
    }
    if let Some(n) = expect.parameters {
        assert_eq!(
            json["parameters"].as_array().unwrap().len(),
            n,
            "{name}: parameters"
        );
    }
}

fn script(body: &str) -> String {
    format!("import argparse\np = argparse.ArgumentParser()\n{body}\np.parse_args()\n")
}

#[test]
fn ranges_with_extreme_bounds_are_refused_by_size_not_wrapped() {
    for (name, call) in [
        (
            "ascending",
            "range(-9223372036854775807, 9223372036854775807, 2)",
        ),
        (
            "descending",
            "range(9223372036854775807, -9223372036854775807, -1)",
        ),
        (
            "full",
            "range(-9223372036854775807 - 1, 9223372036854775807)",
        ),
        ("list", "list(range(10**18))"),
    ] {
        let body = format!("for i in {call}:\n    p.add_argument(f'--a{{i}}')");
        check_script(name, &script(&body), &BOUNDED);
    }
}

#[test]
fn huge_widths_and_precisions_are_refused_before_allocating() {
    for (name, help) in [
        ("f-string width", "f'{x:>2000000000}'"),
        ("zero padding", "f'{x:0999999999}'"),
        ("precision", "f'{x:.2000000000f}'"),
        ("str.format", "'{:>2000000000}'.format(x)"),
        ("percent", "'%2000000000d' % 1"),
        ("percent string", "'%-2000000000s' % 'a'"),
    ] {
        let body = format!("x = 1.5\np.add_argument('--a', help={help})");
        check_script(
            name,
            &script(&body),
            &Expect {
                status: 0,
                codes: &["too-complex", "dynamic-help"],
                parameters: Some(1),
            },
        );
    }
}

#[test]
fn values_that_double_in_a_loop_stop_at_the_size_limit() {
    for (name, start, step) in [
        ("string", "'ab'", "x + x"),
        ("string repeat", "'ab'", "x * 2"),
        ("list", "['ab']", "x + x"),
        ("list repeat", "[1, 2]", "x * 2"),
        ("tuple", "('ab',)", "x + x"),
        ("nested list", "[]", "[x, x]"),
        ("nested dict", "{}", "{'a': x, 'b': x}"),
        ("joined", "'ab'", "','.join([x, x])"),
        ("replaced", "'ab'", "x.replace('', x)"),
        ("formatted", "'ab'", "'{}{}'.format(x, x)"),
        ("f-string", "'ab'", "f'{x}{x}'"),
        ("percent", "'ab'", "'%s%s' % (x, x)"),
    ] {
        let body = format!(
            "x = {start}\nfor i in range(64):\n    x = {step}\np.add_argument('--a', default='d', help='h')"
        );
        check_script(
            name,
            &script(&body),
            &Expect {
                status: 0,
                codes: &["too-complex"],
                parameters: Some(1),
            },
        );
    }
}

#[test]
fn shared_values_count_at_their_full_size() {
    // One megabyte shared a hundred thousand times is 100 GB once written out.
    let body = "s = 'a' * 1000000\nl = [s] * 100000\nfor i in range(1000):\n    p.add_argument(f'--a{i}', default=l)";
    check_script("shared", &script(body), &BOUNDED);
    let body = "s = 'a' * 1000000\nfor i in range(1000):\n    p.add_argument(f'--a{i}', default=s, help=s)";
    check_script("big defaults", &script(body), &BOUNDED);
}

#[test]
fn a_loop_over_a_large_dict_adds_every_argument() {
    let mut body = String::from("D = {\n");
    for i in 0..100_000 {
        let _ = writeln!(body, "    'opt{i}': {i},");
    }
    body.push_str("}\nfor k in D:\n    p.add_argument('--' + k, type=int, default=D[k])");
    check_script(
        "dict loop",
        &script(&body),
        &Expect {
            status: 0,
            codes: &[],
            parameters: Some(100_000),
        },
    );
    let body = "L = []\nfor i in range(100000):\n    L.append(i)\nfor i in L:\n    p.add_argument(f'--a{i}', default=i)";
    check_script(
        "appends",
        &script(body),
        &Expect {
            status: 0,
            codes: &[],
            parameters: Some(100_000),
        },
    );
}

#[test]
fn work_without_end_is_cut_off() {
    for (name, body) in [
        (
            "exponential calls",
            "def f(n):\n    f(n - 1)\n    f(n - 1)\nf(40)\np.add_argument('--a')",
        ),
        (
            "product comprehension",
            "r = range(1000)\nx = [(a, b, c) for a in r for b in r for c in r]\np.add_argument('--a', default=len(x))",
        ),
        (
            "quadratic membership",
            "big = list(range(100000))\nn = 0\nfor i in range(100000):\n    if i in big:\n        n = n + 1\np.add_argument('--a', default=n)",
        ),
        (
            "repeated sorting",
            "big = list(range(100000))\nfor i in range(10000):\n    big = sorted(big)\np.add_argument('--a')",
        ),
        (
            "growing string",
            "s = ''\nfor i in range(100000):\n    s += '0123456789' * 10\np.add_argument('--a', help=s)",
        ),
        (
            "nested loops",
            "for a in range(100000):\n    for b in range(100000):\n        x = a + b\np.add_argument('--a')",
        ),
    ] {
        check_script(name, &script(body), &BOUNDED);
    }
}

#[test]
fn integer_overflow_is_unknown_not_wrapped() {
    for expr in [
        "2 ** 64",
        "9223372036854775807 + 1",
        "-9223372036854775807 - 2",
        "(-9223372036854775807 - 1) // -1",
        "(-9223372036854775807 - 1) % -1",
        "abs(-9223372036854775807 - 1)",
        "-(-9223372036854775807 - 1)",
        "1 << 70",
        "9223372036854775807 * 2",
        "round(1e300)",
        "int(1e300)",
        "sum([9223372036854775807, 1])",
        "99999999999999999999999",
        "10 ** 10 ** 10",
    ] {
        let body = format!("p.add_argument('--a', default={expr})");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train.py");
        std::fs::write(&path, script(&body)).unwrap();
        let (status, out, err) = run_limited(&["params", "--json", path.to_str().unwrap()]);
        assert_eq!(status, 0, "{expr}: {err}");
        let json: Value = serde_json::from_str(&out).unwrap();
        let default = &json["parameters"][0]["default"];
        assert!(
            default.is_null() || default.as_f64().is_some_and(f64::is_finite),
            "{expr}: {default}"
        );
        assert!(
            !json["parameters"][0]["default_expr"].is_null() || !default.is_null(),
            "{expr}"
        );
    }
}

#[test]
fn deep_nesting_is_bounded() {
    // Within Python's own bracket limit, but deeper than values may nest.
    let literal = format!("{}1{}", "[".repeat(150), "]".repeat(150));
    check_script(
        "deep literal",
        &script(&format!("p.add_argument('--a', default={literal})")),
        &Expect {
            status: 0,
            codes: &["too-complex"],
            parameters: Some(1),
        },
    );
    let chain = vec!["1"; 100_000].join(" + ");
    check_script(
        "long chain",
        &script(&format!("p.add_argument('--a', default={chain})")),
        &Expect {
            status: 0,
            codes: &["too-deep"],
            parameters: Some(1),
        },
    );
    check_script(
        "deep recursion",
        &script("def f(n):\n    return f(n + 1)\np.add_argument('--a', default=f(0))"),
        &Expect {
            status: 0,
            codes: &["recursion-limit"],
            parameters: Some(1),
        },
    );
}

/// A repository with helper modules for the import cases.
fn repository(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn check_repo(name: &str, repo: &Path, expect: &Expect) {
    let script = repo.join("train.py");
    let (status, out, err) = run_limited(&["params", "--json", script.to_str().unwrap()]);
    assert_eq!(status, expect.status, "{name}: {err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    if let Some(n) = expect.parameters {
        assert_eq!(
            json["parameters"].as_array().unwrap().len(),
            n,
            "{name}: {json}"
        );
    }
}

#[test]
fn import_cycles_and_chains_end() {
    let cycle = repository(&[
        ("a.py", "from b import X\nY = X\n"),
        ("b.py", "from a import Y\nX = Y\n"),
        ("stars1.py", "from stars2 import *\n"),
        ("stars2.py", "from stars1 import *\n"),
        (
            "train.py",
            "import argparse\nfrom a import Y\nfrom stars1 import missing\np = argparse.ArgumentParser()\np.add_argument('--a', default=Y)\np.add_argument('--b', default=missing)\np.parse_args()\n",
        ),
    ]);
    check_repo(
        "cycles",
        cycle.path(),
        &Expect {
            status: 0,
            codes: &[],
            parameters: Some(2),
        },
    );
    // A chain of 500 modules, each importing the next.
    let mut files: Vec<(String, String)> = (0..500)
        .map(|i| (format!("m{i}.py"), format!("from m{} import V\n", i + 1)))
        .collect();
    files.push(("m500.py".into(), "V = 5\n".into()));
    files.push((
        "train.py".into(),
        "import argparse\nfrom m0 import V\np = argparse.ArgumentParser()\np.add_argument('--a', default=V)\np.parse_args()\n".into(),
    ));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let chain = repository(&refs);
    check_repo(
        "chain",
        chain.path(),
        &Expect {
            status: 0,
            codes: &[],
            parameters: Some(1),
        },
    );
}

#[test]
fn requirement_includes_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    // A chain deeper than any real project's.
    for i in 0..200 {
        std::fs::write(
            dir.path().join(format!("r{i}.txt")),
            format!("-r r{}.txt\npkg{i}==1\n", i + 1),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("r200.txt"), "end==1\n").unwrap();
    let top = dir.path().join("r0.txt");
    let (status, _, err) = run_limited(&[
        "requirements",
        top.to_str().unwrap(),
        "--repo",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(status, 1, "{err}");
    assert!(err.contains("includes nest more than 64 deep"), "{err}");
    // Each file includes the next twice: 2^40 reads without a bound.
    let dir = tempfile::tempdir().unwrap();
    for i in 0..40 {
        std::fs::write(
            dir.path().join(format!("d{i}.txt")),
            format!("-r d{0}.txt\n-r d{0}.txt\n", i + 1),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("d40.txt"), "end==1\n").unwrap();
    let top = dir.path().join("d0.txt");
    let (status, _, err) = run_limited(&[
        "requirements",
        top.to_str().unwrap(),
        "--repo",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(status, 1, "{err}");
    assert!(err.contains("more than 1000 files are included"), "{err}");
}

#[test]
fn yaml_alias_bombs_are_refused() {
    let mut bomb =
        String::from("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
    for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
    {
        let items = vec![format!("*{prev}"); 10].join(",");
        let _ = writeln!(bomb, "{name}: &{name} [{items}]");
    }
    let repo = repository(&[
        ("mlreef.yml", &bomb),
        ("environment.yml", &bomb),
        (
            "train.py",
            "import argparse\np = argparse.ArgumentParser()\np.add_argument('--input-path')\np.parse_args()\n",
        ),
    ]);
    let (status, _, err) = run_limited(&["inspect", repo.path().to_str().unwrap()]);
    assert_eq!(status, 1, "{err}");
    assert!(err.contains("mlreef.yml:"), "{err}");
    let env = repo.path().join("environment.yml");
    let (status, _, err) = run_limited(&["requirements", env.to_str().unwrap()]);
    assert_eq!(status, 1, "{err}");
    assert!(err.contains("environment.yml:"), "{err}");
}
