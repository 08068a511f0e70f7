#!/usr/bin/env bash
# Peer comparison for `mlreef params`: the static extractor against the runtime oracle, which
# runs each script's parser construction under CPython (mlreef-core/tests/oracle/).
#
# Both sides run as whole processes, on the same files, in the same run:
#   (a) mlreef params --json FILE
#   (b) python3 mlreef-core/tests/oracle/argparse_oracle.py FILE
# The files are the `realistic_*` argparse fixtures (all fixtures when there are none), the
# same selection as the criterion bench (benches/src/lib.rs, fixture_scripts).
#
# Usage: benches/peer_params.sh            (from any folder)
#        ROUNDS=20 benches/peer_params.sh   (rounds over all files per side; default 5)
# Uses hyperfine when it is installed, else a timing loop in Python.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rounds="${ROUNDS:-5}"
python="${PYTHON:-python3}"
oracle="$root/mlreef-core/tests/oracle/argparse_oracle.py"
fixtures="$root/mlreef-core/tests/fixtures/argparse"

echo "building release mlreef..." >&2
cargo build --release -q -p mlreef-cli
target_dir="$(cargo metadata --format-version 1 --no-deps \
    | "$python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
mlreef="$target_dir/release/mlreef"

select_files() {
    local pattern="$1" entry
    for entry in "$fixtures"/$pattern; do
        if [[ -f "$entry" && "$entry" == *.py ]]; then
            printf '%s\n' "$entry"
        elif [[ -f "$entry/main.py" ]]; then
            printf '%s\n' "$entry/main.py"
        fi
    done
}
mapfile -t files < <(select_files 'realistic_*')
if ((${#files[@]} == 0)); then
    mapfile -t files < <(select_files '*')
fi
if ((${#files[@]} == 0)); then
    echo "error: no fixtures under \`$fixtures\`" >&2
    exit 1
fi
bytes=$(cat "${files[@]}" | wc -c)
echo "${#files[@]} files, $bytes bytes, $rounds rounds per side" >&2

if command -v hyperfine >/dev/null; then
    list="$(mktemp)"
    results="$(mktemp)"
    trap 'rm -f "$list" "$results"' EXIT
    printf '%s\n' "${files[@]}" >"$list"
    # One hyperfine run = every file once; both commands pay the same shell loop.
    hyperfine --style basic --ignore-failure --warmup 1 --runs "$rounds" \
        --export-json "$results" \
        --command-name mlreef \
        "while read -r f; do '$mlreef' params --json \"\$f\" >/dev/null 2>&1; done <'$list'" \
        --command-name oracle \
        "while read -r f; do '$python' '$oracle' \"\$f\" >/dev/null 2>&1; done <'$list'" >&2
    "$python" - "$results" <<'PY'
import json, sys
runs = {r["command"]: sum(r["times"]) for r in json.load(open(sys.argv[1]))["results"]}
mlreef, oracle = runs["mlreef"], runs["oracle"]
print(f"mlreef params --json: {mlreef:.3f} s total")
print(f"python3 oracle:       {oracle:.3f} s total")
print(f"ratio oracle/mlreef:  {oracle / mlreef:.1f}x")
PY
    exit 0
fi

"$python" - "$rounds" "$mlreef" "$python" "$oracle" "${files[@]}" <<'PY'
import subprocess, sys, time

rounds, mlreef, python, oracle, files = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
sides = {
    "mlreef": lambda f: [mlreef, "params", "--json", f],
    "oracle": lambda f: [python, oracle, f],
}
total = {name: 0.0 for name in sides}
failures = {name: set() for name in sides}

def run(name, command, record):
    for f in files:
        started = time.perf_counter()
        code = subprocess.run(command(f), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        if record:
            total[name] += time.perf_counter() - started
            if code != 0:
                failures[name].add(f)

for name, command in sides.items():  # warm-up: page cache, Python's bytecode cache
    run(name, command, record=False)
for _ in range(rounds):  # alternate sides so drift in machine load hits both alike
    for name, command in sides.items():
        run(name, command, record=True)

count = rounds * len(files)
for name, label in (("mlreef", "mlreef params --json"), ("oracle", "python3 oracle")):
    print(f"{label + ':':22}{total[name]:.3f} s total, {total[name] / count * 1000:.1f} ms per file")
    for f in sorted(failures[name]):
        print(f"  exit status != 0 for {f}", file=sys.stderr)
print(f"{'ratio oracle/mlreef:':22}{total['oracle'] / total['mlreef']:.1f}x")
PY
