"""Export a compiled program as standalone, dependency-free Python source.

The generated module needs nothing but the Python standard library (it imports
only :mod:`math`): no torch, no numpy. It defines one function per node of the
program's AST, mirroring the torch semantics of
:mod:`sklearn_dpads.semantics`, plus ``decision_function``, ``predict_proba``
and ``predict`` entry points.

User-controlled text (feature names, feature-group names) only ever appears
inside ``#`` comments, after being escaped onto a single line; class labels are
embedded as validated ``int``/``float``/``str``/``bool`` literals. Neither can
inject code into the generated source.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import keyword
import math
import re
import sys
import textwrap
import types
from collections.abc import Sequence
from typing import Any

from sklearn_dpads.grammar.types import FunctionType
from sklearn_dpads.program import TypedNode, typecheck
from sklearn_dpads.semantics.compile import ProgramModule

__all__ = ["to_python_source", "load_python_program"]

_PREFIX_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_INLINE_TERMS = 64
_MAX_NAME_CHARS = 200


# literals ---------------------------------------------------------------------


def _float_literal(value: Any) -> str:
    """Exact source literal of a float64 value (``float('nan')`` forms for non-finite)."""
    v = float(value)
    if math.isnan(v):
        return "float('nan')"
    if math.isinf(v):
        return "float('inf')" if v > 0 else "-float('inf')"
    return float.__repr__(v)


def _label_literal(label: Any) -> str:
    """Source literal of a class label; only int, float, str and bool are allowed."""
    value = label
    if type(value).__module__.split(".")[0] == "numpy" and hasattr(value, "item"):
        value = value.item()
    # normalise to the exact built-in type, so that no subclass can change how
    # the value is written
    if isinstance(value, bool):
        text = "True" if value else "False"
    elif isinstance(value, int):
        value = int.__int__(value)
        text = int.__repr__(value)
    elif isinstance(value, float):
        value = float.__float__(value)
        text = _float_literal(value)
    elif isinstance(value, str):
        value = "".join(value)
        text = str.__repr__(value)
    else:
        raise TypeError(
            "Class labels must be int, float, str or bool (or numpy scalars of "
            f"those types) to be exported, got {type(label).__name__}: "
            f"{_comment_text(label)[:80]}."
        )
    if not (isinstance(value, float) and not math.isfinite(value)):
        back = ast.literal_eval(text)
        if type(back) is not type(value) or back != value:  # pragma: no cover
            raise TypeError(f"Class label {_comment_text(label)} does not round-trip.")
    return text


def _comment_text(text: Any) -> str:
    """Escape arbitrary text into something that can only live inside a comment."""
    s = "".join(str(text))
    if len(s) > _MAX_NAME_CHARS:
        s = s[:_MAX_NAME_CHARS] + "..."
    r = str.__repr__(s)
    return "".join(ch if ch.isprintable() and ch not in "\r\n" else "?" for ch in r)


def _param_list(tensor) -> list:
    import torch  # the exporter (not the exported code) may use torch

    return tensor.detach().to(device="cpu", dtype=torch.float64).reshape(-1).tolist()


# user functions ---------------------------------------------------------------


def _stdlib_only_import(name, globals=None, locals=None, fromlist=(), level=0):
    top = name.split(".")[0]
    if level != 0 or top not in getattr(sys, "stdlib_module_names", {"math"}):
        raise ImportError(
            f"exported programs may only import the standard library, not {name!r}"
        )
    return builtins.__import__(name, globals, locals, fromlist, level)


def _user_function_code(prod, alias: str) -> str:
    """Source defining ``alias`` as the production's ``python_function``."""
    fn = prod.params.get("python_function")
    if fn is None:
        raise ValueError(
            f"Production {prod.name!r} has no python_function; it cannot be exported "
            "to Python."
        )
    name = getattr(fn, "__name__", None)
    if inspect.isbuiltin(fn) and isinstance(name, str) and _PREFIX_RE.match(name):
        mod = getattr(fn, "__module__", None)
        if mod == "math" and getattr(math, name, None) is fn:
            return f"{alias} = math.{name}\n"
        if mod == "builtins" and getattr(builtins, name, None) is fn:
            return f"{alias} = {name}\n"
    if not inspect.isfunction(fn):
        raise ValueError(
            f"python_function of production {prod.name!r} must be a plain Python "
            f"function (def) or a math/builtins function, got {type(fn).__name__}."
        )
    try:
        src = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as exc:
        raise ValueError(
            f"Cannot read the source of python_function {name!r} of production "
            f"{prod.name!r} ({exc}); define it with def in a file."
        ) from exc
    try:
        tree = ast.parse(src)
    except SyntaxError as exc:  # pragma: no cover - getsource of odd objects
        raise ValueError(
            f"Cannot parse the source of python_function {name!r} of production "
            f"{prod.name!r}: {exc}"
        ) from exc
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        raise ValueError(
            f"python_function of production {prod.name!r} must be a single def "
            "statement to be exported."
        )
    node = tree.body[0]
    if node.name == "math":
        raise ValueError("A python_function named 'math' would shadow the math module.")
    lines = src.splitlines()
    body = "\n".join(lines[node.lineno - 1 : node.end_lineno]).rstrip() + "\n"
    code = body + f"\n\n{alias} = {node.name}\n"
    # check that the copy runs on its own (standard library + math only)
    safe_builtins = dict(vars(builtins))
    safe_builtins["__import__"] = _stdlib_only_import
    ns: dict = {"__builtins__": safe_builtins, "math": math, "__name__": "_dpads_check"}
    try:
        exec(compile(code, f"<python_function of {prod.name}>", "exec"), ns)
        float(ns[alias](*[0.5 + 0.25 * k for k in range(prod.arity)]))
    except Exception as exc:
        raise ValueError(
            f"The copied source of python_function {name!r} of production "
            f"{prod.name!r} does not run on its own with only the standard library "
            f"({type(exc).__name__}: {exc}). Import what it needs inside the function."
        ) from exc
    return code


