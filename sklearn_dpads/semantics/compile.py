"""Compile a :class:`~sklearn_dpads.program.Program` into a trainable module."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import torch
from torch import nn

from sklearn_dpads.grammar.dsl import DSL
from sklearn_dpads.grammar.types import FunctionType
from sklearn_dpads.program import Program, TypedNode, typecheck
from sklearn_dpads.semantics.modules import ProductionModule, build_production_module
from sklearn_dpads.semantics.ops import (
    Evaluation,
    last_step,
    lengths_to_mask,
    zero_padding,
)

__all__ = [
    "RootModel",
    "ProgramModule",
    "LeafParameters",
    "compile_program",
    "floats",
    "node_state",
    "subtree",
]


@dataclass(frozen=True)
class LeafParameters:
    """The numeric parameters of one node of a compiled program, as plain floats.

    Returned by :meth:`ProgramModule.leaf`; fields that do not apply to the
    node's kind are None. Values are float64 copies (exact for float32 modules).

    Parameters
    ----------
    kind : str
        The name of the node's kind (``"affine"``, ``"constant"``, ``"ite"``,
        ...), as given by :attr:`Kind.name <sklearn_dpads.grammar.Kind.name>`.
    weight : tuple of tuple of float, optional
        Affine: one row per output, one weight per entry of ``indices``.
        Quadratic: one row per output, one weight per entry of ``indices``,
        then one per pair of
        :func:`~sklearn_dpads.kinds.quadratic.quadratic_pairs`.
        Fold with a ``width``: the readout, one row per output, one weight
        per state entry.
        Filter: nested ``(k, length, len(indices))``: ``weight[o][j][c]``
        multiplies feature ``indices[c]`` of the frame ``j`` steps back for
        output ``o``.
    bias : tuple of float, optional
        Affine, filter and fold readout: one bias per output.
    indices : tuple of int, optional
        Affine: the input positions the weight columns read, in order (the
        group's features, or every input; inside a fold the accumulator inputs
        ``n_features, n_features + 1, ...`` come last). Filter: the features
        the filter reads, in order.
    value : tuple of float, optional
        Constant: the output vector.
    beta : float, optional
        If-then-else: the gate is ``sigmoid(beta * condition)``.
    left : int, optional
        Window: the number of earlier frames averaged with the current one.
    length : int, optional
        Filter: the number of frames ``K`` it reads (lags ``0 .. K-1``; frames
        before the first frame count as the first frame).
    width : int, optional
        Fold: the size of its state (with a readout when the production sets
        a width; else the output's size and ``weight`` is None).
    """

    kind: str
    weight: tuple[tuple[float, ...], ...] | None = None
    bias: tuple[float, ...] | None = None
    indices: tuple[int, ...] | None = None
    value: tuple[float, ...] | None = None
    beta: float | None = None
    left: int | None = None
    length: int | None = None
    width: int | None = None


class RootModel(nn.Module):
    """Turns a root function into a classifier's logits.

    ``forward(x, lengths)``: ``x`` is ``(B, T, F)`` (sequence input) or
    ``(B, F)`` (atom input); returns ``(B, T, O)`` for sequence outputs and
    ``(B, O)`` for atom outputs (the value on the whole sequence).

    Parameters
    ----------
    hole : FunctionType
        Root type, e.g. ``list[F] -> atom[O]``.
    """

    def __init__(self, hole: FunctionType):
        super().__init__()
        self.hole = hole

    def root(  # pragma: no cover - abstract
        self, x: torch.Tensor, mask: torch.Tensor | None, ctx: Evaluation | None
    ) -> torch.Tensor:
        """Evaluate the root function; subclasses implement it.

        Parameters
        ----------
        x : torch.Tensor
            Input, ``(B, T, F)`` with padding zeroed, or ``(B, F)`` for an atom
            input.
        mask : torch.Tensor or None
            Boolean ``(B, T)`` mask of the real frames; None for an atom input.
        ctx : Evaluation or None
            State of the forward pass; None: nothing is memoised or carried.

        Returns
        -------
        torch.Tensor
            Per-step outputs ``(B, T, O)``, or ``(B, O)`` for an atom input.
        """
        raise NotImplementedError

    def forward(self, x, lengths=None):
        """Return the logits of the root function on a batch.

        Parameters
        ----------
        x : torch.Tensor
            ``(B, T, F)`` for a sequence input (padding after the real frames)
            or ``(B, F)`` for an atom input.
        lengths : torch.Tensor, optional
            ``(B,)`` numbers of real frames; all ``T`` when omitted. Ignored for
            an atom input.

        Returns
        -------
        torch.Tensor
            ``(B, T, O)`` for a sequence output, ``(B, O)`` for an atom output
            (the value at each sequence's last real frame).
        """
        if not self.hole.input.is_seq:
            return self.root(x, None, self._new_ctx())
        if lengths is None:
            lengths = torch.full(
                (x.shape[0],), x.shape[1], dtype=torch.long, device=x.device
            )
        mask = lengths_to_mask(lengths, x.shape[1])
        x = zero_padding(x, mask)
        y = self.root(x, mask, self._new_ctx())
        if self.hole.output.is_seq:
            return y
        return last_step(y, lengths)

    def _new_ctx(self) -> Evaluation:
        """The evaluation state of a new forward pass (one per :meth:`forward`)."""
        return Evaluation()


class ProgramModule(RootModel):
    """A compiled program: a tree of production modules mirroring the AST.

    Parameters of the node at AST path ``p`` live in the module returned by
    ``node(p)``; :meth:`leaf` reads them as plain floats (the API for exports
    and plots) and :meth:`parameters_by_path` lists them as tensors.
    :meth:`forward_chunked` evaluates long sequences a chunk of frames at a
    time, in memory bounded by the chunk's size.

    Parameters
    ----------
    program : Program
        The program; it is type-checked against ``dsl`` and ``hole``.
    dsl : DSL
        Grammar the program is written in.
    hole : FunctionType
        Root type, e.g. ``list[F] -> atom[O]``.
    """

    def __init__(self, program: Program, dsl: DSL, hole: FunctionType):
        super().__init__(hole)
        self.program = program
        self.dsl = dsl
        typed = typecheck(program, dsl, hole)
        self.tree = _build(typed, dsl.n_features)

    def root(
        self, x: torch.Tensor, mask: torch.Tensor | None, ctx: Evaluation | None
    ) -> torch.Tensor:
        """Evaluate the program's tree of modules.

        Parameters
        ----------
        x : torch.Tensor
            Input, ``(B, T, F)`` with padding zeroed, or ``(B, F)`` for an atom
            input.
        mask : torch.Tensor or None
            Boolean ``(B, T)`` mask of the real frames; None for an atom input.
        ctx : Evaluation or None
            State of the forward pass; None: nothing is memoised or carried.

        Returns
        -------
        torch.Tensor
            Per-step outputs ``(B, T, O)``, or ``(B, O)`` for an atom input.
        """
        return self.tree(x, mask, ctx)

    def forward_chunked(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor | None = None,
        *,
        chunk_frames: int,
    ) -> torch.Tensor:
        """Return the logits of :meth:`forward`, computed a chunk of frames at a time.

        Every program is causal (its output at frame ``t`` depends on frames
        ``0 .. t`` only), so the frames are evaluated in consecutive chunks of
        ``chunk_frames``, each chunk starting from the state the previous one
        left: a fold's accumulator, the last frames that a window, a filter or
        a frame difference reads. The result equals :meth:`forward` up to
        floating-point rounding (matrix products of another number of rows
        may round differently), while the tensors of one pass are
        ``chunk_frames`` frames long instead of ``T``. Each chunk is moved to
        the device and dtype of the parameters on its own, so ``x`` may stay
        on the CPU in another float dtype.

        Parameters
        ----------
        x : torch.Tensor
            ``(B, T, F)`` for a sequence input (padding after the real frames)
            or ``(B, F)`` for an atom input (evaluated at once).
        lengths : torch.Tensor, optional
            ``(B,)`` numbers of real frames; all ``T`` when omitted.
        chunk_frames : int
            Frames per chunk (at least 1).

        Returns
        -------
        torch.Tensor
            As :meth:`forward`: ``(B, T, O)`` for a sequence output, ``(B, O)``
            for an atom output (the value at each sequence's last real frame),
            on the device and in the dtype of the parameters.

        Raises
        ------
        ValueError
            If ``chunk_frames`` is not a positive integer.
        """
        if (
            isinstance(chunk_frames, bool)
            or not isinstance(chunk_frames, numbers.Integral)
            or chunk_frames < 1
        ):
            raise ValueError(
                f"chunk_frames must be a positive integer, got {chunk_frames!r}."
            )
        chunk_frames = int(chunk_frames)
        ref = next(self.parameters(), None)
        device = x.device if ref is None else ref.device
        dtype = x.dtype if ref is None else ref.dtype
        if lengths is not None:
            lengths = torch.as_tensor(lengths, dtype=torch.long).to(device)
        if not self.hole.input.is_seq or x.shape[1] <= chunk_frames:
            return self(x.to(device=device, dtype=dtype), lengths)
        B, T = x.shape[0], x.shape[1]
        if lengths is None:
            lengths = torch.full((B,), T, dtype=torch.long, device=device)
        last = (lengths - 1).clamp_min(0)
        carry: dict = {}  # module -> state, from each chunk to the next
        out = None
        for start in range(0, T, chunk_frames):
            xc = x[:, start : start + chunk_frames].to(device=device, dtype=dtype)
            n = xc.shape[1]
            mask = lengths_to_mask((lengths - start).clamp(0, n), n)
            y = self.root(zero_padding(xc, mask), mask, Evaluation(carry=carry))
            if self.hole.output.is_seq:
                if out is None:
                    out = y.new_zeros(B, T, y.shape[-1])
                out[:, start : start + n] = y
                continue
            if out is None:
                out = y.new_zeros(B, y.shape[-1])
            rows = ((last >= start) & (last < start + n)).nonzero().flatten()
            out[rows] = y[rows, last[rows] - start]
        return out

    def node(self, path: tuple[int, ...]) -> ProductionModule:
        """Return the module at AST ``path``.

        Parameters
        ----------
        path : tuple of int
            Argument indices from the root; ``()`` is the root.

        Returns
        -------
        ProductionModule
            The node's module (its arguments included).
        """
        return subtree(self.tree, path)

    def leaf(self, path: tuple[int, ...]) -> LeafParameters:
        """Return the numeric parameters of the node at AST ``path``, as plain floats.

        The one read API for exporters and plots, which must not reach into the
        production modules. Defined at every path; nodes without parameters
        (map, add, ...) only set ``kind``.

        Parameters
        ----------
        path : tuple of int
            Child indices from the root (``()`` is the root).

        Returns
        -------
        LeafParameters
            Affine and quadratic: ``weight``, ``bias``, ``indices``; filter:
            ``weight``, ``bias``, ``indices``, ``length``; constant: ``value``;
            if-then-else: ``beta``; window: ``left``.

        Raises
        ------
        KeyError
            If the program has no node at ``path``.
        """
        path = tuple(path)
        if path not in dict(self.program.walk()):
            raise KeyError(f"No node at path {path} in {self.program}.")
        mod = self.node(path)
        return mod.production.kind.read(mod)

    def own_state(self, path: tuple[int, ...]) -> dict[str, torch.Tensor]:
        """Return the parameters of the node at ``path`` alone (not its arguments').

        Parameters
        ----------
        path : tuple of int
            Argument indices from the root; ``()`` is the root.

        Returns
        -------
        dict of str to torch.Tensor
            The node's state dict without the ``args.`` entries.
        """
        return node_state(self.node(path))

    def parameters_by_path(self) -> dict[tuple[int, ...], dict[str, torch.Tensor]]:
        """Return the parameters of every node that has some, by AST path.

        Returns
        -------
        dict of tuple of int to dict of str to torch.Tensor
            ``{path: {name: tensor}}``, in pre-order.
        """
        out = {}
        for path, _ in self.program.walk():
            st = self.own_state(path)
            if st:
                out[path] = st
        return out


def floats(tensor: torch.Tensor) -> list:
    """A tensor's values as (nested lists of) Python floats, exact for float32.

    Parameters
    ----------
    tensor : torch.Tensor
        Any tensor, on any device.

    Returns
    -------
    list
        ``tensor.tolist()`` of its float64 copy on the CPU.
    """
    return tensor.detach().to(device="cpu", dtype=torch.float64).tolist()


def subtree(module: ProductionModule, path: tuple[int, ...]) -> ProductionModule:
    """Return the module at ``path`` below a tree of production modules.

    Parameters
    ----------
    module : ProductionModule
        The root of the tree.
    path : tuple of int
        Argument indices from the root; ``()`` is the root.

    Returns
    -------
    ProductionModule
        The node's module (its arguments included).
    """
    for i in path:
        module = module.args[i]
    return module


def node_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Return the parameters and buffers of one node alone, not its arguments'.

    Parameters
    ----------
    module : torch.nn.Module
        A production module (or a candidate of a derivation graph).

    Returns
    -------
    dict of str to torch.Tensor
        Its state dict without the ``args.`` entries.
    """
    return {k: v for k, v in module.state_dict().items() if not k.startswith("args.")}


def _build(node: TypedNode, n_features: int) -> ProductionModule:
    mod = build_production_module(
        node.production, node.hole, tuple(c.hole for c in node.children), n_features
    )
    mod.set_args([_build(c, n_features) for c in node.children])
    return mod


def compile_program(
    program: Program | str, dsl: DSL, hole: FunctionType
) -> ProgramModule:
    """Type-check ``program`` against ``dsl`` and build its module.

    Parameters
    ----------
    program : Program or str
        The program (text is parsed).
    dsl : DSL
        Grammar the program is written in.
    hole : FunctionType
        Root type, e.g. ``list[F] -> atom[O]``.

    Returns
    -------
    ProgramModule
        Freshly initialised parameters.
    """
    if isinstance(program, str):
        program = Program.parse(program)
    return ProgramModule(program, dsl, hole)
