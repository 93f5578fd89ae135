"""``plot_feature_group_importance``: a bar chart of feature-group importance."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from sklearn_dpads.inspection import feature_group_importance, unwrap_fitted
from sklearn_dpads.plotting._axes import _get_ax

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["plot_feature_group_importance"]


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
