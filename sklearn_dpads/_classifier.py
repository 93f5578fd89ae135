"""ProgramSynthesisClassifier: the scikit-learn estimator (thin glue)."""

from __future__ import annotations

import copy
import numbers
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_is_fitted

from sklearn_dpads.exceptions import GrammarError, SearchTimeoutWarning
from sklearn_dpads.grammar.dsl import DSL
from sklearn_dpads.grammar.production import Production
from sklearn_dpads.grammar.types import Atom, FunctionType, Seq
from sklearn_dpads.graph.derivation_graph import DerivationGraph
from sklearn_dpads.library import default_dsl
from sklearn_dpads.preprocessing import SequenceStandardScaler
from sklearn_dpads.program import Program
from sklearn_dpads.search.schedule import default_schedule
from sklearn_dpads.search.selection import (
    SearchClock,
    refine_leaves,
    run_schedule,
    select_program,
)
from sklearn_dpads.training.data import SequenceDataset
from sklearn_dpads.training.nets import best_threshold_f1, predict_logits
from sklearn_dpads.training.search_trainer import SkorchSearchTrainer
from sklearn_dpads.utils._torch import torch_threads
from sklearn_dpads.utils.validation import check_X, check_y, is_ragged

__all__ = ["ProgramSynthesisClassifier", "ExportedProgram"]


@dataclass
class ExportedProgram:
    """A fitted program in shippable forms.

    Attributes
    ----------
    program : Program
        The discrete program (``str()`` gives its s-expression).
    text : str
        Readable form with feature-group names.
    source : str
        Standalone Python (standard library only) defining ``predict(X)``,
        ``predict_proba(X)`` and ``decision_function(X)``.
    expression : sympy expression
        The program's logit(s) (computed on first access).
    """

    program: Program
    text: str
    source: str
    _module: Any = field(repr=False, default=None)
    _feature_names: Any = field(repr=False, default=None)
    _expression: Any = field(repr=False, default=None)

    @property
    def expression(self):
        if self._expression is None:
            from sklearn_dpads.export.sympy import to_sympy

            self._expression = to_sympy(self._module, feature_names=self._feature_names)
        return self._expression

    def save(self, path) -> None:
        """Write :attr:`source` to ``path`` (a ``.py`` file importable anywhere)."""
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.source)

    def __str__(self) -> str:
        return self.text


