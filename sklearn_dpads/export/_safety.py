"""What the Python export may write into generated source, and how.

User-controlled text (feature names, feature-group names) only ever appears
inside ``#`` comments, after :func:`comment_text` has escaped it onto a single
line; class labels and numbers are written by :func:`label_literal` and
:func:`float_literal` as exact, validated literals; user functions are copied
by :func:`user_function_code` only after the copy ran on its own with the
standard library alone. Neither can inject code into the generated source.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import math
import re
import sys
import textwrap
from typing import Any

__all__ = [
    "IDENTIFIER_RE",
    "float_literal",
    "label_literal",
    "comment_text",
    "user_function_code",
]

#: A plain ASCII identifier (a prefix, a function name).
IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_NAME_CHARS = 200


def float_literal(value: Any) -> str:
    """Return the exact source literal of a float64 value.

    Parameters
    ----------
    value : float-like
        The value (converted with ``float``).

    Returns
    -------
    str
        ``repr`` of the float, or a ``float('nan')`` / ``float('inf')`` form.
    """
    v = float(value)
    if math.isnan(v):
        return "float('nan')"
    if math.isinf(v):
        return "float('inf')" if v > 0 else "-float('inf')"
    return float.__repr__(v)


def label_literal(label: Any) -> str:
    """Return the source literal of a class label.

    Parameters
    ----------
    label : int, float, str or bool
        The label; numpy scalars of these types are converted with ``.item()``.

    Returns
    -------
    str
        A literal that :func:`ast.literal_eval` reads back as the same value
        of the same built-in type.

    Raises
    ------
    TypeError
        If the label has any other type.
    """
    value = label
    if type(value).__module__.split(".")[0] == "numpy" and hasattr(value, "item"):
        value = value.item()
    # normalise to the exact built-in type, so that no subclass can change how
    # the value is written
    if isinstance(value, bool):
        text = "True" if value else "False"
    elif isinstance(value, int):
        value = int.__int__(value)
        text = int.__repr__(value)
    elif isinstance(value, float):
        value = float.__float__(value)
        text = float_literal(value)
    elif isinstance(value, str):
        value = "".join(value)
        text = str.__repr__(value)
    else:
        raise TypeError(
            "Class labels must be int, float, str or bool (or numpy scalars of "
            f"those types) to be exported, got {type(label).__name__}: "
            f"{comment_text(label)[:80]}."
        )
    if not (isinstance(value, float) and not math.isfinite(value)):
        back = ast.literal_eval(text)
        if type(back) is not type(value) or back != value:  # pragma: no cover
            raise TypeError(f"Class label {comment_text(label)} does not round-trip.")
    return text


def comment_text(text: Any) -> str:
    """Escape arbitrary text into something that can only live inside a comment.

    Parameters
    ----------
    text : object
        Any text (converted with ``str``); cut after 200 characters.

    Returns
    -------
    str
        The ``repr`` of the text with every non-printable character replaced
        by ``?``: one line, no line breaks of any kind.
    """
    s = "".join(str(text))
    if len(s) > _MAX_NAME_CHARS:
        s = s[:_MAX_NAME_CHARS] + "..."
    r = str.__repr__(s)
    return "".join(ch if ch.isprintable() and ch not in "\r\n" else "?" for ch in r)


def _stdlib_only_import(name, globals=None, locals=None, fromlist=(), level=0):
    top = name.split(".")[0]
    if level != 0 or top not in getattr(sys, "stdlib_module_names", {"math"}):
        raise ImportError(
            f"exported programs may only import the standard library, not {name!r}"
        )
    return builtins.__import__(name, globals, locals, fromlist, level)


def user_function_code(prod: Any, alias: str) -> str:
    """Return source defining ``alias`` as the production's ``python_function``.

    Parameters
    ----------
    prod : Production
        A user (``elementwise``) production with a ``python_function``.
    alias : str
        The name the generated code calls the function by.

    Returns
    -------
    str
        ``alias = math.<name>`` / ``alias = <builtin>`` for math and builtins
        functions, else the function's own ``def`` followed by the alias.

    Raises
    ------
    ValueError
        If there is no ``python_function``, its source cannot be read, or the
        copy does not run on its own with only the standard library.
    """
    fn = prod.params.get("python_function")
    if fn is None:
        raise ValueError(
            f"Production {prod.name!r} has no python_function; it cannot be exported "
            "to Python."
        )
    name = getattr(fn, "__name__", None)
    if inspect.isbuiltin(fn) and isinstance(name, str) and IDENTIFIER_RE.match(name):
        mod = getattr(fn, "__module__", None)
        if mod == "math" and getattr(math, name, None) is fn:
            return f"{alias} = math.{name}\n"
        if mod == "builtins" and getattr(builtins, name, None) is fn:
            return f"{alias} = {name}\n"
    if not inspect.isfunction(fn):
        raise ValueError(
            f"python_function of production {prod.name!r} must be a plain Python "
            f"function (def) or a math/builtins function, got {type(fn).__name__}."
        )
    try:
        src = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as exc:
        raise ValueError(
            f"Cannot read the source of python_function {name!r} of production "
            f"{prod.name!r} ({exc}); define it with def in a file."
        ) from exc
    try:
        tree = ast.parse(src)
    except SyntaxError as exc:  # pragma: no cover - getsource of odd objects
        raise ValueError(
            f"Cannot parse the source of python_function {name!r} of production "
            f"{prod.name!r}: {exc}"
        ) from exc
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        raise ValueError(
            f"python_function of production {prod.name!r} must be a single def "
            "statement to be exported."
        )
    node = tree.body[0]
    if node.name == "math":
        raise ValueError("A python_function named 'math' would shadow the math module.")
    lines = src.splitlines()
    body = "\n".join(lines[node.lineno - 1 : node.end_lineno]).rstrip() + "\n"
    code = body + f"\n\n{alias} = {node.name}\n"
    # check that the copy runs on its own (standard library + math only)
    safe_builtins = dict(vars(builtins))
    safe_builtins["__import__"] = _stdlib_only_import
    ns: dict = {"__builtins__": safe_builtins, "math": math, "__name__": "_dpads_check"}
    try:
        exec(compile(code, f"<python_function of {prod.name}>", "exec"), ns)
        float(ns[alias](*[0.5 + 0.25 * k for k in range(prod.arity)]))
    except Exception as exc:
        raise ValueError(
            f"The copied source of python_function {name!r} of production "
            f"{prod.name!r} does not run on its own with only the standard library "
            f"({type(exc).__name__}: {exc}). Import what it needs inside the function."
        ) from exc
    return code
