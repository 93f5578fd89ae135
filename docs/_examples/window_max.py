"""A worked example of a new production kind: the maximum of ``f`` over recent frames.

``last5_max(f)`` is the largest value of ``f`` over the last 5 frames: "the
animals were close at some point in the last 5 frames". This file is all a
new kind needs; ``docs/adding_a_production.rst`` walks through it, and
``tests/kinds/test_conformance.py`` runs it through every check a built-in
kind passes (torch, chunks, the standard-library batch and stream exports,
sympy, pickling).
"""

from __future__ import annotations

import torch

from sklearn_dpads.grammar import Kind, Production
from sklearn_dpads.grammar.types import Atom, FunctionType
from sklearn_dpads.semantics.compile import LeafParameters
from sklearn_dpads.semantics.modules import ProductionModule, production_module_docs
from sklearn_dpads.semantics.ops import carried, frames

__all__ = ["WINDOW_MAX", "WindowMaxModule", "window_max_production"]


# 1. the torch module: f on every frame, then the running maximum -----------------
@production_module_docs(
    returns="``(B, T, k)``: the maximum at the end of every prefix."
)
class WindowMaxModule(ProductionModule):
    """The maximum of ``f`` over the last ``left + 1`` real frames.

    In a chunked evaluation the last ``left`` values of ``f`` are carried to
    the next chunk, so chunks give the one-pass result.
    """

    def forward(self, x, mask, ctx=None):
        B, T, _ = x.shape
        y = self.args[0](frames(x, ctx), None, ctx).reshape(B, T, -1)
        left = int(self.production.params["left"])
        low = torch.tensor(float("-inf"), dtype=y.dtype, device=y.device)
        y = torch.where(mask[..., None], y, low)  # padding never wins
        carry = carried(ctx)
        history = None if carry is None else carry.get(self)
        if history is None:  # no frame before the first one
            history = y.new_full((B, left, y.shape[-1]), float("-inf"))
        ys = torch.cat([history, y], dim=1)
        out = ys.unfold(1, left + 1, 1).amax(-1)
        if carry is not None:
            carry[self] = ys[:, ys.shape[1] - left :]
        # padding frames read 0, not -inf (nothing downstream reads them)
        return torch.where(mask[..., None], out, torch.zeros_like(out))


# 2. the kind: what the production means everywhere --------------------------------
class WindowMaxKind(Kind):
    """``list[d] -> atom[k]`` from an ``atom[d] -> atom[k]`` function of each frame."""

    name = "window_max"
    arity = 1
    role = "sequence"
    constant = "WINDOW_MAX"  # the module-level name of the instance (pickling)

    def check(self, production):
        left = production.params.get("left")
        if not isinstance(left, int) or isinstance(left, bool) or left < 0:
            raise ValueError(f"window_max needs params['left'] >= 0, got {left!r}.")

    def child_types(self, production, hole, n_features):
        i, o = hole.input, hole.output
        if i.is_seq and not o.is_seq:
            return (FunctionType(Atom(i.size), o),)
        return None

    def module(self, production, hole, child_types, n_features):
        return WindowMaxModule(production, hole, child_types)

    def read(self, module):
        return LeafParameters(self.name, left=int(module.production.params["left"]))

    def python(self, gen, node, kids):
        left = gen.leaf(node).left
        return [
            f"# the child on every frame, then its maximum over frames t-{left}..t",
            f"ys = [{kids[0]}(x) for x in xs]",
            "return [",
            f"    [max(y[j] for y in ys[max(0, t - {left}) : t + 1]) for j in range(len(v))]",
            "    for t, v in enumerate(ys)",
            "]",
        ]

    def python_step(self, gen, node, kids, steps):
        left = gen.leaf(node).left
        return [
            f"# the child on this frame, with its last {left} values",
            f"last = st.setdefault({gen.state_key(node)}, [])",
            f"last.append({kids[0]}(x))",
            f"del last[: -{left + 1}]",
            "return [max(y[j] for y in last) for j in range(len(last[-1]))]",
        ]

    def sympy(self, builder, node, inputs):
        sp = builder.sympy
        left = builder.leaf(node).left
        body = builder.build(node.children[0], builder.features)
        lagged = [
            {f: sp.IndexedBase(f)[builder.time - j] for f in builder.features}
            for j in range(left + 1)
        ]
        # exact: frames before the first count as the first, which changes no max
        return [sp.Max(*[b.xreplace(lag) for lag in lagged]) for b in body]


WINDOW_MAX = WindowMaxKind()


# 3. the factory users call ------------------------------------------------------
def window_max_production(name: str, left: int) -> Production:
    """Build ``max(f(x[s]) for s in t-left..t)``.

    Parameters
    ----------
    name : str
        Production name, e.g. ``"last5_max"``.
    left : int
        Number of frames before ``t`` in the window, at least 0.

    Returns
    -------
    Production
        A production of kind ``window_max`` with one slot.
    """
    return Production(
        name, WINDOW_MAX, 1, {"left": left}, 1.0, f"maximum of f over {left + 1} frames"
    )
