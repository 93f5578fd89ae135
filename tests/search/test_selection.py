"""Unit tests of the search on a small fake partition space (no torch, no skorch)."""

from __future__ import annotations

import copy
import itertools

import pytest
from joblib import parallel_backend

from sklearn_dpads.search import (
    SearchClock,
    SearchRecord,
    SearchResult,
    greedy_discretize,
    refine_leaves,
    select_program,
)

# three choices of 3, 2 and 3 options: 18 programs
N_OPTIONS = (3, 2, 3)


def true_score(program: tuple[int, ...]) -> float:
    """A fixed score per complete program; (2, 0, 1) is the best one."""
    table = {(2, 0, 1): 0.95, (0, 0, 0): 0.7, (1, 1, 2): 0.8}
    return table.get(program, 0.5 + 0.01 * sum(program))


class FakePartition:
    """Programs as tuples of option indices; ``allowed[j]`` is what choice j may take."""

    def __init__(self, allowed=None, weights=None):
        self.allowed = allowed or [list(range(n)) for n in N_OPTIONS]
        # the learned preferences point the greedy program at (0, 0, 0)
        self.weights = weights or [
            {i: (1.0 if i == 0 else 0.1) for i in a} for a in self.allowed
        ]

    def open_edge(self):
        return next((j for j, a in enumerate(self.allowed) if len(a) > 1), None)

    def options(self, j):
        return list(self.allowed[j])

    def option_weights(self, j):
        return {i: self.weights[j][i] for i in self.allowed[j]}

    def option_name(self, j, i):
        return f"c{j}={i}"

    def fix(self, j, i):
        self.allowed[j] = [i]

    def split(self, j, i):
        child = copy.deepcopy(self)
        child.fix(j, i)
        return child

    def is_discrete(self):
        return self.open_edge() is None

    def to_program(self):
        assert self.is_discrete()
        return tuple(a[0] for a in self.allowed), None

    def structural_cost(self):
        return float(len(self.allowed))

    # refine protocol: choice 2's option 0 can be widened to option 1
    def n_edges(self):
        return len(self.allowed)

    def widening(self, j):
        return 1 if j == 2 and self.allowed[2] == [0] else None


class FakeTrainer:
    """Scores a partial partition by its best completion (an optimistic bound)."""

    def __init__(self):
        self.calls = []

    def _completions(self, part):
        return itertools.product(*part.allowed)

    def train_graph(self, graph, epochs, seed):
        self.calls.append(("graph", seed))
        return max(true_score(p) for p in self._completions(graph))

    def train_programs(self, graphs, seeds, batch_seed):
        return [self.train_program(g, s) for g, s in zip(graphs, seeds)]

    def train_program(self, graph, seed):
        self.calls.append(("program", seed))
        program = graph.to_program()[0]
        return f"module{program}", true_score(program)


def _select(**kw):
    kw.setdefault("seeds", itertools.count(100))
    kw.setdefault("penalty", 0.0)
    return select_program(FakePartition(), kw.pop("trainer", FakeTrainer()), **kw)


def test_greedy_discretize_follows_the_weights_and_copies():
    part = FakePartition()
    g = greedy_discretize(part)
    assert g.to_program()[0] == (0, 0, 0)
    assert part.open_edge() == 0  # the input is unchanged


def test_selection_finds_the_best_program():
    result = _select()
    assert isinstance(result, SearchResult)
    assert result.program == (2, 0, 1)
    assert result.score == pytest.approx(0.95)
    assert result.module == "module(2, 0, 1)"
    assert not result.timed_out


def test_no_expansion_returns_the_greedy_program():
    result = _select(max_expansions=0)
    assert result.program == (0, 0, 0)
    assert result.score == pytest.approx(0.7)


def test_records_carry_penalty_and_objective():
    records = []
    _select(record=records.append, penalty=0.01)
    assert all(isinstance(r, SearchRecord) for r in records)
    assert records[0].phase == "greedy" and records[0].complete
    assert {r.phase for r in records[1:]} == {"select"}
    for r in records:
        assert r.penalty == 0.01
        assert r.objective == pytest.approx(1 - r.score + 0.01 * r.cost)
        row = r.as_dict()
        assert row["penalty"] == 0.01 and row["objective"] == r.objective
    partial = [r for r in records if not r.complete]
    assert partial and all(r.split.startswith("c") for r in partial)


def test_penalty_trades_score_for_cost():
    # with a huge penalty every program costs the same, so the ranking stays
    assert _select(penalty=10.0).program == (2, 0, 1)


def test_each_training_gets_its_own_seed():
    trainer = FakeTrainer()
    _select(trainer=trainer)
    seeds = [s for _, s in trainer.calls]
    assert seeds[0] == 100  # the greedy program takes the first seed
    assert len(set(seeds)) == len(seeds)


def test_results_do_not_depend_on_n_jobs():
    t1, t2 = FakeTrainer(), FakeTrainer()
    r1 = _select(trainer=t1, n_jobs=1)
    with parallel_backend("threading", n_jobs=2):
        r2 = _select(trainer=t2, n_jobs=2)
    assert r1.program == r2.program
    assert sorted(t1.calls) == sorted(t2.calls)


def test_spent_clock_returns_the_incumbent():
    clock = SearchClock(1e-9)
    result = _select(clock=clock)
    assert result.timed_out
    assert result.program == (0, 0, 0)


def test_refine_keeps_a_widening_that_scores_better():
    base = FakePartition([[2], [0], [0]])
    result = SearchResult("m", (2, 0, 0), true_score((2, 0, 0)), 3.0, base)
    records = []
    refined = refine_leaves(
        result, FakeTrainer(), seeds=lambda j: 7 + j, record=records.append
    )
    assert refined.program == (2, 0, 1)  # 0.95 > 0.52
    assert [r.phase for r in records] == ["refine"]


def test_refine_keeps_the_program_when_widening_is_worse():
    base = FakePartition([[1], [1], [0]])
    score = 0.99  # better than the widened (1, 1, 1)
    result = SearchResult("m", (1, 1, 0), score, 3.0, base)
    assert refine_leaves(result, FakeTrainer(), seeds=lambda j: j) is result


def test_refine_without_a_partition_returns_the_result():
    result = SearchResult("m", (0,), 0.5, 1.0, None)
    assert refine_leaves(result, FakeTrainer(), seeds=lambda j: j) is result


def test_patience_stops_a_search_that_finds_nothing_better():
    trainer, full = FakeTrainer(), FakeTrainer()
    result = _select(trainer=trainer, patience=1)
    _select(trainer=full)
    # fewer trainings than the exhaustive search, never worse than the greedy
    assert len(trainer.calls) < len(full.calls)
    assert result.score >= 0.7


def test_patience_none_explores_until_the_budget():
    assert _select(patience=None).program == (2, 0, 1)
