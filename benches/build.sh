#!/usr/bin/env bash
# Image builds, timed in one run:
#
#   1. code layer: `mlreef build --base scratch` of a 100 MB repository (the first 100 MB of
#      this machine's Python standard library, sources and bytecode, and a train.py), whose only
#      layer is the code layer, against `tar -c | gzip -6` of the same tree (gzip's level 6 is
#      the level our layers use). Rounds alternate; the medians and their ratio are printed.
#   2. rebuild: a module whose requirements are numpy, pandas and scikit-learn, on the Debian
#      base the test command makes with debootstrap. One cold build (resolve, install, layer),
#      then a one-line change to train.py and a rebuild, several times: the base and the
#      dependency layer come from the cache, so a rebuild writes the code layer and the layout.
#   3. memory: the peak resident memory (GNU time) of building a repository holding a 1 GiB
#      file of random bytes, which the layer streams through the compressor.
#
# Usage: benches/build.sh              (from any folder; ROUNDS=9 for more rounds, default 5)
#        BENCH=code benches/build.sh   (one of code, rebuild, memory)
# Needs GNU time (/usr/bin/time); the rebuild bench needs the Debian base (MLREEF_TEST_ROOTFS,
# else ~/.cache/mlreef-tests/bookworm-python3, made by scripts/test.sh) and uv or pip with
# network access to PyPI for the cold build.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rounds="${ROUNDS:-5}"
bench="${BENCH:-all}"
[[ -d "$root/.venv/bin" ]] && export PATH="$root/.venv/bin:$PATH"

cargo build --release -q -p mlreef-cli
mlreef="$root/target/release/mlreef"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export MLREEF_CACHE="$work/cache"

# The median wall time, in seconds, of `rounds` runs of each command (alternating). Prints one
# line per command: LABEL SECONDS.
median_times() { # LABEL_A CMD_A LABEL_B CMD_B (commands as shell strings)
    python3 - "$rounds" "$@" <<'PY'
import statistics, subprocess, sys, time
rounds = int(sys.argv[1])
sides = list(zip(sys.argv[2::2], sys.argv[3::2]))
times = {label: [] for label, _ in sides}
for label, command in sides:  # one warm-up each
    subprocess.run(command, shell=True, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(rounds):
    for label, command in sides:
        started = time.perf_counter()
        subprocess.run(command, shell=True, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[label].append(time.perf_counter() - started)
for label, values in times.items():
    print(label, f"{statistics.median(values):.3f}")
PY
}

code_bench() {
    local repo="$work/code-repo"
    mkdir -p "$repo"
    printf 'import argparse\np = argparse.ArgumentParser()\np.add_argument("--epochs", type=int)\np.parse_args()\n' >"$repo/train.py"
    # The first 100 MB of this machine's Python standard library, in sorted order, as two
    # folders of sources and bytecode.
    python3 - "$repo" <<'PY'
import os, shutil, sys, sysconfig
stdlib, repo, budget = sysconfig.get_paths()["stdlib"], sys.argv[1], 100_000_000
files = sorted(os.path.join(d, f) for d, _, names in os.walk(stdlib) for f in names)
for path in files:
    if not os.path.isfile(path) or os.path.islink(path):
        continue
    size = os.path.getsize(path)
    if size > budget:
        break
    target = os.path.join(repo, "lib", os.path.relpath(path, stdlib))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(path, target)
    budget -= size
PY
    # What the code layer leaves out as likely secrets goes from both sides' input.
    find "$repo" \( -name '*.pem' -o -name '.env' -o -name 'id_rsa*' -o -name '.netrc' \) -delete
    find "$repo" -type l -delete
    local bytes
    bytes="$(du -sb "$repo" | cut -f1)"
    echo "code layer: a repository of $((bytes / 1000000)) MB ($(find "$repo" -type f | wc -l) files), $(nproc) cores, $rounds rounds"
    local ours="rm -rf $work/out && $mlreef build $repo --base scratch --output oci:$work/out"
    local peer="tar -C $repo -cf - . | gzip -6 >$work/peer.tar.gz"
    local result
    result="$(median_times "mlreef-build" "$ours" "tar|gzip-6" "$peer")"
    echo "$result" | awk '{printf "  %-14s %s s\n", $1, $2}'
    echo "$result" | awk 'NR==1{a=$2} NR==2{b=$2} END{printf "  ratio: mlreef is %.2fx faster than tar | gzip -6 (target: at least 1.8x)\n", b/a}'
    echo "  compressed: ours $(du -sb "$work/out/blobs" | cut -f1) bytes (layer, config, manifest), gzip -6 $(stat -c %s "$work/peer.tar.gz") bytes"
}

rebuild_bench() {
    local base="${MLREEF_TEST_ROOTFS:-$HOME/.cache/mlreef-tests/bookworm-python3}"
    if [[ ! -x "$base/usr/bin/python3" ]]; then
        echo "rebuild: skipped, no Debian base at $base (scripts/test.sh makes it)"
        return
    fi
    local repo="$work/rebuild-repo"
    mkdir -p "$repo"
    cat >"$repo/train.py" <<'PY'
import argparse

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

parser = argparse.ArgumentParser()
parser.add_argument("--input-path", default="data.csv")
parser.add_argument("--fit-intercept", action="store_true")
args = parser.parse_args()
PY
    printf 'numpy\npandas\nscikit-learn\n' >"$repo/requirements.txt"
    local build=("$mlreef" build "$repo" --base "rootfs:$base" --output "oci:$work/rebuilt:v1" --json)
    local started cold
    started="$(date +%s.%N)"
    "${build[@]}" >"$work/cold.json"
    cold="$(python3 -c "import time; print(f'{time.time() - $started:.2f}')")"
    local deps_size
    deps_size="$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(l["size"] for l in d["platforms"][0]["layers"] if l["role"]=="deps"))' "$work/cold.json")"
    echo "rebuild: numpy, pandas, scikit-learn on Debian bookworm; cold build ${cold} s (dependency layer $((deps_size / 1000000)) MB)"
    local times=()
    for i in $(seq "$rounds"); do
        echo "print('change $i')" >>"$repo/train.py"
        started="$(date +%s.%N)"
        "${build[@]}" >"$work/warm.json"
        times+=("$(python3 -c "import time; print(time.time() - $started)")")
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); l=d["platforms"][0]["layers"]; assert l[0]["cached"] and l[1]["cached"], l' "$work/warm.json"
    done
    python3 -c 'import statistics,sys; t=sorted(map(float,sys.argv[1:])); print(f"  rebuild after a one-line change: median {statistics.median(t):.3f} s, max {t[-1]:.3f} s (target: under 0.5 s)")' "${times[@]}"
}

memory_bench() {
    local repo="$work/memory-repo"
    mkdir -p "$repo"
    printf 'import argparse\nargparse.ArgumentParser().parse_args()\n' >"$repo/train.py"
    head -c 1073741824 /dev/urandom >"$repo/weights.bin"
    local peak
    peak="$(/usr/bin/time -f %M "$mlreef" build "$repo" --base scratch --output "oci:$work/big" 2>&1 >/dev/null | tail -1)"
    echo "memory: a 1 GiB layer, peak resident memory $((peak / 1024)) MB (target: under 100 MB)"
}

case "$bench" in
    code) code_bench ;;
    rebuild) rebuild_bench ;;
    memory) memory_bench ;;
    all) code_bench; rebuild_bench; memory_bench ;;
    *) echo "error: BENCH is code, rebuild, memory or all" >&2; exit 2 ;;
esac
