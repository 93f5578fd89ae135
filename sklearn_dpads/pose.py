"""Pose tracks to named features with units, for per-frame behaviour classifiers.

Pose estimation (DeepLabCut, SLEAP, LightningPose, ...) gives, for every
frame, the image position of a few keypoints (nose, tail base, ...) of every
tracked animal, and a confidence score per point. This module

* reads pose files through the `movement <https://movement.neuroinformatics.dev>`_
  library (:func:`read_poses`, the optional ``pose`` extra:
  ``pip install "sklearn-dpads[pose]"``), into movement's ``xarray`` Dataset;
* turns poses into per-frame features with names and units, such as
  ``"resident nose to intruder tail_base distance (mm)"``: distances between
  keypoints (of one animal or of two), speeds and angles, with the frame rate
  and a pixel-to-millimetre calibration (:class:`PoseFeatures`), after
  dropping points below a confidence threshold and filling, or keeping, the
  gaps of missing points;
* cuts per-recording features into fixed-length windows with the recording
  of each window, for grouped cross-validation (:func:`make_windows`).

Poses are movement Datasets or plain arrays of shape ``(n_frames,
n_individuals, n_keypoints, 2)`` (x, y) or ``(..., 3)`` (x, y, confidence),
the layout that :func:`poses_to_array` returns. Only :func:`read_poses`
needs movement, and it imports it when called: importing this module needs
numpy and scikit-learn only.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import Bunch
from sklearn.utils.validation import check_is_fitted

__all__ = ["PoseFeatures", "make_windows", "poses_to_array", "read_poses"]

SOURCE_SOFTWARE = ("DeepLabCut", "SLEAP", "LightningPose", "Anipose", "NWB")
_FILLS = ("linear", "ffill", "mask")
_INSTALL_HINT = (
    'pip install "sklearn-dpads[pose]" (with -c constraints-cpu.txt in a '
    "checkout, see the installation page)"
)


# --------------------------------------------------------------- validation
def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _check_positive(value: Any, name: str, allow_none: bool = True) -> float | None:
    if value is None and allow_none:
        return None
    if not _is_real(value) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}.")
    return float(value)


def _check_names(names: Any, name: str, size: int, where: str) -> tuple[str, ...]:
    if isinstance(names, str) or not isinstance(names, Sequence | np.ndarray):
        raise ValueError(f"{name} must be a list of strings, got {names!r}.")
    out = tuple(names)
    if not all(isinstance(n, str) for n in out):
        raise ValueError(f"{name} must be a list of strings, got {list(out)!r}.")
    if len(out) != size:
        raise ValueError(
            f"{name} has {len(out)} names but {where} has {size} "
            f"{name.removesuffix('_names')}s."
        )
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must be unique, got {list(out)!r}.")
    return out


# ------------------------------------------------------------- recordings
class _Recording:
    """One recording: positions, optional confidence, names and frame rate."""

    def __init__(self, position, confidence, individuals, keypoints, fps):
        self.position = position  # (T, I, K, 2) float64, a new array
        self.confidence = confidence  # (T, I, K) float64 or None
        self.individuals = individuals  # tuple of str
        self.keypoints = keypoints  # tuple of str
        self.fps = fps  # float or None


def _is_dataset(obj: Any) -> bool:
    return hasattr(obj, "data_vars") and hasattr(obj, "attrs")


def _from_dataset(ds: Any, where: str) -> _Recording:
    if "position" not in ds.data_vars:
        raise ValueError(
            f"{where} is a Dataset without a 'position' variable; pass a movement "
            "poses Dataset (as read_poses returns)."
        )
    position = ds["position"]
    needed = {"time", "space", "keypoints"}
    if not needed <= set(position.dims):
        raise ValueError(
            f"{where}: 'position' must have the dimensions time, space, keypoints "
            f"(and individuals), got {position.dims}."
        )
    if "individuals" not in position.dims:
        position = position.expand_dims("individuals", axis=-1)
    space = (
        [str(s) for s in position["space"].values] if "space" in position.coords else []
    )
    if position.sizes["space"] != 2:
        raise ValueError(
            f"{where} has {position.sizes['space']} spatial dimensions "
            f"{space}; PoseFeatures handles 2-D poses (x, y) only."
        )
    pos = np.array(
        position.transpose("time", "individuals", "keypoints", "space").values,
        dtype=np.float64,
        order="C",
    )
    conf = None
    if "confidence" in ds.data_vars:
        c = ds["confidence"]
        if "individuals" not in c.dims:
            c = c.expand_dims("individuals", axis=-1)
        conf = np.array(
            c.transpose("time", "individuals", "keypoints").values,
            dtype=np.float64,
            order="C",
        )
        if np.isnan(conf).all():
            conf = None  # movement's "no scores"
    if "individuals" in position.coords:
        individuals = tuple(str(v) for v in position["individuals"].values)
    else:
        individuals = ("id_0",)
    keypoints = tuple(str(v) for v in position["keypoints"].values)
    fps = ds.attrs.get("fps")
    fps = float(fps) if _is_real(fps) and np.isfinite(fps) and fps > 0 else None
    return _Recording(pos, conf, individuals, keypoints, fps)


def _from_array(arr: Any, where: str, individuals: Any, keypoints: Any) -> _Recording:
    try:
        a = np.array(arr, dtype=np.float64)  # a copy: the input is never modified
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{where} could not be read as a numeric array: {exc}"
        ) from None
    if a.ndim != 4 or a.shape[-1] not in (2, 3):
        raise ValueError(
            f"{where} must have shape (n_frames, n_individuals, n_keypoints, 2) "
            f"(x, y) or (..., 3) (x, y, confidence), got shape {a.shape}."
        )
    if 0 in a.shape:
        raise ValueError(f"{where} is empty (shape {a.shape}).")
    if np.isinf(a).any():
        raise ValueError(f"{where} contains infinity; missing points must be NaN.")
    _, n_ind, n_kp, _ = a.shape
    ind = (
        tuple(f"id_{i}" for i in range(n_ind))
        if individuals is None
        else _check_names(individuals, "individual_names", n_ind, where)
    )
    kp = (
        tuple(f"keypoint_{k}" for k in range(n_kp))
        if keypoints is None
        else _check_names(keypoints, "keypoint_names", n_kp, where)
    )
    conf = a[..., 2].copy() if a.shape[-1] == 3 else None
    return _Recording(a[..., :2].copy(), conf, ind, kp, None)


def _recordings(
    X: Any, individuals: Any, keypoints: Any
) -> tuple[list[_Recording], str]:
    """The recordings of ``X`` and its layout: ``"one"``, ``"list"`` or ``"stacked"``."""
    if _is_dataset(X):
        return [_from_dataset(X, "X")], "one"
    if isinstance(X, list | tuple):
        if len(X) == 0:
            raise ValueError("X is an empty list; pass at least one recording.")
        if all(_is_dataset(r) or np.ndim(r) == 4 for r in X):
            out = [
                _from_dataset(r, f"Recording {i} of X")
                if _is_dataset(r)
                else _from_array(r, f"Recording {i} of X", individuals, keypoints)
                for i, r in enumerate(X)
            ]
            return out, "list"
    ndim = np.ndim(X) if not isinstance(X, list | tuple) else None
    if ndim is None:
        try:
            ndim = np.asarray(X, dtype=np.float64).ndim
        except (TypeError, ValueError) as exc:
            raise ValueError(
                "X must be a movement Dataset, an array of shape (n_frames, "
                "n_individuals, n_keypoints, 2 or 3), a 5-D array of such "
                f"recordings, or a list of them; it could not be read: {exc}"
            ) from None
    if ndim == 5:
        arr = np.asarray(X)
        if arr.shape[0] == 0:
            raise ValueError(f"X holds no recording (shape {arr.shape}).")
        return [
            _from_array(r, f"Recording {i} of X", individuals, keypoints)
            for i, r in enumerate(arr)
        ], "stacked"
    return [_from_array(X, "X", individuals, keypoints)], "one"


# ------------------------------------------------------------------ points
def _check_point(point: Any, where: str) -> tuple[str, str]:
    if (
        isinstance(point, str)
        or not isinstance(point, Sequence)
        or len(point) != 2
        or not all(isinstance(p, str) for p in point)
    ):
        raise ValueError(
            f"{where} must be a point (individual, keypoint), a pair of strings, "
            f"got {point!r}."
        )
    return (point[0], point[1])


def _check_known(point: tuple[str, str], rec: _Recording, where: str) -> None:
    ind, kp = point
    if ind not in rec.individuals:
        raise ValueError(
            f"{where}: unknown individual {ind!r}; the poses have {list(rec.individuals)}."
        )
    if kp not in rec.keypoints:
        raise ValueError(
            f"{where}: unknown keypoint {kp!r}; the poses have {list(rec.keypoints)}."
        )


def _points_spec(spec: Any, name: str, size: int) -> list[tuple]:
    """``spec`` as a list of tuples of ``size`` points (size 1: bare points)."""
    if isinstance(spec, str) or not isinstance(spec, Sequence):
        raise ValueError(
            f"{name} must be None, 'all' or a list, got {spec!r}."
            if name != "angles"
            else f"angles must be None or a list of (point, vertex, point), got {spec!r}."
        )
    out = []
    for j, item in enumerate(spec):
        where = f"{name}[{j}]"
        if size == 1:
            out.append((_check_point(item, where),))
            continue
        if isinstance(item, str) or not isinstance(item, Sequence) or len(item) != size:
            raise ValueError(
                f"{where} must be {size} points (individual, keypoint), got {item!r}."
            )
        pts = tuple(_check_point(p, f"{where}[{k}]") for k, p in enumerate(item))
        if len(set(pts)) != size:
            raise ValueError(f"{where} repeats a point: {item!r}.")
        out.append(pts)
    return out


# ------------------------------------------------------------------- gaps
def _nan_runs(missing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, stops)`` of the runs of True in the 1-D bool ``missing``."""
    padded = np.r_[False, missing, False].astype(np.int8)
    d = np.diff(padded)
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def _fill_series(v: np.ndarray, how: str, max_gap: int | None) -> None:
    """Fill, in place, the NaN runs of the 1-D ``v`` (``how`` linear or ffill)."""
    missing = np.isnan(v)
    if not missing.any() or missing.all():
        return
    T = len(v)
    starts, stops = _nan_runs(missing)
    short = np.ones(len(starts), bool) if max_gap is None else stops - starts <= max_gap
    if how == "linear":
        keep = short & (starts > 0) & (stops < T)  # interior gaps only
        if keep.any():
            idx = np.arange(T)
            interp = np.interp(idx, idx[~missing], v[~missing])
            for s, e in zip(starts[keep], stops[keep]):
                v[s:e] = interp[s:e]
    else:  # ffill: the last seen value, also at the end; not before the first
        for s, e in zip(starts[short & (starts > 0)], stops[short & (starts > 0)]):
            v[s:e] = v[s - 1]


