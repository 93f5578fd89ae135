"""Programs: immutable ASTs over a DSL, with s-expression parse and render."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from sklearn_dpads.exceptions import GrammarError, ProgramParseError
from sklearn_dpads.grammar.dsl import DSL
from sklearn_dpads.grammar.types import FunctionType

__all__ = ["Program", "TypedNode", "typecheck"]

_TOKEN_RE = re.compile(r"\s*(\(|\)|[A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Program:
    """An immutable program tree: a production name applied to child programs.

    Positions in a program are addressed by *paths*: tuples of child indices
    from the root (``()`` is the root, ``(0, 1)`` the second child of the first
    child). Trained parameters are keyed by these paths.

    Parameters
    ----------
    symbol : str
        Production name.
    children : tuple of Program
        Arguments, in slot order.
    """

    symbol: str
    children: tuple[Program, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.children, tuple):
            object.__setattr__(self, "children", tuple(self.children))
        for c in self.children:
            if not isinstance(c, Program):
                raise TypeError(f"Program children must be Programs, got {c!r}.")

    # text -----------------------------------------------------------------
    def render(self) -> str:
        """Render the program as s-expression text.

        Returns
        -------
        str
            E.g. ``(map (multiply (affine_a) (affine_b)))``; :meth:`parse` reads
            it back.
        """
        if not self.children:
            return f"({self.symbol})"
        return f"({self.symbol} {' '.join(c.render() for c in self.children)})"

    def __str__(self) -> str:
        return self.render()

    def pretty(self, dsl: DSL | None = None) -> str:
        """Return a readable form, using feature-group names when a DSL is given.

        Parameters
        ----------
        dsl : DSL, optional
            The grammar of the program; without it every node shows as
            ``name(args)`` and leaves as ``name(x)``.

        Returns
        -------
        str
            E.g. ``map(multiply(affine[position](x), affine[distance](x)))``.
        """
        args = [c.pretty(dsl) for c in self.children]
        if dsl is not None and self.symbol in dsl:
            return dsl[self.symbol].display(args)
        if not args:
            return f"{self.symbol}(x)"
        return f"{self.symbol}({', '.join(args)})"

    @classmethod
    def parse(cls, text: str) -> Program:
        """Parse s-expression text (leaves may be written ``(name)`` or ``name``).

        Parameters
        ----------
        text : str
            The program, e.g. ``"(map (affine_speed))"``.

        Returns
        -------
        Program
            The parsed program; production names are not checked against a
            DSL (see :func:`typecheck`).

        Raises
        ------
        ProgramParseError
            If the text is not a single well-formed s-expression.
        """
        if not isinstance(text, str):
            raise ProgramParseError(
                f"Program text must be a str, got {type(text).__name__}."
            )
        tokens = []
        pos = 0
        stripped = text.rstrip()
        while pos < len(stripped):
            m = _TOKEN_RE.match(stripped, pos)
            if m is None:
                raise ProgramParseError(
                    f"Unexpected character {stripped[pos:].lstrip()[:1]!r} at "
                    f"position {pos} in program text {text!r}."
                )
            tokens.append(m.group(1))
            pos = m.end()
        if not tokens:
            raise ProgramParseError("Empty program text.")
        prog, k = cls._parse_tokens(tokens, 0, text)
        if k != len(tokens):
            raise ProgramParseError(f"Trailing text after program in {text!r}.")
        return prog

    @classmethod
    def _parse_tokens(cls, tokens: list[str], k: int, text: str) -> tuple[Program, int]:
        if k >= len(tokens):
            raise ProgramParseError(f"Unexpected end of program text {text!r}.")
        tok = tokens[k]
        if tok == ")":
            raise ProgramParseError(f"Unexpected ')' in program text {text!r}.")
        if tok != "(":
            return cls(tok), k + 1
        k += 1
        if k >= len(tokens) or tokens[k] in "()":
            raise ProgramParseError(
                f"Expected a production name after '(' in {text!r}."
            )
        symbol = tokens[k]
        k += 1
        children = []
        while True:
            if k >= len(tokens):
                raise ProgramParseError(f"Missing ')' in program text {text!r}.")
            if tokens[k] == ")":
                return cls(symbol, tuple(children)), k + 1
            child, k = cls._parse_tokens(tokens, k, text)
            children.append(child)

    # structure --------------------------------------------------------------
    @property
    def size(self) -> int:
        """Number of productions (nodes) in the program."""
        return 1 + sum(c.size for c in self.children)

    @property
    def depth(self) -> int:
        """Number of production levels (a leaf has depth 1)."""
        return 1 + max((c.depth for c in self.children), default=0)

    def walk(
        self, path: tuple[int, ...] = ()
    ) -> Iterator[tuple[tuple[int, ...], Program]]:
        """Yield ``(path, subprogram)`` for every node, in pre-order.

        Parameters
        ----------
        path : tuple of int, default=()
            Path of this program inside the enclosing one; prefixes every
            yielded path.

        Yields
        ------
        path : tuple of int
            Path of the node.
        subprogram : Program
            The node's subprogram.
        """
        yield path, self
        for i, c in enumerate(self.children):
            yield from c.walk(path + (i,))

    def symbols(self) -> list[str]:
        """Return the production names in pre-order.

        Returns
        -------
        list of str
            One name per node.
        """
        return [p.symbol for _, p in self.walk()]

    def cost(self, dsl: DSL) -> float:
        """Return the structural cost: the sum of the productions' costs.

        Parameters
        ----------
        dsl : DSL
            The grammar that defines the productions' costs.

        Returns
        -------
        float
            The cost.
        """
        return sum(dsl[p.symbol].cost for _, p in self.walk())


@dataclass(frozen=True)
class TypedNode:
    """A program node annotated with its production and hole type.

    Parameters
    ----------
    path : tuple of int
        Path of the node from the root.
    production : Production
        The DSL production named by the node.
    hole : FunctionType
        The hole the node fills.
    children : tuple of TypedNode
        The typed arguments, in slot order.
    """

    path: tuple[int, ...]
    production: object
    hole: FunctionType
    children: tuple[TypedNode, ...]


def typecheck(program: Program, dsl: DSL, hole: FunctionType) -> TypedNode:
    """Check ``program`` fills ``hole`` in ``dsl``; return the typed tree.

    Parameters
    ----------
    program : Program
        The program to check.
    dsl : DSL
        The grammar the program is written in.
    hole : FunctionType
        Root type, e.g. ``list[F] -> atom[O]``.

    Returns
    -------
    TypedNode
        The root of the typed tree.

    Raises
    ------
    GrammarError
        Naming the first offending path, production and hole.
    """

    def rec(p: Program, h: FunctionType, path: tuple[int, ...]) -> TypedNode:
        if p.symbol not in dsl:
            raise GrammarError(
                f"Unknown production {p.symbol!r} at path {path} (not in the DSL)."
            )
        prod = dsl[p.symbol]
        ct = prod.child_types(h, dsl.n_features)
        if ct is None:
            raise GrammarError(
                f"Production {p.symbol!r} at path {path} cannot fill a hole of type {h}."
            )
        if len(ct) != len(p.children):
            raise GrammarError(
                f"Production {p.symbol!r} at path {path} takes {len(ct)} argument(s), "
                f"got {len(p.children)}."
            )
        kids = tuple(
            rec(c, t, path + (i,)) for i, (c, t) in enumerate(zip(p.children, ct))
        )
        return TypedNode(path, prod, h, kids)

    return rec(program, hole, ())
