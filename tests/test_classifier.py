import pickle
import re

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from sklearn_dpads import ProgramSynthesisClassifier, SequenceStandardScaler
from sklearn_dpads.exceptions import SearchTimeoutWarning
from sklearn_dpads.export import load_python_program
from sklearn_dpads.library import default_dsl
from sklearn_dpads.metrics import frame_f1_score
from sklearn_dpads.program import Program


def test_sequence_mode(seq_data, fast_params):
    X, y = seq_data
    clf = ProgramSynthesisClassifier(**fast_params).fit(X, y)
    assert clf.label_type_ == "sequence"
    assert clf.predict(X).shape == (80,)
    proba = clf.predict_proba(X)
    assert proba.shape == (80, 2)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert clf.score(X, y) > 0.8
    assert isinstance(clf.program_, Program)
    assert clf.program_.depth <= 2
    assert str(clf) == clf.program_.pretty(clf.dsl_)
    assert clf.search_history_ and {"phase", "score"} <= set(clf.search_history_[-1])


def test_frame_mode(frame_data, fast_params):
    X, y = frame_data
    clf = ProgramSynthesisClassifier(**fast_params).fit(X, y)
    assert clf.label_type_ == "frame"
    assert clf.predict(X).shape == (40, 10)
    assert clf.predict_proba(X).shape == (40, 10, 2)
    assert clf.score(X, y) > 0.8


def test_tabular_mode(fast_params):
    rng = np.random.RandomState(0)
    X = rng.randn(100, 4)
    y = np.where(X[:, 2] - X[:, 0] > 0, "yes", "no")
    clf = ProgramSynthesisClassifier(**fast_params).fit(X, y)
    assert clf.predict(X).shape == (100,)
    assert set(clf.predict(X)) <= {"yes", "no"}
    assert clf.score(X, y) > 0.8


def test_multiclass_string_labels(fast_params):
    rng = np.random.RandomState(0)
    X = rng.randn(120, 6, 2).astype(np.float32)
    s = X[:, :, 0].mean(1)
    y = np.array(["low", "mid", "high"])[np.digitize(s, np.quantile(s, [1 / 3, 2 / 3]))]
    clf = ProgramSynthesisClassifier(**fast_params).fit(X, y)
    assert list(clf.classes_) == ["high", "low", "mid"]
    assert clf.predict_proba(X).shape == (120, 3)
    assert clf.score(X, y) > 0.5  # chance is 1/3; FAST budgets find e.g. last3_avg


def test_ragged_and_nan_padding_agree(fast_params):
    rng = np.random.RandomState(0)
    seqs = [rng.randn(rng.randint(3, 9), 2).astype(np.float32) for _ in range(60)]
    y = np.array([int(s[-3:, 0].mean() > 0) for s in seqs])
    clf = ProgramSynthesisClassifier(**fast_params).fit(seqs, y)
    T = max(len(s) for s in seqs)
    padded = np.full((60, T, 2), np.nan, dtype=np.float32)
    for i, s in enumerate(seqs):
        padded[i, : len(s)] = s
    np.testing.assert_allclose(clf.predict_proba(seqs), clf.predict_proba(padded))


def test_ragged_per_frame(fast_params):
    rng = np.random.RandomState(0)
    seqs = [rng.randn(rng.randint(3, 9), 2) for _ in range(40)]
    ys = [(s[:, 0] > 0).astype(int) for s in seqs]
    clf = ProgramSynthesisClassifier(**fast_params).fit(seqs, ys)
    pred = clf.predict(seqs)
    assert [len(p) for p in pred] == [len(s) for s in seqs]
    assert clf.score(seqs, ys) > 0.8


def test_determinism(seq_data, fast_params):
    X, y = seq_data
    a = ProgramSynthesisClassifier(**fast_params).fit(X, y)
    b = ProgramSynthesisClassifier(**fast_params).fit(X, y)
    assert str(a.program_) == str(b.program_)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_global_rng_untouched(seq_data, fast_params):
    import torch

    X, y = seq_data
    torch.manual_seed(123)
    np.random.seed(5)
    state_t = torch.get_rng_state()
    state_n = np.random.get_state()[1].copy()
    ProgramSynthesisClassifier(**fast_params).fit(X, y)
    assert torch.equal(torch.get_rng_state(), state_t)
    np.testing.assert_array_equal(np.random.get_state()[1], state_n)


