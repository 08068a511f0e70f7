import json
import pathlib

import pytest

import mlreef_core
from conftest import EXAMPLES, FIXTURES, cli_json

SOURCE = """
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=10, help="passes over the data")
parser.add_argument("--lr", type=float, default=1e-3)
parser.add_argument("--arch", choices=["resnet18", "vit"], default="vit")
args = parser.parse_args()
"""


def test_extract_from_source():
    extraction = mlreef_core.extract_parameters(source=SOURCE)
    assert len(extraction) == 3
    epochs, lr, arch = extraction.parameters
    assert (epochs.name, epochs.type, epochs.default, epochs.help) == ("epochs", "INTEGER", 10, "passes over the data")
    assert lr.default == 0.001 and lr.python_type == "float"
    assert arch.choices == ["resnet18", "vit"]
    assert epochs.flags == ["--epochs"] and epochs.line == 4 and epochs.column == 1
    assert (epochs.nargs, epochs.const, epochs.metavar, epochs.file) == (None, None, None, None)
    assert extraction.diagnostics == []
    assert "epochs" in repr(epochs)
    assert "<table>" in extraction._repr_html_()


ENV_SOURCE = """
import argparse, os
LEVEL = os.getenv("LOG_LEVEL", "INFO")
parser = argparse.ArgumentParser()
parser.add_argument("--cache", default=os.getenv("CACHE", "~/.cache"))
args = parser.parse_args()
"""


def env_variables(extraction):
    return [d.message.split("`")[3] for d in extraction.diagnostics if d.code == "env-default"]


def test_verbose_adds_what_touches_no_parameter(tmp_path):
    assert env_variables(mlreef_core.extract_parameters(source=ENV_SOURCE)) == ["CACHE"]
    loud = mlreef_core.extract_parameters(source=ENV_SOURCE, verbose=True)
    assert env_variables(loud) == ["LOG_LEVEL", "CACHE"]
    (tmp_path / "train.py").write_text(ENV_SOURCE)
    quiet = mlreef_core.Module.discover(tmp_path)
    loud = mlreef_core.Module.discover(tmp_path, verbose=True)
    assert [p.name for p in quiet.parameters] == [p.name for p in loud.parameters] == ["cache"]
    outcome = mlreef_core.init(tmp_path, check=True, verbose=True)
    assert any("LOG_LEVEL" in d.message for d in outcome.diagnostics)


def test_extract_from_path_matches_the_contract():
    extraction = mlreef_core.extract_parameters(path=EXAMPLES / "train.py")
    data = extraction.to_dict()
    assert data == json.loads(extraction.to_json())
    assert set(data) == {"parameters", "diagnostics"}
    assert data["diagnostics"][0]["code"] == "dynamic-default"
    assert extraction.diagnostics[0].severity == "warning"
    schema = extraction.json_schema("train")
    assert schema["required"] == ["input-path"]


def argparse_fixtures():
    folder = FIXTURES / "argparse"
    for path in sorted(folder.iterdir()):
        if path.suffix == ".py":
            yield path
        elif path.is_dir() and (path / "main.py").exists():
            yield path / "main.py"


@pytest.mark.parametrize("script", list(argparse_fixtures()), ids=lambda p: p.parent.name if p.name == "main.py" else p.stem)
def test_to_dict_equals_cli_json(mlreef, script):
    repo = script.parent
    expected = cli_json(mlreef, "params", str(script), "--repo", str(repo))
    assert mlreef_core.extract_parameters(path=script, repo=repo).to_dict() == expected


def test_syntax_errors_raise_parse_error_with_position(tmp_path):
    with pytest.raises(mlreef_core.ParseError) as caught:
        mlreef_core.extract_parameters(source="import argparse\nx = (\n", path="train.py")
    error = caught.value
    assert isinstance(error, mlreef_core.MlreefError)
    assert (error.path, error.line) == ("train.py", 3)
    assert error.column is not None
    bad = tmp_path / "latin.py"
    bad.write_bytes(b"x = '\xe9'\n")
    with pytest.raises(mlreef_core.ParseError) as caught:
        mlreef_core.extract_parameters(path=bad)
    assert caught.value.line == 1


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        mlreef_core.extract_parameters(path=tmp_path / "nope.py")
    assert caught.value.filename == str(tmp_path / "nope.py")
    assert caught.value.errno == 2
