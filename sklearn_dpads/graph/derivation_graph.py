"""The program derivation graph: every program up to a depth as one super-program.

Structure (dPads, Cui & Zhu 2021):

* a *node* at depth ``d`` hosts, for each hole type reaching it, a
  :class:`CandidateSet`: one instance of every production that can fill that
  type and still finish within ``max_depth``;
* **node sharing**: argument slot ``k`` of every candidate in a node points to
  the same child node, so candidates with the same hole type are the same
  modules (shared parameters, computed once per input);
* every (candidate, slot) pair owns an :class:`Edge` with architecture logits
  ``alpha`` over the child's candidates; the slot's value is the
  softmax(alpha)-weighted mixture of the valid candidates' outputs;
* the graph is **unfolded** a few levels at a time; slots below the frontier
  are filled by small neural networks;
* **top-N preservation** keeps the ``N`` best candidates of every edge;
* a graph whose every reachable edge has one candidate and no neural filler is
  a discrete program (:meth:`DerivationGraph.to_program`).
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from sklearn_dpads.grammar.dsl import DSL
from sklearn_dpads.grammar.types import FunctionType
from sklearn_dpads.program import Program
from sklearn_dpads.semantics.compile import ProgramModule, RootModel
from sklearn_dpads.semantics.modules import build_production_module, neural_filler

__all__ = ["CandidateSet", "Edge", "DerivationGraph"]


class CandidateSet(nn.Module):
    """The candidate production modules for one hole type at one node."""

    def __init__(self, hole: FunctionType, depth: int, entries, n_features: int):
        super().__init__()
        self.hole = hole
        self.depth = depth
        self.cands = nn.ModuleList(
            [build_production_module(p, hole, ct, n_features) for p, ct in entries]
        )
        self.alive = [True] * len(self.cands)

    def evaluate(self, x, mask, ctx) -> dict[int, torch.Tensor]:
        """Outputs of all live candidates on ``x`` (computed once per input)."""
        key = (id(self), id(x))
        if ctx is not None and key in ctx:
            return ctx[key][1]
        outs = {i: c(x, mask, ctx) for i, c in enumerate(self.cands) if self.alive[i]}
        if ctx is not None:
            ctx[key] = (x, outs)  # keep x alive so its id cannot be reused
        return outs


class Edge(nn.Module):
    """A (candidate, slot) pair's softmax mixture over the child's candidates."""

    def __init__(self, target: CandidateSet):
        super().__init__()
        object.__setattr__(self, "_target", target)  # not a registered submodule
        n = len(target.cands)
        self.alpha = nn.Parameter(torch.zeros(n))
        self.register_buffer("valid", torch.ones(n, dtype=torch.bool))
        self._idx = list(range(n))

    @property
    def target(self) -> CandidateSet:
        return self._target

    def valid_indices(self) -> list[int]:
        return self._idx

    def set_valid(self, indices) -> None:
        idx = sorted({int(i) for i in indices})
        if not idx or idx[0] < 0 or idx[-1] >= len(self.valid):
            raise ValueError(
                f"set_valid needs indices in [0, {len(self.valid)}), got {list(indices)!r}."
            )
        v = torch.zeros_like(self.valid)
        v[idx] = True
        self.valid.copy_(v)
        self._idx = idx

    def probabilities(self) -> dict[int, float]:
        """Softmax over the valid candidates, ``{candidate index: probability}``."""
        idx = self._idx
        p = torch.softmax(self.alpha.detach()[idx], dim=0)
        return {i: float(v) for i, v in zip(idx, p)}

    def forward(self, x, mask, ctx=None):
        outs = self._target.evaluate(x, mask, ctx)
        idx = self._idx
        if len(idx) == 1:
            return outs[idx[0]]
        p = torch.softmax(self.alpha[idx], dim=0)
        stacked = torch.stack([outs[i] for i in idx], dim=0)
        return torch.tensordot(p, stacked, dims=1)


class _Node:
    """A position of the graph; its slot-``k`` children are shared."""

    def __init__(self, depth: int):
        self.depth = depth
        self.sets: dict[FunctionType, CandidateSet] = {}
        self.children: dict[int, _Node] = {}


class DerivationGraph(RootModel):
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
        dPads node sharing; False gives every (candidate, slot) its own node.
    max_units, min_units : int
        Widths of the neural frontier fillers.
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
        self.dsl = dsl
        self.max_depth = max_depth
        self.share_nodes = share_nodes
        self.max_units = max_units
        self.min_units = min_units
        self.sets = nn.ModuleList()
        self.frontier = 0
        self._root_node = _Node(1)
        self.root_edge = Edge(self._cset(self._root_node, hole))
        self.refresh()

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
        """Recompute which candidates are reachable through valid edges."""
        for cs in self.sets:
            cs.alive = [False] * len(cs.cands)
        stack = [self.root_edge]
        seen = set()
        while stack:
            e = stack.pop()
            cs = e.target
            for i in e.valid_indices():
                if (id(cs), i) in seen:
                    continue
                seen.add((id(cs), i))
                cs.alive[i] = True
                stack.extend(a for a in cs.cands[i].args if isinstance(a, Edge))

    def edges_bfs(self) -> list[Edge]:
        """Reachable edges in breadth-first (top-left first) order, each once."""
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
        """Yield ``(candidate_set, index, module)`` for every reachable candidate."""
        for cs in self.sets:
            for i, c in enumerate(cs.cands):
                if cs.alive[i]:
                    yield cs, i, c

    def has_fillers(self) -> bool:
        """Whether a reachable slot is still filled by a neural network."""
        return any(
            not isinstance(a, Edge) for _, _, c in self.live_modules() for a in c.args
        )

    # parameters -----------------------------------------------------------------
    def arch_parameters(self) -> list[nn.Parameter]:
        """Architecture logits of the reachable edges."""
        return [e.alpha for e in self.edges_bfs()]

    def weight_parameters(self) -> list[nn.Parameter]:
        """Program and neural-filler parameters of the reachable candidates."""
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
    def root(self, x, mask, ctx):
        return self.root_edge(x, mask, ctx)

    def _new_ctx(self):
        return {}

    # pruning and selection ------------------------------------------------------
    def prune(self, top_n: int) -> None:
        """Top-N preservation: keep the ``top_n`` highest-alpha candidates per edge."""
        if top_n < 1:
            raise ValueError(f"top_n must be >= 1, got {top_n}.")
        for e in self.edges_bfs():
            idx = e.valid_indices()
            if len(idx) > top_n:
                a = e.alpha.detach()
                keep = sorted(idx, key=lambda i: (-float(a[i]), i))[:top_n]
                e.set_valid(keep)
        self.refresh()

    def first_compound_edge(self) -> int | None:
        """BFS position of the first reachable edge with >= 2 candidates."""
        for j, e in enumerate(self.edges_bfs()):
            if len(e.valid_indices()) > 1:
                return j
        return None

    def is_discrete(self) -> bool:
        """True when the graph is a single program with no neural fillers."""
        return self.first_compound_edge() is None and not self.has_fillers()

    def candidate_name(self, edge: Edge, i: int) -> str:
        return edge.target.cands[i].production.name

    def structural_cost(self) -> float:
        """Cost of the cheapest program still in the graph (exact when discrete).

        Neural fillers count as one production (a lower bound).
        """
        memo: dict = {}

        def edge_cost(e: Edge) -> float:
            if id(e) in memo:
                return memo[id(e)]
            best = min(
                e.target.cands[i].production.cost
                + sum(
                    edge_cost(a) if isinstance(a, Edge) else 1.0
                    for a in e.target.cands[i].args
                )
                for i in e.valid_indices()
            )
            memo[id(e)] = best
            return best

        return edge_cost(self.root_edge)

    def describe(self) -> str:
        """The graph as text: each edge's candidates with their probabilities."""

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
        """The discrete program and its modules by AST path.

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
        """Compile the discrete program, carrying the trained parameters over."""
        program, modules = self.to_program()
        pm = ProgramModule(program, self.dsl, self.hole)
        for path, src in modules.items():
            state = {
                k: v for k, v in src.state_dict().items() if not k.startswith("args.")
            }
            if state:
                pm.node(path).load_state_dict(state, strict=False)
        dev = next(itertools.chain(self.parameters(), [torch.zeros(0)])).device
        return pm.to(dev)
