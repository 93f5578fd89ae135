"""``diff f xs``: ``f`` applied to the frame differences of ``xs``."""

from __future__ import annotations

from sklearn_dpads.grammar.kind import Kind
from sklearn_dpads.grammar.production import Production
from sklearn_dpads.kinds._common import plain_parameters
from sklearn_dpads.semantics.modules import ProductionModule, production_module_docs
from sklearn_dpads.semantics.ops import carried, frame_differences

__all__ = ["DIFFERENCE", "DifferenceModule", "difference_production"]


@production_module_docs(
    returns="``f`` of the differenced sequence, shaped like its output."
)
class DifferenceModule(ProductionModule):
    """``diff f xs``: ``f`` of ``xs'`` with ``xs'_0 = 0``, ``xs'_t = x_t - x_{t-1}``.

    Padding frames of ``xs'`` are zero and stay padding (the mask is passed on
    unchanged). In a chunked evaluation the last frame is carried over.
    """

    def forward(self, x, mask, ctx=None):
        carry = carried(ctx)
        if carry is None:
            return self.args[0](frame_differences(x, mask, ctx), mask, ctx)
        d = frame_differences(x, mask, ctx, carry.get(self))
        if x.shape[1]:
            carry[self] = x[:, -1].clone()
        return self.args[0](d, mask, ctx)


class DifferenceKind(Kind):
    """Any function of a sequence, read on the frame differences."""

    name = "difference"
    arity = 1
    role = "sequence"
    constant = "DIFFERENCE"

    def child_types(self, production, hole, n_features):
        # the child reads the differenced sequence: same type as the hole
        return (hole,) if hole.input.is_seq else None

    def module(self, production, hole, child_types, n_features):
        return DifferenceModule(production, hole, child_types)

    def read(self, module):
        return plain_parameters(self)

    def python(self, gen, node, kids):
        diffs = gen.helper("_dp_differences")
        return [
            "# the child on the frame differences x[t] - x[t-1] (zero at t = 0)",
            f"return {kids[0]}({diffs}(xs))",
        ]

    def python_step(self, gen, node, kids, steps):
        push = gen.helper("_dp_difference_push")
        return [
            "# the child on this frame minus the previous one (zero at first)",
            f"return {steps[0]}(st, {push}(st, {gen.state_key(node)}, x))",
        ]

    def sympy(self, builder, node, inputs):
        wrap = builder.wrap(node.production)
        return [wrap(b) for b in builder.build(node.children[0], builder.features)]

    def describe(self, describer, node, kids):
        op = describer.operator(node, "change")
        describer.record(node, op)
        return describer.reading(node, kids[0], op)

    def explain(self, explainer, node, module, x, mask):
        op = explainer.operator(node, "change")
        d = frame_differences(x, mask, None)
        # the child's parts read the differences: the operator comes first
        return [
            p.mapped(lambda v: v, op, first=True)
            for p in explainer.parts(node.children[0], d, mask)
        ]


DIFFERENCE = DifferenceKind()


def difference_production(name: str = "diff") -> Production:
    """Build ``diff f xs``: ``f`` applied to the frame differences of ``xs``.

    ``diff(f)(xs) = f(xs')`` with ``xs'_0 = 0`` and ``xs'_t = x_t - x_{t-1}``
    for ``t >= 1`` (per sequence; padding frames stay padding). The slot has
    the type of the hole, which may be any function of a sequence
    (``list[d] -> atom[k]`` or ``list[d] -> list[k]``), so
    ``last10_avg(multiply(a, a))`` under ``diff`` is a movement energy.

    Parameters
    ----------
    name : str, default="diff"
        Production name.

    Returns
    -------
    Production
        A production of kind ``difference`` with one slot.
    """
    return Production(name, DIFFERENCE, 1, {}, 1.0, "f of the frame differences")
