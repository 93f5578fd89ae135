"""Pictures of learned programs, of the search, and of feature-group importance.

All functions draw with matplotlib only (no graphviz) and return the
:class:`matplotlib.axes.Axes` they drew on. matplotlib is an optional
dependency (``pip install sklearn-dpads[plot]``): it is imported when a
function is called, not when this module is imported.

The functions accept a fitted :class:`~sklearn_dpads.ProgramSynthesisClassifier`,
a fitted :class:`~sklearn.pipeline.Pipeline` ending in one, or a fitted
search object with a ``best_estimator_`` (such as
:class:`~sklearn.model_selection.GridSearchCV`). The numbers they draw come
from :mod:`sklearn_dpads.inspection` (``feature_group_importance`` is still
importable from here).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from sklearn_dpads.grammar.dsl import DSL
from sklearn_dpads.inspection import (
    _feature_names,
    _leaf_weights,
    _search_points,
    feature_group_importance,
    unwrap_fitted,
)
from sklearn_dpads.program import Program

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "feature_group_importance",
    "plot_feature_group_importance",
    "plot_program",
    "plot_search",
    "plot_temporal_filters",
]

# Box colours by role of the production in the program.
_COLOURS = {
    "sequence": "#cfe2f3",  # map, map_prefixes, fold, windows, diff: walk over frames
    "combine": "#fce5cd",  # add, multiply, ite, user element-wise functions
    "leaf": "#d9ead3",  # affine leaves, temporal filters and constants
}
_ROLE_OF_KIND = {  # the role of every built-in production kind
    **dict.fromkeys(
        ("map", "map_prefixes", "fold", "window", "difference"), "sequence"
    ),
    **dict.fromkeys(("ite", "add", "multiply", "elementwise"), "combine"),
    **dict.fromkeys(("affine", "constant", "filter"), "leaf"),
}


# --------------------------------------------------------------------------- helpers
def _get_ax(ax, figsize: tuple[float, float]):
    """``ax`` itself (checked), or the Axes of a new figure of ``figsize``."""
    if ax is not None:
        from matplotlib.axes import Axes

        if not isinstance(ax, Axes):
            raise TypeError(
                f"ax must be a matplotlib Axes or None, got {type(ax).__name__}."
            )
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "sklearn_dpads.plotting needs matplotlib: pip install matplotlib "
            "(or pip install sklearn-dpads[plot])."
        ) from exc
    return plt.subplots(figsize=figsize)[1]


def _role(symbol: str, dsl: DSL | None) -> str:
    if dsl is not None and symbol in dsl:
        return _ROLE_OF_KIND.get(dsl[symbol].kind, "combine")
    if symbol.startswith(("affine", "filter")) or symbol == "const":
        return "leaf"
    if symbol in ("map", "map_prefixes", "fold", "diff") or symbol.endswith("_avg"):
        return "sequence"
    return "combine"


def _node_label(symbol: str, dsl: DSL | None) -> str:
    if dsl is not None and symbol in dsl:
        prod = dsl[symbol]
        if prod.kind == "affine":
            group = prod.params.get("group")
            return f"affine[{group}]" if group else "affine[all]"
        if prod.kind == "filter":
            group = prod.params.get("group")
            return f"filter{prod.params['length']}[{group or 'all'}]"
        if prod.kind == "constant":
            return "const"
    return symbol


def _format_affine(
    w, b, cols: list[int | None], names: list[str], max_terms: int = 3, width: int = 28
) -> str:
    """``-3.16 a_1 -1.51 a_0 +0.12``: the largest weights, then the bias.

    ``cols`` gives the feature of every column (None: a fold accumulator,
    written ``acc``); terms are wrapped onto lines of at most ``width``
    characters.
    """
    if w.shape[0] != 1:
        return f"({w.shape[0]} outputs)"
    w = w[0]
    n_acc = sum(c is None for c in cols)
    accs = iter(["acc"] if n_acc == 1 else [f"acc{k}" for k in range(n_acc)])
    names = [next(accs) if c is None else names[c] for c in cols]
    order = np.argsort(-np.abs(w), kind="stable")
    terms = [f"{w[j]:+.2f} {names[j]}" for j in order[:max_terms]]
    if len(w) > max_terms:
        terms.append("...")
    terms.append(f"{b[0]:+.2f}")
    if terms[0].startswith("+"):
        terms[0] = terms[0][1:]
    lines = [terms[0]]
    for t in terms[1:]:
        if len(lines[-1]) + 1 + len(t) <= width:
            lines[-1] += " " + t
        else:
            lines.append(t)
    return "\n".join(lines)


def _layout(
    program: Program, widths: Mapping[tuple[int, ...], float]
) -> tuple[dict[tuple[int, ...], tuple[float, float]], float]:
    """Layered tree layout in character units.

    Leaves sit side by side, each as wide as its label (``widths``); parents
    are centred over their children, one level per depth. Returns the
    positions by path and the total width.
    """
    pos: dict[tuple[int, ...], tuple[float, float]] = {}
    right = [0.0]

    def rec(p: Program, path: tuple[int, ...], depth: int) -> float:
        if not p.children:
            x = right[0] + widths[path] / 2
            right[0] += widths[path]
        else:
            xs = [rec(c, path + (i,), depth + 1) for i, c in enumerate(p.children)]
            x = 0.5 * (min(xs) + max(xs))
        pos[path] = (x, -float(depth))
        return x

    rec(program, (), 0)
    return pos, right[0]


# ----------------------------------------------------------------------- plot_program
def plot_program(
    program_or_estimator: Any,
    dsl: DSL | None = None,
    ax: Axes | None = None,
    *,
    show_weights: bool = True,
) -> Axes:
    """Draw a program as a tree of production boxes.

    Every node of the program is a box labelled with its production (affine
    leaves as ``affine[group]``, the affine leaf over all features as
    ``affine[all]``, temporal filters as ``filter5[group]``), joined by lines
    to its arguments. Boxes are coloured by role: blue for productions that
    walk over frames (``map``, ``fold``, windows, ``diff``), orange for
    productions that combine values (``add``, ``multiply``, ``ite``, user
    functions), green for leaves.

    Parameters
    ----------
    program_or_estimator : ProgramSynthesisClassifier, Program or str
        A fitted classifier (its ``program_`` and ``dsl_`` are drawn), a fitted
        pipeline or search object holding one, a
        :class:`~sklearn_dpads.Program`, or program text in s-expression form.
    dsl : DSL, default=None
        Grammar of the program, used for the labels and colours. Defaults to
        the estimator's ``dsl_``; without one, labels are the production names.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure sized to the tree when None.
    show_weights : bool, default=True
        For a fitted estimator, write the largest trained weights of every
        single-output affine leaf under its label (weights apply to the scaled
        features ``z = clip((x - center_) / scale_)``; ``acc`` names the
        accumulator inside a ``fold``).

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on: one text box per program node (``ax.texts``,
        in pre-order) and one line per edge (``ax.lines``).

    Raises
    ------
    TypeError
        If ``program_or_estimator`` is of another type.
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    sklearn_dpads.ProgramParseError
        If program text cannot be parsed.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_dpads.plotting import plot_program
    >>> ax = plot_program("(map (multiply (affine_a) (affine_b)))")
    >>> len(ax.texts)
    4
    """
    estimator = None
    if isinstance(program_or_estimator, str):
        program = Program.parse(program_or_estimator)
    elif isinstance(program_or_estimator, Program):
        program = program_or_estimator
    elif hasattr(program_or_estimator, "get_params"):
        estimator, _ = unwrap_fitted(program_or_estimator, "plot_program")
        program = estimator.program_
        if dsl is None:
            dsl = estimator.dsl_
    else:
        raise TypeError(
            "plot_program expects a fitted ProgramSynthesisClassifier, a Program or "
            f"program text, got {type(program_or_estimator).__name__}."
        )
    if dsl is not None and not isinstance(dsl, DSL):
        raise TypeError(f"dsl must be a DSL or None, got {type(dsl).__name__}.")

    # compute: the text of every box, the tree layout and the figure size
    names = _feature_names(estimator, dsl) if estimator is not None else []
    labels: dict[tuple[int, ...], str] = {}
    for path, sub in program.walk():
        labels[path] = _node_label(sub.symbol, dsl)
        if show_weights and estimator is not None and dsl is not None:
            prod = dsl[sub.symbol] if sub.symbol in dsl else None
            if prod is not None and prod.kind == "affine":
                leaf = _leaf_weights(estimator, path, dsl.n_features)
                if leaf is not None:
                    labels[path] += "\n" + _format_affine(*leaf, names)
    leaf_widths = {
        path: max(14.0, max(len(line) for line in labels[path].split("\n")) + 4.0)
        for path, sub in program.walk()
        if not sub.children
    }
    pos, total = _layout(program, leaf_widths)
    depth = program.depth
    n_lines = max(lab.count("\n") + 1 for lab in labels.values())
    own_figure = ax is None
    width_in = max(3.0, 0.078 * total + 0.3)
    ax = _get_ax(ax, (width_in, max(2.0, 0.95 * depth + 0.25 * n_lines + 0.4)))
    if own_figure:  # the tree fills the figure; boxes were sized for that
        ax.figure.subplots_adjust(left=0.01, right=0.99, bottom=0.02)

    for path, (x, y) in pos.items():
        if path:
            px, py = pos[path[:-1]]
            ax.plot([px, x], [py, y], color="0.35", linewidth=1.2, zorder=1)
    for path, sub in program.walk():
        box = {"boxstyle": "round,pad=0.4", "edgecolor": "0.3"}
        box["facecolor"] = _COLOURS[_role(sub.symbol, dsl)]
        size = 10 if "\n" not in labels[path] else 8.5
        text = ax.text(*pos[path], labels[path], ha="center", va="center", bbox=box)
        text.set(fontsize=size, family="monospace", zorder=3)
    ax.set_xlim(0.0, total)
    ax.set_ylim(-(depth - 1) - 0.45, 0.45)
    ax.set_axis_off()
    title = program.pretty(dsl) if dsl is not None else program.render()
    wrap = max(40, int(ax.figure.get_figwidth() / 0.075) - 4)
    ax.set_title("\n".join(textwrap.wrap(title, wrap)), fontsize=9, family="monospace")
    return ax


# ------------------------------------------------------------------------ plot_search
def plot_search(
    estimator_or_history: Any,
    ax: Axes | None = None,
    *,
    jitter: float = 0.12,
    annotate: bool = True,
) -> Axes:
    """Scatter the scored candidates of the search: validation F1 against cost.

    Every candidate scored during program selection (the greedy program and
    every partition of the derivation graph expanded by the best-first
    search) is one point. Complete programs are solid dots; partial programs
    (graphs that still hold several candidates, trained briefly) are lighter.
    The chosen program is a star, and the dashed line through it joins the
    points with the same selection objective ``(1 - F1) + penalty * cost``:
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
    ax.set_ylabel("validation F1")
    ax.set_title("Candidates scored by the program selection")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return ax


