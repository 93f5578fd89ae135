"""dPads search: unfolding schedule and architecture selection (no skorch)."""

from sklearn_dpads.search.schedule import SearchStage, default_schedule
from sklearn_dpads.search.selection import (
    SearchClock,
    SearchResult,
    SearchTrainer,
    greedy_discretize,
    refine_leaves,
    run_schedule,
    select_program,
)

__all__ = [
    "SearchStage",
    "default_schedule",
    "SearchClock",
    "SearchResult",
    "SearchTrainer",
    "greedy_discretize",
    "refine_leaves",
    "run_schedule",
    "select_program",
]
