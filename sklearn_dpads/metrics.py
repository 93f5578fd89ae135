"""Metrics for per-sequence and per-frame predictions."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score

__all__ = [
    "average_precision",
    "ranking_score",
    "paired_score_se",
    "frame_f1_score",
    "flatten_frames",
    "best_threshold_f1",
    "label_f1",
]


def flatten_frames(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Pool per-frame labels of all sequences into two flat arrays.

    Accepts ``(n,)`` or ``(n, T)`` arrays, or lists of per-sequence 1-D arrays
    (ragged); for ragged input the two must have the same lengths.

    Parameters
    ----------
    y_true : array-like of shape (n,) or (n, T), or list of 1-D arrays
        True labels, one row (or one 1-D array) per sequence.
    y_pred : array-like of shape (n,) or (n, T), or list of 1-D arrays
        Predicted labels, in the same layout as ``y_true``.

    Returns
    -------
    y_true : ndarray of shape (n_frames,)
        The true labels of all frames, sequence after sequence.
    y_pred : ndarray of shape (n_frames,)
        The predicted labels, aligned with ``y_true``.

    Raises
    ------
    ValueError
        If the two have a different number of sequences, different sequence
        lengths or different shapes.
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
        The ``average`` of :func:`sklearn.metrics.f1_score`; None picks
        ``"binary"`` for at most two labels (in ``y_true`` and ``y_pred``
        together), else ``"macro"``.

    Returns
    -------
    float
        The F1 score over the pooled frames (0 where undefined).
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


def best_threshold_f1(scores: np.ndarray, true: np.ndarray) -> tuple[float, float]:
    """Highest positive-class F1 over all decision thresholds, and that threshold.

    Parameters
    ----------
    scores : ndarray of shape (n,)
        Scores (logits) of the positive class.
    true : ndarray of shape (n,)
        True labels in {0, 1}.

    Returns
    -------
    f1 : float
        The best F1 (0 without positives).
    threshold : float
        A score threshold reaching it (midway between two distinct scores).
    """
    # ties need no stable order: F1 is read only at the end of each run of
    # equal scores, where the count of positives does not depend on it
    order = np.argsort(-scores)
    zs, ys = scores[order], true[order]
    n_pos = ys.sum()
    if n_pos == 0 or len(zs) == 0:
        return 0.0, 0.0
    tp = np.cumsum(ys)
    k = np.arange(1, len(zs) + 1)
    f1 = 2 * tp / (k + n_pos)
    distinct = np.r_[zs[:-1] > zs[1:], True]
    f1 = np.where(distinct, f1, -1.0)
    best = int(np.argmax(f1))
    nxt = zs[best + 1] if best + 1 < len(zs) else zs[best] - 1.0
    return float(f1[best]), float(0.5 * (zs[best] + nxt))


def label_f1(pred: np.ndarray, true: np.ndarray, n_classes: int) -> float:
    """Binary F1 of class 1, or the macro F1 over the classes that occur.

    Parameters
    ----------
    pred, true : ndarray of shape (n,)
        Predicted and true class indices.
    n_classes : int
        Number of classes.

    Returns
    -------
    float
        The F1 score (0 when undefined).
    """
    if n_classes == 2:
        tp = float(((pred == 1) & (true == 1)).sum())
        denom = float((pred == 1).sum() + (true == 1).sum())
        return 2 * tp / denom if denom else 0.0
    f1s = []
    for c in range(n_classes):
        tp = float(((pred == c) & (true == c)).sum())
        denom = float((pred == c).sum() + (true == c).sum())
        f1s.append(2 * tp / denom if denom else 0.0)
    present = [f for c, f in enumerate(f1s) if (true == c).any() or (pred == c).any()]
    return float(np.mean(present)) if present else 0.0


class _Ranking:
    """One ranking of samples, sorted once, to score many weightings of it.

    The average precision of every weighting (a bootstrap resample's counts)
    then costs a cumulative sum instead of a sort.

    Parameters
    ----------
    y : ndarray of bool of shape (n,)
        Whether each sample is positive.
    score : ndarray of shape (n,)
        Higher ranks first.
    """

    def __init__(self, y: np.ndarray, score: np.ndarray) -> None:
        self.order = np.argsort(score, kind="mergesort")[::-1]
        sorted_score = score[self.order]
        self.pos = np.asarray(y, dtype=bool)[self.order]
        # the last sample of each run of equal scores closes a threshold
        self.ends = np.r_[np.flatnonzero(np.diff(sorted_score)), len(score) - 1]

    def average_precision(self, sample_weight: np.ndarray | None = None) -> float:
        """The average precision of the ranking under ``sample_weight``."""
        pos = self.pos
        w = np.ones(len(pos)) if sample_weight is None else sample_weight[self.order]
        tps = np.cumsum(np.where(pos, w, 0.0))[self.ends]
        fps = np.cumsum(np.where(pos, 0.0, w))[self.ends]
        if len(tps) == 0 or tps[-1] <= 0:
            return 0.0
        seen = tps + fps
        precision = np.divide(tps, seen, out=np.zeros_like(tps), where=seen > 0)
        gained = np.diff(np.r_[0.0, tps / tps[-1]])
        return float(np.sum(gained * precision))


def average_precision(y: np.ndarray, score: np.ndarray, sample_weight=None) -> float:
    """Average precision of a ranking, as scikit-learn's, without its checks.

    The same value as :func:`sklearn.metrics.average_precision_score` (the
    sum over the distinct scores, from the highest, of the precision there
    times the recall gained there), for the many small scorings of a fit:
    every epoch of every candidate, every bootstrap resample.

    Parameters
    ----------
    y : ndarray of bool of shape (n,)
        Whether each sample is positive.
    score : ndarray of shape (n,)
        Higher ranks first.
    sample_weight : ndarray of shape (n,) or None, default=None
        Non-negative weights.

    Returns
    -------
    float
        The average precision; 0 when no positive has weight.
    """
    return _Ranking(y, score).average_precision(sample_weight)


class _Scorer:
    """:func:`ranking_score` of fixed logits and labels, for many sample weights.

    The rankings (one per scored class) are sorted once; see
    :func:`ranking_score` for the parameters.
    """

    def __init__(self, logits, true, n_classes: int, class_weight=None) -> None:
        z = np.asarray(logits, dtype=np.float64)
        self.true = np.asarray(true)
        self.rankings: list[tuple[int, _Ranking]] = []
        self.defined = self.true.size > 0 and not np.isnan(z).any()
        if not self.defined:
            return
        z = np.clip(z, -1e30, 1e30)  # infinite logits still rank
        self.class_weight = (
            None
            if class_weight is None
            else np.asarray(class_weight, dtype=np.float64)[self.true]
        )
        if n_classes == 2:
            z = z.reshape(len(self.true), -1)[:, -1]
            self.binary = True
            self.rankings = [(1, _Ranking(self.true == 1, z))]
            return
        self.binary = False
        z = z.reshape(len(self.true), n_classes)
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        self.rankings = [
            (c, _Ranking(self.true == c, logp[:, c]))
            for c in range(n_classes)
            if (self.true == c).any()
        ]

    def score(self, sample_weight=None) -> float:
        """The ranking score under ``sample_weight`` (None: every sample once)."""
        if not self.defined:
            return 0.0
        sw, true = self.class_weight, self.true
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=np.float64)
            sw = w if sw is None else sw * w
            true = np.where(w > 0, true, -1)  # a class must occur with weight
        if self.binary:
            if not (true == 1).any():
                return 0.0
            return self.rankings[0][1].average_precision(sw)
        aps = [r.average_precision(sw) for c, r in self.rankings if (true == c).any()]
        return float(np.mean(aps)) if aps else 0.0


def ranking_score(
    logits: np.ndarray,
    true: np.ndarray,
    n_classes: int,
    class_weight=None,
    sample_weight=None,
) -> float:
    """Threshold-free score of logits: average precision.

    Binary: the average precision of class 1 ranked by its logit. Multiclass:
    the mean one-vs-rest average precision over the classes that occur, each
    class ranked by its log-probability. Unlike the F1 at the best threshold,
    no threshold is fitted to the scored data, so the score is not optimistic,
    and it uses the whole ranking, so it is less noisy.

    Parameters
    ----------
    logits : ndarray of shape (n,) or (n, C)
        Program outputs (one logit for a binary problem, else one per class).
    true : ndarray of shape (n,)
        True class indices.
    n_classes : int
        Number of classes.
    class_weight : array-like of shape (n_classes,) or None, default=None
        Per-class weights, applied to every sample of the class (explicit
        costs count in the score as in the loss).
    sample_weight : array-like of shape (n,) or None, default=None
        Per-sample weights (for example bootstrap counts), multiplied with
        the class weights.

    Returns
    -------
    float
        In [0, 1]; 0 when undefined (no positive sample) or when a logit is
        NaN (a diverged program).
    """
    return _Scorer(logits, true, n_classes, class_weight).score(sample_weight)


def paired_score_se(
    logits_a: np.ndarray,
    logits_b: np.ndarray,
    true: np.ndarray,
    n_classes: int,
    *,
    groups: np.ndarray | None = None,
    class_weight=None,
    n_boot: int = 100,
    random_state: int = 0,
) -> float:
    """Bootstrap standard error of the difference of two models' ranking scores.

    Both models are scored (:func:`ranking_score`) on the same bootstrap
    resamples of the same data, so the error is that of the paired
    difference, much smaller than either score's own. Resampling is by
    ``groups`` (for example the sequence of each frame, since the frames of
    one sequence are not independent), with Poisson(1) counts per group.
    Each model's ranking is sorted once; a resample then costs a weighted
    cumulative sum.

    Parameters
    ----------
    logits_a, logits_b : ndarray of shape (n,) or (n, C)
        The two models' logits on the same samples.
    true : ndarray of shape (n,)
        True class indices.
    n_classes : int
        Number of classes.
    groups : ndarray of shape (n,) or None, default=None
        Group of each sample, resampled together (None: every sample is its
        own group).
    class_weight : array-like of shape (n_classes,) or None, default=None
        Per-class weights, as in :func:`ranking_score`.
    n_boot : int, default=100
        Bootstrap resamples.
    random_state : int, default=0
        Seed of the resampling.

    Returns
    -------
    float
        The standard deviation of ``score(a) - score(b)`` over the resamples
        (0 for fewer than two samples).
    """
    true = np.asarray(true)
    if true.size < 2:
        return 0.0
    if groups is None:
        groups = np.arange(true.size)
    _, owner = np.unique(np.asarray(groups), return_inverse=True)
    rng = np.random.default_rng(random_state)
    a = _Scorer(logits_a, true, n_classes, class_weight)
    b = _Scorer(logits_b, true, n_classes, class_weight)
    diffs = []
    for _ in range(n_boot):
        w = rng.poisson(1.0, owner.max() + 1)[owner]
        diffs.append(a.score(w) - b.score(w))
    return float(np.std(diffs))
