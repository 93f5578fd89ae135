"""Golden fits: the program and ``predict_proba`` of three small, fixed
configurations (per-sequence, per-frame, tabular) recorded before the fit path
was restructured.  A refactoring must keep them identical; a change that is
meant to alter what ``fit`` learns regenerates them on purpose with
``python tests/test_golden.py`` and says so in its commit.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from sklearn_dpads import ProgramSynthesisClassifier

GOLDEN = pathlib.Path(__file__).parent / "data" / "golden_fits.json"

COMMON = dict(
    max_depth=3,
    search_epochs=2,
    prune_epochs=1,
    selection_epochs=1,
    program_epochs=3,
    finetune_epochs=6,
    max_selection_steps=3,
    random_state=0,
)


def _case(name: str):
    rng = np.random.RandomState(42)
    if name == "sequence":
        X = rng.randn(90, 9, 4)
        y = (X[:, -4:, 0].mean(axis=1) + 0.5 * X[:, :, 2].max(axis=1) > 0.6).astype(int)
        params = dict(feature_groups={"a": [0, 1], "b": [2], "c": [3]})
    elif name == "frame":
        X = rng.randn(50, 12, 3)
        y = ((X[:, :, 1] > 0.1) & (X[:, :, 0] < 0.8)).astype(int)
        params = dict(threshold=0.4)
    elif name == "tabular":
        X = rng.randn(120, 5)
        score = X[:, 0] - X[:, 3]
        y = np.array(["low", "mid", "high"])[np.digitize(score, [-0.6, 0.6])]
        params = dict(max_depth=2, class_weight=None)
    else:  # pragma: no cover
        raise KeyError(name)
    return X, y, {**COMMON, **params}


def _fit(name: str):
    X, y, params = _case(name)
    clf = ProgramSynthesisClassifier(**params).fit(X, y)
    return str(clf.program_), clf.predict_proba(X)


@pytest.mark.parametrize("name", ["sequence", "frame", "tabular"])
def test_golden_fit(name):
    expected = json.loads(GOLDEN.read_text())[name]
    program, proba = _fit(name)
    assert program == expected["program"]
    # float reassociation in the engine (batched matmuls) moves probabilities by
    # ~1e-8; any change of program or training moves them far more
    np.testing.assert_allclose(proba, np.array(expected["proba"]), rtol=0, atol=1e-6)


if __name__ == "__main__":
    out = {}
    for case in ["sequence", "frame", "tabular"]:
        prog, p = _fit(case)
        out[case] = {"program": prog, "proba": p.tolist()}
        print(case, prog)
    GOLDEN.write_text(json.dumps(out))
