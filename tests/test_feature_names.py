"""Feature names from pandas DataFrames: ``feature_names_in_`` and the program's names.

As in scikit-learn, the string column names of a 2-D DataFrame, or here of
a list of ``(T_i, n_features)`` DataFrames (sequences), are
``feature_names_in_``; predict warns or raises when they differ. Unless
``feature_names`` or ``dsl`` is set, they also name the program's features.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from sklearn_dpads import ProgramSynthesisClassifier, SequenceStandardScaler
from sklearn_dpads.export import export_program
from sklearn_dpads.utils.validation import check_X

pd = pytest.importorskip("pandas")

COLS = ["speed", "angle", "dist"]
FAST = dict(
    max_depth=2,
    search_epochs=1,
    prune_epochs=1,
    selection_epochs=1,
    program_epochs=2,
    finetune_epochs=5,
    max_selection_steps=2,
    grow_steps=0,
    random_state=0,
)


def _data(n=60, t=8):
    rng = np.random.RandomState(0)
    X = rng.randn(n, t, 3).astype(np.float32)
    y = (X[:, -5:, 0].mean(axis=1) > 0).astype(int)
    return X, y


def _frames(X, columns=COLS):
    return [pd.DataFrame(x, columns=columns) for x in X]


@pytest.fixture(scope="module")
def fitted_on_frames():
    X, y = _data()
    return ProgramSynthesisClassifier(**FAST).fit(_frames(X), y), X, y


def test_list_of_dataframes_names_the_program(fitted_on_frames):
    clf, X, _ = fitted_on_frames
    names = clf.feature_names_in_
    assert isinstance(names, np.ndarray) and names.dtype == object
    assert names.tolist() == COLS and clf.n_features_in_ == 3
    assert clf.feature_names is None  # the parameter is left as it was set
    assert clf.dsl_.feature_names == COLS
    assert "affine_speed" in clf.dsl_ and "affine_x0" not in clf.dsl_
    source = clf.export_program().source
    assert "#   0: 'speed'" in source and "#   2: 'dist'" in source
    # the same columns predict as the arrays
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        from_arrays = clf.predict(X)
    np.testing.assert_array_equal(clf.predict(_frames(X)), from_arrays)


def test_names_are_checked_at_predict(fitted_on_frames):
    clf, X, y = fitted_on_frames
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        clf.predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.predict(_frames(X[:3]))
        clf.predict_proba([f.iloc[:4] for f in _frames(X[:3])])  # ragged
    renamed = _frames(X[:3], ["speed", "angle", "d"])
    with pytest.raises(ValueError, match="(?s)should match.*unseen at fit time:\n- d"):
        clf.predict(renamed)
    reordered = [f[["angle", "speed", "dist"]] for f in _frames(X[:3])]
    with pytest.raises(ValueError, match="must be in the same order"):
        clf.predict_proba(reordered)
    with pytest.raises(ValueError, match="should match"):
        clf.score(renamed, y[:3])


def test_fitted_without_names_warns_on_dataframes():
    X, y = _data(n=40)
    clf = ProgramSynthesisClassifier(**FAST).fit(X, y)
    assert not hasattr(clf, "feature_names_in_")
    assert clf.dsl_.feature_names is None
    with pytest.warns(UserWarning, match="X has feature names, but Program"):
        clf.predict(_frames(X[:2]))
    # a refit on arrays forgets the names of an earlier fit on DataFrames
    clf.fit(_frames(X), y)
    assert clf.dsl_.feature_names == COLS
    clf.fit(X, y)
    assert not hasattr(clf, "feature_names_in_")
    assert clf.dsl_.feature_names is None


def test_explicit_feature_names_win_over_the_columns():
    X, y = _data(n=40)
    clf = ProgramSynthesisClassifier(feature_names=["v", "a", "d"], **FAST)
    clf.fit(_frames(X), y)
    assert clf.dsl_.feature_names == ["v", "a", "d"]
    assert clf.feature_names_in_.tolist() == COLS  # what predict checks
    with pytest.raises(ValueError, match="should match"):
        clf.predict(_frames(X[:2], ["v", "a", "d"]))


def test_tabular_dataframe_names_the_program():
    X, y = _data(n=40)
    df = pd.DataFrame(X[:, -1], columns=COLS)
    clf = ProgramSynthesisClassifier(**FAST).fit(df, y[:40])
    assert clf.feature_names_in_.tolist() == COLS
    assert clf.dsl_.feature_names == COLS and "affine_dist" in clf.dsl_
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        clf.predict(X[:5, -1])


def test_pipeline_export_names_the_columns():
    # a scaler fitted on a DataFrame passes arrays on: the export takes the
    # names of the pipeline's input
    X, y = _data(n=40)
    df = pd.DataFrame(X[:, -1], columns=COLS)
    pipe = make_pipeline(SequenceStandardScaler(), ProgramSynthesisClassifier(**FAST))
    pipe.fit(df, y)
    assert not hasattr(pipe[-1], "feature_names_in_")
    assert "#   1: 'angle'" in export_program(pipe).source


def test_sequences_must_agree_on_their_names():
    X, _ = _data(n=3)
    est = ProgramSynthesisClassifier()
    frames = _frames(X)
    frames[1] = frames[1].rename(columns={"dist": "d"})
    with pytest.raises(ValueError, match=r"Sequence 1 of X has the feature names \["):
        check_X(est, frames, reset=True)
    mixed = [frames[0], X[1]]  # a DataFrame and an array
    with pytest.raises(ValueError, match="Sequence 1 of X has no feature names, but"):
        check_X(est, mixed, reset=True)
    ragged = [frames[0], frames[1].iloc[:3]]
    with pytest.raises(ValueError, match="all sequences must have the same feature"):
        check_X(est, ragged, reset=True)
    assert not hasattr(est, "feature_names_in_")


def test_only_string_column_names_are_names():
    X, _ = _data(n=3)
    est = ProgramSynthesisClassifier()
    check_X(est, [pd.DataFrame(x) for x in X], reset=True)  # integer columns
    assert not hasattr(est, "feature_names_in_")
    with pytest.raises(TypeError, match="only supported if all input features"):
        check_X(est, _frames(X, ["a", 1, "c"]), reset=True)
