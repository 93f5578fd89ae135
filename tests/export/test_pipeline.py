"""Export of a fitted pipeline (sklearn_dpads.export.export_program).

The exported source runs with the standard library only (any import but
``math`` fails) on the pipeline's raw input and must agree with the
pipeline: exactly on the labels, up to rounding on the probabilities.
"""

from __future__ import annotations

import builtins
import math

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sklearn_dpads import ProgramSynthesisClassifier, SequenceStandardScaler
from sklearn_dpads.export import export_program, to_python_source
from sklearn_dpads.export._pipeline import FoldedScaler, fold_scalers

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
# raw features far from standard: a program that skips the pipeline's scaler
# reads them wrong
OFFSET, SPREAD = np.array([50.0, -2.0, 0.0]), np.array([10.0, 0.1, 3.0])


def _raw(X):
    return (X * SPREAD + OFFSET).astype(np.float32)


def _only_math(name, globals=None, locals=None, fromlist=(), level=0):
    if name != "math":
        raise ImportError(f"exported code imported {name!r}")
    return builtins.__import__(name, globals, locals, fromlist, level)


def load_standalone(source):
    """Execute exported source where any import but ``math`` fails."""
    safe = dict(vars(builtins), __import__=_only_math)
    ns = {"__builtins__": safe, "__name__": "exported_program"}
    exec(compile(source, "<exported>", "exec"), ns)
    return ns


@pytest.fixture(scope="module")
def seq_pipe():
    """The reported pipeline: a scaler, then a classifier that does not scale."""
    rng = np.random.RandomState(0)
    X = _raw(rng.randn(80, 8, 3))
    y = (X[:, -5:, 0].mean(axis=1) > 50).astype(int)
    clf = ProgramSynthesisClassifier(normalize=None, **FAST)
    return make_pipeline(SequenceStandardScaler(), clf).fit(X, y), X


@pytest.fixture(scope="module")
def frame_pipe():
    """Per-frame labels; a clipping robust scaler before the default scaling."""
    rng = np.random.RandomState(1)
    X = _raw(rng.randn(40, 10, 3))
    y = (X[:, :, 1] > -1.98).astype(int)
    clf = ProgramSynthesisClassifier(**FAST)
    pipe = make_pipeline(SequenceStandardScaler(robust=True, clip=1.5), clf)
    return pipe.fit(X, y), X


def _ragged(X):
    """Sequences of different lengths, as lists (the exported input)."""
    return [X[i, : 3 + i % 6] for i in range(len(X))]


def test_sequence_pipeline_export_equals_the_pipeline(seq_pipe):
    pipe, X = seq_pipe
    exported = export_program(pipe)
    program = load_standalone(exported.source)
    rows = X.tolist()
    assert program["predict"](rows) == pipe.predict(X).tolist()
    np.testing.assert_allclose(
        program["predict_proba"](rows), pipe.predict_proba(X), rtol=0, atol=1e-6
    )
    np.testing.assert_allclose(
        program["decision_function"](rows), pipe.decision_function(X), atol=1e-5
    )
    ragged = _ragged(X)
    assert program["predict"]([s.tolist() for s in ragged]) == (
        pipe.predict(ragged).tolist()
    )
    # the classifier's own export expects scaled input: it is another program
    alone = pipe[-1].export_program()
    assert alone.source != exported.source
    assert alone.text == exported.text and alone.program == exported.program
    assert load_standalone(alone.source)["CENTER"] == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(program["CENTER"], pipe[0].center_)
    assert program["CLIP"] == 5.0 and program["LOW"] is None  # the classifier's clip


def test_frame_pipeline_export_equals_the_pipeline(frame_pipe):
    pipe, X = frame_pipe
    assert pipe[-1].label_type_ == "frame"
    program = load_standalone(export_program(pipe).source)
    # the scaler's clip, then the classifier's scaling: per-feature bounds
    assert program["CLIP"] is None and len(program["LOW"]) == 3
    assert program["predict"](X.tolist()) == pipe.predict(X).tolist()
    proba = program["predict_proba"](X.tolist())
    np.testing.assert_allclose(proba, pipe.predict_proba(X), rtol=0, atol=1e-6)
    ragged = _ragged(X)
    got = program["predict"]([s.tolist() for s in ragged])
    assert got == [p.tolist() for p in pipe.predict(ragged)]


