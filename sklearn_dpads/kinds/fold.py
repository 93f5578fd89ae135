"""``fold f xs``: a running accumulation ``a_t = f([x_t; a_{t-1}])`` from ``a_0 = 0``."""

from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F
from torch import nn

from sklearn_dpads.describe._algebra import Linear
from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.export._emit import readout_terms
from sklearn_dpads.grammar.kind import Kind
from sklearn_dpads.grammar.production import Production
from sklearn_dpads.grammar.types import Atom, FunctionType
from sklearn_dpads.semantics.compile import LeafParameters, floats
from sklearn_dpads.semantics.modules import ProductionModule, production_module_docs
from sklearn_dpads.semantics.ops import carried, linear_recurrence

__all__ = ["FOLD", "FoldModule", "fold_production"]


@production_module_docs(
    returns="``(B, T, k)``: the accumulator (or its readout) after every prefix "
    "(unchanged on padding)."
)
class FoldModule(ProductionModule):
    """``fold f xs``: ``a_t = f([x_t; a_{t-1}])`` from ``a_0 = 0``.

    With a ``width`` in the production's parameters the state ``a_t`` has
    that many entries and an affine ``readout`` maps it to the output. In a
    chunked evaluation the accumulator after a chunk starts the next one.
    """

    def __init__(self, production, hole, child_types):
        super().__init__(production, hole, child_types)
        width = production.params.get("width")
        self.width = width or hole.output.size
        self.readout = None if width is None else nn.Linear(width, hole.output.size)

    def forward(self, x, mask, ctx=None):
        states = self._states(x, mask, ctx)
        return states if self.readout is None else self.readout(states)

    def _states(self, x, mask, ctx):
        carry = carried(ctx)
        initial = None if carry is None else carry.get(self)
        states = self._run(x, mask, ctx, initial)
        if carry is not None and states.shape[1]:
            # padding keeps the state: the last entry is the last real frame's
            carry[self] = states[:, -1].clone()
        return states

    def _run(self, x, mask, ctx, initial):
        B, T, n_in = x.shape
        k = self.width
        linear = _linear_body(self.args[0], n_in, k)
        if linear is not None:
            # an affine body: a_t = A a_{t-1} + W x_t + b, all frames at once
            w_x, coef, bias = linear
            drive = torch.where(mask[..., None], F.linear(x, w_x, bias), 0.0)
            eye = torch.eye(k, dtype=x.dtype, device=x.device)
            coef = torch.where(mask[..., None, None], coef, eye)
            return linear_recurrence(coef, drive, initial)
        a = x.new_zeros(B, k) if initial is None else initial
        outs = []
        # without padding every step updates (checked on the CPU only: on a
        # GPU the check would synchronise with the host)
        padded = x.device.type != "cpu" or not bool(mask.all())
        for t in range(T):
            new = self.args[0](torch.cat([x[:, t], a], dim=1), None, ctx)
            # where, not a 0/1 blend: 0 * inf would poison later real frames
            a = torch.where(mask[:, t, None], new, a) if padded else new
            outs.append(a)
        return torch.stack(outs, dim=1)


def _linear_body(body, n_in: int, k: int):
    """``(W_x, A, b)`` when a compiled fold body is affine in its input, else None.

    A body of leaves with an affine map (affine leaves, constants) combined by
    sums computes ``W [x; a] + b``; it is split into the frame part ``W_x``
    (``k, n_in``), the accumulator part ``A`` (``k, k``) and the bias. Each
    kind says whether it sums its arguments or is such a leaf.
    """
    leaves, stack = [], [body]
    while stack:
        m = stack.pop()
        if not isinstance(m, ProductionModule):  # a graph edge or a neural filler
            return None
        kind = m.production.kind
        if kind.algebra == "sum":
            stack.extend(m.args)
        elif (part := kind.affine_map(m)) is not None:
            leaves.append(part)
        else:  # a nonlinear production
            return None
    some = leaves[0][2]
    weight = some.new_zeros(k, n_in + k)
    bias = some.new_zeros(k)
    for index, w, b in leaves:
        if index is not None:
            weight = weight.index_add(1, index, w)
        bias = bias + b
    coef = weight[:, n_in:]
    return weight[:, :n_in], coef, bias


