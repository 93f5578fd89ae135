"""Tests for sklearn_dpads.training.nets (ProgramNet, BilevelNet, helpers)."""

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, f1_score
from skorch.callbacks import Callback

from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.graph import DerivationGraph
from sklearn_dpads.library import default_dsl
from sklearn_dpads.metrics import ranking_score
from sklearn_dpads.semantics import compile_program
from sklearn_dpads.training import (
    BilevelNet,
    ProgramLoss,
    ProgramNet,
    SequenceDataset,
    f1_from_logits,
    predict_logits,
)
from sklearn_dpads.training.losses import flatten_valid

DSL = default_dsl(2)
HOLE = parse_type("list[2] -> atom[1]")


def _problem(n=200, T=5, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, T, 2).astype(np.float32)
    y = (x[:, :, 0].mean(axis=1) > 0).astype(int)
    lengths = np.full(n, T)
    cut = int(0.75 * n)
    train = SequenceDataset(x[:cut], lengths[:cut], y[:cut])
    valid = SequenceDataset(x[cut:], lengths[cut:], y[cut:])
    return train, valid


class Snapshots(Callback):
    """Parameters at the end of every epoch."""

    def initialize(self):
        self.states = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.states.append([p.detach().clone() for p in net.module_.parameters()])


def _program_net(module, **kw):
    kw.setdefault("max_epochs", 8)
    kw.setdefault("lr", 0.05)
    kw.setdefault("batch_size", 32)
    return ProgramNet(module, criterion=ProgramLoss, criterion__n_classes=2, **kw)


def test_program_net_lowers_the_training_loss():
    torch.manual_seed(0)
    train, valid = _problem()
    module = compile_program("(last5_avg (affine))", DSL, HOLE)
    net = _program_net(module).fit_data(train, valid)
    losses = net.history[:, "train_loss"]
    assert len(losses) == 8
    assert losses[-1] < 0.8 * losses[0]
    assert set(net.history[-1]) >= {
        "train_loss",
        "valid_loss",
        "valid_score",
        "valid_f1",
        "valid_acc",
    }
    assert 0.0 <= net.best_score <= 1.0
    assert net.best_score == max(net.history[:, "valid_score"])
    # the net trains the module in place
    assert net.module_ is module


def test_program_net_without_validation():
    torch.manual_seed(0)
    train, _ = _problem(n=60)
    module = compile_program("(fold (affine))", DSL, HOLE)
    before = [p.detach().clone() for p in module.parameters()]
    net = _program_net(module, max_epochs=2).fit_data(train)
    assert "valid_f1" not in net.history[-1]
    assert np.isnan(net.best_score)
    assert any(
        not torch.equal(a, b) for a, b in zip(before, module.parameters(), strict=True)
    )


@pytest.mark.parametrize("restore", [True, False])
def test_restore_best_keeps_the_best_epoch(restore):
    torch.manual_seed(0)
    train, valid = _problem(n=120)
    snaps = Snapshots()
    module = compile_program("(last5_avg (affine))", DSL, HOLE)
    net = _program_net(
        module, lr=0.3, max_epochs=6, callbacks=[snaps], restore_best=restore
    ).fit_data(train, valid)
    scores = list(net.history[:, "valid_score"])
    best = len(scores) - 1 - int(np.argmax(scores[::-1]))  # ties: the later epoch
    assert net.keep_best.best_epoch_ == best + 1
    assert net.best_score == scores[best]
    want = snaps.states[best] if restore else snaps.states[-1]
    for p, v in zip(module.parameters(), want, strict=True):
        assert torch.equal(p.detach(), v)
    if restore:
        z, y = flatten_valid(predict_logits(module, valid), valid.y)
        score = ranking_score(z.double().numpy(), y.numpy(), 2)
        assert score == pytest.approx(net.best_score)


