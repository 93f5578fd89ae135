"""Export compiled programs as standalone Python source or sympy expressions.

:func:`export_program` exports a fitted classifier, or a fitted pipeline of
scalers ending in one, as an :class:`ExportedProgram` (what
``ProgramSynthesisClassifier.export_program`` returns); :func:`build_export`
bundles a compiled program that way.
:func:`to_python_source` and :func:`load_python_program` need only the standard
library in the code they generate; :func:`to_sympy` and :func:`to_latex` import
sympy on first use.
"""

from sklearn_dpads.export._bundle import ExportedProgram, build_export
from sklearn_dpads.export._pipeline import export_program
from sklearn_dpads.export.python import load_python_program, to_python_source

__all__ = [
    "ExportedProgram",
    "build_export",
    "export_program",
    "to_python_source",
    "load_python_program",
    "to_sympy",
    "to_latex",
    "feature_symbols",
    "sigmoid",
]

_SYMPY_NAMES = {"to_sympy", "to_latex", "feature_symbols", "sigmoid"}


def __getattr__(name: str):
    if name in _SYMPY_NAMES:
        from sklearn_dpads.export import sympy as _sympy_export

        return getattr(_sympy_export, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
