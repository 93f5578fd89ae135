"""Tests for sklearn_dpads.inspection (no matplotlib needed; tiny fitted models)."""

import copy
import subprocess
import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sklearn_dpads import ProgramSynthesisClassifier, SequenceStandardScaler
from sklearn_dpads.datasets import make_planted_sequences
from sklearn_dpads.grammar.types import FunctionType, Seq
from sklearn_dpads.inspection import (
    _search_points,
    feature_group_importance,
    unwrap_fitted,
)
from sklearn_dpads.library import default_dsl
from sklearn_dpads.program import Program
from sklearn_dpads.semantics import compile_program

TINY = dict(
    max_depth=2,
    search_epochs=1,
    prune_epochs=1,
    selection_epochs=1,
    program_epochs=2,
    finetune_epochs=3,
    random_state=0,
)


@pytest.fixture(scope="module")
def data():
    return make_planted_sequences(
        n_samples=60, n_timesteps=8, n_features=4, label_type="frame", random_state=0
    )


@pytest.fixture(scope="module")
def fitted(data):
    clf = ProgramSynthesisClassifier(
        feature_groups=data.feature_groups, feature_names=data.feature_names, **TINY
    )
    return clf.fit(data.X, data.y)


def _with_program(clf, text):
    """A copy of ``clf`` whose program is ``text`` (freshly initialised weights)."""
    clf = copy.deepcopy(clf)
    clf.program_ = Program.parse(text)
    hole = FunctionType(Seq(clf.n_features_in_), Seq(1))
    clf.module_ = compile_program(clf.program_, clf.dsl_, hole).double()
    return clf


def _expected_importance(clf, frames):
    """The documented formula, written out with the scaling done by hand."""
    z = np.clip((frames - clf.center_) / clf.scale_, -clf.clip, clf.clip)
    out = {}
    for path, sub in clf.program_.walk():
        prod = clf.dsl_[sub.symbol]
        if prod.kind != "affine":
            continue
        w = np.array(clf.module_.leaf(path).weight)
        idx = prod.params["indices"] or range(clf.n_features_in_)
        for k, j in enumerate(idx):
            g = prod.params["group"] or next(
                (name for name, idx in clf.feature_groups.items() if j in idx),
                clf.feature_names[j],
            )
            out[g] = out.get(g, 0.0) + np.mean(np.abs(w[0, k] * z[:, j]))
    return out


# ------------------------------------------------------- feature_group_importance
def test_feature_group_importance_values(fitted, data):
    imp = feature_group_importance(fitted, data.X)
    frames = data.X.reshape(-1, data.X.shape[-1]).astype(np.float64)
    expected = _expected_importance(fitted, frames)
    assert imp.keys() == expected.keys()
    for g in imp:
        assert imp[g] == pytest.approx(expected[g])
    assert list(imp.values()) == sorted(imp.values(), reverse=True)
    # ragged input (a list of sequences) gives the same numbers
    ragged = feature_group_importance(fitted, list(data.X))
    assert ragged == pytest.approx(imp)


def test_importance_uses_only_real_frames(fitted, data):
    # frames of NaN padding at the end of a sequence are not averaged over
    X = data.X.astype(np.float64).copy()
    X[0, -3:] = np.nan
    frames = np.concatenate([X[0, :-3], X[1:].reshape(-1, X.shape[-1])])
    imp = feature_group_importance(fitted, X)
    assert imp == pytest.approx(_expected_importance(fitted, frames))


def test_importance_full_affine_is_split_into_groups(fitted, data):
    # a program over all features reports the DSL's groups, not raw features
    clf = _with_program(fitted, "(map (affine))")
    assert set(feature_group_importance(clf, data.X)) == set(data.feature_groups)
    # groups used by several leaves add up
    clf = _with_program(fitted, "(map (add (affine_a) (affine)))")
    imp = feature_group_importance(clf, data.X)
    frames = data.X.reshape(-1, data.X.shape[-1]).astype(np.float64)
    assert imp == pytest.approx(_expected_importance(clf, frames))


def test_importance_no_affine_leaf(fitted, data):
    assert (
        feature_group_importance(_with_program(fitted, "(map (const))"), data.X) == {}
    )


def test_importance_pipeline_search_and_tabular(fitted, data):
    scaler = SequenceStandardScaler().fit(data.X)
    pipe = Pipeline([("scale", scaler), ("clf", fitted)])
    got = feature_group_importance(pipe, data.X)
    assert got == pytest.approx(
        feature_group_importance(fitted, scaler.transform(data.X))
    )
    grid = GridSearchCV(fitted, {"penalty": [0.01]})
    grid.best_estimator_ = fitted  # as after fit with refit=True
    assert feature_group_importance(grid, data.X) == feature_group_importance(
        fitted, data.X
    )

    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    clf = ProgramSynthesisClassifier(**TINY).fit(X, (X[:, 0] > 0).astype(int))
    imp = feature_group_importance(clf, X)
    assert set(imp) <= {"x0", "x1", "x2"} and imp


