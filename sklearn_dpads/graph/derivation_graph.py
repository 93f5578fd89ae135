"""The program derivation graph: every program up to a depth as one super-program.

Structure (dPads, Cui & Zhu 2021):

* a *node* at depth ``d`` hosts, for each hole type reaching it, a
  :class:`~sklearn_dpads.graph.edges.CandidateSet`: one instance of every
  production that can fill that type and still finish within ``max_depth``;
* **node sharing**: argument slot ``k`` of every candidate in a node points to
  the same child node, so candidates with the same hole type are the same
  modules (shared parameters, computed once per input);
* every (candidate, slot) pair owns an :class:`~sklearn_dpads.graph.edges.Edge`
  with architecture logits ``alpha`` over the child's candidates; the slot's
  value is the softmax(alpha)-weighted mixture of the valid candidates'
  outputs;
* the graph is **unfolded** a few levels at a time; slots below the frontier
  are filled by small neural networks;
* **top-N preservation** keeps the ``N`` best candidates of every edge;
* a graph whose every reachable edge has one candidate and no neural filler is
  a discrete program (:meth:`DerivationGraph.to_program`).

The graph also holds the level-batched plans of its atom subtrees
(:mod:`~sklearn_dpads.graph.atom_plan`), one per candidate set, and hands
them to its edges' forward passes (:meth:`DerivationGraph.atom_plan`).
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from sklearn_dpads.grammar.dsl import DSL
from sklearn_dpads.grammar.types import FunctionType
from sklearn_dpads.graph._serialization import register_distributed_serialization
from sklearn_dpads.graph.atom_plan import AtomPlan, PlanCache
from sklearn_dpads.graph.edges import CandidateSet, Edge
from sklearn_dpads.graph.partition import GraphPartition
from sklearn_dpads.program import Program
from sklearn_dpads.semantics.compile import ProgramModule, RootModel, node_state
from sklearn_dpads.semantics.neural import neural_filler
from sklearn_dpads.semantics.ops import Evaluation

__all__ = ["DerivationGraph"]


class _Node:
    """A position of the graph; its slot-``k`` children are shared."""

    def __init__(self, depth: int):
        self.depth = depth
        self.sets: dict[FunctionType, CandidateSet] = {}
        self.children: dict[int, _Node] = {}


class DerivationGraph(GraphPartition, RootModel):
    """A differentiable super-program over all programs of depth <= ``max_depth``.

    Parameters
    ----------
    dsl : DSL
        The grammar.
    hole : FunctionType
        Root type (``list[F] -> atom[O]`` and so on).
    max_depth : int
        Maximum AST depth of a program.
    share_nodes : bool, default=True
        Whether to use dPads node sharing; False gives every (candidate, slot)
        its own node.
    max_units : int, default=16
        Width of the neural frontier fillers at depth 1; it halves with every
        level.
    min_units : int, default=4
        Smallest width of a neural frontier filler.
    """

    def __init__(
        self,
        dsl: DSL,
        hole: FunctionType,
        max_depth: int,
        *,
        share_nodes: bool = True,
        max_units: int = 16,
        min_units: int = 4,
    ):
        super().__init__(hole)
        dsl.check_root(hole, max_depth)
        # a graph may be shipped to Dask workers: they must pickle it whole
        register_distributed_serialization()
        self.dsl = dsl
        self.max_depth = max_depth
        self.share_nodes = share_nodes
        self.max_units = max_units
        self.min_units = min_units
        self.sets = nn.ModuleList()
        self.frontier = 0
        self._plans = PlanCache()  # the atom plans; see atom_plan
        self._root_node = _Node(1)
        self.root_edge = Edge(self._cset(self._root_node, hole))
        self.refresh()

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_plans", None)  # an evaluation cache: rebuilt, never shipped
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._plans = PlanCache()
        register_distributed_serialization()

    # construction -----------------------------------------------------------
    def _cset(self, node: _Node, hole: FunctionType) -> CandidateSet:
        if hole not in node.sets:
            entries = self.dsl.feasible(hole, self.max_depth - node.depth + 1)
            cs = CandidateSet(hole, node.depth, entries, self.dsl.n_features)
            for c in cs.cands:
                c.set_args(
                    [
                        neural_filler(t, node.depth + 1, self.max_units, self.min_units)
                        for t in c.child_types
                    ]
                )
            object.__setattr__(cs, "_node", node)
            node.sets[hole] = cs
            self.sets.append(cs)
        return node.sets[hole]

    def unfold(self, to_depth: int) -> None:
        """Replace neural fillers above ``to_depth`` by new candidate nodes.

        Candidates at depth ``to_depth`` keep neural fillers in their slots
        (unless ``to_depth >= max_depth``, where only leaves remain).

        Parameters
        ----------
        to_depth : int
            Depth of the new frontier, capped at ``max_depth``.
        """
        to_depth = min(to_depth, self.max_depth)
        changed = True
        while changed:
            changed = False
            for cs in list(self.sets):
                if cs.depth >= to_depth:
                    continue
                node = cs._node
                for i, c in enumerate(cs.cands):
                    if not cs.alive[i]:
                        continue
                    new_args, touched = [], False
                    for k, (arg, t) in enumerate(zip(c.args, c.child_types)):
                        if isinstance(arg, Edge):
                            new_args.append(arg)
                            continue
                        child = self._child_node(node, k)
                        new_args.append(Edge(self._cset(child, t)))
                        touched = True
                    if touched:
                        c.args = nn.ModuleList(new_args)
                        changed = True
            if changed:
                self.refresh()
        self.frontier = max(self.frontier, to_depth)
        self.refresh()

    def _child_node(self, node: _Node, k: int) -> _Node:
        if not self.share_nodes:
            return _Node(node.depth + 1)
        if k not in node.children:
            node.children[k] = _Node(node.depth + 1)
        return node.children[k]

    # reachability -------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute which candidates are reachable through valid edges.

        Also drops every atom plan (:meth:`atom_plan`): they are rebuilt for
        the new structure on first use.
        """
        for cs in self.sets:
            cs.alive = [False] * len(cs.cands)
            cs.incoming = []
        # a new structure: the atom plans of the old one are stale
        self._plans.clear()
        stack = [self.root_edge]
        seen, reached = set(), set()
        while stack:
            e = stack.pop()
            cs = e.target
            if id(e) not in reached:
                reached.add(id(e))
                cs.incoming.append(e)
            for i in e.valid_indices():
                if (id(cs), i) in seen:
                    continue
                seen.add((id(cs), i))
                cs.alive[i] = True
                stack.extend(a for a in cs.cands[i].args if isinstance(a, Edge))
        # pruned candidates leave the graph: a candidate that no valid edge
        # reaches can never be reached again (edges only narrow), so its
        # subtree of edges and fillers is dropped; leaves stay (refinement
        # may widen a leaf into a pruned full affine leaf)
        for cs in self.sets:
            for i, c in enumerate(cs.cands):
                if not cs.alive[i] and len(c.args):
                    c.args = nn.ModuleList()
        # and candidate sets that nothing reaches leave with them
        if not all(any(cs.alive) for cs in self.sets):
            for cs in self.sets:
                if not any(cs.alive):
                    cs._node.sets.pop(cs.hole, None)
            self.sets = nn.ModuleList([cs for cs in self.sets if any(cs.alive)])

    def edges_bfs(self) -> list[Edge]:
        """Return the reachable edges in breadth-first (top-left first) order.

        Returns
        -------
        list of Edge
            Each reachable edge once.
        """
        out, seen, queue = [], set(), [self.root_edge]
        while queue:
            e = queue.pop(0)
            if id(e) in seen:
                continue
            seen.add(id(e))
            out.append(e)
            for i in e.valid_indices():
                queue.extend(a for a in e.target.cands[i].args if isinstance(a, Edge))
        return out

    def live_modules(self):
        """Yield ``(candidate_set, index, module)`` for every reachable candidate.

        Yields
        ------
        tuple of (CandidateSet, int, ProductionModule)
            The candidate set, the candidate's index in it and its module.
        """
        for cs in self.sets:
            for i, c in enumerate(cs.cands):
                if cs.alive[i]:
                    yield cs, i, c

    def has_fillers(self) -> bool:
        """Whether a reachable slot is still filled by a neural network.

        Returns
        -------
        bool
            True while some reachable slot holds a neural filler.
        """
        return any(
            not isinstance(a, Edge) for _, _, c in self.live_modules() for a in c.args
        )

    # parameters -----------------------------------------------------------------
    def arch_parameters(self) -> list[nn.Parameter]:
        """Return the architecture logits of the reachable edges.

        Returns
        -------
        list of torch.nn.Parameter
            One ``alpha`` per edge, in breadth-first order.
        """
        return [e.alpha for e in self.edges_bfs()]

    def weight_parameters(self) -> list[nn.Parameter]:
        """Return the program and neural-filler parameters of the reachable candidates.

        Returns
        -------
        list of torch.nn.Parameter
            Each parameter once; architecture logits are excluded.
        """
        params, seen = [], set()
        for _, _, c in self.live_modules():
            for name, p in c.named_parameters():
                if name.endswith("alpha") or id(p) in seen:
                    continue
                # arguments that are edges belong to their own candidates
                if name.startswith("args.") and isinstance(
                    c.args[int(name.split(".")[1])], Edge
                ):
                    continue
                seen.add(id(p))
                params.append(p)
        return params

    # forward ------------------------------------------------------------------
    def root(
        self, x: torch.Tensor, mask: torch.Tensor | None, ctx: Evaluation | None
    ) -> torch.Tensor:
        """Evaluate the root edge: the mixture over all programs in the graph.

        Parameters
        ----------
        x : torch.Tensor
            Input, ``(B, T, d)`` for a sequence-input hole or ``(N, d)`` for an
            atom-input hole.
        mask : torch.Tensor or None
            Boolean ``(B, T)`` mask of the real frames of a sequence input; None
            for an atom input.
        ctx : Evaluation or None
            State of the forward pass; None: nothing is memoised or carried.

        Returns
        -------
        torch.Tensor
            Per-step outputs of the root function.
        """
        return self.root_edge(x, mask, ctx)

    def _new_ctx(self) -> Evaluation:
        """The evaluation state of a new forward pass, with the graph's atom plans."""
        self._plans.drop_stale()
        return Evaluation(plans=self._plans.plan)

    def atom_plan(self, edge: Edge) -> AtomPlan | None:
        """The level-batched plan of the atom subtree below ``edge``.

        The graph holds one plan per candidate set (covering every edge into
        it), built on first use. It drops them all in :meth:`refresh` (the
        structure changed), and a plan whose edges' valid candidates changed
        since it was built (:meth:`Edge.set_valid
        <sklearn_dpads.graph.Edge.set_valid>` without a refresh) is rebuilt
        here and at the start of every forward pass, so that no forward pass
        uses a stale plan. Plans are never copied, pickled or shipped.

        Parameters
        ----------
        edge : Edge
            A reachable edge of this graph.

        Returns
        -------
        AtomPlan or None
            The plan, which covers ``edge``; None when ``edge``'s input or
            output is a sequence or its subtree holds a production that the
            plan does not batch (it is then evaluated recursively).
        """
        self._plans.drop_stale()
        return self._plans.plan(edge)

    # pruning and selection ------------------------------------------------------
    def prune(self, top_n: int) -> None:
        """Keep the ``top_n`` highest-alpha candidates of every edge (top-N preservation).

        Parameters
        ----------
        top_n : int
            Number of candidates kept per edge, at least 1.
        """
        if top_n < 1:
            raise ValueError(f"top_n must be >= 1, got {top_n}.")
        for e in self.edges_bfs():
            idx = e.valid_indices()
            if len(idx) > top_n:
                a = e.alpha.detach()
                keep = sorted(idx, key=lambda i: (-float(a[i]), i))[:top_n]
                e.set_valid(keep)
        self.refresh()

    def is_discrete(self) -> bool:
        """Whether the graph is a single program with no neural fillers.

        Returns
        -------
        bool
            True when every reachable edge has one candidate and no slot holds a
            neural filler.
        """
        return self.open_edge() is None and not self.has_fillers()

    def describe(self) -> str:
        """Describe the graph as text: each edge's candidates with their probabilities.

        Returns
        -------
        str
            One line per candidate, indented by depth; neural fillers show as
            ``<neural>``.
        """

        def rec(e: Edge, indent: int, seen: set) -> list[str]:
            lines = []
            probs = e.probabilities()
            for i in e.valid_indices():
                c = e.target.cands[i]
                lines.append(" " * indent + f"{c.production.name} [{probs[i]:.2f}]")
                key = (id(e.target), i)
                if key in seen:
                    continue
                seen = seen | {key}
                for a in c.args:
                    if isinstance(a, Edge):
                        lines.extend(rec(a, indent + 2, seen))
                    else:
                        lines.append(" " * (indent + 2) + "<neural>")
            return lines

        return "\n".join(rec(self.root_edge, 0, set()))

    def to_program(self) -> tuple[Program, dict]:
        """Return the discrete program and its modules by AST path.

        Returns
        -------
        program : Program
            The program the graph has been reduced to.
        modules : dict of tuple of int to ProductionModule
            The candidate module of every AST node, keyed by its path.

        Raises
        ------
        ValueError
            If the graph is not discrete.
        """
        if not self.is_discrete():
            raise ValueError("The derivation graph is not a single program yet.")
        modules = {}

        def rec(e: Edge, path: tuple[int, ...]) -> Program:
            (i,) = e.valid_indices()
            c = e.target.cands[i]
            modules[path] = c
            kids = tuple(rec(a, path + (k,)) for k, a in enumerate(c.args))
            return Program(c.production.name, kids)

        return rec(self.root_edge, ()), modules

    def extract(self) -> ProgramModule:
        """Compile the discrete program, carrying the trained parameters over.

        Returns
        -------
        ProgramModule
            The program's module, on the device of the graph.
        """
        program, modules = self.to_program()
        pm = ProgramModule(program, self.dsl, self.hole)
        for path, src in modules.items():
            state = node_state(src)
            if state:
                pm.node(path).load_state_dict(state, strict=False)
        dev = next(itertools.chain(self.parameters(), [torch.zeros(0)])).device
        return pm.to(dev)
