#!/usr/bin/env bash
# `mlreef publish` against a Dockerfile built with buildah, in one run, on the same module, the
# same base image and the same local registry (Debian's docker-registry):
#
#   - the module: examples/modules/classifier (scikit-learn, numpy, joblib), one copy per side;
#   - the base: the Debian bookworm root file system the test command makes with debootstrap
#     (python3, pip, CA certificates), pushed once as a one-layer image, bases/bookworm:1,
#     which both sides name (FROM, --base docker://);
#   - the Dockerfile side: benches/compare_dockerfile/Dockerfile (requirements copied and
#     installed before the code: its best case for the layer cache), `buildah bud --layers`
#     with chroot isolation on a storage of its own, then `buildah push`;
#   - the mlreef side: `mlreef publish --push`, its cache (MLREEF_CACHE) and uv's
#     (UV_CACHE_DIR) of its own.
#
# Each time is the wall time of build and push, end to end. The scenarios:
#   1. cold: empty storage and caches on both sides (the base is pulled from the registry, the
#      wheels downloaded from PyPI);
#   2. a one-line change: a comment appended to train.py, then a rebuild on the warm storage and
#      caches (median of ROUNDS changes);
#   3. nothing changed: the same again, pushed to the same tag (median of ROUNDS);
# and reproducibility: a second cold build of the same input, on fresh storage and caches,
# pushed under another tag; the two digests the registry gives each side are compared.
#
# Usage: benches/compare_dockerfile.sh      (as root, from any folder; a few minutes)
#   ROUNDS=3                the rounds of scenarios 2 and 3 (default 3)
#   STORAGE_DRIVER=vfs      buildah's storage driver: vfs (default: what buildah falls back to
#                           where overlay mounts are not allowed, as in many CI containers; it
#                           copies the whole tree for each step) or overlay (its default as
#                           root where the kernel allows it: much faster warm rebuilds)
#   BUILDAH_TIMESTAMP=0     passed to `buildah bud --timestamp` (every file and `created` at that
#                           time): buildah's own way to the same digest for the same input
#   MODULE=DIR              another module (a train.py and a requirements.txt at its top)
#   MLREEF_TEST_ROOTFS=DIR  the Debian base (default ~/.cache/mlreef-tests/bookworm-python3,
#                           made here as scripts/test.sh makes it when missing)
# Installs what is missing (scripts/setup.sh): buildah, docker-registry, skopeo, umoci,
# debootstrap (apt) and uv (into .venv, which mlreef's dependency install uses).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
run_started="$EPOCHREALTIME"
rounds="${ROUNDS:-3}"
driver="${STORAGE_DRIVER:-vfs}"
module="${MODULE:-$root/examples/modules/classifier}"
dockerfile="$root/benches/compare_dockerfile/Dockerfile"
step="setup"
say() { echo "compare_dockerfile: $*" >&2; }
trap 'say "FAILED during $step"' ERR

if ((EUID != 0)); then
    echo "error: run as root (debootstrap, buildah's chroot isolation and unshare need it)" >&2
    exit 1
fi
if [[ ! -f "$module/train.py" || ! -f "$module/requirements.txt" ]]; then
    echo "error: $module needs a train.py and a requirements.txt" >&2
    exit 1
fi
case "$driver" in
    vfs | overlay) ;;
    *) echo "error: STORAGE_DRIVER is vfs or overlay" >&2; exit 2 ;;
esac
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "error: ROUNDS is a positive number" >&2; exit 2; }
bud_options=()
if [[ -n "${BUILDAH_TIMESTAMP:-}" ]]; then
    [[ "$BUILDAH_TIMESTAMP" =~ ^[0-9]+$ ]] || { echo "error: BUILDAH_TIMESTAMP is seconds since 1970" >&2; exit 2; }
    bud_options=(--timestamp "$BUILDAH_TIMESTAMP")
fi

# --- tools, the base, the registry (scripts/setup.sh, as the test command has them) -------------
step="setup"
source scripts/setup.sh
need_apt buildah docker-registry skopeo umoci debootstrap
need_venv uv=uv

