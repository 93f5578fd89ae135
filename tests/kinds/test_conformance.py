"""One conformance test for every production kind (and a user production).

For every production of a DSL that holds every built-in kind (a fold with and
without a state width, a map with and without a lag, a filter, ``diff``,
windows) and a user production,
and for every hole of a small set it can fill, a smallest program rooted at
that production is compiled, its parameters randomised, and its meaning is
checked everywhere the kind defines one:

* typing: the typed tree's holes are the kind's ``child_types``; the display
  and the picture label are strings;
* torch: the value on padded sequences equals the value on each unpadded one;
* chunked evaluation equals one pass;
* the standard-library export (run with ``math`` as the only import) equals
  torch, and so does its stream after every frame;
* the sympy export, evaluated numerically by an independent interpreter of
  its sequence functions, equals torch;
* the module and the production survive pickling, the kind stays the same
  object.
* the description is written, and the parts of the explanation add up to the
  torch value.

A new kind that leaves out a part fails here (the contract's defaults raise
NotImplementedError).
"""

from __future__ import annotations

import builtins
import importlib.util
import math
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy
import torch

from sklearn_dpads.describe import describe_program, explain_program
from sklearn_dpads.export import load_python_program, to_python_source
from sklearn_dpads.export.sympy import accumulator_symbols, feature_symbols, to_sympy
from sklearn_dpads.grammar import Kind
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.kinds import BUILTIN_KINDS, fold_production, map_production
from sklearn_dpads.library import default_dsl, make_production
from sklearn_dpads.program import Program, typecheck
from sklearn_dpads.semantics import compile_program

N_FEATURES = 3
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "_examples" / "window_max.py"


def load_window_max():
    """The worked example of ``docs/adding_a_production.rst``, as ``window_max``.

    Registered in ``sys.modules`` so that pickles find its kind by name.
    """
    if "window_max" not in sys.modules:
        spec = importlib.util.spec_from_file_location("window_max", EXAMPLE)
        sys.modules["window_max"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules["window_max"])
    return sys.modules["window_max"]


window_max = load_window_max()


def py_tanh(a):
    return math.tanh(a)


TANH = make_production(
    "tanh", torch.tanh, 1, python_function=py_tanh, sympy_function=sympy.tanh
)
DSL = default_dsl(
    N_FEATURES,
    {"a": [0], "b": [1, 2]},
    ite_beta=1.5,
    filters=(3,),
    difference=True,
    kernel_windows=(4,),
    quadratic=True,
    extra_productions=[
        TANH,
        fold_production("fold2", 2),
        map_production("map_lag3", lag=3),  # a map of a look-ahead program
        window_max.window_max_production("last4_max", 3),
    ],
)
HOLES = [
    "atom[3] -> atom[1]",
    "atom[3] -> atom[2]",
    "list[3] -> atom[1]",
    "list[3] -> atom[2]",
    "list[3] -> list[1]",
    "list[3] -> list[2]",
]


def _child(hole, slot: int) -> Program:
    """A small program of type ``hole``, different for every argument slot."""
    i, o = hole.input, hole.output
    if not i.is_seq:  # atom functions, fold bodies included (affine reads acc)
        leaf = ("affine_b", "affine_a", "affine")[slot]
        return Program(leaf, ())
    if o.is_seq:
        return Program("map", (Program(("affine_a", "affine_b", "affine")[slot], ()),))
    if slot == 0:
        return Program("filter3_b", ())
    return Program("last5_avg", (Program(("affine_a", "affine")[slot - 1], ()),))


def _cases():
    out = []
    for prod in DSL.productions:
        for text in HOLES:
            hole = parse_type(text)
            types = prod.child_types(hole, N_FEATURES)
            if types is None:
                continue
            prog = Program(prod.name, tuple(_child(t, s) for s, t in enumerate(types)))
            out.append(pytest.param(prog, hole, id=f"{prod.name}:{text}"))
    return out


CASES = _cases()


def test_every_kind_and_a_user_production_are_covered():
    kinds = {DSL[c.values[0].symbol].kind for c in CASES}
    assert {k.name for k in kinds} == {k.name for k in BUILTIN_KINDS} | {"window_max"}
    assert all(isinstance(k, Kind) for k in BUILTIN_KINDS)
    assert "tanh" in {c.values[0].symbol for c in CASES}
    # every production of the DSL roots at least one case
    assert {c.values[0].symbol for c in CASES} == {p.name for p in DSL.productions}


def _module(program, hole, seed=0):
    torch.manual_seed(seed)
    module = compile_program(program, DSL, hole).double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn_like(p) * 0.7)
    return module.eval()


def _data(hole, seed=0):
    g = np.random.default_rng(seed)
    if not hole.input.is_seq:
        return g.normal(size=(5, N_FEATURES)), None
    x = g.normal(size=(3, 7, N_FEATURES))
    lengths = np.array([7, 4, 1])
    for b, n in enumerate(lengths):
        x[b, n:] = 0.0
    return x, lengths


