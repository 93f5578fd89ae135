"""Tests of ProgramModule.leaf, the one read API of the exporters (and plots).

The exporters must not reach into the production modules; the last test
checks that statically.
"""

from __future__ import annotations

import ast
import random
from pathlib import Path

import numpy as np
import pytest
import torch

import sklearn_dpads.export as export_pkg
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.kinds import fold_production
from sklearn_dpads.library import default_dsl
from sklearn_dpads.program import Program
from sklearn_dpads.semantics import compile_program
from sklearn_dpads.semantics.compile import LeafParameters

N_FEATURES = 4
DSL = default_dsl(
    N_FEATURES, {"a": [2], "b": [0, 3]}, ite_beta=2.5, filters=(3,), difference=True
)


def build(text, hole, dtype=torch.float64, seed=0):
    module = compile_program(text, DSL, parse_type(hole)).to(dtype)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
    return module


def affine_output(leaf: LeafParameters, x: np.ndarray) -> np.ndarray:
    """The affine map written with the leaf's parameters alone."""
    return x[:, list(leaf.indices)] @ np.array(leaf.weight).T + np.array(leaf.bias)


@pytest.mark.parametrize(
    "symbol, indices",
    [("affine", (0, 1, 2, 3)), ("affine_a", (2,)), ("affine_b", (0, 3))],
)
def test_affine_leaf(symbol, indices):
    module = build(f"({symbol})", "atom[4] -> atom[3]")
    leaf = module.leaf(())
    assert leaf.kind == "affine" and leaf.indices == indices
    assert len(leaf.weight) == 3 and all(
        len(row) == len(indices) for row in leaf.weight
    )
    assert len(leaf.bias) == 3
    assert (leaf.value, leaf.beta, leaf.left) == (None, None, None)
    x = np.random.default_rng(0).normal(size=(5, N_FEATURES))
    want = module(torch.as_tensor(x)).detach().numpy()
    np.testing.assert_allclose(affine_output(leaf, x), want, rtol=1e-12)


@pytest.mark.parametrize(
    "symbol, indices", [("affine", (0, 1, 2, 3, 4, 5)), ("affine_b", (0, 3, 4, 5))]
)
def test_affine_in_a_fold_reads_the_accumulator_last(symbol, indices):
    module = build(f"(fold ({symbol}))", "list[4] -> atom[2]")
    leaf = module.leaf((0,))
    assert leaf.indices == indices
    x = np.random.default_rng(1).normal(size=(3, 6))
    want = module.node((0,))(torch.as_tensor(x), None).detach().numpy()
    np.testing.assert_allclose(affine_output(leaf, x), want, rtol=1e-12)


def test_other_kinds():
    text = "(ite (fold (affine_a)) (last5_avg (const)) (last3_avg (affine)))"
    module = build(text, "list[4] -> atom[2]")
    assert module.leaf(()) == LeafParameters("ite", beta=2.5)
    # the condition of an ite is one number: a 1-wide state, no readout
    assert module.leaf((0,)) == LeafParameters("fold", width=1)
    assert module.leaf((1,)) == LeafParameters("window", left=4)
    assert module.leaf((2,)) == LeafParameters("window", left=2)
    const = module.leaf((1, 0))
    assert const.kind == "constant"
    assert const.value == tuple(module.node((1, 0)).value.tolist())
    module = build("(map_prefixes (fold (affine)))", "list[4] -> list[1]")
    assert module.leaf(()) == LeafParameters("map_prefixes")
    assert build("(map (affine))", "list[4] -> list[1]").leaf(()).kind == "map"


def test_values_are_exact_plain_float_copies():
    module = build(
        "(add (affine_b) (const))", "atom[4] -> atom[2]", dtype=torch.float32
    )
    leaf, const = module.leaf((0,)), module.leaf((1,))
    values = [*leaf.bias, *const.value, *(w for row in leaf.weight for w in row)]
    assert all(type(v) is float for v in values)
    assert all(type(i) is int for i in leaf.indices)
    state = module.parameters_by_path()
    w32 = state[(0,)]["linear.weight"]
    assert leaf.weight == tuple(tuple(map(float, row)) for row in w32.tolist())
    assert const.value == tuple(float(v) for v in state[(1,)]["value"])
    with torch.no_grad():  # a copy: later training does not change it
        module.node((1,)).value.add_(1.0)
    assert module.leaf((1,)).value != const.value
    with pytest.raises(AttributeError):
        const.value = (0.0,)  # frozen


def test_every_path_with_parameters_has_them_in_the_leaf():
    rng = random.Random(3)
    hole = parse_type("list[4] -> atom[2]")
    for _ in range(20):
        program = _random_program(rng, hole, 4)
        module = compile_program(program, DSL, hole)
        with_params = module.parameters_by_path()
        for path, _ in program.walk():
            leaf = module.leaf(path)
            numeric = (leaf.weight, leaf.bias, leaf.indices, leaf.value)
            assert (path in with_params) == any(v is not None for v in numeric)


def _random_program(rng, hole, depth):
    prod, child_types = rng.choice(DSL.feasible(hole, depth))
    kids = tuple(_random_program(rng, ct, depth - 1) for ct in child_types)
    return Program(prod.name, kids)


@pytest.mark.parametrize("path", [(1,), (0, 0), (-1,), (0, 5)])
def test_missing_path_raises(path):
    module = build("(map (affine))", "list[4] -> list[1]")
    with pytest.raises(KeyError, match="No node at path"):
        module.leaf(path)
    assert module.leaf([0]).kind == "affine"  # any sequence of ints is a path


def test_exporters_read_parameters_only_through_leaf():
    forbidden = {"linear", "index", "full"}
    for path in Path(export_pkg.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute):
                assert node.attr not in forbidden, (path.name, node.attr, node.lineno)
                bad = node.attr in ("node", "own_state", "parameters_by_path")
                assert not bad, (path.name, node.attr, node.lineno)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [a.name for a in node.names]
                for name in names:
                    assert not name.startswith("sklearn_dpads.library"), path.name
                    assert not name.startswith("sklearn_dpads.preprocessing"), path.name


def test_fold_with_a_wider_state_has_a_readout():
    dsl = default_dsl(4, extra_productions=[fold_production("fold3", 3)])
    module = compile_program(
        "(fold3 (affine))", dsl, parse_type("list[4] -> atom[2]")
    ).double()
    leaf = module.leaf(())
    assert (leaf.kind, leaf.width) == ("fold", 3)
    assert np.array(leaf.weight).shape == (2, 3) and len(leaf.bias) == 2
    # the readout of the last state is the output
    x = torch.randn(2, 5, 4, dtype=torch.float64)
    states = module.node(())._states(x, torch.ones(2, 5, dtype=torch.bool), None)
    want = module(x).detach().numpy()
    got = states[:, -1].detach().numpy() @ np.array(leaf.weight).T + leaf.bias
    np.testing.assert_allclose(got, want, rtol=1e-12)
