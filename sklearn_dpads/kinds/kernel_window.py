"""A window that can sit anywhere: a weighted mean of ``f`` with a learned centre and width.

``kernel13_avg(f)`` at frame ``t`` is ``sum_j w_j f(x_{t-j})`` over the lags
``j = 0 .. 12``, with weights ``w_j`` proportional to
``exp(-(j - c)^2 / (2 s^2))``: a smooth bump over the lags whose centre
``c`` (in frames back from ``t``) and width ``s`` are learned with the rest
of the program. Trained, it reads as "the mean of f over frames t-8 to t-4"
where the signal is, for example the labelled centre frame of a window
(windows that end at ``t`` cannot reach it). Frames before the first frame of
a sequence count as the first frame, as for temporal filters, so the weights
always sum to one; padding never reaches a real frame.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from sklearn_dpads.export._safety import float_literal
from sklearn_dpads.grammar.production import Production, check_length, check_name
from sklearn_dpads.kinds._common import FrameWindow
from sklearn_dpads.semantics.compile import LeafParameters, floats
from sklearn_dpads.semantics.modules import ProductionModule, production_module_docs
from sklearn_dpads.semantics.ops import carried, frames

__all__ = ["KERNEL_WINDOW", "KernelWindowModule", "kernel_window_production"]

#: The smallest kernel width, in frames (a narrower bump is one frame anyway).
MIN_WIDTH = 0.5

#: Longest output (frames) computed through the band matrix of the weights;
#: longer ones (whose band would grow with the square of their length) use
#: the unfolded form.
BAND_FRAMES = 256


def _inverse_softplus(v: float) -> float:
    return math.log(math.expm1(v))


@production_module_docs(
    returns="``(B, T, k)``: the weighted mean at the end of every prefix."
)
class KernelWindowModule(ProductionModule):
    """``sum_j w_j f(x_{t-j})`` with Gaussian weights over the lags ``0 .. K-1``.

    The centre is ``c = (K - 1) * sigmoid(centre)`` frames back and the width
    ``s = MIN_WIDTH + softplus(width)``; they start at the middle of the
    window and a quarter of its length, so that a new window reads all of it.
    In a chunked evaluation the last ``K - 1`` values of ``f`` are carried over.
    """

    def __init__(self, production, hole, child_types):
        super().__init__(production, hole, child_types)
        self.length = int(production.params["length"])
        self.centre = nn.Parameter(torch.zeros(()))
        start = max(self.length / 4.0 - MIN_WIDTH, 0.1)
        self.width = nn.Parameter(torch.tensor(_inverse_softplus(start)))
        # band() indices by output length and device: a cache, not state
        self._band_index: dict[tuple[int, str], torch.Tensor] = {}

    def kernel(self) -> torch.Tensor:
        """Return the weights over the lags, lag 0 (the current frame) first.

        Returns
        -------
        torch.Tensor
            ``(K,)`` non-negative weights that sum to one.
        """
        K = self.length
        lags = torch.arange(K, dtype=self.centre.dtype, device=self.centre.device)
        c = (K - 1) * torch.sigmoid(self.centre)
        s = MIN_WIDTH + F.softplus(self.width)
        return torch.softmax(-0.5 * ((lags - c) / s) ** 2, dim=0)

    def band(self, T: int) -> torch.Tensor:
        """Return the weights as a band matrix over ``T`` frames.

        Parameters
        ----------
        T : int
            Frames of the output.

        Returns
        -------
        torch.Tensor
            ``(T + K - 1, T)``: entry ``(s, t)`` is the weight of the input
            frame ``s`` (the ``K - 1`` frames of history first) in the output
            frame ``t``, the kernel's weight of the lag ``t + K - 1 - s``, and
            zero outside the window.
        """
        K = self.length
        dev = self.centre.device
        key = (T, str(dev))
        # (a module pickled before the cache existed has none yet)
        cache = self.__dict__.setdefault("_band_index", {})
        index = cache.get(key)
        if index is None:  # the same few lengths, batch after batch
            s = torch.arange(T + K - 1, device=dev).view(-1, 1)
            lag = (K - 1) - (s - torch.arange(T, device=dev).view(1, -1))
            index = torch.where((lag >= 0) & (lag < K), lag, K)
            cache[key] = index
        w = self.kernel()
        return torch.cat([w, w.new_zeros(1)])[index]

    def forward(self, x, mask, ctx=None):
        B, T, _ = x.shape
        y = self.args[0](frames(x, ctx), None, ctx).reshape(B, T, -1)
        K = self.length
        carry = carried(ctx)
        history = None if carry is None else carry.get(self)
        if history is None:  # frames before the first count as the first
            history = y[:, :1].expand(B, K - 1, y.shape[-1])
        ys = torch.cat([history, y], dim=1) if K > 1 else y
        if T <= BAND_FRAMES:
            # one product with the (T + K - 1, T) band of the weights: several
            # times faster to train than the unfolded form at these lengths
            out = (ys.transpose(1, 2) @ self.band(T)).transpose(1, 2)
        else:
            # unfold's last index l reads frame t - (K - 1) + l, the lag K - 1 - l
            out = (ys.unfold(1, K, 1) * self.kernel().flip(0)).sum(-1)
        if carry is not None:
            carry[self] = ys[:, ys.shape[1] - (K - 1) :]
        return out


class KernelWindowKind(FrameWindow):
    """``list[d] -> atom[k]`` from an ``atom[d] -> atom[k]`` function of each frame."""

    name = "kernel_window"
    constant = "KERNEL_WINDOW"

    def check(self, production):
        check_length(
            production.params.get("length"),
            f"Kernel window {production.name!r} needs params['length'], which",
        )

    def module(self, production, hole, child_types, n_features):
        return KernelWindowModule(production, hole, child_types)

    def read(self, module):
        return LeafParameters(
            self.name,
            weight=(tuple(floats(module.kernel())),),
            length=module.length,
        )

    def _weights(self, gen, node) -> str:
        """Write the kernel as a module-level tuple; return its name."""
        name = f"{gen.fname(node.path)}_K"
        weights = gen.leaf(node).weight[0]
        gen.add_block(
            f"# {name}[j]: the weight of the frame j steps back\n"
            f"{name} = ({', '.join(map(float_literal, weights))},)\n"
        )
        return name

    def python(self, gen, node, kids):
        K = self._weights(gen, node)
        return [
            f"# the child on every frame, then its weighted mean over the last "
            f"{gen.leaf(node).length} frames (frames before the first count as "
            "the first)",
            f"ys = [{kids[0]}(x) for x in xs]",
            "return [",
            f"    [sum(w * ys[max(t - j, 0)][o] for j, w in enumerate({K}))"
            " for o in range(len(y))]",
            "    for t, y in enumerate(ys)",
            "]",
        ]

    def python_step(self, gen, node, kids, steps):
        K = f"{gen.fname(node.path)}_K"  # written by the batch function
        return [
            "# the child on this frame, with its last values (the first repeated)",
            f"y = {kids[0]}(x)",
            f"last = st.get({gen.state_key(node)})",
            "if last is None:",
            f"    last = st[{gen.state_key(node)}] = [y] * len({K})",
            "else:",
            "    last.append(y)",
            "    del last[0]",
            f"return [sum(w * last[-1 - j][o] for j, w in enumerate({K}))"
            " for o in range(len(y))]",
        ]

    def sympy(self, builder, node, inputs):
        sp = builder.sympy
        weights = builder.leaf(node).weight[0]
        body = builder.build(node.children[0], builder.features)
        lagged = [
            {f: sp.IndexedBase(f)[builder.time - j] for f in builder.features}
            for j in range(len(weights))
        ]
        # exact: x_i[t - j] before the first frame means the first frame
        return [
            sp.Add(*[sp.Float(w) * b.xreplace(lag) for w, lag in zip(weights, lagged)])
            for b in body
        ]

    def describe(self, describer, node, kids):
        weights = tuple(describer.parameters(node).weight[0])
        op = describer.operator(node, "weights", weights=weights, style="kernel")
        return describer.over_frames(node, kids[0], op)

    def explain(self, explainer, node, module, x, mask):
        # a weighted mean of a sum is the sum of the weighted means
        B, T, _ = x.shape
        K = module.length
        flipped = module.kernel().flip(0)
        weights = tuple(floats(module.kernel()))
        op = explainer.operator(node, "weights", weights=weights, style="kernel")

        def smooth(v):
            y = v.reshape(B, T, -1)
            if K > 1:  # frames before the first count as the first
                y = torch.cat([y[:, :1].expand(B, K - 1, y.shape[-1]), y], dim=1)
            return (y.unfold(1, K, 1) * flipped).sum(-1)

        rows = explainer.parts(node.children[0], frames(x, None), None)
        return [p.mapped(smooth, op) for p in rows]


KERNEL_WINDOW = KernelWindowKind()


def kernel_window_production(name: str, length: int) -> Production:
    """Build a weighted mean of ``f`` over the last ``length`` frames, learned where.

    The weights are a smooth bump over the lags ``0 .. length-1`` with a
    learned centre and width (see :mod:`sklearn_dpads.kinds.kernel_window`),
    so the window can sit anywhere in the last ``length`` frames: ``f`` runs
    on every frame and the value at frame ``t`` is ``sum_j w_j f(x_{t-j})``.

    Parameters
    ----------
    name : str
        Production name, e.g. ``"kernel13_avg"``.
    length : int
        Number of frames the kernel spans, at least 1.

    Returns
    -------
    Production
        A production of kind ``kernel_window`` with one slot.

    Raises
    ------
    GrammarError
        If ``length`` is not an int >= 1.
    """
    check_name(name)
    check_length(length, f"Kernel window length of {name!r}")
    return Production(
        name,
        KERNEL_WINDOW,
        1,
        {"length": length},
        1.0,
        f"weighted mean of f over the last {length} frames, learned centre and width",
    )
