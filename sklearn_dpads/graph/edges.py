"""Candidate sets and edges: the building blocks of the derivation graph.

A :class:`CandidateSet` holds the candidate production modules for one hole
type at one node of :class:`~sklearn_dpads.graph.derivation_graph.DerivationGraph`;
an :class:`Edge` mixes a candidate set's outputs with softmax weights over its
architecture logits ``alpha``.

Neither builds the level-batched plans of atom subtrees
(:mod:`sklearn_dpads.graph.atom_plan`): the graph, which knows when its
structure changes, holds them and hands them to the edges' forward passes
through :attr:`Evaluation.plans <sklearn_dpads.semantics.ops.Evaluation.plans>`.
"""

from __future__ import annotations

import torch
from torch import nn

from sklearn_dpads.grammar.types import FunctionType
from sklearn_dpads.semantics.modules import build_production_module
from sklearn_dpads.semantics.ops import Evaluation, per_input

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
        # reachable edges into this set, kept by the graph's ``refresh``
        self.incoming: list[Edge] = []

    # the evaluation cache (of _live): rebuilt on demand, never copied or shipped
    _CACHES = ("_live_cache",)

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        for key in self._CACHES:
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        # mutable state stays mutable whatever carried it (msgpack gives tuples)
        self.alive = list(self.alive)
        self.incoming = list(self.incoming)

    def evaluate(
        self, x: torch.Tensor, mask: torch.Tensor | None, ctx: Evaluation | None
    ) -> dict[int, torch.Tensor]:
        """Return the outputs of all live candidates on ``x``.

        With an evaluation ``ctx`` they are computed once per input and
        forward pass (:meth:`Evaluation.memo
        <sklearn_dpads.semantics.ops.Evaluation.memo>`).

        Parameters
        ----------
        x : torch.Tensor
            Input, ``(B, T, d)`` for a sequence-input hole or ``(N, d)`` for an
            atom-input hole.
        mask : torch.Tensor or None
            Boolean ``(B, T)`` mask of the real frames of a sequence input; None
            for an atom input.
        ctx : Evaluation or None
            State of the forward pass; None: nothing is memoised or carried.

        Returns
        -------
        dict of int to torch.Tensor
            Output by candidate index.
        """
        # forward, not __call__: no hooks are used, and this is the hot path
        # (atom subtrees are batched by graph/atom_plan.py; this is the rest)
        return per_input(
            ctx,
            ("outputs", self),
            x,
            lambda: {i: c.forward(x, mask, ctx) for i, c in self._live()},
        )

    def _live(self) -> list[tuple[int, nn.Module]]:
        """``(index, module)`` of the live candidates, cached until they change."""
        alive = tuple(self.alive)
        cached = getattr(self, "_live_cache", None)
        if cached is None or cached[0] != alive:
            mods = list(self.cands)
            live = [(i, mods[i]) for i, a in enumerate(alive) if a]
            self._live_cache = cached = (alive, live)
        return cached[1]

    def mixtures(
        self, x: torch.Tensor, mask: torch.Tensor | None, ctx: Evaluation
    ) -> dict[int, torch.Tensor]:
        """The mixtures of every incoming edge on ``x``, computed together.

        The live candidates' outputs are stacked once and every edge with
        several valid candidates gets its mixture from one matrix product
        with the edges' (masked) softmax weights.

        Parameters
        ----------
        x : torch.Tensor
            Input, ``(B, T, d)`` for a sequence-input hole or ``(N, d)`` for an
            atom-input hole.
        mask : torch.Tensor or None
            Boolean ``(B, T)`` mask of the real frames of a sequence input; None
            for an atom input.
        ctx : Evaluation
            State of the forward pass (the mixtures are memoised in it).

        Returns
        -------
        dict of int to torch.Tensor
            Mixed output by ``id`` of the edge.
        """
        return ctx.memo(("mixtures", self), x, lambda: self._mix(x, mask, ctx))

    def _mix(self, x, mask, ctx: Evaluation) -> dict[int, torch.Tensor]:
        outs = self.evaluate(x, mask, ctx)
        res: dict[int, torch.Tensor] = {}
        multi = []
        for e in self.incoming:
            idx = e.valid_indices()
            if len(idx) == 1:
                res[id(e)] = outs[idx[0]]
            else:
                multi.append(e)
        if multi:
            alive = sorted(outs)
            stacked = torch.stack([outs[i] for i in alive])
            weights = self._mixing_weights(multi, alive, ctx)
            mixed = weights @ stacked.reshape(len(alive), -1)
            mixed = mixed.reshape(len(multi), *stacked.shape[1:])
            res.update((id(e), m) for e, m in zip(multi, mixed.unbind(0)))
        return res

    def _mixing_weights(
        self, edges: list, alive: list[int], ctx: Evaluation
    ) -> torch.Tensor:
        """Softmax weights of ``edges`` over the live candidates (0 where not valid).

        They depend on the parameters only (the edges with several valid
        candidates and the live candidates do not change during a pass), so
        they are computed once per forward pass.
        """

        def compute() -> torch.Tensor:
            logits = torch.stack([e.alpha for e in edges])[:, alive]
            pos = {i: k for k, i in enumerate(alive)}
            valid = torch.zeros(len(edges), len(alive), dtype=torch.bool)
            for r, e in enumerate(edges):
                valid[r, [pos[i] for i in e.valid_indices()]] = True
            valid = valid.to(logits.device)
            logits = logits.masked_fill(~valid, float("-inf"))
            return torch.softmax(logits, 1)

        return ctx.once(("mixing", self), compute)


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

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._idx = list(self._idx)

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

        Every route of :meth:`forward` reads the new candidates from the next
        forward pass on: the owning graph checks its atom plans against the
        valid candidates of every edge they cover when a pass starts
        (:meth:`DerivationGraph.atom_plan
        <sklearn_dpads.graph.DerivationGraph.atom_plan>`). Which candidates
        are reachable is only recomputed by :meth:`DerivationGraph.refresh
        <sklearn_dpads.graph.DerivationGraph.refresh>`: call it after
        narrowing edges (as ``prune`` and ``fix`` do). Widening an edge to a
        candidate that was unreachable at the last refresh is not supported
        (the refresh dropped its subtree).

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

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        ctx: Evaluation | None = None,
    ) -> torch.Tensor:
        """Return the probability-weighted mixture of the valid candidates' outputs.

        Three routes give the same result up to floating-point rounding: the
        level-batched atom plan that the graph hands over in ``ctx.plans``
        (for an atom input), the mixtures of every edge into the same
        candidate set computed together (:meth:`CandidateSet.mixtures`), or
        this edge's own mixture (without an evaluation, or for an edge that
        is not among its target's ``incoming`` edges).

        Parameters
        ----------
        x : torch.Tensor
            Input, ``(B, T, d)`` for a sequence-input hole or ``(N, d)`` for an
            atom-input hole.
        mask : torch.Tensor or None
            Boolean ``(B, T)`` mask of the real frames of a sequence input; None
            for an atom input.
        ctx : Evaluation or None, default=None
            State of the forward pass; None: nothing is memoised or carried.

        Returns
        -------
        torch.Tensor
            The mixed output (the output itself when one candidate is valid).
        """
        if ctx is not None:
            if x.dim() == 2 and ctx.plans is not None:
                # an atom subtree: evaluate it level by level
                plan = ctx.plans(self)
                if plan is not None:
                    return plan(x, ctx)[plan.row(self)]
            mixed = self._target.mixtures(x, mask, ctx).get(id(self))
            if mixed is not None:
                return mixed
        outs = self._target.evaluate(x, mask, ctx)
        idx = self._idx
        if len(idx) == 1:
            return outs[idx[0]]
        p = torch.softmax(self.alpha[idx], dim=0)
        stacked = torch.stack([outs[i] for i in idx], dim=0)
        return torch.tensordot(p, stacked, dims=1)