# code generation ----------------------------------------------------------------


class _Generator:
    def __init__(self, module: ProgramModule, prefix: str) -> None:
        self.module = module
        self.p = prefix
        self.n_features = module.dsl.n_features
        self.blocks: list[str] = []
        self.user_code: list[str] = []
        self._user_alias: dict[str, str] = {}

    def fname(self, path: tuple[int, ...]) -> str:
        return f"{self.p}_n" + "".join(f"_{i}" for i in path)

    def ew_alias(self, prod) -> str:
        if prod.name not in self._user_alias:
            alias = f"{self.p}_dp_ew_{prod.name}"
            self.user_code.append(
                f"# python_function of the user production {prod.name!r}\n"
                + _user_function_code(prod, alias)
            )
            self._user_alias[prod.name] = alias
        return self._user_alias[prod.name]

    def emit(self, node: TypedNode) -> None:
        for child in node.children:
            self.emit(child)
        text = _render(node)
        prod = node.production
        kind = prod.kind
        hole: FunctionType = node.hole
        name = self.fname(node.path)
        kids = [self.fname(c.path) for c in node.children]
        head = [f"def {name}({'xs' if hole.input.is_seq else 'x'}):"]
        head.append(f'    """{prod.name} : {hole}."""')
        for line in textwrap.wrap(text, 80, break_long_words=False):
            head.append(f"    # {line}")
        if hole.input.is_seq:
            body = self._seq_body(node, kind, kids)
        else:
            body = self._atom_body(node, kind, kids)
        self.blocks.append("\n".join(head + ["    " + b for b in body]) + "\n")

    # atom input: x is a list of floats, returns a list of floats ---------------
    def _atom_body(self, node: TypedNode, kind: str, kids: list[str]) -> list[str]:
        prod = node.production
        k = node.hole.output.size
        mod = self.module.node(node.path)
        if kind == "affine":
            return self._affine_body(node, mod)
        if kind == "constant":
            vals = _param_list(mod.value)
            return ["return [" + ", ".join(_float_literal(v) for v in vals) + "]"]
        if kind in ("add", "multiply"):
            op = "+" if kind == "add" else "*"
            return [
                f"a = {kids[0]}(x)",
                f"b = {kids[1]}(x)",
                f"return [u {op} v for u, v in zip(a, b)]",
            ]
        if kind == "elementwise":
            alias = self.ew_alias(prod)
            lines = [f"a{i} = {kid}(x)" for i, kid in enumerate(kids)]
            us = ", ".join(f"u{i}" for i in range(len(kids)))
            if len(kids) == 1:
                lines.append(f"return [float({alias}(u0)) for u0 in a0]")
            else:
                zs = ", ".join(f"a{i}" for i in range(len(kids)))
                lines.append(f"return [float({alias}({us})) for {us} in zip({zs})]")
            return lines
        if kind == "ite":
            beta = _float_literal(float(prod.params.get("beta", 1.0)))
            return [
                f"s = {self.p}_dp_sigmoid({beta} * {kids[0]}(x)[0])",
                f"f = {kids[1]}(x)",
                f"g = {kids[2]}(x)",
                "return [s * u + (1.0 - s) * v for u, v in zip(f, g)]",
            ]
        raise TypeError(  # pragma: no cover - typing prevents this
            f"Production kind {kind!r} cannot fill the atom hole {node.hole} (k={k})."
        )

    def _affine_body(self, node: TypedNode, mod) -> list[str]:
        linear = getattr(mod, "linear", None)
        if linear is None:
            raise TypeError(
                f"Node {node.path} ({node.production.name}) is not an affine module."
            )
        d = node.hole.input.size
        k = node.hole.output.size
        # mirror AffineModule: a selection covering every input is not re-indexed
        if getattr(mod, "full", False):
            sel = list(range(d))
        else:
            sel = [int(i) for i in mod.index.tolist()]
        w = _param_list(linear.weight)
        b = _param_list(linear.bias) if linear.bias is not None else [0.0] * k
        n = len(sel)
        if len(w) != n * k:
            raise ValueError(
                f"Affine node {node.path} has {len(w)} weights, expected {n * k}."
            )
        rows = [w[j * n : (j + 1) * n] for j in range(k)]
        lines = []
        group = node.production.params.get("group")
        idx = node.production.params.get("indices")
        desc = "all inputs" if idx is None else f"features {list(idx)}"
        if d > self.n_features and idx is not None:
            desc += f" and accumulator inputs {list(range(self.n_features, d))}"
        lines.append(f"# affine map of {desc}")
        if group is not None:
            lines.append(f"# feature group: {_comment_text(group)}")
        if n <= _MAX_INLINE_TERMS:
            lines.append("return [")
            for row, bias in zip(rows, b):
                terms = _linear_terms(row, sel, bias)
                lines.extend("    " + t for t in _wrap_terms(terms, 8, 88))
            lines.append("]")
            return lines
        name = self.fname(node.path)
        consts = (
            f"{name}_I = ({', '.join(str(i) for i in sel)},)\n"
            f"{name}_W = (\n"
            + "".join(
                "    (" + ", ".join(_float_literal(v) for v in row) + ",),\n"
                for row in rows
            )
            + ")\n"
            + f"{name}_B = ({', '.join(_float_literal(v) for v in b)},)\n"
        )
        self.blocks.append(consts)
        lines.append(
            f"return [sum([w * x[i] for w, i in zip(row, {name}_I)]) + c "
            f"for row, c in zip({name}_W, {name}_B)]"
        )
        return lines

    # sequence input: xs is a list of frames, returns a list of per-step vectors --
    def _seq_body(self, node: TypedNode, kind: str, kids: list[str]) -> list[str]:
        prod = node.production
        if kind == "map":
            return [f"return [{kids[0]}(x) for x in xs]"]
        if kind == "map_prefixes":
            return [
                "# the child's per-step outputs are its values on every prefix",
                f"return {kids[0]}(xs)",
            ]
        if kind == "fold":
            k = node.hole.output.size
            return [
                f"acc = [0.0] * {k}",
                "out = []",
                "for x in xs:",
                f"    acc = {kids[0]}(x + acc)",
                "    out.append(acc)",
                "return out",
            ]
        if kind == "window":
            left = int(prod.params["left"])
            return [
                f"# mean of the frames t-{left}..t of every prefix, then the child",
                "out = []",
                "for t in range(len(xs)):",
                f"    w = xs[max(0, t - {left}) : t + 1]",
                "    n = len(w)",
                f"    out.append({kids[0]}([sum(col) / n for col in zip(*w)]))",
                "return out",
            ]
        if kind == "ite":
            beta = _float_literal(float(prod.params.get("beta", 1.0)))
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


