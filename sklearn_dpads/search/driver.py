"""The whole dPads search in one function: schedule, selection, refinement."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from sklearn_dpads.graph.derivation_graph import DerivationGraph
from sklearn_dpads.search.history import SearchRecord
from sklearn_dpads.search.refine import refine_leaves
from sklearn_dpads.search.schedule import SearchClock, default_schedule, run_schedule
from sklearn_dpads.search.selection import SearchResult, SearchTrainer, select_program

__all__ = ["SearchConfig", "SearchSeeds", "run_search"]


@dataclass(frozen=True)
class SearchConfig:
    """Settings of one search (the estimator's search parameters, resolved).

    Parameters
    ----------
    max_depth : int
        Maximum program depth.
    unfold_step : int, default=2
        Levels unfolded at a time.
    top_n : int, default=2
        Candidates kept per edge before the selection.
    search_epochs, prune_epochs : int, default=4, 2
        Bi-level epochs after each unfolding and after each pruning.
    selection_epochs : int, default=1
        Bi-level epochs of each partial child in the selection.
    max_selection_steps : int or None, default=30
        Most partitions split by the selection.
    selection_patience : int or None, default=5
        The selection also stops after this many splits in a row that found
        no better program (None: only ``max_selection_steps`` stops it).
    penalty : float, default=0.01
        Weight of the structural cost.
    share_nodes : bool, default=True
        Use dPads node sharing in the derivation graph.
    refine : bool, default=True
        Try widening group leaves after the selection.
    n_jobs : int or None, default=None
        Number of joblib jobs of a selection step.
    device : str, default="cpu"
        Torch device of the graph.
    """

    max_depth: int
    unfold_step: int = 2
    top_n: int = 2
    search_epochs: int = 4
    prune_epochs: int = 2
    selection_epochs: int = 1
    max_selection_steps: int | None = 30
    selection_patience: int | None = 5
    penalty: float = 0.01
    share_nodes: bool = True
    refine: bool = True
    n_jobs: int | None = None
    device: str = "cpu"

    def stages(self) -> tuple:
        """The unfolding / top-N schedule of these settings.

        Returns
        -------
        tuple of SearchStage
            :func:`~sklearn_dpads.search.default_schedule` of the settings.
        """
        return default_schedule(
            self.max_depth,
            self.unfold_step,
            self.top_n,
            unfold_epochs=self.search_epochs,
            prune_epochs=self.prune_epochs,
        )


@dataclass(frozen=True)
class SearchSeeds:
    """Seeds of the trainings of a search, all derived from one SeedSequence.

    Each training gets its own child of ``root`` (by purpose and index), so
    seeds never collide and do not depend on the order of dispatch.

    Parameters
    ----------
    root : numpy.random.SeedSequence
        The search's seed sequence.
    """

    root: np.random.SeedSequence

    def seed(self, purpose: int, k: int) -> int:
        """The seed of training ``k`` of a purpose (0 stages, 1 selection, 2 refine).

        Parameters
        ----------
        purpose, k : int
            Which trainings, and which one of them.

        Returns
        -------
        int
            A seed in ``[0, 2**31)``.
        """
        child = np.random.SeedSequence(
            self.root.entropy, spawn_key=(*self.root.spawn_key, purpose, k)
        )
        return int(child.generate_state(1)[0] >> 1)

    def stream(self, purpose: int) -> Iterator[int]:
        """The seeds of one purpose, in order.

        Parameters
        ----------
        purpose : int
            0 stages, 1 selection (greedy program, then children), 2 refine.

        Returns
        -------
        iterator of int
            ``seed(purpose, 0)``, ``seed(purpose, 1)``, ...
        """
        return (self.seed(purpose, k) for k in itertools.count())


def run_search(
    dsl: Any,
    hole: Any,
    trainer: SearchTrainer,
    config: SearchConfig,
    *,
    seeds: SearchSeeds,
    clock: SearchClock | None = None,
    record: Callable[[SearchRecord], None] | None = None,
) -> SearchResult:
    """Search a program: unfold and prune the derivation graph, select, refine.

    The graph of all programs of ``dsl`` of type ``hole`` up to
    ``config.max_depth`` is unfolded ``unfold_step`` levels at a time, trained
    bi-level and pruned to ``top_n`` candidates per edge (the schedule); a
    best-first search over its partitions then picks one program, whose
    group leaves are finally widened where that scores better. When the clock
    runs out the schedule finishes unfolding without training and the
    selection keeps the best program found so far.

    Parameters
    ----------
    dsl : DSL
        The grammar.
    hole : FunctionType
        The program's type.
    trainer : SearchTrainer
        Trains graphs and programs.
    config : SearchConfig
        Search settings.
    seeds : SearchSeeds
        Seeds of every training.
    clock : SearchClock, default=None
        Time budget of the search.
    record : callable, default=None
        Receives a :class:`SearchRecord` per stage and scored candidate.

    Returns
    -------
    SearchResult
        The chosen program, its trained module and score; ``timed_out`` says
        whether the budget cut the search short.
    """
    clock = clock or SearchClock(None)
    graph = DerivationGraph(dsl, hole, config.max_depth, share_nodes=config.share_nodes)
    graph = graph.to(config.device)
    finished = run_schedule(
        graph,
        config.stages(),
        trainer,
        seeds=seeds.stream(0),
        record=record,
        clock=clock,
    )
    if not finished:  # finish unfolding without training so that a program exists
        graph.unfold(config.max_depth)
        graph.prune(config.top_n)
    result = select_program(
        graph,
        trainer,
        seeds=seeds.stream(1),
        penalty=config.penalty,
        child_epochs=config.selection_epochs,
        max_expansions=config.max_selection_steps,
        patience=config.selection_patience,
        record=record,
        clock=clock,
        n_jobs=config.n_jobs,
    )
    if config.refine:
        result = refine_leaves(
            result,
            trainer,
            seeds=lambda j: seeds.seed(2, j),
            penalty=config.penalty,
            record=record,
            clock=clock,
        )
    result.timed_out = not finished or result.timed_out or clock.out()
    return result
