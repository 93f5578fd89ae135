"""Pictures of learned programs, of the search, and of feature-group importance.

All functions draw with matplotlib only (no graphviz) and return the
:class:`matplotlib.axes.Axes` they drew on. matplotlib is an optional
dependency (``pip install sklearn-dpads[plot]``): it is imported when a
function is called, not when this module is imported.

The functions accept a fitted :class:`~sklearn_dpads.ProgramSynthesisClassifier`,
a fitted :class:`~sklearn.pipeline.Pipeline` ending in one, or a fitted
search object with a ``best_estimator_`` (such as
:class:`~sklearn.model_selection.GridSearchCV`).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.exceptions import NotFittedError

from sklearn_dpads.grammar.dsl import DSL
from sklearn_dpads.program import Program

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "feature_group_importance",
    "plot_feature_group_importance",
    "plot_program",
    "plot_search",
]

# Box colours by role of the production in the program.
_COLOURS = {
    "sequence": "#cfe2f3",  # map, map_prefixes, fold, windows: walk over frames
    "combine": "#fce5cd",  # add, multiply, ite, user element-wise functions
    "leaf": "#d9ead3",  # affine leaves and constants
}
_ROLE_OF_KIND = {
    "map": "sequence",
    "map_prefixes": "sequence",
    "fold": "sequence",
    "window": "sequence",
    "ite": "combine",
    "add": "combine",
    "multiply": "combine",
    "elementwise": "combine",
    "affine": "leaf",
    "constant": "leaf",
}


# --------------------------------------------------------------------------- helpers
def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "sklearn_dpads.plotting needs matplotlib: pip install matplotlib "
            "(or pip install sklearn-dpads[plot])."
        ) from exc
    return plt


def _get_ax(ax, figsize: tuple[float, float]):
    if ax is None:
        plt = _pyplot()
        _, ax = plt.subplots(figsize=figsize)
        return ax
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(
            f"ax must be a matplotlib Axes or None, got {type(ax).__name__}."
        )
    return ax


def _unwrap(estimator: Any, func: str) -> tuple[Any, Any]:
    """The fitted classifier inside ``estimator`` and the transformer before it.

    Returns ``(classifier, preprocessor)``; ``preprocessor`` is None unless
    ``estimator`` is a pipeline, in which case it is the pipeline without its
    last step.
    """
    from sklearn.pipeline import Pipeline

    pre = None
    if hasattr(estimator, "best_estimator_"):
        estimator = estimator.best_estimator_
    elif hasattr(estimator, "cv_results_") or (
        hasattr(estimator, "estimator") and hasattr(estimator, "refit")
    ):
        raise NotFittedError(
            f"{func} needs a fitted search object with a best_estimator_ (fit it "
            "with refit=True first)."
        )
    if isinstance(estimator, Pipeline):
        if len(estimator.steps) > 1:
            pre = estimator[:-1]
        estimator = estimator.steps[-1][1]
    if not hasattr(estimator, "search_history_") and not hasattr(estimator, "dsl"):
        raise TypeError(
            f"{func} expects a fitted ProgramSynthesisClassifier (or a pipeline "
            f"ending in one), got {type(estimator).__name__}."
        )
    if not hasattr(estimator, "program_"):
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet; call "
            f"'fit' before {func}."
        )
    return estimator, pre


def _feature_names(estimator: Any, dsl: DSL | None) -> list[str]:
    n = dsl.n_features if dsl is not None else int(estimator.n_features_in_)
    if dsl is not None and dsl.feature_names is not None:
        return list(dsl.feature_names)
    names = getattr(estimator, "feature_names", None)
    if names is not None and len(names) == n:
        return [str(v) for v in names]
    return [f"x{j}" for j in range(n)]


def _role(symbol: str, dsl: DSL | None) -> str:
    if dsl is not None and symbol in dsl:
        return _ROLE_OF_KIND.get(dsl[symbol].kind, "combine")
    if symbol.startswith("affine") or symbol == "const":
        return "leaf"
    if symbol in ("map", "map_prefixes", "fold") or symbol.endswith("_avg"):
        return "sequence"
    return "combine"


def _node_label(symbol: str, dsl: DSL | None) -> str:
    if dsl is not None and symbol in dsl:
        prod = dsl[symbol]
        if prod.kind == "affine":
            group = prod.params.get("group")
            return f"affine[{group}]" if group else "affine[all]"
        if prod.kind == "constant":
            return "const"
    return symbol


def _affine_columns(prod, n_features: int, width: int) -> list[int | None]:
    """Feature index of every input column of an affine leaf (None: fold state)."""
    idx = prod.params.get("indices")
    cols: list[int | None] = list(range(n_features)) if idx is None else list(idx)
    cols += [None] * (width - len(cols))
    return cols[:width]


def _leaf_weights(estimator: Any, path: tuple[int, ...]):
    """``(W, b)`` of the affine leaf at ``path`` as numpy arrays, or None."""
    module = getattr(estimator, "module_", None)
    node = getattr(module, "node", None)
    if node is None:
        return None
    try:
        linear = node(path).linear
    except (AttributeError, IndexError, TypeError):
        return None
    w = linear.weight.detach().cpu().double().numpy()
    b = linear.bias.detach().cpu().double().numpy()
    return w, b


def _format_affine(w, b, names: list[str], max_terms: int = 3, width: int = 28) -> str:
    """``-3.16 a_1 -1.51 a_0 +0.12``: the largest weights, then the bias.

    Terms are wrapped onto lines of at most ``width`` characters.
    """
    if w.shape[0] != 1:
        return f"({w.shape[0]} outputs)"
    w = w[0]
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
    ``affine[all]``), joined by lines to its arguments. Boxes are coloured by
    role: blue for productions that walk over frames (``map``, ``fold``,
    windows), orange for productions that combine values (``add``,
    ``multiply``, ``ite``, user functions), green for leaves.

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
        estimator, _ = _unwrap(program_or_estimator, "plot_program")
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

    labels: dict[tuple[int, ...], str] = {}
    names = _feature_names(estimator, dsl) if estimator is not None else []
    for path, sub in program.walk():
        label = _node_label(sub.symbol, dsl)
        if (
            show_weights
            and estimator is not None
            and dsl is not None
            and sub.symbol in dsl
            and dsl[sub.symbol].kind == "affine"
        ):
            wb = _leaf_weights(estimator, path)
            if wb is not None:
                cols = _affine_columns(dsl[sub.symbol], dsl.n_features, wb[0].shape[1])
                acc = sum(c is None for c in cols)
                col_names, k = [], 0
                for c in cols:
                    if c is None:
                        col_names.append("acc" if acc == 1 else f"acc{k}")
                        k += 1
                    else:
                        col_names.append(names[c])
                label += "\n" + _format_affine(wb[0], wb[1], col_names)
        labels[path] = label

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
        x, y = pos[path]
        ax.text(
            x,
            y,
            labels[path],
            ha="center",
            va="center",
            fontsize=10 if "\n" not in labels[path] else 8.5,
            family="monospace",
            zorder=3,
            bbox={
                "boxstyle": "round,pad=0.4",
                "facecolor": _COLOURS[_role(sub.symbol, dsl)],
                "edgecolor": "0.3",
            },
        )
    ax.set_xlim(0.0, total)
    ax.set_ylim(-(depth - 1) - 0.45, 0.45)
    ax.set_axis_off()
    title = program.pretty(dsl) if dsl is not None else program.render()
    wrap = max(40, int(ax.figure.get_figwidth() / 0.075) - 4)
    ax.set_title("\n".join(textwrap.wrap(title, wrap)), fontsize=9, family="monospace")
    return ax


# ------------------------------------------------------------------------ plot_search
def _history_rows(history: Sequence[Mapping]) -> list[Mapping]:
    rows = []
    for r in history:
        if not isinstance(r, Mapping):
            raise TypeError(
                "A search history is a list of dicts (search_history_), got an "
                f"element of type {type(r).__name__}."
            )
        if r.get("phase") not in ("greedy", "select"):
            continue
        score, cost = r.get("score"), r.get("cost")
        if score is None or cost is None:
            continue
        if not (math.isfinite(float(score)) and math.isfinite(float(cost))):
            continue
        rows.append(r)
    return rows


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
        estimator, _ = _unwrap(estimator_or_history, "plot_search")
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
    rows = _history_rows(history)
    if not rows:
        raise ValueError(
            "The search history has no scored candidate (no 'greedy' or 'select' "
            "row with a finite score and cost)."
        )
    dsl = estimator.dsl_ if estimator is not None else None
    complete = [r for r in rows if r.get("complete")]
    partial = [r for r in rows if not r.get("complete")]

    if estimator is not None:
        target = estimator.program_
        chosen = next((r for r in complete if r.get("program") == target), None)
    else:
        chosen = min(complete, key=lambda r: float(r["objective"]), default=None)

    offsets = np.random.RandomState(0).uniform(-jitter, jitter, size=len(rows))
    shift = {id(r): float(o) for r, o in zip(rows, offsets, strict=True)}

    def xy(group):
        x = np.array([float(r["cost"]) + shift[id(r)] for r in group])
        y = np.array([float(r["score"]) for r in group])
        return x, y

    ax = _get_ax(ax, (6.4, 4.2))
    if complete:
        x, y = xy(complete)
        ax.scatter(x, y, s=36, color="C0", label="complete program", zorder=3)
        if annotate:
            for r, xi, yi in zip(complete, x, y, strict=True):
                if r.get("phase") == "greedy" and r is not chosen:
                    ax.annotate(
                        "greedy",
                        (xi, yi),
                        xytext=(0, 7),
                        textcoords="offset points",
                        ha="center",
                        fontsize=8,
                        color="0.3",
                    )
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
    scores = [float(r["score"]) for r in rows]
    lo, hi = min(scores), max(scores)
    pad = max(0.05 * (hi - lo), 0.01)
    ax.set_ylim(lo - pad, hi + pad)
    costs_all = [float(r["cost"]) for r in rows]
    ax.set_xlim(min(costs_all) - 0.5, max(costs_all) + 0.5)
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
        penalty = getattr(estimator, "penalty", None)
        if penalty is None and float(chosen["cost"]) > 0 and "objective" in chosen:
            penalty = (
                float(chosen["objective"]) - (1.0 - float(chosen["score"]))
            ) / float(chosen["cost"])
        if penalty is not None and math.isfinite(penalty):
            costs = [float(r["cost"]) for r in rows]
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
def _scaled_frames(estimator: Any, pre: Any, X: Any) -> np.ndarray:
    """Valid frames (or rows) of ``X`` scaled like the estimator's input."""
    from sklearn_dpads.utils.validation import check_X

    if pre is not None:
        X = pre.transform(X)
    x, lengths, _ = check_X(estimator, X, reset=False)
    if x.ndim == 3:
        valid = np.arange(x.shape[1])[None, :] < lengths[:, None]
        x = x[valid]
    z = (x.astype(np.float64) - estimator.center_) / estimator.scale_
    clip = getattr(estimator, "clip", None)
    if clip is not None:
        z = np.clip(z, -clip, clip)
    return z