def _bilevel(lr, arch_lr, seed=0, epochs=1):
    torch.manual_seed(seed)
    train, valid = _problem(n=80)
    graph = DerivationGraph(DSL, HOLE, 2)
    graph.unfold(2)
    net = BilevelNet(
        graph,
        criterion=ProgramLoss,
        criterion__n_classes=2,
        lr=lr,
        arch_lr=arch_lr,
        max_epochs=epochs,
        batch_size=32,
        restore_best=False,
    )
    return net, graph, train, valid


def _changed(before, params):
    return [not torch.equal(a, b.detach()) for a, b in zip(before, params, strict=True)]


@pytest.mark.parametrize(
    "lr, arch_lr, arch_moves, weights_move",
    [(0.0, 0.1, True, False), (0.05, 0.0, False, True), (0.05, 0.1, True, True)],
)
def test_bilevel_steps_touch_only_their_group(lr, arch_lr, arch_moves, weights_move):
    net, graph, train, valid = _bilevel(lr, arch_lr)
    arch0 = [p.detach().clone() for p in graph.arch_parameters()]
    w0 = [p.detach().clone() for p in graph.weight_parameters()]
    net.fit_data(train, valid)
    assert any(_changed(arch0, graph.arch_parameters())) == arch_moves
    assert any(_changed(w0, graph.weight_parameters())) == weights_move
    if not arch_moves:
        assert not any(_changed(arch0, graph.arch_parameters()))
    if not weights_move:
        assert not any(_changed(w0, graph.weight_parameters()))
    # the optimisers own disjoint parameter groups (each as flat buffers)
    ids_w = {id(p) for p in net.flat_.params}
    ids_a = {id(p) for p in net.arch_flat_.params}
    opt_w = {id(p) for g in net.optimizer_.param_groups for p in g["params"]}
    opt_a = {id(p) for g in net.arch_optimizer_.param_groups for p in g["params"]}
    assert opt_w == {id(b) for b in net.flat_.buffers}
    assert opt_a == {id(b) for b in net.arch_flat_.buffers}
    assert ids_a == {id(p) for p in graph.arch_parameters()}
    assert ids_w == {id(p) for p in graph.weight_parameters()}
    assert not ids_a & ids_w
    # history
    last = net.history[-1]
    assert "valid_f1" in last and "valid_acc" in last and "train_loss" in last
    batches = last["batches"]
    n_train = sum(1 for b in batches if "train_loss" in b)
    assert n_train == 2  # 60 training rows, batch size 32
    assert sum(1 for b in batches if "arch_loss" in b) == n_train
    assert all(np.isfinite(b["arch_loss"]) for b in batches if "arch_loss" in b)


def test_bilevel_train_step_updates_each_group_once():
    net, graph, train, valid = _bilevel(0.05, 0.1)
    net.initialize()
    net.on_epoch_begin(net, dataset_train=train, dataset_valid=valid)
    arch0 = [p.detach().clone() for p in graph.arch_parameters()]
    w0 = [p.detach().clone() for p in graph.weight_parameters()]
    # freeze the weight step: only the architecture step runs
    net.optimizer_.param_groups[0]["lr"] = 0.0
    net.history.new_batch()
    net.train_step(train.batch(np.arange(32)))
    assert any(_changed(arch0, graph.arch_parameters()))
    assert not any(_changed(w0, graph.weight_parameters()))
    # freeze the architecture step: only the weight step runs
    arch1 = [p.detach().clone() for p in graph.arch_parameters()]
    net.optimizer_.param_groups[0]["lr"] = 0.05
    net.arch_optimizer_.param_groups[0]["lr"] = 0.0
    net.history.new_batch()
    net.train_step(train.batch(np.arange(32, 60)))
    assert len(net.history[-1]["batches"]) == 2
    assert all("arch_loss" in b for b in net.history[-1]["batches"])
    assert not any(_changed(arch1, graph.arch_parameters()))
    assert any(_changed(w0, graph.weight_parameters()))


