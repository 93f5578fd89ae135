"""The one importer of scikit-learn's private helpers.

``_fit_context`` and the parameter-constraint classes are private in
scikit-learn (its own estimators and the developer guide use them); a change
there is fixed here alone. ``validate_data`` is public since scikit-learn 1.6.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

__all__ = ["Interval", "StrOptions", "_fit_context", "validate_data"]
