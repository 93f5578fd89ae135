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


def test_a_quadratic_leaf_grows_into_an_ite_on_an_affine_condition():
    dsl = default_dsl(4, {"pos": [0, 1], "dist": [2], "speed": [3]}, quadratic=True)
    out = [
        str(p)
        for p in neighbours(
            Program.parse("(map (quadratic_pos))"),
            dsl,
            parse_type("list[4] -> list[1]"),
        )
    ]
    # "if close, a threshold on the quadratic of pos": the condition reads dist
    assert "(map (ite (affine_dist) (quadratic_pos) (quadratic_pos)))" in out
    assert "(map (affine_pos))" in out and "(map (quadratic_pos))" not in out


def test_a_quadratic_leaf_replaces_only_the_affine_leaf_of_its_group():
    dsl = default_dsl(4, {"pos": [0, 1], "dist": [2], "speed": [3]}, quadratic=True)
    hole = parse_type("list[4] -> list[1]")
    out = [str(p) for p in neighbours(Program.parse("(map (affine_pos))"), dsl, hole)]
    assert "(map (quadratic_pos))" in out
    for start in ("(map (affine))", "(map (affine_dist))"):
        out = [str(p) for p in neighbours(Program.parse(start), dsl, hole)]
        assert "(map (quadratic_pos))" not in out
    # nor where a repeated leaf is swapped everywhere at once
    twice = Program.parse("(last10_avg (multiply (affine) (affine)))")
    out = [str(p) for p in neighbours(twice, dsl, HOLE)]
    assert "(last10_avg (multiply (affine_pos) (affine_pos)))" in out
    assert not any("quadratic" in p for p in out)


def test_a_repeated_leaf_is_also_swapped_everywhere_at_once():
    out = _texts("(last10_avg (multiply (affine_speed) (affine_speed)))")
    assert "(last10_avg (multiply (affine) (affine)))" in out
    assert "(last10_avg (multiply (affine) (affine_speed)))" in out


def test_an_affine_leaf_is_squared_into_a_product_of_two_copies():
    out = _texts("(last10_avg (affine_speed))")
    assert "(last10_avg (multiply (affine_speed) (affine_speed)))" in out
    # a constant is no affine leaf: its square would be a constant again
    assert not any(
        "(multiply (const) (const))" in p for p in _texts("(last5_avg (const))")
    )


def test_no_square_without_a_product_in_the_grammar():
    names = [p for p in DSL.productions if p.kind.algebra != "product"]
    no_product = DSL.__class__(names, DSL.n_features)
    out = neighbours(Program.parse("(last10_avg (affine))"), no_product, HOLE)
    assert out and not any("multiply" in str(p) for p in out)


def test_an_inner_node_is_relabelled_to_a_production_of_the_same_arguments():
    out = _texts("(last5_avg (add (affine_dist) (affine_pos)))")
    for window in ("last10_avg", "last3_avg", "last6_avg"):
        assert f"({window} (add (affine_dist) (affine_pos)))" in out
    assert "(last5_avg (multiply (affine_dist) (affine_pos)))" in out
    # map reads frames, map_prefixes prefixes: never one for the other
    frame_hole = parse_type("list[4] -> list[1]")
    out = neighbours(Program.parse("(map (affine))"), DSL, frame_hole)
    assert not any(str(p).startswith("(map_prefixes (affine") for p in out)


def test_a_sequence_function_is_wrapped_in_diff():
    dsl = default_dsl(4, {"pos": [0, 1], "dist": [2], "speed": [3]}, difference=True)
    out = [
        str(p) for p in neighbours(Program.parse("(last10_avg (affine))"), dsl, HOLE)
    ]
    assert "(diff (last10_avg (affine)))" in out
    # diff wraps sequence functions only, never a frame's
    assert not any("(diff (affine" in p for p in out)


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


FRAME_HOLE = parse_type("list[4] -> list[1]")


def _in_every_neighbourhood(start: str, want: str) -> bool:
    # with and without the reshaping edits, per-frame hole
    program = Program.parse(start)
    return all(
        want in {str(p) for p in neighbours(program, DSL, FRAME_HOLE, reshape=r)}
        for r in (True, False)
    )


