"""Architecture selection: best-first search over partitions (dPads §7).

The search knows neither torch modules nor skorch. It sees the derivation
graph through the :class:`Partition` protocol and trains through a
:class:`SearchTrainer`; programs are ranked by
``(1 - score) + penalty * structural_cost`` (lower is better), where scores are
held-out scores in [0, 1] (higher is better). A partial partition is ranked
by its rollout: its most preferred program, trained with the same budget as
every other program.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from joblib import Parallel, delayed, effective_n_jobs

from sklearn_dpads.search.history import SearchRecord
from sklearn_dpads.search.schedule import SearchClock

__all__ = [
    "Partition",
    "SearchTrainer",
    "SearchResult",
    "select_program",
    "greedy_discretize",
]


class Partition(Protocol):
    """A set of programs, some of whose choices are still open.

    The derivation graph implements it; tests use a small fake.
    """

    def open_edge(self) -> int | None:
        """Index of the first undecided choice, or None.

        Returns
        -------
        int or None
            The choice index (breadth-first order), or None when every choice
            is decided.
        """

    def options(self, j: int) -> list[int]:
        """Return the options still allowed at choice ``j``.

        Parameters
        ----------
        j : int
            Choice index.

        Returns
        -------
        list of int
            The indices of the allowed options.
        """

    def option_weights(self, j: int) -> dict[int, float]:
        """Learned preference of each option of choice ``j``.

        Parameters
        ----------
        j : int
            Choice index.

        Returns
        -------
        dict of int to float
            Weight (higher is preferred) by option index, for the allowed
            options.
        """

    def option_name(self, j: int, i: int) -> str:
        """Readable name of option ``i`` of choice ``j``.

        Parameters
        ----------
        j : int
            Choice index.
        i : int
            Option index.

        Returns
        -------
        str
            The name, used in the search records.
        """

    def fix(self, j: int, i: int) -> None:
        """Decide choice ``j`` as option ``i``, in place.

        Parameters
        ----------
        j : int
            Choice index.
        i : int
            Option index, one of ``options(j)``.
        """

    def split(self, j: int, i: int) -> Partition:
        """A copy with choice ``j`` decided as option ``i``.

        Parameters
        ----------
        j : int
            Choice index.
        i : int
            Option index, one of ``options(j)``.

        Returns
        -------
        Partition
            The new partition; this one is unchanged.
        """

    def is_discrete(self) -> bool:
        """Whether the partition is a single complete program.

        Returns
        -------
        bool
            True when no choice is left open.
        """

    def to_program(self) -> tuple[Any, Any]:
        """``(program, extra)`` of a discrete partition.

        Returns
        -------
        program : object
            The program the partition stands for.
        extra : object
            Implementation-specific data that comes with it.
        """

    def structural_cost(self) -> float:
        """Cost of the cheapest program in the partition.

        Returns
        -------
        float
            The structural cost (exact for a discrete partition).
        """


class SearchTrainer(Protocol):
    """Trains partitions; implemented with skorch in ``sklearn_dpads.training``."""

    def train_graph(self, graph: Any, epochs: int, seed: int) -> float:
        """Train a partial partition (bi-level); return its validation score.

        Parameters
        ----------
        graph : Partition
            The partition to train, in place.
        epochs : int
            Bi-level training epochs.
        seed : int
            Random seed of this training run.

        Returns
        -------
        float
            Validation score in [0, 1] (higher is better).
        """

    def train_program(self, graph: Any, seed: int) -> tuple[Any, float]:
        """Train a discrete partition's program; return ``(module, score)``.

        Parameters
        ----------
        graph : Partition
            A discrete partition; the weights of its program are trained
            (the partition itself is left unchanged).
        seed : int
            Random seed of this training run.

        Returns
        -------
        module : object
            The trained program.
        score : float
            Its validation score in [0, 1] (higher is better).
        """

    def train_programs(
        self, graphs: Sequence[Any], seeds: Sequence[int], batch_seed: int
    ) -> list[tuple[Any, float]]:
        """:meth:`train_program` for several partitions.

        Each result must be the same whatever other partitions are trained in
        the same call (the search groups them by worker).

        Parameters
        ----------
        graphs : sequence of Partition
            Discrete partitions.
        seeds : sequence of int
            One seed per partition.
        batch_seed : int
            Seed shared by the call (for example of a common batch order).

        Returns
        -------
        list of tuple of (object, float)
            ``(module, score)`` per partition.
        """


@dataclass
class SearchResult:
    """What the selection found.

    Parameters
    ----------
    module : object
        The trained program (whatever the trainer returns).
    program : object
        The discrete program.
    score : float
        Its validation score.
    cost : float
        Its structural cost.
    partition : Partition, default=None
        The discrete partition it came from.
    timed_out : bool, default=False
        Whether the time budget stopped the search.
    """

    module: Any
    program: Any
    score: float
    cost: float
    partition: Any = None
    timed_out: bool = False


@dataclass(order=True)
class _Entry:
    objective: float
    tie: int
    partition: Any = field(compare=False)


def greedy_discretize(partition: Partition) -> Partition:
    """A copy of ``partition`` keeping the most preferred option of every choice.

    Parameters
    ----------
    partition : Partition
        A partial or complete partition (left unchanged).

    Returns
    -------
    Partition
        A discrete partition.
    """
    j = partition.open_edge()
    if j is None:
        return partition.split(0, partition.options(0)[0])
    weights = partition.option_weights(j)
    g = partition.split(j, max(weights, key=lambda i: (weights[i], -i)))
    while (j := g.open_edge()) is not None:
        weights = g.option_weights(j)
        g.fix(j, max(weights, key=lambda i: (weights[i], -i)))
    return g


def _train_graph(trainer, child, epochs: int, seed: int):
    """Retrain a partial child (bi-level); a joblib task."""
    score = trainer.train_graph(child, epochs, seed=seed)
    return child, score


def _train_program(trainer, rollout, seed: int):
    """Train a discrete partition's program; a joblib task.

    The trainer is an argument, not the bound method's owner, so that a joblib
    backend can send it once for all the tasks of a call (dask scatters it).
    """
    return trainer.train_program(rollout, seed=seed)


def _train_programs(trainer, rollouts, seeds, batch_seed: int):
    """Train discrete partitions' programs side by side; a joblib task."""
    return trainer.train_programs(rollouts, seeds, batch_seed)


