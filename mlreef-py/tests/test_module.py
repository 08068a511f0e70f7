import shutil

import pytest

import mlreef_core
from conftest import EXAMPLES, ticks_during

TRAIN = """import argparse
p = argparse.ArgumentParser()
p.add_argument("--input-path", required=True)
p.add_argument("--output-path", default="out")
p.add_argument("--epochs", type=int, default=3)
p.add_argument("--fast", action="store_true")
p.parse_args()
"""


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "requirements.txt").write_text("numpy==1.26.4\n")
    return tmp_path


def test_discover_validate_and_describe(repo):
    module = mlreef_core.Module.discover(repo)
    assert module.entry_point == "train.py"
    assert module.kind == "ALGORITHM" and module.version == "1"
    assert [p.name for p in module.parameters] == ["input-path", "output-path", "epochs", "fast"]
    assert module.requirements == ["numpy==1.26.4"]
    assert len(module.script_sha256) == 64
    codes = [d.code for d in module.validate()]
    assert codes == ["model-without-output"]
    assert module.to_dict()["entry_points"] == {"train": "train.py", "inference": None}
    assert "<table>" in module._repr_html_() and "Module" in repr(module)
    assert mlreef_core.Module.schema()["title"] == "Module"
    form = module.json_schema()
    assert form["properties"]["epochs"] == {"type": "integer", "default": 3, "x-flags": ["--epochs"]}


def test_yaml_round_trip_and_merge(repo):
    module = mlreef_core.Module.discover(repo)
    text = module.to_yaml()
    again = mlreef_core.Module.from_yaml(text)
    assert again.to_dict() == module.to_dict()
    (repo / "train.py").write_text(TRAIN.replace("p.parse_args()", "p.add_argument('--seed', type=int)\np.parse_args()"))
    merged, changes = again.merge(mlreef_core.Module.discover(repo))
    assert "parameter `seed` added" in changes
    assert [p.name for p in merged.parameters][-1] == "seed"
    # Regenerating keeps the user's own jobs, and the job image can be chosen.
    edited = text + "lint:\n  script: [ruff check .]\n"
    regenerated = merged.to_yaml(existing=edited, mlreef_image="registry.example.org/mlreef:1")
    assert "lint:" in regenerated and "registry.example.org/mlreef:1" in regenerated
    with pytest.raises(mlreef_core.ParseError):
        merged.to_yaml(existing="stages: [\n")


def test_command_lines(repo):
    module = mlreef_core.Module.discover(repo)
    argv = module.command_line({"input-path": "/data/my images", "epochs": 5, "fast": True})
    assert argv == ["--input-path", "/data/my images", "--epochs", "5", "--fast"]
    assert module.shell_line({"input-path": "it's"}) == "--input-path 'it'\\''s'"
    with pytest.raises(mlreef_core.CommandLineError, match="integer"):
        module.command_line({"input-path": "/d", "epochs": "many"})
    with pytest.raises(mlreef_core.CommandLineError, match="required"):
        module.command_line({})


def test_module_errors(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "fit.py").write_text(TRAIN)
    (tmp_path / "b" / "score.py").write_text(TRAIN)
    with pytest.raises(mlreef_core.ModuleError, match="a/fit.py"):
        mlreef_core.Module.discover(tmp_path)
    with pytest.raises(mlreef_core.ModuleError) as caught:
        mlreef_core.Module.from_yaml("stages: [publish]\n.mlreef:\n  kind: MODEL\n")
    assert caught.value.line == 2
    with pytest.raises(mlreef_core.ParseError) as caught:
        mlreef_core.Module.from_yaml("stages: [publish\n")
    assert caught.value.line == 2
    with pytest.raises(FileNotFoundError):
        mlreef_core.Module.discover(tmp_path / "missing")


def test_other_threads_run_during_a_long_extraction(tmp_path):
    # A large script: long enough that the extraction takes a while even in release builds.
    lines = ["import argparse", "p = argparse.ArgumentParser()"]
    lines += [f"p.add_argument('--option-{i}', type=int, default={i}, help='option {i}')" for i in range(30000)]
    lines.append("p.parse_args()")
    script = tmp_path / "big.py"
    script.write_text("\n".join(lines) + "\n")
    extraction, during = ticks_during(lambda: mlreef_core.extract_parameters(path=script))
    assert len(extraction) == 30000
    # With the GIL held for the whole call the counter could not move at all.
    assert during >= 3, during


def test_example_repository_is_described():
    module = mlreef_core.Module.discover(EXAMPLES)
    assert module.entry_point == "train.py"
    assert any(line.startswith("torch==") for line in module.requirements)


def test_progress_reports_and_a_raising_callback_cancels(tmp_path):
    (tmp_path / "src").mkdir()
    for name in ["a.py", "b.py", "c.py"]:
        (tmp_path / "src" / name).write_text("x = 1\n")
    (tmp_path / "src" / "fit.py").write_text(TRAIN)
    events = []
    module = mlreef_core.Module.discover(tmp_path, progress=lambda *event: events.append(event))
    assert module.entry_point == "src/fit.py"
    assert events[0] == ("search", 0, 4, "src/a.py")
    assert ("extract", 0, 1, "src/fit.py") in events

    class Stop(Exception):
        pass

    def cancel(stage, done, total, detail):
        if stage == "search" and done == 2:
            raise Stop(detail)

    with pytest.raises(Stop, match="src/c.py"):
        mlreef_core.Module.discover(tmp_path, progress=cancel)


def test_the_notebook_example_runs():
    import runpy

    runpy.run_path(str(EXAMPLES / "python" / "notebook.py"), run_name="__main__")
