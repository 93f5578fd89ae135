"""The program in plain words, in the input's units, and the reason of each prediction.

Planted rules in physical units (a distance in mm around 50-250 and two
distractors): the sequence rule "mean distance over the last 10 frames below
120 mm" and the per-frame rule "distance below 80 mm", as programs built with
known weights (their descriptions must give the thresholds exactly) and as
fitted classifiers (within 5%). The contributions of ``explain`` add up to
``decision_function``; every production is checked that way in
``tests/kinds/test_conformance.py``.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline

from sklearn_dpads import ProgramSynthesisClassifier, SequenceStandardScaler
from sklearn_dpads.describe import (
    ProgramDescription,
    ProgramExplanation,
    describe_program,
    explain_program,
)
from sklearn_dpads.export import export_program, load_python_program, to_python_source
from sklearn_dpads.grammar.dsl import DSL
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.library import default_dsl, lag_maps
from sklearn_dpads.semantics import compile_program

NAMES = ["distance", "speed", "angle"]
UNITS = {"distance": "mm", "speed": "mm/s", "angle": "deg"}
SEQ = "list[3] -> atom[1]"
FRAME = "list[3] -> list[1]"


def planted(seed, n, T, rule):
    """A distance in mm (a random walk around 50-250), a speed and an angle."""
    rng = np.random.RandomState(seed)
    base = rng.uniform(50, 250, size=(n, 1))
    dist = np.clip(base + np.cumsum(rng.randn(n, T) * 8, axis=1), 20, 300)
    speed = rng.gamma(2, 20, size=(n, T))
    angle = rng.uniform(-180, 180, size=(n, T))
    return np.stack([dist, speed, angle], -1), rule(dist)


def sequence_rule(d):
    return (d[:, -10:].mean(axis=1) < 120).astype(int)


def frame_rule(d):
    return (d < 80).astype(int)


DSL3 = default_dsl(3, feature_names=NAMES)
X_SEQ, Y_SEQ = planted(0, 200, 20, sequence_rule)
SCALER = SequenceStandardScaler(robust=True, clip=5.0).fit(X_SEQ.reshape(-1, 3))
C, S = SCALER.center_, SCALER.scale_


def build(text, hole, weights):
    """Compile ``text`` with the given parameters ``{(path, name): value}``."""
    module = compile_program(text, DSL3, parse_type(hole)).double()
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()
        for (path, name), value in weights.items():
            target = module.node(path)
            for part in name.split("."):
                target = getattr(target, part)
            target.copy_(torch.as_tensor(value, dtype=torch.float64))
    return module.eval()


def threshold_leaf(threshold_mm, w=-3.0, feature=0):
    """``w * z + b`` over the scaled feature, zero at ``threshold_mm``."""
    z = (threshold_mm - C[feature]) / S[feature]
    return {"linear.weight": [[w]], "linear.bias": [-w * z]}


def leaf(path, threshold_mm, w=-3.0, feature=0):
    return {(path, k): v for k, v in threshold_leaf(threshold_mm, w, feature).items()}


def decision(description):
    [cond] = [c for c in description.conditions if c.role == "decision"]
    return cond


# planted rules, built -------------------------------------------------------------


def test_sequence_rule_is_described_in_mm():
    module = build("(last10_avg (affine_distance))", SEQ, leaf((0,), 120.0))
    d = describe_program(
        module, scaler=SCALER, classes=["far", "close"], units=UNITS, frame_rate=30
    )
    text = str(d)
    first = text.splitlines()[1]
    assert first.startswith("1. Predicts close for a sequence when the mean of")
    assert "distance over the last 10 frames (0.3333 s) is below 120 mm" in first
    cond = decision(d)
    assert cond.feature == "distance" and cond.unit == "mm"
    assert cond.threshold == pytest.approx(120.0, rel=1e-9)
    assert cond.above == "far" and cond.reachable is True
    lo, hi = cond.blend  # probability 0.1 and 0.9 of "close"
    assert hi < 120 < lo
    [window] = d.windows
    assert window.production == "last10_avg" and window.lags == (0, 9)
    assert window.frames == 10 and window.seconds == pytest.approx((0, 0.3))
    assert "clips distance to" in " ".join(d.notes)


def test_the_threshold_is_where_the_prediction_changes():
    module = build("(last10_avg (affine_distance))", SEQ, leaf((0,), 120.0))
    t = decision(describe_program(module, scaler=SCALER)).threshold
    X = np.tile(X_SEQ[:1], (2, 1, 1))
    X[0, :, 0], X[1, :, 0] = t - 0.01, t + 0.01
    expl = explain_program(module, X, scaler=SCALER)
    assert expl.decision[0] > 0 > expl.decision[1]


def test_frame_rule_is_described_in_mm():
    module = build("(map (affine_distance))", FRAME, leaf((0,), 80.0))
    d = describe_program(module, scaler=SCALER, units={"distance": "mm"})
    first = str(d).splitlines()[1]
    assert (
        first
        == "1. Predicts 1 at a frame when distance is below 80 mm, and 0 otherwise."
    )
    cond = decision(d)
    assert (cond.feature, cond.unit) == ("distance", "mm")
    assert cond.threshold == pytest.approx(80.0, rel=1e-9)
    assert d.windows == ()


def test_the_tuned_threshold_moves_the_decision():
    module = build("(map (affine_distance))", FRAME, leaf((0,), 80.0))
    d = describe_program(module, scaler=SCALER, logit_offset=3.0)
    # -3 z + 3 z* + 3 > 0: z < z* + 1, one scaler unit higher
    assert decision(d).threshold == pytest.approx(80.0 + S[0])
    assert "logit offset 3" in " ".join(d.notes)


def test_clipping_can_make_a_threshold_unreachable():
    high = C[0] + 6 * S[0]  # past the scaler's clip of 5 scaler units
    module = build("(map (affine_distance))", FRAME, leaf((0,), high))
    d = describe_program(module, scaler=SCALER, units={"distance": "mm"})
    assert decision(d).reachable is False
    assert "never crossed: it is always 1" in str(d)


def test_soft_ite_states_its_blend_range_in_mm():
    weights = leaf((0, 0), 120.0, w=-2.0)
    weights[((1, 0), "value")] = [2.0]
    weights[((2, 0), "linear.weight")] = [[0.5]]
    module = build(
        "(ite (last10_avg (affine_distance)) (last5_avg (const)) "
        "(last5_avg (affine_speed)))",
        SEQ,
        weights,
    )
    d = describe_program(module, scaler=SCALER, units=UNITS)
    [cond] = [c for c in d.conditions if c.role == "if"]
    assert cond.path == () and cond.feature == "distance" and cond.unit == "mm"
    assert cond.threshold == pytest.approx(120.0)
    assert cond.above == "else"  # then-branch below 120 mm
    at10, at90 = cond.blend  # the then-branch's weight is 0.1 and 0.9 there
    width = math.log(9) * S[0] / 2.0  # beta = 1, slope 2 per scaler unit
    assert (at10, at90) == pytest.approx((120 + width, 120 - width))
    text = str(d)
    assert "is below 120 mm" in text and "soft" in text
    assert re.search(r"from 0\.1 at [\d.]+ mm to 0\.9 at [\d.]+ mm", text)
    # the explanation gives the condition's value in mm, and the gate
    expl = explain_program(module, X_SEQ[:20], scaler=SCALER, units=UNITS)
    means = X_SEQ[:20, -10:, 0].mean(axis=1)
    np.testing.assert_allclose(expl.condition_values[:, 0], means, rtol=1e-9)
    gates = 1 / (1 + np.exp(2.0 * (means - 120.0) / S[0]))
    np.testing.assert_allclose(expl.gates[:, 0], gates, rtol=1e-9)
    reason = str(expl[0])
    assert "ite at ()" in reason and "took " in reason
    assert expl.conditions[0].in_input_units and expl.conditions[0].unit == "mm"


def test_an_ite_of_two_constants_is_one_threshold():
    weights = leaf((0, 0), 120.0, w=-2.0)
    weights[((1, 0), "value")] = [3.0]
    weights[((2, 0), "value")] = [-1.0]
    module = build(
        "(ite (last10_avg (affine_distance)) (last5_avg (const)) (last5_avg (const)))",
        SEQ,
        weights,
    )
    d = describe_program(module, scaler=SCALER, units=UNITS)
    t = decision(d).threshold
    # the score s * 3 - (1 - s) is 0 at s = 1/4, above the condition's 120 mm
    assert t == pytest.approx(C[0] + S[0] * ((120 - C[0]) / S[0] + math.log(3) / 2))
    assert "is below" in str(d).splitlines()[1]
    X = np.tile(X_SEQ[:1], (2, 1, 1))
    X[0, :, 0], X[1, :, 0] = t - 0.01, t + 0.01
    expl = explain_program(module, X, scaler=SCALER)
    assert expl.decision[0] > 0 > expl.decision[1]


def test_fold_is_an_exponentially_weighted_average():
    z = (120.0 - C[0]) / S[0]
    module = build(
        "(fold (affine_distance))",
        SEQ,
        {((0,), "linear.weight"): [[-1.0, 0.8]], ((0,), "linear.bias"): [z]},
    )
    d = describe_program(module, scaler=SCALER, units=UNITS, frame_rate=25)
    text = str(d)
    assert "exponentially weighted average of distance (decay 0.8 per frame" in text
    half = math.log(0.5) / math.log(0.8)
    assert f"half-life {half:.4g} frames" in text
    assert decision(d).threshold == pytest.approx(120.0)
    [window] = d.windows
    assert window.kind == "decay" and window.decay == pytest.approx(0.8)
    assert window.half_life == pytest.approx(half)
    assert "starts from zero" in " ".join(d.notes)
    # the quantity explained: the average that counts earlier frames as the centre
    expl = explain_program(module, X_SEQ[:5], scaler=SCALER)
    x = X_SEQ[:5, :, 0]
    T = x.shape[1]
    w = 0.2 * 0.8 ** np.arange(T)[::-1]
    ewma = (x * w).sum(axis=1) + C[0] * 0.8**T
    j = [t.role for t in expl.terms].index("input")
    np.testing.assert_allclose(expl.quantities[:, j], ewma, rtol=1e-9)


def test_kernel_window_gives_where_its_weight_lies_in_frames_and_seconds():
    dsl = default_dsl(3, feature_names=NAMES, kernel_windows=(13,))
    module = compile_program("(kernel13_avg (affine_distance))", dsl, parse_type(SEQ))
    with torch.no_grad():
        module.node(()).centre.fill_(0.5)  # about 7.5 frames back
        module.node(()).width.fill_(-2.0)
    d = describe_program(module, scaler=SCALER, units=UNITS, frame_rate=10)
    [window] = d.windows
    first, last = window.lags
    assert 5 <= first <= 8 <= last <= 10 and window.frames == 13
    assert window.seconds == pytest.approx((first / 10, last / 10))
    assert f"frames t-{last} to t-{first} ({last / 10:g} to" in str(d)


def test_future_frames_name_frames_from_the_labelled_one():
    dsl = lag_maps(default_dsl(3, feature_names=NAMES, kernel_windows=(13,)), 6)
    hole = parse_type("list[3] -> list[1]")
    module = compile_program("(map_prefixes (kernel13_avg (affine)))", dsl, hole)
    with torch.no_grad():
        module.node((0,)).centre.fill_(0.0)  # 6 frames back: frame t
        module.node((0,)).width.fill_(-1.0)
    d = describe_program(module, scaler=SCALER, frame_rate=10, future_frames=6)
    text = str(d)
    assert "The decision about frame t is made 6 frames later (0.6 s)" in text
    # the kernel's weight lies around lag 6, the labelled frame
    [window] = d.windows
    first, last = window.lags
    assert first < 0 < last
    assert f"frames t-{last} to t+{-first} ({last / 10:g} s back to" in text
    # without future_frames, the same program reads frames back from its last one
    plain = str(describe_program(module, scaler=SCALER))
    assert "made 6 frames later" not in plain and "centred 6 frames back" in plain
    # a map of a look-ahead program reads the labelled frame
    module = compile_program("(map (affine_distance))", dsl, hole)
    text = str(describe_program(module, scaler=SCALER, future_frames=6))
    assert "distance at frame t " in text


def test_future_frames_errors():
    dsl = default_dsl(3, feature_names=NAMES)
    seq = compile_program("(last5_avg (affine))", dsl, parse_type(SEQ))
    frame = compile_program("(map (affine))", dsl, parse_type("list[3] -> list[1]"))
    with pytest.raises(ValueError, match="^future_frames is only for per-frame"):
        describe_program(seq, future_frames=2)
    with pytest.raises(ValueError, match="^future_frames must be at least 0"):
        describe_program(frame, future_frames=-2)
    with pytest.raises(TypeError, match="^future_frames must be an int"):
        explain_program(frame, np.zeros((1, 4, 3)), future_frames="auto")
    with pytest.raises(ValueError, match="^future_frames is only for per-frame"):
        to_python_source(seq, classes=[0, 1], future_frames=1)


def test_explanation_with_future_frames_adds_up():
    dsl = lag_maps(default_dsl(3, feature_names=NAMES, kernel_windows=(6,)), 3)
    hole = parse_type("list[3] -> list[1]")
    program = "(ite (kernel6_avg (affine_distance)) (map (affine)) (map_prefixes (last3_avg (affine))))"
    module = compile_program(program, dsl, hole).double()
    x = np.random.default_rng(0).normal(size=(2, 9, 3))
    lengths = np.array([9, 4])
    expl = explain_program(module, x, lengths, future_frames=3)
    assert expl.contributions.shape[:2] == (2, 9)
    np.testing.assert_array_equal(expl.lengths, lengths)
    # the decision about frame t is the output at t + 3 of the extended sequence
    for b, n in enumerate(lengths):
        xs = np.concatenate([x[b, :n], np.repeat(x[b, n - 1 : n], 3, 0)])
        with torch.no_grad():
            want = module(torch.as_tensor(xs[None])).numpy()[0, 3:, 0]
        np.testing.assert_allclose(expl.decision[b, :n], want, atol=1e-9)
        np.testing.assert_allclose(expl.contributions[b, :n].sum(-1), want, atol=1e-9)
    assert len(expl[1]) == 4


def test_a_long_linear_form_lists_its_largest_terms():
    names = [f"f{i}" for i in range(17)] + ["distance"]
    dsl = default_dsl(18, feature_names=names)
    module = compile_program(
        "(last10_avg (affine))", dsl, parse_type("list[18] -> atom[1]")
    )
    with torch.no_grad():
        w = torch.linspace(0.01, 0.2, 18)
        w[-1] = -3.0
        module.node((0,)).linear.weight.copy_(w[None])
    d = describe_program(module, units={"distance": "mm"})
    sentence = d.sentences[0]
    assert sentence.count("the mean of") == 3  # the three largest terms only
    assert "and 15 more terms" in sentence
    assert len(d.terms) == 18
    assert "The largest term is the mean of distance" in d.sentences[1]


def test_product_and_user_function_are_said_not_simplified():
    module = compile_program(
        "(map (multiply (affine_distance) (affine_speed)))", DSL3, parse_type(FRAME)
    )
    text = str(describe_program(module, scaler=SCALER))
    assert "the product of" in text and "not simplified" in text


def test_as_data_and_markdown():
    module = build("(last10_avg (affine_distance))", SEQ, leaf((0,), 120.0))
    d = describe_program(module, scaler=SCALER, units=UNITS, frame_rate=30)
    data = d.to_dict()
    assert data["sentences"] == list(d.sentences)
    assert data["conditions"][0]["threshold"] == pytest.approx(120.0)
    assert data["conditions"][0]["unit"] == "mm"
    assert data["windows"][0]["frames"] == 10
    assert data["terms"][0]["feature"] == "distance"
    md = d.to_markdown()
    assert md.startswith("**Program:** `last10_avg(affine[distance](x))`")
    assert "\n1. Predicts 1" in md and "| decision |" in md
    assert d._repr_markdown_() == md


def test_multiclass_and_tabular_programs():
    rng = np.random.RandomState(0)
    module = compile_program("(affine)", DSL3, parse_type("atom[3] -> atom[3]"))
    d = describe_program(module, classes=["a", "b", "c"])
    assert "the class with the highest score" in str(d)
    assert "for class b:" in str(d)
    X = rng.randn(7, 3)
    expl = explain_program(module.double(), X, classes=["a", "b", "c"])
    with torch.no_grad():
        want = module(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(expl.contributions.sum(axis=-2), want, atol=1e-12)
    np.testing.assert_allclose(expl.decision, want, atol=1e-12)
    assert expl.label_type == "row" and str(expl[0]).startswith("Sample 0: predicted")
    assert list(expl.predictions) == list(np.array(["a", "b", "c"])[want.argmax(1)])


# the estimator -----------------------------------------------------------------------

SEQ_DSL = DSL(
    [
        p
        for p in default_dsl(
            3, feature_names=NAMES, full_affine=False, constant=False
        ).productions
        if p.name not in ("fold", "map", "map_prefixes")
    ],
    3,
    NAMES,
)
FIT = dict(
    max_depth=2,
    search_epochs=6,
    prune_epochs=2,
    selection_epochs=4,
    program_epochs=10,
    finetune_epochs=300,
    max_selection_steps=4,
    grow_steps=0,
    lr=0.2,  # the default 0.02 leaves these fits soft (thresholds 10% off)
    random_state=0,
)


@pytest.fixture(scope="module")
def sequence_fit():
    X, y = planted(0, 400, 20, sequence_rule)
    return ProgramSynthesisClassifier(dsl=SEQ_DSL, **FIT).fit(X, y), X


@pytest.fixture(scope="module")
def frame_fit():
    X, y = planted(0, 100, 30, frame_rule)
    dsl = default_dsl(3, feature_names=NAMES, full_affine=False, constant=False)
    return ProgramSynthesisClassifier(dsl=dsl, **FIT).fit(X, y), X


def test_fitted_sequence_rule(sequence_fit):
    clf, X = sequence_fit
    d = clf.describe(units={"distance": "mm"}, frame_rate=30)
    assert isinstance(d, ProgramDescription)
    cond = decision(d)
    assert cond.feature == "distance" and cond.unit == "mm"
    assert cond.threshold == pytest.approx(120.0, rel=0.05)
    assert "distance" in d.sentences[0] and " mm" in d.sentences[0]
    expl = clf.explain(X[:50], units={"distance": "mm"})
    assert isinstance(expl, ProgramExplanation)
    np.testing.assert_allclose(
        expl.contributions.sum(axis=-1), clf.decision_function(X[:50]), atol=1e-4
    )
    np.testing.assert_array_equal(expl.predictions, clf.predict(X[:50]))
    assert len(expl) == 50 and str(expl[3]).startswith("Sequence 3: predicted")


def test_fitted_frame_rule(frame_fit):
    clf, X = frame_fit
    d = clf.describe(units={"distance": "mm"})
    cond = decision(d)
    assert cond.feature == "distance" and cond.unit == "mm"
    assert cond.threshold == pytest.approx(80.0, rel=0.05)
    assert d.sentences[0].startswith("Predicts 1 at a frame when distance is below")
    expl = clf.explain(X[:10])
    assert expl.contributions.shape[:2] == (10, 30)
    np.testing.assert_allclose(
        expl.contributions.sum(axis=-1), clf.decision_function(X[:10]), atol=1e-4
    )
    reasons = expl[2]
    assert len(reasons) == 30 and str(reasons[4]).startswith(
        "Sequence 2, frame 4: predicted"
    )
    assert str(expl.reason(2, 4)) == str(reasons[4])


def test_ragged_per_frame_explanations(frame_fit):
    clf, X = frame_fit
    seqs = [X[0, :12], X[1], X[2, :5]]
    expl = clf.explain(seqs)
    dec = clf.decision_function(seqs)
    for i, s in enumerate(seqs):
        n = len(s)
        got = expl.contributions[i, :n].sum(axis=-1)
        np.testing.assert_allclose(got, dec[i, :n], atol=1e-4)
        assert np.isnan(expl.contributions[i, n:]).all()
        assert len(expl[i]) == n
    with pytest.raises(ValueError, match="not a real frame"):
        expl.reason(2, 7)
    with pytest.raises(ValueError, match="need a frame"):
        expl.reason(0)


def test_the_export_carries_the_description(sequence_fit):
    clf, X = sequence_fit
    exported = clf.export_program()
    module = load_python_program(exported.source)
    doc = module.__doc__
    assert "What it computes, in the units of its input:" in doc
    first = " ".join(str(clf.describe()).splitlines()[1].split())
    assert first in " ".join(doc.split())
    np.testing.assert_allclose(
        module.decision_function(X[:5].tolist()),
        clf.decision_function(X[:5]),
        atol=1e-4,
    )
    # a description given in words (with units), and text that is not plain
    text = str(clf.describe(units={"distance": "mm"}))
    source = to_python_source(
        clf.module_,
        classes=clf.classes_,
        scaler=clf.scaler_,
        logit_offset=clf.logit_offset_,
        description=text + '\n"""\\',
    )
    assert "below" in load_python_program(source).__doc__
    assert " mm" in load_python_program(source).__doc__


