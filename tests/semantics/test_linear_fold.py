"""The parallel-scan path of a fold with an affine body equals the frame loop."""

import pytest
import torch

import sklearn_dpads.kinds.fold as modules
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.library import default_dsl
from sklearn_dpads.semantics import compile_program
from sklearn_dpads.semantics.ops import linear_recurrence

DSL = default_dsl(4, {"a": [0, 1], "b": [2, 3]})
LINEAR = [
    "(fold (affine))",
    "(fold (affine_a))",
    "(fold (add (affine_b) (const)))",
    "(fold (add (add (affine_a) (affine)) (affine_b)))",
    "(map_prefixes (fold (add (affine) (affine))))",
]


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("T", [1, 2, 7, 16])
def test_linear_recurrence_matches_the_loop(k, T):
    g = torch.Generator().manual_seed(T * 10 + k)
    coef = 0.5 * torch.randn(3, T, k, k, generator=g, dtype=torch.float64)
    drive = torch.randn(3, T, k, generator=g, dtype=torch.float64)
    a, want = torch.zeros(3, k, dtype=torch.float64), []
    for t in range(T):
        a = (coef[:, t] @ a.unsqueeze(-1)).squeeze(-1) + drive[:, t]
        want.append(a)
    torch.testing.assert_close(linear_recurrence(coef, drive), torch.stack(want, 1))


def _run(src, out, x, lengths, loop, monkeypatch):
    if loop:
        monkeypatch.setattr(modules, "_linear_body", lambda *a: None)
    torch.manual_seed(0)
    m = compile_program(src, DSL, parse_type(f"list[4] -> {out}")).double()
    y = m(x, lengths)
    y.sum().backward()
    grads = [p.grad.clone() for p in m.parameters()]
    monkeypatch.undo()
    return y.detach(), grads


@pytest.mark.parametrize("src", LINEAR)
@pytest.mark.parametrize("out", ["atom[1]", "atom[3]", "list[1]"])
def test_linear_fold_equals_the_frame_loop(src, out, monkeypatch):
    if src.startswith("(map_prefixes") != out.startswith("list"):
        pytest.skip("map_prefixes gives per-frame outputs")
    g = torch.Generator().manual_seed(1)
    x = torch.randn(5, 9, 4, generator=g, dtype=torch.float64)
    lengths = torch.tensor([9, 4, 1, 7, 9])  # padded sequences keep their state
    fast, g_fast = _run(src, out, x, lengths, False, monkeypatch)
    loop, g_loop = _run(src, out, x, lengths, True, monkeypatch)
    torch.testing.assert_close(fast, loop)
    for a, b in zip(g_fast, g_loop):
        torch.testing.assert_close(a, b)


def test_nonlinear_body_keeps_the_frame_loop():
    m = compile_program(
        "(fold (ite (affine_a) (affine) (affine_b)))",
        DSL,
        parse_type("list[4] -> atom[1]"),
    )
    fold = m.node(())
    assert modules._linear_body(fold.args[0], 4, 1) is None
