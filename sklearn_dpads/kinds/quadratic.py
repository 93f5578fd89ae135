"""A quadratic leaf over a feature group: affine terms plus squares and products.

``quadratic[velocity](x)`` is ``b + sum_i w_i x_i + sum_{i <= j} q_ij x_i x_j``
over the group's features. With it a threshold on a magnitude (a speed
``sqrt(vx**2 + vy**2)``, a distance from a point, an energy) is one leaf: an
affine leaf cannot say it, and a product of two affine leaves only says a
rank-one square ``(w . x + c)**2``.
"""

from __future__ import annotations

import torch
from torch import nn

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.export._emit import linear_terms, wrap_terms
from sklearn_dpads.export._safety import comment_text, float_literal
from sklearn_dpads.grammar.kind import Kind
from sklearn_dpads.grammar.production import Production, check_feature_indices
from sklearn_dpads.kinds._common import (
    check_selected_features,
    selected_inputs,
    selection_text,
)
from sklearn_dpads.semantics.compile import LeafParameters, floats
from sklearn_dpads.semantics.modules import ProductionModule, forward_doc

__all__ = ["QUADRATIC", "QuadraticModule", "quadratic_pairs", "quadratic_production"]


def quadratic_pairs(indices) -> tuple[tuple[int, int], ...]:
    """The feature pairs ``(i, j)`` of a quadratic leaf's squares and products.

    Parameters
    ----------
    indices : sequence of int
        The group's features, in order.

    Returns
    -------
    tuple of (int, int)
        ``(indices[a], indices[b])`` for ``a <= b``, row by row: the squares
        and the products of distinct features, each once.
    """
    idx = [int(i) for i in indices]
    return tuple((i, j) for a, i in enumerate(idx) for j in idx[a:])


class QuadraticModule(ProductionModule):
    """``W [x[sel]; x_i x_j for the group's pairs] + b``.

    ``sel`` is the group's features and, inside a fold, the accumulator
    entries (read linearly, as an affine leaf reads them).

    Parameters
    ----------
    production : Production
        A quadratic leaf production.
    hole : FunctionType
        The hole the leaf fills (atom to atom).
    child_types : tuple of FunctionType
        Empty: a leaf has no argument slots.
    n_features : int
        Number of input features of the program; input entries past it are the
        accumulator of an enclosing fold.
    """

    def __init__(self, production, hole, child_types, n_features: int):
        super().__init__(production, hole, child_types)
        idx = production.params["indices"]
        sel = selected_inputs(idx, n_features, hole.input.size)
        pairs = quadratic_pairs(idx)
        self.register_buffer(
            "index", torch.tensor(sel, dtype=torch.long), persistent=False
        )
        for name, col in (("left", 0), ("right", 1)):
            self.register_buffer(
                name,
                torch.tensor([p[col] for p in pairs], dtype=torch.long),
                persistent=False,
            )
        self.linear = nn.Linear(len(sel) + len(pairs), hole.output.size)

    @forward_doc(
        "Apply the quadratic function to ``x``.",
        "``(N, k)``: the affine terms plus the weighted squares and products.",
    )
    def forward(self, x, mask, ctx=None):
        lin = x.index_select(-1, self.index)
        quad = x.index_select(-1, self.left) * x.index_select(-1, self.right)
        return self.linear(torch.cat([lin, quad], dim=-1))


