"""The one importer of scikit-learn's private helpers.

``_fit_context``, the parameter-constraint classes and their validator are private in
scikit-learn (its own estimators and the developer guide use them); a change
there is fixed here alone. ``validate_data`` is public since scikit-learn 1.6.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import validate_data

__all__ = [
    "Interval",
    "StrOptions",
    "_fit_context",
    "validate_data",
    "validate_parameter_constraints",
]
