"""The base of production modules, and the dispatch from a production to its module.

Each kind of :mod:`sklearn_dpads.kinds` defines its module, a subclass of
:class:`ProductionModule`, and builds it (:meth:`Kind.module
<sklearn_dpads.grammar.kind.Kind.module>`).

Every module is called as ``module(x, mask, ctx)``:

* atom input: ``x`` is ``(N, d)`` and ``mask`` is None; returns ``(N, k)``;
* sequence input: ``x`` is ``(B, T, d)`` with ``mask`` ``(B, T)``; returns
  ``(B, T, k)`` (per frame, or per prefix for atom-valued functions).

``ctx`` is the :class:`~sklearn_dpads.semantics.ops.Evaluation` of the
forward pass, or None: it memoises what several modules of one pass share (the
frames of a sequence, frame differences, a candidate set's outputs), and in a
chunked evaluation its ``carry`` holds the state of every temporal module from
one chunk of frames to the next: a fold's accumulator, the last frames of a
window, a filter or a frame difference (see
:func:`~sklearn_dpads.semantics.ops.carried`). Production modules call their
arguments through ``self.args``, which hold compiled child modules,
derivation-graph edges or the neural hole fillers of
:mod:`sklearn_dpads.semantics.neural`.
"""

from __future__ import annotations

from torch import nn

from sklearn_dpads.grammar.production import Production
from sklearn_dpads.grammar.types import FunctionType

__all__ = [
    "ProductionModule",
    "production_module_docs",
    "forward_doc",
    "build_production_module",
]


_SLOTS_DOC = """
    Parameters
    ----------
    production : Production
        The production this module applies.
    hole : FunctionType
        The hole the production fills.
    child_types : tuple of FunctionType
        Types of the argument slots, as given by
        :meth:`Production.child_types <sklearn_dpads.grammar.Production.child_types>`.
"""

_FORWARD_DOC = """{summary}

        Parameters
        ----------
        x : torch.Tensor
            Input, ``(B, T, d)`` for a sequence-input hole or ``(N, d)`` for an
            atom-input hole.
        mask : torch.Tensor or None
            Boolean ``(B, T)`` mask of the real frames of a sequence input; None
            for an atom input.
        ctx : Evaluation or None, default=None
            State of the forward pass; None: nothing is memoised or carried.

        Returns
        -------
        torch.Tensor
            {returns}
        """


def production_module_docs(returns: str):
    """Complete a production module's docstrings with the shared sections.

    Every production module takes the same constructor arguments and is called
    as ``forward(x, mask, ctx)``; only the summary and what ``forward``
    returns differ, so those are all a module writes (a ``forward`` that
    already has a docstring, from :func:`forward_doc`, keeps it).

    Parameters
    ----------
    returns : str
        What the module's ``forward`` returns.

    Returns
    -------
    callable
        A class decorator.
    """

    def decorate(cls):
        cls.__doc__ = cls.__doc__.rstrip() + "\n" + _SLOTS_DOC
        if cls.forward.__doc__ is None:  # a forward_doc of its own is kept
            cls.forward.__doc__ = _FORWARD_DOC.format(
                summary="Apply the production to ``x``.", returns=returns
            )
        return cls

    return decorate


def forward_doc(summary: str, returns: str):
    """Give a ``forward(x, mask, ctx)`` method the shared numpydoc docstring.

    Parameters
    ----------
    summary : str
        The docstring's first line.
    returns : str
        What the method returns.

    Returns
    -------
    callable
        A decorator that sets the method's ``__doc__``.
    """

    def decorate(method):
        method.__doc__ = _FORWARD_DOC.format(summary=summary, returns=returns)
        return method

    return decorate


class ProductionModule(nn.Module):
    """Base class: a production applied to argument callables.

    Every module is called as ``module(x, mask, ctx)`` (see the module
    docstring); arguments are attached with :meth:`set_args`.

    Parameters
    ----------
    production : Production
        The production this module applies.
    hole : FunctionType
        The hole the production fills.
    child_types : tuple of FunctionType
        Types of the argument slots, as given by
        :meth:`Production.child_types <sklearn_dpads.grammar.Production.child_types>`.
    """

    def __init__(self, production: Production, hole: FunctionType, child_types: tuple):
        super().__init__()
        self.production = production
        self.hole = hole
        self.child_types = tuple(child_types)
        self.args = nn.ModuleList()

    def set_args(self, args: list[nn.Module]) -> None:
        """Attach argument modules (compiled children, graph edges or fillers).

        Parameters
        ----------
        args : list of torch.nn.Module
            One module per argument slot.
        """
        if len(args) != len(self.child_types):
            raise ValueError(
                f"{self.production.name} takes {len(self.child_types)} argument(s), "
                f"got {len(args)}."
            )
        self.args = nn.ModuleList(args)

    def extra_repr(self) -> str:
        """Return the production name and hole shown in the module's repr.

        Returns
        -------
        str
            ``"name: input -> output"``.
        """
        return f"{self.production.name}: {self.hole}"


def build_production_module(
    production: Production, hole: FunctionType, child_types: tuple, n_features: int
) -> ProductionModule:
    """Instantiate the module of ``production`` filling ``hole`` (arguments unset).

    Parameters
    ----------
    production : Production
        The production.
    hole : FunctionType
        The hole it fills.
    child_types : tuple of FunctionType
        Types of its argument slots.
    n_features : int
        Number of input features of the program (used by affine and filter
        leaves).

    Returns
    -------
    ProductionModule
        The module; attach its arguments with
        :meth:`~ProductionModule.set_args`.
    """
    return production.kind.module(production, hole, child_types, n_features)