def test_the_export_takes_units_and_frame_rate(sequence_fit):
    clf, X = sequence_fit
    plain = load_python_program(clf.export_program().source).__doc__
    assert " mm" not in plain
    exported = clf.export_program(units={"distance": "mm"}, frame_rate=30)
    doc = " ".join(load_python_program(exported.source).__doc__.split())
    words = " ".join(str(clf.describe(units={"distance": "mm"}, frame_rate=30)).split())
    assert " mm" in doc and "s)" in doc
    assert words.split(". ", 1)[1][:60] in doc
    # the same through the module-level export of a pipeline
    pipe = Pipeline([("scale", SequenceStandardScaler()), ("clf", clone(clf))])
    pipe.fit(X, (X[:, -10:, 0].mean(axis=1) < 120).astype(int))
    source = export_program(pipe, units={"distance": "mm"}).source
    assert " mm" in load_python_program(source).__doc__
    with pytest.raises(ValueError, match=r"unknown features \['depth'\]"):
        clf.export_program(units={"depth": "m"})
    with pytest.raises(TypeError, match="units must be a dict"):
        export_program(pipe, units=["mm"])
    with pytest.raises(ValueError, match="positive, finite"):
        clf.export_program(frame_rate=0)


def test_hostile_names_stay_out_of_the_docstring():
    names = ["a\n__import__('os')", "b", 'c"""']
    dsl = default_dsl(3, feature_names=names)
    module = compile_program("(last10_avg (affine))", dsl, parse_type(SEQ))
    source = to_python_source(module, classes=["x\ny", "z"])
    doc = load_python_program(source).__doc__
    assert "__import__" not in doc and "feature 0" in doc and "feature 2" in doc
    assert "class 0" in doc


