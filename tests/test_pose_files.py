"""Reading pose files through movement (the optional ``pose`` extra).

Every file is written by the tests themselves, with movement's (and
sleap-io's) own writers, so nothing is downloaded. The whole module is
skipped when movement is not installed.
"""

import numpy as np
import pytest

movement = pytest.importorskip("movement")
load_poses = pytest.importorskip("movement.io.load_poses")
save_poses = pytest.importorskip("movement.io.save_poses")

from sklearn_dpads.pose import PoseFeatures, poses_to_array, read_poses  # noqa: E402

INDIVIDUALS = ("resident", "intruder")
KEYPOINTS = ("nose", "centre", "tail_base")


@pytest.fixture(autouse=True)
def _quiet_movement_logs():
    """movement logs (to stderr) through loguru; keep the test output clean."""
    try:
        from loguru import logger
    except ImportError:  # pragma: no cover - movement depends on loguru
        yield
        return
    logger.disable("movement")
    yield
    logger.enable("movement")


def _arrays(T=15, seed=0):
    """Positions (T, 2, 3, 2) in pixels, confidence (T, 2, 3), a few gaps."""
    rng = np.random.default_rng(seed)
    pos = np.cumsum(rng.normal(size=(T, 2, 3, 2)), axis=0) * 3 + 200.0
    conf = rng.uniform(0.3, 1.0, size=(T, 2, 3))
    pos[4, 0, 1] = np.nan  # resident centre missing in one frame
    conf[4, 0, 1] = np.nan
    return pos, conf


def _dataset(pos, conf, fps=30.0, source="DeepLabCut"):
    # movement's layout is (time, space, keypoints, individuals)
    return load_poses.from_numpy(
        position_array=pos.transpose(0, 3, 2, 1),
        confidence_array=conf.transpose(0, 2, 1),
        individual_names=list(INDIVIDUALS),
        keypoint_names=list(KEYPOINTS),
        fps=fps,
        source_software=source,
    )


def _write(kind, tmp_path, pos, conf):
    ds = _dataset(pos, conf)
    if kind == "dlc_h5":
        path = tmp_path / "poses.h5"
        save_poses.to_dlc_file(ds, path, split_individuals=False)
    elif kind == "dlc_csv":
        path = tmp_path / "poses.csv"
        save_poses.to_dlc_file(ds, path, split_individuals=False)
    elif kind == "sleap_h5":
        path = tmp_path / "poses.analysis.h5"
        save_poses.to_sleap_analysis_file(ds, path)
    elif kind == "slp":
        sio = pytest.importorskip("sleap_io")
        path = tmp_path / "poses.slp"
        skeleton = sio.Skeleton(list(KEYPOINTS))  # it converts the list in place
        video = sio.Video(filename=str(tmp_path / "video.mp4"))
        tracks = [sio.Track(name) for name in INDIVIDUALS]
        frames = []
        for t in range(pos.shape[0]):
            instances = [
                sio.PredictedInstance.from_numpy(
                    pos[t, i],
                    skeleton=skeleton,
                    point_scores=conf[t, i],
                    score=1.0,
                    track=tracks[i],
                )
                for i in range(len(INDIVIDUALS))
            ]
            frames.append(
                sio.LabeledFrame(video=video, frame_idx=t, instances=instances)
            )
        labels = sio.Labels(
            labeled_frames=frames, videos=[video], skeletons=[skeleton], tracks=tracks
        )
        sio.save_slp(labels, str(path))
    else:
        raise AssertionError(kind)
    return path


@pytest.mark.parametrize(
    "kind, software",
    [
        ("dlc_h5", "DeepLabCut"),
        ("dlc_csv", "DeepLabCut"),
        ("sleap_h5", "SLEAP"),
        ("slp", "SLEAP"),
    ],
)
def test_round_trip_through_pose_files(kind, software, tmp_path):
    pos, conf = _arrays()
    path = _write(kind, tmp_path, pos, conf)
    ds = read_poses(path, fps=30)  # the software is guessed from the file
    assert ds.attrs["source_software"] == software and ds.attrs["fps"] == 30
    same = read_poses(path, source_software=software, fps=30)
    np.testing.assert_array_equal(same["position"].values, ds["position"].values)

    arr, individuals, keypoints = poses_to_array(ds)
    assert individuals == list(INDIVIDUALS) and keypoints == list(KEYPOINTS)
    assert arr.shape == (15, 2, 3, 3)
    np.testing.assert_allclose(arr[..., :2], pos, atol=1e-4)  # SLEAP stores float32
    ok = ~np.isnan(conf)
    np.testing.assert_allclose(arr[..., 2][ok], conf[ok], atol=1e-5)

    # the Dataset and the plain array give the same features
    params = dict(
        angles=[
            (("resident", "tail_base"), ("resident", "nose"), ("intruder", "nose"))
        ],
        pixels_per_mm=2.0,
        confidence_threshold=0.4,
        fill="linear",
    )
    from_ds = PoseFeatures(**params).fit(ds)
    assert from_ds.frame_rate_ == 30.0  # read from the Dataset
    assert from_ds.get_feature_names_out()[0] == "resident nose-to-centre distance (mm)"
    from_arr = PoseFeatures(
        **params,
        frame_rate=30,
        individual_names=list(INDIVIDUALS),
        keypoint_names=list(KEYPOINTS),
    )
    np.testing.assert_allclose(
        from_ds.transform(ds),
        from_arr.fit_transform(np.concatenate([pos, conf[..., None]], -1)),
        atol=1e-3,
    )
    assert list(from_ds.feature_groups_) == [
        "distance (mm)",
        "speed (mm/s)",
        "angle (deg)",
    ]


