"""One ``nn.Module`` per production kind, and the dispatch from kind to module.

Every module is called as ``module(x, mask, ctx)``:

* atom input: ``x`` is ``(N, d)`` and ``mask`` is None; returns ``(N, k)``;
* sequence input: ``x`` is ``(B, T, d)`` with ``mask`` ``(B, T)``; returns
  ``(B, T, k)`` (per frame, or per prefix for atom-valued functions).

``ctx`` is a per-forward cache used by the derivation graph and by chunked
evaluation (None otherwise). In a chunked evaluation it carries, under
:data:`~sklearn_dpads.semantics.ops.CARRY`, the state of every temporal
module from one chunk of frames to the next: a fold's accumulator, the last
frames of a window, a filter or a frame difference (see
:func:`~sklearn_dpads.semantics.ops.carried`). Production modules call their
arguments through ``self.args``, which hold compiled child modules,
derivation-graph edges or the neural hole fillers of
:mod:`sklearn_dpads.semantics.neural`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.grammar.production import Production
from sklearn_dpads.grammar.types import FunctionType
from sklearn_dpads.semantics.ops import (
    carried,
    causal_filter_chunk,
    frame_differences,
    frames,
    linear_recurrence,
    window_mean_chunk,
)

__all__ = [
    "ProductionModule",
    "MapModule",
    "MapPrefixesModule",
    "FoldModule",
    "WindowModule",
    "IteModule",
    "AddModule",
    "MultiplyModule",
    "ElementwiseModule",
    "AffineModule",
    "ConstantModule",
    "FilterModule",
    "DifferenceModule",
    "build_production_module",
]


_SLOTS_DOC = """
    Parameters
    ----------
    production : Production
        The production this module applies.
    hole : FunctionType
        The hole the production fills.
    child_types : tuple of FunctionType
        Types of the argument slots, as given by
        :meth:`Production.child_types <sklearn_dpads.grammar.Production.child_types>`.