def test_input_not_modified(seq_data, fast_params):
    X, y = seq_data
    X0, y0 = X.copy(), y.copy()
    clf = ProgramSynthesisClassifier(**fast_params).fit(X, y)
    clf.predict(X)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_pickle_roundtrip(seq_data, fast_params):
    X, y = seq_data
    clf = ProgramSynthesisClassifier(**fast_params).fit(X, y)
    clf2 = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clf.predict_proba(X), clf2.predict_proba(X))


def test_threshold_options(seq_data, fast_params):
    X, y = seq_data
    clf = ProgramSynthesisClassifier(threshold=None, **fast_params).fit(X, y)
    assert clf.logit_offset_ == 0.0
    clf = ProgramSynthesisClassifier(threshold=0.8, **fast_params).fit(X, y)
    assert clf.logit_offset_ == pytest.approx(-np.log(4.0))


def test_feature_groups_in_program(fast_params):
    rng = np.random.RandomState(0)
    X = rng.randn(150, 8, 4).astype(np.float32)
    y = (X[:, -5:, 3].mean(1) > 0).astype(int)
    groups = {"speed": [3], "noise": [0, 1, 2]}
    params = dict(fast_params, finetune_epochs=10)
    clf = ProgramSynthesisClassifier(feature_groups=groups, **params).fit(X, y)
    assert clf.score(X, y) > 0.8
    assert "affine_speed" in clf.dsl_


def test_max_time_warns(seq_data, fast_params):
    X, y = seq_data
    clf = ProgramSynthesisClassifier(max_time=1e-3, **fast_params)
    with pytest.warns(SearchTimeoutWarning, match="stopped after max_time"):
        clf.fit(X, y)
    assert clf.predict(X).shape == (80,)


def test_verbose_output(seq_data, fast_params, capsys):
    X, y = seq_data
    ProgramSynthesisClassifier(**fast_params).fit(X, y)
    assert capsys.readouterr().out == ""
    ProgramSynthesisClassifier(verbose=1, **fast_params).fit(X, y)
    out = capsys.readouterr().out
    assert re.search(r"stage 1/\d+: depth \d+", out)
    # every stage, the selection and the fine-tune show the time left
    assert re.search(r"elapsed \d+\.\ds, about \d+s left", out)
    assert re.search(r"selection: \d+ candidates scored", out)
    assert "fine-tune:" in out and "done in" in out
    assert re.search(r"local search: \d+ programs trained in full, kept ", out)
    assert "nan" not in out


def test_pipeline_gridsearch_cv(seq_data, fast_params):
    X, y = seq_data
    labels = np.where(y == 1, "on", "off")
    pipe = make_pipeline(
        SequenceStandardScaler(robust=True), ProgramSynthesisClassifier(**fast_params)
    )
    scores = cross_val_score(pipe, X, labels, cv=2)
    assert scores.shape == (2,)
    gs = GridSearchCV(
        ProgramSynthesisClassifier(**fast_params), {"penalty": [0.0, 0.05]}, cv=2
    ).fit(X, labels)
    assert gs.best_estimator_.predict(X[:3]).dtype.kind == "U"
    assert clone(gs.best_estimator_).get_params()["penalty"] in (0.0, 0.05)


