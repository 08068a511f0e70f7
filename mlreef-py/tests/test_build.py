"""`mlreef_core.build`: the module's image from Python, as `mlreef build` makes it."""

import json
import os
import pathlib
import subprocess

import pytest

import mlreef_core
from conftest import ticks_during

TRAIN = """\
import argparse

parser = argparse.ArgumentParser(description="fit a model")
parser.add_argument("--epochs", type=int, default=3, help="passes over the data")
parser.parse_args()
"""


def repository(path: pathlib.Path) -> pathlib.Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "train.py").write_text(TRAIN)
    (path / "data.csv").write_text("x,y\n1,2\n")
    (path / ".env").write_text("TOKEN=never-in-an-image\n")
    return path


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def test_builds_an_oci_layout_with_the_module_in_it(tmp_path, cache):
    repo = repository(tmp_path / "classifier")
    events = []
    built = mlreef_core.build(
        repo,
        base="scratch",
        output=f"oci:{tmp_path / 'images'}:v1",
        cache=cache,
        source_date_epoch=1_700_000_000,
        progress=lambda *event: events.append(event),
    )
    assert built.reference == f"oci:{tmp_path / 'images'}:v1"
    assert built.digest.startswith("sha256:")
    [platform] = built.platforms
    assert platform["platform"] == "linux/amd64"
    assert platform["digest"] == built.digest
    assert [layer["role"] for layer in platform["layers"]] == ["code"]
    assert {"path": ".env", "reason": "secret"} in built.excluded
    assert built.module.entry_point == "train.py"
    assert built.lock is None
    assert json.loads(built.to_json()) == built.to_dict()
    stages = {stage for stage, *_ in events}
    assert {"extract", "code", "layer", "base", "write"} <= stages, stages

    # The layout is what an independent reader sees.
    index = json.loads((tmp_path / "images" / "index.json").read_text())
    [manifest] = index["manifests"]
    assert manifest["digest"] == built.digest
    assert manifest["annotations"]["org.opencontainers.image.ref.name"] == "v1"
    blob = tmp_path / "images" / "blobs" / "sha256" / built.digest.split(":")[1]
    config_digest = json.loads(blob.read_text())["config"]["digest"]
    config = json.loads((blob.parent / config_digest.split(":")[1]).read_text())
    assert config["config"]["Entrypoint"] == ["python3", "/workdir/train.py"]
    assert config["config"]["WorkingDir"] == "/workdir"
    labels = config["config"]["Labels"]
    assert json.loads(labels["com.mlreef.module"])["entry_points"]["train"] == "train.py"
    assert config["created"] == "2023-11-14T22:13:20Z"


def test_the_same_inputs_give_the_same_digest_anywhere(tmp_path, cache):
    first = mlreef_core.build(
        repository(tmp_path / "one" / "classifier"),
        base="scratch",
        output=f"oci:{tmp_path / 'one-images'}",
        cache=cache,
        source_date_epoch=0,
    )
    second = mlreef_core.build(
        repository(tmp_path / "two" / "classifier"),
        base="scratch",
        output=f"docker-archive:{tmp_path / 'two.tar'}:team/classifier:1",
        cache=tmp_path / "another-cache",
        source_date_epoch=0,
    )
    assert first.digest == second.digest
    assert (tmp_path / "two.tar").stat().st_size > 0


def test_matches_the_command(tmp_path, cache, mlreef):
    repo = repository(tmp_path / "classifier")
    env = dict(os.environ, MLREEF_CACHE=str(cache), SOURCE_DATE_EPOCH="86400")
    result = mlreef("build", str(repo), "--base", "scratch", "--output", f"oci:{tmp_path / 'cli'}", "--json", env=env)
    assert result.returncode == 0, result.stderr
    from_command = json.loads(result.stdout)
    from_python = mlreef_core.build(
        repo, base="scratch", output=f"oci:{tmp_path / 'py'}", cache=cache, source_date_epoch=86400
    ).to_dict()
    assert from_command["digest"] == from_python["digest"]
    assert from_command["platforms"] == from_python["platforms"]
    assert from_command["excluded"] == from_python["excluded"]


