"""The unfolding / top-N schedule of a dPads search, and the search clock."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sklearn_dpads.search.history import SearchRecord

__all__ = ["SearchClock", "SearchStage", "default_schedule", "run_schedule"]


class SearchClock:
    """Elapsed time and an optional deadline.

    Parameters
    ----------
    max_time : float or None
        Seconds from now after which :meth:`out` is true (None: never).
    """

    def __init__(self, max_time: float | None) -> None:
        self.start = time.perf_counter()
        self.max_time = max_time

    def elapsed(self) -> float:
        """Return the seconds since the clock was made.

        Returns
        -------
        float
            Elapsed wall-clock seconds.
        """
        return time.perf_counter() - self.start

    def out(self) -> bool:
        """Whether the time budget is spent.

        Returns
        -------
        bool
            True once more than ``max_time`` seconds have elapsed.
        """
        return self.max_time is not None and self.elapsed() > self.max_time


@dataclass(frozen=True)
class SearchStage:
    """One stage: optionally prune to ``top_n``, optionally unfold, then train.

    Parameters
    ----------
    top_n : int or None
        Top-N preservation applied first (None: no pruning).
    depth : int
        Unfold the graph to this depth (no-op if already there).
    epochs : int
        Bi-level epochs after pruning and unfolding.
    """

    top_n: int | None
    depth: int
    epochs: int


def default_schedule(
    max_depth: int,
    unfold_step: int = 2,
    top_n: int = 2,
    *,
    unfold_epochs: int = 4,
    prune_epochs: int = 2,
    prune_start: int = 4,
) -> tuple[SearchStage, ...]:
    """Build dPads' schedule: unfold ``unfold_step`` levels, train, prune gradually.

    After each unfolding the graph is trained for ``unfold_epochs``, then
    pruned ``prune_start -> ... -> top_n`` candidates per edge with
    ``prune_epochs`` of training after each pruning (none after the last one,
    whose result goes to architecture selection).

    Parameters
    ----------
    max_depth : int
        Depth of the fully unfolded graph; the last unfolding reaches it.
    unfold_step : int, default=2
        Levels unfolded per unfolding: the graph is unfolded to depths
        ``unfold_step, 2 * unfold_step, ...`` below ``max_depth``, then to
        ``max_depth``.
    top_n : int, default=2
        Candidates per edge kept by the last pruning after each unfolding.
    unfold_epochs : int, default=4
        Bi-level epochs right after each unfolding.
    prune_epochs : int, default=2
        Bi-level epochs after each pruning but the very last one.
    prune_start : int, default=4
        Candidates per edge kept by the first pruning after each unfolding
        (``top_n`` if larger); each later pruning keeps one fewer.

    Returns
    -------
    tuple of SearchStage
        The stages in order, for :func:`run_schedule`.
    """
    stages = []
    depths = list(range(unfold_step, max_depth, unfold_step)) + [max_depth]
    for d in depths:
        stages.append(SearchStage(None, d, unfold_epochs))
        for n in range(max(prune_start, top_n), top_n - 1, -1):
            last = d == max_depth and n == top_n
            stages.append(SearchStage(n, d, 0 if last else prune_epochs))
    return tuple(stages)


def run_schedule(
    graph: Any,
    stages: tuple[SearchStage, ...],
    trainer: Any,
    *,
    seeds: Iterator[int],
    record: Callable[[SearchRecord], None] | None = None,
    clock: SearchClock | None = None,
) -> bool:
    """Unfold, train and prune ``graph`` in place, stage by stage.

    Parameters
    ----------
    graph : DerivationGraph
        The graph (``prune``, ``unfold``, ``frontier``, ``live_modules``,
        ``n_edges``).
    stages : tuple of SearchStage
        The schedule.
    trainer : SearchTrainer
        Trains the graph (``train_graph(graph, epochs, seed)``).
    seeds : iterator of int
        One seed per stage that trains.
    record : callable, default=None
        Receives one :class:`SearchRecord` per stage.
    clock : SearchClock, default=None
        Time budget.

    Returns
    -------
    bool
        False if the time budget ran out before the last stage.
    """
    clock = clock or SearchClock(None)
    for k, st in enumerate(stages):
        if st.top_n is not None:
            graph.prune(st.top_n)
        if st.depth > graph.frontier:
            graph.unfold(st.depth)
        score = float("nan")
        if st.epochs > 0:
            score = trainer.train_graph(graph, st.epochs, seed=next(seeds))
        if record is not None:
            record(
                SearchRecord(
                    "unfold",
                    score,
                    clock.elapsed(),
                    stage=k,
                    depth=graph.frontier,
                    top_n=st.top_n,
                    epochs=st.epochs,
                    candidates=sum(1 for _ in graph.live_modules()),
                    edges=graph.n_edges(),
                )
            )
        if clock.out():
            return False
    return True
