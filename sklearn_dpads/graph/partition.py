"""The partition-space protocol of a derivation graph, as a mixin.

:func:`sklearn_dpads.search.selection.select_program` and the refinement of
:mod:`sklearn_dpads.search.refine` see a derivation graph only through these
methods (the ``Partition`` and ``WidenablePartition`` protocols): the edges
still to decide, their options and weights, fixing and splitting an edge,
widening a leaf, and the cost of the cheapest program left.
"""

from __future__ import annotations

import copy

from sklearn_dpads.grammar.canonical import canonical_cost
from sklearn_dpads.graph.edges import Edge

__all__ = ["GraphPartition"]


class GraphPartition:
    """The ``Partition`` protocol of :class:`~sklearn_dpads.graph.DerivationGraph`.

    Mixed into the graph; it reads the graph's edges (``edges_bfs``), its
    ``root_edge``, ``dsl`` and ``refresh``.
    """

    def open_edge(self) -> int | None:
        """Breadth-first position of the first edge still to be decided.

        That is the first reachable edge with two or more valid candidates.

        Returns
        -------
        int or None
            The edge index, or None when every edge has a single candidate.
        """
        for j, e in enumerate(self.edges_bfs()):
            if len(e.valid_indices()) > 1:
                return j
        return None

    def options(self, j: int) -> list[int]:
        """Candidate indices still allowed on edge ``j``.

        Parameters
        ----------
        j : int
            Breadth-first edge index.

        Returns
        -------
        list of int
            The valid candidate indices.
        """
        return list(self.edges_bfs()[j].valid_indices())

    def option_weights(self, j: int) -> dict[int, float]:
        """Architecture probabilities of the candidates of edge ``j``.

        Parameters
        ----------
        j : int
            Breadth-first edge index.

        Returns
        -------
        dict of int to float
            Softmax probability by candidate index.
        """
        return self.edges_bfs()[j].probabilities()

    def option_name(self, j: int, i: int) -> str:
        """Production name of candidate ``i`` of edge ``j``.

        Parameters
        ----------
        j, i : int
            Edge and candidate indices.

        Returns
        -------
        str
            The production's name.
        """
        return self.edges_bfs()[j].target.cands[i].production.name

    def fix(self, j: int, i: int) -> None:
        """Keep only candidate ``i`` on edge ``j`` (in place).

        Parameters
        ----------
        j, i : int
            Edge and candidate indices.
        """
        self.edges_bfs()[j].set_valid([i])
        self.refresh()

    def split(self, j: int, i: int) -> GraphPartition:
        """A copy of the graph with edge ``j`` fixed to candidate ``i``.

        Parameters
        ----------
        j, i : int
            Edge and candidate indices.

        Returns
        -------
        DerivationGraph
            The new partition; this graph is unchanged.
        """
        # evaluation caches are not copied (the graph's and the candidate
        # sets' __getstate__)
        child = copy.deepcopy(self)
        child.fix(j, i)
        return child

    def n_edges(self) -> int:
        """Number of reachable edges.

        Returns
        -------
        int
            Length of the breadth-first edge list.
        """
        return len(self.edges_bfs())

    def widening(self, j: int) -> int | None:
        """The affine leaf over all features that may replace edge ``j``'s leaf.

        Parameters
        ----------
        j : int
            Breadth-first edge index of a decided edge.

        Returns
        -------
        int or None
            The candidate index of the full affine leaf when edge ``j`` holds
            an affine leaf over a feature group and the full leaf is among its
            candidates; None otherwise.
        """
        e = self.edges_bfs()[j]
        idx = e.valid_indices()
        if len(idx) != 1:
            return None
        prod = e.target.cands[idx[0]].production
        if not prod.kind.affine_leaf or prod.params.get("indices") is None:
            return None
        wide = [
            k
            for k, c in enumerate(e.target.cands)
            if c.production.kind.affine_leaf
            and c.production.params.get("indices") is None
        ]
        return wide[0] if wide else None

    def structural_cost(self) -> float:
        """Return the cost of the cheapest program still in the graph.

        A discrete graph's cost is that of its canonical program
        (:func:`~sklearn_dpads.grammar.canonical.canonical_form`: redundant
        leaves folded). Otherwise neural fillers count as one production (a
        lower bound).

        Returns
        -------
        float
            Sum of the production costs of the cheapest program.
        """
        if self.is_discrete():
            return canonical_cost(self.to_program()[0], self.dsl)
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
