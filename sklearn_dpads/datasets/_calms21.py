"""Loader for the CalMS21 files used in the benchmarks (numpy only, no torch)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = ["CALMS21_FEATURE_GROUPS", "load_calms21"]

#: Feature groups of the 18 CalMS21 task-1 features, as the NEAR authors named them.
CALMS21_FEATURE_GROUPS = {
    "res_angle_head_body": [0, 1],
    "axis_ratio": [2, 3],
    "speed": [4, 5],
    "acceleration": [6, 7],
    "tangential_velocity": [8, 9],
    "rel_angle_social": [10, 11],
    "angle_between": [12],
    "facing_angle": [13, 14],
    "overlap_bboxes": [15],
    "area_ellipse_ratio": [16],
    "min_res_nose_dist": [17],
}


def load_calms21(data_dir: str | os.PathLike, label: str = "investigation") -> Bunch:
    """Load CalMS21 sequences from a folder with ``X.npy`` and ``y_<label>.npy``.

    Parameters
    ----------
    data_dir : str or path
        Folder holding ``X.npy`` of shape (n, 13, 18) and the label files.
    label : str, default="investigation"
        Which label file to read (``y_<label>.npy``), e.g. ``"mount"``.

    Returns
    -------
    Bunch
        ``X`` (float32), ``y``, ``feature_groups`` (a copy of
        :data:`CALMS21_FEATURE_GROUPS`) and ``feature_names``.

    Raises
    ------
    FileNotFoundError
        If a file is missing.
    ValueError
        If the arrays do not fit together.
    """
    root = Path(data_dir)
    x_path, y_path = root / "X.npy", root / f"y_{label}.npy"
    for p in (x_path, y_path):
        if not p.is_file():
            raise FileNotFoundError(f"CalMS21 file not found: {p}")
    X = np.load(x_path).astype(np.float32, copy=False)
    y = np.load(y_path)
    if X.ndim != 3 or len(X) != len(y):
        raise ValueError(
            f"CalMS21 arrays do not fit: X {X.shape}, y {y.shape} (expected "
            "(n, T, F) and (n,))."
        )
    names = [""] * X.shape[2]
    for group, idx in CALMS21_FEATURE_GROUPS.items():
        for k, i in enumerate(idx):
            if i < len(names):
                names[i] = group if len(idx) == 1 else f"{group}_{k}"
    return Bunch(
        X=X,
        y=y,
        feature_groups={k: list(v) for k, v in CALMS21_FEATURE_GROUPS.items()},
        feature_names=names,
    )
