"""Tests for the synthetic data generators in sklearn_dpads.datasets."""

import subprocess
import sys
import time

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from sklearn_dpads.datasets import make_crim13_like, make_planted_sequences

LABEL_TYPES = ["sequence", "frame"]
RULES = ["threshold", "product"]


def _planted_score(data, label_type, rule):
    """Recompute the planted score from X and the returned ground truth."""
    X = data.X.astype(np.float64)
    values = [
        X[:, :, data.feature_groups[g]] @ data.planted_affine[g]["coef"]
        + data.planted_affine[g]["intercept"]
        for g in data.planted_groups
    ]
    per_frame = values[0] if rule == "threshold" else values[0] * values[1]
    if label_type == "frame":
        return per_frame
    if rule == "threshold":
        return per_frame[:, -5:].mean(axis=1)
    return per_frame.mean(axis=1)


def test_generators_do_not_import_torch():
    # Load the generator module on its own (bypassing the package __init__, which
    # may legitimately import torch) and check that it pulls in no torch.
    import sklearn_dpads.datasets._synthetic as synthetic

    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('m', {synthetic.__file__!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "sys.exit(int('torch' in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], check=False)
    assert result.returncode == 0


# ------------------------------------------------------ make_planted_sequences


@pytest.mark.parametrize("label_type", LABEL_TYPES)
@pytest.mark.parametrize("rule", RULES)
def test_planted_shapes_and_dtypes(label_type, rule):
    data = make_planted_sequences(
        n_samples=60,
        n_timesteps=9,
        n_features=7,
        label_type=label_type,
        rule=rule,
        random_state=0,
    )
    assert data.X.shape == (60, 9, 7)
    assert data.X.dtype == np.float32
    assert np.isfinite(data.X).all()
    expected_y = (60,) if label_type == "sequence" else (60, 9)
    assert data.y.shape == expected_y
    assert data.y.dtype == np.int64
    assert set(np.unique(data.y)) <= {0, 1}
    assert data.feature_groups == {"a": [0, 1], "b": [2, 3], "c": [4, 5], "d": [6]}
    assert data.feature_names == ["a_0", "a_1", "b_0", "b_1", "c_0", "c_1", "d_0"]
    assert len(data.planted_groups) == (1 if rule == "threshold" else 2)
    assert set(data.planted_groups) <= set(data.feature_groups)
    assert isinstance(data.rule, str)
    for group in data.planted_groups:
        assert f"f_{group}(x)" in data.rule
    assert data.thresholds.shape == (1,)
    assert isinstance(data.DESCR, str)


def test_planted_many_groups_get_unique_names():
    data = make_planted_sequences(n_samples=5, n_timesteps=2, n_features=60)
    names = list(data.feature_groups)
    assert len(names) == 30 == len(set(names))
    assert names[25:27] == ["z", "aa"]
    assert sorted(i for idx in data.feature_groups.values() for i in idx) == list(
        range(60)
    )


def test_planted_deterministic():
    a = make_planted_sequences(n_samples=50, random_state=3, noise=0.1)
    b = make_planted_sequences(
        n_samples=50, random_state=np.random.RandomState(3), noise=0.1
    )
    assert_array_equal(a.X, b.X)
    assert_array_equal(a.y, b.y)
    assert a.rule == b.rule
    c = make_planted_sequences(n_samples=50, random_state=4, noise=0.1)
    assert not np.array_equal(a.X, c.X)


@pytest.mark.parametrize("label_type", LABEL_TYPES)
@pytest.mark.parametrize("rule", RULES)
def test_planted_rule_reproduces_labels(label_type, rule):
    data = make_planted_sequences(
        n_samples=200, label_type=label_type, rule=rule, random_state=1
    )
    score = _planted_score(data, label_type, rule)
    assert_array_equal(data.y, (score > data.thresholds[0]).astype(np.int64))
    assert f"{data.thresholds[0]:.4g}" in data.rule


@pytest.mark.parametrize("label_type", LABEL_TYPES)
@pytest.mark.parametrize("rule", RULES)
def test_planted_labels_balanced(label_type, rule):
    data = make_planted_sequences(
        n_samples=400, label_type=label_type, rule=rule, random_state=2
    )
    assert abs(data.y.mean() - 0.5) < 0.03


def test_planted_weights_and_multiclass():
    data = make_planted_sequences(
        n_samples=2000, n_classes=3, weights=[1, 2, 1], random_state=0
    )
    assert data.thresholds.shape == (2,)
    assert_array_equal(np.unique(data.y), [0, 1, 2])
    assert np.allclose(np.bincount(data.y) / 2000, [0.25, 0.5, 0.25], atol=0.02)
    score = _planted_score(data, "sequence", "threshold")
    assert_array_equal(data.y, np.digitize(score, data.thresholds, right=True))
    assert "number of thresholds" in data.rule

    skewed = make_planted_sequences(n_samples=1000, weights=[0.8, 0.2], random_state=0)
    assert abs(skewed.y.mean() - 0.2) < 0.02


@pytest.mark.parametrize("n_classes", [2, 4])
def test_planted_noise_flips_expected_fraction(n_classes):
    kwargs = {"n_samples": 300, "label_type": "frame", "n_classes": n_classes}
    clean = make_planted_sequences(noise=0.0, random_state=5, **kwargs)
    noisy = make_planted_sequences(noise=0.2, random_state=5, **kwargs)
    assert_array_equal(clean.X, noisy.X)
    assert abs((clean.y != noisy.y).mean() - 0.2) < 0.02


def test_planted_threshold_rule_is_learnable():
    data = make_planted_sequences(n_samples=400, random_state=0)
    idx = data.feature_groups[data.planted_groups[0]]
    planted = data.X[:, -5:, idx].mean(axis=1)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=100.0))
    assert cross_val_score(model, planted, data.y, cv=3).mean() > 0.95
    # A group the rule does not use carries (almost) no information.
    other = next(g for g in data.feature_groups if g not in data.planted_groups)
    unused = data.X[:, -5:, data.feature_groups[other]].mean(axis=1)
    assert cross_val_score(model, unused, data.y, cv=3).mean() < 0.7


