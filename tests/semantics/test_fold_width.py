"""fold with a wider state and a readout: semantics, typing, grammar errors."""

import numpy as np
import pytest
import torch

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.kinds import fold_production
from sklearn_dpads.library import default_dsl
from sklearn_dpads.semantics import compile_program

DSL = default_dsl(3, {"a": [0], "bc": [1, 2]}, fold_width=4)
HOLE = parse_type("list[3] -> atom[2]")


def test_child_type_has_the_state_width():
    (body,) = DSL["fold"].child_types(HOLE, 3)
    assert body == parse_type("atom[7] -> atom[4]")
    (plain,) = fold_production().child_types(HOLE, 3)
    assert plain == parse_type("atom[5] -> atom[2]")


@pytest.mark.parametrize("width", [0, -1, 2.5, True, "3"])
def test_bad_width_raises(width):
    with pytest.raises(GrammarError, match="Fold width must be an int >= 1"):
        fold_production("fold", width)
    with pytest.raises(GrammarError, match="Fold width must be an int >= 1"):
        default_dsl(3, fold_width=width)


@pytest.mark.parametrize(
    "body", ["(affine)", "(ite (affine_a) (affine) (multiply (affine_bc) (affine)))"]
)
def test_matches_a_manual_loop_with_readout(body):
    torch.manual_seed(0)
    m = compile_program(f"(fold {body})", DSL, HOLE).double()
    fold = m.node(())
    assert fold.readout is not None and fold.width == 4
    x = torch.randn(3, 6, 3, dtype=torch.float64)
    lengths = torch.tensor([6, 2, 4])
    padded = x.clone()
    for i, n in enumerate(lengths.tolist()):
        padded[i, n:] = float("nan")  # padding never reaches real frames
    got = m(padded, lengths).detach().numpy()
    f = fold.args[0]
    for i, n in enumerate(lengths.tolist()):
        a = torch.zeros(1, 4, dtype=torch.float64)
        for t in range(n):
            a = f(torch.cat([x[i : i + 1, t], a], dim=1), None)
        want = fold.readout(a).detach().numpy()[0]
        np.testing.assert_allclose(got[i], want, rtol=1e-10, atol=1e-12)


def test_readout_is_trained_and_exported_in_the_parameters():
    m = compile_program("(fold (affine_a))", DSL, HOLE)
    own = m.own_state(())
    assert set(own) == {"readout.weight", "readout.bias"}
    assert own["readout.weight"].shape == (2, 4)


def test_sympy_export_reads_out_the_state():
    import sympy

    from sklearn_dpads.export.sympy import to_sympy

    m = compile_program("(fold (affine_a))", DSL, HOLE).double()
    expr = to_sympy(m, simplify=False)
    assert expr.shape == (2, 1)
    leaf = m.leaf(())
    folds = sorted(expr[0].atoms(sympy.Function), key=str)
    # one Fold(Matrix(body), j) per state entry, weighted by the readout
    assert len(folds) == 4 and all(str(f).startswith("Fold(") for f in folds)
    for o in range(2):
        coeffs = {f.args[1]: expr[o].coeff(f) for f in folds}
        assert [float(coeffs[sympy.Integer(j)]) for j in range(4)] == pytest.approx(
            leaf.weight[o]
        )
        assert float(expr[o].subs({f: 0 for f in folds})) == pytest.approx(leaf.bias[o])
