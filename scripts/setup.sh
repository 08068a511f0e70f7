# Sourced by test.sh and example.sh: what both need on a fresh Debian machine with Rust and
# Python, as root (or with sudo), when only the package registries are reachable. Each
# function installs or makes only what is missing, so a second run costs next to nothing.

sudo=()
if ((EUID != 0)); then sudo=(sudo); fi

# need_apt PACKAGE...: installs the Debian packages that are missing (python3 and venv's pip
# bootstrap too, which Debian splits out).
need_apt() {
    local wanted=("$@") missing=() package
    command -v python3 >/dev/null || wanted+=(python3)
    python3 -c 'import ensurepip, venv' 2>/dev/null || wanted+=(python3-venv)
    for package in "${wanted[@]}"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    ((${#missing[@]} == 0)) && return 0
    if ! command -v apt-get >/dev/null; then
        echo "error: missing ${missing[*]} and no apt-get to install them" >&2
        return 1
    fi
    echo "installing ${missing[*]}" >&2
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
}

# need_venv MODULE=PACKAGE...: makes .venv when missing, installs the packages whose module
# does not import, and puts .venv first on PATH.
need_venv() {
    local pair module package
    if [[ ! -x .venv/bin/python ]]; then
        echo "creating .venv" >&2
        python3 -m venv .venv
    fi
    for pair in "$@"; do
        module="${pair%%=*}" package="${pair#*=}"
        if ! .venv/bin/python -c "import $module" 2>/dev/null; then
            echo "installing $package into .venv" >&2
            .venv/bin/python -m pip install -q "$package"
        fi
    done
    export VIRTUAL_ENV="$PWD/.venv"
    export PATH="$VIRTUAL_ENV/bin:$PATH"
}

# need_cargo_tool CRATE VERSION: installs a cargo subcommand from crates.io (with its locked
# dependencies, which build on this toolchain) unless that version is already there.
need_cargo_tool() {
    local crate="$1" version="$2"
    if ! cargo install --list | grep -qx "$crate v$version:"; then
        echo "installing $crate $version with cargo install" >&2
        cargo install --quiet --locked "$crate" --version "$version"
    fi
}

# debian_base: sets MLREEF_TEST_ROOTFS to a Debian bookworm root file system (minbase with
# Python, pip and CA certificates) made with debootstrap once and kept in the user's cache;
# a marker beside it says it is complete (an interrupted run leaves none, and starts over).
debian_base() {
    local cache="${MLREEF_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlreef-tests}"
    MLREEF_TEST_ROOTFS="$cache/bookworm-python3"
    if [[ ! -e "$MLREEF_TEST_ROOTFS.complete" ]]; then
        echo "making a Debian bookworm base in $MLREEF_TEST_ROOTFS (once; about a minute)" >&2
        "${sudo[@]}" rm -rf "$MLREEF_TEST_ROOTFS.partial" "$MLREEF_TEST_ROOTFS"
        mkdir -p "$cache"
        "${sudo[@]}" debootstrap --variant=minbase --include=python3,python3-pip,ca-certificates \
            bookworm "$MLREEF_TEST_ROOTFS.partial" >"$cache/debootstrap.log" 2>&1 \
            || { tail -20 "$cache/debootstrap.log" >&2; return 1; }
        # The package caches are not part of a base.
        "${sudo[@]}" rm -rf "$MLREEF_TEST_ROOTFS.partial"/var/cache/apt/archives/*.deb
        "${sudo[@]}" mv "$MLREEF_TEST_ROOTFS.partial" "$MLREEF_TEST_ROOTFS"
        touch "$MLREEF_TEST_ROOTFS.complete"
    fi
    export MLREEF_TEST_ROOTFS
}

# Services live in one temporary folder and stop when the sourcing script ends, however it
# ends (it must not set its own EXIT trap).
services="$(mktemp -d)"
registry_pids=()
stop_services() {
    local pid
    for pid in "${registry_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$services"
}
trap stop_services EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_registry NAME VARIABLE [USER PASSWORD]: starts Debian's docker-registry on 127.0.0.1
# at a free port, its storage in the services folder (with htpasswd basic auth when a user is
# given), and sets VARIABLE to 127.0.0.1:PORT.
start_registry() {
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
