"""``plot_program``: a program as a tree of production boxes."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from sklearn_dpads.grammar.dsl import DSL
from sklearn_dpads.inspection import _feature_names, _leaf_weights, unwrap_fitted
from sklearn_dpads.plotting._axes import _get_ax
from sklearn_dpads.plotting._kinds import _is_affine, _node_label, _role
from sklearn_dpads.program import Program

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["plot_program"]

# Box colours by role of the production in the program.
_COLOURS = {
    "sequence": "#cfe2f3",  # map, map_prefixes, fold, windows, diff: walk over frames
    "combine": "#fce5cd",  # add, multiply, ite, user element-wise functions
    "leaf": "#d9ead3",  # affine leaves, temporal filters and constants
}


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
            if _is_affine(sub.symbol, dsl):
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
        box["facecolor"] = _COLOURS[_role(sub.symbol, dsl, not sub.children)]
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