step="cargo build"
say "building the release mlreef"
cargo build --release -q -p mlreef-cli
mlreef="$root/target/release/mlreef"

step="debootstrap"
if [[ -n "${MLREEF_TEST_ROOTFS:-}" ]]; then
    [[ -x "$MLREEF_TEST_ROOTFS/usr/bin/python3" ]] \
        || { echo "error: MLREEF_TEST_ROOTFS=$MLREEF_TEST_ROOTFS has no usr/bin/python3" >&2; exit 1; }
else
    debian_base
fi
rootfs="$MLREEF_TEST_ROOTFS"

# The work folder is the services folder of setup.sh, removed (with the registry stopped) when
# this script ends.
step="registry"
work="$services"
mkdir -p "$work/logs"
trap 'exit 130' INT
trap 'exit 143' TERM
start_registry registry address
say "registry at $address, work folder $work"

# --- the base image, once -----------------------------------------------------------------------
# One layer (a tar of the root file system with `./` names, as debootstrap's own tarballs
# have), PATH in the config.
step="base image"
say "pushing the base image $address/bases/bookworm:1"
tar -C "$rootfs" --numeric-owner --sort=name -cf "$work/base.tar" .
umoci init --layout "$work/base"
umoci new --image "$work/base:1"
umoci raw add-layer --image "$work/base:1" "$work/base.tar"
umoci config --image "$work/base:1" --os linux --architecture amd64 --config.cmd bash \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
rm "$work/base.tar"
skopeo copy -q --dest-tls-verify=false "oci:$work/base:1" "docker://$address/bases/bookworm:1"
rm -rf "$work/base"
base="$address/bases/bookworm:1"

# --- the two sides ------------------------------------------------------------------------------
# Each side builds its own copy of the module, without what mlreef's code layer always leaves
# out (.git; .mlreef, where `mlreef build` writes its images by default) and a Dockerfile build
# would send as context. What else mlreef leaves out (.gitignore, likely secrets) the module
# should not have: the files each image has under /workdir are compared below.
for side in buildah mlreef; do
    mkdir "$work/module-$side"
    tar -C "$module" --exclude=./.git --exclude=./.mlreef -cf - . | tar -C "$work/module-$side" -xf -
done

# Where the image is pulled from PyPI through a TLS-intercepting proxy (as in some sandboxes),
# the base's CA bundle does not know the proxy's CA: pip's RUN gets the host's bundle, mounted
# read-only for the step (never in the image). Elsewhere it changes nothing.
run_volumes=()
if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
    run_volumes=(--volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)
fi

# buildah on a storage folder of its own (graph root, run root, temporary files), in a private
# mount namespace where the blob-info cache of containers/image (a file under
# /var/lib/containers/cache for root, shared by every run) is a folder of that storage: a new
# storage is cold, and nothing is left on the host, mounts included.
mkdir -p /var/lib/containers/cache
buildah_on() { # STORE ARGS...
    local store="$1"
    shift
    mkdir -p "$store/root" "$store/runroot" "$store/cache" "$store/tmp"
    # shellcheck disable=SC2016 # the inner shell expands them
    unshare --mount --propagation private -- /bin/sh -c \
        'mount --bind "$0" /var/lib/containers/cache && exec "$@"' "$store/cache" \
        env TMPDIR="$store/tmp" buildah --root "$store/root" --runroot "$store/runroot" \
        --storage-driver "$driver" "$@"
}
buildah_side() { # STORE TAG: build the module's copy, push it as cmp/buildah:TAG
    buildah_on "$1" bud --isolation chroot --layers --tls-verify=false "${bud_options[@]}" "${run_volumes[@]}" \
        --build-arg "BASE=$base" -f "$dockerfile" -t "cmp/buildah:$2" "$work/module-buildah" \
        && buildah_on "$1" push --tls-verify=false "cmp/buildah:$2" "docker://$address/cmp/buildah:$2"
}
mlreef_side() { # CACHE TAG: publish the module's copy as cmp/mlreef:TAG
    MLREEF_CACHE="$1/mlreef" UV_CACHE_DIR="$1/uv" "$mlreef" publish "$work/module-mlreef" \
        --base "docker://$base" --push "$address/cmp/mlreef:$2"
}

