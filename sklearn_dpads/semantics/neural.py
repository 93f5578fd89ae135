"""Neural hole fillers: small networks in the slots below the graph's frontier.

A filler is called like a production module, as ``filler(x, mask, ctx)``
with ``ctx`` the :class:`~sklearn_dpads.semantics.ops.Evaluation` of the
forward pass, which a filler does not use (see
:mod:`sklearn_dpads.semantics.modules`): an LSTM for holes with a sequence
input, an MLP for atom holes, of a width that halves with depth.
"""

from __future__ import annotations

import torch
from torch import nn

from sklearn_dpads.grammar.types import FunctionType
from sklearn_dpads.semantics.modules import forward_doc
from sklearn_dpads.semantics.ops import Evaluation

__all__ = ["NeuralSeq", "NeuralAtom", "neural_filler", "hidden_width"]


class NeuralSeq(nn.Module):
    """Neural filler for sequence-input holes: causal LSTM then a linear read-out.

    Parameters
    ----------
    hole : FunctionType
        The hole to fill; its input is a sequence.
    hidden : int
        Width of the LSTM state.
    """

    def __init__(self, hole: FunctionType, hidden: int):
        super().__init__()
        self.hole = hole
        self.lstm = nn.LSTM(hole.input.size, hidden, batch_first=True)
        self.out = nn.Linear(hidden, hole.output.size)

    @forward_doc(
        "Run the LSTM over ``x`` and read every step out.",
        "``(B, T, k)``: the read-out after every prefix.",
    )
    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        ctx: Evaluation | None = None,
    ) -> torch.Tensor:
        h, _ = self.lstm(x)
        return self.out(h)


class NeuralAtom(nn.Module):
    """Neural filler for atom holes: ``Linear -> ReLU -> Linear``.

    Parameters
    ----------
    hole : FunctionType
        The hole to fill; its input is an atom.
    hidden : int
        Width of the hidden layer.
    """

    def __init__(self, hole: FunctionType, hidden: int):
        super().__init__()
        self.hole = hole
        self.net = nn.Sequential(
            nn.Linear(hole.input.size, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hole.output.size),
        )

    @forward_doc("Apply the network to ``x``.", "``(N, k)``.")
    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        ctx: Evaluation | None = None,
    ) -> torch.Tensor:
        return self.net(x)


def hidden_width(depth: int, max_units: int = 16, min_units: int = 4) -> int:
    """Return the width of a neural filler at ``depth``.

    Parameters
    ----------
    depth : int
        Depth of the filled slot (1 at the root).
    max_units : int, default=16
        Width at depth 1.
    min_units : int, default=4
        Smallest width.

    Returns
    -------
    int
        ``max(int(max_units * 0.5**(depth-1)), min_units)``.
    """
    return max(int(max_units * 0.5 ** max(depth - 1, 0)), min_units)


def neural_filler(
    hole: FunctionType, depth: int, max_units: int = 16, min_units: int = 4
):
    """Build a neural filler: an LSTM for sequence-input holes, an MLP for atom holes.

    Parameters
    ----------
    hole : FunctionType
        The hole to fill.
    depth : int
        Depth of the filled slot; sets the width with :func:`hidden_width`.
    max_units : int, default=16
        Width at depth 1.
    min_units : int, default=4
        Smallest width.

    Returns
    -------
    NeuralSeq or NeuralAtom
        A freshly initialised filler.
    """
    h = hidden_width(depth, max_units, min_units)
    return NeuralSeq(hole, h) if hole.input.is_seq else NeuralAtom(hole, h)
