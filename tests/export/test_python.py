"""Tests for the standalone Python export (sklearn_dpads.export.python).

The exported source must run with the standard library alone; equivalence with
the float64 torch module is checked in a subprocess in which ``import torch`` and
``import numpy`` fail.
"""

from __future__ import annotations

import ast
import builtins
import io
import json
import math
import random
import subprocess
import sys
import tokenize
import types

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sklearn_dpads.export import load_python_program, to_python_source
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.kinds import fold_production
from sklearn_dpads.library import default_dsl, make_production
from sklearn_dpads.program import Program
from sklearn_dpads.semantics import compile_program

N_FEATURES = 3
GROUPS = {"a": [0], "b": [1, 2]}
HOSTILE = "\n__import__('os').system('echo pwned')\n"


def py_max(a, b):
    return a if a >= b else b


def py_tanh(a):
    return math.tanh(a)


def py_uses_numpy(a):
    return np.tanh(a)


MAXIMUM = make_production("maximum", torch.maximum, 2, python_function=py_max)
TANH = make_production("tanh", torch.tanh, 1, python_function=py_tanh)
# a fold with a 3-wide state and a readout
FOLD3 = fold_production("fold3", 3)


def make_dsl(feature_names=None, groups=GROUPS, extra=(MAXIMUM, TANH, FOLD3)):
    return default_dsl(
        N_FEATURES,
        groups,
        feature_names,
        ite_beta=1.5,
        extra_productions=list(extra),
        filters=(3,),
        difference=True,
    )


DSL = make_dsl()

SEQ_ATOM = [
    "(fold (affine))",
    "(fold (add (affine_a) (maximum (affine_b) (const))))",
    "(fold (ite (affine_b) (tanh (affine_a)) (multiply (affine) (const))))",
    "(last5_avg (affine_a))",
    "(last10_avg (affine))",
    "(last3_avg (affine_b))",
    "(last6_avg (multiply (affine_a) (affine_b)))",
    "(ite (fold (affine_a)) (last5_avg (affine)) (last3_avg (affine_b)))",
    "(filter3_a)",
    "(filter3)",
    "(ite (filter3_b) (diff (last5_avg (multiply (affine_a) (affine_a)))) (fold (affine)))",
    "(diff (diff (filter3_b)))",
    "(fold3 (ite (affine_a) (affine) (multiply (affine_b) (const))))",
    "(ite (fold3 (affine)) (fold3 (add (affine_b) (const))) (filter3))",
]
SEQ_SEQ = [
    "(map (affine))",
    "(map (ite (affine_a) (affine_b) (const)))",
    "(map (maximum (tanh (affine_a)) (affine_b)))",
    "(map_prefixes (fold (affine_b)))",
    "(map_prefixes (last10_avg (affine_a)))",
    "(ite (last6_avg (affine)) (map (affine_a)) (map_prefixes (fold (affine))))",
    "(map_prefixes (filter3_b))",
    "(diff (map (affine_b)))",
    "(ite (diff (filter3)) (map_prefixes (diff (filter3_a))) (diff (map (affine))))",
    "(map_prefixes (fold3 (tanh (affine))))",
]
ATOM_ATOM = [
    "(add (multiply (affine_a) (affine_b)) (const))",
    "(ite (affine_a) (affine) (affine_b))",
    "(maximum (affine_a) (tanh (affine_b)))",
    "(affine)",
    "(const)",
]
ROOTS = {
    "seq_atom": ("list[{F}] -> atom[{O}]", SEQ_ATOM),
    "seq_seq": ("list[{F}] -> list[{O}]", SEQ_SEQ),
    "atom_atom": ("atom[{F}] -> atom[{O}]", ATOM_ATOM),
}
CLASSES = {1: [0, 1], 3: ["neg", 'it\'s "q"', 7]}


def hole_for(root: str, n_out: int):
    return parse_type(ROOTS[root][0].format(F=N_FEATURES, O=n_out))


def build(text, hole, seed, dsl=DSL):
    module = compile_program(text, dsl, hole).double()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.8)
    return module


def make_data(hole, seed, n=6, t_max=14):
    """Padded array + lengths (torch side) and ragged lists (export side)."""
    rng = np.random.default_rng(seed)
    if not hole.input.is_seq:
        X = rng.normal(size=(n, N_FEATURES))
        return X, None, X.tolist()
    lengths = rng.integers(1, t_max + 1, size=n)
    lengths[0] = t_max
    X = rng.normal(size=(n, t_max, N_FEATURES))
    ragged = []
    for i, length in enumerate(lengths):
        X[i, length:] = 0.0
        seq = X[i, :length].tolist()
        if i % 2 == 1:  # NaN padding frames at the end are dropped
            seq += [[math.nan] * N_FEATURES] * int(t_max - length)
        ragged.append(seq)
    return X, lengths, ragged


