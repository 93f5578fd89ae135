"""Losses for program training: class-weighted cross-entropy and soft F1."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["ProgramLoss", "flatten_valid"]


def flatten_valid(
    logits: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pool per-frame outputs over real frames.

    Parameters
    ----------
    logits : torch.Tensor
        ``(B, T, O)`` per-frame or ``(B, O)`` per-sequence logits.
    y : torch.Tensor
        ``(B, T)`` frame labels, -1 on padding, or ``(B,)`` sequence labels.

    Returns
    -------
    logits : torch.Tensor
        ``(M, O)`` logits of the ``M`` labelled frames (unchanged for
        per-sequence logits).
    y : torch.Tensor
        ``(M,)`` their labels.
    """
    if logits.dim() == 3:
        T = min(logits.shape[1], y.shape[1])
        logits = logits[:, :T].reshape(-1, logits.shape[-1])
        y = y[:, :T].reshape(-1)
        keep = y >= 0
        return logits[keep], y[keep]
    return logits, y


class ProgramLoss(nn.Module):
    """Loss on program logits for per-sequence or per-frame labels.

    Parameters
    ----------
    n_classes : int
        Number of classes; binary problems use one logit.
    loss : {"cross_entropy", "soft_f1"}
        ``soft_f1`` is ``1 - F1`` computed from probabilities (positive class for
        binary problems, macro over classes otherwise), blended with
        ``class_weight`` over the per-class soft F1s when given.
    class_weight : sequence of float, optional
        Per-class weights.
    """

    def __init__(self, n_classes: int, loss: str = "cross_entropy", class_weight=None):
        super().__init__()
        self.n_classes = n_classes
        self.loss = loss
        w = (
            None
            if class_weight is None
            else torch.as_tensor(class_weight, dtype=torch.float32)
        )
        self.register_buffer("class_weight", w)

    def forward(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Compute the loss over the labelled frames or sequences.

        Parameters
        ----------
        logits : torch.Tensor
            ``(B, T, O)`` per-frame or ``(B, O)`` per-sequence logits; ``O`` is
            1 for binary problems.
        y : torch.Tensor
            ``(B, T)`` frame labels (-1 on padding) or ``(B,)`` sequence labels.

        Returns
        -------
        torch.Tensor
            The scalar loss (zero when no frame is labelled).
        """
        logits, y = flatten_valid(logits, y)
        if y.numel() == 0:
            return logits.sum() * 0.0
        w = self.class_weight
        if w is not None:
            w = w.to(logits.dtype)
        if self.n_classes == 2:
            z = logits.reshape(-1)
            t = y.to(z.dtype)
            if self.loss == "cross_entropy":
                sw = None if w is None else w[y]
                out = F.binary_cross_entropy_with_logits(
                    z, t, weight=sw, reduction="sum"
                )
                norm = (
                    sw.sum()
                    if sw is not None
                    else torch.tensor(float(z.numel()), dtype=z.dtype)
                )
                return out / norm
            p = torch.sigmoid(z)
            tp, fp, fn = (p * t).sum(), (p * (1 - t)).sum(), ((1 - p) * t).sum()
            tn = ((1 - p) * (1 - t)).sum()
            f1_pos = 2 * tp / (2 * tp + fp + fn + 1e-8)
            if w is None:
                return 1 - f1_pos
            f1_neg = 2 * tn / (2 * tn + fn + fp + 1e-8)
            return (w[1] * (1 - f1_pos) + w[0] * (1 - f1_neg)) / (w[0] + w[1])
        if self.loss == "cross_entropy":
            return F.cross_entropy(logits, y, weight=w)
        p = torch.softmax(logits, dim=-1)
        t = F.one_hot(y, self.n_classes).to(p.dtype)
        tp = (p * t).sum(0)
        f1 = 2 * tp / (p.sum(0) + t.sum(0) + 1e-8)
        if w is None:
            return 1 - f1.mean()
        return ((1 - f1) * w).sum() / w.sum()
