"""Export a compiled program as standalone, dependency-free Python source.

The generated module needs nothing but the Python standard library (it imports
only :mod:`math`): no torch, no numpy. This module validates the arguments and
assembles the source: a header, the constants (classes, scaler, threshold),
the runtime (real functions of ``export/_runtime.py``, copied verbatim and
renamed with the prefix, with the ``decision_function``, ``predict_proba`` and
``predict`` entry points and, for sequence input, the streaming ``Stream``
class and its ``make_stream`` factory) and one function per program node
(``export/_nodes.py``), plus one step function per node with a sequence
input for the streaming form. ``export/_safety.py`` decides how anything is
written.
"""

from __future__ import annotations

import ast
import inspect
import io
import keyword
import math
import re
import textwrap
import tokenize
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from sklearn_dpads.describe import describe_program
from sklearn_dpads.describe._words import check_units
from sklearn_dpads.export import _runtime
from sklearn_dpads.export._nodes import NodeGenerator
from sklearn_dpads.export._safety import (
    IDENTIFIER_RE,
    comment_text,
    float_literal,
    label_literal,
)
from sklearn_dpads.grammar.types import FunctionType
from sklearn_dpads.program import typecheck
from sklearn_dpads.semantics.compile import ProgramModule
from sklearn_dpads.utils._sequences import check_future_frames

__all__ = ["to_python_source", "load_python_program"]

# module-level names of the runtime that every export defines (with the prefix)
_RUNTIME_GLOBALS = ("CLASSES", "N_FEATURES", "LOGIT_OFFSET", "CENTER", "SCALE")
_RUNTIME_GLOBALS += ("CLIP", "LOW", "HIGH", "DELAY", "_n", "_s")


class ScalerLike(Protocol):
    """What the export reads of a fitted scaler (duck-typed).

    A fitted :class:`~sklearn_dpads.preprocessing.SequenceStandardScaler` is
    one: every feature becomes ``(x - center_) / scale_``, then is clipped to
    ``[-clip, clip]`` unless ``clip`` is None. A scaler may also have
    per-feature bounds ``clip_low_`` and ``clip_high_`` (both or neither),
    applied after the scaling and before ``clip``: the export of a pipeline
    folds several scalers that clip into one that way
    (:func:`~sklearn_dpads.export.export_program`).

    Attributes
    ----------
    center_ : array-like of shape (n_features,)
        Finite per-feature centres.
    scale_ : array-like of shape (n_features,)
        Finite, non-zero per-feature scales.
    clip : float or None
        Positive clipping bound, or None.
    """

    center_: Any
    scale_: Any
    clip: float | None


#: ``(center, scale, clip, low, high)`` of a scaler, as floats (see ScalerLike).
_Constants = tuple[
    list[float], list[float], float | None, list[float] | None, list[float] | None
]


def _float_list(values: Any, key: str, n_features: int) -> list[float]:
    """``n_features`` finite floats of the attribute ``key`` (ValueError if not)."""
    try:
        values = [float(v) for v in values]
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"scaler.{key} must be a sequence of {n_features} numbers ({exc})."
        ) from exc
    if len(values) != n_features:
        raise ValueError(
            f"scaler.{key} has {len(values)} values, expected {n_features}."
        )
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"scaler.{key} must be finite.")
    return values