def torch_reference(module, X, lengths):
    with torch.no_grad():
        if lengths is None:
            z = module(torch.as_tensor(X, dtype=torch.float64))
        else:
            z = module(
                torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(lengths)
            )
        if z.shape[-1] == 1:
            p1 = torch.sigmoid(z)
            proba = torch.cat([1.0 - p1, p1], dim=-1)
        else:
            proba = torch.softmax(z, dim=-1)
    return z.detach().numpy(), proba.detach().numpy()


def expected(module, X, lengths, classes):
    z, proba = torch_reference(module, X, lengths)
    if module.hole.output.is_seq:
        z = [z[i, :length] for i, length in enumerate(lengths)]
        proba = [proba[i, :length] for i, length in enumerate(lengths)]
    pred = [np.asarray(classes, dtype=object)[np.argmax(p, axis=-1)] for p in proba]
    return z, proba, pred


def assert_equivalent(result, module, X, lengths, classes):
    z, proba, pred = expected(module, X, lengths, classes)
    n_out = module.hole.output.size
    assert len(result["proba"]) == len(proba)
    for i in range(len(proba)):
        got_p = np.asarray(result["proba"][i], dtype=float)
        assert got_p.shape == np.shape(proba[i])
        np.testing.assert_allclose(got_p, proba[i], rtol=0, atol=1e-6)
        got_z = np.asarray(result["decision"][i], dtype=float)
        want_z = z[i][..., 0] if n_out == 1 else z[i]
        np.testing.assert_allclose(got_z, want_z, rtol=1e-7, atol=1e-8)
        got_pred = result["pred"][i]
        want_pred = pred[i].tolist() if np.ndim(pred[i]) else pred[i]
        assert got_pred == want_pred
        # labels keep their exact type and value
        flat = got_pred if isinstance(got_pred, list) else [got_pred]
        for label in flat:
            assert any(type(label) is type(c) and label == c for c in classes)


# isolated execution -----------------------------------------------------------

_HARNESS = r"""
import json
import sys

_BLOCKED = ("torch", "numpy", "sympy", "scipy", "sklearn", "sklearn_dpads")


class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in _BLOCKED:
            raise ImportError("blocked import of " + name)
        return None


sys.meta_path.insert(0, _Block())
for _name in list(sys.modules):
    if _name.split(".")[0] in _BLOCKED:
        del sys.modules[_name]
for _name in ("torch", "numpy"):
    try:
        __import__(_name)
    except ImportError:
        pass
    else:
        raise SystemExit("the import guard failed for " + _name)

results = []
for job in json.load(sys.stdin):
    ns = {"__name__": "exported_program"}
    exec(compile(job["source"], "<exported>", "exec"), ns)
    p = job.get("prefix", "")
    X = job["X"]
    result = {
        "decision": ns[p + "decision_function"](X),
        "proba": ns[p + "predict_proba"](X),
        "pred": ns[p + "predict"](X),
        "classes": ns[p + "CLASSES"],
    }
    if job.get("stream"):
        # every real frame pushed to a fresh stream per sequence; and the batch
        # functions on every prefix, which the stream must reproduce
        result["stream"], result["prefixes"] = [], []
        for seq in X:
            seq = [f for f in seq if any(v == v for v in f)]  # drop NaN padding
            stream = ns[p + "make_stream"]()
            steps = []
            for frame in seq:
                label = stream.push(frame)
                steps.append([label, stream.proba(), stream.decision()])
            assert stream.n_frames == len(seq)
            result["stream"].append(steps)
            prefixes = [seq[: t + 1] for t in range(len(seq))]
            result["prefixes"].append(
                [
                    ns[p + "predict"](prefixes),
                    ns[p + "predict_proba"](prefixes),
                    ns[p + "decision_function"](prefixes),
                ]
            )
    results.append(result)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in _BLOCKED)
json.dump({"results": results, "loaded": loaded}, sys.stdout, allow_nan=True)
"""


def run_isolated(jobs):
    """Run exported sources in a fresh interpreter without torch and numpy."""
    proc = subprocess.run(
        [sys.executable, "-I", "-c", _HARNESS],
        input=json.dumps(jobs, allow_nan=True),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout)
    assert out["loaded"] == []
    return out["results"]


def _only_math_import(name, globals=None, locals=None, fromlist=(), level=0):
    if name != "math":
        raise ImportError(f"exported code imported {name!r}")
    return builtins.__import__(name, globals, locals, fromlist, level)


