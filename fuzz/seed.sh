#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the requirements files in the repository's fixtures and, when
# present, the shared corpus. The corpora are not committed (see .gitignore); run this before the
# first `cargo fuzz run`. Files are named by content hash, as libFuzzer names its own.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
shared="${MLREEF_SHARED_CORPUS:-/work/shared/corpus/requirements}"

mkdir -p "$here/corpus/requirements" "$here/corpus/requirement_line" "$here/corpus/environment"

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

for t in requirements requirement_line environment; do
    echo "$t: $(find "$here/corpus/$t" -type f | wc -l) seeds"
done
