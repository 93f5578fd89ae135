"""Synthetic sequence data sets with planted ground-truth programs.

Every generator is pure NumPy and returns a :class:`~sklearn.utils.Bunch` with
the data, the feature-group layout expected by the dPads grammar and a
human-readable description of the rule that produced the labels.
"""

import numbers

import numpy as np
from sklearn.utils import Bunch, check_random_state

__all__ = ["make_crim13_like", "make_planted_sequences"]

_LABEL_TYPES = ("sequence", "frame")
_RULES = ("threshold", "product")
# Number of final frames averaged by the sequence-level "threshold" rule.
_WINDOW = 5


def _check_int(name: str, value, min_value: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise ValueError(
            f"{name} must be an integer >= {min_value}; got {value!r} of type "
            f"{type(value).__name__}."
        )
    if value < min_value:
        raise ValueError(f"{name} must be an integer >= {min_value}; got {value}.")
    return int(value)


def _check_choice(name: str, value, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}; got {value!r}.")
    return value


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _group_name(index: int) -> str:
    """Spreadsheet-style name: 0 -> 'a', 25 -> 'z', 26 -> 'aa', ..."""
    name = ""
    index += 1
    while index > 0:
        index, rem = divmod(index - 1, 26)
        name = chr(ord("a") + rem) + name
    return name


def _round_sig(value: float, digits: int = 4) -> float:
    return float(f"{value:.{digits}g}")


def _ar1_features(rng, n_samples: int, n_timesteps: int, n_features: int):
    """Smooth stationary AR(1) processes with per-feature offset and scale."""
    phi = rng.uniform(0.7, 0.95, size=n_features)
    offset = rng.normal(0.0, 1.0, size=n_features)
    scale = rng.uniform(0.5, 2.0, size=n_features)
    innovation_scale = np.sqrt(1.0 - phi**2)
    z = np.empty((n_samples, n_timesteps, n_features), dtype=np.float64)
    z[:, 0] = rng.standard_normal((n_samples, n_features))
    for t in range(1, n_timesteps):
        z[:, t] = phi * z[:, t - 1] + innovation_scale * rng.standard_normal(
            (n_samples, n_features)
        )
    X = (offset + scale * z).astype(np.float32)
    return X, offset, scale


def _affine_expr(coef: np.ndarray, intercept: float, names: list[str]) -> str:
    terms = [(c, f"*{name}") for c, name in zip(coef, names, strict=True)]
    if intercept != 0.0:
        terms.append((intercept, ""))
    expr = ""
    for i, (value, suffix) in enumerate(terms):
        sign = "-" if value < 0 else "+"
        magnitude = f"{abs(value):.3f}{suffix}"
        if i == 0:
            expr = f"-{magnitude}" if value < 0 else magnitude
        else:
            expr += f" {sign} {magnitude}"
    return expr


def _class_thresholds(score: np.ndarray, n_classes: int, weights) -> np.ndarray:
    cumulative = np.cumsum(weights)[:-1] / np.sum(weights)
    thresholds = np.quantile(score, cumulative)
    return np.array([_round_sig(t) for t in thresholds], dtype=np.float64)


def _check_weights(weights, n_classes: int) -> np.ndarray:
    if weights is None:
        return np.full(n_classes, 1.0 / n_classes)
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"weights must be a sequence of {n_classes} positive numbers; got "
            f"{weights!r}."
        ) from exc
    if w.shape != (n_classes,):
        raise ValueError(
            f"weights must have one entry per class (n_classes={n_classes}); got "
            f"shape {w.shape}."
        )
    if not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError(f"weights must be finite and positive; got {w.tolist()}.")
    return w / w.sum()


def _apply_noise(rng, y: np.ndarray, noise: float, n_classes: int) -> np.ndarray:
    flip = rng.random(y.shape) < noise
    if flip.any():
        shift = rng.randint(1, n_classes, size=int(flip.sum()))
        y = y.copy()
        y[flip] = (y[flip] + shift) % n_classes
    return y


