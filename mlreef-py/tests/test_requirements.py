import errno
import os

import pytest

import mlreef_core
from conftest import FIXTURES, cli_json

ENV = {"MLREEF_INDEX_TOKEN": "s3cr3t", "MLREEF_VERSION": "2.31.0", "MLREEF_EMPTY": ""}


def requirements_fixtures():
    folder = FIXTURES / "requirements"
    for path in sorted(folder.iterdir()):
        if path.suffix == ".txt":
            yield path, folder
        elif path.is_dir() and (path / "requirements.txt").exists():
            yield path / "requirements.txt", path
    conda = FIXTURES / "conda"
    yield conda / "pip_sublist" / "environment.yml", conda / "pip_sublist"
    yield conda / "conda_only.yml", conda


@pytest.mark.parametrize("path,repo", list(requirements_fixtures()), ids=lambda v: str(v).rsplit("fixtures/", 1)[-1])
def test_to_dict_equals_cli_json(mlreef, path, repo):
    env = {**os.environ, **ENV}
    expected = cli_json(mlreef, "requirements", str(path), "--repo", str(repo), env=env)
    parsed = mlreef_core.parse_requirements(path=path, repo=repo, env=ENV)
    assert parsed.to_dict() == expected


def test_text_targets_and_flags():
    text = "numpy>=1.26 ; python_version >= '3.9'\nlegacy<2 ; python_version < '3.8'\ntorch==2.3.1 --hash=sha256:00ff\n-e git+https://github.com/org/tool.git#egg=tool\n"
    parsed = mlreef_core.parse_requirements(text=text)
    assert len(parsed) == 4 and parsed.valid
    names = [r.name for r in parsed.applicable(python="3.11", platform="linux/amd64")]
    assert names == ["numpy", "torch", "tool"]
    assert [r.name for r in parsed.applicable(python="3.7")] == ["legacy", "torch", "tool"]
    assert [r.name for r in parsed.unpinned()] == ["numpy", "legacy", "tool"]
    assert [r.name for r in parsed.local()] == ["tool"]
    torch = parsed.requirements[2]
    assert torch.hashes == ["sha256:00ff"] and torch.pinned and torch.specifier == "==2.3.1"
    assert (torch.kind, torch.constraint, torch.config_settings, torch.applies) == ("index", False, [], None)
    assert parsed.requirements[3].kind == "vcs" and parsed.requirements[3].editable
    assert parsed.render(python="3.11").splitlines()[-1] == "torch==2.3.1 --hash=sha256:00ff"
    with pytest.raises(ValueError):
        parsed.applicable(platform="plan9/amd64")


def test_variables_come_only_from_env():
    text = "--index-url https://u:${TOKEN}@pypi.example.org/simple\npkg==${V}\n"
    parsed = mlreef_core.parse_requirements(text=text, env={"TOKEN": "hunter2", "V": "1.0"})
    assert parsed.requirements[0].specifier == "==1.0"
    assert "hunter2" not in parsed.to_json()
    unset = mlreef_core.parse_requirements(text=text)
    assert not unset.valid
    assert [d.code for d in unset.diagnostics].count("unset-variable") == 2


def test_errors():
    with pytest.raises(mlreef_core.RequirementsError) as caught:
        mlreef_core.parse_requirements(text="dependencies: [numpy\n", path="environment.yml")
    assert caught.value.line == 2 and caught.value.path == "environment.yml"
    assert isinstance(caught.value, mlreef_core.ParseError)
    with pytest.raises(FileNotFoundError):
        mlreef_core.parse_requirements(path="/nonexistent/requirements.txt")
    with pytest.raises(TypeError):
        mlreef_core.parse_requirements()



def test_a_file_over_the_bound_is_an_oserror_that_says_so(tmp_path):
    big = tmp_path / "requirements.txt"
    big.write_text("numpy\n" * (3 << 20))  # 18 MiB, over the 16 MiB a requirements file may have
    with pytest.raises(OSError) as caught:
        mlreef_core.parse_requirements(path=str(big))
    assert caught.value.errno == errno.EFBIG
    assert "larger than 16777216 bytes" in caught.value.strerror
    assert caught.value.filename == str(big)
    bad = mlreef_core.parse_requirements(text="numpy=1.21\n")
    assert not bad.valid and bad.diagnostics[0].line == 1
