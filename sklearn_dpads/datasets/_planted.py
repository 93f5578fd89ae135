"""A suite of synthetic sequence data sets, each with one planted program.

Every rule of :func:`make_planted_suite` reads one or more *named* feature
groups ("distance", "velocity", "signal", ...) and ignores the distractor
groups, so a program-synthesis classifier can be checked for recovering both
the rule and the groups it reads.  Pure NumPy: no torch.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import Bunch, check_random_state

from sklearn_dpads.datasets._synthetic import _check_int

__all__ = ["PLANTED_RULES", "make_planted_suite"]

#: Names of the rules of :func:`make_planted_suite`.
PLANTED_RULES: tuple[str, ...] = (
    "close_and_slow",
    "energy_multiclass",
    "count_fold",
    "window_mean_threshold",
    "product",
    "switch",
)

_MIN_SAMPLES = 10
_MIN_TIMESTEPS = 10
# Number of final frames read by the window_mean_threshold and product rules.
_WINDOW = 10
_N_LIMBS = 4


def _round_sig(value: float, digits: int = 4) -> float:
    return float(f"{value:.{digits}g}")


def _ar1(rng, n_samples: int, n_timesteps: int, n_features: int, phi) -> np.ndarray:
    """Stationary AR(1) processes with unit variance, float64 (n, T, k)."""
    phi = np.broadcast_to(np.asarray(phi, dtype=np.float64), (n_features,))
    innovation_scale = np.sqrt(1.0 - phi**2)
    z = np.empty((n_samples, n_timesteps, n_features), dtype=np.float64)
    z[:, 0] = rng.standard_normal((n_samples, n_features))
    for t in range(1, n_timesteps):
        z[:, t] = phi * z[:, t - 1] + innovation_scale * rng.standard_normal(
            (n_samples, n_features)
        )
    return z


def _distractor(rng, n_samples: int, n_timesteps: int, n_features: int):
    """Smooth AR(1) noise with random per-feature smoothness, offset and scale."""
    phi = rng.uniform(0.7, 0.95, size=n_features)
    offset = rng.normal(0.0, 1.0, size=n_features)
    scale = rng.uniform(0.5, 2.0, size=n_features)
    return offset + scale * _ar1(rng, n_samples, n_timesteps, n_features, phi)


def _assemble(blocks):
    """Stack ``(group, feature_names, values)`` blocks into X, names and groups.

    The labels are computed from the returned float32 ``X`` (read back as
    float64), never from the float64 values, so that they follow from ``X``
    exactly.
    """
    arrays, names, groups = [], [], {}
    start = 0
    for group, feature_names, values in blocks:
        groups[group] = list(range(start, start + len(feature_names)))
        names.extend(feature_names)
        arrays.append(values)
        start += len(feature_names)
    X = np.concatenate(arrays, axis=2).astype(np.float32)
    return X, names, groups


def _column(X: np.ndarray, groups: dict, group: str, j: int = 0) -> np.ndarray:
    return X[:, :, groups[group][j]].astype(np.float64)


# --------------------------------------------------------------------- rules
def _data(
    X, y, names, groups, planted, rule, thresholds, label_type="sequence", n_classes=2
) -> dict:
    """The fields of a suite data set, as every rule's generator returns them."""
    return {
        "X": X,
        "y": y,
        "feature_names": names,
        "feature_groups": groups,
        "planted_groups": planted,
        "label_type": label_type,
        "n_classes": n_classes,
        "thresholds": thresholds,
        "rule": rule,
    }


def _close_and_slow(rng, n: int, T: int) -> dict:
    blocks = [
        ("position", ["pos_x", "pos_y"], _distractor(rng, n, T, 2)),
        ("distance", ["distance"], np.exp(0.5 * _ar1(rng, n, T, 1, 0.95))),
        ("heading", ["heading"], _distractor(rng, n, T, 1)),
        ("velocity", ["vx", "vy"], 0.5 * _ar1(rng, n, T, 2, 0.85)),
        ("pose", ["pose_0", "pose_1"], _distractor(rng, n, T, 2)),
    ]
    X, names, groups = _assemble(blocks)
    distance = _column(X, groups, "distance")
    vx, vy = _column(X, groups, "velocity", 0), _column(X, groups, "velocity", 1)
    speed = np.sqrt(vx**2 + vy**2)
    # both conditions hold on about half of the frames, independently: ~25%
    d0 = _round_sig(float(np.quantile(distance, 0.5)))
    v0 = _round_sig(float(np.quantile(speed, 0.5)))
    y = ((distance < d0) & (speed < v0)).astype(np.int64)
    text = (
        f"y_t = 1 if distance_t < {d0:.4g} and sqrt(vx_t**2 + vy_t**2) < {v0:.4g} "
        "else 0 (close and slow)"
    )
    return _data(
        X,
        y,
        names,
        groups,
        ("distance", "velocity"),
        text,
        {"distance": d0, "speed": v0},
        label_type="frame",
    )


