"""Why a program predicted what it did: its value split into additive parts.

A program is its own explanation: its logit is a sum of parts that can be
computed exactly. :class:`Explainer` walks the compiled program and asks
each node's kind (:meth:`Kind.explain <sklearn_dpads.grammar.Kind.explain>`)
for its value as a list of :class:`Part`: an affine leaf gives one part per
input and its bias, a sum concatenates its arguments' parts, an
if-then-else multiplies its branches' parts by its gate and one minus it,
windows and linear folds carry each part through their frames (they are
linear), and any other node is one part, its whole value. The parts add up
to the node's value, up to floating-point rounding.

:func:`explain_module` runs the walk on scaled input (float64) and returns a
:class:`ProgramExplanation`: the contributions of every part to the decision
score per sequence (or frame, or row), the gate of every ``ite``, and one
:class:`Reason` per prediction in words.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from sklearn_dpads.describe._algebra import Operator
from sklearn_dpads.describe._words import (
    Context,
    ProgramDescription,
    Quantity,
    fmt,
    quantity,
)
from sklearn_dpads.program import TypedNode, typecheck
from sklearn_dpads.semantics.compile import ProgramModule
from sklearn_dpads.semantics.ops import last_step, lengths_to_mask, zero_padding

__all__ = [
    "ExplainedCondition",
    "ExplainedTerm",
    "Explainer",
    "Part",
    "ProgramExplanation",
    "Reason",
    "explain_module",
]

#: Sequences explained in one pass, and frames: the parts of a pass hold about
#: ``FRAMES`` frames each (bounds their memory on long recordings).
BATCH = 256
FRAMES = 200_000
#: A reason lists this many contributions, the largest first.
SHOWN = 6


@dataclass(frozen=True)
class Part:
    """One additive part of a node's value.

    Parameters
    ----------
    value : torch.Tensor
        Shaped like the node's output: ``(N, k)`` for an atom input,
        ``(B, T, k)`` for a sequence input.
    signal : torch.Tensor or None
        The summary of the scaled input the part reads (before its weight
        and gates), ``value``'s shape with one output; None when unknown.
    role : {"input", "bias", "whole"}
        A weighted summary of one input, a constant, or the whole value of a
        node that is not split.
    origin : tuple of int
        Path of the node that produced it.
    source : int or None
        The input read (``"input"`` parts).
    ops : tuple of Operator
        The operators the input went through, innermost first.
    branches : tuple of tuple
        ``(ite path, "then" or "else")`` of the if-then-else branches it is in.
    """

    value: torch.Tensor
    signal: torch.Tensor | None
    role: str
    origin: tuple[int, ...]
    source: int | None = None
    ops: tuple[Operator, ...] = ()
    branches: tuple[tuple[tuple[int, ...], str], ...] = ()

    def mapped(self, fn: Any, op: Operator | None = None, first: bool = False) -> Part:
        """Apply a linear map over frames to the value (and the signal).

        Parameters
        ----------
        fn : callable
            Maps a tensor to a tensor (applied to the value and the signal).
        op : Operator, optional
            The operator it is, added after the part's operators (before
            them with ``first``).
        first : bool, default=False
            The map transforms the input (a frame difference).

        Returns
        -------
        Part
            The mapped part.
        """
        ops = self.ops
        if op is not None and self.role == "input":
            ops = (op,) + ops if first else ops + (op,)
        signal = None if self.signal is None else fn(self.signal)
        return replace(self, value=fn(self.value), signal=signal, ops=ops)

    def scaled(self, factor: torch.Tensor) -> Part:
        """Multiply the value by ``factor`` (a readout weight, a constant).

        Parameters
        ----------
        factor : torch.Tensor
            Broadcast against the value.

        Returns
        -------
        Part
            The scaled part (its signal unchanged).
        """
        return replace(self, value=self.value * factor)

    def gated(self, gate: torch.Tensor, path: tuple[int, ...], branch: str) -> Part:
        """Multiply the value by an if-then-else's gate, as part of ``branch``.

        Parameters
        ----------
        gate : torch.Tensor
            The gate (or one minus it), broadcast against the value.
        path : tuple of int
            The ``ite`` node.
        branch : {"then", "else"}
            Which branch the part is in.

        Returns
        -------
        Part
            The part, in the branch.
        """
        return replace(
            self, value=self.value * gate, branches=self.branches + ((path, branch),)
        )


class Explainer:
    """Splits a compiled program's value into parts, through the kinds' hooks.

    Parameters
    ----------
    module : ProgramModule
        The compiled program (in float64).

    Attributes
    ----------
    n_features : int
        Features per frame.
    """

    def __init__(self, module: ProgramModule) -> None:
        self.module = module
        self.n_features = module.dsl.n_features

    def module_of(self, node: TypedNode) -> Any:
        """Return the production module of ``node``.

        Parameters
        ----------
        node : TypedNode
            A node of the program.

        Returns
        -------
        ProductionModule
            Its module (its arguments included).
        """
        return self.module.node(node.path)

    def parts(
        self, node: TypedNode, x: torch.Tensor, mask: torch.Tensor | None
    ) -> list[Part]:
        """Return the value of ``node`` on ``x`` as additive parts.

        Parameters
        ----------
        node : TypedNode
            The node.
        x : torch.Tensor
            Its input, as its module takes it.
        mask : torch.Tensor or None
            The real frames of a sequence input; None for an atom input.

        Returns
        -------
        list of Part
            Parts that add up to the node's value.
        """
        module = self.module_of(node)
        return node.production.kind.explain(self, node, module, x, mask)

    def value(
        self, node: TypedNode, x: torch.Tensor, mask: torch.Tensor | None
    ) -> torch.Tensor:
        """Return the value of ``node`` on ``x`` (its module's output).

        Parameters
        ----------
        node : TypedNode
            The node.
        x : torch.Tensor
            Its input.
        mask : torch.Tensor or None
            The real frames of a sequence input.

        Returns
        -------
        torch.Tensor
            The module's output.
        """
        return self.module_of(node)(x, mask, None)

    def whole(
        self, node: TypedNode, x: torch.Tensor, mask: torch.Tensor | None
    ) -> list[Part]:
        """Return the node's value as one part (a node that is not split).

        Parameters
        ----------
        node : TypedNode
            The node.
        x : torch.Tensor
            Its input.
        mask : torch.Tensor or None
            The real frames of a sequence input.

        Returns
        -------
        list of Part
            One part of role ``"whole"``.
        """
        return [Part(self.value(node, x, mask), None, "whole", node.path)]

    def input_part(
        self,
        node: TypedNode,
        source: int,
        value: torch.Tensor,
        signal: torch.Tensor | None,
    ) -> Part:
        """Return a weighted input as a part.

        Parameters
        ----------
        node : TypedNode
            The leaf reading it.
        source : int
            The input (a feature index).
        value : torch.Tensor
            The weighted input, shaped like the node's output.
        signal : torch.Tensor or None
            The input itself (one column), or None.

        Returns
        -------
        Part
            A part of role ``"input"``.
        """
        return Part(value, signal, "input", node.path, int(source))

    def bias_part(self, node: TypedNode, value: torch.Tensor) -> Part:
        """Return a constant (a bias) as a part.

        Parameters
        ----------
        node : TypedNode
            The node adding it.
        value : torch.Tensor
            The constant, shaped like the node's output.

        Returns
        -------
        Part
            A part of role ``"bias"``.
        """
        return Part(value, None, "bias", node.path)

    def operator(self, node: TypedNode, kind: str, **params: Any) -> Operator:
        """Return an operator over frames applied by ``node`` (as the description's).

        Parameters
        ----------
        node : TypedNode
            The node applying it.
        kind : {"mean", "weights", "decay", "change"}
            See :class:`~sklearn_dpads.describe._algebra.Operator`.
        **params
            ``left``, ``weights``, ``decay`` or ``style``.

        Returns
        -------
        Operator
            The operator.
        """
        return Operator(kind, node.production.name, node.path, **params)


# the result --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExplainedTerm:
    """One additive term of the decision score.

    Parameters
    ----------
    text : str
        What it is, in words.
    role : {"input", "bias", "whole", "offset"}
        A weighted summary of one input, a constant, the value of a node that
        is not split, or the tuned decision threshold.
    feature : str or None
        The feature it reads.
    quantity : str or None
        The summary it reads (``role="input"``).
    unit : str or None
        The quantity's unit.
    reference : float or None
        The quantity's value at which the term is zero.
    path : tuple of int or None
        The node that produced it.
    branches : tuple of tuple
        ``(ite path, "then" or "else")`` of the branches it is in.
    """

    text: str
    role: str
    feature: str | None
    quantity: str | None
    unit: str | None
    reference: float | None
    path: tuple[int, ...] | None
    branches: tuple[tuple[tuple[int, ...], str], ...]


@dataclass(frozen=True)
class ExplainedCondition:
    """An ``ite`` of the program, as its gates are reported.

    Parameters
    ----------
    path : tuple of int
        The ``ite`` node.
    text : str
        Its condition in words.
    quantity : str or None
        The summary its condition thresholds, when it is one.
    unit : str or None
        Its unit.
    threshold : float or None
        Where the gate is 0.5, in input units.
    in_input_units : bool
        Whether ``condition_values`` hold the quantity (True) or the
        condition's own value (False).
    aggregated : str or None
        The production that averages the ``ite`` over frames, if any (its
        gate is then the one at the frame explained).
    """

    path: tuple[int, ...]
    text: str
    quantity: str | None
    unit: str | None
    threshold: float | None
    in_input_units: bool
    aggregated: str | None


@dataclass(frozen=True)
class Reason:
    """Why one prediction was made: the score's parts and the branches taken.

    Parameters
    ----------
    sample : int
        The sequence (or row).
    frame : int or None
        The frame, for per-frame labels.
    prediction : object
        The predicted class.
    score : float or ndarray
        The decision score (per class for multiclass programs).
    probability : float
        The probability of the predicted class.
    contributions : tuple of tuple
        ``(term text, contribution, quantity value or None, the quantity's
        centre or None, unit)`` for the terms of the predicted class's score,
        the largest first; they add up to the score.
    branches : tuple of tuple
        ``(ite path, condition text, value, unit, gate, branch taken)``.
    label_type : str
        ``"sequence"``, ``"frame"`` or ``"row"``.
    """

    sample: int
    frame: int | None
    prediction: Any
    score: Any
    probability: float
    contributions: tuple
    branches: tuple
    label_type: str

    def __str__(self) -> str:
        where = {
            "sequence": f"Sequence {self.sample}",
            "row": f"Sample {self.sample}",
            "frame": f"Sequence {self.sample}, frame {self.frame}",
        }[self.label_type]
        score = self.score
        total = float(np.sum([c[1] for c in self.contributions]))
        if np.ndim(score):
            head = f"score of {self.prediction} {fmt(total)}"
        else:
            head = f"score {fmt(float(score))}"
        lines = [
            f"{where}: predicted {self.prediction} ({head}, probability "
            f"{self.probability:.3f})."
        ]
        lines.append("  Contributions to the score, largest first:")
        shown = self.contributions[:SHOWN]
        for text, v, q, ref, unit in shown:
            said = ""
            if q is not None:
                u = "" if unit is None else f" {unit}"
                said = f" = {fmt(q)}{u}"
                if ref is not None and math.isfinite(ref) and q != ref:
                    side = "above" if q > ref else "below"
                    said += f", {fmt(abs(q - ref))}{u} {side} its centre {fmt(ref)}{u}"
            lines.append(f"    {v:+.4g}  {text}{said}")
        rest = self.contributions[SHOWN:]
        if rest:
            lines.append(
                f"    {sum(c[1] for c in rest):+.4g}  {len(rest)} more terms together"
            )
        for path, text, value, unit, gate, taken in self.branches:
            v = fmt(value) + ("" if unit is None else f" {unit}")
            lines.append(
                f"  ite at {path}: {text} (value {v}): took {taken} (weight of then "
                f"{gate:.3f})."
            )
        return "\n".join(lines)


class ProgramExplanation:
    """The additive contributions of a program's terms to each prediction.

    ``contributions`` sums over its term axis to ``decision`` (the decision
    function: the logit plus the tuned threshold, whose term is listed),
    exactly up to floating-point rounding. ``expl[i]`` is the :class:`Reason`
    of sequence (or row) ``i``; for per-frame labels, the list of the
    reasons of its real frames (``expl.reason(i, t)`` for one).

    Parameters
    ----------
    label_type : {"sequence", "frame", "row"}
        What one prediction is about.
    classes : ndarray
        The class labels.
    terms : tuple of ExplainedTerm
        The terms, in program order (the decision threshold last).
    contributions : ndarray
        ``(n, n_terms)``, ``(n, T, n_terms)`` for per-frame labels, with a
        last axis of classes for multiclass programs; NaN on padding frames.
    quantities : ndarray
        The value of each term's quantity in input units, shaped like
        ``contributions`` without the class axis (NaN where there is none).
    decision : ndarray
        The decision function, ``(n,)`` or ``(n, T)`` (plus a class axis for
        multiclass), NaN on padding frames.
    conditions : tuple of ExplainedCondition
        The program's ``ite`` nodes.
    condition_values : ndarray
        ``(n, n_ite)`` or ``(n, T, n_ite)``: each condition's quantity in
        input units (or its own value, see ``in_input_units``) at the frame
        explained.
    gates : ndarray
        The weight of each ``ite``'s then-branch, shaped like
        ``condition_values``.
    lengths : ndarray or None
        Real frames per sequence (sequence input).
    description : ProgramDescription
        The description the terms' words come from.
    """

    def __init__(
        self,
        label_type: str,
        classes: np.ndarray,
        terms: tuple[ExplainedTerm, ...],
        contributions: np.ndarray,
        quantities: np.ndarray,
        decision: np.ndarray,
        conditions: tuple[ExplainedCondition, ...],
        condition_values: np.ndarray,
        gates: np.ndarray,
        lengths: np.ndarray | None,
        description: ProgramDescription,
    ) -> None:
        self.label_type = label_type
        self.classes = classes
        self.terms = terms
        self.contributions = contributions
        self.quantities = quantities
        self.decision = decision
        self.conditions = conditions
        self.condition_values = condition_values
        self.gates = gates
        self.lengths = lengths
        self.description = description

    @property
    def predictions(self) -> np.ndarray:
        """The predicted labels (``classes`` of the decision)."""
        d = self.decision
        if d.ndim and len(self.classes) > 2:
            return self.classes[np.nan_to_num(d, nan=-np.inf).argmax(axis=-1)]
        return self.classes[(np.nan_to_num(d) > 0).astype(int)]

    def __len__(self) -> int:
        return len(self.contributions)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, i: int) -> Reason | list[Reason]:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"sample {i} out of range for {n} samples.")
        i = i % n
        if self.label_type != "frame":
            return self.reason(i)
        return [self.reason(i, t) for t in range(int(self.lengths[i]))]

    def __repr__(self) -> str:
        return (
            f"<ProgramExplanation of {len(self)} {self.label_type} prediction(s), "
            f"{len(self.terms)} terms>"
        )

    def reason(self, sample: int, frame: int | None = None) -> Reason:
        """Return the reason of one prediction.

        Parameters
        ----------
        sample : int
            The sequence (or row).
        frame : int, optional
            The frame, for per-frame labels (required then).

        Returns
        -------
        Reason
            Its score, its terms' contributions (largest first) and the
            branches taken.

        Raises
        ------
        ValueError
            If ``frame`` is missing for per-frame labels, given otherwise,
            or not a real frame of the sequence.
        """
        if self.label_type == "frame":
            if frame is None:
                raise ValueError("Per-frame predictions need a frame: reason(i, t).")
            if not 0 <= frame < int(self.lengths[sample]):
                raise ValueError(
                    f"Frame {frame} is not a real frame of sequence {sample} "
                    f"({int(self.lengths[sample])} frames)."
                )
            at = (sample, frame)
        else:
            if frame is not None:
                raise ValueError(
                    "Per-sequence predictions have one reason each: reason(i)."
                )
            at = (sample,)
        score = self.decision[at]
        multi = np.ndim(score) > 0
        if multi:
            o = int(np.argmax(score))
            contrib = self.contributions[at][:, o]
            z = score - np.max(score)
            proba = float(np.exp(z[o]) / np.exp(z).sum())
            prediction = self.classes[o]
        else:
            contrib = self.contributions[at]
            p1 = 1.0 / (1.0 + math.exp(-float(score)))
            prediction = self.classes[int(score > 0)]
            proba = p1 if score > 0 else 1 - p1
        qs = self.quantities[at]
        rows = []
        for j in np.argsort(-np.abs(contrib), kind="stable"):
            t = self.terms[j]
            q = None if not np.isfinite(qs[j]) else float(qs[j])
            rows.append((t.text, float(contrib[j]), q, t.reference, t.unit))
        branches = []
        for k, c in enumerate(self.conditions):
            g = float(self.gates[at][k])
            text = c.text
            if c.aggregated is not None:
                text += f" (at this frame; {c.aggregated} combines it over frames)"
            branches.append(
                (
                    c.path,
                    text,
                    float(self.condition_values[at][k]),
                    c.unit if c.in_input_units else None,
                    g,
                    "then" if g >= 0.5 else "else",
                )
            )
        return Reason(
            sample,
            frame,
            prediction,
            score,
            proba,
            tuple(rows),
            tuple(branches),
            self.label_type,
        )


# the walk on data ----------------------------------------------------------------------


def _term(
    ctx: Context, module: ProgramModule, part: Part
) -> tuple[ExplainedTerm, Quantity | None]:
    """The words of a part, and its quantity."""
    q = None
    if part.role == "input":
        q = quantity(ctx, part.source, part.ops)
        text, feature, unit, ref = q.text, q.feature, q.unit, q.reference
    elif part.role == "bias":
        symbol = dict(module.program.walk())[part.origin].symbol
        prod = module.dsl[symbol]
        text = "constant" if prod.kind.constant_leaf else f"bias of {symbol}"
        feature = unit = ref = None
    else:
        sub = dict(module.program.walk())[part.origin]
        text = f"{sub.pretty(module.dsl)} (not split)"
        feature = unit = ref = None
    if part.branches:
        where = ", ".join(f"{b} branch of ite at {p}" for p, b in part.branches)
        text = f"{text} [{where}]"
    term = ExplainedTerm(
        text,
        part.role,
        feature,
        None if q is None else q.text,
        unit,
        ref,
        part.origin,
        part.branches,
    )
    return term, q


def _aggregating(root: TypedNode) -> dict[tuple[int, ...], str]:
    """``{ite path: production}`` for the ``ite`` nodes below a node that averages frames.

    A node with a sequence input and an atom output whose child reads atoms
    (a window, a fold) evaluates that child at every frame and combines the
    frames.
    """
    out: dict[tuple[int, ...], str] = {}

    def walk(node: TypedNode, under: str | None) -> None:
        if node.production.kind.branching and under is not None:
            out[node.path] = under
        for c in node.children:
            agg = under
            h = node.hole
            if h.input.is_seq and not h.output.is_seq and not c.hole.input.is_seq:
                agg = node.production.name
            walk(c, agg)

    walk(root, None)
    return out


def _gates(module: ProgramModule, typed: TypedNode, x, lengths, B: int, T: int):
    """``{ite path: condition values (B, T)}`` from one forward pass, via hooks."""
    ites = {}

    def nodes(n: TypedNode):
        yield n
        for c in n.children:
            yield from nodes(c)

    for n in nodes(typed):
        if n.production.kind.branching:
            ites[n.path] = (module.node(n.path), [])
    hooks = [
        m.args[0].register_forward_hook(
            lambda mod, args, out, store=store: store.append(out.detach())
        )
        for m, store in ites.values()
    ]
    try:
        logits = module(x, lengths) if lengths is not None else module(x)
    finally:
        for h in hooks:
            h.remove()
    values = {}
    for path, (_, store) in ites.items():
        if not store:  # never evaluated (inside a linear fold body)
            values[path] = torch.full((B, T), math.nan, dtype=x.dtype)
            continue
        if len(store) == 1:
            v = store[0][..., 0]
        else:  # a fold body: one call per frame
            v = torch.stack([s[..., 0] for s in store], dim=1)
        values[path] = v.reshape(B, T) if v.numel() == B * T else v[:, :T]
    return logits, values


def _batch(
    m: ProgramModule,
    typed: TypedNode,
    explainer: Explainer,
    words: Any,
    x: torch.Tensor,
    lengths: torch.Tensor | None,
    offset: float,
    ite_paths: list,
    conds: dict,
) -> list[np.ndarray]:
    """Explain one batch: the root's parts at the predictions, and the gates.

    ``words(parts)`` returns the quantity of every part (None where there is
    none). Returns the contributions, quantities, decision, condition values
    and gates.
    """
    hole = m.hole
    seq_in, seq_out = hole.input.is_seq, hole.output.is_seq
    if seq_in:
        B, T = x.shape[0], x.shape[1]
        mask = lengths_to_mask(lengths, T)
        parts = explainer.parts(typed, zero_padding(x, mask), mask)
    else:
        B, T = x.shape[0], 1
        parts = explainer.parts(typed, x, None)
    logits, cvals = _gates(m, typed, x, lengths, B, T)
    quants = words(parts)
    values = [p.value for p in parts]
    signals = [p.signal for p in parts]
    if seq_in and not seq_out:  # the value at each sequence's last real frame
        values = [last_step(v, lengths) for v in values]
        signals = [None if s is None else last_step(s, lengths) for s in signals]
        at = {p: last_step(v[..., None], lengths)[:, 0] for p, v in cvals.items()}
    elif seq_in:
        at = cvals
    else:
        at = {p: v[:, 0] for p, v in cvals.items()}
    contrib = torch.stack(values, dim=-2)  # (..., n_parts, k)
    lead = contrib.shape[:-2]
    qv = []
    for q, s in zip(quants, signals):
        if q is None or s is None or not q.factor or not math.isfinite(q.reference):
            qv.append(torch.full(lead, math.nan, dtype=torch.float64))
        else:
            qv.append(q.reference + s[..., 0] / q.factor)
    qv = torch.stack(qv, dim=-1)
    if hole.output.size == 1:
        off = torch.full(lead + (1,), offset, dtype=torch.float64)
        contrib = torch.cat([contrib[..., 0], off], dim=-1)
        qv = torch.cat([qv, torch.full_like(off, math.nan)], dim=-1)
        decision = logits[..., 0] + offset
    else:
        decision = logits
    cv, gv = [], []
    for p in ite_paths:
        c = at[p]
        gv.append(torch.sigmoid(float(m.leaf(p).beta) * c))
        d = conds.get(p)
        cv.append(d.threshold + c / d.weight if _in_units(d) else c)
    empty = torch.zeros(lead + (0,), dtype=torch.float64)
    cv = torch.stack(cv, -1) if cv else empty
    gv = torch.stack(gv, -1) if gv else empty
    if seq_out:  # padding frames are not predictions
        pad = ~lengths_to_mask(lengths, T)
        for arr in (contrib, qv, decision, cv, gv):
            arr[pad] = math.nan
    return [a.detach().numpy() for a in (contrib, qv, decision, cv, gv)]


def _in_units(d: Any) -> bool:
    """Whether an ``ite``'s condition is a threshold on one quantity."""
    return d is not None and d.threshold is not None and bool(d.weight)


def explain_module(
    module: ProgramModule,
    x: np.ndarray,
    lengths: np.ndarray | None,
    ctx: Context,
    description: ProgramDescription,
    *,
    classes: np.ndarray,
) -> ProgramExplanation:
    """Explain a compiled program's predictions on scaled input.

    Parameters
    ----------
    module : ProgramModule
        The compiled program.
    x : ndarray
        Scaled input: ``(n, T, F)`` sequences padded with zeros, or ``(n, F)``
        rows.
    lengths : ndarray or None
        Real frames per sequence (None for rows).
    ctx : Context
        Names, units, scaler, classes and the decision threshold.
    description : ProgramDescription
        The program's description (for the conditions' words).
    classes : ndarray
        The class labels.

    Returns
    -------
    ProgramExplanation
        Contributions, gates and reasons.
    """
    m = copy.deepcopy(module).double().eval()
    typed = typecheck(m.program, m.dsl, m.hole)
    explainer = Explainer(m)
    hole = m.hole
    label_type = (
        "frame" if hole.output.is_seq else ("sequence" if hole.input.is_seq else "row")
    )
    binary = hole.output.size == 1
    offset = ctx.logit_offset if binary else 0.0
    conds = {c.path: c for c in description.conditions if c.role == "if"}
    ite_paths = [p for p, s in m.program.walk() if m.dsl[s.symbol].kind.branching]
    terms: list[ExplainedTerm] = []
    quants: list[Quantity | None] = []

    def words(parts: list[Part]) -> list[Quantity | None]:
        if not terms:  # the same parts, in the same order, in every batch
            for p in parts:
                t, q = _term(ctx, m, p)
                terms.append(t)
                quants.append(q)
        return quants

    batches = []
    step = BATCH if x.ndim == 2 else max(1, min(BATCH, FRAMES // max(x.shape[1], 1)))
    with torch.no_grad():
        for start in range(0, max(len(x), 1), step):
            xb = torch.as_tensor(np.asarray(x[start : start + step]))
            lb = None
            if lengths is not None:
                lb = torch.as_tensor(lengths[start : start + step], dtype=torch.long)
            batches.append(
                _batch(
                    m,
                    typed,
                    explainer,
                    words,
                    xb.double(),
                    lb,
                    offset,
                    ite_paths,
                    conds,
                )
            )
    if binary:
        terms.append(
            ExplainedTerm(
                "the tuned decision threshold (logit offset)",
                "offset",
                None,
                None,
                None,
                None,
                None,
                (),
            )
        )
    agg = _aggregating(typed)
    conditions = []
    for p in ite_paths:
        d = conds.get(p)
        units = _in_units(d)
        conditions.append(
            ExplainedCondition(
                p,
                d.text if d is not None else f"the condition of ite at {p}",
                d.quantity if d is not None else None,
                d.unit if d is not None else None,
                d.threshold if units else None,
                units,
                agg.get(p),
            )
        )
    arrays = [np.concatenate([b[i] for b in batches]) for i in range(5)]
    return ProgramExplanation(
        label_type,
        np.asarray(classes),
        tuple(terms),
        arrays[0],
        arrays[1],
        arrays[2],
        tuple(conditions),
        arrays[3],
        arrays[4],
        None if lengths is None else np.asarray(lengths),
        description,
    )
