"""Tests of the F1 helpers (metrics) and the decision threshold (_threshold)."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from sklearn_dpads._threshold import (
    logits_to_proba,
    threshold_logit_offset,
    tune_logit_offset,
)
from sklearn_dpads.metrics import best_threshold_f1, frame_f1_score, label_f1


def _brute_force(scores, true):
    best = 0.0
    for thr in np.unique(scores):
        best = max(best, f1_score(true, scores >= thr, zero_division=0.0))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_best_threshold_f1_is_the_best_over_all_thresholds(seed):
    rng = np.random.RandomState(seed)
    scores = np.round(rng.randn(200), 1)  # many ties
    true = (scores + rng.randn(200) > 0.5).astype(int)
    f1, thr = best_threshold_f1(scores, true)
    assert f1 == pytest.approx(_brute_force(scores, true))
    assert f1_score(true, scores > thr) == pytest.approx(f1)


def test_best_threshold_f1_without_positives():
    assert best_threshold_f1(np.array([0.1, 0.2]), np.array([0, 0])) == (0.0, 0.0)


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_label_f1_matches_sklearn(n_classes):
    rng = np.random.RandomState(n_classes)
    true = rng.randint(0, n_classes, 300)
    pred = np.where(rng.rand(300) < 0.6, true, rng.randint(0, n_classes, 300))
    average = "binary" if n_classes == 2 else "macro"
    assert label_f1(pred, true, n_classes) == pytest.approx(
        f1_score(true, pred, average=average)
    )


def test_frame_f1_score_pools_ragged_sequences():
    y_true = [np.array([1, 0, 1]), np.array([0])]
    y_pred = [np.array([1, 1, 1]), np.array([0])]
    assert frame_f1_score(y_true, y_pred) == pytest.approx(0.8)
    with pytest.raises(ValueError, match="different sequence lengths"):
        frame_f1_score(y_true, [np.array([1, 1]), np.array([0])])


def test_tune_logit_offset_reaches_the_best_f1():
    rng = np.random.RandomState(0)
    true = (rng.rand(500) < 0.2).astype(int)
    logits = rng.randn(500) + 1.5 * true - 2.0  # threshold 0 predicts few positives
    offset = tune_logit_offset(logits, true)
    best, _ = best_threshold_f1(logits, true)
    assert f1_score(true, logits + offset > 0) == pytest.approx(best)
    assert tune_logit_offset(logits, np.zeros(500, dtype=int)) == 0.0
    logits[0] = np.nan  # non-finite logits are ignored
    assert np.isfinite(tune_logit_offset(logits, true))


def test_threshold_logit_offset_and_probabilities():
    offset = threshold_logit_offset(0.25)
    proba = logits_to_proba(np.array([[0.0], [np.log(1 / 3)]]), offset)
    # logit(1/3) + offset = logit(0.5): the 0.25 threshold maps to 0.5
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0)
    assert proba[1, 1] == pytest.approx(0.5)
    assert proba[0, 1] > 0.5
    big = logits_to_proba(np.array([[800.0], [-800.0]]))  # stable sigmoid
    np.testing.assert_array_equal(big, [[0.0, 1.0], [1.0, 0.0]])
    multi = logits_to_proba(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(multi.sum(), 1.0)
    assert multi.argmax() == 2


# ranking_score ---------------------------------------------------------------


def test_ranking_score_binary_is_average_precision():
    from sklearn.metrics import average_precision_score

    from sklearn_dpads.metrics import ranking_score

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 50)
    z = y + rng.normal(size=50)
    want = average_precision_score(y, z)
    assert ranking_score(z, y, 2) == pytest.approx(want)
    assert ranking_score(z[:, None], y, 2) == pytest.approx(want)
    # invariant to any monotone map of the logits: no threshold is involved
    assert ranking_score(3 * z + 7, y, 2) == pytest.approx(want)


def test_ranking_score_uses_class_weights():
    from sklearn.metrics import average_precision_score

    from sklearn_dpads.metrics import ranking_score

    y = np.array([0, 0, 1, 1, 0, 1, 0])
    z = np.array([0.1, 0.9, 0.8, 0.3, 0.5, 0.7, 0.2])
    w = np.array([1.0, 3.0])
    want = average_precision_score(y, z, sample_weight=w[y])
    assert ranking_score(z, y, 2, class_weight=w) == pytest.approx(want)
    assert ranking_score(z, y, 2, class_weight=w) != pytest.approx(
        ranking_score(z, y, 2)
    )


def test_ranking_score_multiclass_mean_one_vs_rest():
    from sklearn.metrics import average_precision_score

    from sklearn_dpads.metrics import ranking_score

    rng = np.random.default_rng(1)
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    z = rng.normal(size=(8, 4))  # class 3 never occurs: left out of the mean
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    want = np.mean([average_precision_score(y == c, logp[:, c]) for c in range(3)])
    assert ranking_score(z, y, 4) == pytest.approx(want)


@pytest.mark.parametrize(
    "z, y",
    [
        (np.array([0.1, 0.2]), np.array([0, 0])),  # no positive
        (np.array([np.nan, 0.2]), np.array([0, 1])),  # a diverged program
        (np.zeros(0), np.zeros(0, dtype=int)),
    ],
)
def test_ranking_score_undefined_is_zero(z, y):
    from sklearn_dpads.metrics import ranking_score

    assert ranking_score(z, y, 2) == 0.0


def test_ranking_score_infinite_logits_still_rank():
    from sklearn_dpads.metrics import ranking_score

    y = np.array([0, 1, 0, 1])
    assert ranking_score(np.array([-np.inf, np.inf, -1.0, 2.0]), y, 2) == 1.0


def test_ranking_score_sample_weights_are_bootstrap_counts():
    from sklearn_dpads.metrics import ranking_score

    rng = np.random.RandomState(3)
    z, y = rng.randn(60), rng.randint(0, 2, 60)
    w = rng.poisson(1.0, 60)
    repeated = ranking_score(np.repeat(z, w), np.repeat(y, w), 2)
    assert ranking_score(z, y, 2, sample_weight=w) == pytest.approx(repeated)
    # a class that only occurs with weight 0 does not count in the mean
    z3 = rng.randn(6, 3)
    y3 = np.array([0, 0, 1, 1, 2, 2])
    w3 = np.array([1, 1, 1, 1, 0, 0])
    assert ranking_score(z3, y3, 3, sample_weight=w3) == pytest.approx(
        ranking_score(z3[:4], y3[:4], 3)
    )


def test_paired_score_se_is_zero_for_one_model_and_small_for_paired_noise():
    from sklearn_dpads.metrics import paired_score_se

    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, 400)
    z = y + rng.randn(400)
    assert paired_score_se(z, z, y, 2) == 0.0
    near = paired_score_se(z, z + 0.05 * rng.randn(400), y, 2)
    far = paired_score_se(z, rng.randn(400), y, 2)
    assert 0.0 < near < far
    # reproducible, and resampling whole groups gives a larger error when the
    # samples of a group are copies of each other
    assert paired_score_se(z, -z, y, 2, random_state=1) == paired_score_se(
        z, -z, y, 2, random_state=1
    )
    zz, yy = np.repeat(z[:40], 10), np.repeat(y[:40], 10)
    other = np.repeat(rng.randn(40), 10)
    groups = np.repeat(np.arange(40), 10)
    assert paired_score_se(zz, other, yy, 2, groups=groups) > paired_score_se(
        zz, other, yy, 2
    )
    assert paired_score_se(z[:1], z[:1], y[:1], 2) == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_average_precision_is_scikit_learns(seed):
    from sklearn.metrics import average_precision_score

    from sklearn_dpads.metrics import average_precision

    rng = np.random.default_rng(seed)
    for i in range(200):
        n = int(rng.integers(1, 50))
        y = rng.random(n) < rng.random()
        # rounded scores: many ties; Poisson weights: some zero
        z = np.round(rng.normal(size=n), int(rng.integers(0, 3)))
        w = None if i % 2 else rng.poisson(1.0, n).astype(float)
        if not (y & (w is None or w > 0)).any():
            assert average_precision(y, z, w) == 0.0
            continue
        want = average_precision_score(y, z, sample_weight=w)
        assert average_precision(y, z, w) == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_paired_score_se_sorts_once_with_the_same_result(n_classes):
    from sklearn_dpads.metrics import paired_score_se, ranking_score

    rng = np.random.RandomState(0)
    n = 300
    y = rng.randint(0, n_classes, n)
    shape = (n,) if n_classes == 2 else (n, n_classes)
    za = rng.randn(*shape).round(1)  # ties between scores too
    zb = za + 0.3 * rng.randn(*shape)
    groups = np.repeat(np.arange(60), 5)
    cw = np.linspace(1.0, 2.0, n_classes)
    got = paired_score_se(za, zb, y, n_classes, groups=groups, class_weight=cw)
    # the plain form: every resample scored from scratch
    _, owner = np.unique(groups, return_inverse=True)
    boot = np.random.default_rng(0)
    diffs = []
    for _ in range(100):
        w = boot.poisson(1.0, owner.max() + 1)[owner]
        diffs.append(
            ranking_score(za, y, n_classes, cw, w)
            - ranking_score(zb, y, n_classes, cw, w)
        )
    assert got == float(np.std(diffs))
    assert got > 0