def _groups(n: int, n_groups: int) -> list[range]:
    """``range(n)`` cut into at most ``n_groups`` consecutive, even groups."""
    k = max(1, min(n, n_groups))
    bounds = [round(i * n / k) for i in range(k + 1)]
    return [range(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def select_program(
    graph: Partition,
    trainer: SearchTrainer,
    *,
    seeds: Iterator[int],
    penalty: float = 0.01,
    child_epochs: int = 2,
    max_expansions: int | None = None,
    patience: int | None = None,
    record: Callable[[SearchRecord], None] | None = None,
    clock: SearchClock | None = None,
    n_jobs: int | None = None,
) -> SearchResult:
    """Best-first search over partitions of a fully unfolded graph, with rollouts.

    The first open choice (breadth-first order) of the most promising
    partial partition is split into one child per option. A partial child is
    retrained briefly (bi-level, ``child_epochs``, warm-started from its
    parent), then scored by its *rollout*: its most preferred completion
    (:func:`greedy_discretize`), trained as a program exactly as the
    incumbent and every discrete child are. So every partition is ranked by
    the held-out score of a program that it contains, trained with the same
    budget, and every rollout is a candidate for the incumbent. A program
    already trained is not trained again.

    The incumbent starts as the greedy program of the whole graph, so a
    result exists even if the time or expansion budget stops the search
    early. Partial children are expanded best rollout first until
    ``max_expansions`` splits are made, ``patience`` splits in a row found no
    better program, the clock runs out or no partial partition is left.

    The trainings of one split run through :class:`joblib.Parallel` with
    ``n_jobs`` (so a user's joblib backend runs them); every seed is drawn
    before dispatch, so results do not depend on ``n_jobs`` or on where the
    tasks run. The trainer and the partitions travel to the workers pickled
    (and the retrained partitions back). Inside a Dask worker joblib's dask
    backend stays active: the trainings go back to the cluster while the
    waiting task leaves its worker's thread pool, so nesting does not
    deadlock; in a loky worker they run on joblib's nested backend (threads,
    or sequentially).

    Parameters
    ----------
    graph : Partition
        The pruned, fully unfolded partition (left unchanged).
    trainer : SearchTrainer
        Trains candidates.
    seeds : iterator of int
        Seeds: the first for the greedy program, then one per training.
    penalty : float, default=0.01
        Weight of the structural cost.
    child_epochs : int, default=2
        Bi-level epochs of each partial child before its rollout.
    max_expansions : int or None, default=None
        Most partitions split.
    patience : int or None, default=None
        Stop after this many splits in a row without a better program.
    record : callable, default=None
        Receives a :class:`SearchRecord` per scored candidate.
    clock : SearchClock, default=None
        Time budget.
    n_jobs : int or None, default=None
        Number of joblib jobs for the trainings of one split.

    Returns
    -------
    SearchResult
        The best program found.
    """
    clock = clock or SearchClock(None)

    def emit(phase, score, cost, program=None, split=None) -> float:
        rec = SearchRecord(
            phase, score, clock.elapsed(), penalty, cost, program=program, split=split
        )
        if record is not None:
            record(rec)
        return rec.objective

    greedy = greedy_discretize(graph)
    module, score = trainer.train_program(greedy, seed=next(seeds))
    program, cost = greedy.to_program()[0], greedy.structural_cost()
    best_f = emit("greedy", score, cost, program)
    best = SearchResult(module, program, score, cost, greedy)
    # program text -> objective of its training (each program is trained once)
    trained = {str(program): best_f}

    tie = itertools.count()
    frontier = [_Entry(-math.inf, next(tie), graph)]
    expansions = stale = 0
    while frontier:
        if clock.out() or (max_expansions is not None and expansions >= max_expansions):
            best.timed_out = clock.out()
            break
        if patience is not None and stale >= patience:
            break
        g = heapq.heappop(frontier).partition
        j = g.open_edge()
        if j is None:
            continue
        expansions += 1
        stale += 1
        children = [(i, g.split(j, i)) for i in g.options(j)]
        partial = [(i, c) for i, c in children if not c.is_discrete()]
        # 1. partial children adapt to their fixed choice
        retrained = Parallel(n_jobs=n_jobs)(
            delayed(_train_graph)(trainer, c, child_epochs, s)
            for (_, c), s in zip(partial, [next(seeds) for _ in partial])
        )
        done = dict(zip([i for i, _ in partial], retrained))
        # 2. each child's program (its rollout, or itself when discrete) is
        # trained once, with the incumbent's budget
        rows = []  # (option, child, rollout, program text)
        for i, c in children:
            if i in done:
                c, score = done[i]
                emit("select", score, c.structural_cost(), split=g.option_name(j, i))
                rollout = greedy_discretize(c)
            else:
                rollout = c
            rows.append((i, c, rollout, str(rollout.to_program()[0])))
        todo: dict[str, tuple] = {}
        for i, _, rollout, key in rows:
            if key not in trained and key not in todo:
                todo[key] = (i, rollout, next(seeds))
        # side by side, in as many groups as there are workers: a program's
        # result does not depend on its group (one batch order for all)
        items = list(todo.values())
        batch_seed = next(seeds)
        groups = _groups(len(items), effective_n_jobs(n_jobs))
        results = [
            r
            for part in Parallel(n_jobs=n_jobs)(
                delayed(_train_programs)(
                    trainer,
                    [items[k][1] for k in g],
                    [items[k][2] for k in g],
                    batch_seed,
                )
                for g in groups
            )
            for r in part
        ]
        for (key, (i, rollout, _)), (module, score) in zip(todo.items(), results):
            program, cost = rollout.to_program()[0], rollout.structural_cost()
            f = emit("select", score, cost, program, split=g.option_name(j, i))
            trained[key] = f
            if f < best_f:
                best_f, stale = f, 0
                best = SearchResult(module, program, score, cost, rollout)
        # 3. partial children wait their turn, best rollout first
        for _, c, _, key in rows:
            if not c.is_discrete():
                heapq.heappush(frontier, _Entry(trained[key], next(tie), c))
    return best
