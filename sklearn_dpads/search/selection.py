"""dPads search driver and architecture selection (best-first over partitions).

The search never trains anything itself: it calls a *trainer* with this
protocol (see :class:`sklearn_dpads.training.SearchTrainer`)::

    trainer.train_graph(graph, epochs, seed=None) -> float     # bi-level, returns score
    trainer.train_program(graph, seed=None) -> (module, float) # discrete -> trained program

Scores are validation F1 in [0, 1] (higher is better); candidates are ranked by
``(1 - score) + penalty * structural_cost`` (lower is better).
"""

from __future__ import annotations

import copy
import heapq
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from joblib import Parallel, delayed

from sklearn_dpads.graph.derivation_graph import DerivationGraph
from sklearn_dpads.search.schedule import SearchStage

__all__ = [
    "SearchTrainer",
    "SearchClock",
    "SearchResult",
    "run_schedule",
    "select_program",
    "greedy_discretize",
]


class SearchTrainer(Protocol):
    def train_graph(
        self, graph: DerivationGraph, epochs: int, seed: int | None = None
    ) -> float: ...

    def train_program(
        self, graph: DerivationGraph, seed: int | None = None
    ) -> tuple[Any, float]: ...


@dataclass
class SearchResult:
    """What the search found and did."""

    module: Any
    program: Any
    score: float
    cost: float
    history: list = field(default_factory=list)
    timed_out: bool = False
    graph: Any = None


class SearchClock:
    def __init__(self, max_time: float | None):
        self.start = time.perf_counter()
        self.max_time = max_time

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def out(self) -> bool:
        return self.max_time is not None and self.elapsed() > self.max_time


def run_schedule(
    graph: DerivationGraph,
    stages: tuple[SearchStage, ...],
    trainer: SearchTrainer,
    *,
    log: Callable[[dict], None] | None = None,
    clock: SearchClock | None = None,
) -> bool:
    """Unfold, train and prune ``graph`` in place; False if time ran out."""
    clock = clock or SearchClock(None)
    for k, st in enumerate(stages):
        if st.top_n is not None:
            graph.prune(st.top_n)
        if st.depth > graph.frontier:
            graph.unfold(st.depth)
        score = float("nan")
        if st.epochs > 0:
            score = trainer.train_graph(graph, st.epochs)
        if log is not None:
            log(
                {
                    "phase": "unfold",
                    "stage": k,
                    "depth": graph.frontier,
                    "top_n": st.top_n,
                    "epochs": st.epochs,
                    "candidates": sum(1 for _ in graph.live_modules()),
                    "edges": len(graph.edges_bfs()),
                    "score": score,
                    "elapsed": clock.elapsed(),
                }
            )
        if clock.out():
            return False
    return True


def greedy_discretize(graph: DerivationGraph) -> DerivationGraph:
    """A copy of ``graph`` keeping the highest-alpha candidate of every edge."""
    g = copy.deepcopy(graph)
    while True:
        j = g.first_compound_edge()
        if j is None:
            return g
        e = g.edges_bfs()[j]
        probs = e.probabilities()
        best = max(probs, key=lambda i: (probs[i], -i))
        e.set_valid([best])
        g.refresh()


def _row(phase, program, score, cost, penalty, clock, **extra) -> dict:
    """One search-history row; ``objective = (1 - score) + penalty * cost``."""
    return {
        "phase": phase,
        "program": program,
        "complete": program is not None,
        "score": score,
        "cost": cost,
        "objective": (1.0 - score) + penalty * cost,
        "elapsed": clock.elapsed(),
        **extra,
    }


def _train_child(trainer, child, discrete: bool, epochs: int, seed: int):
    """Train one child of a split (a joblib task); returns it with its score."""
    if discrete:
        module, score = trainer.train_program(child, seed=seed)
        return child, module, score
    score = trainer.train_graph(child, epochs, seed=seed)
    return child, None, score


def _split(graph: DerivationGraph, j: int, i: int) -> DerivationGraph:
    child = copy.deepcopy(graph)
    child.edges_bfs()[j].set_valid([i])
    child.refresh()
    return child