"""

_FORWARD_DOC = """{summary}

        Parameters
        ----------
        x : torch.Tensor
            Input, ``(B, T, d)`` for a sequence-input hole or ``(N, d)`` for an
            atom-input hole.
        mask : torch.Tensor or None
            Boolean ``(B, T)`` mask of the real frames of a sequence input; None
            for an atom input.
        ctx : dict or None, default=None
            Per-forward cache of the derivation graph or of a chunked
            evaluation (None otherwise).

        Returns
        -------
        torch.Tensor
            {returns}
        """


def _shared_docs(returns: str):
    """Complete a production module's docstrings with the shared sections.

    Every production module takes the same constructor arguments and is called
    as ``forward(x, mask, ctx)``; only the summary and what ``forward``
    returns differ, so those are all a module writes.
    """

    def decorate(cls):
        cls.__doc__ = cls.__doc__.rstrip() + "\n" + _SLOTS_DOC
        cls.forward.__doc__ = _FORWARD_DOC.format(
            summary="Apply the production to ``x``.", returns=returns
        )
        return cls

    return decorate


def forward_doc(summary: str, returns: str):
    """Give a ``forward(x, mask, ctx)`` method the shared numpydoc docstring.

    Parameters
    ----------
    summary : str
        The docstring's first line.
    returns : str
        What the method returns.

    Returns
    -------
    callable
        A decorator that sets the method's ``__doc__``.
    """

    def decorate(method):
        method.__doc__ = _FORWARD_DOC.format(summary=summary, returns=returns)
        return method

    return decorate


class ProductionModule(nn.Module):
    """Base class: a production applied to argument callables.

    Every module is called as ``module(x, mask, ctx)`` (see the module
    docstring); arguments are attached with :meth:`set_args`.

    Parameters
    ----------
    production : Production
        The production this module applies.
    hole : FunctionType
        The hole the production fills.
    child_types : tuple of FunctionType
        Types of the argument slots, as given by
        :meth:`Production.child_types <sklearn_dpads.grammar.Production.child_types>`.
    """

    def __init__(self, production: Production, hole: FunctionType, child_types: tuple):
        super().__init__()
        self.production = production
        self.hole = hole
        self.child_types = tuple(child_types)
        self.args = nn.ModuleList()

    def set_args(self, args: list[nn.Module]) -> None:
        """Attach argument modules (compiled children, graph edges or fillers).

        Parameters
        ----------
        args : list of torch.nn.Module
            One module per argument slot.
        """
        if len(args) != len(self.child_types):
            raise ValueError(
                f"{self.production.name} takes {len(self.child_types)} argument(s), "
                f"got {len(args)}."
            )
        self.args = nn.ModuleList(args)

    def extra_repr(self) -> str:
        """Return the production name and hole shown in the module's repr.

        Returns
        -------
        str
            ``"name: input -> output"``.
        """
        return f"{self.production.name}: {self.hole}"


@_shared_docs(returns="``(B, T, k)``: ``f`` of every frame.")
class MapModule(ProductionModule):
    """``map f xs``: apply the atom function ``f`` to every frame."""

    def forward(self, x, mask, ctx=None):
        B, T, _ = x.shape
        return self.args[0](frames(x, ctx), None, ctx).reshape(B, T, -1)


@_shared_docs(returns="``(B, T, k)``: ``f`` of every prefix ``x[:, :t+1]``.")
class MapPrefixesModule(ProductionModule):
    """``map_prefixes f xs``: apply the sequence function ``f`` to every prefix."""

    def forward(self, x, mask, ctx=None):
        return self.args[0](x, mask, ctx)


@_shared_docs(
    returns="``(B, T, k)``: the accumulator (or its readout) after every prefix "
    "(unchanged on padding)."
)
class FoldModule(ProductionModule):
    """``fold f xs``: ``a_t = f([x_t; a_{t-1}])`` from ``a_0 = 0``.

    With a ``width`` in the production's parameters the state ``a_t`` has
    that many entries and an affine ``readout`` maps it to the output. In a
    chunked evaluation the accumulator after a chunk starts the next one.
    """

    def __init__(self, production, hole, child_types):
        super().__init__(production, hole, child_types)
        width = production.params.get("width")
        self.width = width or hole.output.size
        self.readout = None if width is None else nn.Linear(width, hole.output.size)

    def forward(self, x, mask, ctx=None):
        states = self._states(x, mask, ctx)
        return states if self.readout is None else self.readout(states)

    def _states(self, x, mask, ctx):
        carry = carried(ctx)
        initial = None if carry is None else carry.get(self)
        states = self._run(x, mask, ctx, initial)
        if carry is not None and states.shape[1]:
            # padding keeps the state: the last entry is the last real frame's
            carry[self] = states[:, -1].clone()
        return states

    def _run(self, x, mask, ctx, initial):
        B, T, n_in = x.shape
        k = self.width
        linear = _linear_body(self.args[0], n_in, k)
        if linear is not None:
            # an affine body: a_t = A a_{t-1} + W x_t + b, all frames at once
            w_x, coef, bias = linear
            drive = torch.where(mask[..., None], F.linear(x, w_x, bias), 0.0)
            eye = torch.eye(k, dtype=x.dtype, device=x.device)
            coef = torch.where(mask[..., None, None], coef, eye)
            return linear_recurrence(coef, drive, initial)
        a = x.new_zeros(B, k) if initial is None else initial
        outs = []
        # without padding every step updates (checked on the CPU only: on a
        # GPU the check would synchronise with the host)
        padded = x.device.type != "cpu" or not bool(mask.all())
        for t in range(T):
            new = self.args[0](torch.cat([x[:, t], a], dim=1), None, ctx)
            # where, not a 0/1 blend: 0 * inf would poison later real frames
            a = torch.where(mask[:, t, None], new, a) if padded else new
            outs.append(a)
        return torch.stack(outs, dim=1)


def _linear_body(body, n_in: int, k: int):
    """``(W_x, A, b)`` when a compiled fold body is affine in its input, else None.

    A body of affine leaves and constants combined by ``add`` computes
    ``W [x; a] + b``; it is split into the frame part ``W_x`` (``k, n_in``),
    the accumulator part ``A`` (``k, k``) and the bias.
    """
    leaves, stack = [], [body]
    while stack:
        m = stack.pop()
        if type(m) is AddModule:
            stack.extend(m.args)
        elif type(m) in (AffineModule, ConstantModule):
            leaves.append(m)
        else:  # a nonlinear production or a derivation-graph edge
            return None
    some = next(iter(leaves[0].parameters()))
    weight = some.new_zeros(k, n_in + k)
    bias = some.new_zeros(k)
    for m in leaves:
        if type(m) is ConstantModule:
            bias = bias + m.value
        else:
            weight = weight.index_add(1, m.index, m.linear.weight)
            bias = bias + m.linear.bias
    coef = weight[:, n_in:]
    return weight[:, :n_in], coef, bias


@_shared_docs(returns="``(B, T, k)``: the value at the end of every prefix.")
class WindowModule(ProductionModule):
    """Sliding-window average: the mean of ``f`` over the last ``left + 1`` real frames.

    ``f`` runs on every frame and its outputs are averaged (as in dPads and
    NEAR), so a nonlinear ``f`` keeps its meaning: ``last10_avg(multiply(a, a))``
    is the mean energy over the window, not the energy of the mean. In a
    chunked evaluation the last ``left`` outputs of ``f`` are carried over.
    """

    def forward(self, x, mask, ctx=None):
        B, T, _ = x.shape
        y = self.args[0](frames(x, ctx), None, ctx).reshape(B, T, -1)
        left = int(self.production.params["left"])
        carry = carried(ctx)
        if carry is None:
            return window_mean_chunk(y, mask, left)[0]
        means, carry[self] = window_mean_chunk(y, mask, left, carry.get(self))
        return means


@_shared_docs(returns="The blend of the two branches, shaped like their outputs.")
class IteModule(ProductionModule):
    """Soft if-then-else: ``s(beta*c(x)) * f(x) + (1 - s(beta*c(x))) * g(x)``."""

    def forward(self, x, mask, ctx=None):
        beta = float(self.production.params.get("beta", 1.0))
        g = torch.sigmoid(beta * self.args[0](x, mask, ctx))
        return g * self.args[1](x, mask, ctx) + (1.0 - g) * self.args[2](x, mask, ctx)


@_shared_docs(returns="The sum of the two arguments' outputs.")
class AddModule(ProductionModule):
    """``f(x) + g(x)``."""

    def forward(self, x, mask, ctx=None):
        return self.args[0](x, mask, ctx) + self.args[1](x, mask, ctx)


@_shared_docs(returns="The element-wise product of the two arguments' outputs.")
class MultiplyModule(ProductionModule):
    """``f(x) * g(x)`` element-wise."""

    def forward(self, x, mask, ctx=None):
        return self.args[0](x, mask, ctx) * self.args[1](x, mask, ctx)


@_shared_docs(returns="``function(f_1(x), ..., f_arity(x))``.")
class ElementwiseModule(ProductionModule):
    """A user element-wise function of the arguments' outputs."""

    def forward(self, x, mask, ctx=None):
        fn = self.production.params["function"]
        return fn(*[a(x, mask, ctx) for a in self.args])


