"""Tests of the runtime of exported programs (sklearn_dpads.export._runtime).

The helpers are real functions: they are tested here as they are, against
torch where torch has the same operation, and then as copied (and renamed)
into exported source.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from sklearn_dpads.export import _runtime as rt
from sklearn_dpads.export.python import _copy_functions, _rename, _runtime_code
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.semantics.ops import (
    causal_filter,
    frame_differences,
    prefix_window_mean,
)

RUNTIME_FUNCTIONS = [
    obj
    for name, obj in vars(rt).items()
    if inspect.isfunction(obj) and obj.__module__ == rt.__name__
]
# the streaming class is copied too, and its methods must be copyable as well
STREAM_METHODS = [obj for obj in vars(rt.Stream).values() if inspect.isfunction(obj)]
RUNTIME_FUNCTIONS += [rt.Stream]


@pytest.fixture
def exported(monkeypatch):
    """Set the runtime's stand-in constants, as an exported module defines them."""

    def setup(**constants):
        for name, value in constants.items():
            monkeypatch.setattr(rt, name, value)

    return setup


# the helpers, as real code -----------------------------------------------------------


@pytest.mark.parametrize("z", [-800.0, -30.0, -1.5, -1e-300, 0.0, 1e-12, 2.0, 800.0])
def test_sigmoid_is_stable_and_matches_torch(z):
    got = rt._dp_sigmoid(z)
    want = torch.sigmoid(torch.tensor(z, dtype=torch.float64)).item()
    assert got == pytest.approx(want, rel=1e-15, abs=1e-300)
    assert 0.0 <= got <= 1.0
    assert rt._dp_sigmoid(0.0) == 0.5


def test_argmax_takes_the_first_of_ties():
    assert rt._dp_argmax([0.2, 0.5, 0.5, 0.1]) == 1
    assert rt._dp_argmax([0.7]) == 0
    assert rt._dp_argmax([0.1, 0.2, 0.3]) == 2


@pytest.mark.parametrize("z", [[0.0, 0.0, 0.0], [1.0, -2.0, 3.5], [1000.0, 1001.0, -5]])
def test_softmax_matches_torch(z):
    got = rt._dp_proba_softmax(z)
    want = torch.softmax(torch.tensor(z, dtype=torch.float64), dim=0).tolist()
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-300)
    assert math.fsum(got) == pytest.approx(1.0, abs=1e-15)


def test_binary_proba_and_score_add_the_offset(exported):
    exported(LOGIT_OFFSET=-0.75)
    assert rt._dp_score_binary([2.0]) == 1.25
    p0, p1 = rt._dp_proba_binary([2.0])
    assert p1 == rt._dp_sigmoid(1.25) and p0 == 1.0 - p1
    assert rt._dp_score_multi((1.0, 2.0)) == [1.0, 2.0]


def test_frame_validates_and_scales(exported):
    exported(N_FEATURES=3, CENTER=None, SCALE=None, CLIP=None)
    assert rt._dp_frame(np.array([1, 2, 3]), "Row") == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="^Row 4 has 2 features, expected 3.$"):
        rt._dp_frame([1.0, 2.0], "Row 4")
    with pytest.raises(ValueError, match="^Row contains NaN or infinity.$"):
        rt._dp_frame([1.0, math.nan, 2.0], "Row")
    with pytest.raises(ValueError, match="NaN or infinity"):
        rt._dp_frame([1.0, -math.inf, 2.0], "Row")
    exported(CENTER=[1.0, 0.0, -1.0], SCALE=[2.0, 0.5, 1.0])
    assert rt._dp_frame([3.0, 1.0, 9.0], "Row") == [1.0, 2.0, 10.0]
    exported(CLIP=1.5)
    assert rt._dp_frame([3.0, 1.0, -9.0], "Row") == [1.0, 1.5, -1.5]
    # per-feature bounds (a folded pipeline) come after the scaling, before CLIP
    exported(LOW=[2.0, -1.0, -20.0], HIGH=[3.0, 1.0, 20.0])
    assert rt._dp_frame([3.0, 1.0, -9.0], "Row") == [1.5, 1.0, -1.5]
    exported(CLIP=None)
    assert rt._dp_frame([3.0, 1.0, -9.0], "Row") == [2.0, 1.0, -8.0]