def select_program(
    graph: DerivationGraph,
    trainer: SearchTrainer,
    *,
    penalty: float = 0.01,
    child_epochs: int = 2,
    max_expansions: int | None = None,
    log: Callable[[dict], None] | None = None,
    clock: SearchClock | None = None,
    n_jobs: int | None = None,
    seed: int = 0,
) -> SearchResult:
    """Best-first search over partitions of a fully unfolded graph (dPads §7).

    The first compound edge (breadth-first order) of the best-scored partial
    graph is split into one child per candidate; partial children are
    briefly retrained (bi-level) and queued, discrete children are trained as
    programs and may become the incumbent. The incumbent starts as the greedy
    (highest-probability) program, so a result exists even if the time or
    expansion budget stops the search early.

    The children of one split are trained independently, through
    :class:`joblib.Parallel` with ``n_jobs`` (so a user's joblib backend, e.g.
    Dask, runs them); each child's seed is fixed before dispatch, so results do
    not depend on ``n_jobs``.

    Returns
    -------
    SearchResult
    """
    clock = clock or SearchClock(None)
    history: list = []
    seeds = itertools.count(seed * 1000 + 1)

    def record(row: dict) -> None:
        history.append(row)
        if log is not None:
            log(row)

    def evaluate_discrete(g: DerivationGraph, origin: str):
        module, score = trainer.train_program(g, seed=seed * 1000)
        cost = g.structural_cost()
        program, _ = g.to_program()
        row = _row(origin, program, score, cost, penalty, clock)
        f = row["objective"]
        record(row)
        return f, module, program, score, cost

    greedy = greedy_discretize(graph)
    best_f, best_module, best_prog, best_score, best_cost = evaluate_discrete(
        greedy, "greedy"
    )
    best_graph = greedy
    seen_programs = {str(best_prog)}

    tie = itertools.count()
    frontier: list = [(-math.inf, next(tie), graph)]
    expansions = 0
    timed_out = False
    while frontier:
        if clock.out() or (max_expansions is not None and expansions >= max_expansions):
            timed_out = clock.out()
            break
        _, _, g = heapq.heappop(frontier)
        j = g.first_compound_edge()
        if j is None:
            continue
        expansions += 1
        edge = g.edges_bfs()[j]
        jobs = []
        for i in edge.valid_indices():
            child = _split(g, j, i)
            discrete = child.is_discrete()
            if discrete:
                program, _ = child.to_program()
                if str(program) in seen_programs:
                    continue
                seen_programs.add(str(program))
            jobs.append((i, child, discrete, next(seeds)))
        results = Parallel(n_jobs=n_jobs)(
            delayed(_train_child)(trainer, child, discrete, child_epochs, s)
            for _, child, discrete, s in jobs
        )
        for (i, _, discrete, _), (child, module, score) in zip(jobs, results):
            cost = child.structural_cost()
            program = child.to_program()[0] if discrete else None
            split = child.candidate_name(child.edges_bfs()[j], i)
            row = _row("select", program, score, cost, penalty, clock, split=split)
            f = row["objective"]
            record(row)
            if discrete:
                if f < best_f:
                    best_f, best_module, best_prog, best_score, best_cost = (
                        f,
                        module,
                        program,
                        score,
                        cost,
                    )
                    best_graph = child
            elif f < best_f:
                heapq.heappush(frontier, (f, next(tie), child))
        frontier = [e for e in frontier if e[0] < best_f]
        heapq.heapify(frontier)
    result = SearchResult(
        best_module, best_prog, best_score, best_cost, history, timed_out
    )
    result.graph = best_graph
    return result


def refine_leaves(
    result: SearchResult,
    trainer: SearchTrainer,
    *,
    penalty: float = 0.01,
    log: Callable[[dict], None] | None = None,
    clock: SearchClock | None = None,
    seed: int = 0,
) -> SearchResult:
    """Try widening each feature-group affine leaf to the full affine leaf.

    Early in bi-level training a narrow leaf on the single most predictive
    feature group often outscores the (initially noisy) full affine leaf and
    wins the top-N pruning, although a wider leaf fits better. This step
    retrains the chosen program with each such leaf replaced by a full
    affine leaf of the same candidate set, and keeps a replacement when the
    validation F1 improves (the structural cost is unchanged). It runs greedily,
    one leaf at a time, in breadth-first order.
    """
    clock = clock or SearchClock(None)
    graph = getattr(result, "graph", None)
    if graph is None:
        return result
    best = result
    j = 0
    while True:
        if clock.out():
            break
        edges = best.graph.edges_bfs()
        if j >= len(edges):
            break
        e = edges[j]
        (i,) = e.valid_indices()
        cand = e.target.cands[i]
        prod = cand.production
        wide = [
            k
            for k, c in enumerate(e.target.cands)
            if c.production.kind == "affine"
            and c.production.params.get("indices") is None
        ]
        j += 1
        if prod.kind != "affine" or prod.params.get("indices") is None or not wide:
            continue
        child = _split(best.graph, j - 1, wide[0])
        module, score = trainer.train_program(child, seed=seed * 1000 + 500 + j)
        cost = child.structural_cost()
        program, _ = child.to_program()
        row = _row("refine", program, score, cost, penalty, clock)
        best.history.append(row)
        if log is not None:
            log(row)
        if score > best.score:
            new = SearchResult(
                module, program, score, cost, best.history, best.timed_out
            )
            new.graph = child
            best = new
    return best
