"""Writing a described program in plain words, in the input's own units.

:class:`Context` holds what the words need beyond the program: the feature
names and units, the fitted scaler (every number the program reads is
``(x - center) / scale``, clipped), the frame rate, the classes and the
decision threshold. :func:`quantity` turns a term's input and operators into
a phrase with its unit and the map from the program's weights to weights per
input unit; :class:`Writer` turns the root's expression into numbered
sentences and records the same content as data (:class:`ProgramDescription`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sklearn_dpads.describe._algebra import (
    Blend,
    Expression,
    Linear,
    Opaque,
    Operator,
)

__all__ = [
    "Context",
    "DescribedCondition",
    "DescribedTerm",
    "DescribedWindow",
    "ProgramDescription",
    "Quantity",
    "Writer",
    "check_frame_rate",
    "check_units",
    "fmt",
    "quantity",
]

#: ``sigmoid(beta * c)`` is 0.1 and 0.9 at ``c = -/+ LN9 / beta``.
LN9 = math.log(9.0)
#: A linear form with more terms lists only this many (the largest).
MAX_TERMS = 3
#: Share of a weighted window's weight that its frame range holds.
MASS = 0.8


def fmt(value: float) -> str:
    """Format a number with 4 significant digits (no exponent between 1e-3 and 1e6).

    Parameters
    ----------
    value : float
        The number.

    Returns
    -------
    str
        E.g. ``"119.7"``, ``"-0.06021"``, ``"3"``, ``"1.234e-05"``.
    """
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    a = abs(v)
    if 1e-3 <= a < 1e6:
        decimals = max(0, 3 - math.floor(math.log10(a)))
        s = f"{v:.{decimals}f}"
        if "." in s:
            s = s.rstrip("0").rstrip(".")
        return "0" if s in ("-0", "") else s
    return f"{v:.3e}"


def check_units(
    units: Mapping[str, str] | None, feature_names: Sequence[str]
) -> dict[str, str]:
    """Validate ``units``: a dict from feature names to unit strings.

    Parameters
    ----------
    units : dict of str to str or None
        Units of some features.
    feature_names : sequence of str
        The program's feature names.

    Returns
    -------
    dict of str to str
        The units (empty for None).

    Raises
    ------
    TypeError
        If ``units`` is not a mapping or a unit is not a string.
    ValueError
        If a key is not a feature name (the message names them).
    """
    if units is None:
        return {}
    if not isinstance(units, Mapping):
        raise TypeError(
            "units must be a dict mapping feature names to unit strings, got "
            f"{type(units).__name__}."
        )
    names = [str(n) for n in feature_names]
    unknown = [k for k in units if not isinstance(k, str) or k not in names]
    if unknown:
        raise ValueError(
            f"units names unknown features {unknown!r}; the features are {names!r}."
        )
    bad = {k: v for k, v in units.items() if not isinstance(v, str)}
    if bad:
        raise TypeError(f"units must map feature names to strings, got {bad!r}.")
    return dict(units)


def check_frame_rate(frame_rate: Any) -> float | None:
    """Validate ``frame_rate``: None or a positive, finite number of frames per second.

    Parameters
    ----------
    frame_rate : float or None
        Frames per second.

    Returns
    -------
    float or None
        The rate as a float.

    Raises
    ------
    TypeError
        If it is not a number.
    ValueError
        If it is not positive and finite.
    """
    if frame_rate is None:
        return None
    if isinstance(frame_rate, bool) or not isinstance(frame_rate, numbers.Real):
        raise TypeError(
            "frame_rate must be a positive number of frames per second, got "
            f"{type(frame_rate).__name__}."
        )
    rate = float(frame_rate)
    if not (math.isfinite(rate) and rate > 0):
        raise ValueError(
            f"frame_rate must be a positive, finite number of frames per second, "
            f"got {frame_rate!r}."
        )
    return rate


class Context:
    """What the words need besides the program: names, units, scaler, classes.

    Parameters
    ----------
    n_features : int
        Features per frame.
    feature_names : sequence of str or None
        Their names (default ``x0``, ``x1``, ...).
    units : dict of str to str or None
        Units of some features, by name.
    frame_rate : float or None
        Frames per second, to give windows in seconds too.
    scaler : object or None
        A fitted scaler with ``center_``, ``scale_`` and ``clip`` (and
        optionally ``clip_low_`` and ``clip_high_``); None: the program reads
        the input as it is.
    classes : sequence or None
        The class labels, in the order of the logits (two for one logit).
    logit_offset : float
        Added to a binary program's logit (the tuned decision threshold).
    label_type : {"sequence", "frame", "row"}
        What one prediction is about.
    delay : int, default=0
        Frames after the labelled frame ``t`` that the program reads
        (``future_frames``): its read-out frame is ``t + delay``.
    """

    def __init__(
        self,
        n_features: int,
        feature_names: Sequence[str] | None,
        units: Mapping[str, str] | None,
        frame_rate: float | None,
        scaler: Any,
        classes: Sequence[Any] | None,
        logit_offset: float,
        label_type: str,
        delay: int = 0,
    ) -> None:
        self.n_features = n_features
        self.delay = int(delay)
        names = (
            [f"x{i}" for i in range(n_features)]
            if feature_names is None
            else [str(n) for n in feature_names]
        )
        if len(names) != n_features:
            raise ValueError(
                f"feature_names has {len(names)} names, expected {n_features}."
            )
        self.names = names
        self.units = check_units(units, names)
        self.frame_rate = check_frame_rate(frame_rate)
        self.classes = None if classes is None else list(classes)
        self.logit_offset = float(logit_offset)
        self.label_type = label_type
        center = np.zeros(n_features)
        scale = np.ones(n_features)
        low = np.full(n_features, -np.inf)
        high = np.full(n_features, np.inf)
        if scaler is not None:
            center = np.asarray(scaler.center_, dtype=float).reshape(n_features)
            scale = np.asarray(scaler.scale_, dtype=float).reshape(n_features)
            lo = getattr(scaler, "clip_low_", None)
            if lo is not None:
                low = np.asarray(lo, dtype=float).reshape(n_features)
                high = np.asarray(scaler.clip_high_, dtype=float).reshape(n_features)
            if scaler.clip is not None:
                k = float(scaler.clip)
                low, high = np.clip(low, -k, k), np.clip(high, -k, k)
        self.scaled = scaler is not None
        self.center, self.scale, self.low, self.high = center, scale, low, high

    def name(self, source: int) -> str:
        """The name of an input: a feature, or a fold's accumulator entry."""
        if source < self.n_features:
            return self.names[source]
        return f"the fold's previous state a[{source - self.n_features}]"

    def unit(self, source: int) -> str | None:
        """The unit of an input (None: not given)."""
        if source < self.n_features:
            return self.units.get(self.names[source])
        return None

    def frame_at(self, lag: int) -> str:
        """The frame ``lag`` frames before the read-out frame, from the labelled ``t``."""
        back = lag - self.delay
        if back == 0:
            return "t"
        return f"t-{back}" if back > 0 else f"t+{-back}"

    def seconds(self, frames: float) -> str:
        """``" (0.33 s)"`` for a number of frames, or ``""`` without a frame rate."""
        if self.frame_rate is None:
            return ""
        return f" ({fmt(frames / self.frame_rate)} s)"

    def clip_range(self, source: int) -> tuple[float, float] | None:
        """The input range the scaler's clipping leaves, in input units (None: none)."""
        if source >= self.n_features:
            return None
        lo, hi = self.low[source], self.high[source]
        if not (np.isfinite(lo) or np.isfinite(hi)):
            return None
        c, s = float(self.center[source]), float(self.scale[source])
        a, b = c + s * float(lo), c + s * float(hi)
        return (min(a, b), max(a, b))

    def class_name(self, o: int | None = None, positive: bool = True) -> str:
        """The class a score is about: the positive one, or output ``o``'s."""
        if self.classes is None:
            return "1" if positive else "0"
        if o is None:
            return str(self.classes[1] if positive else self.classes[0])
        return str(self.classes[o])


