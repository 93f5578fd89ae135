"""Derivation graphs survive pickling, copying and Dask's serialization whole.

Dask's ``distributed`` serialises torch modules attribute by attribute (lists
come back as tuples, shared objects as copies, cycles recurse without end);
``graph._serialization`` makes it pickle the package's modules whole. These
tests round-trip a graph through every path a fit on a cluster uses, then
refresh, evaluate and split it.
"""

import copy
import pickle
import sys

import pytest
import torch

from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.graph import DerivationGraph
from sklearn_dpads.graph._serialization import (
    _use_pickle,
    register_distributed_serialization,
)
from sklearn_dpads.library import default_dsl
from sklearn_dpads.semantics.modules import ProductionModule

F = 2
DSL = default_dsl(F)
ROOTS = ["list[2] -> atom[3]", "list[2] -> list[1]"]


def _graph(root, seed=0):
    torch.manual_seed(seed)
    g = DerivationGraph(DSL, parse_type(root), 3)
    g.unfold(3)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for a in g.arch_parameters():
            a.copy_(torch.randn(a.shape, generator=gen))
    g.prune(2)
    _ = g(*_data())  # fills the evaluation caches
    return g


def _data():
    gen = torch.Generator().manual_seed(1)
    return torch.randn(4, 6, F, generator=gen), torch.tensor([6, 3, 1, 5])


def _assert_whole(g):
    """Edges point into the graph's own sets; mutable state is mutable."""
    sets = {id(cs) for cs in g.sets}
    for e in g.edges_bfs():
        assert id(e.target) in sets  # not a copy: node sharing is kept
        assert any(x is e for x in e.target.incoming)
        assert type(e.valid_indices()) is list
    for cs in g.sets:
        assert type(cs.alive) is list
        assert cs._node.sets[cs.hole] is cs


def _pickle(g):
    return pickle.loads(pickle.dumps(g))


def _deepcopy(g):
    return copy.deepcopy(g)


def _check_registered(g):
    """Fail fast: without the registration distributed's walk does not end."""
    serialize = pytest.importorskip("distributed.protocol.serialize")
    assert serialize.dask_serialize.dispatch(type(g)) is _use_pickle


def _dask_serialize(g):
    protocol = pytest.importorskip("distributed.protocol")
    _check_registered(g)
    header, frames = protocol.serialize(g, on_error="raise")
    assert header["serializer"] == "pickle"  # whole, not attribute by attribute
    return protocol.deserialize(header, frames)


def _dask_task_result(g):
    """As a selection task's ``(graph, score)`` result travels between workers."""
    protocol = pytest.importorskip("distributed.protocol")
    _check_registered(g)
    msg = {"status": "OK", "data": {"key": protocol.to_serialize((g, 0.5))}}
    out = protocol.loads(protocol.dumps(msg, serializers=("dask", "pickle")))
    graph, score = out["data"]["key"]
    assert score == 0.5
    return graph


def _dask_pickle(g):
    """distributed's pickle (task arguments inside a task's spec)."""
    dp = pytest.importorskip("distributed.protocol.pickle")
    return dp.loads(dp.dumps(g))


DASK_ROUNDTRIPS = [_dask_serialize, _dask_task_result, _dask_pickle]
ROUNDTRIPS = [_pickle, _deepcopy, *DASK_ROUNDTRIPS]


