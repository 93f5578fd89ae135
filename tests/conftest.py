import numpy as np
import pytest


@pytest.fixture
def seq_data():
    rng = np.random.RandomState(0)
    X = rng.randn(80, 8, 3).astype(np.float32)
    y = (X[:, -5:, 0].mean(axis=1) > 0).astype(int)
    return X, y


@pytest.fixture
def frame_data():
    rng = np.random.RandomState(1)
    X = rng.randn(40, 10, 3).astype(np.float32)
    y = (X[:, :, 1] > 0.2).astype(int)
    return X, y


FAST = dict(
    max_depth=2,
    search_epochs=1,
    prune_epochs=1,
    selection_epochs=1,
    program_epochs=2,
    finetune_epochs=5,
    max_selection_steps=2,
    random_state=0,
)


@pytest.fixture
def fast_params():
    return dict(FAST)
