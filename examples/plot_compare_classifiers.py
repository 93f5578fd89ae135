"""
Comparing with standard classifiers
===================================

How does a learned program compare with black-box classifiers on the same
data? This example fits :class:`~sklearn_dpads.ProgramSynthesisClassifier`,
a logistic regression, a random forest, histogram gradient boosting and a
small LSTM (trained with skorch) on the same split, and reports the F1 score
of the positive class, the accuracy and the fitting time.

The data are the CalMS21 "investigation" sequences (13 frames of 18 mouse
features) when ``X.npy`` and ``y_investigation.npy`` are found in
``../shared/data/calms21`` relative to the repository root (or in the folder
named by the environment variable ``SKLEARN_DPADS_CALMS21``); otherwise a
generated data set with a planted rule is used, so the example always runs.

To keep the run to a few minutes on two CPU cores, every model uses small
settings (few epochs, a search on at most 500 sequences); the numbers are
not a benchmark.
"""

# %%
# Data
# ----
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils.class_weight import compute_class_weight
from skorch import NeuralNetClassifier
from torch import nn

from sklearn_dpads import ProgramSynthesisClassifier, SequenceStandardScaler
from sklearn_dpads.datasets import load_calms21, make_planted_sequences


def find_calms21():
    """The CalMS21 folder, or None when it is not on this machine."""
    candidates = [
        # run from the repository root, or from examples/ (as sphinx-gallery does)
        Path.cwd().parent / "shared" / "data" / "calms21",
        Path.cwd().parent.parent / "shared" / "data" / "calms21",
    ]
    if os.environ.get("SKLEARN_DPADS_CALMS21"):
        candidates.insert(0, Path(os.environ["SKLEARN_DPADS_CALMS21"]))
    for path in candidates:
        if (path / "X.npy").exists() and (path / "y_investigation.npy").exists():
            return path
    return None


path = find_calms21()
if path is not None:
    calms = load_calms21(path, "investigation")
    X, y, feature_groups = calms.X, calms.y, calms.feature_groups
    source = "CalMS21 investigation"
else:
    data = make_planted_sequences(
        n_samples=800, n_timesteps=13, n_features=8, noise=0.05, random_state=0
    )
    X, y, feature_groups = data.X, data.y, data.feature_groups
    source = "generated (make_planted_sequences)"

X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
print(f"data: {source}, X {X.shape}, {y.mean():.0%} positive")

# %%
# The models
# ----------
# The tabular models see each sequence flattened to one row of
# ``n_timesteps * n_features`` values. The LSTM reads the scaled sequence and
# classifies from its last hidden state. All models weight the classes
# inversely to their frequency.


def flatten(X):
    """(n, T, F) sequences to (n, T * F) rows."""
    return np.asarray(X).reshape(len(X), -1)


class LSTMNet(nn.Module):
    """One LSTM layer, a linear read-out of the last step."""

    def __init__(self, n_features=18, hidden_size=32):
        super().__init__()
        self.lstm = nn.LSTM(n_features, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 2)

    def forward(self, X):
        out, _ = self.lstm(X)
        return self.head(out[:, -1])


class ToFloat32(TransformerMixin, BaseEstimator):
    """Cast to float32, the dtype of the LSTM weights."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X, dtype=np.float32)


weights = compute_class_weight("balanced", classes=np.unique(y_train), y=y_train)
torch.manual_seed(0)
lstm = make_pipeline(
    SequenceStandardScaler(robust=True, clip=5.0),
    ToFloat32(),
    NeuralNetClassifier(
        LSTMNet,
        module__n_features=X.shape[-1],
        criterion=nn.CrossEntropyLoss,
        criterion__weight=torch.tensor(weights, dtype=torch.float32),
        optimizer=torch.optim.Adam,
        lr=0.005,
        max_epochs=15,
        batch_size=64,
        train_split=None,
        verbose=0,
    ),
)

models = {
    "program (dPads)": ProgramSynthesisClassifier(
        feature_groups=feature_groups,
        max_depth=3,
        search_epochs=2,
        prune_epochs=1,
        selection_epochs=1,
        program_epochs=4,
        finetune_epochs=20,
        max_selection_steps=6,
        max_search_samples=500,
        random_state=0,
    ),
    "logistic regression": make_pipeline(
        FunctionTransformer(flatten),
        StandardScaler(),
        LogisticRegression(class_weight="balanced", max_iter=2000),
    ),
    "random forest": make_pipeline(
        FunctionTransformer(flatten),
        RandomForestClassifier(
            n_estimators=200, class_weight="balanced", n_jobs=2, random_state=0
        ),
    ),
    "gradient boosting": make_pipeline(
        FunctionTransformer(flatten),
        HistGradientBoostingClassifier(class_weight="balanced", random_state=0),
    ),
    "LSTM (skorch)": lstm,
}

# %%
# Fit and score
# -------------
rows = []
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    pred = model.predict(X_test)
    rows.append((name, f1_score(y_test, pred), accuracy_score(y_test, pred), seconds))

print(f"{'model':<22}{'F1':>7}{'accuracy':>10}{'fit (s)':>9}")
for name, f1, acc, seconds in rows:
    print(f"{name:<22}{f1:>7.3f}{acc:>10.3f}{seconds:>9.1f}")

# %%
# Only one of these models can be read. The program is a few productions over
# named feature groups:
print(models["program (dPads)"])

# %%
# A picture of the table.
fig, ax = plt.subplots(figsize=(6, 3))
names = [r[0] for r in rows][::-1]
ax.barh(names, [r[1] for r in rows][::-1], color=["C1"] * (len(rows) - 1) + ["C0"])
for i, r in enumerate(rows[::-1]):
    ax.text(r[1] + 0.01, i, f"{r[1]:.2f}", va="center", fontsize=9)
ax.set_xlim(0, 1.1)
ax.set_xlabel("test F1 (positive class)")
ax.set_title(source, fontsize=10)
fig.tight_layout()
