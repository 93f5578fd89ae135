"""Bouts of per-frame labels: finding, smoothing and scoring them.

A *bout* is a maximal run of consecutive frames with one label other than the
background label (the label of frames where no behaviour happens). Per-frame
classifiers flicker: a long bout is often predicted as several pieces with a
frame or two of background between them, and single frames of a behaviour
appear where there is none. This module

* finds the bouts of a label sequence (:func:`find_bouts`);
* smooths predictions, stitching short background gaps inside a bout and
  dropping bouts that are too short (:func:`smooth_bouts`);
* scores predictions bout by bout rather than frame by frame
  (:func:`bout_f1_score`, :func:`bout_precision_recall_fscore_support`,
  :func:`make_bout_scorer`);
* wraps any per-frame classifier so that its predictions are smoothed, with
  the smoothing parameters tunable in a grid search (:class:`BoutSmoother`).

Labels may be integers or strings; with string labels pass a string
``background`` (``background="none"``). The module needs numpy and
scikit-learn only.
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.metrics import accuracy_score, make_scorer
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "BoutSmoother",
    "bout_f1_score",
    "bout_f1_scorer",
    "bout_precision_recall_fscore_support",
    "find_bouts",
    "make_bout_scorer",
    "smooth_bouts",
]

_AVERAGES = ("binary", "micro", "macro", "weighted", None)


# --------------------------------------------------------------- validation
def _check_integer(value: Any, name: str, minimum: int) -> int:
    if (
        not isinstance(value, numbers.Integral)
        or isinstance(value, bool | np.bool_)
        or value < minimum
    ):
        raise ValueError(
            f"{name} must be an integer >= {minimum}, got {value!r} "
            f"({type(value).__name__})."
        )
    return int(value)


def _check_background(background: Any) -> None:
    if np.ndim(background) != 0:
        raise ValueError(
            f"background must be a single label (a scalar), got {background!r}."
        )


def _check_iou(iou: Any) -> float:
    if (
        not isinstance(iou, numbers.Real)
        or isinstance(iou, bool | np.bool_)
        or not 0.0 < float(iou) <= 1.0
    ):
        raise ValueError(f"iou must be a number in (0, 1], got {iou!r}.")
    return float(iou)


def _as_sequence(labels: Any, name: str = "labels") -> np.ndarray:
    """``labels`` as a 1-D array (one recording), or a clear ValueError."""
    try:
        arr = np.asarray(labels)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(
            f"{name} must be a 1-D sequence of labels (one recording); it could "
            f"not be converted to an array: {exc}"
        ) from None
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D sequence of labels (one recording), got an "
            f"array of shape {arr.shape}."
        )
    if arr.dtype.kind in "fc" and np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN; every frame needs a label.")
    return arr


def _as_recordings(y: Any, name: str) -> list[np.ndarray]:
    """The recordings of ``y``: one 1-D sequence, a 2-D array, or a list of 1-D.

    A 2-D array is a list of its rows. A list or tuple is one recording when
    its elements are scalars, and a list of recordings when they are 1-D.
    """
    if isinstance(y, list | tuple) or (
        isinstance(y, np.ndarray) and y.dtype.kind == "O"
    ):
        if len(y) == 0:
            return []
        ndims = {np.ndim(v) for v in y}
        if ndims == {0}:
            return [_as_sequence(y, name)]
        if ndims == {1}:
            return [_as_sequence(v, f"{name}[{i}]") for i, v in enumerate(y)]
        raise ValueError(
            f"{name} must be a 1-D sequence of labels, a 2-D array (one row per "
            "recording) or a list of 1-D sequences; its elements have "
            f"{sorted(ndims)} dimensions."
        )
    try:
        arr = np.asarray(y)
    except ValueError as exc:
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    if arr.ndim == 1:
        return [_as_sequence(arr, name)]
    if arr.ndim == 2:
        return [_as_sequence(row, f"{name}[{i}]") for i, row in enumerate(arr)]
    raise ValueError(
        f"{name} must be a 1-D sequence of labels, a 2-D array (one row per "
        f"recording) or a list of 1-D sequences, got an array of shape {arr.shape}."
    )


def _paired_recordings(
    y_true: Any, y_pred: Any
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The recordings of ``y_true`` and ``y_pred``, checked to be aligned."""
    true, pred = _as_recordings(y_true, "y_true"), _as_recordings(y_pred, "y_pred")
    if len(true) != len(pred):
        raise ValueError(
            f"y_true has {len(true)} recordings but y_pred has {len(pred)}."
        )
    for i, (t, p) in enumerate(zip(true, pred)):
        if len(t) != len(p):
            raise ValueError(
                f"Recording {i} has {len(t)} frames in y_true but {len(p)} in y_pred."
            )
    return true, pred


