"""Tests for sklearn_dpads.training.losses.ProgramLoss."""

import pytest
import torch
from torch.nn import functional as F

from sklearn_dpads.training.losses import ProgramLoss, flatten_valid

LOSSES = ["cross_entropy", "soft_f1"]


def _binary(n=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, 1, generator=g)
    y = torch.randint(0, 2, (n,), generator=g)
    return logits, y


def _multi(n=40, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, k, generator=g)
    y = torch.randint(0, k, (n,), generator=g)
    return logits, y


def _data(n_classes, seed=0):
    return _binary(seed=seed) if n_classes == 2 else _multi(seed=seed)


def test_binary_cross_entropy_matches_torch():
    logits, y = _binary()
    got = ProgramLoss(2)(logits, y)
    want = F.binary_cross_entropy_with_logits(logits[:, 0], y.float())
    torch.testing.assert_close(got, want)


def test_weighted_binary_cross_entropy_is_a_weighted_mean():
    logits, y = _binary()
    w = torch.tensor([1.0, 3.0])
    got = ProgramLoss(2, class_weight=[1.0, 3.0])(logits, y)
    per = F.binary_cross_entropy_with_logits(logits[:, 0], y.float(), reduction="none")
    torch.testing.assert_close(got, (per * w[y]).sum() / w[y].sum())


def test_multiclass_cross_entropy_matches_torch():
    logits, y = _multi()
    torch.testing.assert_close(ProgramLoss(3)(logits, y), F.cross_entropy(logits, y))
    w = [0.5, 1.0, 4.0]
    torch.testing.assert_close(
        ProgramLoss(3, class_weight=w)(logits, y),
        F.cross_entropy(logits, y, weight=torch.tensor(w)),
    )


def test_binary_soft_f1_formula():
    logits, y = _binary()
    p, t = torch.sigmoid(logits[:, 0]), y.float()
    tp, fp, fn = (p * t).sum(), (p * (1 - t)).sum(), ((1 - p) * t).sum()
    want = 1 - 2 * tp / (2 * tp + fp + fn + 1e-8)
    torch.testing.assert_close(ProgramLoss(2, "soft_f1")(logits, y), want)


def test_multiclass_soft_f1_formula():
    logits, y = _multi()
    p = torch.softmax(logits, -1)
    t = F.one_hot(y, 3).float()
    f1 = 2 * (p * t).sum(0) / (p.sum(0) + t.sum(0) + 1e-8)
    torch.testing.assert_close(ProgramLoss(3, "soft_f1")(logits, y), 1 - f1.mean())


@pytest.mark.parametrize("n_classes", [2, 3])
def test_soft_f1_perfect_and_wrong(n_classes):
    y = torch.tensor([0, 1, 1, 0, 1] if n_classes == 2 else [0, 1, 2, 2, 1])
    if n_classes == 2:
        good = (y.float() * 2 - 1)[:, None] * 50
    else:
        good = F.one_hot(y, 3).float() * 50
    loss = ProgramLoss(n_classes, "soft_f1")
    assert float(loss(good, y)) == pytest.approx(0.0, abs=1e-6)
    assert float(loss(-good, y)) > 0.9


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("kind", LOSSES)
def test_class_weights_change_the_loss(n_classes, kind):
    logits, y = _data(n_classes)
    w = [1.0, 5.0] if n_classes == 2 else [1.0, 5.0, 0.2]
    plain = ProgramLoss(n_classes, kind)(logits, y)
    weighted = ProgramLoss(n_classes, kind, class_weight=w)(logits, y)
    assert torch.isfinite(weighted)
    assert abs(float(plain) - float(weighted)) > 1e-4


@pytest.mark.parametrize("n_classes", [2, 3])
def test_cross_entropy_weights_are_scale_invariant(n_classes):
    logits, y = _data(n_classes)
    k = n_classes
    torch.testing.assert_close(
        ProgramLoss(k, class_weight=[2.0] * k)(logits, y), ProgramLoss(k)(logits, y)
    )
    w = torch.arange(1.0, k + 1)
    torch.testing.assert_close(
        ProgramLoss(k, class_weight=w)(logits, y),
        ProgramLoss(k, class_weight=w * 7)(logits, y),
    )


def _per_frame(n_classes, seed=0):
    g = torch.Generator().manual_seed(seed)
    B, T = 5, 7
    o = 1 if n_classes == 2 else n_classes
    logits = torch.randn(B, T, o, generator=g)
    y = torch.randint(0, n_classes, (B, T), generator=g)
    lengths = torch.tensor([7, 3, 1, 5, 6])
    pad = torch.arange(T)[None, :] >= lengths[:, None]
    y[pad] = -1
    return logits, y, pad


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("kind", LOSSES)
@pytest.mark.parametrize("weighted", [False, True])
def test_per_frame_padding_is_ignored(n_classes, kind, weighted):
    w = None if not weighted else ([1.0, 2.0] if n_classes == 2 else [1.0, 2.0, 3.0])
    loss = ProgramLoss(n_classes, kind, class_weight=w)
    logits, y, pad = _per_frame(n_classes)
    base = loss(logits, y)
    # garbage logits at padded frames change nothing
    logits2 = logits.clone()
    logits2[pad] = 1e4
    torch.testing.assert_close(loss(logits2, y), base)
    # the same as the loss over the real frames, flattened
    keep = ~pad
    torch.testing.assert_close(loss(logits[keep], y[keep]), base)
    # no gradient reaches padded frames
    lg = logits.clone().requires_grad_(True)
    loss(lg, y).backward()
    assert torch.all(lg.grad[pad] == 0)
    assert lg.grad[keep].abs().sum() > 0


def test_per_frame_labels_shorter_than_logits():
    logits, y, pad = _per_frame(2)
    loss = ProgramLoss(2)
    longer = torch.cat([logits, torch.randn(5, 3, 1)], dim=1)
    torch.testing.assert_close(loss(longer, y), loss(logits, y))


def test_flatten_valid():
    logits, y, pad = _per_frame(3)
    lg, yy = flatten_valid(logits, y)
    assert lg.shape == (int((~pad).sum()), 3)
    assert torch.equal(yy, y[~pad])
    a, b = flatten_valid(logits[:, 0], y[:, 0])
    assert a is not None and torch.equal(b, y[:, 0])


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("kind", LOSSES)
def test_all_padding_gives_zero_loss_with_grad(n_classes, kind):
    logits, y, _ = _per_frame(n_classes)
    y[:] = -1
    lg = logits.clone().requires_grad_(True)
    out = ProgramLoss(n_classes, kind)(lg, y)
    assert float(out.detach()) == 0.0
    out.backward()
    assert torch.all(lg.grad == 0)
