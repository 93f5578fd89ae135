"""Tests for sklearn_dpads.semantics: production modules, compiled programs."""

import numpy as np
import pytest
import torch

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.grammar import DSLBuilder
from sklearn_dpads.grammar.types import FunctionType, parse_type
from sklearn_dpads.kinds import BUILTIN_KINDS, affine_production, map_production
from sklearn_dpads.library import default_dsl, make_production
from sklearn_dpads.program import Program
from sklearn_dpads.semantics import (
    NeuralAtom,
    NeuralSeq,
    ProgramModule,
    compile_program,
    hidden_width,
    neural_filler,
)
from sklearn_dpads.semantics.ops import lengths_to_mask, zero_padding

F = 3


def torch_max2(a, b):
    return torch.maximum(a, b)


def py_max2(a, b):
    return max(a, b)


def torch_tanh(a):
    return torch.tanh(a)


def py_tanh(a):
    import math

    return math.tanh(a)


MAXP = make_production("maxp", torch_max2, 2, python_function=py_max2)
TANHP = make_production("tanhp", torch_tanh, 1, python_function=py_tanh)
BASE_DSL = default_dsl(
    F, {"a": [0], "bc": [1, 2]}, ite_beta=2.5, extra_productions=[MAXP, TANHP]
)
# with the optional temporal filters and frame difference; the arguments of the
# cases below are the minimal programs of BASE_DSL, so that adding the filter
# leaves (depth 1 for list -> atom holes) does not change the other cases
DSL = default_dsl(
    F,
    {"a": [0], "bc": [1, 2]},
    ite_beta=2.5,
    extra_productions=[MAXP, TANHP],
    filters=(3,),
    difference=True,
)


def _minimal(dsl, hole):
    """The first smallest-depth program filling ``hole``."""
    d = dsl.min_depth(hole)
    prod, child_types = dsl.feasible(hole, d)[0]
    return Program(prod.name, tuple(_minimal(dsl, t) for t in child_types))


def _cases():
    out = []
    for kin, kout in [("list", "list"), ("list", "atom"), ("atom", "atom")]:
        for o in (1, 3):
            hole = parse_type(f"{kin}[{F}] -> {kout}[{o}]")
            for prod in DSL.productions:
                ct = prod.child_types(hole, F)
                if ct is None:
                    continue
                prog = Program(prod.name, tuple(_minimal(BASE_DSL, t) for t in ct))
                out.append(pytest.param(prog, hole, id=f"{prod.name}-{kin}-{kout}{o}"))
    return out


CASES = _cases()
SEQ_CASES = [c for c in CASES if c.values[1].input.is_seq]


def test_every_production_of_the_dsl_is_covered():
    # (that every kind is covered is tests/kinds/test_conformance.py's job)
    kinds = {DSL[c.values[0].symbol].kind for c in CASES}
    assert kinds <= set(BUILTIN_KINDS) and len(kinds) >= 12
    assert {c.values[0].symbol for c in CASES} == {p.name for p in DSL.productions}


def _seq_data(B=4, T=7, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, T, F, generator=g, dtype=dtype)
    lengths = torch.tensor([T, 3, 1, 5][:B])
    return x, lengths


def _with_garbage(x, lengths, value):
    x = x.clone()
    for b, n in enumerate(lengths.tolist()):
        x[b, n:] = value
    return x


@pytest.mark.parametrize("prog, hole", CASES)
def test_output_shapes(prog, hole):
    torch.manual_seed(0)
    m = compile_program(prog, DSL, hole)
    assert isinstance(m, ProgramModule)
    o = hole.output.size
    if hole.input.is_seq:
        x, lengths = _seq_data()
        y = m(x, lengths)
        if hole.output.is_seq:
            assert y.shape == (4, 7, o)  # per frame
        else:
            assert y.shape == (4, o)  # per sequence
        # lengths=None means every sequence has the full length
        assert m(x).shape == y.shape
    else:
        x = torch.randn(5, F)
        y = m(x)
        assert y.shape == (5, o)  # tabular
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("garbage", [1e30, -1e30, float("nan"), float("inf")])
@pytest.mark.parametrize("prog, hole", SEQ_CASES)
def test_padding_invariance(prog, hole, garbage):
    torch.manual_seed(0)
    m = compile_program(prog, DSL, hole).double()
    x, lengths = _seq_data(dtype=torch.float64)
    xp = _with_garbage(x, lengths, garbage)
    y = m(xp, lengths)
    for b, n in enumerate(lengths.tolist()):
        alone = m(x[b : b + 1, :n], torch.tensor([n]))[0]
        got = y[b, :n] if hole.output.is_seq else y[b]
        torch.testing.assert_close(got, alone, atol=1e-6, rtol=0)
        assert torch.isfinite(got).all()
    # gradients must not see the garbage either
    real = y if not hole.output.is_seq else y[lengths_to_mask(lengths, y.shape[1])]
    real.sum().backward()
    for name, p in m.named_parameters():
        assert p.grad is None or torch.isfinite(p.grad).all(), name


