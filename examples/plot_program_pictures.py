"""
Pictures of a program and of its search
=======================================

:mod:`sklearn_dpads.plotting` draws three pictures of a fitted
:class:`~sklearn_dpads.ProgramSynthesisClassifier` with matplotlib alone:

* :func:`~sklearn_dpads.plotting.plot_program`: the program as a tree of
  productions, with the largest trained weights of each affine leaf;
* :func:`~sklearn_dpads.plotting.plot_search`: every candidate the program
  selection scored, held-out average precision against structural cost, with the chosen
  program starred;
* :func:`~sklearn_dpads.plotting.plot_feature_group_importance`: how much
  each feature group contributes to the program's affine leaves on some
  data.

The labels of the data are per frame, ``y_t = 1`` when the product of two
affine functions of the groups ``a`` and ``c`` is positive, so the ideal
program is ``map(multiply(affine[a](x), affine[c](x)))``. The search may use
up to four levels (``max_depth=4``), so the selection has more candidates
to compare. The fit uses reduced epochs and a larger learning rate (about
half a minute on two CPU cores); the pictures are saved as PNG files in a
temporary folder.
"""

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

from sklearn_dpads import ProgramSynthesisClassifier
from sklearn_dpads.datasets import make_planted_sequences
from sklearn_dpads.inspection import feature_group_importance
from sklearn_dpads.plotting import (
    plot_feature_group_importance,
    plot_program,
    plot_search,
)

data = make_planted_sequences(
    n_samples=300,
    n_timesteps=10,
    n_features=6,
    label_type="frame",
    rule="product",
    random_state=1,
)
print(data.rule)
clf = ProgramSynthesisClassifier(
    feature_groups=data.feature_groups,
    feature_names=data.feature_names,
    max_depth=4,
    search_epochs=4,
    prune_epochs=2,
    selection_epochs=3,
    program_epochs=6,
    finetune_epochs=30,
    max_selection_steps=10,
    lr=0.05,
    arch_lr=0.05,
    random_state=0,
)
clf.fit(data.X, data.y)
print("learned program:", clf)

# %%
# The program
# -----------
# Blue boxes walk over frames, orange boxes combine values, green boxes are
# leaves. The weights under an affine leaf act on the scaled features
# ``z = clip((x - center_) / scale_, -clip, clip)``.
ax_tree = plot_program(clf)

# %%
# The search
# ----------
# Each point is a candidate scored on the validation split. The selection
# starts from the greedy program (the most likely candidate on every edge of
# the derivation graph), then splits the graph edge by edge: the squares are
# partial graphs, the dots complete programs. Complete programs above the
# dashed line would have had a better objective ``(1 - F1) + penalty * cost``
# than the chosen one.
ax_search = plot_search(clf)

# %%
# Feature-group importance
# ------------------------
# The mean of ``|w_j * z_j|`` over frames, summed per feature group, as
# computed by :func:`sklearn_dpads.inspection.feature_group_importance`.
print(feature_group_importance(clf, data.X))
ax_imp = plot_feature_group_importance(clf, data.X)

# %%
# Saving the pictures
# -------------------
# Each function returns the Axes it drew on; save its figure as usual.
with tempfile.TemporaryDirectory() as tmp:
    for name, ax in [
        ("program_tree", ax_tree),
        ("search", ax_search),
        ("importance", ax_imp),
    ]:
        path = Path(tmp) / f"{name}.png"
        ax.figure.savefig(path, dpi=100, bbox_inches="tight")
        print(f"{path.name}: {path.stat().st_size / 1024:.0f} KB")

plt.show()
