"""The decision threshold: logit offsets, and probabilities from logits."""

from __future__ import annotations

import numpy as np

from sklearn_dpads.metrics import best_threshold_f1

__all__ = ["logits_to_proba", "threshold_logit_offset", "tune_logit_offset"]


def threshold_logit_offset(threshold: float) -> float:
    """Logit offset that moves the binary decision to probability ``threshold``.

    Parameters
    ----------
    threshold : float
        Probability threshold in (0, 1).

    Returns
    -------
    float
        ``-logit(threshold)``, added to the positive-class logit.
    """
    return -float(np.log(threshold / (1 - threshold)))


def tune_logit_offset(logits: np.ndarray, true: np.ndarray) -> float:
    """Logit offset that maximises the binary F1 on ``(logits, true)``.

    Parameters
    ----------
    logits : ndarray of shape (n,)
        Positive-class logits (non-finite entries are ignored).
    true : ndarray of shape (n,)
        True labels in {0, 1}.

    Returns
    -------
    float
        The offset to add to the logits; 0 when the threshold 0 is already
        best or the labels have one class.
    """
    logits = np.asarray(logits, dtype=np.float64)
    true = np.asarray(true)
    finite = np.isfinite(logits)
    z, y = logits[finite], true[finite]
    if y.size == 0 or y.min() == y.max():
        return 0.0
    f1, thr = best_threshold_f1(z, y)
    base = 2 * ((z > 0) & (y == 1)).sum() / max((z > 0).sum() + y.sum(), 1)
    return -thr if f1 > base + 1e-12 else 0.0


def logits_to_proba(z: np.ndarray, logit_offset: float = 0.0) -> np.ndarray:
    """Class probabilities from program outputs.

    Parameters
    ----------
    z : ndarray of shape (..., n_outputs)
        Logits: one per class, or a single positive-class logit.
    logit_offset : float, default=0.0
        Added to a single binary logit (the decision threshold).

    Returns
    -------
    ndarray of shape (..., n_classes)
        Probabilities (a stable sigmoid for one logit, a softmax otherwise).
    """
    if z.shape[-1] == 1:
        z1 = z[..., 0] + logit_offset
        p1 = np.empty_like(z1, dtype=np.float64)
        pos = z1 >= 0
        p1[pos] = 1.0 / (1.0 + np.exp(-z1[pos]))
        ez = np.exp(z1[~pos])
        p1[~pos] = ez / (1.0 + ez)
        return np.stack([1.0 - p1, p1], axis=-1)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