def test_planted_frame_product_rule_is_learnable():
    data = make_planted_sequences(
        n_samples=100, label_type="frame", rule="product", random_state=0
    )
    idx = [i for g in data.planted_groups for i in data.feature_groups[g]]
    frames = data.X[:, :, idx].reshape(-1, len(idx))
    model = make_pipeline(
        PolynomialFeatures(degree=2),
        StandardScaler(),
        LogisticRegression(C=100.0, max_iter=2000),
    )
    assert cross_val_score(model, frames, data.y.ravel(), cv=3).mean() > 0.95


def test_planted_does_not_share_state_between_calls():
    a = make_planted_sequences(n_samples=20, random_state=0)
    a.X[:] = 0.0
    a.feature_groups["a"].append(99)
    b = make_planted_sequences(n_samples=20, random_state=0)
    assert b.X.any()
    assert b.feature_groups["a"] == [0, 1]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 0}, "n_samples must be an integer >= 1; got 0"),
        ({"n_samples": 2.5}, "n_samples must be an integer >= 1"),
        ({"n_samples": True}, "n_samples must be an integer >= 1"),
        ({"n_timesteps": 0}, "n_timesteps must be an integer >= 1"),
        ({"n_features": 0}, "n_features must be an integer >= 1"),
        ({"n_classes": 1}, "n_classes must be an integer >= 2"),
        ({"label_type": "episode"}, "label_type must be one of"),
        ({"rule": "xor"}, "rule must be one of"),
        ({"rule": None}, "rule must be one of"),
        ({"noise": -0.1}, r"noise must be a probability in \[0, 1\]"),
        ({"noise": 1.5}, r"noise must be a probability in \[0, 1\]"),
        ({"noise": "high"}, r"noise must be a probability in \[0, 1\]"),
        ({"weights": [0.5, 0.3, 0.2]}, "one entry per class"),
        ({"weights": [1.0, 0.0]}, "finite and positive"),
        ({"weights": [1.0, np.nan]}, "finite and positive"),
        ({"weights": ["a", "b"]}, "positive numbers"),
        ({"rule": "product", "n_features": 2}, "n_features >= 3"),
        ({"random_state": "seed"}, "cannot be used to seed"),
    ],
)
def test_planted_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_planted_sequences(**kwargs)


# ------------------------------------------------------------ make_crim13_like


@pytest.fixture(scope="module")
def crim():
    return make_crim13_like(n_samples=300, n_timesteps=40, random_state=0)


def test_crim13_layout(crim):
    assert crim.X.shape == (300, 40, 19)
    assert crim.X.dtype == np.float32
    assert np.isfinite(crim.X).all()
    assert crim.y.shape == (300, 40)
    assert crim.y.dtype == np.int64
    assert crim.feature_groups == {
        "position": [0, 1, 2, 3],
        "distance": [4],
        "distance_change": [5],
        "angle": [6, 7, 10],
        "angle_change": [8, 9],
        "velocity": [11, 12, 13, 14],
        "acceleration": [15, 16, 17, 18],
    }
    assert len(crim.feature_names) == 19
    assert crim.planted_groups == ["distance", "velocity"]
    assert "distance_t <" in crim.rule


