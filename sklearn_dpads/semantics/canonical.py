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
from sklearn_dpads.semantics.compile import ProgramModule

__all__ = ["canonicalize"]


def _fold(kind: str, a, b, keep: int):
    """Merge leaf module ``b`` into ``a`` (``keep`` says which one survives)."""
    if keep == 1:
        a, b = b, a
    out = copy.deepcopy(a)
    with torch.no_grad():
        if b.production.kind == "constant":
            c = b.value
            if out.production.kind == "constant":
                out.value.copy_(out.value + c if kind == "add" else out.value * c)
            elif kind == "add":
                out.linear.bias.add_(c)
            else:
                out.linear.weight.mul_(c[:, None])
                out.linear.bias.mul_(c)
        else:  # two affine leaves, b's features a subset of out's
            pos = {int(i): j for j, i in enumerate(out.index.tolist())}
            cols = torch.tensor([pos[int(i)] for i in b.index.tolist()])
            weight = out.linear.weight
            weight.index_add_(1, cols.to(weight.device), b.linear.weight)
            out.linear.bias.add_(b.linear.bias)
    return out


def _canon(mod):
    """The canonical module tree of ``mod`` (a copy where anything folds)."""
    args = [_canon(a) for a in mod.args]
    if len(args) == 2 and not len(args[0].args) and not len(args[1].args):
        keep = fold_pair(mod.production.kind, args[0].production, args[1].production)
        if keep is not None:
            return _fold(mod.production.kind, args[0], args[1], keep)
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
        src = _node(tree, path)
        own = {k: v for k, v in src.state_dict().items() if not k.startswith("args.")}
        # the arguments' entries are missing here: they are loaded at their paths
        unexpected = out.node(path).load_state_dict(own, strict=False).unexpected_keys
        assert not unexpected, unexpected
    out.train(module.training)
    return out


def _node(tree, path):
    for i in path:
        tree = tree.args[i]
    return tree
