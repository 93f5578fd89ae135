"""Synthetic sequence data sets with planted ground-truth programs."""

from sklearn_dpads.datasets._synthetic import make_crim13_like, make_planted_sequences

__all__ = ["make_crim13_like", "make_planted_sequences"]