@dataclass(frozen=True)
class Quantity:
    """A summary of one input, in its own units, as a program term reads it.

    A term ``w * S(z)`` of the scaled input ``z = (x - center) / scale``
    equals ``weight(w) * (value - reference)``, where ``value`` is the
    quantity described by :attr:`text` computed on the raw input (exactly,
    while the scaler clips no frame it reads).

    Parameters
    ----------
    text : str
        What it is, e.g. ``"the mean of distance over the last 10 frames"``.
    source : int
        The input read.
    feature : str or None
        The feature's name (None for a fold's accumulator).
    unit : str or None
        Its unit.
    factor : float
        A program weight ``w`` is ``factor * w`` per input unit.
    reference : float
        The value at which the term is zero (the scaler's centre for an
        average).
    bounds : tuple of float or None
        The range the scaler's clipping leaves it, for averages.
    """

    text: str
    source: int
    feature: str | None
    unit: str | None
    factor: float
    reference: float
    bounds: tuple[float, float] | None

    def times(self, a: float) -> str:
        """``"0.06 per mm of <text>"`` (``"0.06 times <text>"`` without a unit)."""
        if self.unit is None:
            return self.text if a == 1 else f"{fmt(a)} times {self.text}"
        return f"{fmt(a)} per {self.unit} of {self.text}"

    def value(self, v: float) -> str:
        """A value of the quantity with its unit."""
        return fmt(v) if self.unit is None else f"{fmt(v)} {self.unit}"


def _lag_range(weights: np.ndarray) -> tuple[int, int, float]:
    """Lags ``(first, last)`` holding the central MASS of one-signed weights, centre."""
    w = np.abs(np.asarray(weights, dtype=float))
    total = w.sum()
    if total == 0:
        return 0, len(w) - 1, 0.0
    c = np.cumsum(w) / total
    tail = (1 - MASS) / 2
    first = int(np.searchsorted(c, tail - 1e-12))
    last = int(np.searchsorted(c, 1 - tail - 1e-12))
    centre = float((np.arange(len(w)) * w).sum() / total)
    return first, min(last, len(w) - 1), centre