def feature_group_importance(estimator: Any, X: Any) -> dict[str, float]:
    """Contribution of every feature group to the affine leaves of the program.

    For each affine leaf of the learned program with weights ``W`` (one row
    per output), the importance of feature ``j`` is the mean over the frames
    of ``X`` (rows for tabular data) of ``sum_o |W[o, j] * z_j|``, where
    ``z = clip((x - center_) / scale_, -clip, clip)`` is the scaled input the
    program sees. Features are summed into their feature group: the leaf's
    own group for an ``affine_<group>`` leaf; for the leaf over all features,
    the first group of the DSL that contains the feature (the feature's name
    if none does). Groups used by several leaves add up.

    This is a simple, model-specific measure: leaves under a window or a
    ``fold`` see window averages and an accumulator rather than raw frames,
    and the accumulator inputs of a ``fold`` leaf are left out.

    Parameters
    ----------
    estimator : ProgramSynthesisClassifier
        A fitted classifier, or a fitted pipeline ending in one (``X`` is
        transformed by the earlier steps), or a fitted search object.
    X : array-like
        Input data in any layout accepted by ``fit``.

    Returns
    -------
    importance : dict of str to float
        Group name to importance, largest first; empty if the program has no
        affine leaf.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    ValueError
        If ``X`` does not match the estimator's input.
    """
    estimator, pre = _unwrap(estimator, "feature_group_importance")
    dsl: DSL = estimator.dsl_
    names = _feature_names(estimator, dsl)
    group_of: dict[int, str] = {}
    for prod in dsl.productions:
        idx = prod.params.get("indices") if prod.kind == "affine" else None
        if idx is not None:
            for j in idx:
                group_of.setdefault(int(j), str(prod.params.get("group") or prod.name))
    leaves = [
        (path, dsl[sub.symbol])
        for path, sub in estimator.program_.walk()
        if sub.symbol in dsl and dsl[sub.symbol].kind == "affine"
    ]
    z = _scaled_frames(estimator, pre, X)
    if z.shape[0] == 0:
        raise ValueError("X has no frames.")
    mean_abs_z = np.abs(z).mean(axis=0)  # |w z| averaged = |w| * mean |z|
    totals: dict[str, float] = {}
    for path, prod in leaves:
        wb = _leaf_weights(estimator, path)
        if wb is None:
            raise TypeError(
                "The estimator's module_ does not expose the program's leaves "
                "(module_.node(path)); cannot compute importances."
            )
        w = wb[0]
        cols = _affine_columns(prod, dsl.n_features, w.shape[1])
        for k, j in enumerate(cols):
            if j is None:  # fold accumulator, not a feature
                continue
            if prod.params.get("indices") is not None:
                g = str(prod.params.get("group") or prod.name)
            else:
                g = group_of.get(j, names[j])
            val = float(np.abs(w[:, k]).sum() * mean_abs_z[j])
            totals[g] = totals.get(g, 0.0) + val
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


def plot_feature_group_importance(
    estimator: Any, X: Any, ax: Axes | None = None
) -> Axes:
    """Bar chart of :func:`feature_group_importance`.

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
    est, _ = _unwrap(estimator, "plot_feature_group_importance")
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
