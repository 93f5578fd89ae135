"""Tests for sklearn_dpads.search.grow: the local search, with fake training."""

from __future__ import annotations

from sklearn_dpads.search.grow import GrowCandidate, grow_program
from sklearn_dpads.search.schedule import SearchClock

# a toy landscape: programs are strings, their true score is looked up
SCORES = {"a": 0.70, "ab": 0.80, "abc": 0.805, "b": 0.79, "abd": 0.90}
MOVES = {"a": ["ab", "b"], "ab": ["abc", "abd", "a"], "abd": ["ab"], "b": ["ab"]}


def _run(start="a", se=0.01, scores=SCORES, moves=MOVES, **kw):
    calls = []

    def train(programs, seeds, parent):
        assert len(programs) == len(seeds)
        calls.extend(("parent", p, parent) for p in programs)
        calls.extend(("screen", p) for p in programs)
        # a screened program is worse, by as much
        return [(p, scores[p] - 0.1) for p in programs]

    def resume(p, seed):
        calls.append(("resume", p))
        return p, scores[p]

    out = grow_program(
        GrowCandidate(start, scores[start], len(start), start),
        neighbours=lambda p: moves.get(p, []),
        train=train,
        resume=resume,
        margin=lambda a, b: se,
        cost=len,
        seeds=lambda k: k,
        **kw,
    )
    return out, calls


def test_it_climbs_while_an_edit_is_better_by_more_than_the_noise():
    out, _ = _run(max_steps=5)
    assert out.program == "abd" and out.score == SCORES["abd"]


def test_a_gain_within_one_standard_error_is_not_taken():
    out, _ = _run(se=0.2, max_steps=5)
    assert out.program == "a"


def test_a_simpler_program_within_one_standard_error_is_preferred():
    # "a" is 0.1 worse than "ab": the better "abd" is taken
    out, _ = _run(start="ab", se=0.01, max_steps=1)
    assert out.program == "abd"
    # "a" is not worse than "ab" by more than the noise: the simpler wins
    scores = {**SCORES, "a": 0.795}
    out, _ = _run(start="ab", scores=scores, se=0.01, max_steps=1)
    assert out.program == "a"


def test_a_prune_does_not_count_as_a_step_and_skips_the_others():
    scores = {**SCORES, "a": 0.795, "ab": 0.80}
    moves = {**MOVES, "a": ["ab", "b", "abd"]}
    out, calls = _run(start="ab", scores=scores, moves=moves, max_steps=1)
    # "a" (pruned, no step spent), then "abd" from there (the one step)
    assert out.program == "abd"
    screened = [c[1] for c in calls if c[0] == "screen"]
    assert screened[0] == "a" and "abc" not in screened


def test_max_steps_bounds_the_moves():
    out, _ = _run(max_steps=1)
    assert out.program == "ab"
    out, calls = _run(max_steps=0)
    assert out.program == "a" and not calls


def test_only_the_best_screened_are_trained_in_full():
    # the prune first, on its own, then the best of the others
    _, calls = _run(start="ab", keep=1, max_steps=1)
    assert [c for c in calls if c[0] == "resume"] == [
        ("resume", "a"),
        ("resume", "abd"),
    ]
    assert {c[1] for c in calls if c[0] == "screen"} == {"abc", "abd", "a"}


def test_a_swap_step_after_the_last_growth_tries_the_swaps_alone():
    # "ab" -> "abd" is the one growth; "abe" (same cost) pays off after it,
    # "abde" (a growth) is not tried
    scores = {**SCORES, "abe": 0.95, "abde": 0.99}
    moves = {**MOVES, "abd": ["abe", "abde"], "abe": ["abde"]}
    kw = dict(start="ab", scores=scores, moves=moves, max_steps=1)
    out, _ = _run(**kw)
    assert out.program == "abd"  # without it: the growth is the last move
    out, calls = _run(swap_step=True, **kw)
    assert out.program == "abe"
    assert "abde" not in [c[1] for c in calls if c[0] == "screen"]
    # with a second growth allowed, "abde" is reached
    out, _ = _run(swap_step=True, **{**kw, "max_steps": 2})
    assert out.program == "abde"
    # and none with no steps allowed
    out, calls = _run(swap_step=True, **{**kw, "max_steps": 0})
    assert out.program == "ab" and not calls


