"""The per-node code of the Python export: one function per program node.

Every node of the AST becomes ``def <prefix>_n_<path>(x)`` (atom input: ``x``
is a list of floats) or ``(xs)`` (sequence input: a list of frames), returning
a list of floats or one per frame, as the torch modules of
:mod:`sklearn_dpads.semantics` do. A node with a sequence input also becomes
a step function ``def <prefix>_s_<path>(st, x)`` for the streaming form: it
takes the next frame ``x`` and returns the node's value after it, keeping what
it needs of earlier frames in the stream's state dict ``st`` (under a key of
its own), with the same arithmetic as the batch function. Parameters are read with
:meth:`~sklearn_dpads.semantics.ProgramModule.leaf` and written as exact
literals; the sequence helpers called (``_dp_fold``, ``_dp_window_means``,
``_dp_filter``, ``_dp_differences`` and their ``*_push`` streaming
counterparts) are real functions of :mod:`sklearn_dpads.export._runtime`. A temporal filter's weights are written
as module-level tuples next to its function.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

from sklearn_dpads.export._safety import (
    comment_text,
    float_literal,
    user_function_code,
)
from sklearn_dpads.program import TypedNode
from sklearn_dpads.semantics.compile import LeafParameters, ProgramModule

__all__ = ["NodeGenerator"]

_MAX_INLINE_TERMS = 64


class NodeGenerator:
    """Writes one function per program node, plus the user functions they call.

    Parameters
    ----------
    module : ProgramModule
        The compiled (and trained) program.
    prefix : str
        The export's ``func_name_prefix``.

    Attributes
    ----------
    blocks : list of str
        The node functions (and constants of large affine maps), children first.
    user_code : list of str
        The copied ``python_function`` of every user production used.
    helpers : set of str
        The optional runtime helpers the node functions call.
    """

    def __init__(self, module: ProgramModule, prefix: str) -> None:
        self.module = module
        self.p = prefix
        self.n_features = module.dsl.n_features
        self.subprograms = dict(module.program.walk())
        self.blocks: list[str] = []
        self.user_code: list[str] = []
        self.helpers: set[str] = set()  # optional runtime helpers used
        self._user_alias: dict[str, str] = {}

    def _fname(self, path: tuple[int, ...]) -> str:
        return f"{self.p}_n" + "".join(f"_{i}" for i in path)

    def _sname(self, path: tuple[int, ...]) -> str:
        return f"{self.p}_s" + "".join(f"_{i}" for i in path)

    def _helper(self, name: str) -> str:
        self.helpers.add(name)
        return self.p + name

    def _ew_alias(self, prod) -> str:
        if prod.name not in self._user_alias:
            alias = f"{self.p}_dp_ew_{prod.name}"
            self.user_code.append(
                f"# python_function of the user production {prod.name!r}\n"
                + user_function_code(prod, alias)
            )
            self._user_alias[prod.name] = alias
        return self._user_alias[prod.name]

    def emit(self, node: TypedNode) -> None:
        """Write the functions of ``node`` and of its descendants to :attr:`blocks`.

        Parameters
        ----------
        node : TypedNode
            The node (the root: the whole program), type-checked.
        """
        for child in node.children:
            self.emit(child)
        prod, hole = node.production, node.hole
        kids = [self._fname(c.path) for c in node.children]
        head = [f"def {self._fname(node.path)}({'xs' if hole.input.is_seq else 'x'}):"]
        head.append(f'    """{prod.name} : {hole}."""')
        text = self.subprograms[node.path].render()
        for line in textwrap.wrap(text, 80, break_long_words=False):
            head.append(f"    # {line}")
        if hole.input.is_seq:
            body = self._seq_body(node, prod.kind, kids)
        else:
            body = self._atom_body(node, prod.kind, kids)
        self.blocks.append("\n".join(head + ["    " + b for b in body]) + "\n")
        if hole.input.is_seq:
            steps = [self._sname(c.path) for c in node.children]
            head[0] = f"def {self._sname(node.path)}(st, x):"
            head[1] = f'    """{prod.name} : {hole}, one frame at a time."""'
            body = self._step_body(node, prod.kind, kids, steps)
            self.blocks.append("\n".join(head + ["    " + b for b in body]) + "\n")

    # atom input: x is a list of floats, returns a list of floats ---------------
    def _atom_body(self, node: TypedNode, kind: str, kids: list[str]) -> list[str]:
        leaf = self.module.leaf(node.path)
        if kind == "affine":
            return self._affine_body(node, leaf)
        if kind == "constant":
            return ["return [" + ", ".join(map(float_literal, leaf.value)) + "]"]
        if kind in ("add", "multiply"):
            op = "+" if kind == "add" else "*"
            return [
                f"a = {kids[0]}(x)",
                f"b = {kids[1]}(x)",
                f"return [u {op} v for u, v in zip(a, b)]",
            ]
        if kind == "elementwise":
            alias = self._ew_alias(node.production)
            lines = [f"a{i} = {kid}(x)" for i, kid in enumerate(kids)]
            us = ", ".join(f"u{i}" for i in range(len(kids)))
            if len(kids) == 1:
                lines.append(f"return [float({alias}(u0)) for u0 in a0]")
            else:
                zs = ", ".join(f"a{i}" for i in range(len(kids)))
                lines.append(f"return [float({alias}({us})) for {us} in zip({zs})]")
            return lines
        if kind == "ite":
            return [
                f"s = {self.p}_dp_sigmoid({float_literal(leaf.beta)} * {kids[0]}(x)[0])",
                f"f = {kids[1]}(x)",
                f"g = {kids[2]}(x)",
                "return [s * u + (1.0 - s) * v for u, v in zip(f, g)]",
            ]
        raise TypeError(  # pragma: no cover - typing prevents this
            f"Production kind {kind!r} cannot fill the atom hole {node.hole}."
        )

    def _affine_body(self, node: TypedNode, leaf: LeafParameters) -> list[str]:
        rows, b, sel = leaf.weight, leaf.bias, leaf.indices
        d, k = node.hole.input.size, node.hole.output.size
        if len(rows) != k or any(len(row) != len(sel) for row in rows):
            raise ValueError(
                f"Affine node {node.path} has a {len(rows)}-row weight matrix for "
                f"{len(sel)} inputs, expected {k} rows."
            )
        group = node.production.params.get("group")
        idx = node.production.params.get("indices")
        desc = "all inputs" if idx is None else f"features {list(idx)}"
        if d > self.n_features and idx is not None:
            desc += f" and accumulator inputs {list(range(self.n_features, d))}"
        lines = [f"# affine map of {desc}"]
        if group is not None:
            lines.append(f"# feature group: {comment_text(group)}")
        if len(sel) <= _MAX_INLINE_TERMS:
            lines.append("return [")
            for row, bias in zip(rows, b):
                terms = _linear_terms(row, sel, bias)
                lines.extend("    " + t for t in _wrap_terms(terms, 8, 88))
            return lines + ["]"]
        name = self._fname(node.path)
        self.blocks.append(
            f"{name}_I = ({', '.join(str(i) for i in sel)},)\n{name}_W = (\n"
            + "".join(f"    ({', '.join(map(float_literal, r))},),\n" for r in rows)
            + f")\n{name}_B = ({', '.join(map(float_literal, b))},)\n"
        )
        lines.append(
            f"return [sum([w * x[i] for w, i in zip(row, {name}_I)]) + c "
            f"for row, c in zip({name}_W, {name}_B)]"
        )
        return lines

    # sequence input: xs is a list of frames, returns a list of per-step vectors --
    def _seq_body(self, node: TypedNode, kind: str, kids: list[str]) -> list[str]:
        if kind == "map":
            return [f"return [{kids[0]}(x) for x in xs]"]
        if kind == "map_prefixes":
            return [
                "# the child's per-step outputs are its values on every prefix",
                f"return {kids[0]}(xs)",
            ]
        if kind == "fold":
            leaf = self.module.leaf(node.path)
            states = f"{self._helper('_dp_fold')}({kids[0]}, xs, {leaf.width})"
            if leaf.weight is None:
                return [
                    "# the accumulator after every frame (it starts at zero)",
                    f"return {states}",
                ]
            lines = [
                f"# the {leaf.width}-wide state after every frame (it starts at "
                "zero), then the affine readout of each state x",
                "return [",
                "    [",
            ]
            lines += _readout_terms(leaf, 8)
            return lines + ["    ]", f"    for x in {states}", "]"]
        if kind == "window":
            left = self.module.leaf(node.path).left
            means = self._helper("_dp_window_means")
            return [
                f"# the child on every frame, averaged over frames t-{left}..t",
                f"return {means}([{kids[0]}(x) for x in xs], {left})",
            ]
        if kind == "filter":
            return self._filter_body(node, self.module.leaf(node.path))
        if kind == "difference":
            diffs = self._helper("_dp_differences")
            return [
                "# the child on the frame differences x[t] - x[t-1] (zero at t = 0)",
                f"return {kids[0]}({diffs}(xs))",
            ]
        if kind == "ite":
            beta = float_literal(self.module.leaf(node.path).beta)
            return [
                f"c = {kids[0]}(xs)",
                f"f = {kids[1]}(xs)",
                f"g = {kids[2]}(xs)",
                "out = []",
                "for ct, ft, gt in zip(c, f, g):",
                f"    s = {self.p}_dp_sigmoid({beta} * ct[0])",
                "    out.append([s * u + (1.0 - s) * v for u, v in zip(ft, gt)])",
                "return out",
            ]
        raise TypeError(  # pragma: no cover - typing prevents this
            f"Production kind {kind!r} cannot fill the sequence hole {node.hole}."
        )

    # streaming: x is the next frame, returns the value after it ----------------
    def _step_body(
        self, node: TypedNode, kind: str, kids: list[str], steps: list[str]
    ) -> list[str]:
        key = repr(self._sname(node.path).removeprefix(self.p))
        if kind == "map":
            return [f"return {kids[0]}(x)"]
        if kind == "map_prefixes":
            return [f"return {steps[0]}(st, x)"]
        if kind == "fold":
            leaf = self.module.leaf(node.path)
            push = self._helper("_dp_fold_push")
            state = f"{push}(st, {key}, {kids[0]}, x, {leaf.width})"
            if leaf.weight is None:
                return ["# the accumulator after this frame", f"return {state}"]
            lines = [
                f"# the {leaf.width}-wide state after this frame, then its readout",
                f"x = {state}",
                "return [",
            ]
            return lines + _readout_terms(leaf, 4) + ["]"]
        if kind == "window":
            left = self.module.leaf(node.path).left
            push = self._helper("_dp_window_push")
            return [
                f"# the child on this frame, averaged with the last {left} values",
                f"return {push}(st, {key}, {kids[0]}(x), {left})",
            ]
        if kind == "filter":
            name = self._fname(node.path)
            push = self._helper("_dp_filter_push")
            return [
                f"# the filter {name}_W over this frame and the last ones",
                f"return {push}(st, {key}, x, {name}_W, {name}_B, {name}_I)",
            ]
        if kind == "difference":
            push = self._helper("_dp_difference_push")
            return [
                "# the child on this frame minus the previous one (zero at first)",
                f"return {steps[0]}(st, {push}(st, {key}, x))",
            ]
        if kind == "ite":
            beta = float_literal(self.module.leaf(node.path).beta)
            return [
                "# every branch steps, so that each keeps its state",
                f"c = {steps[0]}(st, x)",
                f"f = {steps[1]}(st, x)",
                f"g = {steps[2]}(st, x)",
                f"s = {self.p}_dp_sigmoid({beta} * c[0])",
                "return [s * u + (1.0 - s) * v for u, v in zip(f, g)]",
            ]
        raise TypeError(  # pragma: no cover - typing prevents this
            f"Production kind {kind!r} cannot fill the sequence hole {node.hole}."
        )

    def _filter_body(self, node: TypedNode, leaf: LeafParameters) -> list[str]:
        weight, b, sel, K = leaf.weight, leaf.bias, leaf.indices, leaf.length
        k = node.hole.output.size
        shape_ok = len(weight) == k and len(b) == k
        shape_ok = shape_ok and all(len(out) == K for out in weight)
        shape_ok = shape_ok and all(len(lag) == len(sel) for o in weight for lag in o)
        if not shape_ok:
            raise ValueError(
                f"Filter node {node.path} has weights of the wrong shape for "
                f"{k} outputs, {K} lags and {len(sel)} features."
            )
        name = self._fname(node.path)
        rows = "".join(
            "    (\n"
            + "".join(
                f"        ({', '.join(map(float_literal, lag))},),\n" for lag in out
            )
            + "    ),\n"
            for out in weight
        )
        self.blocks.append(
            f"# {name}_W[o][j][c]: output o, lag j (frames back), feature {name}_I[c]\n"
            f"{name}_I = ({', '.join(str(i) for i in sel)},)\n"
            f"{name}_W = (\n{rows})\n"
            f"{name}_B = ({', '.join(map(float_literal, b))},)\n"
        )
        group = node.production.params.get("group")
        lines = [
            f"# y[t] = B + sum_j W[:, j] . x[t - j][I] over the last {K} frames",
            "# (frames before the first count as the first frame)",
        ]
        if group is not None:
            lines.append(f"# feature group: {comment_text(group)}")
        filt = self._helper("_dp_filter")
        lines.append(f"return {filt}(xs, {name}_W, {name}_B, {name}_I)")
        return lines


def _linear_terms(row: Sequence[float], sel: Sequence[int], bias: float) -> list[str]:
    """Terms of ``sum_j row[j] * x[sel[j]] + bias`` with exact literals."""
    parts: list[str] = []
    for j, (w, i) in enumerate(zip(row, sel)):
        neg = j > 0 and not math.isnan(w) and math.copysign(1.0, w) < 0
        term = f"{float_literal(-w if neg else w)} * x[{i}]"
        parts.append(term if j == 0 else f"{'-' if neg else '+'} {term}")
    neg = bool(parts) and not math.isnan(bias) and math.copysign(1.0, bias) < 0
    lit = float_literal(-bias if neg else bias)
    parts.append(f"{'-' if neg else '+'} {lit}" if parts else lit)
    return parts


def _wrap_terms(parts: list[str], indent: int, width: int) -> list[str]:
    """One list element made of ``parts``, wrapped in parentheses when long."""
    one = " ".join(parts)
    if len(one) + indent + 1 <= width:
        return [one + ","]
    lines = ["("]
    cur = ""
    for part in parts:
        if cur and len(cur) + 1 + len(part) + indent + 4 > width:
            lines.append("    " + cur)
            cur = part
        else:
            cur = f"{cur} {part}" if cur else part
    lines.append("    " + cur)
    lines.append("),")
    return lines


def _readout_terms(leaf, indent: int) -> list[str]:
    """The list items of a fold's affine readout of its state ``x``, one per output.

    ``indent`` is the items' column in the generated body (the function's own
    indentation comes on top).
    """
    lines = []
    for row, bias in zip(leaf.weight, leaf.bias):
        terms = _linear_terms(row, range(leaf.width), bias)
        lines.extend(" " * indent + t for t in _wrap_terms(terms, indent + 4, 88))
    return lines
