"""
From pose files to bouts
========================

The whole behaviour workflow on simulated data: pose files as DeepLabCut and
SLEAP write them, annotations as BORIS exports them, features with units,
a program fitted per frame with cross-validation by recording, smoothed
bouts, the bout F1 score, an ethogram, and the program itself.

Two mice, a *resident* and an *intruder*, are tracked at three keypoints
(nose, centre, tail base). Now and then the resident follows the intruder
and sniffs its tail base; an annotator marks these bouts as ``sniff``. The
pose files and the annotations are written to a temporary folder and read
back, as they would be from disk. Reading pose files needs the optional
``pose`` extra (``pip install "sklearn-dpads[pose]"``, see
:doc:`/behaviour_workflow`).

The data are small (six recordings of 20 s) and the fit is cheap
(``max_depth=3``, no local search, few epochs), so that the example runs in
a minute or so on two CPU cores; use the defaults and more data for real
work.
"""

# %%
# Simulated recordings
# --------------------
# Each mouse walks with a slowly turning heading; its nose is 20 mm ahead of
# its centre and its tail base 25 mm behind. During a few *episodes* the
# resident heads for the intruder's tail base. Positions are in pixels (2
# pixels per millimetre) with some noise; a few points are lost (NaN) or
# detected in a wrong place with a low confidence, as pose estimators do.
import tempfile
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from movement.io import load_poses, save_poses
from sklearn.model_selection import GroupKFold

from sklearn_dpads import ProgramSynthesisClassifier
from sklearn_dpads.boris import read_boris
from sklearn_dpads.bouts import BoutSmoother, bout_f1_score, find_bouts, smooth_bouts
from sklearn_dpads.plotting import plot_ethogram
from sklearn_dpads.pose import PoseFeatures, make_windows, read_poses

FPS = 30  # frames per second
PX_PER_MM = 2.0  # the camera's calibration
N_FRAMES = 600  # 20 s per recording
ARENA = 300.0  # mm
INDIVIDUALS = ["resident", "intruder"]
KEYPOINTS = ["nose", "centre", "tail_base"]


def walk(rng, centre, heading, speed):
    """One step of a mouse: turn a little, change speed a little, move."""
    heading = heading + rng.normal(0.0, 0.12)
    speed = float(np.clip(0.9 * speed + rng.normal(0.3, 0.6), 0.0, 6.0))
    centre = centre + speed * np.array([np.cos(heading), np.sin(heading)])
    if not (30 < centre[0] < ARENA - 30 and 30 < centre[1] < ARENA - 30):
        heading += np.pi  # turn back at the walls
        centre = np.clip(centre, 30, ARENA - 30)
    return centre, heading, speed


def simulate(rng):
    """Poses (px) with confidence, and the clean positions (mm)."""
    clean = np.zeros((N_FRAMES, 2, 3, 2))  # (frame, mouse, keypoint, xy) in mm
    centres = rng.uniform(60, ARENA - 60, size=(2, 2))
    headings, speeds = rng.uniform(0, 2 * np.pi, 2), np.zeros(2)
    starts = np.sort(rng.choice(np.arange(30, N_FRAMES - 120, 90), 3, replace=False))
    following = np.zeros(N_FRAMES, bool)
    for s in starts:
        following[s : s + rng.integers(50, 100)] = True
    for t in range(N_FRAMES):
        centres[1], headings[1], speeds[1] = walk(
            rng, centres[1], headings[1], speeds[1]
        )
        u_int = np.array([np.cos(headings[1]), np.sin(headings[1])])
        if following[t]:  # head for a point just behind the intruder's tail base
            target = centres[1] - 30 * u_int
            to = target - centres[0]
            want = np.arctan2(to[1], to[0])
            headings[0] += 0.5 * np.angle(np.exp(1j * (want - headings[0])))
            centres[0] = centres[0] + 0.5 * (
                target - 20 * to / (np.hypot(*to) + 1e-9) - centres[0]
            )
        else:
            centres[0], headings[0], speeds[0] = walk(
                rng, centres[0], headings[0], speeds[0]
            )
        for m in range(2):
            u = np.array([np.cos(headings[m]), np.sin(headings[m])])
            clean[t, m] = [centres[m] + 20 * u, centres[m], centres[m] - 25 * u]
    pos = clean * PX_PER_MM + rng.normal(0.0, 0.7, clean.shape)
    conf = rng.uniform(0.8, 1.0, size=(N_FRAMES, 2, 3))
    # wrong detections with a low confidence, and short gaps of lost points
    # (inside the recording: linear interpolation fills no gap at its ends)
    wrong = rng.random((N_FRAMES, 2, 3)) < 0.02
    wrong[:5] = wrong[-5:] = False
    pos[wrong] += rng.normal(0.0, 60.0, (wrong.sum(), 2))
    conf[wrong] = rng.uniform(0.0, 0.3, wrong.sum())
    for _ in range(8):
        t, m, k = rng.integers(20, N_FRAMES - 20), rng.integers(2), rng.integers(3)
        pos[t : t + rng.integers(1, 8), m, k] = np.nan
    conf[np.isnan(pos).any(axis=-1)] = np.nan
    return pos, conf, clean


