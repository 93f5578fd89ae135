"""The walk that asks every node's kind what it computes.

:class:`Describer` visits a compiled program children first and calls each
node's :meth:`Kind.describe <sklearn_dpads.grammar.Kind.describe>` with the
children's descriptions; the hook returns an expression of
:mod:`sklearn_dpads.describe._algebra`, built with the services below
(parameters read as plain floats, affine maps, sums, blends, windows). It
also records every node that reads several frames (windows, folds, filters),
for the description's list of windows.
"""

from __future__ import annotations

from typing import Any

from sklearn_dpads.describe._algebra import (
    Blend,
    Expression,
    Linear,
    Opaque,
    Operator,
    Term,
)
from sklearn_dpads.program import TypedNode, typecheck
from sklearn_dpads.semantics.compile import LeafParameters, ProgramModule

__all__ = ["Describer"]


class Describer:
    """Describes a compiled program node by node, through the kinds' hooks.

    Parameters
    ----------
    module : ProgramModule
        The compiled (trained) program.

    Attributes
    ----------
    n_features : int
        Features per frame; inside a fold body, inputs past them are the
        accumulator.
    windows : list of tuple
        ``(node, operator)`` of every node that reads several frames, in the
        order visited (the operator is None where the node is not
        simplified).
    """

    def __init__(self, module: ProgramModule) -> None:
        self.module = module
        self.n_features = module.dsl.n_features
        self.windows: list[tuple[TypedNode, Operator | None]] = []

    def describe(self, node: TypedNode | None = None) -> Expression:
        """Return what ``node`` (default: the whole program) computes.

        Parameters
        ----------
        node : TypedNode, optional
            A node of the program's typed tree.

        Returns
        -------
        Expression
            A :class:`Linear`, :class:`Blend` or :class:`Opaque`.
        """
        if node is None:
            m = self.module
            node = typecheck(m.program, m.dsl, m.hole)
        kids = [self.describe(c) for c in node.children]
        return node.production.kind.describe(self, node, kids)

    # services to the kinds' describe() hooks ---------------------------------------
    def parameters(self, node: TypedNode) -> LeafParameters:
        """Return the node's numeric parameters as plain floats.

        Parameters
        ----------
        node : TypedNode
            The node.

        Returns
        -------
        LeafParameters
            As the kind's :meth:`~sklearn_dpads.grammar.Kind.read` gives them.
        """
        return self.module.leaf(node.path)

    def operator(self, node: TypedNode, kind: str, **params: Any) -> Operator:
        """Return an operator over frames applied by ``node``.

        Parameters
        ----------
        node : TypedNode
            The node applying it.
        kind : {"mean", "weights", "decay", "change"}
            See :class:`Operator`.
        **params
            ``left``, ``weights``, ``decay`` or ``style``.

        Returns
        -------
        Operator
            Named after the node's production and path.
        """
        return Operator(kind, node.production.name, node.path, **params)

    def record(self, node: TypedNode, op: Operator | None) -> None:
        """Note that ``node`` reads several frames (through ``op`` when known).

        Parameters
        ----------
        node : TypedNode
            The node.
        op : Operator or None
            What it applies to the frames; None when it is not simplified.
        """
        self.windows.append((node, op))

    def affine(
        self,
        indices: tuple[int, ...],
        weight: tuple[tuple[float, ...], ...],
        bias: tuple[float, ...],
    ) -> Linear:
        """Return ``W x[indices] + b`` as a linear form of the inputs at the frame.

        Parameters
        ----------
        indices : tuple of int
            The input read by each weight column.
        weight : tuple of tuple of float
            One row per output.
        bias : tuple of float
            One per output.

        Returns
        -------
        Linear
            One term per input (weights that are all zero are dropped).
        """
        terms = []
        for c, i in enumerate(indices):
            w = tuple(float(row[c]) for row in weight)
            if any(w):
                terms.append(Term(int(i), (), w))
        return Linear(tuple(terms), tuple(float(b) for b in bias))

    def constant(self, values: tuple[float, ...]) -> Linear:
        """Return a constant vector as a linear form without terms.

        Parameters
        ----------
        values : tuple of float
            One per output.

        Returns
        -------
        Linear
            No terms; the bias is ``values``.
        """
        return Linear((), tuple(float(v) for v in values))

    def add(self, node: TypedNode, a: Expression, b: Expression) -> Expression:
        """Return ``a + b``: merged when both are linear.

        Parameters
        ----------
        node : TypedNode
            The sum's node.
        a, b : Expression
            The two values.

        Returns
        -------
        Expression
            A :class:`Linear`, or a phrase of the two.
        """
        if isinstance(a, Linear) and isinstance(b, Linear):
            return a.plus(b)
        return self.opaque(node, [a, b], "{0} + {1}", note="")

    def multiply(self, node: TypedNode, a: Expression, b: Expression) -> Expression:
        """Return ``a * b``: a scaled form when one of them is a constant.

        Parameters
        ----------
        node : TypedNode
            The product's node.
        a, b : Expression
            The two values.

        Returns
        -------
        Expression
            A :class:`Linear`, or a phrase of the two.
        """
        for u, v in ((a, b), (b, a)):
            if isinstance(u, Linear) and u.is_constant and isinstance(v, Linear):
                return v.times(u.bias)
        return self.opaque(
            node,
            [a, b],
            "the product of {0} and {1}",
            note="a product of two varying values, not simplified",
        )

    def blend(
        self,
        node: TypedNode,
        beta: float,
        condition: Expression,
        then: Expression,
        otherwise: Expression,
    ) -> Blend:
        """Return the soft if-then-else ``s * then + (1 - s) * otherwise``.

        Parameters
        ----------
        node : TypedNode
            The ``ite`` node.
        beta : float
            Its temperature: ``s = sigmoid(beta * condition)``.
        condition, then, otherwise : Expression
            Its three arguments.

        Returns
        -------
        Blend
            The blend.
        """
        return Blend(
            node.path, node.production.name, float(beta), condition, then, otherwise
        )

    def over_frames(
        self, node: TypedNode, child: Expression, op: Operator, note: str | None = None
    ) -> Expression:
        """Return ``child`` read through ``op`` at each frame (a window of it).

        Parameters
        ----------
        node : TypedNode
            The node applying ``op`` (recorded as a window).
        child : Expression
            The value the operator reads at every frame.
        op : Operator
            The operator.
        note : str, optional
            A caveat to keep with the result.

        Returns
        -------
        Expression
            A :class:`Linear` when ``child`` is one, else a phrase of it.
        """
        self.record(node, op)
        if isinstance(child, Linear):
            return child.through(op, note)
        return Opaque(
            node.path, node.production.name, "{0}", (child,), child.size, note or "", op
        )

    def reading(self, node: TypedNode, child: Expression, op: Operator) -> Expression:
        """Return ``child`` evaluated on its inputs transformed by ``op`` first.

        Parameters
        ----------
        node : TypedNode
            The node transforming its input (a frame difference).
        child : Expression
            The value computed on the transformed input.
        op : Operator
            The transformation.

        Returns
        -------
        Expression
            A :class:`Linear` when ``child`` is one, else a phrase of it.
        """
        if isinstance(child, Linear):
            return child.reading(op)
        return Opaque(
            node.path,
            node.production.name,
            "{0}, computed on the frame-to-frame changes of the input",
            (child,),
            child.size,
        )

    def opaque(
        self,
        node: TypedNode,
        kids: list,
        template: str | None = None,
        note: str = "not simplified",
        size: int | None = None,
    ) -> Opaque:
        """Return a value the description does not simplify, as a phrase.

        Parameters
        ----------
        node : TypedNode
            The node.
        kids : list of Expression
            The values the phrase names.
        template : str, optional
            The phrase, with ``{0}``, ``{1}``, ... for the arguments; default
            ``name({0}, ...)``.
        note : str, default="not simplified"
            Why it is not simplified, or what it means.
        size : int, optional
            Number of outputs; default the node's.

        Returns
        -------
        Opaque
            The phrase.
        """
        if template is None:
            slots = ", ".join(f"{{{i}}}" for i in range(len(kids)))
            template = f"{node.production.name}({slots})" if kids else "{name}"
            template = template.replace("{name}", node.production.name)
        return Opaque(
            node.path,
            node.production.name,
            template,
            tuple(kids),
            node.hole.output.size if size is None else size,
            note,
        )
