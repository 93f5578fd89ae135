"""Static layering contracts: which parts of sklearn_dpads may import what.

Every module under ``sklearn_dpads/`` is parsed with :mod:`ast` and *all* its
imports are collected, including those inside functions and
``__import__("x")`` / ``importlib.import_module("x")`` calls with a literal
name. Three contracts are checked:

1. ``ALLOWED``: the internal edges. Every module belongs to a *group*, the
   first component of its name below the package (``grammar``, ``program``,
   ``utils``, ...; ``__init__`` for the package itself). A module may import
   its own group and the targets its group lists (``"utils"`` allows every
   ``utils.*`` module, ``"utils._names"`` that module only). Anything else
   fails, and so does a group missing from the table: a new module must
   declare its layer here.
2. ``THIRD_PARTY``: third-party packages that some layers must not import,
   also indirectly (through the package modules they import).
3. Private scikit-learn imports (a module or name starting with ``_``, such
   as ``sklearn.base._fit_context`` or ``sklearn.utils._param_validation``)
   only in ``sklearn_dpads.utils._sklearn_compat``.

Known violations that are being fixed right now are listed, with the reason,
in the ``_PENDING*`` sets; a test fails when an entry is no longer needed, so
the sets only shrink.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PKG = "sklearn_dpads"
PKG_DIR = Path(__file__).resolve().parents[1] / PKG

# The layers below the estimator, each with what it may import (its own group
# is always allowed). Read from the bottom up: exceptions and metrics import
# nothing internal, the estimator (_classifier) anything.
_PUBLIC = {
    "exceptions",
    "grammar",
    "program",
    "library",
    "preprocessing",
    "export",
    "datasets",
    "metrics",
    "inspection",
    "plotting",
}
ALLOWED: dict[str, set[str]] = {
    "exceptions": set(),
    "metrics": set(),
    "utils": {"exceptions"},
    "grammar": {"exceptions", "utils._names"},
    "program": {"grammar", "exceptions"},
    "library": {"grammar", "program", "exceptions", "utils"},
    "preprocessing": {"utils"},
    "semantics": {"grammar", "program", "exceptions"},
    "graph": {"semantics", "grammar", "program", "exceptions"},
    # the trainer is blind to the derivation graph and to the search
    "training": {"semantics", "grammar", "program", "metrics", "exceptions", "utils"},
    # the search is blind to skorch and to the trainer (it is handed one)
    "search": {"graph", "semantics", "grammar", "program", "metrics", "exceptions"},
    # exports read the compiled program; names come from utils._names
    "export": {"semantics", "grammar", "program", "exceptions", "utils"},
    "datasets": {"exceptions", "utils"},
    # leaves: inspection computes, plotting draws; neither sees the estimator class
    "inspection": {"utils", "grammar", "program", "exceptions"},
    "plotting": {"inspection", "utils", "grammar", "program", "exceptions"},
    "_threshold": {"metrics", "utils", "exceptions"},
    # the plan resolves parameters and runs search and fine-tune: glue, below
    # the estimator only
    "_fit_plan": {
        "_threshold",
        "preprocessing",
        "utils",
        "training",
        "search",
        "semantics",  # the found program is canonicalised before the fine-tune
        "metrics",
        "grammar",
        "library",
        "program",
        "exceptions",
    },
    "_classifier": {"*"},
    "__init__": _PUBLIC | {"_classifier"},
}

# Known violations of ALLOWED that are being fixed, as (importing module,
# imported module), each with its reason. Empty now: the last one,
# export.sympy -> library (safe_identifier), moved to utils._names.
_PENDING: set[tuple[str, str]] = set()

# (module prefix, forbidden third-party prefixes, also check indirect imports)
THIRD_PARTY = [
    (f"{PKG}.grammar", ("torch", "sympy", "skorch"), True),
    (f"{PKG}.program", ("torch", "sympy", "skorch"), True),
    (f"{PKG}.search", ("skorch",), True),
    (f"{PKG}.export.python", ("sympy",), False),
    (f"{PKG}.datasets", ("torch", "skorch"), True),
    (f"{PKG}.inspection", ("matplotlib",), True),
]

SKLEARN_COMPAT = f"{PKG}.utils._sklearn_compat"
# Modules that still import private scikit-learn names and must switch to
# SKLEARN_COMPAT (the lead switches them, then empties this set).
_PENDING_PRIVATE_SKLEARN: set[str] = {}


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@cache
def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PKG_DIR.rglob("*.py")):
        parts = list(path.relative_to(PKG_DIR.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def collect_imports(source: str, module: str, is_package: bool) -> set[str]:
    """Absolute names imported anywhere in ``source`` (module ``module``)."""
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            names.add(mod)
            # ``from pkg import sub`` may import the submodule ``pkg.sub``
            names.update(f"{mod}.{a.name}" for a in node.names if a.name != "*")
        elif isinstance(node, ast.Call) and node.args:
            f = node.func
            fname = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
            arg = node.args[0]
            if (
                fname in ("__import__", "import_module")
                and isinstance(arg, ast.Constant)
                and isinstance(arg.value, str)
            ):
                names.add(arg.value)
    return names


@cache
def _direct(module: str) -> frozenset[str]:
    path = _modules()[module]
    return frozenset(
        collect_imports(path.read_text(), module, path.name == "__init__.py")
    )


def _internal_targets(name: str) -> list[str]:
    """The package modules executed by importing ``name`` (root excluded)."""
    mods = _modules()
    parts = name.split(".")
    return [
        ".".join(parts[:k])
        for k in range(2, len(parts) + 1)
        if ".".join(parts[:k]) in mods
    ]


@cache
def _transitive(module: str) -> dict[str, str]:
    """``{imported name: package module that imports it}`` reachable from module."""
    seen, stack, out = {module}, [module], {}
    while stack:
        m = stack.pop()
        for name in sorted(_direct(m)):
            out.setdefault(name, m)
            if not _matches(name, PKG):
                continue
            for target in _internal_targets(name):
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
    return out


# ------------------------------------------------------------- internal edges
def _relative(module: str) -> str:
    """``grammar.dsl`` for ``sklearn_dpads.grammar.dsl``; ``__init__`` for the root."""
    return "__init__" if module == PKG else module.removeprefix(PKG + ".")


def group_of(module: str) -> str:
    """The layer of a package module: the first component below the package."""
    return _relative(module).split(".")[0]


def internal_edges(names: set[str], known: set[str]) -> set[str]:
    """The package modules that the imported ``names`` refer to.

    A name resolves to its longest prefix that is a module of ``known``
    (``sklearn_dpads.grammar.dsl.DSL`` to ``sklearn_dpads.grammar.dsl``). A
    bare package name (``sklearn_dpads`` from ``from sklearn_dpads import x``)
    counts only when nothing below it is imported: importing any submodule
    runs the package's ``__init__`` anyway, so that edge says nothing.
    """
    out, bare = set(), set()
    for name in names:
        if not _matches(name, PKG):
            continue
        parts = name.split(".")
        target = next(
            ".".join(parts[:k])
            for k in range(len(parts), 0, -1)
            if ".".join(parts[:k]) in known or k == 1
        )
        (bare if target == name else out).add(target)
    below = {n for n in names if _matches(n, PKG)}
    out |= {b for b in bare if not any(n != b and _matches(n, b) for n in below)}
    return out


def edge_violations(module: str, names: set[str], known: set[str]) -> list[str]:
    """Imports of ``module`` (imported ``names``) that ``ALLOWED`` does not allow."""
    group = group_of(module)
    if group not in ALLOWED:
        return [
            f"{module}: its group {group!r} is not in ALLOWED; declare what it may "
            "import"
        ]
    allowed = ALLOWED[group]
    problems = []
    for target in sorted(internal_edges(names, known)):
        rel = _relative(target)
        if target == module or group_of(target) == group or "*" in allowed:
            continue
        if not any(_matches(rel, a) for a in allowed):
            problems.append(f"{module} imports {target} ({group} -> {rel})")
    return problems


def private_sklearn_imports(names: set[str]) -> list[str]:
    """Imported names that are private to scikit-learn (a ``_`` component)."""

    def private(part: str) -> bool:
        return part.startswith("_") and not (
            part.startswith("__") and part.endswith("__")
        )

    return sorted(
        n
        for n in names
        if _matches(n, "sklearn") and any(map(private, n.split(".")[1:]))
    )


def _all_edge_violations() -> dict[tuple[str, str], str]:
    known = set(_modules())
    out = {}
    for m in _modules():
        for target in internal_edges(set(_direct(m)), known):
            for problem in edge_violations(m, {target}, known):
                out[(m, target)] = problem
    return out


def test_package_is_found_and_parses():
    mods = _modules()
    assert f"{PKG}.grammar.types" in mods
    assert f"{PKG}.program" in mods
    for m in mods:
        _direct(m)  # every module parses


def test_every_group_is_in_the_table():
    missing = sorted({group_of(m) for m in _modules()} - set(ALLOWED))
    assert not missing, f"groups missing from ALLOWED: {missing}"


def test_internal_imports_follow_the_allowed_edges():
    problems = [p for edge, p in _all_edge_violations().items() if edge not in _PENDING]
    assert not problems, "\n".join(sorted(problems))


def test_pending_edges_are_still_needed():
    done = _PENDING - set(_all_edge_violations())
    assert not done, f"no longer violated, remove from _PENDING: {sorted(done)}"


@pytest.mark.parametrize(
    "prefix, forbidden, transitive",
    THIRD_PARTY,
    ids=[r[0].removeprefix(PKG + ".") for r in THIRD_PARTY],
)
def test_third_party(prefix, forbidden, transitive):
    mods = [m for m in _modules() if _matches(m, prefix)]
    if not mods:
        pytest.skip(f"{prefix} does not exist yet")
    problems = []
    for m in mods:
        for name in sorted(_direct(m)):
            problems += [
                f"{m} imports {name}" for bad in forbidden if _matches(name, bad)
            ]
        if transitive:
            for name, via in sorted(_transitive(m).items()):
                if via != m and any(_matches(name, bad) for bad in forbidden):
                    problems.append(f"{m} imports {name} indirectly (via {via})")
    assert not problems, "\n".join(problems)


def test_private_sklearn_only_in_compat():
    problems = [
        f"{m} imports {', '.join(private_sklearn_imports(set(_direct(m))))}"
        for m in _modules()
        if m != SKLEARN_COMPAT
        and m not in _PENDING_PRIVATE_SKLEARN
        and private_sklearn_imports(set(_direct(m)))
    ]
    assert not problems, "\n".join(problems) + f"\nimport them from {SKLEARN_COMPAT}"


def test_pending_private_sklearn_are_still_needed():
    done = {
        m
        for m in _PENDING_PRIVATE_SKLEARN
        if m not in _modules() or not private_sklearn_imports(set(_direct(m)))
    }
    assert not done, f"remove from _PENDING_PRIVATE_SKLEARN: {sorted(done)}"


# --------------------------------------------------- the checkers themselves
def _check_fake(module: str, source: str) -> list[str]:
    names = collect_imports(source, module, is_package=False)
    return edge_violations(module, names, set(_modules()) | {module})


def test_checker_reports_a_new_forbidden_edge():
    # training must not see the derivation graph, even from inside a function
    src = """
