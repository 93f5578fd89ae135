"""Export of a fitted classifier or pipeline, its scalers folded into one.

:func:`export_program` is what ``ProgramSynthesisClassifier.export_program``
calls. The steps of a pipeline before the classifier must be
:class:`~sklearn_dpads.preprocessing.SequenceStandardScaler` transformers (or
``"passthrough"``), whose per-feature maps, with the classifier's own
``scaler_``, compose into the one preprocessing of the exported source
(:func:`fold_scalers`). This layer imports neither the estimator nor the
scaler: the classifier is recognised by its parameters, a scaler by its
class's module and name (exactly, not a subclass: one may transform
otherwise), and both are read as :class:`ScalerLike` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from sklearn_dpads.export._bundle import ExportedProgram, build_export
from sklearn_dpads.export.python import ScalerLike

__all__ = ["FoldedScaler", "export_program", "fold_scalers"]

# parameters that make an estimator a ProgramSynthesisClassifier here, and the
# fitted attributes its export reads
_CLASSIFIER_PARAMS = frozenset({"dsl", "normalize", "clip", "predict_chunk_frames"})
_FITTED = ["module_", "scaler_", "classes_", "logit_offset_", "dsl_"]
# the one transformer whose map the export folds (module, class name)
_SCALER = ("sklearn_dpads.preprocessing", "SequenceStandardScaler")


@dataclass(frozen=True)
class FoldedScaler:
    """Scalers applied one after the other, as one :class:`ScalerLike`.

    Every feature ``j`` becomes ``(x - center_[j]) / scale_[j]``, clipped to
    ``[clip_low_[j], clip_high_[j]]`` when the bounds are set, then to
    ``[-clip, clip]`` unless ``clip`` is None.

    Parameters
    ----------
    center_ : ndarray of shape (n_features,)
        Per-feature centres of the composed affine map.
    scale_ : ndarray of shape (n_features,)
        Per-feature scales of the composed affine map.
    clip : float or None, default=None
        Symmetric bound, when the clipping of the chain is one.
    clip_low_ : ndarray of shape (n_features,) or None, default=None
        Per-feature lower bounds (None: none).
    clip_high_ : ndarray of shape (n_features,) or None, default=None
        Per-feature upper bounds (None: none).
    """

    center_: np.ndarray
    scale_: np.ndarray
    clip: float | None = None
    clip_low_: np.ndarray | None = None
    clip_high_: np.ndarray | None = None


def fold_scalers(scalers: Sequence[ScalerLike]) -> FoldedScaler:
    """Compose fitted per-feature scalers, first one first, into one.

    Each scaler maps a feature to ``clip((x - center_) / scale_, -clip,
    clip)``. Such maps compose into one affine map followed by per-feature
    bounds: ``(x - C) / S`` with ``C = c1 + c2 * s1`` and ``S = s1 * s2``
    for two scalers, and each clipping bound carried through the later
    affine maps. Where the bounds come out as one ``[-k, k]`` (only the last
    scaler that is not the identity clips), the result has ``clip = k`` and
    no per-feature bounds, so a single scaler folds into its own
    ``center_``, ``scale_`` and ``clip`` exactly.

    Parameters
    ----------
    scalers : sequence of ScalerLike
        Fitted scalers with ``center_``, ``scale_`` (non-zero) and ``clip``,
        all over the same features, in the order they are applied.

    Returns
    -------
    FoldedScaler
        The composition (equal to applying the scalers in turn, up to
        floating-point rounding).

    Raises
    ------
    ValueError
        If ``scalers`` is empty or their numbers of features differ.
    """
    if len(scalers) == 0:
        raise ValueError("fold_scalers needs at least one scaler.")
    center = scale = low = high = None
    for i, scaler in enumerate(scalers):
        c = np.asarray(scaler.center_, dtype=np.float64).ravel()
        s = np.asarray(scaler.scale_, dtype=np.float64).ravel()
        if center is None:
            center, scale = c, s
            high = np.ones_like(c) * np.inf
            low = -high
        elif c.shape != center.shape or s.shape != center.shape:
            raise ValueError(
                f"Scaler {i} has {c.size} features, but scaler 0 has {center.size}."
            )
        else:
            center, scale = center + c * scale, scale * s
        with np.errstate(invalid="ignore", divide="ignore"):
            a, b = (low - c) / s, (high - c) / s
        low, high = np.minimum(a, b), np.maximum(a, b)  # a negative scale swaps
        if scaler.clip is not None:
            k = float(scaler.clip)
            low, high = np.clip(low, -k, k), np.clip(high, -k, k)
    if np.isinf(low).all() and np.isinf(high).all():
        return FoldedScaler(center, scale)
    k = float(high[0])
    if k > 0 and (high == k).all() and (low == -k).all():  # one symmetric clip
        return FoldedScaler(center, scale, clip=k)
    return FoldedScaler(center, scale, clip_low_=low, clip_high_=high)


def _check_classifier(estimator: Any, where: str) -> None:
    """TypeError unless ``estimator`` is a ProgramSynthesisClassifier (by its parameters)."""
    if not (
        isinstance(estimator, BaseEstimator)
        and _CLASSIFIER_PARAMS <= estimator.get_params(deep=False).keys()
    ):
        raise TypeError(
            f"export_program expects a fitted ProgramSynthesisClassifier or a "
            f"Pipeline ending in one; {where} is {type(estimator).__name__}."
        )


def export_program(
    estimator: Any,
    *,
    units: Mapping[str, str] | None = None,
    frame_rate: float | None = None,
) -> ExportedProgram:
    """Export a fitted classifier, or a fitted pipeline ending in one, as one program.

    The exported source takes what ``estimator`` takes: for a
    :class:`~sklearn.pipeline.Pipeline`, the raw input of its first step, as
    the scaling of every :class:`~sklearn_dpads.preprocessing.SequenceStandardScaler`
    step is folded, with the classifier's own ``scaler_``, into the source's
    preprocessing. Its ``predict``, ``predict_proba``, ``decision_function``
    and streaming form then equal the pipeline's (up to floating-point
    rounding). Exporting ``pipe[-1]`` instead gives a program that expects
    the input the classifier receives, after the other steps.

    Parameters
    ----------
    estimator : ProgramSynthesisClassifier or Pipeline
        A fitted :class:`~sklearn_dpads.ProgramSynthesisClassifier`, or a
        fitted pipeline whose last step is one and whose other steps are
        fitted ``SequenceStandardScaler`` transformers, ``"passthrough"`` or
        None.
    units : dict of str to str, optional
        Units of some features, by feature name (``{"distance": "mm"}``): the
        source's docstring, the program in plain words, then gives thresholds
        and weights in them, as ``clf.describe(units=...)`` does.
    frame_rate : float, optional
        Frames per second of the sequences: the docstring gives windows in
        seconds too.

    Returns
    -------
    ExportedProgram
        ``.expression`` (sympy, over the classifier's scaled input),
        ``.source`` (standard-library Python with ``predict`` /
        ``predict_proba`` and, for sequence input, ``make_stream()``),
        ``.text`` and ``.program``.

    Raises
    ------
    TypeError
        If ``estimator`` is neither, the pipeline's last step is not a
        ProgramSynthesisClassifier, or another step cannot be folded (the
        message names it); if ``units`` is not a dict of strings or
        ``frame_rate`` not a number.
    ValueError
        If ``units`` names a feature the program does not have, or
        ``frame_rate`` is not positive.
    sklearn.exceptions.NotFittedError
        If the pipeline, the classifier or a scaler step is not fitted.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_dpads import ProgramSynthesisClassifier, SequenceStandardScaler
    >>> from sklearn_dpads.export import export_program
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 8, 2) * 10 + 3
    >>> y = (X[:, -4:, 0].mean(axis=1) > 3).astype(int)
    >>> clf = ProgramSynthesisClassifier(max_depth=2, grow_steps=0, random_state=0)
    >>> pipe = make_pipeline(SequenceStandardScaler(), clf).fit(X, y)
    >>> program = export_program(pipe).make_stream()  # raw frames in
    >>> labels = [program.push(frame) for frame in X[0]]
    >>> bool(labels[-1] == pipe.predict(X[:1])[0])
    True
    """
    stages: list[Any] = []
    if not isinstance(estimator, Pipeline):
        clf = estimator
        _check_classifier(clf, "it")
    else:
        if not estimator.steps:
            raise TypeError("export_program cannot export an empty Pipeline.")
        *steps, (last, clf) = estimator.steps
        _check_classifier(clf, f"the pipeline's last step {last!r}")
        check_is_fitted(estimator)
        for name, step in steps:
            if step is None or (isinstance(step, str) and step == "passthrough"):
                continue
            if (type(step).__module__, type(step).__qualname__) != _SCALER:
                raise TypeError(
                    f"export_program cannot fold the pipeline step {name!r} "
                    f"({type(step).__name__}) into the exported program: only "
                    "SequenceStandardScaler steps (and 'passthrough') may come "
                    "before the ProgramSynthesisClassifier. Export the classifier "
                    f"alone with pipe[-1].export_program() and apply {name!r} to "
                    "its input yourself."
                )
            check_is_fitted(step)
            stages.append(step)
    check_is_fitted(clf, _FITTED)
    stages.append(clf.scaler_)
    names = clf.dsl_.feature_names
    if names is None and clf.feature_names is not None:
        names = [str(n) for n in clf.feature_names]
    if names is None and stages[:-1]:  # a pipeline fitted on a DataFrame
        names = getattr(estimator, "feature_names_in_", None)
    return build_export(
        clf.module_,
        classes=clf.classes_,
        scaler=clf.scaler_ if len(stages) == 1 else fold_scalers(stages),
        feature_names=names,
        logit_offset=clf.logit_offset_,
        units=units,
        frame_rate=frame_rate,
        future_frames=int(getattr(clf, "future_frames_", 0)),
    )
