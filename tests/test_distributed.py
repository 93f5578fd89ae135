"""Fits on a real Dask cluster (two worker processes) equal the serial fits.

The cluster is a ``distributed.LocalCluster`` on this machine: no network is
needed. Worker processes pay torch's import once, so the cluster is shared by
the tests of this module.
"""

import concurrent.futures

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV

from sklearn_dpads import ProgramSynthesisClassifier
from sklearn_dpads.datasets import make_planted_sequences

distributed = pytest.importorskip("distributed")

FAST = dict(
    max_depth=2,
    search_epochs=1,
    prune_epochs=1,
    selection_epochs=1,
    program_epochs=2,
    finetune_epochs=5,
    max_selection_steps=3,
    random_state=0,
)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    )
    try:
        client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def data():
    d = make_planted_sequences(80, 8, 3, random_state=0)
    return d.X, d.y


def _on_dask(client, fn, timeout=120):
    """``fn()`` in the dask backend, with the cluster's task stream.

    A graph that does not survive the trip between workers makes the
    cluster retry forever; this fails the test instead of hanging it.
    """

    def run():
        with (
            parallel_config(backend="dask"),
            distributed.get_task_stream(client) as ts,
        ):
            return fn(), ts.data

    pool = concurrent.futures.ThreadPoolExecutor(1)
    try:
        return pool.submit(run).result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        pytest.fail(f"the fit on the Dask cluster took more than {timeout}s")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _ran(tasks, name):
    """Whether a task whose key names ``name`` is in the task stream."""
    return any(name in str(t["key"]) for t in tasks)


def test_grid_search_on_dask_equals_serial(client, data):
    X, y = data
    grid = {"penalty": [0.0, 0.05]}
    serial = GridSearchCV(ProgramSynthesisClassifier(**FAST), grid, cv=2, n_jobs=1)
    serial.fit(X, y)
    on_dask = GridSearchCV(ProgramSynthesisClassifier(**FAST), grid, cv=2, n_jobs=-1)
    _, tasks = _on_dask(client, lambda: on_dask.fit(X, y))
    np.testing.assert_array_equal(
        on_dask.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    assert on_dask.best_params_ == serial.best_params_
    assert str(on_dask.best_estimator_.program_) == str(serial.best_estimator_.program_)
    # the fits ran on the workers, and their selection steps (n_jobs=None in
    # the dask backend) fanned out to the cluster from there
    assert _ran(tasks, "fit_and_score")
    assert _ran(tasks, "_train_graph") and _ran(tasks, "train_program")


def test_one_fit_fans_out_on_dask_and_equals_serial(client, data):
    X, y = data
    serial = ProgramSynthesisClassifier(n_jobs=1, **FAST).fit(X, y)
    on_dask, tasks = _on_dask(
        client, lambda: ProgramSynthesisClassifier(n_jobs=-1, **FAST).fit(X, y)
    )
    assert _ran(tasks, "_train_graph") and _ran(tasks, "train_program")
    assert str(on_dask.program_) == str(serial.program_)
    np.testing.assert_array_equal(on_dask.predict(X), serial.predict(X))
    np.testing.assert_allclose(on_dask.predict_proba(X), serial.predict_proba(X))


def test_torch_threads_capped_in_workers(client, data):
    X, y = data

    def fit_and_probe(X, y, n_threads, params):
        import torch
        from distributed import get_worker

        seen = []
        hook = torch.nn.modules.module.register_module_forward_hook(
            lambda *args: seen.append(torch.get_num_threads())
        )
        before = torch.get_num_threads()
        # as if this worker's torch were set to more cores than it has
        torch.set_num_threads(4)
        try:
            ProgramSynthesisClassifier(n_threads=n_threads, **params).fit(X, y)
        finally:
            hook.remove()
            torch.set_num_threads(before)
        return get_worker().state.nthreads, min(seen), max(seen)

    params = dict(FAST, max_selection_steps=1)
    for n_threads in (None, 1, 4):
        nthreads, fewest, most = client.submit(
            fit_and_probe, X, y, n_threads, params, pure=False
        ).result(timeout=120)
        assert nthreads == 1
        assert 1 <= fewest <= most <= nthreads
