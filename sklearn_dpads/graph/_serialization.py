"""Keep derivation graphs whole when Dask's ``distributed`` moves them.

``distributed`` serialises every :class:`torch.nn.Module` with a generic
serializer (``register_generic(torch.nn.Module)`` in
``distributed/protocol/torch.py``), and it is tried before pickle. It rebuilds
a module from its ``__dict__`` one attribute at a time, which the derivation
graph does not survive:

* attributes that msgpack can encode travel in msgpack headers, which are read
  back with ``use_list=False``: lists come back as tuples (``CandidateSet.alive``,
  ``Edge._idx``);
* nothing is memoised: an object reached twice is rebuilt twice, so an edge's
  target is no longer the candidate set that the graph refreshes (node sharing
  is lost, and ``refresh`` then writes into the copy's tuple:
  ``TypeError: 'tuple' object does not support item assignment``);
* reference cycles (an edge's target lists the edge among its ``incoming``)
  recurse until ``RecursionError``.

That happens whenever a graph is a task's argument or result on a Dask cluster:
the selection step of a fit fans out its trainings through joblib, and inside a
Dask worker joblib's dask backend is active.

:func:`register_distributed_serialization` opts the package's modules out of
that serializer: distributed then falls back to pickle, which keeps shared
objects, cycles and lists as they are, and which needs nothing registered on the
receiving side. Nothing here imports ``distributed``: the registration is
tried when this module is imported and whenever a
:class:`~sklearn_dpads.graph.DerivationGraph` is built or unpickled (so on every
split), and takes effect once ``distributed`` has been imported. Dask workers
import ``distributed`` before they unpickle their first task, and the dask
joblib backend imports it before a fit in the client builds its graph.
"""

from __future__ import annotations

import sys

from torch import nn

from sklearn_dpads.graph.edges import CandidateSet, Edge
from sklearn_dpads.semantics.compile import ProgramModule, RootModel
from sklearn_dpads.semantics.modules import ProductionModule
from sklearn_dpads.semantics.neural import NeuralAtom, NeuralSeq

__all__ = ["register_distributed_serialization"]


def _module_types() -> list[type]:
    """The package's module classes, with every subclass defined so far.

    ``RootModel``'s subclasses include :class:`DerivationGraph`.
    """
    bases = [
        RootModel,
        ProgramModule,
        CandidateSet,
        Edge,
        ProductionModule,
        NeuralSeq,
        NeuralAtom,
    ]
    out, stack = [], list(bases)
    while stack:
        cls = stack.pop()
        if cls not in out and issubclass(cls, nn.Module):
            out.append(cls)
            stack.extend(cls.__subclasses__())
    return out


def _use_pickle(obj) -> None:
    """The ``dask`` family declines, so that ``distributed`` pickles ``obj`` whole.

    ``NotImplementedError`` is what the family raises for a type without a
    serializer: ``distributed.protocol.serialize`` then tries the next family,
    pickle.
    """
    raise NotImplementedError(
        f"{type(obj).__name__} is pickled whole, not serialised attribute by attribute."
    )


def register_distributed_serialization() -> bool:
    """Make ``distributed`` pickle the package's torch modules whole.

    Idempotent and cheap; does nothing until ``distributed`` has been imported
    (it is never imported here). Module classes defined after a call (custom
    productions) are covered through their registered base classes.

    Returns
    -------
    bool
        Whether ``distributed`` is loaded (and the serializers are registered).
    """
    protocol = sys.modules.get("distributed.protocol.serialize")
    dask_serialize = getattr(protocol, "dask_serialize", None)
    if dask_serialize is None:
        return False
    for cls in _module_types():
        # registering a class by name also replaces the lookup that distributed
        # may have cached for it (nn.Module's) before this call; registering
        # again only rewrites the same entry, so no registry is kept here
        dask_serialize.register(cls)(_use_pickle)
    return True


register_distributed_serialization()
