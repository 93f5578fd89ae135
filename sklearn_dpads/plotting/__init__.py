"""Pictures of learned programs, of the search, of feature-group importance, of bouts.

All functions draw with matplotlib only (no graphviz) and return the
:class:`matplotlib.axes.Axes` they drew on. matplotlib is an optional
dependency (``pip install sklearn-dpads[plot]``): it is imported when a
function is called, not when this module is imported.

The functions that picture a model accept a fitted
:class:`~sklearn_dpads.ProgramSynthesisClassifier`,
a fitted :class:`~sklearn.pipeline.Pipeline` ending in one, or a fitted
search object with a ``best_estimator_`` (such as
:class:`~sklearn.model_selection.GridSearchCV`). The numbers they draw come
from :mod:`sklearn_dpads.inspection` (``feature_group_importance`` is still
importable from here). :func:`plot_ethogram` draws per-frame labels instead:
the bouts (:mod:`sklearn_dpads.bouts`) of true and predicted labels over time.
"""

from sklearn_dpads.inspection import feature_group_importance
from sklearn_dpads.plotting._ethogram import plot_ethogram
from sklearn_dpads.plotting._filters import plot_temporal_filters
from sklearn_dpads.plotting._importance import plot_feature_group_importance
from sklearn_dpads.plotting._program import plot_program
from sklearn_dpads.plotting._search import plot_search

__all__ = [
    "feature_group_importance",
    "plot_ethogram",
    "plot_feature_group_importance",
    "plot_program",
    "plot_search",
    "plot_temporal_filters",
]
