"""The fine-tune of a chosen program: epochs chosen on a held-out split, then a refit."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from sklearn_dpads.training.data import SequenceDataset
from sklearn_dpads.training.search_trainer import SkorchSearchTrainer, TrainerSettings

__all__ = ["finetune"]


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
    trainer = SkorchSearchTrainer(train, held, settings, clock=clock)
    epochs = 0
    if max_epochs > 0:
        start = copy.deepcopy(module)
        module, _, epochs = trainer.fit_program(
            module,
            train,
            held,
            max_epochs,
            patience=patience,
            batch_size=batch_size,
            seed=seed,
        )
    if before_refit is not None:
        before_refit(module, epochs)
    if epochs > 0 and not (clock is not None and clock.out()):
        module, _, _ = trainer.fit_program(
            start, data, None, epochs, batch_size=batch_size, seed=seed
        )
    return module, epochs
