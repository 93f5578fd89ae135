"""``map f xs``: apply an atom function to every frame."""

from __future__ import annotations

from sklearn_dpads.grammar.kind import Kind
from sklearn_dpads.grammar.production import Production
from sklearn_dpads.grammar.types import Atom, FunctionType
from sklearn_dpads.kinds._common import plain_parameters
from sklearn_dpads.semantics.modules import ProductionModule, production_module_docs
from sklearn_dpads.semantics.ops import frames

__all__ = ["MAP", "MapModule", "map_production"]


@production_module_docs(returns="``(B, T, k)``: ``f`` of every frame.")
class MapModule(ProductionModule):
    """``map f xs``: apply the atom function ``f`` to every frame."""

    def forward(self, x, mask, ctx=None):
        B, T, _ = x.shape
        return self.args[0](frames(x, ctx), None, ctx).reshape(B, T, -1)


class MapKind(Kind):
    """``list[d] -> list[k]`` from an ``atom[d] -> atom[k]`` function of each frame."""

    name = "map"
    arity = 1
    role = "sequence"
    constant = "MAP"

    def child_types(self, production, hole, n_features):
        i, o = hole.input, hole.output
        if i.is_seq and o.is_seq:
            return (FunctionType(Atom(i.size), Atom(o.size)),)
        return None

    def module(self, production, hole, child_types, n_features):
        return MapModule(production, hole, child_types)

    def read(self, module):
        return plain_parameters(self)

    def python(self, gen, node, kids):
        return [f"return [{kids[0]}(x) for x in xs]"]

    def python_step(self, gen, node, kids, steps):
        return [f"return {kids[0]}(x)"]

    def sympy(self, builder, node, inputs):
        wrap = builder.wrap(node.production)
        return [wrap(b) for b in builder.build(node.children[0], builder.features)]

    def describe(self, describer, node, kids):
        return kids[0]  # the child's value, at every frame

    def explain(self, explainer, node, module, x, mask):
        B, T, _ = x.shape
        rows = explainer.parts(node.children[0], frames(x, None), None)
        return [p.mapped(lambda v: v.reshape(B, T, -1)) for p in rows]


MAP = MapKind()


def map_production(name: str = "map") -> Production:
    """Build ``map f xs``: apply an atom function to every frame.

    Parameters
    ----------
    name : str, default="map"
        Production name.

    Returns
    -------
    Production
        A production of kind ``map`` with one slot.
    """
    return Production(name, MAP, 1, {}, 1.0, "apply f to every frame")
