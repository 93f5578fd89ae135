"""Tests for sklearn_dpads.grammar.{production,dsl} and sklearn_dpads.library."""

import keyword
import math
import pickle
import re

import numpy as np
import pytest
import torch

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.grammar import DSL, DSLBuilder, Production
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.kinds import (
    BUILTIN_KINDS,
    CONSTANT,
    WINDOW,
    add_production,
    affine_production,
    constant_production,
    fold_production,
    ite_production,
    map_prefixes_production,
    map_production,
    multiply_production,
    window_production,
)
from sklearn_dpads.library import (
    default_dsl,
    make_production,
    resolve_feature_groups,
    safe_identifier,
)

# module-level (hence picklable) user functions --------------------------------


def torch_max2(a, b):
    return torch.maximum(a, b)


def py_max2(a, b):
    return max(a, b)


def torch_neg(a):
    return -a


def py_neg(a):
    return -a


def py_identity(a):
    return a


def py_fails(a):
    raise ArithmeticError("boom")


def torch_fails(a):
    raise RuntimeError("tensor boom")


def torch_sum(a):
    return a.sum()


def torch_to_numpy(a):
    return a.numpy()


def _small_dsl(*extra, n_features=2):
    b = DSLBuilder(n_features).add(map_production()).add(affine_production("aff", None))
    return b.extend(extra).build()


# production / DSL validation ----------------------------------------------------


def test_builder_builds():
    dsl = _small_dsl(fold_production())
    assert len(dsl) == 3
    assert [p.name for p in dsl.productions] == ["map", "aff", "fold"]
    assert "fold" in dsl and "nope" not in dsl
    assert dsl["fold"].kind == "fold"
    assert "DSL(n_features=2" in repr(dsl)


def test_builder_duplicate_name():
    b = DSLBuilder(2).add(map_production())
    with pytest.raises(GrammarError, match=r"Duplicate production name 'map'"):
        b.add(map_production())


def test_dsl_duplicate_name():
    with pytest.raises(GrammarError, match=r"Duplicate production name 'aff'"):
        DSL([affine_production("aff", None), affine_production("aff", [0])], 2)


def test_no_leaf_production():
    b = DSLBuilder(2).add(map_production()).add(fold_production())
    with pytest.raises(GrammarError, match=r"no leaf production"):
        b.build()


def test_empty_dsl():
    with pytest.raises(GrammarError, match=r"at least one production"):
        DSL([], 2)


@pytest.mark.parametrize("n", [0, -1, 1.0, "2", True, None])
def test_bad_n_features(n):
    with pytest.raises(GrammarError, match=r"n_features must be a positive int"):
        DSL([constant_production()], n)


def test_affine_index_out_of_range():
    b = DSLBuilder(2).add(affine_production("aff", [0, 2]))
    with pytest.raises(GrammarError, match=r"'aff' selects feature\(s\) \[2\]"):
        b.build()


def test_empty_group():
    with pytest.raises(GrammarError, match=r"Feature group of 'aff' is empty"):
        affine_production("aff", [])


def test_negative_index():
    with pytest.raises(GrammarError, match=r"Feature index -1 of 'aff' is negative"):
        affine_production("aff", [0, -1])


def test_repeated_index():
    with pytest.raises(GrammarError, match=r"'aff' repeats an index"):
        affine_production("aff", [1, 0, 1])


@pytest.mark.parametrize("bad", [1.5, "0", None])
def test_non_integer_index(bad):
    with pytest.raises(GrammarError, match=r"is not an integer"):
        affine_production("aff", [0, bad])


def test_numpy_integer_index_accepted():
    p = affine_production("aff", [np.int64(1), np.int32(0)], group="g")
    assert p.params["indices"] == (1, 0)
    assert all(type(i) is int for i in p.params["indices"])
    assert p.params["group"] == "g"


def test_feature_names_length_mismatch():
    b = DSLBuilder(2, feature_names=["a"]).add(constant_production())
    with pytest.raises(GrammarError, match=r"feature_names has 1 names but n_features"):
        b.build()


