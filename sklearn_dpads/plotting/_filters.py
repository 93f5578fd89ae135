"""``plot_temporal_filters``: the weights of the temporal filters against the lag."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np

from sklearn_dpads.inspection import _feature_names, unwrap_fitted
from sklearn_dpads.plotting._axes import _get_ax
from sklearn_dpads.plotting._kinds import _is_filter, _node_label

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["plot_temporal_filters"]


def plot_temporal_filters(estimator_or_module: Any, ax: Axes | None = None) -> Axes:
    """Draw the weights of every temporal filter leaf against the lag.

    A filter leaf ``filter<K>[group]`` computes
    ``y_t = b + sum_{j=0}^{K-1} W_j x_{t-j}[group]``; this plot draws, for
    every filter leaf of the program (in pre-order), every output ``o`` and
    every input feature ``i``, the line ``j -> W_j[o, i]`` over the lags
    ``j = 0 .. K-1`` (``0``: the current frame). Weights of one sign at every
    lag average the feature (a smoothed level); weights that change sign
    between lags respond to its changes (a ``+w`` at lag 0 and ``-w`` at lag 1
    is the velocity ``w (x_t - x_{t-1})``). For a fitted estimator the
    weights apply to the scaled features ``z = clip((x - center_) /
    scale_)``.

    Parameters
    ----------
    estimator_or_module : ProgramSynthesisClassifier or ProgramModule
        A fitted classifier (or a fitted pipeline or search object holding
        one), or a compiled program (anything with ``program``, ``dsl`` and
        ``leaf(path)`` like :class:`~sklearn_dpads.semantics.ProgramModule`).
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on: ``ax.lines`` holds one line per filter leaf, output
        and input feature, in that order, labelled
        ``"filter5[group] <feature>"`` (with ``" (path)"`` when the program
        uses the same filter twice and ``" -> out o"`` for several outputs).
        A program without filter leaves gives an empty chart with a note.

    Raises
    ------
    TypeError
        If the argument is neither a fitted classifier nor a compiled program.
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_dpads import default_dsl
    >>> from sklearn_dpads.grammar import parse_type
    >>> from sklearn_dpads.plotting import plot_temporal_filters
    >>> from sklearn_dpads.semantics import compile_program
    >>> dsl = default_dsl(2, filters=(4,))
    >>> module = compile_program("(filter4_x1)", dsl, parse_type("list[2] -> atom[1]"))
    >>> ax = plot_temporal_filters(module)
    >>> len(ax.lines), ax.lines[0].get_xdata().tolist()
    (1, [0, 1, 2, 3])
    """
    estimator = None
    if hasattr(estimator_or_module, "get_params"):
        estimator, _ = unwrap_fitted(estimator_or_module, "plot_temporal_filters")
        module, dsl = estimator.module_, estimator.dsl_
    elif all(hasattr(estimator_or_module, a) for a in ("leaf", "program", "dsl")):
        module = estimator_or_module
        dsl = module.dsl
    else:
        raise TypeError(
            "plot_temporal_filters expects a fitted ProgramSynthesisClassifier or a "
            f"compiled program (ProgramModule), got {type(estimator_or_module).__name__}."
        )
    names = _feature_names(estimator, dsl)
    program = module.program
    symbols = {path: sub.symbol for path, sub in program.walk()}
    paths = [path for path, symbol in symbols.items() if _is_filter(symbol, dsl)]
    uses = list(symbols.values())
    ax = _get_ax(ax, (6.4, 4.2))
    max_lag = 0
    for path in paths:
        leaf = module.leaf(path)  # the read API of compiled programs
        label = _node_label(symbols[path], dsl)
        if uses.count(symbols[path]) > 1:
            label += f" {path}"
        lags = list(range(int(leaf.length)))
        max_lag = max(max_lag, len(lags) - 1)
        w = np.array(leaf.weight, dtype=np.float64)  # (k, K, n)
        for o in range(w.shape[0]):
            for c, i in enumerate(leaf.indices):
                text = f"{label} {names[i]}"
                if w.shape[0] > 1:
                    text += f" -> out {o}"
                ax.plot(lags, w[o, :, c], marker="o", linewidth=1.4, label=text)
    if paths:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(-0.3, max_lag + 0.3)
        ax.set_xlabel("lag j (frames before t)")
        ax.set_ylabel("weight W_j" + (" (scaled features)" if estimator else ""))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    else:
        ax.text(
            0.5,
            0.5,
            "the program has no temporal filter",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_title(
        "\n".join(textwrap.wrap(program.pretty(dsl), 70)),
        fontsize=9,
        family="monospace",
    )
    return ax
