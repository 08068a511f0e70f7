#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the repository's fixtures (requirements files and, when present,
# the shared corpus; argparse and decorator scripts; mlreef.yml files; image references quoted in
# the sources; hand-written OCI JSON). The corpora are not committed (see .gitignore); run this before the
# first `cargo fuzz run`. Files are named by content hash, as libFuzzer names its own.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
shared="${MLREEF_SHARED_CORPUS:-$repo/../shared/corpus/requirements}"

targets=(requirements requirement_line environment argparse decorators mlreef_yml command_line image_ref oci_json)
for t in "${targets[@]}"; do mkdir -p "$here/corpus/$t"; done
fixtures="$repo/mlreef-core/tests/fixtures"

add() { # add TARGET < content
    local tmp sum
    tmp="$(mktemp)"
    cat > "$tmp"
    sum="$(sha1sum "$tmp" | cut -d' ' -f1)"
    mv "$tmp" "$here/corpus/$1/$sum"
}

txt=()
for dir in "$repo/mlreef-core/tests/fixtures/requirements" "$shared"; do
    [ -d "$dir" ] && while IFS= read -r -d '' f; do txt+=("$f"); done < <(find "$dir" -name '*.txt' -print0)
done

for f in "${txt[@]}"; do
    add requirements < "$f"
    # Each non-blank, non-comment line on its own, for requirement_line.
    while IFS= read -r line || [ -n "$line" ]; do
        line="${line%$'\r'}"
        case "$line" in ''|'#'*) continue ;; esac
        printf '%s' "${line#-e }" | add requirement_line
    done < "$f"
done

while IFS= read -r -d '' f; do
    add environment < "$f"
done < <(find "$repo/mlreef-core/tests/fixtures" \( -name '*.yml' -o -name '*.yaml' \) -print0)
# The requirements files again, as the pip: list of an environment file.
for f in "${txt[@]}"; do
    {
        printf 'name: seed\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - numpy>=1.24\n  - pip:\n'
        grep -a -v -e '^[[:space:]]*$' -e '^[[:space:]]*#' "$f" | sed -e 's/\r$//' -e "s/'/''/g" -e "s/.*/    - '&'/" || true
    } | add environment
done

# argparse: every Python file of the fixtures (the argparse scripts, their helpers, the example
# modules); decorators: the decorator fixtures and the example modules' scripts.
while IFS= read -r -d '' f; do
    add argparse < "$f"
done < <(find "$fixtures/argparse" "$fixtures/modules" -name '*.py' -print0)
while IFS= read -r -d '' f; do
    add decorators < "$f"
done < <(find "$fixtures/decorators" "$fixtures/modules" -name '*.py' -print0)

# mlreef_yml: the recorded mlreef.yml of every example module.
while IFS= read -r -d '' f; do
    add mlreef_yml < "$f"
done < <(find "$fixtures" -name '*.mlreef.yml' -print0)

# command_line: a first byte picking the module (the order of FIXTURES in
# fuzz_targets/command_line.rs), then values: a JSON object, NAME=TEXT and NAME:=JSON lines, built
# from the module's parameter names.
modules=(subcommands pytorch_train detection_tools imagenet_reference legacy_decorators
    visualization_user_edits yolo_helpers hf_conda)
for i in "${!modules[@]}"; do
    byte="$(printf '\\%03o' "$i")"
    names=()
    while IFS= read -r name; do names+=("$name"); done < <(
        sed -n 's/^    - name: \([A-Za-z0-9_]*\)$/\1/p' "$fixtures/modules/${modules[$i]}.mlreef.yml" | head -n 6)
    { printf "$byte"; printf '{}'; } | add command_line
    for name in "${names[@]}"; do
        { printf "$byte"; printf '{"%s": "1"}' "$name"; } | add command_line
        { printf "$byte"; printf '%s=1\n%s:=[1, "a b"]\n' "$name" "$name"; } | add command_line
        { printf "$byte"; printf '%s=it'"'"'s $HOME\n' "$name"; } | add command_line
    done
    if [ "${#names[@]}" -gt 1 ]; then
        { printf "$byte"; printf '{"%s": true, "%s": 0.5}' "${names[0]}" "${names[1]}"; } | add command_line
    fi
done

# image_ref: the references quoted in the sources and tests (without format placeholders), and
# a few more of each transport.
{
    grep -rhoE '"(docker://|oci:|docker-archive:|rootfs:)[^"{}]*"' \
        "$repo/mlreef-core/src" "$repo/mlreef-core/tests" "$repo/mlreef-cli" | tr -d '"'
    printf '%s\n' scratch python:3.11-slim ubuntu localhost:5000/a/b:c \
        "localhost/base@sha256:$(printf 'a%.0s' {1..64})" oci:.mlreef/images:main-3 \
        'oci:/tmp/a:b/c' 'oci::x' rootfs:/srv/bookworm docker-archive:out.tar \
        dir:/tmp/x containers-storage:foo registry.example.com/team/module:v1.2
} | sort -u | while IFS= read -r ref; do printf '%s' "$ref" | add image_ref; done

# oci_json: a mode byte (see fuzz_targets/oci_json.rs), then a manifest (0), an index (1), a
# config (2) or index.json (3); the JSON must match what the target writes byte for byte where it
# is digested.
config='{"architecture":"amd64","os":"linux","config":{"Labels":{"com.mlreef.module":"{}"}},"rootfs":{"type":"layers","diff_ids":[]},"history":[]}'
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
desc() { # desc MEDIA_TYPE CONTENT
    printf '{"mediaType":"%s","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}' \
        "$1" "$(sha "$2")" "${#2}"
}
manifest="$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[]}' \
    "$(desc application/vnd.oci.image.config.v1+json "$config")")"
index="$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}' \
    "$(desc application/vnd.oci.image.manifest.v1+json "$manifest")")"
layer='{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:'"$(sha x)"'","size":1}'
{ printf '\000'; printf '%s' "$manifest"; } | add oci_json
{ printf '\000'; printf '%s' "${manifest%'[]}'}[$layer]}"; } | add oci_json
{ printf '\001'; printf '%s' "$index"; } | add oci_json
{ printf '\002'; printf '%s' "$config"; } | add oci_json
{ printf '\002'; printf '{"architecture":"arm64","os":"linux","variant":"v8","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$(sha x)"; } | add oci_json
{ printf '\003'; printf '%s' "$index"; } | add oci_json
{ printf '\003'; printf '%s' "${index/\"manifests\":\[/\"manifests\":[$(desc application/vnd.oci.image.manifest.v1+json "$manifest" | sed 's/latest/other/'),}"; } | add oci_json

for t in "${targets[@]}"; do
    echo "$t: $(find "$here/corpus/$t" -type f | wc -l) seeds"
done