def _linear_terms(row: Sequence[float], sel: Sequence[int], bias: float) -> list[str]:
    """Terms of ``sum_j row[j] * x[sel[j]] + bias`` with exact literals."""
    parts: list[str] = []
    for j, (w, i) in enumerate(zip(row, sel)):
        neg = j > 0 and not math.isnan(w) and math.copysign(1.0, w) < 0
        lit = _float_literal(-w if neg else w)
        term = f"{lit} * x[{i}]"
        parts.append(term if j == 0 else f"{'-' if neg else '+'} {term}")
    neg = bool(parts) and not math.isnan(bias) and math.copysign(1.0, bias) < 0
    lit = _float_literal(-bias if neg else bias)
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


def _render(node: TypedNode) -> str:
    if not node.children:
        return f"({node.production.name})"
    return (
        f"({node.production.name} " + " ".join(_render(c) for c in node.children) + ")"
    )


# assembling -------------------------------------------------------------------------


_DOC = '''"""Standalone classifier exported by sklearn_dpads (a synthesized program).

This file needs only the Python standard library. Use it as a module
(``import <this file>``) or ``exec`` it, then call:

* ``{P}predict(X)``: predicted class labels;
* ``{P}predict_proba(X)``: class probabilities, ordered as ``{P}CLASSES``;
* ``{P}decision_function(X)``: {DEC}.

{INPUT}
Preprocessing: {PRE}.
"""
'''

