"""User productions: an element-wise function of 1 to 3 atom functions.

:func:`~sklearn_dpads.make_production` builds them (and checks the torch
function against the standard-library one); :func:`elementwise_production`
is the validating factory it calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.grammar.production import Production, check_name
from sklearn_dpads.kinds._common import AtomCombinator
from sklearn_dpads.semantics.modules import ProductionModule, production_module_docs

__all__ = ["ELEMENTWISE", "ElementwiseModule", "elementwise_production"]


@production_module_docs(returns="``function(f_1(x), ..., f_arity(x))``.")
class ElementwiseModule(ProductionModule):
    """A user element-wise function of the arguments' outputs."""

    def forward(self, x, mask, ctx=None):
        fn = self.production.params["function"]
        return fn(*[a(x, mask, ctx) for a in self.args])


class ElementwiseKind(AtomCombinator):
    """``function(f_1(x), ..., f_n(x))`` element-wise, for user functions.

    Atom plans do not batch it: a subtree holding one is evaluated
    recursively.
    """

    name = "elementwise"
    arity = None
    constant = "ELEMENTWISE"

    def check(self, production):
        for key in ("function", "python_function"):
            if not callable(production.params.get(key)):
                raise GrammarError(
                    f"Elementwise production {production.name!r} needs a callable "
                    f"params[{key!r}]; build it with make_production."
                )

    def module(self, production, hole, child_types, n_features):
        return ElementwiseModule(production, hole, child_types)

    def python(self, gen, node, kids):
        alias = gen.user_function(node.production)
        lines = [f"a{i} = {kid}(x)" for i, kid in enumerate(kids)]
        us = ", ".join(f"u{i}" for i in range(len(kids)))
        if len(kids) == 1:
            lines.append(f"return [float({alias}(u0)) for u0 in a0]")
        else:
            zs = ", ".join(f"a{i}" for i in range(len(kids)))
            lines.append(f"return [float({alias}({us})) for {us} in zip({zs})]")
        return lines

    def sympy(self, builder, node, inputs):
        prod = node.production
        fn = prod.params.get("sympy_function") or builder.sympy.Function(prod.name)
        vals = [builder.build(c, inputs) for c in node.children]
        k = node.hole.output.size
        return [builder.sympy.sympify(fn(*[v[j] for v in vals])) for j in range(k)]

    def describe(self, describer, node, kids):
        slots = ", ".join(f"{{{i}}}" for i in range(len(kids)))
        return describer.opaque(
            node,
            kids,
            f"{node.production.name}({slots})",
            note="a user function, not simplified",
        )

    def explain(self, explainer, node, module, x, mask):
        # a user function of its arguments does not split: one part
        return explainer.whole(node, x, mask)


ELEMENTWISE = ElementwiseKind()


def elementwise_production(
    name: str,
    function: Callable[..., Any],
    arity: int,
    *,
    python_function: Callable[..., float],
    sympy_function: Callable[..., Any] | None = None,
    cost: float = 1.0,
) -> Production:
    """Validate and build an element-wise combinator of ``arity`` atom functions.

    Users call :func:`sklearn_dpads.make_production`, which also checks the torch
    function against ``python_function``.

    The production fills ``atom[d] -> atom[k]`` holes; its slots have the same
    type, and its value is ``function(f_1(x), ..., f_arity(x))`` applied
    element-wise.

    Parameters
    ----------
    name : str
        Unique identifier.
    function : callable
        Element-wise function of ``arity`` torch tensors (training and the
        torch module), e.g. ``torch.maximum``.
    arity : int
        Number of arguments, 1 to 3.
    python_function : callable
        The same function on Python floats, using only the standard library.
        It must be a named module-level function: its source is copied into
        exported programs.
    sympy_function : callable, optional
        The same function on sympy expressions. Defaults to an undefined sympy
        function named ``name``.
    cost : float, default=1.0
        Structural cost.

    Returns
    -------
    Production
        Picklable when the callables are module-level functions.

    Raises
    ------
    GrammarError
        If an argument is invalid or ``python_function`` fails on floats.
    """
    check_name(name)
    if not isinstance(arity, int) or isinstance(arity, bool) or not 1 <= arity <= 3:
        raise GrammarError(
            f"arity of {name!r} must be an int in [1, 3], got {arity!r}."
        )
    if not callable(function):
        raise GrammarError(f"function of {name!r} must be callable.")
    if not callable(python_function):
        raise GrammarError(f"python_function of {name!r} must be callable.")
    if getattr(python_function, "__name__", "<lambda>") == "<lambda>":
        raise GrammarError(
            f"python_function of {name!r} must be a named (def) function, not a "
            "lambda: its source is copied into exported programs."
        )
    if sympy_function is not None and not callable(sympy_function):
        raise GrammarError(f"sympy_function of {name!r} must be callable.")
    for k in range(arity):
        try:
            out = python_function(*([0.5 + 0.25 * k] * arity))
            float(out)
        except Exception as exc:
            raise GrammarError(
                f"python_function of {name!r} failed on {arity} float argument(s): {exc}"
            ) from exc
    return Production(
        name,
        ELEMENTWISE,
        arity,
        {
            "function": function,
            "python_function": python_function,
            "sympy_function": sympy_function,
        },
        cost,
        f"user function {name}",
    )
