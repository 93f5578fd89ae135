"""The DSL: an immutable, validated set of productions over ``n_features`` inputs."""

from __future__ import annotations

from collections.abc import Iterable

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.grammar.production import Production
from sklearn_dpads.grammar.types import FunctionType

__all__ = ["DSL", "DSLBuilder"]


class DSL:
    """An immutable collection of productions for programs over ``n_features`` inputs.

    Build one with :class:`DSLBuilder` or :func:`sklearn_dpads.default_dsl`.

    Parameters
    ----------
    productions : iterable of Production
        Unique names.
    n_features : int
        Number of input features per frame.
    feature_names : list of str, optional
        Names of the input features (used in readable output only); unique
        after conversion to ``str``.
    """

    def __init__(
        self,
        productions: Iterable[Production],
        n_features: int,
        feature_names: list[str] | None = None,
    ) -> None:
        prods = tuple(productions)
        if (
            not isinstance(n_features, int)
            or isinstance(n_features, bool)
            or n_features < 1
        ):
            raise GrammarError(
                f"n_features must be a positive int, got {n_features!r}."
            )
        seen: set[str] = set()
        for p in prods:
            if not isinstance(p, Production):
                raise GrammarError(f"Expected a Production, got {type(p).__name__}.")
            if p.name in seen:
                raise GrammarError(f"Duplicate production name {p.name!r} in DSL.")
            seen.add(p.name)
            if p.params.get("indices") is not None:  # a leaf over a feature group
                bad = [i for i in p.params["indices"] if i >= n_features]
                if bad:
                    raise GrammarError(
                        f"Production {p.name!r} selects feature(s) {bad} but the "
                        f"input has only {n_features} features (indices 0 to "
                        f"{n_features - 1})."
                    )
        if not prods:
            raise GrammarError("A DSL needs at least one production.")
        if not any(p.arity == 0 for p in prods):
            raise GrammarError(
                "The DSL has no leaf production (arity 0), so no program can end."
            )
        if feature_names is not None:
            feature_names = [str(f) for f in feature_names]
            if len(feature_names) != n_features:
                raise GrammarError(
                    f"feature_names has {len(feature_names)} names but n_features "
                    f"is {n_features}."
                )
            first: dict[str, int] = {}
            for i, fname in enumerate(feature_names):
                j = first.setdefault(fname, i)
                if j != i:
                    raise GrammarError(
                        f"feature_names has the duplicate name {fname!r} (features "
                        f"{j} and {i}); feature names must be unique."
                    )
        self._productions = prods
        self._by_name = {p.name: p for p in prods}
        self.n_features = n_features
        self.feature_names = feature_names
        self._memo: dict = {}

    @property
    def productions(self) -> tuple[Production, ...]:
        """The productions, in definition order."""
        return self._productions

    def __getitem__(self, name: str) -> Production:
        try:
            return self._by_name[name]
        except KeyError:
            raise GrammarError(f"Unknown production {name!r} in this DSL.") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self._productions)

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self._productions)
        return f"DSL(n_features={self.n_features}, productions=[{names}])"

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_memo"] = {}
        return state

    # typing ---------------------------------------------------------------
    def expansions(self, hole: FunctionType) -> list[tuple[Production, tuple]]:
        """Return the productions that fit ``hole``, with their slot types.

        Parameters
        ----------
        hole : FunctionType
            The hole to fill.

        Returns
        -------
        list of tuple of (Production, tuple of FunctionType)
            In DSL order; depth is not considered.
        """
        out = []
        for p in self._productions:
            ct = p.child_types(hole, self.n_features)
            if ct is not None:
                out.append((p, ct))
        return out

    def can_complete(self, hole: FunctionType, depth: int) -> bool:
        """Whether some complete program of depth <= ``depth`` fills ``hole``.

        Parameters
        ----------
        hole : FunctionType
            The hole to fill.
        depth : int
            Maximum depth of the program (1: a single leaf).

        Returns
        -------
        bool
            True if such a program exists.
        """
        if depth < 1:
            return False
        key = ("cc", hole, depth)
        if key not in self._memo:
            self._memo[key] = any(
                all(self.can_complete(c, depth - 1) for c in ct)
                for _, ct in self.expansions(hole)
            )
        return self._memo[key]

    def feasible(
        self, hole: FunctionType, depth: int
    ) -> list[tuple[Production, tuple]]:
        """Return the expansions of ``hole`` that can be completed within ``depth`` levels.

        Parameters
        ----------
        hole : FunctionType
            The hole to fill.
        depth : int
            Maximum depth of the completed program, counting this production.

        Returns
        -------
        list of tuple of (Production, tuple of FunctionType)
            The subset of :meth:`expansions`, in DSL order.
        """
        key = ("fe", hole, depth)
        if key not in self._memo:
            self._memo[key] = [
                (p, ct)
                for p, ct in self.expansions(hole)
                if depth >= 1 and all(self.can_complete(c, depth - 1) for c in ct)
            ]
        return self._memo[key]

    def min_depth(self, hole: FunctionType, limit: int = 16) -> int | None:
        """Return the smallest depth of a complete program for ``hole``.

        Parameters
        ----------
        hole : FunctionType
            The hole to fill.
        limit : int, default=16
            Largest depth tried.

        Returns
        -------
        int or None
            The depth, or None if no program of depth <= ``limit`` fills ``hole``.
        """
        for d in range(1, limit + 1):
            if self.can_complete(hole, d):
                return d
        return None

    def check_root(self, hole: FunctionType, max_depth: int) -> None:
        """Raise :class:`GrammarError` if no program of depth <= max_depth fills ``hole``.

        Parameters
        ----------
        hole : FunctionType
            The root hole, ``input -> output`` of the whole program.
        max_depth : int
            Maximum program depth.
        """
        if not self.can_complete(hole, max_depth):
            md = self.min_depth(hole)
            extra = (
                f" The smallest program needs depth {md}."
                if md is not None
                else " No production sequence can fill it at any depth."
            )
            raise GrammarError(
                f"No program of depth <= {max_depth} fills the hole {hole}.{extra}"
            )