def make_planted_sequences(
    n_samples: int = 500,
    n_timesteps: int = 20,
    n_features: int = 8,
    *,
    label_type: str = "sequence",
    rule: str = "threshold",
    noise: float = 0.0,
    n_classes: int = 2,
    weights=None,
    random_state=None,
) -> Bunch:
    """Generate sequences whose labels are produced by a planted program.

    The features are smooth, stationary AR(1) processes with random per-feature
    offsets and scales.  Consecutive features are grouped in pairs named ``"a"``,
    ``"b"``, ... (the last group holds a single feature when ``n_features`` is
    odd); feature ``j`` of group ``"a"`` is named ``"a_j"``.  One or two groups
    are drawn at random and an affine function ``f_g(x) = coef . x_g +
    intercept`` of each is planted.  The planted score is

    * ``label_type="sequence"``, ``rule="threshold"``: the mean of ``f_a(x_t)``
      over the last 5 frames (or all frames if there are fewer);
    * ``label_type="sequence"``, ``rule="product"``: the mean over all frames of
      ``f_a(x_t) * f_b(x_t)``;
    * ``label_type="frame"``, ``rule="threshold"``: ``f_a(x_t)`` for every frame
      (a ``map`` of an affine function);
    * ``label_type="frame"``, ``rule="product"``: ``f_a(x_t) * f_b(x_t)`` for
      every frame (``map(multiply(affine_a, affine_b))``).

    The labels are obtained by cutting the score at its quantiles, so that class
    proportions follow ``weights`` (balanced by default): for two classes
    ``y = 1`` if the score exceeds the median.  The thresholds are rounded to 4
    significant digits before labelling, so the rule stored in ``rule`` (and in
    ``planted_affine`` / ``thresholds``) reproduces the noise-free labels exactly
    from ``X``.  Finally each label is replaced by a different, uniformly drawn
    class with probability ``noise``.

    Parameters
    ----------
    n_samples : int, default=500
        Number of sequences.
    n_timesteps : int, default=20
        Length of every sequence.
    n_features : int, default=8
        Number of features per frame.  ``rule="product"`` needs at least two
        groups, i.e. ``n_features >= 3``.
    label_type : {"sequence", "frame"}, default="sequence"
        One label per sequence (``y`` has shape ``(n_samples,)``) or one label
        per frame (``y`` has shape ``(n_samples, n_timesteps)``).
    rule : {"threshold", "product"}, default="threshold"
        Planted program, see above.
    noise : float, default=0.0
        Probability in ``[0, 1]`` that a label is replaced by another class.
    n_classes : int, default=2
        Number of classes (quantile bins of the planted score).
    weights : array-like of shape (n_classes,), default=None
        Relative class proportions (positive; normalised to sum to one).  None
        means balanced classes.
    random_state : int, RandomState instance or None, default=None
        Seed or generator for reproducible output.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes

        X : ndarray of shape (n_samples, n_timesteps, n_features), float32
            The sequences.
        y : ndarray of shape (n_samples,) or (n_samples, n_timesteps), int64
            The labels.
        feature_groups : dict of str to list of int
            Feature indices of every group.
        feature_names : list of str
            Name of every feature.
        rule : str
            Human-readable planted rule.
        planted_groups : list of str
            Groups used by the rule.
        planted_affine : dict of str to dict
            For every planted group, ``{"coef": ndarray, "intercept": float}``
            (coefficients apply to the group's features in order).
        thresholds : ndarray of shape (n_classes - 1,)
            Score thresholds between consecutive classes.
        DESCR : str
            Short description of the data set.

    Examples
    --------
    >>> from sklearn_dpads.datasets import make_planted_sequences
    >>> data = make_planted_sequences(n_samples=100, random_state=0)
    >>> data.X.shape, data.y.shape
    ((100, 20, 8), (100,))
    >>> sorted(data.feature_groups)
    ['a', 'b', 'c', 'd']
    """
    n_samples = _check_int("n_samples", n_samples, 1)
    n_timesteps = _check_int("n_timesteps", n_timesteps, 1)
    n_features = _check_int("n_features", n_features, 1)
    n_classes = _check_int("n_classes", n_classes, 2)
    label_type = _check_choice("label_type", label_type, _LABEL_TYPES)
    rule = _check_choice("rule", rule, _RULES)
    if not _is_real(noise) or not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise must be a probability in [0, 1]; got {noise!r}.")
    weights = _check_weights(weights, n_classes)
    if rule == "product" and n_features < 3:
        raise ValueError(
            "rule='product' needs at least two feature groups, i.e. "
            f"n_features >= 3; got n_features={n_features}."
        )
    rng = check_random_state(random_state)

    feature_groups: dict[str, list[int]] = {}
    feature_names: list[str] = []
    for g, start in enumerate(range(0, n_features, 2)):
        name = _group_name(g)
        idx = list(range(start, min(start + 2, n_features)))
        feature_groups[name] = idx
        feature_names.extend(f"{name}_{j}" for j in range(len(idx)))

    X, offset, scale = _ar1_features(rng, n_samples, n_timesteps, n_features)
    Xd = X.astype(np.float64)

    n_planted = 1 if rule == "threshold" else 2
    group_list = list(feature_groups)
    chosen = rng.choice(len(group_list), size=n_planted, replace=False)
    planted_groups = [group_list[i] for i in sorted(chosen)]

    planted_affine: dict[str, dict] = {}
    values = []
    for name in planted_groups:
        idx = feature_groups[name]
        w = rng.normal(size=len(idx))
        w /= np.linalg.norm(w)
        # Express the function in raw feature units; centre it for "product" so
        # that both factors change sign within the data.
        coef = np.round(w / scale[idx], 3)
        coef[coef == 0] = 0.001
        intercept = 0.0
        if rule == "product":
            intercept = round(
                float(-coef @ offset[idx] + rng.normal(scale=0.2 * np.abs(coef).sum())),
                3,
            )
        planted_affine[name] = {"coef": coef, "intercept": intercept}
        values.append(Xd[:, :, idx] @ coef + intercept)

    names = {
        name: _affine_expr(
            planted_affine[name]["coef"],
            planted_affine[name]["intercept"],
            [feature_names[i] for i in feature_groups[name]],
        )
        for name in planted_groups
    }
    defs = "; ".join(f"f_{name}(x) = {expr}" for name, expr in names.items())
    if rule == "threshold":
        per_frame = values[0]
        frame_expr = f"f_{planted_groups[0]}(x_t)"
    else:
        per_frame = values[0] * values[1]
        frame_expr = f"f_{planted_groups[0]}(x_t) * f_{planted_groups[1]}(x_t)"

    if label_type == "frame":
        score = per_frame
        score_expr = frame_expr
        target = "y_t"
    elif rule == "threshold":
        window = min(_WINDOW, n_timesteps)
        score = per_frame[:, -window:].mean(axis=1)
        score_expr = f"mean of {frame_expr} over the last {window} frames"
        target = "y"
    else:
        score = per_frame.mean(axis=1)
        score_expr = f"mean of {frame_expr} over all frames"
        target = "y"

    thresholds = _class_thresholds(score, n_classes, weights)
    y = np.digitize(score, thresholds, right=True).astype(np.int64)
    if n_classes == 2:
        decision = f"{target} = 1 if ({score_expr}) > {thresholds[0]:.4g} else 0"
    else:
        thr = ", ".join(f"{t:.4g}" for t in thresholds)
        decision = (
            f"{target} = number of thresholds [{thr}] strictly below ({score_expr})"
        )
    rule_text = f"{decision}, where {defs}"
    y = _apply_noise(rng, y, noise, n_classes)

    descr = (
        "Planted-program sequences: AR(1) features in groups of two, labels from "
        f"the rule '{rule}' at {label_type} level with {n_classes} classes and "
        f"label noise {noise}."
    )
    return Bunch(
        X=X,
        y=y,
        feature_groups=feature_groups,
        feature_names=feature_names,
        rule=rule_text,
        planted_groups=planted_groups,
        planted_affine=planted_affine,
        thresholds=thresholds,
        DESCR=descr,
    )


