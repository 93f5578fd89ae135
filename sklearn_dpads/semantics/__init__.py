"""Differentiable (torch) meaning of productions and programs."""

from sklearn_dpads.semantics.compile import ProgramModule, RootModel, compile_program
from sklearn_dpads.semantics.modules import build_production_module
from sklearn_dpads.semantics.neural import (
    NeuralAtom,
    NeuralSeq,
    hidden_width,
    neural_filler,
)
from sklearn_dpads.semantics.ops import Evaluation

__all__ = [
    "ProgramModule",
    "RootModel",
    "compile_program",
    "Evaluation",
    "NeuralAtom",
    "NeuralSeq",
    "build_production_module",
    "hidden_width",
    "neural_filler",
]