class DSLBuilder:
    """Collects productions and builds a validated :class:`DSL`.

    Parameters
    ----------
    n_features : int
        Number of input features per frame.
    feature_names : list of str, optional
        Names of the input features (used in readable output only).

    Examples
    --------
    >>> from sklearn_dpads.grammar import DSLBuilder, map_production, affine_production
    >>> dsl = (DSLBuilder(n_features=3)
    ...        .add(map_production())
    ...        .add(affine_production("affine_all", None))
    ...        .build())
    >>> len(dsl)
    2
    """

    def __init__(self, n_features: int, feature_names: list[str] | None = None) -> None:
        self.n_features = n_features
        self.feature_names = feature_names
        self._productions: list[Production] = []

    def add(self, production: Production) -> DSLBuilder:
        """Add a production.

        Parameters
        ----------
        production : Production
            A production whose name is not in the builder yet.

        Returns
        -------
        DSLBuilder
            This builder, for chaining.
        """
        if not isinstance(production, Production):
            raise GrammarError(
                f"DSLBuilder.add expects a Production, got {type(production).__name__}."
            )
        if any(p.name == production.name for p in self._productions):
            raise GrammarError(f"Duplicate production name {production.name!r} in DSL.")
        self._productions.append(production)
        return self

    def extend(self, productions: Iterable[Production]) -> DSLBuilder:
        """Add several productions.

        Parameters
        ----------
        productions : iterable of Production
            Productions whose names are not in the builder yet.

        Returns
        -------
        DSLBuilder
            This builder, for chaining.
        """
        for p in productions:
            self.add(p)
        return self

    def build(
        self, root: FunctionType | None = None, max_depth: int | None = None
    ) -> DSL:
        """Validate and return the DSL.

        Parameters
        ----------
        root : FunctionType, optional
            If given with ``max_depth``, check that some program fills it.
        max_depth : int, optional
            Depth limit for the root check (16 when omitted).

        Returns
        -------
        DSL
            The validated DSL.
        """
        dsl = DSL(self._productions, self.n_features, self.feature_names)
        if root is not None:
            dsl.check_root(root, max_depth if max_depth is not None else 16)
        return dsl
