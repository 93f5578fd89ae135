"""dPads search: schedule, architecture selection, refinement, local search (no skorch)."""

from sklearn_dpads.search.driver import SearchConfig, SearchSeeds, run_search
from sklearn_dpads.search.edits import neighbours
from sklearn_dpads.search.grow import GrowCandidate, grow_program
from sklearn_dpads.search.history import SearchRecord
from sklearn_dpads.search.refine import refine_leaves
from sklearn_dpads.search.schedule import (
    SearchClock,
    SearchStage,
    default_schedule,
    run_schedule,
)
from sklearn_dpads.search.selection import (
    Partition,
    SearchResult,
    SearchTrainer,
    greedy_discretize,
    select_program,
)

__all__ = [
    "GrowCandidate",
    "Partition",
    "SearchClock",
    "SearchConfig",
    "SearchRecord",
    "SearchResult",
    "SearchSeeds",
    "SearchStage",
    "SearchTrainer",
    "default_schedule",
    "greedy_discretize",
    "grow_program",
    "neighbours",
    "refine_leaves",
    "run_schedule",
    "run_search",
    "select_program",
]
