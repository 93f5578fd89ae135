"""Masked tensor operations shared by the production modules.

Conventions: a sequence is ``x`` of shape ``(B, T, d)`` with a boolean
``mask`` of shape ``(B, T)`` that is True on real frames; padding frames come
after the real ones. Functions of a sequence return per-step outputs of shape
``(B, T, k)``: per frame for sequence-valued functions, per *prefix* (the value
of the function on ``x[:t+1]``) for atom-valued ones, so every operation is
causal and padding never reaches a real frame's output.

Every ``forward(x, mask, ctx)`` of a production module, a derivation-graph
edge or a neural filler receives as ``ctx`` the :class:`Evaluation` of the
forward pass (or None): its memos, and in a chunked evaluation the state
carried from one chunk to the next.

Chunked evaluation: a long sequence can be evaluated as consecutive chunks of
frames. The temporal operations then take a ``history`` (what they need of
the frames before the chunk: the last frames, the running state) and return
the history for the next chunk; :attr:`Evaluation.carry` hands these from one
chunk to the next (see :func:`carried`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import torch
from torch.nn import functional as F

__all__ = [
    "Evaluation",
    "carried",
    "per_input",
    "frames",
    "frame_differences",
    "causal_filter",
    "causal_filter_chunk",
    "linear_recurrence",
    "lengths_to_mask",
    "prefix_window_mean",
    "window_mean_chunk",
    "last_step",
    "zero_padding",
]


def lengths_to_mask(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """Build a boolean ``(B, T)`` mask from sequence lengths.

    Parameters
    ----------
    lengths : torch.Tensor
        ``(B,)`` integer numbers of real frames.
    T : int
        Padded sequence length.

    Returns
    -------
    torch.Tensor
        ``(B, T)`` boolean, True on the first ``lengths[b]`` frames of row ``b``.
    """
    return torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]


def zero_padding(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Set padded frames to zero (so they cannot produce NaN downstream).

    Parameters
    ----------
    x : torch.Tensor
        ``(B, T, d)`` sequences.
    mask : torch.Tensor
        ``(B, T)`` boolean mask, True on real frames.

    Returns
    -------
    torch.Tensor
        A copy of ``x`` with zeros on the padding frames.
    """
    return torch.where(mask.unsqueeze(-1), x, x.new_zeros(()))


_MISSING = object()