def test_a_raising_callback_cancels_and_writes_nothing(tmp_path, cache):
    repo = repository(tmp_path / "classifier")

    class Stop(Exception):
        pass

    def stop_at_the_base(stage, done, total, detail):
        if stage == "base":
            raise Stop(detail)

    with pytest.raises(Stop):
        mlreef_core.build(
            repo, base="scratch", output=f"oci:{tmp_path / 'images'}", cache=cache, progress=stop_at_the_base
        )
    assert not (tmp_path / "images").exists()


def test_other_threads_run_during_a_build(tmp_path, cache):
    repo = repository(tmp_path / "classifier")
    # Incompressible bytes keep the compressor busy for a while.
    (repo / "weights.bin").write_bytes(os.urandom(48 << 20))
    _, during = ticks_during(
        lambda: mlreef_core.build(repo, base="scratch", output=f"oci:{tmp_path / 'images'}", cache=cache)
    )
    assert during >= 3, during


def test_errors_say_what_is_wrong(tmp_path, cache):
    repo = repository(tmp_path / "classifier")
    with pytest.raises(ValueError, match="`dir:` transport is not supported"):
        mlreef_core.build(repo, base="dir:/srv/base", cache=cache)
    with pytest.raises(ValueError, match="compression"):
        mlreef_core.build(repo, base="scratch", compression="bzip2", cache=cache)
    with pytest.raises(mlreef_core.ImageError, match="mlreef publish"):
        mlreef_core.build(repo, base="scratch", output="docker://127.0.0.1:9/team/module:1", cache=cache)
    with pytest.raises(FileNotFoundError):
        mlreef_core.build(repo, base=f"oci:{tmp_path / 'missing'}:v1", cache=cache)
    mlreef_core.build(repo, base="scratch", output=f"oci:{tmp_path / 'images'}:v1", cache=cache)
    with pytest.raises(mlreef_core.ImageError, match="has no image tagged `v9`; it has v1"):
        mlreef_core.build(repo, base=f"oci:{tmp_path / 'images'}:v9", cache=cache)
    (tmp_path / "no-scripts").mkdir()
    with pytest.raises(mlreef_core.ModuleError, match="no entry point"):
        mlreef_core.build(tmp_path / "no-scripts", base="scratch", cache=cache)


def test_a_requirement_without_a_wheel_is_named(tmp_path, cache):
    repo = repository(tmp_path / "classifier")
    (repo / "requirements.txt").write_text("docopt==0.6.2\n")
    with pytest.raises(mlreef_core.DependencyError) as caught:
        mlreef_core.build(repo, base="scratch", python="3.11", output=f"oci:{tmp_path / 'images'}", cache=cache)
    assert caught.value.requirement == "docopt==0.6.2"
    assert "linux/amd64" in str(caught.value)
    assert not (tmp_path / "images").exists()


@pytest.mark.skipif(not os.environ.get("MLREEF_TEST_ROOTFS"), reason="the test command makes a Debian base")
def test_dependencies_go_in_their_own_layer_for_the_base_python(tmp_path):
    repo = repository(tmp_path / "classifier")
    (repo / "requirements.txt").write_text("six==1.16.0\n")
    built = mlreef_core.build(
        repo,
        base=f"rootfs:{os.environ['MLREEF_TEST_ROOTFS']}",
        output=f"oci:{tmp_path / 'images'}:v1",
        cache=tmp_path / "cache",
    )
    [platform] = built.platforms
    assert platform["python"] == "3.11"
    assert [layer["role"] for layer in platform["layers"]] == ["base", "deps", "code"]
    assert built.lock and built.lock.startswith("sha256:")
    unpacked = tmp_path / "unpacked"
    subprocess.run(["umoci", "unpack", "--image", f"{tmp_path / 'images'}:v1", str(unpacked)], check=True, capture_output=True)
    lock = (unpacked / "rootfs" / "opt" / "mlreef" / "requirements.lock").read_text()
    assert "six==1.16.0" in lock and "--hash=sha256:" in lock
    assert (unpacked / "rootfs" / "opt" / "mlreef" / "site-packages" / "six.py").is_file()