# Runs a side, its output to logs/NAME.log; prints its wall time in seconds.
timed() { # NAME COMMAND...
    local name="$1" started ended
    shift
    say "  $name"
    started="$EPOCHREALTIME"
    if ! "$@" >"$work/logs/$name.log" 2>&1; then
        echo "error: $name failed; the end of its log:" >&2
        tail -30 "$work/logs/$name.log" >&2
        return 1
    fi
    ended="$EPOCHREALTIME"
    awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.3f\n", b - a }'
}
digest() { # SIDE TAG: the digest the registry gives cmp/SIDE:TAG
    skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$address/cmp/$1:$2"
}
median() { python3 -c 'import statistics,sys; print(f"{statistics.median(map(float, sys.argv[1:])):.3f}")' "$@"; }

# --- 1. cold, and a second cold build of the same input -----------------------------------------
# mlreef goes first: whatever the first side warms on the way to PyPI helps the Dockerfile.
step="cold builds"
say "cold builds (empty storage and caches; buildah on $driver)"
mlreef_cold="$(timed mlreef-cold mlreef_side "$work/mlreef-a" cold-1)"
buildah_cold="$(timed buildah-cold buildah_side "$work/buildah-a" cold-1)"
say "a second cold build of the same input, on fresh storage and caches"
mlreef_cold2="$(timed mlreef-cold-2 mlreef_side "$work/mlreef-b" cold-2)"
buildah_cold2="$(timed buildah-cold-2 buildah_side "$work/buildah-b" cold-2)"
rm -rf "$work/mlreef-b" "$work/buildah-b"
same_digest() { # SIDE: "yes" or "no" and the two digests
    local first second
    first="$(digest "$1" cold-1)"
    second="$(digest "$1" cold-2)"
    if [[ "$first" == "$second" ]]; then echo "yes ($first)"; else echo "no (${first:0:19} vs ${second:0:19})"; fi
}
mlreef_reproducible="$(same_digest mlreef)"
buildah_reproducible="$(same_digest buildah)"

# --- 2. a one-line change, 3. nothing changed ----------------------------------------------------
step="warm builds"
say "a one-line change to train.py, warm ($rounds rounds)"
mlreef_change=()
buildah_change=()
for i in $(seq "$rounds"); do
    for side in mlreef buildah; do
        echo "# one-line change $i" >>"$work/module-$side/train.py"
    done
    mlreef_change+=("$(timed "mlreef-change-$i" mlreef_side "$work/mlreef-a" "change-$i")")
    buildah_change+=("$(timed "buildah-change-$i" buildah_side "$work/buildah-a" "change-$i")")
done
say "nothing changed, warm, the same tag again ($rounds rounds)"
mlreef_same=()
buildah_same=()
for i in $(seq "$rounds"); do
    mlreef_same+=("$(timed "mlreef-same-$i" mlreef_side "$work/mlreef-a" "change-$rounds")")
    buildah_same+=("$(timed "buildah-same-$i" buildah_side "$work/buildah-a" "change-$rounds")")
done

# The last images, as the registry holds them: compressed layer bytes and layers. These checks
# are not timed, and one that fails prints "?" rather than losing the times.
step="report"
image_size() { # SIDE TAG
    skopeo inspect --tls-verify=false --raw "docker://$address/cmp/$1:$2" | python3 -c '
import json, sys
layers = json.load(sys.stdin)["layers"]
print("%.1f MB in %d layers" % (sum(l["size"] for l in layers) / 1e6, len(layers)))'
}
# The files an image has under /workdir (the code), from its layers above the base, read from
# the registry's storage. (buildah's last layer does not hold requirements.txt: an earlier COPY
# put the same file there.)
code_files() { # SIDE TAG
    skopeo inspect --tls-verify=false --raw "docker://$address/cmp/$1:$2" | python3 -c '
import json, sys, tarfile
names = set()
for layer in json.load(sys.stdin)["layers"][1:]:
    digest = layer["digest"].split(":")[1]
    with tarfile.open(f"{sys.argv[1]}/docker/registry/v2/blobs/sha256/{digest[:2]}/{digest}/data") as tar:
        names.update(m.name.removeprefix("./") for m in tar if not m.isdir())
print("\n".join(sorted(n for n in names if n.startswith("workdir/"))))' "$work/registry"
}
mlreef_code="$(code_files mlreef "change-$rounds")" || mlreef_code="?"
buildah_code="$(code_files buildah "change-$rounds")" || buildah_code="?"
if [[ "$mlreef_code" == "?" || "$buildah_code" == "?" ]]; then
    code_check="?"
