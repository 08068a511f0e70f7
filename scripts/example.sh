#!/usr/bin/env bash
# The main job: list the parameters of the example training script, without running it.
# Extra arguments go to `mlreef params`, e.g. `./scripts/example.sh --json`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
    echo "error: cargo not found; install Rust 1.95 (https://rustup.rs) and retry" >&2
    exit 1
fi
# cargo rebuilds only what changed, so this is cheap after the first run.
exec cargo run --release -q -p mlreef-cli -- params examples/train.py "$@"
