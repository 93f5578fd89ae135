"""Tests for sklearn_dpads.grammar.types."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sklearn_dpads.grammar.types import Atom, FunctionType, Seq, parse_type

sizes = st.integers(min_value=1, max_value=10_000)
kinds = st.sampled_from(["atom", "list"])


@pytest.mark.parametrize(
    "text",
    [
        "list[19] -> atom[2]",
        "atom[1] -> atom[1]",
        "list[3] -> list[7]",
        "atom[12] -> list[1]",
    ],
)
def test_parse_type_round_trip(text):
    assert str(parse_type(text)) == text


@given(kinds, sizes, kinds, sizes)
def test_parse_type_round_trip_any(k1, n1, k2, n2):
    text = f"{k1}[{n1}] -> {k2}[{n2}]"
    ft = parse_type(text)
    assert str(ft) == text
    assert ft.input.size == n1 and ft.output.size == n2
    assert ft.input.is_seq == (k1 == "list")
    assert ft.output.is_seq == (k2 == "list")


def test_parse_type_tolerates_whitespace():
    ft = parse_type("  list [ 3 ]->atom[2 ]  ")
    assert ft == FunctionType(Seq(3), Atom(2))
    assert str(ft) == "list[3] -> atom[2]"


def test_value_types():
    assert str(Atom(4)) == "atom[4]"
    assert str(Seq(4)) == "list[4]"
    assert not Atom(4).is_seq
    assert Seq(4).is_seq


def test_equality_and_hash():
    assert Atom(3) == Atom(3)
    assert Seq(3) == Seq(3)
    assert Atom(3) != Seq(3)
    assert Atom(3) != Atom(4)
    assert hash(Atom(3)) == hash(Atom(3))
    a = parse_type("list[3] -> atom[2]")
    b = FunctionType(Seq(3), Atom(2))
    assert a == b and hash(a) == hash(b)
    assert a != parse_type("list[3] -> list[2]")
    assert a != parse_type("atom[3] -> atom[2]")
    d = {a: "x"}
    assert d[b] == "x"
    assert len({Atom(1), Atom(1), Seq(1), Seq(1)}) == 2


def test_types_are_frozen():
    a = Atom(2)
    with pytest.raises(AttributeError):
        a.size = 3


@pytest.mark.parametrize("cls", [Atom, Seq])
@pytest.mark.parametrize("size", [0, -1, -100])
def test_bad_size_value(cls, size):
    with pytest.raises(ValueError, match=r"size must be >= 1"):
        cls(size)


@pytest.mark.parametrize("cls", [Atom, Seq])
@pytest.mark.parametrize("size", [1.5, 2.0, "3", None, True, False])
def test_bad_size_type(cls, size):
    with pytest.raises(TypeError, match=r"size must be an int"):
        cls(size)


@pytest.mark.parametrize(
    "text",
    ["", "list[3]", "atom[1] atom[2]", "list[3] -> atom[2] -> atom[1]"],
)
def test_parse_type_needs_one_arrow(text):
    with pytest.raises(ValueError, match=r"Cannot parse function type"):
        parse_type(text)


@pytest.mark.parametrize(
    "text",
    [
        "tuple[3] -> atom[1]",
        "list[3] -> atom",
        "list[-1] -> atom[1]",
        "list[1.5] -> atom[1]",
        "list(3) -> atom[1]",
        " -> atom[1]",
        "LIST[3] -> atom[1]",
        "list[3]x -> atom[1]",
    ],
)
def test_parse_type_bad_value_text(text):
    with pytest.raises(ValueError, match=r"Cannot parse value type"):
        parse_type(text)


@pytest.mark.parametrize("text", ["list[0] -> atom[1]", "list[2] -> atom[0]"])
def test_parse_type_zero_size(text):
    with pytest.raises(ValueError, match=r"size must be >= 1"):
        parse_type(text)
