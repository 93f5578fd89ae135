"""Chunked evaluation: a program run a chunk of frames at a time equals one pass.

Every temporal module carries what the next chunk needs in the evaluation's
chunk state (``ops.Evaluation.carry``): the fold's accumulator, the last
frames of windows, filters and frame differences.
``ProgramModule.forward_chunked`` must give the outputs of ``forward`` for
every production, every chunk size (one frame included) and ragged batches
whose sequences end in different chunks.
"""

import numpy as np
import pytest
import torch

import sklearn_dpads.kinds.fold as modules
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.kinds import fold_production
from sklearn_dpads.library import default_dsl
from sklearn_dpads.semantics import compile_program
from sklearn_dpads.semantics.ops import (
    Evaluation,
    carried,
    causal_filter,
    causal_filter_chunk,
    frame_differences,
    lengths_to_mask,
    linear_recurrence,
    prefix_window_mean,
    window_mean_chunk,
)

F = 3
FOLD3 = fold_production("fold3", 3)
DSL = default_dsl(
    F, {"a": [0], "b": [2, 1]}, filters=(3,), difference=True, extra_productions=[FOLD3]
)

# every temporal production, at both kinds of root
SEQ_SEQ = [
    "(map (ite (affine_a) (affine_b) (const)))",
    "(map (add (multiply (affine_a) (affine_b)) (const)))",
    "(map_prefixes (fold (affine_b)))",
    "(map_prefixes (fold (ite (affine_a) (affine) (multiply (affine_b) (const)))))",
    "(map_prefixes (fold3 (add (affine_b) (const))))",
    "(map_prefixes (fold3 (ite (affine_a) (affine) (multiply (affine_b) (const)))))",
    "(map_prefixes (last5_avg (affine_a)))",
    "(map_prefixes (last10_avg (affine)))",
    "(map_prefixes (last3_avg (affine_b)))",
    "(map_prefixes (last6_avg (multiply (affine_a) (affine_b))))",
    "(map_prefixes (filter3_b))",
    "(diff (map (affine_b)))",
    "(ite (diff (filter3)) (map_prefixes (diff (filter3_a))) (diff (map (affine))))",
    "(ite (last6_avg (affine)) (map (affine_a)) (map_prefixes (fold (affine))))",
]
SEQ_ATOM = [
    "(fold (affine))",
    "(fold (ite (affine_b) (affine_a) (multiply (affine) (const))))",
    "(fold3 (affine))",
    "(last10_avg (affine))",
    "(filter3)",
    "(diff (diff (filter3_b)))",
    "(ite (filter3_b) (diff (last5_avg (multiply (affine_a) (affine_a)))) (fold (affine)))",
]
CASES = [(t, "list[3] -> list[2]") for t in SEQ_SEQ]
CASES += [(t, "list[3] -> atom[2]") for t in SEQ_ATOM]
LENGTHS = torch.tensor([40, 1, 17, 33, 9])


def build(text, hole, seed=0):
    module = compile_program(text, DSL, parse_type(hole)).double().eval()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            # small weights: folds stay bounded over long sequences
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.4)
    return module


