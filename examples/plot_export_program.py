"""
Shipping a program without torch
================================

A learned program is small enough to write down.
:meth:`~sklearn_dpads.ProgramSynthesisClassifier.export_program` returns it
as readable text, as a sympy expression, and as standalone Python source that
defines ``predict``, ``predict_proba`` and ``decision_function`` using only
the standard library (the input scaling is included). Save it with
:meth:`ExportedProgram.save <sklearn_dpads.ExportedProgram.save>` and run it
where torch, numpy and scikit-learn are not installed: an embedded device, a
database function, a colleague's script.

This example saves the program to a temporary folder, runs it in a separate
Python process in which importing torch, numpy, scipy, scikit-learn, sympy
or sklearn_dpads fails, and checks that its predictions match the estimator.
The fit uses few epochs so that it takes well under a minute on two CPU
cores.
"""

# %%
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from sklearn_dpads import ProgramSynthesisClassifier
from sklearn_dpads.datasets import make_planted_sequences

data = make_planted_sequences(
    n_samples=300, n_timesteps=15, n_features=4, random_state=0
)
X_train, X_test, y_train, y_test = train_test_split(
    data.X, data.y, test_size=0.3, stratify=data.y, random_state=0
)
clf = ProgramSynthesisClassifier(
    feature_groups=data.feature_groups,
    feature_names=data.feature_names,
    max_depth=3,
    search_epochs=2,
    prune_epochs=1,
    selection_epochs=1,
    program_epochs=4,
    finetune_epochs=20,
    max_selection_steps=6,
    random_state=0,
)
clf.fit(X_train, y_train)
print("planted:", data.rule)
print("learned:", clf)

# %%
# The exported forms
# ------------------
exported = clf.export_program()
print(exported.text)
print(exported.expression)

# %%
# The first lines of the Python source:
print("\n".join(exported.source.splitlines()[:25]))

# %%
# Run it without torch or numpy
# -----------------------------
# The runner script blocks the scientific stack with an import hook, and the
# process starts with ``-I -S`` (isolated, no site-packages), so nothing but
# the standard library is available. Inputs and outputs travel as JSON: a
# sequence is a list of frames, a frame a list of feature values.
RUNNER = textwrap.dedent(
    """
    import importlib.abc
    import json
    import sys

    BLOCKED = {"torch", "numpy", "scipy", "sklearn", "sklearn_dpads", "skorch",
               "sympy"}


    class BlockScientificStack(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ImportError(f"importing {name} is blocked here")
            return None


    sys.meta_path.insert(0, BlockScientificStack())
    try:
        import numpy  # noqa: F401
    except ImportError as exc:
        print("as intended:", exc)

    folder = sys.argv[1]
    sys.path.insert(0, folder)
    import program

    with open(folder + "/X.json") as fh:
        X = json.load(fh)
    out = {"predict": program.predict(X), "proba": program.predict_proba(X)}
    with open(folder + "/out.json", "w") as fh:
        json.dump(out, fh)
    print("loaded modules:", sorted(m for m in sys.modules if m in BLOCKED))
    """
)

with tempfile.TemporaryDirectory() as tmp:
    folder = Path(tmp)
    exported.save(folder / "program.py")
    (folder / "run.py").write_text(RUNNER, encoding="utf-8")
    (folder / "X.json").write_text(json.dumps(X_test.tolist()), encoding="utf-8")
    size_kb = (folder / "program.py").stat().st_size / 1024
    print(f"program.py: {size_kb:.1f} KB")
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(folder / "run.py"), str(folder)],
        capture_output=True,
        text=True,
        check=True,
    )
    print(done.stdout)
    out = json.loads((folder / "out.json").read_text(encoding="utf-8"))

# %%
# Same predictions
# ----------------
pred_exported = np.array(out["predict"])
proba_exported = np.array(out["proba"])[:, 1]
proba_torch = clf.predict_proba(X_test)[:, 1]
print("identical labels:", np.array_equal(pred_exported, clf.predict(X_test)))
gap = np.abs(proba_exported - proba_torch).max()
print(f"largest probability difference: {gap:.2e}")

fig, ax = plt.subplots(figsize=(4, 4))
ax.plot([0, 1], [0, 1], color="0.7", linewidth=1)
ax.scatter(proba_torch, proba_exported, s=12)
ax.set_xlabel("P(y=1), estimator (torch)")
ax.set_ylabel("P(y=1), exported program.py")
ax.set_title("Exported program vs estimator")
fig.tight_layout()