def _energy_multiclass(rng, n: int, T: int) -> dict:
    def limb(name: str):
        # per-sequence constant offset (no movement) and random movement amplitude
        offset = rng.normal(0.0, 2.0, size=(n, 1, 2))
        amplitude = np.exp(rng.normal(0.0, 0.5, size=(n, 1, 1)))
        values = offset + amplitude * _ar1(rng, n, T, 2, 0.8)
        return (name, [f"{name}_x", f"{name}_y"], values)

    tail_amplitude = np.exp(rng.normal(0.0, 0.5, size=(n, 1, 1)))
    blocks = [
        ("head", ["head_x", "head_y"], _distractor(rng, n, T, 2)),
        limb("limb0"),
        limb("limb1"),
        ("tail", ["tail_x", "tail_y"], tail_amplitude * _distractor(rng, n, T, 2)),
        limb("limb2"),
        limb("limb3"),
    ]
    X, names, groups = _assemble(blocks)
    limbs = tuple(f"limb{g}" for g in range(_N_LIMBS))
    energy = np.stack(
        [
            (np.diff(X[:, :, groups[g]].astype(np.float64), axis=1) ** 2)
            .sum(axis=2)
            .mean(axis=1)
            for g in limbs
        ],
        axis=1,
    )
    y = np.argmax(energy, axis=1).astype(np.int64)
    text = (
        "y = argmax over g in (limb0, limb1, limb2, limb3) of energy_g, where "
        "energy_g = mean over t = 1..T-1 of sum over the features j of group g "
        "of (x_t[j] - x_{t-1}[j])**2 (movement energy; class k is limb k)"
    )
    return _data(X, y, names, groups, limbs, text, {}, n_classes=_N_LIMBS)


def _count_fold(rng, n: int, T: int) -> dict:
    level = rng.normal(0.0, 1.0, size=(n, 1, 1))
    blocks = [
        ("context", ["context_0", "context_1"], _distractor(rng, n, T, 2)),
        ("signal", ["signal"], level + _ar1(rng, n, T, 1, 0.8)),
        ("noise", ["noise_0", "noise_1"], _distractor(rng, n, T, 2)),
    ]
    X, names, groups = _assemble(blocks)
    signal = _column(X, groups, "signal")
    c = _round_sig(float(np.quantile(signal, 0.75)))
    counts = (signal > c).sum(axis=1)
    # the smallest k whose positive rate is closest to one half
    rates = np.array([(counts >= k).mean() for k in range(1, T + 1)])
    k = int(np.argmin(np.abs(rates - 0.5))) + 1
    y = (counts >= k).astype(np.int64)
    text = (
        f"y = 1 if the number of frames t with signal_t > {c:.4g} is at least {k} "
        "else 0"
    )
    return _data(X, y, names, groups, ("signal",), text, {"signal": c, "count": k})


def _window_mean_threshold(rng, n: int, T: int) -> dict:
    level = rng.normal(0.0, 0.5, size=(n, 1, 1))
    blocks = [
        ("noise", ["noise_0", "noise_1"], _distractor(rng, n, T, 2)),
        ("signal", ["signal"], level + _ar1(rng, n, T, 1, 0.9)),
        ("context", ["context_0", "context_1"], _distractor(rng, n, T, 2)),
    ]
    X, names, groups = _assemble(blocks)
    score = _column(X, groups, "signal")[:, -_WINDOW:].mean(axis=1)
    t = _round_sig(float(np.quantile(score, 0.5)))
    y = (score > t).astype(np.int64)
    text = (
        f"y = 1 if the mean of signal_t over the last {_WINDOW} frames > {t:.4g} else 0"
    )
    return _data(X, y, names, groups, ("signal",), text, {"signal": t})


