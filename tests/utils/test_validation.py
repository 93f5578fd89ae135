"""Tests for sklearn_dpads.utils.validation (check_X, check_y, Labels, padding)."""

import copy
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator
from sklearn.exceptions import DataConversionWarning

from sklearn_dpads.preprocessing import SequenceStandardScaler
from sklearn_dpads.utils.validation import (
    FLOAT32_MAX,
    Labels,
    check_X,
    check_y,
    is_ragged,
    sequence_shapes,
    trailing_padding,
)


class _Est(BaseEstimator):
    """Stand-in estimator: check_X sets n_features_in_ and input_ndim_ on it."""


def _fit_X(X, y=None):
    est = _Est()
    x, lengths, _ = check_X(est, X, y, reset=True)
    return est, x, lengths


# ------------------------------------------------------------ float32 range


@pytest.mark.parametrize("layout", ["2d", "3d", "3d-padded", "ragged"])
def test_check_X_rejects_values_too_large_for_float32(layout):
    rng = np.random.RandomState(0)
    X = rng.randn(4, 5, 2)
    X[2, 1, 1] = 1e300
    if layout == "3d-padded":
        X[0, 3:] = np.nan
    data = {
        "2d": X[:, 1, :],
        "3d": X,
        "3d-padded": X,
        "ragged": [X[0], X[1, :3], X[2, :4], X[3]],
    }[layout]
    before = copy.deepcopy(data)
    with pytest.raises(
        ValueError,
        match=r"too large for float32: the largest absolute value is 1e\+300, "
        r"but float32 holds at most 3\.4028235e\+38",
    ):
        check_X(_Est(), data, reset=True)
    if layout == "ragged":
        with pytest.raises(ValueError, match=r"Input X \(sequence 2\) contains values"):
            check_X(_Est(), data, reset=True)
    _assert_same(data, before)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_check_X_float32_limit_itself_is_accepted(sign):
    X = np.zeros((2, 3, 1))
    X[1, 1, 0] = sign * FLOAT32_MAX
    x, _, _ = check_X(_Est(), X, reset=True)
    assert np.isfinite(x).all() and x[1, 1, 0] == sign * np.finfo(np.float32).max
    X[1, 1, 0] = sign * np.nextafter(FLOAT32_MAX, np.inf)
    with pytest.raises(ValueError, match="too large for float32"):
        check_X(_Est(), X, reset=True)


def test_check_X_float32_range_also_when_predicting():
    est, _, _ = _fit_X(np.zeros((3, 4, 2)))
    with pytest.raises(ValueError, match="too large for float32"):
        check_X(est, np.full((3, 4, 2), -3.5e38), reset=False)


# ---------------------------------------------------- malformed ragged lists


@pytest.mark.parametrize(
    "X, index, shape",
    [
        ([np.zeros((5, 3)), np.zeros(3)], 1, r"\(3,\)"),
        ([np.zeros(3), np.zeros((5, 3))], 0, r"\(3,\)"),
        ([np.zeros((5, 3)), np.zeros((2, 5, 3))], 1, r"\(2, 5, 3\)"),
        ([np.zeros((5, 3)), np.zeros((4, 3)), 7.0], 2, r"\(\)"),
        ([np.zeros((5, 3)).tolist(), [0.0, 1.0, 2.0]], 1, r"\(3,\)"),
    ],
)
def test_check_X_names_sequence_that_is_not_2d(X, index, shape):
    assert not is_ragged(X)
    msg = rf"X is a list of sequences, but sequence {index} has \d dimension\(s\) \(shape {shape}\)"
    with pytest.raises(ValueError, match=msg):
        check_X(_Est(), X, reset=True)
    with pytest.raises(ValueError, match=msg):
        SequenceStandardScaler().fit(X)


def test_check_X_names_sequence_that_cannot_be_converted():
    X = [np.zeros((2, 2)), [[1.0, 2.0], [3.0]]]
    with pytest.raises(ValueError, match="sequence 1 could not be converted"):
        check_X(_Est(), X, reset=True)


def test_sequence_shapes():
    assert sequence_shapes(np.zeros((2, 3, 4))) is None
    assert sequence_shapes([]) is None
    assert sequence_shapes([[1.0, 2.0], [3.0, 4.0]]) is None  # tabular rows
    assert sequence_shapes([np.zeros((2, 3)), np.zeros((4, 3))]) == [(2, 3), (4, 3)]


