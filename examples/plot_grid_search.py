"""
Tuning the search with GridSearchCV
===================================

:class:`~sklearn_dpads.ProgramSynthesisClassifier` is an ordinary
scikit-learn estimator: it can sit in a
:class:`~sklearn.pipeline.Pipeline` and be tuned with
:class:`~sklearn.model_selection.GridSearchCV`. Here a
:class:`~sklearn_dpads.SequenceStandardScaler` scales the sequences and the
grid explores the two knobs that shape the programs most: ``max_depth`` (how
many production levels a program may have) and ``penalty`` (how much a
production costs against the held-out average precision when the search picks a program).

To keep the run to about a minute on two CPU cores, the data are small and
every fit uses few epochs (``search_epochs=1`` ...); 4 grid points x 3 folds
make 12 fits, plus the refit.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline

from sklearn_dpads import ProgramSynthesisClassifier, SequenceStandardScaler
from sklearn_dpads.datasets import make_planted_sequences
from sklearn_dpads.plotting import plot_program

data = make_planted_sequences(
    n_samples=240, n_timesteps=10, n_features=4, noise=0.05, random_state=0
)
X_train, X_test, y_train, y_test = train_test_split(
    data.X, data.y, test_size=0.25, stratify=data.y, random_state=0
)
print(data.rule)

# %%
# The pipeline
# ------------
# The scaler does the scaling, so the classifier's own (``normalize``) is
# turned off.
pipe = Pipeline(
    [
        ("scale", SequenceStandardScaler(robust=True, clip=5.0)),
        (
            "clf",
            ProgramSynthesisClassifier(
                feature_groups=data.feature_groups,
                normalize=None,
                search_epochs=1,
                prune_epochs=1,
                selection_epochs=1,
                program_epochs=3,
                finetune_epochs=10,
                max_selection_steps=4,
                random_state=0,
            ),
        ),
    ]
)
param_grid = {"clf__max_depth": [2, 3], "clf__penalty": [0.0, 0.05]}
search = GridSearchCV(
    pipe,
    param_grid,
    scoring="f1",
    cv=StratifiedKFold(3, shuffle=True, random_state=0),
    n_jobs=1,
)
search.fit(X_train, y_train)

# %%
# Results
# -------
res = search.cv_results_
print(f"{'max_depth':>9} {'penalty':>8} {'F1 (cv)':>8} {'fit (s)':>8}")
for params, f1, sd, t in zip(
    res["params"],
    res["mean_test_score"],
    res["std_test_score"],
    res["mean_fit_time"],
    strict=True,
):
    print(
        f"{params['clf__max_depth']:>9} {params['clf__penalty']:>8}"
        f" {f1:>5.3f}+-{sd:.2f} {t:>6.1f}"
    )
print("best:", search.best_params_)
best = search.best_estimator_
print("program of the refitted best pipeline:", best[-1])
print(f"test F1: {search.score(X_test, y_test):.3f}")

# %%
# Cross-validated F1 by grid point. Deeper programs can express more, and a
# larger penalty prefers smaller programs; a flat line means that both
# penalties led to the same programs.
fig, ax = plt.subplots(figsize=(5, 3.2))
for depth in param_grid["clf__max_depth"]:
    mask = np.array([p["clf__max_depth"] == depth for p in res["params"]])
    pens = [p["clf__penalty"] for p, m in zip(res["params"], mask, strict=True) if m]
    ax.errorbar(
        pens,
        res["mean_test_score"][mask],
        yerr=res["std_test_score"][mask],
        marker="o",
        capsize=3,
        label=f"max_depth={depth}",
    )
ax.set_xlabel("penalty")
ax.set_ylabel("cross-validated F1")
ax.legend()
fig.tight_layout()

# %%
# The plotting helpers accept the fitted search (or pipeline) directly.
plot_program(search)
plt.show()
