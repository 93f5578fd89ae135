"""Level-batched evaluation of an atom-to-atom subtree of the derivation graph.

Below an atom edge (the body of a ``fold``, of a ``map``, of a window) every
candidate set sees the same input: ``add``, ``multiply`` and ``ite`` pass
their input unchanged to their arguments. So instead of evaluating the
subtree set by set, candidate by candidate and edge by edge (hundreds of
small tensor operations, repeated for every frame of a ``fold``), the plan
evaluates it one depth level at a time, deepest first:

* every affine leaf, quadratic leaf and constant of the whole subtree in one
  matrix product (each leaf's weights scattered into the full input width,
  widened by the products of two inputs that the quadratic leaves weigh; a
  constant is a row block with no weights and its value as bias);
* the mixtures of every edge into a level in one product with a (masked,
  softmax) weight matrix over the stacked candidate outputs of that level;
* every ``add``, every ``multiply`` and every ``ite`` of a level in one
  operation each, on the stacked mixtures of their argument edges.

The weight matrices depend only on the parameters, so they are built once
per forward pass and reused for every input (every frame of a ``fold``).
A plan covers every edge into its root candidate set (``map`` and the four
windows of a node all read the same child set on the same frames), and its
output on an input is computed once per forward pass. Plans are built, held
and dropped by the :class:`~sklearn_dpads.graph.DerivationGraph` (which knows
when its structure changes: :meth:`DerivationGraph.atom_plan
<sklearn_dpads.graph.DerivationGraph.atom_plan>`), never by the edges.
The neural fillers of a partially unfolded graph's frontier are run once
each per input, and their outputs are stacked after the deeper level's
mixtures for the combinators to gather. The result equals the recursive
evaluation up to floating-point rounding. Subtrees with other productions
(user element-wise functions) are not planned; the graph then evaluates
them recursively.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from sklearn_dpads.semantics.modules import ProductionModule
from sklearn_dpads.semantics.ops import Evaluation

if TYPE_CHECKING:  # annotations only: the edges need not be imported to plan them
    from sklearn_dpads.graph.edges import Edge

__all__ = ["AtomPlan", "PlanCache", "build_atom_plan"]


def _kind(candidate):
    """The kind of a candidate module (None for a neural filler or an edge)."""
    if isinstance(candidate, ProductionModule):
        return candidate.production.kind
    return None


def _batched(candidate) -> bool:
    """Whether the plan batches ``candidate`` as a combinator of its level."""
    kind = _kind(candidate)
    return kind is not None and kind.plan_rank is not None


def _bank_columns(candidate):
    """The bank columns of a leaf (:meth:`Kind.bank_columns`); False for others."""
    kind = _kind(candidate)
    return False if kind is None else kind.bank_columns(candidate)


def _has_weights(candidate) -> bool | None:
    """True for a bank leaf with weights, False for a bias-only one, else None."""
    columns = _bank_columns(candidate)
    if columns is False:
        return None
    return columns is not None


class AtomPlan:
    """The structure of one atom subtree, grouped by depth level.

    Parameters
    ----------
    levels : list of dict
        One entry per level, deepest first, with the level's rows (candidate
        outputs in stacking order) and the edges into it.
    leaves : list of ProductionModule
        Every live leaf of the bank (affine, quadratic, constant), ordered by level.
    root_edge : Edge
        One edge into the root candidate set (the plan covers all of them).
    """

    def __init__(self, levels: list[dict], leaves: list, root_edge: Edge) -> None:
        self.levels = levels
        self.leaves = leaves
        self.root_edge = root_edge
        # the valid candidates of every covered edge that the mixing
        # matrices were built for (see is_current)
        self._valid = [
            (e, list(e.valid_indices())) for lv in levels for e in lv["edges"]
        ]
        width = root_edge.target.hole.input.size
        columns = [_bank_columns(m) for m in leaves]
        # products of two inputs that some leaf weighs (a quadratic leaf):
        # extra input columns after the ``width`` inputs, computed once per input
        products = sorted({c for cs in columns if cs for c in cs if len(c) == 2})
        position = {(i,): i for i in range(width)}
        position.update({c: width + k for k, c in enumerate(products)})
        self._weighted = [cs is not None for cs in columns]
        rows, cols, start = [], [], 0
        for m, cs in zip(leaves, columns):
            k = _kind(m).bank_weights(m)[1].shape[0]
            if cs is None:  # a constant: a bias-only row block
                start += k
                continue
            sel = [position[c] for c in cs]
            for r in range(k):
                rows.extend([start + r] * len(sel))
                cols.extend(sel)
            start += k
        self.bank_shape = (start, width + len(products))
        self.bank_pos = (
            torch.tensor(rows, dtype=torch.long),
            torch.tensor(cols, dtype=torch.long),
        )
        self.products = (
            None
            if not products
            else (
                torch.tensor([a for a, _ in products], dtype=torch.long),
                torch.tensor([b for _, b in products], dtype=torch.long),
            )
        )

    def _weights(self, device) -> dict[str, Any]:
        """Parameter-only tensors of the plan (built once per forward pass)."""
        out: dict[str, Any] = {}
        if self.leaves:
            # every leaf's weights scattered into the full input width: one
            # (N, d) x (d, n_leaves * k) product instead of a sparse block matrix
            # (constants are rows with no weights and their value as bias)
            maps = [_kind(m).bank_weights(m) for m in self.leaves]
            affine = [w for (w, _), on in zip(maps, self._weighted) if on]
            bias = [b for _, b in maps]
            if affine:
                values = torch.cat([weight.reshape(-1) for weight in affine])
                rows, cols = (t.to(values.device) for t in self.bank_pos)
                weight = values.new_zeros(self.bank_shape)
                out["bank_weight"] = weight.index_put((rows, cols), values)
            else:
                out["bank_weight"] = bias[0].new_zeros(self.bank_shape)
            out["bank_bias"] = torch.cat(bias)
        mix = []
        for lv in self.levels:
            edges = lv["edges"]
            values = torch.cat([e.alpha for e in edges])
            logits = torch.full(
                (len(edges), lv["n_rows"]), float("-inf"), device=values.device
            )
            logits = logits.index_put(
                (lv["mix_rows"].to(values.device), lv["mix_cols"].to(values.device)),
                values.index_select(0, lv["mix_src"].to(values.device)),
            )
            mix.append(torch.softmax(logits, dim=1))
        out["mix"] = mix
        # index tensors and per-member scalars on the device, once per pass
        dtype = out["mix"][0].dtype
        out["combinators"] = [
            [
                (
                    kind,
                    torch.cat(args).to(device),
                    len(args),
                    _parameter(params, device, dtype),
                )
                for kind, args, params in lv["combinators"]
            ]
            for lv in self.levels
        ]
        return out

    def row(self, edge: Edge) -> int | None:
        """Row of ``edge``'s mixture in the plan's output.

        Parameters
        ----------
        edge : Edge
            An edge into the plan's root candidate set.

        Returns
        -------
        int or None
            The row, or None when the plan does not cover ``edge``.
        """
        return self.levels[-1]["edge_pos"].get(id(edge))

    def is_current(self) -> bool:
        """Whether every covered edge still has the valid candidates it was planned with.

        An edge narrowed with :meth:`Edge.set_valid
        <sklearn_dpads.graph.Edge.set_valid>` since the plan was built makes
        it stale. (The rest of what a plan reads, the reachable candidates
        and the edges into them, only changes in the graph's ``refresh``,
        which drops every plan.)

        Returns
        -------
        bool
            False when some covered edge's valid candidates have changed.
        """
        return all(e.valid_indices() == idx for e, idx in self._valid)

    def __call__(self, x: torch.Tensor, ctx: Evaluation) -> torch.Tensor:
        """The mixtures of every edge into the root set on ``x`` of shape ``(N, d)``.

        Computed once per input and forward pass, from weight tensors built
        once per forward pass (both memoised in ``ctx``).

        Parameters
        ----------
        x : torch.Tensor
            Atom input ``(N, d)``.
        ctx : Evaluation
            State of the forward pass.

        Returns
        -------
        torch.Tensor
            ``(E, N, k)``, one row per edge (see :meth:`row`).
        """
        return ctx.memo(("atom_plan_out", self), x, lambda: self._evaluate(x, ctx))

    def _evaluate(self, x: torch.Tensor, ctx: Evaluation) -> torch.Tensor:
        w = ctx.once(("atom_plan_weights", self), lambda: self._weights(x.device))
        n = x.shape[0]
        bank = None
        if self.leaves:
            xs = x
            if self.products is not None:  # the products the leaves weigh
                left, right = (t.to(x.device) for t in self.products)
                xs = torch.cat(
                    [x, x.index_select(1, left) * x.index_select(1, right)], 1
                )
            z = F.linear(xs, w["bank_weight"], w["bank_bias"])
            bank = z.reshape(n, len(self.leaves), -1).transpose(0, 1)
        mixed = None
        for k, lv in enumerate(self.levels):
            parts = []
            if lv["n_leaves"]:
                parts.append(bank[lv["leaf_start"] : lv["leaf_start"] + lv["n_leaves"]])
            src = mixed
            if lv["fillers"]:  # neural fillers of the frontier, after the mixtures
                fill = torch.stack([f(x, None, ctx) for f in lv["fillers"]])
                src = fill if mixed is None else torch.cat([mixed, fill], 0)
            for kind, index, arity, parameter in w["combinators"][k]:
                # every argument of every member of this kind: one gather
                a = src.index_select(0, index).unflatten(0, (arity, -1))
                parts.append(kind.plan_combine(a, parameter))
            stacked = parts[0] if len(parts) == 1 else torch.cat(parts, 0)
            mixed = (w["mix"][k] @ stacked.reshape(lv["n_rows"], -1)).reshape(
                len(lv["edges"]), n, -1
            )
        return mixed


def _arg_row(arg, child_pos: dict, fillers: list, n_prev: int) -> int:
    """Row of a combinator's argument: its edge's mixture, or its filler's output.

    Fillers get rows after the ``n_prev`` edge mixtures of the deeper level,
    in order of first use (``fillers`` grows).
    """
    if _is_edge(arg):
        return child_pos[id(arg)]
    for j, f in enumerate(fillers):
        if f is arg:
            return n_prev + j
    fillers.append(arg)
    return n_prev + len(fillers) - 1


def _is_edge(arg) -> bool:
    """Whether a combinator's argument is a graph edge, not a neural filler.

    Duck-typed (an edge is what has valid candidates), so that this module
    does not import :mod:`sklearn_dpads.graph.edges`.
    """
    return hasattr(arg, "valid_indices")


def _parameter(params, device, dtype):
    """The per-member scalars of one combinator kind of a level, as ``(M, 1, 1)``.

    None when the kind has none, or when they all equal 1 (a temperature of
    1 multiplies nothing).
    """
    if params is None or bool((params == 1.0).all()):
        return None
    return params.to(device=device, dtype=dtype)[:, None, None]


def build_atom_plan(edge: Edge) -> AtomPlan | None:
    """Plan the atom subtree below ``edge``'s target, or None if it cannot be planned.

    The plan covers every reachable edge into that candidate set (its
    ``incoming`` edges, and ``edge``).

    Parameters
    ----------
    edge : Edge
        An edge into an atom-to-atom candidate set.

    Returns
    -------
    AtomPlan or None
        None when the subtree holds a production the plan does not batch.
    """
    root = edge.target
    if root.hole.input.is_seq or root.hole.output.is_seq:
        return None
    # the sets of the subtree by depth, and the edges into each depth
    by_depth: dict[int, list] = {}
    edges_into: dict[int, list[Edge]] = {}
    roots = [edge] + [e for e in root.incoming if e is not edge]
    seen_sets, seen_edges, stack = set(), set(), list(reversed(roots))
    while stack:
        e = stack.pop()
        if id(e) in seen_edges:
            continue
        seen_edges.add(id(e))
        cs = e.target
        if cs.hole != root.hole:
            return None
        edges_into.setdefault(cs.depth, []).append(e)
        if id(cs) in seen_sets:
            continue
        seen_sets.add(id(cs))
        by_depth.setdefault(cs.depth, []).append(cs)
        for i, alive in enumerate(cs.alive):
            if not alive:
                continue
            c = cs.cands[i]
            if _batched(c):
                # arguments are edges, or neural fillers at the frontier (of
                # the plan's hole type, so that their outputs stack)
                for s, a in enumerate(c.args):
                    if _is_edge(a):
                        stack.append(a)
                    elif c.child_types[s] != root.hole:
                        return None
            elif _has_weights(c) is None:  # not a leaf of the bank either
                return None
    levels, leaves = [], []
    child_pos: dict[int, int] = {}  # edge id -> row in the deeper level's mixtures
    for depth in sorted(by_depth, reverse=True):
        sets = by_depth[depth]
        rows: dict[tuple[int, int], int] = {}
        n_leaves = 0
        for cs in sets:
            for i, alive in enumerate(cs.alive):
                c = cs.cands[i]
                if alive and _has_weights(c) is True:
                    rows[(id(cs), i)] = n_leaves
                    n_leaves += 1
                    leaves.append(c)
        for cs in sets:
            for i, alive in enumerate(cs.alive):
                c = cs.cands[i]
                if alive and _has_weights(c) is False:
                    rows[(id(cs), i)] = n_leaves
                    n_leaves += 1
                    leaves.append(c)
        offset = n_leaves
        combinators = []
        # fillers of this level's combinators: rows after the deeper level's
        # edge mixtures in the tensor the combinators gather from
        fillers: list = []
        n_prev = len(child_pos)
        kinds = {
            _kind(cs.cands[i])
            for cs in sets
            for i, alive in enumerate(cs.alive)
            if alive and _batched(cs.cands[i])
        }
        for kind in sorted(kinds, key=lambda k: k.plan_rank):
            members = [
                (cs, i)
                for cs in sets
                for i, alive in enumerate(cs.alive)
                if alive and _kind(cs.cands[i]) is kind
            ]
            for cs, i in members:
                rows[(id(cs), i)] = offset
                offset += 1
            values = [kind.plan_parameter(cs.cands[i]) for cs, i in members]
            params = None if values[0] is None else torch.tensor(values)
            arity = kind.arity
            args = [
                torch.tensor(
                    [
                        _arg_row(cs.cands[i].args[s], child_pos, fillers, n_prev)
                        for cs, i in members
                    ]
                )
                for s in range(arity)
            ]
            combinators.append((kind, args, params))
        edges = edges_into[depth]
        mix_rows, mix_cols, mix_src, start = [], [], [], 0
        for r, e in enumerate(edges):
            for j in e.valid_indices():
                mix_rows.append(r)
                mix_cols.append(rows[(id(e.target), j)])
                mix_src.append(start + j)
            start += e.alpha.shape[0]
        levels.append(
            {
                "n_rows": offset,
                "n_leaves": n_leaves,
                "leaf_start": len(leaves) - n_leaves,
                "combinators": combinators,
                "fillers": fillers,
                "edges": edges,
                "edge_pos": {id(e): r for r, e in enumerate(edges)},
                "mix_rows": torch.tensor(mix_rows),
                "mix_cols": torch.tensor(mix_cols),
                "mix_src": torch.tensor(mix_src),
            }
        )
        child_pos = levels[-1]["edge_pos"]
    return AtomPlan(levels, leaves, edge)


_UNPLANNED = object()  # a candidate set whose plan is still to be built


class PlanCache(dict):
    """The atom plans of one derivation graph: candidate set -> plan (or None).

    Held by the :class:`~sklearn_dpads.graph.DerivationGraph`, which clears it
    whenever its structure changes (``refresh``) and drops the stale plans at
    the start of every forward pass. None records a subtree that cannot be
    planned, which only ``refresh`` can change.
    """

    def plan(self, edge: Edge) -> AtomPlan | None:
        """Return the plan covering ``edge``, built on first use.

        Parameters
        ----------
        edge : Edge
            A reachable edge into an atom-to-atom candidate set.

        Returns
        -------
        AtomPlan or None
            None when its subtree cannot be planned.
        """
        target = edge.target
        plan = self.get(target, _UNPLANNED)
        if plan is _UNPLANNED or (plan is not None and plan.row(edge) is None):
            # (an edge a plan does not cover has not been refreshed into its
            # target's incoming edges: plan again, with it)
            plan = self[target] = build_atom_plan(edge)
        return plan

    def drop_stale(self) -> None:
        """Forget the plans whose edges' valid candidates changed since they were built."""
        stale = [cs for cs, p in self.items() if p is not None and not p.is_current()]
        for cs in stale:
            del self[cs]