def test_sequence_drops_trailing_padding_only(exported):
    exported(N_FEATURES=2, CENTER=None, SCALE=None, CLIP=None)
    nan = math.nan
    seq = [[1.0, 2.0], [nan, 1.0], [3.0, 4.0], [nan, nan], [nan, nan]]
    with pytest.raises(ValueError, match="^Frame 1 of sequence 7 contains NaN"):
        rt._dp_sequence(seq, 7)
    seq[1] = [5.0, 6.0]
    assert rt._dp_sequence(seq, 0) == [[1.0, 2.0], [5.0, 6.0], [3.0, 4.0]]
    with pytest.raises(ValueError, match="Sequence 2 has no frames"):
        rt._dp_sequence([[nan, nan]], 2)
    with pytest.raises(ValueError, match="no frames"):
        rt._dp_sequence([], 0)


@pytest.mark.parametrize("left", [0, 1, 4, 30])
def test_window_means_match_the_torch_semantics(left):
    rng = np.random.default_rng(left)
    x = rng.normal(size=(1, 9, 3))
    mask = torch.ones(1, 9, dtype=torch.bool)
    want = prefix_window_mean(torch.as_tensor(x), mask, left)[0].numpy()
    got = rt._dp_window_means(x[0].tolist(), left)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    assert rt._dp_window_means([], left) == []


@pytest.mark.parametrize("length", [1, 2, 4, 12])
@pytest.mark.parametrize("indices", [(0, 1, 2), (2,), (2, 0)])
def test_filter_matches_the_torch_semantics(length, indices):
    rng = np.random.default_rng(length + len(indices))
    x = rng.normal(size=(1, 9, 3))
    weight = rng.normal(size=(2, length, len(indices)))
    bias = rng.normal(size=2)
    mask = torch.ones(1, 9, dtype=torch.bool)
    want = causal_filter(
        torch.as_tensor(x[..., list(indices)]),
        mask,
        torch.as_tensor(weight),
        torch.as_tensor(bias),
    )[0].numpy()
    got = rt._dp_filter(x[0].tolist(), weight.tolist(), bias.tolist(), indices)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert rt._dp_filter([], weight.tolist(), bias.tolist(), indices) == []


def test_filter_repeats_the_first_frame():
    # y_t = x_t + 10 x_{t-1} + 100 x_{t-2}, frames before the first = the first
    got = rt._dp_filter([[1.0], [2.0], [3.0]], [[[1.0], [10.0], [100.0]]], [0.5], [0])
    assert got == [[111.5], [112.5], [123.5]]


def test_differences_match_the_torch_semantics():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 6, 2))
    mask = torch.ones(1, 6, dtype=torch.bool)
    want = frame_differences(torch.as_tensor(x), mask)[0].numpy()
    got = rt._dp_differences(x[0].tolist())
    np.testing.assert_array_equal(got, want)
    assert rt._dp_differences([[1.0, 2.0], [4.0, 0.0]]) == [[0.0, 0.0], [3.0, -2.0]]
    assert rt._dp_differences([]) == []


def test_fold_returns_every_state():
    seen = []

    def step(v):  # v = frame + accumulator
        seen.append(list(v))
        return [v[0] + v[2], v[1] * 2]

    assert rt._dp_fold(step, [[1.0, 1.0], [2.0, 0.5]], 2) == [[1.0, 2.0], [3.0, 1.0]]
    assert seen == [[1.0, 1.0, 0.0, 0.0], [2.0, 0.5, 1.0, 2.0]]
    assert rt._dp_fold(step, [], 2) == []


def _pushed(push, xs, *args):
    """``push(st, key, x, *args)`` on every frame of ``xs`` with one state dict."""
    st = {}
    out = [push(st, "k", x, *args) for x in xs]
    assert set(st) == {"k"}  # one entry, under the node's key
    return out


@pytest.mark.parametrize("left", [0, 1, 4, 30])
def test_window_push_is_the_window_means_frame_by_frame(left):
    xs = np.random.default_rng(left).normal(size=(9, 3)).tolist()
    st = {}
    got = [rt._dp_window_push(st, "w", x, left) for x in xs]
    assert got == rt._dp_window_means(xs, left)  # to the bit
    assert len(st["w"]) == min(left + 1, 9)  # only what the window reads is kept


