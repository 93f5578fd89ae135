"""``plot_ethogram``: the bouts of true and predicted per-frame labels over time."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from sklearn_dpads.bouts import (
    _as_recordings,
    _check_background,
    _distinct_bout_labels,
    _paired_recordings,
    _present_labels,
    find_bouts,
)
from sklearn_dpads.plotting._axes import _get_ax

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["plot_ethogram"]

_BAR = 0.8  # height of a row's bars (rows are 1 apart)


def _is_one_recording(y: Any) -> bool:
    """Whether ``y`` is a single 1-D sequence (not a 2-D array or a list)."""
    if isinstance(y, list | tuple) or (
        isinstance(y, np.ndarray) and y.dtype.kind == "O"
    ):
        return len(y) > 0 and all(np.ndim(v) == 0 for v in y)
    return np.ndim(y) == 1


def _check_frame_rate(frame_rate: Any) -> float | None:
    if frame_rate is None:
        return None
    if (
        not isinstance(frame_rate, numbers.Real)
        or isinstance(frame_rate, bool | np.bool_)
        or not math.isfinite(frame_rate)
        or frame_rate <= 0
    ):
        raise ValueError(
            f"frame_rate must be a finite number > 0 (frames per second) or None, "
            f"got {frame_rate!r}."
        )
    return float(frame_rate)


def _drawn_labels(
    recordings: list[np.ndarray], labels: Any, background: Any
) -> list[Any]:
    if labels is None:
        return [v for v in _present_labels(recordings) if not v == background]
    chosen = np.asarray(labels)
    if chosen.ndim != 1:
        raise ValueError(f"labels must be a 1-D list of labels, got {labels!r}.")
    return _distinct_bout_labels(chosen.tolist(), background)


def _names(labels: list[Any], label_names: Any) -> list[str]:
    if label_names is None:
        return [str(v) for v in labels]
    if isinstance(label_names, Mapping):
        return [str(label_names.get(v, v)) for v in labels]
    if isinstance(label_names, str) or np.ndim(label_names) != 1:
        raise ValueError(
            "label_names must be a dict from label to name or a list with one "
            f"name per label, got {label_names!r}."
        )
    names = [str(n) for n in label_names]
    if len(names) != len(labels):
        raise ValueError(
            f"label_names has {len(names)} names but {len(labels)} labels are "
            f"drawn ({labels}); pass one name per label, in the order of labels."
        )
    return names


def _proba_recordings(
    proba: Any, y_true: Any, lengths: list[int], n_labels: int
) -> list[np.ndarray]:
    """The per-frame probabilities of every recording, checked."""
    try:
        if _is_one_recording(y_true):
            recs = [np.asarray(proba, dtype=np.float64)]
        elif isinstance(proba, list | tuple):
            recs = [np.asarray(p, dtype=np.float64) for p in proba]
        else:
            recs = list(np.asarray(proba, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"proba could not be converted to arrays of numbers: {exc}"
        ) from None
    if len(recs) != len(lengths):
        raise ValueError(
            f"proba has {len(recs)} recordings but y_true has {len(lengths)}."
        )
    for i, (p, n) in enumerate(zip(recs, lengths)):
        if p.ndim not in (1, 2) or len(p) != n:
            raise ValueError(
                f"proba of recording {i} must have shape ({n},) or ({n}, "
                f"n_labels) like its labels, got shape {p.shape}."
            )
        if p.ndim == 2 and p.shape[1] != n_labels:
            raise ValueError(
                f"proba of recording {i} has {p.shape[1]} columns but {n_labels} "
                "labels are drawn; pass one column per drawn label, in the order "
                "of labels (for predict_proba output, leave out the background "
                "column, e.g. proba[..., 1:]), or the 1-D probability of one label."
            )
        if ((p < 0) | (p > 1)).any():  # NaN compares False: gaps are drawn
            raise ValueError(
                f"proba of recording {i} has values outside [0, 1]; pass "
                "probabilities (predict_proba), not scores."
            )
    return recs


def plot_ethogram(
    y_true: Any,
    y_pred: Any = None,
    *,
    proba: Any = None,
    labels: Any = None,
    label_names: Any = None,
    frame_rate: float | None = None,
    background: Any = 0,
    ax: Axes | None = None,
) -> Axes:
    """Draw the bouts of true (and predicted) per-frame labels against time.

    Every recording gets a row of coloured bars for the bouts of ``y_true``
    (see :func:`~sklearn_dpads.bouts.find_bouts`), one colour per label,
    then, when given, a row for the bouts of ``y_pred`` and a row with the
    line of the per-frame probabilities ``proba`` (drawn at the frame
    centres, 0 at the bottom of the row and 1 at the top). Rows run from the
    top: recording 0 first. Background frames are left blank.

    Parameters
    ----------
    y_true : array-like of shape (n_frames,) or (n_recordings, n_frames), or list of 1-D array-like
        True per-frame labels: one recording, a 2-D array with one row per
        recording, or a list of recordings of different lengths.
    y_pred : array-like, same layout as ``y_true``, default=None
        Predicted per-frame labels (for example of
        :class:`~sklearn_dpads.bouts.BoutSmoother`); None draws no
        prediction rows.
    proba : array-like, default=None
        Per-frame probabilities, one array per recording in the layout of
        ``y_true`` with an optional last axis: ``(n_frames,)`` per recording
        draws one line (the probability of a label, such as
        ``predict_proba(X)[..., 1]``), ``(n_frames, n_labels)`` one line per
        drawn label, in the order of ``labels``. Values are in [0, 1]; NaN
        leaves a gap.
    labels : array-like, default=None
        The labels drawn, in the order of their colours (``C0``, ``C1``,
        ...); None: every label other than ``background`` in ``y_true`` or
        ``y_pred``, sorted. Bouts of other labels are not drawn.
    label_names : dict or list of str, default=None
        Names of the labels in the legend: a dict from label to name (labels
        missing from it keep their value) or one name per drawn label.
    frame_rate : float, default=None
        Frames per second; when given the x axis is in seconds, else in
        frames.
    background : int or str, default=0
        The label of frames that belong to no bout.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on. ``ax.collections`` holds one collection of bars
        (``broken_barh``) per row and label with at least one bout, labelled
        ``"<row> <label name>"``, row by row; ``ax.lines`` the probability
        lines (``ax.patches`` their faint bands); the y tick labels name the rows (``"truth"``,
        ``"prediction"``, ``"probability"``, prefixed with the recording's
        index when there are several).

    Raises
    ------
    ValueError
        If ``y_pred`` or ``proba`` does not match ``y_true`` (number of
        recordings, frames, columns), ``proba`` is outside [0, 1],
        ``labels`` contains the background or repeats a label,
        ``label_names`` does not fit ``labels``, or ``frame_rate`` is not a
        positive number.
    TypeError
        If ``ax`` is not a matplotlib Axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_dpads.plotting import plot_ethogram
    >>> y_true = [0, 1, 1, 1, 0, 0, 2, 2, 0, 0]
    >>> y_pred = [0, 1, 1, 0, 1, 0, 0, 2, 2, 0]
    >>> ax = plot_ethogram(y_true, y_pred, label_names={1: "attack", 2: "mount"})
    >>> [c.get_label() for c in ax.collections]
    ['truth attack', 'truth mount', 'prediction attack', 'prediction mount']
    """
    _check_background(background)
    rate = _check_frame_rate(frame_rate)
    if y_pred is None:
        true, pred = _as_recordings(y_true, "y_true"), None
    else:
        true, pred = _paired_recordings(y_true, y_pred)
    drawn = _drawn_labels(true + (pred or []), labels, background)
    names = _names(drawn, label_names)
    lengths = [len(t) for t in true]
    probs = None
    if proba is not None:
        probs = _proba_recordings(proba, y_true, lengths, len(drawn))

    kinds = [("truth", true)]
    if pred is not None:
        kinds.append(("prediction", pred))
    rows_per = len(kinds) + (probs is not None)
    n_rows = rows_per * len(true)
    colour = {v: f"C{k % 10}" for k, v in enumerate(drawn)}
    name_of = dict(zip(drawn, names))
    scale = 1.0 if rate is None else 1.0 / rate

    ax = _get_ax(ax, (8.0, max(2.0, 0.45 * n_rows + 1.4)))
    ticks, tick_labels = [], []
    for r in range(len(true)):
        prefix = f"{r} " if len(true) > 1 else ""
        for k, (kind, recs) in enumerate(kinds):
            y = n_rows - 1 - (r * rows_per + k)
            ticks.append(y)
            tick_labels.append(prefix + kind)
            spans: dict[Any, list[tuple[float, float]]] = {v: [] for v in drawn}
            for start, stop, label in find_bouts(recs[r], background):
                if label in spans:
                    spans[label].append((start * scale, (stop - start) * scale))
            for label in drawn:
                if spans[label]:
                    ax.broken_barh(
                        spans[label],
                        (y - _BAR / 2, _BAR),
                        facecolors=colour[label],
                        label=f"{prefix}{kind} {name_of[label]}",
                    )
        if probs is not None:
            y = n_rows - 1 - (r * rows_per + len(kinds))
            ticks.append(y)
            tick_labels.append(prefix + "probability")
            p = probs[r]
            t = (np.arange(len(p)) + 0.5) * scale
            columns = p[:, None] if p.ndim == 1 else p
            for c in range(columns.shape[1]):
                if p.ndim == 1:
                    line_colour = colour[drawn[0]] if len(drawn) == 1 else "0.25"
                    text = f"{prefix}probability"
                else:
                    line_colour = colour[drawn[c]]
                    text = f"{prefix}probability {names[c]}"
                ax.plot(
                    t,
                    y - _BAR / 2 + _BAR * columns[:, c],
                    color=line_colour,
                    linewidth=1.2,
                    label=text,
                )
            # the band from 0 to 1, faint
            ax.axhspan(y - _BAR / 2, y + _BAR / 2, color="0.94", zorder=0)

    from matplotlib.patches import Patch

    ax.set_yticks(ticks, tick_labels)
    ax.set_ylim(-0.6, n_rows - 0.4)
    ax.set_xlim(0.0, max(lengths, default=0) * scale or 1.0)
    ax.set_xlabel("frame" if rate is None else "time (s)")
    ax.grid(True, axis="x", alpha=0.3)
    if drawn:
        ax.legend(
            handles=[Patch(facecolor=colour[v], label=name_of[v]) for v in drawn],
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncol=min(len(drawn), 6),
            fontsize=8,
            frameon=False,
        )
    return ax
