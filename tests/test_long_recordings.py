"""Long recordings: chunked prediction in bounded memory, and the streaming export.

A fitted estimator predicts a recording ``predict_chunk_frames`` frames at a
time, carrying the program's state from chunk to chunk; the outputs must equal
a whole-sequence pass (labels exactly, probabilities closely) for programs
using every temporal production, and the tensors the program sees must stay
``predict_chunk_frames`` frames long however long the recording is. The
exported program's streaming form (``make_stream``) must agree with the batch
export and with the estimator.

Programs are set by hand on a fitted estimator (``module_``): the fit gives
the scaler, classes and threshold, the hand-built program every production.
"""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from sklearn_dpads import ProgramSynthesisClassifier
from sklearn_dpads.export import load_python_program
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.kinds import fold_production
from sklearn_dpads.library import default_dsl
from sklearn_dpads.semantics import compile_program
from sklearn_dpads.training.data import SequenceDataset
from sklearn_dpads.training.nets import predict_logits

F = 4
FOLD3 = fold_production("fold3", 3)
DSL = default_dsl(
    F,
    {"a": [0], "b": [1, 2], "c": [3]},
    filters=(3,),
    difference=True,
    extra_productions=[FOLD3],
)
FAST = dict(
    dsl=DSL,
    max_depth=2,
    search_epochs=1,
    prune_epochs=1,
    selection_epochs=1,
    program_epochs=1,
    finetune_epochs=2,
    max_selection_steps=1,
    random_state=0,
)

# per-frame programs (list -> list) using every production between them
PER_FRAME = [
    "(map (ite (affine_a) (affine_b) (multiply (affine_c) (const))))",
    "(map_prefixes (fold (affine_b)))",
    "(map_prefixes (fold (ite (affine_a) (affine) (multiply (affine_b) (const)))))",
    "(map_prefixes (fold3 (add (affine_b) (const))))",
    "(map_prefixes (fold3 (ite (affine_c) (affine) (affine_a))))",
    "(map_prefixes (last5_avg (affine_a)))",
    "(map_prefixes (last10_avg (multiply (affine) (affine))))",
    "(map_prefixes (last3_avg (affine_b)))",
    "(map_prefixes (last6_avg (add (affine_c) (const))))",
    "(map_prefixes (filter3_b))",
    "(map_prefixes (ite (filter3) (filter3_a) (filter3_c)))",
    "(diff (map (affine_b)))",
    "(ite (diff (filter3)) (map_prefixes (diff (filter3_a))) (diff (map (affine))))",
    "(ite (last6_avg (affine)) (map (affine_a)) (map_prefixes (fold (affine))))",
]
# per-sequence programs (list -> atom)
PER_SEQUENCE = [
    "(fold (affine))",
    "(fold3 (ite (affine_a) (affine) (multiply (affine_b) (const))))",
    "(ite (filter3_b) (diff (last5_avg (multiply (affine_a) (affine_a)))) (fold (affine)))",
    "(diff (diff (last3_avg (affine_c))))",
]
# cheap on 200,000 frames (no frame loop): a linear fold, windows, a filter,
# frame differences, map and ite
LONG = (
    "(ite (fold (affine_a)) (map_prefixes (last10_avg (affine))) (diff (ite "
    "(filter3_b) (map_prefixes (last6_avg (multiply (affine_c) (affine)))) "
    "(map (affine)))))"
)


@pytest.fixture(scope="module")
def frame_clf():
    rng = np.random.RandomState(0)
    X = rng.randn(30, 12, F)
    y = (X[:, :, 1] + 0.5 * X[:, :, 3] > 0).astype(int)
    return ProgramSynthesisClassifier(**FAST).fit(X, y)


@pytest.fixture(scope="module")
def seq_clf():
    rng = np.random.RandomState(1)
    X = rng.randn(40, 10, F)
    y = np.array(["a", "b", "c"])[np.digitize(X[:, -3:, 0].mean(1), [-0.3, 0.3])]
    return ProgramSynthesisClassifier(**FAST).fit(X, y)


def with_program(clf, text, seed=0):
    """A copy of the fitted ``clf`` whose program is ``text`` (random weights)."""
    hole = clf.module_.hole
    module = compile_program(text, clf.dsl_, hole).double().eval()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            # small weights: folds stay bounded over thousands of frames
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.3)
    out = copy.deepcopy(clf)
    out.module_ = module
    out.program_ = module.program
    return out


def recordings(T=3000, short=1700, seed=2):
    """Two recordings: T frames, and ``short`` frames NaN-padded to T."""
    X = np.random.RandomState(seed).randn(2, T, F)
    X[1, short:] = np.nan
    return X


