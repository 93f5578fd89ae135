"""The quadratic leaf: squares and products of a group, a speed threshold in one leaf."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sklearn_dpads import ProgramSynthesisClassifier
from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.export import load_python_program
from sklearn_dpads.grammar import DSL, Production
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.inspection import feature_group_importance
from sklearn_dpads.kinds import QUADRATIC, quadratic_production
from sklearn_dpads.kinds.quadratic import quadratic_pairs
from sklearn_dpads.library import default_dsl, search_grammar
from sklearn_dpads.semantics import compile_program

HOLE = parse_type("atom[3] -> atom[1]")


def test_pairs_are_the_squares_and_products_once():
    assert quadratic_pairs([4, 1]) == ((4, 4), (4, 1), (1, 1))
    assert quadratic_pairs([2]) == ((2, 2),)
    assert len(quadratic_pairs(range(4))) == 10


def test_the_leaf_computes_its_formula():
    dsl = default_dsl(3, {"a": [0], "v": [1, 2]}, quadratic=True)
    module = compile_program("(quadratic_v)", dsl, HOLE).double()
    with torch.no_grad():
        module.node(()).linear.weight.copy_(torch.tensor([[0.5, -1.0, 2.0, 3.0, -4.0]]))
        module.node(()).linear.bias.fill_(0.25)
    x = torch.tensor([[9.0, 1.5, -2.0], [0.0, 0.3, 0.7]], dtype=torch.float64)
    with torch.no_grad():
        got = module(x).numpy().ravel()
    u, v = x[:, 1].numpy(), x[:, 2].numpy()
    want = 0.25 + 0.5 * u - v + 2 * u * u + 3 * u * v - 4 * v * v
    np.testing.assert_allclose(got, want)
    leaf = module.leaf(())
    assert leaf.indices == (1, 2) and len(leaf.weight[0]) == 5


def test_default_dsl_adds_one_leaf_per_group_of_two_or_more_features():
    dsl = default_dsl(4, {"a": [0], "v": [1, 2], "w": [3]}, quadratic=True)
    quad = [p for p in dsl.productions if p.kind is QUADRATIC]
    assert [(p.name, p.params["indices"]) for p in quad] == [("quadratic_v", (1, 2))]
    names = [p.name for p in dsl.productions]
    assert names.index("quadratic_v") == names.index("affine") + 1
    assert not any(
        p.kind is QUADRATIC for p in default_dsl(4, {"v": [1, 2]}).productions
    )
    assert dsl["quadratic_v"].display([]) == "quadratic[v](x)"


def test_bad_quadratic_leaves():
    with pytest.raises(GrammarError, match=r"needs params\['indices'\], the features"):
        quadratic_production("q", None)
    with pytest.raises(GrammarError, match=r"needs params\['indices'\], the features"):
        Production("q", QUADRATIC, 0, {"indices": None})
    with pytest.raises(GrammarError, match=r"selects feature\(s\) \[5\] but the input"):
        quadratic_production("q", [1, 5]).child_types(HOLE, 3)
    with pytest.raises(GrammarError, match=r"repeat|distinct"):
        quadratic_production("q", [1, 1])


def _speed_data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    # a disc off the origin: affine_v reads part of it, quadratic_v all of it
    y = ((X[:, 1] - 0.8) ** 2 + X[:, 2] ** 2 < 1.6).astype(int)
    return X, y


def test_a_speed_threshold_is_one_leaf_and_the_export_agrees():
    X, y = _speed_data()
    dsl = default_dsl(3, {"a": [0], "v": [1, 2]}, quadratic=True)
    # the search leaves it out; the local search swaps it in for a leaf
    kw = dict(program_epochs=30, random_state=0, grow_steps=1, max_depth=1)
    clf = ProgramSynthesisClassifier(dsl=dsl, **kw).fit(X[:400], y[:400])
    assert str(clf.program_) == "(quadratic_v)"
    assert clf.score(X[400:], y[400:]) > 0.9
    module = load_python_program(clf.export_program().source)
    rows = X[400:].tolist()
    assert list(module.predict(rows)) == clf.predict(X[400:]).tolist()
    np.testing.assert_allclose(
        module.decision_function(rows), clf.decision_function(X[400:]), atol=1e-5
    )
    assert "squares and products of the v features" in str(clf.describe())
    # the squares count for the group in the importances
    importance = feature_group_importance(clf, X)
    assert list(importance) == ["v"] and importance["v"] > 0


class _UnsearchedQuadratic(type(QUADRATIC)):
    searched = False


def test_the_search_grammar_leaves_unsearched_kinds_to_the_local_search():
    # quadratic leaves are searched: the atom plans compute them in their bank
    dsl = default_dsl(3, {"a": [0], "v": [1, 2]}, quadratic=True)
    assert search_grammar(dsl) is dsl
    # a kind that says searched = False is left to the local search
    hidden = Production(
        "quadratic_v", _UnsearchedQuadratic(), 0, {"indices": (1, 2), "group": "v"}
    )
    dsl = default_dsl(3, {"a": [0], "v": [1, 2]}, extra_productions=[hidden])
    searched = search_grammar(dsl)
    assert [p.name for p in searched.productions] == [
        p.name for p in dsl.productions if p.name != "quadratic_v"
    ]
    assert searched.n_features == 3
    plain = default_dsl(3, {"a": [0], "v": [1, 2]})
    assert search_grammar(plain) is plain
    # a grammar whose only leaf is unsearched is searched whole
    only = DSL([hidden], 3)
    assert search_grammar(only) is only