def test_a_window_under_map_prefixes_collapses_into_a_map():
    assert _in_every_neighbourhood(
        "(map_prefixes (last5_avg (ite (affine_dist) (affine) (affine))))",
        "(map (ite (affine_dist) (affine) (affine)))",
    )
    # where a prune fills the hole, no collapse: diff(last5_avg(S)) is pruned
    # to last5_avg(S), not collapsed into fold(S) or last10_avg(S)
    dsl = default_dsl(4, {"pos": [0, 1], "dist": [2], "speed": [3]}, difference=True)
    chain = Program.parse("(diff (last5_avg (affine)))")
    out = [str(p) for p in neighbours(chain, dsl, HOLE)]
    assert "(last5_avg (affine))" in out and "(fold (affine))" not in out
    # a chain of one production has no grandchild to collapse onto
    out = [str(p) for p in neighbours(Program.parse("(map (affine))"), DSL, FRAME_HOLE)]
    assert not any(p.startswith("(map_prefixes") for p in out)


def test_a_sequence_level_branch_is_hoisted_into_one_at_every_frame():
    assert _in_every_neighbourhood(
        "(ite (last10_avg (affine_dist)) (map (affine_speed)) (map (const)))",
        "(map (ite (affine_dist) (affine_speed) (const)))",
    )
    # per sequence: one window over a branch at every frame
    out = _texts("(ite (last5_avg (affine_dist)) (last5_avg (affine)) (fold (affine)))")
    assert "(last5_avg (ite (affine_dist) (affine) (affine)))" in out
    assert "(fold (ite (affine_dist) (affine) (affine)))" in out
    # only the productions the arguments use are hoisted
    assert "(last10_avg (ite (affine_dist) (affine) (affine)))" not in out


def test_max_depth_leaves_out_deeper_programs():
    deep = neighbours(Program.parse("(last10_avg (affine))"), DSL, HOLE, 2)
    assert deep and all(p.depth <= 2 for p in deep)
    assert not any(p.symbol == "ite" for p in deep)


def test_a_program_of_another_type_is_refused():
    with pytest.raises(GrammarError, match="cannot fill a hole"):
        neighbours(Program.parse("(affine)"), DSL, HOLE)


def test_without_reshape_only_swaps_prunes_and_branches_are_made():
    dsl = default_dsl(4, {"pos": [0, 1], "dist": [2], "speed": [3]}, difference=True)
    start = Program.parse("(last5_avg (add (affine_dist) (affine_dist)))")
    plain = {str(p) for p in neighbours(start, dsl, HOLE, reshape=False)}
    full = {str(p) for p in neighbours(start, dsl, HOLE)}
    assert plain < full
    for reshaped in (
        "(last5_avg (multiply (affine_dist) (affine_dist)))",  # relabel
        "(last5_avg (add (multiply (affine_dist) (affine_dist)) (affine_dist)))",
        "(diff (last5_avg (add (affine_dist) (affine_dist))))",  # wrap
        "(last5_avg (add (affine) (affine)))",  # the repeated leaf everywhere
    ):
        assert reshaped in full and reshaped not in plain
    assert "(last5_avg (add (affine) (affine_dist)))" in plain  # a leaf swap
    assert "(last5_avg (affine_dist))" in plain  # a prune
    framed = Program.parse("(map_prefixes (last5_avg (affine)))")
    assert "(map (affine))" in {  # a collapse
        str(p) for p in neighbours(framed, dsl, FRAME_HOLE, reshape=False)
    }


def test_no_edit_leaves_a_branch_condition_that_reads_no_feature():
    start = "(ite (last5_avg (affine_dist)) (last5_avg (affine)) (last5_avg (affine)))"
    out = _texts(start)
    assert (
        "(ite (last5_avg (affine_pos)) (last5_avg (affine)) (last5_avg (affine)))"
        in out
    )
    assert (
        "(ite (last5_avg (affine_dist)) (last5_avg (const)) (last5_avg (affine)))"
        in out
    )
    assert not any(p.startswith("(ite (last5_avg (const))") for p in out)
    # a program that has one already is still edited elsewhere
    out = _texts("(ite (last5_avg (const)) (last5_avg (affine)) (last5_avg (affine)))")
    assert (
        "(ite (last5_avg (const)) (last5_avg (affine_pos)) (last5_avg (affine)))" in out
    )
