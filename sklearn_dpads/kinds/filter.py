"""A learnable causal temporal filter over a feature group."""

from __future__ import annotations

import math

import torch
from torch import nn

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.export._safety import comment_text, float_literal
from sklearn_dpads.grammar.kind import Kind
from sklearn_dpads.grammar.production import (
    Production,
    check_feature_indices,
    check_length,
    check_name,
)
from sklearn_dpads.kinds._common import check_selected_features, selection_text
from sklearn_dpads.semantics.compile import LeafParameters, floats
from sklearn_dpads.semantics.modules import ProductionModule, forward_doc
from sklearn_dpads.semantics.ops import carried, causal_filter_chunk

__all__ = ["FILTER", "FilterModule", "filter_production"]


class FilterModule(ProductionModule):
    """A learnable causal temporal filter ``y_t = b + sum_j W_j x_{t-j}[indices]``.

    ``W`` has shape ``(k, K, n)`` (output, lag, selected feature): ``W[:, j]``
    multiplies the frame ``j`` steps back. Frames before the first frame of a
    sequence are taken equal to the first frame, so a constant signal gives a
    constant output; padding never reaches a real frame. The parameters start
    like an ``nn.Linear`` over the ``K * n`` lagged inputs. In a chunked
    evaluation the last ``K - 1`` frames are carried over.

    Parameters
    ----------
    production : Production
        A filter leaf production.
    hole : FunctionType
        The hole the leaf fills (sequence to atom).
    child_types : tuple of FunctionType
        Empty: a leaf has no argument slots.
    n_features : int
        Number of input features of the program.
    """

    def __init__(self, production, hole, child_types, n_features: int):
        super().__init__(production, hole, child_types)
        d = hole.input.size
        idx = production.params.get("indices")
        sel = list(range(d)) if idx is None else list(idx)
        if any(i >= d for i in sel):
            raise GrammarError(
                f"Filter {production.name!r} reads features {sel} but the input "
                f"has {d} features."
            )
        self.register_buffer(
            "index", torch.tensor(sel, dtype=torch.long), persistent=False
        )
        self.full = sel == list(range(d))
        length = int(production.params["length"])
        k = hole.output.size
        bound = 1.0 / math.sqrt(length * len(sel))
        self.weight = nn.Parameter(torch.empty(k, length, len(sel)))
        self.bias = nn.Parameter(torch.empty(k))
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    @forward_doc(
        "Apply the filter at every frame of ``x``.",
        "``(B, T, k)``: the filter output at the end of every prefix.",
    )
    def forward(self, x, mask, ctx=None):
        if not self.full:
            x = x.index_select(-1, self.index)
        carry = carried(ctx)
        if carry is None:
            return causal_filter_chunk(x, mask, self.weight, self.bias)[0]
        y, carry[self] = causal_filter_chunk(
            x, mask, self.weight, self.bias, carry.get(self)
        )
        return y