BAD_INPUTS = [
    (
        "nan",
        lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 5, np.nan, X), y),
        ValueError,
        "contains NaN",
    ),
    (
        "inf",
        lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 5, np.inf, X), y),
        ValueError,
        "infinity",
    ),
    ("ndim4", lambda X, y: (X[..., None], y), ValueError, "Reshape your data"),
    ("ndim1", lambda X, y: (X[:, 0, 0], y), ValueError, "Reshape your data"),
    ("length", lambda X, y: (X, y[:-1]), ValueError, "inconsistent numbers of samples"),
    ("one class", lambda X, y: (X, np.zeros_like(y)), ValueError, "only one class"),
    ("empty", lambda X, y: (X[:0], y[:0]), ValueError, "0 sample"),
    (
        "strings",
        lambda X, y: (np.full(X.shape, "a", dtype=object), y),
        ValueError,
        "could not convert|string",
    ),
    (
        "frame length",
        lambda X, y: (X, np.zeros((len(y), X.shape[1] + 2), dtype=int)),
        ValueError,
        "time steps",
    ),
    (
        "continuous y",
        lambda X, y: (X, np.linspace(0, 1, len(y))),
        ValueError,
        "Unknown label type",
    ),
    (
        "nan y",
        lambda X, y: (X, np.where(np.arange(len(y)) == 0, np.nan, y)),
        ValueError,
        "contains NaN",
    ),
    (
        "mixed labels",
        lambda X, y: (X, np.array([1, "a"] * (len(y) // 2), dtype=object)),
        TypeError,
        "mixes label types",
    ),
]


@pytest.mark.parametrize(
    "case,make,exc,match", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_errors(seq_data, fast_params, case, make, exc, match):
    X, y = seq_data
    Xb, yb = make(X.astype(np.float64), y)
    with pytest.raises(exc, match=match):
        ProgramSynthesisClassifier(**fast_params).fit(Xb, yb)


BAD_PARAMS = [
    ({"max_depth": 0}, "max_depth"),
    ({"top_n": 0}, "top_n"),
    ({"lr": -1.0}, "lr"),
    ({"loss": "hinge"}, "loss"),
    ({"validation_fraction": 1.5}, "validation_fraction"),
    ({"normalize": "minmax"}, "normalize"),
    ({"threshold": 2.0}, "threshold"),
    ({"future_frames": -1}, "future_frames"),
    ({"future_frames": "all"}, "future_frames"),
    ({"future_frames": 1.5}, "future_frames"),
    ({"feature_groups": {"a": [0, 7]}}, "out of range"),
    ({"feature_groups": {"a": []}}, "is empty"),
    ({"feature_names": ["a", "b"]}, "feature_names has 2 names"),
    (
        {"device": "cuda:99" if __import__("torch").cuda.is_available() else "cuda"},
        "CUDA|device",
    ),
    ({"device": "notadevice"}, "Invalid device"),
    ({"class_weight": {"zzz": 2.0}}, "not in y"),
]


@pytest.mark.parametrize("params,match", BAD_PARAMS)
def test_bad_params(seq_data, fast_params, params, match):
    X, y = seq_data
    with pytest.raises((ValueError, TypeError), match=match):
        ProgramSynthesisClassifier(**{**fast_params, **params}).fit(X, y)


def test_predict_errors(seq_data, fast_params):
    X, y = seq_data
    clf = ProgramSynthesisClassifier(**fast_params)
    with pytest.raises(Exception, match="not fitted"):
        clf.predict(X)
    clf.fit(X, y)
    with pytest.raises(
        ValueError,
        match="X has 2 features, but ProgramSynthesisClassifier is expecting 3",
    ):
        clf.predict(X[:, :, :2])
    with pytest.raises(ValueError, match="fitted on sequences"):
        clf.predict(X[:, 0, :])
    with pytest.raises(ValueError, match="contains NaN"):
        clf.predict(np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X))


def test_export_agrees(seq_data, fast_params, tmp_path):
    X, y = seq_data
    clf = ProgramSynthesisClassifier(**fast_params).fit(X, y)
    exp = clf.export_program()
    assert exp.text == str(clf)
    ns: dict = {}
    exec(exp.source, ns)
    np.testing.assert_allclose(
        ns["predict_proba"](X.tolist()), clf.predict_proba(X), atol=1e-6
    )
    assert list(ns["predict"](X.tolist())) == list(clf.predict(X))
    exp.save(tmp_path / "prog.py")
    assert (tmp_path / "prog.py").read_text() == exp.source


def test_n_jobs_does_not_change_result(seq_data, fast_params):
    X, y = seq_data
    params = dict(fast_params, max_selection_steps=3)
    a = ProgramSynthesisClassifier(**params).fit(X, y)
    b = ProgramSynthesisClassifier(n_jobs=2, **params).fit(X, y)
    assert str(a.program_) == str(b.program_)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X))


