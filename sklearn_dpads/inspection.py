"""Inspect a fitted classifier: feature-group importance and the scored search.

Everything here computes; :mod:`sklearn_dpads.plotting` draws what it returns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline

from sklearn_dpads.grammar.canonical import canonical_form
from sklearn_dpads.grammar.dsl import DSL
from sklearn_dpads.utils.validation import check_X, real_frame_mask

__all__ = ["feature_group_importance", "unwrap_fitted"]


def unwrap_fitted(estimator: Any, func_name: str) -> tuple[Any, Pipeline | None]:
    """The fitted classifier inside ``estimator`` and the steps before it.

    Parameters
    ----------
    estimator : ProgramSynthesisClassifier, Pipeline or search object
        A fitted classifier, a fitted pipeline ending in one, or a fitted
        search object holding one (``best_estimator_``).
    func_name : str
        Name of the caller, for the error messages.

    Returns
    -------
    classifier : ProgramSynthesisClassifier
        The fitted classifier.
    preprocessor : Pipeline or None
        The pipeline without its last step, if ``estimator`` is a pipeline of
        several steps.

    Raises
    ------
    TypeError
        If ``estimator`` holds no ProgramSynthesisClassifier.
    sklearn.exceptions.NotFittedError
        If the classifier or the search object is not fitted.
    """
    pre, est = None, getattr(estimator, "best_estimator_", estimator)
    if est is estimator and hasattr(est, "refit"):  # an unfitted search object
        raise NotFittedError(
            f"{func_name} needs a fitted search object with a best_estimator_ (fit "
            "it with refit=True first)."
        )
    if isinstance(est, Pipeline):
        pre, est = (est[:-1] if len(est.steps) > 1 else None), est.steps[-1][1]
    if not hasattr(est, "search_history_") and not hasattr(est, "dsl"):
        raise TypeError(
            f"{func_name} expects a fitted ProgramSynthesisClassifier (or a pipeline "
            f"ending in one), got {type(est).__name__}."
        )
    if not hasattr(est, "program_"):
        raise NotFittedError(
            f"This {type(est).__name__} instance is not fitted yet; call 'fit' "
            f"before {func_name}."
        )
    return est, pre


def _feature_names(estimator: Any, dsl: DSL) -> list[str]:
    names = dsl.feature_names or getattr(estimator, "feature_names", None)
    if names is None or len(names) != dsl.n_features:
        return [f"x{j}" for j in range(dsl.n_features)]
    return [str(v) for v in names]


def _read_leaf(estimator: Any, path: tuple[int, ...]):
    """The parameters of the node at ``path`` (None if unreadable)."""
    try:
        return estimator.module_.leaf(path)  # ProgramModule's read API
    except (AttributeError, KeyError, TypeError):
        return None


def _leaf_weights(estimator: Any, path: tuple[int, ...], n_features: int):
    """``(W, b, columns)`` of the affine leaf at ``path`` (None if unreadable), where
    ``columns[k]`` is the feature of ``W[:, k]`` (None: a fold accumulator)."""
    if (leaf := _read_leaf(estimator, path)) is None:
        return None
    cols = [i if i < n_features else None for i in leaf.indices]
    return np.array(leaf.weight, dtype=np.float64), np.array(leaf.bias), cols


def _leaf_terms(estimator: Any, path: tuple[int, ...], prod, n_features: int):
    """``(W, columns)`` of the feature leaf at ``path`` (None if unreadable), where
    ``columns[k]`` holds the features whose product ``W[:, k]`` weighs (None:
    it reads a fold accumulator)."""
    if (leaf := _read_leaf(estimator, path)) is None:
        return None
    cols = [
        c if all(i < n_features for i in c) else None
        for c in prod.kind.weight_inputs(prod, leaf)
    ]
    return np.array(leaf.weight, dtype=np.float64), cols


def feature_group_importance(estimator: Any, X: Any) -> dict[str, float]:
    """Contribution of every feature group to the feature leaves of the program.

    For each affine leaf of the learned program with weights ``W`` (one row
    per output), the importance of feature ``j`` is the mean over the frames
    of ``X`` (rows for tabular data) of ``sum_o |W[o, j] * z_j|`` (for a
    quadratic leaf, its squares and products add ``sum_o |Q[o, ij]| mean
    |z_i z_j|`` to its group), where ``z``
    is the scaled input the program sees, ``estimator.scaler_.transform(x)``
    (``clip((x - center_) / scale_, -clip, clip)``). Features are summed into
    their feature group: the leaf's own group for an ``affine_<group>`` leaf;
    for the leaf over all features, the first group of the DSL that contains
    the feature (the feature's name if none does). Groups used by several
    leaves add up. This is a simple, model-specific measure: leaves under a
    window or a ``fold`` see window averages and an accumulator rather than
    raw frames, and the accumulator inputs of a ``fold`` leaf are left out.

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
    TypeError
        If the estimator's ``module_`` does not expose the program's leaves.
    ValueError
        If ``X`` does not match the estimator's input.
    """
    estimator, pre = unwrap_fitted(estimator, "feature_group_importance")
    dsl: DSL = estimator.dsl_
    names, group_of = _feature_names(estimator, dsl), {}
    for prod in dsl.productions:
        for j in (prod.params.get("indices") if prod.kind.affine_leaf else None) or ():
            group_of.setdefault(int(j), str(prod.params.get("group") or prod.name))
    X = X if pre is None else pre.transform(X)
    x, lengths, _ = check_X(estimator, X, reset=False)
    frames = x[real_frame_mask(lengths, x.shape[1])] if x.ndim == 3 else x
    if frames.shape[0] == 0:
        raise ValueError("X has no frames.")
    z = estimator.scaler_.transform(frames.astype(np.float64))
    # |w z| averaged = |w| * mean |z|; a product term: |w| * mean |z_i z_j|
    mean_abs_z = np.abs(z).mean(axis=0)
    mean_abs: dict[tuple[int, ...], float] = {}

    def mean_abs_of(cols: tuple[int, ...]) -> float:
        if len(cols) == 1:
            return float(mean_abs_z[cols[0]])
        if cols not in mean_abs:
            mean_abs[cols] = float(np.abs(np.prod(z[:, list(cols)], axis=1)).mean())
        return mean_abs[cols]

    totals: dict[str, float] = {}
    for path, sub in estimator.program_.walk():
        prod = dsl[sub.symbol] if sub.symbol in dsl else None
        if prod is None or not (prod.kind.affine_leaf or prod.kind.feature_leaf):
            continue
        if (leaf := _leaf_terms(estimator, path, prod, dsl.n_features)) is None:
            raise TypeError(
                "The estimator's module_ does not expose the program's leaves "
                "(module_.leaf(path)); cannot compute importances."
            )
        own = prod.params.get("group") or prod.name  # the leaf's own group, if any
        own = str(own) if prod.params.get("indices") is not None else None
        for k, cols in enumerate(leaf[1]):
            if cols is not None:  # None: a fold accumulator, not a feature
                g = own or group_of.get(cols[0], names[cols[0]])
                val = float(np.abs(leaf[0][:, k]).sum() * mean_abs_of(cols))
                totals[g] = totals.get(g, 0.0) + val
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


#: The history's phases whose rows are scored candidates.
_CANDIDATE_PHASES = ("greedy", "select", "refine", "grow")


def _search_points(history: Sequence[Mapping], program=None, penalty=None, dsl=None):
    """``(rows, complete, partial, chosen, penalty)`` of a search history: the
    candidate rows (selection, refinement, local search) with a finite score and
    cost, split by completeness; the last row of ``program`` (with ``dsl``, the
    last row whose canonical form is ``program`` when none is ``program``
    itself: the fit folds redundant leaves of the search's winner; without a
    program, the complete row of lowest objective) or None; and the selection
    penalty: the row's own, else ``penalty``, else inferred (older rows)."""
    if bad := [r for r in history if not isinstance(r, Mapping)]:
        raise TypeError(
            "A search history is a list of dicts (search_history_), got an element "
            f"of type {type(bad[0]).__name__}."
        )
    rows = [r for r in history if r.get("phase") in _CANDIDATE_PHASES and _finite(r)]
    complete = [r for r in rows if r.get("complete")]
    partial = [r for r in rows if not r.get("complete")]
    if program is not None:
        mine = [r for r in complete if r.get("program") == program]
        if not mine and dsl is not None:
            mine = [
                r
                for r in complete
                if r.get("program") is not None
                and canonical_form(r["program"], dsl) == program
            ]
        chosen = mine[-1] if mine else None
    else:
        chosen = min(complete, key=lambda r: r.get("objective", math.inf), default=None)
    if chosen is not None and chosen.get("penalty") is not None:
        penalty = float(chosen["penalty"])
    elif chosen is not None and penalty is None and float(chosen["cost"]) > 0:
        if "objective" in chosen:
            loss = 1.0 - float(chosen["score"])
            penalty = (float(chosen["objective"]) - loss) / float(chosen["cost"])
    return rows, complete, partial, chosen, penalty


def _finite(row: Mapping) -> bool:
    values = (row.get("score"), row.get("cost"))
    return all(v is not None and math.isfinite(float(v)) for v in values)