@pytest.mark.parametrize("length", [1, 2, 4, 12])
@pytest.mark.parametrize("indices", [(0, 1, 2), (2,), (2, 0)])
def test_filter_push_is_the_filter_frame_by_frame(length, indices):
    rng = np.random.default_rng(length + len(indices))
    xs = rng.normal(size=(9, 3)).tolist()
    weight = rng.normal(size=(2, length, len(indices))).tolist()
    bias = rng.normal(size=2).tolist()
    got = _pushed(rt._dp_filter_push, xs, weight, bias, indices)
    assert got == rt._dp_filter(xs, weight, bias, indices)


def test_difference_and_fold_push_are_the_batch_helpers_frame_by_frame():
    xs = np.random.default_rng(0).normal(size=(6, 2)).tolist()
    assert _pushed(rt._dp_difference_push, xs) == rt._dp_differences(xs)

    def step(v):  # v = frame + accumulator
        return [v[0] + v[2], v[1] * v[3] - 0.5]

    st = {}
    got = [rt._dp_fold_push(st, "f", step, x, 2) for x in xs]
    assert got == rt._dp_fold(step, xs, 2)
    assert st == {"f": got[-1]}


def test_stream_pushes_frames_through_the_root_step(exported):
    def root_step(st, x):  # logit after every frame: running sum of feature 0
        st["sum"] = st.get("sum", 0.0) + x[0]
        return [st["sum"]]

    exported(N_FEATURES=1, CENTER=[1.0], SCALE=[2.0], CLIP=None, LOGIT_OFFSET=0.5)
    exported(CLASSES=["no", "yes"], _s=root_step, _dp_score=rt._dp_score_binary)
    exported(_dp_proba=rt._dp_proba_binary)
    stream = rt.make_stream()
    assert isinstance(stream, rt.Stream) and stream.n_frames == 0
    with pytest.raises(ValueError, match="^No frame has been pushed to the stream"):
        stream.proba()
    assert stream.push([3.0]) == "yes"  # scaled: 1.0, logit 1.5
    assert stream.decision() == 1.5
    assert stream.push(np.array([-7.0])) == "no"  # scaled: -4.0, logit -2.5
    assert stream.proba() == rt._dp_proba_binary([-3.0])
    with pytest.raises(ValueError, match="^Frame 2 contains NaN"):
        stream.push([math.nan])
    assert stream.n_frames == 2 and stream.decision() == -2.5
    stream.reset()
    assert stream.n_frames == 0 and stream.push([1.0]) == "yes"
    assert stream.decision() == 0.5


def _running_sum(xs):
    """A root function: the logit of every prefix is the sum of its feature 0."""
    total, out = 0.0, []
    for x in xs:
        total += x[0]
        out.append([total])
    return out


def test_entry_points_on_sequences(exported):
    X = [[[1.0], [-3.0]], [[0.5], [math.nan]]]
    exported(N_FEATURES=1, CENTER=None, SCALE=None, CLIP=None, LOGIT_OFFSET=0.5)
    exported(CLASSES=["no", "yes"], _n=_running_sum, _dp_score=rt._dp_score_binary)
    exported(_dp_proba=rt._dp_proba_binary, _dp_outputs=rt._dp_outputs_last)
    assert rt.decision_function(X) == [-1.5, 1.0]
    assert rt.predict(X) == ["no", "yes"]
    assert rt.predict_proba(X)[1] == [1.0 - rt._dp_sigmoid(1.0), rt._dp_sigmoid(1.0)]
    exported(_dp_outputs=rt._dp_outputs_steps)
    assert rt.decision_function(X) == [[1.5, -1.5], [1.0]]
    assert rt.predict(X) == [["yes", "no"], ["yes"]]


def test_steps_with_a_delay_read_the_last_frame_repeated(exported):
    X = [[[1.0], [-3.0], [4.0]], [[0.5], [math.nan]]]
    exported(N_FEATURES=1, CENTER=None, SCALE=None, CLIP=None, LOGIT_OFFSET=0.0)
    exported(CLASSES=["no", "yes"], _n=_running_sum, _dp_score=rt._dp_score_binary)
    exported(_dp_proba=rt._dp_proba_binary, _dp_outputs=rt._dp_outputs_steps)
    exported(DELAY=2)
    # frame t's decision is the output at t + 2, the last frame repeated twice
    assert rt.decision_function(X) == [[2.0, 6.0, 10.0], [1.5]]
    assert rt.predict(X) == [["yes", "yes", "yes"], ["yes"]]