def load_restricted(source):
    """In-process execution where any import but math fails."""
    safe = dict(vars(builtins))
    safe["__import__"] = _only_math_import
    ns = {"__builtins__": safe, "__name__": "exported_program"}
    exec(compile(source, "<exported>", "exec"), ns)
    return ns


def run_restricted(source, X):
    ns = load_restricted(source)
    return {
        "decision": ns["decision_function"](X),
        "proba": ns["predict_proba"](X),
        "pred": ns["predict"](X),
    }


# every production, every root, binary and multiclass ---------------------------


def _all_cases():
    cases = []
    for root, (_, texts) in ROOTS.items():
        for n_out in (1, 3):
            for j, text in enumerate(texts):
                cases.append((root, n_out, text, 1000 * n_out + 37 * j))
    return cases


def test_every_production_matches_torch_in_isolation():
    jobs, refs = [], []
    kinds = set()
    for root, n_out, text, seed in _all_cases():
        hole = hole_for(root, n_out)
        module = build(text, hole, seed)
        X, lengths, ragged = make_data(hole, seed)
        classes = CLASSES[n_out]
        jobs.append({"source": to_python_source(module, classes=classes), "X": ragged})
        refs.append((module, X, lengths, classes))
        kinds.update(module.program.symbols())
    # the cases cover every production of the DSL
    assert kinds == {p.name for p in DSL.productions}
    results = run_isolated(jobs)
    for result, (module, X, lengths, classes) in zip(results, refs):
        assert result["classes"] == classes
        assert_equivalent(result, module, X, lengths, classes)


def test_ite_is_covered_at_every_hole_kind():
    seen = set()
    for root, n_out, text, _ in _all_cases():
        module = compile_program(text, DSL, hole_for(root, n_out))
        for path, sub in module.program.walk():
            if sub.symbol == "ite":
                hole = module.node(path).hole
                seen.add((hole.input.is_seq, hole.output.is_seq))
    assert seen == {(True, True), (True, False), (False, False)}


# random programs -------------------------------------------------------------------


def random_program(choose, dsl, hole, depth):
    """A random well-typed program of depth <= ``depth`` filling ``hole``."""
    prod, child_types = choose(dsl.feasible(hole, depth))
    children = tuple(random_program(choose, dsl, ct, depth - 1) for ct in child_types)
    return Program(prod.name, children)


def test_random_programs_match_torch_in_isolation():
    rng = random.Random(12345)
    jobs, refs = [], []
    for k in range(45):
        root = ("seq_atom", "seq_seq", "atom_atom")[k % 3]
        n_out = (1, 3)[(k // 3) % 2]
        hole = hole_for(root, n_out)
        depth = rng.randint(2, 4)
        program = random_program(rng.choice, DSL, hole, depth)
        module = build(program, hole, seed=k)
        X, lengths, ragged = make_data(hole, seed=k + 100)
        if not np.isfinite(torch_reference(module, X, lengths)[0]).all():
            continue  # overflowing program (see test_random_programs_match_torch)
        classes = CLASSES[n_out]
        jobs.append({"source": to_python_source(module, classes=classes), "X": ragged})
        refs.append((module, X, lengths, classes))
    assert len(jobs) >= 35
    for result, (module, X, lengths, classes) in zip(run_isolated(jobs), refs):
        assert_equivalent(result, module, X, lengths, classes)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    data=st.data(),
    root=st.sampled_from(sorted(ROOTS)),
    n_out=st.sampled_from([1, 3]),
    depth=st.integers(2, 4),
    seed=st.integers(0, 2**16),
)
def test_random_programs_match_torch(data, root, n_out, depth, seed):
    hole = hole_for(root, n_out)
    program = random_program(
        lambda options: data.draw(st.sampled_from(options)), DSL, hole, depth
    )
    module = build(program, hole, seed)
    X, lengths, ragged = make_data(hole, seed + 1, n=4, t_max=13)
    # diverging folds (e.g. a_t = a_{t-1}^2) overflow, and torch's masked fold
    # update turns inf into NaN (0 * inf); such programs are out of scope here
    assume(np.isfinite(torch_reference(module, X, lengths)[0]).all())
    classes = CLASSES[n_out]
    source = to_python_source(module, classes=classes)
    assert_equivalent(run_restricted(source, ragged), module, X, lengths, classes)


# the generated source ----------------------------------------------------------------


def test_source_structure_and_exact_literals():
    hole = hole_for("seq_atom", 1)
    module = build(
        "(ite (fold (affine_a)) (last5_avg (affine)) (last3_avg (const)))", hole, 3
    )
    source = to_python_source(module, classes=[0, 1], feature_names=["p", "q", "r"])
    assert source.startswith('"""')
    lines = source.splitlines()
    imports = [ln for ln in lines if ln.startswith(("import ", "from "))]
    assert imports == ["import math"]
    assert "torch" not in source and "numpy" not in source
    program = "#   (ite (fold (affine_a)) (last5_avg (affine)) (last3_avg (const)))"
    assert program in lines
    assert "#   0: 'p'" in lines and "#   2: 'r'" in lines
    for name in ("def _n(xs):", "def _n_0(xs):", "def _n_0_0(x):", "def _n_2_0(x):"):
        assert name in lines
    for p in module.parameters():
        for v in p.detach().reshape(-1).tolist():
            assert repr(abs(v)) in source
    ns = load_restricted(source)
    assert ns["CLASSES"] == [0, 1]


def test_large_affine_uses_tuples():
    n = 80
    dsl = default_dsl(n, full_affine=True)
    hole = parse_type(f"atom[{n}] -> atom[2]")
    module = compile_program("(affine)", dsl, hole).double()
    source = to_python_source(module, classes=["a", "b"])
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, n))
    mod = load_python_program(source)
    z = module(torch.as_tensor(X)).detach().numpy()
    np.testing.assert_allclose(mod.decision_function(X.tolist()), z, rtol=1e-12)


