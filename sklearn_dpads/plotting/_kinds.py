"""What the plots read from production kinds: roles, labels, leaf kinds.

Every look at ``Production.kind`` in :mod:`sklearn_dpads.plotting` is here.
"""

from __future__ import annotations

from sklearn_dpads.grammar.dsl import DSL

_ROLE_OF_KIND = {  # the role of every built-in production kind
    **dict.fromkeys(
        ("map", "map_prefixes", "fold", "window", "difference"), "sequence"
    ),
    **dict.fromkeys(("ite", "add", "multiply", "elementwise"), "combine"),
    **dict.fromkeys(("affine", "constant", "filter"), "leaf"),
}


def _role(symbol: str, dsl: DSL | None) -> str:
    if dsl is not None and symbol in dsl:
        return _ROLE_OF_KIND.get(dsl[symbol].kind, "combine")
    if symbol.startswith(("affine", "filter")) or symbol == "const":
        return "leaf"
    if symbol in ("map", "map_prefixes", "fold", "diff") or symbol.endswith("_avg"):
        return "sequence"
    return "combine"


def _node_label(symbol: str, dsl: DSL | None) -> str:
    if dsl is not None and symbol in dsl:
        prod = dsl[symbol]
        if prod.kind == "affine":
            group = prod.params.get("group")
            return f"affine[{group}]" if group else "affine[all]"
        if prod.kind == "filter":
            group = prod.params.get("group")
            return f"filter{prod.params['length']}[{group or 'all'}]"
        if prod.kind == "constant":
            return "const"
    return symbol


def _is_affine(symbol: str, dsl: DSL) -> bool:
    """Whether ``symbol`` is an affine leaf of ``dsl`` (its weights are written)."""
    return symbol in dsl and dsl[symbol].kind == "affine"


def _is_filter(symbol: str, dsl: DSL) -> bool:
    """Whether ``symbol`` is a temporal filter leaf of ``dsl``."""
    return symbol in dsl and dsl[symbol].kind == "filter"
