"""The built-in production kinds, one module each, and their factories.

Each module defines one :class:`~sklearn_dpads.grammar.kind.Kind` (bound to a
constant such as :data:`FOLD`), the torch module of its productions, and the
factory that builds them (:func:`fold_production`). Everything the package
knows about a kind is in its module: typing and display, the torch module and
the state it carries between chunks, its parameters as
:meth:`~sklearn_dpads.semantics.ProgramModule.leaf` reads them, its
standard-library batch and streaming code, its sympy form, and how atom plans
batch it. :func:`sklearn_dpads.default_dsl` binds them to named productions.
See the contributor page "Adding a production".
"""

from sklearn_dpads.kinds.add import ADD, add_production
from sklearn_dpads.kinds.affine import AFFINE, affine_production
from sklearn_dpads.kinds.constant import CONSTANT, constant_production
from sklearn_dpads.kinds.difference import DIFFERENCE, difference_production
from sklearn_dpads.kinds.elementwise import ELEMENTWISE, elementwise_production
from sklearn_dpads.kinds.filter import FILTER, filter_production
from sklearn_dpads.kinds.fold import FOLD, fold_production
from sklearn_dpads.kinds.ite import ITE, ite_production
from sklearn_dpads.kinds.kernel_window import KERNEL_WINDOW, kernel_window_production
from sklearn_dpads.kinds.map import MAP, map_production
from sklearn_dpads.kinds.map_prefixes import MAP_PREFIXES, map_prefixes_production
from sklearn_dpads.kinds.multiply import MULTIPLY, multiply_production
from sklearn_dpads.kinds.quadratic import QUADRATIC, quadratic_production
from sklearn_dpads.kinds.window import WINDOW, window_production

#: Every built-in kind, in a fixed order.
BUILTIN_KINDS = (
    MAP,
    MAP_PREFIXES,
    FOLD,
    WINDOW,
    ITE,
    ADD,
    MULTIPLY,
    AFFINE,
    CONSTANT,
    ELEMENTWISE,
    FILTER,
    DIFFERENCE,
    KERNEL_WINDOW,
    QUADRATIC,
)

__all__ = [
    "BUILTIN_KINDS",
    "MAP",
    "MAP_PREFIXES",
    "FOLD",
    "WINDOW",
    "ITE",
    "ADD",
    "MULTIPLY",
    "AFFINE",
    "CONSTANT",
    "ELEMENTWISE",
    "FILTER",
    "DIFFERENCE",
    "KERNEL_WINDOW",
    "QUADRATIC",
    "map_production",
    "map_prefixes_production",
    "fold_production",
    "window_production",
    "ite_production",
    "add_production",
    "multiply_production",
    "affine_production",
    "constant_production",
    "elementwise_production",
    "filter_production",
    "difference_production",
    "kernel_window_production",
    "quadratic_production",
]
