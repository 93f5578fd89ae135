"""Tests for the sympy export (sklearn_dpads.export.sympy)."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest
import sympy
import torch

from sklearn_dpads.export import to_latex, to_sympy
from sklearn_dpads.export.sympy import (
    accumulator_symbols,
    feature_symbols,
    sigmoid,
)
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.library import default_dsl, make_production
from sklearn_dpads.program import Program
from sklearn_dpads.semantics import compile_program

N_FEATURES = 3
GROUPS = {"a": [0], "b": [1, 2]}


def py_max(a, b):
    return a if a >= b else b


def py_tanh(a):
    import math

    return math.tanh(a)


MAXIMUM = make_production(
    "maximum", torch.maximum, 2, python_function=py_max, sympy_function=sympy.Max
)
TANH = make_production(
    "tanh", torch.tanh, 1, python_function=py_tanh, sympy_function=sympy.tanh
)
OPAQUE = make_production("opaque", torch.maximum, 2, python_function=py_max)
DSL = default_dsl(
    N_FEATURES,
    GROUPS,
    extra_productions=[MAXIMUM, TANH, OPAQUE],
    filters=(3,),
    difference=True,
)
X0, X1, X2 = feature_symbols(N_FEATURES)


def build(text, hole, seed):
    module = compile_program(text, DSL, parse_type(hole)).double()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.8)
    return module


def np_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def numeric(expr, symbols):
    return sympy.lambdify(
        symbols, expr, modules=[{"sigmoid": np_sigmoid, "opaque": np.maximum}, "numpy"]
    )


def app_names(expr):
    return {type(f).__name__ for f in expr.atoms(sympy.Function)}


@pytest.mark.parametrize("simplify", [True, False])
@pytest.mark.parametrize("n_out", [1, 3])
@pytest.mark.parametrize(
    "text",
    [
        "(add (multiply (affine_a) (affine_b)) (const))",
        "(ite (affine_a) (affine) (affine_b))",
        "(maximum (affine_a) (tanh (affine_b)))",
        "(ite (tanh (affine)) (multiply (const) (affine_b)) (maximum (const) (affine)))",
    ],
)
def test_tabular_expression_matches_torch(text, n_out, simplify):
    module = build(text, f"atom[{N_FEATURES}] -> atom[{n_out}]", seed=n_out)
    expr = to_sympy(module, simplify=simplify)
    if n_out == 1:
        assert isinstance(expr, sympy.Expr)
    else:
        assert isinstance(expr, sympy.MatrixBase) and expr.shape == (n_out, 1)
    assert expr.free_symbols <= {X0, X1, X2}
    X = np.random.default_rng(0).normal(size=(50, N_FEATURES))
    want = module(torch.as_tensor(X)).detach().numpy()
    f = numeric(expr, [X0, X1, X2])
    got = np.array([np.ravel(np.asarray(f(*row), dtype=float)) for row in X])
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-8)


def test_affine_coefficients_are_exact_floats():
    module = build("(affine_b)", f"atom[{N_FEATURES}] -> atom[1]", seed=0)
    expr = to_sympy(module, simplify=False)
    w = module.node(()).linear.weight.detach().reshape(-1).tolist()
    b = float(module.node(()).linear.bias.detach())
    assert float(expr.coeff(X1)) == w[0]
    assert float(expr.coeff(X2)) == w[1]
    assert float(expr.subs({X1: 0, X2: 0})) == b
    assert X0 not in expr.free_symbols


def test_user_function_without_sympy_function_is_undefined():
    module = build("(opaque (affine_a) (const))", f"atom[{N_FEATURES}] -> atom[1]", 1)
    expr = to_sympy(module)
    assert "opaque" in app_names(expr)


def test_map_body_matches_torch_per_frame():
    for n_out in (1, 3):
        module = build(
            "(map (ite (affine_a) (affine_b) (tanh (const))))",
            f"list[{N_FEATURES}] -> list[{n_out}]",
            seed=5,
        )
        expr = to_sympy(module)
        entries = [expr] if n_out == 1 else list(expr)
        bodies = []
        for e in entries:
            assert type(e).__name__ == "Map"
            assert e.free_symbols == {X0, X1, X2}
            bodies.append(e.args[0])
        X = np.random.default_rng(1).normal(size=(2, 7, N_FEATURES))
        want = module(torch.as_tensor(X)).detach().numpy()
        for j, body in enumerate(bodies):
            f = numeric(body, [X0, X1, X2])
            got = np.array([[f(*frame) for frame in seq] for seq in X])
            np.testing.assert_allclose(got, want[..., j], rtol=1e-8, atol=1e-8)


def test_map_body_symbols_are_the_selected_features():
    module = build("(map (affine_b))", f"list[{N_FEATURES}] -> list[1]", seed=2)
    expr = to_sympy(module)
    assert type(expr).__name__ == "Map"
    assert expr.args[0].free_symbols == {X1, X2}


def test_fold_body_matches_torch():
    for n_out in (1, 2):
        module = build(
            "(fold (add (affine_a) (tanh (affine))))",
            f"list[{N_FEATURES}] -> atom[{n_out}]",
            seed=3,
        )
        expr = to_sympy(module)
        acc = accumulator_symbols(n_out)
        if n_out == 1:
            assert type(expr).__name__ == "Fold"
            body = [expr.args[0]]
        else:
            assert all(type(e).__name__ == "Fold" for e in expr)
            assert [int(e.args[1]) for e in expr] == list(range(n_out))
            body = list(expr[0].args[0])
        assert set().union(*(b.free_symbols for b in body)) == {X0, X1, X2, *acc}
        step = numeric(sympy.Matrix(body), [X0, X1, X2, *acc])
        X = np.random.default_rng(2).normal(size=(1, 6, N_FEATURES))
        a = np.zeros(n_out)
        for frame in X[0]:
            a = np.ravel(step(*frame, *a))
        want = module(torch.as_tensor(X)).detach().numpy()[0]
        np.testing.assert_allclose(a, want, rtol=1e-8, atol=1e-8)


def test_sequence_combinator_names():
    cases = {
        "(last5_avg (affine_a))": "Last5Avg",
        "(last10_avg (affine))": "Last10Avg",
        "(last3_avg (affine_b))": "Last3Avg",
        "(last6_avg (affine_a))": "Last6Avg",
    }
    for text, name in cases.items():
        module = build(text, f"list[{N_FEATURES}] -> atom[1]", seed=0)
        assert type(to_sympy(module)).__name__ == name
    module = build(
        "(ite (last6_avg (affine)) (map (affine_a)) (map_prefixes (fold (affine))))",
        f"list[{N_FEATURES}] -> list[1]",
        seed=0,
    )
    expr = to_sympy(module)
    assert {"sigmoid", "Last6Avg", "Map", "MapPrefixes", "Fold"} <= app_names(expr)
    latex = to_latex(module)
    assert r"\sigma" in latex and r"\operatorname{MapPrefixes}" in latex


def test_sigmoid_function():
    x = sympy.Symbol("x", real=True)
    assert sigmoid(0) == sympy.Rational(1, 2)
    assert isinstance(sigmoid(x), sigmoid)
    assert float(sigmoid(sympy.Float(2.0))) == pytest.approx(1 / (1 + np.exp(-2.0)))
    assert float(sigmoid(sympy.Integer(3)).evalf()) == pytest.approx(np_sigmoid(3.0))
    assert (
        sympy.simplify(sympy.diff(sigmoid(x), x) - sigmoid(x) * (1 - sigmoid(x))) == 0
    )
    assert sigmoid(x).rewrite(sympy.exp) == 1 / (1 + sympy.exp(-x))
    assert sympy.latex(sigmoid(x)) == r"\sigma\left(x\right)"


def test_feature_symbol_names_are_valid_and_unique():
    names = ["speed", "Speed", "exp", "acc0", "2 x", "lambda", "a\n__import__('os')"]
    syms = feature_symbols(len(names), names)
    idents = [s.name for s in syms]
    assert len(set(idents)) == len(idents)
    assert all(s.isidentifier() for s in idents)
    assert idents[:2] == ["speed", "speed_2"]
    assert idents[2] == "f_exp" and idents[3] == "f_acc0" and idents[5] == "f_lambda"
    assert all(s.is_real for s in syms)
    assert [s.name for s in feature_symbols(2)] == ["x0", "x1"]
    with pytest.raises(ValueError, match="names"):
        feature_symbols(3, ["a"])


def test_feature_names_are_used():
    module = build("(map (affine_b))", f"list[{N_FEATURES}] -> list[1]", seed=2)
    expr = to_sympy(module, feature_names=["alpha", "beta band", "gamma"])
    assert {s.name for s in expr.args[0].free_symbols} == {"beta_band", "f_gamma"}


def test_simplify_never_grows_the_expression():
    module = build(
        "(ite (affine_a) (add (affine) (const)) (add (affine) (const)))",
        f"atom[{N_FEATURES}] -> atom[1]",
        seed=4,
    )
    raw = to_sympy(module, simplify=False)
    simple = to_sympy(module, simplify=True)
    assert sympy.count_ops(simple) <= sympy.count_ops(raw)


def test_rejects_non_modules():
    with pytest.raises(TypeError, match="ProgramModule"):
        to_sympy(object())


def _random_program(rng, hole, depth):
    prod, child_types = rng.choice(DSL.feasible(hole, depth))
    return Program(
        prod.name, tuple(_random_program(rng, ct, depth - 1) for ct in child_types)
    )


def test_random_programs_export_in_reasonable_time():
    rng = random.Random(7)
    start = time.perf_counter()
    holes = [
        f"list[{N_FEATURES}] -> atom[1]",
        f"atom[{N_FEATURES}] -> atom[3]",
        f"list[{N_FEATURES}] -> list[2]",
        f"atom[{N_FEATURES}] -> atom[1]",
    ]
    for k in range(40):
        hole = parse_type(holes[k % 4])
        program = _random_program(rng, hole, 4)
        module = build(program, str(hole), seed=k)
        expr = to_sympy(module)
        assert isinstance(to_latex(module, simplify=False), str)
        if not hole.input.is_seq:
            X = np.random.default_rng(k).normal(size=(5, N_FEATURES))
            want = module(torch.as_tensor(X)).detach().numpy()
            f = numeric(expr, [X0, X1, X2])
            got = np.array([np.ravel(np.asarray(f(*r), dtype=float)) for r in X])
            np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-8)
    assert time.perf_counter() - start < 60