def test_load_python_program_and_prefix():
    hole = hole_for("seq_seq", 3)
    m1 = build("(map (affine))", hole, 1)
    m2 = build("(map_prefixes (fold (affine_b)))", hole, 2)
    s1 = to_python_source(m1, classes=[1, 2, 3], func_name_prefix="first_")
    s2 = to_python_source(m2, classes=["x", "y", "z"], func_name_prefix="second_")
    both = s1 + "\n\n" + s2
    X, lengths, ragged = make_data(hole, 5)
    results = run_isolated(
        [
            {"source": both, "X": ragged, "prefix": "first_"},
            {"source": both, "X": ragged, "prefix": "second_"},
        ]
    )
    assert_equivalent(results[0], m1, X, lengths, [1, 2, 3])
    assert_equivalent(results[1], m2, X, lengths, ["x", "y", "z"])
    mod = load_python_program(both, func_name_prefix="second_")
    assert mod.CLASSES == ["x", "y", "z"]
    assert mod.predict(ragged) == results[1]["pred"]
    with pytest.raises(ValueError, match="func_name_prefix"):
        to_python_source(m1, classes=[1, 2, 3], func_name_prefix="bad prefix")
    with pytest.raises(TypeError):
        load_python_program(b"x = 1")


def test_numpy_input_and_nan_padding():
    hole = hole_for("seq_atom", 3)
    module = build("(last3_avg (affine))", hole, 9)
    X, lengths, _ = make_data(hole, 9)
    Xnan = X.copy()
    for i, length in enumerate(lengths):
        Xnan[i, length:] = np.nan
    mod = load_python_program(to_python_source(module, classes=[0, 1, 2]))
    _, proba, _ = expected(module, X, lengths, [0, 1, 2])
    np.testing.assert_allclose(mod.predict_proba(Xnan), proba, atol=1e-6, rtol=0)


def test_invalid_inputs_raise():
    hole = hole_for("seq_atom", 1)
    mod = load_python_program(
        to_python_source(build("(fold (affine))", hole, 0), classes=[0, 1])
    )
    nan = math.nan
    with pytest.raises(ValueError, match="NaN"):
        mod.predict([[[0.0, nan, 1.0], [0.0, 0.0, 0.0]]])
    with pytest.raises(ValueError, match="NaN"):  # padding followed by a frame
        mod.predict([[[nan, nan, nan], [0.0, 0.0, 0.0]]])
    with pytest.raises(ValueError, match="no frames"):
        mod.predict([[[nan, nan, nan]]])
    with pytest.raises(ValueError, match="features"):
        mod.predict([[[0.0, 1.0]]])
    with pytest.raises(ValueError, match="infinity"):
        mod.predict([[[0.0, math.inf, 1.0]]])
    tab = load_python_program(
        to_python_source(build("(affine)", hole_for("atom_atom", 1), 0), classes=[0, 1])
    )
    with pytest.raises(ValueError, match="NaN"):
        tab.predict([[0.0, nan, 1.0]])


class Scaler:
    """Duck-typed like a fitted SequenceStandardScaler."""

    def __init__(self, center, scale, clip=None):
        self.center_, self.scale_, self.clip = center, scale, clip


