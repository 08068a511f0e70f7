"""`pip install mlreef-core` gives the `mlreef` command too: the console script runs the same
Rust program as the binary, and the publish job that `mlreef init` generates works with only a
plain Python and that package."""

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

import mlreef_core

FIXTURES = Path(__file__).resolve().parents[2] / "mlreef-core" / "tests" / "fixtures"
REGISTRY = os.environ.get("MLREEF_TEST_REGISTRY")
WHEELS = os.environ.get("MLREEF_TEST_WHEELS")

TRAIN = """\
import argparse

parser = argparse.ArgumentParser(description="fit a model")
parser.add_argument("--input-path", default="data")
parser.add_argument("--output-path", default="out")
parser.add_argument("--epochs", type=int, default=3)
parser.parse_args()
"""


def mlreef():
    """The console script installed beside this interpreter."""
    script = Path(sys.executable).parent / "mlreef"
    assert script.exists(), "the wheel installs an `mlreef` console script"
    return str(script)


def test_the_console_script_is_the_command():
    version = subprocess.run([mlreef(), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"mlreef {mlreef_core.__version__}"

    script = FIXTURES / "argparse" / "realistic_sklearn.py"
    printed = subprocess.run([mlreef(), "params", str(script), "--json"], capture_output=True, text=True)
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == json.loads(mlreef_core.extract_parameters(path=script).to_json())

    usage = subprocess.run([mlreef(), "no-such-command"], capture_output=True, text=True)
    assert usage.returncode == 2 and "unrecognized subcommand" in usage.stderr
    missing = subprocess.run([mlreef(), "params", "/no/such/script.py"], capture_output=True, text=True)
    assert missing.returncode == 1 and "/no/such/script.py" in missing.stderr

    module = subprocess.run([sys.executable, "-m", "mlreef_core", "--help"], capture_output=True, text=True)
    assert module.returncode == 0 and "mlreef publish" in module.stdout


@pytest.mark.skipif(not (REGISTRY and WHEELS), reason="the test command builds the wheel and starts a registry")
def test_the_generated_publish_job_runs_in_a_fresh_venv(tmp_path):
    repo = tmp_path / "classifier"
    repo.mkdir()
    (repo / "train.py").write_text(TRAIN)
    mlreef_core.init(repo)
    # The module's base environment, set by a person: here an empty base (a real one would be
    # a Python image of the registry).
    text = (repo / "mlreef.yml").read_text()
    assert 'image: "docker://python:3.11-slim"' in text
    (repo / "mlreef.yml").write_text(text.replace('image: "docker://python:3.11-slim"', 'image: "scratch"'))

    # A plain Python with pip and nothing else, as the job's python image is.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        # pip finds the package the test command built instead of PyPI's.
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": WHEELS,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "MLREEF_CACHE": str(tmp_path / "cache"),
        # What GitLab CI sets.
        "CI_REGISTRY_IMAGE": f"{REGISTRY}/jobs/{uuid.uuid4().hex[:12]}",
        "CI_COMMIT_REF_SLUG": "main",
        "CI_COMMIT_BRANCH": "main",
    }
    assert shutil.which("mlreef", path=env["PATH"]) is None
    job = yaml.safe_load((repo / "mlreef.yml").read_text())["mlreef-publish"]
    assert job["image"].startswith("python:")
    for line in job["script"]:
        ran = subprocess.run(["sh", "-c", line], cwd=repo, env=env, capture_output=True, text=True)
        assert ran.returncode == 0, f"{line}\n{ran.stdout}\n{ran.stderr}"
    assert shutil.which("mlreef", path=env["PATH"]) == str(venv / "bin" / "mlreef")

    reference = f"{env['CI_REGISTRY_IMAGE']}:main-1"
    listed = mlreef_core.list_modules(env["CI_REGISTRY_IMAGE"], cache=tmp_path / "reader")
    assert [t["tag"] for t in listed["tags"]] == ["main-1"]
    published = mlreef_core.inspect_image(f"docker://{reference}", cache=tmp_path / "reader")
    assert published.name == "classifier"
    assert published.to_dict()["base_environment"]["image"] == "scratch"

