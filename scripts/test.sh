#!/usr/bin/env bash
# Builds and tests the whole workspace. Safe to run again: it installs only what is missing.
#
# Works on a fresh Debian machine with Rust and Python, as root (or with sudo), when only the
# package registries are reachable.
set -euo pipefail
cd "$(dirname "$0")/.."

step="setup"
trap 'echo "test.sh: FAILED during $step" >&2' ERR

# --- system packages ----------------------------------------------------------------------
# Debian packages the tests need; add to this list as tests grow.
apt_packages=()
command -v python3 >/dev/null || apt_packages+=(python3)
# Debian splits venv's pip bootstrap into its own package.
python3 -c 'import ensurepip, venv' 2>/dev/null || apt_packages+=(python3-venv)
# Independent readers of the images we build: the OCI tests check layouts and archives with them.
command -v skopeo >/dev/null || apt_packages+=(skopeo)
command -v umoci >/dev/null || apt_packages+=(umoci)

missing=()
for package in "${apt_packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
    step="apt-get install ${missing[*]}"
    if ! command -v apt-get >/dev/null; then
        echo "error: missing ${missing[*]} and no apt-get to install them" >&2
        exit 1
    fi
    sudo=()
    if ((EUID != 0)); then sudo=(sudo); fi
    echo "installing ${missing[*]}" >&2
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
fi

# --- Python environment (the oracle and the Python tests) -----------------------------------
step="python venv"
if [[ ! -x .venv/bin/python ]]; then
    echo "creating .venv" >&2
    python3 -m venv .venv
fi
# The requirements oracle compares our parser with pip's own; its behaviour is pinned to this
# pip (which vendors packaging 25: strict PEP 440, no legacy versions).
pip_version="26.3"
if [[ "$(.venv/bin/python -c 'import pip; print(pip.__version__)')" != "$pip_version" ]]; then
    echo "installing pip $pip_version into .venv" >&2
    .venv/bin/python -m pip install -q "pip==$pip_version"
fi
# module to import -> package to install
declare -A python_packages=([pytest]=pytest [maturin]=maturin [mypy]=mypy)
for module in "${!python_packages[@]}"; do
    if ! .venv/bin/python -c "import $module" 2>/dev/null; then
        echo "installing ${python_packages[$module]} into .venv" >&2
        .venv/bin/python -m pip install -q "${python_packages[$module]}"
    fi
done
export VIRTUAL_ENV="$PWD/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"

# --- Rust ------------------------------------------------------------------------------------
# One build of every target, then the tests reuse it (same profile, same target folder).
step="cargo build"
cargo build --workspace --all-targets
step="cargo test"
# A missing skopeo or umoci fails the OCI tests here, rather than skipping their checks.
MLREEF_REQUIRE_TOOLS=1 cargo test --workspace

# --- Python binding ------------------------------------------------------------------------
# maturin builds the extension in the same target folder and profile as the build above, and
# installs it into .venv as an editable package.
step="maturin develop"
(cd mlreef-py && maturin develop -q)
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

trap - ERR
echo "test.sh: ok (build, tests, $lint)"
