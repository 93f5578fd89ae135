"""PoseFeatures and make_windows on numpy poses (no optional dependency needed).

Reading pose files through movement is tested in ``test_pose_files.py``.
"""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sklearn_dpads.pose import PoseFeatures, make_windows, read_poses

NAMES = {
    "individual_names": ["resident", "intruder"],
    "keypoint_names": ["nose", "tail"],
}
R_NOSE, R_TAIL = ("resident", "nose"), ("resident", "tail")
I_NOSE, I_TAIL = ("intruder", "nose"), ("intruder", "tail")


def _poses(T=12, confidence=False, seed=0):
    """(T, 2 mice, 2 keypoints, 2 or 3) poses: a random walk of each point."""
    rng = np.random.default_rng(seed)
    pos = np.cumsum(rng.normal(size=(T, 2, 2, 2)), axis=0) + 50.0
    if confidence:
        conf = rng.uniform(0.5, 1.0, size=(T, 2, 2, 1))
        pos = np.concatenate([pos, conf], axis=-1)
    return pos


def _features(**kw):
    return PoseFeatures(**{**NAMES, **kw})


# ----------------------------------------------------------------- values
def test_distance_with_calibration_names_units_groups():
    poses = _poses()
    f = _features(
        distances=[(R_NOSE, I_TAIL), (R_NOSE, R_TAIL)], speeds=None, pixels_per_mm=4.0
    )
    out = f.fit_transform(poses)
    expected = np.linalg.norm(poses[:, 0, 0] - poses[:, 1, 1], axis=-1) / 4.0
    np.testing.assert_allclose(out[:, 0], expected)
    assert f.get_feature_names_out().tolist() == [
        "resident nose to intruder tail distance (mm)",
        "resident nose-to-tail distance (mm)",
    ]
    assert f.feature_units_.tolist() == ["mm", "mm"]
    assert f.feature_groups_ == {"distance (mm)": [0, 1]}
    assert f.feature_specs_ == [
        ("distance", (R_NOSE, I_TAIL)),
        ("distance", (R_NOSE, R_TAIL)),
    ]
    assert f.individual_names_ == ["resident", "intruder"]
    assert f.keypoint_names_ == ["nose", "tail"]


def test_speed_units_with_and_without_frame_rate():
    T = 6
    poses = np.zeros((T, 1, 1, 2))
    poses[:, 0, 0, 0] = 3.0 * np.arange(T)  # 3 px per frame along x
    per_frame = PoseFeatures(distances=None, speeds="all")
    np.testing.assert_allclose(per_frame.fit_transform(poses)[:, 0], 3.0)
    assert per_frame.get_feature_names_out().tolist() == ["keypoint_0 speed (px/frame)"]
    per_second = PoseFeatures(distances=None, frame_rate=30, pixels_per_mm=1.5)
    np.testing.assert_allclose(per_second.fit_transform(poses)[:, 0], 3.0 * 30 / 1.5)
    assert per_second.feature_units_.tolist() == ["mm/s"]
    assert per_second.feature_groups_ == {"speed (mm/s)": [0]}
    assert per_second.frame_rate_ == 30.0


def test_speed_of_a_one_frame_recording_is_missing():
    out = PoseFeatures(distances=None).fit_transform(np.zeros((1, 1, 1, 2)))
    assert out.shape == (1, 1) and np.isnan(out).all()
    filled = PoseFeatures(distances=None, fill_value=0.0).fit_transform(
        np.zeros((1, 1, 1, 2))
    )
    assert filled.tolist() == [[0.0]]


def test_angles():
    poses = np.zeros((2, 1, 3, 2))
    poses[:, 0, 1] = [1.0, 0.0]  # b on the x axis
    poses[0, 0, 2] = [0.0, 1.0]  # c on the y axis: a right angle at a
    poses[1, 0, 2] = [-1.0, 0.0]  # c opposite b: 180 degrees
    f = PoseFeatures(
        distances=None,
        speeds=None,
        angles=[(("m", "b"), ("m", "a"), ("m", "c"))],
        individual_names=["m"],
        keypoint_names=["a", "b", "c"],
    )
    np.testing.assert_allclose(f.fit_transform(poses)[:, 0], [90.0, 180.0])
    assert f.get_feature_names_out().tolist() == ["angle at a between b and c (deg)"]
    assert f.feature_groups_ == {"angle (deg)": [0]}


def test_all_distances_and_speeds_by_default():
    f = _features()
    out = f.fit_transform(_poses())
    # 4 points: 6 pairs, 4 speeds
    assert out.shape == (12, 10)
    assert f.feature_groups_ == {
        "distance (px)": list(range(6)),
        "speed (px/frame)": [6, 7, 8, 9],
    }
    names = f.get_feature_names_out().tolist()
    assert names[0] == "resident nose-to-tail distance (px)"
    assert names[1] == "resident nose to intruder nose distance (px)"
    assert names[6] == "resident nose speed (px/frame)"


