"""Torch helpers: scoped thread count."""

from __future__ import annotations

import contextlib

import torch

__all__ = ["torch_threads"]


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run the block with ``n`` torch intra-op threads, then restore the count.

    Program tensors are small, so one thread is usually fastest, and several
    threads spin badly when the cores are shared (parallel cross-validation,
    other processes). ``None`` leaves torch's setting alone.
    """
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)
