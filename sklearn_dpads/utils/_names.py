"""Names: turning user text (feature and group names) into safe identifiers.

This module depends on nothing else in the package, so that every layer
(``library``, ``export``, ``plotting``) can use it.
"""

from __future__ import annotations

import re

__all__ = ["safe_identifier"]

_NOT_IDENTIFIER_RE = re.compile(r"[^0-9A-Za-z_]+")


def safe_identifier(text: object, used: set[str] | None = None) -> str:
    """Turn any text into a lowercase Python identifier, unique within ``used``.

    Runs of characters other than ASCII letters, digits and ``_`` become one
    ``_``; leading and trailing ``_`` are dropped; an empty result becomes
    ``"group"`` and a leading digit gets a ``g`` prefix.

    Parameters
    ----------
    text : object
        Any text (converted with ``str``).
    used : set of str, optional
        Identifiers already taken. When given, ``_2``, ``_3``, ... is appended
        until the result is not in ``used``, and the result is added to it.

    Returns
    -------
    str
        A valid identifier matching ``[a-z][a-z0-9_]*``.

    Examples
    --------
    >>> from sklearn_dpads.utils._names import safe_identifier
    >>> safe_identifier("Speed (m/s)")
    'speed_m_s'
    >>> used = set()
    >>> [safe_identifier("a b", used) for _ in range(2)]
    ['a_b', 'a_b_2']
    """
    s = _NOT_IDENTIFIER_RE.sub("_", str(text)).strip("_").lower() or "group"
    if s[0].isdigit():
        s = "g" + s
    if used is not None:
        base, k = s, 2
        while s in used:
            s = f"{base}_{k}"
            k += 1
        used.add(s)
    return s
