"""Tests for sklearn_dpads.search.edits: the moves of the local search."""

from __future__ import annotations

import pytest

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.library import default_dsl
from sklearn_dpads.program import Program, typecheck
from sklearn_dpads.search.edits import neighbours

DSL = default_dsl(4, {"pos": [0, 1], "dist": [2], "speed": [3]})
HOLE = parse_type("list[4] -> atom[1]")


def _texts(program: str, max_depth=None) -> list[str]:
    return [str(p) for p in neighbours(Program.parse(program), DSL, HOLE, max_depth)]


def test_every_neighbour_is_well_typed_distinct_and_new():
    start = Program.parse("(last10_avg (ite (affine_dist) (affine) (affine)))")
    out = neighbours(start, DSL, HOLE)
    assert out and start not in out
    assert len({str(p) for p in out}) == len(out)
    for p in out:
        typecheck(p, DSL, HOLE)


def test_a_leaf_is_swapped_for_every_other_leaf_of_its_hole():
    out = _texts("(last10_avg (affine))")
    for leaf in ("affine_pos", "affine_dist", "affine_speed", "const"):
        assert f"(last10_avg ({leaf}))" in out


def test_a_subtree_grows_into_an_ite_on_each_group():
    out = _texts("(last10_avg (affine))")
    # around the window, with the condition reading one group through it
    assert (
        "(ite (last10_avg (affine_dist)) (last10_avg (affine)) (last10_avg (affine)))"
        in out
    )
    # and around the leaf, per frame
    assert "(last10_avg (ite (affine_speed) (affine) (affine)))" in out


def test_an_ite_is_not_grown_into_another_at_its_own_node():
    out = _texts(
        "(ite (last5_avg (affine_dist)) (last5_avg (affine)) (last5_avg (affine)))"
    )
    assert not any(p.startswith("(ite (ite") and p.count("last5_avg") == 6 for p in out)


def test_a_subtree_is_pruned_to_an_argument_of_its_hole():
    out = _texts("(ite (last5_avg (affine_dist)) (last5_avg (affine)) (fold (affine)))")
    assert "(last5_avg (affine))" in out
    assert "(fold (affine))" in out
    out = _texts("(last5_avg (add (affine_dist) (affine_pos)))")
    assert "(last5_avg (affine_dist))" in out and "(last5_avg (affine_pos))" in out


def test_max_depth_leaves_out_deeper_programs():
    deep = neighbours(Program.parse("(last10_avg (affine))"), DSL, HOLE, 2)
    assert deep and all(p.depth <= 2 for p in deep)
    assert not any(p.symbol == "ite" for p in deep)


def test_a_program_of_another_type_is_refused():
    with pytest.raises(GrammarError, match="cannot fill a hole"):
        neighbours(Program.parse("(affine)"), DSL, HOLE)
