"""A fitted program in shippable forms: the object ``export_program()`` returns."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sklearn_dpads.export.python import (
    ScalerLike,
    load_python_program,
    to_python_source,
)
from sklearn_dpads.program import Program
from sklearn_dpads.semantics.compile import ProgramModule

__all__ = ["ExportedProgram", "build_export"]


@dataclass
class ExportedProgram:
    """A fitted program in shippable forms.

    :attr:`source` and :meth:`make_stream` take the input of what was
    exported: ``clf.export_program()`` gives a program of the input the
    classifier itself receives (inside a pipeline, the output of the steps
    before it: a pipeline's other steps are not in it), while
    :func:`~sklearn_dpads.export.export_program` of a fitted
    :class:`~sklearn.pipeline.Pipeline` folds its scalers in, so that the
    program takes the pipeline's raw input.

    Parameters
    ----------
    program : Program
        The discrete program (``str()`` gives its s-expression).
    text : str
        Readable form with feature-group names.
    source : str
        Standalone Python (standard library only) defining ``predict(X)``,
        ``predict_proba(X)`` and ``decision_function(X)`` and, for sequence
        input, ``make_stream()`` (frames one at a time, see
        :meth:`make_stream`).
    _module : ProgramModule, optional
        The compiled program :attr:`expression` is computed from.
    _feature_names : list of str, optional
        Names of the symbols of :attr:`expression`.
    _expression : sympy expression, optional
        Cache of :attr:`expression`.
    _loaded : module, optional
        Cache of :attr:`source` loaded by :meth:`make_stream`.
    """

    program: Program
    text: str
    source: str
    _module: Any = field(repr=False, default=None)
    _feature_names: Any = field(repr=False, default=None)
    _expression: Any = field(repr=False, default=None)
    _loaded: Any = field(repr=False, default=None, compare=False)

    @property
    def expression(self):
        """The program's logit(s) as a sympy expression (computed on first access)."""
        if self._expression is None:
            from sklearn_dpads.export.sympy import to_sympy

            self._expression = to_sympy(self._module, feature_names=self._feature_names)
        return self._expression

    def make_stream(self) -> Any:
        """A new stream of :attr:`source`: the program on frames one at a time.

        The same object as ``make_stream()`` of the saved file returns (the
        source runs here as it would anywhere, with the standard library
        only): ``push(frame)`` checks and preprocesses one frame (a sequence
        of ``n_features`` numbers), advances the program's state and returns
        the predicted class label after it; ``proba()`` and ``decision()``
        give the class probabilities and the decision value after the last
        frame, equal to ``predict_proba`` and ``decision_function`` of the
        frames pushed so far (per-frame programs: at the last frame;
        per-sequence programs: of the sequence so far); ``reset()`` starts a
        new sequence. A per-frame program that reads ``DELAY`` frames ahead
        (the classifier's ``future_frames_``) decides each frame ``DELAY``
        frames late: ``push`` returns None for the first ``DELAY`` frames,
        then the label of frame ``n_frames - 1 - DELAY``, ``proba()`` and
        ``decision()`` are of that frame, and ``flush()`` at the end of the
        sequence returns the labels of its last ``DELAY`` frames.

        Returns
        -------
        Stream
            A fresh stream (no frame pushed yet).

        Raises
        ------
        ValueError
            If the program takes tabular rows rather than sequences.
        """
        if self._loaded is None:
            self._loaded = load_python_program(self.source)
        if not hasattr(self._loaded, "make_stream"):
            raise ValueError(
                "This program takes tabular rows, not sequences of frames: it has "
                "no streaming form; call predict on the rows instead."
            )
        return self._loaded.make_stream()

    def save(self, path: str | os.PathLike) -> None:
        """Write :attr:`source` to ``path`` (a ``.py`` file importable anywhere).

        Parameters
        ----------
        path : str or path-like
            The file to write (UTF-8).
        """
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.source)

    def __str__(self) -> str:
        return self.text


def build_export(
    module: ProgramModule,
    *,
    classes: Sequence[Any],
    scaler: ScalerLike | None = None,
    feature_names: Sequence[str] | None = None,
    logit_offset: float = 0.0,
    units: Mapping[str, str] | None = None,
    frame_rate: float | None = None,
    future_frames: int = 0,
) -> ExportedProgram:
    """Bundle a fitted program as text, standalone Python and (lazily) sympy.

    Parameters
    ----------
    module : ProgramModule
        The compiled, trained program; its ``program`` and ``dsl`` give
        :attr:`ExportedProgram.program` and :attr:`ExportedProgram.text`.
    classes : sequence
        The class labels, in the order of the logits (see
        :func:`~sklearn_dpads.export.to_python_source`).
    scaler : ScalerLike, optional
        The fitted input scaler (``center_``, ``scale_``, ``clip``), e.g. the
        estimator's ``scaler_``; None for no preprocessing.
    feature_names : sequence of str, optional
        Names for the source's comments and the expression's symbols
        (default: the DSL's).
    logit_offset : float, default=0.0
        Added to a binary program's logit (the tuned decision threshold).
    units : dict of str to str, optional
        Units of some features, by feature name, for the source's docstring.
    frame_rate : float, optional
        Frames per second, for the docstring's windows in seconds.
    future_frames : int, default=0
        Per-frame programs: the frames after a frame that its decision reads
        (the estimator's ``future_frames_``, see
        :func:`~sklearn_dpads.export.to_python_source`).

    Returns
    -------
    ExportedProgram
        ``program``, ``text``, ``source``, and ``expression`` on first access.
    """
    if feature_names is not None:
        feature_names = [str(name) for name in feature_names]
    source = to_python_source(
        module,
        classes=list(classes),
        scaler=scaler,
        feature_names=feature_names,
        logit_offset=logit_offset,
        units=units,
        frame_rate=frame_rate,
        future_frames=future_frames,
    )
    program = module.program
    return ExportedProgram(
        program, program.pretty(module.dsl), source, module, feature_names
    )
