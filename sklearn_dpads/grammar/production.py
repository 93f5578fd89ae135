"""Productions: the typed building blocks of programs.

A :class:`Production` is pure data: a name, a
:class:`~sklearn_dpads.grammar.kind.Kind`, an arity and the kind's
parameters. Everything a production means (its typing and display, its torch
module, its exports) is its kind's; the built-in kinds and their factories
(``map_production``, ``affine_production``, ...) are in
:mod:`sklearn_dpads.kinds`. User productions, made by
:func:`~sklearn_dpads.make_production`, share the ``elementwise`` kind and
carry opaque callables.
"""

from __future__ import annotations

import keyword
import math
import operator
import re
from dataclasses import dataclass, field
from typing import Any

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.grammar.kind import Kind
from sklearn_dpads.grammar.types import FunctionType

__all__ = ["Production", "check_name", "check_feature_indices", "check_length"]

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_name(name: Any) -> str:
    """Validate a production name: a Python identifier that is not a keyword.

    Parameters
    ----------
    name : object
        The candidate name.

    Returns
    -------
    str
        ``name``.

    Raises
    ------
    GrammarError
        If ``name`` is not a valid identifier.
    """
    if not isinstance(name, str) or not _NAME_RE.match(name) or keyword.iskeyword(name):
        raise GrammarError(
            f"Invalid production name {name!r}: use letters, digits and underscores, "
            "starting with a letter or underscore."
        )
    return name


def check_length(value: Any, what: str) -> int:
    """Validate a number of frames: an int >= 1 (not a bool).

    Parameters
    ----------
    value : object
        The candidate length.
    what : str
        What it is, for the error message (``"Filter length of 'f'"``).

    Returns
    -------
    int
        ``value``.

    Raises
    ------
    GrammarError
        If ``value`` is not an int >= 1.
    """
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise GrammarError(f"{what} must be an int >= 1, got {value!r}.")
    return value


def check_feature_indices(name: str, indices: Any) -> tuple[int, ...] | None:
    """Validate the feature ``indices`` of leaf ``name``: None or distinct ints >= 0.

    Parameters
    ----------
    name : str
        The leaf's name, for error messages.
    indices : iterable of int or None
        The features it reads (None: all).

    Returns
    -------
    tuple of int or None
        The indices as a tuple of ints.

    Raises
    ------
    GrammarError
        If ``indices`` is empty, repeats an index, or holds a negative or
        non-integer entry.
    """
    if indices is None:
        return None
    try:
        raw = list(indices)
    except TypeError:
        raise GrammarError(f"indices of {name!r} must be a list of ints.") from None
    idx = []
    for i in raw:
        if isinstance(i, bool):
            raise GrammarError(f"Feature index {i!r} of {name!r} is not an integer.")
        try:
            i = operator.index(i)
        except TypeError:
            raise GrammarError(
                f"Feature index {i!r} of {name!r} is not an integer."
            ) from None
        if i < 0:
            raise GrammarError(f"Feature index {i} of {name!r} is negative.")
        idx.append(int(i))
    if not idx:
        raise GrammarError(f"Feature group of {name!r} is empty.")
    if len(set(idx)) != len(idx):
        raise GrammarError(f"Feature group of {name!r} repeats an index: {idx}.")
    return tuple(idx)


@dataclass(frozen=True, eq=False)
class Production:
    """A typed DSL production.

    Parameters
    ----------
    name : str
        Unique name, used in program text (``(map (affine_speed))``).
    kind : Kind
        What the production means: its typing, semantics and exports (one of
        :data:`sklearn_dpads.kinds.BUILTIN_KINDS`).
    arity : int
        Number of argument slots (0 for leaves).
    params : dict
        Kind-specific constants: ``indices`` and ``group`` for affine leaves,
        ``length``, ``indices`` and ``group`` for temporal filters, ``left``
        for windows, ``beta`` for if-then-else, ``width`` for folds, the
        callables of an elementwise production.
    cost : float
        Structural cost of one use of this production.
    description : str
        One line shown in documentation and pretty printing.
    """

    name: str
    kind: Kind
    arity: int
    params: dict = field(default_factory=dict)
    cost: float = 1.0
    description: str = ""

    def __post_init__(self) -> None:
        check_name(self.name)
        if not isinstance(self.kind, Kind):
            raise GrammarError(
                f"Production kind must be a Kind (see sklearn_dpads.kinds), got "
                f"{self.kind!r}."
            )
        want = self.kind.arity
        ok = (
            self.arity == want
            if want is not None
            else isinstance(self.arity, int)
            and not isinstance(self.arity, bool)
            and 1 <= self.arity <= 3
        )
        if not ok:
            raise GrammarError(
                f"Production {self.name!r} of kind {self.kind.name!r} cannot have "
                f"arity {self.arity!r}."
            )
        if not isinstance(self.cost, int | float) or not math.isfinite(self.cost):
            raise GrammarError(
                f"Production cost must be a finite number, got {self.cost!r}."
            )
        if self.cost < 0:
            raise GrammarError(f"Production cost must be >= 0, got {self.cost}.")
        self.kind.check(self)

    # typing -----------------------------------------------------------------
    def child_types(
        self, hole: FunctionType, n_features: int
    ) -> tuple[FunctionType, ...] | None:
        """Return the types of the argument slots when filling ``hole``, or None.

        Parameters
        ----------
        hole : FunctionType
            The hole to fill.
        n_features : int
            Number of input features of the program (affine leaves read
            ``x[indices]`` plus every entry past ``n_features``, which only
            exist inside a fold, where they hold the accumulator).

        Returns
        -------
        tuple of FunctionType or None
            None when the production cannot fill the hole.

        Raises
        ------
        GrammarError
            If a temporal filter selects a feature index ``>= n_features``.
        """
        return self.kind.child_types(self, hole, n_features)

    def display(self, args: list[str]) -> str:
        """Return the readable form of this production applied to ``args``.

        Parameters
        ----------
        args : list of str
            Readable forms of the arguments, one per slot.

        Returns
        -------
        str
            E.g. ``map(affine[speed](x))`` or ``filter5[speed](x)``; leaves
            ignore ``args``.
        """
        return self.kind.display(self, args)

    def __repr__(self) -> str:
        return f"Production({self.name!r}, kind={self.kind.name!r}, arity={self.arity})"

    def __reduce__(self):
        return (
            _rebuild_production,
            (
                self.name,
                self.kind,
                self.arity,
                dict(self.params),
                self.cost,
                self.description,
            ),
        )


def _rebuild_production(name, kind, arity, params, cost, description):
    return Production(name, kind, arity, params, cost, description)