@pytest.mark.parametrize("roundtrip", ROUNDTRIPS, ids=lambda f: f.__name__[1:])
@pytest.mark.parametrize("root", ROOTS)
def test_roundtrip_keeps_the_graph_whole(root, roundtrip):
    if roundtrip in DASK_ROUNDTRIPS:
        # as in a fit in the dask backend, distributed is loaded before the
        # graph is built (graphs register themselves when they are made)
        pytest.importorskip("distributed")
    g = _graph(root)
    x, lengths = _data()
    expected = g(x, lengths).detach()
    g2 = roundtrip(g)
    assert g2 is not g
    _assert_whole(g2)
    assert g2.describe() == g.describe()
    torch.testing.assert_close(g2(x, lengths), expected, rtol=0, atol=0)
    # refresh, split and fix work on the copy and leave the original alone
    g2.refresh()
    _assert_whole(g2)
    j = g2.open_edge()
    assert j == g.open_edge() and j is not None
    for i in g.options(j):
        a, b = g.split(j, i), g2.split(j, i)
        _assert_whole(b)
        assert b.describe() == a.describe()
        torch.testing.assert_close(b(x, lengths), a(x, lengths), rtol=0, atol=0)
    g2.fix(j, g2.options(j)[-1])
    assert len(g2.options(j)) == 1 and len(g.options(j)) > 1
    # and the copy's parameters are the ones its forward pass uses
    params = {id(p) for p in g2.parameters()}
    assert all(id(p) in params for p in g2.weight_parameters())
    assert all(id(p) in params for p in g2.arch_parameters())


def test_greedy_program_after_roundtrip():
    pytest.importorskip("distributed")
    g = _graph(ROOTS[0])
    g2 = _dask_task_result(g)
    while (j := g.open_edge()) is not None:
        g.fix(j, g.options(j)[0])
        g2.fix(j, g2.options(j)[0])
    assert str(g2.to_program()[0]) == str(g.to_program()[0])


def _atom_graph(seed=0):
    """An atom-to-atom graph: every edge is evaluated by an atom plan."""
    torch.manual_seed(seed)
    g = DerivationGraph(DSL, parse_type("atom[2] -> atom[1]"), 3)
    g.unfold(3)
    _ = g(torch.randn(5, F))
    assert g._plans  # built by the forward pass
    return g


@pytest.mark.parametrize("graph", [_graph, _atom_graph])
def test_evaluation_caches_are_not_copied(graph):
    g = graph(ROOTS[0]) if graph is _graph else graph()
    plans = dict(g._plans)
    live = [cs for cs in g.sets if "_live_cache" in cs.__dict__]
    assert plans and (live or graph is _atom_graph)
    for roundtrip in (_pickle, _deepcopy):
        g2 = roundtrip(g)
        assert g2._plans == {}  # the atom plans stay behind
        assert not any("_live_cache" in cs.__dict__ for cs in g2.sets)
        # and are rebuilt for the copy's own candidate sets
        _ = g2(*_data()) if graph is _graph else g2(torch.randn(5, F))
        copies = {id(cs) for cs in g2.sets}
        assert all(id(cs) in copies for cs in g2._plans)
        for plan in g2._plans.values():
            if plan is not None:
                assert all(id(e.target) in copies for e in plan.levels[-1]["edges"])
    assert g._plans == plans  # the original keeps them
    assert [cs for cs in g.sets if "_live_cache" in cs.__dict__] == live


def test_pickles_carry_no_plan():
    g = _atom_graph()
    blob = pickle.dumps(g)
    assert b"AtomPlan" not in blob and b"_plans" not in blob


def test_distributed_pickles_the_package_modules_whole():
    serialize = pytest.importorskip("distributed.protocol.serialize")
    assert register_distributed_serialization()
    dispatch = serialize.dask_serialize.dispatch
    assert dispatch(DerivationGraph) is _use_pickle

    class LateProduction(ProductionModule):  # defined after the registration
        pass

    assert dispatch(LateProduction) is _use_pickle
    assert dispatch(torch.nn.Linear) is not _use_pickle  # others are left alone


def test_dask_family_declines_the_graph():
    with pytest.raises(NotImplementedError, match="pickled whole"):
        _use_pickle(_graph(ROOTS[0]))


def test_registration_waits_for_distributed(monkeypatch):
    monkeypatch.delitem(sys.modules, "distributed.protocol.serialize", raising=False)
    assert register_distributed_serialization() is False
