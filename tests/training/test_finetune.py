"""Tests for sklearn_dpads.training.finetune: choose the epochs, then refit."""

import numpy as np
import pytest
import torch

from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.library import default_dsl
from sklearn_dpads.semantics import compile_program
from sklearn_dpads.training.data import SequenceDataset
from sklearn_dpads.training.finetune import finetune
from sklearn_dpads.training.search_trainer import SkorchSearchTrainer, TrainerSettings

SETTINGS = TrainerSettings(n_classes=2, lr=0.05, batch_size=16)


def _data(n=120, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 2).astype(np.float32)
    y = (x[:, 0] + 0.5 * rng.randn(n) > 0).astype(int)
    return SequenceDataset(x, None, y)


def _module():
    torch.manual_seed(0)
    return compile_program("(affine)", default_dsl(2), parse_type("atom[2] -> atom[1]"))


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


class Recorder:
    """Spy on ``fit_program``: its module's weights, data sizes and epochs."""

    def __init__(self, monkeypatch):
        self.calls = []
        real = SkorchSearchTrainer.fit_program

        def spy(trainer, module, train, valid, epochs, **kwargs):
            n_valid = None if valid is None else len(valid.y)
            self.calls.append((_params(module), len(train.y), n_valid, epochs, kwargs))
            return real(trainer, module, train, valid, epochs, **kwargs)

        monkeypatch.setattr(SkorchSearchTrainer, "fit_program", spy)


class Clock:
    def __init__(self):
        self.spent = False

    def out(self):
        return self.spent


def _splits(data):
    return data.subset(np.arange(80)), data.subset(np.arange(80, 120))


def test_epochs_are_chosen_on_the_held_out_split_then_refitted(monkeypatch):
    data, module = _data(), _module()
    train, held = _splits(data)
    start = _params(module)
    spy, seen = Recorder(monkeypatch), []
    out, epochs = finetune(
        module,
        train,
        held,
        data,
        SETTINGS,
        max_epochs=6,
        patience=3,
        batch_size=16,
        seed=1,
        before_refit=lambda model, k: seen.append((_params(model), k)),
    )
    assert 1 <= epochs <= 6
    (ft_start, n_train, n_held, ft_epochs, ft_kw), refit = spy.calls
    # the fine-tune: on the training split, best epoch on the held-out one
    assert (n_train, n_held, ft_epochs) == (80, 40, 6)
    assert ft_kw == {"patience": 3, "batch_size": 16, "seed": 1}
    # before the refit: the fine-tuned model and the chosen epochs
    [(tuned, k)] = seen
    assert k == epochs
    assert any(not torch.equal(a, b) for a, b in zip(tuned, start))
    # the refit: the program as given, on all the data, for the chosen epochs
    re_start, n_all, n_none, re_epochs, re_kw = refit
    assert all(torch.equal(a, b) for a, b in zip(re_start, start))
    assert (n_all, n_none, re_epochs) == (120, None, epochs)
    assert re_kw == {"batch_size": 16, "seed": 1}
    assert any(not torch.equal(a, b) for a, b in zip(_params(out), tuned))


def test_no_fine_tune_without_epochs(monkeypatch):
    data, module = _data(), _module()
    spy, seen = Recorder(monkeypatch), []
    out, epochs = finetune(
        module,
        *_splits(data),
        data,
        SETTINGS,
        max_epochs=0,
        before_refit=lambda model, k: seen.append((model, k)),
    )
    assert (out, epochs) == (module, 0) and seen == [(module, 0)]
    assert spy.calls == []


def test_no_refit_once_the_clock_is_out(monkeypatch):
    data, module, clock = _data(), _module(), Clock()
    spy, seen = Recorder(monkeypatch), []

    def spend(model, k):
        seen.append(model)
        clock.spent = True

    out, epochs = finetune(
        module,
        *_splits(data),
        data,
        SETTINGS,
        max_epochs=4,
        clock=clock,
        before_refit=spend,
    )
    assert epochs > 0 and len(spy.calls) == 1
    assert out is seen[0]  # the fine-tuned model, not refitted


@pytest.mark.parametrize("seed", [0, 3])
def test_finetune_is_reproducible(seed):
    data = _data()
    runs = [
        finetune(_module(), *_splits(data), data, SETTINGS, max_epochs=4, seed=seed)
        for _ in range(2)
    ]
    (a, ea), (b, eb) = runs
    assert ea == eb
    assert all(torch.equal(p, q) for p, q in zip(_params(a), _params(b)))
