"""Tensor datasets and a fast batch iterator for skorch."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["SequenceDataset", "BatchIterator"]


class SequenceDataset(torch.utils.data.Dataset):
    """Padded sequences (or atoms) with lengths and optional labels.

    Parameters
    ----------
    x : ndarray
        ``(N, T, F)`` padded sequences or ``(N, F)`` atoms.
    lengths : ndarray of int, optional
        ``(N,)`` true lengths (sequence input only).
    y : ndarray of int, optional
        ``(N,)`` or ``(N, T)`` encoded labels; -1 marks padded frames.
    """

    def __init__(self, x, lengths=None, y=None):
        self.x = torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32)
        self.seq = self.x.dim() == 3
        if lengths is None:
            n = self.x.shape[0]
            lengths = np.full(n, self.x.shape[1] if self.seq else 1)
        self.lengths = torch.as_tensor(np.asarray(lengths), dtype=torch.long)
        self.y = None if y is None else torch.as_tensor(np.asarray(y), dtype=torch.long)

    def __len__(self) -> int:
        return self.x.shape[0]

    def batch(self, idx):
        """Return the rows ``idx`` as one batch, trimmed to its longest sequence.

        Parameters
        ----------
        idx : array-like of int
            Row indices.

        Returns
        -------
        X : dict of str to torch.Tensor
            ``{"x": ..., "lengths": ...}``, the keyword arguments of the
            module's ``forward``.
        y : torch.Tensor or None
            The labels of the rows, None for an unlabelled dataset.
        """
        idx = torch.as_tensor(idx, dtype=torch.long)
        lengths = self.lengths[idx]
        if self.seq:
            T = int(lengths.max()) if len(idx) else self.x.shape[1]
            x = self.x[idx, :T]
        else:
            x = self.x[idx]
            T = None
        y = None
        if self.y is not None:
            y = self.y[idx]
            if y.dim() == 2 and T is not None:
                y = y[:, :T]
        return {"x": x, "lengths": lengths}, y

    def __getitem__(self, i):
        return self.batch([i])

    def subset(self, idx) -> SequenceDataset:
        """Return a new dataset with the rows ``idx``.

        Parameters
        ----------
        idx : array-like of int
            Row indices.

        Returns
        -------
        SequenceDataset
            The selected rows, keeping this dataset's padded length.
        """
        idx = np.asarray(idx)
        out = SequenceDataset.__new__(SequenceDataset)
        out.x = self.x[idx]
        out.seq = self.seq
        out.lengths = self.lengths[idx]
        out.y = None if self.y is None else self.y[idx]
        return out


class BatchIterator:
    """Iterate over a :class:`SequenceDataset` in (optionally shuffled) batches.

    It slices tensors directly instead of collating one item at a time. With
    ``shuffle=True`` each pass uses a new permutation drawn from a generator
    seeded with ``seed`` (so training is reproducible and batches differ
    between epochs).

    Parameters
    ----------
    dataset : SequenceDataset
        The data.
    batch_size : int, default=128
        Rows per batch (at least 1).
    shuffle : bool, default=False
        Draw a new order of the rows for every pass.
    seed : int, default=0
        Seed of the shuffling.
    stream : int, default=0
        Independent order stream under the same seed (a net's architecture
        batches use another stream than its training batches).
    **kwargs : dict
        Ignored; accepts the ``DataLoader`` arguments skorch passes to its
        iterators.
    """

    def __init__(
        self, dataset, batch_size=128, shuffle=False, seed=0, stream=0, **kwargs
    ):
        if not isinstance(dataset, SequenceDataset):
            raise TypeError("BatchIterator needs a SequenceDataset.")
        self.dataset = dataset
        self.batch_size = max(1, int(batch_size))
        self.shuffle = shuffle
        self.seed = int(seed)
        self.stream = int(stream)
        self._epoch = 0

    def __len__(self) -> int:
        n = len(self.dataset)
        return (n + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            key = np.random.SeedSequence([self.seed, self.stream, self._epoch])
            g = torch.Generator().manual_seed(int(key.generate_state(1)[0]))
            order = torch.randperm(n, generator=g)
            self._epoch += 1
        else:
            order = torch.arange(n)
        for s in range(0, n, self.batch_size):
            yield self.dataset.batch(order[s : s + self.batch_size])
