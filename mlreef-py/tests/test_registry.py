"""The registry read back from Python: `pull`, `inspect_image` and `list_modules` against the
test command's registries, each checked with skopeo."""

import hashlib
import os
import subprocess
import uuid

import pytest

import mlreef_core
from conftest import ticks_during

TRAIN = """\
import argparse

parser = argparse.ArgumentParser(description="fit a model")
parser.add_argument("--epochs", type=int, default=3, help="passes over the data")
parser.add_argument("--layers", type=int, nargs="+", default=[64, 32])
parser.parse_args()
"""

REGISTRY = os.environ.get("MLREEF_TEST_REGISTRY")
AUTH = os.environ.get("MLREEF_TEST_REGISTRY_AUTH")
USER = os.environ.get("MLREEF_TEST_REGISTRY_USER")
PASSWORD = os.environ.get("MLREEF_TEST_REGISTRY_PASSWORD")

pytestmark = pytest.mark.skipif(not REGISTRY, reason="the test command starts the registries")


def published(tmp_path, registry, version="1", **credentials):
    repo = tmp_path / "classifier"
    repo.mkdir(exist_ok=True)
    (repo / "train.py").write_text(TRAIN)
    name = f"{registry}/py-catalogue/{uuid.uuid4().hex[:12]}"
    result = mlreef_core.publish(
        repo,
        push=f"{name}:{version}",
        base="scratch",
        python="3.11",
        cache=tmp_path / "cache",
        source_date_epoch=0,
        **credentials,
    )
    return name, result


def raw_digest(reference):
    raw = subprocess.run(["skopeo", "inspect", "--raw", reference], capture_output=True, check=True).stdout
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def test_a_published_module_is_listed_inspected_and_pulled_as_it_was(tmp_path):
    name, result = published(tmp_path, REGISTRY)

    listed = mlreef_core.list_modules(name, cache=tmp_path / "reader")
    assert listed["repository"] == f"docker://{name}"
    [tag] = listed["tags"]
    assert tag["tag"] == "1" and tag["digest"] == result.digest
    assert tag["module"]["name"] == "classifier" and tag["module"]["parameters"] == 2

    module = mlreef_core.inspect_image(f"docker://{name}:1", cache=tmp_path / "reader")
    assert isinstance(module, mlreef_core.Module)
    assert module.to_dict() == result.module.to_dict()

    events = []
    layout = f"oci:{tmp_path / 'layout'}:pulled"
    pulled = mlreef_core.pull(f"{name}:1", layout, cache=tmp_path / "reader", progress=lambda *e: events.append(e))
    assert pulled["digest"] == result.digest == raw_digest(layout)
    assert pulled["platforms"] == ["linux/amd64"]
    # The config was fetched already (by the listing): only the code layer came now.
    assert (pulled["blobs"], pulled["fetched"]) == (2, 1)
    assert events[-1][0] == "fetch" and events[-1][1] == events[-1][2] > pulled["bytes"] > 0
    assert mlreef_core.inspect_image(layout).to_dict() == result.module.to_dict()

    with pytest.raises(mlreef_core.RegistryError) as caught:
        mlreef_core.inspect_image(f"docker://{name}:2", cache=tmp_path / "reader")
    assert caught.value.status == 404
    with pytest.raises(ValueError, match="not a registry reference"):
        mlreef_core.pull(f"oci:{tmp_path / 'layout'}", layout)


def test_a_raising_callback_stops_a_pull_before_the_layout_names_it(tmp_path):
    repo = tmp_path / "classifier"
    repo.mkdir()
    (repo / "train.py").write_text(TRAIN)
    (repo / "weights.bin").write_bytes(os.urandom(8 << 20))
    name = f"{REGISTRY}/py-catalogue/{uuid.uuid4().hex[:12]}"
    mlreef_core.publish(repo, push=f"{name}:1", base="scratch", python="3.11", cache=tmp_path / "cache")

    class Stop(Exception):
        pass

    def stop(stage, done, total, detail):
        if stage == "fetch" and done > 0:
            raise Stop(detail)

    with pytest.raises(Stop):
        mlreef_core.pull(f"{name}:1", f"oci:{tmp_path / 'layout'}:x", cache=tmp_path / "reader", progress=stop)
    assert not (tmp_path / "layout" / "index.json").exists()

    # Other threads run while a pull fetches.
    result, during = ticks_during(
        lambda: mlreef_core.pull(f"{name}:1", f"oci:{tmp_path / 'layout'}:x", cache=tmp_path / "other")
    )
    assert result["fetched"] == 2
    assert during >= 3, during


@pytest.mark.skipif(not AUTH, reason="the test command starts a registry with a password")
def test_credentials_are_arguments_for_reading_too(tmp_path):
    name, result = published(tmp_path, AUTH, username=USER, password=PASSWORD)
    listed = mlreef_core.list_modules(name, username=USER, password=PASSWORD, cache=tmp_path / "reader")
    assert [t["digest"] for t in listed["tags"]] == [result.digest]
    with pytest.raises(mlreef_core.RegistryError) as caught:
        mlreef_core.list_modules(name, cache=tmp_path / "reader")
    assert caught.value.status == 401
    with pytest.raises(ValueError, match="go together"):
        mlreef_core.inspect_image(f"{name}:1", username=USER)
    with pytest.raises(mlreef_core.RegistryError) as caught:
        mlreef_core.inspect_image(f"{name}:1", username=USER, password=PASSWORD + "-wrong")
    assert PASSWORD not in str(caught.value)
