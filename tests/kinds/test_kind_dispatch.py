"""The package asks a production's kind; only ``sklearn_dpads/kinds/`` knows names.

Outside ``sklearn_dpads/kinds/`` no module may compare a kind (or a kind's
name) with a string literal: ``prod.kind == "affine"``, ``kind in ("add",
"multiply")``, ``{"fold": ...}[kind]``. Found by :mod:`ast`, so comments and
docstrings do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sklearn_dpads.kinds import BUILTIN_KINDS

PKG_DIR = Path(__file__).resolve().parents[2] / "sklearn_dpads"
NAMES = {k.name for k in BUILTIN_KINDS}


def _strings(node) -> set[str]:
    """The string constants of ``node`` itself or of a tuple/list/set of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return set().union(*(_strings(e) for e in node.elts)) if node.elts else set()
    return set()


def name_comparisons(source: str) -> list[tuple[int, str]]:
    """Lines of ``source`` comparing something with a built-in kind name."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            hits = set().union(*(_strings(s) for s in sides)) & NAMES
            if hits:
                out.append((node.lineno, ", ".join(sorted(hits))))
        elif isinstance(node, ast.Dict):
            hits = set().union(*(_strings(k) for k in node.keys if k)) & NAMES
            if len(hits) > 1:  # a table keyed by kind names
                out.append((node.lineno, ", ".join(sorted(hits))))
    return out


def test_the_scan_finds_name_comparisons():
    assert name_comparisons('if prod.kind == "affine": pass') == [(1, "affine")]
    assert name_comparisons('k in ("add", "multiply")') == [(1, "add, multiply")]
    assert name_comparisons('{"map": 1, "fold": 2}') == [(1, "fold, map")]
    assert name_comparisons("if prod.kind.affine_leaf: pass") == []


@pytest.mark.parametrize(
    "path",
    [p for p in sorted(PKG_DIR.rglob("*.py")) if "kinds" not in p.parts],
    ids=lambda p: str(p.relative_to(PKG_DIR)),
)
def test_no_kind_names_are_compared_outside_kinds(path):
    found = name_comparisons(path.read_text())
    assert not found, f"{path.name} compares kind names at {found}: ask the kind"
