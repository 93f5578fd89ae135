"""Canonical programs: redundant structure folded away.

Some compositions of leaves compute nothing that one leaf cannot:

* ``add(affine[A], affine[B])`` with ``A`` a subset of ``B`` is an
  ``affine[B]`` (the weights add up on ``A``);
* ``add(f, const)`` and ``add(const, f)``, for an affine or constant leaf
  ``f``, is ``f`` with its bias moved;
* ``multiply(const, f)`` and ``multiply(f, const)``, for an affine or
  constant leaf ``f``, is ``f`` with its weights scaled.

:func:`fold_pair` is the one table of these rules; :func:`canonical_form`
applies it bottom-up to a program (to show it and count its size), and
:func:`sklearn_dpads.semantics.canonical.canonicalize` applies it to a
trained program, merging the weights so that the value is unchanged.
"""

from __future__ import annotations

from typing import Literal

from sklearn_dpads.grammar.dsl import DSL
from sklearn_dpads.grammar.kind import Kind
from sklearn_dpads.grammar.production import Production

__all__ = ["fold_pair", "canonical_form", "canonical_cost", "features_read"]


def _covers(outer: Production, inner: Production) -> bool:
    """Whether the affine leaf ``outer`` reads every feature ``inner`` reads."""
    big = outer.params.get("indices")
    small = inner.params.get("indices")
    return big is None or (small is not None and set(small) <= set(big))


def fold_pair(kind: Kind, a: Production, b: Production) -> Literal[0, 1] | None:
    """Which argument of ``kind(a, b)`` absorbs the other, for two leaves.

    Parameters
    ----------
    kind : Kind
        The combinator's kind (only sums and products fold: its
        :attr:`~sklearn_dpads.grammar.kind.Kind.algebra`).
    a, b : Production
        The productions of its two arguments.

    Returns
    -------
    0, 1 or None
        The argument whose production the folded leaf keeps (0: ``a``, 1:
        ``b``), or None when the pair does not fold.
    """
    if kind.algebra is None or not (_foldable(a) and _foldable(b)):
        return None
    if a.kind.constant_leaf:
        return 1
    if b.kind.constant_leaf:
        return 0
    if kind.algebra == "product":  # a product of two affine leaves is quadratic
        return None
    if _covers(b, a):
        return 1
    if _covers(a, b):
        return 0
    return None


def _foldable(p: Production) -> bool:
    return p.kind.affine_leaf or p.kind.constant_leaf


def canonical_form(program, dsl: DSL):
    """The program with :func:`fold_pair`'s redundant structure folded.

    Parameters
    ----------
    program : Program
        A program over ``dsl``.
    dsl : DSL
        Its grammar.

    Returns
    -------
    Program
        The canonical program (``program`` itself when nothing folds).
    """
    kids = tuple(canonical_form(c, dsl) for c in program.children)
    if len(kids) == 2 and not kids[0].children and not kids[1].children:
        keep = fold_pair(
            dsl[program.symbol].kind, dsl[kids[0].symbol], dsl[kids[1].symbol]
        )
        if keep is not None:
            return kids[keep]
    if kids == program.children:
        return program
    return type(program)(program.symbol, kids)


def canonical_cost(program, dsl: DSL) -> float:
    """Structural cost of the canonical form: the sum of its production costs.

    Parameters
    ----------
    program : Program
        A program over ``dsl``.
    dsl : DSL
        Its grammar.

    Returns
    -------
    float
        The cost.
    """
    return float(canonical_form(program, dsl).cost(dsl))


def features_read(program, dsl: DSL) -> float:
    """How much of the input the canonical form's leaves read, in inputs' worth.

    Each leaf adds the share of the input's features it reads: 1 for a leaf
    over all features (``affine``), ``k / n_features`` for a leaf over a
    group of ``k`` features, 0 for a constant. The local search names
    features with it: it moves from ``affine`` to ``affine[distance]`` when
    that scores as well, so that the program says what it reads.

    Parameters
    ----------
    program : Program
        A program over ``dsl``.
    dsl : DSL
        Its grammar.

    Returns
    -------
    float
        The sum over the leaves, at least 0.
    """
    total = 0.0
    for _, node in canonical_form(program, dsl).walk():
        if node.children or node.symbol not in dsl:
            continue
        production = dsl[node.symbol]
        if production.kind.constant_leaf:
            continue
        indices = production.params.get("indices")
        total += 1.0 if indices is None else len(indices) / max(dsl.n_features, 1)
    return total
