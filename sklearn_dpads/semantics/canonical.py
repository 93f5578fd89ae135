"""Canonical trained programs: fold redundant leaves, keep the value.

:func:`canonicalize` applies the rules of
:func:`sklearn_dpads.grammar.canonical.fold_pair` bottom-up to a compiled,
trained program and merges the parameters of the folded leaves, so that the
canonical program computes the same function (up to floating-point rounding)
with fewer nodes.
"""

from __future__ import annotations

import copy

import torch

from sklearn_dpads.grammar.canonical import fold_pair
from sklearn_dpads.semantics.compile import ProgramModule, node_state, subtree

__all__ = ["canonicalize"]


def _fold(algebra: str, a, b, keep: int):
    """Merge leaf module ``b`` into ``a`` (``keep`` says which one survives)."""
    if keep == 1:
        a, b = b, a
    out = copy.deepcopy(a)
    with torch.no_grad():
        out.production.kind.absorb(out, b, algebra)
    return out


def _canon(mod):
    """The canonical module tree of ``mod`` (a copy where anything folds)."""
    args = [_canon(a) for a in mod.args]
    if len(args) == 2 and not len(args[0].args) and not len(args[1].args):
        kind = mod.production.kind
        keep = fold_pair(kind, args[0].production, args[1].production)
        if keep is not None:
            return _fold(kind.algebra, args[0], args[1], keep)
    if all(x is y for x, y in zip(args, mod.args)):
        return mod
    out = copy.copy(mod)
    out._modules = dict(mod._modules)
    out.set_args(args)
    return out


def _program_of(mod, cls):
    return cls(mod.production.name, tuple(_program_of(a, cls) for a in mod.args))


def canonicalize(module: ProgramModule) -> ProgramModule:
    """An equal-valued copy of ``module`` with redundant leaves folded.

    Parameters
    ----------
    module : ProgramModule
        A compiled (trained) program; left unchanged.

    Returns
    -------
    ProgramModule
        The canonical program, or ``module`` itself when nothing folds. Its
        ``program`` is the canonical program.
    """
    tree = _canon(module.tree)
    if tree is module.tree:
        return module
    program = _program_of(tree, type(module.program))
    out = ProgramModule(program, module.dsl, module.hole)
    ref = next(iter(module.parameters()), None)
    if ref is not None:
        out = out.to(device=ref.device, dtype=ref.dtype)
    for path, _ in program.walk():
        own = node_state(subtree(tree, path))
        # the arguments' entries are missing here: they are loaded at their paths
        unexpected = out.node(path).load_state_dict(own, strict=False).unexpected_keys
        assert not unexpected, unexpected
    out.train(module.training)
    return out
