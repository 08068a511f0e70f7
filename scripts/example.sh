#!/usr/bin/env bash
# The main job on the example module: the parameters of examples/train.py, read without
# running it, then its requirements as pip reads them, evaluated for CPython 3.11 on
# linux/amd64 (the default base image). Extra arguments go to both commands, e.g.
# `./scripts/example.sh --json`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
    echo "error: cargo not found; install Rust 1.95 (https://rustup.rs) and retry" >&2
    exit 1
fi
# cargo rebuilds only what changed, so this is cheap after the first run.
mlreef() { cargo run --release -q -p mlreef-cli -- "$@"; }
mlreef params examples/train.py "$@"
echo
mlreef requirements examples/requirements.txt --python 3.11 --platform linux/amd64 "$@"
