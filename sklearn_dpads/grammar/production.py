"""Productions: the typed building blocks of programs.

A :class:`Production` is pure data. It knows its argument slots and how they
are typed for a given hole, but nothing about torch: the semantics layer maps a
production's ``kind`` to a module, and the export layer maps it to code.
User productions (``kind="elementwise"``) carry opaque callables made by
:func:`make_production`.
"""

from __future__ import annotations

import keyword
import math
import numbers
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.grammar.types import Atom, FunctionType

__all__ = [
    "Production",
    "BUILTIN_KINDS",
    "map_production",
    "map_prefixes_production",
    "fold_production",
    "window_production",
    "ite_production",
    "add_production",
    "multiply_production",
    "affine_production",
    "constant_production",
    "elementwise_production",
    "filter_production",
    "difference_production",
]

BUILTIN_KINDS = (
    "map",
    "map_prefixes",
    "fold",
    "window",
    "ite",
    "add",
    "multiply",
    "affine",
    "constant",
    "elementwise",
    "filter",
    "difference",
)

_FIXED_ARITY = {
    "map": 1,
    "map_prefixes": 1,
    "fold": 1,
    "window": 1,
    "ite": 3,
    "add": 2,
    "multiply": 2,
    "affine": 0,
    "constant": 0,
    "filter": 0,
    "difference": 1,
}

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name) or keyword.iskeyword(name):
        raise GrammarError(
            f"Invalid production name {name!r}: use letters, digits and underscores, "
            "starting with a letter or underscore."
        )
    return name


@dataclass(frozen=True, eq=False)
class Production:
    """A typed DSL production.

    Parameters
    ----------
    name : str
        Unique name, used in program text (``(map (affine_speed))``).
    kind : str
        One of :data:`BUILTIN_KINDS`; selects typing, semantics and export.
    arity : int
        Number of argument slots (0 for leaves).
    params : dict
        Kind-specific constants: ``indices`` and ``group`` for affine leaves,
        ``length``, ``indices`` and ``group`` for temporal filters,
        ``left``/``right`` for windows, ``beta`` for if-then-else, the
        callables of an elementwise production.
    cost : float
        Structural cost of one use of this production.
    description : str
        One line shown in documentation and pretty printing.
    """

    name: str
    kind: str
    arity: int
    params: dict = field(default_factory=dict)
    cost: float = 1.0
    description: str = ""

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.kind not in BUILTIN_KINDS:
            raise GrammarError(
                f"Unknown production kind {self.kind!r}; expected one of "
                f"{', '.join(BUILTIN_KINDS)}."
            )
        want = _FIXED_ARITY.get(self.kind)
        ok = (
            self.arity == want
            if want is not None
            else isinstance(self.arity, int)
            and not isinstance(self.arity, bool)
            and 1 <= self.arity <= 3
        )
        if not ok:
            raise GrammarError(
                f"Production {self.name!r} of kind {self.kind!r} cannot have arity "
                f"{self.arity!r}."
            )
        if not isinstance(self.cost, int | float) or not math.isfinite(self.cost):
            raise GrammarError(
                f"Production cost must be a finite number, got {self.cost!r}."
            )
        if self.cost < 0:
            raise GrammarError(f"Production cost must be >= 0, got {self.cost}.")
        if self.kind == "filter":
            length = self.params.get("length")
            if not isinstance(length, int) or isinstance(length, bool) or length < 1:
                raise GrammarError(
                    f"Filter {self.name!r} needs params['length'], an int >= 1, got "
                    f"{length!r}; build filters with filter_production."
                )

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
        i, o = hole.input, hole.output
        k = self.kind
        if k == "map":
            if i.is_seq and o.is_seq:
                return (FunctionType(Atom(i.size), Atom(o.size)),)
            return None
        if k == "map_prefixes":
            if i.is_seq and o.is_seq:
                return (FunctionType(i, Atom(o.size)),)
            return None
        if k == "fold":
            if i.is_seq and not o.is_seq:
                h = self.params.get("width") or o.size
                return (FunctionType(Atom(i.size + h), Atom(h)),)
            return None
        if k == "window":
            if i.is_seq and not o.is_seq:
                return (FunctionType(Atom(i.size), o),)
            return None
        if k == "ite":
            return (FunctionType(i, Atom(1)), hole, hole)
        if k in ("add", "multiply", "elementwise"):
            if not i.is_seq and not o.is_seq:
                return (hole,) * self.arity
            return None
        if k == "affine":
            if i.is_seq or o.is_seq or i.size < n_features:
                return None
            return ()
        if k == "constant":
            if o.is_seq:
                return None
            if i.is_seq:
                return None
            return ()
        if k == "filter":
            idx = self.params.get("indices")
            bad = [j for j in idx or () if j >= n_features]
            if bad:
                raise GrammarError(
                    f"Production {self.name!r} selects feature(s) {bad} but the "
                    f"input has only {n_features} features (indices 0 to "
                    f"{n_features - 1})."
                )
            if not i.is_seq or o.is_seq or i.size < n_features:
                return None
            return ()
        if k == "difference":
            # the child reads the differenced sequence: same type as the hole
            return (hole,) if i.is_seq else None
        raise AssertionError(k)  # pragma: no cover

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
        if self.kind == "affine":
            group = self.params.get("group")
            return f"affine[{group}](x)" if group else "affine(x)"
        if self.kind == "filter":
            group = self.params.get("group")
            head = f"filter{self.params['length']}"
            return f"{head}[{group}](x)" if group else f"{head}(x)"
        if self.kind == "constant":
            return "const"
        return f"{self.name}({', '.join(args)})"

    def __repr__(self) -> str:
        return f"Production({self.name!r}, kind={self.kind!r}, arity={self.arity})"

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


