"""Tests of the search driver, the schedule runner, seeds and the reporter."""

from __future__ import annotations

import re

import numpy as np
import pytest

from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.library import default_dsl
from sklearn_dpads.program import Program
from sklearn_dpads.search import (
    SearchClock,
    SearchConfig,
    SearchRecord,
    SearchSeeds,
    _progress,
    default_schedule,
    run_schedule,
    run_search,
)
from sklearn_dpads.search._progress import SearchReporter

DSL = default_dsl(3, {"a": [0], "b": [1, 2]})
HOLE = parse_type("list[3] -> atom[1]")


class ScoreByText:
    """Trains nothing: programs mentioning ``last3_avg`` score best."""

    def __init__(self):
        self.graph_seeds, self.program_seeds = [], []

    def train_graph(self, graph, epochs, seed):
        self.graph_seeds.append(seed)
        return 1.0  # optimistic: every partial partition is worth expanding

    def train_programs(self, graphs, seeds, batch_seed):
        return [self.train_program(g, s) for g, s in zip(graphs, seeds)]

    def train_program(self, graph, seed):
        self.program_seeds.append(seed)
        program = graph.to_program()[0]
        text = str(program)
        score = 0.6 + 0.3 * ("last3_avg" in text) + 0.05 * ("affine_b" in text)
        return graph.extract(), score


def _search(**kw):
    config = SearchConfig(max_depth=3, selection_epochs=1, penalty=0.0, **kw)
    records = []
    trainer = ScoreByText()
    result = run_search(
        DSL,
        HOLE,
        trainer,
        config,
        seeds=SearchSeeds(np.random.SeedSequence(0)),
        record=records.append,
    )
    return result, records, trainer


def test_run_search_records_every_stage_and_picks_a_program():
    result, records, trainer = _search(max_selection_steps=None)
    stages = [r for r in records if r.phase == "unfold"]
    assert len(stages) == len(default_schedule(3))
    assert records[len(stages)].phase == "greedy"
    assert isinstance(result.program, Program)
    complete = [r for r in records if r.complete]
    assert result.score == max(r.score for r in complete)
    assert result.program in {r.program for r in complete if r.score == result.score}
    assert not result.timed_out
    seeds = trainer.graph_seeds + trainer.program_seeds
    assert len(set(seeds)) == len(seeds)


def test_run_search_is_deterministic():
    a, rec_a, _ = _search(max_selection_steps=3)
    b, rec_b, _ = _search(max_selection_steps=3)
    assert a.program == b.program
    np.testing.assert_array_equal([r.score for r in rec_a], [r.score for r in rec_b])


def test_run_search_without_refinement_records_no_refine_rows():
    _, records, _ = _search(refine=False)
    assert "refine" not in {r.phase for r in records}


def test_spent_clock_still_gives_a_program():
    config = SearchConfig(max_depth=3)
    result = run_search(
        DSL,
        HOLE,
        ScoreByText(),
        config,
        seeds=SearchSeeds(np.random.SeedSequence(1)),
        clock=SearchClock(1e-9),
    )
    assert result.timed_out
    assert isinstance(result.program, Program)


class FakeGraph:
    def __init__(self):
        self.frontier = 0
        self.log = []

    def prune(self, n):
        self.log.append(("prune", n))

    def unfold(self, d):
        self.log.append(("unfold", d))
        self.frontier = d

    def live_modules(self):
        return iter(range(3))

    def n_edges(self):
        return 2


def test_run_schedule_stops_when_the_clock_runs_out():
    graph = FakeGraph()
    stages = default_schedule(4, 2, 2)
    finished = run_schedule(
        graph, stages, ScoreByText(), seeds=iter(range(99)), clock=SearchClock(1e-9)
    )
    assert not finished
    assert graph.log == [("unfold", 2)]  # only the first stage ran


def test_run_schedule_follows_the_stages():
    graph, records = FakeGraph(), []
    stages = default_schedule(4, 2, 2, unfold_epochs=3, prune_epochs=1)
    trainer = ScoreByText()
    assert run_schedule(
        graph, stages, trainer, seeds=iter(range(99)), record=records.append
    )
    assert [r.stage for r in records] == list(range(len(stages)))
    assert records[-1].depth == 4 and records[-1].top_n == 2
    assert len(trainer.graph_seeds) == sum(st.epochs > 0 for st in stages)


def test_search_seeds_are_distinct_and_reproducible():
    s = SearchSeeds(np.random.SeedSequence(3))
    a = [s.seed(p, k) for p in range(3) for k in range(50)]
    assert len(set(a)) == len(a)
    assert all(0 <= v < 2**31 for v in a)
    assert a == [
        SearchSeeds(np.random.SeedSequence(3)).seed(p, k)
        for p in range(3)
        for k in range(50)
    ]
    stream = s.stream(1)
    assert [next(stream) for _ in range(3)] == [s.seed(1, k) for k in range(3)]


