#!/usr/bin/env python3
"""Ground truth for the static argparse extractor.

Usage: python3 argparse_oracle.py SCRIPT [--repo DIR]

Runs SCRIPT as ``__main__`` under the real CPython argparse, stops it at the
first ``parse_args`` and prints the parameters of the parser that was asked to
parse, in the same JSON form the Rust extractor produces.  Third-party
packages are replaced by permissive stubs so fixtures can look like real
training scripts without needing torch & co. installed.
"""

import argparse
import contextlib
import functools
import importlib.abc
import importlib.machinery
import inspect
import json
import linecache
import math
import os
import pathlib
import runpy
import sys
import types

_ARGPARSE_FILE = os.path.normcase(os.path.abspath(argparse.__file__))


# --------------------------------------------------------------------------
# Stubs for third-party modules
# --------------------------------------------------------------------------

class _Stub:
    """Stands in for any object of a package that is not installed.

    Everything a training script typically does with such objects at import
    or parser-building time (calling, attribute access, arithmetic, iterating,
    subclassing, ``with``) must succeed without side effects.  The dotted name
    is kept so a stub that leaks into a default shows up readably.
    """

    def __init__(self, name):
        object.__setattr__(self, "_stub_name", name)

    def __repr__(self):
        return f"<stub {self._stub_name}>"

    def __getattr__(self, name):
        # Dunder lookups must fail, otherwise protocols such as __fspath__ or
        # __array__ would be "supported" and produce nonsense.
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Stub(f"{self._stub_name}.{name}")

    def __call__(self, *args, **kwargs):
        return _Stub(f"{self._stub_name}()")

    def __mro_entries__(self, bases):
        return (_StubBase,)

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0

    def __bool__(self):
        return False

    def __getitem__(self, key):
        return _Stub(f"{self._stub_name}[]")

    def __setitem__(self, key, value):
        pass

    def __contains__(self, item):
        return False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __int__(self):
        return 0

    def __index__(self):
        return 0

    def __float__(self):
        return 0.0

    def __lt__(self, other):
        return False

    __le__ = __gt__ = __ge__ = __lt__


def _stub_operator(self, *args):
    return _Stub(f"{self._stub_name}<op>")


for _op in ("add sub mul truediv floordiv mod pow matmul and or xor lshift "
            "rshift").split():
    for _form in ("__%s__", "__r%s__", "__i%s__"):
        setattr(_Stub, _form % _op, _stub_operator)
for _op in ("neg", "pos", "abs", "invert"):
    setattr(_Stub, f"__{_op}__", _stub_operator)