def test_a_spent_clock_stops_it_with_the_start():
    clock = SearchClock(0.0)
    while not clock.out():
        pass
    out, calls = _run(clock=clock)
    assert out.program == "a" and not calls


def test_every_finalist_is_recorded():
    rows = []
    _run(start="ab", max_steps=1, record=rows.append)
    assert {r.phase for r in rows} == {"grow"}
    assert {r.program for r in rows} == {"abc", "abd", "a"}


def test_every_screening_gets_the_current_program_to_start_from():
    _, calls = _run(start="ab", max_steps=1)
    parents = {
        p: parent for kind, p, *rest in calls if kind == "parent" for parent in rest
    }
    assert parents == {"a": "ab", "abc": "ab", "abd": "ab"}


def test_prunes_cannot_add_up_small_losses_beyond_the_noise():
    # each prune loses 0.008 (within the noise of 0.01), two lose 0.016
    scores = {"abc": 0.80, "ab": 0.792, "a": 0.784}
    moves = {"abc": ["ab"], "ab": ["a"], "a": []}
    out, _ = _run(start="abc", scores=scores, moves=moves, max_steps=1)
    # "ab" is within 0.01 of "abc"; "a" is within 0.01 of "ab" but not of "abc"
    assert out.program == "ab"


# "F" is a leaf over all features, "g" one over a group: same cost, reads less
NAMING = {"F": 0.70, "FF": 0.80, "Fg": 0.795, "gF": 0.70, "gg": 0.60, "FFF": 0.79}
NAMING_MOVES = {"F": ["FF"], "FF": ["Fg", "gF", "F", "FFF"], "Fg": ["gg", "FF"]}


def test_features_are_named_after_the_growth_when_that_scores_as_well():
    reads = lambda p: p.count("F")  # noqa: E731
    kw = dict(start="F", scores=NAMING, moves=NAMING_MOVES, max_steps=1)
    out, _ = _run(**kw)
    assert out.program == "FF"  # without reads: no naming
    out, calls = _run(reads=reads, **kw)
    # grown to "FF", then "Fg" (within the noise); "gg" is clearly worse
    assert out.program == "Fg" and out.score == NAMING["Fg"]
    screened = [c[1] for c in calls if c[0] == "screen"]
    assert screened.index("Fg") > screened.index("FF")
    assert "gg" in screened
    # a narrower program worse by more than the noise is not taken
    out, _ = _run(reads=reads, **{**kw, "scores": {**NAMING, "Fg": 0.75}})
    assert out.program == "FF"


def test_a_named_leaf_may_lose_what_a_production_costs():
    # "Fg" is 0.005 below "FF": more than the noise (0.001), less than the
    # penalty times the one leaf it no longer reads over all features
    reads = lambda p: p.count("F")  # noqa: E731
    kw = dict(start="F", scores=NAMING, moves=NAMING_MOVES, max_steps=1, reads=reads)
    kw["se"] = 0.001
    out, _ = _run(**kw)
    assert out.program == "Fg"
    out, _ = _run(penalty=0.001, **kw)
    assert out.program == "FF"


def test_a_swap_step_tries_parts_of_the_same_width_after_the_naming():
    # after naming "Fg", the swap "Fh" (reads as much) is clearly better
    reads = lambda p: p.count("F")  # noqa: E731
    scores = {**NAMING, "Fh": 0.85, "hh": 0.70}
    moves = {**NAMING_MOVES, "Fg": ["gg", "FF", "Fh"], "Fh": ["hh"]}
    kw = dict(start="F", scores=scores, moves=moves, max_steps=1, reads=reads)
    out, _ = _run(**kw)
    assert out.program == "Fg"
    out, _ = _run(swap_step=True, **kw)
    assert out.program == "Fh" and out.score == 0.85
