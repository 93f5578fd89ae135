"""Torch helpers: device checking, scoped thread count and seeding."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

import torch

__all__ = ["check_device", "seeded_torch", "torch_threads", "worker_thread_budget"]


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


def _dask_worker_threads() -> int | None:
    """Threads of the Dask worker running this task, or None outside one."""
    distributed = sys.modules.get("distributed")  # never imported here
    get_worker = getattr(distributed, "get_worker", None)
    if get_worker is None:
        return None
    try:
        worker = get_worker()
    except ValueError:  # not in a worker's task
        return None
    # WorkerState.nthreads (distributed >= 2022.12), Worker.nthreads before
    n = getattr(getattr(worker, "state", worker), "nthreads", None)
    return int(n) if n else None


def _joblib_worker_threads() -> int | None:
    """Threads allotted to this joblib (loky) worker process, or None outside one.

    joblib starts loky workers with ``OMP_NUM_THREADS`` set to the parallel
    call's ``inner_max_num_threads`` (by default ``cpu_count() // n_jobs``).
    """
    loky = sys.modules.get("joblib.externals.loky.process_executor")
    if loky is None or getattr(loky, "_CURRENT_DEPTH", 0) < 1:
        return None
    try:
        n = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        return None
    return n if n >= 1 else None


def worker_thread_budget() -> int | None:
    """The threads this process may use when it is a Dask or joblib worker.

    Inside a Dask worker's task: the worker's thread count
    (``distributed.get_worker().state.nthreads``). Inside a joblib loky
    worker process: its thread allotment (``inner_max_num_threads`` of
    :func:`joblib.parallel_config`, ``cpu_count() // n_jobs`` by default, passed
    to the worker as ``OMP_NUM_THREADS``). Neither ``distributed`` nor joblib is
    imported here.

    Returns
    -------
    int or None
        The thread budget, or None outside a worker (no cap).
    """
    n = _dask_worker_threads()
    return n if n is not None else _joblib_worker_threads()


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads, then restore the count.

    Program tensors are small, so one thread is usually fastest, and several
    threads spin badly when the cores are shared (parallel cross-validation,
    other processes). Inside a Dask worker or a joblib worker process the
    count is capped to that worker's threads (:func:`worker_thread_budget`),
    ``n=None`` included, so that workers never oversubscribe their cores.

    Parameters
    ----------
    n : int or None
        Thread count; None leaves torch's setting alone (outside a worker,
        or within a worker's budget).

    Yields
    ------
    None
        The previous thread count is restored afterwards.
    """
    budget = worker_thread_budget()
    if budget is not None:
        n = min(torch.get_num_threads() if n is None else int(n), budget)
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)
