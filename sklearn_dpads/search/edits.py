"""Programs one edit away from a program: the moves of the local search.

Five kinds of edit, and with ``reshape`` three more (and the swap of a
repeated leaf everywhere), all typed by the grammar:

* **Leaf swap**: a leaf is replaced by another leaf that fills the same hole
  (``affine`` by ``affine[distance]``, a group leaf by the full leaf or by
  another group's; a quadratic leaf, such as ``quadratic[velocity]``, only
  replaces a leaf over the same features, ``affine[velocity]``); with ``reshape``, a leaf that occurs more than once is
  also replaced everywhere at once (``multiply(affine[a], affine[a])`` by
  ``multiply(affine, affine)``).
* **Branch**: a subtree ``S`` that is not itself a branch is replaced by
  ``ite(C, S, S)`` (any production whose kind is
  :attr:`~sklearn_dpads.grammar.Kind.branching`), where the condition ``C``
  is ``S`` with every feature leaf (affine, quadratic) narrowed to an
  affine leaf of one feature group: "if the mean distance is small, one
  linear rule, else another".
* **Square** (``reshape``): an affine leaf ``L`` is replaced by ``multiply(L, L)`` (any
  production whose kind has the ``"product"`` algebra), the two factors
  trained apart: a quadratic of the same features, such as a movement energy
  ``(w . dx)**2`` or an interaction of two directions.
* **Relabel** (``reshape``): an inner node's production is replaced by another that takes
  the same arguments (``last5_avg`` by ``last10_avg`` or a kernel window,
  ``add`` by ``multiply``), the arguments kept.
* **Wrap** (``reshape``): a subtree ``S`` is replaced by ``U(S)`` for a production ``U``
  whose one argument has the type of the hole it fills (``diff(S)``: the same
  function read on the frame differences).
* **Prune**: a subtree is replaced by one of its own arguments that fills the
  same hole (``ite(C, A, B)`` by ``A``, ``add(f, g)`` by ``f``).
* **Collapse**: a chain of two one-argument productions ``P(W(G))`` whose
  argument ``W(G)`` cannot fill its hole (so that no prune applies) is
  replaced by one one-argument production over ``G`` that fills it:
  ``map_prefixes(last5_avg(S))`` by ``map(S)``, a per-frame rule that
  reads the frame itself instead of a window of its past.
* **Hoist**: a node whose arguments all sit under one-argument productions,
  ``P(U1(a), U2(b), U3(c))``, is replaced by ``Ui(P(a, b, c))`` for each of
  those productions that fills the same hole:
  ``ite(last10_avg(C), map(A), map(B))`` by ``map(ite(C, A, B))``, a choice
  made at every frame rather than once for the whole sequence.

All keep the edited program's type; programs deeper than ``max_depth``,
duplicates, and programs with a branch whose condition reads no feature
(``ite(const, A, B)``, a fixed blend of ``A`` and ``B`` rather than a choice)
are left out. It knows nothing of torch.
"""

from __future__ import annotations

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.grammar.dsl import DSL
from sklearn_dpads.grammar.types import FunctionType
from sklearn_dpads.program import Program, TypedNode, typecheck

__all__ = ["neighbours"]