def test_importance_errors(fitted, data):
    with pytest.raises(NotFittedError, match="not fitted"):
        feature_group_importance(ProgramSynthesisClassifier(), data.X)
    with pytest.raises(TypeError, match="expects a fitted ProgramSynthesisClassifier"):
        feature_group_importance(LogisticRegression(), data.X)
    with pytest.raises(ValueError, match="features"):
        feature_group_importance(fitted, data.X[:, :, :3])
    with pytest.raises(ValueError, match="tabular|2D"):
        feature_group_importance(fitted, data.X[:, 0, :])
    broken = copy.deepcopy(fitted)
    broken.module_ = None
    with pytest.raises(TypeError, match="does not expose"):
        feature_group_importance(broken, data.X)


def test_plotting_reexports_the_same_function():
    pytest.importorskip("matplotlib")
    from sklearn_dpads import plotting

    assert plotting.feature_group_importance is feature_group_importance


def test_inspection_does_not_import_matplotlib():
    code = (
        "import sys, sklearn_dpads.inspection; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- unwrap_fitted
def test_unwrap_fitted(fitted, data):
    assert unwrap_fitted(fitted, "f") == (fitted, None)
    scaler = SequenceStandardScaler().fit(data.X)
    est, pre = unwrap_fitted(Pipeline([("s", scaler), ("c", fitted)]), "f")
    assert est is fitted and pre.steps[0][1] is scaler
    assert unwrap_fitted(Pipeline([("c", fitted)]), "f") == (fitted, None)
    grid = GridSearchCV(fitted, {"penalty": [0.01]})
    with pytest.raises(NotFittedError, match="f needs a fitted search object"):
        unwrap_fitted(grid, "f")
    grid.best_estimator_ = fitted
    assert unwrap_fitted(grid, "f") == (fitted, None)
    with pytest.raises(NotFittedError, match="before my_plot"):
        unwrap_fitted(ProgramSynthesisClassifier(), "my_plot")
    with pytest.raises(TypeError, match="my_plot expects a fitted"):
        unwrap_fitted(LogisticRegression(), "my_plot")


# ------------------------------------------------------------- search history rows
def _row(phase, score, cost, program=None, **extra):
    row = {"phase": phase, "program": program, "complete": program is not None}
    return {**row, "score": score, "cost": cost, **extra}


def test_search_points_rows_and_chosen():
    a, b = Program.parse("(map (affine))"), Program.parse("(map (const))")
    history = [
        {"phase": "unfold", "score": 0.5},
        _row("greedy", 0.6, 2.0, a, objective=0.42),
        _row("select", 0.7, 5.0, objective=0.35),
        _row("select", 0.8, 4.0, b, objective=0.24),
        _row("select", float("nan"), 4.0, b, objective=0.24),
        _row("refine", 0.9, 4.0, b, objective=0.14),
    ]
    rows, complete, partial, chosen, penalty = _search_points(history)
    # the scored candidates of every phase (refinement and local search too)
    assert rows == history[1:4] + history[5:]
    assert complete == [history[1], history[3], history[5]]
    assert partial == [history[2]]
    assert chosen is history[5]  # lowest objective among complete rows
    assert penalty == pytest.approx(0.01)  # inferred: (0.14 - 0.1) / 4
    assert _search_points(history, program=a)[3] is history[1]
    # a program scored twice: its last row (the local search comes last)
    assert _search_points(history, program=b)[3] is history[5]
    assert _search_points(history, program=a, penalty=0.5)[4] == 0.5
    assert _search_points([])[3:] == (None, None)
    with pytest.raises(TypeError, match="list of dicts"):
        _search_points([1])


def test_search_points_prefer_the_recorded_penalty():
    prog = Program.parse("(map (affine))")
    history = [_row("select", 0.8, 4.0, prog, objective=0.24, penalty=0.05)]
    assert _search_points(history)[4] == 0.05
    assert _search_points(history, penalty=0.3)[4] == 0.05
    # no recorded penalty and nothing to infer it from: the caller's default
    no_objective = [_row("select", 0.8, 4.0, prog)]
    assert _search_points(no_objective, penalty=0.3)[4] == 0.3
    assert _search_points(no_objective)[4] is None


def test_search_points_find_a_canonicalised_winner():
    # the fit folds add(affine, const) of the search's winner into one affine
    # leaf: the star goes on the row whose canonical form is the program
    dsl = default_dsl(3)
    raw = Program.parse("(map (add (affine) (const)))")
    folded = Program.parse("(map (affine))")
    history = [_row("select", 0.8, 4.0, raw, objective=0.24, penalty=0.01)]
    assert _search_points(history, program=folded)[3] is None
    assert _search_points(history, program=folded, dsl=dsl)[3] is history[0]
