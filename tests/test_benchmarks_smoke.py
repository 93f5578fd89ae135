"""Tests of benchmarks/baselines.py and a smoke run of benchmarks/run_benchmarks.py."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH_DIR = Path(__file__).resolve().parents[1] / "benchmarks"


def _load_baselines():
    spec = importlib.util.spec_from_file_location(
        "dpads_bench_baselines", BENCH_DIR / "baselines.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def baselines():
    return _load_baselines()


def test_frame_features_causal_context(baselines):
    X = np.arange(2 * 7 * 3, dtype=np.float32).reshape(2, 7, 3)
    rows = baselines.frame_features(X, context=5)
    assert rows.shape == (14, 6)
    np.testing.assert_array_equal(rows[:, :3], X.reshape(14, 3))
    prev = rows[:, 3:].reshape(2, 7, 3)
    np.testing.assert_array_equal(prev[:, 0], X[:, 0])  # no history: itself
    np.testing.assert_allclose(prev[:, 1], X[:, 0])
    np.testing.assert_allclose(prev[:, 6], X[:, 1:6].mean(axis=1))
    assert baselines.frame_features(X, context=0).shape == (14, 3)


@pytest.mark.parametrize("per_frame", [False, True])
def test_lstm_and_tabular_shapes(baselines, per_frame):
    rng = np.random.RandomState(0)
    X = rng.randn(24, 5, 3).astype(np.float32)
    y = (X[..., 0] > 0).astype(int) if per_frame else (X[:, -1, 0] > 0).astype(int)
    y = np.where(y == 1, 7, 3)  # arbitrary labels
    for name in ("lstm", "logreg", "rf", "hgb"):
        clf = baselines.make_baseline(
            name, random_state=0, lstm_epochs=2, n_trees=5, hgb_max_iter=5
        ).fit(X, y)
        pred = clf.predict(X)
        assert pred.shape == y.shape, name
        assert set(np.unique(pred)) <= {3, 7}, name
        proba = clf.predict_proba(X)
        assert proba.shape == y.shape + (2,), name
        np.testing.assert_allclose(proba.sum(axis=-1), 1.0, rtol=1e-5)


@pytest.mark.slow
def test_run_benchmarks_quick(tmp_path):
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH_DIR / "run_benchmarks.py"),
            "--quick",
            "--datasets",
            "planted-sequence",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "### Summary" in proc.stdout
    payload = json.loads(out.read_text())
    results = payload["results"]
    assert {r["model"] for r in results} == {"ours", "lstm", "logreg", "rf", "hgb"}
    assert not any("error" in r for r in results)
    ours = next(r for r in results if r["model"] == "ours")
    assert ours["program_size"] >= 1 and ours["program"]
    assert "planted_found" in ours
    for r in results:
        assert 0.0 <= r["f1"] <= 1.0 and 0.0 <= r["accuracy"] <= 1.0
    assert len(payload["summary"]) == 1
