"""Input validation for sequence, per-frame and tabular data.

The low-level checks of sequences (shapes of a list, trailing NaN padding,
float32 range) are in :mod:`sklearn_dpads.utils._sequences` and exported here.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import issparse
from sklearn.exceptions import DataConversionWarning
from sklearn.utils import check_array
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length

from sklearn_dpads.utils._sequences import (
    FLOAT32_MAX,
    check_float32_range,
    is_ragged,
    sequence_shapes,
    trailing_padding,
)
from sklearn_dpads.utils._sklearn_compat import (
    _check_feature_names,
    _get_feature_names,
    validate_data,
)

__all__ = [
    "FLOAT32_MAX",
    "Labels",
    "check_X",
    "check_X_y",
    "check_float32_range",
    "check_y",
    "is_ragged",
    "real_frame_mask",
    "sequence_shapes",
    "trailing_padding",
]


def real_frame_mask(lengths: Any, n_timesteps: int) -> np.ndarray:
    """Mask of the real frames of sequences zero-padded to ``n_timesteps``.

    Parameters
    ----------
    lengths : array-like of int of shape (n_samples,)
        The real length of every sequence.
    n_timesteps : int
        The padded length ``T``.

    Returns
    -------
    ndarray of bool of shape (n_samples, n_timesteps)
        True on the real frames (``t < lengths[i]``), False on padding.
    """
    return np.arange(n_timesteps)[None, :] < np.asarray(lengths)[:, None]


def _reshape_msg(ndim: int) -> str:
    return (
        "Expected a 2D array (n_samples, n_features) of tabular rows or a 3D array "
        f"(n_samples, n_timesteps, n_features) of sequences, got {ndim}D array "
        "instead. Reshape your data either using array.reshape(-1, 1) if your data "
        "has a single feature or array.reshape(1, -1) if it contains a single sample."
    )


# ----------------------------------------------------------------- check_X


def check_X(
    estimator: Any, X: Any, y: Any = None, *, reset: bool
) -> tuple[np.ndarray, np.ndarray | None, Any]:
    """Validate X; returns ``(x, lengths, y)``.

    Parameters
    ----------
    estimator : object
        The estimator; ``n_features_in_``, ``input_ndim_`` and
        ``feature_names_in_`` are set on it when ``reset`` is True and
        checked otherwise.
    X : array-like or list of array-like
        A 2-D array ``(n_samples, n_features)`` of tabular rows, a 3-D array
        ``(n_samples, n_timesteps, n_features)`` of sequences (trailing
        all-NaN frames are padding), or a list of ``(n_timesteps_i,
        n_features)`` arrays of different lengths. The string column names
        of a 2-D DataFrame, or of the DataFrames of a list of sequences (the
        same in every one), are the feature names (``feature_names_in_``),
        as in scikit-learn.
    y : array-like, optional
        Labels, checked for a consistent number of samples when ``reset``.
    reset : bool
        True in ``fit``.

    Returns
    -------
    x : ndarray of float32
        ``(n, F)`` (tabular) or ``(n, T, F)`` (sequences, padded with zeros).
    lengths : ndarray of int64 of shape (n,) or None
        True sequence lengths (None for tabular input).
    y : object
        ``y``, validated for 2-D input.

    Raises
    ------
    ValueError
        For NaN other than trailing padding frames, infinity, values too large
        for float32, empty inputs, malformed lists of sequences, wrong numbers
        of dimensions or features, feature names other than those seen in
        ``fit``, or sequences with different feature names.
    TypeError
        For sparse input, or column names mixing strings and other types.

    Warns
    -----
    UserWarning
        When ``X`` has feature names and the estimator was fitted without
        any, or the other way round (not in ``fit``).

    Notes
    -----
    The caller's data is never modified.
    """
    name = type(estimator).__name__
    shapes = sequence_shapes(X)
    if shapes is not None and len(set(shapes)) > 1:
        x, lengths = _check_ragged(estimator, X, reset=reset)
        return x, lengths, y
    if shapes is not None:  # a list of sequences of one shape: names, then 3-D
        _check_feature_names(estimator, _named_sequence(X), reset=reset)

    if issparse(X):
        raise TypeError(
            f"Sparse data was passed to {name}, but dense data is required. Use "
            "'.toarray()' to convert to a dense numpy array."
        )
    shape = getattr(X, "shape", None)
    if shape is not None:
        ndim = len(shape)
    else:
        try:
            ndim = np.asarray(X, dtype=object).ndim
        except ValueError:  # inhomogeneous nesting: let check_array explain
            ndim = 2
    if ndim == 0:
        raise ValueError(_reshape_msg(0))
    if ndim == 2:
        kw = dict(dtype=[np.float64, np.float32], ensure_all_finite=True, reset=reset)
        if reset and y is not None:
            X, y = validate_data(
                estimator, X, y, **kw, multi_output=True, y_numeric=False
            )
        elif reset:
            X = validate_data(estimator, X, **kw)
        else:
            if getattr(estimator, "input_ndim_", 2) == 3:
                raise ValueError(
                    f"{name} was fitted on sequences (3D X); got a 2D array. "
                    "Reshape your data to (n_samples, n_timesteps, n_features)."
                )
            X = validate_data(estimator, X, **kw)
        check_float32_range(X)
        if reset:
            estimator.input_ndim_ = 2
        return np.asarray(X, dtype=np.float32), None, y
    if shapes is None:  # an array: no names, but a fit on one forgets old ones
        _check_feature_names(estimator, X, reset=reset)
    X = check_array(
        X,
        allow_nd=True,
        ensure_2d=False,
        dtype=[np.float64, np.float32],
        ensure_all_finite=False,
        input_name="X",
    )
    if X.ndim != 3:
        raise ValueError(_reshape_msg(X.ndim))
    n, T, F = X.shape
    if n == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required."
        )
    if T == 0:
        raise ValueError(
            f"Found array with 0 time steps (shape={X.shape}); sequences need at least one frame."
        )
    if F == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required."
        )
    if np.isinf(X).any():
        raise ValueError(
            "Input X contains infinity or a value too large for dtype('float32')."
        )
    padding = trailing_padding(X)
    lengths = T - padding.sum(axis=1).astype(np.int64)
    if (lengths == 0).any():
        raise ValueError(
            f"Input X contains NaN: sequence {int(np.argmin(lengths))} is all "
            "padding (no real frame)."
        )
    if padding.any():
        X = np.where(padding[:, :, None], 0.0, X).astype(X.dtype, copy=False)
    check_float32_range(X)
    if reset:
        if y is not None:
            check_consistent_length(X, y)
        estimator.input_ndim_ = 3
    elif getattr(estimator, "input_ndim_", 3) == 2:
        raise ValueError(f"{name} was fitted on tabular data (2D X); got a 3D array.")
    _set_or_check_features(estimator, F, 3, reset)
    return np.asarray(X, dtype=np.float32), lengths, y


def _check_ragged(
    estimator: Any, X: Any, *, reset: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a list of 2-D sequences; returns the padded float32 array and lengths."""
    _check_feature_names(estimator, _named_sequence(X), reset=reset)
    seqs = []
    for i, s in enumerate(X):
        try:
            s = check_array(
                s,
                dtype=[np.float64, np.float32],
                ensure_all_finite=True,
                input_name="X",
            )
        except ValueError as exc:
            raise ValueError(f"Sequence {i} of X: {exc}") from exc
        check_float32_range(s, sequence=i)
        seqs.append(s)
    F = {s.shape[1] for s in seqs}
    if len(F) > 1:
        raise ValueError(
            f"All sequences in X must have the same number of features, got {sorted(F)}."
        )
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    if (lengths == 0).any():  # pragma: no cover - check_array needs one sample
        raise ValueError(f"Sequence {int(np.argmin(lengths))} of X has no frames.")
    if not reset and getattr(estimator, "input_ndim_", 3) == 2:
        raise ValueError(
            f"{type(estimator).__name__} was fitted on tabular data (2D X); got a "
            "list of sequences."
        )
    T, Fn = int(lengths.max()), F.pop()
    x = np.zeros((len(seqs), T, Fn), dtype=np.float32)
    for i, s in enumerate(seqs):
        x[i, : len(s)] = s
    _set_or_check_features(estimator, Fn, 3, reset)
    return x, lengths