def test_f1_from_logits_matches_sklearn():
    rng = np.random.RandomState(0)
    y = torch.as_tensor(rng.randint(0, 2, 50))
    logits = torch.as_tensor(rng.randn(50, 1))
    f1, acc = f1_from_logits(logits, y, 2)
    pred = (logits[:, 0] > 0).long().numpy()
    assert f1 == pytest.approx(f1_score(y.numpy(), pred))
    assert acc == pytest.approx(accuracy_score(y.numpy(), pred))
    y3 = torch.as_tensor(rng.randint(0, 3, 50))
    logits3 = torch.as_tensor(rng.randn(50, 3))
    f1, acc = f1_from_logits(logits3, y3, 3)
    pred3 = logits3.argmax(1).numpy()
    assert f1 == pytest.approx(f1_score(y3.numpy(), pred3, average="macro"))
    assert acc == pytest.approx(accuracy_score(y3.numpy(), pred3))


def test_f1_from_logits_per_frame_ignores_padding():
    logits = torch.tensor([[[1.0], [-1.0], [5.0]], [[1.0], [9.0], [9.0]]])
    y = torch.tensor([[1, 0, -1], [0, -1, -1]])
    f1, acc = f1_from_logits(logits, y, 2)
    assert acc == pytest.approx(2 / 3)
    assert f1 == pytest.approx(2 * 1 / (2 + 1))
    assert f1_from_logits(logits, torch.full_like(y, -1), 2) == (0.0, 0.0)


def test_predict_logits_pads_per_frame_outputs():
    torch.manual_seed(0)
    x = np.random.RandomState(0).randn(5, 6, 2)
    ds = SequenceDataset(x, lengths=[2, 3, 1, 2, 3])
    module = compile_program("(map (affine))", DSL, parse_type("list[2] -> list[1]"))
    out = predict_logits(module, ds, batch_size=2)
    assert out.shape == (5, 6, 1)
    assert module.training  # mode restored
    direct = module(ds.x, ds.lengths).detach()
    mask = torch.arange(6)[None, :] < ds.lengths[:, None]
    torch.testing.assert_close(out[mask], direct[mask])
    atom = compile_program("(last5_avg (affine))", DSL, HOLE)
    assert predict_logits(atom, ds, batch_size=2).shape == (5, 1)


def test_nonfinite_steps_are_skipped():
    import numpy as np
    import torch

    from sklearn_dpads.grammar import parse_type
    from sklearn_dpads.library import default_dsl
    from sklearn_dpads.semantics import compile_program
    from sklearn_dpads.training import ProgramLoss, ProgramNet, SequenceDataset

    rng = np.random.RandomState(0)
    x = rng.randn(64, 5, 2).astype(np.float32)
    x[:8] = 3e38  # overflows to inf inside the program
    y = (rng.rand(64) > 0.5).astype(int)
    ds = SequenceDataset(x, None, y)
    torch.manual_seed(0)
    m = compile_program(
        "(last5_avg (multiply (affine) (affine)))",
        default_dsl(2),
        parse_type("list[2] -> atom[1]"),
    )
    net = ProgramNet(
        m,
        criterion=ProgramLoss(2),
        lr=0.1,
        max_epochs=3,
        batch_size=16,
        n_classes=2,
        grad_clip=1.0,
    )
    net.fit_data(ds, ds)
    assert all(bool(torch.isfinite(p).all()) for p in net.module_.parameters())
    assert any("skipped_step" in b for e in net.history for b in e["batches"])


def test_score_class_weight_reaches_the_validation_score():
    # regression: the weights were accepted and then dropped by ValidationScores,
    # so a class_weight dict never changed how candidates were scored
    torch.manual_seed(0)
    train, valid = _problem()
    weights = np.array([1.0, 5.0])
    module = compile_program("(last5_avg (affine))", DSL, HOLE)
    net = _program_net(module, max_epochs=1, score_class_weight=weights)
    net.fit_data(train, valid)
    logits = predict_logits(net.module_, valid)
    pred = (logits[:, 0] > 0).long().numpy()
    true = valid.y.numpy()
    expected = accuracy_score(true, pred, sample_weight=weights[true])
    assert net.history[-1, "valid_f1"] == pytest.approx(expected)
    assert expected != pytest.approx(accuracy_score(true, pred))
