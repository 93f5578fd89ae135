"""Pieces shared by several built-in kinds (one place, not one copy per kind)."""

from __future__ import annotations

from typing import Any

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.export._safety import comment_text
from sklearn_dpads.grammar.kind import Kind
from sklearn_dpads.grammar.types import Atom, FunctionType
from sklearn_dpads.semantics.compile import LeafParameters

__all__ = [
    "AtomCombinator",
    "BinaryKind",
    "FrameWindow",
    "check_selected_features",
    "plain_parameters",
    "selected_inputs",
    "selection_text",
]


def plain_parameters(kind: Kind) -> LeafParameters:
    """The parameters of a node without numeric parameters: only its kind.

    Parameters
    ----------
    kind : Kind
        The node's kind.

    Returns
    -------
    LeafParameters
        ``LeafParameters(kind.name)``.
    """
    return LeafParameters(kind.name)


def selected_inputs(indices, n_features: int, width: int) -> list[int]:
    """The input positions a leaf over ``indices`` reads, in order.

    Parameters
    ----------
    indices : sequence of int or None
        The leaf's features (None: all of them).
    n_features : int
        Features of the program's input.
    width : int
        Size of the leaf's input: past ``n_features`` come the accumulator
        entries of an enclosing fold, which every such leaf reads.

    Returns
    -------
    list of int
        ``indices`` then ``n_features .. width - 1``; every position when
        ``indices`` is None.
    """
    if indices is None:
        return list(range(width))
    return [int(i) for i in indices] + list(range(n_features, width))


def check_selected_features(production, n_features: int) -> None:
    """Raise if the leaf ``production`` selects a feature past ``n_features``.

    Parameters
    ----------
    production : Production
        A leaf with an ``indices`` parameter (None: all features).
    n_features : int
        Features of the program's input.

    Raises
    ------
    GrammarError
        If an index is ``n_features`` or more.
    """
    bad = [j for j in production.params.get("indices") or () if j >= n_features]
    if bad:
        raise GrammarError(
            f"Production {production.name!r} selects feature(s) {bad} but the "
            f"input has only {n_features} features (indices 0 to "
            f"{n_features - 1})."
        )


def selection_text(production) -> str:
    """What a leaf over a feature group reads, for the export's header comment.

    Parameters
    ----------
    production : Production
        A leaf with ``indices`` and ``group`` parameters.

    Returns
    -------
    str
        ``"<name>: features [0, 2], group 'speed'"`` (or ``all features``).
    """
    idx, grp = production.params.get("indices"), production.params.get("group")
    sel = "all features" if idx is None else f"features {list(idx)}"
    extra = "" if grp is None else f", group {comment_text(grp)}"
    return f"{production.name}: {sel}{extra}"


class AtomCombinator(Kind):
    """A combinator of atom functions: every slot has the hole's type.

    It fills ``atom[d] -> atom[k]`` holes only, so it has no streaming form
    and no sequence form.
    """

    role = "combine"

    def child_types(self, production, hole, n_features):
        if not hole.input.is_seq and not hole.output.is_seq:
            return (hole,) * production.arity
        return None

    def read(self, module):
        return plain_parameters(self)


class BinaryKind(AtomCombinator):
    """``f(x) op g(x)`` element-wise for a Python operator ``op`` (``+``, ``*``).

    Subclasses set :attr:`operator` and :attr:`algebra`, and define
    :meth:`apply` (the torch operation, also used by atom plans) and their
    module.
    """

    arity = 2
    operator: str = "+"

    def apply(self, a: Any, b: Any) -> Any:
        """Return ``a op b`` (tensors, floats or sympy expressions).

        Parameters
        ----------
        a, b : object
            The two operands.

        Returns
        -------
        object
            Their sum or product.
        """
        raise NotImplementedError

    def python(self, gen, node, kids):
        return [
            f"a = {kids[0]}(x)",
            f"b = {kids[1]}(x)",
            f"return [u {self.operator} v for u, v in zip(a, b)]",
        ]

    def sympy(self, builder, node, inputs):
        a, b = (builder.build(c, inputs) for c in node.children)
        return [self.apply(u, v) for u, v in zip(a, b)]

    def plan_combine(self, args, parameter):
        return self.apply(args[0], args[1])


class FrameWindow(Kind):
    """A summary over recent frames of an atom function of each frame.

    Fills ``list[d] -> atom[k]`` holes; its one slot is ``atom[d] -> atom[k]``,
    run on every frame (the windows' mean, the kernel window's weighted mean).
    """

    arity = 1
    role = "sequence"

    def child_types(self, production, hole, n_features):
        i, o = hole.input, hole.output
        if i.is_seq and not o.is_seq:
            return (FunctionType(Atom(i.size), o),)
        return None
