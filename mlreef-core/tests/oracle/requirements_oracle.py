#!/usr/bin/env python3
"""Ground truth for the requirements-file parser: pip's own parser.

Usage: python requirements_oracle.py INPUT.json

INPUT.json holds ``root`` (repository root), ``env`` (the exact environment
used for ``${VAR}`` expansion) and ``files`` (top-level requirements file,
relative to root -> the Rust parse result for it).  For each top-level file we
run pip's internals (``pip._internal.req.req_file`` and ``constructors``) and
print one JSON object: pip's view of every file plus the mismatches with ours.

Why line by line: ``pip.parse_requirements`` raises on the first bad line,
while our parser reports every bad line.  So we re-drive pip's building blocks
ourselves -- ``get_file_content``, ``preprocess``, the line parser from
``get_line_parser(None)``, ``handle_line`` and
``install_req_from_parsed_requirement`` -- and turn any exception into an
error *at that line* before moving on.  ``-r``/``-c`` includes mirror
``RequirementsFileParser._parse_and_recurse`` (path joined with the including
file's folder, ``abspath``, same stack-of-dicts cycle detection); a cycle or a
missing/undecodable include is an error at the including line.  URL includes
(http/https/file) are listed under ``url_includes`` and never followed, so no
session is needed (``None`` is passed; nothing is ever fetched).  pip resolves
local paths against its working directory, so we ``chdir`` to the folder of
each top-level file (also for lines of included files: that is what pip does).

Normalisation when comparing (pip's vendored ``packaging`` is used):
  * specifier: ``SpecifierSet`` equality (order and spacing do not matter);
  * marker: ``str(Marker(...))`` equality (quoting/spacing do not matter);
  * extras: compared as sets of PEP 685 normalized names; hashes: as sets;
  * url: exact, except when pip's is a ``file:`` URL and ours is a plain path:
    ours is joined with the folder of its source file, normalised and turned
    into a URL with pip's ``path_to_url``; if that still differs, both are
    compared again after unquoting and dropping a trailing ``/``.  We never
    report a literal password (``user:****@``), so pip's URL is compared
    with its password redacted the same way.
Errors are compared as sets of (source, line).  ``requirements_compared`` and
``errors_compared`` count the entries present on both sides.
"""

import contextlib
import inspect
import io
import json
import logging
import os
import sys
import urllib.parse
import warnings

import pip
from pip._internal.req import req_file as rf
from pip._internal.req.constructors import install_req_from_parsed_requirement
from pip._internal.utils.urls import path_to_url
from pip._vendor.packaging.markers import Marker
from pip._vendor.packaging.specifiers import SpecifierSet
from pip._vendor.packaging.utils import canonicalize_name

FIELDS = ("name", "specifier", "extras", "marker", "url", "editable", "hashes", "constraint")


def message(exc):
    if isinstance(exc, rf.OptionParsingError):
        return exc.msg
    if hasattr(exc, "message") and hasattr(exc, "context"):  # DiagnosticPipError
        parts = (exc.message, exc.context, getattr(exc, "hint_stmt", None))
        return f"{type(exc).__name__}: " + " ".join(str(p) for p in parts if p)
    return f"{type(exc).__name__}: {exc}"