def _names_text(names: np.ndarray | None) -> str:
    if names is None:
        return "no feature names"
    shown = ", ".join(repr(str(v)) for v in names[:5])
    return f"the feature names [{shown}{', ...' if len(names) > 5 else ''}]"


def _named_sequence(X: Any) -> Any:
    """The first sequence of a list, once all of them have the same feature names.

    Its feature names (the string columns of a DataFrame, or None) stand for
    the list's in ``_check_feature_names``.
    """
    first = _get_feature_names(X[0])
    for i in range(1, len(X)):
        names = _get_feature_names(X[i])
        if names is None and first is None:
            continue
        if (
            names is None
            or first is None
            or len(names) != len(first)
            or np.any(names != first)
        ):
            raise ValueError(
                f"Sequence {i} of X has {_names_text(names)}, but sequence 0 has "
                f"{_names_text(first)}; all sequences must have the same feature "
                "names (DataFrame columns), or none."
            )
    return X[0]


def _set_or_check_features(estimator, F: int, ndim: int, reset: bool) -> None:
    if reset:
        estimator.n_features_in_ = F
        estimator.input_ndim_ = ndim
    elif F != estimator.n_features_in_:
        raise ValueError(
            f"X has {F} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input."
        )


# ----------------------------------------------------------------- check_y