class AffineModule(ProductionModule):
    """``W [x[indices]; x[n_features:]] + b`` (the tail exists only inside folds).

    Parameters
    ----------
    production : Production
        An affine leaf production.
    hole : FunctionType
        The hole the leaf fills (atom to atom).
    child_types : tuple of FunctionType
        Empty: a leaf has no argument slots.
    n_features : int
        Number of input features of the program; input entries past it are the
        accumulator of an enclosing fold.
    """

    def __init__(self, production, hole, child_types, n_features: int):
        super().__init__(production, hole, child_types)
        d = hole.input.size
        idx = production.params.get("indices")
        if idx is None:
            sel = list(range(d))
        else:
            sel = list(idx) + list(range(n_features, d))
        self.register_buffer(
            "index", torch.tensor(sel, dtype=torch.long), persistent=False
        )
        self.full = sel == list(range(d))
        self.linear = nn.Linear(len(sel), hole.output.size)

    @forward_doc(
        "Apply the affine function to ``x``.", "``(N, k)``: ``W x[selected] + b``."
    )
    def forward(self, x, mask, ctx=None):
        if not self.full:
            x = x.index_select(-1, self.index)
        return self.linear(x)


class ConstantModule(ProductionModule):
    """A learned constant vector, broadcast to the input's leading dimensions.

    Parameters
    ----------
    production : Production
        The production this module applies.
    hole : FunctionType
        The hole the production fills.
    child_types : tuple of FunctionType
        Types of the argument slots, as given by
        :meth:`Production.child_types <sklearn_dpads.grammar.Production.child_types>`.
    """

    def __init__(self, production, hole, child_types):
        super().__init__(production, hole, child_types)
        self.value = nn.Parameter(torch.rand(hole.output.size) * 0.1)

    @forward_doc(
        "Return the constant for every row of ``x``.",
        "``x.shape[:-1] + (k,)``, a copy of the constant in every row.",
    )
    def forward(self, x, mask, ctx=None):
        shape = x.shape[:-1] + (self.value.shape[0],)
        return self.value.expand(shape).clone()