# built-in factories ----------------------------------------------------------


def map_production(name: str = "map") -> Production:
    """Build ``map f xs``: apply an atom function to every frame.

    Parameters
    ----------
    name : str, default="map"
        Production name.

    Returns
    -------
    Production
        A production of kind ``"map"`` with one slot.
    """
    return Production(name, "map", 1, {}, 1.0, "apply f to every frame")


def map_prefixes_production(name: str = "map_prefixes") -> Production:
    """Build ``map_prefixes f xs``: apply a sequence function to every prefix.

    The output at frame ``t`` only reads frames up to ``t`` (causal).

    Parameters
    ----------
    name : str, default="map_prefixes"
        Production name.

    Returns
    -------
    Production
        A production of kind ``"map_prefixes"`` with one slot.
    """
    return Production(name, "map_prefixes", 1, {}, 1.0, "apply f to every prefix")


def fold_production(name: str = "fold", width: int | None = None) -> Production:
    """Build ``fold f xs``: ``a_t = f([x_t; a_{t-1}])`` from ``a_0 = 0``.

    Without ``width`` the accumulator has the output's size and the value of
    the fold is the last accumulator. With ``width`` the accumulator (the
    fold's state) has ``width`` entries, and a learned affine readout maps
    the last state to the output: ``y = R a_T + c``.

    Parameters
    ----------
    name : str, default="fold"
        Production name.
    width : int or None, default=None
        Size of the state, at least 1 (None: the output's size, no readout).

    Returns
    -------
    Production
        A production of kind ``"fold"`` with one slot.

    Raises
    ------
    GrammarError
        If ``width`` is not an integer >= 1.
    """
    if width is None:
        return Production(name, "fold", 1, {}, 1.0, "running accumulation")
    if not isinstance(width, numbers.Integral) or isinstance(width, bool) or width < 1:
        raise GrammarError(f"Fold width must be an int >= 1 or None, got {width!r}.")
    return Production(
        name,
        "fold",
        1,
        {"width": int(width)},
        1.0,
        f"running accumulation of a {int(width)}-wide state, read out",
    )


def window_production(name: str, left: int, right: int = 0) -> Production:
    """Build a sliding-window average: ``mean(f(x[s]) for s in t-left..t+right)``.

    The child ``f`` runs on every frame and its outputs are averaged, so
    ``window(multiply(a, a))`` is a mean energy. The window is evaluated at
    the last frame. Windows never read padding or
    frames past the end of the (prefix) sequence, so a centred window at the
    last frame covers only its past half.

    Parameters
    ----------
    name : str
        Production name, e.g. ``"window5_avg"``.
    left : int
        Number of frames before ``t`` in the window, at least 0.
    right : int, default=0
        Number of frames after ``t`` in the window, at least 0.

    Returns
    -------
    Production
        A production of kind ``"window"`` with one slot.
    """
    for v, lab in ((left, "left"), (right, "right")):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise GrammarError(f"Window {lab} extent must be an int >= 0, got {v!r}.")
    return Production(
        name,
        "window",
        1,
        {"left": left, "right": right},
        1.0,
        f"average of f over frames t-{left}..t+{right}",
    )