def _product(rng, n: int, T: int) -> dict:
    # a per-sequence correlation between the factors moves the mean product
    rho = rng.uniform(-0.9, 0.9, size=(n, 1, 1))
    a = _ar1(rng, n, T, 1, 0.85)
    b = rho * a + np.sqrt(1.0 - rho**2) * _ar1(rng, n, T, 1, 0.85)
    blocks = [
        ("context", ["context_0", "context_1"], _distractor(rng, n, T, 2)),
        ("signal_a", ["signal_a"], a),
        ("noise", ["noise_0", "noise_1"], _distractor(rng, n, T, 2)),
        ("signal_b", ["signal_b"], b),
    ]
    X, names, groups = _assemble(blocks)
    a = _column(X, groups, "signal_a")
    b = _column(X, groups, "signal_b")
    score = (a * b)[:, -_WINDOW:].mean(axis=1)
    t = _round_sig(float(np.quantile(score, 0.5)))
    y = (score > t).astype(np.int64)
    text = (
        f"y = 1 if the mean of signal_a_t * signal_b_t over the last {_WINDOW} "
        f"frames > {t:.4g} else 0"
    )
    return _data(X, y, names, groups, ("signal_a", "signal_b"), text, {"product": t})


def _switch(rng, n: int, T: int) -> dict:
    blocks = [
        ("context", ["context_0", "context_1"], _distractor(rng, n, T, 2)),
        ("signal_a", ["signal_a"], _ar1(rng, n, T, 1, 0.85)),
        ("gate", ["gate"], _ar1(rng, n, T, 1, 0.9)),
        ("noise", ["noise_0", "noise_1"], _distractor(rng, n, T, 2)),
        ("signal_b", ["signal_b"], _ar1(rng, n, T, 1, 0.85)),
    ]
    X, names, groups = _assemble(blocks)
    gate = _column(X, groups, "gate")
    a = _column(X, groups, "signal_a")
    b = _column(X, groups, "signal_b")
    y = np.where(gate > 0.0, a > 0.0, b > 0.0).astype(np.int64)
    text = (
        "y_t = (1 if signal_a_t > 0 else 0) if gate_t > 0 "
        "else (1 if signal_b_t > 0 else 0)"
    )
    return _data(
        X,
        y,
        names,
        groups,
        ("gate", "signal_a", "signal_b"),
        text,
        {"gate": 0.0, "signal_a": 0.0, "signal_b": 0.0},
        label_type="frame",
    )


_GENERATORS = {
    "close_and_slow": _close_and_slow,
    "energy_multiclass": _energy_multiclass,
    "count_fold": _count_fold,
    "window_mean_threshold": _window_mean_threshold,
    "product": _product,
    "switch": _switch,
}


