"""The program derivation graph (dPads super-program)."""

from sklearn_dpads.graph.derivation_graph import CandidateSet, DerivationGraph, Edge

__all__ = ["CandidateSet", "DerivationGraph", "Edge"]