class _StubBase:
    """Base class substituted when a script subclasses a stub (nn.Module)."""

    def __init__(self, *args, **kwargs):
        pass

    def __init_subclass__(cls, **kwargs):
        pass

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Stub(f"{type(self).__name__}.{name}")


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        value = _Stub(f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last-resort finder: any non-stdlib module nobody else could find."""

    def find_spec(self, fullname, path, target=None):
        # Standard-library modules are never stubbed: the stdlib probes for
        # optional accelerators with try/except ImportError and must keep
        # seeing the real failure.
        if fullname.partition(".")[0] in sys.stdlib_module_names:
            return None
        # A package spec gives the module a __path__, so that
        # `import torch.nn.functional as F` can descend into it.
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        return _StubModule(spec.name)

    def exec_module(self, module):
        pass


# --------------------------------------------------------------------------
# Interception of argparse
# --------------------------------------------------------------------------

class _Stop(BaseException):
    """Raised from parse_args; BaseException so `except Exception` can't eat it."""


_recorded = []  # parsers that were asked to parse, in call order


def _char_column(filename, lineno, byte_col):
    # CPython positions are UTF-8 byte offsets; the contract is characters.
    line = linecache.getline(filename, lineno)
    if not line:
        return byte_col + 1
    prefix = line.encode("utf-8")[:byte_col]
    return len(prefix.decode("utf-8", "replace")) + 1


def _caller_position():
    # Frame 0 is this function, 1 the wrapper, 2 whoever called add_argument.
    frame = sys._getframe(2)
    filename = frame.f_code.co_filename
    if os.path.normcase(os.path.abspath(filename)) == _ARGPARSE_FILE:
        return None  # argparse adding its own -h
    pos = inspect.getframeinfo(frame, context=0).positions
    if pos is None or pos.lineno is None or pos.col_offset is None:
        return (frame.f_lineno, None)
    return (pos.lineno, _char_column(filename, pos.lineno, pos.col_offset))


def _with_position(original):
    @functools.wraps(original)
    def wrapper(self, *args, **kwargs):
        position = _caller_position()
        action = original(self, *args, **kwargs)
        if position is not None and isinstance(action, argparse.Action):
            action._mlreef_pos = position
        return action
    return wrapper


def _defaults_namespace(parser, namespace):
    # Mirrors what argparse puts into the namespace when no argument is
    # given, so pre-parser scripts can go on using `known.config` etc.
    ns = namespace if namespace is not None else argparse.Namespace()
    for action in parser._actions:
        if action.dest is argparse.SUPPRESS or action.default is argparse.SUPPRESS:
            continue
        if hasattr(ns, action.dest):
            continue
        value = action.default
        if isinstance(value, str) and action.type is not None \
                and not isinstance(action.type, argparse.FileType):
            with contextlib.suppress(Exception):
                value = parser._registry_get("type", action.type, action.type)(value)
        setattr(ns, action.dest, value)
    for dest, value in parser._defaults.items():
        if not hasattr(ns, dest):
            setattr(ns, dest, value)
    return ns


def _stopping_parse(self, args=None, namespace=None):
    _recorded.append(self)
    raise _Stop()


def _continuing_parse(self, args=None, namespace=None):
    _recorded.append(self)
    return _defaults_namespace(self, namespace), []


def _install_argparse_hooks():
    container = argparse._ActionsContainer
    container.add_argument = _with_position(container.add_argument)
    parser = argparse.ArgumentParser
    parser.add_subparsers = _with_position(parser.add_subparsers)
    parser.parse_args = _stopping_parse
    parser.parse_intermixed_args = _stopping_parse
    parser.parse_known_args = _continuing_parse
    parser.parse_known_intermixed_args = _continuing_parse


# --------------------------------------------------------------------------
# Conversion to the JSON contract
# --------------------------------------------------------------------------

_ACTION_NAMES = {
    argparse._StoreAction: "store",
    argparse._StoreConstAction: "store_const",
    argparse._StoreTrueAction: "store_true",
    argparse._StoreFalseAction: "store_false",
    argparse._AppendAction: "append",
    argparse._AppendConstAction: "append_const",
    argparse._CountAction: "count",
    argparse._ExtendAction: "extend",
    argparse.BooleanOptionalAction: "boolean_optional",
    argparse._VersionAction: "version",
    argparse._SubParsersAction: "parsers",
}


def _value(x):
    # Exact type checks: bool/int/str subclasses (enums) are not plain data.
    if x is None or type(x) in (bool, int, str):
        return x
    if type(x) is float:
        return x if math.isfinite(x) else {"__unrepresentable__": repr(x)}
    if isinstance(x, (list, tuple, range)):
        return [_value(v) for v in x]
    if isinstance(x, dict):
        return {k if isinstance(k, str) else str(k): _value(v) for k, v in x.items()}
    if isinstance(x, (set, frozenset)):
        try:
            items = sorted(x)
        except TypeError:
            items = sorted(x, key=repr)
        return [_value(v) for v in items]
    if isinstance(x, pathlib.PurePath):
        return str(x)
    return {"__unrepresentable__": repr(x)}


def _choices(choices):
    if choices is None:
        return None
    if isinstance(choices, dict):
        return [_value(k) for k in choices]
    if isinstance(choices, (set, frozenset)):
        return _value(choices)
    try:
        return [_value(c) for c in choices]
    except TypeError:
        return [{"__unrepresentable__": repr(choices)}]


def _type_name(t):
    if t is None:
        return None
    if isinstance(t, argparse.FileType):
        return "file"
    if isinstance(t, functools.partial):
        return _type_name(t.func)
    if isinstance(t, _Stub):
        return t._stub_name.rsplit(".", 1)[-1]
    name = getattr(t, "__name__", None)
    if name == "<lambda>":
        return "lambda"
    return name if isinstance(name, str) else type(t).__name__


def _group_title(parser, action):
    for group in parser._action_groups:
        if action in group._group_actions:
            if group is parser._positionals or group is parser._optionals:
                return None
            return group.title
    return None


def _parameter(parser, action, subcommand):
    prefix = parser.prefix_chars
    dest = None if action.dest is argparse.SUPPRESS else action.dest
    if action.option_strings:
        longs = [s for s in action.option_strings if len(s) > 1 and s[1] in prefix]
        name = (longs or action.option_strings)[0].lstrip(prefix)
    else:
        name = dest
    metavar = action.metavar
    line, column = getattr(action, "_mlreef_pos", (None, None))
    return {
        "name": name,
        "dest": dest,
        "flags": list(action.option_strings),
        "action": _ACTION_NAMES.get(type(action), type(action).__name__),
        "python_type": _type_name(action.type),
        "default": _value(action.default),
        "required": bool(action.required),
        "choices": _choices(action.choices),
        "nargs": action.nargs,
        "const": _value(action.const),
        "help": action.help,
        "metavar": list(metavar) if isinstance(metavar, tuple) else metavar,
        "group": _group_title(parser, action),
        "subcommand": subcommand,
        "line": line,
        "column": column,
    }


def _parameters(parser, subcommand=None):
    own, nested = [], []
    for action in parser._actions:
        # A stubbed third-party "action class" leaves a non-Action behind;
        # it declares nothing argparse could parse.
        if isinstance(action, argparse._HelpAction) or not isinstance(action, argparse.Action):
            continue
        own.append(_parameter(parser, action, subcommand))
        if isinstance(action, argparse._SubParsersAction):
            # Aliases map to the same parser object: list it once, under the
            # name it was registered with (the first key).
            seen = set()
            for name, sub in action._name_parser_map.items():
                if id(sub) in seen:
                    continue
                seen.add(id(sub))
                path = name if subcommand is None else f"{subcommand} {name}"
                nested.extend(_parameters(sub, path))
    return own + nested


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------

def _clean_environment():
    # Defaults read from os.environ must come out as if nothing were set.
    keep = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    os.environ.clear()
    os.environ.update(keep)
    os.environ["HOME"] = "/home/mlreef"


def prepare_run(script_arg, repo_arg, prog):
    """Sets the interpreter up as if SCRIPT were run from its folder: `sys.argv`, `sys.path`
    (its folder, then the repository), stubs for missing packages and a clean environment.
    Returns the script's absolute path, or None (after saying why) when there is no such file.
    """
    script = os.path.abspath(script_arg)
    if not os.path.isfile(script):
        print(f"{prog}: no such script: {script_arg}", file=sys.stderr)
        return None
    script_dir = os.path.dirname(script)
    repo = os.path.abspath(repo_arg) if repo_arg else script_dir
    sys.argv = [script]
    sys.path[0] = script_dir  # replaces the oracle's own folder
    if repo not in sys.path:
        sys.path.append(repo)
    sys.meta_path.append(_StubFinder())
    sys.dont_write_bytecode = True  # keep fixture folders free of __pycache__
    _clean_environment()
    return script


def main(argv):
    cli = argparse.ArgumentParser(prog="argparse_oracle.py")
    cli.add_argument("script")
    cli.add_argument("--repo", default=None)
    opts = cli.parse_args(argv)  # before the hooks are installed

    script = prepare_run(opts.script, opts.repo, "argparse_oracle.py")
    if script is None:
        return 2
    out = sys.stdout
    _install_argparse_hooks()

    error = None
    try:
        # The script's own prints must not corrupt our JSON on stdout.
        with contextlib.redirect_stdout(sys.stderr):
            runpy.run_path(script, run_name="__main__")
    except _Stop:
        pass
    except SystemExit as exc:
        error = f"SystemExit: {exc.code}"
    except BaseException as exc:  # the script is untrusted input
        error = f"{type(exc).__name__}: {exc}"

    parameters = []
    if _recorded:
        try:
            parameters = _parameters(_recorded[-1])
        except Exception as exc:  # a script can leave a parser in any state
            error = error or f"oracle could not convert the parser: {type(exc).__name__}: {exc}"
    result = {"parameters": parameters, "parse_calls": len(_recorded), "error": error}
    json.dump(result, out, indent=2, ensure_ascii=False)
    out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