_SEQ_INPUT = """Input ``X``: a list (or any indexable) of sequences; each sequence is a list of
frames and each frame a list of {F} numbers. Sequences may have different lengths.
Trailing frames whose values are all NaN are padding and are dropped; any other
NaN, and infinite values, raise ``ValueError``. {OUT}"""

_ATOM_INPUT = """Input ``X``: a list (or any indexable) of samples, each a list of {F} numbers
(tabular data). NaN and infinite values raise ``ValueError``. There is one
prediction per sample."""

_SEQ_OUT_ATOM = "There is one prediction per sequence."
_SEQ_OUT_SEQ = (
    "There is one prediction per real frame: the outputs are lists (one per\n"
    "sequence) of lists (one per frame)."
)


def _helpers(P: str, hole: FunctionType, n_out: int, pre: dict | None) -> str:
    lines = [
        f"def {P}_dp_sigmoid(z):",
        '    """Numerically stable logistic function."""',
        "    if z >= 0.0:",
        "        return 1.0 / (1.0 + math.exp(-z))",
        "    e = math.exp(z)",
        "    return e / (1.0 + e)",
        "",
        "",
        f"def {P}_dp_proba(z):",
        '    """Class probabilities from a logit vector."""',
    ]
    if n_out == 1:
        lines += [
            f"    s = {P}_dp_sigmoid(z[0] + {P}LOGIT_OFFSET)",
            "    return [1.0 - s, s]",
        ]
    else:
        lines += [
            "    m = max(z)",
            "    e = [math.exp(v - m) for v in z]",
            "    t = sum(e)",
            "    return [v / t for v in e]",
        ]
    lines += [
        "",
        "",
        f"def {P}_dp_argmax(p):",
        "    best = 0",
        "    for j in range(1, len(p)):",
        "        if p[j] > p[best]:",
        "            best = j",
        "    return best",
        "",
        "",
        f"def {P}_dp_frame(frame, where):",
        '    """Validate one frame (or tabular row) and apply the preprocessing."""',
        "    values = [float(v) for v in frame]",
        f"    if len(values) != {P}N_FEATURES:",
        "        raise ValueError(",
        "            f'{where} has {len(values)} features, expected '",
        f"            f'{{{P}N_FEATURES}}.'",
        "        )",
        "    for v in values:",
        "        if v != v or v in (math.inf, -math.inf):",
        "            raise ValueError(f'{where} contains NaN or infinity.')",
    ]
    if pre is None:
        lines.append("    return values")
    else:
        lines.append(
            f"    z = [(v - c) / s for v, c, s in zip(values, {P}CENTER, {P}SCALE)]"
        )
        if pre["clip"] is None:
            lines.append("    return z")
        else:
            lines.append(f"    return [min(max(v, -{P}CLIP), {P}CLIP) for v in z]")
    lines += ["", ""]
    if hole.input.is_seq:
        lines += [
            f"def {P}_dp_sequence(seq, i):",
            '    """A sequence as a list of preprocessed frames, padding dropped."""',
            "    frames = [list(frame) for frame in seq]",
            "    end = len(frames)",
            "    while end > 0 and len(frames[end - 1]) > 0 and all(",
            "        float(v) != float(v) for v in frames[end - 1]",
            "    ):",
            "        end -= 1",
            "    if end == 0:",
            "        raise ValueError(",
            "            f'Sequence {i} has no frames (after dropping trailing all-NaN '",
            "            'padding frames).'",
            "        )",
            "    return [",
            f"        {P}_dp_frame(frames[t], f'Frame {{t}} of sequence {{i}}')",
            "        for t in range(end)",
            "    ]",
            "",
            "",
            f"def {P}_dp_logits(X):",
            '    """Raw logit vectors (per sequence, or per sequence and frame)."""',
            "    out = []",
            "    for i in range(len(X)):",
            f"        steps = {P}_n({P}_dp_sequence(X[i], i))",
        ]
        if hole.output.is_seq:
            lines.append("        out.append(steps)")
        else:
            lines.append("        out.append(steps[-1])")
    else:
        lines += [
            f"def {P}_dp_logits(X):",
            '    """Raw logit vectors, one per sample."""',
            "    out = []",
            "    for i in range(len(X)):",
            f"        out.append({P}_n({P}_dp_frame(X[i], f'Sample {{i}}')))",
        ]
    lines += ["    return out", "", ""]

    def apply(expr: str) -> list[str]:
        if hole.output.is_seq:
            return [f"    return [[{expr} for z in seq] for seq in {P}_dp_logits(X)]"]
        return [f"    return [{expr} for z in {P}_dp_logits(X)]"]

    score = f"z[0] + {P}LOGIT_OFFSET" if n_out == 1 else "list(z)"
    lines += [f"def {P}decision_function(X):", '    """Raw logits."""']
    lines += apply(score)
    lines += ["", ""]
    lines += [
        f"def {P}predict_proba(X):",
        f'    """Class probabilities, in the order of {P}CLASSES."""',
    ]
    lines += apply(f"{P}_dp_proba(z)")
    lines += ["", ""]
    lines += [f"def {P}predict(X):", '    """Predicted class labels."""']
    lines += apply(f"{P}CLASSES[{P}_dp_argmax({P}_dp_proba(z))]")
    return "\n".join(lines) + "\n"