class PipView:
    """pip's view of one top-level file and everything it includes."""

    def __init__(self, root, top):
        self.root = root
        self.line_parser = rf.get_line_parser(None)
        self.requirements, self.errors, self.url_includes = [], [], []
        top_abs = os.path.abspath(os.path.join(root, top))
        try:
            if os.path.isdir(os.path.dirname(top_abs)):
                os.chdir(os.path.dirname(top_abs))
            self.parse_file(top_abs, False, [{top_abs: None}])
        except Exception as exc:  # unreadable top file, or an oracle crash
            self.error(top_abs, 0, exc)

    def rel(self, path):
        return os.path.relpath(path, self.root).replace(os.sep, "/")

    def error(self, filename, lineno, exc):
        self.errors.append({"source": self.rel(filename), "line": lineno, "message": message(exc)})

    def parse_file(self, filename, constraint, stack):
        # Reading/decoding errors propagate to the caller (the including line).
        if "constraint" in inspect.signature(rf.get_file_content).parameters:
            _, content = rf.get_file_content(filename, None, constraint=constraint)
        else:  # pip < 25.1: only the wording of the error differs
            _, content = rf.get_file_content(filename, None)
        for lineno, line in rf.preprocess(content):
            try:
                args_str, opts = self.line_parser(line)
                parsed = rf.ParsedLine(filename, lineno, args_str, opts, constraint)
                if parsed.requirement is None and (opts.requirements or opts.constraints):
                    self.include(parsed, stack)
                    continue
                parsed_req = rf.handle_line(parsed)
                if parsed_req is not None:
                    self.record(filename, lineno, install_req_from_parsed_requirement(parsed_req))
            except (Exception, SystemExit) as exc:
                if isinstance(exc, rf.OptionParsingError):  # same wording as _parse_file
                    exc = rf.OptionParsingError(f"Invalid requirement: {line}\n{exc.msg}")
                self.error(filename, lineno, exc)

    def include(self, parsed, stack):
        opts = parsed.opts
        if opts.requirements:
            req_path, nested_constraint = opts.requirements[0], False
        else:
            req_path, nested_constraint = opts.constraints[0], True
        if rf.SCHEME_RE.search(req_path):
            self.url_includes.append(
                {"source": self.rel(parsed.filename), "line": parsed.lineno, "url_include": req_path}
            )
            return
        req_path = os.path.abspath(os.path.join(os.path.dirname(parsed.filename), req_path))
        parsed_files = stack[0]
        if req_path in parsed_files:
            initial = parsed_files[req_path]
            tail = f" and again in {initial}" if initial is not None else ""
            raise rf.RequirementsFileParseError(
                f"{req_path} recursively references itself in {parsed.filename}{tail}"
            )
        new_parsed_files = dict(parsed_files)
        new_parsed_files[req_path] = parsed.filename
        self.parse_file(req_path, nested_constraint, [new_parsed_files, *stack])

    def record(self, filename, lineno, ireq):
        req = ireq.req
        self.requirements.append({
            "name": req.name if req else None,
            "specifier": str(req.specifier) if req else "",
            "extras": sorted(ireq.extras),
            "marker": str(ireq.markers) if ireq.markers else None,
            "url": ireq.link.url if ireq.link else None,
            "editable": bool(ireq.editable),
            "hashes": sorted(f"{a}:{d}" for a, ds in (ireq.hash_options or {}).items() for d in ds),
            "line": lineno,
            "source": self.rel(filename),
            "constraint": bool(ireq.constraint),
        })

    def as_json(self):
        return {"requirements": self.requirements, "errors": self.errors,
                "url_includes": self.url_includes}


def redact(url):
    """Our parser never reports a literal password: ``user:secret@`` becomes ``user:****@``."""
    scheme, sep, rest = url.partition("://")
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if not sep or "@" not in authority:
        return url
    userinfo, host = authority.rsplit("@", 1)
    if ":" not in userinfo or userinfo.split(":", 1)[1].startswith("${"):
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:****@{host}" + rest[len(authority):]


def same_url(root, source, pips, ours):
    if pips == ours:
        return True
    if not isinstance(pips, str) or not isinstance(ours, str):
        return False
    if redact(pips) == ours:
        return True
    if not pips.startswith("file:") or "://" in ours or ours.startswith("file:"):
        return False
    folder = os.path.dirname(os.path.join(root, source or ""))
    candidate = path_to_url(os.path.normpath(os.path.join(folder, ours)))
    loose = lambda url: urllib.parse.unquote(url).rstrip("/")  # noqa: E731
    return candidate == pips or loose(candidate) == loose(pips)