def _running_sum_stream(exported, delay):
    def root_step(st, x):  # logit after every frame: running sum of feature 0
        st["sum"] = st.get("sum", 0.0) + x[0]
        return [st["sum"]]

    exported(N_FEATURES=1, CENTER=None, SCALE=None, CLIP=None, LOGIT_OFFSET=0.0)
    exported(CLASSES=["no", "yes"], _s=root_step, _dp_score=rt._dp_score_binary)
    exported(_dp_proba=rt._dp_proba_binary, DELAY=delay)
    return rt.make_stream()


def test_delayed_stream_decides_each_frame_delay_frames_late(exported):
    stream = _running_sum_stream(exported, 2)
    assert stream.push([1.0]) is None and stream.push([-3.0]) is None
    with pytest.raises(
        ValueError, match="^No frame has been decided yet: the program reads 2"
    ):
        stream.decision()
    assert stream.push([4.0]) == "yes"  # frame 0: sum of frames 0..2
    assert stream.decision() == 2.0 and stream.n_frames == 3
    # the last two frames read the last frame repeated
    assert stream.flush() == ["yes", "yes"]
    assert stream.decision() == 10.0
    assert stream.flush() == []
    with pytest.raises(ValueError, match="^The stream was flushed"):
        stream.push([1.0])
    stream.reset()
    assert stream.push([-1.0]) is None
    # a sequence shorter than the delay: flush decides all its frames
    assert stream.flush() == ["no"] and stream.decision() == -3.0


def test_delayed_stream_agrees_with_the_batch_entry_points(exported):
    def root(xs):
        total, out = 0.0, []
        for x in xs:
            total = 0.5 * total + x[0]
            out.append([total])
        return out

    def root_step(st, x):
        st["s"] = 0.5 * st.get("s", 0.0) + x[0]
        return [st["s"]]

    exported(N_FEATURES=1, CENTER=None, SCALE=None, CLIP=None, LOGIT_OFFSET=-0.25)
    exported(CLASSES=[0, 1], _n=root, _s=root_step, _dp_score=rt._dp_score_binary)
    exported(_dp_proba=rt._dp_proba_binary, _dp_outputs=rt._dp_outputs_steps)
    rng = np.random.default_rng(0)
    for delay in (0, 1, 3):
        exported(DELAY=delay)
        for n in (1, 2, 7):
            xs = rng.normal(size=(n, 1)).tolist()
            stream = rt.make_stream()
            labels = [stream.push(x) for x in xs] + stream.flush()
            assert labels[: min(delay, n)] == [None] * min(delay, n)
            assert [v for v in labels if v is not None] == rt.predict([xs])[0]
            assert stream.decision() == rt.decision_function([xs])[0][-1]


def test_flush_of_an_empty_stream_returns_nothing(exported):
    stream = _running_sum_stream(exported, 3)
    assert stream.flush() == []
    with pytest.raises(ValueError, match="^No frame has been pushed"):
        stream.proba()


def test_entry_points_on_rows(exported):
    exported(N_FEATURES=2, CENTER=[0.0, 1.0], SCALE=[1.0, 1.0], CLIP=None)
    exported(CLASSES=[3, 1, 2], _n=lambda x: [x[0], x[1], 0.0])
    exported(_dp_proba=rt._dp_proba_softmax, _dp_score=rt._dp_score_multi)
    exported(_dp_outputs=rt._dp_outputs_rows)
    assert rt.decision_function([[1.0, 1.0], [0.0, 3.0]]) == [
        [1.0, 0.0, 0.0],
        [0.0, 2.0, 0.0],
    ]
    assert rt.predict([[1.0, 1.0], [0.0, 3.0]]) == [3, 1]
    with pytest.raises(ValueError, match="^Sample 1 has 1 features"):
        rt.predict([[1.0, 1.0], [0.0]])


# what makes the helpers copyable ----------------------------------------------------


def test_runtime_uses_only_math_and_no_annotations():
    tree = ast.parse(Path(rt.__file__).read_text())
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [a.name for n in imports for a in n.names] == ["math"]
    for fn in RUNTIME_FUNCTIONS + STREAM_METHODS:
        assert not fn.__annotations__, fn.__name__
        assert inspect.getdoc(fn), fn.__name__


