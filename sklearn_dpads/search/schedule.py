"""The unfolding / top-N schedule of a dPads search."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SearchStage", "default_schedule"]


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
    """dPads' schedule: unfold ``unfold_step`` levels, train, prune gradually.

    After each unfolding the graph is trained for ``unfold_epochs``, then
    pruned ``prune_start -> ... -> top_n`` candidates per edge with
    ``prune_epochs`` of training after each pruning (none after the last one,
    whose result goes to architecture selection).

    Returns
    -------
    tuple of SearchStage
    """
    stages = []
    depths = list(range(unfold_step, max_depth, unfold_step)) + [max_depth]
    for d in depths:
        stages.append(SearchStage(None, d, unfold_epochs))
        for n in range(max(prune_start, top_n), top_n - 1, -1):
            last = d == max_depth and n == top_n
            stages.append(SearchStage(n, d, 0 if last else prune_epochs))
    return tuple(stages)
