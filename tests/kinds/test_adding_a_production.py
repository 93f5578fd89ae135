"""The worked example of ``docs/adding_a_production.rst`` is searched, fitted and exported.

(``tests/kinds/test_conformance.py`` checks its meaning everywhere; this test
checks that a new kind from a file of its own works in a fit, untouched.)
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

from sklearn_dpads import ProgramSynthesisClassifier

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "_examples" / "window_max.py"


def load_window_max():
    """The worked example of ``docs/adding_a_production.rst``, as ``window_max``.

    Registered in ``sys.modules`` so that pickles find its kind by name.
    """
    if "window_max" not in sys.modules:
        spec = importlib.util.spec_from_file_location("window_max", EXAMPLE)
        sys.modules["window_max"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules["window_max"])
    return sys.modules["window_max"]


window_max = load_window_max()


def test_the_example_kind_is_found_by_the_search_and_exported():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 12, 2))
    y = (X[:, -4:, 0].max(axis=1) > 1.2).astype(int)  # a planted 4-frame maximum
    last4_max = window_max.window_max_production("last4_max", 3)
    clf = ProgramSynthesisClassifier(
        extra_productions=[last4_max], max_depth=2, random_state=0
    )
    clf.fit(X, y)
    assert "last4_max" in str(clf.program_.render())
    assert clf.score(X, y) > 0.95
    exported = clf.export_program()
    namespace: dict = {}
    exec(exported.source, namespace)
    np.testing.assert_array_equal(namespace["predict"](X.tolist()), clf.predict(X))
