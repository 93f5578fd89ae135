"""The built-in production library and the default DSL."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from sklearn_dpads.exceptions import GrammarError
from sklearn_dpads.grammar.dsl import DSL
from sklearn_dpads.grammar.production import Production
from sklearn_dpads.kinds import (
    KERNEL_WINDOW,
    MAP,
    add_production,
    affine_production,
    constant_production,
    difference_production,
    elementwise_production,
    filter_production,
    fold_production,
    ite_production,
    kernel_window_production,
    map_prefixes_production,
    map_production,
    multiply_production,
    quadratic_production,
    window_production,
)
from sklearn_dpads.utils._names import safe_identifier

__all__ = [
    "search_grammar",
    "default_dsl",
    "lag_maps",
    "longest_kernel_window",
    "make_production",
    "safe_identifier",
    "resolve_feature_groups",
]


def longest_kernel_window(dsl: DSL) -> int:
    """The length in frames of the longest kernel window of ``dsl`` (0: none).

    Parameters
    ----------
    dsl : DSL
        A grammar.

    Returns
    -------
    int
        The largest ``length`` of its ``kernel_window`` productions, 0 if it
        has none.
    """
    return max(
        (int(p.params["length"]) for p in dsl.productions if p.kind is KERNEL_WINDOW),
        default=0,
    )


def search_grammar(dsl: DSL) -> DSL:
    """The grammar of the differentiable search: ``dsl`` less its unsearched kinds.

    Productions whose kind says :attr:`~sklearn_dpads.grammar.Kind.searched`
    is False (quadratic leaves) are left out; the local search reaches them
    from the program found. A grammar that would keep no leaf is kept whole.

    Parameters
    ----------
    dsl : DSL
        A grammar.

    Returns
    -------
    DSL
        ``dsl`` itself when every kind is searched, else the grammar of the
        searched productions, with the same features.
    """
    kept = [p for p in dsl.productions if p.kind.searched]
    if len(kept) == len(dsl.productions) or not any(
        p.kind.role == "leaf" for p in kept
    ):
        return dsl
    return DSL(kept, dsl.n_features, dsl.feature_names)


def lag_maps(dsl: DSL, lag: int) -> DSL:
    """``dsl`` with every ``map`` production reading the frame ``lag`` frames back.

    A per-frame program that reads ``future_frames = lag`` frames ahead
    decides frame ``t`` at frame ``t + lag``; its ``map`` then reads frame
    ``t`` itself, the labelled frame, while its windows and folds (under
    ``map_prefixes``) read up to ``t + lag``.

    Parameters
    ----------
    dsl : DSL
        A grammar.
    lag : int
        Frames back (0: ``dsl`` itself).

    Returns
    -------
    DSL
        The grammar with the same productions, its ``map`` ones lagged.
    """
    if not lag:
        return dsl
    productions = [
        dataclasses.replace(p, params={**p.params, "lag": int(lag)})
        if p.kind is MAP
        else p
        for p in dsl.productions
    ]
    return DSL(productions, dsl.n_features, dsl.feature_names)


def resolve_feature_groups(
    n_features: int,
    feature_groups: Mapping[str, Sequence[int]] | None = None,
    feature_names: Sequence[str] | None = None,
) -> dict[str, tuple[int, ...]]:
    """Validate ``feature_groups``; default to one group per feature.

    Parameters
    ----------
    n_features : int
        Features per frame.
    feature_groups : dict of str to list of int, optional
        Named groups of distinct feature indices in ``[0, n_features)``.
    feature_names : list of str, optional
        Names of the features; they name the default one-feature groups
        (``x0``, ``x1``, ... without them).

    Returns
    -------
    dict of str to tuple of int
        The groups, in the given order.

    Raises
    ------
    ValueError
        For empty groups, non-integer or out-of-range indices, group names
        that are equal as strings (``1`` and ``"1"``), or a
        ``feature_names`` of the wrong length or with a duplicate name.
    """
    if feature_names is not None and len(feature_names) != n_features:
        raise ValueError(
            f"feature_names has {len(feature_names)} names but X has {n_features} features."
        )
    if feature_names is not None:
        first: dict[str, int] = {}
        for i, fname in enumerate(feature_names):
            j = first.setdefault(str(fname), i)
            if j != i:
                raise ValueError(
                    f"feature_names has the duplicate name {str(fname)!r} (features "
                    f"{j} and {i}); feature names must be unique."
                )
    if feature_groups is None:
        names = (
            list(feature_names)
            if feature_names is not None
            else [f"x{i}" for i in range(n_features)]
        )
        return {str(names[i]): (i,) for i in range(n_features)}
    if not isinstance(feature_groups, Mapping):
        raise TypeError(
            "feature_groups must be a dict mapping group names to lists of feature "
            f"indices, got {type(feature_groups).__name__}."
        )
    if not feature_groups:
        raise ValueError(
            "feature_groups is empty; pass None for one group per feature."
        )
    out = {}
    keys: dict[str, object] = {}
    for name, idx in feature_groups.items():
        if str(name) in keys:
            raise ValueError(
                f"feature_groups has the keys {keys[str(name)]!r} and {name!r}, which "
                f"both become the group name {str(name)!r}; use distinct names."
            )
        keys[str(name)] = name
        if isinstance(idx, int | str | bytes) or not hasattr(idx, "__iter__"):
            raise TypeError(
                f"Feature group {name!r} must be a list of feature indices, got {idx!r}."
            )
        idx = list(idx)
        if not idx:
            raise ValueError(f"Feature group {name!r} is empty.")
        clean = []
        for i in idx:
            if isinstance(i, bool) or not isinstance(i, int | np.integer):
                raise TypeError(
                    f"Feature group {name!r} has a non-integer index {i!r}."
                )
            i = int(i)
            if not 0 <= i < n_features:
                raise ValueError(
                    f"Feature group {name!r} has index {i}, out of range for "
                    f"{n_features} features (0 to {n_features - 1})."
                )
            clean.append(i)
        if len(set(clean)) != len(clean):
            raise ValueError(f"Feature group {name!r} repeats an index: {clean}.")
        out[str(name)] = tuple(clean)
    return out


def default_dsl(
    n_features: int,
    feature_groups: Mapping[str, Sequence[int]] | None = None,
    feature_names: Sequence[str] | None = None,
    *,
    ite_beta: float = 1.0,
    full_affine: bool = True,
    constant: bool = True,
    extra_productions: Sequence[Production] = (),
    filters: Sequence[int] = (),
    difference: bool = False,
    fold_width: int | None = None,
    kernel_windows: Sequence[int] = (),
    windows: Sequence[int] = (),
    quadratic: bool = False,
) -> DSL:
    """The dPads/NEAR DSL over ``n_features`` inputs.

    Productions: ``map``, ``map_prefixes``, ``fold``, the window averages
    ``last5_avg``, ``last10_avg``, ``last3_avg`` and ``last6_avg`` (of the
    last 5, 10, 3 and 6 frames), ``ite``, ``add``,
    ``multiply``, one ``affine_<group>`` leaf per feature group, the full
    ``affine`` leaf and a learned constant ``const``. Optionally (all off by
    default): the frame difference ``diff`` (after the windows), quadratic
    leaves ``quadratic_<group>`` and learnable temporal filters
    ``filter<K>_<group>`` / ``filter<K>`` (after the affine leaves).

    Parameters
    ----------
    n_features : int
        Features per frame.
    feature_groups : dict of str to list of int, optional
        Named feature groups for the affine leaves; default one group per
        feature (named by ``feature_names`` or ``x0``, ``x1``, ...).
    feature_names : list of str, optional
        Names of the features.
    ite_beta : float, default=1.0
        Temperature of the soft if-then-else.
    full_affine : bool, default=True
        Include the affine leaf over all features.
    constant : bool, default=True
        Include the learned-constant leaf.
    extra_productions : sequence of Production
        User productions (see :func:`make_production`).
    filters : sequence of int, default=()
        Lengths ``K`` of learnable causal temporal filters (see
        :func:`~sklearn_dpads.kinds.filter_production`). For each length,
        one leaf ``filter<K>_<group>`` per feature group and, when
        ``full_affine``, ``filter<K>`` over all features. A filter fills
        ``list -> atom`` holes with ``b + sum_{j<K} W_j x_{t-j}[group]``.
    difference : bool, default=False
        Include ``diff``, which applies its argument to the frame differences
        ``x_t - x_{t-1}`` (zero at the first frame); see
        :func:`~sklearn_dpads.kinds.difference_production`.
    fold_width : int or None, default=None
        Size of the ``fold`` state; the fold then ends with a learned affine
        readout of its last state (see
        :func:`~sklearn_dpads.kinds.fold_production`). None: the state has
        the output's size (one number for a binary problem), no readout.
    kernel_windows : sequence of int, default=()
        Lengths ``K`` of windows that can sit anywhere in the last ``K``
        frames: ``kernel<K>_avg(f)`` is a weighted mean of ``f`` whose
        weights are a bump over the lags with a learned centre and width (see
        :func:`~sklearn_dpads.kinds.kernel_window_production`). They come
        after the fixed windows.
    windows : sequence of int, default=()
        Lengths ``K`` of further fixed windows ``last<K>_avg``, the mean of
        ``f`` over the last ``K`` frames (for example the whole of a long
        clip). They come after the other productions, before
        ``extra_productions``; a length of a default window (3, 5, 6, 10)
        is an error.
    quadratic : bool, default=False
        Include one quadratic leaf ``quadratic_<group>`` per feature group
        of two or more features (after the affine leaves): the group's
        affine terms plus its squares and products, so that a threshold on
        a magnitude such as a speed is one leaf (see
        :func:`~sklearn_dpads.kinds.quadratic_production`). The estimator's
        default grammar holds them for per-frame labels.

    Returns
    -------
    DSL
        The grammar, validated.

    Raises
    ------
    GrammarError
        If a filter or window length is not an int >= 1 or is repeated, a
        window length is one of the default windows', or ``fold_width`` is
        not an int >= 1.
    """
    groups = resolve_feature_groups(n_features, feature_groups, feature_names)
    fixed = _lengths(windows, "windows", "window length")
    if clash := sorted(set(fixed) & {3, 5, 6, 10}):
        raise GrammarError(
            f"windows repeats the default window length(s) {clash}: "
            f"last{clash[0]}_avg is in the default DSL already."
        )
    prods = [
        map_production(),
        map_prefixes_production(),
        fold_production("fold", fold_width),
        window_production("last5_avg", 4),
        window_production("last10_avg", 9),
        window_production("last3_avg", 2),
        window_production("last6_avg", 5),
    ]
    prods += [
        kernel_window_production(f"kernel{K}_avg", K)
        for K in _lengths(kernel_windows, "kernel_windows", "kernel window length")
    ]
    if difference:
        prods.append(difference_production("diff"))
    prods += [ite_production("ite", ite_beta), add_production(), multiply_production()]
    lengths = _lengths(filters, "filters", "filter length")
    used = {p.name for p in prods} | {"affine", "const"}
    used |= {f"filter{K}" for K in lengths if full_affine}
    used |= {p.name for p in extra_productions}

    def unique(pname: str) -> str:
        if pname in used:
            return safe_identifier(pname, used)
        used.add(pname)
        return pname

    for gname, idx in groups.items():
        prods.append(
            affine_production(unique("affine_" + safe_identifier(gname)), idx, gname)
        )
    if full_affine:
        prods.append(affine_production("affine", None, None))
    if quadratic:
        for gname, idx in groups.items():
            if len(idx) >= 2:
                pname = unique("quadratic_" + safe_identifier(gname))
                prods.append(quadratic_production(pname, idx, gname))
    for K in lengths:
        for gname, idx in groups.items():
            pname = unique(f"filter{K}_" + safe_identifier(gname))
            prods.append(filter_production(pname, K, idx, gname))
        if full_affine:
            prods.append(filter_production(f"filter{K}", K, None, None))
    if constant:
        prods.append(constant_production("const"))
    prods += [window_production(unique(f"last{K}_avg"), K - 1) for K in fixed]
    prods.extend(extra_productions)
    return DSL(
        prods, n_features, list(feature_names) if feature_names is not None else None
    )


def _lengths(lengths: Sequence[int], what: str, item: str) -> list[int]:
    """Validate a sequence of frame counts of ``default_dsl``: distinct ints >= 1.

    ``what`` names the argument (``"filters"``), ``item`` one of its entries
    (``"filter length"``).
    """
    if isinstance(lengths, int | str | bytes) or not hasattr(lengths, "__iter__"):
        raise GrammarError(
            f"{what} must be a sequence of {item}s (ints >= 1), got {lengths!r}."
        )
    out: list[int] = []
    for K in lengths:
        if isinstance(K, np.integer):
            K = int(K)
        if not isinstance(K, int) or isinstance(K, bool) or K < 1:
            raise GrammarError(f"{item.capitalize()} must be an int >= 1, got {K!r}.")
        if K in out:
            raise GrammarError(f"{what} repeats the length {K}: {list(lengths)}.")
        out.append(K)
    return out


def make_production(
    name: str,
    function: Callable[..., Any],
    arity: int,
    *,
    python_function: Callable[..., float],
    sympy_function: Callable[..., Any] | None = None,
    cost: float = 1.0,
) -> Production:
    """Make a user production, like gplearn's ``make_function``.

    The production is an element-wise combinator of ``arity`` atom functions:
    it fills ``atom[d] -> atom[k]`` holes and computes
    ``function(f_1(x), ..., f_arity(x))``.

    Parameters
    ----------
    name : str
        Unique identifier used in program text.
    function : callable
        Element-wise function of ``arity`` torch tensors, e.g. ``torch.maximum``.
    arity : int
        1 to 3.
    python_function : callable
        The same function on floats using only the standard library; a named
        module-level ``def`` (its source is copied into exported programs).
    sympy_function : callable, optional
        The same function on sympy expressions (default: an undefined sympy
        function called ``name``).
    cost : float, default=1.0
        Structural cost.

    Returns
    -------
    Production
        Pass it to ``ProgramSynthesisClassifier(extra_productions=[...])``.

    Raises
    ------
    GrammarError
        If the functions fail, change the shape, or disagree.
    """
    prod = elementwise_production(
        name,
        function,
        arity,
        python_function=python_function,
        sympy_function=sympy_function,
        cost=cost,
    )
    gen = torch.Generator().manual_seed(0)
    args = [torch.randn(7, 3, generator=gen, dtype=torch.float64) for _ in range(arity)]
    try:
        out = function(*args)
    except Exception as exc:
        raise GrammarError(f"function of {name!r} failed on tensors: {exc}") from exc
    if not isinstance(out, torch.Tensor) or out.shape != args[0].shape:
        raise GrammarError(
            f"function of {name!r} must return a tensor of its arguments' shape "
            f"{tuple(args[0].shape)}, got {getattr(out, 'shape', type(out).__name__)}."
        )
    for r in range(7):
        for c in range(3):
            try:
                want = float(python_function(*[float(a[r, c]) for a in args]))
            except Exception as exc:
                raise GrammarError(
                    f"python_function of {name!r} failed on sample ({r}, {c}): {exc}"
                ) from exc
            got = float(out[r, c])
            if not (
                math.isclose(want, got, rel_tol=1e-6, abs_tol=1e-9)
                or (math.isnan(want) and math.isnan(got))
            ):
                raise GrammarError(
                    f"function and python_function of {name!r} disagree: "
                    f"{got!r} vs {want!r} at sample ({r}, {c})."
                )
    return prod