def _scaler_constants(scaler: ScalerLike | None, n_features: int) -> _Constants | None:
    """A fitted scaler's ``(center_, scale_, clip, clip_low_, clip_high_)`` as floats.

    None: no scaler. TypeError if an attribute is missing; ValueError unless
    ``center_`` and ``scale_`` (and the optional bounds) hold ``n_features``
    finite numbers, ``scale_`` no zero, ``clip`` is None or positive and
    ``clip_low_`` is at most ``clip_high_``.
    """
    if scaler is None:
        return None
    try:
        arrays, clip = (scaler.center_, scaler.scale_), scaler.clip
    except AttributeError as exc:
        raise TypeError(
            "scaler must be a fitted scaler with center_, scale_ and clip attributes "
            f"(e.g. a fitted SequenceStandardScaler), got {type(scaler).__name__}: "
            f"{exc}."
        ) from exc
    center, scale = (
        _float_list(values, key, n_features)
        for key, values in zip(("center_", "scale_"), arrays)
    )
    if any(v == 0.0 for v in scale):
        raise ValueError("scaler.scale_ must not contain zeros.")
    if clip is not None:
        try:
            clip = float(clip)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"scaler.clip must be a number or None ({exc}).") from exc
        if not clip > 0:
            raise ValueError(f"scaler.clip must be positive, got {clip}.")
    low, high = getattr(scaler, "clip_low_", None), getattr(scaler, "clip_high_", None)
    if (low is None) != (high is None):
        raise ValueError("scaler.clip_low_ and scaler.clip_high_ go together.")
    if low is not None:
        low = _float_list(low, "clip_low_", n_features)
        high = _float_list(high, "clip_high_", n_features)
        if any(lo > hi for lo, hi in zip(low, high)):
            raise ValueError("scaler.clip_low_ must not exceed scaler.clip_high_.")
    return center, scale, clip, low, high


# the runtime --------------------------------------------------------------------


def _runtime_code(
    hole: FunctionType, n_out: int, helpers: set[str], prefix: str
) -> str:
    """The runtime functions this program needs, renamed to exported names."""
    r = _runtime
    seq_in, seq_out = hole.input.is_seq, hole.output.is_seq
    outputs = r._dp_outputs_steps if seq_out else r._dp_outputs_last
    chosen = {
        "_dp_sigmoid": r._dp_sigmoid,
        "_dp_proba": r._dp_proba_binary if n_out == 1 else r._dp_proba_softmax,
        "_dp_score": r._dp_score_binary if n_out == 1 else r._dp_score_multi,
        "_dp_argmax": r._dp_argmax,
        "_dp_frame": r._dp_frame,
        "_dp_sequence": r._dp_sequence if seq_in else None,
        "_dp_outputs": outputs if seq_in else r._dp_outputs_rows,
        **{name: getattr(r, name) for name in sorted(helpers)},
        "decision_function": r.decision_function,
        "predict_proba": r.predict_proba,
        "predict": r.predict,
        "Stream": r.Stream if seq_in else None,
        "make_stream": r.make_stream if seq_in else None,
    }
    return _copy_functions(
        {name: fn for name, fn in chosen.items() if fn is not None}, prefix
    )


def _copy_functions(functions: dict[str, Callable | type], prefix: str) -> str:
    """The source of ``{exported name: function or class}``, renamed accordingly.

    References to the runtime's globals and to the copied functions (by their
    own or exported name) get the prefix; a name the renaming missed (it
    skips strings, so one inside an f-string) raises ``RuntimeError``.
    """
    rename = {name: prefix + name for name in _RUNTIME_GLOBALS}
    for name, fn in functions.items():
        rename[name] = rename[fn.__name__] = prefix + name
    code = "\n\n".join(
        _rename(inspect.getsource(f), rename) for f in functions.values()
    )
    stale = {old for old, new in rename.items() if old != new}
    left = stale & {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)}
    if left:
        raise RuntimeError(f"Runtime names {sorted(left)} were not renamed.")
    return code


def _rename(source: str, names: dict[str, str]) -> str:
    """``source`` with every NAME token in ``names`` (not attributes) renamed."""
    lines = source.splitlines(keepends=True)
    edits, prev = [], None
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.string in names and prev != ".":
            edits.append(tok)
        prev = tok.string
    for tok in reversed(edits):  # right to left: earlier columns stay valid
        (row, col), end = tok.start, tok.end[1]
        line = lines[row - 1]
        lines[row - 1] = line[:col] + names[tok.string] + line[end:]
    return "".join(lines)


