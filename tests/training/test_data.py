"""Tests for sklearn_dpads.training.data (SequenceDataset, BatchIterator)."""

import numpy as np
import pytest
import torch

from sklearn_dpads.training.data import BatchIterator, SequenceDataset


def _seq_dataset(n=10, T=6, F=2, per_frame=False):
    rng = np.random.RandomState(0)
    x = rng.randn(n, T, F)
    x[:, 0, 0] = np.arange(n)  # row id
    lengths = rng.randint(1, T + 1, size=n)
    if per_frame:
        y = rng.randint(0, 2, size=(n, T))
        y[np.arange(T)[None, :] >= lengths[:, None]] = -1
    else:
        y = rng.randint(0, 2, size=n)
    return SequenceDataset(x, lengths, y), lengths


def _ids(X):
    x = X["x"]
    return (x[:, 0, 0] if x.dim() == 3 else x[:, 0]).round().long().tolist()


def test_dataset_types_and_defaults():
    ds, lengths = _seq_dataset()
    assert ds.seq and len(ds) == 10
    assert ds.x.dtype == torch.float32 and ds.lengths.dtype == torch.long
    assert ds.y.dtype == torch.long
    full = SequenceDataset(np.zeros((3, 4, 2)))
    assert full.lengths.tolist() == [4, 4, 4] and full.y is None
    atoms = SequenceDataset(np.zeros((3, 2)), y=[0, 1, 0])
    assert not atoms.seq and atoms.lengths.tolist() == [1, 1, 1]


@pytest.mark.parametrize("per_frame", [False, True])
def test_batch_trims_to_the_batch_max_length(per_frame):
    ds, lengths = _seq_dataset(per_frame=per_frame)
    for idx in ([0, 1, 2], [3], [9, 4, 7, 5], list(range(10))):
        X, y = ds.batch(np.array(idx))
        T = int(lengths[idx].max())
        assert X["x"].shape == (len(idx), T, 2)
        assert X["lengths"].tolist() == lengths[idx].tolist()
        assert _ids(X) == idx
        torch.testing.assert_close(X["x"], ds.x[idx, :T])
        if per_frame:
            assert y.shape == (len(idx), T)
            assert torch.equal(y, ds.y[idx, :T])
        else:
            assert y.shape == (len(idx),)


def test_batch_without_labels_and_atoms():
    ds = SequenceDataset(np.ones((4, 5, 2)), lengths=[2, 3, 1, 2])
    X, y = ds.batch([0, 3])
    assert y is None and X["x"].shape == (2, 2, 2)
    atoms = SequenceDataset(np.arange(8.0).reshape(4, 2), y=[0, 1, 1, 0])
    X, y = atoms.batch([2, 0])
    assert X["x"].shape == (2, 2) and y.tolist() == [1, 0]
    X, y = atoms[1]
    assert X["x"].shape == (1, 2) and y.tolist() == [1]


def test_subset():
    ds, lengths = _seq_dataset(per_frame=True)
    sub = ds.subset([4, 1])
    assert len(sub) == 2 and sub.seq
    assert sub.lengths.tolist() == lengths[[4, 1]].tolist()
    assert torch.equal(sub.y, ds.y[[4, 1]])
    assert _ids(sub.batch([0, 1])[0]) == [4, 1]


def test_batch_iterator_needs_a_sequence_dataset():
    with pytest.raises(TypeError, match=r"BatchIterator needs a SequenceDataset"):
        BatchIterator(torch.utils.data.TensorDataset(torch.zeros(3, 2)))


def _epoch(it):
    return [i for X, _ in it for i in _ids(X)]


def test_batch_iterator_without_shuffle():
    ds, _ = _seq_dataset()
    it = BatchIterator(ds, batch_size=4)
    assert len(it) == 3
    sizes = [len(_ids(X)) for X, _ in it]
    assert sizes == [4, 4, 2]
    assert _epoch(it) == list(range(10)) == _epoch(it)
    assert len(BatchIterator(ds, batch_size=0)) == 10


def test_batch_iterator_shuffles_per_epoch_and_deterministically():
    ds, _ = _seq_dataset(n=30)
    a = BatchIterator(ds, batch_size=7, shuffle=True, seed=3)
    b = BatchIterator(ds, batch_size=7, shuffle=True, seed=3)
    c = BatchIterator(ds, batch_size=7, shuffle=True, seed=4)
    ea = [_epoch(a) for _ in range(3)]
    eb = [_epoch(b) for _ in range(3)]
    ec = [_epoch(c) for _ in range(3)]
    for e in ea + ec:
        assert sorted(e) == list(range(30))  # every row once per epoch
    assert ea == eb  # deterministic given the seed
    assert ea[0] != ea[1] and ea[1] != ea[2]  # a new order each epoch
    assert ea != ec  # and another one for another seed
    assert ea[0] != list(range(30))


def test_batch_iterator_ignores_extra_kwargs():
    ds, _ = _seq_dataset()
    it = BatchIterator(ds, batch_size=5, collate_fn=None, num_workers=0)
    assert len(it) == 2