def test_joblib_backend_takes_over(seq_data, fast_params):
    from joblib import parallel_backend

    X, y = seq_data
    params = dict(fast_params, max_selection_steps=3)
    with parallel_backend("threading", n_jobs=2):
        clf = ProgramSynthesisClassifier(**params).fit(X, y)
    assert clf.predict(X).shape == (80,)


def test_gridsearch_parallel_per_frame(frame_data, fast_params):
    from sklearn.metrics import make_scorer

    from sklearn_dpads.metrics import frame_f1_score

    X, y = frame_data
    gs = GridSearchCV(
        ProgramSynthesisClassifier(**fast_params),
        {"penalty": [0.0, 0.05]},
        cv=2,
        n_jobs=2,
        scoring=make_scorer(frame_f1_score),
    ).fit(X, y)
    assert gs.best_estimator_.predict(X).shape == y.shape
    assert 0.0 <= gs.best_score_ <= 1.0


def test_exported_module_importable_elsewhere(seq_data, fast_params, tmp_path):
    import subprocess
    import sys

    X, y = seq_data
    clf = ProgramSynthesisClassifier(**fast_params).fit(X, y)
    clf.export_program().save(tmp_path / "shipped_program.py")
    code = (
        "import sys, json; sys.modules['torch'] = None; sys.modules['numpy'] = None\n"
        "import shipped_program as p\n"
        "print(json.dumps(p.predict(json.loads(sys.stdin.read()))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=__import__("json").dumps(X[:10].tolist()),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert __import__("json").loads(out.stdout) == clf.predict(X[:10]).tolist()


def test_fitted_module_on_cpu(seq_data, fast_params):
    X, y = seq_data
    clf = ProgramSynthesisClassifier(**fast_params).fit(X, y)
    assert all(p.device.type == "cpu" for p in clf.module_.parameters())


@pytest.mark.cuda
def test_cuda_fit_loads_on_cpu(seq_data, fast_params):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    X, y = seq_data
    clf = ProgramSynthesisClassifier(device="cuda", **fast_params).fit(X, y)
    clf2 = pickle.loads(pickle.dumps(clf))
    clf2.set_params(device="cpu")
    np.testing.assert_allclose(clf2.predict_proba(X), clf.predict_proba(X))


def test_every_parameter_is_validated():
    clf = ProgramSynthesisClassifier()
    assert set(clf.get_params()) == set(clf._parameter_constraints)


def test_thread_count_restored(seq_data, fast_params):
    import torch

    X, y = seq_data
    before = torch.get_num_threads()
    clf = ProgramSynthesisClassifier(n_threads=1, **fast_params).fit(X, y)
    clf.predict_proba(X)
    assert torch.get_num_threads() == before


def test_joblib_roundtrip(seq_data, fast_params, tmp_path):
    import joblib

    X, y = seq_data
    clf = ProgramSynthesisClassifier(**fast_params).fit(X, y)
    joblib.dump(clf, tmp_path / "clf.joblib")
    clf2 = joblib.load(tmp_path / "clf.joblib")
    np.testing.assert_array_equal(clf.predict_proba(X), clf2.predict_proba(X))


def test_verbose_two_progress_bar(seq_data, fast_params, capsys):
    X, y = seq_data
    ProgramSynthesisClassifier(verbose=2, **fast_params).fit(X, y)
    captured = capsys.readouterr()
    assert "dPads search" in captured.err
    assert "greedy" in captured.out


# future_frames: per-frame decisions that read the frames after them -----------------


def _future_rule(n, T, seed, ahead=3):
    """Per-frame labels of x[t + ahead, 0] (the last frame past the end)."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, T + 2, 2)
    X = ((X[:, :-2] + X[:, 1:-1] + X[:, 2:]) / 3).astype(np.float32)  # smooth
    future = np.concatenate([X[:, ahead:, 0], np.repeat(X[:, -1:, 0], ahead, 1)], 1)
    return X, (future > 0.2).astype(int)


def test_future_frames_resolved(seq_data, frame_data, fast_params):
    X, y = seq_data
    clf = ProgramSynthesisClassifier(**fast_params, future_frames=5).fit(X, y)
    assert clf.future_frames_ == 0  # a sequence's label reads all its frames
    X, y = frame_data  # 10 frames: the default DSL's kernel window is 10 long
    clf = ProgramSynthesisClassifier(**fast_params).fit(X, y)
    assert clf.future_frames_ == 5
    clf = ProgramSynthesisClassifier(**fast_params, future_frames=0).fit(X, y)
    assert clf.future_frames_ == 0
    dsl = default_dsl(3)  # no kernel window: "auto" reads no frame ahead
    clf = ProgramSynthesisClassifier(**fast_params, dsl=dsl).fit(X, y)
    assert clf.future_frames_ == 0


@pytest.mark.parametrize("future_frames", [0, 3])
def test_future_frames_every_path_agrees(fast_params, future_frames):
    X, y = _future_rule(30, 12, 0)
    clf = ProgramSynthesisClassifier(**fast_params, future_frames=future_frames)
    clf.fit(X, y)
    assert clf.future_frames_ == future_frames
    ragged = [X[0], X[1, :7], X[2, :2]]
    pred = clf.predict(ragged)
    assert [len(p) for p in pred] == [12, 7, 2]
    # a sequence alone, and one cut short, get what they get in a batch
    np.testing.assert_array_equal(pred[1], clf.predict(X[1:2, :7])[0])
    dec = clf.decision_function(X[:4])
    assert dec.shape == (4, 12)
    # chunked prediction carries the program's state over the chunks
    clf.set_params(predict_chunk_frames=5)
    np.testing.assert_allclose(clf.decision_function(X[:4]), dec, atol=1e-5)
    # the explanation adds up to the decision, frame by frame
    expl = clf.explain(X[:4])
    assert expl.contributions.shape[:2] == (4, 12)
    np.testing.assert_allclose(expl.contributions.sum(-1), dec, atol=1e-4)
    assert len(expl[2]) == 12
    # the export: batch functions and the stream, frames one at a time
    exported = clf.export_program()
    module = load_python_program(exported.source)
    assert module.DELAY == future_frames
    np.testing.assert_allclose(module.decision_function(X[:4].tolist()), dec, atol=1e-5)
    got = module.predict([s.tolist() for s in ragged])
    assert [list(p) for p in pred] == got
    stream = exported.make_stream()
    labels = [stream.push(frame) for frame in X[2, :7]]
    assert labels[:future_frames] == [None] * future_frames
    labels = labels[future_frames:] + stream.flush()
    assert labels == list(clf.predict(X[2:3, :7])[0])
    assert stream.decision() == pytest.approx(
        clf.decision_function(X[2:3, :7])[0, -1], abs=1e-5
    )


def test_future_frames_in_the_words(fast_params):
    X, y = _future_rule(30, 12, 0)
    clf = ProgramSynthesisClassifier(**fast_params, future_frames=3).fit(X, y)
    text = str(clf.describe(frame_rate=30.0))
    assert "The decision about frame t is made 3 frames later (0.1 s)" in text
    assert "future_frames=3" in clf.export_program().source
    assert "reads the 3 frames after it" in clf.export_program().source


def test_future_frames_reach_a_rule_of_later_frames():
    X, y = _future_rule(160, 24, 1)
    params = dict(max_depth=3, grow_steps=0, random_state=0)
    f1 = {}
    for ff in (0, "auto"):
        clf = ProgramSynthesisClassifier(**params, future_frames=ff)
        clf.fit(X[:110], y[:110])
        f1[ff] = frame_f1_score(y[110:], clf.predict(X[110:]))
    assert clf.future_frames_ == 8
    assert f1["auto"] > 0.9 and f1[0] < 0.75, f1
