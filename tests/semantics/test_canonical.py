"""Canonical programs: redundant leaves folded, values unchanged."""

import pytest
import torch

from sklearn_dpads.grammar.canonical import (
    canonical_cost,
    canonical_form,
    features_read,
    fold_pair,
)
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.library import default_dsl
from sklearn_dpads.program import Program
from sklearn_dpads.semantics import compile_program
from sklearn_dpads.semantics.canonical import canonicalize

DSL = default_dsl(3, {"a": [0], "bc": [1, 2], "ab": [0, 1]})
SEQ = parse_type("list[3] -> atom[2]")

CASES = [
    # (program, canonical program)
    ("(map (add (affine) (affine_a)))", "(map (affine))"),
    ("(map (add (affine_a) (affine)))", "(map (affine))"),
    ("(map (add (affine_a) (affine_ab)))", "(map (affine_ab))"),
    ("(map (add (affine_a) (affine_bc)))", "(map (add (affine_a) (affine_bc)))"),
    ("(map (add (affine_bc) (const)))", "(map (affine_bc))"),
    ("(map (add (const) (const)))", "(map (const))"),
    ("(map (multiply (const) (affine_a)))", "(map (affine_a))"),
    ("(map (multiply (affine_a) (const)))", "(map (affine_a))"),
    (
        "(map (multiply (affine_a) (affine_a)))",
        "(map (multiply (affine_a) (affine_a)))",
    ),
    (
        "(last10_avg (add (add (affine_a) (affine)) (add (const) (affine_bc))))",
        "(last10_avg (affine))",
    ),
    ("(fold (add (affine_a) (affine)))", "(fold (affine))"),
    ("(fold (add (affine_a) (affine_a)))", "(fold (affine_a))"),
    (
        "(ite (fold (add (affine) (const))) (last5_avg (affine_a)) "
        "(last3_avg (add (affine_bc) (affine))))",
        "(ite (fold (affine)) (last5_avg (affine_a)) (last3_avg (affine)))",
    ),
    (
        "(map_prefixes (ite (last5_avg (multiply (const) (affine_a))) "
        "(fold (affine)) (last10_avg (add (affine_bc) (affine_bc)))))",
        "(map_prefixes (ite (last5_avg (affine_a)) (fold (affine)) "
        "(last10_avg (affine_bc))))",
    ),
]


def _hole(text):
    seq_out = text.startswith("(map")
    return parse_type("list[3] -> list[2]") if seq_out else SEQ


@pytest.mark.parametrize("text, want", CASES)
def test_canonical_form(text, want):
    program = Program.parse(text)
    canon = canonical_form(program, DSL)
    assert str(canon) == want
    assert canonical_cost(program, DSL) == canon.size
    assert canonical_form(canon, DSL) == canon  # idempotent


@pytest.mark.parametrize("text, want", CASES)
def test_canonicalize_keeps_the_value(text, want):
    torch.manual_seed(0)
    module = compile_program(text, DSL, _hole(text)).double()
    for p in module.parameters():
        p.data.normal_()
    x = torch.randn(4, 9, 3, dtype=torch.float64)
    lengths = torch.tensor([9, 5, 1, 7])
    canon = canonicalize(module)
    assert str(canon.program) == want
    assert (canon is module) == (want == text)
    torch.testing.assert_close(canon(x, lengths), module(x, lengths))
    assert next(canon.parameters()).dtype == torch.float64


def test_canonicalize_leaves_the_module_unchanged():
    module = compile_program("(map (add (affine) (affine_a)))", DSL, _hole("(map"))
    before = {k: v.clone() for k, v in module.state_dict().items()}
    canonicalize(module)
    assert str(module.program) == "(map (add (affine) (affine_a)))"
    for k, v in module.state_dict().items():
        assert torch.equal(v, before[k])


@pytest.mark.parametrize("kind", ["ite", "map"])
def test_only_add_and_multiply_fold(kind):
    assert fold_pair(DSL[kind].kind, DSL["const"], DSL["affine"]) is None


@pytest.mark.parametrize(
    "text, want",
    [
        ("(map (affine))", 1.0),
        ("(map (affine_bc))", 2 / 3),
        ("(map (add (affine_a) (affine_bc)))", 1.0),
        ("(map (const))", 0.0),
        # the canonical form's leaves: add(affine, affine_a) is affine
        ("(map (add (affine) (affine_a)))", 1.0),
        ("(ite (fold (affine_a)) (last5_avg (affine)) (last3_avg (const)))", 4 / 3),
    ],
)
def test_features_read_sums_the_share_each_leaf_reads(text, want):
    assert features_read(Program.parse(text), DSL) == pytest.approx(want)