def test_feature_names_kept():
    dsl = DSLBuilder(2, feature_names=["a", 3]).add(constant_production()).build()
    assert dsl.feature_names == ["a", "3"]


@pytest.mark.parametrize("thing", ["map", object(), None, 3])
def test_builder_non_production(thing):
    with pytest.raises(GrammarError, match=r"DSLBuilder.add expects a Production"):
        DSLBuilder(2).add(thing)


def test_dsl_non_production():
    with pytest.raises(GrammarError, match=r"Expected a Production, got str"):
        DSL([constant_production(), "map"], 2)


@pytest.mark.parametrize(
    "name", ["my prod", "class", "lambda", "1abc", "", "a-b", "a.b", 3, None, "é"]
)
def test_invalid_production_name(name):
    with pytest.raises(GrammarError, match=r"Invalid production name"):
        Production(name, CONSTANT, 0)


@pytest.mark.parametrize("name", ["my prod", "for", "x(y)"])
def test_invalid_name_in_factories(name):
    with pytest.raises(GrammarError, match=r"Invalid production name"):
        map_production(name)
    with pytest.raises(GrammarError, match=r"Invalid production name"):
        make_production(name, torch_neg, 1, python_function=py_neg)


def test_unknown_kind():
    with pytest.raises(GrammarError, match=r"Production kind must be a Kind.*'lstm'"):
        Production("p", "lstm", 1)


def test_builtin_kinds():
    assert set(BUILTIN_KINDS) == {
        "map",
        "map_prefixes",
        "fold",
        "window",
        "ite",
        "add",
        "multiply",
        "affine",
        "constant",
        "elementwise",
        "filter",
        "difference",
        "kernel_window",
        "quadratic",
    }


def test_negative_cost():
    with pytest.raises(GrammarError, match=r"cost must be >= 0"):
        Production("p", CONSTANT, 0, cost=-1.0)


@pytest.mark.parametrize("cost", [float("nan"), float("inf"), "1", None])
def test_non_finite_cost(cost):
    with pytest.raises(GrammarError, match=r"cost must be a finite number"):
        Production("p", CONSTANT, 0, cost=cost)


@pytest.mark.parametrize("left", [-1, 1.5, True, None, "2"])
def test_bad_window_extents(left):
    with pytest.raises(GrammarError, match=r"Window left extent must be"):
        window_production("w", left)


def test_window_params():
    p = window_production("w", 3)
    assert p.params == {"left": 3}
    assert p.arity == 1 and p.kind == "window"
    assert p.description == "average of f over the last 4 frames (t-3..t)"


def test_window_production_without_left_is_refused():
    with pytest.raises(GrammarError, match=r"Window 'w' needs params\['left'\]"):
        Production("w", WINDOW, 1, {})


@pytest.mark.parametrize("beta", [0, -1.0, float("nan"), float("inf"), "1", None])
def test_bad_ite_beta(beta):
    with pytest.raises(GrammarError, match=r"ite temperature beta must be a positive"):
        ite_production("ite", beta)


def test_ite_beta_stored_as_float():
    assert ite_production("ite", 2).params["beta"] == 2.0


def test_production_repr_and_display():
    p = affine_production("affine_pos", [0], "pos")
    assert repr(p) == "Production('affine_pos', kind='affine', arity=0)"
    assert p.display([]) == "affine[pos](x)"
    assert affine_production("affine", None).display([]) == "affine(x)"
    assert constant_production().display([]) == "const"
    assert add_production().display(["a", "b"]) == "add(a, b)"


# make_production ----------------------------------------------------------------


def test_make_production_ok():
    p = make_production("maxp", torch_max2, 2, python_function=py_max2, cost=0.5)
    assert p.kind == "elementwise" and p.arity == 2 and p.cost == 0.5
    assert p.params["function"] is torch_max2
    assert p.params["python_function"] is py_max2
    assert p.params["sympy_function"] is None
    hole = parse_type("atom[3] -> atom[2]")
    assert p.child_types(hole, 3) == (hole, hole)
    assert p.child_types(parse_type("list[3] -> atom[2]"), 3) is None