def annotate(clean):
    """What the annotator marks: the resident's nose near the intruder's tail base."""
    gap = np.linalg.norm(clean[:, 0, 0] - clean[:, 1, 2], axis=-1)
    close = np.where(gap < 25.0, "sniff", "none")
    return smooth_bouts(close, min_length=8, max_gap=4, background="none")


# %%
# Pose files and BORIS annotations
# --------------------------------
# The poses are saved with movement in three formats: DeepLabCut's HDF5 and
# CSV files and SLEAP's analysis HDF5 file. The annotations are saved as
# BORIS's *aggregated events* export (one row per bout, with its start and
# stop in seconds).
folder = Path(tempfile.mkdtemp())
rng = np.random.default_rng(0)
files, boris_files = [], []
for i in range(6):
    pos, conf, clean = simulate(rng)
    ds = load_poses.from_numpy(
        position_array=pos.transpose(
            0, 3, 2, 1
        ),  # movement's (time, space, keypoints, individuals)
        confidence_array=conf.transpose(0, 2, 1),
        individual_names=INDIVIDUALS,
        keypoint_names=KEYPOINTS,
        fps=FPS,
        source_software="DeepLabCut",
    )
    if i % 3 == 0:
        path = folder / f"mouse{i}_DLC.h5"
        save_poses.to_dlc_file(ds, path, split_individuals=False)
    elif i % 3 == 1:
        path = folder / f"mouse{i}_DLC.csv"
        save_poses.to_dlc_file(ds, path, split_individuals=False)
    else:
        path = folder / f"mouse{i}.analysis.h5"
        save_poses.to_sleap_analysis_file(ds, path)
    files.append(path)
    lines = ["Observation id,Subject,Behavior,Behavior type,Start (s),Stop (s)"]
    for start, stop, behavior in find_bouts(annotate(clean), background="none"):
        lines.append(
            f"rec{i},resident,{behavior},STATE,{start / FPS:.3f},{stop / FPS:.3f}"
        )
    boris_files.append(folder / f"mouse{i}_boris.csv")
    boris_files[-1].write_text("\n".join(lines) + "\n")

print(*(f.name for f in files))
print(boris_files[0].read_text()[:200])

# %%
# Read them back
# --------------
# :func:`~sklearn_dpads.pose.read_poses` tells the software from the file
# (its suffix, and for ``.h5`` files what they hold) and returns movement's
# poses Dataset; :func:`~sklearn_dpads.boris.read_boris` gives the label of
# every frame, for the frame rate and number of frames of the poses.
poses = [read_poses(f, fps=FPS) for f in files]
print({f.name: p.attrs["source_software"] for f, p in zip(files, poses)})
labels = [
    read_boris(b, frame_rate=FPS, n_frames=p.sizes["time"], behaviors=["sniff"])
    for b, p in zip(boris_files, poses)
]
print(f"{np.mean([(y == 'sniff').mean() for y in labels]):.0%} of the frames are sniff")

