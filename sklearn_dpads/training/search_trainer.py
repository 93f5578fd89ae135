"""The trainer the dPads search calls, implemented with skorch nets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from sklearn_dpads.training.data import SequenceDataset
from sklearn_dpads.training.losses import ProgramLoss
from sklearn_dpads.training.nets import BilevelNet, ProgramNet
from sklearn_dpads.training.population import (
    PopulationLoss,
    PopulationNet,
    ProgramPopulation,
)
from sklearn_dpads.utils._torch import torch_threads

__all__ = ["TrainerSettings", "SkorchSearchTrainer"]


@dataclass(frozen=True)
class TrainerSettings:
    """How candidates are trained and scored (resolved once per fit).

    Parameters
    ----------
    n_classes : int
        Number of classes.
    loss : str, default="cross_entropy"
        ``"cross_entropy"`` or ``"soft_f1"``.
    class_weight : ndarray or None, default=None
        Per-class loss weights.
    score_class_weight : ndarray or None, default=None
        Per-class weights of the validation scores, set when the user gave
        explicit class costs: the score that ranks epochs and candidates
        becomes the class-weighted average precision, and ``valid_f1`` the
        class-weighted accuracy.
    tune_threshold : bool, default=False
        Binary problems: ``valid_f1`` is the best-threshold F1 (the ranking
        score, average precision, needs no threshold).
    lr, arch_lr : float, default=0.01
        Adam learning rates of the weights and of the architecture logits.
    program_epochs : int, default=4
        Epochs of weight-only training of a discrete program.
    batch_size : int, default=256
        Minibatch size of the search.
    weight_decay, arch_weight_decay : float, default=0.0
        Adam weight decays.
    grad_clip : float or None, default=1.0
        Gradient-norm clipping of each step.
    device : str, default="cpu"
        Torch device.
    n_threads : int or None, default=1
        Torch threads of every training (None: torch's setting), applied
        wherever the training runs: a selection step's trainings may run in
        other worker processes, which are further capped to their worker's
        threads (:func:`~sklearn_dpads.utils._torch.torch_threads`).
    """

    n_classes: int
    loss: str = "cross_entropy"
    class_weight: Any = None
    score_class_weight: Any = None
    tune_threshold: bool = False
    lr: float = 1e-2
    arch_lr: float = 1e-2
    program_epochs: int = 4
    batch_size: int = 256
    weight_decay: float = 0.0
    arch_weight_decay: float = 0.0
    grad_clip: float | None = 1.0
    device: str = "cpu"
    n_threads: int | None = 1


class SkorchSearchTrainer:
    """Trains derivation graphs (bi-level) and discrete programs with skorch.

    Parameters
    ----------
    train : SequenceDataset
        Program-weight split (dPads' D_A).
    arch : SequenceDataset
        Architecture split (D_B): architecture steps and scores.
    settings : TrainerSettings
        Training and scoring settings.
    clock : object, default=None
        Anything with an ``out()`` method; training stops (keeping the best
        epoch so far) once it returns True.
    """

    def __init__(
        self,
        train: SequenceDataset,
        arch: SequenceDataset,
        settings: TrainerSettings,
        *,
        clock: Any = None,
    ) -> None:
        self.train = train
        self.arch = arch
        self.settings = settings
        self.clock = clock

    def __sizeof__(self) -> int:
        # the data it carries: joblib's dask backend then scatters a trainer
        # once per Parallel call instead of shipping it with every task
        tensors = [
            t
            for d in (self.train, self.arch)
            for t in (d.x, d.y, d.lengths)
            if t is not None
        ]
        return object.__sizeof__(self) + sum(
            t.element_size() * t.nelement() for t in tensors
        )

    def _common(self, epochs: int, seed: int, batch_size: int | None) -> dict:
        s = self.settings
        return dict(
            criterion=ProgramLoss(s.n_classes, s.loss, s.class_weight),
            lr=s.lr,
            max_epochs=epochs,
            batch_size=batch_size or s.batch_size,
            n_classes=s.n_classes,
            grad_clip=s.grad_clip,
            device=s.device,
            seed=seed,
            tune_threshold=s.tune_threshold,
            score_class_weight=s.score_class_weight,
            deadline=self.clock,
            optimizer__weight_decay=s.weight_decay,
        )

    def train_graph(self, graph, epochs: int, seed: int) -> float:
        """Bi-level training of ``graph`` in place, keeping its best epoch.

        Parameters
        ----------
        graph : DerivationGraph
            The graph to train.
        epochs : int
            Bi-level epochs.
        seed : int
            Seed of torch and of the batch orders.

        Returns
        -------
        float
            The best architecture-split score (0 when none was finite).
        """
        torch.manual_seed(seed)
        net = BilevelNet(
            graph,
            arch_lr=self.settings.arch_lr,
            arch_weight_decay=self.settings.arch_weight_decay,
            restore_best=True,
            **self._common(epochs, seed, None),
        )
        with torch_threads(self.settings.n_threads):
            net.fit_data(self.train, self.arch)
        score = net.best_score
        return 0.0 if np.isnan(score) else score

    def train_program(self, graph, seed: int) -> tuple[Any, float]:
        """Extract the discrete program of ``graph`` and train its weights.

        Parameters
        ----------
        graph : DerivationGraph
            A discrete graph.
        seed : int
            Seed of torch and of the batch order.

        Returns
        -------
        module : ProgramModule
            The trained program (best epoch).
        score : float
            Its best architecture-split score.
        """
        torch.manual_seed(seed)
        with torch_threads(self.settings.n_threads):
            module, score, _ = self.fit_program(
                graph.extract(),
                self.train,
                self.arch,
                self.settings.program_epochs,
                seed=seed,
            )
        return module, score

    def fit_program(
        self,
        module,
        train: SequenceDataset,
        valid: SequenceDataset | None,
        epochs: int,
        *,
        patience: int | None = None,
        batch_size: int | None = None,
        seed: int = 0,
    ) -> tuple[Any, float, int]:
        """Weight-only training of ``module``, keeping the best epoch on ``valid``.

        Parameters
        ----------
        module : torch.nn.Module
            The program (trained in place).
        train, valid : SequenceDataset
            Training data and the split that picks the best epoch (None: keep
            the last epoch).
        epochs : int
            Most epochs.
        patience : int or None, default=None
            Early stopping after this many epochs without improvement.
        batch_size : int or None, default=None
            Minibatch size (default: the settings').
        seed : int, default=0
            Seed of the batch order.

        Returns
        -------
        module : torch.nn.Module
            The trained module.
        score : float
            Best validation score (0 without a finite one).
        epochs : int
            Epochs of the kept parameters: the best epoch (0 when no epoch had
            a finite score), or the epochs run without ``valid``.
        """
        net = ProgramNet(
            module,
            restore_best=valid is not None,
            patience=patience,
            **self._common(epochs, seed, batch_size),
        )
        net.fit_data(train, valid)
        score = net.best_score
        if valid is None:
            kept = len(net.history)
        else:
            kept = net.keep_best.best_epoch_ or 0
        return net.module_, (0.0 if np.isnan(score) else score), kept

    def fit_programs(
        self,
        modules,
        train: SequenceDataset,
        valid: SequenceDataset | None,
        epochs: int,
        *,
        batch_size: int | None = None,
        seed: int = 0,
    ) -> tuple[list[Any], list[float], list[int]]:
        """Weight-only training of several modules side by side.

        Each module is trained as :meth:`fit_program` (without patience)
        trains it, keeping its own best epoch on ``valid`` (see
        :mod:`~sklearn_dpads.training.population`), on one batch order for
        all, seeded by ``seed``: a module's result does not depend on which
        others are trained with it.

        Parameters
        ----------
        modules : sequence of torch.nn.Module
            The programs (trained in place).
        train, valid : SequenceDataset
            Training data and the split that picks each module's best epoch
            (None: keep the last epoch).
        epochs : int
            Most epochs.
        batch_size : int or None, default=None
            Minibatch size (default: the settings').
        seed : int, default=0
            Seed of the batch order.

        Returns
        -------
        modules : list of torch.nn.Module
            The trained modules, in order.
        scores : list of float
            Each one's best validation score (0 without a finite one, or
            without ``valid``).
        epochs : list of int
            Epochs of each one's kept parameters: its best epoch (0 when no
            epoch had a finite score), or the epochs run without ``valid``.
        """
        common = self._common(epochs, seed, batch_size)
        common["criterion"] = PopulationLoss(common["criterion"])
        net = PopulationNet(
            ProgramPopulation(modules), restore_best=valid is not None, **common
        )
        net.fit_data(train, valid)
        members = list(net.module_.members)
        if valid is None:
            return members, [0.0] * len(members), [len(net.history)] * len(members)
        best = net.member_scores
        scores = [float(b) if np.isfinite(b) else 0.0 for b in best.best_scores_]
        return members, scores, [int(e) for e in best.best_epochs_]

    def train_programs(self, graphs, seeds, batch_seed: int) -> list[tuple[Any, float]]:
        """:meth:`train_program` for several graphs, trained side by side.

        Parameters
        ----------
        graphs : sequence of DerivationGraph
            Discrete graphs.
        seeds : sequence of int
            One seed per graph: of its program's initial weights.
        batch_seed : int
            Seed of the batch order, shared by all (so that a program's
            result does not depend on the others it is trained with).

        Returns
        -------
        list of tuple of (ProgramModule, float)
            Per graph: its trained program (best epoch) and that epoch's
            architecture-split score.
        """
        modules = []
        for graph, seed in zip(graphs, seeds):
            torch.manual_seed(seed)
            modules.append(graph.extract())
        if not modules:
            return []
        with torch_threads(self.settings.n_threads):
            modules, scores, _ = self.fit_programs(
                modules,
                self.train,
                self.arch,
                self.settings.program_epochs,
                seed=batch_seed,
            )
        return list(zip(modules, scores))

    def with_clock(self, clock: Any) -> SkorchSearchTrainer:
        """A trainer on the same data and settings with another deadline.

        Parameters
        ----------
        clock : object
            Anything with an ``out()`` method, or None.

        Returns
        -------
        SkorchSearchTrainer
            The new trainer.
        """
        return SkorchSearchTrainer(self.train, self.arch, self.settings, clock=clock)
