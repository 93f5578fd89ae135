"""Tests for the planted-program suite, sklearn_dpads.datasets.make_planted_suite.

The labels are checked against a recomputation of every rule written here in
plain NumPy from ``X``, the group layout and the returned thresholds only.
"""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_dpads.datasets import PLANTED_RULES, make_planted_suite

N_SAMPLES = 200
N_TIMESTEPS = 30
BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"

# rule -> (label type, number of classes, planted groups)
EXPECTED = {
    "close_and_slow": ("frame", 2, ("distance", "velocity")),
    "energy_multiclass": ("sequence", 4, ("limb0", "limb1", "limb2", "limb3")),
    "count_fold": ("sequence", 2, ("signal",)),
    "window_mean_threshold": ("sequence", 2, ("signal",)),
    "product": ("sequence", 2, ("signal_a", "signal_b")),
    "switch": ("frame", 2, ("gate", "signal_a", "signal_b")),
}

# rule -> bounds on the fraction of every class (positive class when binary)
BALANCE = {
    "close_and_slow": (0.15, 0.40),
    "energy_multiclass": (0.12, 0.38),
    "count_fold": (0.4, 0.6),
    "window_mean_threshold": (0.45, 0.55),
    "product": (0.45, 0.55),
    "switch": (0.4, 0.6),
}


def _col(data, group, j=0):
    return data.X[:, :, data.feature_groups[group][j]].astype(np.float64)


def _recompute_labels(data, rule):
    """The rule applied to ``data.X``, independently of the generator's code."""
    thr = data.thresholds
    if rule == "close_and_slow":
        speed = np.hypot(_col(data, "velocity", 0), _col(data, "velocity", 1))
        return (_col(data, "distance") < thr["distance"]) & (speed < thr["speed"])
    if rule == "energy_multiclass":
        energies = []
        for k in range(4):
            x = data.X[:, :, data.feature_groups[f"limb{k}"]].astype(np.float64)
            step = x[:, 1:] - x[:, :-1]
            energies.append(np.einsum("ntj,ntj->n", step, step) / step.shape[1])
        return np.argmax(np.column_stack(energies), axis=1)
    if rule == "count_fold":
        count = np.count_nonzero(_col(data, "signal") > thr["signal"], axis=1)
        return count >= thr["count"]
    if rule == "window_mean_threshold":
        return _col(data, "signal")[:, -10:].sum(axis=1) / 10 > thr["signal"]
    if rule == "product":
        prod = _col(data, "signal_a") * _col(data, "signal_b")
        return prod[:, -10:].sum(axis=1) / 10 > thr["product"]
    if rule == "switch":
        a, b, c = (_col(data, g) for g in ("signal_a", "signal_b", "gate"))
        return ((c > 0) & (a > 0)) | ((c <= 0) & (b > 0))
    raise AssertionError(rule)


@pytest.fixture(scope="module", params=PLANTED_RULES)
def suite(request):
    rule = request.param
    data = make_planted_suite(
        rule, n_samples=N_SAMPLES, n_timesteps=N_TIMESTEPS, random_state=0
    )
    return rule, data


def test_rule_names():
    assert set(EXPECTED) == set(PLANTED_RULES)
    assert len(PLANTED_RULES) == len(set(PLANTED_RULES)) >= 6
    assert isinstance(PLANTED_RULES, tuple)


def test_shapes_and_dtypes(suite):
    rule, data = suite
    label_type, n_classes, planted = EXPECTED[rule]
    n_features = len(data.feature_names)
    assert data.X.shape == (N_SAMPLES, N_TIMESTEPS, n_features)
    assert data.X.dtype == np.float32
    assert np.isfinite(data.X).all()
    expected_y = (N_SAMPLES,) if label_type == "sequence" else (N_SAMPLES, N_TIMESTEPS)
    assert data.y.shape == expected_y
    assert data.y.dtype == np.int64
    assert data.label_type == label_type
    assert data.n_classes == n_classes
    assert set(np.unique(data.y)) <= set(range(n_classes))
    assert data.planted_groups == planted
    assert isinstance(data.planted_groups, tuple)
    assert data.rule_name == rule
    assert isinstance(data.rule, str) and data.rule
    assert isinstance(data.DESCR, str) and data.rule in data.DESCR
    assert all(isinstance(name, str) for name in data.feature_names)
    assert len(set(data.feature_names)) == n_features


def test_feature_groups_partition_features(suite):
    _, data = suite
    n_features = data.X.shape[2]
    indices = sorted(i for idx in data.feature_groups.values() for i in idx)
    assert indices == list(range(n_features))
    assert set(data.planted_groups) <= set(data.feature_groups)
    distractors = set(data.feature_groups) - set(data.planted_groups)
    assert distractors, "every rule has distractor groups"
    for name, idx in data.feature_groups.items():
        assert idx and all(isinstance(i, int) for i in idx), name


def test_labels_follow_rule_exactly(suite):
    rule, data = suite
    expected = np.asarray(_recompute_labels(data, rule)).astype(np.int64)
    assert_array_equal(data.y, expected)


def test_rule_text_has_thresholds(suite):
    _, data = suite
    for name, value in data.thresholds.items():
        text = str(value) if isinstance(value, int) else f"{value:.4g}"
        assert text in data.rule, name