def _check_preprocessing(pre: dict | None, n_features: int) -> dict | None:
    if pre is None:
        return None
    if not isinstance(pre, dict):
        raise TypeError(
            f"preprocessing must be a dict or None, got {type(pre).__name__}."
        )
    unknown = set(pre) - {"center", "scale", "clip"}
    if unknown:
        raise ValueError(f"Unknown preprocessing keys: {sorted(map(str, unknown))}.")
    out: dict = {}
    for key, default in (("center", 0.0), ("scale", 1.0)):
        vals = pre.get(key)
        if vals is None:
            vals = [default] * n_features
        vals = [float(v) for v in vals]
        if len(vals) != n_features:
            raise ValueError(
                f"preprocessing[{key!r}] has {len(vals)} values, expected {n_features}."
            )
        if not all(math.isfinite(v) for v in vals):
            raise ValueError(f"preprocessing[{key!r}] must be finite.")
        if key == "scale" and any(v == 0.0 for v in vals):
            raise ValueError("preprocessing['scale'] must not contain zeros.")
        out[key] = vals
    clip = pre.get("clip")
    if clip is not None:
        clip = float(clip)
        if not clip > 0 or math.isnan(clip):
            raise ValueError(f"preprocessing['clip'] must be positive, got {clip}.")
    out["clip"] = clip
    return out


