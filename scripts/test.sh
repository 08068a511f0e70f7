#!/usr/bin/env bash
# Builds and tests the whole workspace. Safe to run again: it installs only what is missing.
#
# Works on a fresh Debian machine with Rust and Python, as root (or with sudo), when only the
# package registries are reachable.
set -euo pipefail
cd "$(dirname "$0")/.."

step="setup"
trap 'echo "test.sh: FAILED during $step" >&2' ERR

source scripts/setup.sh

# --- system packages ----------------------------------------------------------------------
# Real components the image and registry tests talk to: a registry (and htpasswd for its basic
# auth), independent tools that check what we build, debootstrap for a Debian base, and the
# C and C++ compilers the C API tests and libFuzzer build with.
need_apt docker-registry apache2-utils skopeo umoci debootstrap gcc g++

# --- Python environment (the oracle and the Python tests) -----------------------------------
step="python venv"
need_venv
# The requirements oracle compares our parser with pip's own; its behaviour is pinned to this
# pip (which vendors packaging 25: strict PEP 440, no legacy versions).
pip_version="26.3"
if [[ "$(python -c 'import pip; print(pip.__version__)')" != "$pip_version" ]]; then
    echo "installing pip $pip_version into .venv" >&2
    python -m pip install -q "pip==$pip_version"
fi
# uv resolves and installs the dependency layer's wheels in the deps tests (they fall back on
# this pip when asked to); PyYAML reads a generated mlreef.yml as GitLab would.
need_venv pytest=pytest maturin=maturin mypy=mypy uv=uv yaml=pyyaml

# --- services: registries for the whole run ---------------------------------------------------
# Two Debian docker-registry instances on 127.0.0.1 at free ports: one anonymous, one with
# htpasswd basic auth. Tests find them through MLREEF_TEST_REGISTRY*; they stop when this
# script ends.
step="registries"
MLREEF_TEST_REGISTRY_USER="mlreef-tester"
MLREEF_TEST_REGISTRY_PASSWORD="$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
start_registry anonymous MLREEF_TEST_REGISTRY
start_registry basic MLREEF_TEST_REGISTRY_AUTH "$MLREEF_TEST_REGISTRY_USER" "$MLREEF_TEST_REGISTRY_PASSWORD"
export MLREEF_TEST_REGISTRY MLREEF_TEST_REGISTRY_AUTH MLREEF_TEST_REGISTRY_USER MLREEF_TEST_REGISTRY_PASSWORD
echo "registries: $MLREEF_TEST_REGISTRY (anonymous), $MLREEF_TEST_REGISTRY_AUTH (basic auth)" >&2

# --- a Debian base root file system ---------------------------------------------------------
# Images are built and run on a Debian bookworm made with debootstrap (minbase with Python, pip
# and CA certificates, as the comparison with a Dockerfile build needs), made once and kept in
# the user's cache. Needs root.
step="debootstrap"
debian_base

# --- Rust ------------------------------------------------------------------------------------
# One build of every target, then the tests reuse it (same profile, same target folder).
step="cargo build"
cargo build --workspace --all-targets
step="cargo test"
# A missing skopeo or umoci fails the OCI tests here, rather than skipping their checks.
MLREEF_REQUIRE_TOOLS=1 cargo test --workspace
step="rust example"
# The crate's example publishes a module through the API; skopeo finds what it pushed.
target/debug/examples/publish examples/modules/plot --base "rootfs:$MLREEF_TEST_ROOTFS" \
    --push "$MLREEF_TEST_REGISTRY/examples/rust-api:1" >/dev/null
skopeo inspect --tls-verify=false "docker://$MLREEF_TEST_REGISTRY/examples/rust-api:1" >/dev/null

# --- Python binding ------------------------------------------------------------------------
# maturin builds the wheel `pip install mlreef-core` installs (the module and the `mlreef`
# console script) in the same target folder and profile as the build above; .venv gets it as a
# user would, and the tests that install it in a fresh venv (the generated publish job) find it
# in MLREEF_TEST_WHEELS.
step="maturin build"
MLREEF_TEST_WHEELS="$services/wheels"
(cd mlreef-py && maturin build -q --profile dev --out "$MLREEF_TEST_WHEELS")
python -m pip install -q --force-reinstall --no-deps "$MLREEF_TEST_WHEELS"/mlreef_core-*.whl
export MLREEF_TEST_WHEELS
step="pytest"
python -m pytest -q mlreef-py/tests
step="stubtest"
python -m mypy.stubtest mlreef_core._mlreef_core
# The stubs are what editors see: the example must type-check against them, strictly.
step="mypy"
python -m mypy --strict --no-error-summary examples/python/notebook.py

step="cargo clippy"
if cargo clippy --version >/dev/null 2>&1; then
    cargo clippy --workspace --all-targets -- -D warnings
    lint="clippy clean"
else
    echo "cargo clippy is not installed; skipping lints (rustup component add clippy)" >&2
    lint="clippy skipped"
fi

# --- fuzzing smoke run --------------------------------------------------------------------
# Every cargo-fuzz target of fuzz/ (built with libFuzzer's instrumentation, on stable Rust with
# RUSTC_BOOTSTRAP=1), seeded from the fixtures, for a few seconds each: a target that crashes,
# hangs or runs out of memory on its seeds or their first mutations fails the run. The longer
# runs are documented in fuzz/README.md.
step="fuzz smoke"
need_cargo_tool cargo-fuzz 0.13.2
fuzz/smoke.sh "${MLREEF_FUZZ_SECONDS:-10}"

trap - ERR
echo "test.sh: ok (build, tests, $lint, fuzz smoke)"
