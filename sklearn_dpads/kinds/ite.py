"""Soft if-then-else: ``s(beta*c(x)) * f(x) + (1 - s(beta*c(x))) * g(x)``."""

from __future__ import annotations

import math

import torch

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.export._safety import float_literal
from sklearn_dpads.grammar.kind import Kind
from sklearn_dpads.grammar.production import Production
from sklearn_dpads.grammar.types import Atom, FunctionType
from sklearn_dpads.semantics.compile import LeafParameters
from sklearn_dpads.semantics.modules import ProductionModule, production_module_docs

__all__ = ["ITE", "IteModule", "ite_production"]


def _beta(production: Production) -> float:
    return float(production.params.get("beta", 1.0))


@production_module_docs(
    returns="The blend of the two branches, shaped like their outputs."
)
class IteModule(ProductionModule):
    """Soft if-then-else: ``s(beta*c(x)) * f(x) + (1 - s(beta*c(x))) * g(x)``."""

    def forward(self, x, mask, ctx=None):
        g = torch.sigmoid(_beta(self.production) * self.args[0](x, mask, ctx))
        # g * f + (1 - g) * h in one operation
        return torch.lerp(self.args[2](x, mask, ctx), self.args[1](x, mask, ctx), g)


class IteKind(Kind):
    """A blend of two branches of the hole's type by a one-output condition.

    The same at every level: the condition and branches are functions of the
    hole's input (frames, prefixes or atoms), and the blend is taken per
    output and per step. The standard-library exports write it three ways
    (atom input, sequence input, one frame of a stream) from one formula,
    :meth:`_blend`.
    """

    name = "ite"
    arity = 3
    role = "combine"
    plan_rank = 2
    branching = True
    constant = "ITE"

    def check(self, production):
        beta = production.params.get("beta", 1.0)
        if not isinstance(beta, int | float) or not math.isfinite(beta) or beta <= 0:
            raise GrammarError(
                f"ite temperature beta must be a positive number, got {beta!r}."
            )

    def child_types(self, production, hole, n_features):
        return (FunctionType(hole.input, Atom(1)), hole, hole)

    def module(self, production, hole, child_types, n_features):
        return IteModule(production, hole, child_types)

    def read(self, module):
        return LeafParameters(self.name, beta=_beta(module.production))

    @staticmethod
    def _blend(gen, node, c: str, f: str, g: str) -> list[str]:
        """Lines computing the blend ``s * f + (1 - s) * g`` of one step."""
        beta = float_literal(gen.leaf(node).beta)
        return [
            f"s = {gen.core('_dp_sigmoid')}({beta} * {c}[0])",
            f"return [s * u + (1.0 - s) * v for u, v in zip({f}, {g})]",
        ]

    def python(self, gen, node, kids):
        if not node.hole.input.is_seq:
            return [
                f"c = {kids[0]}(x)",
                f"f = {kids[1]}(x)",
                f"g = {kids[2]}(x)",
                *self._blend(gen, node, "c", "f", "g"),
            ]
        # every step of a sequence input: the one-step blend, frame by frame
        s, ret = self._blend(gen, node, "ct", "ft", "gt")
        return [
            f"c = {kids[0]}(xs)",
            f"f = {kids[1]}(xs)",
            f"g = {kids[2]}(xs)",
            "out = []",
            "for ct, ft, gt in zip(c, f, g):",
            f"    {s}",
            "    out.append(" + ret.removeprefix("return ") + ")",
            "return out",
        ]

    def python_step(self, gen, node, kids, steps):
        return [
            "# every branch steps, so that each keeps its state",
            f"c = {steps[0]}(st, x)",
            f"f = {steps[1]}(st, x)",
            f"g = {steps[2]}(st, x)",
            *self._blend(gen, node, "c", "f", "g"),
        ]

    def sympy(self, builder, node, inputs):
        c, f, g = (builder.build(a, inputs) for a in node.children)
        s = builder.sigmoid(builder.number(builder.leaf(node).beta) * c[0])
        return [s * u + (1 - s) * v for u, v in zip(f, g)]

    def plan_parameter(self, module):
        return _beta(module.production)

    def plan_combine(self, args, parameter):
        # else + s * (then - else)
        g = torch.sigmoid(args[0] if parameter is None else parameter * args[0])
        return torch.lerp(args[2], args[1], g)

    def describe(self, describer, node, kids):
        return describer.blend(node, _beta(node.production), *kids)

    def explain(self, explainer, node, module, x, mask):
        # s * f + (1 - s) * g: the parts of f times s, those of g times 1 - s
        c, f, g = node.children
        s = torch.sigmoid(_beta(node.production) * explainer.value(c, x, mask))
        then = [p.gated(s, node.path, "then") for p in explainer.parts(f, x, mask)]
        other = [p.gated(1 - s, node.path, "else") for p in explainer.parts(g, x, mask)]
        return then + other


ITE = IteKind()


def ite_production(name: str = "ite", beta: float = 1.0) -> Production:
    """Build a soft if-then-else: ``s(beta*c(x)) * f(x) + (1 - s(beta*c(x))) * g(x)``.

    Parameters
    ----------
    name : str, default="ite"
        Production name.
    beta : float, default=1.0
        Positive temperature of the sigmoid ``s`` of the condition ``c``.

    Returns
    -------
    Production
        A production of kind ``ite`` with three slots (condition, then, else).

    Raises
    ------
    GrammarError
        If ``beta`` is not a positive number.
    """
    if not isinstance(beta, int | float) or not math.isfinite(beta) or beta <= 0:
        raise GrammarError(
            f"ite temperature beta must be a positive number, got {beta!r}."
        )
    return Production(name, ITE, 3, {"beta": float(beta)}, 1.0, "soft if-then-else")
