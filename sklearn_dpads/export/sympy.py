"""Export a compiled program as a sympy expression (and LaTeX).

Atom-level (per-step) computations are exact: affine leaves become
``sum_i w_i * x_i + b`` with :class:`sympy.Float` coefficients holding the
float64 parameter values, the soft if-then-else becomes
``sigmoid(beta*c) * f + (1 - sigmoid(beta*c)) * g``, and user productions use
their ``sympy_function`` (or an undefined function of the production's name).
Sequence combinators are undefined sympy functions wrapping their body:
``Map(body)``, ``MapPrefixes(body)``, ``Fold(body)`` (the body reads the frame
symbols and accumulator symbols ``acc0``, ``acc1``, ...; a fold with a wider
state is ``Fold(Matrix(body), j)`` per state entry ``j``, and its readout an
affine expression of those), and windows are named
after their production in CamelCase (``Last5Avg(body)``: the mean of the
body's per-frame values over the window). The frame difference is
``Diff(body)`` (named after its production): ``body`` evaluated on the
sequence of frame differences ``x_t - x_{t-1}`` (zero at the first frame).

Temporal filters are exact explicit sums over lagged frames: a filter of
length ``K`` becomes ``sum_j sum_i W[o][j][i] * x_i[t - j] + b`` with
``x_i[t - j]`` a :class:`sympy.Indexed` of the feature symbol (LaTeX
``{x_i}_{t - j}``) and ``t`` the integer time symbol (named ``t``, or ``t_``,
``t__``, ... when a feature symbol is called ``t``): the value at frame ``t``,
the last frame for the program's value. Frames before the first frame count
as the first frame (``x_i[t - j]`` for ``t - j < 0`` means ``x_i[0]``), which
the expression leaves implicit. Under ``Diff`` the lagged symbols are those of
the differenced sequence.
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Sequence

import sympy
from sympy.core.function import Application

from sklearn_dpads.program import TypedNode, typecheck
from sklearn_dpads.semantics.compile import ProgramModule
from sklearn_dpads.utils._names import safe_identifier

__all__ = [
    "sigmoid",
    "feature_symbols",
    "accumulator_symbols",
    "to_sympy",
    "to_latex",
]

#: ``simplify`` is skipped for entries with more operations than this.
SIMPLIFY_MAX_OPS = 400

_ACC_RE = re.compile(r"^acc\d+$")
_RESERVED = (
    set(keyword.kwlist)
    | {n.lower() for n in dir(builtins)}
    | {n.lower() for n in getattr(sympy, "__all__", [])}
    | {"math", "numpy", "np", "mpmath", "sympy", "torch", "sigmoid"}
)


class sigmoid(sympy.Function):  # noqa: N801 - named like the math function
    """The logistic function ``1 / (1 + exp(-x))`` as a sympy function.

    It stays unevaluated on symbolic arguments, evaluates on floats, and
    rewrites with ``expr.rewrite(sympy.exp)``.

    Parameters
    ----------
    x : sympy expression
        The argument.
    """

    nargs = 1

    @classmethod
    def eval(cls, x):
        """Return the value at 0 and at floats, else None (stay unevaluated).

        Parameters
        ----------
        x : sympy expression
            The argument.

        Returns
        -------
        sympy expression or None
            ``1/2`` at 0, ``1 / (1 + exp(-x))`` at a float, else None.
        """
        if x.is_zero:
            return sympy.Rational(1, 2)
        if x.is_Float:
            return 1 / (1 + sympy.exp(-x))
        return None

    def fdiff(self, argindex=1):
        """Return the derivative ``sigmoid(x) * (1 - sigmoid(x))``.

        Parameters
        ----------
        argindex : int, default=1
            The argument to differentiate by (there is only one).

        Returns
        -------
        sympy expression
            The derivative.
        """
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sympy.exp(-x))

    def _eval_evalf(self, prec):
        return (1 / (1 + sympy.exp(-self.args[0])))._eval_evalf(prec)

    def _latex(self, printer, exp=None):
        tex = r"\sigma\left(" + printer._print(self.args[0]) + r"\right)"
        if exp is not None:
            tex = r"{" + tex + r"}^{" + str(exp) + r"}"
        return tex


def feature_symbols(
    n_features: int, feature_names: Sequence[str] | None = None
) -> list[sympy.Symbol]:
    """Return the real symbols standing for the input features.

    Parameters
    ----------
    n_features : int
        Number of features.
    feature_names : sequence of str, optional
        Names made into unique, valid identifiers (names that clash with
        Python or sympy names get an ``f_`` prefix); default ``x0``, ``x1``, ...

    Returns
    -------
    list of sympy.Symbol
        One real symbol per feature.
    """
    if feature_names is None:
        return [sympy.Symbol(f"x{i}", real=True) for i in range(n_features)]
    names = [str(n) for n in feature_names]
    if len(names) != n_features:
        raise ValueError(
            f"feature_names has {len(names)} names, expected {n_features}."
        )
    used: set[str] = set()
    out = []
    for name in names:
        base = safe_identifier(name)
        if base in _RESERVED or _ACC_RE.match(base):
            base = "f_" + base
        ident, k = base, 2
        while ident in used:
            ident = f"{base}_{k}"
            k += 1
        used.add(ident)
        out.append(sympy.Symbol(ident, real=True))
    return out


def accumulator_symbols(k: int) -> list[sympy.Symbol]:
    """Return the symbols ``acc0 .. acc{k-1}`` of a fold's accumulator.

    Parameters
    ----------
    k : int
        The accumulator's size.

    Returns
    -------
    list of sympy.Symbol
        The real symbols ``acc0``, ``acc1``, ...
    """
    return [sympy.Symbol(f"acc{i}", real=True) for i in range(k)]


def _camel(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in name.split("_") if p) or "F"


def _beta(value: float) -> sympy.Expr:
    value = float(value)
    return sympy.Integer(int(value)) if value.is_integer() else sympy.Float(value)


def _time_symbol(features: list[sympy.Symbol]) -> sympy.Symbol:
    """The integer time symbol ``t`` (``t_``, ... if a feature is called so)."""
    taken = {f.name for f in features}
    name = "t"
    while name in taken:
        name += "_"
    return sympy.Symbol(name, integer=True)


class _Builder:
    """Builds a node's sympy column through its kind (:meth:`Kind.sympy
    <sklearn_dpads.grammar.Kind.sympy>`), offering the kinds what they need."""

    sympy = sympy
    sigmoid = sigmoid

    def __init__(self, module: ProgramModule, features: list[sympy.Symbol]) -> None:
        self.module = module
        self.features = features
        self.n_features = module.dsl.n_features
        self.time = _time_symbol(features)

    def build(self, node: TypedNode, inputs: list[sympy.Symbol]) -> list[sympy.Expr]:
        """Column of k expressions for ``node`` (atom level: in terms of inputs)."""
        return node.production.kind.sympy(self, node, inputs)

    def leaf(self, node: TypedNode):
        """The node's parameters as plain floats."""
        return self.module.leaf(node.path)

    @staticmethod
    def wrap(production) -> sympy.FunctionClass:
        """The undefined sequence function named after ``production``."""
        return sympy.Function(_camel(production.name))

    @staticmethod
    def number(value: float) -> sympy.Expr:
        """An exact sympy number: an Integer when ``value`` is integral."""
        return _beta(value)

    accumulator_symbols = staticmethod(accumulator_symbols)


def _try_simplify(expr: sympy.Expr) -> sympy.Expr:
    n = sympy.count_ops(expr)
    if n == 0 or n > SIMPLIFY_MAX_OPS:
        return expr
    try:
        s = sympy.simplify(expr)
    except Exception:  # pragma: no cover - simplify is best effort
        return expr
    return s if sympy.count_ops(s) < n else expr


def _simplify_bottom_up(expr):
    """Simplify the rational skeleton of ``expr`` level by level.

    Function applications (sigmoid, Max, user functions, sequence combinators)
    are replaced by dummies while the surrounding arithmetic is simplified, and
    their arguments are simplified separately: running :func:`sympy.simplify`
    across them can take minutes (e.g. ``Max`` of ``tanh`` terms).
    """
    if isinstance(expr, sympy.MatrixBase):
        return expr.applyfunc(_simplify_bottom_up)
    if not isinstance(expr, sympy.Basic) or not expr.args:
        return expr
    if isinstance(expr, Application):
        return expr.func(*[_simplify_bottom_up(a) for a in expr.args])
    found: dict = {}

    def collect(e) -> None:
        if isinstance(e, Application):
            found.setdefault(e, sympy.Dummy())
        else:
            for a in e.args:
                collect(a)

    collect(expr)
    skeleton = _try_simplify(expr.xreplace(found))
    return skeleton.xreplace({d: _simplify_bottom_up(e) for e, d in found.items()})


def _maybe_simplify(expr: sympy.Expr) -> sympy.Expr:
    n = sympy.count_ops(expr)
    if n > SIMPLIFY_MAX_OPS:
        return expr
    s = _simplify_bottom_up(expr)
    return s if sympy.count_ops(s) <= n else expr


def to_sympy(
    module: ProgramModule,
    *,
    feature_names: Sequence[str] | None = None,
    simplify: bool = True,
) -> sympy.Expr | sympy.Matrix:
    """Return the program's logit(s) as a sympy expression.

    Parameters
    ----------
    module : ProgramModule
        The compiled (and trained) program.
    feature_names : sequence of str, optional
        Names of the input symbols (defaults to the DSL's names, then ``x0``,
        ``x1``, ...); see :func:`feature_symbols`.
    simplify : bool, default=True
        Apply :func:`sympy.simplify` to each output when it makes it smaller
        (skipped for outputs with more than :data:`SIMPLIFY_MAX_OPS`
        operations).

    Returns
    -------
    sympy.Expr or sympy.Matrix
        A scalar for single-logit programs, else a column vector of logits.
        For sequence inputs the value is written with undefined sequence
        functions (``Map``, ``Fold``, ``Diff``, ...) around exact per-step
        bodies; temporal filters are explicit sums over lagged frames
        ``x[t - j]`` (see the module docstring).
    """
    if not isinstance(module, ProgramModule):
        raise TypeError(f"Expected a ProgramModule, got {type(module).__name__}.")
    if feature_names is None:
        feature_names = module.dsl.feature_names
    features = feature_symbols(module.dsl.n_features, feature_names)
    typed = typecheck(module.program, module.dsl, module.hole)
    out = _Builder(module, features).build(typed, features)
    if simplify:
        out = [_maybe_simplify(e) for e in out]
    if len(out) == 1:
        return out[0]
    return sympy.Matrix(out)


def to_latex(
    module: ProgramModule,
    *,
    feature_names: Sequence[str] | None = None,
    simplify: bool = True,
) -> str:
    """Return the LaTeX of :func:`to_sympy`.

    Parameters
    ----------
    module : ProgramModule
        The compiled (and trained) program.
    feature_names : sequence of str, optional
        Names of the input symbols; see :func:`to_sympy`.
    simplify : bool, default=True
        Simplify each output when it gets smaller; see :func:`to_sympy`.

    Returns
    -------
    str
        The LaTeX source of the logit(s).
    """
    return sympy.latex(to_sympy(module, feature_names=feature_names, simplify=simplify))
