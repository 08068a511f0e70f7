"""Times two commands over the same files, one process per file, and prints their ratio.

Usage: peer_time.py ROUNDS LABEL_A LABEL_B -- COMMAND_A... -- COMMAND_B... -- FILE...

Each command gets one FILE appended. The sides alternate round by round, so drift in machine
load hits both alike, after one warm-up round each (page cache, Python's bytecode cache).
With hyperfine installed, it runs each side as `while read f; do COMMAND "$f"; done <list`,
one run per round; otherwise it times the processes itself. The peer scripts in this folder
(peer_params.sh, peer_requirements.sh) share it.
"""

import json
import shlex
import shutil
import subprocess
import sys
import tempfile
import time


def split_args(argv):
    rounds, label_a, label_b, sep, *rest = argv
    assert sep == "--", __doc__
    parts, current = [], []
    for arg in rest:
        if arg == "--" and len(parts) < 2:
            parts.append(current)
            current = []
        else:
            current.append(arg)
    parts.append(current)
    command_a, command_b, files = parts
    return int(rounds), {label_a: command_a, label_b: command_b}, files


def with_hyperfine(rounds, sides, files):
    with tempfile.TemporaryDirectory() as tmp:
        listing, results = f"{tmp}/files", f"{tmp}/results.json"
        with open(listing, "w") as f:
            f.write("\n".join(files) + "\n")
        arguments = ["hyperfine", "--style", "basic", "--ignore-failure", "--warmup", "1",
                     "--runs", str(rounds), "--export-json", results]
        for label, command in sides.items():
            loop = f'while read -r f; do {shlex.join(command)} "$f" >/dev/null 2>&1; done <{shlex.quote(listing)}'
            arguments += ["--command-name", label, loop]
        subprocess.run(arguments, check=True, stdout=sys.stderr)
        with open(results) as f:
            return {r["command"]: sum(r["times"]) for r in json.load(f)["results"]}


def by_hand(rounds, sides, files):
    total = dict.fromkeys(sides, 0.0)

    def run(label, record):
        for f in files:
            started = time.perf_counter()
            subprocess.run(sides[label] + [f], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if record:
                total[label] += time.perf_counter() - started

    for label in sides:
        run(label, record=False)
    for _ in range(rounds):
        for label in sides:
            run(label, record=True)
    return total


def main():
    rounds, sides, files = split_args(sys.argv[1:])
    timer = with_hyperfine if shutil.which("hyperfine") else by_hand
    total = timer(rounds, sides, files)
    count = rounds * len(files)
    width = max(len(label) for label in sides) + 2
    for label in sides:
        print(f"{label + ':':{width}}{total[label]:.3f} s total, {total[label] / count * 1000:.2f} ms per file")
    first, second = sides
    print(f"{'ratio:':{width}}{total[second] / total[first]:.1f}x ({second} / {first})")


if __name__ == "__main__":
    main()
