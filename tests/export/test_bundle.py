"""Tests of ExportedProgram and build_export (sklearn_dpads.export._bundle)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy
import torch

import sklearn_dpads.export.sympy as sympy_export
from sklearn_dpads import ProgramSynthesisClassifier
from sklearn_dpads.export import (
    ExportedProgram,
    build_export,
    load_python_program,
    to_python_source,
    to_sympy,
)
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.library import default_dsl
from sklearn_dpads.preprocessing import SequenceStandardScaler
from sklearn_dpads.semantics import compile_program

NAMES = ["speed", "angle", "dist"]
DSL = default_dsl(3, {"motion": [0, 1], "dist": [2]}, NAMES)
TEXT = "(last3_avg (multiply (affine_motion) (affine_dist)))"


def build(text=TEXT, hole="list[3] -> atom[1]", seed=0):
    module = compile_program(text, DSL, parse_type(hole)).double()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
    return module.eval()


def sequences(seed=0, n=12, t=9):
    rng = np.random.default_rng(seed)
    return rng.normal(loc=[5.0, -1.0, 20.0], scale=[2.0, 0.1, 8.0], size=(n, t, 3))


def test_build_export_bundles_text_source_and_expression(tmp_path, monkeypatch):
    module = build()
    exported = build_export(module, classes=["calm", "attack"], logit_offset=0.25)
    assert isinstance(exported, ExportedProgram)
    assert exported.program == module.program
    assert exported.text == module.program.pretty(DSL) == str(exported)
    assert exported.text == "last3_avg(multiply(affine[motion](x), affine[dist](x)))"
    assert exported.source == to_python_source(
        module, classes=["calm", "attack"], logit_offset=0.25
    )
    assert "_module" not in repr(exported) and "source=" in repr(exported)
    exported.save(tmp_path / "program.py")
    assert (tmp_path / "program.py").read_text(encoding="utf-8") == exported.source
    calls = []
    real = sympy_export.to_sympy

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(sympy_export, "to_sympy", counting)
    expr = exported.expression
    assert exported.expression is expr and len(calls) == 1  # computed once
    assert expr == to_sympy(module)
    assert {s.name for s in expr.free_symbols} <= set(NAMES)


def test_feature_names_reach_source_and_expression():
    module = build()
    names = np.array(["v", "theta", "d"], dtype=object)
    exported = build_export(module, classes=[0, 1], feature_names=names)
    assert "#   1: 'theta'" in exported.source
    assert {s.name for s in exported.expression.free_symbols} <= {"v", "theta", "d"}
    with pytest.raises(ValueError, match="feature_names has 2 names"):
        build_export(module, classes=[0, 1], feature_names=["a", "b"])


@pytest.mark.parametrize("robust, clip", [(True, 2.0), (False, None)])
def test_fitted_scaler_is_embedded(robust, clip):
    X = sequences()
    scaler = SequenceStandardScaler(robust=robust, clip=clip).fit(X)
    module = build(hole="list[3] -> list[3]", text="(map (affine))", seed=2)
    exported = build_export(module, classes=[1, 2, 3], scaler=scaler)
    program = load_python_program(exported.source)
    assert program.CLIP == clip
    assert program.CENTER == scaler.center_.tolist()
    assert program.SCALE == scaler.scale_.tolist()
    with torch.no_grad():
        z = module(torch.as_tensor(scaler.transform(X))).numpy()
    np.testing.assert_allclose(program.decision_function(X), z, rtol=1e-12)
    assert program.predict(X) == (np.argmax(z, axis=-1) + 1).tolist()


def test_invalid_scaler_is_rejected():
    module = build()
    scaler = SequenceStandardScaler().fit(sequences()[:, :, :2])
    with pytest.raises(ValueError, match="scaler.center_ has 2 values, expected 3"):
        build_export(module, classes=[0, 1], scaler=scaler)
    with pytest.raises(TypeError, match="fitted scaler"):
        build_export(module, classes=[0, 1], scaler=SequenceStandardScaler())


@pytest.mark.parametrize("normalize, clip", [("robust", 3.0), (None, None)])
def test_matches_the_estimator(seq_data, fast_params, normalize, clip):
    X, y = seq_data
    params = dict(fast_params, normalize=normalize, clip=clip)
    clf = ProgramSynthesisClassifier(**params).fit(X, y)
    exported = build_export(
        clf.module_,
        classes=clf.classes_,
        scaler=clf.scaler_,
        feature_names=clf.dsl_.feature_names,
        logit_offset=clf.logit_offset_,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # until export_program delegates
        assert exported.source == clf.export_program().source
    assert exported.text == str(clf)
    program = load_python_program(exported.source)
    np.testing.assert_allclose(
        program.predict_proba(X), clf.predict_proba(X), atol=1e-6
    )
    assert program.predict(X) == clf.predict(X).tolist()
    assert isinstance(exported.expression, sympy.Expr)


def test_make_stream_runs_the_source_frame_by_frame():
    X = sequences(n=3)
    scaler = SequenceStandardScaler(clip=2.0).fit(X)
    for text, hole in [
        (TEXT, "list[3] -> atom[1]"),
        ("(map (affine))", "list[3] -> list[3]"),
    ]:
        module = build(text, hole)
        n_out = module.hole.output.size
        classes = [0, 1] if n_out == 1 else ["a", "b", "c"]
        exported = build_export(module, classes=classes, scaler=scaler)
        program = load_python_program(exported.source)
        for seq in X:
            stream = exported.make_stream()
            labels = [stream.push(frame) for frame in seq]
            want = program.predict([seq])[0]
            if module.hole.output.is_seq:
                assert labels == want
                assert stream.proba() == program.predict_proba([seq])[0][-1]
            else:
                assert labels[-1] == want
                assert stream.decision() == program.decision_function([seq])[0]
        assert exported.make_stream() is not stream  # a fresh stream every call
    tab = build("(affine)", "atom[3] -> atom[1]")
    with pytest.raises(ValueError, match="takes tabular rows.*no streaming form"):
        build_export(tab, classes=[0, 1]).make_stream()