_CRIM13_GROUPS = {
    "position": [0, 1, 2, 3],
    "distance": [4],
    "distance_change": [5],
    "angle": [6, 7, 10],
    "angle_change": [8, 9],
    "velocity": [11, 12, 13, 14],
    "acceleration": [15, 16, 17, 18],
}

_CRIM13_NAMES = [
    "resident_x",
    "resident_y",
    "intruder_x",
    "intruder_y",
    "distance",
    "distance_change",
    "resident_angle",
    "intruder_angle",
    "resident_angle_change",
    "intruder_angle_change",
    "relative_angle",
    "resident_vx",
    "resident_vy",
    "intruder_vx",
    "intruder_vy",
    "resident_ax",
    "resident_ay",
    "intruder_ax",
    "intruder_ay",
]


def _wrap_angle(a: np.ndarray) -> np.ndarray:
    return (a + np.pi) % (2 * np.pi) - np.pi


def _simulate_mice(rng, n_samples: int, n_steps: int) -> np.ndarray:
    """Positions ``(n_samples, n_steps, 2 mice, 2 coords)`` in the unit arena."""
    positions = np.empty((n_samples, n_steps, 2, 2), dtype=np.float64)
    p = rng.uniform(0.1, 0.9, size=(n_samples, 2, 2))
    u = rng.normal(0.0, 0.01, size=(n_samples, 2, 2))
    active = rng.random((n_samples, 2)) < 0.5
    attraction = rng.uniform(0.0, 0.03, size=(n_samples, 1, 1))
    for t in range(n_steps):
        positions[:, t] = p
        active ^= rng.random((n_samples, 2)) < 0.05
        gain = np.where(active, 1.0, 0.15)[..., None]
        u = (
            0.85 * u
            + 0.006 * rng.standard_normal((n_samples, 2, 2))
            + attraction * (p[:, ::-1] - p)
        )
        p = p + gain * u
        above, below = p > 1.0, p < 0.0
        p = np.where(above, 2.0 - p, np.where(below, -p, p))
        u = np.where(above | below, -u, u)
    return positions


