"""scikit-learn's estimator checks on a cheap instance (no expected failures)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_dpads import ProgramSynthesisClassifier


def _cheap():
    return ProgramSynthesisClassifier(
        max_depth=2,
        search_epochs=1,
        prune_epochs=1,
        selection_epochs=1,
        program_epochs=2,
        finetune_epochs=40,
        grow_steps=1,
        max_selection_steps=1,
        random_state=0,
    )


@parametrize_with_checks([_cheap()], expected_failed_checks=lambda est: {})
def test_sklearn_compatible(estimator, check):
    check(estimator)
