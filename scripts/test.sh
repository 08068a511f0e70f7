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
# Real components the image and registry tests talk to: a registry (and htpasswd for its basic
# auth), and independent tools that check what we build.
apt_packages+=(docker-registry apache2-utils skopeo umoci debootstrap)

sudo=()
if ((EUID != 0)); then sudo=(sudo); fi
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
# module to import -> package to install; uv resolves and installs the dependency layer's wheels
# in the deps tests (they fall back on this pip when asked to).
declare -A python_packages=([pytest]=pytest [maturin]=maturin [mypy]=mypy [uv]=uv)
for module in "${!python_packages[@]}"; do
    if ! .venv/bin/python -c "import $module" 2>/dev/null; then
        echo "installing ${python_packages[$module]} into .venv" >&2
        .venv/bin/python -m pip install -q "${python_packages[$module]}"
    fi
done
export VIRTUAL_ENV="$PWD/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"

# --- services: registries for the whole run ---------------------------------------------------
# Two Debian docker-registry instances on 127.0.0.1 at free ports, with their storage in a
# temporary folder: one anonymous, one with htpasswd basic auth. Tests find them through
# MLREEF_TEST_REGISTRY*; they are stopped when this script ends, however it ends.
step="registries"
services="$(mktemp -d)"
registry_pids=()
stop_services() {
    for pid in "${registry_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$services"
}
trap stop_services EXIT
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
start_registry() { # NAME VARIABLE [USER PASSWORD]: sets VARIABLE to 127.0.0.1:PORT
    local name="$1" variable="$2" port config
    shift 2
    port="$(free_port)"
    config="$services/$name.yml"
    cat >"$config" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $services/$name
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YAML
    if (($# == 2)); then
        htpasswd -Bbn "$1" "$2" >"$services/$name.htpasswd"
        printf 'auth:\n  htpasswd:\n    realm: mlreef-test\n    path: %s\n' "$services/$name.htpasswd" >>"$config"
    fi
    docker-registry serve "$config" >"$services/$name.log" 2>&1 &
    registry_pids+=($!)
    for _ in $(seq 200); do
        if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; then
            printf -v "$variable" '127.0.0.1:%s' "$port"
            return
        fi
        sleep 0.1
    done
    echo "error: the $name registry did not start: $(cat "$services/$name.log")" >&2
    return 1
}
MLREEF_TEST_REGISTRY_USER="mlreef-tester"
MLREEF_TEST_REGISTRY_PASSWORD="$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
start_registry anonymous MLREEF_TEST_REGISTRY
start_registry basic MLREEF_TEST_REGISTRY_AUTH "$MLREEF_TEST_REGISTRY_USER" "$MLREEF_TEST_REGISTRY_PASSWORD"
export MLREEF_TEST_REGISTRY MLREEF_TEST_REGISTRY_AUTH MLREEF_TEST_REGISTRY_USER MLREEF_TEST_REGISTRY_PASSWORD
echo "registries: $MLREEF_TEST_REGISTRY (anonymous), $MLREEF_TEST_REGISTRY_AUTH (basic auth)" >&2

# --- a Debian base root file system ---------------------------------------------------------
# Images are built and run on a Debian bookworm made with debootstrap (minbase with Python, pip
# and CA certificates, as the comparison with a Dockerfile build needs), kept between runs in the
# user's cache: made once, then reused. Needs root.
step="debootstrap"
rootfs_cache="${MLREEF_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlreef-tests}"
MLREEF_TEST_ROOTFS="$rootfs_cache/bookworm-python3"
# A marker beside it says it is complete (an interrupted run leaves none, and starts over).
if [[ ! -e "$MLREEF_TEST_ROOTFS.complete" ]]; then
    echo "making a Debian bookworm base in $MLREEF_TEST_ROOTFS (once; about a minute)" >&2
    "${sudo[@]}" rm -rf "$MLREEF_TEST_ROOTFS.partial" "$MLREEF_TEST_ROOTFS"
    mkdir -p "$rootfs_cache"
    "${sudo[@]}" debootstrap --variant=minbase --include=python3,python3-pip,ca-certificates bookworm \
        "$MLREEF_TEST_ROOTFS.partial" >"$rootfs_cache/debootstrap.log" 2>&1 \
        || { tail -20 "$rootfs_cache/debootstrap.log" >&2; exit 1; }
    # The package caches are not part of a base.
    "${sudo[@]}" rm -rf "$MLREEF_TEST_ROOTFS.partial"/var/cache/apt/archives/*.deb
    "${sudo[@]}" mv "$MLREEF_TEST_ROOTFS.partial" "$MLREEF_TEST_ROOTFS"
    touch "$MLREEF_TEST_ROOTFS.complete"
fi
export MLREEF_TEST_ROOTFS

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