def test_default_names_of_array_input():
    f = PoseFeatures(speeds=None).fit(np.zeros((3, 2, 1, 2)))
    assert f.individual_names_ == ["id_0", "id_1"]
    assert f.get_feature_names_out().tolist() == [
        "id_0 keypoint_0 to id_1 keypoint_0 distance (px)"
    ]


def test_feature_names_and_groups_fit_the_classifier():
    from sklearn_dpads import ProgramSynthesisClassifier

    poses = [_poses(T=20, seed=s) for s in range(8)]
    f = _features(speeds=[R_NOSE], distances=[(R_NOSE, I_TAIL)])
    X = f.fit_transform(poses)
    y = [(x[:, 0] < np.median(x[:, 0])).astype(int) for x in X]
    clf = ProgramSynthesisClassifier(
        feature_names=list(f.get_feature_names_out()),
        feature_groups=f.feature_groups_,
        max_depth=2,
        search_epochs=1,
        prune_epochs=1,
        program_epochs=1,
        finetune_epochs=2,
        grow_steps=0,
        max_selection_steps=1,
        random_state=0,
    ).fit(X, y)
    assert [p.shape for p in clf.predict(X[:2])] == [(20,), (20,)]


# -------------------------------------------------------------- missing data
def _one_point(values):
    """(T, 1, 1, 3) poses of one point moving along x, confidence 1."""
    v = np.asarray(values, dtype=float)
    poses = np.zeros((len(v), 1, 1, 3))
    poses[:, 0, 0, 0] = v
    poses[:, 0, 0, 2] = 1.0
    return poses


def _x_after_filling(poses, **kw):
    """The x coordinate after gap filling, read as the distance to a fixed point."""
    T = poses.shape[0]
    two = np.zeros((T, 1, 2, 3))
    two[:, :, 0] = poses[:, :, 0]
    two[:, :, 1, 2] = 1.0  # the second point stays at the origin
    f = PoseFeatures(distances="all", speeds=None, **kw)
    return f.fit_transform(two)[:, 0]


def test_linear_interpolation_fills_interior_gaps_up_to_max_gap():
    poses = _one_point([0, 1, np.nan, np.nan, 4, 5, np.nan, np.nan, np.nan, 9, np.nan])
    out = _x_after_filling(poses, fill="linear", max_gap=2)
    np.testing.assert_allclose(out[:6], [0, 1, 2, 3, 4, 5])
    assert np.isnan(out[6:9]).all()  # a gap of 3 frames stays missing entirely
    assert out[9] == 9 and np.isnan(out[10])  # a trailing gap is not extrapolated
    unlimited = _x_after_filling(poses, fill="linear", max_gap=None)
    np.testing.assert_allclose(unlimited[:10], np.arange(10))


def test_forward_fill_and_mask():
    poses = _one_point([np.nan, 1, np.nan, np.nan, 4, np.nan])
    ffill = _x_after_filling(poses, fill="ffill", max_gap=2)
    assert np.isnan(ffill[0])  # nothing to carry forward at the start
    np.testing.assert_allclose(ffill[1:], [1, 1, 1, 4, 4])
    masked = _x_after_filling(poses, fill="mask")
    np.testing.assert_array_equal(np.isnan(masked), np.isnan(poses[:, 0, 0, 0]))
    filled = _x_after_filling(poses, fill="mask", fill_value=-1.0)
    assert filled[0] == -1.0 and filled[1] == 1.0


def test_confidence_threshold_drops_points_before_filling():
    poses = _one_point([0, 1, 2, 3, 4])
    poses[2, 0, 0, 0] = 100.0  # a wrong detection ...
    poses[2, 0, 0, 2] = 0.1  # ... with a low confidence
    poses[3, 0, 0, 2] = np.nan  # NaN scores are kept
    np.testing.assert_allclose(
        _x_after_filling(poses, confidence_threshold=0.5), [0, 1, 2, 3, 4]
    )
    masked = _x_after_filling(poses, confidence_threshold=0.5, fill="mask")
    assert np.isnan(masked[2]) and masked[3] == 3
    assert _x_after_filling(poses, fill="mask")[2] == 100.0  # no threshold


def test_one_missing_coordinate_makes_the_point_missing():
    poses = _one_point([0, 1, 2])
    poses[1, 0, 0, 1] = np.nan  # y missing only
    assert np.isnan(_x_after_filling(poses, fill="mask")[1])


