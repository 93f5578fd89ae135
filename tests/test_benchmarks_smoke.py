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


def _load_script(name: str):
    sys.path.insert(0, str(BENCH_DIR))  # the scripts import their _util
    try:
        spec = importlib.util.spec_from_file_location(
            f"dpads_bench_{name}", BENCH_DIR / f"{name}.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH_DIR))
    return module


def test_scaling_loglog_slope():
    scaling = _load_script("scaling")
    sizes = [10, 100, 1000]
    assert scaling.loglog_slope(sizes, [2 * s for s in sizes]) == pytest.approx(1.0)
    assert scaling.loglog_slope(sizes, [5.0, 5.0, 5.0]) == pytest.approx(0.0)
    assert scaling.loglog_slope(sizes, [s**2 for s in sizes]) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="at least two points"):
        scaling.loglog_slope([10], [1.0])


@pytest.mark.slow
def test_scaling_quick(tmp_path):
    out = tmp_path / "scaling.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH_DIR / "scaling.py"),
            "--quick",
            "--sweep",
            "length",
            "--sizes",
            "13",
            "26",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "slope of log(fit time) on log(n_timesteps)" in proc.stdout
    rows = json.loads(out.read_text())["results"]["length"]["rows"]
    assert [r["n_timesteps"] for r in rows] == [13, 26]
    assert all(r["fit_s"] > 0 and r["peak_rss_mb"] > 0 for r in rows)


def test_regret_enumerates_every_program_of_the_family():
    from sklearn_dpads.grammar.types import parse_type
    from sklearn_dpads.library import default_dsl

    regret = _load_script("regret")
    dsl = default_dsl(2, kernel_windows=(4,))
    hole = parse_type("list[2] -> atom[1]")
    allowed = {"kernel4_avg", "ite", "affine_x0", "affine_x1"}
    progs = regret.enumerate_programs(dsl, hole, 3, allowed)
    # depth 2: kernel4_avg(leaf); depth 3: kernel4_avg(ite(l, l, l)) and
    # ite(kernel4_avg(l), kernel4_avg(l), kernel4_avg(l))
    assert len(progs) == 2 + 2**3 + 2**3
    assert len({str(p) for p in progs}) == len(progs)
    assert all(p.depth <= 3 for p in progs)
