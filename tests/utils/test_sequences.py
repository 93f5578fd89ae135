"""Tests of sklearn_dpads.utils._sequences: the look-ahead of per-frame programs."""

from __future__ import annotations

import numpy as np
import pytest

from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.utils._sequences import (
    check_future_frames,
    delay_labels,
    delay_sequences,
)


def test_delay_sequences_repeats_each_last_real_frame():
    x = np.arange(2 * 4 * 2, dtype=np.float32).reshape(2, 4, 2)
    x[1, 2:] = 0.0  # padding: sequence 1 has 2 real frames
    lengths = np.array([4, 2])
    before = x.copy()
    xd, ld = delay_sequences(x, lengths, 3)
    np.testing.assert_array_equal(x, before)  # the input is not modified
    assert xd.shape == (2, 7, 2) and xd.dtype == x.dtype
    np.testing.assert_array_equal(ld, [7, 5])
    np.testing.assert_array_equal(xd[0, :4], x[0])
    np.testing.assert_array_equal(xd[0, 4:], np.repeat(x[0, 3:4], 3, axis=0))
    np.testing.assert_array_equal(xd[1, :2], x[1, :2])
    np.testing.assert_array_equal(xd[1, 2:5], np.repeat(x[1, 1:2], 3, axis=0))
    np.testing.assert_array_equal(xd[1, 5:], 0.0)  # padding stays zero


def test_no_delay_returns_the_input():
    x = np.ones((2, 3, 1))
    xd, ld = delay_sequences(x, np.array([3, 1]), 0)
    assert xd is x
    np.testing.assert_array_equal(ld, [3, 1])
    y = np.zeros((2, 3), dtype=int)
    assert delay_labels(y, 0) is y


def test_delay_labels_moves_them_later():
    y = np.array([[0, 1, 1], [1, 0, -1]])
    np.testing.assert_array_equal(
        delay_labels(y, 2), [[-1, -1, 0, 1, 1], [-1, -1, 1, 0, -1]]
    )


def test_check_future_frames():
    frame, seq = parse_type("list[3] -> list[1]"), parse_type("list[3] -> atom[1]")
    assert check_future_frames(np.int64(4), frame) == 4
    assert check_future_frames(0, seq) == 0
    with pytest.raises(TypeError, match="^future_frames must be an int, got float"):
        check_future_frames(2.0, frame)
    with pytest.raises(TypeError, match="^future_frames must be an int, got bool"):
        check_future_frames(True, frame)
    with pytest.raises(ValueError, match="^future_frames must be at least 0, got -1"):
        check_future_frames(-1, frame)
    with pytest.raises(ValueError, match="^future_frames is only for per-frame"):
        check_future_frames(2, seq)