def test_input_is_never_modified():
    poses = _poses(confidence=True)
    poses[3, 0, 0, :2] = np.nan
    poses[5, 1, 1, 2] = 0.0
    before = poses.copy()
    f = _features(confidence_threshold=0.5, pixels_per_mm=2.0, fill="linear")
    f.fit_transform(poses)
    f.transform([poses, poses])
    np.testing.assert_array_equal(poses, before)


# ------------------------------------------------------------------- layouts
def test_layouts_follow_the_input():
    f = _features(speeds=None).fit(_poses())
    one = f.transform(_poses())
    assert one.shape == (12, 6)
    listed = f.transform([_poses(T=12), _poses(T=5)])
    assert isinstance(listed, list) and [x.shape for x in listed] == [(12, 6), (5, 6)]
    np.testing.assert_allclose(listed[0], one)
    stacked = f.transform(np.stack([_poses(), _poses(seed=1)]))
    assert stacked.shape == (2, 12, 6)
    np.testing.assert_allclose(stacked[0], one)
    nested = f.transform(_poses().tolist())  # nested lists of one recording
    np.testing.assert_allclose(nested, one)


def test_fit_transform_equals_fit_then_transform_and_clone():
    poses = _poses(confidence=True)
    f = _features(confidence_threshold=0.6, frame_rate=25)
    np.testing.assert_allclose(
        f.fit_transform(poses), clone(f).fit(poses).transform(poses)
    )
    assert clone(f).get_params() == f.get_params()


# -------------------------------------------------------------------- errors
def test_not_fitted():
    with pytest.raises(NotFittedError):
        PoseFeatures().transform(_poses())
    with pytest.raises(NotFittedError):
        PoseFeatures().get_feature_names_out()


