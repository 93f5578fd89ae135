"""Progress reporting of a search: the one place that writes to the console."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sklearn_dpads.search.history import SearchRecord

__all__ = ["SearchReporter"]

# Rough shares of a fit's phases relative to the unfolding schedule's time, for
# the time-left estimate before a phase has started (default fits of CalMS21,
# CRIM13-shaped and planted data measured 0.3-0.5 for the selection and 0.02-1.1
# for the fine-tune and refit, which grow with the data beyond the search's
# subsample).  Once the selection has run, the fine-tune is estimated from its
# time per program instead, and the refit from the fine-tune's time per epoch.
SELECTION_SHARE = 0.5
FINETUNE_SHARE = 0.5
# the refit's time relative to the fine-tune's (it runs the chosen epochs, about
# half of those run, on all the data instead of the training split)
REFIT_SHARE = 0.8


@dataclass(frozen=True)
class _FinetunePlan:
    """What the fine-tune and the refit will train, for the time-left estimates."""

    program_epochs: int = 1
    epochs: int = 0
    patience: int | None = None
    n_search: int = 1
    n_train: int = 1
    n_total: int = 1

    def scale(self) -> float:
        """The fine-tune's work relative to one program's in the selection."""
        scale = self.epochs / max(self.program_epochs, 1)
        return scale * (self.n_train / max(self.n_search, 1))

    def epochs_run(self, chosen: int) -> int:
        """Epochs the fine-tune ran: all, or about the best one plus the patience."""
        if self.patience is None:
            return self.epochs
        return min(self.epochs, chosen + self.patience)

    def refit_scale(self) -> float:
        """Size of all the data relative to the fine-tune's training split."""
        return self.n_total / self.n_train