# ------------------------------------------------------------------- bouts
def _equals(values: np.ndarray, label: Any) -> np.ndarray:
    """Elementwise ``values == label`` as a bool array (False across types)."""
    same = values == label
    return np.broadcast_to(np.asarray(same, dtype=bool), values.shape)


def _bout_arrays(
    arr: np.ndarray, background: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(starts, stops, labels)`` of the bouts of the 1-D ``arr``, as arrays."""
    n = len(arr)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, arr[:0]
    change = np.flatnonzero(np.asarray(arr[1:] != arr[:-1], dtype=bool)) + 1
    starts = np.r_[0, change].astype(np.int64)
    stops = np.r_[change, n].astype(np.int64)
    values = arr[starts]
    keep = ~_equals(values, background)
    return starts[keep], stops[keep], values[keep]


def _span_indices(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """The frame indices of the disjoint, sorted spans ``[starts[k], stops[k])``."""
    lengths = stops - starts
    offsets = np.cumsum(lengths) - lengths
    return np.arange(lengths.sum()) + np.repeat(starts - offsets, lengths)


def find_bouts(labels: Any, background: Any = 0) -> list[tuple[int, int, Any]]:
    """Find the bouts of one recording's per-frame labels.

    A bout is a maximal run of consecutive frames with the same label, other
    than ``background``. Two bouts of different labels may touch (the one
    stops where the other starts).

    Parameters
    ----------
    labels : array-like of shape (n_frames,)
        The label of every frame (integers or strings).
    background : int or str, default=0
        The label of frames that belong to no bout.

    Returns
    -------
    list of tuple of (int, int, label)
        ``(start, stop, label)`` of every bout in frame order; ``stop`` is
        exclusive, so the bout covers ``labels[start:stop]``. Labels are
        Python scalars (``int``, ``str``, ...).

    Raises
    ------
    ValueError
        If ``labels`` is not 1-D, contains NaN, or ``background`` is not a
        scalar.

    Examples
    --------
    >>> from sklearn_dpads.bouts import find_bouts
    >>> find_bouts([0, 1, 1, 0, 2, 2, 1])
    [(1, 3, 1), (4, 6, 2), (6, 7, 1)]
    >>> find_bouts(["none", "walk", "walk"], background="none")
    [(1, 3, 'walk')]
    """
    _check_background(background)
    arr = _as_sequence(labels)
    starts, stops, values = _bout_arrays(arr, background)
    return list(zip(starts.tolist(), stops.tolist(), values.tolist()))


def _output_dtype(dtype: np.dtype, background: Any) -> np.dtype:
    """A dtype that holds both the labels of ``dtype`` and ``background``."""
    bg = np.asarray(background)
    if dtype.kind == "O" or bg.dtype.kind == "O":
        return np.dtype(object)
    if dtype.kind in "US" and bg.dtype.kind == dtype.kind:
        return np.result_type(dtype, bg.dtype)  # wide enough for both strings
    if dtype.kind in "biuf" and bg.dtype.kind in "biuf":
        if bg.astype(dtype) == bg:
            return dtype
        return np.result_type(dtype, bg.dtype)
    return np.dtype(object)  # numbers and strings together


def _stitch(out: np.ndarray, max_gap: int, background: Any) -> None:
    """Fill, in place, background gaps of <= max_gap frames inside one label."""
    if max_gap == 0:
        return
    starts, stops, values = _bout_arrays(out, background)
    if len(starts) < 2:
        return
    gap = starts[1:] - stops[:-1]
    same = np.asarray(values[1:] == values[:-1], dtype=bool)
    fill = same & (gap > 0) & (gap <= max_gap)
    if fill.any():
        gap_starts, gap_stops = stops[:-1][fill], starts[1:][fill]
        out[_span_indices(gap_starts, gap_stops)] = np.repeat(
            values[:-1][fill], gap_stops - gap_starts
        )


def _drop_short(out: np.ndarray, min_length: int, background: Any) -> bool:
    """Set, in place, bouts shorter than min_length to background; any dropped."""
    starts, stops, _ = _bout_arrays(out, background)
    short = (stops - starts) < min_length
    if not short.any():
        return False
    out[_span_indices(starts[short], stops[short])] = background
    return True


def smooth_bouts(
    labels: Any, *, min_length: int, max_gap: int, background: Any = 0
) -> np.ndarray:
    """Smooth one recording's labels: stitch short gaps, then drop short bouts.

    1. **Stitch**: a run of at most ``max_gap`` background frames between two
       bouts of the same label is given that label, so the two bouts become
       one.
    2. **Drop**: bouts shorter than ``min_length`` frames become background.

    Dropping a bout can open a new background gap between two bouts of one
    label (a one-frame flicker of another label inside a long bout); such
    gaps are stitched as in step 1, once more, after step 2. The result is
    therefore a fixed point: smoothing it again with the same parameters
    changes nothing. Background frames at the start or the end of the
    recording are never stitched.

    Parameters
    ----------
    labels : array-like of shape (n_frames,)
        The label of every frame (integers or strings). It is not modified.
    min_length : int
        The shortest bout kept, in frames (>= 1; 1 keeps every bout).
    max_gap : int
        The longest background gap stitched, in frames (>= 0; 0 stitches
        nothing).
    background : int or str, default=0
        The label of frames that belong to no bout.

    Returns
    -------
    ndarray of shape (n_frames,)
        The smoothed labels, a new array. Its dtype is that of ``labels``
        unless ``background`` does not fit in it (a longer string: the string
        dtype is widened; a string among numbers: object).

    Raises
    ------
    ValueError
        If ``labels`` is not 1-D or contains NaN, ``min_length`` is not an
        integer >= 1, ``max_gap`` is not an integer >= 0, or ``background`` is
        not a scalar.

    Examples
    --------
    >>> from sklearn_dpads.bouts import smooth_bouts
    >>> smooth_bouts([1, 1, 0, 1, 1, 0, 0, 0, 1], min_length=2, max_gap=1)
    array([1, 1, 1, 1, 1, 0, 0, 0, 0])
    """
    min_length = _check_integer(min_length, "min_length", 1)
    max_gap = _check_integer(max_gap, "max_gap", 0)
    _check_background(background)
    arr = _as_sequence(labels)
    out = arr.astype(_output_dtype(arr.dtype, background), copy=True)
    _stitch(out, max_gap, background)
    if min_length > 1 and _drop_short(out, min_length, background):
        _stitch(out, max_gap, background)
    return out


# ----------------------------------------------------------------- scoring
def _count_matches(
    ts: np.ndarray, te: np.ndarray, ps: np.ndarray, pe: np.ndarray, iou: float
) -> int:
    """Largest number of one-to-one matches of true and predicted bouts.

    ``[ts, te)`` are the true bouts of one label in one recording and
    ``[ps, pe)`` the predicted ones, each sorted and disjoint. A pair may
    match when its intersection over union is at least ``iou``.
    """
    if len(ts) == 0 or len(ps) == 0:
        return 0
    # the predicted bouts overlapping true bout i are lo[i] .. hi[i] - 1
    lo = np.searchsorted(pe, ts, side="right")
    hi = np.searchsorted(ps, te, side="left")
    counts = np.maximum(hi - lo, 0)
    ti = np.repeat(np.arange(len(ts)), counts)
    first = np.cumsum(counts) - counts
    pj = np.repeat(lo, counts) + np.arange(counts.sum()) - np.repeat(first, counts)
    inter = np.minimum(te[ti], pe[pj]) - np.maximum(ts[ti], ps[pj])
    union = (te[ti] - ts[ti]) + (pe[pj] - ps[pj]) - inter
    ok = inter / union >= iou
    # The pairs are sorted by (true, predicted) bout and no two of them cross
    # (pairs (i, j') and (i', j) with i < i' and j < j' would need two bouts
    # of one sequence to overlap). So the first pair whose bouts are both
    # free belongs to a maximum matching of what is left (swap it in for the
    # one or no pair that uses its bouts), and taking such pairs in order
    # gives a maximum matching. A pair's bouts are free exactly when its true
    # bout is not the last matched one and its predicted bout comes later.
    matches, last_t, last_p = 0, -1, -1
    for i, j in zip(ti[ok].tolist(), pj[ok].tolist()):
        if i != last_t and j > last_p:
            matches, last_t, last_p = matches + 1, i, j
    return matches


def _present_labels(recordings: list[np.ndarray]) -> list[Any]:
    found: set[Any] = set()
    for r in recordings:
        try:
            found.update(np.unique(r).tolist())
        except TypeError:  # an object array of labels of several types
            found.update(r.tolist())
    try:
        return sorted(found)
    except TypeError:
        raise ValueError(
            "y_true and y_pred mix labels of different types (such as strings "
            f"and integers): {sorted(map(repr, found))}."
        ) from None


def _scored_labels(
    present: list[Any], average: Any, pos_label: Any, labels: Any, background: Any
) -> list[Any]:
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {list(_AVERAGES)}, got {average!r}.")
    if average == "binary":
        if len(present) > 2:
            raise ValueError(
                "Target is multiclass but average='binary'. Please choose another "
                "average setting, one of [None, 'micro', 'macro', 'weighted'] "
                f"(labels found: {present}, background={background!r})."
            )
        if np.ndim(pos_label) != 0:
            raise ValueError(f"pos_label must be a single label, got {pos_label!r}.")
        if pos_label == background:
            raise ValueError(
                f"pos_label={pos_label!r} is the background label; bouts of the "
                "background are not scored."
            )
        if len(present) == 2 and pos_label not in present:
            raise ValueError(
                f"pos_label={pos_label!r} is not a valid label. It should be one "
                f"of {present}."
            )
        return [pos_label]
    if labels is None:
        return [v for v in present if not v == background]
    chosen = np.asarray(labels)
    if chosen.ndim != 1 or len(chosen) == 0:
        raise ValueError(f"labels must be a non-empty 1-D list, got {labels!r}.")
    return _distinct_bout_labels(chosen.tolist(), background)


def _distinct_bout_labels(chosen: list[Any], background: Any) -> list[Any]:
    """``chosen``, checked to hold distinct labels other than the background."""
    if any(v == background for v in chosen):
        raise ValueError(
            f"labels must not contain the background label {background!r}: "
            "background frames form no bouts."
        )
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"labels must not repeat a label, got {chosen}.")
    return chosen


def _prf(matches: np.ndarray, n_pred: np.ndarray, n_true: np.ndarray):
    """Precision, recall and F1 from counts (0 where undefined)."""
    m, p, t = (np.asarray(a, dtype=np.float64) for a in (matches, n_pred, n_true))
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(p > 0, m / p, 0.0)
        recall = np.where(t > 0, m / t, 0.0)
        f1 = np.where(p + t > 0, 2 * m / (p + t), 0.0)
    return precision, recall, f1


def bout_precision_recall_fscore_support(
    y_true: Any,
    y_pred: Any,
    *,
    iou: float = 0.5,
    average: str | None = None,
    pos_label: Any = 1,
    labels: Any = None,
    background: Any = 0,
) -> tuple[Any, Any, Any, Any]:
    """Bout-level precision, recall, F1 and support.

    Every bout (see :func:`find_bouts`) of ``y_true`` and of ``y_pred`` is
    found, recording by recording. A true and a predicted bout of the same
    label and recording *match* when their intersection over union (in
    frames) is at least ``iou``; each bout matches at most one other. The
    matching used is a maximum one (the most matched pairs possible): since
    the bouts of one label in one recording do not overlap each other, the
    candidate pairs never cross, and taking them in frame order, each pair
    whose two bouts are both still free, is exact. For ``iou > 0.5`` a bout
    has at most one candidate, so the matching is unique.

    Then, per label, precision is ``matches / predicted bouts``, recall
    ``matches / true bouts`` and F1 their harmonic mean ``2 matches /
    (predicted + true bouts)``; each is 0 where undefined (no bout).

    Parameters
    ----------
    y_true : array-like of shape (n_frames,) or (n_recordings, n_frames), or list of 1-D array-like
        True per-frame labels: one recording, a 2-D array with one row per
        recording, or a list of recordings of different lengths.
    y_pred : array-like, same layout as ``y_true``
        Predicted per-frame labels, aligned with ``y_true``.
    iou : float, default=0.5
        Smallest intersection over union of a match, in (0, 1].
    average : {"binary", "micro", "macro", "weighted"} or None, default=None
        As in :func:`sklearn.metrics.precision_recall_fscore_support`:

        - ``"binary"``: the scores of ``pos_label`` only; only for at most
          two distinct labels (background included) in ``y_true`` and
          ``y_pred``.
        - ``"micro"``: from the matches and bouts of all labels pooled.
        - ``"macro"``: the unweighted mean of the per-label scores.
        - ``"weighted"``: the mean of the per-label scores weighted by the
          number of true bouts of each label.
        - None: the per-label scores, in the order of ``labels``.
    pos_label : int or str, default=1
        The label scored when ``average="binary"``.
    labels : array-like, default=None
        The labels to score (not with ``average="binary"``, where it is
        ignored); None: every label other than ``background`` found in
        ``y_true`` or ``y_pred``, sorted. A label without bouts scores 0.
    background : int or str, default=0
        The label of frames that belong to no bout.

    Returns
    -------
    precision : float or ndarray of shape (n_labels,)
        Bout precision (an array when ``average`` is None).
    recall : float or ndarray of shape (n_labels,)
        Bout recall.
    fscore : float or ndarray of shape (n_labels,)
        Bout F1.
    support : ndarray of shape (n_labels,) or None
        The number of true bouts of each label when ``average`` is None,
        else None.

    Raises
    ------
    ValueError
        If ``y_true`` and ``y_pred`` differ in number of recordings or in
        length, a recording is not 1-D, the labels mix types, ``iou`` is not
        in (0, 1], ``average`` is unknown, ``average="binary"`` with more
        than two labels or a ``pos_label`` that is absent or the background,
        or ``labels`` contains the background or repeats a label.

    Examples
    --------
    >>> from sklearn_dpads.bouts import bout_precision_recall_fscore_support
    >>> y_true = [0, 1, 1, 1, 0, 0, 2, 2, 0]
    >>> y_pred = [0, 1, 1, 0, 0, 0, 0, 1, 0]
    >>> p, r, f, s = bout_precision_recall_fscore_support(y_true, y_pred)
    >>> p.tolist(), r.tolist(), s.tolist()
    ([0.5, 0.0], [1.0, 0.0], [1, 1])
    """
    iou = _check_iou(iou)
    _check_background(background)
    true, pred = _paired_recordings(y_true, y_pred)
    present = _present_labels(true + pred)
    scored = _scored_labels(present, average, pos_label, labels, background)
    n = len(scored)
    matches, n_true, n_pred = (np.zeros(n, dtype=np.int64) for _ in range(3))
    for t, p in zip(true, pred):
        tb, pb = _bout_arrays(t, background), _bout_arrays(p, background)
        for k, label in enumerate(scored):
            it, ip = _equals(tb[2], label), _equals(pb[2], label)
            n_true[k] += int(it.sum())
            n_pred[k] += int(ip.sum())
            matches[k] += _count_matches(
                tb[0][it], tb[1][it], pb[0][ip], pb[1][ip], iou
            )
    if average == "micro":
        precision, recall, f1 = _prf(matches.sum(), n_pred.sum(), n_true.sum())
        return float(precision), float(recall), float(f1), None
    precision, recall, f1 = _prf(matches, n_pred, n_true)
    if average is None:
        return precision, recall, f1, n_true
    if average == "weighted":
        total = n_true.sum()
        if total == 0:
            return 0.0, 0.0, 0.0, None
        return (
            float((precision * n_true).sum() / total),
            float((recall * n_true).sum() / total),
            float((f1 * n_true).sum() / total),
            None,
        )
    # binary (one label) and macro (0 without labels to score)
    if n == 0:
        return 0.0, 0.0, 0.0, None
    return float(precision.mean()), float(recall.mean()), float(f1.mean()), None


def bout_f1_score(
    y_true: Any,
    y_pred: Any,
    *,
    iou: float = 0.5,
    average: str | None = "binary",
    pos_label: Any = 1,
    labels: Any = None,
    background: Any = 0,
) -> float | np.ndarray:
    """Bout-level F1: the harmonic mean of bout precision and bout recall.

    True and predicted bouts of one label match one to one when their
    intersection over union is at least ``iou``; see
    :func:`bout_precision_recall_fscore_support` for the matching and the
    averages. Use :func:`make_bout_scorer` (or ``bout_f1_scorer``) to
    score with it in cross-validation.

    Parameters
    ----------
    y_true : array-like of shape (n_frames,) or (n_recordings, n_frames), or list of 1-D array-like
        True per-frame labels: one recording, a 2-D array with one row per
        recording, or a list of recordings of different lengths.
    y_pred : array-like, same layout as ``y_true``
        Predicted per-frame labels, aligned with ``y_true``.
    iou : float, default=0.5
        Smallest intersection over union of a match, in (0, 1].
    average : {"binary", "micro", "macro", "weighted"} or None, default="binary"
        How the per-label scores are combined, as in
        :func:`sklearn.metrics.f1_score`; None returns them all.
    pos_label : int or str, default=1
        The label scored when ``average="binary"``.
    labels : array-like, default=None
        The labels scored by the other averages; None: every label other
        than ``background`` found in ``y_true`` or ``y_pred``, sorted.
    background : int or str, default=0
        The label of frames that belong to no bout.

    Returns
    -------
    float or ndarray of shape (n_labels,)
        The F1 score (0 where undefined, such as without any bout); an array
        with one score per label when ``average`` is None.

    Raises
    ------
    ValueError
        As :func:`bout_precision_recall_fscore_support`.

    Examples
    --------
    >>> from sklearn_dpads.bouts import bout_f1_score
    >>> y_true = [[0, 1, 1, 1, 0, 0, 1, 1], [1, 1, 0, 0, 0, 0, 0, 0]]
    >>> y_pred = [[0, 1, 1, 0, 0, 0, 1, 1], [0, 0, 0, 0, 1, 0, 0, 0]]
    >>> round(bout_f1_score(y_true, y_pred), 3)  # 2 matches, 3 true, 3 predicted
    0.667
    """
    _, _, f1, _ = bout_precision_recall_fscore_support(
        y_true,
        y_pred,
        iou=iou,
        average=average,
        pos_label=pos_label,
        labels=labels,
        background=background,
    )
    return f1


def make_bout_scorer(
    *,
    iou: float = 0.5,
    average: str | None = "binary",
    pos_label: Any = 1,
    labels: Any = None,
    background: Any = 0,
):
    """A scikit-learn scorer of :func:`bout_f1_score`, for cross-validation.

    Pass it as ``scoring`` to :class:`~sklearn.model_selection.GridSearchCV`,
    :func:`~sklearn.model_selection.cross_val_score` and the like. The scorer
    calls the estimator's ``predict`` and compares its per-frame predictions
    with ``y`` (a 2-D array with one row per recording, or a list of 1-D
    arrays).

    Parameters
    ----------
    iou : float, default=0.5
        Smallest intersection over union of a match, in (0, 1].
    average : {"binary", "micro", "macro", "weighted"}, default="binary"
        How the per-label scores are combined (not None: a scorer returns one
        number).
    pos_label : int or str, default=1
        The label scored when ``average="binary"``.
    labels : array-like, default=None
        The labels scored by the other averages; None: every label other
        than ``background`` found in the scored data.
    background : int or str, default=0
        The label of frames that belong to no bout.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``, greater is better.

    Raises
    ------
    ValueError
        If ``iou`` is not in (0, 1], ``average`` is not a known average (None
        included) or ``background`` is not a scalar.
    """
    _check_iou(iou)
    _check_background(background)
    if average is None or average not in _AVERAGES:
        raise ValueError(
            "average must be one of ['binary', 'micro', 'macro', 'weighted'] for a "
            f"scorer (one number), got {average!r}."
        )
    return make_scorer(
        bout_f1_score,
        iou=iou,
        average=average,
        pos_label=pos_label,
        labels=labels,
        background=background,
    )


#: Scorer of :func:`bout_f1_score` with its defaults (``iou=0.5``, binary,
#: ``pos_label=1``, ``background=0``): ``GridSearchCV(..., scoring=bout_f1_scorer)``.
bout_f1_scorer = make_bout_scorer()


# --------------------------------------------------------------- estimator
def _real_lengths(X: Any) -> np.ndarray | None:
    """Frames before the trailing all-NaN padding of every sequence of ``X``.

    None when ``X`` is not float sequences (a 3-D array or a list of 2-D
    arrays), so that nothing counts as padding.
    """
    try:
        if isinstance(X, list | tuple):
            seqs = [np.asarray(x) for x in X]
        else:
            seqs = np.asarray(X)
            if seqs.ndim != 3:
                return None
    except (ValueError, TypeError):
        return None
    lengths = []
    for x in seqs:
        if x.ndim != 2 or x.dtype.kind != "f":
            return None
        nan = np.isnan(x).all(axis=1)
        lengths.append(len(nan) - int(np.logical_and.accumulate(nan[::-1]).sum()))
    return np.asarray(lengths, dtype=np.int64)


def _estimator_has(attr: str):
    """Whether the fitted (else the unfitted) inner estimator has ``attr``."""

    def check(self):
        inner = getattr(self, "estimator_", self.estimator)
        getattr(inner, attr)  # raises AttributeError, which hides the method
        return True

    return check


class BoutSmoother(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """A per-frame classifier whose predictions are smoothed bout by bout.

    ``fit`` fits a clone of ``estimator``; ``predict`` smooths every
    recording of its per-frame predictions with :func:`smooth_bouts`
    (background gaps of at most ``max_gap`` frames inside a bout are
    stitched, then bouts shorter than ``min_length`` frames are dropped).
    ``min_length`` and ``max_gap`` are ordinary parameters, so a grid search
    can tune them; score with :func:`make_bout_scorer` to tune for bout F1.
    Smoothing happens after the fit, so when only ``min_length`` and
    ``max_gap`` change, refitting refits the inner estimator too (cache it,
    or fit it once and tune on its predictions, if it is slow).

    Parameters
    ----------
    estimator : estimator object
        A classifier whose ``predict`` returns per-frame labels, of shape
        ``(n_samples, n_timesteps)`` (or a list of 1-D arrays for recordings
        of different lengths), such as a
        :class:`~sklearn_dpads.ProgramSynthesisClassifier` fitted on
        per-frame labels.
    min_length : int, default=1
        The shortest predicted bout kept, in frames (>= 1; 1 keeps all).
    max_gap : int, default=0
        The longest background gap inside a bout that is stitched, in
        frames (>= 0; 0 stitches nothing).
    background : int or str, default=0
        The label of frames that belong to no bout; it must be one of the
        inner estimator's classes.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.
    classes_ : ndarray of shape (n_classes,)
        The classes of ``estimator_`` (the distinct labels of ``y`` when it
        has no ``classes_``).
    n_features_in_ : int
        Number of features of ``X``; only when ``estimator_`` has it.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features; only when ``estimator_`` has them.

    See Also
    --------
    smooth_bouts : The smoothing of one recording.
    make_bout_scorer : A bout F1 scorer for the grid search.

    Notes
    -----
    Frames after a sequence's end (trailing all-NaN frames of ``X``, the
    padding of sequences of different lengths) are predicted as
    ``background``, so that they form no bouts; pad ``y`` with the
    background label too, so that scores on padded arrays count real bouts
    only. ``predict_proba`` and ``decision_function`` are those of the inner
    estimator, not smoothed.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_dpads import ProgramSynthesisClassifier
    >>> from sklearn_dpads.bouts import BoutSmoother, bout_f1_scorer
    >>> search = GridSearchCV(
    ...     BoutSmoother(ProgramSynthesisClassifier()),
    ...     {"min_length": [1, 3, 5], "max_gap": [0, 2, 4]},
    ...     scoring=bout_f1_scorer,
    ... )
    """

    def __init__(
        self, estimator: Any, min_length: int = 1, max_gap: int = 0, background=0
    ):
        self.estimator = estimator
        self.min_length = min_length
        self.max_gap = max_gap
        self.background = background

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if hasattr(self.estimator, "__sklearn_tags__"):
            # X goes to the inner estimator unchanged: it accepts what it does
            tags.input_tags = dataclasses.replace(get_tags(self.estimator).input_tags)
        return tags

    def _check_params(self) -> None:
        _check_integer(self.min_length, "min_length", 1)
        _check_integer(self.max_gap, "max_gap", 0)
        _check_background(self.background)

    def fit(self, X: Any, y: Any, **fit_params: Any) -> BoutSmoother:
        """Fit a clone of the inner estimator.

        Parameters
        ----------
        X : array-like
            Training sequences, in the format of the inner estimator (for
            example ``(n_samples, n_timesteps, n_features)``).
        y : array-like of shape (n_samples, n_timesteps), or list of 1-D arrays
            Per-frame labels.
        **fit_params : dict
            Passed to the inner estimator's ``fit``.

        Returns
        -------
        self : BoutSmoother
            The fitted estimator.

        Raises
        ------
        ValueError
            If ``min_length`` is not an integer >= 1, ``max_gap`` not an
            integer >= 0, ``background`` not a scalar, or ``background`` is
            not one of the fitted estimator's classes.
        """
        self._check_params()
        estimator = clone(self.estimator).fit(X, y, **fit_params)
        if hasattr(estimator, "classes_"):
            classes = np.asarray(estimator.classes_)
        else:
            classes = np.asarray(_present_labels(_as_recordings(y, "y")))
        if not _equals(classes, self.background).any():
            raise ValueError(
                f"background={self.background!r} is not one of the classes "
                f"{classes.tolist()} of the fitted estimator; smoothing would "
                "predict a label it does not know. Set background to the label "
                "of the frames without a behaviour."
            )
        self.estimator_ = estimator
        self.classes_ = classes
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(estimator, name):
                setattr(self, name, getattr(estimator, name))
        return self

    def predict(self, X: Any) -> np.ndarray | list[np.ndarray]:
        """Per-frame predictions of the inner estimator, smoothed.

        Parameters
        ----------
        X : array-like
            Sequences, in the format of the inner estimator.

        Returns
        -------
        ndarray of shape (n_samples, n_timesteps), or list of 1-D arrays
            The smoothed labels, in the layout of the inner estimator's
            predictions (a list for a list of recordings of different
            lengths); padding frames are ``background``.

        Raises
        ------
        ValueError
            If the inner estimator does not predict per frame (its
            predictions are not 2-D or a list of 1-D arrays).
        """
        check_is_fitted(self)
        self._check_params()
        raw = self.estimator_.predict(X)
        as_list = isinstance(raw, list | tuple)
        rows = list(raw) if as_list else np.asarray(raw)
        if not as_list and rows.ndim != 2:
            raise ValueError(
                "BoutSmoother needs per-frame predictions of shape (n_samples, "
                "n_timesteps), but the estimator predicted an array of shape "
                f"{rows.shape}; fit it on per-frame labels."
            )
        lengths = _real_lengths(X)
        if lengths is not None and len(lengths) != len(rows):
            lengths = None
        smoothed = []
        for i, row in enumerate(rows):
            row = _as_sequence(row, f"the predictions of sequence {i}")
            out = row.astype(_output_dtype(row.dtype, self.background), copy=True)
            end = len(row) if lengths is None else min(len(row), int(lengths[i]))
            out[:end] = smooth_bouts(
                row[:end],
                min_length=self.min_length,
                max_gap=self.max_gap,
                background=self.background,
            )
            out[end:] = self.background
            smoothed.append(out)
        if as_list:
            return smoothed
        if not smoothed:
            return rows.copy()
        return np.stack(smoothed)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        """Class probabilities of the inner estimator (not smoothed).

        Parameters
        ----------
        X : array-like
            Sequences, in the format of the inner estimator.

        Returns
        -------
        ndarray or list of ndarray
            ``estimator_.predict_proba(X)``.
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> Any:
        """Log class probabilities of the inner estimator (not smoothed).

        Parameters
        ----------
        X : array-like
            Sequences, in the format of the inner estimator.

        Returns
        -------
        ndarray or list of ndarray
            ``estimator_.predict_log_proba(X)``.
        """
        check_is_fitted(self)
        return self.estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X: Any) -> Any:
        """Decision function of the inner estimator (not smoothed).

        Parameters
        ----------
        X : array-like
            Sequences, in the format of the inner estimator.

        Returns
        -------
        ndarray
            ``estimator_.decision_function(X)``.
        """
        check_is_fitted(self)
        return self.estimator_.decision_function(X)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy of the smoothed predictions over all frames.

        To score bouts instead, use :func:`bout_f1_score` or, in a grid
        search, ``scoring=make_bout_scorer()``.

        Parameters
        ----------
        X : array-like
            Sequences, in the format of the inner estimator.
        y : array-like of shape (n_samples, n_timesteps), or list of 1-D arrays
            True per-frame labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-recording weights, given to every frame of the recording.

        Returns
        -------
        float
            The fraction of frames predicted right (weighted).

        Raises
        ------
        ValueError
            If ``y`` and the predictions differ in number of recordings or
            lengths, or ``sample_weight`` has not one weight per recording.
        """
        true, pred = _paired_recordings(y, self.predict(X))
        weights = None
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=np.float64)
            if w.shape != (len(true),):
                raise ValueError(
                    f"sample_weight must have one weight per recording (shape "
                    f"({len(true)},)), got shape {w.shape}."
                )
            weights = np.repeat(w, [len(t) for t in true])
        if not true:
            return 0.0
        return float(
            accuracy_score(
                np.concatenate(true), np.concatenate(pred), sample_weight=weights
            )
        )
