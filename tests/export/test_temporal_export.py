"""Exports of the temporal filter and frame-difference productions.

The exporters read parameters only through ``ProgramModule.leaf``; the
standalone Python export must agree with torch (the programs are also in the
lists of tests/export/test_python.py), and the sympy filter sums must be exact.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
import torch

from sklearn_dpads.export import load_python_program, to_latex, to_python_source
from sklearn_dpads.export.sympy import feature_symbols, to_sympy
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.library import default_dsl
from sklearn_dpads.semantics import compile_program
from sklearn_dpads.semantics.compile import LeafParameters

N_FEATURES = 3
DSL = default_dsl(N_FEATURES, {"a": [0], "b": [2, 1]}, filters=(3,), difference=True)


def build(text, hole, seed=0):
    module = compile_program(text, DSL, parse_type(hole)).double()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.8)
    return module


# ProgramModule.leaf ------------------------------------------------------------------


@pytest.mark.parametrize(
    "symbol, indices", [("filter3", (0, 1, 2)), ("filter3_b", (2, 1))]
)
def test_filter_leaf(symbol, indices):
    module = build(f"({symbol})", "list[3] -> atom[2]")
    leaf = module.leaf(())
    assert (leaf.kind, leaf.indices, leaf.length) == ("filter", indices, 3)
    assert (leaf.value, leaf.beta, leaf.left) == (None, None, None)
    w = np.array(leaf.weight)
    assert w.shape == (2, 3, len(indices)) and len(leaf.bias) == 2
    assert all(type(v) is float for v in w.ravel().tolist())
    # the leaf alone reproduces the module
    x = np.random.default_rng(0).normal(size=(1, 6, N_FEATURES))
    want = module(torch.as_tensor(x)).detach().numpy()[0]
    got = np.array(leaf.bias)
    for j in range(3):
        got = got + w[:, j] @ x[0, max(5 - j, 0), list(indices)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_difference_leaf_has_only_its_kind():
    module = build("(diff (filter3_a))", "list[3] -> atom[1]")
    assert module.leaf(()) == LeafParameters("difference")
    assert module.leaf((0,)).kind == "filter"


# Python ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, hole",
    [
        ("(diff (filter3_b))", "list[3] -> atom[1]"),
        ("(map_prefixes (filter3))", "list[3] -> list[3]"),
        ("(diff (last10_avg (multiply (affine_a) (affine_a))))", "list[3] -> atom[1]"),
        ("(diff (diff (map (affine_b))))", "list[3] -> list[1]"),
    ],
)
def test_python_export_matches_torch(text, hole):
    module = build(text, hole, seed=3)
    n_out = module.hole.output.size
    classes = [0, 1] if n_out == 1 else ["x", "y", "z"]
    source = to_python_source(module, classes=classes, func_name_prefix="m_")
    exported = load_python_program(source, func_name_prefix="m_")
    rng = np.random.default_rng(1)
    lengths = [7, 1, 2, 5]
    X = rng.normal(size=(4, 7, N_FEATURES))
    ragged = [X[i, :n].tolist() for i, n in enumerate(lengths)]
    with torch.no_grad():
        z = module(torch.as_tensor(X), torch.as_tensor(lengths)).numpy()
    got = exported.decision_function(ragged)
    for i, n in enumerate(lengths):
        want = z[i, :n] if module.hole.output.is_seq else z[i]
        want = want[..., 0] if n_out == 1 else want
        np.testing.assert_allclose(np.array(got[i]), want, rtol=1e-9, atol=1e-12)


def test_python_source_lists_filters_and_their_weights():
    module = build("(ite (filter3_b) (diff (filter3)) (filter3))", "list[3] -> atom[1]")
    source = to_python_source(module, classes=[0, 1])
    assert "# Temporal filters:" in source
    assert "#   filter3_b: features [2, 1], group 'b', last 3 frames" in source
    assert "#   filter3: all features, last 3 frames" in source
    assert "def _dp_filter(" in source and "def _dp_differences(" in source
    leaf = module.leaf((0,))
    assert "_n_0_I = (2, 1,)" in source
    assert repr(leaf.weight[0][2][1]) in source  # exact literals
    assert repr(leaf.bias[0]) in source


# sympy -------------------------------------------------------------------------------


def _at_last_frame(expr, symbols, frames, time):
    """Substitute ``x_i[t - j]`` by frame ``max(T - 1 - j, 0)`` of ``frames``."""
    pos = {s.name: i for i, s in enumerate(symbols)}
    T = len(frames)
    values = {}
    for ind in expr.atoms(sympy.Indexed):
        lag = int(-(ind.indices[0] - time))
        values[ind] = sympy.Float(frames[max(T - 1 - lag, 0)][pos[ind.base.label.name]])
    return expr.xreplace(values)


def test_sympy_filter_is_an_exact_sum_over_lagged_frames():
    module = build("(filter3_b)", "list[3] -> atom[2]", seed=5)
    expr = to_sympy(module, simplify=False)
    assert isinstance(expr, sympy.MatrixBase) and expr.shape == (2, 1)
    X0, X1, X2 = feature_symbols(N_FEATURES)
    t = sympy.Symbol("t", integer=True)
    lagged = {sympy.IndexedBase(X)[t - j] for X in (X1, X2) for j in range(3)}
    assert set().union(*(e.atoms(sympy.Indexed) for e in expr)) == lagged
    leaf = module.leaf(())
    assert float(expr[0].coeff(sympy.IndexedBase(X2)[t - 1])) == leaf.weight[0][1][0]
    assert float(expr[1].coeff(sympy.IndexedBase(X1)[t])) == leaf.weight[1][0][1]
    rng = np.random.default_rng(0)
    for n in (1, 2, 6):
        x = rng.normal(size=(1, n, N_FEATURES))
        want = module(torch.as_tensor(x)).detach().numpy()[0]
        got = [float(_at_last_frame(e, [X0, X1, X2], x[0], t)) for e in expr]
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert r"{x_{2}}_{t - 1}" in to_latex(module)


def test_sympy_diff_wraps_its_body():
    module = build("(diff (filter3_a))", "list[3] -> atom[1]", seed=6)
    expr = to_sympy(module)
    assert type(expr).__name__ == "Diff"
    X0 = feature_symbols(N_FEATURES)[0]
    t = sympy.Symbol("t", integer=True)
    body = expr.args[0]
    x = np.random.default_rng(2).normal(size=(1, 5, N_FEATURES))
    d = np.zeros_like(x[0])
    d[1:] = x[0, 1:] - x[0, :-1]
    want = module(torch.as_tensor(x)).detach().numpy()[0, 0]
    got = float(_at_last_frame(body, feature_symbols(N_FEATURES), d, t))
    assert got == pytest.approx(want, rel=1e-12)
    assert body.atoms(sympy.Indexed) == {sympy.IndexedBase(X0)[t - j] for j in range(3)}
    seq = build("(diff (map (affine_b)))", "list[3] -> list[1]")
    assert [type(e).__name__ for e in (to_sympy(seq), to_sympy(seq).args[0])] == [
        "Diff",
        "Map",
    ]
    assert r"\operatorname{Diff}" in to_latex(seq)


def test_sympy_time_symbol_avoids_feature_names():
    module = build("(filter3_a)", "list[3] -> atom[1]")
    expr = to_sympy(module, feature_names=["t", "u", "v"], simplify=False)
    (base,) = {ind.base.label.name for ind in expr.atoms(sympy.Indexed)}
    assert base == "t"
    times = {
        s for ind in expr.atoms(sympy.Indexed) for s in ind.indices[0].free_symbols
    }
    assert {s.name for s in times} == {"t_"}