@pytest.mark.parametrize("prog, hole", SEQ_CASES)
def test_causality_and_prefix_semantics(prog, hole):
    torch.manual_seed(0)
    m = compile_program(prog, DSL, hole).double()
    x, _ = _seq_data(B=3, T=6, dtype=torch.float64)
    full = torch.full((3,), 6)

    def per_step(inp):
        mask = lengths_to_mask(full, inp.shape[1])
        return m.root(zero_padding(inp, mask), mask, m._new_ctx())

    base = per_step(x)
    assert base.shape == (3, 6, hole.output.size)
    for t in range(6):
        x2 = x.clone()
        x2[:, t + 1 :] = torch.randn_like(x2[:, t + 1 :]) * 10
        torch.testing.assert_close(per_step(x2)[:, : t + 1], base[:, : t + 1])
        if hole.output.is_seq:
            torch.testing.assert_close(m(x2)[:, : t + 1], base[:, : t + 1])
        else:
            # the per-step output is the program's value on the prefix
            prefix = m(x[:, : t + 1])
            torch.testing.assert_close(prefix, base[:, t], atol=1e-10, rtol=0)
            torch.testing.assert_close(m(x2, torch.full((3,), t + 1)), prefix)


# exact semantics against direct computations -----------------------------------


def _linear(m, path):
    lin = m.node(path).linear
    return lin.weight.detach().numpy(), lin.bias.detach().numpy()


WINDOWS = [("last5_avg", 4), ("last10_avg", 9), ("last3_avg", 2), ("last6_avg", 5)]


@pytest.mark.parametrize("name, left", WINDOWS)
@pytest.mark.parametrize("leaf, cols", [("affine", [0, 1, 2]), ("affine_bc", [1, 2])])
def test_window_matches_numpy(name, left, leaf, cols):
    torch.manual_seed(1)
    x, _ = _seq_data(B=4, T=12, seed=3, dtype=torch.float64)
    lengths = torch.tensor([12, 3, 1, 8])
    xp = _with_garbage(x, lengths, float("nan"))
    xn = x.numpy()[:, :, cols]
    m = compile_program(f"({name} ({leaf}))", DSL, parse_type("list[3] -> atom[2]"))
    m = m.double()
    W, b = _linear(m, (0,))
    y = m(xp, lengths).detach().numpy()
    for i, n in enumerate(lengths.tolist()):
        want = W @ xn[i, max(0, n - left - 1) : n].mean(axis=0) + b
        np.testing.assert_allclose(y[i], want, atol=1e-9)
    # per-prefix (causal) version
    m2 = compile_program(
        f"(map_prefixes ({name} ({leaf})))", DSL, parse_type("list[3] -> list[2]")
    ).double()
    W, b = _linear(m2, (0, 0))
    y2 = m2(xp, lengths).detach().numpy()
    for i, n in enumerate(lengths.tolist()):
        for t in range(n):
            want = W @ xn[i, max(0, t - left) : t + 1].mean(axis=0) + b
            np.testing.assert_allclose(y2[i, t], want, atol=1e-9)