def test_crim13_derived_features_consistent(crim):
    X = crim.X.astype(np.float64)
    pos = X[..., 0:4]
    assert ((pos >= 0) & (pos <= 1)).all()
    dist = np.hypot(X[..., 2] - X[..., 0], X[..., 3] - X[..., 1])
    np.testing.assert_allclose(X[..., 4], dist, atol=1e-5)
    np.testing.assert_allclose(X[:, 1:, 5], np.diff(X[..., 4], axis=1), atol=1e-5)
    vel = X[..., 11:15]
    np.testing.assert_allclose(vel[:, 1:], np.diff(pos, axis=1), atol=1e-5)
    np.testing.assert_allclose(X[:, 1:, 15:19], np.diff(vel, axis=1), atol=1e-5)
    heading = np.arctan2(X[..., 12], X[..., 11])
    np.testing.assert_allclose(np.cos(X[..., 6]), np.cos(heading), atol=1e-4)
    angles = X[..., [6, 7, 8, 9, 10]]
    assert (np.abs(angles) <= np.pi + 1e-6).all()


def test_crim13_rule_reproduces_labels(crim):
    X = crim.X.astype(np.float64)
    speed = np.hypot(X[..., 11], X[..., 12])
    thr = crim.thresholds
    expected = (X[..., 4] < thr["distance"]) & (speed < thr["speed"])
    assert_array_equal(crim.y, expected.astype(np.int64))
    assert f"{thr['distance']:.4g}" in crim.rule
    assert f"{thr['speed']:.4g}" in crim.rule


@pytest.mark.parametrize("rate", [0.05, 0.15, 0.4])
def test_crim13_positive_rate(rate):
    data = make_crim13_like(
        n_samples=200, n_timesteps=50, positive_rate=rate, random_state=1
    )
    assert abs(data.y.mean() - rate) < 0.01


def test_crim13_is_learnable(crim):
    X = crim.X.astype(np.float64)
    features = np.stack([X[..., 4], np.hypot(X[..., 11], X[..., 12])], axis=-1)
    tree = DecisionTreeClassifier(max_depth=2, random_state=0)
    score = cross_val_score(tree, features.reshape(-1, 2), crim.y.ravel(), cv=3)
    assert score.mean() > 0.98


def test_crim13_deterministic():
    a = make_crim13_like(n_samples=20, n_timesteps=10, random_state=7)
    b = make_crim13_like(n_samples=20, n_timesteps=10, random_state=7)
    assert_array_equal(a.X, b.X)
    assert_array_equal(a.y, b.y)
    c = make_crim13_like(n_samples=20, n_timesteps=10, random_state=8)
    assert not np.array_equal(a.X, c.X)


def test_crim13_tiny_inputs():
    data = make_crim13_like(n_samples=1, n_timesteps=1, random_state=0)
    assert data.X.shape == (1, 1, 19)
    assert data.y.shape == (1, 1)


def test_crim13_default_size_is_fast_and_compact():
    start = time.perf_counter()
    data = make_crim13_like(random_state=0)
    elapsed = time.perf_counter() - start
    assert data.X.shape == (12404, 100, 19)
    assert data.X.dtype == np.float32
    assert data.X.nbytes < 100e6
    assert abs(data.y.mean() - 0.15) < 0.01
    assert elapsed < 15.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 0}, "n_samples must be an integer >= 1"),
        ({"n_samples": 10.0}, "n_samples must be an integer >= 1"),
        ({"n_timesteps": -3}, "n_timesteps must be an integer >= 1"),
        ({"positive_rate": 0.0}, r"positive_rate must be a number in \(0, 1\)"),
        ({"positive_rate": 1.0}, r"positive_rate must be a number in \(0, 1\)"),
        ({"positive_rate": None}, r"positive_rate must be a number in \(0, 1\)"),
        ({"random_state": "seed"}, "cannot be used to seed"),
    ],
)
def test_crim13_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_crim13_like(**kwargs)


def test_load_calms21_roundtrip(tmp_path):
    from sklearn_dpads.datasets import CALMS21_FEATURE_GROUPS, load_calms21

    rng = np.random.RandomState(0)
    np.save(tmp_path / "X.npy", rng.randn(5, 13, 18))
    np.save(tmp_path / "y_mount.npy", np.array([0, 1, 0, 0, 1]))
    b = load_calms21(tmp_path, "mount")
    assert b.X.dtype == np.float32 and b.X.shape == (5, 13, 18)
    assert b.feature_groups == {k: list(v) for k, v in CALMS21_FEATURE_GROUPS.items()}
    assert b.feature_names[17] == "min_res_nose_dist"
    with pytest.raises(FileNotFoundError, match="y_investigation.npy"):
        load_calms21(tmp_path)
    np.save(tmp_path / "y_investigation.npy", np.zeros(4))
    with pytest.raises(ValueError, match="do not fit"):
        load_calms21(tmp_path)