CENTER, SCALE = [1.0, 0.5, -2.0], [3.0, 0.25, 2.0]


def test_scaler_is_applied():
    hole = hole_for("seq_seq", 1)
    module = build("(map (ite (affine_a) (affine_b) (const)))", hole, 4)
    X, lengths, ragged = make_data(hole, 4)
    X = X * 3.0 + 1.0
    ragged = [[[v * 3.0 + 1.0 for v in f] for f in seq] for seq in ragged]
    Z = np.clip((X - CENTER) / np.asarray(SCALE), -2.5, 2.5)
    for i, length in enumerate(lengths):
        Z[i, length:] = 0.0
    scaler = Scaler(np.array(CENTER), np.array(SCALE), clip=np.float64(2.5))
    source = to_python_source(module, classes=[False, True], scaler=scaler)
    assert "CLIP = 2.5" in source and "SCALE = [3.0, 0.25, 2.0]" in source
    [result] = run_isolated([{"source": source, "X": ragged}])
    assert_equivalent(result, module, Z, lengths, [False, True])
    source = to_python_source(
        module, classes=[False, True], scaler=Scaler(CENTER, SCALE)
    )
    assert "CLIP = None" in source
    Z = (X - CENTER) / np.asarray(SCALE)
    assert_equivalent(run_restricted(source, ragged), module, Z, lengths, [False, True])