# %%
# Features with units
# -------------------
# :class:`~sklearn_dpads.pose.PoseFeatures` computes distances between
# keypoints of one or two mice, speeds and angles, in millimetres and
# seconds. Points below a confidence of 0.5 are dropped first, and gaps of
# up to 30 frames (1 s) are filled by linear interpolation; the classifier
# takes no missing value inside a recording, so check that none is left.
# The feature names and groups are what the classifier takes.
features = PoseFeatures(
    distances=[
        (("resident", "nose"), ("intruder", "tail_base")),
        (("resident", "nose"), ("intruder", "nose")),
        (("resident", "centre"), ("intruder", "centre")),
    ],
    speeds=[("resident", "centre"), ("intruder", "centre")],
    angles=[
        (("resident", "tail_base"), ("resident", "nose"), ("intruder", "tail_base"))
    ],
    pixels_per_mm=PX_PER_MM,
    confidence_threshold=0.5,
    fill="linear",
    max_gap=30,
)
X = features.fit_transform(poses)  # one (600, 6) array per recording
names = list(features.get_feature_names_out())
print(*names, sep="\n")
print(features.feature_groups_)
print("missing values left:", int(sum(np.isnan(x).sum() for x in X)))

# %%
# Cross-validation by recording
# -----------------------------
# The programs are fitted on 2 s windows of the recordings
# (:func:`~sklearn_dpads.pose.make_windows`). Windows of one recording are
# alike, so :class:`~sklearn.model_selection.GroupKFold` keeps every
# recording on one side of a split; the held-out recordings are predicted
# whole. :class:`~sklearn_dpads.bouts.BoutSmoother` stitches gaps of up to 4
# frames inside a predicted bout and drops bouts shorter than 8 frames.
windows = make_windows(X, labels, length=60)
print("windows:", windows.X.shape, "recording of each:", windows.groups[:12], "...")

clf = ProgramSynthesisClassifier(
    feature_names=names,
    feature_groups=features.feature_groups_,
    max_depth=3,
    grow_steps=0,
    search_epochs=2,
    prune_epochs=1,
    selection_epochs=1,
    program_epochs=4,
    finetune_epochs=15,
    max_selection_steps=4,
    lr=0.05,
    arch_lr=0.05,
    random_state=0,
)
model = BoutSmoother(clf, min_length=8, max_gap=4, background="none")

pred, raw, proba = [None] * 6, [None] * 6, [None] * 6
for train, test in GroupKFold(n_splits=3).split(windows.X, groups=windows.groups):
    model.fit(windows.X[train], windows.y[train])
    held_out = sorted(set(windows.groups[test]))
    X_test = [X[r] for r in held_out]
    sniff = list(model.classes_).index("sniff")
    for r, p, q, pr in zip(
        held_out,
        model.predict(X_test),
        model.estimator_.predict(X_test),
        model.predict_proba(X_test),
    ):
        pred[r], raw[r], proba[r] = p, q, pr[:, sniff]

score = dict(pos_label="sniff", background="none")
print(f"bout F1, per-frame predictions: {bout_f1_score(labels, raw, **score):.2f}")
print(f"bout F1, smoothed bouts:        {bout_f1_score(labels, pred, **score):.2f}")

# %%
# The ethogram of the held-out predictions: for every recording, the
# annotated bouts, the smoothed predicted bouts and the probability of
# ``sniff`` frame by frame.
ax = plot_ethogram(labels, pred, proba=proba, frame_rate=FPS, background="none")
ax.figure.set_size_inches(9, 7)
ax.set_title("held-out recordings (GroupKFold by recording)")
plt.tight_layout()

# %%
# The program
# -----------
# Refitted on every window, the program reads the features by name; its
# description gives thresholds in the features' own units
# (``feature_units_``) and windows in seconds.
model.fit(windows.X, windows.y)
program = model.estimator_
print(textwrap.fill(str(program.program_), 88))
units = dict(zip(names, features.feature_units_))
print(program.describe(units=units, frame_rate=FPS))
