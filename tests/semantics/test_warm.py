"""Tests for sklearn_dpads.semantics.warm: edited programs start from their parent's weights."""

import copy

import pytest
import torch

from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.library import default_dsl
from sklearn_dpads.program import Program
from sklearn_dpads.semantics import compile_program
from sklearn_dpads.semantics.warm import CONDITION_GAIN, lines_up, warm_start

DSL = default_dsl(3, feature_groups={"a": [0], "b": [1, 2]})
HOLE = parse_type("list[3] -> atom[1]")
X = torch.randn(7, 9, 3, generator=torch.Generator().manual_seed(0))


def _trained(text, seed):
    torch.manual_seed(seed)
    module = compile_program(text, DSL, HOLE)
    with torch.no_grad():  # weights no initialisation would give
        for p in module.parameters():
            p.add_(torch.randn_like(p))
    return module


def _fresh(text, seed=99):
    torch.manual_seed(seed)
    return compile_program(text, DSL, HOLE)


def test_a_grown_branch_computes_what_its_parent_did():
    parent = _trained("(last5_avg (add (affine) (affine_a)))", 0)
    before = copy.deepcopy(parent.state_dict())
    new = _fresh(
        "(last5_avg (ite (affine_b) (add (affine) (affine_a)) (add (affine) (affine_a))))"
    )
    assert not torch.allclose(new(X), parent(X))
    copied = warm_start(new, parent)
    # the window, and both branches' add and their two leaves
    assert copied == 7
    torch.testing.assert_close(new(X), parent(X), rtol=0, atol=1e-6)
    # the condition keeps its fresh weights, sharpened (bias 0) so that the
    # two branches part; the parent is left as it was
    fresh = _fresh(
        "(last5_avg (ite (affine_b) (add (affine) (affine_a)) (add (affine) (affine_a))))"
    )
    cond, start = new.own_state((0, 0)), fresh.own_state((0, 0))
    torch.testing.assert_close(
        cond["linear.weight"], CONDITION_GAIN * start["linear.weight"]
    )
    assert torch.equal(cond["linear.bias"], torch.zeros_like(start["linear.bias"]))
    for k, v in parent.state_dict().items():
        assert torch.equal(v, before[k])


def test_a_swapped_leaf_is_fresh_and_the_rest_is_kept():
    parent = _trained("(last5_avg (ite (affine_a) (affine) (affine)))", 0)
    new = _fresh("(last5_avg (ite (affine_b) (affine) (affine)))")
    fresh = _fresh("(last5_avg (ite (affine_b) (affine) (affine)))")
    assert warm_start(new, parent) == 4
    torch.testing.assert_close(new.own_state((0, 0)), fresh.own_state((0, 0)))
    for path in [(0, 1), (0, 2)]:
        torch.testing.assert_close(new.own_state(path), parent.own_state(path))


@pytest.mark.parametrize(
    "parent, new",
    [
        # a prune moves a subtree up: nothing is copied, not even the window
        ("(last5_avg (ite (affine_a) (affine) (affine)))", "(last5_avg (affine))"),
        ("(last5_avg (ite (affine_a) (affine_b) (affine)))", "(last5_avg (affine_b))"),
        # a subtree moved down: a window of a product of it
        ("(last5_avg (affine))", "(last5_avg (multiply (affine) (affine)))"),
    ],
)
def test_what_does_not_line_up_keeps_its_fresh_weights(parent, new):
    trained, module = _trained(parent, 0), _fresh(new)
    assert not lines_up(Program.parse(new), Program.parse(parent))
    assert warm_start(module, trained) is None
    torch.testing.assert_close(module(X), _fresh(new)(X))


def test_a_relabelled_node_is_fresh_and_its_arguments_are_kept():
    parent = _trained("(last5_avg (add (affine) (affine_a)))", 0)
    new = _fresh("(last10_avg (multiply (affine) (affine_a)))")
    # the window and the product own no weights; both leaves are copied
    assert warm_start(new, parent) == 2
    for path in [(0, 0), (0, 1)]:
        torch.testing.assert_close(new.own_state(path), parent.own_state(path))
    # a fold's leaf also reads the running state: nothing fits, a fresh start
    fold = _fresh("(fold (affine))")
    assert warm_start(fold, _trained("(last5_avg (affine))", 0)) is None
    torch.testing.assert_close(fold(X), _fresh("(fold (affine))")(X))


def test_lines_up():
    p = Program.parse
    parent = p("(last5_avg (add (affine) (affine_a)))")
    assert lines_up(parent, parent)
    assert lines_up(p("(last5_avg (add (affine_b) (affine_a)))"), parent)
    assert lines_up(
        p(
            "(last5_avg (ite (affine_b) (add (affine) (affine_a)) (add (affine) (affine_a))))"
        ),
        parent,
    )
    assert lines_up(
        p("(last5_avg (add (ite (affine_b) (affine) (affine)) (affine_a)))"), parent
    )
    assert not lines_up(p("(last5_avg (affine))"), parent)
    # a relabelled node over the same arguments
    assert lines_up(p("(last5_avg (multiply (affine) (affine_a)))"), parent)
    assert lines_up(p("(last10_avg (add (affine) (affine_a)))"), parent)