class FilterModule(ProductionModule):
    """A learnable causal temporal filter ``y_t = b + sum_j W_j x_{t-j}[indices]``.

    ``W`` has shape ``(k, K, n)`` (output, lag, selected feature): ``W[:, j]``
    multiplies the frame ``j`` steps back. Frames before the first frame of a
    sequence are taken equal to the first frame, so a constant signal gives a
    constant output; padding never reaches a real frame. The parameters start
    like an ``nn.Linear`` over the ``K * n`` lagged inputs. In a chunked
    evaluation the last ``K - 1`` frames are carried over.

    Parameters
    ----------
    production : Production
        A filter leaf production.
    hole : FunctionType
        The hole the leaf fills (sequence to atom).
    child_types : tuple of FunctionType
        Empty: a leaf has no argument slots.
    n_features : int
        Number of input features of the program.
    """

    def __init__(self, production, hole, child_types, n_features: int):
        super().__init__(production, hole, child_types)
        d = hole.input.size
        idx = production.params.get("indices")
        sel = list(range(d)) if idx is None else list(idx)
        if any(i >= d for i in sel):
            raise GrammarError(
                f"Filter {production.name!r} reads features {sel} but the input "
                f"has {d} features."
            )
        self.register_buffer(
            "index", torch.tensor(sel, dtype=torch.long), persistent=False
        )
        self.full = sel == list(range(d))
        length = int(production.params["length"])
        k = hole.output.size
        bound = 1.0 / math.sqrt(length * len(sel))
        self.weight = nn.Parameter(torch.empty(k, length, len(sel)))
        self.bias = nn.Parameter(torch.empty(k))
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    @forward_doc(
        "Apply the filter at every frame of ``x``.",
        "``(B, T, k)``: the filter output at the end of every prefix.",
    )
    def forward(self, x, mask, ctx=None):
        if not self.full:
            x = x.index_select(-1, self.index)
        carry = carried(ctx)
        if carry is None:
            return causal_filter_chunk(x, mask, self.weight, self.bias)[0]
        y, carry[self] = causal_filter_chunk(
            x, mask, self.weight, self.bias, carry.get(self)
        )
        return y


@_shared_docs(returns="``f`` of the differenced sequence, shaped like its output.")
class DifferenceModule(ProductionModule):
    """``diff f xs``: ``f`` of ``xs'`` with ``xs'_0 = 0``, ``xs'_t = x_t - x_{t-1}``.

    Padding frames of ``xs'`` are zero and stay padding (the mask is passed on
    unchanged). In a chunked evaluation the last frame is carried over.
    """

    def forward(self, x, mask, ctx=None):
        carry = carried(ctx)
        if carry is None:
            return self.args[0](frame_differences(x, mask, ctx), mask, ctx)
        d = frame_differences(x, mask, ctx, carry.get(self))
        if x.shape[1]:
            carry[self] = x[:, -1].clone()
        return self.args[0](d, mask, ctx)


_KIND_TO_CLASS = {
    "map": MapModule,
    "map_prefixes": MapPrefixesModule,
    "fold": FoldModule,
    "window": WindowModule,
    "ite": IteModule,
    "add": AddModule,
    "multiply": MultiplyModule,
    "elementwise": ElementwiseModule,
    "constant": ConstantModule,
    "difference": DifferenceModule,
}


def build_production_module(
    production: Production, hole: FunctionType, child_types: tuple, n_features: int
) -> ProductionModule:
    """Instantiate the module of ``production`` filling ``hole`` (arguments unset).

    Parameters
    ----------
    production : Production
        The production.
    hole : FunctionType
        The hole it fills.
    child_types : tuple of FunctionType
        Types of its argument slots.
    n_features : int
        Number of input features of the program (used by affine and filter
        leaves).

    Returns
    -------
    ProductionModule
        The module; attach its arguments with
        :meth:`~ProductionModule.set_args`.
    """
    if production.kind == "affine":
        return AffineModule(production, hole, child_types, n_features)
    if production.kind == "filter":
        return FilterModule(production, hole, child_types, n_features)
    return _KIND_TO_CLASS[production.kind](production, hole, child_types)
