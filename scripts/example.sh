#!/usr/bin/env bash
# The main job, on an example module (examples/modules/classifier unless another is named:
# classifier, image-ops or plot): its parameters read without running it, the module
# published without a Docker daemon (into the OCI layout .mlreef/images of the module, then to
# a local registry this script starts), and the published image run on the module's sample
# data with parameters chosen through `mlreef run-args`, the way the `.mlreef-run` template of
# its mlreef.yml runs it (unpacked with umoci, run with chroot). Installs what it needs, once;
# needs root (or sudo) for debootstrap, umoci and chroot.
set -euo pipefail
cd "$(dirname "$0")/.."

example="${1:-classifier}"
repo="examples/modules/$example"
case "$example" in
    classifier) chosen=(--set algorithm=forest --set epochs=5 --set standardize=true) ;;
    image-ops) chosen=(--set operation=thumbnail --set width=48 --set height=48) ;;
    plot) chosen=(--set kind=histogram --set columns=petal_length --set columns=petal_width) ;;
    *)
        echo "usage: $0 [classifier|image-ops|plot]" >&2
        exit 2
        ;;
esac
if ! command -v cargo >/dev/null; then
    echo "error: cargo not found; install Rust 1.95 (https://rustup.rs) and retry" >&2
    exit 1
fi

source scripts/setup.sh

started=$SECONDS
step() {
    local now=$SECONDS
    if [[ -n "${step_name:-}" ]]; then
        printf '    (%d s)\n' $((now - step_started))
    fi
    step_name="$1" step_started=$now
    printf '\n==> %s\n' "$1"
}

step "install what is missing: docker-registry, umoci, debootstrap; uv in .venv"
need_apt docker-registry umoci debootstrap
need_venv uv=uv yaml=pyyaml

step "build the mlreef command (release; cargo rebuilds only what changed)"
cargo build --release -q -p mlreef-cli
mlreef() { target/release/mlreef "$@"; }

step "a Debian bookworm base with Python, made with debootstrap once and cached"
debian_base
base="rootfs:$MLREEF_TEST_ROOTFS"
echo "$base"

step "the parameters of $repo/train.py, read without running it"
mlreef params "$repo/train.py"

step "publish to the embedded default: the OCI layout $repo/.mlreef/images"
mlreef publish "$repo" --base "$base"

step "publish to a local registry (Debian's docker-registry on a free port)"
start_registry example registry
reference="$registry/examples/$example:1"
mlreef publish "$repo" --base "$base" --push "$reference"

step "the registry as a catalogue: its tags and the module the image describes"
mlreef list "$registry/examples/$example"
mlreef inspect "docker://$reference"

step "the command line for chosen parameters (mlreef run-args)"
work="$services/run"
input=/workdir/data
output=/tmp/output
mlreef run-args "$repo" --set "input-path=$input" --set "output-path=$output" "${chosen[@]}"
args="$(mlreef run-args "$repo" --shell --set "input-path=$input" --set "output-path=$output" "${chosen[@]}")"

step "pull the published image and unpack it with umoci"
mlreef pull "$reference" --output "oci:$work/layout:run"
"${sudo[@]}" umoci unpack --image "$work/layout:run" "$work/bundle" >/dev/null

step "run it under chroot as the .mlreef-run template of mlreef.yml runs it"
# The image's environment and working folder (from the runtime config umoci made of it), the
# data paths as job variables, and the other values in MLREEF_ARGS.
mapfile -t image_env < <(python3 -c 'import json, sys; print("\n".join(json.load(open(sys.argv[1]))["process"]["env"]))' "$work/bundle/config.json")
script="$(python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))[".mlreef-run"]["script"][0])' "$repo/mlreef.yml")"
echo "MLREEF_ARGS=$args"
echo "$script"
"${sudo[@]}" chroot "$work/bundle/rootfs" /usr/bin/env -i "${image_env[@]}" HOME=/root \
    INPUT_PATH="$input" OUTPUT_PATH="$output" MLREEF_ARGS="$args" \
    /bin/sh -c 'cd /workdir && eval "$0"' "$script"

step "what it wrote to $output"
(cd "$work/bundle/rootfs$output" && find . -type f | sort | while read -r file; do
    printf '%8d  %s\n' "$(stat -c %s "$file")" "$file"
done)
if [[ -f "$work/bundle/rootfs$output/experiment.json" ]]; then
    cat "$work/bundle/rootfs$output/experiment.json"
fi

step "done"
printf 'the whole job took %d s\n' $((SECONDS - started))
