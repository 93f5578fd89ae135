"""Exceptions and warnings raised by :mod:`sklearn_dpads`."""


class GrammarError(ValueError):
    """A DSL, production or program is malformed or ill-typed."""


class ProgramParseError(GrammarError):
    """A program's text could not be parsed."""


class SearchTimeoutWarning(UserWarning):
    """The search stopped early because its time budget ran out."""