def ite_production(name: str = "ite", beta: float = 1.0) -> Production:
    """Build a soft if-then-else: ``s(beta*c(x)) * f(x) + (1 - s(beta*c(x))) * g(x)``.

    Parameters
    ----------
    name : str, default="ite"
        Production name.
    beta : float, default=1.0
        Positive temperature of the sigmoid ``s`` of the condition ``c``.

    Returns
    -------
    Production
        A production of kind ``"ite"`` with three slots (condition, then, else).
    """
    if not isinstance(beta, int | float) or not math.isfinite(beta) or beta <= 0:
        raise GrammarError(
            f"ite temperature beta must be a positive number, got {beta!r}."
        )
    return Production(name, "ite", 3, {"beta": float(beta)}, 1.0, "soft if-then-else")


def add_production(name: str = "add") -> Production:
    """Build the sum ``f(x) + g(x)`` of two atom functions.

    Parameters
    ----------
    name : str, default="add"
        Production name.

    Returns
    -------
    Production
        A production of kind ``"add"`` with two slots.
    """
    return Production(name, "add", 2, {}, 1.0, "sum")


def multiply_production(name: str = "multiply") -> Production:
    """Build the element-wise product ``f(x) * g(x)`` of two atom functions.

    Parameters
    ----------
    name : str, default="multiply"
        Production name.

    Returns
    -------
    Production
        A production of kind ``"multiply"`` with two slots.
    """
    return Production(name, "multiply", 2, {}, 1.0, "product")


def _check_indices(name: str, indices: Any) -> tuple[int, ...] | None:
    """Validate the feature ``indices`` of leaf ``name``: None or distinct ints >= 0."""
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


def affine_production(
    name: str, indices: list[int] | tuple[int, ...] | None, group: str | None = None
) -> Production:
    """Build an affine leaf ``W x[indices] + b``.

    Parameters
    ----------
    name : str
        Production name.
    indices : list of int, tuple of int or None
        Distinct, non-negative feature indices the leaf reads; None reads all
        features.
    group : str, optional
        Name of the feature group, shown as ``affine[group](x)``.

    Returns
    -------
    Production
        A leaf production of kind ``"affine"``.
    """
    indices = _check_indices(name, indices)
    return Production(
        name,
        "affine",
        0,
        {"indices": indices, "group": group},
        1.0,
        "affine function of " + (f"group {group!r}" if group else "all features"),
    )


def filter_production(
    name: str,
    length: int,
    indices: list[int] | tuple[int, ...] | None = None,
    group: str | None = None,
) -> Production:
    """Build a learnable causal temporal filter over a feature group.

    The leaf fills ``list[d] -> atom[k]`` holes. At frame ``t`` its value is
    ``y_t = b + sum_{j=0}^{length-1} W_j @ x_{t-j}[indices]``: a learned linear
    combination of the last ``length`` frames of the group (a finite impulse
    response filter, one ``k x n_group`` matrix ``W_j`` per lag ``j``). The
    program's value is ``y`` at the last frame; inside ``map_prefixes`` it is
    ``y_t`` at every frame ``t``. Frames before the first frame of a sequence
    are taken equal to the first frame, so a constant signal gives a
    constant output ``b + (sum_j W_j) x``. The filter is causal: padding and
    later frames never reach ``y_t``.

    Parameters
    ----------
    name : str
        Production name, e.g. ``"filter5_speed"``.
    length : int
        Number of frames ``K`` the filter reads (lags ``0 .. K-1``), at least 1.
    indices : list of int, tuple of int or None, default=None
        Distinct, non-negative feature indices the filter reads; None reads all
        features.
    group : str, optional
        Name of the feature group, shown as ``filter5[group](x)``.

    Returns
    -------
    Production
        A leaf production of kind ``"filter"``.

    Raises
    ------
    GrammarError
        If ``length`` is not an int >= 1 or ``indices`` are malformed.
    """
    _check_name(name)
    if not isinstance(length, int) or isinstance(length, bool) or length < 1:
        raise GrammarError(
            f"Filter length of {name!r} must be an int >= 1, got {length!r}."
        )
    indices = _check_indices(name, indices)
    return Production(
        name,
        "filter",
        0,
        {"length": length, "indices": indices, "group": group},
        1.0,
        f"learned filter over the last {length} frames of "
        + (f"group {group!r}" if group else "all features"),
    )