import numpy as np
from sklearn_dpads.semantics import compile_program
from sklearn_dpads.training.data import SequenceDataset

def helper():
    from sklearn_dpads.graph.derivation_graph import DerivationGraph
    return DerivationGraph
"""
    problems = _check_fake(f"{PKG}.training.fake", src)
    assert problems == [
        f"{PKG}.training.fake imports {PKG}.graph.derivation_graph "
        "(training -> graph.derivation_graph)"
    ]
    # the same source is fine once the function-level import is gone
    assert _check_fake(f"{PKG}.training.fake", src.split("def helper")[0]) == []


@pytest.mark.parametrize(
    "module, source, bad",
    [
        (f"{PKG}.plotting_extra", "import numpy", "not in ALLOWED"),
        (f"{PKG}.plotting", "from sklearn_dpads import _classifier", "_classifier"),
        (
            f"{PKG}.plotting",
            "from sklearn_dpads import ProgramSynthesisClassifier",
            "-> __init__",
        ),
        (
            f"{PKG}.export.fake",
            "from sklearn_dpads.library import safe_identifier",
            "library",
        ),
        (
            f"{PKG}.grammar.fake",
            "from sklearn_dpads.utils.validation import check_X",
            "utils",
        ),
        (
            f"{PKG}.search.fake",
            "x = importlib.import_module('sklearn_dpads.training')",
            "training",
        ),
        (f"{PKG}.metrics", "from . import exceptions", "exceptions"),
    ],
)
def test_checker_reports(module, source, bad):
    problems = _check_fake(module, source)
    assert len(problems) == 1 and bad in problems[0], problems


def test_checker_allows_listed_edges():
    assert (
        _check_fake(f"{PKG}.grammar.fake", "from sklearn_dpads.utils._names import n")
        == []
    )
    assert (
        _check_fake(f"{PKG}.grammar.fake", "from sklearn_dpads.utils import _names")
        == []
    )
    assert (
        _check_fake(f"{PKG}.plotting", "from sklearn_dpads.inspection import f") == []
    )
    assert _check_fake(f"{PKG}._classifier", "from sklearn_dpads.graph import G") == []


def test_private_sklearn_checker():
    src = """
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils.validation import validate_data
from sklearn import __version__