@pytest.mark.parametrize("name, left", WINDOWS)
def test_window_averages_the_childs_per_frame_outputs(name, left):
    """mean f(x) over the window, not f(mean x): a nonlinear child keeps its meaning."""
    torch.manual_seed(2)
    x, _ = _seq_data(B=4, T=12, seed=5, dtype=torch.float64)
    lengths = torch.tensor([12, 3, 1, 8])
    xp = _with_garbage(x, lengths, float("nan"))
    xn = x.numpy()
    m = compile_program(
        f"({name} (multiply (affine_a) (affine)))",
        DSL,
        parse_type("list[3] -> atom[2]"),
    ).double()
    Wa, ba = _linear(m, (0, 0))
    W, b = _linear(m, (0, 1))
    y = m(xp, lengths).detach().numpy()
    for i, n in enumerate(lengths.tolist()):
        frames = xn[i, max(0, n - left - 1) : n]
        per_frame = (frames[:, [0]] @ Wa.T + ba) * (frames @ W.T + b)
        np.testing.assert_allclose(y[i], per_frame.mean(axis=0), atol=1e-9)
        energy_of_mean = (frames[:, [0]].mean(0) @ Wa.T + ba) * (
            frames.mean(0) @ W.T + b
        )
        if len(frames) > 1:  # a window of several frames: the two differ
            assert not np.allclose(y[i], energy_of_mean)


@pytest.mark.parametrize("leaf, cols", [("affine", [0, 1, 2]), ("affine_a", [0])])
def test_fold_matches_manual_loop(leaf, cols):
    torch.manual_seed(2)
    x, _ = _seq_data(B=3, T=6, seed=4, dtype=torch.float64)
    lengths = torch.tensor([6, 2, 4])
    hole = parse_type("list[3] -> atom[2]")
    m = compile_program(f"(fold ({leaf}))", DSL, hole).double()
    W, b = _linear(m, (0,))
    assert W.shape == (2, len(cols) + 2)
    y = m(_with_garbage(x, lengths, 1e30), lengths).detach().numpy()
    m2 = ProgramModule(
        Program.parse(f"(map_prefixes (fold ({leaf})))"),
        DSL,
        parse_type("list[3] -> list[2]"),
    ).double()
    m2.node((0, 0)).load_state_dict(m.node((0,)).state_dict())
    y2 = m2(x, lengths).detach().numpy()
    xn = x.numpy()
    for i, n in enumerate(lengths.tolist()):
        a = np.zeros(2)
        for t in range(n):
            a = W @ np.concatenate([xn[i, t, cols], a]) + b
            np.testing.assert_allclose(y2[i, t], a, atol=1e-9)
        np.testing.assert_allclose(y[i], a, atol=1e-9)


def test_map_affine_group_matches_numpy():
    torch.manual_seed(0)
    m = compile_program("(map (affine_bc))", DSL, parse_type("list[3] -> list[2]"))
    x, lengths = _seq_data(dtype=torch.float64)
    m = m.double()
    W, b = _linear(m, (0,))
    y = m(x, lengths).detach().numpy()
    want = x.numpy()[:, :, [1, 2]] @ W.T + b
    mask = lengths_to_mask(lengths, 7).numpy()
    np.testing.assert_allclose(y[mask], want[mask], atol=1e-12)


@pytest.mark.parametrize("indices", [[1, 0], [2, 0, 1], [2, 1, 0], [0, 2]])
def test_affine_reads_indices_in_order(indices):
    dsl = (
        DSLBuilder(3)
        .add(map_production())
        .add(affine_production("grp", indices, "g"))
        .build()
    )
    m = compile_program("(map (grp))", dsl, parse_type("list[3] -> list[1]")).double()
    W, b = _linear(m, (0,))
    assert W.shape == (1, len(indices))
    x, _ = _seq_data(dtype=torch.float64)
    y = m(x).detach().numpy()
    np.testing.assert_allclose(y, x.numpy()[:, :, indices] @ W.T + b, atol=1e-12)


def test_ite_add_multiply_elementwise_constant():
    torch.manual_seed(0)
    hole = parse_type("atom[3] -> atom[2]")
    x = torch.randn(6, 3, dtype=torch.float64)
    m = compile_program(
        "(ite (affine_a) (add (affine_bc) (const))"
        " (multiply (maxp affine const) (tanhp affine)))",
        DSL,
        hole,
    ).double()

    def lin(path):
        W, b = _linear(m, path)
        return torch.as_tensor(W), torch.as_tensor(b)

    Wc, bc_ = lin((0,))
    cond = x[:, [0]] @ Wc.T + bc_
    assert Wc.shape == (1, 1)
    W1, b1 = lin((1, 0))
    then = x[:, [1, 2]] @ W1.T + b1 + m.node((1, 1)).value.detach()
    W2, b2 = lin((2, 0, 0))
    W3, b3 = lin((2, 1, 0))
    c2 = m.node((2, 0, 1)).value.detach()
    other = torch.maximum(x @ W2.T + b2, c2.expand(6, 2)) * torch.tanh(x @ W3.T + b3)
    g = torch.sigmoid(2.5 * cond)
    want = g * then + (1 - g) * other
    torch.testing.assert_close(m(x).detach(), want, atol=1e-12, rtol=0)


