"""The fine-tune of a chosen program: epochs chosen on a held-out split, then a refit."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sklearn_dpads.training.data import SequenceDataset
from sklearn_dpads.training.search_trainer import SkorchSearchTrainer, TrainerSettings

__all__ = ["Tuned", "finetune", "refit", "tune"]


@dataclass(frozen=True)
class Tuned:
    """A program fine-tuned on a training split, with what its refit needs.

    Parameters
    ----------
    module : ProgramModule
        The fine-tuned program (the epoch with the best held-out score).
    score : float
        That best held-out score (0 without a finite one).
    epochs : int
        Its epochs (0 without a fine-tune, or when no epoch had a finite
        score).
    start : ProgramModule or None
        A copy of the program as it was before the fine-tune, for the refit
        (None without a fine-tune).
    """

    module: Any
    score: float
    epochs: int
    start: Any = None


def tune(
    module: Any,
    train: SequenceDataset,
    held: SequenceDataset,
    settings: TrainerSettings,
    *,
    max_epochs: int,
    patience: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    clock: Any = None,
) -> Tuned:
    """Train a program on ``train``, keeping its best epoch on ``held``.

    Parameters
    ----------
    module : ProgramModule
        The program (trained in place; a copy is kept for the refit).
    train, held : SequenceDataset
        The training split and the held-out split that chooses the epoch.
    settings : TrainerSettings
        How the program is trained and scored.
    max_epochs : int
        Most epochs (0: no training; the score is then NaN).
    patience : int or None, default=None
        Early-stopping patience (None: run all ``max_epochs``).
    batch_size : int or None, default=None
        Minibatch size (None: the settings').
    seed : int, default=0
        Seed of the batch order.
    clock : object, default=None
        Anything with an ``out()`` method: training stops (keeping the best
        epoch so far) once it returns True.

    Returns
    -------
    Tuned
        The fine-tuned program, its held-out score and epochs, and its start.
    """
    if max_epochs <= 0:
        return Tuned(module, float("nan"), 0)
    trainer = SkorchSearchTrainer(train, held, settings, clock=clock)
    start = copy.deepcopy(module)
    module, score, epochs = trainer.fit_program(
        module,
        train,
        held,
        max_epochs,
        patience=patience,
        batch_size=batch_size,
        seed=seed,
    )
    return Tuned(module, score, epochs, start)


def refit(
    tuned: Tuned,
    data: SequenceDataset,
    settings: TrainerSettings,
    *,
    batch_size: int | None = None,
    seed: int = 0,
    clock: Any = None,
) -> Any:
    """Train the program again from its start, on all ``data``, for its epochs.

    Parameters
    ----------
    tuned : Tuned
        The fine-tuned program (see :func:`tune`).
    data : SequenceDataset
        All the data.
    settings : TrainerSettings
        How the program is trained.
    batch_size : int or None, default=None
        Minibatch size (None: the settings').
    seed : int, default=0
        Seed of the batch order.
    clock : object, default=None
        Anything with an ``out()`` method: no refit starts once it returns
        True, and the fine-tuned program is returned.

    Returns
    -------
    ProgramModule
        The refitted program, or the fine-tuned one when no epoch was chosen
        or the clock has run out.
    """
    if tuned.epochs <= 0 or tuned.start is None or (clock is not None and clock.out()):
        return tuned.module
    trainer = SkorchSearchTrainer(data, data, settings, clock=clock)
    module, _, _ = trainer.fit_program(
        copy.deepcopy(tuned.start),
        data,
        None,
        tuned.epochs,
        batch_size=batch_size,
        seed=seed,
    )
    return module


def finetune(
    module: Any,
    train: SequenceDataset,
    held: SequenceDataset,
    data: SequenceDataset,
    settings: TrainerSettings,
    *,
    max_epochs: int,
    patience: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    clock: Any = None,
    before_refit: Callable[[Any, int], None] | None = None,
) -> tuple[Any, int]:
    """Fine-tune a program, choose its epochs on a held-out split, refit it.

    1. **Fine-tune**: the program's weights are trained on ``train`` for at
       most ``max_epochs`` epochs (fewer with early stopping), and the epoch
       with the best score on ``held`` is kept.
    2. **Choose the epochs**: the number of epochs of that best epoch.
    3. ``before_refit(model, epochs)`` sees the fine-tuned model, which was
       not trained on ``held``, so that its predictions there are honest (the
       estimator tunes its decision threshold on them). Without a fine-tune
       (``max_epochs=0``) it sees ``module`` as given, and ``epochs`` is 0.
    4. **Refit**: unless no epoch was chosen or ``clock`` has run out, the
       program as given is trained again, on all of ``data``, for the chosen
       number of epochs.

    Parameters
    ----------
    module : ProgramModule
        The program to fine-tune, with its weights from the search (it is
        trained in place; a copy is kept for the refit).
    train : SequenceDataset
        The training split.
    held : SequenceDataset
        The held-out split, which chooses the epochs.
    data : SequenceDataset
        All the data, for the refit.
    settings : TrainerSettings
        How the program is trained and scored.
    max_epochs : int
        Most epochs of the fine-tune (0: no fine-tune and no refit).
    patience : int or None, default=None
        Stop the fine-tune after this many epochs without a better held-out
        score (None: run all ``max_epochs``).
    batch_size : int or None, default=None
        Minibatch size of the fine-tune and of the refit (None: the
        settings').
    seed : int, default=0
        Seed of the batch orders of the fine-tune and of the refit.
    clock : object, default=None
        Anything with an ``out()`` method: training stops (keeping the best
        epoch so far) once it returns True, and no refit starts then. None:
        no deadline.
    before_refit : callable, default=None
        Called as ``before_refit(model, epochs)`` between the choice of the
        epochs and the refit.

    Returns
    -------
    module : ProgramModule
        The refitted program; the fine-tuned one when there was no refit.
    epochs : int
        The epochs chosen on ``held`` (0 without a fine-tune, or when no epoch
        had a finite held-out score).
    """
    tuned = tune(
        module,
        train,
        held,
        settings,
        max_epochs=max_epochs,
        patience=patience,
        batch_size=batch_size,
        seed=seed,
        clock=clock,
    )
    if before_refit is not None:
        before_refit(tuned.module, tuned.epochs)
    return (
        refit(tuned, data, settings, batch_size=batch_size, seed=seed, clock=clock),
        tuned.epochs,
    )