def f():
    import sklearn.utils._testing
"""
    names = collect_imports(src, f"{PKG}.metrics", is_package=False)
    assert private_sklearn_imports(names) == [
        "sklearn.base._fit_context",
        "sklearn.utils._testing",
    ]


def test_collect_imports_sees_everything():
    src = """
import os, numpy as np
from torch import nn
from . import sibling
from ..grammar.types import Atom

def f():
    import sympy
    from skorch.callbacks import Callback
    return __import__("json"), importlib.import_module("pickle")

class C:
    def g(self):
        if True:
            from sklearn_dpads import _classifier
"""
    names = collect_imports(src, f"{PKG}.search.core", is_package=False)
    for want in [
        "os",
        "numpy",
        "torch",
        "torch.nn",
        f"{PKG}.search",
        f"{PKG}.search.sibling",
        f"{PKG}.grammar.types",
        f"{PKG}.grammar.types.Atom",
        "sympy",
        "skorch.callbacks",
        "json",
        "pickle",
        f"{PKG}._classifier",
    ]:
        assert want in names, want
    pkg_names = collect_imports("from .dsl import DSL", f"{PKG}.grammar", True)
    assert f"{PKG}.grammar.dsl" in pkg_names


def test_matches_is_prefix_on_dots():
    assert _matches("torch.nn", "torch")
    assert _matches("torch", "torch")
    assert not _matches("torchvision", "torch")
    assert not _matches(f"{PKG}.search_utils", f"{PKG}.search")
