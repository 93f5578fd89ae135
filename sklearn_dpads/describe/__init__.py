"""A fitted program in plain words, in the input's own units, and why it predicted.

:func:`describe_program` writes what a compiled program computes as numbered
sentences (:class:`ProgramDescription`): thresholds and weights in the input's
units through the fitted scaler (clipping included), windows in frames and
seconds, soft if-then-else as the range over which it blends, linear forms
by their largest terms, folds as the exponentially weighted averages they
are. Every production says what it computes through its kind's
:meth:`~sklearn_dpads.grammar.Kind.describe` hook; what a kind cannot
simplify is said to be so. :func:`explain_program` splits each prediction's
decision score into the additive contributions of the program's terms
(:meth:`~sklearn_dpads.grammar.Kind.explain`), with the branch every
if-then-else took (:class:`ProgramExplanation`, one :class:`Reason` per
prediction).

``ProgramSynthesisClassifier.describe`` and ``.explain`` call these with the
fitted estimator's program, scaler, classes and decision threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sklearn_dpads.describe._describer import Describer
from sklearn_dpads.describe._explain import (
    ExplainedCondition,
    ExplainedTerm,
    ProgramExplanation,
    Reason,
    explain_module,
)
from sklearn_dpads.describe._words import (
    Context,
    DescribedCondition,
    DescribedTerm,
    DescribedWindow,
    ProgramDescription,
    Writer,
)
from sklearn_dpads.semantics.compile import ProgramModule
from sklearn_dpads.utils._sequences import check_future_frames, delay_sequences

__all__ = [
    "DescribedCondition",
    "DescribedTerm",
    "DescribedWindow",
    "ExplainedCondition",
    "ExplainedTerm",
    "ProgramDescription",
    "ProgramExplanation",
    "Reason",
    "describe_program",
    "explain_program",
]


def _label_type(module: ProgramModule) -> str:
    hole = module.hole
    if hole.output.is_seq:
        return "frame"
    return "sequence" if hole.input.is_seq else "row"


def _context(
    module: ProgramModule,
    scaler: Any,
    classes: Sequence[Any] | None,
    feature_names: Sequence[str] | None,
    logit_offset: float,
    units: Mapping[str, str] | None,
    frame_rate: float | None,
    future_frames: int = 0,
) -> Context:
    if not isinstance(module, ProgramModule):
        raise TypeError(f"Expected a ProgramModule, got {type(module).__name__}.")
    if feature_names is None:
        feature_names = module.dsl.feature_names
    k = module.hole.output.size
    if classes is not None and len(classes) != (2 if k == 1 else k):
        raise ValueError(
            f"The program has {k} output(s), so it needs {2 if k == 1 else k} "
            f"classes; got {len(classes)}."
        )
    return Context(
        module.dsl.n_features,
        feature_names,
        units,
        frame_rate,
        scaler,
        classes,
        float(logit_offset) if k == 1 else 0.0,
        _label_type(module),
        check_future_frames(future_frames, module.hole),
    )


def describe_program(
    module: ProgramModule,
    *,
    scaler: Any = None,
    classes: Sequence[Any] | None = None,
    feature_names: Sequence[str] | None = None,
    logit_offset: float = 0.0,
    units: Mapping[str, str] | None = None,
    frame_rate: float | None = None,
    future_frames: int = 0,
) -> ProgramDescription:
    """Describe a compiled program in plain words, in the input's own units.

    Parameters
    ----------
    module : ProgramModule
        The compiled, trained program.
    scaler : object, optional
        The fitted scaler the program's input went through (``center_``,
        ``scale_``, ``clip``, optionally ``clip_low_`` and ``clip_high_``),
        e.g. the estimator's ``scaler_``: thresholds and weights are mapped
        back through it. None: the program reads the input as it is.
    classes : sequence, optional
        The class labels, in the order of the logits (two for one logit);
        default ``0`` and ``1``.
    feature_names : sequence of str, optional
        Names of the features (default the DSL's, else ``x0``, ``x1``, ...).
    logit_offset : float, default=0.0
        Added to a binary program's logit (the tuned decision threshold).
    units : dict of str to str, optional
        Units of some features, by feature name (``{"distance": "mm"}``).
    frame_rate : float, optional
        Frames per second: windows are then also given in seconds.
    future_frames : int, default=0
        Per-frame programs: the frames after a frame that its decision reads
        (the estimator's ``future_frames_``); frames are then named from the
        labelled frame ``t`` (``t+3`` after it).

    Returns
    -------
    ProgramDescription
        ``str()`` gives numbered sentences; ``.conditions``, ``.windows``,
        ``.terms`` the same content as data; ``.to_markdown()``.

    Raises
    ------
    TypeError
        If ``module`` is not a ProgramModule, ``units`` is not a dict of
        strings, ``frame_rate`` is not a number or ``future_frames`` not an int.
    ValueError
        If ``units`` names an unknown feature, ``frame_rate`` is not positive,
        the classes do not match the program's outputs, or ``future_frames``
        is negative or set for a program without per-frame output.
    """
    ctx = _context(
        module,
        scaler,
        classes,
        feature_names,
        logit_offset,
        units,
        frame_rate,
        future_frames,
    )
    describer = Describer(module)
    expr = describer.describe()
    return Writer(
        ctx, expr, describer.windows, module.program.pretty(module.dsl)
    ).write()


def _scale(x: np.ndarray, scaler: Any, n_features: int) -> np.ndarray:
    """``clip((x - center_) / scale_)`` as the estimator's scaler does (float64)."""
    z = np.asarray(x, dtype=np.float64)
    if scaler is None:
        return z
    z = (z - np.asarray(scaler.center_, dtype=float)) / np.asarray(
        scaler.scale_, dtype=float
    )
    low = getattr(scaler, "clip_low_", None)
    if low is not None:
        z = np.clip(z, np.asarray(low, dtype=float), np.asarray(scaler.clip_high_))
    if scaler.clip is not None:
        z = np.clip(z, -float(scaler.clip), float(scaler.clip))
    return z


def explain_program(
    module: ProgramModule,
    X: np.ndarray,
    lengths: np.ndarray | None = None,
    *,
    scaler: Any = None,
    classes: Sequence[Any] | None = None,
    feature_names: Sequence[str] | None = None,
    logit_offset: float = 0.0,
    units: Mapping[str, str] | None = None,
    frame_rate: float | None = None,
    scaled: bool = False,
    future_frames: int = 0,
) -> ProgramExplanation:
    """Split a compiled program's predictions into its terms' contributions.

    Parameters
    ----------
    module : ProgramModule
        The compiled, trained program.
    X : ndarray
        ``(n, T, n_features)`` sequences (frames past ``lengths`` are
        padding) or ``(n, n_features)`` rows, in the input's units (or
        already scaled, with ``scaled=True``).
    lengths : ndarray of shape (n,), optional
        Real frames per sequence (default all ``T``).
    scaler : object, optional
        The fitted scaler the program's input goes through (see
        :func:`describe_program`); ``X`` is scaled with it unless ``scaled``.
    classes : sequence, optional
        The class labels, in the order of the logits.
    feature_names : sequence of str, optional
        Names of the features.
    logit_offset : float, default=0.0
        Added to a binary program's logit; it is the last term.
    units : dict of str to str, optional
        Units of some features, by feature name.
    frame_rate : float, optional
        Frames per second.
    scaled : bool, default=False
        ``X`` already went through ``scaler`` (it is then only used for the
        words).
    future_frames : int, default=0
        Per-frame programs: the frames after a frame that its decision reads
        (the estimator's ``future_frames_``). Every sequence is extended by
        that many copies of its last frame, as in ``predict``, and frame
        ``t``'s explanation is the program's output at ``t + future_frames``.

    Returns
    -------
    ProgramExplanation
        ``.contributions`` (they add up to ``.decision``, the decision
        function), ``.gates`` and ``.condition_values`` of every ``ite``, and
        one :class:`Reason` per prediction (``expl[i]``).

    Raises
    ------
    TypeError, ValueError
        As :func:`describe_program`; ValueError also if ``X`` does not have
        the program's number of features or ``lengths`` does not fit it.
    """
    ctx = _context(
        module,
        scaler,
        classes,
        feature_names,
        logit_offset,
        units,
        frame_rate,
        future_frames,
    )
    describer = Describer(module)
    description = Writer(
        ctx, describer.describe(), describer.windows, module.program.pretty(module.dsl)
    ).write()
    x = np.asarray(X, dtype=np.float64)
    n_features = module.dsl.n_features
    seq = module.hole.input.is_seq
    if x.ndim != (3 if seq else 2) or x.shape[-1] != n_features:
        want = "(n, T, n_features)" if seq else "(n, n_features)"
        raise ValueError(
            f"X must be {want} with n_features={n_features}, got shape {x.shape}."
        )
    if seq:
        if lengths is None:
            lengths = np.full(x.shape[0], x.shape[1], dtype=np.int64)
        lengths = np.asarray(lengths, dtype=np.int64)
        if (
            lengths.shape != (x.shape[0],)
            or (lengths < 1).any()
            or (lengths > x.shape[1]).any()
        ):
            raise ValueError(
                f"lengths must hold one length in [1, {x.shape[1]}] per sequence."
            )
        real = np.arange(x.shape[1])[None, :] < lengths[:, None]
        z = np.zeros_like(x)
        z[real] = x[real] if scaled else _scale(x[real], scaler, n_features)
    else:
        lengths = None
        z = x if scaled else _scale(x, scaler, n_features)
    k = module.hole.output.size
    if classes is None:
        classes = [0, 1] if k == 1 else list(range(k))
    d = ctx.delay
    zd, lengths_d = delay_sequences(z, lengths, d)
    expl = explain_module(
        module, zd, lengths_d, ctx, description, classes=np.asarray(classes)
    )
    if not d:
        return expl
    T = z.shape[1]
    # frame t's decision is the output at t + d: drop the first d outputs
    for name in (
        "contributions",
        "quantities",
        "decision",
        "condition_values",
        "gates",
    ):
        setattr(expl, name, getattr(expl, name)[:, d : d + T])
    expl.lengths = lengths
    return expl
