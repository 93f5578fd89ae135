"""Many small parameters trained as one contiguous buffer.

A derivation graph has hundreds of tiny parameter tensors (a weight and a
bias per affine leaf, one logit vector per edge). Per tensor, every optimiser
step pays for a gradient accumulation, an Adam update, a norm for clipping
and a zeroing; at this size that bookkeeping costs more than the arithmetic.

:class:`FlatParameters` moves the values of a list of parameters into one
buffer and their gradients into a second one, leaving every parameter a view
of its slice (the technique of "contiguous parameters" in mixed-precision
training). The modules keep their parameters and are unchanged to the code
that reads them, autograd still accumulates each parameter's gradient into
its slice, and the optimiser, the clipping and the zeroing see one tensor.
:meth:`FlatParameters.release` gives every parameter its own storage again.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

__all__ = ["FlatParameters"]


class FlatParameters:
    """Contiguous value and gradient buffers behind a list of parameters.

    Parameters are grouped by dtype and device; each group gets one buffer.

    Parameters
    ----------
    params : iterable of torch.nn.Parameter
        The parameters (duplicates are taken once).

    Attributes
    ----------
    params : list of torch.nn.Parameter
        The parameters, in order of first appearance.
    buffers : list of torch.nn.Parameter
        One flat parameter per (dtype, device) group; its ``grad`` holds the
        gradients of the group's parameters. Give these to the optimiser.
    """

    def __init__(self, params: Iterable[nn.Parameter]) -> None:
        seen: set[int] = set()
        self.params = [p for p in params if not (id(p) in seen or seen.add(id(p)))]
        groups: dict[tuple, list[nn.Parameter]] = {}
        for p in self.params:
            groups.setdefault((p.dtype, p.device), []).append(p)
        self.buffers: list[nn.Parameter] = []
        with torch.no_grad():
            for group in groups.values():
                values = torch.cat([p.detach().reshape(-1) for p in group])
                flat = nn.Parameter(values)
                flat.grad = torch.zeros_like(values)
                offset = 0
                for p in group:
                    n = p.numel()
                    p.data = values[offset : offset + n].view_as(p)
                    p.grad = flat.grad[offset : offset + n].view_as(p)
                    offset += n
                self.buffers.append(flat)

    def zero_grad(self) -> None:
        """Zero every gradient (one operation per buffer)."""
        for flat in self.buffers:
            flat.grad.zero_()

    def release(self) -> None:
        """Give every parameter its own storage again, without a gradient.

        The buffers keep their last values but no longer back the parameters.
        """
        with torch.no_grad():
            for p in self.params:
                p.data = p.data.clone()
                p.grad = None
        for flat in self.buffers:
            flat.grad = None
