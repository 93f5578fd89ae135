"""``f(x) * g(x)``: the element-wise product of two atom functions."""

from __future__ import annotations

from sklearn_dpads.grammar.production import Production
from sklearn_dpads.kinds._common import BinaryKind
from sklearn_dpads.semantics.modules import ProductionModule, production_module_docs

__all__ = ["MULTIPLY", "MultiplyModule", "multiply_production"]


@production_module_docs(
    returns="The element-wise product of the two arguments' outputs."
)
class MultiplyModule(ProductionModule):
    """``f(x) * g(x)`` element-wise."""

    def forward(self, x, mask, ctx=None):
        return self.args[0](x, mask, ctx) * self.args[1](x, mask, ctx)


class MultiplyKind(BinaryKind):
    """The element-wise product of two functions of the hole's type (atom to atom)."""

    name = "multiply"
    operator = "*"
    algebra = "product"
    plan_rank = 1
    constant = "MULTIPLY"

    def apply(self, a, b):
        return a * b

    def module(self, production, hole, child_types, n_features):
        return MultiplyModule(production, hole, child_types)

    def describe(self, describer, node, kids):
        return describer.multiply(node, *kids)

    def explain(self, explainer, node, module, x, mask):
        # a constant times a sum is a sum; a product of two varying values is
        # one part
        for i in (0, 1):
            if module.args[i].production.kind.constant_leaf:
                factor = explainer.value(node.children[i], x, mask)
                other = explainer.parts(node.children[1 - i], x, mask)
                return [p.scaled(factor) for p in other]
        return explainer.whole(node, x, mask)


MULTIPLY = MultiplyKind()


def multiply_production(name: str = "multiply") -> Production:
    """Build the element-wise product ``f(x) * g(x)`` of two atom functions.

    Parameters
    ----------
    name : str, default="multiply"
        Production name.

    Returns
    -------
    Production
        A production of kind ``multiply`` with two slots.
    """
    return Production(name, MULTIPLY, 2, {}, 1.0, "product")
