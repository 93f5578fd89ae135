"""Value and function types of the DSL.

A value is either an *atom* (a real vector of a fixed size) or a *sequence*
(a list of such vectors, one per time step). Every production is a point-free
function of the program input, so a hole in a program has a
:class:`FunctionType` ``input -> output``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Atom", "Seq", "ValueType", "FunctionType", "parse_type"]


@dataclass(frozen=True)
class Atom:
    """A real vector of ``size`` entries.

    Parameters
    ----------
    size : int
        Number of entries, at least 1.
    """

    size: int

    def __post_init__(self) -> None:
        if not isinstance(self.size, int) or isinstance(self.size, bool):
            raise TypeError(f"Atom size must be an int, got {self.size!r}.")
        if self.size < 1:
            raise ValueError(f"Atom size must be >= 1, got {self.size}.")

    @property
    def is_seq(self) -> bool:
        """Whether this is a sequence type: always False for an atom."""
        return False

    def __str__(self) -> str:
        return f"atom[{self.size}]"


@dataclass(frozen=True)
class Seq:
    """A sequence of real vectors of ``size`` entries each.

    Parameters
    ----------
    size : int
        Number of entries of each vector, at least 1.
    """

    size: int

    def __post_init__(self) -> None:
        if not isinstance(self.size, int) or isinstance(self.size, bool):
            raise TypeError(f"Seq size must be an int, got {self.size!r}.")
        if self.size < 1:
            raise ValueError(f"Seq size must be >= 1, got {self.size}.")

    @property
    def is_seq(self) -> bool:
        """Whether this is a sequence type: always True for a sequence."""
        return True

    def __str__(self) -> str:
        return f"list[{self.size}]"


ValueType = Atom | Seq


@dataclass(frozen=True)
class FunctionType:
    """The type ``input -> output`` of a hole or of a production instance.

    Parameters
    ----------
    input : Atom or Seq
        Type of the value the function reads.
    output : Atom or Seq
        Type of the value the function returns.
    """

    input: ValueType
    output: ValueType

    def __str__(self) -> str:
        return f"{self.input} -> {self.output}"


_VALUE_RE = re.compile(r"^\s*(atom|list)\s*\[\s*(\d+)\s*\]\s*$")


def _parse_value(text: str) -> ValueType:
    m = _VALUE_RE.match(text)
    if m is None:
        raise ValueError(
            f"Cannot parse value type {text!r}; expected 'atom[N]' or 'list[N]'."
        )
    kind, size = m.group(1), int(m.group(2))
    return Atom(size) if kind == "atom" else Seq(size)


def parse_type(text: str) -> FunctionType:
    """Parse ``"list[19] -> atom[2]"`` into a :class:`FunctionType`.

    Parameters
    ----------
    text : str
        Two value types separated by ``->``.

    Returns
    -------
    FunctionType
        The parsed type; ``str`` of it round-trips.
    """
    parts = text.split("->")
    if len(parts) != 2:
        raise ValueError(f"Cannot parse function type {text!r}; expected 'A -> B'.")
    return FunctionType(_parse_value(parts[0]), _parse_value(parts[1]))
