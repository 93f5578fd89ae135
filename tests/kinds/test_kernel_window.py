"""The kernel window: weights that sum to one, a centre that moves to the signal."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.grammar import Production
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.kinds import KERNEL_WINDOW, kernel_window_production
from sklearn_dpads.library import default_dsl
from sklearn_dpads.semantics import compile_program

HOLE = parse_type("list[2] -> atom[1]")


def _module(length=13):
    dsl = default_dsl(2, kernel_windows=(length,))
    return compile_program(f"(kernel{length}_avg (affine_x0))", dsl, HOLE)


def test_default_dsl_adds_kernel_windows_after_the_fixed_windows():
    names = [p.name for p in default_dsl(2, kernel_windows=(13, 5)).productions]
    assert names[names.index("last6_avg") + 1 : names.index("last6_avg") + 3] == [
        "kernel13_avg",
        "kernel5_avg",
    ]
    assert "kernel13_avg" not in [p.name for p in default_dsl(2).productions]


@pytest.mark.parametrize(
    "lengths, match",
    [
        ((0,), r"Kernel window length must be an int >= 1, got 0"),
        ((3, 3), r"kernel_windows repeats the length 3"),
        (3, r"kernel_windows must be a sequence of kernel window lengths"),
    ],
)
def test_bad_kernel_window_lengths(lengths, match):
    with pytest.raises(GrammarError, match=match):
        default_dsl(2, kernel_windows=lengths)


def test_bad_production_parameters():
    with pytest.raises(GrammarError, match=r"Kernel window length of 'k' must be"):
        kernel_window_production("k", 0)
    with pytest.raises(GrammarError, match=r"needs params\['length'\]"):
        Production("k", KERNEL_WINDOW, 1, {})


def test_the_kernel_sums_to_one_and_starts_in_the_middle():
    m = _module().node(())
    w = m.kernel().detach().numpy()
    assert w.shape == (13,) and np.isclose(w.sum(), 1.0) and (w > 0).all()
    assert int(np.argmax(w)) == 6  # a new window reads all of itself
    with torch.no_grad():
        m.centre.fill_(-20.0)  # the current frame
    assert int(np.argmax(m.kernel().detach().numpy())) == 0


def test_the_leaf_reads_the_weights():
    module = _module(5)
    leaf = module.leaf(())
    assert leaf.kind == "kernel_window" and leaf.length == 5
    np.testing.assert_allclose(leaf.weight[0], module.node(()).kernel().tolist())


def test_the_centre_moves_to_the_labelled_frame():
    """A label read 10 frames back: training moves the bump there from the middle."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = torch.as_tensor(rng.normal(size=(400, 13, 2)), dtype=torch.float32)
    y = (x[:, 2, 0] > 0).float()  # frame 2 of 0..12 is 10 frames back
    module = _module()
    opt = torch.optim.Adam(module.parameters(), lr=0.05)
    for _ in range(300):
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            module(x)[:, 0] * 4.0, y
        )
        loss.backward()
        opt.step()
    w = module.node(()).kernel().detach().numpy()
    assert int(np.argmax(w)) == 10 and w[10] > 0.6
    acc = ((module(x)[:, 0] > 0).float() == y).float().mean()
    assert acc > 0.9


@pytest.mark.parametrize("length", [1, 2, 20])
def test_short_and_long_kernels_export_and_chunk_like_torch(length):
    """K = 1 (the current frame), K = 2, and K longer than the sequences."""
    from sklearn_dpads.export import to_python_source

    torch.manual_seed(1)
    module = _module(length).double()
    with torch.no_grad():
        module.node(()).centre.fill_(0.7)
    rng = np.random.default_rng(1)
    x = torch.as_tensor(rng.normal(size=(3, 9, 2)))
    lengths = torch.tensor([9, 5, 1])
    want = module(x, lengths)[:, 0].detach().numpy()
    got = module.forward_chunked(x, lengths, chunk_frames=2)[:, 0].detach().numpy()
    np.testing.assert_allclose(got, want, atol=1e-12)
    ns: dict = {}
    exec(to_python_source(module, classes=[0, 1]), ns)
    seqs = [x[b, :n].tolist() for b, n in enumerate(lengths.tolist())]
    np.testing.assert_allclose(ns["decision_function"](seqs), want, atol=1e-10)
    stream = ns["make_stream"]()
    for frame in seqs[0]:
        stream.push(frame)
    np.testing.assert_allclose(stream.decision(), want[0], atol=1e-10)


@pytest.mark.parametrize("length", [1, 4, 13])
def test_the_band_and_the_unfolded_forms_agree(length, monkeypatch):
    """Short outputs go through the band matrix, long ones through unfold."""
    from sklearn_dpads.kinds import kernel_window

    torch.manual_seed(0)
    module = _module(length).double()
    with torch.no_grad():
        module.node(()).centre.fill_(-0.4)
        module.node(()).width.fill_(0.3)
    x = torch.as_tensor(np.random.default_rng(2).normal(size=(4, 30, 2)))
    lengths = torch.tensor([30, 17, 3, 1])
    monkeypatch.setattr(kernel_window, "BAND_FRAMES", 1000)
    band = module(x, lengths)
    band.sum().backward()
    band_grads = [p.grad.clone() for p in module.parameters()]
    module.zero_grad()
    monkeypatch.setattr(kernel_window, "BAND_FRAMES", 0)
    unfold = module(x, lengths)
    unfold.sum().backward()
    np.testing.assert_allclose(band.detach(), unfold.detach(), atol=1e-12)
    for a, p in zip(band_grads, module.parameters()):
        np.testing.assert_allclose(a, p.grad, atol=1e-10)


def test_the_band_holds_the_kernel_on_every_column():
    m = _module(5).node(())
    band = m.band(7).detach()
    assert band.shape == (11, 7)
    w = m.kernel().detach()
    for t in range(7):
        # output frame t reads input frames t .. t + 4, the oldest (lag 4) first
        np.testing.assert_allclose(band[t : t + 5, t], w.flip(0))
        assert band[:, t].sum() == pytest.approx(1.0)
