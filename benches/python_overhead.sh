#!/usr/bin/env bash
# The cost of crossing into Python: `mlreef_core.extract_parameters(path=SCRIPT)` from Python
# against the same Rust call in process (benches/src/bin/extract_timing.rs), on the same
# scripts, both release builds, in one run. Prints the per-call times and the overhead.
#
# Usage: benches/python_overhead.sh            (from any folder)
#        ROUNDS=5000 benches/python_overhead.sh
# Needs .venv with maturin (scripts/test.sh makes it). It installs a release build of the
# binding into .venv; the next `scripts/test.sh` puts the debug build back.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rounds="${ROUNDS:-2000}"
python="$root/.venv/bin/python"
export VIRTUAL_ENV="$root/.venv" PATH="$root/.venv/bin:$PATH"

echo "building release binding and timing program..." >&2
(cd mlreef-py && maturin develop --release -q)
cargo build --release -q -p mlreef-benches --bin extract_timing
target_dir="$(cargo metadata --format-version 1 --no-deps \
    | "$python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"

scripts=(examples/train.py mlreef-core/tests/fixtures/argparse/realistic_pytorch_train.py
    mlreef-core/tests/fixtures/argparse/realistic_hf_finetune.py)
for script in "${scripts[@]}"; do
    rust=$("$target_dir/release/extract_timing" "$script" "$rounds")
    python_us=$("$python" - "$script" "$rounds" <<'PY'
import sys, time
import mlreef_core
script, rounds = sys.argv[1], int(sys.argv[2])
mlreef_core.extract_parameters(path=script)  # warm-up: imports, page cache
started = time.perf_counter()
for _ in range(rounds):
    mlreef_core.extract_parameters(path=script)
print(f"{(time.perf_counter() - started) * 1e6 / rounds:.2f}")
PY
)
    "$python" - "$script" "$rust" "$python_us" <<'PY'
import sys
script, rust, python = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
print(f"{script}: rust {rust:.1f} us, python {python:.1f} us per call, overhead {(python / rust - 1) * 100:+.1f}%")
PY
done
