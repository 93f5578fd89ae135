"""Tests for sklearn_dpads.bouts: bouts, smoothing, bout F1 and BoutSmoother."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from sklearn_dpads.bouts import (
    BoutSmoother,
    _count_matches,
    bout_f1_score,
    bout_f1_scorer,
    bout_precision_recall_fscore_support,
    find_bouts,
    make_bout_scorer,
    smooth_bouts,
)

# short label sequences over a few labels, background 0 included
label_lists = st.lists(st.integers(0, 3), max_size=40)
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _rebuild(bouts, n, background=0, dtype=int):
    out = np.full(n, background, dtype=dtype)
    for start, stop, label in bouts:
        out[start:stop] = label
    return out


# --------------------------------------------------------------- find_bouts
def test_find_bouts_runs_of_one_label():
    labels = [0, 1, 1, 0, 0, 2, 2, 1, 0, 1]
    assert find_bouts(labels) == [(1, 3, 1), (5, 7, 2), (7, 8, 1), (9, 10, 1)]
    assert find_bouts(np.array([1, 1, 1])) == [(0, 3, 1)]
    assert find_bouts([0, 0]) == []
    assert find_bouts([]) == []
    assert find_bouts(np.zeros(0, dtype=int)) == []


def test_find_bouts_returns_python_scalars():
    (bout,) = find_bouts(np.array([0, 3, 3], dtype=np.int8))
    assert bout == (1, 3, 3)
    assert all(type(v) is int for v in bout)


def test_find_bouts_strings_and_other_background():
    labels = ["none", "walk", "walk", "none", "run"]
    assert find_bouts(labels, background="none") == [(1, 3, "walk"), (4, 5, "run")]
    assert type(find_bouts(labels, background="none")[0][2]) is str
    # background 0 never equals a string: every run is a bout
    assert find_bouts(["a", "a", "b"]) == [(0, 2, "a"), (2, 3, "b")]
    assert find_bouts([-1, 0, 0, -1], background=-1) == [(1, 3, 0)]


def test_find_bouts_errors():
    with pytest.raises(ValueError, match=r"must be a 1-D sequence .* shape \(2, 2\)"):
        find_bouts([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match=r"1-D sequence .* shape \(\)"):
        find_bouts(3)
    with pytest.raises(ValueError, match="could not be converted"):
        find_bouts([[0, 1], [1]])
    with pytest.raises(ValueError, match="contains NaN"):
        find_bouts([0.0, np.nan, 1.0])
    with pytest.raises(ValueError, match="background must be a single label"):
        find_bouts([0, 1], background=[0])


@SETTINGS
@given(label_lists, st.integers(0, 3))
def test_find_bouts_round_trips(labels, background):
    labels = np.array(labels, dtype=int)
    bouts = find_bouts(labels, background)
    np.testing.assert_array_equal(_rebuild(bouts, len(labels), background), labels)
    # maximal runs: touching bouts have different labels, all are non-empty
    for (_, stop, a), (start, _, b) in zip(bouts, bouts[1:]):
        assert stop < start or (stop == start and a != b)
    assert all(stop > start and label != background for start, stop, label in bouts)


# ------------------------------------------------------------- smooth_bouts
def test_smooth_bouts_stitches_then_drops():
    labels = [1, 1, 0, 1, 1, 0, 0, 0, 1, 0, 2, 2, 2]
    out = smooth_bouts(labels, min_length=2, max_gap=1)
    np.testing.assert_array_equal(out, [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 2, 2, 2])
    # a gap of 3 is stitched with max_gap=3; the lone frame joins the bout
    out = smooth_bouts(labels, min_length=2, max_gap=3)
    np.testing.assert_array_equal(out, [1] * 9 + [0, 2, 2, 2])


def test_smooth_bouts_stitches_only_one_label_and_inner_gaps():
    # a gap between bouts of different labels stays; edges are not gaps
    labels = [0, 1, 1, 0, 2, 2, 0]
    np.testing.assert_array_equal(smooth_bouts(labels, min_length=1, max_gap=5), labels)
    # stitching makes a bout long enough to be kept
    np.testing.assert_array_equal(
        smooth_bouts([0, 1, 0, 1, 0], min_length=3, max_gap=1), [0, 1, 1, 1, 0]
    )


def test_smooth_bouts_drops_short_bouts_only():
    out = smooth_bouts([1, 0, 2, 2, 0, 3, 3, 3], min_length=3, max_gap=0)
    np.testing.assert_array_equal(out, [0, 0, 0, 0, 0, 3, 3, 3])


def test_smooth_bouts_flicker_of_another_label_is_absorbed():
    # dropping the one-frame 2 opens a gap inside the bout of 1, stitched
    labels = [1, 1, 1, 2, 1, 1, 1]
    out = smooth_bouts(labels, min_length=2, max_gap=1)
    np.testing.assert_array_equal(out, [1] * 7)
    np.testing.assert_array_equal(smooth_bouts(out, min_length=2, max_gap=1), out)
    # without max_gap the flicker becomes background
    np.testing.assert_array_equal(
        smooth_bouts(labels, min_length=2, max_gap=0), [1, 1, 1, 0, 1, 1, 1]
    )


def test_smooth_bouts_does_not_modify_input():
    labels = np.array([1, 0, 1, 1, 0, 0, 1])
    before = labels.copy()
    out = smooth_bouts(labels, min_length=3, max_gap=1)
    np.testing.assert_array_equal(labels, before)
    assert out is not labels and not np.shares_memory(out, labels)
    listed = [1, 0, 1]
    smooth_bouts(listed, min_length=2, max_gap=1)
    assert listed == [1, 0, 1]


def test_smooth_bouts_dtypes():
    out = smooth_bouts(np.array([0, 1, 0], dtype=np.int8), min_length=2, max_gap=0)
    assert out.dtype == np.int8 and out.tolist() == [0, 0, 0]
    # a background longer than the strings widens the dtype (no truncation)
    out = smooth_bouts(
        np.array(["a", "b", "b"]), min_length=2, max_gap=0, background="none"
    )
    assert out.tolist() == ["none", "b", "b"]
    # a string background among numbers: object
    out = smooth_bouts([1, 2, 2], min_length=2, max_gap=0, background="none")
    assert out.dtype == object and out.tolist() == ["none", 2, 2]
    out = smooth_bouts(
        np.array([1, 0, 0], dtype=np.uint8), min_length=2, max_gap=0, background=-1
    )
    assert out.dtype == np.int64 and out.tolist() == [-1, 0, 0]


def test_smooth_bouts_strings():
    labels = ["walk", "none", "walk", "run", "none", "none"]
    out = smooth_bouts(labels, min_length=2, max_gap=1, background="none")
    assert out.tolist() == ["walk", "walk", "walk", "none", "none", "none"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"min_length": 0, "max_gap": 0}, r"min_length must be an integer >= 1, got 0"),
        ({"min_length": 2.0, "max_gap": 0}, r"min_length .* got 2.0 \(float\)"),
        ({"min_length": True, "max_gap": 0}, r"min_length .* got True \(bool\)"),
        ({"min_length": 1, "max_gap": -1}, r"max_gap must be an integer >= 0, got -1"),
        ({"min_length": 1, "max_gap": "1"}, r"max_gap must be an integer"),
        ({"min_length": 1, "max_gap": 0, "background": (0,)}, "single label"),
    ],
)
def test_smooth_bouts_parameter_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        smooth_bouts([0, 1], **kwargs)


def test_smooth_bouts_needs_1d():
    with pytest.raises(ValueError, match=r"1-D sequence .* shape \(1, 3\)"):
        smooth_bouts([[0, 1, 0]], min_length=1, max_gap=0)
    with pytest.raises(TypeError):
        smooth_bouts([0, 1], 2, 1)  # keyword-only parameters


@SETTINGS
@given(label_lists, st.integers(1, 6), st.integers(0, 6), st.integers(0, 3))
def test_smoothing_is_idempotent(labels, min_length, max_gap, background):
    kw = dict(min_length=min_length, max_gap=max_gap, background=background)
    once = smooth_bouts(labels, **kw)
    np.testing.assert_array_equal(smooth_bouts(once, **kw), once)
    # and it does what it says: no short bout, no stitchable gap is left
    bouts = find_bouts(once, background)
    assert all(stop - start >= min_length for start, stop, _ in bouts)
    for (_, stop, a), (start, _, b) in zip(bouts, bouts[1:]):
        assert not (a == b and 0 < start - stop <= max_gap)


@SETTINGS
@given(label_lists, st.integers(0, 3))
def test_smoothing_with_defaults_changes_nothing(labels, background):
    out = smooth_bouts(labels, min_length=1, max_gap=0, background=background)
    np.testing.assert_array_equal(out, np.asarray(labels))


# ------------------------------------------------------------- bout scores
def test_bout_f1_counts_matches_of_one_label():
    y_true = [0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0]
    y_pred = [0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    # true: [1, 5), [7, 9); pred: [1, 4) (IoU 3/4), [10, 11)
    p, r, f, s = bout_precision_recall_fscore_support(y_true, y_pred, average="binary")
    assert (p, r, f, s) == (0.5, 0.5, 0.5, None)
    assert bout_f1_score(y_true, y_pred) == 0.5
    # a stricter IoU rejects the 3/4 overlap
    assert bout_f1_score(y_true, y_pred, iou=0.8) == 0.0
    assert bout_f1_score(y_true, y_pred, iou=0.75) == 0.5  # >= iou matches


def test_bout_f1_iou_threshold_is_exact():
    # IoU 7/10 == 0.7 exactly
    y_true = [1] * 10
    y_pred = [1] * 7 + [0] * 3
    assert bout_f1_score(y_true, y_pred, iou=0.7) == 1.0
    assert bout_f1_score(y_true, y_pred, iou=0.7000001) == 0.0


def test_bout_matching_is_one_to_one():
    # two predicted pieces of one true bout: at most one matches
    y_true = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]
    y_pred = [1, 1, 1, 1, 1, 0, 1, 1, 0, 0]
    p, r, f, _ = bout_precision_recall_fscore_support(
        y_true, y_pred, iou=0.1, average="binary"
    )
    assert (p, r) == (0.5, 1.0)
    assert f == pytest.approx(2 / 3)


def test_bout_matching_prefers_more_matches_to_the_best_iou():
    # pred B overlaps true A (IoU 6/14) and true C (IoU 3/10); pred D overlaps
    # A only (IoU 3/10). Greedy by IoU would pair A-B and leave C and D alone;
    # the maximum matching pairs A-D and C-B
    t = np.array([[0, 10], [11, 14]])  # A, C
    p = np.array([[0, 3], [4, 14]])  # D, B
    assert _count_matches(t[:, 0], t[:, 1], p[:, 0], p[:, 1], 0.2) == 2
    assert _count_matches(t[:, 0], t[:, 1], p[:, 0], p[:, 1], 0.4) == 1


def test_bout_f1_of_several_recordings():
    # one 2-D array (a row per recording) or a list of different lengths
    y_true = np.array([[0, 1, 1, 0], [1, 1, 0, 0]])
    y_pred = np.array([[0, 1, 1, 0], [0, 0, 0, 1]])
    assert bout_f1_score(y_true, y_pred) == pytest.approx(0.5)
    ragged_true = [[0, 1, 1, 0, 0], [1, 1]]
    ragged_pred = [np.array([0, 1, 1, 0, 1]), np.array([1, 1])]
    p, r, f, _ = bout_precision_recall_fscore_support(
        ragged_true, ragged_pred, average="binary"
    )
    assert (p, r) == (2 / 3, 1.0)
    # bouts never run across recordings
    assert bout_f1_score([[0, 1], [1, 0]], [[0, 1], [1, 0]]) == 1.0
    assert bout_f1_score(np.array([[0, 1], [1, 0]]).ravel(), [0, 1, 1, 0]) == 1.0


def test_bout_f1_multiclass_averages():
    y_true = [0, 1, 1, 0, 2, 2, 0, 2, 2, 0, 3, 3]
    y_pred = [0, 1, 1, 0, 2, 2, 0, 0, 0, 0, 0, 0]
    # per label: 1: 1 match / 1 pred / 1 true; 2: 1 / 1 / 2; 3: 0 / 0 / 1
    p, r, f, s = bout_precision_recall_fscore_support(y_true, y_pred)
    np.testing.assert_allclose(p, [1.0, 1.0, 0.0])
    np.testing.assert_allclose(r, [1.0, 0.5, 0.0])
    np.testing.assert_allclose(f, [1.0, 2 / 3, 0.0])
    np.testing.assert_array_equal(s, [1, 2, 1])
    np.testing.assert_allclose(bout_f1_score(y_true, y_pred, average=None), f)
    assert bout_f1_score(y_true, y_pred, average="macro") == pytest.approx(5 / 9)
    assert bout_f1_score(y_true, y_pred, average="weighted") == pytest.approx(
        (1.0 + 2 * 2 / 3 + 0.0) / 4
    )
    # micro: 2 matches, 2 predicted, 4 true bouts
    assert bout_f1_score(y_true, y_pred, average="micro") == pytest.approx(4 / 6)
    p, r, f, s = bout_precision_recall_fscore_support(y_true, y_pred, average="micro")
    assert (p, r, s) == (1.0, 0.5, None)
    # a subset of the labels, in a given order; absent labels score 0
    np.testing.assert_allclose(
        bout_f1_score(y_true, y_pred, average=None, labels=[2, 1, 7]), [2 / 3, 1, 0]
    )


def test_bout_f1_string_labels():
    y_true = ["none", "walk", "walk", "none", "run", "run", "run"]
    y_pred = ["none", "walk", "walk", "none", "none", "none", "run"]
    f = bout_f1_score(y_true, y_pred, average=None, background="none")
    np.testing.assert_allclose(f, [0.0, 1.0])  # labels sorted: run, walk
    f = bout_f1_score(
        y_true, y_pred, average=None, iou=0.3, background="none", labels=["walk", "run"]
    )
    np.testing.assert_allclose(f, [1.0, 1.0])


def test_bout_f1_binary_with_string_pos_label():
    y_true = ["none", "walk", "walk", "none"]
    y_pred = ["walk", "walk", "walk", "none"]
    assert bout_f1_score(y_true, y_pred, pos_label="walk", background="none") == 1.0
    assert (
        bout_f1_score(y_true, y_pred, iou=0.7, pos_label="walk", background="none")
        == 0.0
    )


def test_bout_f1_undefined_is_zero():
    assert bout_f1_score([0, 0, 0], [0, 0, 0]) == 0.0
    assert bout_f1_score([], []) == 0.0
    assert bout_f1_score([0, 0], [0, 1]) == 0.0
    p, r, f, s = bout_precision_recall_fscore_support(
        [0, 0], [0, 0], average="weighted"
    )
    assert (p, r, f, s) == (0.0, 0.0, 0.0, None)
    f = bout_f1_score([0, 0], [0, 0], average=None)
    assert f.shape == (0,)


def test_bout_f1_binary_without_background_frames():
    # two labels, neither the background: binary scores pos_label
    assert bout_f1_score([1, 1, 2, 2], [1, 1, 1, 2]) == 1.0
    assert bout_f1_score([1, 1, 2, 2], [1, 1, 1, 2], pos_label=2) == 1.0  # IoU 1/2
    assert bout_f1_score([1, 1, 2, 2], [1, 1, 1, 2], pos_label=2, iou=0.6) == 0.0


def test_bout_f1_errors():
    with pytest.raises(ValueError, match=r"Target is multiclass but average='binary'"):
        bout_f1_score([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match=r"pos_label=1 is not a valid label.*\[0, 2\]"):
        bout_f1_score([0, 2, 2], [0, 2, 0])
    with pytest.raises(ValueError, match="pos_label=0 is the background label"):
        bout_f1_score([0, 1], [0, 1], pos_label=0)
    with pytest.raises(ValueError, match="pos_label must be a single label"):
        bout_f1_score([0, 1], [0, 1], pos_label=[1])
    with pytest.raises(ValueError, match=r"average must be one of .* got 'samples'"):
        bout_f1_score([0, 1], [0, 1], average="samples")
    for iou in (0, 0.0, 1.5, -0.1, "0.5", True, float("nan")):
        with pytest.raises(ValueError, match=r"iou must be a number in \(0, 1\]"):
            bout_f1_score([0, 1], [0, 1], iou=iou)
    with pytest.raises(ValueError, match="y_true has 2 recordings but y_pred has 1"):
        bout_f1_score([[0, 1], [1, 0]], [[0, 1]])
    with pytest.raises(ValueError, match="Recording 1 has 2 frames in y_true but 3"):
        bout_f1_score([[0, 1], [1, 0]], [[0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match="Recording 0 has 2 frames in y_true but 3"):
        bout_f1_score([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match=r"shape \(1, 1, 2\)"):
        bout_f1_score(np.zeros((1, 1, 2)), np.zeros((1, 1, 2)))
    with pytest.raises(ValueError, match=r"its elements have \[0, 1\] dimensions"):
        bout_f1_score([0, [1, 1]], [0, [1, 1]])
    with pytest.raises(ValueError, match="mix labels of different types"):
        bout_f1_score([0, 1], ["a", "b"], average="macro")
    with pytest.raises(ValueError, match="must not contain the background label 0"):
        bout_f1_score([0, 1], [0, 1], average="macro", labels=[0, 1])
    with pytest.raises(ValueError, match="labels must not repeat a label"):
        bout_f1_score([0, 1], [0, 1], average=None, labels=[1, 1])
    with pytest.raises(ValueError, match="labels must be a non-empty 1-D list"):
        bout_f1_score([0, 1], [0, 1], average="macro", labels=[])
    with pytest.raises(ValueError, match="background must be a single label"):
        bout_f1_score([0, 1], [0, 1], background=[0])


@SETTINGS
@given(st.lists(label_lists, min_size=1, max_size=4), st.sampled_from([0.1, 0.5, 1.0]))
def test_bout_f1_of_y_with_itself_is_one(recordings, iou):
    if not any(find_bouts(r) for r in recordings):
        assert bout_f1_score(recordings, recordings, average="macro", iou=iou) == 0.0
        return
    for average in ("micro", "macro", "weighted"):
        assert bout_f1_score(recordings, recordings, average=average, iou=iou) == 1.0
    f = bout_f1_score(recordings, recordings, average=None, iou=iou)
    np.testing.assert_array_equal(f, 1.0)


@st.composite
def _bout_pairs(draw):
    """Two sorted families of disjoint bouts on [0, 30)."""

    def family():
        cuts = sorted(draw(st.sets(st.integers(0, 30), max_size=10)))
        pairs = list(zip(cuts[::2], cuts[1::2]))
        return (
            np.array([a for a, _ in pairs], dtype=np.int64),
            np.array([b for _, b in pairs], dtype=np.int64),
        )

    return family(), family(), draw(st.sampled_from([0.05, 0.2, 0.34, 0.5, 0.8]))


@SETTINGS
@given(_bout_pairs())
def test_matching_is_maximum(case):
    (ts, te), (ps, pe), iou = case
    got = _count_matches(ts, te, ps, pe, iou)
    if len(ts) == 0 or len(ps) == 0:
        assert got == 0
        return
    inter = np.clip(
        np.minimum(te[:, None], pe[None]) - np.maximum(ts[:, None], ps[None]), 0, None
    )
    union = (te - ts)[:, None] + (pe - ps)[None] - inter
    ok = (inter > 0) & (inter / union >= iou)
    rows, cols = linear_sum_assignment(-ok.astype(float))
    assert got == int(ok[rows, cols].sum())


# -------------------------------------------------------------- the scorer
class _Fixed(ClassifierMixin, BaseEstimator):
    """Predicts the per-frame labels it is given, whatever X is."""

    def __init__(self, predictions=None):
        self.predictions = predictions

    def fit(self, X, y):
        self.classes_ = np.unique(np.asarray(y))
        return self

    def predict(self, X):
        return np.asarray(self.predictions)[: len(X)]


def test_bout_scorers_take_2d_y():
    y = np.array([[0, 1, 1, 0], [1, 1, 0, 0]])
    pred = np.array([[0, 1, 1, 0], [0, 0, 0, 1]])
    est = _Fixed(pred).fit(None, y)
    assert bout_f1_scorer(est, np.zeros((2, 4, 1)), y) == pytest.approx(0.5)
    scorer = make_bout_scorer(iou=0.9, average="macro")
    assert scorer(est, np.zeros((2, 4, 1)), y) == pytest.approx(0.5)


def test_make_bout_scorer_errors():
    with pytest.raises(ValueError, match="for a scorer"):
        make_bout_scorer(average=None)
    with pytest.raises(ValueError, match="for a scorer"):
        make_bout_scorer(average="samples")
    with pytest.raises(ValueError, match=r"iou must be a number in \(0, 1\]"):
        make_bout_scorer(iou=0)
    with pytest.raises(ValueError, match="background must be a single label"):
        make_bout_scorer(background=[0, 1])


# ------------------------------------------------------------ BoutSmoother
class FrameThreshold(ClassifierMixin, BaseEstimator):
    """A cheap per-frame classifier: label 1 where feature 0 exceeds a threshold."""

    def __init__(self, threshold=0.0):
        self.threshold = threshold

    def fit(self, X, y):
        X = np.asarray(X)
        self.classes_ = np.unique(np.asarray(y))
        self.n_features_in_ = X.shape[-1]
        return self

    def predict(self, X):
        if isinstance(X, list):
            return [(np.asarray(x)[:, 0] > self.threshold).astype(int) for x in X]
        return (np.asarray(X)[..., 0] > self.threshold).astype(int)

    def predict_proba(self, X):
        p = 1.0 / (1.0 + np.exp(-(np.asarray(X)[..., 0] - self.threshold)))
        return np.stack([1 - p, p], axis=-1)


def _flickering(n=24, T=120, seed=0):
    """Recordings with bouts of 1 (10 to 25 frames) and one-frame flicker."""
    rng = np.random.default_rng(seed)
    y = np.zeros((n, T), dtype=int)
    for i in range(n):
        t = int(rng.integers(0, 10))
        while t < T:
            length = int(rng.integers(10, 26))
            y[i, t : t + length] = 1
            t += length + int(rng.integers(8, 20))
    flip = rng.random((n, T)) < 0.06
    clean = np.where(y == 1, 1.0, -1.0)
    X = np.where(flip, -clean, clean)[:, :, None] + 0.1 * rng.standard_normal((n, T, 1))
    return X, y


def test_bout_smoother_fit_predict():
    X, y = _flickering()
    raw = FrameThreshold().fit(X, y)
    model = BoutSmoother(FrameThreshold(), min_length=3, max_gap=2).fit(X, y)
    assert model.estimator_ is not model.estimator
    np.testing.assert_array_equal(model.classes_, [0, 1])
    assert model.n_features_in_ == 1
    pred = model.predict(X)
    assert pred.shape == y.shape
    for row, raw_row in zip(pred, raw.predict(X)):
        np.testing.assert_array_equal(
            row, smooth_bouts(raw_row, min_length=3, max_gap=2)
        )
    assert bout_f1_score(y, pred) > 0.9 > bout_f1_score(y, raw.predict(X))
    # probabilities are the inner estimator's
    np.testing.assert_array_equal(model.predict_proba(X), raw.predict_proba(X))
    assert 0.9 < model.score(X, y) <= 1.0


def test_bout_smoother_gridsearch_tunes_the_smoothing():
    X, y = _flickering()
    search = GridSearchCV(
        BoutSmoother(FrameThreshold()),
        {"min_length": [1, 3], "max_gap": [0, 2]},
        scoring=bout_f1_scorer,
        cv=KFold(3),
    ).fit(X, y)
    assert search.best_params_ == {"min_length": 3, "max_gap": 2}
    scores = search.cv_results_["mean_test_score"]
    assert scores.max() > 0.9 and scores.min() < 0.6
    assert bout_f1_score(y, search.predict(X)) > 0.9
    macro = cross_val_score(
        BoutSmoother(FrameThreshold(), min_length=3, max_gap=2),
        X,
        y,
        scoring=make_bout_scorer(average="macro"),
        cv=KFold(2),
    )
    assert (macro > 0.9).all()


def test_bout_smoother_params_and_clone():
    model = BoutSmoother(FrameThreshold(threshold=0.5), min_length=4, max_gap=1)
    params = model.get_params()
    assert params["min_length"] == 4 and params["max_gap"] == 1
    assert params["background"] == 0
    assert params["estimator__threshold"] == 0.5
    copy = clone(model)
    assert copy is not model and copy.estimator is not model.estimator
    assert copy.get_params()["estimator__threshold"] == 0.5
    model.set_params(estimator__threshold=1.0, min_length=2)
    assert model.estimator.threshold == 1.0 and model.min_length == 2
    # __init__ stores only, no validation
    assert BoutSmoother(None, min_length=-3).min_length == -3


def test_bout_smoother_delegates_only_what_exists():
    assert hasattr(BoutSmoother(FrameThreshold()), "predict_proba")
    assert not hasattr(BoutSmoother(FrameThreshold()), "decision_function")
    assert not hasattr(BoutSmoother(_Fixed()), "predict_proba")


def test_bout_smoother_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        BoutSmoother(FrameThreshold()).predict(np.zeros((1, 3, 1)))


def test_bout_smoother_does_not_modify_input():
    X, y = _flickering(n=4, T=40)
    X0, y0 = X.copy(), y.copy()
    model = BoutSmoother(FrameThreshold(), min_length=3, max_gap=2).fit(X, y)
    model.predict(X)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_bout_smoother_padding_and_ragged_input():
    X, y = _flickering(n=3, T=40)
    X = X.copy()
    X[0, 30:] = np.nan  # recording 0 ends at frame 30
    X[0, 29, 0] = 1.0  # a one-frame bout just before the end
    model = BoutSmoother(FrameThreshold(), min_length=2, max_gap=0).fit(X, y)
    pred = model.predict(X)
    assert (pred[0, 30:] == 0).all()
    np.testing.assert_array_equal(
        pred[0, :30],
        smooth_bouts((X[0, :30, 0] > 0).astype(int), min_length=2, max_gap=0),
    )
    # a list of recordings of different lengths gives a list back
    ragged = [X[1, :25], X[2]]
    out = model.predict(ragged)
    assert isinstance(out, list) and [len(o) for o in out] == [25, 40]
    np.testing.assert_array_equal(out[1], pred[2])


def test_bout_smoother_string_labels():
    class Words(FrameThreshold):
        def predict(self, X):
            return np.where(super().predict(X) == 1, "walk", "none")

    X, y = _flickering(n=6, T=60)
    y_words = np.where(y == 1, "walk", "none")
    model = BoutSmoother(Words(), min_length=3, max_gap=2, background="none")
    pred = model.fit(X, y_words).predict(X)
    assert set(np.unique(pred)) <= {"walk", "none"}
    score = bout_f1_score(y_words, pred, pos_label="walk", background="none")
    assert score > 0.9


def test_bout_smoother_errors():
    X, y = _flickering(n=4, T=30)
    for params, match in [
        ({"min_length": 0}, "min_length must be an integer >= 1"),
        ({"max_gap": 1.5}, "max_gap must be an integer >= 0"),
        ({"background": [0]}, "background must be a single label"),
        ({"background": 5}, r"background=5 is not one of the classes \[0, 1\]"),
    ]:
        with pytest.raises(ValueError, match=match):
            BoutSmoother(FrameThreshold(), **params).fit(X, y)

    class PerSequence(FrameThreshold):
        def predict(self, X):
            return super().predict(X)[:, 0]

    model = BoutSmoother(PerSequence()).fit(X, y)
    with pytest.raises(
        ValueError, match=r"needs per-frame predictions .* shape \(4,\)"
    ):
        model.predict(X)
    model = BoutSmoother(FrameThreshold()).fit(X, y)
    with pytest.raises(ValueError, match="sample_weight must have one weight per"):
        model.score(X, y, sample_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="y_true has 3 recordings but y_pred has 4"):
        model.score(X, y[:3])


def test_bout_smoother_score_weights_recordings():
    X, y = _flickering(n=4, T=30)
    model = BoutSmoother(FrameThreshold(), min_length=3, max_gap=2).fit(X, y)
    pred = model.predict(X)
    per_recording = (pred == y).mean(axis=1)
    w = np.array([1.0, 0.0, 2.0, 1.0])
    assert model.score(X, y, sample_weight=w) == pytest.approx(
        (per_recording * w).sum() / w.sum()
    )


def test_bout_smoother_without_classes_uses_y():
    class NoClasses(BaseEstimator):
        def fit(self, X, y):
            return self

        def predict(self, X):
            return (np.asarray(X)[..., 0] > 0).astype(int)

    X, y = _flickering(n=4, T=30)
    model = BoutSmoother(NoClasses(), min_length=2).fit(X, y)
    np.testing.assert_array_equal(model.classes_, [0, 1])
    assert not hasattr(model, "n_features_in_")


@pytest.mark.slow
def test_bout_smoother_around_program_synthesis():
    from sklearn_dpads import ProgramSynthesisClassifier
    from sklearn_dpads.datasets import make_planted_sequences

    data = make_planted_sequences(
        n_samples=60, n_timesteps=16, n_features=4, label_type="frame", random_state=0
    )
    inner = ProgramSynthesisClassifier(
        max_depth=2,
        search_epochs=1,
        prune_epochs=1,
        selection_epochs=1,
        program_epochs=2,
        finetune_epochs=3,
        random_state=0,
    )
    model = BoutSmoother(inner, min_length=2, max_gap=1).fit(data.X, data.y)
    pred = model.predict(data.X)
    assert pred.shape == np.shape(data.y)
    raw = model.estimator_.predict(data.X)
    for row, raw_row in zip(pred, raw):
        np.testing.assert_array_equal(
            row, smooth_bouts(raw_row, min_length=2, max_gap=1)
        )
