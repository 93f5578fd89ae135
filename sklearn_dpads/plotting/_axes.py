"""The Axes a plot draws on: the one given, or that of a new figure."""

from __future__ import annotations


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
