"""No module of sklearn_dpads writes to the console directly.

Progress and messages go through one reporter, ``sklearn_dpads.search._progress``
(the only module exempt); everything else warns, raises or returns. The check
is static: every module is parsed with :mod:`ast` and any use of ``print``
(called or passed as a function), and any reference to ``sys.stdout`` or
``sys.stderr`` (``sys.stdout.write(...)``, ``file=sys.stderr``, ``from sys
import stdout``) is reported with the function it occurs in.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = "sklearn_dpads"
PKG_DIR = Path(__file__).resolve().parents[1] / PKG

REPORTER = f"{PKG}.search._progress"  # the one module that may write
_STREAMS = {"stdout", "stderr", "__stdout__", "__stderr__"}


def console_writes(source: str) -> list[tuple[str, int, str]]:
    """``(function qualname, line, what)`` for every direct console write."""
    found: list[tuple[str, int, str]] = []

    class Visitor(ast.NodeVisitor):
        def __init__(self):
            self.scope: list[str] = []

        def _nested(self, node):
            self.scope.append(node.name)
            self.generic_visit(node)
            self.scope.pop()

        visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _nested

        def _report(self, node, what: str):
            found.append((".".join(self.scope) or "<module>", node.lineno, what))

        def visit_Name(self, node):
            if node.id == "print":
                self._report(node, "print")

        def visit_Attribute(self, node):
            v = node.value
            if isinstance(v, ast.Name) and (v.id, node.attr) == ("builtins", "print"):
                self._report(node, "builtins.print")
            elif isinstance(v, ast.Name) and v.id == "sys" and node.attr in _STREAMS:
                self._report(node, f"sys.{node.attr}")
            self.generic_visit(node)

        def visit_ImportFrom(self, node):
            for a in node.names:
                if node.module == "sys" and a.name in _STREAMS:
                    self._report(node, f"from sys import {a.name}")

    Visitor().visit(ast.parse(source))
    return found


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG_DIR.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _all_writes() -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PKG_DIR.rglob("*.py")):
        module = _module_name(path)
        if module == REPORTER:
            continue
        for scope, line, what in console_writes(path.read_text()):
            out.setdefault((module, scope), []).append(f"{path.name}:{line} {what}")
    return out


def test_no_module_writes_to_the_console():
    problems = [
        f"{module} ({scope}): {', '.join(where)}"
        for (module, scope), where in sorted(_all_writes().items())
    ]
    assert not problems, (
        "write through the reporter (search._progress), warn or return instead:\n"
        + "\n".join(problems)
    )


def test_checker_catches_console_writes():
    src = """
import sys
import builtins
from sys import stderr

def fit(self):
    print("epoch", 1)

class Est:
    def _log(self, msg):
        sys.stdout.write(msg)
        tqdm(total=3, file=sys.stderr)
        builtins.print(msg)

    def run(self, callback=print):
        return callback
"""
    found = console_writes(src)
    assert [(scope, what) for scope, _, what in found] == [
        ("<module>", "from sys import stderr"),
        ("fit", "print"),
        ("Est._log", "sys.stdout"),
        ("Est._log", "sys.stderr"),
        ("Est._log", "builtins.print"),
        ("Est.run", "print"),
    ]


def test_checker_ignores_text_and_other_attributes():
    src = '''
"""Examples call print(clf) and sys.stdout.write in docstrings."""
import sys
import warnings

def f(printer, out):
    warnings.warn("use print(...) in your own code")
    printer._print(out)
    return sys.version, out.stdout
'''
    assert console_writes(src) == []
