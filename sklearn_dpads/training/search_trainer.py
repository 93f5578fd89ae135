"""The trainer the dPads search calls, implemented with skorch nets."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from sklearn_dpads.training.data import SequenceDataset
from sklearn_dpads.training.losses import ProgramLoss
from sklearn_dpads.training.nets import BilevelNet, ProgramNet

__all__ = ["SkorchSearchTrainer"]


class SkorchSearchTrainer:
    """Trains derivation graphs (bi-level) and discrete programs with skorch.

    Parameters
    ----------
    train : SequenceDataset
        Program-weight split (dPads' D_A).
    arch : SequenceDataset
        Architecture split (D_B): architecture steps and scores.
    n_classes : int
        Number of classes.
    loss : str
        ``"cross_entropy"`` or ``"soft_f1"``.
    class_weight : ndarray or None
        Per-class loss weights.
    lr, arch_lr : float
        Adam learning rates of the weights and of the architecture logits.
    program_epochs : int
        Epochs of weight-only training of a discrete program.
    batch_size : int
        Minibatch size.
    weight_decay, arch_weight_decay : float
        Adam weight decays.
    grad_clip : float or None
        Gradient-norm clipping of each step.
    device : str
        Torch device.
    seed : int
        Seed of the batch order.
    tune_threshold : bool
        Score binary problems by their best-threshold F1.
    score_class_weight : ndarray or None
        Weight validation samples by their class in the F1 scores.
    on_epoch : callable, optional
        Called with the net after each training run (for progress display).
    """

    def __init__(
        self,
        train: SequenceDataset,
        arch: SequenceDataset,
        *,
        n_classes: int,
        loss: str = "cross_entropy",
        class_weight=None,
        lr: float = 1e-2,
        arch_lr: float = 1e-2,
        program_epochs: int = 4,
        batch_size: int = 256,
        weight_decay: float = 0.0,
        arch_weight_decay: float = 0.0,
        grad_clip: float | None = 1.0,
        device: str = "cpu",
        seed: int = 0,
        tune_threshold: bool = False,
        score_class_weight=None,
        on_epoch: Callable | None = None,
    ):
        self.train = train
        self.arch = arch
        self.n_classes = n_classes
        self.loss = loss
        self.class_weight = class_weight
        self.lr = lr
        self.arch_lr = arch_lr
        self.program_epochs = program_epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.arch_weight_decay = arch_weight_decay
        self.grad_clip = grad_clip
        self.device = device
        self.seed = seed
        self.on_epoch = on_epoch
        self.tune_threshold = tune_threshold
        self.score_class_weight = score_class_weight
        self.n_runs = 0

    def _criterion(self) -> ProgramLoss:
        return ProgramLoss(self.n_classes, self.loss, self.class_weight)

    def _common(self, epochs: int, seed: int | None = None) -> dict:
        self.n_runs += 1
        if seed is None:
            seed = self.seed + self.n_runs
        return dict(
            criterion=self._criterion(),
            lr=self.lr,
            max_epochs=epochs,
            batch_size=self.batch_size,
            n_classes=self.n_classes,
            grad_clip=self.grad_clip,
            device=self.device,
            seed=seed,
            tune_threshold=self.tune_threshold,
            score_class_weight=self.score_class_weight,
            optimizer__weight_decay=self.weight_decay,
        )

    def train_graph(self, graph, epochs: int, seed: int | None = None) -> float:
        """Bi-level training; keeps the best epoch; returns its architecture-split F1."""
        if seed is not None:
            torch.manual_seed(seed)
        net = BilevelNet(
            graph,
            arch_lr=self.arch_lr,
            arch_weight_decay=self.arch_weight_decay,
            restore_best=True,
            **self._common(epochs, seed),
        )
        net.fit_data(self.train, self.arch)
        if self.on_epoch is not None:
            self.on_epoch(net)
        score = net.best_score
        return 0.0 if np.isnan(score) else score

    def train_program(self, graph, seed: int | None = None):
        """Extract the discrete program, train its weights, return ``(module, F1)``."""
        if seed is not None:
            torch.manual_seed(seed)
        module = graph.extract()
        return self.fit_program(
            module, self.train, self.arch, self.program_epochs, seed=seed
        )

    def fit_program(
        self,
        module,
        train,
        valid,
        epochs: int,
        lr: float | None = None,
        patience: int | None = None,
        batch_size: int | None = None,
        seed: int | None = None,
    ):
        """Weight-only training of ``module``; best epoch by F1 on ``valid``."""
        kw = self._common(epochs, seed)
        if lr is not None:
            kw["lr"] = lr
        if batch_size is not None:
            kw["batch_size"] = batch_size
        net = ProgramNet(
            module, restore_best=valid is not None, patience=patience, **kw
        )
        net.fit_data(train, valid)
        if self.on_epoch is not None:
            self.on_epoch(net)
        score = net.best_score
        return net.module_, (0.0 if np.isnan(score) else score)
