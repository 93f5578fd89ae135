"""``map f xs``: apply an atom function to every frame (optionally a fixed lag back).

A ``map`` with ``params["lag"] = L`` gives at frame ``t`` the value of ``f``
on frame ``t - L`` (the first frame before the first): a per-frame program
that reads ``future_frames = L`` frames ahead runs on sequences extended by
``L`` frames and decides frame ``t`` at frame ``t + L``, so its ``map`` reads
the labelled frame itself while its windows reach the frames after it.
"""

from __future__ import annotations

import torch

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.grammar.kind import Kind
from sklearn_dpads.grammar.production import Production
from sklearn_dpads.grammar.types import Atom, FunctionType
from sklearn_dpads.kinds._common import plain_parameters
from sklearn_dpads.semantics.modules import ProductionModule, production_module_docs
from sklearn_dpads.semantics.ops import carried, frames

__all__ = ["MAP", "MapModule", "map_production"]


def _lag(production: Production) -> int:
    return int(production.params.get("lag", 0))


@production_module_docs(
    returns="``(B, T, k)``: ``f`` of every frame (of the frame ``lag`` back)."
)
class MapModule(ProductionModule):
    """``map f xs``: apply the atom function ``f`` to every frame.

    With a ``lag`` L, the output at frame ``t`` is ``f`` of frame ``t - L``
    (frames before the first count as the first); in a chunked evaluation the
    last ``L`` values of ``f`` are carried over.
    """

    def __init__(self, production, hole, child_types):
        super().__init__(production, hole, child_types)
        self.lag = _lag(production)

    def forward(self, x, mask, ctx=None):
        B, T, _ = x.shape
        y = self.args[0](frames(x, ctx), None, ctx).reshape(B, T, -1)
        L = getattr(self, "lag", 0)  # (a module pickled before lags existed)
        if not L:
            return y
        carry = carried(ctx)
        history = None if carry is None else carry.get(self)
        if history is None:  # frames before the first count as the first
            history = y[:, :1].expand(B, L, y.shape[-1])
        ys = torch.cat([history, y], dim=1)
        if carry is not None:
            carry[self] = ys[:, ys.shape[1] - L :]
        return ys[:, :T]


class MapKind(Kind):
    """``list[d] -> list[k]`` from an ``atom[d] -> atom[k]`` function of each frame."""

    name = "map"
    arity = 1
    role = "sequence"
    constant = "MAP"

    def check(self, production):
        lag = production.params.get("lag", 0)
        if isinstance(lag, bool) or not isinstance(lag, int) or lag < 0:
            raise GrammarError(
                f"Map {production.name!r} needs params['lag'] to be an int >= 0, "
                f"got {lag!r}."
            )

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
        L = _lag(node.production)
        if not L:
            return [f"return [{kids[0]}(x) for x in xs]"]
        return [
            f"# the child on the frame {L} back (frames before the first count as "
            "the first)",
            f"ys = [{kids[0]}(x) for x in xs]",
            f"return [ys[max(t - {L}, 0)] for t in range(len(ys))]",
        ]

    def python_step(self, gen, node, kids, steps):
        L = _lag(node.production)
        if not L:
            return [f"return {kids[0]}(x)"]
        key = gen.state_key(node)
        return [
            f"# the child on this frame and the last {L} (the first repeated)",
            f"y = {kids[0]}(x)",
            f"last = st.get({key})",
            "if last is None:",
            f"    last = st[{key}] = [y] * {L + 1}",
            "else:",
            "    last.append(y)",
            "    del last[0]",
            "return last[0]",
        ]

    def sympy(self, builder, node, inputs):
        wrap = builder.wrap(node.production)
        body = builder.build(node.children[0], builder.features)
        L = _lag(node.production)
        if L:  # exact: x_i[t - L] before the first frame means the first frame
            sp = builder.sympy
            lagged = {f: sp.IndexedBase(f)[builder.time - L] for f in builder.features}
            body = [b.xreplace(lagged) for b in body]
        return [wrap(b) for b in body]

    def describe(self, describer, node, kids):
        L = _lag(node.production)
        if not L:
            return kids[0]  # the child's value, at every frame
        op = describer.operator(node, "weights", weights=(0.0,) * L + (1.0,))
        return describer.over_frames(node, kids[0], op)

    def explain(self, explainer, node, module, x, mask):
        B, T, _ = x.shape
        L = _lag(node.production)
        rows = explainer.parts(node.children[0], frames(x, None), None)
        if not L:
            return [p.mapped(lambda v: v.reshape(B, T, -1)) for p in rows]
        op = explainer.operator(node, "weights", weights=(0.0,) * L + (1.0,))

        def shift(v):
            y = v.reshape(B, T, -1)
            return torch.cat([y[:, :1].expand(B, L, y.shape[-1]), y], dim=1)[:, :T]

        return [p.mapped(shift, op) for p in rows]


MAP = MapKind()


def map_production(name: str = "map", lag: int = 0) -> Production:
    """Build ``map f xs``: apply an atom function to every frame.

    Parameters
    ----------
    name : str, default="map"
        Production name.
    lag : int, default=0
        Read the frame ``lag`` frames back: the output at frame ``t`` is ``f``
        of frame ``t - lag`` (the first frame before the first). The
        classifier sets it to ``future_frames``, so that ``map`` reads the
        labelled frame of a program that decides each frame that many frames
        late.

    Returns
    -------
    Production
        A production of kind ``map`` with one slot.

    Raises
    ------
    GrammarError
        If ``lag`` is not an int >= 0.
    """
    params = {"lag": lag} if lag else {}
    return Production(name, MAP, 1, params, 1.0, "apply f to every frame")