def _frames_back(ctx: Context, first: int, last: int) -> str:
    """``"frames t-8 to t-4"`` (with seconds), or one frame.

    ``first`` and ``last`` are lags of the program's read-out frame; with a
    look-ahead (``ctx.delay``) the frames are named from the labelled frame
    ``t``, ``t+2`` for one after it.
    """
    lag = ctx.frame_at
    d = ctx.delay
    if first == last:
        if d:
            when = first - d
            if ctx.frame_rate is None or when == 0:
                return f"frame {lag(first)}"
            return f"frame {lag(first)} ({_seconds_rel(when, ctx.frame_rate)})"
        text = "the frame" if first == 0 else f"the frame {first} frames back"
        return text + ctx.seconds(first)
    if ctx.frame_rate is None:
        return f"frames {lag(last)} to {lag(first)}"
    r = ctx.frame_rate
    if not d:
        return (
            f"frames {lag(last)} to {lag(first)} ({fmt(last / r)} to "
            f"{fmt(first / r)} s back)"
        )
    return (
        f"frames {lag(last)} to {lag(first)} ({_seconds_rel(last - d, r)} to "
        f"{_seconds_rel(first - d, r)})"
    )


def _seconds_rel(back: int, rate: float) -> str:
    """``"0.2 s back"``, ``"0.1 s ahead"`` or ``"0 s"``: a lag of the labelled frame."""
    if back == 0:
        return "0 s"
    return f"{fmt(abs(back) / rate)} s {'back' if back > 0 else 'ahead'}"


def op_phrase(ctx: Context, op: Operator, base: str, normalized: bool) -> str:
    """What ``op`` makes of the value described by ``base``.

    Parameters
    ----------
    ctx : Context
        Frame rate and number formats.
    op : Operator
        The operator.
    base : str
        The phrase of the value it reads.
    normalized : bool
        Describe a one-signed operator as the average it is a multiple of.

    Returns
    -------
    str
        The phrase.
    """
    d = ctx.delay
    if op.kind == "mean":
        if op.left == 0:
            return f"{base} at frame {ctx.frame_at(0)}" if d else base
        n = op.left + 1
        if d:
            return f"the mean of {base} over {_frames_back(ctx, 0, op.left)}"
        return f"the mean of {base} over the last {n} frames{ctx.seconds(n)}"
    if op.kind == "change":
        if d:
            return (
                f"the change of {base} from frame {ctx.frame_at(1)} to frame "
                f"{ctx.frame_at(0)}"
            )
        return f"the change of {base} from the previous frame"
    upto = f" of the frames up to {ctx.frame_at(0)}" if d else ""
    if op.kind == "decay":
        a = op.decay
        if normalized and 0 <= a < 1:
            if a == 0:
                return base
            half = math.log(0.5) / math.log(a)
            return (
                f"the exponentially weighted average of {base}{upto} (decay {fmt(a)} "
                f"per frame, half-life {fmt(half)} frames{ctx.seconds(half)})"
            )
        return (
            f"the sum over the frames so far of ({fmt(a)})^j times {base} j frames "
            f"back{' from frame ' + ctx.frame_at(0) if d else ''}"
        )
    w = np.asarray(op.weights, dtype=float)
    if normalized and op.one_signed:
        first, last, centre = _lag_range(w)
        if last == 0 and not d:
            return base
        if first == last:
            if d:
                return f"{base} at {_frames_back(ctx, first, first)}"
            return f"{base} {first} frames back{ctx.seconds(first)}"
        what = "a weighted mean" if op.style == "kernel" else "a learned weighted mean"
        back = centre - d
        if not d or back >= 0.05:
            where = f"{fmt(back)} frames back"
        elif back <= -0.05:
            where = f"{fmt(-back)} frames ahead"
        else:
            where = "on frame t"
        return (
            f"{what} of {base} over {_frames_back(ctx, first, last)} ({round(MASS * 100)}% "
            f"of its weight, centred {where})"
        )
    shown = ", ".join(fmt(v) for v in w[:6]) + (", ..." if len(w) > 6 else "")
    over = _frames_back(ctx, 0, len(w) - 1) if d else f"the last {len(w)} frames"
    back = f" before frame {ctx.frame_at(0)}" if d else " back"
    return (
        f"a learned filter of {base} over {over} (the sum over lags j of w_j "
        f"times {base} j frames{back}, w = {shown})"
    )


def _sigmoid(v: float) -> float:
    return 0.5 * (1.0 + math.tanh(0.5 * v))


def _span(q: Quantity, at10: float, at90: float, prob) -> str:
    """``"from 0.1 at X to 0.9 at Y"``, or what the clipped range leaves of it.

    ``prob(value)`` is the gate (or probability) at a value of ``q``.
    """
    text = f"from 0.1 at {q.value(at10)} to 0.9 at {q.value(at90)}"
    if q.bounds is None:
        return text
    lo, hi = q.bounds
    if lo <= min(at10, at90) and max(at10, at90) <= hi:
        return text
    a, b = (lo, hi) if at10 < at90 else (hi, lo)
    return (
        f"{text} in principle, but the scaler's clipping keeps {q.feature} in "
        f"[{q.value(lo)}, {q.value(hi)}], where it goes from {prob(a):.3g} at "
        f"{q.value(a)} to {prob(b):.3g} at {q.value(b)}"
    )


def _others(n: int) -> str:
    """``"the other term at its centre"`` or ``"the other 3 terms at their centres"``."""
    if n == 1:
        return "the other term at its centre"
    return f"the other {n} terms at their centres"


def _normalizable(op: Operator) -> bool:
    return op.one_signed and op.kind != "change" and 0 < abs(op.gain) < math.inf


