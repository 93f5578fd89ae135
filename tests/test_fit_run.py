"""Tests for sklearn_dpads._fit_run: training a given program instead of searching."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from sklearn_dpads import ProgramSynthesisClassifier
from sklearn_dpads._fit_plan import make_plan
from sklearn_dpads._fit_run import run_plan
from sklearn_dpads.preprocessing import real_frames, scale_padded
from sklearn_dpads.program import Program
from sklearn_dpads.training.data import SequenceDataset
from sklearn_dpads.utils.validation import check_X_y


def _plan(est, X, y):
    x, lengths, labels = check_X_y(est, X, y, reset=True)
    classes, y_enc = labels.encode()
    plan = make_plan(est, x, lengths, classes, y_enc, labels.label_type, "cpu")
    scaler = clone(plan.scaler).fit(real_frames(x, lengths).astype(np.float64))
    return plan, SequenceDataset(scale_padded(scaler, x, lengths), lengths, y_enc)


def test_a_given_program_is_trained_not_searched(seq_data, fast_params):
    X, y = seq_data
    params = {**fast_params, "program_epochs": 40, "finetune_epochs": 40}
    plan, data = _plan(ProgramSynthesisClassifier(**params), X, y)
    program = Program.parse("(last5_avg (affine_x0))")
    found = run_plan(plan, data, None, program=program)
    assert found.program == program
    assert 0.0 <= found.score <= 1.0 and np.isfinite(found.logit_offset)
    assert not found.timed_out
    # it learned the planted rule (the mean of x0 over the last 5 frames)
    z = found.module(data.x.double(), data.lengths)[:, 0].detach().numpy()
    assert ((z + found.logit_offset > 0) == y).mean() > 0.9


def test_a_given_program_is_canonicalised(seq_data, fast_params):
    X, y = seq_data
    # no local search after it, which may move anywhere
    params = {**fast_params, "grow_steps": 0}
    plan, data = _plan(ProgramSynthesisClassifier(**params), X, y)
    program = Program.parse("(last5_avg (add (affine_x0) (const)))")
    found = run_plan(plan, data, None, program=program)
    assert found.program == Program.parse("(last5_avg (affine_x0))")


def test_a_program_outside_the_grammar_is_refused(seq_data, fast_params):
    X, y = seq_data
    plan, data = _plan(ProgramSynthesisClassifier(**fast_params), X, y)
    with pytest.raises(Exception, match="nope"):
        run_plan(plan, data, None, program=Program.parse("(last5_avg (nope))"))


def test_the_fine_tuned_held_out_score_is_reported(seq_data, fast_params):
    X, y = seq_data
    plan, data = _plan(ProgramSynthesisClassifier(**fast_params), X, y)
    found = run_plan(plan, data, None, program=Program.parse("(last5_avg (affine))"))
    assert 0.0 <= found.finetune_score <= 1.0


def _ite_data(n=300, seed=0):
    # frame by frame: x1 when x0 is high, else -x1; no linear rule fits it
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 6, 2).astype(np.float32)
    value = np.where(X[:, :, 0] > 0, X[:, :, 1], -X[:, :, 1])
    return X, (value[:, -3:].mean(axis=1) > 0).astype(int)


# enough training for the local search to grow an ite on _ite_data
GROW = {
    "program_epochs": 30,
    "finetune_epochs": 60,
    "lr": 0.05,
    "grow_steps": 1,
    "max_depth": 4,
}


def test_the_local_search_grows_a_linear_program_into_an_ite(fast_params):
    X, y = _ite_data()
    params = {**fast_params, **GROW}
    plan, data = _plan(ProgramSynthesisClassifier(**params), X, y)
    found = run_plan(plan, data, None, program=Program.parse("(last3_avg (affine))"))
    assert "ite" in found.program.symbols()
    z = found.module(data.x.double(), data.lengths)[:, 0].detach().numpy()
    assert ((z + found.logit_offset > 0) == y).mean() > 0.85
    # without the local search the linear program stays, and fits it worse
    plan, data = _plan(ProgramSynthesisClassifier(**{**params, "grow_steps": 0}), X, y)
    linear = run_plan(plan, data, None, program=Program.parse("(last3_avg (affine))"))
    assert linear.program == Program.parse("(last3_avg (affine))")
    z = linear.module(data.x.double(), data.lengths)[:, 0].detach().numpy()
    assert ((z + linear.logit_offset > 0) == y).mean() < 0.75


def test_the_local_search_keeps_a_program_no_edit_beats(seq_data, fast_params):
    X, y = seq_data
    params = {**fast_params, "program_epochs": 20, "finetune_epochs": 30}
    plan, data = _plan(ProgramSynthesisClassifier(**params, grow_steps=1), X, y)
    found = run_plan(plan, data, None, program=Program.parse("(last5_avg (affine_x0))"))
    # the planted rule: nothing one edit away is better by more than the noise
    assert found.program == Program.parse("(last5_avg (affine_x0))")


def test_the_local_search_subsamples_large_data(monkeypatch, fast_params):
    X, y = _ite_data()
    est = ProgramSynthesisClassifier(**fast_params)
    plan, _ = _plan(est, X, y)
    assert plan.grow_train is None and plan.grow_arch is None  # 1,800 frames
    monkeypatch.setattr("sklearn_dpads._fit_plan.MAX_GROW_FRAMES", 1200)
    plan, _ = _plan(est, X, y)
    assert len(plan.grow_train) + len(plan.grow_arch) == 200  # 1,200 frames of 6
    assert set(plan.grow_train) <= set(plan.idx_train)
    assert set(plan.grow_arch) <= set(plan.idx_arch)
    again, _ = _plan(clone(est), X, y)
    np.testing.assert_array_equal(again.grow_train, plan.grow_train)
    # the search's own subsample and seeds are not touched by it
    monkeypatch.setattr("sklearn_dpads._fit_plan.MAX_GROW_FRAMES", 10**9)
    full, _ = _plan(clone(est), X, y)
    np.testing.assert_array_equal(full.search_train, plan.search_train)
    assert full.seed == plan.seed and full.finetune_seed == plan.finetune_seed


def test_the_local_search_screens_on_a_subsample_of_large_data(
    monkeypatch, fast_params
):
    X, y = _ite_data(n=1000)
    est = ProgramSynthesisClassifier(**fast_params)
    plan, _ = _plan(est, X, y)
    assert plan.screen_train is None  # 3,600 training frames
    monkeypatch.setattr("sklearn_dpads._fit_plan.MAX_SCREEN_FRAMES", 1200)
    plan, _ = _plan(est, X, y)
    assert len(plan.screen_train) == 200  # 1,200 frames of 6
    assert set(plan.screen_train) <= set(plan.idx_train)
    again, _ = _plan(clone(est), X, y)
    np.testing.assert_array_equal(again.screen_train, plan.screen_train)
    # nested in the local search's own subsample, at least 200 sequences
    monkeypatch.setattr("sklearn_dpads._fit_plan.MAX_GROW_FRAMES", 3000)
    monkeypatch.setattr("sklearn_dpads._fit_plan.MAX_SCREEN_FRAMES", 600)
    plan, _ = _plan(est, X, y)
    assert len(plan.grow_train) > 200 and len(plan.screen_train) == 200
    assert set(plan.screen_train) <= set(plan.grow_train)
    # the other splits and seeds are not touched by it
    monkeypatch.setattr("sklearn_dpads._fit_plan.MAX_SCREEN_FRAMES", 10**9)
    full, _ = _plan(clone(est), X, y)
    assert full.screen_train is None
    np.testing.assert_array_equal(full.grow_train, plan.grow_train)
    assert full.seed == plan.seed and full.finetune_seed == plan.finetune_seed


@pytest.mark.parametrize(
    "cap, n, split",
    [
        ("MAX_GROW_FRAMES", 300, "grow_train"),
        ("MAX_SCREEN_FRAMES", 600, "screen_train"),
    ],
)
def test_a_subsampled_local_search_still_grows_and_tunes_on_all(
    cap, n, split, monkeypatch, fast_params
):
    monkeypatch.setattr(f"sklearn_dpads._fit_plan.{cap}", 1200)
    X, y = _ite_data(n=n)
    params = {**fast_params, **GROW}
    plan, data = _plan(ProgramSynthesisClassifier(**params), X, y)
    assert getattr(plan, split) is not None
    found = run_plan(plan, data, None, program=Program.parse("(last3_avg (affine))"))
    assert "ite" in found.program.symbols()
    z = found.module(data.x.double(), data.lengths)[:, 0].detach().numpy()
    assert ((z + found.logit_offset > 0) == y).mean() > 0.85


def _energy_data(n=300, T=24, seed=0):
    # which of two limbs moves more over the clip: a rule of frame differences
    rng = np.random.RandomState(seed)
    amplitude = np.exp(rng.normal(0, 0.5, size=(n, 2)))
    steps = rng.normal(size=(n, T, 4)) * np.repeat(amplitude, 2, axis=1)[:, None, :]
    X = rng.normal(0, 2, size=(n, 1, 4)) + np.cumsum(steps, axis=1)
    energy = np.diff(X, axis=1) ** 2
    y = energy[:, :, 2:].sum(2).mean(1) > energy[:, :, :2].sum(2).mean(1)
    return X.astype(np.float32), y.astype(int)


def test_the_local_search_reads_a_long_clip_on_its_frame_differences(fast_params):
    X, y = _energy_data()
    est = ProgramSynthesisClassifier(feature_groups={"a": [0, 1], "b": [2, 3]})
    params = {**fast_params, **GROW}
    plan, data = _plan(est.set_params(**params), X, y)
    assert plan.reshape  # 24 frames, one label each
    start = Program.parse("(last24_avg (multiply (affine) (affine)))")
    found = run_plan(plan, data, None, program=start)
    assert found.program == Program.parse(
        "(diff (last24_avg (multiply (affine) (affine))))"
    )
    z = found.module(data.x.double(), data.lengths)[:, 0].detach().numpy()
    assert ((z + found.logit_offset > 0) == y).mean() > 0.9
    # the energy of the positions themselves is no rule of this data
    plan, data = _plan(clone(est).set_params(grow_steps=0), X, y)
    plain = run_plan(plan, data, None, program=start)
    z = plain.module(data.x.double(), data.lengths)[:, 0].detach().numpy()
    assert ((z + plain.logit_offset > 0) == y).mean() < 0.7