def test_check_X_ragged_errors_name_the_sequence():
    X = [np.zeros((3, 2)), np.array([[0.0, np.nan], [1.0, 1.0]])]
    with pytest.raises(ValueError, match="Sequence 1 of X: Input X contains NaN"):
        check_X(_Est(), X, reset=True)


def test_check_X_ragged_after_tabular_fit():
    est, _, _ = _fit_X(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="fitted on tabular data"):
        check_X(est, [np.zeros((3, 2)), np.zeros((2, 2))], reset=False)


def test_check_X_ragged_ok():
    X = [np.arange(6.0).reshape(3, 2), np.ones((1, 2))]
    est, x, lengths = _fit_X(X)
    assert x.dtype == np.float32 and x.shape == (2, 3, 2)
    assert_array_equal(lengths, [3, 1])
    assert_array_equal(x[1], [[1, 1], [0, 0], [0, 0]])
    assert est.n_features_in_ == 2 and est.input_ndim_ == 3


# ---------------------------------------------------------------- padding


def test_trailing_padding_mask_and_lengths():
    X = np.ones((3, 4, 2))
    X[0, 2:] = np.nan
    X[2, :] = np.nan
    pad = trailing_padding(X)
    assert pad.dtype == bool and pad.shape == (3, 4)
    assert_array_equal(pad.sum(axis=1), [2, 0, 4])
    assert_array_equal(trailing_padding(X[0]), [False, False, True, True])
    assert not trailing_padding(np.ones((2, 5, 3))).any()


def test_trailing_padding_errors_name_sequence_and_frame():
    X = np.ones((3, 4, 2))
    X[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match=r"NaN inside a frame \(sequence 1, frame 2\)"):
        trailing_padding(X)
    X = np.ones((3, 4, 2))
    X[2, 1] = np.nan
    with pytest.raises(
        ValueError,
        match=r"followed by valid frames \(sequence 2, frame 1\); NaN padding "
        "frames must be trailing",
    ):
        trailing_padding(X)
    with pytest.raises(ValueError, match=r"\(sequence 7, frame 1\)"):
        trailing_padding(X[2], input_name="X", sequence=7)
    with pytest.raises(ValueError, match="Expected sequences of shape"):
        trailing_padding(np.ones(3))


