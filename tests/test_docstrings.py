"""Validate the docstrings of the public API with numpydoc.

The public API is every class and function named in the ``__all__`` of a
public module or subpackage of ``sklearn_dpads`` (one with no ``_``-prefixed
part in its dotted name; objects defined in a private module count when a
public one exports them), plus the public methods and properties those
classes define in ``sklearn_dpads`` itself, overrides of framework hooks such
as ``forward`` included (methods inherited unchanged from scikit-learn, torch
or skorch are documented by their authors). Constants and type aliases in
``__all__`` (``BUILTIN_KINDS``, ``ValueType``, ...) have no docstring of their
own and are skipped.

Each object is checked once, under the name of the module that defines it or,
when that module is private, of the public module that exports it, e.g.
``sklearn_dpads.grammar.dsl.DSLBuilder.add`` or
``sklearn_dpads.ProgramSynthesisClassifier``. One object by hand (all codes,
including the ignored ones)::

    python -m numpydoc validate sklearn_dpads.program.Program
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil

import pytest

import sklearn_dpads

# numpydoc is in the "docs" extra; it must also be installed to run the tests
numpydoc_validate = pytest.importorskip("numpydoc.validate")

PKG = "sklearn_dpads"

# numpydoc error codes that are NOT checked; every other code in
# numpydoc.validate.ERROR_MSGS is (summary: SS01-SS06; parameters: PR01-PR10;
# returns/yields: RT01, RT03-RT05, YD01; layout: GL03-GL10, GL01/GL02; See
# Also entries: SA02-SA04). For comparison, scikit-learn's
# sklearn/tests/test_docstrings.py ignores RT02, GL01 and GL02 everywhere and
# ES01, SA01 and EX01 on methods, and numpydoc's validation docs suggest
# ``ignore = EX01,SA01,ES01`` as the usual starting point. Here:
#
# - ES01 (no extended summary), SA01 (no See Also section), EX01 (no Examples
#   section): optional sections. Requiring them on every helper, torch module
#   and property would produce boilerplate; usage lives in the user guide and
#   the examples gallery, and docstrings that do have such sections still get
#   them checked (SA02-SA04, section order GL07, unknown sections GL06).
# - RT02 (first line of Returns must be the type only): allows the
#   ``name : type`` form, which says what each element of a returned tuple
#   is, as scikit-learn does.
#
# GL01 and GL02 (placement of the quotes) are checked, unlike in
# scikit-learn: the code base has one style (summary on the line of the
# opening quotes, closing quotes on their own line) and numpydoc accepts it.
IGNORED_CODES = frozenset({"ES01", "SA01", "EX01", "RT02"})


def _is_public_module(name):
    return not any(part.startswith("_") for part in name.split("."))


def _defined_here(obj):
    return getattr(obj, "__module__", "").partition(".")[0] == PKG


def _public_modules():
    yield PKG, sklearn_dpads
    for info in pkgutil.walk_packages(sklearn_dpads.__path__, prefix=PKG + "."):
        if _is_public_module(info.name):
            yield info.name, importlib.import_module(info.name)


def _is_member(attr):
    """Whether a class ``__dict__`` entry is a method or property to check."""
    return (
        inspect.isfunction(attr)
        or isinstance(attr, (staticmethod, classmethod))
        or isinstance(attr, (property, functools.cached_property))
    )


@functools.cache
def public_objects():
    """Map the validation name of every public object to the object.

    Returns
    -------
    dict of str to object
        Sorted by name.
    """
    # (defining module, qualname) -> (object, ["exporting_module.name", ...])
    found = {}
    for modname, module in _public_modules():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if not callable(obj) or not _defined_here(obj):
                continue  # constants, type aliases, third-party re-exports
            key = (obj.__module__, obj.__qualname__)
            found.setdefault(key, (obj, []))[1].append(f"{modname}.{name}")

    objects = {}
    for (module, qualname), (obj, exports) in found.items():
        if _is_public_module(module):
            objects[f"{module}.{qualname}"] = obj
        else:  # shortest public path, e.g. sklearn_dpads.ProgramSynthesisClassifier
            objects[min(exports, key=lambda e: (e.count("."), e))] = obj

    class_names = {obj: name for name, obj in objects.items() if inspect.isclass(obj)}
    seen = set()
    for cls, cls_name in class_names.items():
        shadowed = set()
        for klass in cls.__mro__:
            if not _defined_here(klass):
                continue
            # a member of a public base class is checked under that class
            owner = class_names.get(klass, cls_name)
            for attr_name, attr in vars(klass).items():
                if attr_name.startswith("_") or attr_name in shadowed:
                    continue
                shadowed.add(attr_name)
                if _is_member(attr) and (klass, attr_name) not in seen:
                    seen.add((klass, attr_name))
                    objects[f"{owner}.{attr_name}"] = attr
    return dict(sorted(objects.items()))


def docstring_errors(name):
    """Run numpydoc on the public object ``name``; keep the checked errors.

    Parameters
    ----------
    name : str
        A key of :func:`public_objects`.

    Returns
    -------
    list of tuple of (str, str)
        The ``(code, message)`` pairs whose code is not in ``IGNORED_CODES``.
    """
    ignored = IGNORED_CODES
    if getattr(public_objects()[name], "_is_protocol", False):
        # a typing.Protocol has typing's placeholder ``(*args, **kwargs)``
        # constructor: there are no parameters to document
        ignored = ignored | {"PR01", "PR02"}
    result = numpydoc_validate.validate(name)
    return [(c, m) for c, m in result["errors"] if c not in ignored]


@pytest.mark.parametrize("name", list(public_objects()))
def test_docstring(name):
    errors = docstring_errors(name)
    if errors:
        result = numpydoc_validate.validate(name)
        lines = "\n".join(f"  {code}: {message}" for code, message in errors)
        pytest.fail(
            f"{name} ({result['file']}:{result['file_line']}) fails numpydoc "
            f"validation:\n{lines}",
            pytrace=False,
        )


def test_public_objects_are_found():
    # guards the collection itself: an empty or partial walk would pass vacuously
    objects = public_objects()
    for name in (
        "sklearn_dpads.ProgramSynthesisClassifier",
        "sklearn_dpads.ProgramSynthesisClassifier.fit",
        "sklearn_dpads.grammar.dsl.DSL",
        "sklearn_dpads.grammar.dsl.DSL.productions",
        "sklearn_dpads.program.Program.parse",
        "sklearn_dpads.kinds.map.MapModule.forward",
        "sklearn_dpads.datasets.make_planted_sequences",
    ):
        assert name in objects, name
    assert not any(".tests." in n or "._" in n.rpartition(".")[0] for n in objects)


if __name__ == "__main__":
    # ``python tests/test_docstrings.py``: list what fails now, with the module
    # that defines each object
    for name, obj in public_objects().items():
        errors = docstring_errors(name)
        if errors:
            module = getattr(
                inspect.unwrap(getattr(obj, "fget", obj)), "__module__", ""
            )
            codes = ", ".join(code for code, _ in errors)
            print(f'"{name}",  # {module}: {codes}')
