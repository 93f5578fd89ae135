"""A fit with temporal filters and frame differences in the grammar, then its export."""

import time

import numpy as np
import pytest

from sklearn_dpads import ProgramSynthesisClassifier, default_dsl
from sklearn_dpads.export import load_python_program

TINY = dict(
    max_depth=3,
    search_epochs=1,
    prune_epochs=1,
    selection_epochs=1,
    program_epochs=2,
    finetune_epochs=3,
    max_selection_steps=2,
    random_state=0,
)


@pytest.mark.parametrize("label_type", ["sequence", "frame"])
def test_fit_and_export_with_filters_and_difference(label_type):
    rng = np.random.RandomState(0)
    X = rng.randn(48, 9, 2).astype(np.float32)
    X[:, :, 1] = np.cumsum(X[:, :, 1], axis=1)  # a drifting signal
    if label_type == "sequence":
        y = (X[:, -1, 1] - X[:, -2, 1] > 0).astype(int)  # its last movement
    else:
        y = (np.diff(X[:, :, 1], axis=1, prepend=X[:, :1, 1]) > 0).astype(int)
    dsl = default_dsl(2, {"p": [0], "v": [1]}, filters=(5,), difference=True)
    start = time.perf_counter()
    clf = ProgramSynthesisClassifier(dsl=dsl, **TINY).fit(X, y)
    assert clf.dsl_ is dsl
    assert clf.program_.depth <= 3
    exported = clf.export_program()
    assert exported.text == str(clf) == clf.program_.pretty(dsl)
    module = load_python_program(exported.source)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(module.predict_proba(X.tolist()), proba, atol=1e-6)
    assert np.asarray(module.predict(X.tolist())).tolist() == clf.predict(X).tolist()
    assert time.perf_counter() - start < 10


def test_filters_and_difference_can_be_searched_and_exported():
    """A search space where every sequence-level choice is a filter or a diff."""
    from sklearn_dpads.grammar import DSLBuilder
    from sklearn_dpads.kinds import (
        add_production,
        difference_production,
        filter_production,
    )

    dsl = (
        DSLBuilder(2)
        .add(difference_production())
        .add(add_production())
        .add(filter_production("filter3_v", 3, [1], "v"))
        .add(filter_production("filter3", 3))
        .build()
    )
    rng = np.random.RandomState(1)
    X = rng.randn(40, 7, 2).astype(np.float32)
    y = (X[:, -1, 1] - X[:, -2, 1] > 0).astype(int)
    clf = ProgramSynthesisClassifier(dsl=dsl, **dict(TINY, max_depth=2)).fit(X, y)
    symbols = set(clf.program_.symbols())
    assert symbols <= {"diff", "filter3_v", "filter3"}
    assert symbols & {"filter3_v", "filter3"}
    module = load_python_program(clf.export_program().source)
    np.testing.assert_allclose(
        module.decision_function(X.tolist()), clf.decision_function(X), atol=1e-5
    )
