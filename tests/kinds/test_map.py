"""The ``map`` kind's lag: a map of a look-ahead program reads the labelled frame."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.kinds import MAP, map_production
from sklearn_dpads.library import default_dsl, lag_maps
from sklearn_dpads.semantics import compile_program


def test_map_production_lag():
    assert map_production().params == {}
    assert map_production("m", lag=2).params == {"lag": 2}
    for bad in (-1, 1.5, True):
        with pytest.raises(GrammarError, match="needs params\\['lag'\\] to be an int"):
            map_production("m", lag=bad)


def test_lag_maps_lags_every_map_only():
    dsl = default_dsl(2, kernel_windows=(6,))
    assert lag_maps(dsl, 0) is dsl
    lagged = lag_maps(dsl, 3)
    assert [p.name for p in lagged.productions] == [p.name for p in dsl.productions]
    for p, q in zip(dsl.productions, lagged.productions):
        if p.kind is MAP:
            assert q.params == {"lag": 3}
        else:
            assert q is p
    assert dsl["map"].params == {}  # the grammar given is not modified


def test_lagged_map_reads_the_frame_lag_back():
    dsl = lag_maps(default_dsl(2), 2)
    module = compile_program("(map (affine))", dsl, parse_type("list[2] -> list[1]"))
    x = torch.randn(3, 7, 2)
    plain = compile_program(
        "(map (affine))", default_dsl(2), parse_type("list[2] -> list[1]")
    )
    plain.load_state_dict(module.state_dict())
    with torch.no_grad():
        want, got = plain(x).numpy(), module(x).numpy()
    np.testing.assert_allclose(got[:, 2:], want[:, :-2], rtol=1e-6)
    np.testing.assert_allclose(got[:, :2], np.repeat(want[:, :1], 2, axis=1), rtol=1e-6)