@pytest.mark.parametrize(
    "scaler, error, match",
    [
        (object(), TypeError, "center_, scale_ and clip"),
        (Scaler([1.0], SCALE), ValueError, r"scaler.center_ has 1 values, expected 3"),
        (Scaler(CENTER, SCALE * 2), ValueError, r"scaler.scale_ has 6 values"),
        (Scaler([1.0, math.nan, 0.0], SCALE), ValueError, "center_ must be finite"),
        (Scaler(CENTER, [1.0, math.inf, 1.0]), ValueError, "scale_ must be finite"),
        (Scaler(CENTER, [1.0, 0.0, 1.0]), ValueError, "must not contain zeros"),
        (Scaler(CENTER, SCALE, clip=0.0), ValueError, "clip must be positive, got 0.0"),
        (Scaler(CENTER, SCALE, clip=-1), ValueError, "clip must be positive"),
        (Scaler(CENTER, SCALE, clip=math.nan), ValueError, "clip must be positive"),
        (Scaler(CENTER, SCALE, clip="big"), ValueError, "clip must be a number"),
        (Scaler("abc", SCALE), ValueError, "center_ must be a sequence of 3 numbers"),
        (Scaler(2.0, SCALE), ValueError, "center_ must be a sequence of 3 numbers"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_invalid_scaler_raises(scaler, error, match):
    module = build("(affine)", hole_for("atom_atom", 1), 0)
    with pytest.raises(error, match=match):
        to_python_source(module, classes=[0, 1], scaler=scaler)


def test_unfitted_scaler_raises():
    from sklearn_dpads.preprocessing import SequenceStandardScaler

    module = build("(affine)", hole_for("atom_atom", 1), 0)
    with pytest.raises(TypeError, match="must be a fitted scaler"):
        to_python_source(module, classes=[0, 1], scaler=SequenceStandardScaler())


# labels -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", [None, object(), b"bytes", 1 + 2j, (1, 2), [1], {"a": 1}], ids=repr
)
def test_unsupported_label_types_raise(bad):
    module = build("(affine)", hole_for("atom_atom", 1), 0)
    with pytest.raises(TypeError, match="Class labels must be int, float, str or bool"):
        to_python_source(module, classes=[bad, 1])


def test_label_count_must_match_outputs():
    module = build("(affine)", hole_for("atom_atom", 3), 0)
    with pytest.raises(ValueError, match="needs 3 classes"):
        to_python_source(module, classes=[0, 1])


def test_numpy_and_special_labels_round_trip():
    module = build("(affine)", hole_for("atom_atom", 3), 0)
    classes = [np.int64(-3), np.float32(0.5), np.str_("s")]
    mod = load_python_program(to_python_source(module, classes=classes))
    assert mod.CLASSES == [-3, 0.5, "s"]
    assert [type(c) for c in mod.CLASSES] == [int, float, str]

    class Sneaky(str):
        def __repr__(self):
            return "__import__('os')"

    special = [math.inf, Sneaky("a'b"), True]
    mod = load_python_program(to_python_source(module, classes=special))
    assert mod.CLASSES == [math.inf, "a'b", True]
    assert type(mod.CLASSES[1]) is str
    nan_mod = load_python_program(
        to_python_source(module, classes=[math.nan, -math.inf, False])
    )
    assert math.isnan(nan_mod.CLASSES[0]) and nan_mod.CLASSES[1:] == [-math.inf, False]


# hostile names ----------------------------------------------------------------------


def assert_no_injection(source):
    """Hostile text may only appear in comments and in the CLASSES string literals."""
    compile(source, "<hostile>", "exec")
    for line in source.splitlines():
        assert not line.lstrip().startswith("__import__"), line
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if any(w in tok.string for w in ("echo pwned", "__import__(", "exit(3)")):
            assert tok.type in (tokenize.COMMENT, tokenize.STRING), tok
            if tok.type == tokenize.STRING:
                assert tok.line.startswith("CLASSES = ["), tok
    tree = ast.parse(source)
    for node in ast.walk(tree):
        assert not (isinstance(node, ast.Name) and node.id == "__import__")
        assert not (isinstance(node, ast.Attribute) and node.attr in ("system", "exit"))
    [classes] = [
        n
        for n in tree.body
        if isinstance(n, ast.Assign) and n.targets[0].id == "CLASSES"
    ]
    ast.literal_eval(classes.value)


def test_hostile_names_cannot_inject_code():
    names = [
        "a" + HOSTILE,
        'b"""\n__import__("os").system("echo pwned")\n"""',
        "c\\\r\n__import__('sys').exit(3) # \\",
    ]
    groups = {
        "g" + HOSTILE: [0],
        'h"""' + HOSTILE + '"""\\': [1, 2],
    }
    dsl = make_dsl(feature_names=names, groups=groups)
    group_prods = [
        p.name for p in dsl.productions if p.kind == "affine" and p.params["group"]
    ]
    classes = [
        'he said "hi"' + HOSTILE,
        "it's '''" + HOSTILE + "\\",
        '"""\n__import__("os").system("echo pwned")\n"""',
    ]
    jobs, refs = [], []
    for root in ROOTS:
        hole = hole_for(root, 3)
        leaf = f"(add ({group_prods[0]}) (multiply ({group_prods[1]}) (const)))"
        text = {
            "seq_atom": f"(fold {leaf})",
            "seq_seq": f"(map {leaf})",
            "atom_atom": leaf,
        }[root]
        module = build(text, hole, 11, dsl=dsl)
        source = to_python_source(module, classes=classes, feature_names=names)
        assert_no_injection(source)
        X, lengths, ragged = make_data(hole, 11)
        jobs.append({"source": source, "X": ragged})
        refs.append((module, X, lengths, classes))
        # names default to the DSL's feature names
        assert to_python_source(module, classes=classes) == source
    for result, (module, X, lengths, cls) in zip(run_isolated(jobs), refs):
        assert result["classes"] == classes
        assert_equivalent(result, module, X, lengths, cls)


# user functions ---------------------------------------------------------------------


def test_user_function_source_is_copied():
    hole = hole_for("atom_atom", 1)
    module = build("(maximum (affine_a) (tanh (affine_b)))", hole, 2)
    source = to_python_source(module, classes=[0, 1])
    assert "def py_max(a, b):" in source and "def py_tanh(a):" in source
    assert "_dp_ew_maximum = py_max" in source


def test_user_function_needing_globals_is_rejected():
    bad = make_production("badtanh", torch.tanh, 1, python_function=py_uses_numpy)
    dsl = make_dsl(extra=(bad,))
    module = compile_program("(badtanh (affine))", dsl, hole_for("atom_atom", 1))
    with pytest.raises(ValueError, match="does not run on its own"):
        to_python_source(module, classes=[0, 1])


def test_builtin_math_function_is_aliased():
    sq = make_production("expo", torch.exp, 1, python_function=math.exp)
    dsl = make_dsl(extra=(sq,))
    module = build("(expo (affine_a))", hole_for("atom_atom", 1), 5, dsl=dsl)
    source = to_python_source(module, classes=[0, 1])
    assert "_dp_ew_expo = math.exp" in source
    X, _, rows = make_data(module.hole, 5)
    assert_equivalent(run_restricted(source, rows), module, X, None, [0, 1])


def test_float32_module_exports_its_exact_weights():
    hole = hole_for("seq_atom", 3)
    text = "(ite (fold (affine_a)) (last5_avg (affine)) (last3_avg (affine_b)))"
    module = compile_program(text, DSL, hole)
    assert next(module.parameters()).dtype == torch.float32
    X, lengths, ragged = make_data(hole, 8)
    mod = load_python_program(to_python_source(module, classes=[0, 1, 2]))
    with torch.no_grad():
        want = module(torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(lengths))
    np.testing.assert_allclose(mod.decision_function(ragged), want.numpy(), atol=1e-5)
    # the float64 copy of the same module is reproduced to rounding
    module.double()
    want = module(torch.as_tensor(X), torch.as_tensor(lengths)).detach().numpy()
    np.testing.assert_allclose(mod.decision_function(ragged), want, rtol=1e-12)


def test_logit_offset_shifts_binary_logits():
    hole = hole_for("seq_seq", 1)
    module = build("(map (affine))", hole, 6)
    X, lengths, ragged = make_data(hole, 6)
    plain = load_python_program(to_python_source(module, classes=[0, 1]))
    shifted = load_python_program(
        to_python_source(module, classes=[0, 1], logit_offset=-0.75)
    )
    assert shifted.LOGIT_OFFSET == -0.75
    for a, b in zip(plain.decision_function(ragged), shifted.decision_function(ragged)):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a) - 0.75, rtol=1e-15)
    z, _ = torch_reference(module, X, lengths)
    for i, length in enumerate(lengths):
        p1 = 1.0 / (1.0 + np.exp(-(z[i, :length, 0] - 0.75)))
        got = np.asarray(shifted.predict_proba(ragged)[i])
        np.testing.assert_allclose(got[:, 1], p1, atol=1e-12)
        assert shifted.predict(ragged)[i] == [int(p > 0.5) for p in p1]
    multi = build("(map (affine))", hole_for("seq_seq", 3), 6)
    with pytest.raises(ValueError, match="binary"):
        to_python_source(multi, classes=[0, 1, 2], logit_offset=1.0)
    assert "LOGIT_OFFSET" not in to_python_source(multi, classes=[0, 1, 2])