def test_nwb_files_one_individual_each(tmp_path):
    pynwb = pytest.importorskip("pynwb")
    pos, conf = _arrays()
    nwb_files = save_poses.to_nwb_file(_dataset(pos, conf))
    paths = []
    for i, nwb in enumerate(nwb_files):
        paths.append(tmp_path / f"mouse{i}.nwb")
        with pynwb.NWBHDF5IO(paths[-1], "w") as io:
            io.write(nwb)
    ds = read_poses(paths[0])
    assert str(ds.attrs["source_file"]).endswith("mouse0.nwb")
    arr, individuals, keypoints = poses_to_array(ds)
    assert individuals == ["resident"] and sorted(keypoints) == sorted(KEYPOINTS)
    # NWB may order the keypoints differently: features find points by name
    f = PoseFeatures(
        distances=[(("resident", "nose"), ("resident", "tail_base"))], speeds=None
    )
    expected = np.linalg.norm(pos[:, 0, 0] - pos[:, 0, 2], axis=-1)
    np.testing.assert_allclose(f.fit_transform(ds)[:, 0], expected, atol=1e-4)
    assert f.get_feature_names_out().tolist() == ["nose-to-tail_base distance (px)"]


def test_datasets_are_not_modified_and_lists_work(tmp_path):
    pos, conf = _arrays()
    ds1, ds2 = _dataset(pos, conf), _dataset(pos[:8], conf[:8])
    before = ds1["position"].values.copy()
    f = PoseFeatures(confidence_threshold=0.9, pixels_per_mm=3.0)
    out = f.fit_transform([ds1, ds2])
    assert [x.shape for x in out] == [(15, 21), (8, 21)]
    np.testing.assert_array_equal(ds1["position"].values, before)


def test_frame_rates_must_agree():
    pos, conf = _arrays()
    ds30, ds25 = _dataset(pos, conf, fps=30), _dataset(pos, conf, fps=25)
    with pytest.raises(ValueError, match="different frame rates"):
        PoseFeatures().fit([ds30, ds25])
    with pytest.raises(
        ValueError,
        match="Recording 0 has a frame rate of 30 fps but the features use 25",
    ):
        PoseFeatures(frame_rate=25).fit(ds30)
    f = PoseFeatures().fit(ds30)
    with pytest.raises(ValueError, match="Recording 1 has a frame rate of 25 fps"):
        f.transform([ds30, ds25])


def test_a_point_missing_from_a_later_recording():
    pos, conf = _arrays()
    f = PoseFeatures(
        distances=[(("intruder", "nose"), ("resident", "nose"))], speeds=None
    )
    f.fit(_dataset(pos, conf))
    one_mouse = load_poses.from_numpy(
        pos[:, :1].transpose(0, 3, 2, 1),
        conf[:, :1].transpose(0, 2, 1),
        individual_names=["resident"],
        keypoint_names=list(KEYPOINTS),
    )
    with pytest.raises(
        ValueError, match=r"Recording 0 has no point \('intruder', 'nose'\)"
    ):
        f.transform(one_mouse)


def test_confidence_threshold_needs_the_confidence_variable():
    pos, _ = _arrays()
    no_scores = load_poses.from_numpy(
        pos.transpose(0, 3, 2, 1), individual_names=list(INDIVIDUALS)
    )
    with pytest.raises(ValueError, match="has no confidence scores"):
        PoseFeatures(confidence_threshold=0.5).fit(no_scores)
    arr, _, _ = poses_to_array(no_scores)
    assert np.isnan(arr[..., 2]).all()


def test_bad_datasets():
    pos, conf = _arrays()
    ds = _dataset(pos, conf)
    with pytest.raises(ValueError, match="without a 'position' variable"):
        PoseFeatures().fit(ds.drop_vars("position"))
    with pytest.raises(ValueError, match="without a 'position' variable"):
        poses_to_array(ds.drop_vars("position"))
    three_d = load_poses.from_numpy(np.zeros((4, 3, 2, 1)))
    with pytest.raises(ValueError, match="3 spatial dimensions"):
        PoseFeatures().fit(three_d)
    with pytest.raises(
        ValueError, match="ds must be a movement poses Dataset, got ndarray"
    ):
        poses_to_array(pos)
    renamed = ds.rename({"keypoints": "bodyparts"})
    with pytest.raises(
        ValueError, match="must have the dimensions time, space, keypoints"
    ):
        PoseFeatures().fit(renamed)


def test_read_poses_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No pose file at"):
        read_poses(tmp_path / "missing.h5")
    other = tmp_path / "poses.json"
    other.write_text("{}")
    with pytest.raises(
        ValueError, match="Cannot tell the pose software of 'poses.json'"
    ):
        read_poses(other)
    with pytest.raises(ValueError, match="source_software must be one of"):
        read_poses(other, source_software="deeplabcut")
    with pytest.raises(ValueError, match="fps must be a positive number"):
        read_poses(other, fps=0)