def test_make_production_lambda_python_function():
    with pytest.raises(GrammarError, match=r"must be a named \(def\) function"):
        make_production("neg", torch_neg, 1, python_function=lambda a: -a)


@pytest.mark.parametrize("arity", [0, 4, -1, True, 1.0, "2"])
def test_make_production_bad_arity(arity):
    with pytest.raises(
        GrammarError, match=r"arity of 'neg' must be an int in \[1, 3\]"
    ):
        make_production("neg", torch_neg, arity, python_function=py_neg)


def test_make_production_non_callable():
    with pytest.raises(GrammarError, match=r"^function of 'neg' must be callable"):
        make_production("neg", "torch.neg", 1, python_function=py_neg)
    with pytest.raises(
        GrammarError, match=r"^python_function of 'neg' must be callable"
    ):
        make_production("neg", torch_neg, 1, python_function=3.0)
    with pytest.raises(
        GrammarError, match=r"^sympy_function of 'neg' must be callable"
    ):
        make_production(
            "neg", torch_neg, 1, python_function=py_neg, sympy_function="-x"
        )


def test_make_production_python_function_fails():
    with pytest.raises(GrammarError, match=r"python_function of 'f' failed on 1 float"):
        make_production("f", torch_neg, 1, python_function=py_fails)


def test_make_production_python_function_wrong_arity():
    with pytest.raises(GrammarError, match=r"python_function of 'f' failed on 2 float"):
        make_production("f", torch_max2, 2, python_function=py_neg)


def test_make_production_torch_function_fails():
    with pytest.raises(GrammarError, match=r"function of 'f' failed on tensors"):
        make_production("f", torch_fails, 1, python_function=py_neg)


@pytest.mark.parametrize("fn", [torch_sum, torch_to_numpy])
def test_make_production_shape_changing(fn):
    with pytest.raises(GrammarError, match=r"must return a tensor of its arguments"):
        make_production("f", fn, 1, python_function=py_neg)


def test_make_production_disagreeing_functions():
    with pytest.raises(
        GrammarError, match=r"function and python_function of 'f' disagree"
    ):
        make_production("f", torch_neg, 1, python_function=py_identity)


def test_custom_production_dsl_is_picklable():
    maxp = make_production("maxp", torch_max2, 2, python_function=py_max2)
    dsl = default_dsl(2, extra_productions=[maxp])
    hole = parse_type("atom[2] -> atom[1]")
    before = [p.name for p, _ in dsl.feasible(hole, 2)]  # fills the memo
    assert "maxp" in before
    dsl2 = pickle.loads(pickle.dumps(dsl))
    assert [p.name for p in dsl2.productions] == [p.name for p in dsl.productions]
    assert dsl2.n_features == 2
    p2 = dsl2["maxp"]
    assert p2.params["function"] is torch_max2
    assert p2.params["python_function"] is py_max2
    assert p2.arity == 2 and p2.kind == "elementwise"
    assert [p.name for p, _ in dsl2.feasible(hole, 2)] == before
    for p in dsl.productions:
        q = dsl2[p.name]
        assert (q.kind, q.arity, q.cost) == (p.kind, p.arity, p.cost)
        assert q.params.keys() == p.params.keys()


def test_builtin_production_pickle_round_trip():
    for p in [window_production("w", 2), affine_production("a", [1], "g")]:
        q = pickle.loads(pickle.dumps(p))
        assert (q.name, q.kind, q.arity, q.params) == (
            p.name,
            p.kind,
            p.arity,
            p.params,
        )


# typing: expansions, feasible, can_complete, min_depth, check_root -------------


LIST_ATOM = parse_type("list[2] -> atom[1]")
LIST_LIST = parse_type("list[2] -> list[1]")
ATOM_ATOM = parse_type("atom[2] -> atom[1]")


def _names(pairs):
    return [p.name for p, _ in pairs]