@pytest.mark.parametrize("which", ["seq", "frame"])
def test_stream_of_a_pipeline_takes_raw_frames(seq_pipe, frame_pipe, which):
    pipe, X = seq_pipe if which == "seq" else frame_pipe
    stream = export_program(pipe).make_stream()
    for seq in X[:5]:
        stream.reset()
        labels = [stream.push(frame) for frame in seq.tolist()]
        want = pipe.predict(seq[None])[0]
        if which == "frame":
            # each frame's label comes future_frames_ frames late
            delay = pipe[-1].future_frames_
            assert labels[:delay] == [None] * delay
            assert labels[delay:] + stream.flush() == want.tolist()
            np.testing.assert_allclose(
                stream.proba(), pipe.predict_proba(seq[None])[0, -1], atol=1e-6
            )
        else:
            assert labels[-1] == want
            np.testing.assert_allclose(
                stream.proba(), pipe.predict_proba(seq[None])[0], atol=1e-6
            )


def test_passthrough_steps_are_skipped(seq_pipe):
    pipe, _ = seq_pipe
    (_, scaler), (_, clf) = pipe.steps
    padded = Pipeline(
        [("skip", "passthrough"), ("scale", scaler), ("none", None), ("clf", clf)]
    )
    assert export_program(padded).source == export_program(pipe).source
    # a pipeline of the classifier alone is the classifier
    assert (
        export_program(Pipeline([("clf", clf)])).source
        == export_program(clf).source
        == clf.export_program().source
    )


def test_scalers_in_a_row_fold_into_one(seq_pipe):
    pipe, X = seq_pipe
    (_, first), (_, clf) = pipe.steps
    # a clipping scaler in front of the fitted ones: another pipeline, still
    # one program
    front = SequenceStandardScaler(robust=True, clip=2.0).fit(X)
    chain = Pipeline([("front", front), ("first", first), ("clf", clf)])
    program = load_standalone(export_program(chain).source)
    assert program["LOW"] is not None
    assert program["predict"](X.tolist()) == chain.predict(X).tolist()
    np.testing.assert_allclose(
        program["predict_proba"](X.tolist()),
        chain.predict_proba(X),
        rtol=0,
        atol=1e-6,
    )


def _apply(scalers, x):
    for s in scalers:
        x = (x - s.center_) / s.scale_
        if s.clip is not None:
            x = np.clip(x, -s.clip, s.clip)
    return x


def _apply_folded(folded, x):
    x = (x - folded.center_) / folded.scale_
    if folded.clip_low_ is not None:
        x = np.clip(x, folded.clip_low_, folded.clip_high_)
    if folded.clip is not None:
        x = np.clip(x, -folded.clip, folded.clip)
    return x


@pytest.mark.parametrize(
    "clips", [(None, None, None), (None, None, 4.0), (1.0, None, 3.0), (2.0, 0.5, None)]
)
def test_fold_scalers_equals_the_scalers_in_turn(clips):
    rng = np.random.default_rng(0)
    scalers = [
        FoldedScaler(rng.normal(size=4) * 3, rng.uniform(0.2, 5, size=4), clip=k)
        for k in clips
    ]
    x = rng.normal(size=(500, 4)) * 20
    folded = fold_scalers(scalers)
    np.testing.assert_allclose(
        _apply_folded(folded, x), _apply(scalers, x), rtol=1e-12, atol=1e-12
    )
    if clips[:-1] == (None, None):  # only the last one clips: a symmetric clip
        assert folded.clip == clips[-1] and folded.clip_low_ is None


