"""Tests for sklearn_dpads.program (parse, render, structure, typecheck)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sklearn_dpads.exceptions import GrammarError, ProgramParseError
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.library import default_dsl
from sklearn_dpads.program import Program, TypedNode, typecheck

DSL3 = default_dsl(3, {"position": [0, 1], "distance": [2]})
HOLES = [
    parse_type("list[3] -> atom[1]"),
    parse_type("list[3] -> atom[2]"),
    parse_type("list[3] -> list[1]"),
    parse_type("atom[3] -> atom[2]"),
]


@st.composite
def programs(draw, dsl, hole, depth):
    options = dsl.feasible(hole, depth)
    prod, child_types = draw(st.sampled_from(options))
    kids = tuple(draw(programs(dsl, t, depth - 1)) for t in child_types)
    return Program(prod.name, kids)


@st.composite
def typed_programs(draw):
    hole = draw(st.sampled_from(HOLES))
    depth = draw(st.integers(min_value=DSL3.min_depth(hole), max_value=4))
    return hole, depth, draw(programs(DSL3, hole, depth))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(typed_programs())
def test_parse_render_round_trip(case):
    hole, depth, prog = case
    text = prog.render()
    assert Program.parse(text) == prog
    assert Program.parse("  " + text.replace(" ", "\n  ") + "\t\n") == prog
    assert str(prog) == text
    assert prog.depth <= depth
    assert prog.size == len(prog.symbols()) == len(list(prog.walk()))
    typed = typecheck(prog, DSL3, hole)
    assert typed.hole == hole
    # every path of walk() addresses the right subtree
    for path, sub in prog.walk():
        node = prog
        for i in path:
            node = node.children[i]
        assert node is sub


def test_leaves_may_omit_parentheses():
    assert Program.parse("(add affine const)") == Program.parse(
        "(add (affine) (const))"
    )
    assert Program.parse("const") == Program("const")
    assert Program("const").render() == "(const)"


def test_children_are_tuples_and_programs():
    p = Program("add", [Program("affine"), Program("const")])
    assert isinstance(p.children, tuple)
    assert p == Program.parse("(add (affine) (const))")
    assert hash(p) == hash(Program.parse("(add (affine) (const))"))
    with pytest.raises(TypeError, match=r"Program children must be Programs"):
        Program("add", ("affine", "const"))


@pytest.mark.parametrize(
    "text, match",
    [
        ("(map (affine)", r"Missing '\)'"),
        ("(map", r"Missing '\)'"),
        ("(affine))", r"Trailing text after program"),
        ("(affine) (const)", r"Trailing text after program"),
        ("affine const", r"Trailing text after program"),
        ("", r"Empty program text"),
        ("   \n\t", r"Empty program text"),
        (")", r"Unexpected '\)'"),
        ("(add (affine) ))", r"Trailing text|Unexpected '\)'"),
        ("()", r"Expected a production name after '\('"),
        ("(()", r"Expected a production name after '\('"),
        ("(", r"Expected a production name after '\('"),
        ("(map $)", r"Unexpected character '\$'"),
        ("(map (affine-x))", r"Unexpected character '-'"),
        ("(map [affine])", r"Unexpected character '\['"),
        ("(1map)", r"Unexpected character '1'"),
        ("(map (affine));", r"Unexpected character ';'"),
    ],
)
def test_parse_errors(text, match):
    with pytest.raises(ProgramParseError, match=match):
        Program.parse(text)


@pytest.mark.parametrize("text", [None, 3, b"(affine)", ["(affine)"]])
def test_parse_non_string(text):
    with pytest.raises(ProgramParseError, match=r"Program text must be a str"):
        Program.parse(text)


def test_parse_error_is_grammar_error():
    assert issubclass(ProgramParseError, GrammarError)
    assert issubclass(GrammarError, ValueError)


def test_size_depth_walk_symbols():
    p = Program.parse(
        "(map_prefixes (ite (fold (affine)) (last5_avg (const)) (fold (affine))))"
    )
    assert p.size == 8
    assert p.depth == 4
    assert Program("const").depth == 1 and Program("const").size == 1
    assert p.symbols() == [
        "map_prefixes",
        "ite",
        "fold",
        "affine",
        "last5_avg",
        "const",
        "fold",
        "affine",
    ]
    paths = [path for path, _ in p.walk()]
    assert paths == [(), (0,), (0, 0), (0, 0, 0), (0, 1), (0, 1, 0), (0, 2), (0, 2, 0)]
    assert dict(p.walk())[(0, 1, 0)] == Program("const")


def test_cost_sums_production_costs():
    p = Program.parse("(map (add (affine_position) (const)))")
    assert p.cost(DSL3) == 4.0


def test_pretty_uses_group_names():
    p = Program.parse("(map (multiply (affine_position) (affine_distance)))")
    assert p.pretty(DSL3) == "map(multiply(affine[position](x), affine[distance](x)))"
    assert Program.parse("(last5_avg (add affine const))").pretty(DSL3) == (
        "last5_avg(add(affine(x), const))"
    )
    # without a DSL (or for unknown names) leaves read as functions of x
    assert p.pretty() == "map(multiply(affine_position(x), affine_distance(x)))"
    assert Program.parse("(foo bar)").pretty(DSL3) == "foo(bar(x))"


@pytest.mark.parametrize(
    "text, hole, match",
    [
        (
            "(map (affin))",
            "list[3] -> list[1]",
            r"Unknown production 'affin' at path \(0,\)",
        ),
        ("(frobnicate)", "atom[3] -> atom[1]", r"Unknown production 'frobnicate'"),
        (
            "(map)",
            "list[3] -> list[1]",
            r"'map' at path \(\) takes 1 argument\(s\), got 0",
        ),
        (
            "(add (affine))",
            "atom[3] -> atom[1]",
            r"'add' at path \(\) takes 2 argument\(s\), got 1",
        ),
        (
            "(add (affine) (affine (const)))",
            "atom[3] -> atom[1]",
            r"'affine' at path \(1,\) takes 0 argument\(s\), got 1",
        ),
        (
            "(fold (affine))",
            "list[3] -> list[1]",
            r"'fold' at path \(\) cannot fill a hole of type list\[3\] -> list\[1\]",
        ),
        (
            "(map (last5_avg (affine)))",
            "list[3] -> list[1]",
            r"'last5_avg' at path \(0,\) cannot fill a hole of type "
            r"atom\[3\] -> atom\[1\]",
        ),
        (
            "(affine)",
            "list[3] -> atom[1]",
            r"'affine' at path \(\) cannot fill a hole of type list\[3\] -> atom\[1\]",
        ),
        (
            "(map (affine))",
            "list[3] -> atom[1]",
            r"'map' at path \(\) cannot fill a hole",
        ),
    ],
)
def test_typecheck_errors(text, hole, match):
    with pytest.raises(GrammarError, match=match):
        typecheck(Program.parse(text), DSL3, parse_type(hole))


def test_typecheck_returns_typed_tree():
    p = Program.parse("(fold (add (affine_distance) (const)))")
    t = typecheck(p, DSL3, parse_type("list[3] -> atom[2]"))
    assert isinstance(t, TypedNode)
    assert t.production is DSL3["fold"]
    assert t.path == ()
    (add,) = t.children
    assert add.hole == parse_type("atom[5] -> atom[2]")
    assert [c.path for c in add.children] == [(0, 0), (0, 1)]
    assert all(c.hole == add.hole for c in add.children)
    t2 = typecheck(
        Program.parse("(ite (last5_avg affine) (map const) (map affine))"),
        DSL3,
        parse_type("list[3] -> list[2]"),
    )
    assert [c.hole for c in t2.children] == [
        parse_type("list[3] -> atom[1]"),
        parse_type("list[3] -> list[2]"),
        parse_type("list[3] -> list[2]"),
    ]