# ------------------------------------------------------- plot_feature_group_importance
def plot_feature_group_importance(
    estimator: Any, X: Any, ax: Axes | None = None
) -> Axes:
    """Bar chart of :func:`~sklearn_dpads.inspection.feature_group_importance`.

    Parameters
    ----------
    estimator : ProgramSynthesisClassifier
        A fitted classifier, or a fitted pipeline or search object holding
        one.
    X : array-like
        Data the importances are averaged over (typically the training or a
        test set), in any layout accepted by ``fit``.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on, with one horizontal bar per feature group used by
        the program (``ax.patches``), largest on top. A program without
        affine leaves gives an empty chart with a note.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    ValueError
        If ``X`` does not match the estimator's input.
    """
    imp = feature_group_importance(estimator, X)
    ax = _get_ax(ax, (6.0, max(2.2, 0.45 * len(imp) + 1.2)))
    est, _ = unwrap_fitted(estimator, "plot_feature_group_importance")
    if imp:
        groups = list(imp)[::-1]
        bars = ax.barh(groups, [imp[g] for g in groups], color="C2")
        ax.bar_label(bars, fmt="%.3g", padding=3, fontsize=8)
        ax.margins(x=0.12)
        ax.set_xlabel("mean |w * z| per frame (scaled features)")
        ax.set_ylabel("feature group")
    else:
        ax.text(
            0.5,
            0.5,
            "the program has no affine leaf",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_yticks([])
    ax.set_title(
        "\n".join(textwrap.wrap(est.program_.pretty(est.dsl_), 70)),
        fontsize=9,
        family="monospace",
    )
    ax.grid(True, axis="x", alpha=0.3)
    return ax


# ---------------------------------------------------------------- plot_temporal_filters
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
    paths = [
        path
        for path, symbol in symbols.items()
        if symbol in dsl and dsl[symbol].kind == "filter"
    ]
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
