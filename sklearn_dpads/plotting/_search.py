"""``plot_search``: the candidates scored by the program selection."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from sklearn_dpads.inspection import _search_points, unwrap_fitted
from sklearn_dpads.plotting._axes import _get_ax

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["plot_search"]


def plot_search(
    estimator_or_history: Any,
    ax: Axes | None = None,
    *,
    jitter: float = 0.12,
    annotate: bool = True,
) -> Axes:
    """Scatter the scored candidates of the search: held-out score against cost.

    Every candidate scored during program selection (the greedy program and
    every partition of the derivation graph expanded by the best-first
    search) is one point. Complete programs are solid dots; partial programs
    (graphs that still hold several candidates, trained briefly) are lighter.
    The score is the held-out average precision (on the architecture split).
    The chosen program is a star, and the dashed line through it joins the
    points with the same selection objective ``(1 - score) + penalty * cost``:
    points above the line would have been preferred.

    Parameters
    ----------
    estimator_or_history : ProgramSynthesisClassifier or list of dict
        A fitted classifier (or a pipeline or search object holding one), or
        its ``search_history_``. With a bare history the chosen program is
        the complete one with the lowest objective.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure when None.
    jitter : float, default=0.12
        Horizontal spread (in cost units, deterministic) that keeps
        candidates of equal cost apart; 0 draws them at their exact cost.
    annotate : bool, default=True
        Write the chosen program next to its star, and mark the greedy
        program (the highest-weight candidate of every edge, where the
        selection starts).

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on; ``ax.collections`` holds the complete, partial and
        chosen points in that order (empty groups are not drawn).

    Raises
    ------
    TypeError
        If the argument is neither an estimator nor a list of dicts.
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    ValueError
        If the history has no scored candidate.
    """
    estimator = None
    if hasattr(estimator_or_history, "get_params"):
        estimator, _ = unwrap_fitted(estimator_or_history, "plot_search")
        history = estimator.search_history_
    elif isinstance(estimator_or_history, Iterable) and not isinstance(
        estimator_or_history, str | bytes | Mapping
    ):
        history = list(estimator_or_history)
    else:
        raise TypeError(
            "plot_search expects a fitted ProgramSynthesisClassifier or its "
            "search_history_ (a list of dicts), got "
            f"{type(estimator_or_history).__name__}."
        )
    if not isinstance(jitter, int | float) or not math.isfinite(jitter) or jitter < 0:
        raise ValueError(f"jitter must be a finite number >= 0, got {jitter!r}.")
    # compute: the scored candidates, the chosen one, the penalty, the jitter
    rows, complete, partial, chosen, penalty = _search_points(
        history,
        program=getattr(estimator, "program_", None),
        penalty=getattr(estimator, "penalty", None),
        dsl=getattr(estimator, "dsl_", None),
    )
    if not rows:
        raise ValueError(
            "The search history has no scored candidate (no 'greedy' or 'select' "
            "row with a finite score and cost)."
        )
    dsl = estimator.dsl_ if estimator is not None else None
    offsets = np.random.RandomState(0).uniform(-jitter, jitter, size=len(rows))
    shift = {id(r): float(o) for r, o in zip(rows, offsets, strict=True)}
    costs = [float(r["cost"]) for r in rows]
    scores = [float(r["score"]) for r in rows]

    def xy(group):
        x = np.array([float(r["cost"]) + shift[id(r)] for r in group])
        y = np.array([float(r["score"]) for r in group])
        return x, y

    ax = _get_ax(ax, (6.4, 4.2))
    if complete:
        x, y = xy(complete)
        ax.scatter(x, y, s=36, color="C0", label="complete program", zorder=3)
        for r, xi, yi in zip(complete, x, y, strict=True):
            if annotate and r.get("phase") == "greedy" and r is not chosen:
                note = {"textcoords": "offset points", "fontsize": 8, "color": "0.3"}
                ax.annotate("greedy", (xi, yi), xytext=(0, 7), ha="center", **note)
    if partial:
        x, y = xy(partial)
        ax.scatter(
            x,
            y,
            s=30,
            color="C0",
            alpha=0.3,
            marker="s",
            label="partial program (graph)",
            zorder=2,
        )
    lo, hi = min(scores), max(scores)
    pad = max(0.05 * (hi - lo), 0.01)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(min(costs) - 0.5, max(costs) + 0.5)
    if chosen is not None:
        cx, cy = float(chosen["cost"]) + shift[id(chosen)], float(chosen["score"])
        ax.scatter(
            [cx],
            [cy],
            s=260,
            marker="*",
            color="C3",
            edgecolor="k",
            linewidth=0.8,
            label="chosen program",
            zorder=4,
        )
        if penalty is not None and math.isfinite(penalty):
            xs = np.array([min(costs) - 0.5, max(costs) + 0.5])
            ax.autoscale(False)  # the line must not stretch the axes
            ax.plot(
                xs,
                cy + penalty * (xs - float(chosen["cost"])),
                "--",
                color="C3",
                linewidth=1,
                alpha=0.7,
                label=f"equal objective (penalty={penalty:.3g})",
            )
        if annotate and chosen.get("program") is not None:
            text = (
                chosen["program"].pretty(dsl)
                if dsl is not None
                else str(chosen["program"])
            )
            # keep the label inside the axes: write it towards the middle
            x0, x1 = ax.get_xlim()
            right_half = cx > 0.5 * (x0 + x1)
            ax.annotate(
                "\n".join(textwrap.wrap(text, 36)),
                (cx, cy),
                xytext=(-8 if right_half else 8, -14),
                textcoords="offset points",
                ha="right" if right_half else "left",
                fontsize=8,
                family="monospace",
                va="top",
            )
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("structural cost (productions)")
    ax.set_ylabel("held-out average precision")
    ax.set_title("Candidates scored by the program selection")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return ax
