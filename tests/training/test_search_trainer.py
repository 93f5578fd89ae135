"""Tests of SkorchSearchTrainer's own behaviour (its trainings are covered end to end)."""

import sys

import numpy as np

from sklearn_dpads.training.data import SequenceDataset
from sklearn_dpads.training.search_trainer import SkorchSearchTrainer, TrainerSettings


def test_trainer_size_counts_its_data():
    # joblib's dask backend scatters arguments by their size: a trainer must
    # report the data it carries, not a few bytes of attributes
    rng = np.random.default_rng(0)
    train = SequenceDataset(rng.normal(size=(300, 20, 5)), y=np.zeros(300, int))
    arch = SequenceDataset(rng.normal(size=(100, 20, 5)), y=np.zeros(100, int))
    trainer = SkorchSearchTrainer(train, arch, TrainerSettings(n_classes=2))
    data = sum(t.nbytes for d in (train, arch) for t in (d.x, d.y, d.lengths))
    assert data == 400 * 20 * 5 * 4 + 400 * 8 * 2
    assert data < sys.getsizeof(trainer) < data + 10_000