def quantity(ctx: Context, source: int, ops: tuple[Operator, ...]) -> Quantity:
    """The quantity a term reads: input ``source`` through ``ops``, in input units.

    Operators that are multiples of an average (means, one-signed weights,
    decays in ``[0, 1)``) are described as the average and their gain moves
    to the weight; the others (differences, mixed-sign filters) are
    described as they are.

    Parameters
    ----------
    ctx : Context
        Names, units and the scaler.
    source : int
        The input (a feature, or a fold's accumulator entry).
    ops : tuple of Operator
        Innermost first.

    Returns
    -------
    Quantity
        Its text, unit, and the map from program weights to input units.
    """
    text = ctx.name(source)
    g_norm = g_rest = 1.0
    per_frame = 0
    for op in ops:
        norm = _normalizable(op)
        text = op_phrase(ctx, op, text, norm)
        if norm:
            g_norm *= op.gain
        else:
            g_rest *= op.gain
        per_frame += op.kind == "change"
    unit = ctx.unit(source)
    if unit is not None and per_frame:
        unit = (
            f"{unit} per frame" if per_frame == 1 else f"{unit} per frame^{per_frame}"
        )
    if source < ctx.n_features:
        c, s = float(ctx.center[source]), float(ctx.scale[source])
        feature = ctx.names[source]
    else:
        c, s, feature = 0.0, 1.0, None
    bounds = None
    if g_rest == 1.0 and all(_normalizable(op) for op in ops):
        bounds = ctx.clip_range(source)
    return Quantity(text, source, feature, unit, g_norm / s, c * g_rest, bounds)


# data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DescribedTerm:
    """One term of a linear form, in the input's units.

    Parameters
    ----------
    value : str
        The value it belongs to (``"score"``, ``"A"``, ...).
    output : str or None
        The class whose score it is, for multiclass programs.
    feature : str or None
        The feature read (None for a fold's accumulator).
    unit : str or None
        The quantity's unit.
    quantity : str
        What it reads, e.g. ``"the mean of distance over the last 10 frames"``.
    weight : float
        Change of the value per input unit of the quantity.
    weight_per_scale : float
        Change of the value per scaler unit (``weight * scale``): comparable
        between features.
    reference : float
        The quantity's value at which the term is zero (the scaler's centre).
    """

    value: str
    output: str | None
    feature: str | None
    unit: str | None
    quantity: str
    weight: float
    weight_per_scale: float
    reference: float


@dataclass(frozen=True)
class DescribedCondition:
    """A threshold of the program: an ``ite``'s condition, or the decision's.

    Parameters
    ----------
    role : {"if", "decision"}
        An if-then-else's condition, or where the prediction changes.
    path : tuple of int or None
        Path of the ``ite`` node (None for the decision).
    quantity : str or None, default=None
        What the threshold is on, when it is one summary of one input.
    feature : str or None, default=None
        The feature it reads.
    unit : str or None, default=None
        Its unit.
    threshold : float or None, default=None
        The threshold, in input units.
    weight : float or None, default=None
        The condition's (or the score's) change per input unit of the
        quantity: its value is ``weight * (quantity - threshold)``.
    above : str or None, default=None
        What holds above the threshold (``"then"``/``"else"`` for an ``ite``,
        the class for the decision).
    blend : tuple of float or None, default=None
        The quantity where the gate (or the probability) is 0.1 and 0.9,
        ``(at_0.1, at_0.9)``, in input units.
    reachable : bool or None, default=None
        False when the scaler's clipping keeps the quantity on one side.
    text : str, default=""
        The condition in words.
    """

    role: str
    path: tuple[int, ...] | None
    quantity: str | None = None
    feature: str | None = None
    unit: str | None = None
    threshold: float | None = None
    weight: float | None = None
    above: str | None = None
    blend: tuple[float, float] | None = None
    reachable: bool | None = None
    text: str = ""


@dataclass(frozen=True)
class DescribedWindow:
    """A node that reads several frames, with its frames in frames and seconds.

    Parameters
    ----------
    production : str
        Its production.
    path : tuple of int
        Its node's path.
    kind : str
        ``"mean"``, ``"weights"``, ``"decay"``, ``"change"`` or
        ``"not simplified"``.
    lags : tuple of int or None
        ``(first, last)`` lags (frames back) that hold most of its weight
        (all of a mean's); with ``future_frames``, frames back from the
        labelled frame, negative after it.
    frames : int or None
        Number of frames it spans.
    seconds : tuple of float or None
        ``lags`` in seconds, with a frame rate.
    decay : float or None
        A fold's decay per frame.
    half_life : float or None
        The decay's half-life in frames.
    text : str
        The window in words, applied to ``f``.
    """

    production: str
    path: tuple[int, ...]
    kind: str
    lags: tuple[int, int] | None
    frames: int | None
    seconds: tuple[float, float] | None
    decay: float | None
    half_life: float | None
    text: str


