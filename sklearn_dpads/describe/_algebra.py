"""What a program node computes, as data: linear forms of temporal summaries.

The kinds' :meth:`~sklearn_dpads.grammar.Kind.describe` hooks return these
values (through the :class:`~sklearn_dpads.describe._describer.Describer`
they are handed), and :mod:`sklearn_dpads.describe._words` writes them in
the input's units. Everything here is exact arithmetic on the program's own
numbers, in the scaled space the program reads:

* an :class:`Operator` is one linear map over the frames of a signal (a
  window mean, a weighted mean, an exponential decay, a frame difference);
* a :class:`Term` is a weight times a chain of operators applied to one input
  (a feature, or inside a fold body an accumulator entry);
* a :class:`Linear` is a sum of terms plus a bias, one per output;
* a :class:`Blend` is a soft if-then-else of two values;
* an :class:`Opaque` is anything else, written as a phrase of its arguments
  (a product, a user function, a kind without a reading): honest, not
  simplified.

Torch-free: the numbers come from
:meth:`~sklearn_dpads.semantics.ProgramModule.leaf` as plain floats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = [
    "Blend",
    "Expression",
    "Linear",
    "Opaque",
    "Operator",
    "Term",
    "chain_gain",
    "chain_weights",
]

#: Lags kept when an operator chain is written out as weights per lag.
HORIZON = 4096


@dataclass(frozen=True)
class Operator:
    """One linear map over the frames of a signal, at each frame ``t``.

    Parameters
    ----------
    kind : {"mean", "weights", "decay", "change"}
        ``mean``: the mean over frames ``t-left .. t`` (the frames there are
        near the start); ``weights``: ``sum_j weights[j] * f[t-j]`` (frames
        before the first count as the first); ``decay``: ``sum_j decay**j *
        f[t-j]`` over the frames so far (a fold's linear accumulation from
        zero); ``change``: ``f[t] - f[t-1]`` (zero at the first frame).
    production : str
        The production that applies it.
    path : tuple of int
        Path of that production's node.
    left : int, optional
        ``mean``: frames before ``t`` in the window.
    weights : tuple of float, optional
        ``weights``: one weight per lag, lag 0 (the frame ``t``) first.
    decay : float, optional
        ``decay``: the factor per frame.
    style : str, default=""
        ``weights``: ``"kernel"`` (a learned bump, weights sum to one) or
        ``"filter"`` (a learned temporal filter).
    """

    kind: Literal["mean", "weights", "decay", "change"]
    production: str
    path: tuple[int, ...]
    left: int | None = None
    weights: tuple[float, ...] | None = None
    decay: float | None = None
    style: str = ""

    @property
    def gain(self) -> float:
        """The operator's value on a constant signal 1 (the steady state for a decay)."""
        if self.kind == "mean":
            return 1.0
        if self.kind == "weights":
            return float(sum(self.weights))
        if self.kind == "decay":
            return 1.0 / (1.0 - self.decay) if abs(self.decay) < 1 else math.inf
        return 0.0

    @property
    def one_signed(self) -> bool:
        """True when all weights have one sign: the operator is a scaled average."""
        if self.kind == "mean":
            return True
        if self.kind == "weights":
            w = self.weights
            return all(v >= 0 for v in w) or all(v <= 0 for v in w)
        if self.kind == "decay":
            return 0 <= self.decay < 1
        return False

    def lag_weights(self, horizon: int = HORIZON) -> np.ndarray:
        """The weight of every lag ``0 .. horizon-1`` (away from a sequence's start).

        Parameters
        ----------
        horizon : int, default=HORIZON
            Lags kept (a decay's infinite tail is cut there).

        Returns
        -------
        ndarray of float
            ``w[j]`` multiplies the frame ``j`` steps back.
        """
        if self.kind == "mean":
            return np.full(self.left + 1, 1.0 / (self.left + 1))
        if self.kind == "weights":
            return np.asarray(self.weights, dtype=float)
        if self.kind == "decay":
            n = horizon if abs(self.decay) < 1 else min(horizon, 64)
            return self.decay ** np.arange(n, dtype=float)
        return np.array([1.0, -1.0])


def chain_weights(ops: tuple[Operator, ...], horizon: int = HORIZON) -> np.ndarray:
    """The weights per lag of operators applied one after the other.

    Parameters
    ----------
    ops : tuple of Operator
        Innermost (applied to the signal first) first.
    horizon : int, default=HORIZON
        Lags kept.

    Returns
    -------
    ndarray of float
        ``[1.0]`` for no operator (the frame itself).
    """
    w = np.array([1.0])
    for op in ops:
        w = np.convolve(w, op.lag_weights(horizon))[:horizon]
    return w


def chain_gain(ops: tuple[Operator, ...]) -> float:
    """The value of a chain of operators on a constant signal 1.

    Parameters
    ----------
    ops : tuple of Operator
        The chain.

    Returns
    -------
    float
        The product of the gains.
    """
    g = 1.0
    for op in ops:
        g *= op.gain
    return g