def to_python_source(
    module: ProgramModule,
    *,
    classes: Sequence[Any],
    preprocessing: dict | None = None,
    feature_names: Sequence[str] | None = None,
    func_name_prefix: str = "",
    logit_offset: float = 0.0,
) -> str:
    """Generate standalone Python source computing a compiled program's predictions.

    The code needs only the standard library (``import math``) and reproduces
    the torch module (in float64) exactly up to floating-point rounding.

    Parameters
    ----------
    module : ProgramModule
        The compiled (and trained) program.
    classes : sequence
        The original class labels, in the order of the logits (two labels for a
        single-logit binary program). Each must be an ``int``, ``float``,
        ``str`` or ``bool`` (numpy scalars are converted with ``.item()``).
    preprocessing : dict, optional
        ``{"center": [...], "scale": [...], "clip": float or None}`` applied to
        every feature first: ``z = (x - center) / scale``, then clipped to
        ``[-clip, clip]``.
    feature_names : sequence of str, optional
        Names listed in a header comment (defaults to the DSL's names). They
        are escaped and never appear outside comments.
    func_name_prefix : str, default=""
        Prefix of every top-level name the code defines (``predict`` becomes
        ``<prefix>predict``), so that several exports can share one file.
    logit_offset : float, default=0.0
        Added to the logit of a binary (single-logit) program before
        ``decision_function``, ``predict_proba`` and ``predict`` (a tuned
        decision threshold). Must be 0 for multiclass programs.

    Returns
    -------
    str
        Python source defining ``predict``, ``predict_proba``,
        ``decision_function`` and ``CLASSES`` (with the prefix).

    Raises
    ------
    TypeError
        If a class label has an unsupported type, or ``module`` is not a
        :class:`~sklearn_dpads.semantics.ProgramModule`.
    ValueError
        If the number of classes does not match the program's outputs, the
        preprocessing is malformed, or a user production's ``python_function``
        cannot be copied.
    """
    if not isinstance(module, ProgramModule):
        raise TypeError(f"Expected a ProgramModule, got {type(module).__name__}.")
    if not isinstance(func_name_prefix, str) or (
        func_name_prefix and not _PREFIX_RE.match(func_name_prefix)
    ):
        raise ValueError(
            f"func_name_prefix must be empty or an identifier, got {func_name_prefix!r}."
        )
    if func_name_prefix and keyword.iskeyword(func_name_prefix):
        raise ValueError(f"func_name_prefix {func_name_prefix!r} is a keyword.")
    P = func_name_prefix
    hole = module.hole
    n_features = module.dsl.n_features
    if hole.input.size != n_features:
        raise ValueError(
            f"The program's input size {hole.input.size} differs from the DSL's "
            f"n_features {n_features}."
        )
    n_out = hole.output.size
    labels = [_label_literal(c) for c in list(classes)]
    expected = 2 if n_out == 1 else n_out
    if len(labels) != expected:
        raise ValueError(
            f"The program has {n_out} output(s), so it needs {expected} classes; got "
            f"{len(labels)}."
        )
    pre = _check_preprocessing(preprocessing, n_features)
    logit_offset = float(logit_offset)
    if not math.isfinite(logit_offset):
        raise ValueError(f"logit_offset must be finite, got {logit_offset}.")
    if n_out != 1 and logit_offset != 0.0:
        raise ValueError("logit_offset is only supported for binary programs.")
    if feature_names is None:
        feature_names = module.dsl.feature_names
    if feature_names is not None:
        feature_names = list(feature_names)
        if len(feature_names) != n_features:
            raise ValueError(
                f"feature_names has {len(feature_names)} names, expected {n_features}."
            )

    typed = typecheck(module.program, module.dsl, hole)
    gen = _Generator(module, P)
    program_text = module.program.render()
    gen.emit(typed)

    out: list[str] = []
    if hole.input.is_seq:
        out_text = _SEQ_OUT_SEQ if hole.output.is_seq else _SEQ_OUT_ATOM
        input_text = _SEQ_INPUT.format(F=n_features, OUT=out_text)
    else:
        input_text = _ATOM_INPUT.format(F=n_features)
    if pre is None:
        pre_text = "none"
    else:
        pre_text = "each feature becomes (x - CENTER) / SCALE" + (
            "" if pre["clip"] is None else ", clipped to [-CLIP, CLIP]"
        )
    if n_out == 1:
        dec = f"the logit (plus ``{P}LOGIT_OFFSET``), one float per prediction"
    else:
        dec = f"the {n_out} logits, a list of floats per prediction"
    out.append(_DOC.format(P=P, DEC=dec, INPUT=input_text, PRE=pre_text))
    out.append("# Generated by sklearn_dpads.export.to_python_source; do not edit.\n#")
    out.append("# Program:")
    for line in textwrap.wrap(program_text, 84, break_long_words=False):
        out.append(f"#   {line}")
    out.append(f"# Type: {hole}")
    groups = []
    for _, prod in sorted(
        {id(n.production): (n.path, n.production) for n in _walk(typed)}.values(),
        key=lambda t: t[0],
    ):
        if prod.kind == "affine":
            idx = prod.params.get("indices")
            sel = "all features" if idx is None else f"features {list(idx)}"
            grp = prod.params.get("group")
            extra = "" if grp is None else f", group {_comment_text(grp)}"
            groups.append(f"#   {prod.name}: {sel}{extra}")
    if groups:
        out.append("# Affine leaves:")
        out.extend(groups)
    if feature_names is not None:
        out.append("# Features (index: name):")
        for i, fname in enumerate(feature_names):
            out.append(f"#   {i}: {_comment_text(fname)}")
    out.append("")
    out.append("import math")
    out.append("")
    out.append(
        f"__all__ = [{P + 'predict'!r}, {P + 'predict_proba'!r}, "
        f"{P + 'decision_function'!r}, {P + 'CLASSES'!r}]"
    )
    out.append("")
    out.append("# Class labels, in the order of the probabilities.")
    out.append(f"{P}CLASSES = [{', '.join(labels)}]")
    out.append(f"{P}N_FEATURES = {n_features}")
    if n_out == 1:
        out.append("# Added to the logit (decision threshold).")
        out.append(f"{P}LOGIT_OFFSET = {_float_literal(logit_offset)}")
    if pre is not None:
        out.append(
            f"{P}CENTER = [{', '.join(_float_literal(v) for v in pre['center'])}]"
        )
        out.append(f"{P}SCALE = [{', '.join(_float_literal(v) for v in pre['scale'])}]")
        if pre["clip"] is not None:
            out.append(f"{P}CLIP = {_float_literal(pre['clip'])}")
    out.append("")
    out.append("")
    for code in gen.user_code:
        out.append(code)
        out.append("")
    out.append(_helpers(P, hole, n_out, pre))
    out.append("")
    out.append("# One function per program node (atom input: x is a list of floats;")
    out.append("# sequence input: xs is a list of frames and the result has one entry")
    out.append("# per frame, the value on the prefix ending there for atom outputs).")
    out.append("")
    out.append("\n\n".join(gen.blocks))
    source = "\n".join(out).rstrip() + "\n"
    # sanity: the generated source must at least compile
    compile(source, "<sklearn_dpads export>", "exec")
    return source


def _walk(node: TypedNode):
    yield node
    for c in node.children:
        yield from _walk(c)


def load_python_program(source: str, *, func_name_prefix: str = "") -> types.ModuleType:
    """Execute exported source in a fresh module and return it.

    Parameters
    ----------
    source : str
        Output of :func:`to_python_source`.
    func_name_prefix : str, default=""
        The prefix used at export; the returned module also gets unprefixed
        aliases ``predict``, ``predict_proba``, ``decision_function`` and
        ``CLASSES`` when a prefix was used.

    Returns
    -------
    types.ModuleType
        A module with ``predict``, ``predict_proba``, ``decision_function``
        and ``CLASSES``.
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be a str, got {type(source).__name__}.")
    mod = types.ModuleType("sklearn_dpads_exported_program")
    exec(compile(source, "<sklearn_dpads exported program>", "exec"), mod.__dict__)
    if func_name_prefix:
        for name in ("predict", "predict_proba", "decision_function", "CLASSES"):
            setattr(mod, name, getattr(mod, func_name_prefix + name))
    return mod
