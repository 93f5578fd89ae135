"""Tests of the temporal filter and frame-difference productions (grammar only)."""

import pickle

import pytest

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.grammar import DSLBuilder
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.kinds import (
    BUILTIN_KINDS,
    affine_production,
    difference_production,
    filter_production,
    map_prefixes_production,
    map_production,
    multiply_production,
    window_production,
)
from sklearn_dpads.library import default_dsl
from sklearn_dpads.program import Program, typecheck

# filter_production ---------------------------------------------------------------


def test_filter_production_fields():
    p = filter_production("filter5_speed", 5, [2, 0], "speed")
    assert (p.kind, p.arity, p.cost) == ("filter", 0, 1.0)
    assert p.params == {"length": 5, "indices": (2, 0), "group": "speed"}
    assert "filter" in BUILTIN_KINDS and "difference" in BUILTIN_KINDS
    full = filter_production("filter3", 3)
    assert full.params == {"length": 3, "indices": None, "group": None}
    assert repr(full) == "Production('filter3', kind='filter', arity=0)"


def test_filter_display():
    assert filter_production("f", 5, [0], "speed").display([]) == "filter5[speed](x)"
    assert filter_production("f", 7).display([]) == "filter7(x)"


@pytest.mark.parametrize("length", [0, -1, 1.5, True, None, "3"])
def test_filter_length_must_be_a_positive_int(length):
    with pytest.raises(
        GrammarError, match=r"Filter length of 'flt' must be an int >= 1, got"
    ):
        filter_production("flt", length)


@pytest.mark.parametrize(
    "indices, match",
    [
        ([], r"Feature group of 'flt' is empty"),
        ([0, 0], r"Feature group of 'flt' repeats an index: \[0, 0\]"),
        ([-1], r"Feature index -1 of 'flt' is negative"),
        (["a"], r"Feature index 'a' of 'flt' is not an integer"),
        ([True], r"Feature index True of 'flt' is not an integer"),
        (3, r"indices of 'flt' must be a list of ints"),
    ],
)
def test_filter_indices_are_validated_like_affine(indices, match):
    with pytest.raises(GrammarError, match=match):
        filter_production("flt", 3, indices)
    with pytest.raises(GrammarError, match=match.replace("flt", "aff")):
        affine_production("aff", indices)


def test_filter_production_needs_a_length():
    from sklearn_dpads.grammar import Production
    from sklearn_dpads.kinds import DIFFERENCE, FILTER

    with pytest.raises(GrammarError, match=r"Filter 'f' needs params\['length'\]"):
        Production("f", FILTER, 0, {"indices": None})
    with pytest.raises(GrammarError, match=r"cannot have arity 1"):
        Production("f", FILTER, 1, {"length": 2})
    with pytest.raises(GrammarError, match=r"cannot have arity 2"):
        Production("d", DIFFERENCE, 2)


def test_filter_name_is_validated():
    with pytest.raises(GrammarError, match=r"Invalid production name"):
        filter_production("my filter", 3)


def test_filter_out_of_range_index_is_reported_when_the_dsl_is_built():
    with pytest.raises(GrammarError, match=r"'flt' selects feature\(s\) \[5\]"):
        DSLBuilder(2).add(filter_production("flt", 3, [0, 5], "g")).build()


def test_filter_typing():
    p = filter_production("flt", 4, [1], "g")
    assert p.child_types(parse_type("list[3] -> atom[2]"), 3) == ()
    for hole in ("list[3] -> list[2]", "atom[3] -> atom[2]", "atom[5] -> atom[1]"):
        assert p.child_types(parse_type(hole), 3) is None
    # a sequence narrower than the program's input is not the program's input
    assert p.child_types(parse_type("list[1] -> atom[1]"), 3) is None


def test_filter_pickles():
    p = filter_production("filter5_v", 5, [1], "v")
    q = pickle.loads(pickle.dumps(p))
    assert (q.name, q.kind, q.arity, q.params) == (p.name, p.kind, p.arity, p.params)


# difference_production --------------------------------------------------------------


def test_difference_production_fields_and_typing():
    d = difference_production()
    assert (d.name, d.kind, d.arity) == ("diff", "difference", 1)
    assert d.display(["last5_avg(affine(x))"]) == "diff(last5_avg(affine(x)))"
    assert difference_production("delta").name == "delta"
    for text in ("list[3] -> atom[2]", "list[3] -> list[1]"):
        hole = parse_type(text)
        assert d.child_types(hole, 3) == (hole,)  # same type as the hole
    assert d.child_types(parse_type("atom[3] -> atom[1]"), 3) is None


def _diff_dsl():
    return (
        DSLBuilder(2)
        .add(map_production())
        .add(map_prefixes_production())
        .add(window_production("last10_avg", 9))
        .add(multiply_production())
        .add(difference_production())
        .add(affine_production("affine_v", [1], "v"))
        .build()
    )


def test_feasible_accepts_a_slot_of_the_holes_type_and_max_depth_bounds_it():
    dsl = _diff_dsl()
    hole = parse_type("list[2] -> atom[1]")
    names = lambda d: [p.name for p, _ in dsl.feasible(hole, d)]  # noqa: E731
    assert names(1) == []  # no leaf fills a list -> atom hole
    assert names(2) == ["last10_avg"]  # diff(...) needs depth 3
    assert names(3) == ["last10_avg", "diff"]
    assert dsl.min_depth(hole) == 2
    assert dsl.can_complete(hole, 5)
    ((_, slots),) = [e for e in dsl.feasible(hole, 3) if e[0].name == "diff"]
    assert slots == (hole,)
    # the recursion through the same hole type terminates at every depth
    for depth in range(1, 12):
        for p, _ in dsl.feasible(hole, depth):
            assert p.name in ("last10_avg", "diff")


