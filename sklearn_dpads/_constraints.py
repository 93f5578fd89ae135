"""The estimator's parameter constraints, and their check outside ``fit``.

``ProgramSynthesisClassifier._parameter_constraints`` is
:data:`PARAMETER_CONSTRAINTS`; scikit-learn's ``fit`` context checks it.
"""

from __future__ import annotations

import numbers
from typing import Any

import torch

from sklearn_dpads.grammar.dsl import DSL
from sklearn_dpads.utils._sklearn_compat import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)

__all__ = ["PARAMETER_CONSTRAINTS", "check_parameter"]

#: The estimator's parameter constraints (checked by scikit-learn's ``fit`` context).
PARAMETER_CONSTRAINTS: dict = {
    "dsl": [DSL, None],
    "feature_groups": [dict, None],
    "feature_names": ["array-like", None],
    "extra_productions": [list, tuple, None],
    "max_depth": [Interval(numbers.Integral, 1, 12, closed="both")],
    "unfold_step": [Interval(numbers.Integral, 1, None, closed="left")],
    "top_n": [Interval(numbers.Integral, 1, None, closed="left")],
    "penalty": [Interval(numbers.Real, 0, None, closed="left")],
    "search_epochs": [Interval(numbers.Integral, 0, None, closed="left")],
    "prune_epochs": [Interval(numbers.Integral, 0, None, closed="left")],
    "selection_epochs": [Interval(numbers.Integral, 0, None, closed="left")],
    "program_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
    "finetune_epochs": [Interval(numbers.Integral, 0, None, closed="left")],
    "grow_steps": [Interval(numbers.Integral, 0, None, closed="left")],
    "max_selection_steps": [Interval(numbers.Integral, 0, None, closed="left")],
    "lr": [Interval(numbers.Real, 0, None, closed="neither")],
    "arch_lr": [Interval(numbers.Real, 0, None, closed="left")],
    "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
    "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
    "loss": [StrOptions({"cross_entropy", "soft_f1"})],
    "class_weight": [StrOptions({"balanced"}), dict, None],
    "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
    "normalize": [StrOptions({"robust", "standard"}), None],
    "clip": [Interval(numbers.Real, 0, None, closed="neither"), None],
    "threshold": [
        StrOptions({"auto"}),
        Interval(numbers.Real, 0, 1, closed="neither"),
        None,
    ],
    "future_frames": [
        StrOptions({"auto"}),
        Interval(numbers.Integral, 0, None, closed="left"),
    ],
    "share_nodes": ["boolean"],
    "ite_beta": [Interval(numbers.Real, 0, None, closed="neither")],
    "max_search_samples": [
        Interval(numbers.Integral, 2, None, closed="left"),
        None,
    ],
    "max_search_frames": [
        Interval(numbers.Integral, 2, None, closed="left"),
        None,
    ],
    "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left"), None],
    "max_time": [Interval(numbers.Real, 0, None, closed="neither"), None],
    "n_jobs": [numbers.Integral, None],
    "n_threads": [Interval(numbers.Integral, 1, None, closed="left"), None],
    "device": [str, torch.device],
    "predict_chunk_frames": [Interval(numbers.Integral, 1, None, closed="left"), None],
    "verbose": ["verbose"],
    "random_state": ["random_state"],
}


def check_parameter(estimator: Any, name: str) -> None:
    """Validate one parameter of ``estimator`` by scikit-learn's validator.

    For parameters read outside ``fit``, which may be set after it (such as
    ``predict_chunk_frames``): the same check, and the same
    ``InvalidParameterError``, as in ``fit``.

    Parameters
    ----------
    estimator : ProgramSynthesisClassifier
        The estimator; its ``_parameter_constraints[name]`` is checked.
    name : str
        The parameter.

    Raises
    ------
    sklearn.utils._param_validation.InvalidParameterError
        If the value does not satisfy the constraint.
    """
    validate_parameter_constraints(
        {name: estimator._parameter_constraints[name]},
        {name: getattr(estimator, name)},
        caller_name=type(estimator).__name__,
    )