def test_child_types_of_builtins():
    F = 2
    h_ll, h_la = parse_type("list[2] -> list[3]"), parse_type("list[2] -> atom[3]")
    assert map_production().child_types(h_ll, F) == (parse_type("atom[2] -> atom[3]"),)
    assert map_production().child_types(h_la, F) is None
    assert map_prefixes_production().child_types(h_ll, F) == (h_la,)
    assert fold_production().child_types(h_la, F) == (parse_type("atom[5] -> atom[3]"),)
    assert fold_production().child_types(h_ll, F) is None
    assert window_production("w", 1).child_types(h_la, F) == (
        parse_type("atom[2] -> atom[3]"),
    )
    assert ite_production().child_types(h_ll, F) == (
        parse_type("list[2] -> atom[1]"),
        h_ll,
        h_ll,
    )
    assert add_production().child_types(h_la, F) is None
    a = parse_type("atom[4] -> atom[3]")
    assert multiply_production().child_types(a, F) == (a, a)
    assert affine_production("aff", [0]).child_types(a, F) == ()
    assert (
        affine_production("aff", [0]).child_types(parse_type("atom[1] -> atom[1]"), F)
        is None
    )
    assert constant_production().child_types(a, F) == ()
    assert constant_production().child_types(h_la, F) is None


def test_min_depth_and_can_complete():
    dsl = default_dsl(2)
    assert dsl.min_depth(ATOM_ATOM) == 1
    assert dsl.min_depth(LIST_ATOM) == 2
    assert dsl.min_depth(LIST_LIST) == 2
    assert not dsl.can_complete(ATOM_ATOM, 0)
    assert dsl.can_complete(ATOM_ATOM, 1)
    assert not dsl.can_complete(LIST_ATOM, 1)
    assert dsl.can_complete(LIST_ATOM, 2)
    assert dsl.can_complete(LIST_ATOM, 5)


def test_feasible_respects_depth():
    dsl = default_dsl(2)
    leaves = ["affine_x0", "affine_x1", "affine", "const"]
    assert _names(dsl.feasible(ATOM_ATOM, 1)) == leaves
    assert _names(dsl.feasible(ATOM_ATOM, 2)) == ["ite", "add", "multiply"] + leaves
    assert _names(dsl.feasible(ATOM_ATOM, 0)) == []
    windows = ["last5_avg", "last10_avg", "last3_avg", "last6_avg"]
    assert _names(dsl.feasible(LIST_ATOM, 2)) == ["fold"] + windows
    assert _names(dsl.feasible(LIST_ATOM, 3)) == ["fold"] + windows + ["ite"]
    assert _names(dsl.feasible(LIST_LIST, 2)) == ["map"]
    assert _names(dsl.feasible(LIST_LIST, 3)) == ["map", "map_prefixes", "ite"]
    # expansions ignores depth
    assert "ite" in _names(dsl.expansions(LIST_ATOM))
    for _, ct in dsl.feasible(LIST_ATOM, 3):
        assert all(dsl.can_complete(c, 2) for c in ct)


def test_affine_needs_all_features_in_input():
    dsl = default_dsl(2, constant=False)
    # an atom[1] input is narrower than n_features: no affine leaf fits
    assert dsl.min_depth(parse_type("atom[1] -> atom[1]")) is None


def test_check_root_depth_too_small():
    dsl = default_dsl(2)
    dsl.check_root(LIST_ATOM, 2)
    with pytest.raises(GrammarError, match=r"No program of depth <= 1 .*needs depth 2"):
        dsl.check_root(LIST_ATOM, 1)


def test_check_root_unfillable():
    dsl = _small_dsl()  # map + affine: nothing maps a list to an atom
    assert dsl.min_depth(LIST_ATOM) is None
    with pytest.raises(GrammarError, match=r"No production sequence can fill it"):
        dsl.check_root(LIST_ATOM, 5)
    with pytest.raises(GrammarError, match=r"fills the hole list\[2\] -> atom\[1\]"):
        DSLBuilder(2).add(map_production()).add(constant_production()).build(
            root=LIST_ATOM, max_depth=3
        )


def test_builder_build_checks_root():
    b = DSLBuilder(2).add(window_production("w", 2)).add(affine_production("a", None))
    assert len(b.build(root=LIST_ATOM, max_depth=2)) == 2
    with pytest.raises(GrammarError, match=r"No program of depth <= 1"):
        b.build(root=LIST_ATOM, max_depth=1)