def test_describe_and_explain_need_a_fitted_classifier():
    clf = ProgramSynthesisClassifier()
    with pytest.raises(NotFittedError):
        clf.describe()
    with pytest.raises(NotFittedError):
        clf.explain(X_SEQ[:2])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"units": ["mm"]}, TypeError, "units must be a dict"),
        ({"units": {"distance": "mm", "dist": "mm"}}, ValueError, r"\['dist'\]"),
        ({"units": {"distance": 3}}, TypeError, "unit strings|to strings"),
        ({"frame_rate": "30"}, TypeError, "frame_rate must be a positive number"),
        ({"frame_rate": True}, TypeError, "frame_rate must be a positive number"),
        ({"frame_rate": 0}, ValueError, "positive, finite"),
        ({"frame_rate": -30.0}, ValueError, "positive, finite"),
        ({"frame_rate": math.inf}, ValueError, "positive, finite"),
    ],
)
def test_invalid_units_and_frame_rate(sequence_fit, kwargs, error, match):
    clf, X = sequence_fit
    with pytest.raises(error, match=match):
        clf.describe(**kwargs)
    with pytest.raises(error, match=match):
        clf.explain(X[:2], **kwargs)


def test_unknown_feature_names_are_named(sequence_fit):
    clf, _ = sequence_fit
    with pytest.raises(ValueError, match=r"unknown features \['depth'\].*'distance'"):
        clf.describe(units={"depth": "m"})


