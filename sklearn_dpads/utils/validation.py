"""Input validation for sequence, per-frame and tabular data."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils import check_array
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

__all__ = ["check_X", "check_y", "is_ragged"]


def is_ragged(X) -> bool:
    """True for a list/tuple of per-sequence arrays of different lengths."""
    if not isinstance(X, list | tuple) or len(X) == 0:
        return False
    shapes = set()
    for s in X:
        shp = np.shape(s)
        if len(shp) != 2:
            return False
        shapes.add(shp)
    return len(shapes) > 1


def _reshape_msg(ndim: int) -> str:
    return (
        "Expected a 2D array (n_samples, n_features) of tabular rows or a 3D array "
        f"(n_samples, n_timesteps, n_features) of sequences, got {ndim}D array "
        "instead. Reshape your data either using array.reshape(-1, 1) if your data "
        "has a single feature or array.reshape(1, -1) if it contains a single sample."
    )


def check_X(estimator, X, y=None, *, reset: bool):
    """Validate X; returns ``(x, lengths, y)``.

    ``x`` is a float32 array ``(n, F)`` (tabular) or ``(n, T, F)`` (sequences,
    padded with zeros), ``lengths`` the true sequence lengths (None for
    tabular). Ragged input is a list of ``(T_i, F)`` arrays; in 3-D arrays,
    frames that are entirely NaN at the end of a sequence are padding. Any
    other NaN or infinity is an error. The caller's data is never modified.
    """
    name = type(estimator).__name__
    if is_ragged(X):
        seqs = [
            check_array(
                s,
                dtype=[np.float64, np.float32],
                ensure_all_finite=True,
                input_name="X",
            )
            for s in X
        ]
        F = {s.shape[1] for s in seqs}
        if len(F) > 1:
            raise ValueError(
                f"All sequences in X must have the same number of features, got {sorted(F)}."
            )
        lengths = np.array([len(s) for s in seqs], dtype=np.int64)
        if (lengths == 0).any():
            raise ValueError(f"Sequence {int(np.argmin(lengths))} of X has no frames.")
        T, Fn = int(lengths.max()), F.pop()
        x = np.zeros((len(seqs), T, Fn), dtype=np.float32)
        for i, s in enumerate(seqs):
            x[i, : len(s)] = s
        _set_or_check_features(estimator, Fn, 3, reset)
        return x, lengths, y

    if sp_issparse(X):
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
        if reset:
            estimator.input_ndim_ = 2
        return np.asarray(X, dtype=np.float32), None, y
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
    nan = np.isnan(X)
    lengths = np.full(n, T, dtype=np.int64)
    if nan.any():
        frame_nan = nan.all(axis=2)  # (n, T)
        # padding = a trailing run of all-NaN frames
        trailing = np.flip(
            np.cumprod(np.flip(frame_nan, axis=1), axis=1), axis=1
        ).astype(bool)
        if (nan & ~trailing[:, :, None]).any():
            raise ValueError(
                "Input X contains NaN. Only whole frames at the end of a sequence "
                "may be NaN (they mark padding of shorter sequences)."
            )
        lengths = T - trailing.sum(axis=1)
        if (lengths == 0).any():
            raise ValueError(
                f"Input X contains NaN: sequence {int(np.argmin(lengths))} is all "
                "padding (no real frame)."
            )
        X = np.where(trailing[:, :, None], 0.0, X)
    if reset:
        if y is not None:
            from sklearn.utils.validation import check_consistent_length

            check_consistent_length(X, y)
        estimator.input_ndim_ = 3
    elif getattr(estimator, "input_ndim_", 3) == 2:
        raise ValueError(f"{name} was fitted on tabular data (2D X); got a 3D array.")
    _set_or_check_features(estimator, F, 3, reset)
    return np.asarray(X, dtype=np.float32), lengths, y


def sp_issparse(X) -> bool:
    try:
        import scipy.sparse as sp

        return sp.issparse(X)
    except ImportError:  # pragma: no cover
        return False


def _set_or_check_features(estimator, F: int, ndim: int, reset: bool) -> None:
    if reset:
        estimator.n_features_in_ = F
        estimator.input_ndim_ = ndim
    elif F != estimator.n_features_in_:
        raise ValueError(
            f"X has {F} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input."
        )


def check_y(y, x: np.ndarray, lengths, *, ragged: bool):
    """Validate labels; returns ``(labels_flat_valid, y_struct, label_type)``.

    ``label_type`` is ``"sequence"`` (one label per sequence or row) or
    ``"frame"`` (one label per frame). ``y_struct`` is an object array of the
    labels shaped ``(n,)`` or ``(n, T)`` with None on padding frames.
    """
    n = x.shape[0]
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None")
    if ragged and isinstance(y, list | tuple) and len(y) and np.ndim(y[0]) == 1:
        if len(y) != n:
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: [{n}, {len(y)}]"
            )
        ys = [np.asarray(v) for v in y]
        for i, (v, L) in enumerate(zip(ys, lengths)):
            if len(v) != L:
                raise ValueError(
                    f"Per-frame y of sequence {i} has {len(v)} labels but the sequence has {L} frames."
                )
        flat = np.concatenate(ys)
        _check_targets(flat)
        T = x.shape[1]
        grid = np.empty((n, T), dtype=object)
        for i, v in enumerate(ys):
            grid[i, : len(v)] = list(v)
        return flat, grid, "frame"
    y_arr = np.asarray(y)
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
        valid = np.arange(T)[None, :] < lengths[:, None]
        flat = y_arr[valid]
        _check_targets(flat)
        grid = y_arr.astype(object)
        grid[~valid] = None
        return flat, grid, "frame"
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
    return y_arr, y_arr.astype(object), "sequence"


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
