"""The one importer of scikit-learn's private helpers.

``_fit_context``, the parameter-constraint classes and their validator are private in
scikit-learn (its own estimators and the developer guide use them); a change
there is fixed here alone. ``validate_data`` is public since scikit-learn 1.6;
``_check_feature_names`` and ``_get_feature_names`` (which it calls) set and check
``feature_names_in_`` for the inputs it does not see (lists of sequences, 3-D
arrays).
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import (
    _check_feature_names,
    _get_feature_names,
    validate_data,
)

__all__ = [
    "Interval",
    "StrOptions",
    "_check_feature_names",
    "_fit_context",
    "_get_feature_names",
    "validate_data",
    "validate_parameter_constraints",
]
