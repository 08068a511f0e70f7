"""Publish a data scientist's Python repository as a typed, runnable AI module.

One import gives every capability of the Rust core::

    import mlreef_core

    module = mlreef_core.Module.discover("path/to/repo")
    module.parameters            # what the entry point's argparse declares
    module.json_schema()         # a form for those parameters
    module.command_line({"epochs": 20})
    mlreef_core.init("path/to/repo")   # write or update its mlreef.yml
    mlreef_core.build("path/to/repo", base="rootfs:/srv/bookworm")  # its image, no daemon
    mlreef_core.publish("path/to/repo", push="registry.example.com/team/module:1")
    mlreef_core.list_modules("registry.example.com/team/module")   # its published versions
    mlreef_core.inspect_image("registry.example.com/team/module:1")  # a Module, from labels

Every object has ``to_dict()`` and ``to_json()``, equal to the JSON of the ``mlreef``
command. Errors derive from ``MlreefError``; unreadable files raise ``FileNotFoundError`` or
``PermissionError``. Long calls (``init``, ``build``, ``publish``, ``push``, ``pull``) release
the GIL and take a
``progress(stage, done, total, detail)`` callback; raising in it cancels the call.
"""

from mlreef_core._mlreef_core import (
    BuildResult,
    CommandLineError,
    DependencyError,
    Diagnostic,
    Extraction,
    ImageError,
    InitOutcome,
    MlreefError,
    Module,
    ModuleError,
    Parameter,
    ParseError,
    RegistryError,
    Requirement,
    RequirementsError,
    RequirementsFile,
    TagExistsError,
    __version__,
    build,
    extract_parameters,
    init,
    inspect_image,
    list_modules,
    parse_requirements,
    publish,
    pull,
    push,
)

__all__ = [
    "BuildResult",
    "CommandLineError",
    "DependencyError",
    "Diagnostic",
    "Extraction",
    "ImageError",
    "InitOutcome",
    "MlreefError",
    "Module",
    "ModuleError",
    "Parameter",
    "ParseError",
    "RegistryError",
    "Requirement",
    "RequirementsError",
    "RequirementsFile",
    "TagExistsError",
    "__version__",
    "build",
    "extract_parameters",
    "init",
    "inspect_image",
    "list_modules",
    "parse_requirements",
    "publish",
    "pull",
    "push",
]