def test_typecheck_accepts_diff_and_the_movement_energy():
    dsl = _diff_dsl()
    hole = parse_type("list[2] -> atom[1]")
    text = "(diff (last10_avg (multiply (affine_v) (affine_v))))"
    typed = typecheck(Program.parse(text), dsl, hole)
    assert typed.hole == hole and typed.children[0].hole == hole
    assert typed.children[0].children[0].hole == parse_type("atom[2] -> atom[1]")
    assert (
        Program.parse(text).pretty(dsl)
        == "diff(last10_avg(multiply(affine[v](x), affine[v](x))))"
    )
    seq = parse_type("list[2] -> list[1]")
    typecheck(Program.parse("(diff (diff (map (affine_v))))"), dsl, seq)
    # diff needs a sequence: it cannot run on a frame
    with pytest.raises(GrammarError, match=r"'diff' at path \(0,\) cannot fill"):
        typecheck(Program.parse("(map (diff (affine_v)))"), dsl, seq)
    bad = "(last10_avg (diff (multiply (affine_v) (affine_v))))"
    with pytest.raises(GrammarError, match=r"'diff' at path \(0,\) cannot fill"):
        typecheck(Program.parse(bad), dsl, hole)
    with pytest.raises(GrammarError, match=r"'diff' at path \(\) takes 1 argument"):
        typecheck(Program.parse("(diff)"), dsl, hole)


# default_dsl ---------------------------------------------------------------------------


def test_default_dsl_with_filters_and_difference():
    dsl = default_dsl(3, {"pos": [0, 1], "speed": [2]}, filters=(5,), difference=True)
    assert [p.name for p in dsl.productions] == [
        "map",
        "map_prefixes",
        "fold",
        "last5_avg",
        "last10_avg",
        "last3_avg",
        "last6_avg",
        "diff",
        "ite",
        "add",
        "multiply",
        "affine_pos",
        "affine_speed",
        "affine",
        "filter5_pos",
        "filter5_speed",
        "filter5",
        "const",
    ]
    assert dsl["diff"].kind == "difference"
    assert dsl["filter5_pos"].params == {"length": 5, "indices": (0, 1), "group": "pos"}
    assert dsl["filter5"].params == {"length": 5, "indices": None, "group": None}
    hole = parse_type("list[3] -> atom[1]")
    text = "(diff (ite (filter5_speed) (filter5) (last5_avg (affine_pos))))"
    assert (
        Program.parse(text).pretty(dsl)
        == "diff(ite(filter5[speed](x), filter5(x), last5_avg(affine[pos](x))))"
    )
    typecheck(Program.parse(text), dsl, hole)


def test_default_dsl_filter_options():
    dsl = default_dsl(2, filters=[3, 1], full_affine=False, constant=False)
    names = [p.name for p in dsl.productions]
    assert names[-4:] == ["filter3_x0", "filter3_x1", "filter1_x0", "filter1_x1"]
    assert "diff" not in names and "filter3" not in names
    # off by default: the default grammar does not change
    default = [p.name for p in default_dsl(2).productions]
    assert not any(n.startswith("filter") or n == "diff" for n in default)


def test_default_dsl_filter_names_stay_unique():
    dsl = default_dsl(2, {"a b": [0], "a-b": [1]}, filters=(2,))
    assert [p.name for p in dsl.productions if p.kind == "filter"] == [
        "filter2_a_b",
        "filter2_a_b_2",
        "filter2",
    ]


@pytest.mark.parametrize(
    "filters, match",
    [
        ((0,), r"Filter length must be an int >= 1, got 0"),
        ((2.5,), r"Filter length must be an int >= 1, got 2.5"),
        (("5",), r"Filter length must be an int >= 1, got '5'"),
        ((5, 5), r"filters repeats the length 5"),
        (5, r"filters must be a sequence of filter lengths"),
    ],
)
def test_default_dsl_bad_filters(filters, match):
    with pytest.raises(GrammarError, match=match):
        default_dsl(2, filters=filters)


# default_dsl(windows=...) --------------------------------------------------------


def test_default_dsl_adds_fixed_windows_before_the_user_productions():
    extra = window_production("mine", 1)
    dsl = default_dsl(2, windows=(50, 20), extra_productions=[extra])
    names = [p.name for p in dsl.productions]
    assert names[-3:] == ["last50_avg", "last20_avg", "mine"]
    assert dsl["last50_avg"].params["left"] == 49
    assert "last50_avg" not in [p.name for p in default_dsl(2).productions]


@pytest.mark.parametrize(
    "windows, match",
    [
        ((0,), r"Window length must be an int >= 1, got 0"),
        ((50, 50), r"windows repeats the length 50"),
        (50, r"windows must be a sequence of window lengths"),
        ((10,), r"windows repeats the default window length\(s\) \[10\]"),
    ],
)
def test_default_dsl_bad_windows(windows, match):
    with pytest.raises(GrammarError, match=match):
        default_dsl(2, windows=windows)