class FrameCounter:
    """Forward hooks on every module of a program: the chunks and the largest input."""

    def __init__(self, module):
        self.root = module.tree
        self.passes = 0
        self.max_frames = 0  # longest time axis (or number of rows) seen
        self.max_numel = 0
        self.handles = [m.register_forward_hook(self.hook) for m in module.modules()]

    def hook(self, mod, args, out):
        if mod is self.root:
            self.passes += 1
        for t in (*args, out):
            if isinstance(t, torch.Tensor) and t.dim() >= 2:
                # (B, T, d) sequences or (B * T, d) frames of an atom function
                frames = t.shape[1] if t.dim() == 3 else t.shape[0]
                self.max_frames = max(self.max_frames, int(frames))
                self.max_numel = max(self.max_numel, t.numel())

    def close(self):
        for h in self.handles:
            h.remove()


def predictions(clf, X, chunk):
    clf.set_params(predict_chunk_frames=chunk)
    return clf.predict(X), clf.predict_proba(X), clf.decision_function(X)


# chunked prediction ---------------------------------------------------------------


def test_programs_cover_every_production():
    used = set()
    for text in PER_FRAME:
        used |= set(
            compile_program(
                text, DSL, parse_type("list[4] -> list[1]")
            ).program.symbols()
        )
    assert used == {p.name for p in DSL.productions}


def test_default_chunk_and_constraint(frame_clf):
    assert ProgramSynthesisClassifier().get_params()["predict_chunk_frames"] == 65536
    assert "predict_chunk_frames" in ProgramSynthesisClassifier._parameter_constraints


@pytest.mark.parametrize("text", PER_FRAME)
def test_chunked_per_frame_prediction_equals_one_pass(frame_clf, text):
    clf = with_program(frame_clf, text)
    X = recordings()
    y0, p0, d0 = predictions(clf, X, None)
    counter = FrameCounter(clf.module_)
    try:
        y1, p1, d1 = predictions(clf, X, 128)
    finally:
        counter.close()
    assert y1.shape == (2, 3000) and p1.shape == (2, 3000, 2)
    real = np.zeros((2, 3000), dtype=bool)
    real[0], real[1, :1700] = True, True
    np.testing.assert_array_equal(y1[real], y0[real])
    np.testing.assert_allclose(p1[real], p0[real], rtol=0, atol=1e-9)
    np.testing.assert_allclose(d1[real], d0[real], rtol=1e-9, atol=1e-9)
    # one sequence per pass (128 frames hold one), 3000 and 1700 frames in
    # chunks of 128, for each of the three calls
    assert counter.passes == 3 * (math.ceil(3000 / 128) + math.ceil(1700 / 128))
    assert counter.max_frames == 128


def test_chunked_ragged_list_input(frame_clf):
    clf = with_program(frame_clf, PER_FRAME[-1])
    X = recordings()
    ragged = [X[0, :2500], X[1, :1700]]
    clf.set_params(predict_chunk_frames=None)
    want = clf.predict_proba(ragged)
    clf.set_params(predict_chunk_frames=100)
    got = clf.predict_proba(ragged)
    assert [g.shape for g in got] == [(2500, 2), (1700, 2)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-9)
    y = (X[:, :, 0] > 0).astype(int)
    clf.set_params(predict_chunk_frames=None)
    score = clf.score([X[0], X[1, :1700]], [y[0], y[1, :1700]])
    clf.set_params(predict_chunk_frames=100)
    assert clf.score([X[0], X[1, :1700]], [y[0], y[1, :1700]]) == score


