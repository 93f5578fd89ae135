"""Typed grammar of programs: value types, productions and DSLs (no torch)."""

from sklearn_dpads.grammar.dsl import DSL, DSLBuilder
from sklearn_dpads.grammar.production import (
    BUILTIN_KINDS,
    Production,
    add_production,
    affine_production,
    constant_production,
    difference_production,
    elementwise_production,
    filter_production,
    fold_production,
    ite_production,
    map_prefixes_production,
    map_production,
    multiply_production,
    window_production,
)
from sklearn_dpads.grammar.types import Atom, FunctionType, Seq, parse_type

__all__ = [
    "Atom",
    "Seq",
    "FunctionType",
    "parse_type",
    "Production",
    "BUILTIN_KINDS",
    "DSL",
    "DSLBuilder",
    "map_production",
    "map_prefixes_production",
    "fold_production",
    "window_production",
    "ite_production",
    "add_production",
    "multiply_production",
    "affine_production",
    "constant_production",
    "elementwise_production",
    "filter_production",
    "difference_production",
]
