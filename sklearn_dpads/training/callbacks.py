"""skorch callbacks of the training nets: epoch scores, best epoch, time budget.

:class:`ValidationScores` records the validation scores of every epoch: the
held-out average precision that ranks epochs and candidates
(:func:`~sklearn_dpads.metrics.ranking_score`), and the F1 and accuracy of
:func:`f1_from_logits`; ``_KeepBest`` keeps the parameters of the best epoch
and ``_TimeBudget`` stops training at a deadline. The nets of
:mod:`sklearn_dpads.training.nets` install all three.
"""

from __future__ import annotations

import numpy as np
import torch
from skorch.callbacks import Callback
from skorch.dataset import unpack_data

from sklearn_dpads.metrics import best_threshold_f1, label_f1, ranking_score
from sklearn_dpads.training.losses import flatten_valid

__all__ = ["ValidationScores", "f1_from_logits"]


def _labels_from_logits(logits: torch.Tensor) -> torch.Tensor:
    if logits.shape[-1] == 1:
        return (logits[..., 0] > 0).long()
    return logits.argmax(-1)


def f1_from_logits(
    logits: torch.Tensor,
    y: torch.Tensor,
    n_classes: int,
    tune_threshold: bool = False,
    class_weight=None,
) -> tuple[float, float]:
    """``(f1, accuracy)``: binary F1 of class 1, or macro F1 for multiclass.

    With ``tune_threshold`` the binary F1 is the best over decision thresholds
    (the estimator tunes its threshold after training). With explicit
    ``class_weight`` (per-class costs) the score is instead the class-weighted
    accuracy, consistent with the weighted loss.

    Parameters
    ----------
    logits : torch.Tensor
        Program outputs, ``(n, C)`` or ``(n, T, C)``.
    y : torch.Tensor
        Class indices (-1 on padding frames).
    n_classes : int
        Number of classes.
    tune_threshold : bool, default=False
        Binary problems: score by the best-threshold F1.
    class_weight : array-like or None, default=None
        Per-class weights: score by the class-weighted accuracy.

    Returns
    -------
    score, accuracy : float
        The score and the plain accuracy.
    """
    logits, y = flatten_valid(logits, y)
    pred = _labels_from_logits(logits).cpu().numpy()
    true = y.cpu().numpy()
    if true.size == 0:
        return 0.0, 0.0
    if class_weight is not None:
        sw = np.asarray(class_weight, dtype=np.float64)[true]
        acc = float(np.average(pred == true, weights=sw)) if sw.sum() > 0 else 0.0
        return acc, acc
    acc = float((pred == true).mean())
    if n_classes == 2 and tune_threshold:
        f1, _ = best_threshold_f1(logits[:, 0].double().cpu().numpy(), true)
        return f1, acc
    return label_f1(pred, true, n_classes), acc


class ValidationScores(Callback):
    """Record ``valid_score``, ``valid_f1`` and ``valid_acc`` of each epoch.

    Over all real (unpadded) sequences or frames of the epoch's validation
    batches: ``valid_score`` is the threshold-free
    :func:`~sklearn_dpads.metrics.ranking_score` (average precision, with the
    class weights when given), the score that ranks epochs and candidates;
    ``valid_f1`` and ``valid_acc`` are those of :func:`f1_from_logits`.

    Parameters
    ----------
    n_classes : int
        Number of classes.
    tune_threshold : bool, default=False
        Binary problems: ``valid_f1`` is the best-threshold F1.
    class_weight : array-like or None, default=None
        Per-class weights: ``valid_score`` is the class-weighted average
        precision, and ``valid_f1`` the class-weighted accuracy instead of F1.
    """

    def __init__(self, n_classes: int, tune_threshold: bool = False, class_weight=None):
        self.n_classes = n_classes
        self.tune_threshold = tune_threshold
        self.class_weight = class_weight

    def on_epoch_begin(self, net, **kwargs):
        """Clear the logits and labels collected in the previous epoch.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net being trained.
        **kwargs : dict
            The other arguments skorch passes (``dataset_train``,
            ``dataset_valid``); unused.
        """
        self._logits, self._y = [], []

    def on_batch_end(self, net, batch, training, y_pred=None, **kwargs):
        """Collect the logits and labels of a validation batch.

        Training batches are ignored. Padding frames (label -1) are dropped.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net being trained.
        batch : tuple
            The batch ``(X, y)``.
        training : bool
            Whether the batch is a training batch.
        y_pred : torch.Tensor, default=None
            The module's output (logits) on the batch.
        **kwargs : dict
            The other arguments skorch passes (``loss``); unused.
        """
        if training or y_pred is None:
            return
        _, y = unpack_data(batch)
        lg, yy = flatten_valid(y_pred.detach(), y.to(y_pred.device))
        self._logits.append(lg.float().cpu())
        self._y.append(yy.cpu())

    def on_epoch_end(self, net, **kwargs):
        """Record the epoch's ``valid_score``, ``valid_f1`` and ``valid_acc``.

        Nothing is recorded for an epoch without validation batches.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net being trained.
        **kwargs : dict
            The other arguments skorch passes (``dataset_train``,
            ``dataset_valid``); unused.
        """
        if not self._logits:
            return
        logits, y = torch.cat(self._logits), torch.cat(self._y)
        f1, acc = f1_from_logits(
            logits, y, self.n_classes, self.tune_threshold, self.class_weight
        )
        score = ranking_score(
            logits.double().numpy(), y.numpy(), self.n_classes, self.class_weight
        )
        net.history.record("valid_score", score)
        net.history.record("valid_f1", f1)
        net.history.record("valid_acc", acc)


class _KeepBest(Callback):
    """Keep a copy of the parameters of the epoch with the best ``valid_score``."""

    def on_train_begin(self, net, **kwargs):
        self.best_score_ = -np.inf
        self.best_epoch_ = None
        self.best_state_ = None

    def on_epoch_end(self, net, **kwargs):
        score = net.history[-1].get("valid_score")
        if score is None:
            return
        # ties go to the later epoch (more training)
        params = [p.detach() for p in _trained(net)]
        if not all(bool(torch.isfinite(p).all()) for p in params):
            return
        if score >= self.best_score_:
            self.best_score_ = score
            self.best_epoch_ = len(net.history)
            self.best_state_ = [p.clone() for p in params]

    def restore(self, net) -> None:
        if self.best_state_ is None:
            return
        with torch.no_grad():
            for p, v in zip(_trained(net), self.best_state_):
                p.copy_(v)


def _trained(net) -> list[torch.Tensor]:
    """The tensors a net trains (its flat buffers), else all module parameters."""
    trained = getattr(net, "trained_tensors", None)
    return trained() if trained is not None else list(net.module_.parameters())


class _TimeBudget(Callback):
    """Stop training (as skorch's early stopping does) once ``deadline.out()``."""

    def __init__(self, deadline) -> None:
        self.deadline = deadline

    def on_batch_end(self, net, **kwargs):
        if self.deadline.out():
            raise KeyboardInterrupt  # skorch ends fit() gracefully on it
