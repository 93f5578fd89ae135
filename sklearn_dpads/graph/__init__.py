"""The program derivation graph (dPads super-program)."""

from sklearn_dpads.graph.derivation_graph import DerivationGraph
from sklearn_dpads.graph.edges import CandidateSet, Edge

__all__ = ["CandidateSet", "DerivationGraph", "Edge"]