def _torch_values(module, x, lengths):
    with torch.no_grad():
        if lengths is None:
            return module(torch.as_tensor(x)).numpy()
        return module(torch.as_tensor(x), torch.as_tensor(lengths)).numpy()


def _only_math(name, globals=None, locals=None, fromlist=(), level=0):
    if name != "math":
        raise ImportError(f"exported code imported {name!r}")
    return builtins.__import__(name, globals, locals, fromlist, level)


def _load_restricted(source):
    safe = dict(vars(builtins))
    safe["__import__"] = _only_math
    ns = {"__builtins__": safe, "__name__": "exported_program"}
    exec(compile(source, "<exported>", "exec"), ns)
    return ns


def _classes(hole):
    k = hole.output.size
    return [0, 1] if k == 1 else list(range(k))


@pytest.mark.parametrize("program, hole", CASES)
def test_typing_display_and_pickling(program, hole):
    prod = DSL[program.symbol]
    typed = typecheck(program, DSL, hole)
    assert tuple(c.hole for c in typed.children) == prod.child_types(hole, N_FEATURES)
    text = prod.display([c.render() for c in program.children])
    assert isinstance(text, str) and text
    assert isinstance(prod.kind.label(prod), str)
    assert prod.kind.role in ("sequence", "combine", "leaf")
    q = pickle.loads(pickle.dumps(prod))
    assert q.kind is prod.kind and q.name == prod.name and q.arity == prod.arity
    module = _module(program, hole)
    leaf = module.leaf(())
    assert leaf.kind == prod.kind.name
    again = pickle.loads(pickle.dumps(module))
    x, lengths = _data(hole)
    np.testing.assert_array_equal(
        _torch_values(again, x, lengths), _torch_values(module, x, lengths)
    )


@pytest.mark.parametrize("program, hole", CASES)
def test_torch_padding_and_chunks(program, hole):
    module = _module(program, hole)
    x, lengths = _data(hole)
    full = _torch_values(module, x, lengths)
    if lengths is None:
        return
    for b, n in enumerate(lengths):  # padding never reaches a real frame
        alone = _torch_values(module, x[b : b + 1, :n], np.array([n]))
        want = full[b : b + 1, :n] if hole.output.is_seq else full[b : b + 1]
        np.testing.assert_allclose(alone, want, rtol=1e-12, atol=1e-12)
    with torch.no_grad():
        for chunk in (1, 2, 3):
            got = module.forward_chunked(
                torch.as_tensor(x), torch.as_tensor(lengths), chunk_frames=chunk
            ).numpy()
            if hole.output.is_seq:
                for b, n in enumerate(lengths):
                    np.testing.assert_allclose(got[b, :n], full[b, :n], atol=1e-12)
            else:
                np.testing.assert_allclose(got, full, atol=1e-12)


def _decision(values):
    """Exported decisions (one number for a single logit) as a float array."""
    return np.asarray(values, dtype=float)


@pytest.mark.parametrize("program, hole", CASES)
def test_python_export_and_stream_equal_torch(program, hole):
    module = _module(program, hole)
    x, lengths = _data(hole)
    want = _torch_values(module, x, lengths)
    source = to_python_source(module, classes=_classes(hole))
    ns = _load_restricted(source)
    assert load_python_program(source) is not None
    k = hole.output.size
    if lengths is None:
        got = _decision(ns["decision_function"](x.tolist()))
        np.testing.assert_allclose(got.reshape(want.shape), want, atol=1e-10)
        return
    seqs = [x[b, :n].tolist() for b, n in enumerate(lengths)]
    got = ns["decision_function"](seqs)
    for b, n in enumerate(lengths):
        w = want[b, :n] if hole.output.is_seq else want[b]
        np.testing.assert_allclose(_decision(got[b]).reshape(w.shape), w, atol=1e-10)
        stream = ns["make_stream"]()
        for t, frame in enumerate(seqs[b]):
            stream.push(frame)
            step = _decision(stream.decision()).reshape(k)
            # the stream's value after frame t is the batch value on the prefix
            prefix = want[b, t] if hole.output.is_seq else None
            if prefix is None:
                prefix = _torch_values(module, x[b : b + 1, : t + 1], np.array([t + 1]))
                prefix = prefix[0]
            np.testing.assert_allclose(step, prefix.reshape(k), atol=1e-10)


# sympy, evaluated numerically -----------------------------------------------------

_WRAPPERS = {
    "".join(p[:1].upper() + p[1:] for p in prod.name.split("_") if p): prod
    for prod in DSL.productions
    if prod.kind.role == "sequence"
}
FEATURES = feature_symbols(N_FEATURES)


def _atom_value(expr, frame, acc=()):
    subs = dict(zip(FEATURES, frame))
    subs.update(zip(accumulator_symbols(len(acc)), acc))
    return float(sympy.N(expr.xreplace({k: sympy.Float(v) for k, v in subs.items()})))