def test_class_balance(suite):
    rule, data = suite
    low, high = BALANCE[rule]
    fractions = np.bincount(data.y.ravel(), minlength=data.n_classes) / data.y.size
    if data.n_classes == 2:
        fractions = fractions[1:]
    assert np.all((low <= fractions) & (fractions <= high)), fractions


def test_features_are_smooth(suite):
    # neighbouring frames are strongly correlated in every feature
    _, data = suite
    X = data.X.astype(np.float64)
    X = X - X.mean(axis=1, keepdims=True)
    lag1 = (X[:, 1:] * X[:, :-1]).sum(axis=(0, 1)) / (X**2).sum(axis=(0, 1))
    assert np.all(lag1 > 0.5), lag1


def test_distractors_carry_no_signal(suite):
    # per-sequence means of the distractor features are not associated with y
    rule, data = suite
    if data.n_classes != 2:
        return
    y = data.y.ravel().astype(np.float64)
    for group in set(data.feature_groups) - set(data.planted_groups):
        for i in data.feature_groups[group]:
            x = data.X[:, :, i].astype(np.float64)
            x = x.ravel() if data.label_type == "frame" else x.mean(axis=1)
            assert abs(np.corrcoef(x, y)[0, 1]) < 0.25, (rule, group)


@pytest.mark.parametrize("rule", PLANTED_RULES)
def test_deterministic(rule):
    kwargs = {"n_samples": 20, "n_timesteps": 12}
    a = make_planted_suite(rule, random_state=3, **kwargs)
    b = make_planted_suite(rule, random_state=np.random.RandomState(3), **kwargs)
    assert_array_equal(a.X, b.X)
    assert_array_equal(a.y, b.y)
    assert a.rule == b.rule and a.thresholds == b.thresholds
    assert a.feature_groups == b.feature_groups
    c = make_planted_suite(rule, random_state=4, **kwargs)
    assert not np.array_equal(a.X, c.X)


@pytest.mark.parametrize("rule", PLANTED_RULES)
def test_smallest_sizes(rule):
    data = make_planted_suite(rule, n_samples=10, n_timesteps=10, random_state=0)
    assert data.X.shape[:2] == (10, 10)
    assert_array_equal(data.y, np.asarray(_recompute_labels(data, rule)))


def test_defaults_and_numpy_integers():
    data = make_planted_suite("switch", random_state=0)
    assert data.X.shape[:2] == (1000, 50)
    small = make_planted_suite(
        "count_fold", n_samples=np.int64(12), n_timesteps=np.int32(11)
    )
    assert small.X.shape[:2] == (12, 11)


def test_does_not_share_state_between_calls():
    a = make_planted_suite("product", n_samples=10, random_state=0)
    a.X[:] = 0.0
    a.feature_groups["signal_a"].append(99)
    b = make_planted_suite("product", n_samples=10, random_state=0)
    assert b.X.any()
    assert 99 not in b.feature_groups["signal_a"]


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (("xor",), {}, r"rule must be one of \['close_and_slow', "),
        ((None,), {}, "rule must be one of"),
        (("Switch",), {}, "got 'Switch'"),
        (("switch",), {"n_samples": 9}, "n_samples must be an integer >= 10; got 9"),
        (("switch",), {"n_samples": 0}, "n_samples must be an integer >= 10"),
        (("switch",), {"n_samples": 20.0}, "n_samples must be an integer >= 10"),
        (("switch",), {"n_samples": "20"}, "n_samples must be an integer >= 10"),
        (("switch",), {"n_samples": True}, "n_samples must be an integer >= 10"),
        (("count_fold",), {"n_timesteps": 9}, "n_timesteps must be an integer >= 10"),
        (
            ("window_mean_threshold",),
            {"n_timesteps": 5},
            "n_timesteps must be an integer >= 10; got 5",
        ),
        (("product",), {"n_timesteps": 12.5}, "n_timesteps must be an integer >= 10"),
        (("switch",), {"n_timesteps": None}, "n_timesteps must be an integer >= 10"),
        (("switch",), {"random_state": "seed"}, "cannot be used to seed"),
    ],
)
def test_invalid_arguments(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_planted_suite(*args, **kwargs)


def test_benchmark_registers_every_rule():
    # a data set planted-<rule> per rule, opt-in, with the planted groups wired
    # into the "planted found" check
    spec = importlib.util.spec_from_file_location(
        "dpads_bench_run_planted", BENCH_DIR / "run_benchmarks.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    args = SimpleNamespace(data_dir=".", quick=False, planted_samples=40)
    for rule in PLANTED_RULES:
        name = f"planted-{rule}"
        assert name in bench.DATASETS and name not in bench.DEFAULT_DATASETS
        data = bench.load_dataset(name, 0, args)
        arrays, meta = data["arrays"], data["meta"]
        assert len(arrays["X_train"]) == 28 and len(arrays["X_test"]) == 12
        assert meta["planted_groups"] == list(EXPECTED[rule][2])
        assert meta["label_type"] == EXPECTED[rule][0]
        found = bench._planted_found(
            " ".join(f"affine[{g}](x)" for g in meta["planted_groups"]),
            meta["planted_groups"],
        )
        assert found["planted_found"]
        # any leaf over the group names it; a group whose name only starts
        # the same does not
        groups = meta["planted_groups"]
        text = f"quadratic[{groups[0]}](x) affine[{groups[-1]}_change](x)"
        found = bench._planted_found(text, groups)["planted_found_groups"]
        assert found == groups[:1]
