"""Interpretable sequence classification by differentiable program synthesis (dPads).

The main entry point is :class:`ProgramSynthesisClassifier`.
"""

from sklearn_dpads._classifier import ProgramSynthesisClassifier
from sklearn_dpads.exceptions import (
    GrammarError,
    ProgramParseError,
    SearchTimeoutWarning,
)
from sklearn_dpads.export import ExportedProgram
from sklearn_dpads.grammar import DSL, DSLBuilder, FunctionType, Production
from sklearn_dpads.library import default_dsl, make_production
from sklearn_dpads.preprocessing import SequenceStandardScaler
from sklearn_dpads.program import Program

__version__ = "0.1.0"

__all__ = [
    "ProgramSynthesisClassifier",
    "ExportedProgram",
    "SequenceStandardScaler",
    "Program",
    "DSL",
    "DSLBuilder",
    "FunctionType",
    "Production",
    "default_dsl",
    "make_production",
    "GrammarError",
    "ProgramParseError",
    "SearchTimeoutWarning",
    "__version__",
]