class FoldKind(Kind):
    """``list[d] -> atom[k]`` from an ``atom[d + h] -> atom[h]`` step function."""

    name = "fold"
    arity = 1
    role = "sequence"
    constant = "FOLD"

    def check(self, production):
        width = production.params.get("width")
        if width is not None and (
            not isinstance(width, int) or isinstance(width, bool) or width < 1
        ):
            raise GrammarError(
                f"Fold width must be an int >= 1 or None, got {width!r}."
            )

    def child_types(self, production, hole, n_features):
        i, o = hole.input, hole.output
        if i.is_seq and not o.is_seq:
            h = production.params.get("width") or o.size
            return (FunctionType(Atom(i.size + h), Atom(h)),)
        return None

    def module(self, production, hole, child_types, n_features):
        return FoldModule(production, hole, child_types)

    def read(self, module):
        if module.readout is None:
            return LeafParameters(self.name, width=int(module.width))
        return LeafParameters(
            self.name,
            weight=tuple(tuple(r) for r in floats(module.readout.weight)),
            bias=tuple(floats(module.readout.bias)),
            width=int(module.width),
        )

    def python(self, gen, node, kids):
        leaf = gen.leaf(node)
        states = f"{gen.helper('_dp_fold')}({kids[0]}, xs, {leaf.width})"
        if leaf.weight is None:
            return [
                "# the accumulator after every frame (it starts at zero)",
                f"return {states}",
            ]
        lines = [
            f"# the {leaf.width}-wide state after every frame (it starts at "
            "zero), then the affine readout of each state x",
            "return [",
            "    [",
        ]
        lines += readout_terms(leaf.weight, leaf.bias, leaf.width, 8)
        return lines + ["    ]", f"    for x in {states}", "]"]

    def python_step(self, gen, node, kids, steps):
        leaf = gen.leaf(node)
        push = gen.helper("_dp_fold_push")
        state = f"{push}(st, {gen.state_key(node)}, {kids[0]}, x, {leaf.width})"
        if leaf.weight is None:
            return ["# the accumulator after this frame", f"return {state}"]
        lines = [
            f"# the {leaf.width}-wide state after this frame, then its readout",
            f"x = {state}",
            "return [",
        ]
        return lines + readout_terms(leaf.weight, leaf.bias, leaf.width, 4) + ["]"]

    def sympy(self, builder, node, inputs):
        sp = builder.sympy
        wrap = builder.wrap(node.production)
        leaf = builder.leaf(node)
        h = leaf.width
        body = builder.build(
            node.children[0], builder.features + builder.accumulator_symbols(h)
        )
        if h == 1:
            states = [wrap(body[0])]
        else:
            mat = sp.ImmutableMatrix(body)
            states = [wrap(mat, sp.Integer(j)) for j in range(h)]
        if leaf.weight is None:
            return states
        # the readout: an affine function of the last state
        return [
            sp.Add(*[sp.Float(w) * s for w, s in zip(row, states)], sp.Float(b))
            for row, b in zip(leaf.weight, leaf.bias)
        ]

    def describe(self, describer, node, kids):
        leaf = describer.parameters(node)
        body, n = kids[0], describer.n_features
        if leaf.width == 1 and isinstance(body, Linear):
            # a_t = A a_{t-1} + (terms of x_t) + b: the terms' sum over the
            # frames so far with weights A^j, an exponentially weighted average
            acc = [t for t in body.terms if t.source >= n]
            decay = sum(t.weight[0] for t in acc)
            if abs(decay) < 1:
                drive = Linear(
                    tuple(t for t in body.terms if t.source < n), body.bias, body.notes
                )
                op = describer.operator(node, "decay", decay=decay)
                note = (
                    f"{node.production.name} starts from zero: its weighted averages "
                    "count the frames before the first as the scaler's centre, and "
                    f"its constant {body.bias[0] / (1 - decay):.4g} builds up over "
                    "the first frames (it is reached after a few half-lives)."
                )
                out = describer.over_frames(node, drive, op, note)
                if leaf.weight is not None:  # the readout R a + c
                    read = describer.constant(leaf.bias)
                    out = describer.add(node, out.times((leaf.weight[0][0],)), read)
                return out
        describer.record(node, None)
        return describer.opaque(
            node,
            kids,
            f"the state of {node.production.name} after the frame, where each "
            "state is {0} of the frame and the previous state",
            note="a running accumulation, not simplified",
        )

    def explain(self, explainer, node, module, x, mask):
        # an affine body makes the fold linear in its drive: one part per input
        B, T, n_in = x.shape
        k = module.width
        linear = _linear_body(module.args[0], n_in, k)
        if linear is None or k != 1:
            return explainer.whole(node, x, mask)
        w_x, coef, bias = linear
        decay = float(coef[0, 0])
        op = explainer.operator(node, "decay", decay=decay)
        eye = torch.eye(k, dtype=x.dtype, device=x.device)
        coefs = torch.where(mask[..., None, None], coef, eye)
        zero = torch.zeros((), dtype=x.dtype, device=x.device)

        def run(drive):
            return linear_recurrence(coefs, torch.where(mask[..., None], drive, zero))

        def out(states):
            if module.readout is None:
                return states
            return F.linear(states, module.readout.weight)

        parts = []
        for j in range(n_in):
            if not bool(w_x[:, j].any()):
                continue
            xj = x[..., j : j + 1]
            value = out(run(xj * w_x[:, j]))
            part = explainer.input_part(node, j, value, run(xj))
            parts.append(part.mapped(lambda v: v, op))
        constant = explainer.bias_part(node, out(run(bias.expand(B, T, k))))
        parts.append(constant)
        if module.readout is not None:
            b = module.readout.bias
            parts.append(explainer.bias_part(node, b.expand(B, T, b.shape[0])))
        return parts


FOLD = FoldKind()


def fold_production(name: str = "fold", width: int | None = None) -> Production:
    """Build ``fold f xs``: ``a_t = f([x_t; a_{t-1}])`` from ``a_0 = 0``.

    Without ``width`` the accumulator has the output's size and the value of
    the fold is the last accumulator. With ``width`` the accumulator (the
    fold's state) has ``width`` entries, and a learned affine readout maps
    the last state to the output: ``y = R a_T + c``.

    Parameters
    ----------
    name : str, default="fold"
        Production name.
    width : int or None, default=None
        Size of the state, at least 1 (None: the output's size, no readout).

    Returns
    -------
    Production
        A production of kind ``fold`` with one slot.

    Raises
    ------
    GrammarError
        If ``width`` is not an integer >= 1.
    """
    if width is None:
        return Production(name, FOLD, 1, {}, 1.0, "running accumulation")
    if not isinstance(width, numbers.Integral) or isinstance(width, bool) or width < 1:
        raise GrammarError(f"Fold width must be an int >= 1 or None, got {width!r}.")
    return Production(
        name,
        FOLD,
        1,
        {"width": int(width)},
        1.0,
        f"running accumulation of a {int(width)}-wide state, read out",
    )