@pytest.mark.parametrize("verbose", [0, 1, 2])
def test_reporter_verbosity(verbose, capsys):
    rep = SearchReporter(verbose, describe=lambda p: f"<{p}>", prefix="[x]")
    rep(
        SearchRecord(
            "unfold", 0.5, 1.0, stage=0, depth=2, top_n=None, candidates=4, epochs=2
        )
    )
    rep(SearchRecord("select", 0.7, 2.0, 0.01, 3.0, program="prog"))
    rep(SearchRecord("select", 0.6, 2.0, 0.01, 3.0, split="map"))
    rep.message("done")
    rep.close()
    out = capsys.readouterr().out.splitlines()
    assert len(rep.records) == 3
    if verbose == 0:
        assert out == []
    elif verbose == 1:
        assert len(out) == 2 and out[1] == "[x] done"
        assert re.fullmatch(
            r"\[x\] stage 1: depth 2, top-N None, 4 candidates kept, "
            r"score 0\.500, elapsed \d+\.\ds",
            out[0],
        )
    else:
        assert "[x]   select: <prog> held-out AP 0.700 cost 3 objective 0.330" in out
        assert (
            "[x]   select: partial (map) held-out AP 0.600 cost 3 objective 0.430"
            in out
        )


def test_a_stage_without_training_says_so(capsys):
    rep = SearchReporter(1, describe=str, prefix="[x]")
    nan = float("nan")
    rep(
        SearchRecord(
            "unfold", nan, 1.0, stage=7, depth=4, top_n=2, candidates=9, epochs=0
        )
    )
    out = capsys.readouterr().out
    assert "stage 8: depth 4, top-N 2, 9 candidates kept, not trained" in out
    assert "nan" not in out


def test_record_as_dict_keeps_the_history_keys():
    stage = SearchRecord("unfold", 0.5, 1.0, stage=0, depth=2, candidates=3, edges=1)
    assert set(stage.as_dict()) == {
        "phase",
        "stage",
        "depth",
        "top_n",
        "epochs",
        "candidates",
        "edges",
        "score",
        "elapsed",
    }
    cand = SearchRecord("greedy", 0.8, 1.0, 0.01, 2.0, program="p").as_dict()
    assert cand["complete"] and cand["objective"] == pytest.approx(0.22)
    assert "split" not in cand


def test_reporter_estimates_the_time_left(monkeypatch, capsys):
    now = [100.0]
    monkeypatch.setattr(_progress.time, "perf_counter", lambda: now[0])
    rep = SearchReporter(1, describe=lambda p: f"<{p}>", prefix="[x]")
    # the fine-tune: twice a selection program's epochs on twice its data
    rep.plan(
        [4, 2, 0],
        program_epochs=20,
        finetune_epochs=40,
        finetune_patience=5,
        n_search=50,
        n_train=100,
        n_total=200,
    )

    def stage(t, k, epochs):
        now[0] = 100.0 + t
        rep(SearchRecord("unfold", 0.5, t, stage=k, depth=2, epochs=epochs))

    stage(4.0, 0, 4)  # 1 s per epoch: 2 s of schedule left, then the shares
    stage(6.0, 1, 2)
    stage(6.0, 2, 0)
    rep(SearchRecord("select", 0.7, 8.0, 0.01, 3.0, program="prog"))
    rep(SearchRecord("select", 0.8, 12.0, 0.01, 3.0, program="prog"))
    now[0] = 112.0  # 3 s per program in the selection
    rep.search_done("prog", 0.8)
    rep.finetune_start()
    now[0] = 114.0
    rep.finetune_done(epochs=5)  # of 5 + 5 (patience) run
    out = capsys.readouterr().out.splitlines()
    share = _progress.SELECTION_SHARE + _progress.FINETUNE_SHARE
    assert out[0].startswith("[x] stage 1/3: depth 2")
    assert out[0].endswith(f"elapsed 4.0s, about {2 + 6 * share:.0f}s left")
    assert out[1].endswith(f"elapsed 6.0s, about {6 * share:.0f}s left")
    assert out[2].endswith(f"elapsed 6.0s, about {6 * share:.0f}s left")
    assert out[3] == (
        "[x] selection: 2 candidates scored, chose <prog> (score 0.800), "
        f"elapsed 12.0s, about {3 * 4 * (1 + _progress.REFIT_SHARE):.0f}s left"
    )
    # the refit: 5 of the 10 epochs' time (2 s), on twice the data
    assert out[4] == (
        "[x] fine-tune: 5 of 10 epochs chosen on the held-out split, refitting "
        "on all the data, elapsed 14.0s, about 2s left"
    )