def test_check_X_uses_trailing_padding():
    X = np.ones((3, 4, 2))
    X[0, 3:] = np.nan
    X[1, 1:] = np.nan
    _, x, lengths = _fit_X(X)
    assert_array_equal(lengths, [3, 1, 4])
    assert np.isfinite(x).all() and (x[0, 3] == 0).all()
    X[2, 0, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN inside a frame \(sequence 2, frame 0\)"):
        check_X(_Est(), X, reset=True)
    X = np.ones((2, 3, 1))
    X[1] = np.nan
    with pytest.raises(ValueError, match="sequence 1 is all padding"):
        check_X(_Est(), X, reset=True)


# ------------------------------------------------------------ check_y/Labels


def _naive_encode(y_rows, lengths, T):
    """Per-frame encoding with a Python loop (the estimator's old ``_encode``)."""
    flat = np.concatenate([np.asarray(r)[:L] for r, L in zip(y_rows, lengths)])
    classes = np.unique(flat)
    lookup = {c.item(): i for i, c in enumerate(classes)}
    enc = np.full((len(y_rows), T), -1, dtype=np.int64)
    for i, (r, L) in enumerate(zip(y_rows, lengths)):
        for t in range(L):
            enc[i, t] = lookup[np.asarray(r)[t].item()]
    return classes, enc


@pytest.mark.parametrize("kind", ["int", "str", "float", "bool"])
@pytest.mark.parametrize("ragged", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_labels_encode_matches_naive_loop(kind, ragged, seed):
    rng = np.random.RandomState(seed)
    n, T = 7, 9
    lengths = rng.randint(1, T + 1, size=n) if ragged else np.full(n, T)
    lengths[0] = T
    pool = {
        "int": np.array([-3, 0, 5, 12]),
        "str": np.array(["walk", "run", "b", "a"]),
        "float": np.array([3.0, -1.0, 2.0]),
        "bool": np.array([True, False]),
    }[kind]
    grid = pool[rng.randint(0, len(pool), size=(n, T))]
    X = rng.randn(n, T, 2)
    if ragged:
        X = [X[i, :L] for i, L in enumerate(lengths)]
        y = [grid[i, :L] for i, L in enumerate(lengths)]
    else:
        y = grid
    _, x, lens = _fit_X(X)
    labels = check_y(y, x, lens, ragged=is_ragged(X))
    assert isinstance(labels, Labels) and labels.label_type == "frame"
    classes, y_enc = labels.encode()
    ref_classes, ref_enc = _naive_encode(list(grid), lengths, T)
    assert classes.dtype == ref_classes.dtype
    assert_array_equal(classes, ref_classes)
    assert_array_equal(classes, np.unique(labels.flat))
    assert y_enc.dtype == np.int64 and y_enc.shape == (n, T)
    assert_array_equal(y_enc, ref_enc)
    assert_array_equal(labels.valid, ref_enc >= 0)
    assert_array_equal(classes[y_enc[labels.valid]], labels.flat)


def test_labels_encode_padded_3d_frames():
    X = np.ones((3, 4, 1))
    X[1, 2:] = np.nan
    y = np.array([["a", "b", "a", "b"], ["c", "a", "zz", "zz"], ["b"] * 4])
    _, x, lengths = _fit_X(X)
    labels = check_y(y, x, lengths, ragged=False)
    classes, y_enc = labels.encode()
    assert_array_equal(classes, ["a", "b", "c"])  # "zz" is on padding frames only
    assert_array_equal(y_enc, [[0, 1, 0, 1], [2, 0, -1, -1], [1, 1, 1, 1]])
    assert_array_equal(labels.flat, list("abab") + ["c", "a"] + ["b"] * 4)


def test_labels_per_sequence():
    _, x, lengths = _fit_X(np.zeros((4, 3, 2)))
    labels = check_y(["b", "a", "b", "c"], x, lengths, ragged=False)
    assert labels.label_type == "sequence" and labels.valid is None
    classes, y_enc = labels.encode()
    assert_array_equal(classes, ["a", "b", "c"])
    assert_array_equal(y_enc, [1, 0, 1, 2])
    assert y_enc.dtype == np.int64
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        labels = check_y(np.array([[1], [0], [1], [1]]), x, lengths, ragged=False)
    assert labels.label_type == "sequence" and labels.flat.shape == (4,)


def test_labels_is_frozen():
    labels = Labels(np.array([1, 2]), None, "sequence")
    with pytest.raises(AttributeError):
        labels.flat = np.array([3])


def test_labels_padding_frames_are_left_out():
    X = np.ones((2, 3, 1))
    X[1, 2] = np.nan
    _, x, lengths = _fit_X(X)
    labels = check_y(np.array([[1, 2, 1], [2, 2, 9]]), x, lengths, ragged=False)
    assert labels.label_type == "frame"
    assert_array_equal(labels.flat, [1, 2, 1, 2, 2])
    assert_array_equal(labels.valid, [[True, True, True], [True, True, False]])
    classes, y_enc = labels.encode()
    assert_array_equal(classes, [1, 2])
    assert_array_equal(y_enc, [[0, 1, 0], [1, 1, -1]])


BAD_Y = [
    ("none", None, ValueError, "target y is None"),
    ("scalar", 3, ValueError, "got a scalar"),
    ("n", [0, 1, 0], ValueError, "inconsistent numbers of samples: \\[4, 3\\]"),
    ("nan", [0.0, np.nan, 1.0, 0.0], ValueError, "Input y contains NaN"),
    ("inf", [0.0, np.inf, 1.0, 0.0], ValueError, "Input y contains infinity"),
    ("complex", np.array([1j, 0, 1, 0]), ValueError, "Complex data not supported"),
    ("none label", np.array([1, None, 0, 1], dtype=object), ValueError, "None labels"),
    ("mixed", np.array([1, "a", 0, 1], dtype=object), TypeError, "mixes label types"),
    ("continuous", [0.1, 0.2, 0.3, 0.4], ValueError, "Unknown label type"),
    (
        "frames",
        np.zeros((4, 5)),
        ValueError,
        "Per-frame y has 5 time steps but X has 3",
    ),
    ("3d", np.zeros((4, 3, 2)), ValueError, "y should be \\(n_samples,\\)"),
    ("inhomogeneous", [[0, 1], [0], [1, 1], [0, 0]], ValueError, "Could not convert y"),
]


@pytest.mark.parametrize("case, y, exc, match", BAD_Y, ids=[c[0] for c in BAD_Y])
def test_check_y_errors(case, y, exc, match):
    _, x, lengths = _fit_X(np.zeros((4, 3, 2)))
    with pytest.raises(exc, match=match):
        check_y(y, x, lengths, ragged=False)


def test_check_y_ragged_errors():
    X = [np.zeros((3, 1)), np.zeros((2, 1))]
    _, x, lengths = _fit_X(X)
    with pytest.raises(
        ValueError,
        match="Per-frame y of sequence 1 has 3 labels but the sequence has 2",
    ):
        check_y([[0, 1, 0], [1, 0, 1]], x, lengths, ragged=True)
    with pytest.raises(ValueError, match="inconsistent numbers of samples: \\[2, 1\\]"):
        check_y([[0, 1, 0]], x, lengths, ragged=True)
    with pytest.raises(
        ValueError, match=r"Per-frame y of sequence 1 must be a 1-D array.*shape \(\)"
    ):
        check_y([[0, 1, 0], 1], x, lengths, ragged=True)
    with pytest.raises(TypeError, match="mixes label types"):
        check_y(
            [np.array([0, 1, 0], dtype=object), np.array(["a", "b"], dtype=object)],
            x,
            lengths,
            ragged=True,
        )
    with pytest.raises(ValueError, match="Unknown label type"):
        check_y([[0.5, 1.5, 0.25], [1.0, 0.0]], x, lengths, ragged=True)


# ------------------------------------------------------------- properties


def _same(a, b) -> bool:
    """Deep equality that treats NaN as equal to NaN (inputs must not change)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype == object:
            return all(_same(u, v) for u, v in zip(a.ravel(), b.ravel()))
        return a.tobytes() == b.tobytes()
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b))
    return bool(a == b) or bool(a != a and b != b)  # NaN (also complex NaN)


def _assert_same(a, b) -> None:
    assert _same(a, b), "the input was modified"


_DTYPES = [  # repeated entries are drawn more often
    np.float64,
    np.float64,
    np.float64,
    np.float32,
    np.float32,
    np.float16,
    np.int64,
    np.int8,
    np.bool_,
    np.complex128,
    object,
    "<U6",
]
_SPECIALS = [
    "none",
    "none",
    "none",
    "nan-cell",
    "nan-trailing",
    "nan-middle",
    "all-nan",
    "inf",
    "huge",
]


def _values(rng, shape, dtype, special):
    """A random array of ``shape`` and ``dtype`` with one kind of special values."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        a = rng.normal(scale=10.0 ** rng.randint(-3, 4), size=shape)
        if a.size and special == "nan-cell":
            a.flat[rng.randint(a.size)] = np.nan
        elif a.ndim >= 2 and a.shape[-2] and special == "nan-trailing":
            cut = rng.randint(a.shape[-2])
            a[..., cut:, :] = np.nan
        elif a.ndim >= 2 and a.shape[-2] and special == "nan-middle":
            a[..., rng.randint(a.shape[-2]), :] = np.nan
        elif special == "all-nan":
            a[...] = np.nan
        elif a.size and special == "inf":
            a.flat[rng.randint(a.size)] = rng.choice([np.inf, -np.inf])
        elif a.size and special == "huge":
            a.flat[rng.randint(a.size)] = rng.choice([1e300, -1e300, 3.5e38, 1.7e308])
        if dtype is object:
            a = a.astype(object)
            if a.size and rng.rand() < 0.3:
                a.flat[rng.randint(a.size)] = rng.choice([None, "a", 1])
            return a
        if dtype == "<U6":
            return a.astype("<U6")
        return a.astype(dtype)


@st.composite
def x_inputs(draw):
    """Random X: arrays of any shape and dtype, or lists of arrays."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.RandomState(seed)
    dtype = draw(st.sampled_from(_DTYPES))
    special = draw(st.sampled_from(_SPECIALS))
    if draw(st.booleans()):  # one array
        ndim = draw(st.sampled_from([0, 1, 2, 2, 3, 3, 3, 4]))
        sizes = st.sampled_from([0, 1, 2, 3, 4, 2, 3])  # 0-sized axes now and then
        shape = tuple(draw(st.lists(sizes, min_size=ndim, max_size=ndim)))
        X = _values(rng, shape, dtype, special)
        return X.tolist() if draw(st.booleans()) and dtype is not object else X
    n_seq = draw(st.sampled_from([0, 1, 2, 3, 2, 3]))
    F = draw(st.sampled_from([0, 1, 2, 3, 2]))
    bad_ndim = draw(st.sampled_from([None, None, 1, 3]))
    seqs = []
    for _ in range(n_seq):
        ndim = 2 if bad_ndim is None or draw(st.booleans()) else bad_ndim
        T = draw(st.sampled_from([0, 1, 2, 3, 4, 5, 3, 4, 5]))
        shape = {1: (F,), 2: (T, F), 3: (T, 2, F)}[ndim]
        seqs.append(_values(rng, shape, dtype, special))
    return seqs if draw(st.booleans()) else tuple(seqs)


def _y_for(draw, rng, n, T, lengths):
    """Random labels, of the right or a wrong shape, type and content."""
    kind = draw(
        st.sampled_from(["int", "str", "float", "nan", "bool", "object", "complex"])
    )
    pools = {
        "int": np.array([0, 1, 7]),
        "str": np.array(["a", "bb", "c"]),
        "float": np.array([0.0, 1.0, 0.5]),
        "nan": np.array([0.0, 1.0, np.nan, np.inf]),
        "bool": np.array([True, False]),
        "object": np.array([1, "a", None, 2.0], dtype=object),
        "complex": np.array([1j, 0.0]),
    }
    pool = pools[kind]
    form = draw(
        st.sampled_from(["seq", "column", "frames", "ragged", "wrong", "scalar"])
    )
    if form == "scalar":
        return pool[0]
    if form == "seq":
        return pool[rng.randint(len(pool), size=n)]
    if form == "column":
        return pool[rng.randint(len(pool), size=(n, 1))]
    if form == "frames":
        return pool[rng.randint(len(pool), size=(n, T))]
    if form == "ragged" and lengths is not None:
        out = [pool[rng.randint(len(pool), size=int(L))] for L in lengths]
        return out if draw(st.booleans()) else [r.tolist() for r in out]
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=1, max_size=3)))
    return pool[rng.randint(len(pool), size=shape)]


_OK = (ValueError, TypeError)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(X=x_inputs(), X2=x_inputs(), data=st.data())
def test_validation_property(X, X2, data):
    """check_X / check_y / the scaler raise only ValueError or TypeError and
    never modify their inputs."""
    before, before2 = copy.deepcopy(X), copy.deepcopy(X2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = _Est()
        try:
            x, lengths, _ = check_X(est, X, reset=True)
        except _OK:
            x = None
        if x is not None:
            assert x.dtype == np.float32 and np.isfinite(x).all()
            assert x.ndim in (2, 3) and x.shape[-1] == est.n_features_in_
            if x.ndim == 3:
                assert lengths.dtype == np.int64 and lengths.shape == (x.shape[0],)
                assert (lengths >= 1).all() and (lengths <= x.shape[1]).all()
            try:
                check_X(est, X2, reset=False)
            except _OK:
                pass
            rng = np.random.RandomState(data.draw(st.integers(0, 2**32 - 1)))
            T = x.shape[1] if x.ndim == 3 else 1
            y = _y_for(data.draw, rng, x.shape[0], T, lengths)
            y_before = copy.deepcopy(y)
            try:
                labels = check_y(y, x, lengths, ragged=is_ragged(X))
            except _OK:
                labels = None
            if labels is not None:
                classes, y_enc = labels.encode()
                assert_array_equal(classes, np.unique(labels.flat))
                assert y_enc.dtype == np.int64
                real = y_enc if labels.valid is None else y_enc[labels.valid]
                assert (real >= 0).all()
                assert_array_equal(classes[real], labels.flat)
                if labels.valid is not None:
                    assert (y_enc[~labels.valid] == -1).all()
            _assert_same(y, y_before)

        scaler = SequenceStandardScaler(
            robust=data.draw(st.booleans()),
            clip=data.draw(st.sampled_from([None, 3.0])),
        )
        try:
            scaler.fit(X)
        except _OK:
            scaler = None
        if scaler is not None:
            assert np.isfinite(scaler.center_).all()
            assert np.isfinite(scaler.scale_).all() and (scaler.scale_ > 0).all()
            for Z in (X, X2):
                try:
                    Zt = scaler.transform(Z)
                    scaler.inverse_transform(Zt)
                except _OK:
                    pass
    _assert_same(X, before)
    _assert_same(X2, before2)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 5),
    T=st.integers(1, 6),
    F=st.integers(1, 3),
    exponent=st.integers(-300, 307),
    robust=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_scaler_round_trip_any_magnitude(n, T, F, exponent, robust, seed):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, T, F)) * 10.0**exponent
    scaler = SequenceStandardScaler(robust=robust).fit(X)
    assert np.isfinite(scaler.scale_).all() and (scaler.scale_ > 0).all()
    Xt = scaler.transform(X)
    assert np.isfinite(Xt).all()
    back = scaler.inverse_transform(Xt)
    tol = 1e-12 * np.abs(X).max(axis=(0, 1))
    assert (np.abs(back - X) <= tol).all()
