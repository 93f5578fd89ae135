"""Data sets: synthetic generators with planted programs, and a CalMS21 loader."""

from sklearn_dpads.datasets._calms21 import CALMS21_FEATURE_GROUPS, load_calms21
from sklearn_dpads.datasets._planted import PLANTED_RULES, make_planted_suite
from sklearn_dpads.datasets._synthetic import make_crim13_like, make_planted_sequences

__all__ = [
    "CALMS21_FEATURE_GROUPS",
    "PLANTED_RULES",
    "load_calms21",
    "make_crim13_like",
    "make_planted_sequences",
    "make_planted_suite",
]
