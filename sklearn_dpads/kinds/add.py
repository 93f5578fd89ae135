"""``f(x) + g(x)``: the sum of two atom functions."""

from __future__ import annotations

from sklearn_dpads.grammar.production import Production
from sklearn_dpads.kinds._common import BinaryKind
from sklearn_dpads.semantics.modules import ProductionModule, production_module_docs

__all__ = ["ADD", "AddModule", "add_production"]


@production_module_docs(returns="The sum of the two arguments' outputs.")
class AddModule(ProductionModule):
    """``f(x) + g(x)``."""

    def forward(self, x, mask, ctx=None):
        return self.args[0](x, mask, ctx) + self.args[1](x, mask, ctx)


class AddKind(BinaryKind):
    """The sum of two functions of the hole's type (atom to atom)."""

    name = "add"
    operator = "+"
    algebra = "sum"
    plan_rank = 0
    constant = "ADD"

    def apply(self, a, b):
        return a + b

    def module(self, production, hole, child_types, n_features):
        return AddModule(production, hole, child_types)

    def describe(self, describer, node, kids):
        return describer.add(node, *kids)

    def explain(self, explainer, node, module, x, mask):
        return [p for c in node.children for p in explainer.parts(c, x, mask)]


ADD = AddKind()


def add_production(name: str = "add") -> Production:
    """Build the sum ``f(x) + g(x)`` of two atom functions.

    Parameters
    ----------
    name : str, default="add"
        Production name.

    Returns
    -------
    Production
        A production of kind ``add`` with two slots.
    """
    return Production(name, ADD, 2, {}, 1.0, "sum")
