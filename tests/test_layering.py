"""Static layering contracts: which parts of sklearn_dpads may import what.

Every module under ``sklearn_dpads/`` is parsed with :mod:`ast` and *all* its
imports are collected, including those inside functions and
``__import__("x")`` / ``importlib.import_module("x")`` calls with a literal
name. Four contracts are checked:

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
4. No import cycle between modules, inside one group or package too (see
   ``import_targets`` for the graph's edges). ``ALLOWED`` cannot see those:
   imports inside a group are always allowed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
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
    "bouts",
    "inspection",
    "plotting",
    "kinds",
    "describe",
}
ALLOWED: dict[str, set[str]] = {
    "exceptions": set(),
    "metrics": set(),
    # bouts of per-frame labels: numpy and scikit-learn only
    "bouts": set(),
    # pose tracks to features (movement, the optional pose extra, is imported
    # lazily inside read_poses) and BORIS annotations to labels: leaves
    "pose": set(),
    "boris": set(),
    "utils": {"exceptions"},
    "grammar": {"exceptions", "utils._names"},
    "program": {"grammar", "exceptions"},
    "library": {"grammar", "program", "exceptions", "utils", "kinds"},
    "preprocessing": {"utils"},
    "semantics": {"grammar", "program", "exceptions"},
    # one module per built-in production kind: its typing, semantics and exports
    "kinds": {
        "semantics",
        "grammar",
        "program",
        "exceptions",
        "utils",
        "export._safety",
        "export._emit",
        # the torch-free values a kind's describe() hook returns
        "describe._algebra",
    },
    "graph": {"semantics", "grammar", "program", "exceptions"},
    # the trainer is blind to the derivation graph and to the search
    "training": {"semantics", "grammar", "program", "metrics", "exceptions", "utils"},
    # the search is blind to skorch and to the trainer (it is handed one)
    "search": {"graph", "semantics", "grammar", "program", "metrics", "exceptions"},
    # exports read the compiled program; names come from utils._names; the
    # exported module's docstring is the program's description
    "export": {"semantics", "grammar", "program", "exceptions", "utils", "describe"},
    # plain words and explanations: walk the compiled program, ask the kinds
    "describe": {"semantics", "grammar", "program", "exceptions", "utils"},
    "datasets": {"exceptions", "utils"},
    # leaves: inspection computes, plotting draws; neither sees the estimator class
    "inspection": {"utils", "grammar", "program", "exceptions"},
    "plotting": {"inspection", "bouts", "utils", "grammar", "program", "exceptions"},
    "_threshold": {"metrics", "utils", "exceptions"},
    # glue below the estimator only: the parameter constraints, the plan
    # (parameters resolved on the data) and its run (search and fine-tune)
    "_constraints": {"grammar", "utils"},
    "_fit_plan": {
        "_threshold",
        "preprocessing",
        "utils",
        "training",
        "search",
        "grammar",
        "library",
        "exceptions",
    },
    "_fit_run": {
        "_fit_plan",
        "_threshold",
        "utils",
        "training",
        "search",
        "semantics",  # the found program is canonicalised before the fine-tune
    },
    "_classifier": {"*"},
    "__init__": _PUBLIC | {"_classifier"},
}

# (module prefix, forbidden third-party prefixes, also check indirect imports)
THIRD_PARTY = [
    (f"{PKG}.grammar", ("torch", "sympy", "skorch"), True),
    (f"{PKG}.program", ("torch", "sympy", "skorch"), True),
    (f"{PKG}.search", ("skorch",), True),
    (f"{PKG}.export.python", ("sympy",), False),
    (f"{PKG}.datasets", ("torch", "skorch"), True),
    (f"{PKG}.inspection", ("matplotlib",), True),
    (f"{PKG}.bouts", ("torch", "skorch", "sympy", "matplotlib"), True),
    # the values and words of a description are torch-free (the walk reads plain
    # floats); direct imports only for _words, whose package __init__ also
    # loads the (torch) explanations
    (f"{PKG}.describe._algebra", ("torch", "sympy", "skorch"), True),
    (f"{PKG}.describe._words", ("torch", "sympy", "skorch"), False),
    (f"{PKG}.pose", ("torch", "skorch", "sympy", "matplotlib"), True),
    (f"{PKG}.boris", ("torch", "skorch", "sympy", "matplotlib", "pandas"), True),
    # kinds write sympy through the exporter they are handed, never import it;
    # direct imports only: the one indirect path is the lazy sympy attribute
    # of sklearn_dpads.export's __init__ (kinds import export._safety), which
    # loads sympy only when an exporter asks for it
    (f"{PKG}.kinds", ("sympy", "skorch"), False),
]

SKLEARN_COMPAT = f"{PKG}.utils._sklearn_compat"


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


def _from_module(node: ast.ImportFrom, package: str) -> str:
    """The absolute module of ``from ... import``, in a module of ``package``."""
    if node.level:
        base = package.split(".")
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))
    return node.module or ""


def _dynamic_import(node: ast.AST) -> str | None:
    """The literal name of an ``__import__("x")`` or ``import_module("x")`` call."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    f, arg = node.func, node.args[0]
    fname = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
    if (
        fname in ("__import__", "import_module")
        and isinstance(arg, ast.Constant)
        and isinstance(arg.value, str)
    ):
        return arg.value
    return None


