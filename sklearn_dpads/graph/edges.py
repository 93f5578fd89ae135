"""Candidate sets and edges: the building blocks of the derivation graph.

A :class:`CandidateSet` holds the candidate production modules for one hole
type at one node of :class:`~sklearn_dpads.graph.derivation_graph.DerivationGraph`;
an :class:`Edge` mixes a candidate set's outputs with softmax weights over its
architecture logits ``alpha``.
"""

from __future__ import annotations

import torch
from torch import nn

from sklearn_dpads.grammar.types import FunctionType
from sklearn_dpads.semantics.modules import build_production_module

__all__ = ["CandidateSet", "Edge"]


class CandidateSet(nn.Module):
    """The candidate production modules for one hole type at one node.

    Parameters
    ----------
    hole : FunctionType
        The hole type the candidates fill.
    depth : int
        Depth of the node (1 at the root).
    entries : list of tuple of (Production, tuple of FunctionType)
        The feasible productions with their slot types, as returned by
        :meth:`DSL.feasible <sklearn_dpads.grammar.DSL.feasible>`.
    n_features : int
        Number of input features of the program.
    """

    def __init__(self, hole: FunctionType, depth: int, entries, n_features: int):
        super().__init__()
        self.hole = hole
        self.depth = depth
        self.cands = nn.ModuleList(
            [build_production_module(p, hole, ct, n_features) for p, ct in entries]
        )
        self.alive = [True] * len(self.cands)

    def evaluate(self, x, mask, ctx) -> dict[int, torch.Tensor]:
        """Return the outputs of all live candidates on ``x``.

        They are computed once per input and forward pass: the result is
        cached in ``ctx``.

        Parameters
        ----------
        x : torch.Tensor
            Input, ``(B, T, d)`` for a sequence-input hole or ``(N, d)`` for an
            atom-input hole.
        mask : torch.Tensor or None
            Boolean ``(B, T)`` mask of the real frames of a sequence input; None
            for an atom input.
        ctx : dict or None
            Per-forward cache; None disables caching.

        Returns
        -------
        dict of int to torch.Tensor
            Output by candidate index.
        """
        key = (id(self), id(x))
        if ctx is not None and key in ctx:
            return ctx[key][1]
        outs = {i: c(x, mask, ctx) for i, c in enumerate(self.cands) if self.alive[i]}
        if ctx is not None:
            ctx[key] = (x, outs)  # keep x alive so its id cannot be reused
        return outs


class Edge(nn.Module):
    """A (candidate, slot) pair's softmax mixture over the child's candidates.

    Parameters
    ----------
    target : CandidateSet
        The child's candidates; all are valid at first.
    """

    def __init__(self, target: CandidateSet):
        super().__init__()
        object.__setattr__(self, "_target", target)  # not a registered submodule
        n = len(target.cands)
        self.alpha = nn.Parameter(torch.zeros(n))
        self.register_buffer("valid", torch.ones(n, dtype=torch.bool))
        self._idx = list(range(n))

    @property
    def target(self) -> CandidateSet:
        """The :class:`CandidateSet` this edge mixes (not a registered submodule)."""
        return self._target

    def valid_indices(self) -> list[int]:
        """Return the indices of the candidates still allowed on this edge.

        Returns
        -------
        list of int
            Sorted candidate indices.
        """
        return self._idx

    def set_valid(self, indices) -> None:
        """Restrict the edge to the candidates ``indices``.

        Parameters
        ----------
        indices : iterable of int
            Candidate indices in ``[0, n_candidates)``, at least one.
        """
        idx = sorted({int(i) for i in indices})
        if not idx or idx[0] < 0 or idx[-1] >= len(self.valid):
            raise ValueError(
                f"set_valid needs indices in [0, {len(self.valid)}), got {list(indices)!r}."
            )
        v = torch.zeros_like(self.valid)
        v[idx] = True
        self.valid.copy_(v)
        self._idx = idx

    def probabilities(self) -> dict[int, float]:
        """Return the softmax of the architecture logits over the valid candidates.

        Returns
        -------
        dict of int to float
            Probability by candidate index.
        """
        idx = self._idx
        p = torch.softmax(self.alpha.detach()[idx], dim=0)
        return {i: float(v) for i, v in zip(idx, p)}

    def forward(self, x, mask, ctx=None):
        """Return the probability-weighted mixture of the valid candidates' outputs.

        Parameters
        ----------
        x : torch.Tensor
            Input, ``(B, T, d)`` for a sequence-input hole or ``(N, d)`` for an
            atom-input hole.
        mask : torch.Tensor or None
            Boolean ``(B, T)`` mask of the real frames of a sequence input; None
            for an atom input.
        ctx : dict or None, default=None
            Per-forward cache of the graph.

        Returns
        -------
        torch.Tensor
            The mixed output (the output itself when one candidate is valid).
        """
        outs = self._target.evaluate(x, mask, ctx)
        idx = self._idx
        if len(idx) == 1:
            return outs[idx[0]]
        p = torch.softmax(self.alpha[idx], dim=0)
        stacked = torch.stack([outs[i] for i in idx], dim=0)
        return torch.tensordot(p, stacked, dims=1)