class ProgramSynthesisClassifier(ClassifierMixin, BaseEstimator):
    """Interpretable classifier that synthesises a small program (dPads).

    The classifier searches a typed DSL of sequence combinators (map,
    map-prefixes, fold, sliding-window averages, soft if-then-else, add,
    multiply) over affine functions of named feature groups, with dPads'
    differentiable program derivation graph: the graph is unfolded
    ``unfold_step`` levels at a time, trained by bi-level optimisation
    (architecture weights on one split, program weights on the other),
    pruned to the ``top_n`` best candidates per edge, and finally a best-first
    search over graph partitions picks one discrete program, whose weights are
    then fine-tuned on all the training data.

    Parameters
    ----------
    dsl : DSL, default=None
        Grammar to search. Default: :func:`~sklearn_dpads.default_dsl` over the
        input's features with ``feature_groups``.
    feature_groups : dict of str to list of int, default=None
        Named feature groups (``{"distance": [4], "position": [0, 1, 2, 3]}``);
        default one group per feature. An affine leaf over all features is
        always available.
    feature_names : list of str, default=None
        Names of the features, used in readable and exported programs.
    extra_productions : list of Production, default=None
        User productions (:func:`~sklearn_dpads.make_production`) added to the
        default DSL.
    max_depth : int, default=4
        Maximum depth of a program (number of production levels).
    unfold_step : int, default=2
        Levels unfolded at a time (dPads' d_s).
    top_n : int, default=2
        Candidates kept per edge before architecture selection (dPads' N).
    penalty : float, default=0.003
        Weight of the structural cost (number of productions) in selection
        (dPads used 0.01; smaller values trade size for F1).
    search_epochs : int, default=4
        Bi-level epochs after each unfolding.
    prune_epochs : int, default=2
        Bi-level epochs after each top-N pruning step.
    selection_epochs : int, default=2
        Bi-level epochs of each partial graph during selection.
    program_epochs : int, default=20
        Weight epochs of each complete program during selection.
    finetune_epochs : int, default=40
        Weight epochs of the chosen program on all the data (best epoch kept).
    max_selection_steps : int, default=30
        Maximum number of partitions expanded by the selection.
    lr : float, default=0.02
        Adam learning rate of program weights.
    arch_lr : float, default=0.02
        Adam learning rate of architecture weights.
    batch_size : int, default=256
        Minibatch size (sequences); reduced on small data sets so that an epoch
        has at least 4 steps.
    weight_decay : float, default=0.0
        Adam weight decay of program weights.
    loss : {"cross_entropy", "soft_f1"}, default="cross_entropy"
        Training loss (soft F1 is the positive-class or macro soft F1).
    class_weight : "balanced", dict or None, default="balanced"
        Class weights of the loss.
    validation_fraction : float, default=0.4
        Fraction of the training data held out as the architecture split
        (architecture steps, model selection, best epochs).
    normalize : {"robust", "standard"} or None, default="robust"
        Per-feature scaling before the program (part of the exported program):
        median/IQR or mean/std; values are then clipped to ``[-clip, clip]``.
    clip : float or None, default=5.0
        Clip scaled features to this absolute value (outlier safety).
    threshold : "auto", float or None, default="auto"
        Binary problems: ``"auto"`` moves the decision threshold to maximise F1
        on the training data (folded into ``predict_proba``), unless
        ``class_weight`` is a dict (explicit costs are then respected); a float
        in (0, 1) sets the probability threshold; None keeps 0.5.
    share_nodes : bool, default=True
        dPads node sharing in the derivation graph.
    ite_beta : float, default=1.0
        Temperature of the soft if-then-else.
    max_search_samples : int or None, default=5000
        Search on a stratified subsample of at most this many sequences (the
        final fine-tune uses all the data).
    max_search_frames : int or None, default=30000
        Also cap the search subsample at this many frames in total (long
        sequences: fewer sequences are searched on; at least 200 are kept).
    n_iter_no_change : int or None, default=8
        Stop the final fine-tune when the validation F1 has not improved for
        this many epochs (None: run all ``finetune_epochs``).
    max_time : float or None, default=None
        Time budget in seconds for the search; when exceeded the search stops
        with the best program so far and a :class:`SearchTimeoutWarning`.
    n_jobs : int or None, default=None
        Parallel jobs for training the candidates of a selection step, through
        joblib (``None``: one, unless in a :func:`joblib.parallel_backend`
        context; -1: all cores). Results do not depend on it.
    n_threads : int or None, default=1
        Torch intra-op threads during ``fit`` and prediction (restored
        afterwards). Programs use small tensors, for which one thread is
        fastest and several threads slow down badly on shared cores; None
        keeps torch's setting.
    device : str, default="cpu"
        Torch device for training (``"cuda"`` for a GPU). Fitted programs are
        kept on the CPU.
    verbose : int, default=0
        0 silent; 1 one line per search stage (depth, candidates kept, score,
        elapsed time); 2 also a progress bar (on stderr) and one line per
        scored candidate.
    random_state : int, RandomState instance or None, default=None
        Seeds the splits, initialisations and batch orders (the global torch
        and numpy generators are left untouched).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Features per frame (last axis of X).
    label_type_ : {"sequence", "frame"}
        One label per sequence (or tabular row) or per frame.
    dsl_ : DSL
        The grammar searched.
    program_ : Program
        The learned program.
    module_ : torch.nn.Module
        The trained program (float64, CPU).
    search_history_ : list of dict
        One row per search stage and per scored candidate.
    center_, scale_ : ndarray of shape (n_features,)
        Input scaling.
    logit_offset_ : float
        Added to the binary logit (decision threshold).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dpads import ProgramSynthesisClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 8, 3).astype("float32")
    >>> y = (X[:, -5:, 0].mean(axis=1) > 0).astype(int)
    >>> clf = ProgramSynthesisClassifier(max_depth=2, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.8
    True
    """

    _parameter_constraints: dict = {
        "dsl": [DSL, None],
        "feature_groups": [dict, None],
        "feature_names": ["array-like", None],
        "extra_productions": [list, tuple, None],
        "max_depth": [Interval(numbers.Integral, 1, 12, closed="both")],
        "unfold_step": [Interval(numbers.Integral, 1, None, closed="left")],
        "top_n": [Interval(numbers.Integral, 1, None, closed="left")],
        "penalty": [Interval(numbers.Real, 0, None, closed="left")],
        "search_epochs": [Interval(numbers.Integral, 0, None, closed="left")],
        "prune_epochs": [Interval(numbers.Integral, 0, None, closed="left")],
        "selection_epochs": [Interval(numbers.Integral, 0, None, closed="left")],
        "program_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "finetune_epochs": [Interval(numbers.Integral, 0, None, closed="left")],
        "max_selection_steps": [Interval(numbers.Integral, 0, None, closed="left")],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "arch_lr": [Interval(numbers.Real, 0, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "loss": [StrOptions({"cross_entropy", "soft_f1"})],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "normalize": [StrOptions({"robust", "standard"}), None],
        "clip": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "threshold": [
            StrOptions({"auto"}),
            Interval(numbers.Real, 0, 1, closed="neither"),
            None,
        ],
        "share_nodes": ["boolean"],
        "ite_beta": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_search_samples": [
            Interval(numbers.Integral, 2, None, closed="left"),
            None,
        ],
        "max_search_frames": [
            Interval(numbers.Integral, 2, None, closed="left"),
            None,
        ],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "max_time": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "n_jobs": [numbers.Integral, None],
        "n_threads": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "device": [str, torch.device],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        dsl=None,
        *,
        feature_groups=None,
        feature_names=None,
        extra_productions=None,
        max_depth=4,
        unfold_step=2,
        top_n=2,
        penalty=0.003,
        search_epochs=4,
        prune_epochs=2,
        selection_epochs=2,
        program_epochs=20,
        finetune_epochs=40,
        max_selection_steps=30,
        lr=0.02,
        arch_lr=0.02,
        batch_size=256,
        weight_decay=0.0,
        loss="cross_entropy",
        class_weight="balanced",
        validation_fraction=0.4,
        normalize="robust",
        clip=5.0,
        threshold="auto",
        share_nodes=True,
        ite_beta=1.0,
        max_search_samples=5000,
        max_search_frames=30000,
        n_iter_no_change=8,
        max_time=None,
        n_jobs=None,
        n_threads=1,
        device="cpu",
        verbose=0,
        random_state=None,
    ):
        self.dsl = dsl
        self.feature_groups = feature_groups
        self.feature_names = feature_names
        self.extra_productions = extra_productions
        self.max_depth = max_depth
        self.unfold_step = unfold_step
        self.top_n = top_n
        self.penalty = penalty
        self.search_epochs = search_epochs
        self.prune_epochs = prune_epochs
        self.selection_epochs = selection_epochs
        self.program_epochs = program_epochs
        self.finetune_epochs = finetune_epochs
        self.max_selection_steps = max_selection_steps
        self.lr = lr
        self.arch_lr = arch_lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.loss = loss
        self.class_weight = class_weight
        self.validation_fraction = validation_fraction
        self.normalize = normalize
        self.clip = clip
        self.threshold = threshold
        self.share_nodes = share_nodes
        self.ite_beta = ite_beta
        self.max_search_samples = max_search_samples
        self.max_search_frames = max_search_frames
        self.n_iter_no_change = n_iter_no_change
        self.max_time = max_time
        self.n_jobs = n_jobs
        self.n_threads = n_threads
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ tags
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.two_d_array = True
        return tags

    # ------------------------------------------------------------ helpers
    def _log(self, level: int, msg: str) -> None:
        if self.verbose >= level:
            print(f"[ProgramSynthesisClassifier] {msg}", file=sys.stdout, flush=True)

    def _check_device(self) -> str:
        dev = str(self.device)
        try:
            d = torch.device(dev)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(f"Invalid device {self.device!r}: {exc}") from None
        if d.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device={self.device!r} was requested but CUDA is not available; "
                "use device='cpu'."
            )
        return dev

    def _make_dsl(self, n_features: int) -> DSL:
        if self.dsl is not None:
            if self.dsl.n_features != n_features:
                raise ValueError(
                    f"The dsl was built for {self.dsl.n_features} features but X has "
                    f"{n_features}."
                )
            return self.dsl
        names = None
        if self.feature_names is not None:
            names = [str(n) for n in self.feature_names]
            if len(names) != n_features:
                raise ValueError(
                    f"feature_names has {len(names)} names but X has {n_features} features."
                )
        extra = list(self.extra_productions or [])
        for p in extra:
            if not isinstance(p, Production):
                raise TypeError(
                    "extra_productions must contain Production objects (see "
                    f"make_production), got {type(p).__name__}."
                )
        try:
            return default_dsl(
                n_features,
                self.feature_groups,
                names,
                ite_beta=self.ite_beta,
                extra_productions=extra,
            )
        except GrammarError as exc:
            raise ValueError(str(exc)) from exc

    def _scale(self, x: np.ndarray, lengths) -> None:
        self.scaler_ = SequenceStandardScaler(
            with_centering=self.normalize is not None,
            with_scaling=self.normalize is not None,
            robust=self.normalize == "robust",
            clip=self.clip,
        ).fit(_real_frames(x, lengths).astype(np.float64))

    def _transform(self, x: np.ndarray, lengths) -> np.ndarray:
        if x.ndim == 2:
            return self.scaler_.transform(x.astype(np.float64)).astype(np.float32)
        z = np.zeros(x.shape, dtype=np.float32)
        valid = _valid_mask(x, lengths)
        z[valid] = self.scaler_.transform(x[valid].astype(np.float64))
        return z

    @property
    def center_(self) -> np.ndarray:
        """Per-feature centre of the input scaling (``scaler_.center_``)."""
        return self.scaler_.center_

    @property
    def scale_(self) -> np.ndarray:
        """Per-feature scale of the input scaling (``scaler_.scale_``)."""
        return self.scaler_.scale_

    def _class_weights(self, y_enc: np.ndarray):
        n = len(self.classes_)
        if self.class_weight is None:
            return None
        if self.class_weight == "balanced":
            present = np.unique(y_enc)
            w = np.ones(n)
            w[present] = compute_class_weight("balanced", classes=present, y=y_enc)
            return w.astype(np.float32)
        w = np.ones(n, dtype=np.float32)
        for k, v in self.class_weight.items():
            idx = np.flatnonzero(self.classes_ == k)
            if idx.size == 0:
                raise ValueError(f"class_weight has a label {k!r} that is not in y.")
            w[idx[0]] = float(v)
        return w

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Search a program and train it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_features)
            Sequences (3-D, or a list of ``(T_i, n_features)`` arrays of
            different lengths; trailing all-NaN frames are padding) or tabular
            rows (2-D).
        y : array-like of shape (n_samples,) or (n_samples, n_timesteps)
            One label per sequence, or one label per frame (a list of 1-D
            arrays for ragged X).

        Returns
        -------
        self : ProgramSynthesisClassifier
            The fitted estimator.
        """
        t0 = time.perf_counter()
        device = self._check_device()
        ragged = is_ragged(X)
        x, lengths, _ = check_X(self, X, y if not ragged else None, reset=True)
        flat_labels, grid, label_type = check_y(y, x, lengths, ragged=ragged)
        self.classes_ = np.unique(flat_labels)
        if len(self.classes_) < 2:
            raise ValueError(
                "Classifier can't train when only one class is present: y has the "
                f"single class {self.classes_[0]!r}."
            )
        self.label_type_ = label_type
        if (
            x.ndim == 2 and label_type == "frame"
        ):  # pragma: no cover - guarded in check_y
            raise ValueError("Per-frame labels need 3-D X.")
        y_enc = self._encode(grid)
        n_classes = len(self.classes_)
        self.dsl_ = self._make_dsl(x.shape[-1])
        n_out = 1 if n_classes == 2 else n_classes
        inp = Seq(x.shape[-1]) if x.ndim == 3 else Atom(x.shape[-1])
        out = Seq(n_out) if label_type == "frame" else Atom(n_out)
        hole = FunctionType(inp, out)
        try:
            self.dsl_.check_root(hole, self.max_depth)
        except GrammarError as exc:
            raise ValueError(str(exc)) from exc

        self._scale(x, lengths)
        xs = self._transform(x, lengths)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(0, 2**31 - 1))
        valid_labels = y_enc if y_enc.ndim == 1 else None
        cw = self._class_weights(y_enc[y_enc >= 0])

        full = SequenceDataset(xs, lengths if x.ndim == 3 else None, y_enc)
        idx_tr, idx_ar = self._split(len(full), valid_labels, rng)
        search_tr, search_ar = idx_tr, idx_ar
        cap = self.max_search_samples or len(full)
        if self.max_search_frames is not None and x.ndim == 3:
            mean_len = max(float(lengths.mean()), 1.0)
            cap = min(cap, max(200, int(self.max_search_frames // mean_len)))
        if len(full) > cap:
            keep = self._subsample(len(full), cap, valid_labels, rng)
            keep_set = set(keep.tolist())
            search_tr = np.array([i for i in idx_tr if i in keep_set])
            search_ar = np.array([i for i in idx_ar if i in keep_set])

        devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices), torch_threads(self.n_threads):
            torch.manual_seed(seed)
            if devices:
                torch.cuda.manual_seed_all(seed)
            self._search_and_train(
                full,
                search_tr,
                search_ar,
                idx_ar,
                hole,
                n_classes,
                cw,
                device,
                seed,
                t0,
            )
        with torch_threads(self.n_threads):
            self._calibrate(full)
        self.fit_time_ = time.perf_counter() - t0
        self._log(
            1, f"done in {self.fit_time_:.1f}s: {self.program_.pretty(self.dsl_)}"
        )
        return self

    def _encode(self, grid: np.ndarray) -> np.ndarray:
        lookup = {}
        for i, c in enumerate(self.classes_):
            lookup[c.item() if hasattr(c, "item") else c] = i
        enc = np.full(grid.shape, -1, dtype=np.int64)
        for pos, v in np.ndenumerate(grid):
            if v is not None:
                enc[pos] = lookup[v.item() if hasattr(v, "item") else v]
        return enc

    def _split(self, n: int, labels, rng):
        idx = np.arange(n)
        if n < 4:
            return idx, idx
        strat = None
        if labels is not None:
            _, counts = np.unique(labels, return_counts=True)
            if counts.min() >= 2:
                strat = labels
        try:
            a, b = train_test_split(
                idx,
                test_size=self.validation_fraction,
                stratify=strat,
                random_state=rng.randint(0, 2**31 - 1),
            )
        except ValueError:
            a, b = train_test_split(
                idx,
                test_size=self.validation_fraction,
                random_state=rng.randint(0, 2**31 - 1),
            )
        if len(a) == 0 or len(b) == 0:
            return idx, idx
        return np.sort(a), np.sort(b)

    def _subsample(self, n, m, labels, rng):
        idx = np.arange(n)
        strat = labels
        if labels is not None:
            _, counts = np.unique(labels, return_counts=True)
            if counts.min() < 2:
                strat = None
        keep, _ = train_test_split(
            idx, train_size=m, stratify=strat, random_state=rng.randint(0, 2**31 - 1)
        )
        return np.sort(keep)

    def _search_and_train(
        self, full, search_tr, search_ar, idx_ar, hole, n_classes, cw, device, seed, t0
    ):
        history: list = []
        self.search_history_ = history

        bar = None
        if self.verbose >= 2:
            from tqdm.auto import tqdm

            bar = tqdm(desc="dPads search", unit="step", file=sys.stderr, leave=False)

        def log(row):
            history.append(row)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(
                    phase=row.get("phase"),
                    score=f"{row.get('score', float('nan')):.3f}",
                )
            if row.get("phase") == "unfold":
                self._log(
                    1,
                    f"stage {row['stage']}: depth {row['depth']}, top-N {row['top_n']}, "
                    f"{row['candidates']} candidates kept, score {row['score']:.3f}, "
                    f"{row['elapsed']:.1f}s",
                )
            else:
                prog = row.get("program")
                what = (
                    prog.pretty(self.dsl_)
                    if prog is not None
                    else f"partial ({row.get('split')})"
                )
                self._log(
                    2,
                    f"  {row['phase']}: {what} F1 {row['score']:.3f} cost {row['cost']:.0f} "
                    f"objective {row['objective']:.3f}",
                )

        trainer = SkorchSearchTrainer(
            full.subset(search_tr),
            full.subset(search_ar),
            n_classes=n_classes,
            loss=self.loss,
            class_weight=cw,
            lr=self.lr,
            arch_lr=self.arch_lr,
            program_epochs=self.program_epochs,
            batch_size=_effective_batch_size(self.batch_size, len(search_tr)),
            weight_decay=self.weight_decay,
            device=device,
            seed=seed,
            tune_threshold=n_classes == 2 and self._tunes_threshold(),
            score_class_weight=cw if isinstance(self.class_weight, dict) else None,
        )
        graph = DerivationGraph(
            self.dsl_, hole, self.max_depth, share_nodes=self.share_nodes
        ).to(device)
        clock = SearchClock(self.max_time)
        stages = default_schedule(
            self.max_depth,
            self.unfold_step,
            self.top_n,
            unfold_epochs=self.search_epochs,
            prune_epochs=self.prune_epochs,
        )
        finished = run_schedule(graph, stages, trainer, log=log, clock=clock)
        if not finished:
            # finish unfolding without training so that a program exists
            graph.unfold(self.max_depth)
            graph.prune(self.top_n)
        result = select_program(
            graph,
            trainer,
            penalty=self.penalty,
            child_epochs=self.selection_epochs,
            max_expansions=self.max_selection_steps,
            log=log,
            clock=clock,
            n_jobs=self.n_jobs,
            seed=seed,
        )
        result = refine_leaves(
            result, trainer, penalty=self.penalty, log=log, clock=clock, seed=seed
        )
        if not finished or result.timed_out or clock.out():
            warnings.warn(
                f"The search stopped after max_time={self.max_time}s; returning the "
                "best program found so far.",
                SearchTimeoutWarning,
                stacklevel=3,
            )
        if bar is not None:
            bar.close()
        module = result.module
        self.search_score_ = result.score
        if self.finetune_epochs > 0:
            module, _ = trainer.fit_program(
                module,
                full,
                full.subset(idx_ar),
                self.finetune_epochs,
                patience=self.n_iter_no_change,
                batch_size=_effective_batch_size(self.batch_size, len(full)),
                seed=seed + 1,
            )
        self.module_ = copy.deepcopy(module).to("cpu").double().eval()
        self.program_ = result.program

    def _tunes_threshold(self) -> bool:
        # explicit per-class weights express the costs to trade off: keep them
        return self.threshold == "auto" and not isinstance(self.class_weight, dict)

    def _calibrate(self, full: SequenceDataset) -> None:
        self.logit_offset_ = 0.0
        if len(self.classes_) != 2 or self.threshold is None:
            return
        if self.threshold == "auto" and not self._tunes_threshold():
            return
        if self.threshold != "auto":
            p = float(self.threshold)
            self.logit_offset_ = -float(np.log(p / (1 - p)))
            return
        logits = predict_logits(self.module_, full)
        z, yy = _flat(logits, full.y)
        z = z[:, 0].numpy().astype(np.float64)
        yy = yy.numpy()
        finite = np.isfinite(z)
        z, yy = z[finite], yy[finite]
        if yy.size == 0 or yy.min() == yy.max():
            return
        f1, thr = best_threshold_f1(z, yy)
        base = 2 * ((z > 0) & (yy == 1)).sum() / max((z > 0).sum() + yy.sum(), 1)
        if f1 > base + 1e-12:
            self.logit_offset_ = -thr

    # --------------------------------------------------------------- predict
    def _prepare(self, X):
        check_is_fitted(self)
        ragged = is_ragged(X)
        x, lengths, _ = check_X(self, X, reset=False)
        xs = self._transform(x, lengths)
        return SequenceDataset(xs, lengths if x.ndim == 3 else None), x, lengths, ragged

    def decision_function(self, X):
        """Program output (logits) with the decision threshold applied.

        Parameters
        ----------
        X : array-like
            As in :meth:`fit`.

        Returns
        -------
        ndarray
            ``(n,)`` for binary problems, ``(n, n_classes)`` otherwise; with a
            time axis after ``n`` for per-frame models.
        """
        ds, x, lengths, ragged = self._prepare(X)
        with torch_threads(self.n_threads):
            z = predict_logits(self.module_, ds).numpy()
        if len(self.classes_) == 2:
            z = z[..., 0] + self.logit_offset_
        return z

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like
            As in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n, n_classes) or (n, T, n_classes), or list
            A list of ``(T_i, n_classes)`` arrays for ragged per-frame input.
        """
        ds, x, lengths, ragged = self._prepare(X)
        with torch_threads(self.n_threads):
            z = predict_logits(self.module_, ds).numpy()
        if len(self.classes_) == 2:
            z = z[..., 0] + self.logit_offset_
            p1 = _sigmoid(z)
            proba = np.stack([1.0 - p1, p1], axis=-1)
        else:
            z = z - z.max(axis=-1, keepdims=True)
            e = np.exp(z)
            proba = e / e.sum(axis=-1, keepdims=True)
        if self.label_type_ == "frame" and ragged:
            return [proba[i, : lengths[i]] for i in range(len(lengths))]
        return proba

    def predict(self, X):
        """Predicted labels (original label values).

        Parameters
        ----------
        X : array-like
            As in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n,) or (n, T), or list
            A list of ``(T_i,)`` arrays for ragged per-frame input.
        """
        proba = self.predict_proba(X)
        if isinstance(proba, list):
            return [self.classes_[p.argmax(axis=-1)] for p in proba]
        return self.classes_[proba.argmax(axis=-1)]

    def score(self, X, y, sample_weight=None):
        """Accuracy: per sequence, or over all real frames for per-frame models.

        Parameters
        ----------
        X : array-like
            As in :meth:`fit`.
        y : array-like
            True labels, as in :meth:`fit`.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sequence weights (per-sequence models only).

        Returns
        -------
        float
        """
        check_is_fitted(self)
        if self.label_type_ != "frame":
            return accuracy_score(
                np.asarray(y).ravel() if np.ndim(y) == 2 and np.shape(y)[1] == 1 else y,
                self.predict(X),
                sample_weight=sample_weight,
            )
        ragged = is_ragged(X)
        x, lengths, _ = check_X(self, X, reset=False)
        _, grid, lt = check_y(y, x, lengths, ragged=ragged)
        if lt != "frame":
            raise ValueError(
                "This model predicts per frame; y must be (n_samples, n_timesteps)."
            )
        pred = self.predict(X)
        t_list, p_list = [], []
        for i, L in enumerate(lengths):
            t_list.extend(grid[i, :L])
            p_list.extend(list(pred[i][:L]))
        return accuracy_score(np.array(t_list), np.array(p_list))

    # ---------------------------------------------------------------- export
    def export_program(self) -> ExportedProgram:
        """The learned program as text, sympy expression and standalone Python.

        Returns
        -------
        ExportedProgram
            ``.expression`` (sympy), ``.source`` (standard-library Python with
            ``predict``/``predict_proba``), ``.text``, ``.program``.
        """
        check_is_fitted(self)
        from sklearn_dpads.export.python import to_python_source

        names = self.dsl_.feature_names
        if names is None and self.feature_names is not None:
            names = [str(n) for n in self.feature_names]
        pre = {
            "center": [float(v) for v in self.center_],
            "scale": [float(v) for v in self.scale_],
            "clip": None if self.clip is None else float(self.clip),
        }
        source = to_python_source(
            self.module_,
            classes=list(self.classes_),
            preprocessing=pre,
            feature_names=names,
            logit_offset=float(self.logit_offset_),
        )
        return ExportedProgram(
            self.program_, self.program_.pretty(self.dsl_), source, self.module_, names
        )

    def __str__(self) -> str:
        if not hasattr(self, "program_"):
            return self.__repr__()
        return self.program_.pretty(self.dsl_)


def _effective_batch_size(batch_size: int, n: int, min_steps: int = 4) -> int:
    """Shrink the batch on small data so that an epoch has >= ``min_steps`` steps."""
    return int(max(1, min(batch_size, max(8, -(-n // min_steps)))))


def _valid_mask(x: np.ndarray, lengths) -> np.ndarray:
    return np.arange(x.shape[1])[None, :] < lengths[:, None]


def _real_frames(x: np.ndarray, lengths) -> np.ndarray:
    return x if x.ndim == 2 else x[_valid_mask(x, lengths)]


def _sigmoid(z):
    out = np.empty_like(z, dtype=np.float64)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def _flat(logits, y):
    from sklearn_dpads.training.losses import flatten_valid

    return flatten_valid(logits, y)
