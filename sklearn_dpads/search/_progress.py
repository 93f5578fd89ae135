"""Progress reporting of a search: the one place that writes to the console."""

from __future__ import annotations

import sys
from collections.abc import Callable

from sklearn_dpads.search.history import SearchRecord

__all__ = ["SearchReporter"]


class SearchReporter:
    """Collect search records and show progress according to ``verbose``.

    Parameters
    ----------
    verbose : int, default=0
        0 silent; 1 one line per schedule stage and a closing line; 2 also a
        progress bar (tqdm, on stderr) and one line per scored candidate.
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
            self.message(
                f"stage {rec.stage}: depth {rec.depth}, top-N {rec.top_n}, "
                f"{rec.candidates} candidates kept, score {rec.score:.3f}, "
                f"{rec.elapsed:.1f}s"
            )
            return
        what = (
            self.describe(rec.program)
            if rec.program is not None
            else f"partial ({rec.split})"
        )
        self.message(
            f"  {rec.phase}: {what} F1 {rec.score:.3f} cost {rec.cost:.0f} "
            f"objective {rec.objective:.3f}",
            level=2,
        )

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