# the streaming form ------------------------------------------------------------------


def assert_stream_matches(result, module, X, lengths, classes):
    """The stream equals the batch export on every prefix, and torch."""
    per_frame = module.hole.output.is_seq
    z, _, _ = expected(module, X, lengths, classes)
    n_out = module.hole.output.size
    assert len(result["stream"]) == len(lengths)
    for i, steps in enumerate(result["stream"]):
        assert len(steps) == lengths[i]
        labels, probas, decisions = (list(col) for col in zip(*steps))
        # after every frame: the batch export's prediction on the prefix so far
        # (per-frame programs: at its last frame), to the bit
        b_pred, b_proba, b_dec = result["prefixes"][i]
        if per_frame:
            b_pred, b_proba, b_dec = (
                [r[-1] for r in b] for b in (b_pred, b_proba, b_dec)
            )
        assert labels == b_pred and probas == b_proba and decisions == b_dec
        if per_frame:
            # the batch export on the whole sequence gives every frame's output
            assert labels == result["pred"][i]
            assert probas == result["proba"][i]
            assert decisions == result["decision"][i]
            want_z = z[i][..., 0] if n_out == 1 else z[i]
        else:
            # after the last frame: the sequence's prediction
            assert labels[-1] == result["pred"][i]
            assert probas[-1] == result["proba"][i]
            assert decisions[-1] == result["decision"][i]
            decisions = decisions[-1]
            want_z = z[i][0] if n_out == 1 else z[i]
        np.testing.assert_allclose(decisions, want_z, rtol=1e-7, atol=1e-8)
        for label in labels:
            assert any(type(label) is type(c) and label == c for c in classes)


def test_every_production_streams_like_the_batch_export_in_isolation():
    jobs, refs = [], []
    kinds = set()
    for root, n_out, text, seed in _all_cases():
        if root == "atom_atom":
            continue
        hole = hole_for(root, n_out)
        module = build(text, hole, seed)
        X, lengths, ragged = make_data(hole, seed, n=4, t_max=12)
        classes = CLASSES[n_out]
        source = to_python_source(module, classes=classes, func_name_prefix="s_")
        jobs.append({"source": source, "X": ragged, "prefix": "s_", "stream": True})
        refs.append((module, X, lengths, classes))
        kinds.update(module.program.symbols())
    # every production of the DSL, the sequence ones at sequence holes
    assert kinds == {p.name for p in DSL.productions}
    for result, (module, X, lengths, classes) in zip(run_isolated(jobs), refs):
        assert_equivalent(result, module, X, lengths, classes)
        assert_stream_matches(result, module, X, lengths, classes)


