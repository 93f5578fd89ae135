"""A leaf that returns a learned constant vector."""

from __future__ import annotations

import torch
from torch import nn

from sklearn_dpads.export._safety import float_literal
from sklearn_dpads.grammar.kind import Kind
from sklearn_dpads.grammar.production import Production
from sklearn_dpads.semantics.compile import LeafParameters, floats
from sklearn_dpads.semantics.modules import (
    ProductionModule,
    forward_doc,
    production_module_docs,
)

__all__ = ["CONSTANT", "ConstantModule", "constant_production"]


@production_module_docs(returns="A copy of the constant for every row of ``x``.")
class ConstantModule(ProductionModule):
    """A learned constant vector, broadcast to the input's leading dimensions."""

    def __init__(self, production, hole, child_types):
        super().__init__(production, hole, child_types)
        self.value = nn.Parameter(torch.rand(hole.output.size) * 0.1)

    @forward_doc(
        "Return the constant for every row of ``x``.",
        "``x.shape[:-1] + (k,)``, a copy of the constant in every row.",
    )
    def forward(self, x, mask, ctx=None):
        shape = x.shape[:-1] + (self.value.shape[0],)
        return self.value.expand(shape).clone()


class ConstantKind(Kind):
    """``atom[d] -> atom[k]``: a learned vector, whatever the input."""

    name = "constant"
    arity = 0
    role = "leaf"
    constant_leaf = True
    constant = "CONSTANT"

    def child_types(self, production, hole, n_features):
        if hole.output.is_seq or hole.input.is_seq:
            return None
        return ()

    def display(self, production, args):
        return "const"

    def label(self, production):
        return "const"

    def module(self, production, hole, child_types, n_features):
        return ConstantModule(production, hole, child_types)

    def read(self, module):
        return LeafParameters(self.name, value=tuple(floats(module.value)))

    def affine_map(self, module):
        return None, None, module.value

    def absorb(self, module, other, algebra):
        # only two constants fold into a constant (fold_pair keeps the other leaf)
        c = other.value
        module.value.copy_(module.value + c if algebra == "sum" else module.value * c)

    def python(self, gen, node, kids):
        return ["return [" + ", ".join(map(float_literal, gen.leaf(node).value)) + "]"]

    def sympy(self, builder, node, inputs):
        return [builder.sympy.Float(v) for v in builder.leaf(node).value]

    def describe(self, describer, node, kids):
        return describer.constant(describer.parameters(node).value)

    def explain(self, explainer, node, module, x, mask):
        return [explainer.bias_part(node, module(x, mask, None))]


CONSTANT = ConstantKind()


def constant_production(name: str = "const") -> Production:
    """Build a leaf that returns a learned constant vector.

    Parameters
    ----------
    name : str, default="const"
        Production name.

    Returns
    -------
    Production
        A leaf production of kind ``constant``.
    """
    return Production(name, CONSTANT, 0, {}, 1.0, "learned constant")