def collect_imports(source: str, module: str, is_package: bool) -> set[str]:
    """Absolute names imported anywhere in ``source`` (module ``module``)."""
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            mod = _from_module(node, package)
            names.add(mod)
            # ``from pkg import sub`` may import the submodule ``pkg.sub``
            names.update(f"{mod}.{a.name}" for a in node.names if a.name != "*")
        elif (name := _dynamic_import(node)) is not None:
            names.add(name)
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
    problems = list(_all_edge_violations().values())
    assert not problems, "\n".join(sorted(problems))


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
        if m != SKLEARN_COMPAT and private_sklearn_imports(set(_direct(m)))
    ]
    assert not problems, "\n".join(problems) + f"\nimport them from {SKLEARN_COMPAT}"


# ---------------------------------------------------------------- import cycles
def import_targets(
    source: str, module: str, is_package: bool, known: set[str]
) -> set[str]:
    """The package modules that ``module`` imports: its edges in the import graph.

    One node per module of ``known`` (a package is its ``__init__``), one edge
    per import written in the code, at module level or in a function (``if
    TYPE_CHECKING:`` too). ``import a.b`` is an edge to ``a.b`` (or its longest
    prefix that is a module); ``from a import x`` to the module ``a.x`` if
    there is one, else to ``a``, whose ``__init__`` defines or re-exports
    ``x``. The parent packages that Python runs first (``a`` before ``a.b``)
    are *not* edges: else every ``__init__`` that re-exports its submodules
    would close a cycle with each, although a submodule that reads nothing
    from it does not need it. A submodule that imports a name from its own
    package's ``__init__`` does get that edge: if the ``__init__`` imports the
    submodule, the cycle is real (the name may not exist yet then).
    """
    package = module if is_package else module.rpartition(".")[0]
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = _from_module(node, package)
            subs = [f"{mod}.{a.name}" for a in node.names]
            names += [sub if sub in known else mod for sub in subs]
        elif (name := _dynamic_import(node)) is not None:
            names.append(name)
    targets = set()
    for name in filter(lambda n: _matches(n, PKG), names):
        parts = name.split(".")
        prefixes = (".".join(parts[:k]) for k in range(len(parts), 0, -1))
        targets.add(next((m for m in prefixes if m in known), module))
    return targets - {module}


def import_graph() -> dict[str, set[str]]:
    """``{module: the modules it imports}`` over all of ``sklearn_dpads``."""
    known = set(_modules())
    return {
        m: import_targets(path.read_text(), m, path.name == "__init__.py", known)
        for m, path in _modules().items()
    }


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, stack = set(), [start]
    while stack:
        for w in graph.get(stack.pop(), ()):
            if w not in seen:
                seen.add(w)
                stack.append(w)
    return seen


def _cycles_from(
    graph: dict[str, set[str]], on_cycle: set[str], path: list[str]
) -> Iterator[list[str]]:
    """The cycles through ``on_cycle`` that extend ``path``, none below ``path[0]``."""
    for w in sorted(graph.get(path[-1], ())):
        if w == path[0]:
            yield path + [w]
        elif w in on_cycle and w > path[0] and w not in path:
            yield from _cycles_from(graph, on_cycle, path + [w])


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary cycle of ``graph``, as ``[a, ..., a]`` from its least node."""
    reach = {v: _reachable(graph, v) for v in graph}
    cycles = []
    for start in sorted(graph):
        # the nodes on some cycle through start (its strongly connected component)
        on_cycle = {w for w in reach[start] if start in reach.get(w, ())}
        cycles += _cycles_from(graph, on_cycle, [start]) if on_cycle else []
    return sorted(cycles)


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles between modules:\n" + "\n".join(
        " -> ".join(_relative(m) for m in c) for c in cycles
    )


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


def test_cycle_finder():
    graph = {"a": {"b"}, "b": {"a", "c"}, "c": {"a", "d"}, "d": set(), "e": {"a"}}
    assert find_cycles(graph) == [["a", "b", "a"], ["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert find_cycles({"a": {"b"}}) == []  # a target without imports


def test_import_targets_follow_the_written_imports():
    g = f"{PKG}.grammar"
    known = {PKG, g, f"{g}.dsl", f"{g}.types", f"{PKG}.graph", f"{PKG}.graph.edges"}
    src = """
import numpy
from sklearn_dpads.grammar import dsl, DSLBuilder
import sklearn_dpads.grammar.types
from sklearn_dpads import graph

def f():
    from sklearn_dpads.graph.edges import Edge
"""
    assert import_targets(src, f"{PKG}.search.fake", False, known) == {
        f"{g}.dsl",  # the submodule
        g,  # DSLBuilder, a name of grammar/__init__
        f"{g}.types",
        f"{PKG}.graph",  # the package, not its submodules
        f"{PKG}.graph.edges",  # inside a function too
    }
    # an __init__ re-exporting its submodules makes no cycle with them ...
    init = "from sklearn_dpads.grammar.dsl import DSL\nfrom .types import Atom\n"
    graph = {g: import_targets(init, g, True, known), f"{g}.dsl": {f"{g}.types"}}
    assert graph[g] == {f"{g}.dsl", f"{g}.types"} and find_cycles(graph) == []
    # ... unless one reads a name from that __init__
    graph[f"{g}.dsl"] = import_targets(
        "from sklearn_dpads.grammar import Atom\n", f"{g}.dsl", False, known
    )
    assert find_cycles(graph) == [[g, f"{g}.dsl", g]]
