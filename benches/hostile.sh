#!/usr/bin/env bash
# Time and peak memory of `mlreef params` on hostile scripts, one per class that
# mlreef-cli/tests/hostile.rs checks for behaviour (the tests assert no time or size; this
# script measures them). Each case is a whole release process; the table gives its wall time,
# its peak resident memory, its exit status, the parameters found and the diagnostic codes.
#
# Usage: benches/hostile.sh     (from any folder; needs python3, and GNU time at /usr/bin/time
#                               for the memory column: apt-get install time)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
echo "building release mlreef..." >&2
cargo build --release -q -p mlreef-cli
target_dir="$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"

exec python3 - "$target_dir/release/mlreef" <<'PYTHON'
import json, os, subprocess, sys, tempfile, time

mlreef = sys.argv[1]

def script(body):
    return f"import argparse\np = argparse.ArgumentParser()\n{body}\np.parse_args()\n"

def dict_loop(n):
    entries = "".join(f"    'opt{i}': {i},\n" for i in range(n))
    return script("D = {\n" + entries + "}\nfor k in D:\n    p.add_argument('--' + k, type=int, default=D[k])")

CASES = [
    ("range, extreme bounds", lambda: script("for i in range(-9223372036854775807, 9223372036854775807, 2):\n    p.add_argument(f'--a{i}')")),
    ("format width 2e9", lambda: script("x = 1\np.add_argument('--a', help=f'{x:>2000000000}')")),
    ("format precision 2e9", lambda: script("x = 1.5\np.add_argument('--a', help=f'{x:.2000000000f}')")),
    ("percent width 2e9", lambda: script("p.add_argument('--a', help='%2000000000d' % 1)")),
    ("string doubled 64 times", lambda: script("x = 'ab'\nfor i in range(64):\n    x = x + x\np.add_argument('--a', help=x)")),
    ("list doubled 64 times", lambda: script("x = ['ab']\nfor i in range(64):\n    x = x + x\np.add_argument('--a', default=x)")),
    ("nested [x, x] 64 times", lambda: script("x = []\nfor i in range(64):\n    x = [x, x]\np.add_argument('--a', default=x)")),
    ("1 MB string shared 1e5 times", lambda: script("s = 'a' * 1000000\nl = [s] * 100000\nfor i in range(1000):\n    p.add_argument(f'--a{i}', default=l)")),
    ("100,000-entry dict loop", lambda: dict_loop(100_000)),
    ("100,000 appends", lambda: script("L = []\nfor i in range(100000):\n    L.append(i)\nfor i in L:\n    p.add_argument(f'--a{i}', default=i)")),
    ("exponential calls", lambda: script("def f(n):\n    f(n - 1)\n    f(n - 1)\nf(40)\np.add_argument('--a')")),
    ("1e9-item comprehension", lambda: script("r = range(1000)\nx = [(a, b, c) for a in r for b in r for c in r]\np.add_argument('--a', default=len(x))")),
    ("quadratic membership", lambda: script("big = list(range(100000))\nn = 0\nfor i in range(100000):\n    if i in big:\n        n = n + 1\np.add_argument('--a', default=n)")),
    ("growing string", lambda: script("s = ''\nfor i in range(100000):\n    s += '0123456789' * 10\np.add_argument('--a', help=s)")),
    ("1e10 nested loop", lambda: script("for a in range(100000):\n    for b in range(100000):\n        x = a + b\np.add_argument('--a')")),
    ("100,000-term expression", lambda: script("p.add_argument('--a', default=" + " + ".join(["1"] * 100_000) + ")")),
    ("10 MB string literal", lambda: script("p.add_argument('--a', help='" + "x" * 10_000_000 + "')")),
]

rows = []
with tempfile.TemporaryDirectory() as tmp:
    for name, make in CASES:
        path = os.path.join(tmp, "train.py")
        with open(path, "w") as f:
            f.write(make())
        rss = os.path.join(tmp, "rss")
        # GNU time gives the process's own peak resident memory (KiB), which a fork from
        # this Python process would inflate with its own.
        measure = ["/usr/bin/time", "-f", "%M", "-o", rss] if os.path.exists("/usr/bin/time") else []
        start = time.perf_counter()
        run = subprocess.run(measure + [mlreef, "params", "--json", path], capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        stdout, stderr = run.stdout, run.stderr
        try:
            with open(rss) as f:
                peak = f"{int(f.read().split()[-1]) / 1024:.0f} MB"
        except (OSError, ValueError, IndexError):
            peak = "-"
        code = run.returncode
        try:
            result = json.loads(stdout)
            params = len(result["parameters"])
            codes = sorted({d["code"] for d in result["diagnostics"]})
        except ValueError:
            params, codes = "-", [stderr.strip()[:60]]
        rows.append((name, f"{elapsed:.2f} s", peak, code, params, ", ".join(codes)))

header = ("case", "time", "peak RSS", "exit", "params", "diagnostics")
widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
for row in [header] + rows:
    print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
PYTHON
