"""`mlreef_core.init`: the `mlreef init` flow in one call."""

import json

import pytest

import mlreef_core

TRAIN = """import argparse
p = argparse.ArgumentParser()
p.add_argument("--input-path", required=True)
p.add_argument("--output-path", default="out")
p.add_argument("--epochs", type=int, default=3)
p.parse_args()
"""


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "requirements.txt").write_text("numpy==1.26.4\n")
    return tmp_path


def test_created_unchanged_out_of_date_updated(repo, mlreef):
    path = repo / "mlreef.yml"
    assert mlreef_core.init(repo, check=True).status == "out_of_date"
    assert not path.exists()
    created = mlreef_core.init(repo)
    assert (created.status, created.path, created.changes) == ("created", str(path), [])
    assert path.read_text() == created.text
    assert created.module.entry_point == "train.py"
    assert "model-without-output" in [d.code for d in created.diagnostics]
    data = created.to_dict()
    assert data == json.loads(created.to_json())
    assert set(data) == {"status", "path", "module", "changes", "diagnostics", "text"}
    assert "created" in repr(created)
    # The CLI reads what Python wrote as up to date: one flow, every binding.
    assert mlreef("init", "--check", str(repo)).returncode == 0
    assert mlreef_core.init(repo).status == "unchanged"

    (repo / "train.py").write_text(TRAIN.replace("p.parse_args()", "p.add_argument('--seed', type=int)\np.parse_args()"))
    stale = mlreef_core.init(repo, check=True)
    assert stale.status == "out_of_date" and "parameter `seed` added" in stale.changes
    assert path.read_text() == created.text
    updated = mlreef_core.init(repo, mlreef_image="registry.example.org/mlreef:1")
    assert updated.status == "updated" and updated.changes == stale.changes
    assert "registry.example.org/mlreef:1" in path.read_text()


def test_a_broken_file_is_refused_and_left_as_it_is(repo):
    path = repo / "mlreef.yml"
    path.write_text("stages: [publish\n")
    with pytest.raises(mlreef_core.ParseError) as caught:
        mlreef_core.init(repo)
    assert (caught.value.line, caught.value.path) == (2, str(path))
    assert path.read_text() == "stages: [publish\n"
    with pytest.raises(FileNotFoundError):
        mlreef_core.init(repo / "missing")
    (repo / "mlreef.yml").unlink()
    (repo / "train.py").write_text("print('no parameters')\n")
    with pytest.raises(mlreef_core.ModuleError):
        mlreef_core.init(repo)
    assert not (repo / "mlreef.yml").exists()


def test_progress_and_a_raising_callback_cancels(repo):
    events = []
    mlreef_core.init(repo, progress=lambda *event: events.append(event))
    assert ("extract", 0, 1, "train.py") in events
    assert events[-1] == ("write", 0, 1, "mlreef.yml")

    class Stop(Exception):
        pass

    def stop_at_write(stage, done, total, detail):
        if stage == "write":
            raise Stop(detail)

    (repo / "train.py").write_text(TRAIN.replace("default=3", "default=5"))
    before = (repo / "mlreef.yml").read_text()
    with pytest.raises(Stop, match="mlreef.yml"):
        mlreef_core.init(repo, progress=stop_at_write)
    assert (repo / "mlreef.yml").read_text() == before
