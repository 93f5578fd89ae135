"""Sliding-window averages: the mean of ``f`` over the last frames."""

from __future__ import annotations

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.grammar.production import Production
from sklearn_dpads.kinds._common import FrameWindow
from sklearn_dpads.semantics.compile import LeafParameters
from sklearn_dpads.semantics.modules import ProductionModule, production_module_docs
from sklearn_dpads.semantics.ops import carried, frames, window_mean_chunk

__all__ = ["WINDOW", "WindowModule", "window_production"]


@production_module_docs(returns="``(B, T, k)``: the value at the end of every prefix.")
class WindowModule(ProductionModule):
    """Sliding-window average: the mean of ``f`` over the last ``left + 1`` real frames.

    ``f`` runs on every frame and its outputs are averaged (as in dPads and
    NEAR), so a nonlinear ``f`` keeps its meaning: ``last10_avg(multiply(a, a))``
    is the mean energy over the window, not the energy of the mean. In a
    chunked evaluation the last ``left`` outputs of ``f`` are carried over.
    """

    def forward(self, x, mask, ctx=None):
        B, T, _ = x.shape
        y = self.args[0](frames(x, ctx), None, ctx).reshape(B, T, -1)
        left = int(self.production.params["left"])
        carry = carried(ctx)
        if carry is None:
            return window_mean_chunk(y, mask, left)[0]
        means, carry[self] = window_mean_chunk(y, mask, left, carry.get(self))
        return means


class WindowKind(FrameWindow):
    """``list[d] -> atom[k]`` from an ``atom[d] -> atom[k]`` function of each frame."""

    name = "window"
    constant = "WINDOW"

    def check(self, production):
        left = production.params.get("left")
        if not isinstance(left, int) or isinstance(left, bool) or left < 0:
            raise GrammarError(
                f"Window {production.name!r} needs params['left'], an int >= 0, got "
                f"{left!r}; build windows with window_production."
            )

    def module(self, production, hole, child_types, n_features):
        return WindowModule(production, hole, child_types)

    def read(self, module):
        return LeafParameters(self.name, left=int(module.production.params["left"]))

    def python(self, gen, node, kids):
        left = gen.leaf(node).left
        means = gen.helper("_dp_window_means")
        return [
            f"# the child on every frame, averaged over frames t-{left}..t",
            f"return {means}([{kids[0]}(x) for x in xs], {left})",
        ]

    def python_step(self, gen, node, kids, steps):
        left = gen.leaf(node).left
        push = gen.helper("_dp_window_push")
        return [
            f"# the child on this frame, averaged with the last {left} values",
            f"return {push}(st, {gen.state_key(node)}, {kids[0]}(x), {left})",
        ]

    def sympy(self, builder, node, inputs):
        wrap = builder.wrap(node.production)
        return [wrap(b) for b in builder.build(node.children[0], builder.features)]

    def describe(self, describer, node, kids):
        left = describer.parameters(node).left
        op = describer.operator(node, "mean", left=left)
        return describer.over_frames(node, kids[0], op)

    def explain(self, explainer, node, module, x, mask):
        # the mean of a sum is the sum of the means
        B, T, _ = x.shape
        left = int(node.production.params["left"])
        op = explainer.operator(node, "mean", left=left)

        def mean(v):
            return window_mean_chunk(v.reshape(B, T, -1), mask, left)[0]

        rows = explainer.parts(node.children[0], frames(x, None), None)
        return [p.mapped(mean, op) for p in rows]


WINDOW = WindowKind()


def window_production(name: str, left: int) -> Production:
    """Build a sliding-window average: ``mean(f(x[s]) for s in t-left..t)``.

    The child ``f`` runs on every frame and its outputs are averaged, so
    ``window(multiply(a, a))`` is a mean energy. The window ends at the frame
    it is evaluated at (the last frame for the program's value, every frame
    inside ``map_prefixes``) and never reads padding; near the start of a
    sequence it averages the frames there are.

    Parameters
    ----------
    name : str
        Production name, e.g. ``"last5_avg"``.
    left : int
        Number of frames before ``t`` in the window, at least 0: the window
        averages ``left + 1`` frames.

    Returns
    -------
    Production
        A production of kind ``window`` with one slot.

    Raises
    ------
    GrammarError
        If ``left`` is not an int >= 0.
    """
    if not isinstance(left, int) or isinstance(left, bool) or left < 0:
        raise GrammarError(f"Window left extent must be an int >= 0, got {left!r}.")
    return Production(
        name,
        WINDOW,
        1,
        {"left": left},
        1.0,
        f"average of f over the last {left + 1} frames (t-{left}..t)",
    )