def test_fold_scalers_special_cases():
    ident = FoldedScaler(np.zeros(2), np.ones(2), clip=None)
    one = FoldedScaler(np.array([1.5, -2.0]), np.array([0.3, 7.0]), clip=2.0)
    # one scaler, and an identity after it, fold into its own numbers exactly
    for folded in (fold_scalers([one]), fold_scalers([one, ident])):
        assert folded.center_.tolist() == one.center_.tolist()
        assert folded.scale_.tolist() == one.scale_.tolist()
        assert folded.clip == 2.0 and folded.clip_low_ is None
    # a clip that a later centre moves out of the next clip: a constant
    far = FoldedScaler(np.array([100.0, 0.0]), np.ones(2), clip=5.0)
    folded = fold_scalers([one, far])
    x = np.array([[-1e6, 0.0], [0.0, 1e6], [3.0, -3.0]])
    np.testing.assert_array_equal(_apply_folded(folded, x)[:, 0], -5.0)
    np.testing.assert_allclose(_apply_folded(folded, x), _apply([one, far], x))
    with pytest.raises(ValueError, match="at least one scaler"):
        fold_scalers([])
    with pytest.raises(ValueError, match="Scaler 1 has 3 features, but scaler 0 has 2"):
        fold_scalers([one, FoldedScaler(np.zeros(3), np.ones(3))])


def test_folded_bounds_are_validated(seq_pipe):
    module = seq_pipe[0][-1].module_
    ok = dict(center_=[0.0] * 3, scale_=[1.0] * 3)
    bad = [
        (dict(clip_low_=[0.0] * 3), "go together"),
        (dict(clip_low_=[0.0] * 2, clip_high_=[1.0] * 3), "clip_low_ has 2 values"),
        (dict(clip_low_=[2.0] * 3, clip_high_=[1.0] * 3), "must not exceed"),
        (dict(clip_low_=[0.0] * 3, clip_high_=[math.inf] * 3), "must be finite"),
    ]
    for extra, match in bad:
        scaler = FoldedScaler(**ok, **extra)
        with pytest.raises(ValueError, match=match):
            to_python_source(module, classes=[0, 1], scaler=scaler)


class _MyScaler(SequenceStandardScaler):
    pass


@pytest.mark.parametrize(
    "step, name",
    [
        (StandardScaler(), "standardscaler"),
        (FunctionTransformer(np.abs), "functiontransformer"),
        (_MyScaler(), "_myscaler"),  # a subclass may transform otherwise
    ],
)
def test_steps_that_cannot_be_folded_are_named(seq_pipe, step, name):
    clf = seq_pipe[0][-1]
    pipe = make_pipeline(step, clf)
    with pytest.raises(TypeError, match=rf"cannot fold the pipeline step '{name}'"):
        export_program(pipe)


def test_what_is_not_a_fitted_pipeline_of_a_classifier_is_rejected(seq_pipe):
    pipe, _ = seq_pipe
    scaler = pipe[0]
    with pytest.raises(TypeError, match="last step 'sequencestandardscaler-2' is Seq"):
        export_program(make_pipeline(SequenceStandardScaler(), scaler))
    with pytest.raises(TypeError, match="last step 'clf' is str"):
        export_program(Pipeline([("scale", scaler), ("clf", "passthrough")]))
    with pytest.raises(TypeError, match="it is StandardScaler"):
        export_program(StandardScaler())
    with pytest.raises(TypeError, match="empty Pipeline"):
        export_program(Pipeline([]))
    unfitted = make_pipeline(SequenceStandardScaler(), ProgramSynthesisClassifier())
    with pytest.raises(NotFittedError, match="Pipeline instance is not fitted"):
        export_program(unfitted)
    with pytest.raises(NotFittedError, match="ProgramSynthesisClassifier instance"):
        export_program(ProgramSynthesisClassifier())
    with pytest.raises(NotFittedError, match="ProgramSynthesisClassifier instance"):
        ProgramSynthesisClassifier().export_program()
    half = make_pipeline(SequenceStandardScaler(), pipe[-1])  # the scaler unfitted
    with pytest.raises(NotFittedError, match="SequenceStandardScaler instance"):
        export_program(half)
