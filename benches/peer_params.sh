#!/usr/bin/env bash
# Peer comparison for `mlreef params`: the static extractor against the runtime oracle, which
# runs each script's parser construction under CPython (mlreef-core/tests/oracle/).
#
# Both sides run as whole processes, on the same files, in the same run:
#   (a) mlreef params --json FILE
#   (b) python3 mlreef-core/tests/oracle/argparse_oracle.py FILE
# The files are the `realistic_*` argparse fixtures (all fixtures when there are none), the
# same selection as the criterion bench (benches/src/lib.rs, fixture_scripts).
#
# Usage: benches/peer_params.sh            (from any folder)
#        ROUNDS=20 benches/peer_params.sh   (rounds over all files per side; default 5)
# Uses hyperfine when it is installed, else a timing loop in Python (benches/peer_time.py).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rounds="${ROUNDS:-5}"
python="${PYTHON:-python3}"
oracle="$root/mlreef-core/tests/oracle/argparse_oracle.py"
fixtures="$root/mlreef-core/tests/fixtures/argparse"

echo "building release mlreef..." >&2
cargo build --release -q -p mlreef-cli
target_dir="$(cargo metadata --format-version 1 --no-deps \
    | "$python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
mlreef="$target_dir/release/mlreef"

select_files() {
    local pattern="$1" entry
    for entry in "$fixtures"/$pattern; do
        if [[ -f "$entry" && "$entry" == *.py ]]; then
            printf '%s\n' "$entry"
        elif [[ -f "$entry/main.py" ]]; then
            printf '%s\n' "$entry/main.py"
        fi
    done
}
mapfile -t files < <(select_files 'realistic_*')
if ((${#files[@]} == 0)); then
    mapfile -t files < <(select_files '*')
fi
if ((${#files[@]} == 0)); then
    echo "error: no fixtures under \`$fixtures\`" >&2
    exit 1
fi
bytes=$(cat "${files[@]}" | wc -c)
echo "${#files[@]} files, $bytes bytes, $rounds rounds per side" >&2

"$python" "$root/benches/peer_time.py" "$rounds" "mlreef params --json" "python3 oracle" \
    -- "$mlreef" params --json -- "$python" "$oracle" -- "${files[@]}"
