"""An affine leaf ``W x[indices] + b`` over a feature group."""

from __future__ import annotations

import torch
from torch import nn

from sklearn_dpads.export._emit import linear_terms, wrap_terms
from sklearn_dpads.export._safety import comment_text, float_literal
from sklearn_dpads.grammar.kind import Kind
from sklearn_dpads.grammar.production import Production, check_feature_indices
from sklearn_dpads.kinds._common import selected_inputs, selection_text
from sklearn_dpads.semantics.compile import LeafParameters, floats
from sklearn_dpads.semantics.modules import ProductionModule, forward_doc

__all__ = ["AFFINE", "AffineModule", "affine_production"]

#: Affine maps over more inputs are written as module-level tuples and a loop.
MAX_INLINE_TERMS = 64


class AffineModule(ProductionModule):
    """``W [x[indices]; x[n_features:]] + b`` (the tail exists only inside folds).

    Parameters
    ----------
    production : Production
        An affine leaf production.
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
        d = hole.input.size
        sel = selected_inputs(production.params.get("indices"), n_features, d)
        self.register_buffer(
            "index", torch.tensor(sel, dtype=torch.long), persistent=False
        )
        self.full = sel == list(range(d))
        self.linear = nn.Linear(len(sel), hole.output.size)

    @forward_doc(
        "Apply the affine function to ``x``.", "``(N, k)``: ``W x[selected] + b``."
    )
    def forward(self, x, mask, ctx=None):
        if not self.full:
            x = x.index_select(-1, self.index)
        return self.linear(x)


class AffineKind(Kind):
    """``atom[d] -> atom[k]`` leaves: an affine function of the selected inputs.

    Inside a fold the input also holds the accumulator (entries past
    ``n_features``), which every affine leaf reads.
    """

    name = "affine"
    arity = 0
    role = "leaf"
    affine_leaf = True
    constant = "AFFINE"

    def check(self, production):
        check_feature_indices(production.name, production.params.get("indices"))

    def child_types(self, production, hole, n_features):
        i, o = hole.input, hole.output
        if i.is_seq or o.is_seq or i.size < n_features:
            return None
        return ()

    def display(self, production, args):
        group = production.params.get("group")
        return f"affine[{group}](x)" if group else "affine(x)"

    def label(self, production):
        group = production.params.get("group")
        return f"affine[{group}]" if group else "affine[all]"

    def module(self, production, hole, child_types, n_features):
        return AffineModule(production, hole, child_types, n_features)

    def read(self, module):
        rows = floats(module.linear.weight)
        bias = module.linear.bias
        return LeafParameters(
            self.name,
            weight=tuple(tuple(r) for r in rows),
            bias=(0.0,) * len(rows) if bias is None else tuple(floats(bias)),
            indices=tuple(int(i) for i in module.index.tolist()),
        )

    def affine_map(self, module):
        return module.index, module.linear.weight, module.linear.bias

    def absorb(self, module, other, algebra):
        index, weight, bias = other.production.kind.affine_map(other)
        if index is None:  # a constant: moves the bias, or scales the map
            if algebra == "sum":
                module.linear.bias.add_(bias)
            else:
                module.linear.weight.mul_(bias[:, None])
                module.linear.bias.mul_(bias)
            return
        # an affine leaf over a subset of this leaf's inputs: the weights add up
        pos = {int(i): j for j, i in enumerate(module.index.tolist())}
        cols = torch.tensor([pos[int(i)] for i in index.tolist()])
        own = module.linear.weight
        own.index_add_(1, cols.to(own.device), weight)
        module.linear.bias.add_(bias)

    def python(self, gen, node, kids):
        leaf = gen.leaf(node)
        rows, b, sel = leaf.weight, leaf.bias, leaf.indices
        d, k = node.hole.input.size, node.hole.output.size
        if len(rows) != k or any(len(row) != len(sel) for row in rows):
            raise ValueError(
                f"Affine node {node.path} has a {len(rows)}-row weight matrix for "
                f"{len(sel)} inputs, expected {k} rows."
            )
        group = node.production.params.get("group")
        idx = node.production.params.get("indices")
        desc = "all inputs" if idx is None else f"features {list(idx)}"
        if d > gen.n_features and idx is not None:
            desc += f" and accumulator inputs {list(range(gen.n_features, d))}"
        lines = [f"# affine map of {desc}"]
        if group is not None:
            lines.append(f"# feature group: {comment_text(group)}")
        if len(sel) <= MAX_INLINE_TERMS:
            lines.append("return [")
            for row, bias in zip(rows, b):
                terms = linear_terms(row, sel, bias)
                lines.extend("    " + t for t in wrap_terms(terms, 8, 88))
            return lines + ["]"]
        name = gen.fname(node.path)
        gen.add_block(
            f"{name}_I = ({', '.join(str(i) for i in sel)},)\n{name}_W = (\n"
            + "".join(f"    ({', '.join(map(float_literal, r))},),\n" for r in rows)
            + f")\n{name}_B = ({', '.join(map(float_literal, b))},)\n"
        )
        lines.append(
            f"return [sum([w * x[i] for w, i in zip(row, {name}_I)]) + c "
            f"for row, c in zip({name}_W, {name}_B)]"
        )
        return lines

    def sympy(self, builder, node, inputs):
        sp = builder.sympy
        leaf = builder.leaf(node)
        out = []
        for row, bias in zip(leaf.weight, leaf.bias):
            terms = [sp.Float(w) * inputs[i] for w, i in zip(row, leaf.indices)]
            out.append(sp.Add(*terms, sp.Float(bias)))
        return out

    def export_summary(self, production):
        return "Affine leaves", selection_text(production)

    def describe(self, describer, node, kids):
        leaf = describer.parameters(node)
        return describer.affine(leaf.indices, leaf.weight, leaf.bias)

    def explain(self, explainer, node, module, x, mask):
        # W x + b is one part per input column and one for the bias
        xs = x if module.full else x.index_select(-1, module.index)
        w, b = module.linear.weight, module.linear.bias
        parts = [
            explainer.input_part(
                node, i, xs[..., c : c + 1] * w[:, c], xs[..., c : c + 1]
            )
            for c, i in enumerate(module.index.tolist())
        ]
        if b is not None:
            parts.append(explainer.bias_part(node, b.expand(x.shape[:-1] + b.shape)))
        return parts


AFFINE = AffineKind()


def affine_production(
    name: str, indices: list[int] | tuple[int, ...] | None, group: str | None = None
) -> Production:
    """Build an affine leaf ``W x[indices] + b``.

    Parameters
    ----------
    name : str
        Production name.
    indices : list of int, tuple of int or None
        Distinct, non-negative feature indices the leaf reads; None reads all
        features.
    group : str, optional
        Name of the feature group, shown as ``affine[group](x)``.

    Returns
    -------
    Production
        A leaf production of kind ``affine``.

    Raises
    ------
    GrammarError
        If ``indices`` are malformed.
    """
    indices = check_feature_indices(name, indices)
    return Production(
        name,
        AFFINE,
        0,
        {"indices": indices, "group": group},
        1.0,
        "affine function of " + (f"group {group!r}" if group else "all features"),
    )
