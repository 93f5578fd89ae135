"""Tests for sklearn_dpads._fit_plan: the default grammar a fit searches."""

from __future__ import annotations

import numpy as np

from sklearn_dpads import ProgramSynthesisClassifier
from sklearn_dpads._fit_plan import MAX_KERNEL, long_clips, make_dsl, make_plan
from sklearn_dpads.kinds import window_production
from sklearn_dpads.library import default_dsl
from sklearn_dpads.utils.validation import check_X_y


def _names(dsl) -> set[str]:
    return {p.name for p in dsl.productions}


def test_sequence_labels_get_a_whole_sequence_mean_and_frame_differences():
    est = ProgramSynthesisClassifier()
    names = _names(make_dsl(est, 3, 50, label_type="sequence"))
    assert {"last50_avg", "diff", "kernel16_avg"} <= names
    dsl = make_dsl(est, 3, 50, label_type="sequence")
    assert dsl["last50_avg"].params["left"] == 49


def test_frame_labels_and_short_sequences_keep_the_plain_grammar():
    est = ProgramSynthesisClassifier()
    frame = _names(make_dsl(est, 3, 50, label_type="frame"))
    assert "diff" not in frame and "last50_avg" not in frame
    # a kernel window covers the whole of a short sequence
    short = _names(make_dsl(est, 3, MAX_KERNEL, label_type="sequence"))
    assert "diff" not in short and f"kernel{MAX_KERNEL}_avg" in short
    windows = {n for n in short if n.startswith("last")}
    assert windows == {"last3_avg", "last5_avg", "last6_avg", "last10_avg"}


def test_a_user_production_of_the_same_name_replaces_the_whole_mean():
    mine = window_production("last50_avg", 9)
    est = ProgramSynthesisClassifier(extra_productions=[mine])
    dsl = make_dsl(est, 3, 50, label_type="sequence")
    assert dsl["last50_avg"].params["left"] == 9
    assert "diff" in _names(dsl)


def test_long_per_sequence_clips_summarise_and_reshape():
    assert long_clips("sequence", MAX_KERNEL + 1)
    assert not long_clips("sequence", MAX_KERNEL)
    assert not long_clips("frame", 100)
    rng = np.random.default_rng(0)
    for T, label_type, want in (
        (30, "sequence", True),
        (12, "sequence", False),
        (30, "frame", False),
    ):
        X = rng.normal(size=(20, T, 2))
        y = (
            np.arange(20) % 2
            if label_type == "sequence"
            else np.tile(np.arange(T) % 2, (20, 1))
        )
        est = ProgramSynthesisClassifier()
        x, lengths, labels = check_X_y(est, X, y, reset=True)
        classes, y_enc = labels.encode()
        plan = make_plan(est, x, lengths, classes, y_enc, labels.label_type, "cpu")
        assert plan.reshape is want
        assert (f"last{T}_avg" in {p.name for p in plan.dsl.productions}) is want


def test_the_default_grammar_searches_quadratic_leaves_for_per_frame_labels():
    rng = np.random.default_rng(0)
    groups = {"v": [0, 1], "d": [2]}
    est = ProgramSynthesisClassifier(feature_groups=groups)
    # per-frame labels: one quadratic leaf per group of two or more features,
    # searched
    X, y = rng.normal(size=(20, 40, 3)), rng.integers(0, 2, size=(20, 40))
    x, lengths, labels = check_X_y(est, X, y, reset=True)
    classes, y_enc = labels.encode()
    plan = make_plan(est, x, lengths, classes, y_enc, labels.label_type, "cpu")
    names = _names(plan.dsl)
    assert "quadratic_v" in names and "quadratic_d" not in names
    assert plan.search_dsl is plan.dsl
    # per-sequence labels, of short windows and of long clips: none
    for T in (12, 40):
        X, y = rng.normal(size=(20, T, 3)), np.arange(20) % 2
        x, lengths, labels = check_X_y(est, X, y, reset=True)
        classes, y_enc = labels.encode()
        plan = make_plan(est, x, lengths, classes, y_enc, labels.label_type, "cpu")
        assert plan.reshape is (T == 40)
        assert not any(n.startswith("quadratic") for n in _names(plan.dsl))
    # a user grammar is used as given
    own = ProgramSynthesisClassifier(dsl=default_dsl(3, groups))
    plan = make_plan(own, x, lengths, classes, y_enc, labels.label_type, "cpu")
    assert not any(n.startswith("quadratic") for n in _names(plan.dsl))
