"""Torch semantics of the temporal filter and frame-difference productions.

Every result is compared with a direct numpy computation of the documented
meaning: ``y_t = b + sum_j W_j x_{t-j}[group]`` with frames before the first
equal to the first, and ``diff(f)(xs) = f(xs')`` with ``xs'_0 = 0``,
``xs'_t = x_t - x_{t-1}``.
"""

import math

import numpy as np
import pytest
import torch

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.grammar import DSLBuilder
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.kinds import filter_production
from sklearn_dpads.kinds.filter import FilterModule
from sklearn_dpads.library import default_dsl
from sklearn_dpads.semantics import compile_program
from sklearn_dpads.semantics.modules import build_production_module
from sklearn_dpads.semantics.ops import (
    Evaluation,
    causal_filter,
    frame_differences,
    lengths_to_mask,
)

F = 3
K = 5
DSL = default_dsl(F, {"a": [0], "bc": [2, 1]}, filters=(K,), difference=True)
SEQ_ATOM = parse_type("list[3] -> atom[2]")
SEQ_SEQ = parse_type("list[3] -> list[2]")
LENGTHS = torch.tensor([12, 3, 1, 8])


def _data(seed=0, B=4, T=12):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, T, F, generator=g, dtype=torch.float64)


def _with_garbage(x, lengths, value=float("nan")):
    x = x.clone()
    for b, n in enumerate(lengths.tolist()):
        x[b, n:] = value
    return x


def np_filter(x, W, b, cols):
    """Direct computation: ``(T, n_features) -> (T, k)``."""
    T, k, length = x.shape[0], W.shape[0], W.shape[1]
    out = np.zeros((T, k))
    for t in range(T):
        out[t] = b
        for j in range(length):
            out[t] += W[:, j] @ x[max(t - j, 0), cols]
    return out


def np_diff(x):
    d = np.zeros_like(x)
    d[1:] = x[1:] - x[:-1]
    return d


def _filter_params(m, path):
    node = m.node(path)
    return node.weight.detach().numpy(), node.bias.detach().numpy()


def _affine_params(m, path):
    lin = m.node(path).linear
    return lin.weight.detach().numpy(), lin.bias.detach().numpy()


# the filter --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "leaf, cols", [("filter5", [0, 1, 2]), ("filter5_bc", [2, 1]), ("filter5_a", [0])]
)
def test_filter_matches_numpy_on_ragged_nan_padded_batches(leaf, cols):
    torch.manual_seed(0)
    x = _data(seed=1)
    xp = _with_garbage(x, LENGTHS)
    xn = x.numpy()
    m = compile_program(f"({leaf})", DSL, SEQ_ATOM).double()
    W, b = _filter_params(m, ())
    assert W.shape == (2, K, len(cols)) and b.shape == (2,)
    y = m(xp, LENGTHS).detach().numpy()
    for i, n in enumerate(LENGTHS.tolist()):
        want = np_filter(xn[i, :n], W, b, cols)[-1]
        np.testing.assert_allclose(y[i], want, atol=1e-12)
    # per prefix (causal): the value at every frame
    m2 = compile_program(f"(map_prefixes ({leaf}))", DSL, SEQ_SEQ).double()
    m2.node((0,)).load_state_dict(m.node(()).state_dict())
    y2 = m2(xp, LENGTHS).detach().numpy()
    for i, n in enumerate(LENGTHS.tolist()):
        np.testing.assert_allclose(
            y2[i, :n], np_filter(xn[i, :n], W, b, cols), atol=1e-12
        )