def test_explain_program_checks_its_input():
    module = build("(last10_avg (affine_distance))", SEQ, leaf((0,), 120.0))
    with pytest.raises(ValueError, match="n_features=3"):
        explain_program(module, X_SEQ[:2, :, :2])
    with pytest.raises(ValueError, match="lengths must hold"):
        explain_program(module, X_SEQ[:2], lengths=[0, 5])
    with pytest.raises(TypeError, match="ProgramModule"):
        describe_program("not a module")
    with pytest.raises(ValueError, match="needs 2 classes"):
        describe_program(module, classes=[0, 1, 2])


# the user-guide page ------------------------------------------------------------------

PAGE = Path(__file__).resolve().parents[1] / "docs" / "reading_a_program.rst"


def _blocks(language):
    text = PAGE.read_text()
    pattern = rf"\.\. code-block:: {language}\n\n((?:    .*\n|\n)+)"
    return [textwrap.dedent(b) for b in re.findall(pattern, text)]


@pytest.mark.slow
def test_the_reading_a_program_page_runs_and_prints_its_programs():
    code = "\n".join(_blocks("python"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(PAGE), "exec"), {})
    printed = out.getvalue()
    shown = [
        b.splitlines()[0] for b in _blocks("text") if b.startswith(("last", "map"))
    ]
    assert shown == [
        "last6_avg(affine[min_res_nose_dist](x))",
        "map(affine[distance](x))",
    ]
    for program in shown:
        assert f"Program: {program}" in printed
    assert "mm, and 0 otherwise." in printed and "Sequence 0: predicted" in printed