def make_planted_suite(
    rule: str,
    *,
    n_samples: int = 1000,
    n_timesteps: int = 50,
    random_state: int | np.random.RandomState | None = None,
) -> Bunch:
    """Generate sequences labelled by one simple program over named feature groups.

    Every feature is a smooth time series (a stationary AR(1) process or a
    function of one).  The label reads only the *planted* groups; the other
    groups are independent distractors that carry no information about it.
    Thresholds are quantiles of the generated data rounded to 4 significant
    digits, and the labels are computed from the returned float32 ``X``
    (without label noise), so the rule, with the values in ``thresholds``,
    reproduces ``y`` exactly.  The rules (``x_t`` is frame ``t``; "last 10
    frames" means ``t = T - 10, ..., T - 1``):

    ``"close_and_slow"``
        Per-frame, binary: ``y_t = distance_t < d0 and sqrt(vx_t**2 + vy_t**2)
        < v0``.  ``d0`` and ``v0`` are the medians of the distance and of the
        speed over all frames, so about 25% of the frames are positive.
        Planted groups ``"distance"`` (one feature) and ``"velocity"`` (``vx``,
        ``vy``); distractors ``"position"``, ``"heading"``, ``"pose"``.
    ``"energy_multiclass"``
        Per-sequence, 4 classes: ``y`` is the ``k`` of the group ``"limbk"``
        (``k = 0..3``, two features each) with the largest movement energy,
        the mean over ``t = 1..T-1`` of the sum over the group's features of
        the squared frame-to-frame difference ``(x_t[j] - x_{t-1}[j])**2``.
        Each limb has a random per-sequence offset (which does not move) and
        amplitude, so the classes are balanced.  Distractors ``"head"`` and
        ``"tail"``.
    ``"count_fold"``
        Per-sequence, binary: ``y = #{t : signal_t > c} >= k``, with ``c`` the
        75% quantile of ``signal`` over all frames and ``k`` the count
        threshold whose positive rate is closest to one half.  Planted group
        ``"signal"`` (one feature); distractors ``"context"`` and ``"noise"``.
    ``"window_mean_threshold"``
        Per-sequence, binary: ``y = mean(signal_t over the last 10 frames) >
        thr``, ``thr`` the median of that mean.  Planted group ``"signal"``;
        distractors ``"noise"`` and ``"context"``.
    ``"product"``
        Per-sequence, binary: ``y = mean(signal_a_t * signal_b_t over the last
        10 frames) > thr``, ``thr`` the median of that mean.  Planted groups
        ``"signal_a"`` and ``"signal_b"``; distractors ``"context"`` and
        ``"noise"``.
    ``"switch"``
        Per-frame, binary, an if-then-else: ``y_t = signal_a_t > 0 if gate_t >
        0 else signal_b_t > 0``.  Planted groups ``"gate"``, ``"signal_a"`` and
        ``"signal_b"``; distractors ``"context"`` and ``"noise"``.

    Parameters
    ----------
    rule : str
        Name of the planted rule, one of :data:`PLANTED_RULES`.
    n_samples : int, default=1000
        Number of sequences, at least 10.
    n_timesteps : int, default=50
        Length of every sequence, at least 10 (the window rules read the last
        10 frames).
    random_state : int, RandomState instance or None, default=None
        Seed or generator for reproducible output, see
        :func:`sklearn.utils.check_random_state`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes

        X : ndarray of shape (n_samples, n_timesteps, n_features), float32
            The sequences.
        y : ndarray of shape (n_samples,) or (n_samples, n_timesteps), int64
            The labels: one per sequence or one per frame (see ``label_type``).
        feature_names : list of str
            Name of every feature.
        feature_groups : dict of str to list of int
            Feature indices of every group; the groups partition the features.
        planted_groups : tuple of str
            The groups the rule reads.
        label_type : {"sequence", "frame"}
            Whether ``y`` holds one label per sequence or per frame.
        n_classes : int
            Number of classes of the rule (2, or 4 for ``"energy_multiclass"``).
        rule : str
            Human-readable rule with the actual thresholds.
        rule_name : str
            The ``rule`` argument.
        thresholds : dict of str to float
            The thresholds of the rule (``{}`` for ``"energy_multiclass"``; the
            ``"count"`` entry of ``"count_fold"`` is an int).
        DESCR : str
            Description of the data set.

    Raises
    ------
    ValueError
        If ``rule`` is not one of :data:`PLANTED_RULES`, if ``n_samples`` or
        ``n_timesteps`` is not an integer of at least 10, or if
        ``random_state`` cannot seed a generator.

    See Also
    --------
    make_planted_sequences : Planted affine rules over random pairs of features.
    make_crim13_like : Mouse trajectories labelled by a close-and-slow rule.

    Examples
    --------
    >>> from sklearn_dpads.datasets import make_planted_suite
    >>> data = make_planted_suite("close_and_slow", n_samples=20, random_state=0)
    >>> data.X.shape, data.y.shape
    ((20, 50, 8), (20, 50))
    >>> data.planted_groups
    ('distance', 'velocity')
    """
    if not isinstance(rule, str) or rule not in _GENERATORS:
        raise ValueError(f"rule must be one of {list(PLANTED_RULES)}; got {rule!r}.")
    n_samples = _check_int("n_samples", n_samples, _MIN_SAMPLES)
    n_timesteps = _check_int("n_timesteps", n_timesteps, _MIN_TIMESTEPS)
    rng = check_random_state(random_state)

    data = _GENERATORS[rule](rng, n_samples, n_timesteps)
    groups = data["feature_groups"]
    distractors = [g for g in groups if g not in data["planted_groups"]]
    descr = (
        f"Planted-program suite, rule {rule!r}: {n_samples} sequences of "
        f"{n_timesteps} frames with {data['X'].shape[2]} smooth features, "
        f"{data['label_type']}-level labels with {data['n_classes']} classes.\n"
        f"Rule: {data['rule']}.\n"
        f"Planted groups: {', '.join(data['planted_groups'])}; distractor groups "
        f"(no signal): {', '.join(distractors)}.\n"
        "Feature groups: "
        + "; ".join(
            f"{g} = [{', '.join(data['feature_names'][i] for i in idx)}]"
            for g, idx in groups.items()
        )
        + "."
    )
    return Bunch(rule_name=rule, DESCR=descr, **data)