def test_frames_before_the_first_are_the_first_frame():
    m = compile_program("(map_prefixes (filter5))", DSL, SEQ_SEQ).double()
    W, b = _filter_params(m, (0,))
    c = torch.tensor([0.5, -2.0, 3.0], dtype=torch.float64)
    y = m(c.expand(2, 7, 3).clone(), torch.tensor([7, 2])).detach().numpy()
    steady = W.sum(axis=1) @ c.numpy() + b  # a constant signal: a constant output
    np.testing.assert_allclose(y[0], np.tile(steady, (7, 1)), atol=1e-12)
    np.testing.assert_allclose(y[1, :2], np.tile(steady, (2, 1)), atol=1e-12)
    # a step: before the step every lag reads the first frame
    x = torch.zeros(1, 6, 3, dtype=torch.float64)
    x[0, 0] = c
    y = m(x).detach().numpy()[0]
    for t in range(6):
        lags = [j for j in range(K) if max(t - j, 0) == 0]
        want = sum(W[:, j] @ c.numpy() for j in lags) + b
        np.testing.assert_allclose(y[t], want, atol=1e-12)


def test_filter_padding_never_reaches_real_frames_inside_the_tree():
    """Garbage handed straight to the module (not zeroed by the root) stays out."""
    m = compile_program("(map_prefixes (filter5_bc))", DSL, SEQ_SEQ).double()
    x = _data(seed=2)
    mask = lengths_to_mask(LENGTHS, x.shape[1])
    clean = m.root(_with_garbage(x, LENGTHS, 0.0), mask, None)
    for garbage in (float("nan"), float("inf"), 1e300):
        y = m.root(_with_garbage(x, LENGTHS, garbage), mask, None)
        torch.testing.assert_close(y[mask], clean[mask], atol=0, rtol=0)
        y[mask].sum().backward()
        for name, p in m.named_parameters():
            assert torch.isfinite(p.grad).all(), name
        m.zero_grad()


def test_filter_is_causal():
    m = compile_program("(map_prefixes (filter5))", DSL, SEQ_SEQ).double()
    x = _data(seed=3, B=2, T=9)
    base = m(x)
    for t in range(9):
        x2 = x.clone()
        x2[:, t + 1 :] = 100.0 * torch.randn_like(x2[:, t + 1 :])
        torch.testing.assert_close(m(x2)[:, : t + 1], base[:, : t + 1])


def test_filter_initialisation_is_like_linear():
    torch.manual_seed(0)
    m = compile_program("(filter5_bc)", DSL, SEQ_ATOM)
    node = m.node(())
    assert isinstance(node, FilterModule)
    bound = 1.0 / math.sqrt(K * 2)
    for p in (node.weight, node.bias):
        assert p.abs().max() <= bound
        assert p.abs().max() > 0.5 * bound  # not degenerate
    assert set(m.parameters_by_path()[()]) == {"weight", "bias"}
    assert not torch.equal(node.weight[:, 0], node.weight[:, 1])


def test_filter_reads_indices_in_order():
    dsl = DSLBuilder(3).add(filter_production("flt", 2, [2, 0], "g")).build()
    m = compile_program("(flt)", dsl, parse_type("list[3] -> atom[1]")).double()
    W, b = _filter_params(m, ())
    x = _data(seed=4, B=2, T=5)
    y = m(x).detach().numpy()
    for i in range(2):
        want = np_filter(x.numpy()[i], W, b, [2, 0])[-1]
        np.testing.assert_allclose(y[i], want, atol=1e-12)


def test_filter_module_rejects_features_outside_the_input():
    prod = filter_production("flt", 2, [4])
    with pytest.raises(GrammarError, match=r"'flt' reads features \[4\]"):
        build_production_module(prod, parse_type("list[3] -> atom[1]"), (), 5)


def test_causal_filter_length_one_is_a_per_frame_affine_map():
    x = _data(seed=5)
    W = torch.randn(2, 1, 3, dtype=torch.float64)
    b = torch.randn(2, dtype=torch.float64)
    y = causal_filter(x, None, W, b)
    torch.testing.assert_close(y, x @ W[:, 0].T + b)


# the frame difference -------------------------------------------------------------------


def test_frame_differences_op():
    x = _data(seed=6)
    xp = _with_garbage(x, LENGTHS)
    mask = lengths_to_mask(LENGTHS, x.shape[1])
    d = frame_differences(xp, mask).numpy()
    for i, n in enumerate(LENGTHS.tolist()):
        np.testing.assert_array_equal(d[i, :n], np_diff(x.numpy()[i, :n]))
        assert (d[i, n:] == 0).all()  # padding stays padding (zeroed)
    ctx = Evaluation()
    assert frame_differences(xp, mask, ctx) is frame_differences(xp, mask, ctx)


