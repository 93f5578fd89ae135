"""The derivation graph owns its atom plans; edges only receive them.

A plan is built by the graph on first use, shared by every edge into its
candidate set, dropped by ``refresh`` and rebuilt after an ``Edge.set_valid``
that changed an edge it covers, so that no forward pass evaluates a stale
plan. ``edges.py`` and ``atom_plan.py`` do not import each other at run time.
"""

import ast
import copy
from pathlib import Path

import pytest
import torch

import sklearn_dpads.graph as graph_package
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.graph import DerivationGraph
from sklearn_dpads.library import default_dsl
from sklearn_dpads.semantics.ops import (
    Evaluation,
    last_step,
    lengths_to_mask,
    zero_padding,
)

F = 2
DSL = default_dsl(F)
ROOTS = ["atom[2] -> atom[1]", "list[2] -> atom[3]", "list[2] -> list[1]"]
GRAPH_DIR = Path(graph_package.__file__).parent


def _graph(root, seed=0, max_depth=3):
    torch.manual_seed(seed)
    g = DerivationGraph(DSL, parse_type(root), max_depth)
    g.unfold(max_depth)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for a in g.arch_parameters():
            a.copy_(torch.randn(a.shape, generator=gen))
    return g


def _data(hole, seed=0):
    gen = torch.Generator().manual_seed(seed)
    if hole.input.is_seq:
        return torch.randn(4, 6, F, generator=gen), torch.tensor([6, 3, 1, 5])
    return torch.randn(5, F, generator=gen), None


def _planned_edges(g):
    """Reachable edges with several candidates that some atom plan covers."""
    covered = set()
    for plan in g._plans.values():
        if plan is not None:
            covered.update(id(e) for lv in plan.levels for e in lv["edges"])
    return [e for e in g.edges_bfs() if id(e) in covered and len(e.valid_indices()) > 1]


def test_the_graph_holds_one_plan_per_candidate_set():
    g = _graph(ROOTS[0])
    e = g.root_edge
    assert g._plans == {}  # built on first use
    plan = g.atom_plan(e)
    assert plan is not None and plan.row(e) is not None
    assert g.atom_plan(e) is plan  # then held
    assert g._plans == {e.target: plan}
    # every edge into the set shares it
    cands = {c.production.name: c for c in e.target.cands}
    inner = cands["add"].args[0]
    assert all(g.atom_plan(i) is g.atom_plan(inner) for i in inner.target.incoming)
    g.refresh()  # a new structure: plans are dropped
    assert g._plans == {}
    assert g.atom_plan(e) is not plan


def test_sequence_edges_have_no_plan():
    g = _graph(ROOTS[1])
    assert g.atom_plan(g.root_edge) is None


def test_edges_and_candidate_sets_hold_no_plan_state():
    for root in ROOTS:
        g = _graph(root)
        x, lengths = _data(parse_type(root))
        g(x, lengths)
        assert any(p is not None for p in g._plans.values())
        for e in g.edges_bfs():
            assert "_generation" not in e.__dict__
            assert "_plan_cache" not in e.target.__dict__
        assert "_generation" not in g.__dict__


def test_forward_hands_the_plans_over_in_the_evaluation():
    g = _graph(ROOTS[0])
    ctx = g._new_ctx()
    assert isinstance(ctx, Evaluation) and ctx.carry is None
    assert ctx.plans(g.root_edge) is g.atom_plan(g.root_edge)
    x, _ = _data(parse_type(ROOTS[0]))
    with torch.no_grad():
        torch.testing.assert_close(g.root(x, None, ctx), g(x))
        # without plans (a bare evaluation) the mixtures route gives the same
        torch.testing.assert_close(
            g.root(x, None, Evaluation()), g(x), rtol=1e-5, atol=1e-6
        )


@pytest.mark.parametrize("root", ROOTS)
@pytest.mark.parametrize("which", ["first", "last"])
def test_set_valid_without_refresh_never_uses_a_stale_plan(root, which):
    hole = parse_type(root)
    g = _graph(root)
    x, lengths = _data(hole)
    with torch.no_grad():
        before = g(x, lengths)  # builds the plans
    edges = _planned_edges(g)
    assert edges
    e = edges[0 if which == "first" else -1]
    plan = g.atom_plan(e)
    e.set_valid(e.valid_indices()[-1:])  # and no refresh
    with torch.no_grad():
        narrowed = g(x, lengths)
        # references: the recursive evaluation, and a refreshed copy
        recursive = g.root_edge(*_rooted(g, x, lengths))
        fresh = copy.deepcopy(g)
        fresh.refresh()
        refreshed = fresh(x, lengths)
    assert not torch.allclose(narrowed, before)  # the narrowing matters
    torch.testing.assert_close(narrowed, _readout(g, recursive, lengths))
    torch.testing.assert_close(narrowed, refreshed, rtol=1e-5, atol=1e-6)
    assert g.atom_plan(e) is not plan  # rebuilt for the new candidates
    assert g.atom_plan(e).is_current()


def _rooted(g, x, lengths):
    """``(x, mask, None)``: the root's input for a forward without evaluation."""
    if not g.hole.input.is_seq:
        return x, None, None
    mask = lengths_to_mask(lengths, x.shape[1])
    return zero_padding(x, mask), mask, None


def _readout(g, y, lengths):
    if g.hole.input.is_seq and not g.hole.output.is_seq:
        return last_step(y, lengths)
    return y


def test_atom_plan_checks_the_valid_candidates_outside_a_forward_pass():
    g = _graph(ROOTS[0])
    e = g.root_edge
    plan = g.atom_plan(e)
    assert plan.is_current()
    inner = _planned_edges(g)[-1]
    inner.set_valid(inner.valid_indices()[:1])
    assert not plan.is_current()
    rebuilt = g.atom_plan(e)
    assert rebuilt is not plan and rebuilt.is_current()
    assert g.atom_plan(e) is rebuilt


def _imports(path):
    """``(module, under_type_checking)`` of every import in a file, nested ones too."""
    tree = ast.parse(path.read_text())
    guarded = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded.update(id(n) for b in node.body for n in ast.walk(b))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((a.name, id(node) in guarded) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            out.append((base, id(node) in guarded))
            out.extend((f"{base}.{a.name}", id(node) in guarded) for a in node.names)
    return out


def test_edges_and_atom_plan_do_not_import_each_other():
    edges = _imports(GRAPH_DIR / "edges.py")
    assert not [m for m, _ in edges if "atom_plan" in m]
    plan = _imports(GRAPH_DIR / "atom_plan.py")
    # the edges only as annotations: never at run time
    assert not [m for m, guarded in plan if "graph.edges" in m and not guarded]