def same_field(field, root, source, pips, ours):
    try:
        if field == "specifier":
            return SpecifierSet(ours) == SpecifierSet(pips)
        if field == "marker":
            if pips is None or ours is None:
                return pips is None and ours is None
            return str(Marker(ours)) == str(Marker(pips))
        if field == "extras":
            # PEP 685: extras compare normalized. pip itself lower-cases `name[PDF]` (through
            # `strip_extras`) but keeps `name[PDF]>=1` as written.
            return {canonicalize_name(e) for e in ours} == {canonicalize_name(e) for e in pips}
        if field == "hashes":
            return set(ours) == set(pips)
        if field == "url":
            return same_url(root, source, pips, ours)
        return pips == ours
    except Exception:  # ours does not even parse
        return False


def compare(root, top, view, ours):
    """Returns (mismatches, requirements_compared, errors_compared)."""
    mismatches = []

    def add(source, line, field, pips, ours_value):
        mismatches.append({"file": top, "source": source, "line": line, "field": field,
                           "pip": pips, "ours": ours_value})

    def by_key(items):
        grouped = {}
        for item in items:
            grouped.setdefault((str(item.get("source")), item.get("line")), []).append(item)
        return grouped

    pip_reqs = by_key(view.requirements)
    our_reqs = by_key(r for r in ours.get("requirements") or [] if isinstance(r, dict))
    compared = 0
    for key in sorted(set(pip_reqs) | set(our_reqs), key=repr):
        p_list, o_list = pip_reqs.get(key, []), our_reqs.get(key, [])
        for p, o in zip(p_list, o_list):
            compared += 1
            for field in FIELDS:
                if not same_field(field, root, key[0], p[field], o.get(field)):
                    add(key[0], key[1], field, p[field], o.get(field))
        for p in p_list[len(o_list):]:
            add(key[0], key[1], "presence", p, None)
        for o in o_list[len(p_list):]:
            add(key[0], key[1], "presence", None, o)

    pip_errs = {}
    for e in view.errors:
        pip_errs.setdefault((e["source"], e["line"]), e["message"])
    our_errs = {}
    for d in ours.get("diagnostics") or []:
        if isinstance(d, dict) and d.get("severity") == "error":
            our_errs.setdefault((str(d.get("file") or top), d.get("line")), d.get("message"))
    for key in sorted(set(pip_errs) ^ set(our_errs), key=repr):
        add(key[0], key[1], "error", pip_errs.get(key), our_errs.get(key))
    return mismatches, compared, len(set(pip_errs) & set(our_errs))


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: requirements_oracle.py INPUT.json")
    with open(argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    root, env, files = spec.get("root"), spec.get("env") or {}, spec.get("files")
    if not isinstance(root, str) or not isinstance(env, dict) or not isinstance(files, dict):
        sys.exit("INPUT.json needs a string 'root', an object 'env' and an object 'files'")
    root = os.path.abspath(root)
    if pip.__version__ != "26.3":  # results are only meaningful for the pinned pip
        print(f"warning: pip {pip.__version__} is not the pinned 26.3", file=sys.stderr)

    logging.disable(logging.CRITICAL)  # pip warns through logging; keep stdout pure JSON
    warnings.simplefilter("ignore")
    # Everything pip needs is imported by now, so the environment can be
    # exactly what the input says: ${VAR} expansion sees nothing else.
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in env.items()})

    out = {"pip_version": pip.__version__, "files": len(files), "requirements_compared": 0,
           "errors_compared": 0, "mismatches": [], "pip": {}}
    cwd = os.getcwd()
    # optparse prints its usage to stderr on every bad option line: swallow it.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for top in sorted(files):
            ours = files[top] if isinstance(files[top], dict) else {}
            view = PipView(root, top)
            os.chdir(cwd)
            try:
                mismatches, n_reqs, n_errs = compare(root, top, view, ours)
            except Exception as exc:  # malformed OUR RESULT: report, keep going
                mismatches, n_reqs, n_errs = [{"file": top, "source": top, "line": 0,
                                               "field": "oracle", "pip": message(exc),
                                               "ours": None}], 0, 0
            out["mismatches"] += mismatches
            out["requirements_compared"] += n_reqs
            out["errors_compared"] += n_errs
            out["pip"][top] = view.as_json()
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