def data(T=40, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(len(LENGTHS), T, F, generator=g, dtype=torch.float64)
    for b, n in enumerate(LENGTHS.tolist()):
        x[b, n:] = float("nan")  # padding never reaches a real output
    return x


def real(y, lengths):
    """The outputs of the real frames (sequence outputs) or y itself."""
    if y.dim() == 2:
        return y
    return torch.cat([y[b, :n] for b, n in enumerate(lengths.tolist())])


def test_cases_cover_every_production():
    used = set()
    for text, hole in CASES:
        used |= set(compile_program(text, DSL, parse_type(hole)).program.symbols())
    assert used == {p.name for p in DSL.productions}


@pytest.mark.parametrize("text, hole", CASES)
@pytest.mark.parametrize("chunk", [1, 3, 16, 39])
def test_chunked_equals_one_pass(text, hole, chunk):
    module = build(text, hole)
    x = data()
    with torch.no_grad():
        want = module(x, LENGTHS)
        got = module.forward_chunked(x, LENGTHS, chunk_frames=chunk)
    assert got.shape == want.shape
    torch.testing.assert_close(
        real(got, LENGTHS), real(want, LENGTHS), rtol=1e-10, atol=1e-12
    )


def test_nonlinear_fold_loop_carries_its_state(monkeypatch):
    # the frame loop (no parallel scan) carries the accumulator too
    monkeypatch.setattr(modules, "_linear_body", lambda *a: None)
    module = build(
        "(map_prefixes (fold3 (add (affine_b) (const))))", "list[3] -> list[2]"
    )
    x = data()
    with torch.no_grad():
        want = module(x, LENGTHS)
        got = module.forward_chunked(x, LENGTHS, chunk_frames=5)
    torch.testing.assert_close(real(got, LENGTHS), real(want, LENGTHS))


def test_short_input_is_one_pass_and_atoms_pass_through():
    module = build("(map_prefixes (fold (affine_b)))", "list[3] -> list[2]")
    x = data()
    with torch.no_grad():
        assert torch.equal(
            module.forward_chunked(x, LENGTHS, chunk_frames=40), module(x, LENGTHS)
        )
    tab = build("(ite (affine_a) (affine) (const))", "atom[3] -> atom[2]")
    rows = torch.randn(4, F, dtype=torch.float64)
    with torch.no_grad():
        assert torch.equal(tab.forward_chunked(rows, chunk_frames=1), tab(rows))


def test_chunks_are_converted_to_the_parameters_dtype():
    module = build("(last5_avg (affine))", "list[3] -> atom[2]")
    x = data().nan_to_num().float()
    with torch.no_grad():
        got = module.forward_chunked(x, LENGTHS, chunk_frames=8)
        want = module(x.double(), LENGTHS)
    assert got.dtype == torch.float64
    torch.testing.assert_close(got, want)
    # lengths default to every frame
    with torch.no_grad():
        torch.testing.assert_close(
            module.forward_chunked(x, chunk_frames=8), module(x.double())
        )


def test_chunks_see_bounded_tensors():
    """Every module sees at most chunk_frames frames at once."""
    module = build(SEQ_SEQ[-2], "list[3] -> list[2]")
    x = torch.randn(2, 500, F, dtype=torch.float64)
    seen = []

    def hook(mod, args, out):
        seen.append(max(args[0].shape[1] if args[0].dim() == 3 else 0, 0))

    handles = [m.register_forward_hook(hook) for m in module.modules()]
    with torch.no_grad():
        module.forward_chunked(x, chunk_frames=64)
    for h in handles:
        h.remove()
    assert seen and max(seen) == 64


@pytest.mark.parametrize("bad", [0, -3, 2.5, "8", True, None])
def test_bad_chunk_frames_raise(bad):
    module = build("(fold (affine))", "list[3] -> atom[2]")
    with pytest.raises(ValueError, match="chunk_frames must be a positive integer"):
        module.forward_chunked(data(), LENGTHS, chunk_frames=bad)


def test_numpy_integer_chunk_frames():
    module = build("(fold (affine))", "list[3] -> atom[2]")
    with torch.no_grad():
        got = module.forward_chunked(data(), LENGTHS, chunk_frames=np.int64(6))
        torch.testing.assert_close(got, module(data(), LENGTHS))


# the chunk operations -------------------------------------------------------------


def _split(x, mask, sizes):
    s = 0
    for n in sizes:
        yield x[:, s : s + n], mask[:, s : s + n]
        s += n


@pytest.mark.parametrize("sizes", [[1] * 12, [5, 7], [2, 1, 9]])
def test_ops_on_chunks_equal_the_whole(sizes):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(3, 12, 2, generator=g, dtype=torch.float64)
    mask = lengths_to_mask(torch.tensor([12, 4, 8]), 12)
    weight = torch.randn(2, 4, 2, generator=g, dtype=torch.float64)
    bias = torch.randn(2, generator=g, dtype=torch.float64)
    coef = 0.5 * torch.randn(3, 12, 2, 2, generator=g, dtype=torch.float64)
    filt, win, diff, rec = [], [], [], []
    h_f = h_w = prev = state = None
    s = 0
    for xc, mc in _split(x, mask, sizes):
        y, h_f = causal_filter_chunk(xc, mc, weight, bias, h_f)
        filt.append(y)
        y, h_w = window_mean_chunk(xc, mc, 3, h_w)
        win.append(y)
        diff.append(frame_differences(xc, mc, previous=prev))
        prev = xc[:, -1]
        y = linear_recurrence(coef[:, s : s + xc.shape[1]], xc, state)
        state = y[:, -1]
        rec.append(y)
        s += xc.shape[1]
    m = mask[..., None]
    torch.testing.assert_close(
        torch.cat(filt, 1) * m, causal_filter(x, mask, weight, bias) * m
    )
    assert torch.equal(torch.cat(win, 1), prefix_window_mean(x, mask, 3))
    assert torch.equal(torch.cat(diff, 1), frame_differences(x, mask))
    torch.testing.assert_close(torch.cat(rec, 1), linear_recurrence(coef, x))


def test_carried_reads_the_evaluation():
    assert carried(None) is None
    assert carried(Evaluation()) is None
    state = {}
    assert carried(Evaluation(carry=state)) is state