def test_constant_is_broadcast():
    m = compile_program("(map (const))", DSL, parse_type("list[3] -> list[2]"))
    x, lengths = _seq_data()
    y = m(x, lengths)
    v = m.node((0,)).value.detach()
    assert torch.equal(y, v.expand(4, 7, 2))


def test_parameters_by_path_and_own_state():
    m = compile_program(
        "(fold (add (affine_a) (const)))", DSL, parse_type("list[3] -> atom[2]")
    )
    by_path = m.parameters_by_path()
    assert set(by_path) == {(0, 0), (0, 1)}
    assert set(by_path[(0, 0)]) == {"linear.weight", "linear.bias"}
    assert set(by_path[(0, 1)]) == {"value"}
    assert m.own_state(()) == {}
    assert m.node((0, 1)) is m.tree.args[0].args[1]
    n_params = sum(p.numel() for p in m.parameters())
    assert n_params == sum(t.numel() for d in by_path.values() for t in d.values())


def test_compile_accepts_program_and_checks_types():
    hole = parse_type("list[3] -> atom[1]")
    m = compile_program(Program.parse("(last5_avg (affine))"), DSL, hole)
    assert m.program == Program.parse("(last5_avg affine)")
    with pytest.raises(GrammarError, match=r"'map' at path \(\) cannot fill"):
        compile_program("(map (affine))", DSL, hole)


def test_set_args_checks_arity():
    m = compile_program("(add (affine) (const))", DSL, parse_type("atom[3] -> atom[1]"))
    with pytest.raises(ValueError, match=r"add takes 2 argument\(s\), got 1"):
        m.tree.set_args([m.tree.args[0]])


# neural fillers ------------------------------------------------------------------


@pytest.mark.parametrize("depth", range(1, 8))
def test_hidden_width_rule(depth):
    assert hidden_width(depth) == max(int(16 * 0.5 ** (depth - 1)), 4)
    assert hidden_width(depth, 64, 2) == max(int(64 * 0.5 ** (depth - 1)), 2)


@pytest.mark.parametrize(
    "hole, cls",
    [
        ("list[3] -> atom[2]", NeuralSeq),
        ("list[3] -> list[2]", NeuralSeq),
        ("atom[5] -> atom[2]", NeuralAtom),
    ],
)
@pytest.mark.parametrize("depth", [1, 2, 4])
def test_neural_filler_shapes_and_width(hole, cls, depth):
    h = parse_type(hole)
    f = neural_filler(h, depth)
    assert isinstance(f, cls)
    width = max(int(16 * 0.5 ** (depth - 1)), 4)
    if cls is NeuralSeq:
        assert f.lstm.hidden_size == width
        x = torch.randn(4, 6, 3)
        mask = lengths_to_mask(torch.tensor([6, 3, 1, 5]), 6)
        y = f(x, mask)
        assert y.shape == (4, 6, 2)
        # causal
        x2 = x.clone()
        x2[:, 3:] = 100.0
        torch.testing.assert_close(f(x2, mask)[:, :3], y[:, :3])
    else:
        assert f.net[0].out_features == width
        assert f.net[0].in_features == 5
        y = f(torch.randn(7, 5), None)
        assert y.shape == (7, 2)


def test_neural_fillers_direct():
    seq = NeuralSeq(
        FunctionType(
            parse_type("list[2] -> atom[1]").input,
            parse_type("list[2] -> atom[3]").output,
        ),
        5,
    )
    assert seq(torch.randn(2, 4, 2), None).shape == (2, 4, 3)
    atom = NeuralAtom(parse_type("atom[2] -> atom[3]"), 5)
    assert atom(torch.randn(9, 2), None).shape == (9, 3)