def stream_outputs(mod, seq):
    """``(label, proba, decision)`` after every frame of ``seq`` pushed to a stream."""
    stream = mod.make_stream()
    out = []
    for frame in seq:
        label = stream.push(frame)
        out.append((label, stream.proba(), stream.decision()))
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    per_frame=st.booleans(),
    n_out=st.sampled_from([1, 3]),
    depth=st.integers(2, 4),
    seed=st.integers(0, 2**16),
)
def test_random_programs_stream_like_the_batch_export(
    data, per_frame, n_out, depth, seed
):
    hole = hole_for("seq_seq" if per_frame else "seq_atom", n_out)
    program = random_program(
        lambda options: data.draw(st.sampled_from(options)), DSL, hole, depth
    )
    module = build(program, hole, seed)
    X, lengths, ragged = make_data(hole, seed + 1, n=3, t_max=11)
    assume(np.isfinite(torch_reference(module, X, lengths)[0]).all())
    ns = load_restricted(to_python_source(module, classes=CLASSES[n_out]))
    mod = types.SimpleNamespace(make_stream=ns["make_stream"])
    for i, n in enumerate(lengths):
        seq = X[i, :n].tolist()
        steps = stream_outputs(mod, seq)
        if per_frame:
            want = list(zip(ns["predict"]([seq])[0], ns["predict_proba"]([seq])[0]))
            want = [w + (d,) for w, d in zip(want, ns["decision_function"]([seq])[0])]
        else:
            prefixes = [seq[: t + 1] for t in range(n)]
            want = list(
                zip(
                    ns["predict"](prefixes),
                    ns["predict_proba"](prefixes),
                    ns["decision_function"](prefixes),
                )
            )
        assert [tuple(s) for s in steps] == want


def test_stream_applies_the_scaler_and_checks_frames():
    hole = hole_for("seq_seq", 1)
    module = build("(map_prefixes (filter3_b))", hole, 4)
    X, lengths, _ = make_data(hole, 4)
    X = X * 3.0 + 1.0
    scaler = Scaler(np.array(CENTER), np.array(SCALE), clip=2.5)
    source = to_python_source(module, classes=["no", "yes"], scaler=scaler)
    mod = load_python_program(source)
    Z = np.clip((X - CENTER) / np.asarray(SCALE), -2.5, 2.5)
    z, _ = torch_reference(module, Z, lengths)
    seq = X[0, : lengths[0]]
    steps = stream_outputs(mod, seq)  # numpy frames are fine
    np.testing.assert_allclose([d for _, _, d in steps], z[0, : lengths[0], 0])
    assert [lab for lab, _, _ in steps] == mod.predict([seq.tolist()])[0]
    stream = mod.make_stream()
    with pytest.raises(ValueError, match="No frame has been pushed"):
        stream.proba()
    with pytest.raises(ValueError, match="No frame has been pushed"):
        stream.decision()
    with pytest.raises(ValueError, match="^Frame 0 contains NaN or infinity"):
        stream.push([1.0, math.nan, 0.0])
    with pytest.raises(ValueError, match="^Frame 0 has 2 features, expected 3"):
        stream.push([1.0, 2.0])
    assert stream.n_frames == 0  # a rejected frame changes nothing
    stream.push(seq[0])
    stream.push(seq[1])
    with pytest.raises(ValueError, match="^Frame 2 contains NaN or infinity"):
        stream.push([math.inf, 0.0, 0.0])
    stream.reset()
    assert stream.n_frames == 0
    # after a reset the stream starts a new sequence
    assert [stream.push(f) for f in seq] == [lab for lab, _, _ in steps]


def test_stream_with_a_prefix_and_no_stream_for_rows():
    hole = hole_for("seq_atom", 3)
    m1 = build("(fold (affine))", hole, 1)
    m2 = build("(diff (diff (filter3_b)))", hole, 2)
    both = to_python_source(m1, classes=[1, 2, 3], func_name_prefix="first_")
    both += "\n\n" + to_python_source(m2, classes=[1, 2, 3], func_name_prefix="second_")
    X, lengths, _ = make_data(hole, 3)
    for prefix, module in (("first_", m1), ("second_", m2)):
        mod = load_python_program(both, func_name_prefix=prefix)
        assert mod.Stream is getattr(mod, prefix + "Stream")
        z, _ = torch_reference(module, X, lengths)
        for i, n in enumerate(lengths):
            seq = X[i, :n].tolist()
            last = stream_outputs(mod, seq)[-1]
            assert last == (
                mod.predict([seq])[0],
                mod.predict_proba([seq])[0],
                mod.decision_function([seq])[0],
            )
            np.testing.assert_allclose(last[2], z[i], rtol=1e-9, atol=1e-12)
    tab = to_python_source(
        build("(affine)", hole_for("atom_atom", 1), 0), classes=[0, 1]
    )
    assert "make_stream" not in tab and "Stream" not in tab
    assert not hasattr(load_python_program(tab), "make_stream")
