"""Shared paths and helpers: the repository's fixtures and the `mlreef` binary that the
README test command builds before running pytest."""

import json
import os
import pathlib
import subprocess

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
