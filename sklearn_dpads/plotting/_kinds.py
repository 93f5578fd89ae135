"""What the plots read from production kinds: roles, labels, leaf kinds.

The plots ask each production's kind (:class:`~sklearn_dpads.grammar.Kind`)
how to draw it; without a DSL only the tree's shape is known.
"""

from __future__ import annotations

from sklearn_dpads.grammar.dsl import DSL


def _role(symbol: str, dsl: DSL | None, is_leaf: bool = False) -> str:
    """The box colour's role of a node: its kind's, or by shape without a DSL."""
    if dsl is not None and symbol in dsl:
        return dsl[symbol].kind.role
    return "leaf" if is_leaf else "combine"


def _node_label(symbol: str, dsl: DSL | None) -> str:
    """The short label of a node in program pictures."""
    if dsl is not None and symbol in dsl:
        prod = dsl[symbol]
        return prod.kind.label(prod)
    return symbol


def _is_affine(symbol: str, dsl: DSL) -> bool:
    """Whether ``symbol`` is an affine leaf of ``dsl`` (its weights are written)."""
    return symbol in dsl and dsl[symbol].kind.affine_leaf


def _is_filter(symbol: str, dsl: DSL) -> bool:
    """Whether ``symbol`` is a leaf with weights per lag (a temporal filter)."""
    return symbol in dsl and dsl[symbol].kind.lagged_leaf
