"""torch_threads: scoped thread counts, capped inside Dask and joblib workers."""

import sys
from types import SimpleNamespace

import joblib
import pytest
import torch

from sklearn_dpads.utils._torch import torch_threads, worker_thread_budget


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield before
    torch.set_num_threads(before)


def _fake_dask_worker(monkeypatch, nthreads):
    """A ``distributed`` whose ``get_worker`` finds a worker of ``nthreads``."""
    worker = SimpleNamespace(state=SimpleNamespace(nthreads=nthreads))
    fake = SimpleNamespace(get_worker=lambda: worker)
    monkeypatch.setitem(sys.modules, "distributed", fake)


def test_no_budget_outside_workers():
    assert worker_thread_budget() is None


def test_sets_and_restores_the_count(restore_threads):
    torch.set_num_threads(3)
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 3
    with torch_threads(None):
        assert torch.get_num_threads() == 3
    assert torch.get_num_threads() == 3


def test_restores_after_an_error(restore_threads):
    torch.set_num_threads(2)
    with pytest.raises(RuntimeError, match="boom"), torch_threads(1):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("n, expected", [(None, 2), (1, 1), (2, 2), (8, 2)], ids=str)
def test_capped_to_a_dask_workers_threads(monkeypatch, restore_threads, n, expected):
    _fake_dask_worker(monkeypatch, nthreads=2)
    assert worker_thread_budget() == 2
    torch.set_num_threads(4)  # more than the worker has
    with torch_threads(n):
        assert torch.get_num_threads() == expected
    assert torch.get_num_threads() == 4


def test_dask_outside_a_task_is_no_worker(monkeypatch):
    def no_worker():
        raise ValueError("No worker found")

    monkeypatch.setitem(
        sys.modules, "distributed", SimpleNamespace(get_worker=no_worker)
    )
    assert worker_thread_budget() is None


def test_capped_to_a_loky_workers_allotment():
    def probe(n):  # a local function: loky ships it by value
        import torch

        from sklearn_dpads.utils._torch import torch_threads, worker_thread_budget

        torch.set_num_threads(4)  # as if the worker's torch ignored its allotment
        with torch_threads(n):
            return worker_thread_budget(), torch.get_num_threads()

    with joblib.parallel_config(backend="loky", inner_max_num_threads=1):
        out = joblib.Parallel(n_jobs=2)(joblib.delayed(probe)(n) for n in (None, 3))
    assert out == [(1, 1), (1, 1)]