def neighbours(
    program: Program,
    dsl: DSL,
    hole: FunctionType,
    max_depth: int | None = None,
    *,
    reshape: bool = True,
) -> list[Program]:
    """Every program one edit away from ``program``.

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
    reshape : bool, default=True
        Include the reshaping edits: squares, relabels, wraps and the swap
        of a repeated leaf everywhere. False: leaf swaps, prunes,
        collapses, hoists and branches only.

    Returns
    -------
    list of Program
        The distinct neighbours, each well typed, in a fixed order: by node
        in depth-first order; at each node its leaf swaps, squares,
        relabels, wraps, prunes, collapses, hoists, then branches by
        production order; then
        the swaps of a repeated leaf everywhere.

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
    blind = _blind_conditions(program, dsl)

    def keep(candidate: Program) -> bool:
        # add the candidate if it qualifies; return whether it fills the hole
        if not _fills(candidate, dsl, hole):
            return False
        shallow = max_depth is None or candidate.depth <= max_depth
        if shallow and _blind_conditions(candidate, dsl) <= blind:
            out.setdefault(str(candidate), candidate)
        return True

    for node in _nodes(root):
        here = _at(program, node.path)
        if node.production.kind.role == "leaf":
            for leaf in leaves:
                if not _swaps_in(leaf, node.production):
                    continue
                fills = leaf.child_types(node.hole, dsl.n_features)
                if leaf.name != here.symbol and fills is not None and not fills:
                    keep(_replace(program, node.path, Program(leaf.name)))
        if reshape:
            for new in _reshaped(node, here, dsl):
                keep(_replace(program, node.path, new))
        pruned = [keep(_replace(program, node.path, c)) for c in here.children]
        if pruned and not any(pruned):
            # no prune fills this hole: reach past the argument instead
            for new in _collapsed(here, dsl):
                keep(_replace(program, node.path, new))
        for new in _hoisted(here, dsl):
            keep(_replace(program, node.path, new))
        if node.production.kind.branching:
            continue
        for branch in branches:
            for group in groups:
                condition = _narrow(here, dsl, group.name)
                if condition is None:
                    continue
                grown = Program(branch.name, (condition, here, here))
                keep(_replace(program, node.path, grown))
    if reshape:
        symbols = _leaf_symbols(program)
        for symbol in dict.fromkeys(symbols):
            if symbols.count(symbol) < 2:
                continue
            for leaf in leaves:
                if leaf.name != symbol and _swaps_in(leaf, dsl[symbol]):
                    keep(_rename_leaf(program, symbol, leaf.name))
    out.pop(str(program), None)
    return list(out.values())


def _reshaped(node: TypedNode, here: Program, dsl: DSL):
    """The squares, relabels and wraps of one node (typed by the caller)."""
    kind = node.production.kind
    if kind.affine_leaf:
        for product in dsl.productions:
            if product.kind.algebra == "product" and product.arity == 2:
                yield Program(product.name, (here, here))
    if here.children:
        for other in dsl.productions:
            if (
                other.name != here.symbol
                and other.kind.role == kind.role
                and other.arity == len(here.children)
            ):
                yield Program(other.name, here.children)
    for wrapper in dsl.productions:
        if wrapper.arity == 1 and wrapper.child_types(node.hole, dsl.n_features) == (
            node.hole,
        ):
            yield Program(wrapper.name, (here,))


def _fills(candidate: Program, dsl: DSL, hole: FunctionType) -> bool:
    try:
        typecheck(candidate, dsl, hole)
    except GrammarError:
        return False
    return True


def _collapsed(here: Program, dsl: DSL):
    """The collapses of a chain ``P(W(G))`` into ``Q(G)`` (typed by the caller)."""
    if len(here.children) != 1 or len(here.children[0].children) != 1:
        return
    grandchild = here.children[0].children[0]
    for other in dsl.productions:
        if other.arity == 1:
            yield Program(other.name, (grandchild,))


def _blind_conditions(program: Program, dsl: DSL) -> int:
    """How many branches of ``program`` have a condition that reads no feature."""
    if not program.children:
        return 0
    here = 0
    if program.symbol in dsl and dsl[program.symbol].kind.branching:
        leaves = [dsl[s].kind for s in _leaf_symbols(program.children[0]) if s in dsl]
        here = int(all(k.constant_leaf for k in leaves))
    return here + sum(_blind_conditions(c, dsl) for c in program.children)


def _hoisted(here: Program, dsl: DSL):
    """The hoists of ``P(U1(a), U2(b), ...)`` into ``Ui(P(a, b, ...))`` (typed by the caller)."""
    kids = here.children
    if len(kids) < 2 or any(len(k.children) != 1 for k in kids):
        return
    inner = Program(here.symbol, tuple(k.children[0] for k in kids))
    for symbol in dict.fromkeys(k.symbol for k in kids):
        yield Program(symbol, (inner,))


def _leaf_symbols(program: Program) -> list[str]:
    if not program.children:
        return [program.symbol]
    return [s for c in program.children for s in _leaf_symbols(c)]


def _rename_leaf(program: Program, old: str, new: str) -> Program:
    if not program.children:
        return Program(new) if program.symbol == old else program
    return Program(
        program.symbol, tuple(_rename_leaf(c, old, new) for c in program.children)
    )


def _swaps_in(leaf, current) -> bool:
    """Whether ``leaf`` may replace the leaf ``current`` in a swap.

    A leaf whose kind has :attr:`~sklearn_dpads.grammar.Kind.narrow_swaps`
    (a quadratic leaf), or that the differentiable search leaves out,
    replaces only a leaf that reads the same features (``affine[velocity]``
    by ``quadratic[velocity]``): the local search squares what the program
    already reads, and the neighbourhood grows by at most one program per
    such leaf. Every other leaf replaces any leaf.
    """
    if leaf.kind.searched and not leaf.kind.narrow_swaps:
        return True
    mine = leaf.params.get("indices")
    return mine is not None and current.params.get("indices") == mine


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
    """``program`` with every feature leaf replaced by ``leaf`` (None: it has none).

    Feature leaves are the affine leaves and those whose kind says
    :attr:`~sklearn_dpads.grammar.Kind.feature_leaf` (a quadratic leaf).
    """
    if not program.children:
        kind = dsl[program.symbol].kind
        return Program(leaf) if kind.affine_leaf or kind.feature_leaf else None
    kids = [_narrow(c, dsl, leaf) or c for c in program.children]
    if all(a is b for a, b in zip(kids, program.children)):
        return None
    return Program(program.symbol, tuple(kids))
