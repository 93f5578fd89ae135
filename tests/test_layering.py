"""Static layering rules: which parts of sklearn_dpads may import what.

Every module under ``sklearn_dpads/`` is parsed with :mod:`ast` and *all* its
import statements are collected, including those inside functions and
``__import__("x")`` / ``importlib.import_module("x")`` calls with a literal
name. Rules name a module prefix and the import prefixes it must not use;
modules that do not exist (yet) are skipped.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PKG = "sklearn_dpads"
PKG_DIR = Path(__file__).resolve().parents[1] / PKG

_NO_TORCH_INTERNALS = (
    f"{PKG}.semantics",
    f"{PKG}.graph",
    f"{PKG}.training",
    f"{PKG}.search",
    f"{PKG}.export",
    f"{PKG}.library",
    f"{PKG}._classifier",
)

# (module prefix, forbidden import prefixes, also check transitive imports,
#  exempt modules)
RULES = [
    (f"{PKG}.grammar", ("torch", "sympy", "skorch", *_NO_TORCH_INTERNALS), True, ()),
    (f"{PKG}.program", ("torch", "sympy", "skorch", *_NO_TORCH_INTERNALS), True, ()),
    (f"{PKG}.search", ("skorch", f"{PKG}.training", f"{PKG}._classifier"), True, ()),
    (f"{PKG}.export.python", ("sympy",), False, ()),
    (
        f"{PKG}.graph",
        ("skorch", f"{PKG}.search", f"{PKG}.training", f"{PKG}._classifier"),
        True,
        (),
    ),
    (
        f"{PKG}.semantics",
        ("skorch", f"{PKG}.search", f"{PKG}.training", f"{PKG}._classifier"),
        True,
        (),
    ),
    (f"{PKG}.datasets", ("torch", "skorch"), True, ()),
    (PKG, (f"{PKG}._classifier",), False, (PKG,)),
]


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


def test_package_is_found_and_parses():
    mods = _modules()
    assert f"{PKG}.grammar.types" in mods
    assert f"{PKG}.program" in mods
    for m in mods:
        _direct(m)  # every module parses


@pytest.mark.parametrize(
    "prefix, forbidden, transitive, exempt",
    RULES,
    ids=[r[0].removeprefix(PKG + ".") for r in RULES],
)
def test_layering(prefix, forbidden, transitive, exempt):
    mods = [m for m in _modules() if _matches(m, prefix) and m not in exempt]
    if not mods:
        pytest.skip(f"{prefix} does not exist yet")
    problems = []
    for m in mods:
        for name in sorted(_direct(m)):
            for bad in forbidden:
                if _matches(name, bad):
                    problems.append(f"{m} imports {name}")
        if transitive:
            for name, via in sorted(_transitive(m).items()):
                if via == m:
                    continue
                for bad in forbidden:
                    if _matches(name, bad):
                        problems.append(f"{m} imports {name} indirectly (via {via})")
    assert not problems, "\n".join(problems)


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