class FilterKind(Kind):
    """``list[d] -> atom[k]`` leaves: a linear filter over the last ``K`` frames."""

    name = "filter"
    arity = 0
    role = "leaf"
    lagged_leaf = True
    constant = "FILTER"

    def check(self, production):
        length = production.params.get("length")
        if not isinstance(length, int) or isinstance(length, bool) or length < 1:
            raise GrammarError(
                f"Filter {production.name!r} needs params['length'], an int >= 1, got "
                f"{length!r}; build filters with filter_production."
            )
        check_feature_indices(production.name, production.params.get("indices"))

    def child_types(self, production, hole, n_features):
        i, o = hole.input, hole.output
        check_selected_features(production, n_features)
        if not i.is_seq or o.is_seq or i.size < n_features:
            return None
        return ()

    def display(self, production, args):
        group = production.params.get("group")
        head = f"filter{production.params['length']}"
        return f"{head}[{group}](x)" if group else f"{head}(x)"

    def label(self, production):
        group = production.params.get("group")
        return f"filter{production.params['length']}[{group or 'all'}]"

    def module(self, production, hole, child_types, n_features):
        return FilterModule(production, hole, child_types, n_features)

    def read(self, module):
        return LeafParameters(
            self.name,
            weight=tuple(
                tuple(tuple(lag) for lag in out) for out in floats(module.weight)
            ),
            bias=tuple(floats(module.bias)),
            indices=tuple(int(i) for i in module.index.tolist()),
            length=int(module.production.params["length"]),
        )

    def python(self, gen, node, kids):
        leaf = gen.leaf(node)
        weight, b, sel, K = leaf.weight, leaf.bias, leaf.indices, leaf.length
        k = node.hole.output.size
        shape_ok = len(weight) == k and len(b) == k
        shape_ok = shape_ok and all(len(out) == K for out in weight)
        shape_ok = shape_ok and all(len(lag) == len(sel) for o in weight for lag in o)
        if not shape_ok:
            raise ValueError(
                f"Filter node {node.path} has weights of the wrong shape for "
                f"{k} outputs, {K} lags and {len(sel)} features."
            )
        name = gen.fname(node.path)
        rows = "".join(
            "    (\n"
            + "".join(
                f"        ({', '.join(map(float_literal, lag))},),\n" for lag in out
            )
            + "    ),\n"
            for out in weight
        )
        gen.add_block(
            f"# {name}_W[o][j][c]: output o, lag j (frames back), feature {name}_I[c]\n"
            f"{name}_I = ({', '.join(str(i) for i in sel)},)\n"
            f"{name}_W = (\n{rows})\n"
            f"{name}_B = ({', '.join(map(float_literal, b))},)\n"
        )
        group = node.production.params.get("group")
        lines = [
            f"# y[t] = B + sum_j W[:, j] . x[t - j][I] over the last {K} frames",
            "# (frames before the first count as the first frame)",
        ]
        if group is not None:
            lines.append(f"# feature group: {comment_text(group)}")
        filt = gen.helper("_dp_filter")
        lines.append(f"return {filt}(xs, {name}_W, {name}_B, {name}_I)")
        return lines

    def python_step(self, gen, node, kids, steps):
        name = gen.fname(node.path)
        push = gen.helper("_dp_filter_push")
        key = gen.state_key(node)
        return [
            f"# the filter {name}_W over this frame and the last ones",
            f"return {push}(st, {key}, x, {name}_W, {name}_B, {name}_I)",
        ]

    def sympy(self, builder, node, inputs):
        sp = builder.sympy
        leaf = builder.leaf(node)
        bases = {i: sp.IndexedBase(builder.features[i]) for i in leaf.indices}
        out = []
        for w_out, bias in zip(leaf.weight, leaf.bias):
            terms = [
                sp.Float(w) * bases[i][builder.time - j]
                for j, w_lag in enumerate(w_out)
                for w, i in zip(w_lag, leaf.indices)
            ]
            out.append(sp.Add(*terms, sp.Float(bias)))
        return out

    def export_summary(self, production):
        frames = f", last {production.params['length']} frames"
        return "Temporal filters", selection_text(production) + frames

    def describe(self, describer, node, kids):
        # one weighted sum over the lags per feature (and output), plus the bias
        leaf = describer.parameters(node)
        k = len(leaf.bias)
        out = describer.constant(leaf.bias)
        for c, i in enumerate(leaf.indices):
            for o in range(k):
                w = tuple(lag[c] for lag in leaf.weight[o])
                op = describer.operator(node, "weights", weights=w, style="filter")
                if c == 0 and o == 0:
                    describer.record(node, op)
                unit = tuple(1.0 if r == o else 0.0 for r in range(k))
                one = describer.affine((i,), tuple((u,) for u in unit), (0.0,) * k)
                out = describer.add(node, out, one.through(op))
        return out

    def explain(self, explainer, node, module, x, mask):
        xs = x if module.full else x.index_select(-1, module.index)
        k = module.bias.shape[0]
        zero = torch.zeros_like(module.bias[:1])
        parts = []
        for c, i in enumerate(module.index.tolist()):
            for o in range(k):
                w = module.weight[o : o + 1, :, c : c + 1]
                y = causal_filter_chunk(xs[..., c : c + 1], mask, w, zero)[0]
                op = explainer.operator(
                    node, "weights", weights=tuple(floats(w[0, :, 0])), style="filter"
                )
                value = torch.zeros(y.shape[:-1] + (k,), dtype=y.dtype, device=y.device)
                value[..., o : o + 1] = y
                part = explainer.input_part(node, i, value, y)
                parts.append(part.mapped(lambda v: v, op))
        B, T, _ = x.shape
        parts.append(explainer.bias_part(node, module.bias.expand(B, T, k)))
        return parts


FILTER = FilterKind()


def filter_production(
    name: str,
    length: int,
    indices: list[int] | tuple[int, ...] | None = None,
    group: str | None = None,
) -> Production:
    """Build a learnable causal temporal filter over a feature group.

    The leaf fills ``list[d] -> atom[k]`` holes. At frame ``t`` its value is
    ``y_t = b + sum_{j=0}^{length-1} W_j @ x_{t-j}[indices]``: a learned linear
    combination of the last ``length`` frames of the group (a finite impulse
    response filter, one ``k x n_group`` matrix ``W_j`` per lag ``j``). The
    program's value is ``y`` at the last frame; inside ``map_prefixes`` it is
    ``y_t`` at every frame ``t``. Frames before the first frame of a sequence
    are taken equal to the first frame, so a constant signal gives a
    constant output ``b + (sum_j W_j) x``. The filter is causal: padding and
    later frames never reach ``y_t``.

    Parameters
    ----------
    name : str
        Production name, e.g. ``"filter5_speed"``.
    length : int
        Number of frames ``K`` the filter reads (lags ``0 .. K-1``), at least 1.
    indices : list of int, tuple of int or None, default=None
        Distinct, non-negative feature indices the filter reads; None reads all
        features.
    group : str, optional
        Name of the feature group, shown as ``filter5[group](x)``.

    Returns
    -------
    Production
        A leaf production of kind ``filter``.

    Raises
    ------
    GrammarError
        If ``length`` is not an int >= 1 or ``indices`` are malformed.
    """
    check_name(name)
    check_length(length, f"Filter length of {name!r}")
    indices = check_feature_indices(name, indices)
    return Production(
        name,
        FILTER,
        0,
        {"length": length, "indices": indices, "group": group},
        1.0,
        f"learned filter over the last {length} frames of "
        + (f"group {group!r}" if group else "all features"),
    )