def _outer_wrappers(expr):
    """The sequence-function applications of ``expr`` not inside another one."""
    if isinstance(expr, sympy.Function) and type(expr).__name__ in _WRAPPERS:
        return [expr]
    out = []
    for arg in getattr(expr, "args", ()):
        out += [w for w in _outer_wrappers(arg) if w not in out]
    return out


def _seq_value(expr, xs):
    """The value of a sympy export at the last frame of ``xs`` (a list of frames).

    An independent reading of the documented sympy form: ``Map(body)`` is the
    body at the frame, windows average it over their frames, ``Fold`` runs its
    body from a zero accumulator, ``Diff(body)`` reads the frame differences,
    ``MapPrefixes(body)`` is the body on the prefix, and ``x_i[t - j]`` is
    feature ``i`` ``j`` frames back (the first frame before the start).
    """
    T = len(xs)
    values = {}
    for node in _outer_wrappers(expr):
        prod = _WRAPPERS[type(node).__name__]
        kind = prod.kind.name
        body = node.args[0]
        if kind == "map":  # a lagged map's body reads x_i[t - lag]
            v = _seq_value(body, xs)
        elif kind == "window":
            left = prod.params["left"]
            frames = xs[max(0, T - left - 1) :]
            v = sum(_seq_value(body, [f]) for f in frames) / len(frames)
        elif kind == "fold":
            j = int(node.args[1]) if len(node.args) > 1 else 0
            rows = list(body) if isinstance(body, sympy.MatrixBase) else [body]
            acc = [0.0] * len(rows)
            for f in xs:
                acc = [_atom_value(r, f, acc) for r in rows]
            v = acc[j]
        elif kind == "difference":
            diffs = [[0.0] * N_FEATURES] + [
                [a - b for a, b in zip(xs[t], xs[t - 1])] for t in range(1, T)
            ]
            v = _seq_value(body, diffs)
        elif kind == "map_prefixes":
            v = _seq_value(body, xs)
        else:  # pragma: no cover - a new sequence kind needs a reading here
            raise AssertionError(f"no reading of {kind}")
        values[node] = sympy.Float(v)
    rest = expr.xreplace(values)
    lagged = {}
    for idx in rest.atoms(sympy.Indexed):
        i = FEATURES.index(idx.base.label)
        lag = -int(idx.indices[0].as_coeff_add()[0])
        lagged[idx] = sympy.Float(xs[max(0, T - 1 - lag)][i])
    return _atom_value(rest.xreplace(lagged), xs[-1])


@pytest.mark.parametrize("program, hole", CASES)
def test_sympy_export_evaluates_to_torch(program, hole):
    module = _module(program, hole)
    x, lengths = _data(hole)
    want = _torch_values(module, x, lengths)
    expr = to_sympy(module, simplify=False)
    outs = list(expr) if isinstance(expr, sympy.MatrixBase) else [expr]
    assert len(outs) == hole.output.size
    if lengths is None:
        for r in range(2):
            got = [_atom_value(e, x[r]) for e in outs]
            np.testing.assert_allclose(got, want[r], atol=1e-9)
        return
    for b, n in enumerate(lengths[:2]):
        seq = x[b, :n].tolist()
        if hole.output.is_seq:  # the value at every frame is the prefix's value
            for t in range(n):
                got = [_seq_value(e, seq[: t + 1]) for e in outs]
                np.testing.assert_allclose(got, want[b, t], atol=1e-9)
        else:
            got = [_seq_value(e, seq) for e in outs]
            np.testing.assert_allclose(got, want[b], atol=1e-9)


# plain words and explanations ------------------------------------------------------


@pytest.mark.parametrize("program, hole", CASES)
def test_description_and_explanation_add_up_to_torch(program, hole):
    """Every production is described, and its parts add up to the program's value."""
    module = _module(program, hole)
    x, lengths = _data(hole)
    want = _torch_values(module, x, lengths)
    classes = _classes(hole)
    text = str(describe_program(module, classes=classes))
    assert text.startswith("Program: ") and "\n1. " in text
    expl = explain_program(module, x, lengths, classes=classes, logit_offset=0.25)
    k = hole.output.size
    offset = 0.25 if k == 1 else 0.0
    got = np.nansum(expl.contributions, axis=-1 if k == 1 else -2)
    want = want[..., 0] + offset if k == 1 else want
    if hole.output.is_seq:  # padding frames are not predictions
        for b, n in enumerate(lengths):
            np.testing.assert_allclose(got[b, :n], want[b, :n], rtol=1e-10, atol=1e-10)
            np.testing.assert_allclose(expl.decision[b, :n], want[b, :n], atol=1e-10)
            assert np.isnan(expl.contributions[b, n:]).all()
    else:
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(expl.decision, want, atol=1e-10)
    first = expl[0][0] if hole.output.is_seq else expl[0]
    assert str(first).count("\n") >= 2
    assert len(expl.terms) == expl.contributions.shape[-1 if k == 1 else -2]