class SearchReporter:
    """Collect search records and show progress according to ``verbose``.

    Parameters
    ----------
    verbose : int, default=0
        0 silent; 1 one line per schedule stage, per selection and per
        fine-tune, each with the elapsed time and an estimate of the time left
        (once :meth:`plan` has announced the fit's phases), and a closing line;
        2 also a progress bar (tqdm, on stderr) and one line per scored
        candidate.
    describe : callable, default=str
        Turns a program into the text shown for it.
    prefix : str, default="[sklearn_dpads]"
        Start of every printed line.

    Attributes
    ----------
    records : list of SearchRecord
        Every record received, in order.
    """

    def __init__(
        self,
        verbose: int = 0,
        describe: Callable[[object], str] = str,
        prefix: str = "[sklearn_dpads]",
    ) -> None:
        self.verbose = verbose
        self.describe = describe
        self.prefix = prefix
        self.records: list[SearchRecord] = []
        self._bar = None
        self._start = time.perf_counter()
        self._stage_epochs: list[int] | None = None
        self._finetune = _FinetunePlan()
        self._last_stage = 0.0  # elapsed at the end of the previous stage
        self._rate = None  # seconds per bi-level epoch of the latest stage
        self._schedule_s = None  # estimated (then actual) schedule time
        self._finetune_start = 0.0  # elapsed when the fine-tune started
        self._n_scored = 0

    def elapsed(self) -> float:
        """Seconds since the reporter was made (the start of the fit).

        Returns
        -------
        float
            Elapsed wall-clock seconds.
        """
        return time.perf_counter() - self._start

    def plan(
        self,
        stage_epochs: Sequence[int],
        *,
        program_epochs: int = 1,
        finetune_epochs: int = 0,
        finetune_patience: int | None = None,
        n_search: int = 1,
        n_train: int = 1,
        n_total: int = 1,
    ) -> None:
        """Announce the fit's phases, so that lines estimate the time left.

        Parameters
        ----------
        stage_epochs : sequence of int
            Bi-level epochs of every schedule stage, in order.
        program_epochs : int, default=1
            Epochs of every program trained in the selection.
        finetune_epochs : int, default=0
            Most epochs of the fine-tune (0: none).
        finetune_patience : int or None, default=None
            Its early-stopping patience.
        n_search : int, default=1
            Sequences the selection trains programs on.
        n_train : int, default=1
            Sequences the fine-tune trains on.
        n_total : int, default=1
            Sequences the refit trains on (all the data).
        """
        self._stage_epochs = [int(e) for e in stage_epochs]
        self._finetune = _FinetunePlan(
            program_epochs=program_epochs,
            epochs=finetune_epochs,
            patience=finetune_patience,
            n_search=n_search,
            n_train=n_train,
            n_total=n_total,
        )

    def _stage_left(self, k: int, elapsed: float) -> float:
        """Estimated seconds left after schedule stage ``k`` ended at ``elapsed``."""
        epochs = self._stage_epochs
        took = elapsed - self._last_stage
        self._last_stage = elapsed
        if k < len(epochs) and epochs[k] > 0:
            self._rate = took / epochs[k]  # the latest stage's rate
        rest = sum(epochs[k + 1 :]) * (self._rate or 0.0)
        self._schedule_s = elapsed + rest
        return rest + self._schedule_s * (SELECTION_SHARE + FINETUNE_SHARE)

    def _timing(self, left: float | None) -> str:
        text = f"elapsed {self.elapsed():.1f}s"
        if left is not None and math.isfinite(left):
            text += f", about {max(left, 0.0):.0f}s left"
        return text

    def __call__(self, rec: SearchRecord) -> None:
        """Store ``rec`` and show it.

        Parameters
        ----------
        rec : SearchRecord
            The record of a stage or a scored candidate.
        """
        self.records.append(rec)
        if self.verbose >= 2:
            self._update_bar(rec)
        if rec.phase == "unfold":
            left, of = None, ""
            if self._stage_epochs is not None:
                left = self._stage_left(rec.stage, self.elapsed())
                of = f"/{len(self._stage_epochs)}"
            self.message(
                f"stage {rec.stage + 1}{of}: depth {rec.depth}, top-N {rec.top_n}, "
                f"{rec.candidates} candidates kept, "
                + (f"score {rec.score:.3f}, " if rec.epochs else "not trained, ")
                + self._timing(left)
            )
            return
        self._n_scored += 1
        what = (
            self.describe(rec.program)
            if rec.program is not None
            else f"partial ({rec.split})"
        )
        self.message(
            f"  {rec.phase}: {what} held-out AP {rec.score:.3f} cost {rec.cost:.0f} "
            f"objective {rec.objective:.3f}",
            level=2,
        )

    def search_done(self, program, score: float) -> None:
        """Show the end of the search (selection and leaf refinement).

        Parameters
        ----------
        program : Program
            The chosen program.
        score : float
            Its held-out score in the search.
        """
        left = None
        if self._schedule_s is not None and self._n_scored:
            per_candidate = (self.elapsed() - self._schedule_s) / self._n_scored
            left = per_candidate * self._finetune.scale() * (1 + REFIT_SHARE)
        self.message(
            f"selection: {self._n_scored} candidates scored, chose "
            f"{self.describe(program)} (score {score:.3f}), " + self._timing(left)
        )

    def finetune_done(self, epochs: int, grow: bool = False) -> None:
        """Show the end of the fine-tune on the training split.

        Parameters
        ----------
        epochs : int
            Epochs chosen on the held-out split (0: no refit follows).
        grow : bool, default=False
            Whether the local search comes next (then the refit is not next,
            and its time is not estimated).
        """
        took = self.elapsed() - self._finetune_start
        epochs_run = self._finetune.epochs_run(epochs)
        left = took * epochs / max(epochs_run, 1) * self._finetune.refit_scale()
        then = ", refitting on all the data" if epochs else ""
        if grow:
            left, then = None, ", local search next"
        self.message(
            f"fine-tune: {epochs} of {epochs_run} epochs chosen on the held-out "
            f"split{then}, " + self._timing(left)
        )

    def grow_done(self, program, score: float) -> None:
        """Show the end of the local search.

        Parameters
        ----------
        program : Program
            The program it ended on.
        score : float
            Its held-out score.
        """
        n = sum(1 for r in self.records if r.phase == "grow")
        self.message(
            f"local search: {n} programs trained in full, kept "
            f"{self.describe(program)} (score {score:.3f}), refitting on all the "
            "data, " + self._timing(None)
        )

    def finetune_start(self) -> None:
        """Mark the start of the fine-tune (for the time-left estimate)."""
        self._finetune_start = self.elapsed()

    def _update_bar(self, rec: SearchRecord) -> None:
        if self._bar is None:
            from tqdm.auto import tqdm

            self._bar = tqdm(
                desc="dPads search", unit="step", file=sys.stderr, leave=False
            )
        self._bar.update(1)
        self._bar.set_postfix(phase=rec.phase, score=f"{rec.score:.3f}")

    def message(self, text: str, level: int = 1) -> None:
        """Print ``text`` (one line, on stdout) when ``verbose >= level``.

        Parameters
        ----------
        text : str
            The line to show.
        level : int, default=1
            Least verbosity at which it is shown.
        """
        if self.verbose >= level:
            print(f"{self.prefix} {text}", file=sys.stdout, flush=True)

    def close(self) -> None:
        """Close the progress bar, if one was opened."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