# assembling -------------------------------------------------------------------------

_DOC = '''"""Standalone classifier exported by sklearn_dpads (a synthesized program).

{DESCRIPTION}This file needs only the Python standard library. Use it as a module
(``import <this file>``) or ``exec`` it, then call:

* ``{P}predict(X)``: predicted class labels;
* ``{P}predict_proba(X)``: class probabilities, ordered as ``{P}CLASSES``;
* ``{P}decision_function(X)``: {DEC}.
{STREAM}
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

_STREAM = """* ``{P}make_stream()``: a ``{P}Stream`` for frames that arrive one at a time:
  ``label = stream.push(frame)`` after every frame, then ``stream.proba()`` and
  ``stream.decision()``; the same numbers as the functions above on the frames
  pushed so far (NaN frames raise ``ValueError``; ``stream.reset()`` starts a
  new sequence).
"""

_STREAM_DELAYED = """* ``{P}make_stream()``: a ``{P}Stream`` for frames that arrive one at a time.
  Each frame's decision reads the {D} frames after it, so it comes {D} frames
  late: ``label = stream.push(frame)`` is None for the first {D} frames, then the
  label of frame ``stream.n_frames - 1 - {D}``; at the end of the sequence,
  ``stream.flush()`` returns the labels of its last {D} frames. ``stream.proba()``
  and ``stream.decision()`` are of the latest frame decided; the same numbers as
  the functions above (NaN frames raise ``ValueError``; ``stream.reset()`` starts
  a new sequence).
"""

_SEQ_OUT_ATOM = "There is one prediction per sequence."
_SEQ_OUT_SEQ = (
    "There is one prediction per real frame: the outputs are lists (one per\n"
    "sequence) of lists (one per frame)."
)


def to_python_source(
    module: ProgramModule,
    *,
    classes: Sequence[Any],
    scaler: ScalerLike | None = None,
    feature_names: Sequence[str] | None = None,
    func_name_prefix: str = "",
    logit_offset: float = 0.0,
    description: str | None = None,
    units: Mapping[str, str] | None = None,
    frame_rate: float | None = None,
    future_frames: int = 0,
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
    scaler : ScalerLike, optional
        A fitted scaler (e.g. the estimator's ``scaler_``) applied to every
        feature first: ``z = (x - center_) / scale_``, then clipped to the
        per-feature bounds ``[clip_low_, clip_high_]`` if it has them, then to
        ``[-clip, clip]`` unless ``clip`` is None. None: no preprocessing.
    feature_names : sequence of str, optional
        Names listed in a header comment (defaults to the DSL's names). They
        are escaped and never appear outside comments.
    func_name_prefix : str, default=""
        Prefix of every top-level name the export defines (``predict`` becomes
        ``<prefix>predict``; the runtime helpers and constants too), so that
        several exports can share one file. The ``def`` of a user production's
        ``python_function`` keeps its own name.
    logit_offset : float, default=0.0
        Added to the logit of a binary (single-logit) program before
        ``decision_function``, ``predict_proba`` and ``predict`` (a tuned
        decision threshold). Must be 0 for multiclass programs.
    description : str, optional
        The program in plain words, for the module docstring (e.g.
        ``str(clf.describe(units=...))``). Default: written from the program,
        the scaler and the classes by
        :func:`~sklearn_dpads.describe.describe_program` (no units); names
        other than plain words are replaced by ``feature <i>`` and
        ``class <i>`` there.
    units : dict of str to str, optional
        Units of some features, by feature name (``{"distance": "mm"}``), for
        the default description (as in ``clf.describe(units=...)``).
    frame_rate : float, optional
        Frames per second of the sequences, for the default description's
        windows in seconds.
    future_frames : int, default=0
        Per-frame programs: the frames after a frame that its decision reads
        (the estimator's ``future_frames_``; the source's ``DELAY``). The batch
        functions run the program on every sequence extended by that many
        copies of its last frame and give frame ``t`` the output at ``t +
        future_frames``; the stream's ``push`` returns each frame's label that
        many frames late and ``flush()`` the last ones.

    Returns
    -------
    str
        Python source defining ``predict``, ``predict_proba``,
        ``decision_function`` and ``CLASSES`` (with the prefix) and, for a
        sequence input, the streaming form ``make_stream()``, which returns a
        ``Stream``: ``push(frame)`` takes one frame (preprocessed like the
        batch functions' frames), advances the program's state and returns
        the predicted label after it; ``proba()`` and ``decision()`` give the
        probabilities and decision value after the last frame, the same as
        the batch functions on the frames pushed so far.

    Raises
    ------
    TypeError
        If a class label has an unsupported type, ``module`` is not a
        :class:`~sklearn_dpads.semantics.ProgramModule`, or ``scaler`` lacks
        ``center_``, ``scale_`` or ``clip``.
    ValueError
        If the number of classes does not match the program's outputs, the
        scaler's values are malformed (wrong length, not finite, zero scale,
        non-positive clip, crossed bounds), a user production's
        ``python_function`` cannot be copied, or ``future_frames`` is
        negative or set for a program without per-frame output (TypeError if
        it is not an int).
    """
    if not isinstance(module, ProgramModule):
        raise TypeError(f"Expected a ProgramModule, got {type(module).__name__}.")
    P = func_name_prefix
    if not isinstance(P, str) or (P and not IDENTIFIER_RE.match(P)):
        raise ValueError(f"func_name_prefix must be empty or an identifier, got {P!r}.")
    if P and keyword.iskeyword(P):
        raise ValueError(f"func_name_prefix {P!r} is a keyword.")
    hole, n_features = module.hole, module.dsl.n_features
    delay = check_future_frames(future_frames, hole)
    if hole.input.size != n_features:
        raise ValueError(
            f"The program's input size {hole.input.size} differs from the DSL's "
            f"n_features {n_features}."
        )
    n_out = hole.output.size
    labels = [label_literal(c) for c in list(classes)]
    expected = 2 if n_out == 1 else n_out
    if len(labels) != expected:
        raise ValueError(
            f"The program has {n_out} output(s), so it needs {expected} classes; got "
            f"{len(labels)}."
        )
    pre = _scaler_constants(scaler, n_features)
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

    gen = NodeGenerator(module, P)
    gen.emit(typecheck(module.program, module.dsl, hole))

    if hole.input.is_seq:
        out_text = _SEQ_OUT_SEQ if hole.output.is_seq else _SEQ_OUT_ATOM
        if delay:
            out_text += (
                f"\nThe decision about frame t reads the frames up to t + {delay} "
                f"({P}DELAY), the\nsequence's last frame repeated past its end."
            )
        input_text = _SEQ_INPUT.format(F=n_features, OUT=out_text)
    else:
        input_text = _ATOM_INPUT.format(F=n_features)
    pre_text = "none"
    if pre is not None:
        pre_text = "each feature becomes (x - CENTER) / SCALE"
        if pre[3] is not None:
            pre_text += ",\nclipped to [LOW[j], HIGH[j]] (feature j)"
        if pre[2] is not None:
            pre_text += ", clipped to [-CLIP, CLIP]"
    if n_out == 1:
        dec = f"the logit (plus ``{P}LOGIT_OFFSET``), one float per prediction"
    else:
        dec = f"the {n_out} logits, a list of floats per prediction"
    stream_text = ""
    if hole.input.is_seq:
        stream = _STREAM_DELAYED if delay else _STREAM
        stream_text = stream.format(P=P, D=delay)
    if description is None:
        description = _description(
            module,
            classes,
            scaler,
            feature_names,
            logit_offset,
            units,
            frame_rate,
            delay,
        )
    out = [
        _DOC.format(
            P=P,
            DEC=dec,
            STREAM=stream_text,
            INPUT=input_text,
            PRE=pre_text,
            DESCRIPTION=_docstring_section(description),
        )
    ]
    out.append("# Generated by sklearn_dpads.export.to_python_source; do not edit.\n#")
    out.append("# Program:")
    for line in textwrap.wrap(module.program.render(), 84, break_long_words=False):
        out.append(f"#   {line}")
    out.append(f"# Type: {hole}")
    out.extend(_affine_leaves_comment(module))
    if feature_names is not None:
        out.append("# Features (index: name):")
        for i, fname in enumerate(feature_names):
            out.append(f"#   {i}: {comment_text(fname)}")
    out += ["", "import math", ""]
    names = [P + n for n in ("predict", "predict_proba", "decision_function")]
    if hole.input.is_seq:
        names += [P + "make_stream", P + "Stream"]
    out.append(f"__all__ = [{', '.join(map(repr, names + [P + 'CLASSES']))}]")
    out += ["", "# Class labels, in the order of the probabilities."]
    out.append(f"{P}CLASSES = [{', '.join(labels)}]")
    out.append(f"{P}N_FEATURES = {n_features}")
    if n_out == 1:
        out.append("# Added to the logit (decision threshold).")
        out.append(f"{P}LOGIT_OFFSET = {float_literal(logit_offset)}")
    out.append("# Preprocessing (None: not applied).")
    center, scale, clip, low, high = (None,) * 5 if pre is None else pre
    constants = (("CENTER", center), ("SCALE", scale), ("LOW", low), ("HIGH", high))
    for name, values in constants:
        lits = None if values is None else f"[{', '.join(map(float_literal, values))}]"
        out.append(f"{P}{name} = {lits}")
    out.append(f"{P}CLIP = {None if clip is None else float_literal(clip)}")
    if hole.input.is_seq:
        out.append("# Frames after a frame that its decision reads (its label comes")
        out.append("# this many frames late in the stream).")
        out.append(f"{P}DELAY = {delay}")
    out += ["", ""]
    for code in gen.user_code:
        out += [code, ""]
    out += [_runtime_code(hole, n_out, gen.helpers, P), ""]
    out.append("# One function per program node (atom input: x is a list of floats;")
    out.append("# sequence input: xs is a list of frames and the result has one entry")
    out.append("# per frame, the value on the prefix ending there for atom outputs).")
    if hole.input.is_seq:
        out.append("# The _s functions are their streaming steps: the next frame x in,")
        out.append(
            "# the value after it out, earlier frames kept in the state dict st."
        )
    out += ["", "\n\n".join(gen.blocks)]
    source = "\n".join(out).rstrip() + "\n"
    # sanity: the generated source must at least compile
    compile(source, "<sklearn_dpads export>", "exec")
    return source


#: Names written into the docstring as they are; others become "feature <i>".
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_ .,:;%+\-\[\]/]{1,60}")


def _description(
    module: ProgramModule,
    classes: Sequence[Any],
    scaler: ScalerLike | None,
    feature_names: Sequence[str] | None,
    logit_offset: float,
    units: Mapping[str, str] | None = None,
    frame_rate: float | None = None,
    future_frames: int = 0,
) -> str:
    """The program's description for the docstring, with plain names only
    (``units`` are keyed by the given names, and follow them when renamed)."""

    def plain(name: Any, fallback: str) -> str:
        text = str(name)
        return text if _PLAIN_NAME.fullmatch(text) else fallback

    n = module.dsl.n_features
    given = [
        str(v)
        for v in (
            feature_names if feature_names is not None else [f"x{i}" for i in range(n)]
        )
    ]
    names = [plain(v, f"feature {i}") for i, v in enumerate(given)]
    if len(set(names)) != len(names):
        names = [f"feature {i}" for i in range(n)]
    if units is not None:
        units = _units_by_plain_name(units, given, names)
    labels = [plain(c, f"class {i}") for i, c in enumerate(classes)]
    text = describe_program(
        module,
        scaler=scaler,
        classes=labels,
        feature_names=names,
        logit_offset=logit_offset if module.hole.output.size == 1 else 0.0,
        units=units,
        frame_rate=frame_rate,
        future_frames=future_frames,
    )
    return "\n".join(
        [f"{i}. {s}" for i, s in enumerate(text.sentences, 1)]
        + [f"Note: {v}" for v in text.notes]
    )


def _units_by_plain_name(
    units: Mapping[str, str], given: Sequence[str], names: Sequence[str]
) -> dict[str, str]:
    """``units`` (checked against the given names) keyed by the docstring's names."""
    where = {name: i for i, name in enumerate(given)}
    return {names[where[k]]: v for k, v in check_units(units, given).items()}


def _docstring_section(description: str) -> str:
    """The description as a docstring section (wrapped, escaped), or nothing."""
    description = description.strip()
    if not description:
        return ""
    lines = ["What it computes, in the units of its input:", ""]
    for para in description.splitlines():
        if not para.strip():
            lines.append("")
            continue
        indent = " " * (len(para) - len(para.lstrip()))
        head = para.lstrip()
        hang = indent + " " * (head.find(" ") + 1 if head[:1].isdigit() else 2)
        lines += textwrap.wrap(
            head,
            79,
            initial_indent=indent,
            subsequent_indent=hang,
            break_long_words=False,
            break_on_hyphens=False,
        )
    text = "\n".join(lines) + "\n\n"
    text = "".join(c if c.isprintable() or c == "\n" else "?" for c in text)
    # the docstring is a plain triple-quoted literal: no escapes, no end quotes
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _affine_leaves_comment(module: ProgramModule) -> list[str]:
    """Header lines naming the features each leaf of the program reads.

    Each production's kind gives its section and line
    (:meth:`Kind.export_summary <sklearn_dpads.grammar.Kind.export_summary>`);
    sections come in alphabetical order, lines in program order.
    """
    last = {sub.symbol: path for path, sub in module.program.walk()}
    lines: dict[str, list[str]] = {}
    for symbol, _ in sorted(last.items(), key=lambda item: item[1]):
        prod = module.dsl[symbol]
        summary = prod.kind.export_summary(prod)
        if summary is not None:
            lines.setdefault(summary[0], []).append(f"#   {summary[1]}")
    out = []
    for title in sorted(lines):
        out += [f"# {title}:", *lines[title]]
    return out


def load_python_program(source: str, *, func_name_prefix: str = "") -> types.ModuleType:
    """Execute exported source in a fresh module and return it.

    Parameters
    ----------
    source : str
        Output of :func:`to_python_source`.
    func_name_prefix : str, default=""
        The prefix used at export; the returned module also gets unprefixed
        aliases ``predict``, ``predict_proba``, ``decision_function`` and
        ``CLASSES`` (and ``make_stream`` and ``Stream`` when defined) when a
        prefix was used.

    Returns
    -------
    types.ModuleType
        A module with ``predict``, ``predict_proba``, ``decision_function``
        and ``CLASSES`` (and ``make_stream`` and ``Stream`` for sequence
        input).
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be a str, got {type(source).__name__}.")
    mod = types.ModuleType("sklearn_dpads_exported_program")
    exec(compile(source, "<sklearn_dpads exported program>", "exec"), mod.__dict__)
    if func_name_prefix:
        for name in ("predict", "predict_proba", "decision_function", "CLASSES"):
            setattr(mod, name, getattr(mod, func_name_prefix + name))
        for name in ("make_stream", "Stream"):
            if hasattr(mod, func_name_prefix + name):
                setattr(mod, name, getattr(mod, func_name_prefix + name))
    return mod