def make_crim13_like(
    n_samples: int = 12404,
    n_timesteps: int = 100,
    *,
    positive_rate: float = 0.15,
    random_state=None,
) -> Bunch:
    """Generate mouse-interaction trajectories with the CRIM13 feature layout.

    Two simulated mice (a resident and an intruder) move in a unit-square arena
    with smooth, mutually attracted random walks that alternate between active
    and resting phases.  The 19 per-frame features follow the layout of the
    CRIM13 features used by NEAR/dPads:

    ==========  ===============  ===============================================
    indices     group            content
    ==========  ===============  ===============================================
    0-3         position         x, y of the resident, x, y of the intruder
    4           distance         distance between the mice
    5           distance_change  frame-to-frame change of the distance
    6, 7, 10    angle            headings of resident and intruder; bearing of
                                 the intruder relative to the resident heading
    8, 9        angle_change     frame-to-frame change of the two headings
    11-14       velocity         vx, vy of the resident, vx, vy of the intruder
    15-18       acceleration     ax, ay of the resident, ax, ay of the intruder
    ==========  ===============  ===============================================

    Angles are in radians in ``[-pi, pi)``.  Each frame is labelled by the planted
    "close and slow" rule ``distance < d0 and resident speed < v0``, where the
    resident speed is ``sqrt(resident_vx**2 + resident_vy**2)``.  The thresholds
    are chosen from the data (and rounded to 4 significant digits) so that about
    ``positive_rate`` of all frames are positive; the labels are reproduced
    exactly by applying the rule to ``X``.

    Parameters
    ----------
    n_samples : int, default=12404
        Number of trajectories (12404 is the size of the CRIM13 training set).
    n_timesteps : int, default=100
        Length of every trajectory.
    positive_rate : float, default=0.15
        Target fraction of positive frames, in ``(0, 1)``.
    random_state : int, RandomState instance or None, default=None
        Seed or generator for reproducible output.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes

        X : ndarray of shape (n_samples, n_timesteps, 19), float32
            The trajectories' features.
        y : ndarray of shape (n_samples, n_timesteps), int64
            Per-frame labels.
        feature_groups : dict of str to list of int
            Feature indices of every group (see the table above).
        feature_names : list of str
            Name of every feature.
        rule : str
            Human-readable planted rule.
        planted_groups : list of str
            ``["distance", "velocity"]``.
        thresholds : dict of str to float
            ``{"distance": d0, "speed": v0}``.
        DESCR : str
            Short description of the data set.

    Examples
    --------
    >>> from sklearn_dpads.datasets import make_crim13_like
    >>> data = make_crim13_like(n_samples=50, n_timesteps=30, random_state=0)
    >>> data.X.shape, data.y.shape
    ((50, 30, 19), (50, 30))
    """
    n_samples = _check_int("n_samples", n_samples, 1)
    n_timesteps = _check_int("n_timesteps", n_timesteps, 1)
    if not _is_real(positive_rate) or not 0.0 < positive_rate < 1.0:
        raise ValueError(
            f"positive_rate must be a number in (0, 1); got {positive_rate!r}."
        )
    rng = check_random_state(random_state)
    T = n_timesteps

    # Two extra leading steps so that velocity and acceleration exist at t=0.
    pos = _simulate_mice(rng, n_samples, T + 2)
    vel = np.diff(pos, axis=1)  # (n, T + 1, 2, 2)
    acc = np.diff(vel, axis=1)  # (n, T, 2, 2)
    offset = pos[:, :, 1] - pos[:, :, 0]  # resident -> intruder, (n, T + 2, 2)
    dist = np.hypot(offset[..., 0], offset[..., 1])
    heading = np.arctan2(vel[..., 1], vel[..., 0])  # (n, T + 1, 2)
    bearing = np.arctan2(offset[..., 1], offset[..., 0])

    X = np.empty((n_samples, T, 19), dtype=np.float32)
    X[:, :, 0:4] = pos[:, 2:].reshape(n_samples, T, 4)
    X[:, :, 4] = dist[:, 2:]
    X[:, :, 5] = np.diff(dist, axis=1)[:, 1:]
    X[:, :, 6:8] = heading[:, 1:]
    X[:, :, 8:10] = _wrap_angle(np.diff(heading, axis=1))
    X[:, :, 10] = _wrap_angle(bearing[:, 2:] - heading[:, 1:, 0])
    X[:, :, 11:15] = vel[:, 1:].reshape(n_samples, T, 4)
    X[:, :, 15:19] = acc.reshape(n_samples, T, 4)

    # Planted rule, evaluated on the float32 features that are returned.
    distance = X[:, :, 4].astype(np.float64)
    speed = np.hypot(X[:, :, 11].astype(np.float64), X[:, :, 12].astype(np.float64))
    d0 = _round_sig(float(np.quantile(distance, np.sqrt(positive_rate))))
    close = distance < d0
    if close.any():
        v_q = min(1.0, positive_rate / close.mean())
        v0 = _round_sig(float(np.quantile(speed[close], v_q)))
    else:
        v0 = _round_sig(float(np.quantile(speed, positive_rate)))
    y = (close & (speed < v0)).astype(np.int64)

    rule_text = (
        f"y_t = 1 if distance_t < {d0:.4g} and "
        f"sqrt(resident_vx_t**2 + resident_vy_t**2) < {v0:.4g} else 0 "
        "(the mice are close and the resident is slow)"
    )
    descr = (
        "CRIM13-like synthetic mouse trajectories: 19 features in the CRIM13 "
        "layout, per-frame labels from the planted 'close and slow' rule."
    )
    return Bunch(
        X=X,
        y=y,
        feature_groups={k: list(v) for k, v in _CRIM13_GROUPS.items()},
        feature_names=list(_CRIM13_NAMES),
        rule=rule_text,
        planted_groups=["distance", "velocity"],
        thresholds={"distance": d0, "speed": v0},
        DESCR=descr,
    )
