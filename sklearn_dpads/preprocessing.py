"""Per-feature scaling of multivariate sequences.

The scaler in this module accepts the three input layouts used throughout
``sklearn_dpads``:

* a 3-D array of shape ``(n_samples, n_timesteps, n_features)``, where shorter
  sequences may be padded with trailing frames whose features are all NaN;
* a list (or tuple) of 2-D arrays of shape ``(n_timesteps_i, n_features)``
  holding sequences of different lengths;
* an ordinary 2-D array of shape ``(n_samples, n_features)``, in which case it
  behaves like :class:`~sklearn.preprocessing.StandardScaler` or
  :class:`~sklearn.preprocessing.RobustScaler`.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

from sklearn_dpads.utils._sklearn_compat import Interval, _fit_context, validate_data
from sklearn_dpads.utils.validation import (
    real_frame_mask,
    sequence_shapes,
    trailing_padding,
)

__all__ = ["SequenceStandardScaler", "real_frames", "scale_padded"]

_FLOAT_DTYPES = (np.float64, np.float32)


def _ndim(X) -> int:
    """Number of dimensions of an array-like, without ``np.ndim`` dispatch."""
    ndim = getattr(X, "ndim", None)
    if isinstance(ndim, numbers.Integral):
        return int(ndim)
    return np.asarray(X).ndim


def _check_infinite(X: np.ndarray, input_name: str) -> None:
    if np.isinf(X).any():
        raise ValueError(
            f"Input {input_name} contains infinity or a value too large for "
            "dtype('float64')."
        )


def _real_frames(X: np.ndarray) -> np.ndarray:
    """Return the non-padding frames of a 2-D or 3-D (validated) array as 2-D."""
    padding = trailing_padding(X)
    if not padding.any():
        return X.reshape(-1, X.shape[-1])
    return X[~padding]


def _power_of_two_units(frames: np.ndarray) -> np.ndarray:
    """Per-feature powers of two ``u`` with ``abs(frames) / u < 2``.

    Dividing by a power of two is exact (barring underflow), so statistics of
    ``frames / u`` times ``u`` equal those of ``frames`` bit for bit, but they
    cannot overflow for huge finite values.
    """
    maxabs = np.max(np.abs(frames), axis=0)
    _, exponent = np.frexp(maxabs)
    units = np.ldexp(1.0, exponent.astype(np.int64) - 1)
    return np.where(maxabs > 0, units, 1.0)


def _overflow_safe(func, alternative, A: np.ndarray) -> np.ndarray:
    """``func(A)``, or ``alternative(A)`` where ``func`` overflowed."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = func(A)
        inf = np.isinf(out)
        if inf.any():
            out[inf] = alternative(A)[inf]
    return out


class SequenceStandardScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardize the features of multivariate sequences.

    Each feature (last axis) is centered and scaled with statistics computed over
    all valid frames of all sequences, so that every time step of every sequence
    is transformed in the same way.  With ``robust=True`` the median and the
    interquartile range are used instead of the mean and standard deviation, as
    in :class:`~sklearn.preprocessing.RobustScaler`.

    Accepted inputs are a 3-D array ``(n_samples, n_timesteps, n_features)``, a
    list of 2-D arrays ``(n_timesteps_i, n_features)`` for sequences of different
    lengths (the output is then a list of arrays of the same lengths) and a plain
    2-D array ``(n_samples, n_features)``.  In 3-D arrays and in list elements,
    trailing frames whose features are all NaN are treated as padding: they are
    ignored when fitting and stay NaN in the output.  Any other NaN, and any
    infinite value, raises a ``ValueError``.  In 2-D input each row is a sample,
    so NaN is not allowed at all.  The input is never modified.  The statistics
    are computed without overflow, so huge finite values (up to the float64
    limit) get a finite center and scale; where one is still not finite (a
    quantile range wider than the float64 range), :meth:`fit` raises a
    ``ValueError`` naming the feature.

    Parameters
    ----------
    with_centering : bool, default=True
        If True, subtract the per-feature center (mean, or median when
        ``robust=True``).
    with_scaling : bool, default=True
        If True, divide by the per-feature scale (standard deviation, or the
        quantile range when ``robust=True``; where that range is 0 but the
        feature is not constant, the standard deviation).  Constant features
        are left unscaled (their scale is set to 1).
    robust : bool, default=False
        Use the median and the quantile range given by ``quantile_range`` instead
        of the mean and standard deviation.
    quantile_range : tuple of (float, float), default=(25.0, 75.0)
        Percentiles ``(q_min, q_max)`` with ``0 <= q_min < q_max <= 100`` whose
        difference is the scale when ``robust=True``.  Ignored otherwise.
    clip : float or None, default=None
        If a positive float, standardized values are clipped to
        ``[-clip, clip]``.  Clipping is not undone by :meth:`inverse_transform`.

    Attributes
    ----------
    center_ : ndarray of shape (n_features,)
        Per-feature value subtracted by :meth:`transform` (zeros when
        ``with_centering=False``).
    scale_ : ndarray of shape (n_features,)
        Per-feature value divided by in :meth:`transform` (ones when
        ``with_scaling=False``).
    n_features_in_ : int
        Number of features (size of the last axis) seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :meth:`fit`.  Defined only when ``X`` is a
        2-D input with feature names that are all strings.

    See Also
    --------
    sklearn.preprocessing.StandardScaler : Standardization of 2-D data.
    sklearn.preprocessing.RobustScaler : Robust scaling of 2-D data.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dpads.preprocessing import SequenceStandardScaler
    >>> X = np.arange(12, dtype=float).reshape(2, 3, 2)
    >>> scaler = SequenceStandardScaler().fit(X)
    >>> scaler.center_
    array([5., 6.])
    >>> Xt = scaler.transform(X)
    >>> Xt.shape
    (2, 3, 2)
    >>> ragged = [np.ones((4, 2)), np.zeros((1, 2))]
    >>> [seq.shape for seq in scaler.transform(ragged)]
    [(4, 2), (1, 2)]
    """

    _parameter_constraints: dict = {
        "with_centering": ["boolean"],
        "with_scaling": ["boolean"],
        "robust": ["boolean"],
        "quantile_range": [tuple],
        "clip": [None, Interval(numbers.Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        with_centering: bool = True,
        with_scaling: bool = True,
        robust: bool = False,
        quantile_range: tuple[float, float] = (25.0, 75.0),
        clip: float | None = None,
    ) -> None:
        self.with_centering = with_centering
        self.with_scaling = with_scaling
        self.robust = robust
        self.quantile_range = quantile_range
        self.clip = clip

    def _validate_X(self, X, *, reset: bool):
        """Validate ``X`` and return it as an ndarray or a list of ndarrays."""
        if isinstance(X, (list, tuple)) and len(X) == 0:
            raise ValueError(
                "Found empty input X: at least one sample is required "
                "(X has 0 samples)."
            )
        if sequence_shapes(X) is not None:  # names a sequence that is not 2-D
            sequences = []
            for i, seq in enumerate(X):
                seq = check_array(
                    seq,
                    dtype=_FLOAT_DTYPES,
                    ensure_all_finite=False,
                    ensure_min_samples=0,
                    input_name="X",
                )
                if sequences and seq.shape[1] != sequences[0].shape[1]:
                    raise ValueError(
                        "All sequences in X must have the same number of features; "
                        f"sequence {i} has {seq.shape[1]} features, but sequence 0 "
                        f"has {sequences[0].shape[1]}."
                    )
                _check_infinite(seq, "X")
                trailing_padding(seq, sequence=i)
                sequences.append(seq)
            self._check_n_features_nd(sequences[0].shape[1], reset=reset)
            return sequences

        try:
            ndim = _ndim(X)
        except ValueError as exc:
            raise ValueError(
                "Could not convert X to an array; pass sequences of different "
                "lengths as a list of 2-D arrays of shape (n_timesteps, n_features)."
            ) from exc
        if ndim == 2:
            return validate_data(self, X, reset=reset, dtype=_FLOAT_DTYPES)
        if ndim != 3:
            hint = (
                " Reshape your data either using array.reshape(-1, 1) if your data "
                "has a single feature or array.reshape(1, -1) if it contains a "
                "single sample."
                if ndim < 2
                else ""
            )
            raise ValueError(
                "Expected a 2-D array (n_samples, n_features), a 3-D array "
                "(n_samples, n_timesteps, n_features) or a list of 2-D arrays "
                f"(n_timesteps, n_features); got an array with {ndim} "
                f"dimension(s).{hint}"
            )
        X = check_array(
            X,
            dtype=_FLOAT_DTYPES,
            allow_nd=True,
            ensure_all_finite=False,
            input_name="X",
        )
        if X.shape[2] == 0:
            raise ValueError(
                f"Found array with 0 feature(s) (shape={X.shape}) while a minimum "
                "of 1 is required."
            )
        _check_infinite(X, "X")
        trailing_padding(X)
        self._check_n_features_nd(X.shape[2], reset=reset)
        return X

    def _check_n_features_nd(self, n_features: int, *, reset: bool) -> None:
        """Set or check ``n_features_in_`` for 3-D and list inputs."""
        if reset:
            self.n_features_in_ = n_features
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        elif n_features != self.n_features_in_:
            raise ValueError(
                f"X has {n_features} features, but {self.__class__.__name__} is "
                f"expecting {self.n_features_in_} features as input."
            )

    def _check_quantile_range(self) -> tuple[float, float]:
        qr = self.quantile_range
        if (
            len(qr) != 2
            or not all(
                isinstance(q, numbers.Real) and not isinstance(q, bool) for q in qr
            )
            or not 0 <= qr[0] < qr[1] <= 100
        ):
            raise ValueError(
                f"Invalid quantile_range: {qr!r}; expected (q_min, q_max) with "
                "0 <= q_min < q_max <= 100."
            )
        return float(qr[0]), float(qr[1])

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None) -> "SequenceStandardScaler":
        """Compute the per-feature center and scale.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features), or list of array-like of shape \
                (n_timesteps_i, n_features)
            Training sequences.  Trailing all-NaN frames of 3-D arrays and of
            list elements are padding and are ignored.
        y : None
            Ignored.

        Returns
        -------
        self : SequenceStandardScaler
            Fitted scaler.
        """
        q_min, q_max = self._check_quantile_range()
        data = self._validate_X(X, reset=True)
        if isinstance(data, list):
            frames = np.concatenate([_real_frames(seq) for seq in data], axis=0)
        elif data.ndim == 3:
            frames = _real_frames(data)
        else:
            frames = data
        if frames.shape[0] == 0:
            raise ValueError(
                "X contains no valid (non-padding) frames; at least one is "
                "required to fit SequenceStandardScaler."
            )

        # statistics of frames / units, times units: exact, and no overflow
        frames = np.asarray(frames, dtype=np.float64)
        units = _power_of_two_units(frames)
        scaled = frames / units
        n_features = frames.shape[1]
        center = np.zeros(n_features, dtype=np.float64)
        scale = np.ones(n_features, dtype=np.float64)
        if self.robust:
            if self.with_centering or self.with_scaling:
                q = np.percentile(scaled, [q_min, 50.0, q_max], axis=0)
                q = np.asarray(q, dtype=np.float64)
                if self.with_centering:
                    center = q[1]
                if self.with_scaling:
                    # a quantile range of 0 on a non-constant feature (more than
                    # half the values equal): fall back to the standard deviation
                    scale = q[2] - q[0]
                    scale = np.where(scale > 0, scale, scaled.std(axis=0))
        else:
            if self.with_centering:
                center = scaled.mean(axis=0)
            if self.with_scaling:
                scale = scaled.std(axis=0)
        with np.errstate(over="ignore"):
            center = center * units  # zeros without centering
            if self.with_scaling:
                scale = scale * units
        if self.with_scaling:
            constant = frames.max(axis=0) == frames.min(axis=0)
            scale = np.where(constant | (scale == 0), 1.0, scale)
        for name, stat in (("center", center), ("scale", scale)):
            bad = np.flatnonzero(~np.isfinite(stat))
            if bad.size:
                raise ValueError(
                    f"The {name} of feature {int(bad[0])} of X is not finite in "
                    "float64: its values are too large (close to "
                    f"{np.finfo(np.float64).max:.4g}). Rescale that feature."
                )
        self.center_ = center
        self.scale_ = scale
        return self

    def _apply(self, data, func):
        if isinstance(data, list):
            return [func(seq) for seq in data]
        return func(data)

    def transform(self, X):
        """Standardize sequences.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features), or list of array-like of shape \
                (n_timesteps_i, n_features)
            Sequences to transform.

        Returns
        -------
        X_tr : ndarray or list of ndarray
            Transformed sequences with the same layout (and, for float32 input,
            the same dtype) as ``X``.  Padding frames stay NaN.
        """
        check_is_fitted(self)
        data = self._validate_X(X, reset=False)

        def forward(A: np.ndarray) -> np.ndarray:
            center = self.center_.astype(A.dtype)
            scale = self.scale_.astype(A.dtype)
            out = _overflow_safe(
                lambda A: (A - center) / scale,
                lambda A: A / scale - center / scale,
                A,
            )
            if self.clip is not None:
                np.clip(out, -self.clip, self.clip, out=out)
            return out

        return self._apply(data, forward)

    def inverse_transform(self, X):
        """Undo the standardization (clipping excepted).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features), or list of array-like of shape \
                (n_timesteps_i, n_features)
            Standardized sequences.

        Returns
        -------
        X_orig : ndarray or list of ndarray
            Sequences in the original feature space, with the same layout as
            ``X``.
        """
        check_is_fitted(self)
        data = self._validate_X(X, reset=False)

        def backward(A: np.ndarray) -> np.ndarray:
            center = self.center_.astype(A.dtype)
            scale = self.scale_.astype(A.dtype)
            return _overflow_safe(
                lambda A: A * scale + center, lambda A: (A + center / scale) * scale, A
            )

        return self._apply(data, backward)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def real_frames(x: np.ndarray, lengths: np.ndarray | None) -> np.ndarray:
    """The real frames of a zero-padded batch, stacked as rows.

    Parameters
    ----------
    x : ndarray of shape (n, T, F) or (n, F)
        Sequences padded at the end (or tabular rows).
    lengths : ndarray of shape (n,) or None
        The real length of every sequence (None for tabular rows).

    Returns
    -------
    ndarray of shape (n_frames, F)
        ``x`` itself for tabular rows.
    """
    if x.ndim == 2:
        return x
    return x[real_frame_mask(lengths, x.shape[1])]


def scale_padded(
    scaler: SequenceStandardScaler, x: np.ndarray, lengths: np.ndarray | None
) -> np.ndarray:
    """Scale a zero-padded batch with a scaler fitted on frames; padding stays 0.

    Parameters
    ----------
    scaler : SequenceStandardScaler
        Fitted on rows of frames (2-D).
    x : ndarray of shape (n, T, F) or (n, F)
        Sequences padded at the end (or tabular rows).
    lengths : ndarray of shape (n,) or None
        The real length of every sequence (None for tabular rows).

    Returns
    -------
    ndarray of the shape of ``x``, float32
        The scaled input (computed in float64).
    """
    if x.ndim == 2:
        return scaler.transform(x.astype(np.float64)).astype(np.float32)
    z = np.zeros(x.shape, dtype=np.float32)
    valid = real_frame_mask(lengths, x.shape[1])
    z[valid] = scaler.transform(x[valid].astype(np.float64))
    return z