@pytest.mark.parametrize(
    "params, match",
    [
        ({"distances": [(R_NOSE, ("intruder", "ear"))]}, "unknown keypoint 'ear'"),
        ({"distances": [(R_NOSE, ("cage", "tail"))]}, "unknown individual 'cage'"),
        ({"speeds": [("resident", "paw")]}, r"speeds\[0\]: unknown keypoint 'paw'"),
        ({"angles": [(R_NOSE, R_TAIL, ("x", "nose"))]}, "unknown individual 'x'"),
        ({"distances": [(R_NOSE, R_NOSE)]}, "repeats a point"),
        ({"distances": [(R_NOSE,)]}, r"distances\[0\] must be 2 points"),
        (
            {"distances": [("resident.nose", I_TAIL)]},
            r"must be a point \(individual, keypoint\)",
        ),
        ({"speeds": ["nose"]}, r"must be a point \(individual, keypoint\)"),
        ({"distances": "every"}, "distances must be None, 'all' or a list"),
        ({"angles": "all"}, "angles must be None or a list"),
        ({"distances": None, "speeds": None}, "No features to compute"),
        ({"frame_rate": 0}, "frame_rate must be a positive number"),
        ({"frame_rate": -30.0}, "frame_rate must be a positive number"),
        ({"frame_rate": "30"}, "frame_rate must be a positive number"),
        ({"frame_rate": True}, "frame_rate must be a positive number"),
        ({"frame_rate": float("nan")}, "frame_rate must be a positive number"),
        ({"pixels_per_mm": 0.0}, "pixels_per_mm must be a positive number"),
        ({"confidence_threshold": "high"}, "confidence_threshold must be a number"),
        (
            {"confidence_threshold": float("inf")},
            "confidence_threshold must be a number",
        ),
        ({"fill": "cubic"}, "fill must be one of"),
        ({"max_gap": 0}, "max_gap must be an integer >= 1"),
        ({"max_gap": 2.5}, "max_gap must be an integer >= 1"),
        ({"max_gap": True}, "max_gap must be an integer >= 1"),
        ({"fill_value": float("nan")}, "fill_value must be a finite number"),
        (
            {"keypoint_names": ["nose"]},
            "keypoint_names has 1 names but X has 2 keypoints",
        ),
        ({"individual_names": ["a", "a"]}, "individual_names must be unique"),
        (
            {"individual_names": "resident"},
            "individual_names must be a list of strings",
        ),
        ({"keypoint_names": [1, 2]}, "keypoint_names must be a list of strings"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        _features(**params).fit(_poses())


@pytest.mark.parametrize(
    "X, match",
    [
        (
            np.zeros((5, 2, 2)),
            r"must have shape \(n_frames, n_individuals, n_keypoints, 2\)",
        ),
        (
            np.zeros((5, 2, 2, 4)),
            r"or \(\.\.\., 3\) \(x, y, confidence\), got shape \(5, 2, 2, 4\)",
        ),
        (np.zeros((0, 2, 2, 2)), "is empty"),
        (np.full((3, 2, 2, 2), np.inf), "contains infinity"),
        ([], "X is an empty list"),
        (
            [np.zeros((3, 2, 2, 2)), np.zeros((3, 2, 2))],
            "could not be read|must have shape",
        ),
        (np.zeros((0, 3, 2, 2, 2)), "X holds no recording"),
        ("poses", "could not be read as a numeric array"),
        (
            [np.zeros((3, 2, 2, 2)), np.zeros((3, 2, 5, 2))],
            "keypoint_names has 2 names but Recording 1 of X has 5",
        ),
    ],
)
def test_bad_poses(X, match):
    with pytest.raises(ValueError, match=match):
        _features().fit(X)


def test_confidence_threshold_needs_scores():
    f = _features(confidence_threshold=0.5)
    with pytest.raises(ValueError, match="recording 0 has no confidence scores"):
        f.fit(_poses())
    f.fit(_poses(confidence=True))
    with pytest.raises(ValueError, match="recording 1 has no confidence scores"):
        f.transform([_poses(confidence=True), _poses()])


def test_transform_checks_the_layout_seen_in_fit():
    f = _features().fit(_poses())
    with pytest.raises(
        ValueError, match="keypoint_names has 2 names but X has 3 keypoints"
    ):
        f.transform(np.zeros((4, 2, 3, 2)))


# ------------------------------------------------------------------- windows
def test_make_windows_cover_every_frame_with_groups():
    X = [np.arange(20.0).reshape(10, 2), np.arange(14.0).reshape(7, 2)]
    y = [np.arange(10), np.arange(7)]
    w = make_windows(X, y, length=4)
    assert w.X.shape == (5, 4, 2) and w.y.shape == (5, 4)
    assert w.groups.tolist() == [0, 0, 0, 1, 1] and w.starts.tolist() == [0, 4, 6, 0, 3]
    for x, lab, g, s in zip(w.X, w.y, w.groups, w.starts):
        np.testing.assert_array_equal(x, X[g][s : s + 4])
        np.testing.assert_array_equal(lab, y[g][s : s + 4])
    overlapping = make_windows(X[0], length=4, step=2)
    assert overlapping.y is None and overlapping.starts.tolist() == [0, 2, 4, 6]
    assert overlapping.groups.tolist() == [0, 0, 0, 0]
    stacked = make_windows(np.stack([X[0], X[0]]), np.stack([y[0], y[0]]), length=5)
    assert stacked.groups.tolist() == [0, 0, 1, 1]


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"length": 0}, "length must be an integer >= 1"),
        ({"length": 2.0}, "length must be an integer >= 1"),
        ({"length": 2, "step": 0}, "step must be an integer >= 1"),
        ({"length": 11}, "Recording 0 has 10 frames, shorter than length=11"),
        (
            {"length": 2, "y": [np.zeros(10)] * 2},
            "one 1-D label sequence per recording",
        ),
        (
            {"length": 2, "y": [np.zeros(9)]},
            "Recording 0 has 10 frames in X but 9 labels",
        ),
        (
            {"length": 2, "y": np.zeros((1, 2, 3))},
            "one 1-D label sequence per recording",
        ),
    ],
)
def test_make_windows_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        make_windows([np.zeros((10, 2))], **kw)


@pytest.mark.parametrize(
    "X, match",
    [
        ([], "X is an empty list"),
        ([np.zeros((4, 2)), np.zeros(4)], r"list of \(n_frames, n_features\) arrays"),
        ([np.zeros((4, 2)), np.zeros((4, 3))], "different numbers of features"),
        (np.zeros(4), r"got an array of shape \(4,\)"),
    ],
)
def test_make_windows_bad_features(X, match):
    with pytest.raises(ValueError, match=match):
        make_windows(X, length=2)


# ------------------------------------------------------------ optional extra
def test_importing_the_module_needs_no_optional_dependency():
    code = (
        "import sys, sklearn_dpads.pose, sklearn_dpads.boris\n"
        "bad = [m for m in ('movement', 'xarray', 'sleap_io', 'h5py') "
        "if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_read_poses_without_movement(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "movement", None)
    monkeypatch.setitem(sys.modules, "movement.io", None)
    with pytest.raises(
        ImportError, match=r"needs the optional dependency movement.*\[pose\]"
    ):
        read_poses(tmp_path / "poses.h5")


def test_gaps_are_filled_whatever_the_memory_layout():
    poses = _one_point([0, np.nan, 2, 3])
    fortran = np.asfortranarray(np.concatenate([poses, np.zeros_like(poses)], axis=2))
    fortran[:, 0, 1, 2] = 1.0
    out = PoseFeatures(speeds=None).fit_transform(fortran)[:, 0]
    np.testing.assert_allclose(out, [0, 1, 2, 3])
