"""Leaf widening: an opt-in refinement step after the selection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from sklearn_dpads.search.history import SearchRecord
from sklearn_dpads.search.schedule import SearchClock
from sklearn_dpads.search.selection import SearchResult, SearchTrainer

__all__ = ["WidenablePartition", "refine_leaves"]


class WidenablePartition(Protocol):
    """A discrete partition whose leaves may be widened."""

    def n_edges(self) -> int:
        """Number of choices.

        Returns
        -------
        int
            The number of choices; they are indexed ``0 .. n_edges() - 1``.
        """

    def widening(self, j: int) -> int | None:
        """The wider option that may replace choice ``j``, or None.

        Parameters
        ----------
        j : int
            Index of a decided choice.

        Returns
        -------
        int or None
            The option index of the wider leaf, or None when choice ``j``
            cannot be widened.
        """

    def split(self, j: int, i: int) -> Any:
        """A copy with choice ``j`` set to option ``i``.

        Parameters
        ----------
        j : int
            Choice index.
        i : int
            Option index, e.g. the one :meth:`widening` returns.

        Returns
        -------
        WidenablePartition
            The new partition; this one is unchanged.
        """

    def to_program(self) -> tuple[Any, Any]:
        """``(program, extra)``.

        Returns
        -------
        program : object
            The program the partition stands for.
        extra : object
            Implementation-specific data that comes with it.
        """

    def structural_cost(self) -> float:
        """The program's structural cost.

        Returns
        -------
        float
            The cost (the penalty term of the recorded objective).
        """


def refine_leaves(
    result: SearchResult,
    trainer: SearchTrainer,
    *,
    seeds: Callable[[int], int],
    penalty: float = 0.01,
    record: Callable[[SearchRecord], None] | None = None,
    clock: SearchClock | None = None,
) -> SearchResult:
    """Try widening each feature-group leaf of the chosen program.

    Early in bi-level training a narrow leaf on the single most predictive
    feature group often outscores the (initially noisy) leaf over all
    features and wins the top-N pruning, although a wider leaf fits better.
    This step retrains the chosen program with each such leaf replaced by the
    wide leaf of the same candidate set, and keeps a replacement when the
    validation score improves (the structural cost is unchanged). It runs
    greedily, one leaf at a time, in breadth-first order.

    Parameters
    ----------
    result : SearchResult
        The selection's result; its ``partition`` must be a
        :class:`WidenablePartition` (otherwise it is returned unchanged).
    trainer : SearchTrainer
        Trains the widened programs.
    seeds : callable
        ``seeds(j)`` is the seed of the retraining of leaf ``j``.
    penalty : float, default=0.01
        Weight of the structural cost in the recorded objective.
    record : callable, default=None
        Receives a :class:`SearchRecord` per retrained program.
    clock : SearchClock, default=None
        Time budget.

    Returns
    -------
    SearchResult
        The best of the original and the widened programs.
    """
    clock = clock or SearchClock(None)
    best = result
    if best.partition is None or not hasattr(best.partition, "widening"):
        return best
    for j in range(best.partition.n_edges()):
        if clock.out():
            break
        wide = best.partition.widening(j)
        if wide is None:
            continue
        child = best.partition.split(j, wide)
        module, score = trainer.train_program(child, seed=seeds(j))
        cost = child.structural_cost()
        program = child.to_program()[0]
        if record is not None:
            record(
                SearchRecord(
                    "refine", score, clock.elapsed(), penalty, cost, program=program
                )
            )
        if score > best.score:
            best = SearchResult(
                module, program, score, cost, child, timed_out=best.timed_out
            )
    return best
