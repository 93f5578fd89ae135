"""``map_prefixes f xs``: apply a sequence function to every prefix."""

from __future__ import annotations

from sklearn_dpads.grammar.kind import Kind
from sklearn_dpads.grammar.production import Production
from sklearn_dpads.grammar.types import Atom, FunctionType
from sklearn_dpads.kinds._common import plain_parameters
from sklearn_dpads.semantics.modules import ProductionModule, production_module_docs

__all__ = ["MAP_PREFIXES", "MapPrefixesModule", "map_prefixes_production"]


@production_module_docs(returns="``(B, T, k)``: ``f`` of every prefix ``x[:, :t+1]``.")
class MapPrefixesModule(ProductionModule):
    """``map_prefixes f xs``: apply the sequence function ``f`` to every prefix."""

    def forward(self, x, mask, ctx=None):
        # a function of a sequence already returns its value on every prefix
        return self.args[0](x, mask, ctx)


class MapPrefixesKind(Kind):
    """``list[d] -> list[k]`` from a ``list[d] -> atom[k]`` function of each prefix."""

    name = "map_prefixes"
    arity = 1
    role = "sequence"
    constant = "MAP_PREFIXES"

    def child_types(self, production, hole, n_features):
        i, o = hole.input, hole.output
        if i.is_seq and o.is_seq:
            return (FunctionType(i, Atom(o.size)),)
        return None

    def module(self, production, hole, child_types, n_features):
        return MapPrefixesModule(production, hole, child_types)

    def read(self, module):
        return plain_parameters(self)

    def python(self, gen, node, kids):
        return [
            "# the child's per-step outputs are its values on every prefix",
            f"return {kids[0]}(xs)",
        ]

    def python_step(self, gen, node, kids, steps):
        return [f"return {steps[0]}(st, x)"]

    def sympy(self, builder, node, inputs):
        wrap = builder.wrap(node.production)
        return [wrap(b) for b in builder.build(node.children[0], builder.features)]

    def describe(self, describer, node, kids):
        return kids[0]  # the child's value on the prefix ending at every frame

    def explain(self, explainer, node, module, x, mask):
        return explainer.parts(node.children[0], x, mask)


MAP_PREFIXES = MapPrefixesKind()


def map_prefixes_production(name: str = "map_prefixes") -> Production:
    """Build ``map_prefixes f xs``: apply a sequence function to every prefix.

    The output at frame ``t`` only reads frames up to ``t`` (causal).

    Parameters
    ----------
    name : str, default="map_prefixes"
        Production name.

    Returns
    -------
    Production
        A production of kind ``map_prefixes`` with one slot.
    """
    return Production(name, MAP_PREFIXES, 1, {}, 1.0, "apply f to every prefix")
