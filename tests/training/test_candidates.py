"""Tests for sklearn_dpads.training.candidates: programs trained one by one."""

import numpy as np
import pytest
import torch

from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.library import default_dsl
from sklearn_dpads.program import Program
from sklearn_dpads.training.candidates import CandidateTrainer
from sklearn_dpads.training.data import SequenceDataset
from sklearn_dpads.training.search_trainer import TrainerSettings

SETTINGS = TrainerSettings(n_classes=2, lr=0.05, batch_size=16, program_epochs=3)
DSL = default_dsl(2)
HOLE = parse_type("list[2] -> atom[1]")


def _data(n, seed):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 6, 2).astype(np.float32)
    y = (x[:, -3:, 0].mean(axis=1) > 0).astype(int)
    return SequenceDataset(x, np.full(n, 6), y)


def _trainer(**kw):
    return CandidateTrainer(
        DSL,
        HOLE,
        _data(120, 0),
        _data(80, 1),
        SETTINGS,
        finetune_epochs=kw.pop("finetune_epochs", 10),
        patience=None,
        batch_size=16,
        **kw,
    )


def test_screen_then_resume_counts_every_epoch_and_keeps_the_start():
    t = _trainer()
    [(screened, score)] = t.screen([Program.parse("(last3_avg (affine_x0))")], [0])
    assert screened.epochs == SETTINGS.program_epochs and 0 <= score <= 1
    assert score == pytest.approx(t.score(screened.module))
    full, full_score = t.resume(screened, seed=1)
    assert SETTINGS.program_epochs < full.epochs <= SETTINGS.program_epochs + 10
    assert full.start is screened.start
    assert full_score >= 0.9  # the planted rule, learned
    # the screened program is left as it was
    assert t.score(screened.module) == pytest.approx(score)


def test_the_same_seed_gives_the_same_program():
    t = _trainer()
    a = t.screen([Program.parse("(last5_avg (affine))")], [3])[0][1]
    b = t.screen([Program.parse("(last5_avg (affine))")], [3])[0][1]
    assert a == b


def test_margin_is_zero_for_one_program_and_positive_for_two():
    t = _trainer()
    (a, _), (b, _) = t.screen(
        [
            Program.parse("(last5_avg (affine_x0))"),
            Program.parse("(last5_avg (affine_x1))"),
        ],
        [0, 0],
    )
    assert t.margin(a, a) == 0.0
    assert t.margin(a, b) > 0.0


def test_cost_is_the_canonical_cost():
    t = _trainer()
    assert t.cost(Program.parse("(last5_avg (add (affine_x0) (const)))")) == 2.0
    # of the canonical form, affine_x0: one feature of two
    assert t.reads(Program.parse("(last5_avg (add (affine_x0) (const)))")) == 0.5


PROGRAMS = [
    "(last5_avg (affine_x0))",
    "(last3_avg (affine))",
    "(ite (last3_avg (affine_x1)) (last5_avg (affine)) (last3_avg (affine_x0)))",
]


@pytest.mark.parametrize("group", [1, 2, 3])
def test_programs_screened_side_by_side_train_as_if_alone(group):
    # one group of three, or groups of one or two: the same batch order (the
    # first seed's) gives every program the weights it would get alone
    seeds = [5, 5, 5]
    t = _trainer(screen_group=group)
    together = t.screen([Program.parse(p) for p in PROGRAMS], seeds)
    alone = _trainer(screen_group=1)
    for p, (tuned, score) in zip(PROGRAMS, together):
        [(ref, ref_score)] = alone.screen([Program.parse(p)], [5])
        assert score == pytest.approx(ref_score, abs=1e-6)
        for a, b in zip(tuned.module.parameters(), ref.module.parameters()):
            np.testing.assert_allclose(a.detach(), b.detach(), rtol=1e-4, atol=1e-6)
        assert tuned.epochs == SETTINGS.program_epochs
        # the start is the initial weights, not the trained ones
        assert not all(
            np.allclose(a.detach(), b.detach())
            for a, b in zip(tuned.start.parameters(), tuned.module.parameters())
        )


def test_screen_needs_one_seed_per_program():
    with pytest.raises(ValueError, match="2 programs but 1 seeds"):
        _trainer().screen([Program.parse(p) for p in PROGRAMS[:2]], [0])


def test_a_screen_with_a_parent_starts_from_its_weights():
    t = _trainer()
    [(parent, _)] = t.screen([Program.parse("(last3_avg (affine))")], [0])
    grown = Program.parse("(last3_avg (ite (affine_x1) (affine) (affine)))")
    [(warm, _)] = t.screen([grown], [1], parent)
    [(cold, _)] = t.screen([grown], [1])
    x = t.held.x[:5]
    # the branch starts as the parent's program: ite(C, S, S) is S
    assert torch.allclose(warm.start(x), parent.module(x), atol=1e-6)
    assert not torch.allclose(cold.start(x), parent.module(x), atol=1e-3)
    with pytest.raises(ValueError, match="2 programs but 1 seeds"):
        t.screen([grown, grown], [1], parent)


def test_screening_on_a_subsample_takes_as_many_steps_on_smaller_batches(
    monkeypatch,
):
    small = _data(30, 2)
    t = _trainer(screen_train=small)
    assert t.screen_train is small and t.train is not small
    assert t.screen_batch_size == 8  # 16 * 30 / 120 = 4, at least 8
    assert _trainer().screen_batch_size == 16
    seen = []
    fit_programs = type(t._trainer).fit_programs

    def spy(self, modules, data, *args, **kw):
        seen.append((data, kw["batch_size"]))
        return fit_programs(self, modules, data, *args, **kw)

    monkeypatch.setattr(type(t._trainer), "fit_programs", spy)
    [(screened, _)] = t.screen([Program.parse("(last3_avg (affine_x0))")], [0])
    assert seen == [(small, 8)]
    # the finalists train on the whole split
    full, score = t.resume(screened, seed=1)
    assert full.epochs > screened.epochs and score >= 0.9
