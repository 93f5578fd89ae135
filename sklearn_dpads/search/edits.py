"""Programs one edit away from a program: the moves of the local search.

Three kinds of edit, all typed by the grammar:

* **Leaf swap**: a leaf is replaced by another leaf that fills the same hole
  (``affine`` by ``affine[distance]``, a group leaf by the full leaf or by
  another group's).
* **Branch**: a subtree ``S`` that is not itself a branch is replaced by
  ``ite(C, S, S)`` (any production whose kind is
  :attr:`~sklearn_dpads.grammar.Kind.branching`), where the condition ``C``
  is ``S`` with every affine leaf narrowed to one feature group: "if the mean
  distance is small, one linear rule, else another".
* **Prune**: a subtree is replaced by one of its own arguments that fills the
  same hole (``ite(C, A, B)`` by ``A``, ``add(f, g)`` by ``f``).

All keep the edited program's type; programs deeper than ``max_depth`` and
duplicates are left out. It knows nothing of torch.
"""

from __future__ import annotations

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.grammar.dsl import DSL
from sklearn_dpads.grammar.types import FunctionType
from sklearn_dpads.program import Program, TypedNode, typecheck

__all__ = ["neighbours"]


def neighbours(
    program: Program, dsl: DSL, hole: FunctionType, max_depth: int | None = None
) -> list[Program]:
    """Every program one leaf swap, branch or prune away from ``program``.

    Parameters
    ----------
    program : Program
        A program of ``dsl`` that fills ``hole``.
    dsl : DSL
        Its grammar.
    hole : FunctionType
        The program's type.
    max_depth : int or None, default=None
        Leave out programs deeper than this (None: no limit).

    Returns
    -------
    list of Program
        The distinct neighbours, each well typed, in a fixed order: by node
        in depth-first order; at each node its leaf swaps, prunes, then
        branches by production order.

    Raises
    ------
    GrammarError
        If ``program`` does not fill ``hole`` in ``dsl``.
    """
    root = typecheck(program, dsl, hole)
    leaves = [p for p in dsl.productions if p.kind.role == "leaf"]
    groups = [p for p in leaves if _is_group_leaf(p)]
    branches = [p for p in dsl.productions if p.kind.branching]
    out: dict[str, Program] = {}

    def keep(candidate: Program) -> None:
        if max_depth is not None and candidate.depth > max_depth:
            return
        try:
            typecheck(candidate, dsl, hole)
        except GrammarError:
            return
        out.setdefault(str(candidate), candidate)

    for node in _nodes(root):
        here = _at(program, node.path)
        if node.production.kind.role == "leaf":
            for leaf in leaves:
                fills = leaf.child_types(node.hole, dsl.n_features)
                if leaf.name != here.symbol and fills is not None and not fills:
                    keep(_replace(program, node.path, Program(leaf.name)))
        for child in here.children:
            keep(_replace(program, node.path, child))
        if node.production.kind.branching:
            continue
        for branch in branches:
            for group in groups:
                condition = _narrow(here, dsl, group.name)
                if condition is None:
                    continue
                grown = Program(branch.name, (condition, here, here))
                keep(_replace(program, node.path, grown))
    out.pop(str(program), None)
    return list(out.values())


def _is_group_leaf(production) -> bool:
    return production.kind.affine_leaf and production.params.get("indices") is not None


def _nodes(node: TypedNode):
    yield node
    for child in node.children:
        yield from _nodes(child)


def _at(program: Program, path: tuple[int, ...]) -> Program:
    for i in path:
        program = program.children[i]
    return program


def _replace(program: Program, path: tuple[int, ...], new: Program) -> Program:
    if not path:
        return new
    kids = list(program.children)
    kids[path[0]] = _replace(kids[path[0]], path[1:], new)
    return Program(program.symbol, tuple(kids))


def _narrow(program: Program, dsl: DSL, leaf: str) -> Program | None:
    """``program`` with every affine leaf replaced by ``leaf`` (None: it has none)."""
    if not program.children:
        return Program(leaf) if dsl[program.symbol].kind.affine_leaf else None
    kids = [_narrow(c, dsl, leaf) or c for c in program.children]
    if all(a is b for a, b in zip(kids, program.children)):
        return None
    return Program(program.symbol, tuple(kids))
