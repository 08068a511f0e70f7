#!/usr/bin/env bash
# Peer comparison for `mlreef requirements`: mlreef against pip's own requirements-file parser.
#
# Both sides run as whole processes, one per file, on the same files, in the same run:
#   (a) mlreef requirements --json FILE
#   (b) python pip_parse.py FILE   (below: what `pip install -r FILE` does before resolving,
#       pip's parse_requirements consumed fully and each line made an InstallRequirement)
# The files are every `.txt` under ../shared/corpus/requirements, the selection of the criterion
# bench's `corpus` case (benches/src/lib.rs, requirements_corpus_files). Some of them pip refuses;
# each side's refusals are counted and must agree, since mlreef exits 1 exactly when pip would.
#
# A whole pip process is mostly interpreter start-up and importing pip, so a second figure
# times pip's parser alone: every file parsed in ONE Python process after the imports. Compare
# its MiB/s with `cargo bench -p mlreef-benches --bench requirements` (requirements/corpus).
#
# Usage: benches/peer_requirements.sh            (from any folder)
#        ROUNDS=20 benches/peer_requirements.sh   (rounds over all files per side; default 5)
# Uses .venv/bin/python when present (it has pip 26, the version mlreef follows), else python3;
# PYTHON overrides both. Uses hyperfine when it is installed, else a timing loop in Python
# (benches/peer_time.py).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rounds="${ROUNDS:-5}"
if [[ -x "$root/.venv/bin/python" ]]; then
    python="${PYTHON:-$root/.venv/bin/python}"
else
    python="${PYTHON:-python3}"
fi
corpus="$root/../shared/corpus/requirements"

mapfile -t files < <(find "$corpus" -type f -name '*.txt' 2>/dev/null | LC_ALL=C sort)
if ((${#files[@]} == 0)); then
    echo "error: no .txt files under \`$corpus\`" >&2
    exit 1
fi
if ! "$python" -c 'import pip._internal.req.req_file' 2>/dev/null; then
    echo "error: \`$python\` cannot import pip" >&2
    exit 1
fi

echo "building release mlreef..." >&2
cargo build --release -q -p mlreef-cli
target_dir="$(cargo metadata --format-version 1 --no-deps \
    | "$python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
mlreef="$target_dir/release/mlreef"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
pip_parse="$tmp/pip_parse.py"
# `pip_parse.py FILE...` exits 1 if pip refuses any FILE; `pip_parse.py --time ROUNDS FILE...`
# parses them all ROUNDS times in this process and prints the seconds per file.
cat >"$pip_parse" <<'PY'
import os, sys, time
from pip._internal.network.session import PipSession
from pip._internal.req.constructors import install_req_from_parsed_requirement
from pip._internal.req.req_file import parse_requirements

def parse_all(files, session):
    refused = 0
    for f in files:
        try:
            for parsed in parse_requirements(f, session=session):
                install_req_from_parsed_requirement(parsed)
        except Exception:  # pip stops at a file's first bad line; that is its verdict
            refused += 1
    return refused

if sys.argv[1] == "--time":
    rounds, files = int(sys.argv[2]), sys.argv[3:]
    sys.stderr = open(os.devnull, "w")  # pip's warnings; both sides discard them
    session = PipSession()
    parse_all(files, session)  # warm-up: lazy imports inside pip
    started = time.perf_counter()
    for _ in range(rounds):
        parse_all(files, session)
    print((time.perf_counter() - started) / (rounds * len(files)))
else:
    sys.exit(1 if parse_all(sys.argv[1:], PipSession()) else 0)
PY

bytes=$(cat "${files[@]}" | wc -c)
echo "${#files[@]} files, $bytes bytes, $rounds rounds per side, $("$python" -m pip --version)" >&2

# The files each side refuses (non-zero exit status); mlreef should refuse exactly pip's.
refused() {
    local f
    for f in "${files[@]}"; do
        "$@" "$f" >/dev/null 2>&1 || printf '%s\n' "$f"
    done
}
mapfile -t mlreef_refused < <(refused "$mlreef" requirements --json)
mapfile -t pip_refused < <(refused "$python" "$pip_parse")
echo "refused: mlreef ${#mlreef_refused[@]}, pip ${#pip_refused[@]} of ${#files[@]} files" >&2
if [[ "${mlreef_refused[*]}" != "${pip_refused[*]}" ]]; then
    echo "warning: they differ:" >&2
    diff <(printf '%s\n' "${mlreef_refused[@]}") <(printf '%s\n' "${pip_refused[@]}") >&2 || true
fi

"$python" "$root/benches/peer_time.py" "$rounds" "mlreef requirements --json" "pip parse_requirements" \
    -- "$mlreef" requirements --json -- "$python" "$pip_parse" -- "${files[@]}"

# pip's parser alone, without start-up: the figure to set against the criterion bench.
per_file=$("$python" "$pip_parse" --time "$rounds" "${files[@]}")
"$python" - "$per_file" "$bytes" "${#files[@]}" <<'PY'
import sys
per_file, size, count = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
mib_s = size / count / per_file / 2**20
print(f"{'pip in one process:':28}{per_file * 1000:.3f} ms per file, {mib_s:.2f} MiB/s")
PY
