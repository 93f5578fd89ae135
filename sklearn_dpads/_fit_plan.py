"""What ``fit`` decides before training: a frozen :class:`FitPlan`.

``make_plan`` resolves the estimator's parameters on the data once: grammar,
program type, class weights, splits, batch sizes, threshold policy, time
budgets, and every seed from one :class:`numpy.random.SeedSequence`.
:func:`sklearn_dpads._fit_run.run_plan` then runs the plan.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight

from sklearn_dpads._threshold import threshold_logit_offset
from sklearn_dpads.grammar.dsl import DSL
from sklearn_dpads.grammar.production import Production
from sklearn_dpads.grammar.types import Atom, FunctionType, Seq
from sklearn_dpads.library import (
    default_dsl,
    lag_maps,
    longest_kernel_window,
    search_grammar,
)
from sklearn_dpads.preprocessing import SequenceStandardScaler
from sklearn_dpads.search.driver import SearchConfig, SearchSeeds
from sklearn_dpads.training.search_trainer import TrainerSettings
from sklearn_dpads.utils._splits import split_indices, subsample_indices

__all__ = ["FitPlan", "long_clips", "make_plan", "resolve_future_frames"]

# share of ``max_time`` the search may use; the rest is kept for the fine-tune
SEARCH_TIME_SHARE = 0.85
#: Longest kernel window of the default DSL, in frames.
MAX_KERNEL = 16
#: Most frames (of both splits together) the local search trains its
#: neighbours on; larger data is subsampled for it, and the program it ends on
#: is fine-tuned on all the data again.
MAX_GROW_FRAMES = 300_000
#: Most frames of the program-weight split that the local search screens its
#: neighbours on (a short training that only ranks them); the finalists are
#: trained on the whole local-search split.
MAX_SCREEN_FRAMES = 60_000


@dataclass(frozen=True)
class FitPlan:
    """The resolved settings and data splits of one ``fit``.

    Attributes
    ----------
    dsl : DSL
        The grammar searched.
    scaler : SequenceStandardScaler
        The (unfitted) input scaling.
    hole : FunctionType
        Type of the program (input to output).
    n_classes : int
        Number of classes.
    class_weight : ndarray or None
        Per-class loss weights.
    idx_train, idx_arch : ndarray of int
        Program-weight and architecture splits of all the data.
    search_train, search_arch : ndarray of int
        The same splits restricted to the search subsample.
    trainer : TrainerSettings
        How candidates are trained and scored.
    search : SearchConfig
        Search settings.
    seed : int
        Seed of torch during the search.
    search_seeds : SearchSeeds
        Seeds of every training of the search.
    finetune_seed : int
        Seed of the final fine-tune.
    finetune_epochs : int
        Epochs of the final fine-tune (0: none).
    finetune_patience : int or None
        Its early-stopping patience.
    finetune_batch_size : int
        Its batch size.
    grow_steps : int
        Most edits of the local search after the selection (0: none; see
        :func:`~sklearn_dpads.search.grow.grow_program`).
    threshold : str
        ``"none"`` (keep 0.5), ``"fixed"`` (``logit_offset``) or ``"tune"``.
    logit_offset : float
        The fixed logit offset (``threshold == "fixed"``).
    search_time, total_time : float or None
        Time budgets of the search and of the whole fit.
    future_frames : int
        Frames after a labelled frame that its decision reads (per-frame
        labels; 0 otherwise), see :func:`resolve_future_frames`.
    grow_train, grow_arch : ndarray of int or None
        The splits restricted to the local search's subsample
        (:data:`MAX_GROW_FRAMES`); None: the whole splits.
    screen_train : ndarray of int or None
        The sequences of the local search's program-weight split that its
        screening trains on (:data:`MAX_SCREEN_FRAMES`); None: all of them.
    reshape : bool
        Whether the local search also reshapes programs (squares, relabels,
        ``diff``; see :func:`~sklearn_dpads.search.edits.neighbours`): for
        long per-sequence clips (:func:`long_clips`).
    search_dsl : DSL or None
        The differentiable search's grammar, ``dsl`` less its unsearched
        productions (:func:`~sklearn_dpads.library.search_grammar`); None:
        ``dsl`` itself. The local search and the fitted program use ``dsl``.
    """

    dsl: DSL
    scaler: SequenceStandardScaler
    hole: FunctionType
    n_classes: int
    class_weight: Any
    idx_train: np.ndarray
    idx_arch: np.ndarray
    search_train: np.ndarray
    search_arch: np.ndarray
    trainer: TrainerSettings
    search: SearchConfig
    seed: int
    search_seeds: SearchSeeds
    finetune_seed: int
    finetune_epochs: int
    finetune_patience: int | None
    finetune_batch_size: int
    grow_steps: int
    threshold: str
    logit_offset: float
    search_time: float | None
    total_time: float | None
    future_frames: int = 0
    grow_train: np.ndarray | None = None
    grow_arch: np.ndarray | None = None
    screen_train: np.ndarray | None = None
    reshape: bool = False
    search_dsl: DSL | None = None


def long_clips(label_type: str, n_timesteps: int) -> bool:
    """Whether labels are per sequence and sequences outgrow the kernel window.

    Such clips are summarised as a whole: the default grammar then holds the
    mean over all frames and ``diff`` (:func:`make_dsl`), and the local
    search reshapes programs (:attr:`FitPlan.reshape`). On shorter windows
    (up to :data:`MAX_KERNEL` frames) the kernel window covers every frame
    already; there the larger neighbourhood of the reshaping moves cost
    held-out F1 (CalMS21 investigation, 3 seeds: 0.748 / 0.735 / 0.759
    against 0.769 / 0.771 / 0.775) and half as much fit time again.

    Parameters
    ----------
    label_type : {"frame", "sequence"}
        One label per frame or per sequence.
    n_timesteps : int
        Frames of the (padded) sequences.

    Returns
    -------
    bool
        ``label_type == "sequence"`` and ``n_timesteps > MAX_KERNEL``.
    """
    return label_type == "sequence" and n_timesteps > MAX_KERNEL


def effective_batch_size(batch_size: int, n: int, min_steps: int = 4) -> int:
    """Shrink the batch on small data so that an epoch has >= ``min_steps`` steps.

    Parameters
    ----------
    batch_size : int
        Requested batch size.
    n : int
        Number of sequences.
    min_steps : int, default=4
        Least steps per epoch.

    Returns
    -------
    int
        The batch size to use (at least 8 unless ``batch_size`` is smaller).
    """
    return int(max(1, min(batch_size, max(8, -(-n // min_steps)))))


def make_dsl(
    est: Any,
    n_features: int,
    n_timesteps: int = 1,
    input_names=None,
    label_type: str = "frame",
) -> DSL:
    """The estimator's grammar for ``n_features`` input features.

    Parameters
    ----------
    est : ProgramSynthesisClassifier
        The estimator (its ``dsl``, ``feature_groups``, ``feature_names``,
        ``extra_productions``, ``ite_beta``).
    n_features : int
        Features per frame.
    n_timesteps : int, default=1
        Frames of the (padded) sequences; 1 for tabular input. The default
        DSL holds a kernel window over the last ``min(n_timesteps,
        MAX_KERNEL)`` frames when that is at least 2.
    input_names : sequence of str or None, default=None
        The input's own feature names (a DataFrame's columns), used when
        the estimator has no ``feature_names``.
    label_type : {"frame", "sequence"}, default="frame"
        One label per frame or per sequence. For per-sequence labels of
        sequences longer than the kernel window (``MAX_KERNEL`` frames), the
        default DSL also holds ``last<T>_avg``, the mean over all
        ``T = n_timesteps`` frames, and ``diff``, a function read on the frame
        differences: with them ``last<T>_avg(multiply(affine, affine))``
        under ``diff`` is a movement energy over the whole sequence. For
        per-frame labels the default DSL also holds one quadratic leaf
        ``quadratic_<group>`` per feature group of two or more features, so
        that a threshold on a magnitude (a speed from its two velocity
        components) is one leaf. Not for per-sequence labels: on CalMS21
        windows (13 frames) they cost held-out investigation F1 (0.692 /
        0.724 / 0.768 against 0.769 / 0.771 / 0.775) and half the fit time
        again, and on long clips a one-group quadratic leaf locked the
        search onto one limb's energy (planted four-limb energy, F1 0.33
        against 0.77).

    Returns
    -------
    DSL
        The user's DSL, or the default DSL.

    Raises
    ------
    ValueError
        If the DSL, names or groups do not fit the data, or the grammar is
        malformed (a :class:`~sklearn_dpads.exceptions.GrammarError`).
    TypeError
        If ``extra_productions`` holds something else than productions.
    """
    if est.dsl is not None:
        if est.dsl.n_features != n_features:
            raise ValueError(
                f"The dsl was built for {est.dsl.n_features} features but X has "
                f"{n_features}."
            )
        return est.dsl
    names = None if input_names is None else [str(n) for n in input_names]
    if est.feature_names is not None:
        names = [str(n) for n in est.feature_names]
        if len(names) != n_features:
            raise ValueError(
                f"feature_names has {len(names)} names but X has {n_features} features."
            )
    extra = list(est.extra_productions or [])
    for p in extra:
        if not isinstance(p, Production):
            raise TypeError(
                "extra_productions must contain Production objects (see "
                f"make_production), got {type(p).__name__}."
            )
    k = min(n_timesteps, MAX_KERNEL)
    # a user production of the same name replaces the default one
    named = {p.name for p in extra}
    kernel = (k,) if k >= 2 and f"kernel{k}_avg" not in named else ()
    # a kernel window covers sequences of up to MAX_KERNEL frames; longer
    # ones get a mean over all their frames, and frame differences
    whole = long_clips(label_type, n_timesteps)
    windows = (n_timesteps,) if whole and f"last{n_timesteps}_avg" not in named else ()
    return default_dsl(
        n_features,
        est.feature_groups,
        names,
        ite_beta=est.ite_beta,
        extra_productions=extra,
        difference=whole and "diff" not in named,
        kernel_windows=kernel,
        windows=windows,
        # per frame, a threshold on a magnitude (a speed) in one leaf; see
        # the docstring for why not for per-sequence labels
        quadratic=label_type == "frame",
    )


def resolve_future_frames(future_frames: Any, dsl: DSL, label_type: str) -> int:
    """The frames of look-ahead of a fit: ``future_frames`` with ``"auto"`` resolved.

    Parameters
    ----------
    future_frames : int or "auto"
        The estimator's parameter.
    dsl : DSL
        The grammar searched.
    label_type : {"sequence", "frame"}
        One label per sequence or per frame.

    Returns
    -------
    int
        0 for per-sequence labels (a sequence's label reads all its frames
        anyway); for per-frame labels the parameter, or for ``"auto"`` half
        the longest kernel window of the DSL (so that a window centred on the
        labelled frame reaches as far after it as before it), 0 without one.
    """
    if label_type != "frame":
        return 0
    if future_frames != "auto":
        return int(future_frames)
    return longest_kernel_window(dsl) // 2


def _class_weights(class_weight: Any, classes: np.ndarray, y_enc: np.ndarray):
    n = len(classes)
    if class_weight is None:
        return None
    if isinstance(class_weight, str):  # "balanced"
        present = np.unique(y_enc)
        w = np.ones(n)
        w[present] = compute_class_weight("balanced", classes=present, y=y_enc)
        return w.astype(np.float32)
    w = np.ones(n, dtype=np.float32)
    for k, v in class_weight.items():
        idx = np.flatnonzero(classes == k)
        if idx.size == 0:
            raise ValueError(f"class_weight has a label {k!r} that is not in y.")
        w[idx[0]] = float(v)
    return w


def _threshold_policy(est: Any, n_classes: int) -> tuple[str, float]:
    if n_classes != 2 or est.threshold is None:
        return "none", 0.0
    if est.threshold == "auto":
        # explicit per-class weights express the costs to trade off: keep them
        return ("none" if isinstance(est.class_weight, dict) else "tune"), 0.0
    return "fixed", threshold_logit_offset(float(est.threshold))


def _seed_sequence(random_state: Any) -> np.random.SeedSequence:
    """The root of every seed of a fit.

    An int seeds it directly; a RandomState instance or None (numpy's global
    generator, as in scikit-learn) gives one draw.
    """
    if isinstance(random_state, numbers.Integral):
        return np.random.SeedSequence(int(random_state))
    rng = check_random_state(random_state)
    return np.random.SeedSequence(int(rng.randint(0, 2**31 - 1)))


def _restrict(idx_train, idx_arch, n: int, cap: int, strat, seed: int):
    """The two splits restricted to a subsample of ``cap`` of the ``n`` sequences.

    The splits themselves when ``n <= cap``.
    """
    if n <= cap:
        return idx_train, idx_arch
    keep = subsample_indices(n, cap, strat, seed)
    return idx_train[np.isin(idx_train, keep)], idx_arch[np.isin(idx_arch, keep)]


def _int_seed(seq: np.random.SeedSequence) -> int:
    return int(seq.generate_state(1)[0] >> 1)


def make_plan(
    est: Any,
    x: np.ndarray,
    lengths: np.ndarray | None,
    classes: np.ndarray,
    y_enc: np.ndarray,
    label_type: str,
    device: str,
    input_names=None,
) -> FitPlan:
    """Resolve the estimator's parameters on this data into a :class:`FitPlan`.

    Parameters
    ----------
    est : ProgramSynthesisClassifier
        The estimator (only its parameters are read).
    x : ndarray
        Validated input, ``(n, T, F)`` or ``(n, F)``.
    lengths : ndarray of shape (n,) or None
        Sequence lengths (None for tabular input).
    classes : ndarray
        The class labels.
    y_enc : ndarray of int
        Encoded labels, ``(n,)`` or ``(n, T)`` with -1 on padding.
    label_type : {"sequence", "frame"}
        One label per sequence or per frame.
    device : str
        The checked torch device.
    input_names : sequence of str or None, default=None
        The input's feature names (``feature_names_in_``), see
        :func:`make_dsl`.

    Returns
    -------
    FitPlan
        The plan.

    Raises
    ------
    ValueError
        If ``y`` has a single class, the grammar has no program of the data's
        type within ``max_depth`` (a
        :class:`~sklearn_dpads.exceptions.GrammarError`), or parameters do not
        fit the data.
    """
    n_classes = len(classes)
    if n_classes < 2:
        raise ValueError(
            "Classifier can't train when only one class is present: y has the "
            f"single class {classes[0]!r}."
        )
    dsl = make_dsl(
        est, x.shape[-1], x.shape[1] if x.ndim == 3 else 1, input_names, label_type
    )
    future_frames = resolve_future_frames(est.future_frames, dsl, label_type)
    # a map reads the labelled frame t; windows reach t + future_frames
    dsl = lag_maps(dsl, future_frames)
    n_out = 1 if n_classes == 2 else n_classes
    inp = Seq(x.shape[-1]) if x.ndim == 3 else Atom(x.shape[-1])
    out = Seq(n_out) if label_type == "frame" else Atom(n_out)
    hole = FunctionType(inp, out)
    dsl.check_root(hole, est.max_depth)
    cw = _class_weights(est.class_weight, classes, y_enc[y_enc >= 0])

    root = _seed_sequence(est.random_state)
    split_ss, subsample_ss, torch_ss, search_ss, finetune_ss = root.spawn(5)
    n = len(x)
    strat = y_enc if y_enc.ndim == 1 else None
    idx_train, idx_arch = split_indices(
        n, strat, est.validation_fraction, _int_seed(split_ss)
    )
    mean_len = max(float(lengths.mean()), 1.0) if x.ndim == 3 else 1.0
    cap = est.max_search_samples or n
    if est.max_search_frames is not None and x.ndim == 3:
        cap = min(cap, max(200, int(est.max_search_frames // mean_len)))
    seed = _int_seed(subsample_ss)
    search_train, search_arch = _restrict(idx_train, idx_arch, n, cap, strat, seed)
    grow_train = grow_arch = screen_train = None
    if x.ndim == 3:
        grow_cap = max(200, int(MAX_GROW_FRAMES // mean_len))
        if n > grow_cap:
            grow_train, grow_arch = _restrict(
                idx_train, idx_arch, n, grow_cap, strat, (seed + 1) % 2**31
            )
        base = idx_train if grow_train is None else grow_train
        screen_cap = max(200, int(MAX_SCREEN_FRAMES // mean_len))
        if len(base) > screen_cap:
            labels = None if strat is None else strat[base]
            keep = subsample_indices(len(base), screen_cap, labels, (seed + 2) % 2**31)
            screen_train = base[keep]

    threshold, offset = _threshold_policy(est, n_classes)
    trainer = TrainerSettings(
        n_classes=n_classes,
        loss=est.loss,
        class_weight=cw,
        score_class_weight=cw if isinstance(est.class_weight, dict) else None,
        tune_threshold=threshold == "tune",
        lr=est.lr,
        arch_lr=est.arch_lr,
        program_epochs=est.program_epochs,
        batch_size=effective_batch_size(est.batch_size, len(search_train)),
        weight_decay=est.weight_decay,
        device=device,
        n_threads=est.n_threads,
    )
    search = SearchConfig(
        max_depth=est.max_depth,
        unfold_step=est.unfold_step,
        top_n=est.top_n,
        search_epochs=est.search_epochs,
        prune_epochs=est.prune_epochs,
        selection_epochs=est.selection_epochs,
        max_selection_steps=est.max_selection_steps,
        penalty=est.penalty,
        share_nodes=est.share_nodes,
        n_jobs=est.n_jobs,
        device=device,
    )
    max_time = est.max_time
    scaled = est.normalize is not None
    scaler = SequenceStandardScaler(
        with_centering=scaled,
        with_scaling=scaled,
        robust=est.normalize == "robust",
        clip=est.clip,
    )
    return FitPlan(
        dsl=dsl,
        scaler=scaler,
        hole=hole,
        n_classes=n_classes,
        class_weight=cw,
        idx_train=idx_train,
        idx_arch=idx_arch,
        search_train=search_train,
        search_arch=search_arch,
        trainer=trainer,
        search=search,
        seed=_int_seed(torch_ss),
        search_seeds=SearchSeeds(search_ss),
        finetune_seed=_int_seed(finetune_ss),
        finetune_epochs=est.finetune_epochs,
        finetune_patience=est.n_iter_no_change,
        finetune_batch_size=effective_batch_size(est.batch_size, n),
        grow_steps=est.grow_steps,
        threshold=threshold,
        logit_offset=offset,
        search_time=None if max_time is None else SEARCH_TIME_SHARE * max_time,
        total_time=max_time,
        future_frames=future_frames,
        grow_train=grow_train,
        grow_arch=grow_arch,
        screen_train=screen_train,
        reshape=long_clips(label_type, x.shape[1] if x.ndim == 3 else 1),
        search_dsl=search_grammar(dsl),
    )
