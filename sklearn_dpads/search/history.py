"""Typed records of what a search did: one per stage and per scored candidate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["SearchRecord"]


@dataclass(frozen=True)
class SearchRecord:
    """One row of a search history.

    A stage row (``phase="unfold"``) describes one step of the unfolding and
    pruning schedule; the other phases (``"greedy"``, ``"select"``,
    ``"refine"``, ``"grow"``) describe one scored candidate of the
    architecture selection or of the local search after it.

    Parameters
    ----------
    phase : str
        ``"unfold"``, ``"greedy"``, ``"select"``, ``"refine"`` or ``"grow"``.
    score : float
        Validation score of the stage or candidate (higher is better).
    elapsed : float
        Seconds since the search started.
    penalty : float, default=0.0
        Weight of the structural cost in the objective.
    cost : float or None, default=None
        Structural cost of a candidate (None for stage rows).
    program : object or None, default=None
        The candidate's program when it is complete (discrete).
    split : str or None, default=None
        The option that made a partial candidate (selection rows).
    stage, depth, top_n, epochs, candidates, edges : int or None
        Stage rows: index, unfolded depth, top-N applied, training epochs,
        live candidates and edges of the graph.
    """

    phase: str
    score: float
    elapsed: float
    penalty: float = 0.0
    cost: float | None = None
    program: Any = None
    split: str | None = None
    stage: int | None = None
    depth: int | None = None
    top_n: int | None = None
    epochs: int | None = None
    candidates: int | None = None
    edges: int | None = None

    @property
    def objective(self) -> float:
        """``(1 - score) + penalty * cost`` (lower is better; candidates only)."""
        return (1.0 - self.score) + self.penalty * (self.cost or 0.0)

    @property
    def complete(self) -> bool:
        """Whether the candidate is a complete (discrete) program."""
        return self.program is not None

    def as_dict(self) -> dict:
        """The record as the plain dict stored in ``search_history_``.

        Returns
        -------
        dict
            Stage rows: phase, stage, depth, top_n, epochs, candidates, edges,
            score, elapsed. Candidate rows: phase, program, complete, score,
            cost, penalty, objective, elapsed (and split for partial ones).
        """
        if self.phase == "unfold":
            keys = ("stage", "depth", "top_n", "epochs", "candidates", "edges")
            row = {"phase": self.phase, **{k: getattr(self, k) for k in keys}}
            row.update(score=self.score, elapsed=self.elapsed)
            return row
        row = {
            "phase": self.phase,
            "program": self.program,
            "complete": self.complete,
            "score": self.score,
            "cost": self.cost,
            "penalty": self.penalty,
            "objective": self.objective,
            "elapsed": self.elapsed,
        }
        if self.split is not None:
            row["split"] = self.split
        return row