def _fill_gaps(pos: np.ndarray, how: str, max_gap: int | None) -> None:
    """Fill, in place, the gaps of every point of ``pos`` (T, I, K, 2)."""
    if how == "mask":
        return
    T = pos.shape[0]
    # columns are (individual, keypoint, coordinate); reshape copies when pos
    # is not C-contiguous, so write the result back
    flat = pos.reshape(T, -1)
    for j in np.flatnonzero(np.isnan(flat).any(axis=0)):
        _fill_series(flat[:, j], how, max_gap)
    pos[...] = flat.reshape(pos.shape)


# -------------------------------------------------------------- estimator
class PoseFeatures(TransformerMixin, BaseEstimator):
    """Per-frame features of pose tracks: distances, speeds and angles, with units.

    Every output feature is a function of a few tracked points, a point
    being an ``(individual, keypoint)`` pair such as ``("resident",
    "nose")``:

    * a **distance** between two points (of one animal, such as the body
      length nose to tail base, or of two, such as the resident's nose to the
      intruder's tail base), in millimetres when ``pixels_per_mm`` is given,
      else in pixels;
    * the **speed** of a point, the length of its frame-to-frame velocity
      (central differences), in mm/s (or px/s) when the frame rate is known,
      else per frame;
    * an **angle** at a vertex point between the directions to two other
      points, in degrees in [0, 180] (180: the three points are aligned with
      the vertex in the middle).

    Before the features are computed, points whose confidence is below
    ``confidence_threshold`` become missing (NaN), a point with one missing
    coordinate becomes missing, and the gaps (runs of missing frames) of
    every point are filled by linear interpolation or forward fill when
    they are at most ``max_gap`` frames long, or left missing (``fill="mask"``).
    Features of missing points are NaN (or ``fill_value``).

    Parameters
    ----------
    distances : "all", list of (point, point) or None, default="all"
        The distances computed, each between two points ``(individual,
        keypoint)``; ``"all"`` every pair of distinct points of the poses
        seen in ``fit``; None none.
    speeds : "all", list of point or None, default="all"
        The points whose speed is computed; ``"all"`` every point; None none.
    angles : list of (point, vertex, point) or None, default=None
        The angles computed, each at ``vertex`` between the directions to
        the two other points.
    frame_rate : float or None, default=None
        Frames per second, for speeds per second. None: the ``fps``
        attribute of movement Datasets when they have one (the same in
        every recording), else speeds are per frame.
    pixels_per_mm : float or None, default=None
        Calibration: image pixels per millimetre (positions are divided by
        it). None: features stay in pixels.
    confidence_threshold : float or None, default=None
        Points with a lower confidence (likelihood, score) become missing
        before the gaps are filled. Needs confidence scores (the third value
        of the last axis, or movement's ``confidence`` variable). NaN
        scores are kept.
    fill : {"linear", "ffill", "mask"}, default="linear"
        How gaps of missing points are filled: linear interpolation between
        the last point before and the first point after the gap (gaps at
        the start or end of a recording stay missing), forward fill with the
        last point seen (gaps at the start stay missing), or not at all.
    max_gap : int or None, default=10
        The longest gap filled, in frames; longer gaps stay missing entirely.
        None fills every gap.
    fill_value : float or None, default=None
        The value of features that are still missing after filling (a
        missing point, a speed of a one-frame recording). None leaves them
        NaN. :class:`~sklearn_dpads.ProgramSynthesisClassifier` accepts NaN
        only as the trailing padding of a recording, so fill, crop or drop
        the frames with missing features before fitting it.
    individual_names : list of str or None, default=None
        Names of the individuals of array input (axis 1); None names them
        ``id_0``, ``id_1``, ... A movement Dataset carries its own names.
    keypoint_names : list of str or None, default=None
        Names of the keypoints of array input (axis 2); None names them
        ``keypoint_0``, ``keypoint_1``, ...

    Attributes
    ----------
    individual_names_ : list of str
        The individuals of the first recording seen in ``fit``.
    keypoint_names_ : list of str
        Its keypoints.
    frame_rate_ : float or None
        The frame rate used for speeds (None: per frame).
    feature_specs_ : list of tuple
        ``(kind, points)`` of every output feature, in order: kind is
        ``"distance"``, ``"speed"`` or ``"angle"`` and points the tuple of
        its ``(individual, keypoint)`` points (for an angle, the vertex is
        the middle one).
    feature_units_ : ndarray of str of shape (n_features_out,)
        The unit of every feature: ``"mm"``, ``"px"``, ``"mm/s"``,
        ``"px/frame"``, ``"deg"``, ...
    feature_groups_ : dict of str to list of int
        The output features by kind and unit, such as ``{"distance (mm)":
        [0, 1], "speed (mm/s)": [2], "angle (deg)": [3]}``: pass it as
        ``ProgramSynthesisClassifier(feature_groups=...)`` to search
        programs over these groups, and ``get_feature_names_out()`` as
        ``feature_names``.

    See Also
    --------
    read_poses : Read a pose file into a movement Dataset.
    make_windows : Cut per-recording features into windows.

    Notes
    -----
    ``transform`` returns the features in the layout of its input: one
    recording (a Dataset or a 4-D array) gives an array of shape
    ``(n_frames, n_features_out)``; a list of recordings a list of such
    arrays (what :class:`~sklearn_dpads.ProgramSynthesisClassifier` takes for
    recordings of different lengths); a 5-D array ``(n_recordings, n_frames,
    n_individuals, n_keypoints, 2 or 3)`` an array ``(n_recordings,
    n_frames, n_features_out)``. Points are found by name in every
    recording, so Datasets may order individuals and keypoints differently
    (as NWB files do). The input is never modified.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dpads.pose import PoseFeatures
    >>> poses = np.zeros((4, 2, 2, 2))  # 4 frames, 2 mice, 2 keypoints, (x, y)
    >>> poses[:, 1, :, 0] = 20.0  # the second mouse is 20 px to the right
    >>> features = PoseFeatures(
    ...     distances=[(("resident", "nose"), ("intruder", "nose"))],
    ...     speeds=None,
    ...     pixels_per_mm=2.0,
    ...     individual_names=["resident", "intruder"],
    ...     keypoint_names=["nose", "tail"],
    ... )
    >>> features.fit_transform(poses)[:, 0]
    array([10., 10., 10., 10.])
    >>> features.get_feature_names_out().tolist()
    ['resident nose to intruder nose distance (mm)']
    >>> features.feature_groups_
    {'distance (mm)': [0]}
    """

    def __init__(
        self,
        *,
        distances="all",
        speeds="all",
        angles=None,
        frame_rate=None,
        pixels_per_mm=None,
        confidence_threshold=None,
        fill="linear",
        max_gap=10,
        fill_value=None,
        individual_names=None,
        keypoint_names=None,
    ):
        self.distances = distances
        self.speeds = speeds
        self.angles = angles
        self.frame_rate = frame_rate
        self.pixels_per_mm = pixels_per_mm
        self.confidence_threshold = confidence_threshold
        self.fill = fill
        self.max_gap = max_gap
        self.fill_value = fill_value
        self.individual_names = individual_names
        self.keypoint_names = keypoint_names

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.allow_nan = True
        tags.requires_fit = True
        return tags

    # ------------------------------------------------------------ params
    def _check_params(self) -> None:
        _check_positive(self.frame_rate, "frame_rate")
        _check_positive(self.pixels_per_mm, "pixels_per_mm")
        thr = self.confidence_threshold
        if thr is not None and (not _is_real(thr) or not np.isfinite(thr)):
            raise ValueError(
                f"confidence_threshold must be a number or None, got {thr!r}."
            )
        if self.fill not in _FILLS:
            raise ValueError(f"fill must be one of {list(_FILLS)}, got {self.fill!r}.")
        gap = self.max_gap
        if gap is not None and (
            not isinstance(gap, numbers.Integral)
            or isinstance(gap, bool | np.bool_)
            or gap < 1
        ):
            raise ValueError(f"max_gap must be an integer >= 1 or None, got {gap!r}.")
        fv = self.fill_value
        if fv is not None and (not _is_real(fv) or not np.isfinite(fv)):
            raise ValueError(f"fill_value must be a finite number or None, got {fv!r}.")

    def _resolve_frame_rate(self, recordings: list[_Recording]) -> float | None:
        explicit = _check_positive(self.frame_rate, "frame_rate")
        rates = {r.fps for r in recordings if r.fps is not None}
        if explicit is None and len(rates) > 1:
            raise ValueError(
                f"The recordings have different frame rates {sorted(rates)}; "
                "resample them, or fit one PoseFeatures per frame rate."
            )
        return explicit if explicit is not None else (rates.pop() if rates else None)

    def _check_frame_rate(self, recordings: list[_Recording]) -> None:
        for i, r in enumerate(recordings):
            if (
                r.fps is not None
                and self.frame_rate_ is not None
                and not np.isclose(r.fps, self.frame_rate_)
            ):
                raise ValueError(
                    f"Recording {i} has a frame rate of {r.fps:g} fps but the "
                    f"features use {self.frame_rate_:g} fps (frame_rate)."
                )

    def _specs(self, rec: _Recording) -> list[tuple[str, tuple]]:
        points = [(i, k) for i in rec.individuals for k in rec.keypoints]
        specs: list[tuple[str, tuple]] = []
        for kind, spec, size in (
            ("distance", self.distances, 2),
            ("speed", self.speeds, 1),
            ("angle", self.angles, 3),
        ):
            if spec is None:
                continue
            if isinstance(spec, str) and spec == "all" and kind != "angle":
                items = (
                    list(itertools.combinations(points, 2))
                    if kind == "distance"
                    else [(p,) for p in points]
                )
            else:
                items = _points_spec(spec, kind + "s", size)
                for j, pts in enumerate(items):
                    for p in pts:
                        _check_known(p, rec, f"{kind}s[{j}]")
            specs += [(kind, pts) for pts in items]
        if not specs:
            raise ValueError(
                "No features to compute: give distances, speeds or angles "
                "(or poses with at least two points for distances='all')."
            )
        return specs

    # --------------------------------------------------------------- fit
    def fit(self, X: Any, y: Any = None) -> PoseFeatures:
        """Check the parameters and the poses, and name the output features.

        Parameters
        ----------
        X : movement Dataset, array-like or list
            Poses: one recording (a movement poses Dataset, or an array of
            shape ``(n_frames, n_individuals, n_keypoints, 2)`` with x, y or
            ``(..., 3)`` with x, y, confidence), a 5-D array of recordings of
            one length, or a list of recordings.
        y : None
            Ignored.

        Returns
        -------
        self : PoseFeatures
            The fitted transformer.

        Raises
        ------
        ValueError
            If a parameter is invalid, the poses have a wrong shape or
            names, a point names an unknown individual or keypoint, or no
            feature is requested.
        """
        self._check_params()
        recordings, _ = _recordings(X, self.individual_names, self.keypoint_names)
        first = recordings[0]
        self.individual_names_ = list(first.individuals)
        self.keypoint_names_ = list(first.keypoints)
        self.frame_rate_ = self._resolve_frame_rate(recordings)
        self._check_frame_rate(recordings)
        self.feature_specs_ = self._specs(first)
        if self.confidence_threshold is not None:
            self._check_confidence(recordings)
        names, units, groups = [], [], {}
        for j, (kind, pts) in enumerate(self.feature_specs_):
            unit = self._unit(kind)
            names.append(f"{self._describe(kind, pts)} ({unit})")
            units.append(unit)
            groups.setdefault(f"{kind} ({unit})", []).append(j)
        self._names_out = np.asarray(names, dtype=object)
        self.feature_units_ = np.asarray(units, dtype=str)
        self.feature_groups_ = groups
        return self

    def _unit(self, kind: str) -> str:
        length = "mm" if self.pixels_per_mm is not None else "px"
        if kind == "distance":
            return length
        if kind == "speed":
            return f"{length}/s" if self.frame_rate_ is not None else f"{length}/frame"
        return "deg"

    def _label(self, point: tuple[str, str]) -> str:
        return (
            point[1] if len(self.individual_names_) == 1 else f"{point[0]} {point[1]}"
        )

    def _describe(self, kind: str, pts: tuple) -> str:
        if kind == "speed":
            return f"{self._label(pts[0])} speed"
        if kind == "angle":
            p, v, q = (self._label(x) for x in pts)
            return f"angle at {v} between {p} and {q}"
        a, b = pts
        if len(self.individual_names_) == 1:
            return f"{a[1]}-to-{b[1]} distance"
        if a[0] == b[0]:
            return f"{a[0]} {a[1]}-to-{b[1]} distance"
        return f"{self._label(a)} to {self._label(b)} distance"

    def _check_confidence(self, recordings: list[_Recording]) -> None:
        for i, r in enumerate(recordings):
            if r.confidence is None:
                raise ValueError(
                    f"confidence_threshold is set but recording {i} has no "
                    "confidence scores (poses with a last axis of size 2, or a "
                    "Dataset without confidence); give (x, y, confidence) or "
                    "set confidence_threshold=None."
                )

    # --------------------------------------------------------- transform
    def transform(self, X: Any) -> np.ndarray | list[np.ndarray]:
        """Compute the features of every frame of every recording.

        Parameters
        ----------
        X : movement Dataset, array-like or list
            Poses, in any of the layouts that ``fit`` takes.

        Returns
        -------
        ndarray or list of ndarray
            The features, in the layout of ``X``: ``(n_frames, n_features_out)``
            for one recording, a list of such arrays for a list, ``(n_recordings,
            n_frames, n_features_out)`` for a 5-D array (see Notes of the class).

        Raises
        ------
        ValueError
            If the poses have a wrong shape, lack a point of the features, a
            frame rate that differs from ``frame_rate_``, or no confidence
            scores while ``confidence_threshold`` is set.
        """
        check_is_fitted(self, "feature_specs_")
        recordings, layout = _recordings(X, self.individual_names, self.keypoint_names)
        self._check_frame_rate(recordings)
        if self.confidence_threshold is not None:
            self._check_confidence(recordings)
        out = [self._features(r, i) for i, r in enumerate(recordings)]
        if layout == "one":
            return out[0]
        if layout == "stacked":
            return np.stack(out)
        return out

    def _features(self, rec: _Recording, i: int) -> np.ndarray:
        pos = rec.position  # already a private copy
        if self.confidence_threshold is not None:
            pos[rec.confidence < self.confidence_threshold] = np.nan
        pos[np.isnan(pos).any(axis=-1)] = np.nan
        _fill_gaps(pos, self.fill, self.max_gap)
        if self.pixels_per_mm is not None:
            pos /= self.pixels_per_mm
        T = pos.shape[0]
        ind = {n: j for j, n in enumerate(rec.individuals)}
        kp = {n: j for j, n in enumerate(rec.keypoints)}

        def xy(point: tuple[str, str]) -> np.ndarray:
            if point[0] not in ind or point[1] not in kp:
                raise ValueError(
                    f"Recording {i} has no point {point!r}: its individuals are "
                    f"{list(rec.individuals)} and its keypoints {list(rec.keypoints)}."
                )
            return pos[:, ind[point[0]], kp[point[1]]]

        cols = []
        for kind, pts in self.feature_specs_:
            if kind == "distance":
                cols.append(np.linalg.norm(xy(pts[0]) - xy(pts[1]), axis=-1))
            elif kind == "speed":
                if T < 2:
                    xy(pts[0])  # still check that the point exists
                    cols.append(np.full(T, np.nan))
                    continue
                v = np.gradient(xy(pts[0]), axis=0)
                cols.append(np.linalg.norm(v, axis=-1) * (self.frame_rate_ or 1.0))
            else:
                p, v, q = (xy(x) for x in pts)
                a, b = p - v, q - v
                cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
                dot = (a * b).sum(axis=-1)
                cols.append(np.degrees(np.arctan2(np.abs(cross), dot)))
        features = np.stack(cols, axis=1)
        if self.fill_value is not None:
            features[np.isnan(features)] = self.fill_value
        return features

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Get the names of the output features, with their units.

        Parameters
        ----------
        input_features : None
            Ignored: the input is poses, not named features.

        Returns
        -------
        ndarray of str objects of shape (n_features_out,)
            Such as ``"resident nose to intruder tail_base distance (mm)"``,
            ``"intruder centre speed (mm/s)"`` or ``"angle at resident nose
            between resident tail_base and intruder nose (deg)"`` (the
            individual is left out when there is only one).
        """
        check_is_fitted(self, "feature_specs_")
        return self._names_out.copy()


# -------------------------------------------------------------- windows
def _feature_recordings(X: Any, name: str) -> list[np.ndarray]:
    if isinstance(X, list | tuple):
        if len(X) == 0:
            raise ValueError(f"{name} is an empty list.")
        recs = [np.asarray(r) for r in X]
        if any(r.ndim != 2 for r in recs):
            raise ValueError(
                f"{name} must be a list of (n_frames, n_features) arrays, got "
                f"shapes {[r.shape for r in recs]}."
            )
        return recs
    arr = np.asarray(X)
    if arr.ndim == 2:
        return [arr]
    if arr.ndim == 3:
        return list(arr)
    raise ValueError(
        f"{name} must be one (n_frames, n_features) recording, a 3-D array of "
        f"recordings or a list of them, got an array of shape {arr.shape}."
    )


def make_windows(
    X: Any, y: Any = None, *, length: int, step: int | None = None
) -> Bunch:
    """Cut per-recording features (and labels) into windows of equal length.

    Windows of ``length`` frames start every ``step`` frames; when the
    windows do not reach the end of a recording, one more window ends at its
    last frame, so that every frame is in some window. ``groups`` gives the
    recording of every window: split with
    :class:`~sklearn.model_selection.GroupKFold` so that no recording has
    windows on both sides of a split.

    Parameters
    ----------
    X : array-like of shape (n_frames, n_features), 3-D array-like, or list of 2-D array-like
        Features of one recording, of recordings of one length, or of
        recordings of different lengths (as :class:`PoseFeatures` returns).
    y : array-like of shape (n_frames,), 2-D array-like, or list of 1-D array-like, default=None
        Per-frame labels in the same layout, or None.
    length : int
        Frames per window (>= 1); every recording must have at least this
        many.
    step : int or None, default=None
        Frames between the starts of consecutive windows (>= 1); None is
        ``length`` (windows that do not overlap, but the last one).

    Returns
    -------
    Bunch
        With ``X``, an array of shape ``(n_windows, length, n_features)``;
        ``y``, an array of shape ``(n_windows, length)`` (None without
        ``y``); ``groups``, the recording of every window, of shape
        ``(n_windows,)``; and ``starts``, its first frame in that recording.

    Raises
    ------
    ValueError
        If ``length`` or ``step`` is not a positive integer, a recording is
        shorter than ``length``, the recordings have different numbers of
        features, or ``y`` does not match ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dpads.pose import make_windows
    >>> w = make_windows([np.zeros((10, 3)), np.ones((7, 3))], length=4)
    >>> w.X.shape, w.groups.tolist(), w.starts.tolist()
    ((5, 4, 3), [0, 0, 0, 1, 1], [0, 4, 6, 0, 3])
    """
    for value, name in ((length, "length"), (step, "step")):
        if name == "step" and value is None:
            continue
        if (
            not isinstance(value, numbers.Integral)
            or isinstance(value, bool | np.bool_)
            or value < 1
        ):
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
    step = length if step is None else step
    recs = _feature_recordings(X, "X")
    if len({r.shape[1] for r in recs}) > 1:
        raise ValueError(
            f"The recordings have different numbers of features: "
            f"{[r.shape[1] for r in recs]}."
        )
    labels = None
    if y is not None:
        if isinstance(y, list | tuple) and all(np.ndim(v) == 1 for v in y):
            labels = [np.asarray(v) for v in y]
        else:
            arr = np.asarray(y)
            labels = [arr] if arr.ndim == 1 else list(arr) if arr.ndim == 2 else None
        if labels is None or len(labels) != len(recs):
            raise ValueError(
                f"y must have one 1-D label sequence per recording of X "
                f"({len(recs)}), in the layout of X."
            )
        for i, (r, lab) in enumerate(zip(recs, labels)):
            if len(lab) != len(r):
                raise ValueError(
                    f"Recording {i} has {len(r)} frames in X but {len(lab)} labels in y."
                )
    xs, ys, groups, starts = [], [], [], []
    for i, r in enumerate(recs):
        if len(r) < length:
            raise ValueError(
                f"Recording {i} has {len(r)} frames, shorter than length={length}."
            )
        s = list(range(0, len(r) - length + 1, step))
        if s[-1] + length < len(r):
            s.append(len(r) - length)
        for start in s:
            xs.append(r[start : start + length])
            if labels is not None:
                ys.append(labels[i][start : start + length])
        groups += [i] * len(s)
        starts += s
    return Bunch(
        X=np.stack(xs),
        y=np.stack(ys) if labels is not None else None,
        groups=np.asarray(groups, dtype=np.int64),
        starts=np.asarray(starts, dtype=np.int64),
    )


# ---------------------------------------------------------------- reading
def poses_to_array(ds: Any) -> tuple[np.ndarray, list[str], list[str]]:
    """The poses of a movement Dataset as an array, with the names of its axes.

    Parameters
    ----------
    ds : xarray.Dataset
        A movement poses Dataset (as :func:`read_poses` returns) of 2-D
        poses.

    Returns
    -------
    poses : ndarray of shape (n_frames, n_individuals, n_keypoints, 3)
        The x, y and confidence of every point (NaN where the Dataset has
        no confidence), a new array.
    individual_names : list of str
        The individuals, in the order of axis 1.
    keypoint_names : list of str
        The keypoints, in the order of axis 2.

    Raises
    ------
    ValueError
        If ``ds`` is not a movement poses Dataset of 2-D poses.
    """
    if not _is_dataset(ds):
        raise ValueError(
            f"ds must be a movement poses Dataset, got {type(ds).__name__}."
        )
    rec = _from_dataset(ds, "ds")
    conf = (
        rec.confidence
        if rec.confidence is not None
        else np.full(rec.position.shape[:3], np.nan)
    )
    return (
        np.concatenate([rec.position, conf[..., None]], axis=-1),
        list(rec.individuals),
        list(rec.keypoints),
    )


def _import_movement():
    try:
        import movement.io  # noqa: F401  (the optional dependency)
    except ImportError as exc:
        raise ImportError(
            f"read_poses needs the optional dependency movement: {_INSTALL_HINT}."
        ) from exc
    return movement.io


def _infer_software(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".slp":
        return "SLEAP"
    if suffix == ".nwb":
        return "NWB"
    if suffix == ".csv":
        return "DeepLabCut"
    if suffix in (".h5", ".hdf5"):
        import h5py  # a dependency of movement

        with h5py.File(path, "r") as f:
            # SLEAP analysis files hold "tracks"; DeepLabCut's a pandas table
            return "SLEAP" if "tracks" in f else "DeepLabCut"
    raise ValueError(
        f"Cannot tell the pose software of {path.name!r} from its suffix; pass "
        f"source_software, one of {list(SOURCE_SOFTWARE)}."
    )


def read_poses(
    path: str | Path, *, source_software: str | None = None, fps: float | None = None
) -> Any:
    """Read a pose file into a movement poses Dataset.

    A thin layer over :func:`movement.io.load_dataset`: it guesses the
    software that wrote the file from its suffix when ``source_software`` is
    None (``.slp``: SLEAP; ``.nwb``: NWB; ``.csv``: DeepLabCut, which
    LightningPose shares; ``.h5``: a SLEAP analysis file when it holds
    ``tracks``, else DeepLabCut). Needs the optional ``pose`` extra
    (``pip install "sklearn-dpads[pose]"``).

    Parameters
    ----------
    path : str or Path
        The pose file: DeepLabCut ``.h5`` or ``.csv``, SLEAP ``.slp`` or
        analysis ``.h5``, LightningPose ``.csv``, Anipose ``.csv`` or NWB
        ``.nwb`` (one individual per file).
    source_software : {"DeepLabCut", "SLEAP", "LightningPose", "Anipose", "NWB"} or None, default=None
        The software that wrote the file; None guesses it from the suffix.
    fps : float or None, default=None
        Frames per second of the video, stored as the Dataset's ``fps``
        attribute (and its time axis then in seconds); NWB files keep their
        own.

    Returns
    -------
    xarray.Dataset
        The movement poses Dataset: ``position`` (time, space, keypoints,
        individuals), ``confidence`` (time, keypoints, individuals) and the
        names of individuals and keypoints as coordinates. Pass it (or a
        list of them) to :class:`PoseFeatures`, or to :func:`poses_to_array`.

    Raises
    ------
    ImportError
        If movement is not installed.
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``source_software`` is unknown or cannot be guessed, or ``fps``
        is not a positive number (movement raises its own errors for files
        it cannot read).
    """
    path = Path(path)
    if source_software is not None and source_software not in SOURCE_SOFTWARE:
        raise ValueError(
            f"source_software must be one of {list(SOURCE_SOFTWARE)} or None, got "
            f"{source_software!r}."
        )
    fps = _check_positive(fps, "fps")
    mio = _import_movement()
    if not path.is_file():
        raise FileNotFoundError(f"No pose file at {str(path)!r}.")
    software = source_software or _infer_software(path)
    kwargs = {} if software == "NWB" else {"fps": fps}
    if hasattr(mio, "load_dataset"):
        return mio.load_dataset(path, source_software=software, **kwargs)
    from movement.io import load_poses  # movement < 0.14

    return load_poses.from_file(path, source_software=software, **kwargs)