@dataclass(frozen=True)
class Term:
    """``weight[o] * ops(input[source])``: one input read through operators.

    Parameters
    ----------
    source : int
        The input read: a feature index, or inside a fold body ``n_features
        + i`` for the accumulator entry ``i``.
    ops : tuple of Operator
        Operators applied to the input, innermost first (empty: the input at
        the frame).
    weight : tuple of float
        One weight per output, in the program's scaled units.
    """

    source: int
    ops: tuple[Operator, ...]
    weight: tuple[float, ...]

    @property
    def key(self) -> tuple:
        """What the term reads (terms with the same key add up)."""
        return (self.source, self.ops)


@dataclass(frozen=True)
class Linear:
    """``sum(terms) + bias``: an affine function of summaries of the inputs.

    Parameters
    ----------
    terms : tuple of Term
        The terms, in the order the program reads them.
    bias : tuple of float
        One per output.
    notes : tuple of str, default=()
        Caveats of the simplification (a fold's bias that builds up, ...).
    """

    terms: tuple[Term, ...]
    bias: tuple[float, ...]
    notes: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        """Number of outputs."""
        return len(self.bias)

    @property
    def is_constant(self) -> bool:
        """True when no term is left: the value is the bias."""
        return not self.terms

    def plus(self, other: Linear) -> Linear:
        """The sum of two linear forms (terms that read the same input merge).

        Parameters
        ----------
        other : Linear
            A form with as many outputs.

        Returns
        -------
        Linear
            The sum.
        """
        merged: dict = {}
        for t in self.terms + other.terms:
            old = merged.get(t.key)
            w = t.weight if old is None else tuple(a + b for a, b in zip(old, t.weight))
            merged[t.key] = w
        terms = tuple(Term(s, ops, w) for (s, ops), w in merged.items())
        bias = tuple(a + b for a, b in zip(self.bias, other.bias))
        return Linear(terms, bias, _union(self.notes, other.notes))

    def times(self, factor: tuple[float, ...]) -> Linear:
        """Every output multiplied by its factor.

        Parameters
        ----------
        factor : tuple of float
            One factor per output (or one for all).

        Returns
        -------
        Linear
            The scaled form.
        """
        f = factor if len(factor) == self.size else factor * self.size
        terms = tuple(
            Term(t.source, t.ops, tuple(w * g for w, g in zip(t.weight, f)))
            for t in self.terms
        )
        return Linear(terms, tuple(b * g for b, g in zip(self.bias, f)), self.notes)

    def through(self, op: Operator, note: str | None = None) -> Linear:
        """The form read through ``op`` at each frame (a window of its values).

        Parameters
        ----------
        op : Operator
            Applied after the terms' own operators.
        note : str, optional
            A caveat to keep with the result.

        Returns
        -------
        Linear
            The bias becomes ``gain * bias``.
        """
        g = op.gain
        terms = tuple(Term(t.source, t.ops + (op,), t.weight) for t in self.terms)
        notes = self.notes if note is None else _union(self.notes, (note,))
        return Linear(terms, tuple(b * g for b in self.bias), notes)

    def reading(self, op: Operator) -> Linear:
        """The form evaluated on the inputs transformed by ``op`` first.

        Parameters
        ----------
        op : Operator
            Applied to every input before the terms' operators (a frame
            difference); the bias is unchanged.

        Returns
        -------
        Linear
            The form of the transformed inputs.
        """
        terms = tuple(Term(t.source, (op,) + t.ops, t.weight) for t in self.terms)
        return Linear(terms, self.bias, self.notes)

    def output(self, o: int) -> Linear:
        """The form of one output alone.

        Parameters
        ----------
        o : int
            The output.

        Returns
        -------
        Linear
            One output; terms with a zero weight there are dropped.
        """
        terms = tuple(
            Term(t.source, t.ops, (t.weight[o],)) for t in self.terms if t.weight[o]
        )
        return Linear(terms, (self.bias[o],), self.notes)


@dataclass(frozen=True)
class Blend:
    """A soft if-then-else: ``s * then + (1 - s) * otherwise``, ``s = sigmoid(beta * c)``.

    Parameters
    ----------
    path : tuple of int
        Path of the ``ite`` node.
    production : str
        Its production's name.
    beta : float
        The temperature.
    condition : Expression
        The condition ``c`` (one output).
    then : Expression
        The value where ``c`` is well above 0.
    otherwise : Expression
        The value where ``c`` is well below 0.
    """

    path: tuple[int, ...]
    production: str
    beta: float
    condition: Expression
    then: Expression
    otherwise: Expression

    @property
    def size(self) -> int:
        """Number of outputs."""
        return self.then.size


@dataclass(frozen=True)
class Opaque:
    """A value the description does not simplify: a phrase of its arguments.

    Parameters
    ----------
    path : tuple of int
        Path of the node.
    production : str
        Its production's name.
    template : str
        The phrase, with ``{0}``, ``{1}``, ... where the arguments' texts go.
    args : tuple of Expression
        The arguments the phrase names.
    size : int
        Number of outputs.
    note : str, default=""
        Why it is not simplified, or what it means.
    op : Operator, optional
        An operator over frames applied to the phrase (a window of a value
        that is not linear).
    """

    path: tuple[int, ...]
    production: str
    template: str
    args: tuple[Expression, ...]
    size: int
    note: str = field(default="")
    op: Operator | None = None


Expression = Linear | Blend | Opaque


def _union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return a + tuple(n for n in b if n not in a)
