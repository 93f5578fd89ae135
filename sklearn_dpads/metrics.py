"""Metrics for per-sequence and per-frame predictions."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score

__all__ = ["frame_f1_score", "flatten_frames"]


def flatten_frames(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Pool per-frame labels of all sequences into two flat arrays.

    Accepts ``(n,)`` or ``(n, T)`` arrays, or lists of per-sequence 1-D arrays
    (ragged); for ragged input the two must have the same lengths.
    """
    if isinstance(y_true, list | tuple) and len(y_true) and np.ndim(y_true[0]) == 1:
        if len(y_true) != len(y_pred):
            raise ValueError(
                f"y_true has {len(y_true)} sequences but y_pred has {len(y_pred)}."
            )
        t = np.concatenate([np.asarray(v) for v in y_true])
        p = np.concatenate([np.asarray(v) for v in y_pred])
        if t.shape != p.shape:
            raise ValueError("y_true and y_pred have different sequence lengths.")
        return t, p
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.shape != p.shape:
        raise ValueError(f"y_true has shape {t.shape} but y_pred has shape {p.shape}.")
    return t.ravel(), p.ravel()


def frame_f1_score(y_true, y_pred, *, pos_label=1, average=None) -> float:
    """F1 over all frames (or sequences): binary for two classes, else macro.

    Use with :func:`sklearn.metrics.make_scorer` in cross-validation of
    per-frame models.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,) or (n, T), or lists of 1-D arrays
        True and predicted labels.
    pos_label : int or str, default=1
        Positive class of binary problems (if present; otherwise the larger
        label).
    average : str or None, default=None
        sklearn ``average``; None picks ``"binary"`` or ``"macro"``.

    Returns
    -------
    float
    """
    t, p = flatten_frames(y_true, y_pred)
    labels = np.unique(np.concatenate([t, p]))
    if average is None:
        average = "binary" if len(labels) <= 2 else "macro"
    if average == "binary":
        if pos_label not in labels:
            pos_label = labels.max()
        return float(
            f1_score(t, p, pos_label=pos_label, average="binary", zero_division=0.0)
        )
    return float(f1_score(t, p, average=average, zero_division=0.0))
