"""
Adding your own productions
===========================

The default grammar combines affine leaves with ``add``, ``multiply`` and a
soft ``ite``. Some rules are easier to say with other functions: "the two
coordinates differ by more than one" is ``|x0 - x1| > 1``, which no sum or
product of affine functions states exactly. :func:`~sklearn_dpads.make_production`
turns an element-wise function into a production, like gplearn's
``make_function``; pass the productions to the classifier with
``extra_productions``.

A production needs the function three times:

* ``function``, on torch tensors, for training;
* ``python_function``, on floats with the standard library only, for the
  exported program (its source is copied into the exported file, so it must
  be a named module-level ``def``, not a lambda);
* optionally ``sympy_function``, for :attr:`ExportedProgram.expression`.

The fit below uses few epochs to run in well under a minute on two CPU cores.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import sympy
import torch

from sklearn_dpads import GrammarError, ProgramSynthesisClassifier, make_production
from sklearn_dpads.plotting import plot_program


def py_absolute(a):
    """|a| on a float (copied into exported programs)."""
    return abs(a)


def py_maximum(a, b):
    """max(a, b) on floats (copied into exported programs)."""
    return max(a, b)


absolute = make_production(
    "absolute", torch.abs, 1, python_function=py_absolute, sympy_function=sympy.Abs
)
maximum = make_production(
    "maximum", torch.maximum, 2, python_function=py_maximum, sympy_function=sympy.Max
)
print(absolute, maximum)

# %%
# ``make_production`` checks the functions against each other on random
# numbers, and refuses a lambda as ``python_function``:
try:
    make_production("square", torch.square, 1, python_function=lambda a: a * a)
except GrammarError as exc:
    print("GrammarError:", exc)

# %%
# Data: one label per frame, ``y_t = 1`` when ``|x_t0 - x_t1| > 1``
# -------------------------------------------------------------------
rng = np.random.RandomState(0)
X = rng.randn(200, 10, 3).astype(np.float32)
y = (np.abs(X[:, :, 0] - X[:, :, 1]) > 1.0).astype(int)
print(f"X {X.shape}, {y.mean():.0%} positive frames")
X_train, X_test, y_train, y_test = X[:150], X[150:], y[:150], y[150:]

# %%
# Fit with the extra productions
# ------------------------------
# They join the default grammar; ``dsl_`` lists all productions searched.
clf = ProgramSynthesisClassifier(
    extra_productions=[absolute, maximum],
    feature_names=["x0", "x1", "x2"],
    max_depth=3,
    search_epochs=3,
    prune_epochs=1,
    selection_epochs=1,
    program_epochs=5,
    finetune_epochs=30,
    random_state=0,
)
clf.fit(X_train, y_train)
print([p.name for p in clf.dsl_.productions])
print("learned program:", clf)
print(f"per-frame test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# For comparison, the default grammar alone (same settings):
plain = ProgramSynthesisClassifier(**{**clf.get_params(), "extra_productions": None})
plain.fit(X_train, y_train)
print("default grammar:", plain)
print(f"per-frame test accuracy: {plain.score(X_test, y_test):.3f}")

# %%
# The exported program
# --------------------
# The user function's source travels with the exported program, which needs
# no torch; the sympy expression uses ``sympy.Abs`` / ``sympy.Max``.
exported = clf.export_program()
print(exported.text)
print("python_function copied:", "py_absolute" in exported.source)
print(exported.expression)

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
plot_program(clf, ax=axes[0])
plot_program(plain, ax=axes[1])
fig.tight_layout()
