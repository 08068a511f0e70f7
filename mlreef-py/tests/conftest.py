"""Shared paths and helpers: the repository's fixtures and the `mlreef` binary that the
README test command builds before running pytest."""

import json
import os
import pathlib
import subprocess
import threading
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "mlreef-core" / "tests" / "fixtures"
EXAMPLES = ROOT / "examples"


def mlreef_binary() -> pathlib.Path:
    explicit = os.environ.get("MLREEF_BIN")
    if explicit:
        return pathlib.Path(explicit)
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "mlreef"


@pytest.fixture(scope="session")
def mlreef():
    binary = mlreef_binary()
    if not binary.exists():
        pytest.fail(f"{binary} not found: run `cargo build --workspace` first (scripts/test.sh does)")

    def run(*args, env=None):
        result = subprocess.run([str(binary), *args], capture_output=True, text=True, env=env)
        return result

    return run


def cli_json(mlreef, *args, env=None):
    result = mlreef(*args, "--json", env=env)
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def ticks_during(call):
    """Runs `call()` while another thread counts; returns its result and how far the count got
    during the call. A call that held the GIL throughout would leave it at zero."""
    ticks = 0
    stop = threading.Event()

    def count():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    worker = threading.Thread(target=count)
    worker.start()
    time.sleep(0.05)
    before = ticks
    try:
        result = call()
    finally:
        during = ticks - before
        stop.set()
        worker.join()
    return result, during