def test_diff_map_matches_numpy():
    m = compile_program("(diff (map (affine_bc)))", DSL, SEQ_SEQ).double()
    W, b = _affine_params(m, (0, 0))
    x = _data(seed=7)
    y = m(_with_garbage(x, LENGTHS), LENGTHS).detach().numpy()
    for i, n in enumerate(LENGTHS.tolist()):
        want = np_diff(x.numpy()[i, :n])[:, [2, 1]] @ W.T + b
        np.testing.assert_allclose(y[i, :n], want, atol=1e-12)
        np.testing.assert_allclose(y[i, 0], b, atol=1e-12)  # xs'_0 = 0


def test_movement_energy_matches_numpy():
    text = "(diff (last10_avg (multiply (affine_a) (affine_a))))"
    m = compile_program(text, DSL, SEQ_ATOM).double()
    W1, b1 = _affine_params(m, (0, 0, 0))
    W2, b2 = _affine_params(m, (0, 0, 1))
    x = _data(seed=8)
    y = m(_with_garbage(x, LENGTHS), LENGTHS).detach().numpy()
    for i, n in enumerate(LENGTHS.tolist()):
        d = np_diff(x.numpy()[i, :n])[-10:, [0]]
        want = ((d @ W1.T + b1) * (d @ W2.T + b2)).mean(axis=0)
        np.testing.assert_allclose(y[i], want, atol=1e-12)


def test_second_difference_and_diff_of_a_filter():
    m = compile_program("(map_prefixes (diff (diff (filter5_a))))", DSL, SEQ_SEQ)
    m = m.double()
    W, b = _filter_params(m, (0, 0, 0))
    x = _data(seed=9)
    y = m(_with_garbage(x, LENGTHS, float("inf")), LENGTHS).detach().numpy()
    for i, n in enumerate(LENGTHS.tolist()):
        d2 = np_diff(np_diff(x.numpy()[i, :n]))
        if n > 2:  # x_t - 2 x_{t-1} + x_{t-2} from t = 2
            xi = x.numpy()[i]
            np.testing.assert_allclose(d2[2], xi[2] - 2 * xi[1] + xi[0], atol=1e-12)
        np.testing.assert_allclose(y[i, :n], np_filter(d2, W, b, [0]), atol=1e-12)


def test_diff_of_a_constant_signal_is_zero_input():
    m = compile_program("(diff (map (affine)))", DSL, SEQ_SEQ).double()
    _, b = _affine_params(m, (0, 0))
    x = torch.full((2, 6, 3), 4.25, dtype=torch.float64)
    y = m(x).detach().numpy()
    np.testing.assert_allclose(y, np.broadcast_to(b, y.shape), atol=0)


def test_diff_prefix_semantics():
    """The per-step value of diff(f) is diff(f) on the prefix."""
    m = compile_program("(diff (last5_avg (affine)))", DSL, SEQ_ATOM).double()
    x = _data(seed=10, B=2, T=8)
    mask = lengths_to_mask(torch.tensor([8, 8]), 8)
    steps = m.root(x, mask, None)
    for t in range(8):
        torch.testing.assert_close(m(x[:, : t + 1]), steps[:, t], atol=1e-12, rtol=0)


def test_diff_shares_the_differenced_input_in_a_context():
    m = compile_program(
        "(ite (diff (filter5)) (diff (filter5_a)) (filter5))", DSL, SEQ_ATOM
    )
    x = _data(seed=11).float()
    mask = lengths_to_mask(LENGTHS, x.shape[1])
    computed = []

    class Counting(Evaluation):
        def memo(self, key, x, compute):
            def counted():
                computed.append(key)
                return compute()

            return super().memo(key, x, counted)

    y = m.root(x, mask, Counting())
    # computed once for both diff nodes
    assert computed.count(("frame_differences",)) == 1
    torch.testing.assert_close(y, m.root(x, mask, None))