class Evaluation:
    """The state of one forward pass: the ``ctx`` of every ``forward(x, mask, ctx)``.

    A root (:class:`~sklearn_dpads.semantics.RootModel`) makes one for every
    forward pass (for every chunk, in a chunked evaluation) and hands it down
    to every production module, derivation-graph edge and neural filler.
    ``ctx=None`` instead means: nothing is memoised and nothing is carried.
    It holds three things, each with its own lifetime:

    * **memos**, values computed once per forward pass and then shared, with
      :meth:`memo` (for values that depend on an input tensor) and
      :meth:`once` (for values that depend on the parameters only). They die
      with this object: none reaches the next pass or the next chunk. The
      keys in use, each owned by the code that writes it:

      ===============================  ====  =========================
      key                              kind  owner
      ===============================  ====  =========================
      ``("frames",)``                  memo  :func:`frames`
      ``("frame_differences",)``       memo  :func:`frame_differences`
      ``("outputs", candidate_set)``   memo  ``CandidateSet.evaluate``
      ``("mixtures", candidate_set)``  memo  ``CandidateSet.mixtures``
      ``("mixing", candidate_set)``    once  ``CandidateSet.mixtures``
      ``("atom_plan_out", plan)``      memo  ``AtomPlan.__call__``
      ``("atom_plan_weights", plan)``  once  ``AtomPlan.__call__``
      ===============================  ====  =========================

    * :attr:`carry`, the state that a chunked evaluation
      (:meth:`ProgramModule.forward_chunked
      <sklearn_dpads.semantics.ProgramModule.forward_chunked>`) carries from
      one chunk to the next: one dict, handed to the evaluation of every
      chunk, from each stateful module (fold, window, filter, frame
      difference) to what the next chunk needs of this one.
    * :attr:`plans`, how a derivation graph's edges find the level-batched
      plan of the atom subtree below them
      (:meth:`DerivationGraph.atom_plan
      <sklearn_dpads.graph.DerivationGraph.atom_plan>`).

    Parameters
    ----------
    carry : dict or None, default=None
        The chunk state: empty for the first chunk of a chunked evaluation,
        then as the previous chunk's modules left it; None outside a chunked
        evaluation.
    plans : callable or None, default=None
        ``plans(edge)`` returns the atom plan covering a derivation-graph
        edge, or None where its subtree is evaluated recursively; None
        outside a derivation graph's forward pass.

    Attributes
    ----------
    carry : dict or None
        Module to the state it carries to the next chunk, updated in place
        by the modules; None outside a chunked evaluation.
    plans : callable or None
        As the parameter.
    """

    __slots__ = ("carry", "plans", "_memo", "_once")

    def __init__(
        self,
        *,
        carry: dict | None = None,
        plans: Callable[[Any], Any] | None = None,
    ) -> None:
        self.carry = carry
        self.plans = plans
        self._memo: dict = {}
        self._once: dict = {}

    def memo(self, key: tuple, x: torch.Tensor, compute: Callable[[], Any]) -> Any:
        """``compute()``, computed once per input ``x`` in this forward pass.

        The value is kept under ``(*key, id(x))`` together with ``x``: ``x``
        stays alive as long as this evaluation, so its id cannot be taken by
        another tensor during the pass.

        Parameters
        ----------
        key : tuple
            What is computed (and for whom), without the input: see the
            table of keys in the class docstring.
        x : torch.Tensor
            The input the value depends on.
        compute : callable
            Computes the value, without arguments.

        Returns
        -------
        object
            The value: computed on the first call for ``(key, x)``, the same
            object on every later one.
        """
        full = (*key, id(x))
        hit = self._memo.get(full)
        if hit is None:
            hit = self._memo[full] = (x, compute())
        return hit[1]

    def once(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()``, computed once in this forward pass, whatever the input.

        For values that depend on the parameters only (an atom plan's
        weight matrices, a candidate set's mixing weights), shared by every
        input of the pass (every frame of a ``fold``).

        Parameters
        ----------
        key : hashable
            What is computed (and for whom): see the table of keys in the
            class docstring.
        compute : callable
            Computes the value, without arguments.

        Returns
        -------
        object
            The value: computed on the first call for ``key``, the same object
            on every later one.
        """
        value = self._once.get(key, _MISSING)
        if value is _MISSING:
            value = self._once[key] = compute()
        return value


def carried(ctx: Evaluation | None) -> dict | None:
    """The state carried over from the previous chunk of a chunked evaluation.

    A chunked evaluation (:meth:`ProgramModule.forward_chunked
    <sklearn_dpads.semantics.ProgramModule.forward_chunked>`) runs the
    program on one chunk of frames at a time; :attr:`Evaluation.carry` maps
    each stateful production module to what the next chunk needs of this one
    (a fold's accumulator, the last frames of a window, a filter or a frame
    difference). The dict is empty for the first chunk.

    Parameters
    ----------
    ctx : Evaluation or None
        State of the forward pass; None: nothing is memoised or carried.

    Returns
    -------
    dict or None
        The carried state, updated in place by the modules; None outside a
        chunked evaluation.
    """
    return None if ctx is None else ctx.carry


def per_input(
    ctx: Evaluation | None, key: tuple, x: torch.Tensor, compute: Callable[[], Any]
) -> Any:
    """``compute()``, computed once per input ``x`` and forward pass.

    :meth:`Evaluation.memo` of ``ctx``; without an evaluation it is computed
    every time.

    Parameters
    ----------
    ctx : Evaluation or None
        State of the forward pass; None: nothing is memoised or carried.
    key : tuple
        What is computed (and for whom), without the input.
    x : torch.Tensor
        The input the value depends on.
    compute : callable
        Computes the value, without arguments.

    Returns
    -------
    object
        The value.
    """
    if ctx is None:
        return compute()
    return ctx.memo(key, x, compute)


def frames(x: torch.Tensor, ctx: Evaluation | None) -> torch.Tensor:
    """The frames of ``(B, T, d)`` sequences as ``(B * T, d)`` rows.

    With an evaluation ``ctx``, the same row tensor is returned for the same
    ``x``, so that every production that runs its child on the frames of
    ``x`` (``map`` and the windows) hits the child's memoised outputs.

    Parameters
    ----------
    x : torch.Tensor
        ``(B, T, d)`` sequences.
    ctx : Evaluation or None
        State of the forward pass; None: nothing is memoised or carried.

    Returns
    -------
    torch.Tensor
        ``(B * T, d)``.
    """
    return per_input(ctx, ("frames",), x, lambda: x.reshape(-1, x.shape[-1]))


def frame_differences(
    x: torch.Tensor,
    mask: torch.Tensor,
    ctx: Evaluation | None = None,
    previous: torch.Tensor | None = None,
) -> torch.Tensor:
    """Frame differences ``x_t - x_{t-1}``, zero at the first frame and on padding.

    With an evaluation ``ctx`` (and no ``previous``), the same tensor is
    returned for the same ``x``, so that every ``diff`` production reading
    ``x`` shares it (and its children's memoised outputs).

    Parameters
    ----------
    x : torch.Tensor
        ``(B, T, d)`` sequences.
    mask : torch.Tensor
        ``(B, T)`` boolean mask, True on real frames.
    ctx : Evaluation or None, default=None
        State of the forward pass; None: nothing is memoised or carried.
    previous : torch.Tensor or None, default=None
        ``(B, d)``: the frame before ``x[:, 0]`` when ``x`` is a later chunk of
        longer sequences; None when ``x`` starts at the first frame.

    Returns
    -------
    torch.Tensor
        ``(B, T, d)``: ``0`` at frame 0 (``x_0 - previous`` with ``previous``),
        ``x_t - x_{t-1}`` at every later real frame, ``0`` on padding frames.
    """

    def compute():
        zero = torch.zeros((), dtype=x.dtype, device=x.device)
        first = (
            torch.zeros_like(x[:, :1])
            if previous is None
            else x[:, :1] - previous[:, None]
        )
        d = torch.cat([first, x[:, 1:] - x[:, :-1]], dim=1)
        # where, not a product with the mask: padding may hold NaN or inf
        return torch.where(mask.unsqueeze(-1), d, zero)

    if previous is not None:
        return compute()
    return per_input(ctx, ("frame_differences",), x, compute)


def causal_filter(
    x: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
) -> torch.Tensor:
    """``y_t = bias + sum_j weight[:, j] @ x_{t-j}`` at every frame, causal.

    Frames before the first are taken equal to the first frame (frame 0), so
    a constant sequence gives a constant output; padding frames are zeroed
    first and, coming after the real frames, never reach a real frame's
    output.

    Parameters
    ----------
    x : torch.Tensor
        ``(B, T, n)`` sequences.
    mask : torch.Tensor or None
        ``(B, T)`` boolean mask, True on real frames (None: all real).
    weight : torch.Tensor
        ``(k, K, n)``: ``weight[:, j]`` multiplies the frame ``j`` steps back.
    bias : torch.Tensor
        ``(k,)``.

    Returns
    -------
    torch.Tensor
        ``(B, T, k)``: the filter output at every frame.
    """
    return causal_filter_chunk(x, mask, weight, bias)[0]


def causal_filter_chunk(
    x: torch.Tensor,
    mask: torch.Tensor | None,
    weight: torch.Tensor,
    bias: torch.Tensor,
    history: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`causal_filter` on one chunk of frames, given the frames before it.

    Parameters
    ----------
    x : torch.Tensor
        ``(B, T, n)``: the chunk.
    mask : torch.Tensor or None
        ``(B, T)`` boolean mask, True on real frames (None: all real).
    weight : torch.Tensor
        ``(k, K, n)``: ``weight[:, j]`` multiplies the frame ``j`` steps back.
    bias : torch.Tensor
        ``(k,)``.
    history : torch.Tensor or None, default=None
        ``(B, K - 1, n)``: the ``K - 1`` frames before the chunk (padding
        zeroed), as returned for the previous chunk; None for a chunk that
        starts at the first frame (earlier frames count as the first frame).

    Returns
    -------
    y : torch.Tensor
        ``(B, T, k)``: the filter output at every frame of the chunk.
    history : torch.Tensor
        ``(B, K - 1, n)``: the history of the next chunk.
    """
    if mask is not None:
        x = torch.where(
            mask.unsqueeze(-1), x, torch.zeros((), dtype=x.dtype, device=x.device)
        )
    B, T, n = x.shape
    K = weight.shape[1]
    if history is None:
        history = x[:, :1].expand(B, K - 1, n)
    if K > 1:
        x = torch.cat([history, x], dim=1)
    # conv1d cross-correlates: tap l reads frame t - (K-1) + l, i.e. lag K-1-l
    kernel = weight.flip(1).permute(0, 2, 1)  # (k, n, K)
    y = F.conv1d(x.transpose(1, 2), kernel, bias).transpose(1, 2)
    # a view, not a copy: the one-pass callers drop it at no cost
    return y, x[:, x.shape[1] - (K - 1) :]


def prefix_window_mean(x: torch.Tensor, mask: torch.Tensor, left: int) -> torch.Tensor:
    """Mean of the real frames ``t-left .. t`` for every ``t``.

    A centred window evaluated at the end of a prefix only covers frames up to
    that end, so only the left extent matters here.

    Parameters
    ----------
    x : torch.Tensor
        ``(B, T, d)`` sequences.
    mask : torch.Tensor
        ``(B, T)`` boolean mask, True on real frames.
    left : int
        Number of frames before ``t`` in the window.

    Returns
    -------
    torch.Tensor
        ``(B, T, d)``: the window means, over the real frames of each window
        (zero where a window holds none).
    """
    return window_mean_chunk(x, mask, left)[0]


def window_mean_chunk(
    x: torch.Tensor,
    mask: torch.Tensor,
    left: int,
    history: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """:func:`prefix_window_mean` on one chunk of frames, given the frames before it.

    The window sums are computed directly over the same frames in the same
    order as on the whole sequence, so the means are the same to the bit.

    Parameters
    ----------
    x : torch.Tensor
        ``(B, T, d)``: the chunk.
    mask : torch.Tensor
        ``(B, T)`` boolean mask, True on real frames.
    left : int
        Number of frames before ``t`` in the window.
    history : tuple of torch.Tensor, optional
        ``(values, weights)`` of the ``left`` frames before the chunk:
        ``(B, left, d)`` values (padding zeroed) and ``(B, left, 1)`` real-frame
        indicators, as returned for the previous chunk; None for a chunk that
        starts at the first frame.

    Returns
    -------
    means : torch.Tensor
        ``(B, T, d)``: the window means at every frame of the chunk.
    history : tuple of torch.Tensor
        The history of the next chunk.
    """
    m = mask.unsqueeze(-1).to(x.dtype)
    xm = torch.where(
        mask.unsqueeze(-1), x, torch.zeros((), dtype=x.dtype, device=x.device)
    )
    w = left + 1
    # direct window sums (O(T * w)): no cancellation, unlike differences of cumsums
    if history is None:
        xs, ms = F.pad(xm, (0, 0, w - 1, 0)), F.pad(m, (0, 0, w - 1, 0))
    else:
        xs, ms = torch.cat([history[0], xm], dim=1), torch.cat([history[1], m], dim=1)
    s = xs.unfold(1, w, 1).sum(-1)
    n = ms.unfold(1, w, 1).sum(-1)
    start = xs.shape[1] - left
    # views, not copies: the one-pass callers drop them at no cost
    return s / n.clamp_min(1.0), (xs[:, start:], ms[:, start:])


def last_step(y: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Pick ``y[b, lengths[b] - 1]`` from per-step outputs ``(B, T, k)``.

    Parameters
    ----------
    y : torch.Tensor
        ``(B, T, k)`` per-step outputs.
    lengths : torch.Tensor
        ``(B,)`` numbers of real frames (a length of 0 picks frame 0).

    Returns
    -------
    torch.Tensor
        ``(B, k)``: the output at each sequence's last real frame.
    """
    idx = (lengths - 1).clamp_min(0).view(-1, 1, 1).expand(-1, 1, y.shape[-1])
    return y.gather(1, idx).squeeze(1)


def linear_recurrence(
    coef: torch.Tensor, drive: torch.Tensor, initial: torch.Tensor | None = None
) -> torch.Tensor:
    """All states of ``a_t = coef_t @ a_{t-1} + drive_t`` from ``a_0 = initial``.

    A parallel (Hillis-Steele) scan over the affine maps ``a -> coef_t a +
    drive_t``: ``ceil(log2 T)`` rounds of whole-tensor operations instead of
    ``T`` sequential steps. The result equals the sequential recurrence up to
    floating-point rounding.

    Parameters
    ----------
    coef : torch.Tensor
        ``(B, T, k, k)`` transition matrices.
    drive : torch.Tensor
        ``(B, T, k)`` inputs.
    initial : torch.Tensor or None, default=None
        ``(B, k)``: the state before the first step (zero when None), e.g. the
        last state of the previous chunk of longer sequences.

    Returns
    -------
    torch.Tensor
        ``(B, T, k)``: ``a_1, ..., a_T``.
    """
    T = drive.shape[1]
    if initial is not None and T > 0:
        # a_1 = coef_1 a_0 + drive_1: fold the initial state into the first input
        first = drive[:, :1] + (coef[:, :1] @ initial[:, None, :, None]).squeeze(-1)
        drive = torch.cat([first, drive[:, 1:]], dim=1)
    scalar = coef.shape[-1] == 1
    if scalar:
        coef = coef[..., 0]  # (B, T, 1): elementwise products
    step = 1
    while step < T:
        c_prev, d_prev = coef[:, :-step], drive[:, :-step]
        c_cur, d_cur = coef[:, step:], drive[:, step:]
        if scalar:
            d_new = d_cur + c_cur * d_prev
            c_new = c_cur * c_prev
        else:
            d_new = d_cur + (c_cur @ d_prev.unsqueeze(-1)).squeeze(-1)
            c_new = c_cur @ c_prev
        drive = torch.cat([drive[:, :step], d_new], dim=1)
        coef = torch.cat([coef[:, :step], c_new], dim=1)
        step *= 2
    return drive
