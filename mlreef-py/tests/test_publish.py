"""`mlreef_core.publish`: a module pushed to the test command's registries from Python."""

import json
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
parser.parse_args()
"""

REGISTRY = os.environ.get("MLREEF_TEST_REGISTRY")
AUTH = os.environ.get("MLREEF_TEST_REGISTRY_AUTH")
USER = os.environ.get("MLREEF_TEST_REGISTRY_USER")
PASSWORD = os.environ.get("MLREEF_TEST_REGISTRY_PASSWORD")

pytestmark = pytest.mark.skipif(not REGISTRY, reason="the test command starts the registries")


def repository(path):
    path.mkdir(parents=True, exist_ok=True)
    (path / "train.py").write_text(TRAIN)
    return path


def target(registry=None):
    return f"{registry or REGISTRY}/py/{uuid.uuid4().hex[:12]}:1"


def registry_digest(reference, creds=None):
    """The digest skopeo reads for `reference`, or None when there is no such tag."""
    args = ["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}"]
    if creds:
        args.append(f"--creds={creds}")
    result = subprocess.run([*args, f"docker://{reference}"], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else None


def publish(repo, reference, tmp_path, **options):
    return mlreef_core.publish(
        repo, push=reference, base="scratch", python="3.11", cache=tmp_path / "cache", source_date_epoch=0, **options
    )


def test_publishes_once_and_keeps_a_version_as_it_was(tmp_path):
    repo = repository(tmp_path / "classifier")
    reference = target()
    events = []
    first = publish(repo, reference, tmp_path, progress=lambda *event: events.append(event))
    assert first.reference == f"docker://{reference}"
    assert first.pushed["uploaded"] == 2 and first.pushed["bytes"] > 0
    assert registry_digest(reference) == first.digest
    stages = {stage for stage, *_ in events}
    assert {"upload", "uploaded", "manifest"} <= stages, stages
    assert json.loads(first.to_json())["pushed"] == first.pushed

    again = publish(repo, reference, tmp_path)
    assert again.pushed == {"uploaded": 0, "skipped": 2, "mounted": 0, "bytes": 0}

    (repo / "train.py").write_text(TRAIN + "# tuned\n")
    with pytest.raises(mlreef_core.TagExistsError) as caught:
        publish(repo, reference, tmp_path)
    assert caught.value.existing == first.digest
    assert isinstance(caught.value, mlreef_core.ImageError)
    assert registry_digest(reference) == first.digest
    forced = publish(repo, reference, tmp_path, force=True)
    assert registry_digest(reference) == forced.digest != first.digest


def test_an_exception_in_the_callback_stops_the_push_without_a_tag(tmp_path):
    repo = repository(tmp_path / "classifier")
    reference = target()

    class Stop(Exception):
        pass

    def stop_at_the_tag(stage, done, total, detail):
        if stage == "manifest":
            raise Stop(detail)

    with pytest.raises(Stop):
        publish(repo, reference, tmp_path, progress=stop_at_the_tag)
    assert registry_digest(reference) is None


def test_other_threads_run_during_a_publish(tmp_path):
    repo = repository(tmp_path / "classifier")
    (repo / "weights.bin").write_bytes(os.urandom(32 << 20))
    result, during = ticks_during(lambda: publish(repo, target(), tmp_path))
    assert result.pushed["uploaded"] == 2
    assert during >= 3, during


@pytest.mark.skipif(not AUTH, reason="the test command starts a registry with a password")
def test_credentials_are_arguments_and_a_refusal_is_a_registry_error(tmp_path):
    repo = repository(tmp_path / "classifier")
    reference = target(AUTH)
    published = publish(repo, reference, tmp_path, username=USER, password=PASSWORD)
    assert registry_digest(reference, f"{USER}:{PASSWORD}") == published.digest

    with pytest.raises(mlreef_core.RegistryError) as caught:
        publish(repo, target(AUTH), tmp_path, username=USER, password=PASSWORD + "-wrong")
    assert caught.value.status == 401
    assert caught.value.registry == AUTH
    assert PASSWORD not in str(caught.value)
    with pytest.raises(ValueError, match="go together"):
        publish(repo, target(AUTH), tmp_path, username=USER)
    with pytest.raises(ValueError, match="not both"):
        mlreef_core.publish(repo, push=target(), output=f"oci:{tmp_path / 'x'}")


def test_a_layout_is_pushed_with_its_own_digest(tmp_path):
    repo = repository(tmp_path / "classifier")
    built = mlreef_core.build(repo, base="scratch", output=f"oci:{tmp_path / 'layout'}:v1", cache=tmp_path / "cache")
    reference = target()
    events = []
    pushed = mlreef_core.push(f"oci:{tmp_path / 'layout'}:v1", reference, progress=lambda *e: events.append(e))
    assert pushed["digest"] == built.digest == registry_digest(reference)
    assert pushed["reference"] == f"docker://{reference}"
    assert pushed["pushed"]["uploaded"] == 2
    assert any(stage == "upload" for stage, *_ in events)
    again = mlreef_core.push(f"oci:{tmp_path / 'layout'}:v1", reference)
    assert again["pushed"] == {"uploaded": 0, "skipped": 2, "mounted": 0, "bytes": 0}
    with pytest.raises(ValueError, match="not a registry reference"):
        mlreef_core.push(f"oci:{tmp_path / 'layout'}:v1", f"oci:{tmp_path / 'other'}")
    with pytest.raises(mlreef_core.ImageError, match="no image tagged `v9`"):
        mlreef_core.push(f"oci:{tmp_path / 'layout'}:v9", target())
