"""A fit either succeeds or leaves the estimator exactly as it was; budgets hold."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import sklearn_dpads._fit_run as fit_run_module
from sklearn_dpads import ProgramSynthesisClassifier
from sklearn_dpads.exceptions import SearchTimeoutWarning
from sklearn_dpads.training import callbacks


def _fitted_state(clf):
    return {k: v for k, v in vars(clf).items() if k.endswith("_")}


def test_failed_refit_keeps_the_old_model(seq_data, fast_params):
    X, y = seq_data
    clf = ProgramSynthesisClassifier(**fast_params).fit(X, y)
    before = pickle.dumps(clf)
    proba = clf.predict_proba(X)
    X_new = np.random.RandomState(1).randn(30, 5)  # tabular, 5 features
    with pytest.raises(ValueError, match="only one class"):
        clf.fit(X_new, np.zeros(30, dtype=int))
    assert pickle.dumps(clf) == before
    assert clf.n_features_in_ == 3 and clf.input_ndim_ == 3
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_failed_first_fit_leaves_the_estimator_unfitted(seq_data, fast_params):
    X, _ = seq_data
    clf = ProgramSynthesisClassifier(**fast_params)
    with pytest.raises(ValueError, match="only one class"):
        clf.fit(X, np.ones(len(X), dtype=int))
    assert _fitted_state(clf) == {}
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_fit_interrupted_in_the_search_changes_nothing(
    seq_data, fast_params, monkeypatch
):
    X, y = seq_data
    clf = ProgramSynthesisClassifier(**fast_params).fit(X, y)
    before = pickle.dumps(clf)

    def boom(*args, **kwargs):
        raise RuntimeError("search failed")

    monkeypatch.setattr(fit_run_module, "run_search", boom)
    with pytest.raises(RuntimeError, match="search failed"):
        clf.fit(X[:, :, :2], y)  # new data with other dimensions
    assert pickle.dumps(clf) == before


def test_max_time_covers_the_first_stage_and_the_fine_tune():
    # before the fit path was restructured, max_time=1 on this data returned
    # after about 20 s: the budget was only read between stages
    rng = np.random.RandomState(0)
    X = rng.randn(600, 100, 6).astype(np.float32)
    y = (X[:, -10:, 0].mean(axis=1) > 0).astype(int)
    clf = ProgramSynthesisClassifier(max_time=1.0, random_state=0)
    with pytest.warns(SearchTimeoutWarning, match="max_time=1.0"):
        clf.fit(X, y)
    assert clf.fit_time_ < 1.1 * 1.0 + 8.0  # 10% plus a fixed overhead
    assert clf.predict(X).shape == y.shape


def test_class_weight_dict_reaches_selection(seq_data, fast_params, monkeypatch):
    # regression: a class_weight dict travelled four layers and was dropped
    # before the validation scores; every scoring call got None
    seen = []
    original = callbacks.f1_from_logits

    def spy(logits, y, n_classes, tune_threshold=False, class_weight=None):
        seen.append(None if class_weight is None else list(class_weight))
        return original(logits, y, n_classes, tune_threshold, class_weight)

    monkeypatch.setattr(callbacks, "f1_from_logits", spy)
    X, y = seq_data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ProgramSynthesisClassifier(class_weight={0: 1, 1: 5}, **fast_params).fit(X, y)
    assert seen and all(w == [1.0, 5.0] for w in seen)
