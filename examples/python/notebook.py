"""A notebook session with mlreef_core, as a script: describe the example module, show its
parameters, the form schema a web page would render, and the command line for chosen values.

Run it from the repository root after `./scripts/test.sh` (which installs the package into
.venv):

    .venv/bin/python examples/python/notebook.py
"""

import json
import pathlib

import mlreef_core

repo = pathlib.Path(__file__).resolve().parents[1]  # examples/: train.py + requirements.txt

# One call finds the entry point, reads its argparse parameters and the requirements,
# without running anything.
module = mlreef_core.Module.discover(repo, progress=lambda stage, done, total, detail: None)
print(module)
for problem in module.validate():
    print(f"  {problem.severity}: {problem.message}")

print("\nParameters:")
for parameter in module.parameters:
    print(f"  {parameter.name:<18} {parameter.type:<8} default={parameter.default!r}")

print("\nRequirements for CPython 3.11 on linux/amd64:")
requirements = mlreef_core.parse_requirements(path=repo / "requirements.txt")
for requirement in requirements.applicable(python="3.11", platform="linux/amd64"):
    note = "" if requirement.pinned else "  (unpinned)"
    print(f"  {requirement.name}{requirement.specifier}{note}")

print("\nForm schema (first two properties):")
schema = module.json_schema()
first_two = dict(list(schema["properties"].items())[:2])
print(json.dumps(first_two, indent=2))

values = {"input-path": "/data/flowers", "epochs": 20, "pretrained": False, "architecture": "resnet50"}
print("\nCommand line:")
print("  python train.py " + module.shell_line(values))

try:
    module.command_line({"input-path": "/data", "epochs": "twenty"})
except mlreef_core.CommandLineError as error:
    print(f"\nRefused, as argparse would: {error}")
