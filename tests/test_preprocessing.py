"""Tests for sklearn_dpads.preprocessing.SequenceStandardScaler."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import RobustScaler, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_dpads.preprocessing import SequenceStandardScaler


@parametrize_with_checks(
    [
        SequenceStandardScaler(),
        SequenceStandardScaler(robust=True, clip=3.0),
        SequenceStandardScaler(with_centering=False),
        SequenceStandardScaler(with_scaling=False, robust=True),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.fixture
def X3d():
    rng = np.random.RandomState(0)
    return rng.normal(loc=[1.0, -2.0, 5.0], scale=[0.5, 2.0, 3.0], size=(7, 6, 3))


def _padded(X, lengths):
    X = X.copy()
    for i, length in enumerate(lengths):
        X[i, length:] = np.nan
    return X


def test_3d_matches_standard_scaler_on_frames(X3d):
    scaler = SequenceStandardScaler().fit(X3d)
    ref = StandardScaler().fit(X3d.reshape(-1, 3))
    assert scaler.n_features_in_ == 3
    assert_allclose(scaler.center_, ref.mean_)
    assert_allclose(scaler.scale_, ref.scale_)
    Xt = scaler.transform(X3d)
    assert Xt.shape == X3d.shape
    assert_allclose(Xt.reshape(-1, 3), ref.transform(X3d.reshape(-1, 3)))


def test_robust_matches_robust_scaler(X3d):
    scaler = SequenceStandardScaler(robust=True, quantile_range=(10.0, 90.0))
    scaler.fit(X3d)
    ref = RobustScaler(quantile_range=(10.0, 90.0)).fit(X3d.reshape(-1, 3))
    assert_allclose(scaler.center_, ref.center_)
    assert_allclose(scaler.scale_, ref.scale_)
    assert_allclose(
        scaler.transform(X3d).reshape(-1, 3), ref.transform(X3d.reshape(-1, 3))
    )


def test_2d_input_matches_standard_scaler(X3d):
    X = X3d.reshape(-1, 3)
    Xt = SequenceStandardScaler().fit_transform(X)
    assert_allclose(Xt, StandardScaler().fit_transform(X))


def test_padding_ignored_and_kept_as_nan(X3d):
    lengths = [6, 3, 1, 6, 5, 2, 4]
    X = _padded(X3d, lengths)
    scaler = SequenceStandardScaler().fit(X)
    valid = np.concatenate([X3d[i, :n] for i, n in enumerate(lengths)])
    assert_allclose(scaler.center_, valid.mean(axis=0))
    assert_allclose(scaler.scale_, valid.std(axis=0))
    Xt = scaler.transform(X)
    for i, n in enumerate(lengths):
        assert np.isnan(Xt[i, n:]).all()
        assert np.isfinite(Xt[i, :n]).all()
    assert_allclose(scaler.inverse_transform(Xt), X, equal_nan=True)


def test_ragged_list_matches_padded_array(X3d):
    lengths = [6, 3, 1, 6, 5, 2, 4]
    ragged = [X3d[i, :n] for i, n in enumerate(lengths)]
    scaler = SequenceStandardScaler().fit(ragged)
    padded = SequenceStandardScaler().fit(_padded(X3d, lengths))
    assert_allclose(scaler.center_, padded.center_)
    assert_allclose(scaler.scale_, padded.scale_)
    out = scaler.transform(ragged)
    assert isinstance(out, list)
    assert [len(seq) for seq in out] == lengths
    ref = padded.transform(_padded(X3d, lengths))
    for i, n in enumerate(lengths):
        assert_allclose(out[i], ref[i, :n])
    back = scaler.inverse_transform(out)
    for orig, rec in zip(ragged, back, strict=True):
        assert_allclose(rec, orig)


def test_ragged_list_of_nested_lists_and_empty_sequence():
    ragged = [[[0.0, 1.0], [2.0, 3.0]], np.empty((0, 2)), [[4.0, 5.0]]]
    out = SequenceStandardScaler().fit_transform(ragged)
    assert [seq.shape for seq in out] == [(2, 2), (0, 2), (1, 2)]


def test_ragged_sequences_may_have_trailing_padding():
    seqs = [np.array([[1.0], [3.0], [np.nan]]), np.array([[5.0]])]
    scaler = SequenceStandardScaler().fit(seqs)
    assert_allclose(scaler.center_, [3.0])
    out = scaler.transform(seqs)
    assert np.isnan(out[0][2, 0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved(X3d, dtype):
    X = X3d.astype(dtype)
    scaler = SequenceStandardScaler().fit(X)
    assert scaler.transform(X).dtype == dtype
    assert scaler.inverse_transform(X).dtype == dtype
    assert all(seq.dtype == dtype for seq in scaler.transform(list(X)))
    assert scaler.center_.dtype == np.float64


def test_integer_input_converted_to_float():
    X = np.arange(24).reshape(2, 4, 3)
    Xt = SequenceStandardScaler().fit_transform(X)
    assert Xt.dtype == np.float64


def test_clip(X3d):
    X = X3d.copy()
    X[0, 0, 0] = 1e3
    Xt = SequenceStandardScaler(clip=1.5).fit_transform(X)
    assert Xt.max() == pytest.approx(1.5)
    assert Xt.min() == pytest.approx(-1.5)
    Xpad = _padded(X, [6, 2, 6, 6, 6, 6, 6])
    assert np.isnan(SequenceStandardScaler(clip=1.5).fit_transform(Xpad)[1, 2:]).all()


@pytest.mark.parametrize("robust", [False, True])
def test_constant_feature_gets_unit_scale(robust):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(4, 5, 2))
    X[..., 1] = 1e6 + 0.1
    scaler = SequenceStandardScaler(robust=robust).fit(X)
    assert scaler.scale_[1] == 1.0
    assert_allclose(scaler.transform(X)[..., 1], 0.0, atol=1e-9)


def test_zero_iqr_feature_falls_back_to_the_standard_deviation():
    X = np.zeros((10, 1))
    X[0, 0] = 5.0  # not constant, but zero interquartile range
    scaler = SequenceStandardScaler(robust=True).fit(X)
    assert scaler.scale_[0] == pytest.approx(X.std())
    constant = SequenceStandardScaler(robust=True).fit(np.full((10, 1), 3.0))
    assert constant.scale_[0] == 1.0


def test_without_centering_or_scaling(X3d):
    no_center = SequenceStandardScaler(with_centering=False).fit(X3d)
    assert_array_equal(no_center.center_, np.zeros(3))
    assert_allclose(no_center.scale_, X3d.reshape(-1, 3).std(axis=0))
    no_scale = SequenceStandardScaler(with_scaling=False).fit(X3d)
    assert_array_equal(no_scale.scale_, np.ones(3))
    assert_allclose(no_scale.transform(X3d), X3d - X3d.reshape(-1, 3).mean(axis=0))
    identity = SequenceStandardScaler(with_centering=False, with_scaling=False)
    assert_allclose(identity.fit_transform(X3d), X3d)


def test_input_not_modified(X3d):
    X = _padded(X3d, [6, 3, 1, 6, 5, 2, 4])
    X_copy = X.copy()
    ragged = [seq[:n] for seq, n in zip(X3d.copy(), [6, 3, 1, 6, 5, 2, 4], strict=True)]
    ragged_copy = [seq.copy() for seq in ragged]
    X2 = X3d.reshape(-1, 3).copy()
    X2_copy = X2.copy()
    scaler = SequenceStandardScaler(clip=2.0)
    Xt = scaler.fit_transform(X)
    scaler.inverse_transform(Xt)
    assert Xt is not X
    scaler.fit_transform(ragged)
    scaler.fit_transform(X2)
    assert_array_equal(X, X_copy)
    for seq, ref in zip(ragged, ragged_copy, strict=True):
        assert_array_equal(seq, ref)
    assert_array_equal(X2, X2_copy)


def test_transform_2d_with_model_fitted_on_3d(X3d):
    scaler = SequenceStandardScaler().fit(X3d)
    frames = X3d.reshape(-1, 3)
    assert_allclose(scaler.transform(frames), scaler.transform(X3d).reshape(-1, 3))


def test_refit_on_3d_drops_feature_names(X3d):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X3d.reshape(-1, 3), columns=["u", "v", "w"])
    scaler = SequenceStandardScaler().fit(df)
    assert list(scaler.feature_names_in_) == ["u", "v", "w"]
    scaler.fit(X3d)
    assert not hasattr(scaler, "feature_names_in_")


def test_get_feature_names_out_for_3d(X3d):
    scaler = SequenceStandardScaler().fit(X3d)
    assert list(scaler.get_feature_names_out()) == ["x0", "x1", "x2"]


def test_tags():
    tags = SequenceStandardScaler().__sklearn_tags__()
    assert tags.input_tags.three_d_array
    assert tags.input_tags.two_d_array
    assert not tags.input_tags.allow_nan


@settings(max_examples=25, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(1, 3)),
    robust=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_inverse_transform_roundtrip_property(shape, robust, seed):
    rng = np.random.RandomState(seed)
    X = rng.normal(scale=rng.uniform(0.1, 10.0), size=shape)
    scaler = SequenceStandardScaler(robust=robust).fit(X)
    assert_allclose(scaler.inverse_transform(scaler.transform(X)), X, atol=1e-9)


# --------------------------------------------------------------------- errors


def test_transform_before_fit_raises(X3d):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        SequenceStandardScaler().transform(X3d)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        SequenceStandardScaler().inverse_transform(X3d)


@pytest.mark.parametrize(
    "X", [np.zeros(5), np.zeros((2, 3, 4, 5)), 3.0], ids=["1d", "4d", "scalar"]
)
def test_wrong_ndim_raises(X):
    with pytest.raises(ValueError, match=r"got an array with \d dimension"):
        SequenceStandardScaler().fit(X)


def test_nan_inside_frame_raises(X3d):
    X = X3d.copy()
    X[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match="contains NaN inside a frame"):
        SequenceStandardScaler().fit(X)
    scaler = SequenceStandardScaler().fit(X3d)
    with pytest.raises(ValueError, match="contains NaN inside a frame"):
        scaler.transform(X)
    with pytest.raises(ValueError, match="contains NaN inside a frame"):
        scaler.transform([X[1]])


def test_non_trailing_padding_raises(X3d):
    X = X3d.copy()
    X[2, 1] = np.nan  # padding frame followed by valid frames
    with pytest.raises(ValueError, match="padding frames must be trailing"):
        SequenceStandardScaler().fit(X)
    with pytest.raises(ValueError, match="padding frames must be trailing"):
        SequenceStandardScaler().fit(list(X))


def test_nan_in_2d_input_raises():
    X = np.ones((4, 2))
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        SequenceStandardScaler().fit(X)


@pytest.mark.parametrize("layout", ["3d", "list", "2d"])
def test_inf_raises(X3d, layout):
    X = X3d.copy()
    X[0, 0, 1] = np.inf
    data = {"3d": X, "list": list(X), "2d": X.reshape(-1, 3)}[layout]
    with pytest.raises(ValueError, match="contains infinity"):
        SequenceStandardScaler().fit(data)


@pytest.mark.parametrize("layout", ["3d", "list", "2d"])
def test_feature_count_mismatch_names_both_numbers(X3d, layout):
    scaler = SequenceStandardScaler().fit(X3d)
    X = X3d[..., :2]
    data = {"3d": X, "list": list(X), "2d": X.reshape(-1, 2)}[layout]
    msg = "X has 2 features, but SequenceStandardScaler is expecting 3 features"
    with pytest.raises(ValueError, match=msg):
        scaler.transform(data)
    with pytest.raises(ValueError, match=msg):
        scaler.inverse_transform(data)


def test_empty_inputs_raise():
    with pytest.raises(ValueError, match="Found empty input X"):
        SequenceStandardScaler().fit([])
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        SequenceStandardScaler().fit(np.empty((0, 4, 2)))
    with pytest.raises(ValueError, match=r"0 feature\(s\)"):
        SequenceStandardScaler().fit(np.empty((2, 4, 0)))
    with pytest.raises(ValueError, match="no valid \\(non-padding\\) frames"):
        SequenceStandardScaler().fit(np.full((2, 3, 2), np.nan))
    with pytest.raises(ValueError, match="no valid \\(non-padding\\) frames"):
        SequenceStandardScaler().fit([np.empty((0, 2))])


def test_ragged_inconsistent_features_raise():
    seqs = [np.ones((3, 2)), np.ones((2, 3))]
    with pytest.raises(ValueError, match="sequence 1 has 3 features"):
        SequenceStandardScaler().fit(seqs)


def test_ragged_wrong_element_ndim_raises():
    seqs = [np.ones((3, 2)), np.ones(2)]
    with pytest.raises(ValueError, match="sequence 1 has 1 dimension"):
        SequenceStandardScaler().fit(seqs)


def test_inhomogeneous_nested_list_raises():
    with pytest.raises(ValueError, match="Could not convert X to an array"):
        SequenceStandardScaler().fit([[1.0, 2.0], [1.0]])


@pytest.mark.parametrize(
    "quantile_range",
    [(75.0, 25.0), (-1.0, 50.0), (25.0, 101.0), (50.0, 50.0), (1.0,), ("a", 2.0)],
)
def test_invalid_quantile_range_raises(X3d, quantile_range):
    scaler = SequenceStandardScaler(robust=True, quantile_range=quantile_range)
    with pytest.raises(ValueError, match="Invalid quantile_range"):
        scaler.fit(X3d)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"clip": -1.0}, "'clip' parameter"),
        ({"clip": 0}, "'clip' parameter"),
        ({"robust": "yes"}, "'robust' parameter"),
        ({"quantile_range": [25, 75]}, "'quantile_range' parameter"),
    ],
)
def test_invalid_parameters_raise(X3d, params, match):
    with pytest.raises(ValueError, match=match):
        SequenceStandardScaler(**params).fit(X3d)


# ----------------------------------------------------------- huge values


@pytest.mark.parametrize("robust", [False, True])
@pytest.mark.parametrize("layout", ["3d", "list", "2d"])
def test_huge_finite_values_give_finite_scale_and_round_trip(X3d, robust, layout):
    X = X3d.copy()
    X[..., 1] *= 1e300  # mean and std of these overflow float64 when computed naively
    data = {"3d": X, "list": list(X), "2d": X.reshape(-1, 3)}[layout]
    scaler = SequenceStandardScaler(robust=robust).fit(data)
    assert np.isfinite(scaler.center_).all() and np.isfinite(scaler.scale_).all()
    ref = SequenceStandardScaler(robust=robust).fit(X3d)
    assert_allclose(scaler.center_[1], ref.center_[1] * 1e300, rtol=1e-12)
    assert_allclose(scaler.scale_[1], ref.scale_[1] * 1e300, rtol=1e-12)
    Xt = scaler.transform(data)
    back = scaler.inverse_transform(Xt)
    if layout == "list":
        Xt, back = np.stack(Xt), np.stack(back)
    assert_allclose(Xt.reshape(-1, 3), ref.transform(X3d).reshape(-1, 3), rtol=1e-9)
    assert np.isfinite(back).all()
    assert_allclose(back.reshape(-1, 3), X.reshape(-1, 3), rtol=1e-12)


def test_statistics_bit_identical_to_naive_on_ordinary_data(X3d):
    # the overflow-safe statistics are exact rescalings by powers of two
    X = _padded(X3d * 37.25 + 3.0, [6, 3, 1, 6, 5, 2, 4])
    frames = X[~np.isnan(X).all(axis=-1)]
    scaler = SequenceStandardScaler().fit(X)
    assert_array_equal(scaler.center_, frames.mean(axis=0))
    assert_array_equal(scaler.scale_, frames.std(axis=0))


def test_extreme_values_transform_without_overflow():
    X = np.array([[-1.7e308], [1.7e308], [1.7e308], [-1.0e308]])
    scaler = SequenceStandardScaler().fit(X)
    Xt = scaler.transform(X)  # X - center overflows; the scaler divides first
    assert np.isfinite(Xt).all()
    assert_allclose(scaler.inverse_transform(Xt), X, rtol=1e-12)


def test_non_finite_statistic_names_the_feature():
    X = np.zeros((4, 3))
    X[:, 2] = [-1.7e308, 1.7e308, 1.7e308, -1.7e308]  # quantile range 3.4e308
    scaler = SequenceStandardScaler(robust=True, quantile_range=(0.0, 100.0))
    with pytest.raises(
        ValueError, match=r"The scale of feature 2 of X is not finite in float64"
    ):
        scaler.fit(X)


def test_ragged_element_shape_is_named():
    seqs = [np.ones((3, 2)), np.ones((2, 3, 2))]
    with pytest.raises(
        ValueError, match=r"sequence 1 has 3 dimension\(s\) \(shape \(2, 3, 2\)\)"
    ):
        SequenceStandardScaler().fit(seqs)
    with pytest.raises(
        ValueError, match=r"sequence 0 has 1 dimension\(s\) \(shape \(2,\)\)"
    ):
        SequenceStandardScaler().fit([np.ones(2), np.ones((3, 2))])


def test_padding_errors_name_sequence_and_frame(X3d):
    X = X3d.copy()
    X[4, 2, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN inside a frame \(sequence 4, frame 2\)"):
        SequenceStandardScaler().fit(X)
    with pytest.raises(ValueError, match=r"NaN inside a frame \(sequence 4, frame 2\)"):
        SequenceStandardScaler().fit(list(X))
