"""Stratified splits and subsamples with fallbacks for tiny or rare classes."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

__all__ = ["split_indices", "subsample_indices"]


def _stratify(labels: np.ndarray | None) -> np.ndarray | None:
    """``labels`` when every class has two members (stratifiable), else None."""
    if labels is None:
        return None
    _, counts = np.unique(labels, return_counts=True)
    return labels if counts.min() >= 2 else None


def split_indices(
    n: int, labels: np.ndarray | None, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted indices of a (stratified when possible) two-way split.

    Parameters
    ----------
    n : int
        Number of samples.
    labels : ndarray of shape (n,) or None
        Labels to stratify by (None: no stratification).
    fraction : float
        Fraction of the samples in the second part.
    seed : int
        Random seed.

    Returns
    -------
    first, second : ndarray of int
        The two parts; both are all samples when ``n < 4`` or one part
        would be empty.
    """
    idx = np.arange(n)
    if n < 4:
        return idx, idx
    try:
        a, b = train_test_split(
            idx, test_size=fraction, stratify=_stratify(labels), random_state=seed
        )
    except ValueError:  # too few samples per class for this fraction
        a, b = train_test_split(idx, test_size=fraction, random_state=seed)
    if len(a) == 0 or len(b) == 0:
        return idx, idx
    return np.sort(a), np.sort(b)


def subsample_indices(
    n: int, m: int, labels: np.ndarray | None, seed: int
) -> np.ndarray:
    """Sorted indices of a (stratified when possible) subsample of ``m`` of ``n``.

    Parameters
    ----------
    n : int
        Number of samples.
    m : int
        Subsample size (``m < n``).
    labels : ndarray of shape (n,) or None
        Labels to stratify by.
    seed : int
        Random seed.

    Returns
    -------
    ndarray of int
        The kept indices.
    """
    keep, _ = train_test_split(
        np.arange(n), train_size=m, stratify=_stratify(labels), random_state=seed
    )
    return np.sort(keep)