@dataclass(frozen=True, eq=False)
class Labels:
    """Validated labels, as returned by :func:`check_y`.

    Parameters
    ----------
    flat : ndarray of shape (n_labels,)
        The labels of the real sequences (per-sequence labels) or of the real
        frames (per-frame labels, row-major order: sequence by sequence,
        frame by frame, padding frames left out).
    valid : ndarray of bool of shape (n_samples, n_timesteps) or None
        For per-frame labels, True on real frames (``valid.sum() ==
        len(flat)``); None for per-sequence labels.
    label_type : {"sequence", "frame"}
        One label per sequence (or tabular row), or one label per frame.
    """

    flat: np.ndarray
    valid: np.ndarray | None
    label_type: str

    def encode(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the classes and the integer-encoded labels.

        Returns
        -------
        classes : ndarray
            ``np.unique(flat)``: the sorted distinct labels.
        y_enc : ndarray of int64 of shape (n_samples,) or (n_samples, n_timesteps)
            Index into ``classes`` of every label; -1 on padding frames.
        """
        classes, inverse = np.unique(self.flat, return_inverse=True)
        inverse = np.asarray(inverse, dtype=np.int64).reshape(-1)
        if self.valid is None:
            return classes, inverse
        y_enc = np.full(self.valid.shape, -1, dtype=np.int64)
        y_enc[self.valid] = inverse
        return classes, y_enc


def check_y(
    y: Any, x: np.ndarray, lengths: np.ndarray | None, *, ragged: bool
) -> Labels:
    """Validate labels for validated inputs.

    Parameters
    ----------
    y : array-like or list of array-like
        ``(n_samples,)`` labels per sequence or row, ``(n_samples,
        n_timesteps)`` labels per frame (values on padding frames are
        ignored), or, for ragged X, a list of 1-D per-frame label arrays of
        the sequences' lengths.
    x : ndarray
        Validated X from :func:`check_X`, ``(n, F)`` or ``(n, T, F)``.
    lengths : ndarray of int of shape (n,) or None
        Sequence lengths from :func:`check_X` (None for tabular X).
    ragged : bool
        Whether X was a list of sequences of different lengths.

    Returns
    -------
    Labels
        ``flat``, ``valid``, ``label_type`` and :meth:`Labels.encode`.

    Raises
    ------
    ValueError
        For missing, empty, NaN, infinite, complex, None, continuous labels,
        or labels whose shape does not match X.
    TypeError
        For labels of mixed types.
    """
    n = x.shape[0]
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None")
    if x.ndim == 3 and lengths is None:
        lengths = np.full(n, x.shape[1], dtype=np.int64)
    if ragged and isinstance(y, list | tuple) and len(y) and np.ndim(y[0]) == 1:
        return _check_ragged_y(y, x, lengths)
    try:
        y_arr = np.asarray(y)
    except ValueError as exc:
        raise ValueError(
            f"Could not convert y to an array of labels ({exc}). Give y of shape "
            "(n_samples,) per sequence or (n_samples, n_timesteps) per frame; with "
            "a list of sequences of different lengths as X, per-frame y is a list "
            "of 1-D arrays of the same lengths."
        ) from exc
    if y_arr.ndim == 0:
        raise ValueError(f"y must be an array of labels, got a scalar {y!r}.")
    if y_arr.shape[0] != n:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: [{n}, {y_arr.shape[0]}]"
        )
    # (n, T) labels with T > 1 are per frame; an (n, 1) column is per sequence
    if y_arr.ndim == 2 and x.ndim == 3 and y_arr.shape[1] != 1:
        T = x.shape[1]
        if y_arr.shape[1] != T:
            raise ValueError(
                f"Per-frame y has {y_arr.shape[1]} time steps but X has {T}; "
                "give one label per frame, shape (n_samples, n_timesteps)."
            )
        valid = real_frame_mask(lengths, T)
        flat = y_arr[valid]
        _check_targets(flat)
        return Labels(flat, valid, "frame")
    if y_arr.ndim == 2 and y_arr.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please "
            "change the shape of y to (n_samples, ), for example using ravel().",
            DataConversionWarning,
            stacklevel=3,
        )
        y_arr = y_arr.ravel()
    if y_arr.ndim != 1:
        raise ValueError(
            f"y should be (n_samples,) per sequence or (n_samples, n_timesteps) per frame, got shape {y_arr.shape}."
        )
    _check_targets(y_arr)
    return Labels(y_arr, None, "sequence")


def check_X_y(
    estimator: Any, X: Any, y: Any, *, reset: bool
) -> tuple[np.ndarray, np.ndarray | None, Labels]:
    """Validate X and its labels: :func:`check_X`, then :func:`check_y`.

    ``y`` also reaches :func:`check_X` (scikit-learn's checks of tabular X
    and y together, consistent numbers of samples) unless ``X`` is a list of
    sequences of different lengths.

    Parameters
    ----------
    estimator : object
        The estimator, as in :func:`check_X`.
    X : array-like or list of array-like
        As in :func:`check_X`.
    y : array-like or list of array-like
        As in :func:`check_y`.
    reset : bool
        True in ``fit``.

    Returns
    -------
    x : ndarray of float32
        ``(n, F)`` (tabular) or ``(n, T, F)`` (sequences, padded with zeros).
    lengths : ndarray of int64 of shape (n,) or None
        True sequence lengths (None for tabular input).
    labels : Labels
        The validated labels.

    Raises
    ------
    ValueError
        For invalid X or y (see :func:`check_X` and :func:`check_y`).
    TypeError
        For sparse X or labels of mixed types.
    """
    ragged = is_ragged(X)
    x, lengths, _ = check_X(estimator, X, None if ragged else y, reset=reset)
    return x, lengths, check_y(y, x, lengths, ragged=ragged)


def _check_ragged_y(y: Any, x: np.ndarray, lengths: np.ndarray) -> Labels:
    """Per-frame labels given as a list of 1-D arrays, one per sequence."""
    n = x.shape[0]
    if len(y) != n:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: [{n}, {len(y)}]"
        )
    ys = []
    for i, v in enumerate(y):
        try:
            v = np.asarray(v)
        except ValueError as exc:
            raise ValueError(
                f"Per-frame y of sequence {i} could not be converted to an array: {exc}"
            ) from exc
        if v.ndim != 1:
            raise ValueError(
                f"Per-frame y of sequence {i} must be a 1-D array of labels, got shape {v.shape}."
            )
        ys.append(v)
    for i, (v, L) in enumerate(zip(ys, lengths)):
        if len(v) != L:
            raise ValueError(
                f"Per-frame y of sequence {i} has {len(v)} labels but the sequence has {L} frames."
            )
    flat = np.concatenate(ys)
    _check_targets(flat)
    return Labels(flat, real_frame_mask(lengths, x.shape[1]), "frame")


def _check_targets(y: np.ndarray) -> None:
    if y.size == 0:
        raise ValueError("y is empty: found 0 labels.")
    if y.dtype.kind in "fc":
        if y.dtype.kind == "c":
            raise ValueError("Complex data not supported in y.")
        if np.isnan(y).any():
            raise ValueError("Input y contains NaN.")
        if np.isinf(y).any():
            raise ValueError("Input y contains infinity.")
    if y.dtype == object:
        kinds = {type(v) for v in y.ravel()}
        if any(v is None for v in y.ravel()):
            raise ValueError("y contains None labels.")
        numeric = all(
            issubclass(k, numbers.Number) and not issubclass(k, bool) for k in kinds
        )
        if len(kinds) > 1 and not numeric:
            raise TypeError(
                f"y mixes label types {sorted(k.__name__ for k in kinds)}; use labels of one type."
            )
    check_classification_targets(y)
