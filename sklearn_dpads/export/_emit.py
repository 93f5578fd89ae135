"""Small writers of generated Python shared by the kinds' exports.

Affine maps (of an affine leaf, of a fold's readout) are written as sums of
exact literals, wrapped to the generated code's line width.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sklearn_dpads.export._safety import float_literal

__all__ = ["linear_terms", "wrap_terms", "readout_terms"]


def linear_terms(row: Sequence[float], sel: Sequence[int], bias: float) -> list[str]:
    """Terms of ``sum_j row[j] * x[sel[j]] + bias`` with exact literals.

    Parameters
    ----------
    row : sequence of float
        The weights.
    sel : sequence of int
        The input position each weight reads.
    bias : float
        The constant term.

    Returns
    -------
    list of str
        ``["w0 * x[i0]", "+ w1 * x[i1]", ..., "+ b"]``, signs pulled out.
    """
    parts: list[str] = []
    for j, (w, i) in enumerate(zip(row, sel)):
        neg = j > 0 and not math.isnan(w) and math.copysign(1.0, w) < 0
        term = f"{float_literal(-w if neg else w)} * x[{i}]"
        parts.append(term if j == 0 else f"{'-' if neg else '+'} {term}")
    neg = bool(parts) and not math.isnan(bias) and math.copysign(1.0, bias) < 0
    lit = float_literal(-bias if neg else bias)
    parts.append(f"{'-' if neg else '+'} {lit}" if parts else lit)
    return parts


def wrap_terms(parts: list[str], indent: int, width: int) -> list[str]:
    """One list element made of ``parts``, wrapped in parentheses when long.

    Parameters
    ----------
    parts : list of str
        Terms, as from :func:`linear_terms`.
    indent : int
        Column of the element in the generated code.
    width : int
        Maximum line width.

    Returns
    -------
    list of str
        Lines, the last one ending with a comma.
    """
    one = " ".join(parts)
    if len(one) + indent + 1 <= width:
        return [one + ","]
    lines = ["("]
    cur = ""
    for part in parts:
        if cur and len(cur) + 1 + len(part) + indent + 4 > width:
            lines.append("    " + cur)
            cur = part
        else:
            cur = f"{cur} {part}" if cur else part
    lines.append("    " + cur)
    lines.append("),")
    return lines


def readout_terms(weight, bias, width: int, indent: int) -> list[str]:
    """The list items of an affine readout of a state ``x``, one per output.

    Parameters
    ----------
    weight : sequence of sequence of float
        One row per output, one weight per state entry.
    bias : sequence of float
        One bias per output.
    width : int
        Number of state entries.
    indent : int
        The items' column in the generated body (the function's own
        indentation comes on top).

    Returns
    -------
    list of str
        The items' lines.
    """
    lines = []
    for row, b in zip(weight, bias):
        terms = linear_terms(row, range(width), b)
        lines.extend(" " * indent + t for t in wrap_terms(terms, indent + 4, 88))
    return lines
