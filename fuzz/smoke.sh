#!/usr/bin/env bash
# Runs every fuzz target briefly: ./smoke.sh [SECONDS] (default 10 per target). Seeds the corpora,
# builds once, then runs the targets one after the other (one fuzz process at a time) and fails
# if any of them crashes, hangs (10 s per input) or runs out of memory (2 GiB). What a run finds
# goes to a temporary corpus, so the seeded corpora stay as seed.sh leaves them. The test command
# (scripts/test.sh) runs it.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
seconds="${1:-10}"
cd "$here"
export RUSTC_BOOTSTRAP=1

./seed.sh > /dev/null || exit 1
cargo fuzz build || exit 1
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
failed=()
start=$SECONDS
for target in $(cargo fuzz list); do
    mkdir -p "$scratch/$target"
    echo "== $target (${seconds}s)"
    if ! cargo fuzz run "$target" "$scratch/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        > "$scratch/$target.log" 2>&1; then
        failed+=("$target")
        tail -n 40 "$scratch/$target.log"
    fi
    grep -E '^(#[0-9]+\s+DONE|Done [0-9]+ runs)' "$scratch/$target.log" | tail -n 1
done
echo "smoke: $((SECONDS - start))s for $(cargo fuzz list | wc -l) targets"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "smoke: failed: ${failed[*]} (artifacts in $here/artifacts/)" >&2
    exit 1
fi
