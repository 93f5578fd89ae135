"""FlatParameters: one buffer behind many parameters, same gradients and values."""

import pytest
import torch
from torch import nn

from sklearn_dpads.training._flat import FlatParameters


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def test_gradients_land_in_the_flat_buffer():
    ref, model = _model(), _model()
    x = torch.randn(5, 3)
    ref(x).pow(2).sum().backward()
    flat = FlatParameters(model.parameters())
    assert len(flat.buffers) == 1
    assert flat.buffers[0].numel() == sum(p.numel() for p in model.parameters())
    for _ in range(2):  # gradients accumulate in place, zeroing is one op
        flat.zero_grad()
        model(x).pow(2).sum().backward()
        for p, q in zip(model.parameters(), ref.parameters(), strict=True):
            torch.testing.assert_close(p.grad, q.grad)
    expected = torch.cat([q.grad.reshape(-1) for q in ref.parameters()])
    torch.testing.assert_close(flat.buffers[0].grad, expected)


def test_an_optimiser_step_on_the_buffer_moves_the_parameters():
    ref, model = _model(), _model()
    x = torch.randn(5, 3)
    flat = FlatParameters(model.parameters())
    opt = torch.optim.Adam(flat.buffers, lr=0.1)
    opt_ref = torch.optim.Adam(ref.parameters(), lr=0.1)
    for _ in range(3):
        flat.zero_grad()
        opt_ref.zero_grad()
        model(x).sum().backward()
        ref(x).sum().backward()
        opt.step()
        opt_ref.step()
    for p, q in zip(model.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(p, q)


def test_release_gives_each_parameter_its_own_storage():
    model = _model()
    params = list(model.parameters())
    flat = FlatParameters(params + params[:1])  # duplicates are taken once
    assert len(flat.params) == len(params)
    before = [p.detach().clone() for p in params]
    flat.release()
    with torch.no_grad():
        flat.buffers[0].zero_()
    for p, b in zip(params, before, strict=True):
        assert p.grad is None
        torch.testing.assert_close(p.detach(), b)
    storages = {p.untyped_storage().data_ptr() for p in params}
    assert len(storages) == len(params)


def test_groups_by_dtype():
    a = nn.Parameter(torch.ones(2))
    b = nn.Parameter(torch.ones(3, dtype=torch.float64))
    flat = FlatParameters([a, b])
    assert {f.dtype for f in flat.buffers} == {torch.float32, torch.float64}
    (a.sum() + b.sum()).backward()
    assert all(bool((f.grad == 1).all()) for f in flat.buffers)


@pytest.mark.parametrize("params", [[]])
def test_no_parameters_no_buffers(params):
    flat = FlatParameters(params)
    assert flat.buffers == [] and flat.params == []
    flat.zero_grad()
    flat.release()