def test_unknown_production_lookup():
    with pytest.raises(GrammarError, match=r"Unknown production 'nope'"):
        default_dsl(2)["nope"]


# default_dsl and feature groups -------------------------------------------------

DEFAULT_NAMES = [
    "map",
    "map_prefixes",
    "fold",
    "last5_avg",
    "last10_avg",
    "last3_avg",
    "last6_avg",
    "ite",
    "add",
    "multiply",
]


def test_default_dsl_contents():
    dsl = default_dsl(3)
    names = [p.name for p in dsl.productions]
    assert names == DEFAULT_NAMES + [
        "affine_x0",
        "affine_x1",
        "affine_x2",
        "affine",
        "const",
    ]
    assert dsl["affine_x1"].params == {"indices": (1,), "group": "x1"}
    assert dsl["affine"].params == {"indices": None, "group": None}
    assert dsl["last5_avg"].params == {"left": 4}
    assert dsl["last10_avg"].params == {"left": 9}
    assert dsl["last3_avg"].params == {"left": 2}
    assert dsl["last6_avg"].params == {"left": 5}
    assert dsl["ite"].params["beta"] == 1.0
    assert dsl.feature_names is None
    assert dsl.n_features == 3


def test_default_dsl_options():
    dsl = default_dsl(2, full_affine=False, constant=False, ite_beta=3.0)
    names = [p.name for p in dsl.productions]
    assert "affine" not in names and "const" not in names
    assert dsl["ite"].params["beta"] == 3.0
    maxp = make_production("maxp", torch_max2, 2, python_function=py_max2)
    dsl = default_dsl(2, extra_productions=[maxp])
    assert [p.name for p in dsl.productions][-1] == "maxp"


def test_default_dsl_feature_names_and_groups():
    dsl = default_dsl(3, feature_names=["speed", "pos x", "pos y"])
    assert dsl.feature_names == ["speed", "pos x", "pos y"]
    assert [p.name for p in dsl.productions][10:13] == [
        "affine_speed",
        "affine_pos_x",
        "affine_pos_y",
    ]
    assert dsl["affine_pos_x"].params["group"] == "pos x"
    dsl = default_dsl(3, {"pos": [1, 2], "speed": [0]})
    assert dsl["affine_pos"].params == {"indices": (1, 2), "group": "pos"}
    assert dsl["affine_speed"].params == {"indices": (0,), "group": "speed"}


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def test_hostile_group_names_become_safe_identifiers():
    groups = {
        "class": [0],
        "x y": [1],
        "x-y": [2],
        "x_y_2": [0, 1],
        "1st": [2],
        "__import__('os').system('rm -rf /')": [0],
        "": [1],
        "!!!": [2],
        "group": [0, 2],
        "Énergie (J)": [1],
        "affine": [0],
        "MAP": [1],
        "x0": [2],
    }
    user = make_production("affine_x0", torch_neg, 1, python_function=py_neg)
    dsl = default_dsl(3, groups, extra_productions=[user])
    affines = [
        p
        for p in dsl.productions
        if p.kind == "affine" and p.params["group"] is not None
    ]
    assert [p.params["group"] for p in affines] == list(groups)
    names = [p.name for p in dsl.productions]
    assert len(set(names)) == len(names)
    for p in affines:
        assert _IDENT.match(p.name), p.name
        assert not keyword.iskeyword(p.name)
        assert p.name.startswith("affine_")
        assert p.name == p.name.lower()
    by_group = {p.params["group"]: p.name for p in affines}
    assert by_group["class"] == "affine_class"
    assert by_group["x y"] == "affine_x_y"
    assert by_group["x-y"] == "affine_x_y_2"
    assert by_group["x_y_2"] not in ("affine_x_y", "affine_x_y_2")
    assert by_group["1st"] == "affine_g1st"
    assert by_group["x0"] != "affine_x0"  # taken by the user production
    assert dsl["affine_x0"].kind == "elementwise"
    assert by_group["affine"] == "affine_affine"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("speed", "speed"),
        ("Pos X", "pos_x"),
        ("1st", "g1st"),
        ("", "group"),
        ("***", "group"),
        ("a--b__", "a_b"),
    ],
)
def test_safe_identifier(text, expected):
    assert safe_identifier(text) == expected