def difference_production(name: str = "diff") -> Production:
    """Build ``diff f xs``: ``f`` applied to the frame differences of ``xs``.

    ``diff(f)(xs) = f(xs')`` with ``xs'_0 = 0`` and ``xs'_t = x_t - x_{t-1}``
    for ``t >= 1`` (per sequence; padding frames stay padding). The slot has
    the type of the hole, which may be any function of a sequence
    (``list[d] -> atom[k]`` or ``list[d] -> list[k]``), so
    ``last10_avg(multiply(a, a))`` under ``diff`` is a movement energy.

    Parameters
    ----------
    name : str, default="diff"
        Production name.

    Returns
    -------
    Production
        A production of kind ``"difference"`` with one slot.
    """
    return Production(name, "difference", 1, {}, 1.0, "f of the frame differences")


def constant_production(name: str = "const") -> Production:
    """Build a leaf that returns a learned constant vector.

    Parameters
    ----------
    name : str, default="const"
        Production name.

    Returns
    -------
    Production
        A leaf production of kind ``"constant"``.
    """
    return Production(name, "constant", 0, {}, 1.0, "learned constant")


def elementwise_production(
    name: str,
    function: Callable[..., Any],
    arity: int,
    *,
    python_function: Callable[..., float],
    sympy_function: Callable[..., Any] | None = None,
    cost: float = 1.0,
) -> Production:
    """Validate and build an element-wise combinator of ``arity`` atom functions.

    Users call :func:`sklearn_dpads.make_production`, which also checks the torch
    function against ``python_function``.

    The production fills ``atom[d] -> atom[k]`` holes; its slots have the same
    type, and its value is ``function(f_1(x), ..., f_arity(x))`` applied
    element-wise.

    Parameters
    ----------
    name : str
        Unique identifier.
    function : callable
        Element-wise function of ``arity`` torch tensors (training and the
        torch module), e.g. ``torch.maximum``.
    arity : int
        Number of arguments, 1 to 3.
    python_function : callable
        The same function on Python floats, using only the standard library.
        It must be a named module-level function: its source is copied into
        exported programs.
    sympy_function : callable, optional
        The same function on sympy expressions. Defaults to an undefined sympy
        function named ``name``.
    cost : float, default=1.0
        Structural cost.

    Returns
    -------
    Production
        Picklable when the callables are module-level functions.
    """
    _check_name(name)
    if not isinstance(arity, int) or isinstance(arity, bool) or not 1 <= arity <= 3:
        raise GrammarError(
            f"arity of {name!r} must be an int in [1, 3], got {arity!r}."
        )
    if not callable(function):
        raise GrammarError(f"function of {name!r} must be callable.")
    if not callable(python_function):
        raise GrammarError(f"python_function of {name!r} must be callable.")
    if getattr(python_function, "__name__", "<lambda>") == "<lambda>":
        raise GrammarError(
            f"python_function of {name!r} must be a named (def) function, not a "
            "lambda: its source is copied into exported programs."
        )
    if sympy_function is not None and not callable(sympy_function):
        raise GrammarError(f"sympy_function of {name!r} must be callable.")
    for k in range(arity):
        try:
            out = python_function(*([0.5 + 0.25 * k] * arity))
            float(out)
        except Exception as exc:
            raise GrammarError(
                f"python_function of {name!r} failed on {arity} float argument(s): {exc}"
            ) from exc
    return Production(
        name,
        "elementwise",
        arity,
        {
            "function": function,
            "python_function": python_function,
            "sympy_function": sympy_function,
        },
        cost,
        f"user function {name}",
    )
