"""
Per-frame behaviour labelling
=============================

Behaviour annotation labels every frame of a video, not whole clips. Pass
``y`` of shape ``(n_samples, n_timesteps)`` and
:class:`~sklearn_dpads.ProgramSynthesisClassifier` learns a program that
outputs one label per frame, such as ``map(f)`` (the same function of every
frame) or ``map_prefixes(last5_avg(f))`` (``f`` of the mean of the last five
frames, at every frame).

The data come from :func:`~sklearn_dpads.datasets.make_crim13_like`: two
simulated mice described by 19 features in seven named groups (position,
distance, velocity, ...), labelled positive when the mice are close and the
resident mouse is slow. The settings below (few epochs, 300 short
trajectories) keep the run to a minute or two on two CPU cores; use the
defaults and more data for real work.
"""

# %%
# Data: 300 trajectories of 30 frames
# -----------------------------------
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from sklearn_dpads import ProgramSynthesisClassifier
from sklearn_dpads.datasets import make_crim13_like
from sklearn_dpads.plotting import plot_program

data = make_crim13_like(n_samples=300, n_timesteps=30, random_state=0)
print(data.rule)
print("feature groups:", data.feature_groups)
print(f"X {data.X.shape}, y {data.y.shape}, {data.y.mean():.0%} positive frames")

# Split by trajectory, so that no test frame comes from a training trajectory.
X_train, X_test, y_train, y_test = train_test_split(
    data.X, data.y, test_size=0.3, random_state=0
)

# %%
# Fit a program
# -------------
# The feature groups become the affine leaves ``affine[distance]``,
# ``affine[velocity]``, ... of the grammar. The rule "close *and* slow" is
# not linear, so the search may use four levels (``max_depth=4``), enough for
# soft if-then-else programs such as
# ``ite(c(x), map(affine[distance](x)), map(affine(x)))``. A larger learning
# rate makes up for the few epochs.
clf = ProgramSynthesisClassifier(
    feature_groups=data.feature_groups,
    feature_names=data.feature_names,
    max_depth=4,
    search_epochs=3,
    prune_epochs=1,
    selection_epochs=2,
    program_epochs=4,
    finetune_epochs=20,
    max_selection_steps=8,
    lr=0.05,
    arch_lr=0.05,
    random_state=0,
)
clf.fit(X_train, y_train)
print("learned program:", clf)
print("label type:", clf.label_type_)

# %%
# The program as a tree: ``ite(c, f, g)`` mixes ``f`` and ``g`` with the
# weight ``sigmoid(c)``, so the condition (its first argument) decides which
# branch labels the frame.
plot_program(clf)

# %%
# Predictions have the shape of ``y``: one label per frame. The F1 score of the
# positive class is computed over all test frames.
pred = clf.predict(X_test)
print("prediction shape:", pred.shape)
f1_program = f1_score(y_test.ravel(), pred.ravel())
print(f"program: per-frame test F1 {f1_program:.3f}")

# %%
# For reference, a logistic regression on single frames (one row per frame)
# sees the same information as ``map(affine(x))``.
frames_train = X_train.reshape(-1, X_train.shape[-1])
frames_test = X_test.reshape(-1, X_test.shape[-1])
logreg = LogisticRegression(class_weight="balanced", max_iter=2000)
logreg.fit(frames_train, y_train.ravel())
f1_logreg = f1_score(y_test.ravel(), logreg.predict(frames_test))
print(f"per-frame logistic regression: test F1 {f1_logreg:.3f}")

# %%
# One test trajectory
# -------------------
# The program's probability of the behaviour against the distance between the
# mice and the resident's speed (dotted: the thresholds of the planted rule).
i = int(np.argmax(y_test.sum(axis=1)))  # the test trajectory with most positives
proba = clf.predict_proba(X_test[i : i + 1])[0, :, 1]
speed = np.hypot(X_test[i, :, 11], X_test[i, :, 12])
t = np.arange(X_test.shape[1])

fig, axes = plt.subplots(3, 1, figsize=(7, 5), sharex=True)
axes[0].plot(t, X_test[i, :, 4], color="C0")
axes[0].axhline(data.thresholds["distance"], color="0.5", linestyle=":")
axes[0].set_ylabel("distance")
axes[1].plot(t, speed, color="C1")
axes[1].axhline(data.thresholds["speed"], color="0.5", linestyle=":")
axes[1].set_ylabel("resident speed")
axes[2].step(t, y_test[i], where="mid", color="k", label="true label")
axes[2].plot(t, proba, color="C3", label="P(behaviour)")
axes[2].set_ylim(-0.05, 1.05)
axes[2].set_ylabel("label")
axes[2].set_xlabel("frame")
axes[2].legend(loc="upper right", fontsize=8)
fig.suptitle("\n".join(textwrap.wrap(str(clf), 80)), fontsize=8, family="monospace")
fig.tight_layout()

# %%
# Sequences of different lengths
# -------------------------------
# Real recordings differ in length. Pass a list of ``(T_i, n_features)``
# arrays (and, to fit, a list of ``(T_i,)`` label arrays); predictions come
# back as a list of the same lengths.
ragged = [X_test[0, :12], X_test[1, :30], X_test[2, :7]]
for seq, labels in zip(ragged, clf.predict(ragged), strict=True):
    print(len(seq), "frames ->", labels.shape, "labels")