def test_safe_identifier_unique():
    used = set()
    assert [safe_identifier("a b", used) for _ in range(3)] == ["a_b", "a_b_2", "a_b_3"]
    assert used == {"a_b", "a_b_2", "a_b_3"}


def test_resolve_feature_groups_defaults():
    assert resolve_feature_groups(2) == {"x0": (0,), "x1": (1,)}
    assert resolve_feature_groups(2, None, ["a", "b"]) == {"a": (0,), "b": (1,)}
    got = resolve_feature_groups(3, {"p": [2, np.int64(0)], 5: (1,)})
    assert got == {"p": (2, 0), "5": (1,)}


@pytest.mark.parametrize(
    "groups, names, err, match",
    [
        (None, ["a"], ValueError, r"feature_names has 1 names but X has 2 features"),
        ([[0], [1]], None, TypeError, r"feature_groups must be a dict"),
        ({}, None, ValueError, r"feature_groups is empty"),
        ({"a": 0}, None, TypeError, r"Feature group 'a' must be a list"),
        ({"a": "01"}, None, TypeError, r"Feature group 'a' must be a list"),
        ({"a": []}, None, ValueError, r"Feature group 'a' is empty"),
        ({"a": [0.0]}, None, TypeError, r"Feature group 'a' has a non-integer index"),
        ({"a": [True]}, None, TypeError, r"Feature group 'a' has a non-integer index"),
        ({"a": [2]}, None, ValueError, r"Feature group 'a' has index 2, out of range"),
        (
            {"a": [-1]},
            None,
            ValueError,
            r"Feature group 'a' has index -1, out of range",
        ),
        ({"a": [1, 1]}, None, ValueError, r"Feature group 'a' repeats an index"),
    ],
)
def test_resolve_feature_groups_errors(groups, names, err, match):
    with pytest.raises(err, match=match):
        resolve_feature_groups(2, groups, names)
    with pytest.raises(err, match=match):
        default_dsl(2, groups, names)


def test_default_dsl_is_valid_python_names():
    dsl = default_dsl(4)
    for p in dsl.productions:
        assert _IDENT.match(p.name) and not keyword.iskeyword(p.name)
        assert p.cost >= 0 and not math.isnan(p.cost)


# duplicate feature names and colliding group names ------------------------------


@pytest.mark.parametrize(
    "names, dup, first, second",
    [
        (["a", "b", "a"], "a", 0, 2),
        (["speed", 1, "1"], "1", 1, 2),  # equal once made strings
    ],
)
def test_duplicate_feature_names_rejected(names, dup, first, second):
    msg = rf"feature_names has the duplicate name '{dup}' \(features {first} and {second}\)"
    with pytest.raises(ValueError, match=msg):
        resolve_feature_groups(3, None, names)
    with pytest.raises(ValueError, match=msg):
        default_dsl(3, None, names)  # would silently drop a default group
    with pytest.raises(ValueError, match=msg):
        default_dsl(3, {"all": [0, 1, 2]}, names)
    with pytest.raises(GrammarError, match=msg):
        DSLBuilder(3, feature_names=names).add(constant_production()).build()
    with pytest.raises(GrammarError, match=msg):
        DSL([constant_production()], 3, names)


def test_group_keys_equal_as_strings_rejected():
    msg = r"feature_groups has the keys 1 and '1', which both become the group name '1'"
    with pytest.raises(ValueError, match=msg):
        resolve_feature_groups(2, {1: [0], "1": [1]})
    with pytest.raises(ValueError, match=msg):
        default_dsl(2, {1: [0], "1": [1]})
    # names that only differ after safe_identifier stay distinct groups
    dsl = default_dsl(2, {"x y": [0], "x-y": [1]})
    assert dsl["affine_x_y"].params["group"] == "x y"
    assert dsl["affine_x_y_2"].params["group"] == "x-y"