def test_no_runtime_global_inside_an_f_string():
    globals_ = {n for n in vars(rt) if not n.startswith("__")} - {"math"}
    for fn in RUNTIME_FUNCTIONS:
        for node in ast.walk(ast.parse(inspect.getsource(fn))):
            if isinstance(node, ast.JoinedStr):
                names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                assert not names & globals_, (fn.__name__, names & globals_)


def test_rename_changes_names_only():
    src = 'def f(a):\n    """f and CLASSES."""\n    return math.f(CLASSES, "CLASSES", a.CLASSES)\n'
    got = _rename(src, {"f": "p_g", "CLASSES": "p_CLASSES"})
    assert got == (
        'def p_g(a):\n    """f and CLASSES."""\n'
        '    return math.f(p_CLASSES, "CLASSES", a.CLASSES)\n'
    )


def _fstring_user(x):
    return f"{CLASSES}"  # noqa: F821 - a module-level name of an export


def test_copy_rejects_a_global_it_cannot_rename():
    assert "CLASSES" in _copy_functions({"_f": _fstring_user}, "")
    with pytest.raises(RuntimeError, match=re.escape("['CLASSES']")):
        _copy_functions({"_f": _fstring_user}, "p_")


HOLES = ["atom[3] -> atom[1]", "list[3] -> atom[3]", "list[3] -> list[1]"]
SEQ_HELPERS = {"_dp_fold", "_dp_window_means", "_dp_filter", "_dp_differences"}
SEQ_HELPERS |= {"_dp_fold_push", "_dp_window_push", "_dp_filter_push"}
SEQ_HELPERS |= {"_dp_difference_push"}


@pytest.mark.parametrize("hole", HOLES)
@pytest.mark.parametrize("prefix", ["", "m2_"])
def test_copied_runtime_is_the_runtime_renamed(hole, prefix):
    hole = parse_type(hole)
    n_out = hole.output.size
    helpers = set()
    if hole.input.is_seq:
        helpers = set(SEQ_HELPERS)
    code = _runtime_code(hole, n_out, helpers, prefix)
    defined = [
        n.name
        for n in ast.parse(code).body
        if isinstance(n, (ast.FunctionDef, ast.ClassDef))
    ]
    want = ["_dp_sigmoid", "_dp_proba", "_dp_score", "_dp_argmax", "_dp_frame"]
    want += ["_dp_sequence"] if hole.input.is_seq else []
    want += ["_dp_outputs", *sorted(helpers)]
    want += ["decision_function", "predict_proba", "predict"]
    # the streaming form only for sequence input
    want += ["Stream", "make_stream"] if hole.input.is_seq else []
    assert defined == [prefix + n for n in want]
    # undoing the renaming gives back the runtime's own source, verbatim
    variant = {
        "_dp_proba": "_dp_proba_binary" if n_out == 1 else "_dp_proba_softmax",
        "_dp_score": "_dp_score_binary" if n_out == 1 else "_dp_score_multi",
        "_dp_outputs": (
            "_dp_outputs_rows"
            if not hole.input.is_seq
            else "_dp_outputs_steps"
            if hole.output.is_seq
            else "_dp_outputs_last"
        ),
    }
    blocks = re.split(r"\n\n\n(?=def |class )", code)
    assert len(blocks) == len(want)
    for name, block in zip(want, blocks):
        original = inspect.getsource(getattr(rt, variant.get(name, name)))
        back = re.sub(rf"\b{prefix}(\w)", r"\1", block) if prefix else block
        kw = "class" if name == "Stream" else "def"
        back = back.replace(f"{kw} {name}", f"{kw} {variant.get(name, name)}", 1)
        assert back.rstrip() == original.rstrip(), name
    # every name it uses is defined by it, by the exported module or is a builtin
    tree = ast.parse(code)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    module_names = {prefix + n for n in ("CLASSES", "N_FEATURES", "LOGIT_OFFSET")}
    module_names |= {prefix + n for n in ("CENTER", "SCALE", "CLIP", "_n", "_s")}
    module_names |= {prefix + n for n in ("LOW", "HIGH", "DELAY")}
    local = {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    local |= {
        n.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    unknown = used - set(defined) - module_names - local - set(dir(builtins))
    assert unknown == {"math"}
