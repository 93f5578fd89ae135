"""Tests for sklearn_dpads.graph.DerivationGraph."""

import random

import pytest
import torch

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.grammar.canonical import canonical_cost
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.graph import CandidateSet, DerivationGraph, Edge, atom_plan
from sklearn_dpads.library import default_dsl
from sklearn_dpads.semantics import NeuralAtom, NeuralSeq, ProgramModule

F = 2
DSL = default_dsl(F)
ROOTS = ["list[2] -> list[1]", "list[2] -> atom[3]", "atom[2] -> atom[1]"]
MAX_DEPTH = 3


def _data(hole, seed=0):
    g = torch.Generator().manual_seed(seed)
    if hole.input.is_seq:
        return torch.randn(4, 6, F, generator=g), torch.tensor([6, 3, 1, 5])
    return torch.randn(5, F, generator=g), None


def _graph(root, share=True, max_depth=MAX_DEPTH, seed=0):
    torch.manual_seed(seed)
    return DerivationGraph(DSL, parse_type(root), max_depth, share_nodes=share)


def _randomise_alphas(graph, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for a in graph.arch_parameters():
            a.copy_(torch.randn(a.shape, generator=g))


@pytest.mark.parametrize("root", ROOTS)
def test_graph_builds_for_every_root(root):
    hole = parse_type(root)
    g = _graph(root)
    assert g.frontier == 0
    assert len(g.sets) == 1
    assert isinstance(g.root_edge, Edge)
    root_names = [c.production.name for c in g.root_edge.target.cands]
    assert root_names == [p.name for p, _ in DSL.feasible(hole, MAX_DEPTH)]
    assert g.has_fillers()
    n_fillers = 0
    for _, _, c in g.live_modules():
        for a, t in zip(c.args, c.child_types, strict=True):
            assert isinstance(a, NeuralSeq if t.input.is_seq else NeuralAtom)
            assert a.hole == t
            n_fillers += 1
    assert n_fillers > 0
    x, lengths = _data(hole)
    y = g(x, lengths)
    if hole.input.is_seq and hole.output.is_seq:
        assert y.shape == (4, 6, hole.output.size)
    else:
        assert y.shape == (x.shape[0], hole.output.size)
    assert torch.isfinite(y).all()
    assert g.describe().count("<neural>") >= 1


def test_graph_root_must_be_fillable():
    with pytest.raises(GrammarError, match=r"No program of depth <= 1"):
        DerivationGraph(DSL, parse_type("list[2] -> atom[1]"), 1)


@pytest.mark.parametrize("root", ROOTS)
@pytest.mark.parametrize("share", [True, False])
def test_arch_and_weight_parameters_are_disjoint(root, share):
    g = _graph(root, share)
    for depth in (1, 2, MAX_DEPTH):
        g.unfold(depth)
        arch = g.arch_parameters()
        weights = g.weight_parameters()
        ids_a, ids_w = {id(p) for p in arch}, {id(p) for p in weights}
        assert len(ids_a) == len(arch) and len(ids_w) == len(weights)
        assert not ids_a & ids_w
        assert all(p.dim() == 1 for p in arch)
        assert ids_a == {id(e.alpha) for e in g.edges_bfs()}
        all_ids = {id(p) for p in g.parameters()}
        assert ids_a <= all_ids and ids_w <= all_ids
        # every parameter of a reachable candidate is in exactly one group
        for _, _, c in g.live_modules():
            for p in c.parameters():
                assert id(p) in ids_a or id(p) in ids_w


@pytest.mark.parametrize("root", ROOTS)
@pytest.mark.parametrize("share", [True, False])
def test_unfold_increases_depth_and_removes_fillers(root, share):
    g = _graph(root, share)
    n_arch = len(g.arch_parameters())
    depths = [max(cs.depth for cs in g.sets)]
    for d in (2, MAX_DEPTH):
        g.unfold(d)
        assert g.frontier == d
        depths.append(max(cs.depth for cs in g.sets))
        assert len(g.arch_parameters()) > n_arch
        n_arch = len(g.arch_parameters())
        assert g.has_fillers() == (d < MAX_DEPTH)
    assert depths == [1, 2, MAX_DEPTH]
    assert not g.has_fillers()
    # unfolding past the maximum depth changes nothing
    n_sets = len(g.sets)
    g.unfold(MAX_DEPTH + 3)
    assert len(g.sets) == n_sets and g.frontier == MAX_DEPTH
    # at max depth only leaves remain
    for cs, _, c in g.live_modules():
        if cs.depth == MAX_DEPTH:
            assert c.production.arity == 0
    hole = parse_type(root)
    x, lengths = _data(hole)
    assert torch.isfinite(g(x, lengths)).all()


def test_node_sharing():
    shared = _graph("atom[2] -> atom[1]", True)
    shared.unfold(MAX_DEPTH)
    cands = {c.production.name: c for c in shared.root_edge.target.cands}
    add, mul, ite = cands["add"], cands["multiply"], cands["ite"]
    assert isinstance(add.args[0], Edge) and isinstance(mul.args[0], Edge)
    # the same CandidateSet, hence the very same candidate modules
    assert add.args[0].target is mul.args[0].target
    assert isinstance(add.args[0].target, CandidateSet)
    for a, b in zip(add.args[0].target.cands, mul.args[0].target.cands, strict=True):
        assert a is b
    # but each (candidate, slot) pair owns its edge and alphas
    assert add.args[0] is not mul.args[0]
    assert add.args[0].alpha is not mul.args[0].alpha
    # slot 1 and slot 0 live in different nodes
    assert add.args[0].target is not add.args[1].target
    # slot k of every candidate of a node points to the same child node: ite's
    # condition has the hole's own type here (atom[2] -> atom[1])
    assert ite.args[0].target is add.args[0].target
    assert ite.args[1].target is add.args[1].target

    separate = _graph("atom[2] -> atom[1]", False)
    separate.unfold(MAX_DEPTH)
    cands = {c.production.name: c for c in separate.root_edge.target.cands}
    assert cands["add"].args[0].target is not cands["multiply"].args[0].target
    assert len(shared.sets) < len(separate.sets)
    n_shared = sum(p.numel() for p in shared.weight_parameters())
    n_separate = sum(p.numel() for p in separate.weight_parameters())
    assert n_shared < n_separate


def test_shared_candidates_are_computed_once(monkeypatch):
    # the recursive evaluation (used where no atom plan applies) computes a
    # candidate shared by several edges once per input
    monkeypatch.setattr(atom_plan, "build_atom_plan", lambda edge: None)
    g = _graph("atom[2] -> atom[1]", True)
    g.unfold(MAX_DEPTH)
    calls = []
    target = g.root_edge.target.cands[1].args[0].target  # add's slot 0
    leaf = target.cands[-1]  # const
    forward = leaf.forward

    def counted(*args):
        calls.append(1)
        return forward(*args)

    leaf.forward = counted  # the graph calls forward directly (no hooks)
    x, _ = _data(parse_type("atom[2] -> atom[1]"))
    g(x)
    assert len(calls) == 1


@pytest.mark.parametrize("root", ROOTS)
@pytest.mark.parametrize("top_n", [None, 3, 1])
@pytest.mark.parametrize("seed", [0, 1])
def test_atom_plan_equals_the_recursive_evaluation(root, top_n, seed, monkeypatch):
    g = _graph(root, True, seed=seed)
    g.unfold(MAX_DEPTH)
    _randomise_alphas(g, seed)
    if top_n is not None:
        g.prune(top_n)
    x, lengths = _data(parse_type(root), seed)
    with torch.no_grad():
        planned = g(x, lengths)
    monkeypatch.setattr(atom_plan, "build_atom_plan", lambda edge: None)
    g.refresh()  # drop cached plans
    with torch.no_grad():
        recursive = g(x, lengths)
    torch.testing.assert_close(planned, recursive, rtol=1e-5, atol=1e-6)


def _matches_the_recursion(g, x, lengths, monkeypatch):
    """The planned forward pass equals the recursive one, values and gradients."""
    planned = g(x, lengths)
    grads = torch.autograd.grad(planned.sum(), list(g.parameters()), allow_unused=True)
    monkeypatch.setattr(atom_plan, "build_atom_plan", lambda edge: None)
    g.refresh()  # drop cached plans
    recursive = g(x, lengths)
    ref = torch.autograd.grad(recursive.sum(), list(g.parameters()), allow_unused=True)
    torch.testing.assert_close(planned, recursive, rtol=1e-5, atol=1e-6)
    for a, b in zip(grads, ref, strict=True):
        if a is None or b is None:
            assert a is None and b is None
        else:
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("root", ROOTS)
@pytest.mark.parametrize("seed", [0, 1])
def test_atom_plan_with_quadratic_leaves_equals_the_recursive_evaluation(
    root, seed, monkeypatch
):
    # quadratic leaves are in the plan's bank (the input widened by the
    # products they weigh), values and gradients as evaluated recursively
    dsl = default_dsl(F, {"a": [0, 1], "b": [1]}, quadratic=True)
    assert "quadratic_a" in [p.name for p in dsl.productions]
    torch.manual_seed(seed)
    g = DerivationGraph(dsl, parse_type(root), MAX_DEPTH)
    g.unfold(MAX_DEPTH)
    _randomise_alphas(g, seed)
    atom_edges = [e for e in g.edges_bfs() if not e.target.hole.input.is_seq]
    # quadratic leaves leave no subtree unplanned that affine ones would plan
    plain = DerivationGraph(
        default_dsl(F, {"a": [0, 1], "b": [1]}), g.root_edge.target.hole, MAX_DEPTH
    )
    plain.unfold(MAX_DEPTH)
    n_plain = sum(
        plain.atom_plan(e) is not None
        for e in plain.edges_bfs()
        if not e.target.hole.input.is_seq
    )
    plans = [g.atom_plan(e) for e in atom_edges]
    assert sum(p is not None for p in plans) == n_plain > 0
    assert any(p is not None and p.products is not None for p in plans)
    x, lengths = _data(parse_type(root), seed)
    _matches_the_recursion(g, x, lengths, monkeypatch)


@pytest.mark.parametrize("root", ROOTS)
@pytest.mark.parametrize("seed", [0, 1])
def test_atom_plan_with_neural_fillers_equals_the_recursive_evaluation(
    root, seed, monkeypatch
):
    # a partially unfolded graph: the frontier's combinators hold neural fillers
    g = _graph(root, True, seed=seed)
    g.unfold(2)
    assert g.has_fillers()
    _randomise_alphas(g, seed)
    x, lengths = _data(parse_type(root), seed)
    planned_any = any(
        g.atom_plan(e) is not None
        for e in g.edges_bfs()
        if not e.target.hole.input.is_seq
    )
    _matches_the_recursion(g, x, lengths, monkeypatch)
    if root.endswith("atom[1]"):
        # one output: every atom subtree, fillers included, has a plan
        assert planned_any


def test_atom_plan_gradients_match(monkeypatch):
    root = "list[2] -> atom[1]"
    x, lengths = _data(parse_type(root))
    grads = []
    for planned in (True, False):
        if not planned:
            monkeypatch.setattr(atom_plan, "build_atom_plan", lambda edge: None)
        g = _graph(root, True, seed=3)
        g.unfold(MAX_DEPTH)
        _randomise_alphas(g, 3)
        g(x, lengths).sum().backward()
        grads.append([p.grad.clone() for p in g.parameters() if p.grad is not None])
    assert len(grads[0]) == len(grads[1])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_atom_plan_covers_fold_bodies():
    g = _graph("list[2] -> atom[1]", True)
    g.unfold(MAX_DEPTH)
    fold = next(c for c in g.root_edge.target.cands if c.production.kind == "fold")
    plan = atom_plan.build_atom_plan(fold.args[0])
    assert plan is not None and plan.leaves
    assert len(plan.levels) == MAX_DEPTH - 1


@pytest.mark.parametrize("root", ROOTS)
@pytest.mark.parametrize("top_n", [1, 2, 3])
def test_prune_keeps_top_n(root, top_n):
    g = _graph(root)
    g.unfold(MAX_DEPTH)
    _randomise_alphas(g, seed=top_n)
    before = {
        id(e): (e.valid_indices(), e.alpha.detach().clone()) for e in g.edges_bfs()
    }
    g.prune(top_n)
    edges = g.edges_bfs()
    assert edges
    for e in edges:
        idx = e.valid_indices()
        assert 1 <= len(idx) <= top_n
        old_idx, alpha = before[id(e)]
        ranked = sorted(old_idx, key=lambda i: -float(alpha[i]))
        assert sorted(idx) == sorted(ranked[: len(idx)])
        assert e.valid.sum().item() == len(idx)
        assert set(e.probabilities()) == set(idx)
        assert sum(e.probabilities().values()) == pytest.approx(1.0)
    hole = parse_type(root)
    x, lengths = _data(hole)
    assert torch.isfinite(g(x, lengths)).all()


def _make_discrete(g, rng):
    g.unfold(g.max_depth)
    j = g.open_edge()
    while j is not None:
        e = g.edges_bfs()[j]
        e.set_valid([rng.choice(e.valid_indices())])
        g.refresh()
        j = g.open_edge()
    return g


@pytest.mark.parametrize("root", ROOTS)
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("share", [True, False])
def test_one_hot_selection_extracts_the_same_program(root, seed, share):
    hole = parse_type(root)
    g = _graph(root, share, seed=seed)
    g.unfold(2)
    with pytest.raises(ValueError, match=r"not a single program"):
        g.to_program()
    with pytest.raises(ValueError, match=r"not a single program"):
        g.extract()
    _make_discrete(g, random.Random(seed))
    assert g.is_discrete()
    program, modules = g.to_program()
    assert program.depth <= MAX_DEPTH
    assert set(modules) == {path for path, _ in program.walk()}
    # a discrete graph costs its canonical program (redundant leaves folded)
    assert g.structural_cost() == pytest.approx(canonical_cost(program, DSL))
    assert g.structural_cost() <= program.cost(DSL)
    pm = g.extract()
    assert isinstance(pm, ProgramModule)
    assert pm.program == program
    x, lengths = _data(hole, seed=seed)
    with torch.no_grad():
        torch.testing.assert_close(pm(x, lengths), g(x, lengths), atol=1e-6, rtol=0)
    # the parameters were copied, not shared
    for path, st in pm.parameters_by_path().items():
        src = modules[path].state_dict()
        for k, v in st.items():
            assert torch.equal(v, src[k])
            assert v.data_ptr() != src[k].data_ptr()


def test_to_program_needs_no_fillers():
    g = _graph("atom[2] -> atom[1]")
    e = g.root_edge
    names = [c.production.name for c in e.target.cands]
    e.set_valid([names.index("add")])
    g.refresh()
    assert g.open_edge() is None
    assert g.has_fillers() and not g.is_discrete()
    with pytest.raises(ValueError, match=r"not a single program"):
        g.to_program()
    # neural fillers count as one production in the cost lower bound
    assert g.structural_cost() == pytest.approx(1.0 + 2.0)


def test_structural_cost_is_cheapest_program():
    g = _graph("list[2] -> atom[1]")
    g.unfold(MAX_DEPTH)
    # cheapest: a window or fold over a leaf
    assert g.structural_cost() == pytest.approx(2.0)


def test_set_valid_restricts_the_mixture():
    g = _graph("atom[2] -> atom[1]")
    g.unfold(MAX_DEPTH)
    x, _ = _data(parse_type("atom[2] -> atom[1]"))
    e = g.root_edge
    names = [c.production.name for c in e.target.cands]
    i = names.index("const")
    e.set_valid([i])
    g.refresh()
    assert g.is_discrete()
    assert [cs for cs, _, _ in g.live_modules()] == [e.target]
    v = e.target.cands[i].value.detach()
    torch.testing.assert_close(g(x), v.expand(5, 1))


def test_atom_plan_uses_the_ite_temperature(monkeypatch):
    dsl = default_dsl(F, ite_beta=2.5)
    hole = parse_type("atom[2] -> atom[1]")
    torch.manual_seed(0)
    g = DerivationGraph(dsl, hole, MAX_DEPTH)
    g.unfold(MAX_DEPTH)
    _randomise_alphas(g, 4)
    x, _ = _data(hole, 4)
    with torch.no_grad():
        planned = g(x)
    monkeypatch.setattr(atom_plan, "build_atom_plan", lambda edge: None)
    g.refresh()
    with torch.no_grad():
        recursive = g(x)
    torch.testing.assert_close(planned, recursive, rtol=1e-5, atol=1e-6)