@pytest.mark.parametrize("text", PER_SEQUENCE)
def test_chunked_per_sequence_prediction_equals_one_pass(seq_clf, text):
    clf = with_program(seq_clf, text)
    X = recordings(T=2000, short=777)
    y0, p0, d0 = predictions(clf, X, None)
    y1, p1, d1 = predictions(clf, X, 64)
    assert p1.shape == (2, 3)
    np.testing.assert_array_equal(y1, y0)
    np.testing.assert_allclose(p1, p0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(d1, d0, rtol=1e-9, atol=1e-9)


def test_short_sequences_are_batched_up_to_the_budget(frame_clf):
    clf = with_program(frame_clf, PER_FRAME[1])
    X = np.random.RandomState(3).randn(50, 12, F)
    clf.set_params(predict_chunk_frames=None)
    want = clf.predict_proba(X)
    counter = FrameCounter(clf.module_)
    try:
        clf.set_params(predict_chunk_frames=100)  # 8 sequences of 12 frames
        got = clf.predict_proba(X)
    finally:
        counter.close()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert counter.passes == math.ceil(50 / 8)
    assert counter.max_frames <= 100


def test_long_recording_in_bounded_memory(frame_clf):
    """One recording of 200,000 frames, predicted per frame."""
    clf = with_program(frame_clf, LONG)
    X = np.random.RandomState(4).randn(1, 200_000, F)
    sizes = {}
    results = {}
    for chunk in (None, 4096, 65536):
        counter = FrameCounter(clf.module_)
        try:
            clf.set_params(predict_chunk_frames=chunk)
            results[chunk] = clf.predict(X), clf.predict_proba(X)
        finally:
            counter.close()
        sizes[chunk] = counter
    # the measurement sees the whole recording without chunks (one pass for
    # predict, one for predict_proba) ...
    assert sizes[None].max_frames == 200_000 and sizes[None].passes == 2
    # ... and never more than a chunk with them
    for chunk in (4096, 65536):
        assert sizes[chunk].max_frames == chunk
        assert sizes[chunk].passes == 2 * math.ceil(200_000 / chunk)
        assert sizes[chunk].max_numel <= chunk * 2 * F
        assert sizes[chunk].max_numel * 3 < sizes[None].max_numel
        np.testing.assert_array_equal(results[chunk][0], results[None][0])
        np.testing.assert_allclose(
            results[chunk][1], results[None][1], rtol=0, atol=1e-9
        )
    assert results[4096][1].shape == (1, 200_000, 2)


_RSS_SCRIPT = r"""
import json, sys
import torch
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.library import default_dsl
from sklearn_dpads.semantics import compile_program
from sklearn_dpads.training.data import SequenceDataset
from sklearn_dpads.training.nets import predict_logits


def status(key):
    with open("/proc/self/status") as fh:
        return next(int(ln.split()[1]) for ln in fh if ln.startswith(key + ":"))


chunk = json.loads(sys.argv[1])
dsl = default_dsl(4, {"a": [0], "b": [1, 2], "c": [3]}, filters=(3,), difference=True)
module = compile_program(sys.argv[2], dsl, parse_type("list[4] -> list[1]"))
module = module.double().eval()
data = SequenceDataset(torch.randn(1, 300_000, 4).numpy())
# the peak RSS (VmHWM) is inherited from the forking parent: reset it to now
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")
before = status("VmRSS")
predict_logits(module, data, chunk_frames=chunk)
print(json.dumps(status("VmHWM") - before))
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads the peak RSS from /proc"
)
def test_peak_memory_of_chunked_prediction_is_smaller():
    """Peak RSS growth (KiB) of predicting 300,000 frames, unchunked vs chunked."""
    grow = {}
    for chunk in (None, 4096):
        proc = subprocess.run(
            [sys.executable, "-c", _RSS_SCRIPT, json.dumps(chunk), LONG],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if "clear_refs" in proc.stderr:  # pragma: no cover - locked-down /proc
            pytest.skip("cannot reset the peak RSS here")
        assert proc.returncode == 0, proc.stderr[-3000:]
        grow[chunk] = json.loads(proc.stdout)
    # unchunked: ~90 MiB of intermediate tensors; chunked: ~15 MiB, mostly the
    # (300000, 1) logits themselves
    assert grow[None] > 40_000, grow
    assert grow[4096] * 3 < grow[None], grow


@pytest.mark.parametrize("bad", [0, -1, 2.5, "big", np.float64(8.0)])
def test_bad_predict_chunk_frames_raise(frame_clf, bad):
    clf = copy.deepcopy(frame_clf).set_params(predict_chunk_frames=bad)
    X = recordings(T=20, short=10)
    for method in (clf.predict, clf.predict_proba, clf.decision_function):
        with pytest.raises(ValueError, match="'predict_chunk_frames' parameter"):
            method(X)
    rng = np.random.RandomState(0)
    X = rng.randn(20, 6, F)
    with pytest.raises(ValueError, match="predict_chunk_frames"):
        ProgramSynthesisClassifier(predict_chunk_frames=bad).fit(X, X[:, :, 0] > 0)


def test_predict_logits_chunks_only_compiled_programs():
    data = SequenceDataset(np.zeros((2, 5, F), dtype=np.float32))
    with pytest.raises(TypeError, match="Chunked prediction needs a compiled program"):
        predict_logits(torch.nn.Identity(), data, chunk_frames=4)


# the streaming export --------------------------------------------------------------


@pytest.mark.parametrize("text", [None, *PER_FRAME])
def test_stream_agrees_with_the_estimator_per_frame(frame_clf, text):
    clf = frame_clf if text is None else with_program(frame_clf, text)
    exported = clf.export_program()
    batch = load_python_program(exported.source)
    X = recordings(T=300, short=120) * 2.0 + 0.5
    proba = clf.predict_proba(X)
    labels = clf.predict(X)
    for i, n in enumerate((300, 120)):
        stream = exported.make_stream()
        got = [stream.push(frame) for frame in X[i, :n]]
        assert stream.n_frames == n
        assert got == labels[i, :n].tolist()
        assert got == batch.predict([X[i, :n]])[0]
        # the estimator scales in float32, the export in float64
        np.testing.assert_allclose(stream.proba(), proba[i, n - 1], atol=1e-6)
        assert stream.proba() == batch.predict_proba([X[i, :n]])[0][-1]


@pytest.mark.parametrize("text", [None, *PER_SEQUENCE])
def test_stream_agrees_with_the_estimator_per_sequence(seq_clf, text):
    clf = seq_clf if text is None else with_program(seq_clf, text)
    exported = clf.export_program()
    X = np.random.RandomState(5).randn(4, 60, F)
    labels = clf.predict(X)
    proba = clf.predict_proba(X)
    for i in range(len(X)):
        stream = exported.make_stream()
        for frame in X[i]:
            label = stream.push(frame)
        assert label == labels[i]  # after the last frame: the sequence's label
        np.testing.assert_allclose(stream.proba(), proba[i], atol=1e-6)