@dataclass(frozen=True)
class ProgramDescription:
    """A program in plain words, in the input's own units, and the same as data.

    ``str()`` gives the numbered sentences; :meth:`to_markdown` a Markdown
    version; :meth:`to_dict` the data.

    Parameters
    ----------
    program : str
        The program's readable form.
    sentences : tuple of str
        The numbered sentences (without their numbers).
    conditions : tuple of DescribedCondition
        The decision's threshold and every if-then-else's condition.
    windows : tuple of DescribedWindow
        Every node that reads several frames.
    terms : tuple of DescribedTerm
        Every term of the linear forms described, all of them (the
        sentences list the largest).
    notes : tuple of str
        What the numbers assume (clipping, a fold's start).
    """

    program: str
    sentences: tuple[str, ...]
    conditions: tuple[DescribedCondition, ...] = ()
    windows: tuple[DescribedWindow, ...] = ()
    terms: tuple[DescribedTerm, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        lines = [f"Program: {self.program}"]
        lines += [f"{i}. {s}" for i, s in enumerate(self.sentences, 1)]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def to_dict(self) -> dict:
        """Return the description as plain data (lists, dicts, numbers, strings).

        Returns
        -------
        dict
            ``program``, ``sentences``, ``conditions``, ``windows``,
            ``terms`` and ``notes``.
        """
        return {
            "program": self.program,
            "sentences": list(self.sentences),
            "conditions": [asdict(c) for c in self.conditions],
            "windows": [asdict(w) for w in self.windows],
            "terms": [asdict(t) for t in self.terms],
            "notes": list(self.notes),
        }

    def to_markdown(self) -> str:
        """Return the description as Markdown: the sentences, then tables.

        Returns
        -------
        str
            A numbered list, then tables of the conditions, windows and terms.
        """

        def cell(v: Any) -> str:
            if v is None:
                return ""
            if isinstance(v, float):
                return fmt(v)
            if isinstance(v, tuple):
                return " to ".join(cell(x) for x in v)
            return str(v).replace("|", "\\|")

        out = [f"**Program:** `{self.program}`", ""]
        out += [f"{i}. {s}" for i, s in enumerate(self.sentences, 1)]
        if self.notes:
            out += [""] + [f"*Note:* {n}" for n in self.notes]
        tables = (
            (
                "Conditions",
                self.conditions,
                ("role", "quantity", "unit", "threshold", "above", "blend"),
            ),
            ("Windows", self.windows, ("production", "kind", "lags", "seconds")),
            ("Terms", self.terms, ("value", "quantity", "unit", "weight", "reference")),
        )
        for title, rows, cols in tables:
            if not rows:
                continue
            out += ["", f"**{title}**", "", "| " + " | ".join(cols) + " |"]
            out.append("|" + "---|" * len(cols))
            for r in rows:
                out.append("| " + " | ".join(cell(getattr(r, c)) for c in cols) + " |")
        return "\n".join(out) + "\n"


# the writer --------------------------------------------------------------------------


@dataclass
class _Form:
    """One output of a linear form in input units: ``constant + sum(a * value)``."""

    terms: list[tuple[Quantity, float, float]]  # (quantity, a, program weight)
    constant: float
    scaled_bias: float


class Writer:
    """Writes a described program as numbered sentences and data.

    Parameters
    ----------
    ctx : Context
        Names, units, scaler, classes.
    expr : Expression
        What the program's root computes.
    windows : list of tuple
        ``(node, operator)`` from the :class:`Describer`.
    program : str
        The program's readable form.
    """

    def __init__(self, ctx: Context, expr: Expression, windows: list, program: str):
        self.ctx = ctx
        self.expr = expr
        self.windows_seen = windows
        self.program = program
        self.sentences: list[str] = []
        self.conditions: list[DescribedCondition] = []
        self.terms: list[DescribedTerm] = []
        self.notes: list[str] = []
        self._queue: list[tuple[str, Expression]] = []
        self._names: dict[int, str] = {}
        self._sources: set[int] = set()
        self._letters = iter("ABCDEFGHJKLMNPQRSUVWXYZ")

    # forms -----------------------------------------------------------------------
    def form(self, lin: Linear, o: int = 0) -> _Form:
        """Output ``o`` of ``lin`` in input units."""
        terms = []
        constant = float(lin.bias[o])
        for t in lin.terms:
            w = float(t.weight[o])
            if not w:
                continue
            q = quantity(self.ctx, t.source, t.ops)
            a = w * q.factor
            terms.append((q, a, w))
            constant -= a * q.reference
            self._sources.add(t.source)
        return _Form(terms, constant, lin.bias[o])

    def form_text(self, f: _Form, limit: bool = True) -> str:
        """``"10.32 - 0.06021 * (...)"``; past MAX_TERMS terms, the largest only."""
        if not f.terms:
            return fmt(f.constant)
        many = len(f.terms) > MAX_TERMS + 1
        order = sorted(f.terms, key=lambda t: -abs(self._per_scale(t[0], t[1])))
        shown = order[:MAX_TERMS] if (limit and many) else f.terms
        parts = [fmt(f.constant)] if f.constant else []
        for q, a, _ in shown:
            text = q.times(abs(a))
            if self.ctx.scaled and len(f.terms) > 1 and q.source < self.ctx.n_features:
                per = abs(self._per_scale(q, a))
                unit = q.value(abs(self.ctx.scale[q.source]))
                text += f" ({fmt(per)} per {unit}, its scaler unit)"
            if parts:
                parts.append(f"{'-' if a < 0 else '+'} {text}")
            else:
                parts.append(f"-{text}" if a < 0 else text)
        out = " ".join(parts)
        if limit and many:
            rest = order[MAX_TERMS:]
            biggest = max(abs(self._per_scale(q, a)) for q, a, _ in rest)
            out += (
                f", and {len(rest)} more terms (each at most {fmt(biggest)} per "
                "scaler unit of its feature)"
            )
        return out

    def _per_scale(self, q: Quantity, a: float) -> float:
        if q.source < self.ctx.n_features:
            return a * abs(float(self.ctx.scale[q.source]))
        return a

    def record_terms(self, name: str, lin: Linear) -> None:
        """Add the terms of ``lin`` to :attr:`terms`, as the value ``name``."""
        multi = lin.size > 1
        for o in range(lin.size):
            for q, a, _ in self.form(lin, o).terms:
                self.terms.append(
                    DescribedTerm(
                        name,
                        self.output_name(o, lin.size) if multi else None,
                        q.feature,
                        q.unit,
                        q.text,
                        a,
                        self._per_scale(q, a),
                        q.reference,
                    )
                )

    # values ------------------------------------------------------------------------
    def name(self, expr: Expression) -> str:
        """A short text for ``expr``: inline when simple, else a letter defined later."""
        if isinstance(expr, Linear) and expr.size == 1:
            f = self.form(expr)
            if len(f.terms) <= 1:
                return self.form_text(f)
        if isinstance(expr, Linear) and expr.is_constant:
            return self._per_class(expr.bias)
        key = id(expr)
        if key not in self._names:
            letter = next(self._letters, None) or f"V{len(self._names) + 1}"
            self._names[key] = letter
            self._queue.append((letter, expr))
        return self._names[key]

    def output_name(self, o: int, size: int) -> str:
        """``"class <label>"`` for the scores' outputs, else ``"entry <o>"``."""
        if size == self.expr.size and size > 1:
            return f"class {self.ctx.class_name(o)}"
        return f"entry {o}"

    def _per_class(self, values: tuple[float, ...]) -> str:
        pairs = ", ".join(
            f"{fmt(v)} for {self.output_name(o, len(values))}"
            for o, v in enumerate(values)
        )
        return f"({pairs})"

    def define(self, name: str, expr: Expression) -> None:
        """Add the sentence that defines the value ``name``."""
        if isinstance(expr, Linear):
            self.record_terms(name, expr)
            if expr.size == 1:
                self.sentences.append(f"{name} is {self.form_text(self.form(expr))}.")
            else:
                per = "; ".join(
                    f"for {self.output_name(o, expr.size)}: "
                    f"{self.form_text(self.form(expr, o))}"
                    for o in range(expr.size)
                )
                self.sentences.append(f"{name} is, {per}.")
            self.add_notes(expr)
        elif isinstance(expr, Blend):
            self.blend_sentences(name, expr)
        else:
            self.opaque_sentence(name, expr)

    def add_notes(self, lin: Linear) -> None:
        for n in lin.notes:
            if n not in self.notes:
                self.notes.append(n)

    def opaque_sentence(self, name: str, expr: Opaque) -> None:
        args = [self.name(a) for a in expr.args]
        text = expr.template.format(*args)
        if expr.op is not None:
            text = op_phrase(self.ctx, expr.op, text, True)
        note = f" ({expr.note})" if expr.note else ""
        self.sentences.append(f"{name} is {text}{note}.")

    # conditions --------------------------------------------------------------------
    def condition(
        self, cond: Expression, beta: float, then: str, otherwise: str, path
    ) -> tuple[str, str]:
        """``(phrase that selects then, soft-range sentence)`` of an ``ite``."""
        if isinstance(cond, Linear):
            f = self.form(cond)
            self.record_terms(f"condition of {path}", cond)
            self.add_notes(cond)
            if not f.terms:
                s = 1 / (1 + math.exp(-beta * f.constant))
                self.conditions.append(
                    DescribedCondition(
                        "if", path, text=f"the constant {fmt(f.constant)} is above 0"
                    )
                )
                return (
                    f"always, with the constant weight {fmt(s)} on {then} "
                    f"(the condition is the constant {fmt(f.constant)})",
                    "",
                )
            if len(f.terms) == 1:
                q, a, _ = f.terms[0]
                t = -f.constant / a
                side = "above" if a > 0 else "below"
                lo = (-LN9 / beta - f.constant) / a
                hi = (LN9 / beta - f.constant) / a
                reach, reach_text = self.reachable(q, t, side, then, otherwise)
                text = f"{q.text} is {side} {q.value(t)}"
                self.conditions.append(
                    DescribedCondition(
                        "if",
                        path,
                        q.text,
                        q.feature,
                        q.unit,
                        t,
                        a,
                        "then" if a > 0 else "else",
                        (lo, hi),
                        reach,
                        text,
                    )
                )
                span = _span(q, lo, hi, lambda v: _sigmoid(beta * (a * v + f.constant)))
                soft = (
                    "The if-then-else is soft: the weight of the first value goes "
                    f"{span}, and in between the result mixes the two.{reach_text}"
                )
                return text, soft
            lead = max(f.terms, key=lambda t: abs(self._per_scale(t[0], t[1])))
            q, a, _ = lead
            rest = f.constant + sum(
                x[1] * x[0].reference for x in f.terms if x is not lead
            )
            t = -rest / a
            text = f"{self.form_text(f)} is above 0"
            self.conditions.append(
                DescribedCondition(
                    "if",
                    path,
                    above="then",
                    blend=(-LN9 / beta, LN9 / beta),
                    text=text,
                )
            )
            soft = (
                "The if-then-else is soft: the weight of the first value goes from 0.1 "
                f"to 0.9 as that sum goes from {fmt(-LN9 / beta)} to {fmt(LN9 / beta)}; "
                f"with {_others(len(f.terms) - 1)}, that is {q.text} going from "
                f"{q.value((-LN9 / beta - rest) / a)} to "
                f"{q.value((LN9 / beta - rest) / a)} (threshold "
                f"{q.value(t)})."
            )
            return text, soft
        c = self.name(cond)
        self.conditions.append(
            DescribedCondition(
                "if",
                path,
                above="then",
                blend=(-LN9 / beta, LN9 / beta),
                text=f"{c} is above 0",
            )
        )
        soft = (
            "The if-then-else is soft: the weight of the first value goes from 0.1 to "
            f"0.9 as {c} goes from {fmt(-LN9 / beta)} to {fmt(LN9 / beta)}."
        )
        return f"{c} is above 0", soft

    def reachable(self, q: Quantity, t: float, side: str, yes: str, no: str):
        """``(reachable, sentence)``: whether clipping leaves ``t`` inside ``q``'s range."""
        if q.bounds is None:
            return None, ""
        lo, hi = q.bounds
        if lo < t < hi:
            return True, ""
        always = yes if (t <= lo) == (side == "above") else no
        return False, (
            f" The scaler clips {q.feature} to [{q.value(lo)}, {q.value(hi)}], so "
            f"this threshold is never crossed: it is always {always}."
        )

    def blend_sentences(self, name: str, b: Blend) -> None:
        then, otherwise = self.name(b.then), self.name(b.otherwise)
        phrase, soft = self.condition(b.condition, b.beta, then, otherwise, b.path)
        self.sentences.append(
            f"{name} is {then} if {phrase}, and {otherwise} otherwise "
            f"({b.production} at {b.path})." + (f" {soft}" if soft else "")
        )

    # the decision --------------------------------------------------------------------
    def with_offset(self, expr: Expression, off: float) -> Expression:
        """The program's value plus the decision threshold ``off``."""
        if off == 0:
            return expr
        if isinstance(expr, Linear):
            return Linear(expr.terms, tuple(v + off for v in expr.bias), expr.notes)
        if isinstance(expr, Blend):
            return Blend(
                expr.path,
                expr.production,
                expr.beta,
                expr.condition,
                self.with_offset(expr.then, off),
                self.with_offset(expr.otherwise, off),
            )
        return Opaque(
            expr.path,
            expr.production,
            "{0} + " + fmt(off),
            (expr,),
            expr.size,
            "the decision threshold added",
        )

    def subject(self) -> str:
        return {
            "sequence": "for a sequence",
            "frame": "at a frame",
            "row": "for a sample",
        }[self.ctx.label_type]

    def decision(self) -> None:
        ctx = self.ctx
        if self.expr.size > 1:
            self.sentences.append(
                f"Predicts, {self.subject()}, the class with the highest score; the "
                f"scores are {self.name(self.expr)}."
            )
            return
        pos, neg = ctx.class_name(positive=True), ctx.class_name(positive=False)
        score = self.with_offset(self.expr, ctx.logit_offset)
        head = f"Predicts {pos} {self.subject()}"
        if isinstance(score, Linear):
            self.decision_linear(score, head, pos, neg)
        elif (
            isinstance(score, Blend)
            and isinstance(score.then, Linear)
            and isinstance(score.otherwise, Linear)
            and score.then.is_constant
            and score.otherwise.is_constant
            and self.decision_blend(score, head, pos, neg)
        ):
            pass
        else:
            self.sentences.append(
                f"{head} when its score is above 0 (a probability of {pos} above "
                f"0.5), and {neg} otherwise; the score is {self.name(score)}."
            )
        if ctx.logit_offset:
            self.notes.append(
                f"The score includes the tuned decision threshold (logit offset "
                f"{fmt(ctx.logit_offset)})."
            )

    def decision_linear(self, score: Linear, head: str, pos: str, neg: str) -> None:
        f = self.form(score)
        self.record_terms("score", score)
        self.add_notes(score)
        if not f.terms:
            which = pos if f.constant > 0 else neg
            self.sentences.append(
                f"Always predicts {which}: the score is the constant {fmt(f.constant)}."
            )
            return
        if len(f.terms) == 1:
            q, a, _ = f.terms[0]
            t = -f.constant / a
            side = "above" if a > 0 else "below"
            p10, p90 = (-LN9 - f.constant) / a, (LN9 - f.constant) / a
            reach, reach_text = self.reachable(q, t, side, pos, neg)
            self.conditions.append(
                DescribedCondition(
                    "decision",
                    None,
                    q.text,
                    q.feature,
                    q.unit,
                    t,
                    a,
                    pos if a > 0 else neg,
                    (p10, p90),
                    reach,
                    f"{q.text} is {side} {q.value(t)}",
                )
            )
            self.sentences.append(
                f"{head} when {q.text} is {side} {q.value(t)}, and {neg} otherwise."
                + reach_text
            )
            span = _span(q, p10, p90, lambda v: _sigmoid(a * v + f.constant))
            self.sentences.append(
                f"The score is {self.form_text(f)}; the probability of {pos} goes "
                f"{span}."
            )
            return
        lead = max(f.terms, key=lambda t: abs(self._per_scale(t[0], t[1])))
        q, a, _ = lead
        rest = f.constant + sum(x[1] * x[0].reference for x in f.terms if x is not lead)
        t = -rest / a
        side = "above" if a > 0 else "below"
        self.conditions.append(
            DescribedCondition(
                "decision",
                None,
                q.text,
                q.feature,
                q.unit,
                t,
                a,
                pos if a > 0 else neg,
                text=f"{q.text} is {side} {q.value(t)} with "
                f"{_others(len(f.terms) - 1)}",
            )
        )
        self.sentences.append(
            f"{head} when its score is above 0, and {neg} otherwise; the score is "
            f"{self.form_text(f)}."
        )
        self.sentences.append(
            f"The largest term is {q.text}: with {_others(len(f.terms) - 1)}, the "
            f"prediction is {pos} when it is {side} {q.value(t)}."
        )

    def decision_blend(self, score: Blend, head: str, pos: str, neg: str) -> bool:
        """One threshold through an ``ite`` of two constants, when there is one."""
        f, g = score.then.bias[0], score.otherwise.bias[0]
        cond = score.condition
        if f == g or not isinstance(cond, Linear):
            return False
        cf = self.form(cond)
        if len(cf.terms) != 1:
            return False
        s_star = -g / (f - g)  # the gate where the score is 0
        if not 0 < s_star < 1:
            return False
        c_star = math.log(s_star / (1 - s_star)) / score.beta
        q, a, _ = cf.terms[0]
        t = (c_star - cf.constant) / a
        up = (a > 0) == (f > g)  # the score grows with the quantity
        side = "above" if up else "below"
        reach, reach_text = self.reachable(q, t, side, pos, neg)
        self.conditions.append(
            DescribedCondition(
                "decision",
                None,
                q.text,
                q.feature,
                q.unit,
                t,
                None,
                pos if up else neg,
                None,
                reach,
                f"{q.text} is {side} {q.value(t)}",
            )
        )
        self.sentences.append(
            f"{head} when {q.text} is {side} {q.value(t)}, and {neg} otherwise."
            + reach_text
        )
        self.sentences.append(f"The score is {self.name(score)}.")
        return True

    # all -----------------------------------------------------------------------------
    def write(self) -> ProgramDescription:
        """Write the description.

        Returns
        -------
        ProgramDescription
            The sentences and the data.
        """
        self.decision()
        d = self.ctx.delay
        if d:
            self.sentences.insert(
                0,
                f"The decision about frame t is made {d} frame{'s' if d > 1 else ''} "
                f"later{self.ctx.seconds(d)} (future_frames={d}): its windows read "
                f"frames up to t+{d}.",
            )
        while self._queue:
            name, expr = self._queue.pop(0)
            self.define(name, expr)
        self.clip_notes()
        return ProgramDescription(
            self.program,
            tuple(self.sentences),
            tuple(self.conditions),
            tuple(self.window_records()),
            tuple(self.terms),
            tuple(self.notes),
        )

    def clip_notes(self) -> None:
        clipped = []
        for j in sorted(s for s in self._sources if s < self.ctx.n_features):
            r = self.ctx.clip_range(j)
            if r is not None:
                u = self.ctx.unit(j)
                unit = "" if u is None else f" {u}"
                clipped.append(
                    f"{self.ctx.names[j]} to [{fmt(r[0])}, {fmt(r[1])}]{unit}"
                )
        if clipped:
            self.notes.append(
                "The program reads the input after the scaler clips "
                + "; ".join(clipped)
                + ": the thresholds and averages above hold for values inside "
                "these ranges."
            )

    def window_records(self) -> list[DescribedWindow]:
        out = []
        r = self.ctx.frame_rate
        for node, op in self.windows_seen:
            name, path = node.production.name, node.path
            if op is None:
                out.append(
                    DescribedWindow(
                        name,
                        path,
                        "not simplified",
                        None,
                        None,
                        None,
                        None,
                        None,
                        f"{name}(f) over all frames so far, not simplified",
                    )
                )
                continue
            decay = half = None
            frames = None
            if op.kind == "mean":
                lags = (0, op.left)
                frames = op.left + 1
            elif op.kind == "weights":
                first, last, _ = _lag_range(np.asarray(op.weights))
                lags, frames = (first, last), len(op.weights)
            elif op.kind == "decay":
                decay = op.decay
                if 0 < decay < 1:
                    half = math.log(0.5) / math.log(decay)
                    lags = (0, math.ceil(math.log(1 - MASS) / math.log(decay)) - 1)
                else:
                    lags = None
            else:
                lags, frames = (0, 1), 2
            if lags is not None and self.ctx.delay:  # from the labelled frame
                lags = (lags[0] - self.ctx.delay, lags[1] - self.ctx.delay)
            secs = None if (r is None or lags is None) else (lags[0] / r, lags[1] / r)
            out.append(
                DescribedWindow(
                    name,
                    path,
                    op.kind,
                    lags,
                    frames,
                    secs,
                    decay,
                    half,
                    op_phrase(self.ctx, op, "f", True),
                )
            )
        return out
