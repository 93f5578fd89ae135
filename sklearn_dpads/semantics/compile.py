"""Compile a :class:`~sklearn_dpads.program.Program` into a trainable module."""

from __future__ import annotations

import torch
from torch import nn

from sklearn_dpads.grammar.dsl import DSL
from sklearn_dpads.grammar.types import FunctionType
from sklearn_dpads.program import Program, TypedNode, typecheck
from sklearn_dpads.semantics.modules import ProductionModule, build_production_module
from sklearn_dpads.semantics.ops import last_step, lengths_to_mask, zero_padding

__all__ = ["RootModel", "ProgramModule", "compile_program"]


class RootModel(nn.Module):
    """Turns a root function into a classifier's logits.

    ``forward(x, lengths)``: ``x`` is ``(B, T, F)`` (sequence input) or
    ``(B, F)`` (atom input); returns ``(B, T, O)`` for sequence outputs and
    ``(B, O)`` for atom outputs (the value on the whole sequence).
    """

    def __init__(self, hole: FunctionType):
        super().__init__()
        self.hole = hole

    def root(self, x, mask, ctx):  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x, lengths=None):
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

    def _new_ctx(self):
        return None


class ProgramModule(RootModel):
    """A compiled program: a tree of production modules mirroring the AST.

    Parameters of the node at AST path ``p`` live in the module returned by
    ``node(p)``; :meth:`parameters_by_path` lists them.
    """

    def __init__(self, program: Program, dsl: DSL, hole: FunctionType):
        super().__init__(hole)
        self.program = program
        self.dsl = dsl
        typed = typecheck(program, dsl, hole)
        self.tree = _build(typed, dsl.n_features)

    def root(self, x, mask, ctx):
        return self.tree(x, mask, ctx)

    def node(self, path: tuple[int, ...]) -> ProductionModule:
        """The module at AST ``path``."""
        m = self.tree
        for i in path:
            m = m.args[i]
        return m

    def own_state(self, path: tuple[int, ...]) -> dict[str, torch.Tensor]:
        """The parameters of the node at ``path`` alone (not its arguments')."""
        return {
            k: v
            for k, v in self.node(path).state_dict().items()
            if not k.startswith("args.")
        }

    def parameters_by_path(self) -> dict[tuple[int, ...], dict[str, torch.Tensor]]:
        """``{path: {name: tensor}}`` for every node that has parameters."""
        out = {}
        for path, _ in self.program.walk():
            st = self.own_state(path)
            if st:
                out[path] = st
        return out


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
