"""Tests of sklearn_dpads.utils._names."""

from __future__ import annotations

import keyword

import pytest

from sklearn_dpads.utils._names import safe_identifier


@pytest.mark.parametrize(
    "text, expected",
    [
        ("speed", "speed"),
        ("Pos X", "pos_x"),
        ("Speed (m/s)", "speed_m_s"),
        ("1st", "g1st"),
        ("", "group"),
        ("***", "group"),
        ("a--b__", "a_b"),
        ("__x__", "x"),
        ("héllo wörld", "h_llo_w_rld"),
        ("a\n__import__('os')", "a___import___os"),
        (42, "g42"),
    ],
)
def test_safe_identifier(text, expected):
    got = safe_identifier(text)
    assert got == expected
    assert got.isidentifier() and got.isascii() and got == got.lower()


def test_unique_within_used():
    used = {"speed"}
    got = [safe_identifier(t, used) for t in ("speed", "Speed", "a b", "a-b")]
    assert got == ["speed_2", "speed_3", "a_b", "a_b_2"]
    assert used == {"speed", "speed_2", "speed_3", "a_b", "a_b_2"}


def test_not_a_keyword_only_by_case():
    # lowercasing can produce a keyword; callers that need more add a prefix
    assert keyword.iskeyword(safe_identifier("Lambda"))


def test_library_reexports_it():
    from sklearn_dpads.library import safe_identifier as from_library

    assert from_library is safe_identifier
