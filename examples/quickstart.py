"""
Quickstart: learn a readable program that classifies sequences
==============================================================

Generate sequences whose label is a planted rule over one feature group,
fit :class:`~sklearn_dpads.ProgramSynthesisClassifier`, print the learned
program and its test score, and export it as standard-library Python.
"""

# %%
from sklearn.model_selection import train_test_split

from sklearn_dpads import ProgramSynthesisClassifier
from sklearn_dpads.datasets import make_planted_sequences

data = make_planted_sequences(
    n_samples=600, n_timesteps=20, n_features=6, rule="threshold", random_state=0
)
X_train, X_test, y_train, y_test = train_test_split(
    data.X, data.y, test_size=0.3, random_state=0, stratify=data.y
)
print("planted rule:", data.rule)

# %%
clf = ProgramSynthesisClassifier(feature_groups=data.feature_groups, random_state=0)
clf.fit(X_train, y_train)
print("learned program:", clf)
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# The program ships without torch: ``exported.source`` is plain Python.
exported = clf.export_program()
print(exported.source.splitlines()[0])
namespace: dict = {}
exec(exported.source, namespace)
same = list(namespace["predict"](X_test.tolist())) == list(clf.predict(X_test))
print("exported program agrees with the estimator:", same)