elif [[ "$mlreef_code" == "$buildah_code" ]]; then
    code_check="the same $(wc -l <<<"$mlreef_code") files"
else
    code_check="DIFFERENT files: $( (diff <(echo "$buildah_code") <(echo "$mlreef_code") || true) | grep '^[<>]' | tr '\n' ' ')(< buildah, > mlreef)"
fi
mlreef_size="$(image_size mlreef "change-$rounds")" || mlreef_size="?"
buildah_size="$(image_size buildah "change-$rounds")" || buildah_size="?"
# What mlreef's last pushes sent.
mlreef_pushed="$(grep -h '^pushed:' "$work/logs/mlreef-change-$rounds.log" || true)"
mlreef_same_pushed="$(grep -h '^pushed:' "$work/logs/mlreef-same-$rounds.log" || true)"

# --- the table ----------------------------------------------------------------------------------
row() { # SCENARIO BUILDAH MLREEF TARGET_RATIO
    awk -v s="$1" -v b="$2" -v m="$3" -v t="$4" 'BEGIN {
        r = b / m
        verdict = (t == "") ? "" : (r >= t ? sprintf("target >= %dx: met", t) : sprintf("target >= %dx: NOT met", t))
        printf "%-31s | %22.2f | %8.2f | %21.1fx | %s\n", s, b, m, r, verdict
    }'
}
total="$(awk -v a="$run_started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')"
echo
echo "mlreef publish against a Dockerfile (buildah bud --layers + push), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
echo "module: $(basename "$module") ($(grep -cvE '^\s*(#|$)' "$module/requirements.txt") requirements); base: Debian bookworm, one layer, from $address"
echo "$("$mlreef" --version); $(buildah --version) with chroot isolation, $driver storage${bud_options[*]:+, ${bud_options[*]}}; pip and uv from PyPI"
echo "times: wall seconds of build and push; scenarios 2 and 3: median of $rounds"
echo
printf '%-31s | %22s | %8s | %22s | %s\n' "scenario" "Dockerfile (buildah) s" "mlreef s" "ratio (buildah/mlreef)" "target"
printf '%s\n' "--------------------------------+------------------------+----------+------------------------+---------------------"
row "cold (empty storage and caches)" "$buildah_cold" "$mlreef_cold" 3
row "one-line change to train.py" "$(median "${buildah_change[@]}")" "$(median "${mlreef_change[@]}")" 20
row "nothing changed" "$(median "${buildah_same[@]}")" "$(median "${mlreef_same[@]}")" ""
echo
echo "same digest for the same input (two cold builds, fresh storage and caches; target: mlreef yes):"
echo "  mlreef:  $mlreef_reproducible; second build ${mlreef_cold2} s (the registry had its blobs)"
echo "  buildah: $buildah_reproducible; second build ${buildah_cold2} s"
echo "images: mlreef $mlreef_size, buildah $buildah_size (compressed); under /workdir: $code_check"
echo "mlreef after the last change: ${mlreef_pushed:-?}; unchanged: ${mlreef_same_pushed:-?}"
echo "each round: change $(printf '%s ' "${buildah_change[@]}")s buildah, $(printf '%s ' "${mlreef_change[@]}")s mlreef; unchanged $(printf '%s ' "${buildah_same[@]}")s buildah, $(printf '%s ' "${mlreef_same[@]}")s mlreef"
echo "total run time: $total s"
