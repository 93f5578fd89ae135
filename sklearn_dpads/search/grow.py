"""Local search after the selection: grow the chosen program one edit at a time.

A differentiable search ranks its candidates by how fast they fit inside a
shared, weight-coupled graph, and a linear leaf fits fastest: it often
returns ``window(affine)`` where the grammar holds clearly better programs
(``benchmarks/regret.py``). This step judges programs the way the fit
finally trains them instead: each neighbour of the current program (one leaf
swapped, or one subtree ``S`` grown into ``ite(C, S, S)``; see
:func:`~sklearn_dpads.search.edits.neighbours`) is trained on its own, with
early stopping on the held-out split. A simpler neighbour replaces the
current program when its score is not lower by more than the noise of the
held-out split (one standard error of the paired difference, by
bootstrap), and otherwise the best neighbour whose score is higher by more
than that: the one-standard-error rule of CART, step by step. It stops
after ``max_steps`` steps, when no neighbour qualifies, or when the clock
runs out.

Candidates are trained in two rounds so that a step stays cheap: every
neighbour for a short screening, then the best ``keep`` of them for the full
fine-tune (successive halving with one cut). The ``train`` callable gets
the current program's trained form too: a leaf swap or a branch keeps most
of it and may start from its weights (a branch ``ite(C, S, S)`` then
computes exactly what ``S`` did), so that its screening can be short.

This module knows nothing of torch or skorch: training is the ``train``
callable's business.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sklearn_dpads.search.history import SearchRecord
from sklearn_dpads.search.schedule import SearchClock

__all__ = ["GrowCandidate", "grow_program"]


@dataclass(frozen=True)
class GrowCandidate:
    """A trained program of the local search.

    Parameters
    ----------
    program : Program
        The program.
    score : float
        Its held-out score (higher is better).
    cost : float
        Its structural cost.
    trained : object
        Whatever the ``train`` callable returned with the score (the trained
        module and what is needed to refit it).
    """

    program: Any
    score: float
    cost: float
    trained: Any

    def objective(self, penalty: float) -> float:
        """The score minus ``penalty`` times the cost.

        Parameters
        ----------
        penalty : float
            Weight of the structural cost.

        Returns
        -------
        float
            The objective the local search maximises.
        """
        return self.score - penalty * self.cost


def grow_program(
    start: GrowCandidate,
    *,
    neighbours: Callable[[Any], Sequence[Any]],
    train: Callable[[Sequence[Any], Sequence[int], Any], Sequence[tuple[Any, float]]],
    resume: Callable[[Any, int], tuple[Any, float]],
    margin: Callable[[Any, Any], float],
    cost: Callable[[Any], float],
    seeds: Callable[[int], int],
    penalty: float = 0.01,
    max_steps: int = 2,
    keep: int = 4,
    record: Callable[[SearchRecord], None] | None = None,
    clock: SearchClock | None = None,
    reads: Callable[[Any], float] | None = None,
    swap_step: bool = False,
) -> GrowCandidate:
    """Hill-climb from ``start`` over the programs one edit away.

    Each step screens the neighbours of the current program (``train``),
    trains the ``keep`` best by objective to the full budget (``resume``),
    and moves by the one-standard-error rule:

    * to the best simpler finalist (lower cost) whose score is at most one
      standard error of the paired difference (``margin``) below the current
      program's, and below that of the best-scoring program moved through
      (``start`` or a later one): not worse, as far as the held-out split can
      tell, and not by a chain of small losses;
    * else to the best finalist whose score is at least one standard error
      above the current program's.

    The standard error is the complexity control, as in CART: ``penalty``
    ranks the candidates (the screened ones, and the finalists that
    qualify) and, in the naming phase below, prices the features a leaf
    no longer reads; it does not veto a move.
    It stops when no finalist qualifies.

    With ``swap_step``, one more step after the ``max_steps`` tries the
    neighbours of the same cost alone (leaf swaps, relabels): a growth may
    need a part of the same cost to pay off, as a square needs the window
    over the whole clip instead of its last frames (planted four-limb
    movement energy, seed 1: F1 0.711 with the last six frames, 0.917 with
    the whole clip).

    Then, with ``reads``, it names features: the neighbours of the same cost
    that read less of the input (``affine[distance]`` for ``affine``) are
    screened, the ``keep // 2`` best trained in full, and the program moves
    to the best that is not worse by the one-standard-error rule for
    simpler programs, or by no more than ``penalty`` times the share of the
    input it no longer reads (an all-features leaf must add what a
    production costs), until none qualifies. The all-features leaf stays
    only where it scores clearly better. With ``swap_step``, when no
    narrower program qualifies, the neighbours of the same cost that read as
    much are tried too, by the rule for better programs (the window that
    suits the named leaf). This comes after the growth, not
    during it: a narrow leaf taken early would choose what every later
    branch grows on (on CalMS21 a one-feature leaf taken first, within the
    noise of the held-out split, left held-out F1 at 0.65 against 0.77).

    The finalists of a step are the ``keep`` best screened prunes, or, when
    no prune qualifies, the ``keep // 2`` best screened neighbours of the
    same cost (leaf swaps) and the ``keep // 2`` best of a higher cost
    (branches).

    The simpler neighbours (prunes) are tried first, on their own: a move to
    one of them does not count as a step, and the others are then not
    trained. Only when none qualifies are the others (leaf swaps, branches)
    tried, and that counts as one of ``max_steps``.

    Parameters
    ----------
    start : GrowCandidate
        The selection's program, trained like the finalists.
    neighbours : callable
        ``neighbours(program)`` lists the programs one edit away.
    train : callable
        ``train(programs, seeds, parent)`` trains new programs for the
        screening (one seed each) and returns a ``(trained, score)`` pair per
        program; ``parent`` is what the current program was trained into
        (its ``trained``), which the programs are one edit away from (a warm
        start for those that keep its parts, if the callable takes it).
    resume : callable
        ``resume(trained, seed)`` trains a screened program to the full
        budget and returns ``(trained, score)``.
    margin : callable
        ``margin(trained_a, trained_b)``: the standard error of the
        difference of the two programs' scores.
    cost : callable
        ``cost(program)``: its structural cost.
    seeds : callable
        ``seeds(k)`` is the seed of the ``k``-th training.
    penalty : float, default=0.01
        Weight of the structural cost in the objective that ranks candidates;
        also what a named leaf may lose per share of the input it no longer
        reads.
    max_steps : int, default=2
        Most steps that try the neighbours that are not simpler (growths).
    keep : int, default=4
        Neighbours of a kind trained to the full budget after the screening
        (see above).
    record : callable, default=None
        Receives a :class:`SearchRecord` per finalist.
    clock : SearchClock, default=None
        Time budget.
    reads : callable, default=None
        ``reads(program)``: how much of the input its leaves read (see
        :func:`~sklearn_dpads.grammar.canonical.features_read`). None: no
        naming phase.
    swap_step : bool, default=False
        Take the last step of swaps alone, and try the swaps that read as
        much in the naming phase (see above).

    Returns
    -------
    GrowCandidate
        The program moved to last (``start`` when no edit was accepted).
    """
    clock = clock or SearchClock(None)
    seed = itertools.count()

    def finalists(programs, n: int) -> list[GrowCandidate]:
        # screen the (program, cost) pairs, then train the n best in full
        if not programs or clock.out():
            return []
        runs = train(
            [p for p, _ in programs],
            [seeds(next(seed)) for _ in programs],
            best.trained,
        )
        screened = [
            GrowCandidate(p, score, c, trained)
            for (p, c), (trained, score) in zip(programs, runs)
        ]
        screened.sort(key=lambda c: -c.objective(penalty))
        out = []
        for c in screened[:n]:
            if clock.out():
                break
            trained, score = resume(c.trained, seeds(next(seed)))
            out.append(GrowCandidate(c.program, score, c.cost, trained))
        return out

    def report(finals: list[GrowCandidate]) -> None:
        if record is not None:
            for c in finals:
                record(
                    SearchRecord(
                        "grow",
                        c.score,
                        clock.elapsed(),
                        penalty,
                        c.cost,
                        program=c.program,
                    )
                )

    best = start
    # the best-scoring program moved through: a simpler program must be within
    # one standard error of it, not only of the current one, so that a chain
    # of small losses, each within the noise, cannot add up
    anchor = start
    steps = 0
    # with swap_step, a last step after max_steps tries the swaps alone
    last = max_steps + (max_steps > 0 and swap_step)
    while steps < last and not clock.out():
        programs = [(p, cost(p)) for p in neighbours(best.program)]
        # prunes first: a simpler program that is not worse ends the step
        # sooner, and has fewer neighbours to try next
        finals = finalists([(p, c) for p, c in programs if c < best.cost], keep)
        move = _move(best, anchor, finals, margin, penalty)
        if move is None:
            # as many finalists of the same cost (swaps) as of a higher one
            # (growths): the penalty would otherwise crowd out every growth
            half = max(1, keep // 2)
            others = finalists([(p, c) for p, c in programs if c == best.cost], half)
            if steps < max_steps:
                others += finalists(
                    [(p, c) for p, c in programs if c > best.cost], half
                )
            move = _move(best, anchor, others, margin, penalty)
            finals += others
            steps += 1
        report(finals)
        if move is None:
            break
        best = move
        if best.score > anchor.score:
            anchor = best
    while reads is not None and not clock.out():
        mine = reads(best.program)
        level = [
            (p, c) for p in neighbours(best.program) if (c := cost(p)) == best.cost
        ]
        narrower = [(p, c) for p, c in level if reads(p) < mine]
        finals = finalists(narrower, max(1, keep // 2))
        move = _move(best, anchor, finals, margin, penalty, reads=reads)
        if move is None and swap_step:
            # a part of the same width may now pay off (the window that suits
            # the named leaf): better by more than the noise
            same = [(p, c) for p, c in level if math.isclose(reads(p), mine)]
            others = finalists(same, max(1, keep // 2))
            move = _move(best, anchor, others, margin, penalty)
            finals += others
        report(finals)
        if move is None:
            break
        best = move
    return best


def _move(best, anchor, finals, margin, penalty, reads=None):
    """The finalist the one-standard-error rule moves to, or None.

    A simpler finalist qualifies within one standard error of ``anchor`` (the
    best program moved through) and of ``best`` (the current one); a better
    one by more than one standard error above ``best``. With ``reads``, every
    finalist counts as simpler (it reads less of the input), and it may also
    lose up to ``penalty`` times the share of the input it no longer reads:
    an all-features leaf is worth its place when it adds more than a
    production would.
    """

    def loss(c, ref):
        # how much worse than ref c may score and still count as simpler
        se = margin(c.trained, ref.trained)
        if reads is None:
            return se
        return max(se, penalty * (reads(ref.program) - reads(c.program)))

    simpler, better = [], []
    for c in sorted(finals, key=lambda c: (-c.objective(penalty), -c.score)):
        if reads is not None or c.cost < best.cost:
            if c.score >= best.score - loss(c, best) and (
                anchor is best or c.score >= anchor.score - loss(c, anchor)
            ):
                simpler.append(c)
        elif c.score >= best.score + margin(c.trained, best.trained) and (
            c.score > best.score
        ):
            better.append(c)
    if simpler:
        return simpler[0]
    return better[0] if better else None
