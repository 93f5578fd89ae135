"""Tests for sklearn_dpads.training.population: programs trained side by side."""

import copy

import numpy as np
import pytest
import torch

from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.library import default_dsl
from sklearn_dpads.semantics import compile_program
from sklearn_dpads.training.data import SequenceDataset
from sklearn_dpads.training.losses import ProgramLoss
from sklearn_dpads.training.population import (
    PopulationLoss,
    PopulationNet,
    ProgramPopulation,
)
from sklearn_dpads.training.search_trainer import SkorchSearchTrainer, TrainerSettings

SETTINGS = TrainerSettings(n_classes=2, lr=0.05, batch_size=16, program_epochs=6)
DSL = default_dsl(2)
HOLE = parse_type("list[2] -> atom[1]")
PROGRAMS = [
    "(last5_avg (affine_x0))",
    "(ite (last3_avg (affine_x1)) (last5_avg (affine)) (last3_avg (affine_x0)))",
    "(fold (affine))",
]


def _data(n, seed):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 6, 2).astype(np.float32)
    y = (x[:, -3:, 0].mean(axis=1) > 0).astype(int)
    return SequenceDataset(x, np.full(n, 6), y)


def _modules():
    out = []
    for i, p in enumerate(PROGRAMS):
        torch.manual_seed(i)
        out.append(compile_program(p, DSL, HOLE))
    return out


def test_each_member_keeps_its_own_best_epoch_as_if_alone():
    train, valid = _data(96, 0), _data(64, 1)
    trainer = SkorchSearchTrainer(train, valid, SETTINGS)
    start = _modules()
    together, scores, epochs = trainer.fit_programs(
        copy.deepcopy(start), train, valid, 6, seed=3
    )
    for m0, m, score, epoch in zip(start, together, scores, epochs):
        alone, want, kept = trainer.fit_program(
            copy.deepcopy(m0), train, valid, 6, seed=3
        )
        assert score == want and epoch == kept
        for a, b in zip(m.parameters(), alone.parameters()):
            np.testing.assert_array_equal(a.detach(), b.detach())


def test_without_validation_every_member_keeps_its_last_epoch():
    train = _data(96, 0)
    trainer = SkorchSearchTrainer(train, train, SETTINGS)
    _, scores, epochs = trainer.fit_programs(_modules(), train, None, 4, seed=0)
    assert scores == [0.0] * 3 and epochs == [4] * 3


def test_a_member_with_a_non_finite_gradient_does_not_move_the_others():
    train = _data(48, 0)
    trainer = SkorchSearchTrainer(train, train, SETTINGS)
    start = _modules()[:2]
    poisoned = copy.deepcopy(start)
    with torch.no_grad():
        next(poisoned[0].parameters()).fill_(float("nan"))
    (_, healthy), _, _ = trainer.fit_programs(poisoned, train, None, 2, seed=0)
    (_, ref), _, _ = trainer.fit_programs(copy.deepcopy(start), train, None, 2, seed=0)
    for a, b in zip(healthy.parameters(), ref.parameters()):
        np.testing.assert_array_equal(a.detach(), b.detach())


def test_a_population_needs_members_and_no_patience():
    with pytest.raises(ValueError, match="at least one program"):
        ProgramPopulation([])
    with pytest.raises(ValueError, match="without early stopping"):
        PopulationNet(
            ProgramPopulation(_modules()),
            criterion=PopulationLoss(ProgramLoss(2)),
            patience=3,
        )
