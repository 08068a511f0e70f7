#!/usr/bin/env python3
"""Ground truth for `mlreef_core::pipeline::command_line`.

Usage: python3 command_line_oracle.py SCRIPT [--repo DIR] --argv-json '["--lr", "0.1"]'
       python3 command_line_oracle.py SCRIPT [--repo DIR] --argvs-json '[["--lr", "0.1"], []]'

Runs SCRIPT as ``__main__`` exactly as ``argparse_oracle.py`` does (third-party
packages stubbed, ``parse_known_args`` answered with the defaults) and, at the
first ``parse_args``, lets the real CPython argparse parse the given argv with
that parser.  Prints ``{"namespace": vars(namespace) | null, "error": ...}``
as JSON; a usage error argparse would report is the ``error``. With ``--argvs-json``
the script runs once per argv and the output is ``{"results": [...]}``, one such object
each, in order.
"""

import argparse
import contextlib
import json
import os
import runpy
import sys

sys.dont_write_bytecode = True  # before importing our sibling: no __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import argparse_oracle as base  # noqa: E402  (the stubs, hooks and JSON conversion)


class _Parsed(BaseException):
    """Stops the script once its parser has parsed our argv."""

    def __init__(self, namespace):
        super().__init__()
        self.namespace = namespace


class _UsageError(BaseException):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _install():
    """Hooks argparse once; returns ``arm(argv)``, which readies one run of the script."""
    parser_class = argparse.ArgumentParser
    originals = {
        name: getattr(parser_class, name)
        for name in ("parse_args", "parse_known_args", "parse_intermixed_args",
                     "parse_known_intermixed_args", "error")
    }
    base._install_argparse_hooks()  # positions, parse_known_args -> defaults
    hooked = {name: getattr(parser_class, name) for name in originals}

    def _raise_usage(self, message):
        raise _UsageError(message)

    def arm(argv):
        for name, hook in hooked.items():
            setattr(parser_class, name, hook)

        def _parse_ours(self, args=None, namespace=None):
            # The real parser from here on, sub-parsers included.
            for name, original in originals.items():
                setattr(parser_class, name, original)
            parser_class.error = _raise_usage
            raise _Parsed(originals["parse_args"](self, argv, namespace))

        parser_class.parse_args = _parse_ours
        parser_class.parse_intermixed_args = _parse_ours

    return arm


def _run(script, arm, argv):
    """The namespace the script's parser makes of ``argv``, or the error."""
    arm(argv)
    namespace, error = None, None
    try:
        with contextlib.redirect_stdout(sys.stderr):
            runpy.run_path(script, run_name="__main__")
        error = "the script never called parse_args"
    except _Parsed as parsed:
        namespace = {k: base._value(v) for k, v in vars(parsed.namespace).items()}
    except _UsageError as exc:
        error = f"usage: {exc.message}"
    except SystemExit as exc:
        error = f"SystemExit: {exc.code}"
    except BaseException as exc:  # the script is untrusted input
        error = f"{type(exc).__name__}: {exc}"
    return {"namespace": namespace, "error": error}


def _argv_list(value):
    return isinstance(value, list) and all(isinstance(a, str) for a in value)


def main(args):
    cli = argparse.ArgumentParser(prog="command_line_oracle.py")
    cli.add_argument("script")
    cli.add_argument("--repo", default=None)
    given = cli.add_mutually_exclusive_group(required=True)
    given.add_argument("--argv-json")
    given.add_argument("--argvs-json", help="a list of argvs: one result each, in order")
    opts = cli.parse_args(args)  # before the hooks are installed
    many = opts.argvs_json is not None
    argvs = json.loads(opts.argvs_json) if many else [json.loads(opts.argv_json)]
    if not all(_argv_list(argv) for argv in argvs):
        print("command_line_oracle.py: an argv must be a list of strings", file=sys.stderr)
        return 2

    script = base.prepare_run(opts.script, opts.repo, "command_line_oracle.py")
    if script is None:
        return 2
    out = sys.stdout
    arm = _install()
    results = [_run(script, arm, argv) for argv in argvs]
    json.dump({"results": results} if many else results[0], out, ensure_ascii=False)
    out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
