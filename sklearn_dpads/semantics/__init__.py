"""Differentiable (torch) meaning of productions and programs."""

from sklearn_dpads.semantics.compile import ProgramModule, RootModel, compile_program
from sklearn_dpads.semantics.modules import (
    NeuralAtom,
    NeuralSeq,
    build_production_module,
    hidden_width,
    neural_filler,
)

__all__ = [
    "ProgramModule",
    "RootModel",
    "compile_program",
    "NeuralAtom",
    "NeuralSeq",
    "build_production_module",
    "hidden_width",
    "neural_filler",
]
