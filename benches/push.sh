#!/usr/bin/env bash
# Pushes, timed in one run against the same local registry (Debian's docker-registry):
#
#   1. a 500 MB image (an OCI layout `mlreef build` wrote: a code layer of 500 MB of random
#      bytes, which no compressor shrinks) pushed by `mlreef push` against `skopeo copy` of the
#      same layout. Each round gives each side an empty registry (restarted on a wiped folder),
#      so neither finds a blob there nor mounts one; the sides alternate; medians and their
#      ratio are printed.
#   2. the same image pushed again, unchanged: the tag already names it, nothing is sent.
#   3. the peak resident memory (GNU time) of the 500 MB push.
#
# Usage: benches/push.sh   (ROUNDS=5 by default; SIZE_MB=500)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rounds="${ROUNDS:-5}"
size_mb="${SIZE_MB:-500}"
for tool in docker-registry skopeo /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "error: $tool is needed (apt-get install ${tool##*/})" >&2; exit 1; }
done

cargo build --release -q -p mlreef-cli
mlreef="$root/target/release/mlreef"
work="$(mktemp -d)"
registry_pid=""
stop_registry() {
    if [[ -n "$registry_pid" ]]; then
        kill "$registry_pid" 2>/dev/null || true
        wait "$registry_pid" 2>/dev/null || true
    fi
    registry_pid=""
}
trap 'stop_registry; rm -rf "$work"' EXIT
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
address="127.0.0.1:$port"

# An empty registry at $address, on a wiped folder.
fresh_registry() {
    stop_registry
    rm -rf "$work/storage"
    cat >"$work/registry.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/storage
http:
  addr: $address
YAML
    docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
    registry_pid=$!
    for _ in $(seq 200); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && return
        sleep 0.05
    done
    echo "error: the registry did not start: $(cat "$work/registry.log")" >&2
    exit 1
}

repo="$work/repo"
mkdir -p "$repo"
printf 'import argparse\nargparse.ArgumentParser().parse_args()\n' >"$repo/train.py"
head -c "$((size_mb * 1024 * 1024))" /dev/urandom >"$repo/weights.bin"
MLREEF_CACHE="$work/cache" "$mlreef" build "$repo" --base scratch --output "oci:$work/layout:v1" --json >"$work/built.json" 2>/dev/null
layer_bytes="$(python3 -c 'import json,sys; print(sum(l["size"] for l in json.load(open(sys.argv[1]))["platforms"][0]["layers"]))' "$work/built.json")"
echo "push: a ${size_mb} MiB image ($((layer_bytes / 1000000)) MB of layers), $(nproc) cores, $rounds rounds, registry at $address"

ours() { "$mlreef" push "oci:$work/layout:v1" "$address/bench/module:1" --json >/dev/null 2>&1; }
peer() { skopeo copy -q --dest-tls-verify=false "oci:$work/layout:v1" "docker://$address/bench/module:1" >/dev/null 2>&1; }
elapsed() { # COMMAND: runs it, prints its wall time in seconds (bash's own clock: no process)
    local started="$EPOCHREALTIME"
    "$@"
    local ended="$EPOCHREALTIME"
    awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.3f\n", b - a }'
}

ours_times=()
peer_times=()
for _ in $(seq "$rounds"); do
    fresh_registry
    ours_times+=("$(elapsed ours)")
    fresh_registry
    peer_times+=("$(elapsed peer)")
done
median() { python3 -c 'import statistics,sys; print(f"{statistics.median(map(float, sys.argv[1:])):.3f}")' "$@"; }
ours_median="$(median "${ours_times[@]}")"
peer_median="$(median "${peer_times[@]}")"
echo "  mlreef push     $ours_median s"
echo "  skopeo copy     $peer_median s"
python3 -c "print(f'  ratio: mlreef / skopeo = {$ours_median / $peer_median:.2f} (target: at most 1.0)')"

# Unchanged: the registry holds the image already.
again_times=()
for _ in $(seq "$rounds"); do
    again_times+=("$(elapsed ours)")
done
echo "  unchanged re-push: median $(median "${again_times[@]}") s (target: under 0.1 s)"

fresh_registry
peak="$(/usr/bin/time -f %M "$mlreef" push "oci:$work/layout:v1" "$address/bench/module:1" --json 2>&1 >/dev/null | tail -1)"
echo "  peak resident memory of the ${size_mb} MiB push: $((peak / 1024)) MB (target: under 100 MB)"
