"""Torch helpers: device checking, scoped thread count and seeding."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

__all__ = ["check_device", "seeded_torch", "torch_threads"]


def check_device(device: str | torch.device) -> str:
    """The device as a string, checked to exist here.

    Parameters
    ----------
    device : str or torch.device
        ``"cpu"``, ``"cuda"``, ``"cuda:1"`` and so on.

    Returns
    -------
    str
        The device's name.

    Raises
    ------
    ValueError
        If the name is not a torch device, or CUDA is asked for and absent.
    """
    dev = str(device)
    try:
        d = torch.device(dev)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"Invalid device {device!r}: {exc}") from None
    if d.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available; "
            "use device='cpu'."
        )
    return dev


@contextlib.contextmanager
def seeded_torch(seed: int, device: str = "cpu") -> Iterator[None]:
    """Run the block with torch's generators seeded, then restore them.

    Parameters
    ----------
    seed : int
        Seed of the CPU generator (and of the CUDA ones for a CUDA device).
    device : str, default="cpu"
        The device the block computes on.

    Yields
    ------
    None
        The caller's generator states are restored afterwards.
    """
    devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        if devices:
            torch.cuda.manual_seed_all(seed)
        yield


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads, then restore the count.

    Program tensors are small, so one thread is usually fastest, and several
    threads spin badly when the cores are shared (parallel cross-validation,
    other processes).

    Parameters
    ----------
    n : int or None
        Thread count; None leaves torch's setting alone.

    Yields
    ------
    None
        The previous thread count is restored afterwards.
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