class QuadraticKind(Kind):
    """``atom[d] -> atom[k]`` leaves: a quadratic function of a feature group.

    :meth:`read` gives one weight row per output: first the weights of the
    ``indices`` (the group's features, then any fold accumulator entries),
    then those of :func:`quadratic_pairs` of the group. The differentiable
    search's atom plans compute it in their bank with the affine leaves
    (:meth:`bank_columns`); the local search swaps it in for the affine leaf
    of its group only (:attr:`narrow_swaps`) and grows branches on it.
    """

    name = "quadratic"
    arity = 0
    role = "leaf"
    feature_leaf = True
    # in a swap it replaces only the affine leaf of its own group: swapped in
    # for every leaf it made the local search a quarter slower (CRIM13-like)
    narrow_swaps = True
    constant = "QUADRATIC"

    def check(self, production):
        idx = check_feature_indices(production.name, production.params.get("indices"))
        if idx is None:
            raise GrammarError(
                f"Quadratic leaf {production.name!r} needs params['indices'], the "
                "features of one group (not None); build it with "
                "quadratic_production."
            )

    def child_types(self, production, hole, n_features):
        i, o = hole.input, hole.output
        check_selected_features(production, n_features)
        if i.is_seq or o.is_seq or i.size < n_features:
            return None
        return ()

    def display(self, production, args):
        group = production.params.get("group")
        return f"quadratic[{group}](x)" if group else f"{production.name}(x)"

    def label(self, production):
        group = production.params.get("group")
        return f"quadratic[{group or production.name}]"

    def module(self, production, hole, child_types, n_features):
        return QuadraticModule(production, hole, child_types, n_features)

    def bank_columns(self, module):
        # the weight's columns: the selected inputs, then the pairs' products
        pairs = quadratic_pairs(module.production.params["indices"])
        return [(int(i),) for i in module.index.tolist()] + list(pairs)

    def bank_weights(self, module):
        return module.linear.weight, module.linear.bias

    def read(self, module):
        return LeafParameters(
            self.name,
            weight=tuple(tuple(r) for r in floats(module.linear.weight)),
            bias=tuple(floats(module.linear.bias)),
            indices=tuple(int(i) for i in module.index.tolist()),
        )

    def weight_inputs(self, production, leaf):
        pairs = quadratic_pairs(production.params["indices"])
        return [(int(i),) for i in leaf.indices] + [tuple(p) for p in pairs]

    def _checked(self, node, leaf):
        pairs = quadratic_pairs(node.production.params["indices"])
        n_lin, k = len(leaf.indices), node.hole.output.size
        width = n_lin + len(pairs)
        if len(leaf.weight) != k or any(len(r) != width for r in leaf.weight):
            raise ValueError(
                f"Quadratic node {node.path} has weights of the wrong shape for "
                f"{k} outputs, {n_lin} inputs and {len(pairs)} pairs."
            )
        return pairs, n_lin

    def python(self, gen, node, kids):
        leaf = gen.leaf(node)
        pairs, n_lin = self._checked(node, leaf)
        idx = list(node.production.params["indices"])
        group = node.production.params.get("group")
        lines = [f"# quadratic function of features {idx}: affine terms, squares, "]
        lines.append("# and products of pairs")
        if group is not None:
            lines.append(f"# feature group: {comment_text(group)}")
        lines.append("return [")
        for row, bias in zip(leaf.weight, leaf.bias):
            terms = linear_terms(row[:n_lin], leaf.indices, bias)
            for w, (i, j) in zip(row[n_lin:], pairs):
                neg = w < 0
                lit = float_literal(-w if neg else w)
                terms.append(f"{'-' if neg else '+'} {lit} * x[{i}] * x[{j}]")
            lines.extend("    " + t for t in wrap_terms(terms, 8, 88))
        return lines + ["]"]

    def sympy(self, builder, node, inputs):
        sp = builder.sympy
        leaf = builder.leaf(node)
        pairs, n_lin = self._checked(node, leaf)
        out = []
        for row, bias in zip(leaf.weight, leaf.bias):
            terms = [sp.Float(w) * inputs[i] for w, i in zip(row, leaf.indices)]
            terms += [
                sp.Float(w) * inputs[i] * inputs[j]
                for w, (i, j) in zip(row[n_lin:], pairs)
            ]
            out.append(sp.Add(*terms, sp.Float(bias)))
        return out

    def export_summary(self, production):
        return "Quadratic leaves", selection_text(production)

    def describe(self, describer, node, kids):
        leaf = describer.parameters(node)
        n_lin = len(leaf.indices)
        linear = describer.affine(
            leaf.indices, tuple(r[:n_lin] for r in leaf.weight), leaf.bias
        )
        group = node.production.params.get("group") or node.production.name
        return describer.opaque(
            node,
            [linear],
            "{0} plus squares and products of the " + f"{group} features",
            note="a quadratic function of one feature group (a magnitude such "
            "as a speed or a distance from a point), not simplified",
        )

    def explain(self, explainer, node, module, x, mask):
        # squares and products of inputs do not split into one part per input
        return explainer.whole(node, x, mask)


QUADRATIC = QuadraticKind()


def quadratic_production(
    name: str, indices: list[int] | tuple[int, ...], group: str | None = None
) -> Production:
    """Build a quadratic leaf over a feature group.

    The leaf computes ``b + sum_i w_i x_i + sum_{i <= j} q_ij x_i x_j`` over
    the group's features (inside a fold it also reads the accumulator, as an
    affine leaf does, linearly): a threshold on it is a threshold on a
    magnitude, such as a speed ``vx**2 + vy**2 < c``.

    Parameters
    ----------
    name : str
        Production name.
    indices : list of int or tuple of int
        Distinct, non-negative feature indices of the group.
    group : str, optional
        Name of the feature group, shown as ``quadratic[group](x)``.

    Returns
    -------
    Production
        A leaf production of kind ``quadratic``.

    Raises
    ------
    GrammarError
        If ``indices`` is None or malformed.
    """
    idx = check_feature_indices(name, indices)
    return Production(
        name,
        QUADRATIC,
        0,
        {"indices": idx, "group": group},
        1.0,
        "quadratic function of " + (f"group {group!r}" if group else f"{idx}"),
    )
