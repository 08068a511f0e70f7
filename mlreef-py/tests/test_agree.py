"""The same call with the same arguments gives the same JSON from Python, the `mlreef` command
and the C API, for every requirements fixture (files, folders, conda files) and every argparse
and decorators fixture, without passing a repository or an environment: each binding leaves
both to the core's defaults (the file's git root, else its folder; the process environment).

The C side is the program `mlreef-ffi/tests/agree.rs` builds into
`target/<profile>/c-tests/print_json` (that test also compares the Rust core with both)."""

import json
import os
import pathlib
import shutil
import subprocess

import pytest

import mlreef_core
from conftest import FIXTURES, ROOT, cli_json

ENV = {"MLREEF_INDEX_TOKEN": "s3cr3t", "MLREEF_VERSION": "2.31.0", "MLREEF_EMPTY": ""}


def requirements_fixtures():
    for folder, suffix, entry in [("requirements", ".txt", "requirements.txt"), ("conda", ".yml", "environment.yml")]:
        for path in sorted((FIXTURES / folder).iterdir()):
            if path.is_dir() and (path / entry).is_file():
                yield path / entry
            elif path.suffix == suffix:
                yield path


def script_fixtures():
    for folder in ["argparse", "decorators"]:
        for path in sorted((FIXTURES / folder).iterdir()):
            if path.is_dir() and (path / "main.py").is_file():
                yield path / "main.py"
            elif path.suffix == ".py":
                yield path


def fixture_id(path):
    return str(path).rsplit("fixtures/", 1)[-1]


@pytest.fixture(scope="session")
def c_json():
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = target / "debug" / "c-tests" / "print_json"
    if not binary.exists():
        pytest.fail(f"{binary} not found: run `cargo test -p mlreef-ffi --test agree` first (scripts/test.sh does)")

    def run(call, path):
        result = subprocess.run([str(binary), call, str(path)], capture_output=True, text=True)
        return json.loads(result.stdout) if result.stdout.strip() else None

    return run


@pytest.fixture
def process_env(monkeypatch):
    # In the process environment, which every binding reads by default (and the programs inherit).
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def agree(mlreef, c_json, call, path):
    if call == "requirements":
        try:
            ours = mlreef_core.parse_requirements(path=path)
        except mlreef_core.RequirementsError:
            ours = None
    else:
        ours = mlreef_core.extract_parameters(path=path)
    cli = mlreef(call, str(path), "--json")
    cli_result = json.loads(cli.stdout) if cli.stdout.strip() else None
    c_result = c_json(call, path)
    if ours is None:
        assert cli_result is None and c_result is None, path
        return None
    data = ours.to_dict()
    assert data == json.loads(ours.to_json())
    assert data == cli_result, f"{path}: Python and the CLI differ"
    assert data == c_result, f"{path}: Python and C differ"
    return data


@pytest.mark.parametrize("path", list(requirements_fixtures()), ids=fixture_id)
def test_requirements_agree(mlreef, c_json, process_env, path):
    agree(mlreef, c_json, "requirements", path)


@pytest.mark.parametrize("path", list(script_fixtures()), ids=fixture_id)
def test_parameters_agree(mlreef, c_json, path):
    agree(mlreef, c_json, "params", path)


def test_the_default_environment_is_the_process_environment(process_env):
    parsed = mlreef_core.parse_requirements(path=FIXTURES / "requirements" / "env_version_specifier.txt")
    assert "unset-variable" not in [d.code for d in parsed.diagnostics]
    empty = mlreef_core.parse_requirements(path=FIXTURES / "requirements" / "env_version_specifier.txt", env={})
    assert "unset-variable" in [d.code for d in empty.diagnostics]


def copy_fixtures(root):
    shutil.copytree(FIXTURES / "requirements" / "include_nested_three_levels", root / "deps")
    shutil.copytree(FIXTURES / "conda" / "pip_sublist", root / "env")
    shutil.copytree(FIXTURES / "argparse" / "helper_cross_module", root / "src")
    return [
        ("requirements", root / "deps" / "requirements.txt"),
        ("requirements", root / "env" / "environment.yml"),
        ("params", root / "src" / "main.py"),
    ]


def test_in_a_git_repository_and_outside_any(mlreef, c_json, tmp_path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    for call, path in copy_fixtures(repo):
        agree(mlreef, c_json, call, path)
    deps = mlreef_core.parse_requirements(path=repo / "deps" / "requirements.txt")
    assert {r.source for r in deps.requirements} >= {"deps/requirements/common/core/pinned.txt"}
    alone = tmp_path / "alone"
    alone.mkdir()
    for call, path in copy_fixtures(alone):
        agree(mlreef, c_json, call, path)
    if not any((parent / ".git").exists() for parent in alone.parents):
        deps = mlreef_core.parse_requirements(path=alone / "deps" / "requirements.txt")
        assert "requirements/common/core/pinned.txt" in {r.source for r in deps.requirements}
