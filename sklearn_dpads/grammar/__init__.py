"""Typed grammar of programs: value types, productions and DSLs (no torch).

The kinds of productions and their factories (``map_production``,
``affine_production``, ...) are in :mod:`sklearn_dpads.kinds`.
"""

from sklearn_dpads.grammar.dsl import DSL, DSLBuilder
from sklearn_dpads.grammar.kind import Kind
from sklearn_dpads.grammar.production import Production
from sklearn_dpads.grammar.types import Atom, FunctionType, Seq, parse_type

__all__ = [
    "Atom",
    "Seq",
    "FunctionType",
    "parse_type",
    "Kind",
    "Production",
    "DSL",
    "DSLBuilder",
]
