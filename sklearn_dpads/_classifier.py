"""ProgramSynthesisClassifier: the scikit-learn estimator (thin glue).

``fit`` reads as its steps: validate the data, resolve the parameters into a
frozen plan (``_fit_plan``), scale, run the plan (``_fit_run``: search,
fine-tune, threshold) and finalise. A fit that raises changes nothing.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import accuracy_score
from sklearn.utils.validation import check_is_fitted

from sklearn_dpads._constraints import PARAMETER_CONSTRAINTS, check_parameter
from sklearn_dpads._fit_plan import make_plan
from sklearn_dpads._fit_run import run_plan
from sklearn_dpads._threshold import logits_to_proba
from sklearn_dpads.describe import (
    ProgramDescription,
    ProgramExplanation,
    describe_program,
    explain_program,
)
from sklearn_dpads.exceptions import SearchTimeoutWarning
from sklearn_dpads.export import ExportedProgram, export_program
from sklearn_dpads.preprocessing import real_frames, scale_padded
from sklearn_dpads.search._progress import SearchReporter
from sklearn_dpads.training.data import SequenceDataset
from sklearn_dpads.training.nets import predict_logits
from sklearn_dpads.utils._sequences import delay_labels, delay_sequences
from sklearn_dpads.utils._sklearn_compat import _fit_context
from sklearn_dpads.utils._torch import check_device, torch_threads
from sklearn_dpads.utils.validation import check_X, check_X_y, is_ragged

__all__ = ["ProgramSynthesisClassifier"]


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
        input's features with ``feature_groups`` and, for sequences of ``T``
        frames, one window that can sit anywhere in the last
        ``K = min(T, 16)`` frames (``kernel<K>_avg``).
    feature_groups : dict of str to list of int, default=None
        Named feature groups (``{"distance": [4], "position": [0, 1, 2, 3]}``);
        default one group per feature. An affine leaf over all features is
        always available.
    feature_names : list of str, default=None
        Names of the features, used in readable and exported programs. When
        None, the string column names of a DataFrame ``X`` (2-D, or a list of
        ``(T_i, n_features)`` DataFrames) name them, as ``feature_names_in_``
        does; when given, they win over the columns for the program's names
        (``feature_names_in_`` still records the columns, which ``predict``
        checks).
    extra_productions : list of Production, default=None
        User productions (:func:`~sklearn_dpads.make_production`) added to the
        default DSL.
    max_depth : int, default=4
        Maximum depth of a program (number of production levels), at most 12.
    unfold_step : int, default=2
        Levels unfolded at a time (dPads' d_s).
    top_n : int, default=2
        Candidates kept per edge before architecture selection (dPads' N).
    penalty : float, default=0.01
        Weight of the structural cost (number of productions) against the
        held-out average precision in selection (as in dPads; smaller values
        trade size for accuracy). The local search (``grow_steps``) only
        ranks its candidates by it: its moves follow the one-standard-error
        rule.
    search_epochs : int, default=4
        Bi-level epochs after each unfolding.
    prune_epochs : int, default=2
        Bi-level epochs after each top-N pruning step.
    selection_epochs : int, default=1
        Bi-level epochs of each partial graph during selection, before its
        rollout (its most preferred program) is trained and scored.
    program_epochs : int, default=20
        Weight epochs of each complete program during selection.
    finetune_epochs : int, default=40
        Most weight epochs of the chosen program's fine-tune. It trains on the
        training part of the data, the epoch with the best held-out score
        (on the ``validation_fraction`` split) is chosen, and the program is
        then refitted on all the data for that many epochs.
    grow_steps : int, default=2
        Most edits of the local search after the selection: the programs one
        leaf swap, one ``ite`` or one prune away are each trained as the
        fine-tune trains, and the program moves to a better one, or to a
        simpler one that is not worse, beyond one standard error of the
        held-out score (0: no local search).
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
        on the held-out split, predicted by the fine-tuned program before its
        refit, so not by a model trained on it (folded into ``predict_proba``),
        unless ``class_weight`` is a dict (explicit costs are then respected);
        a float in (0, 1) sets the probability threshold; None keeps 0.5.
    future_frames : int or "auto", default="auto"
        Per-frame labels only: how many frames after a frame its decision may
        read. The program runs on every sequence extended by that many copies
        of its last frame, and its output ``future_frames`` frames later is
        the decision about a frame, so that windows can sit on both sides of
        it, as annotators and behaviour tools such as JAABA and MARS read a
        video. ``"auto"`` is half the longest kernel window of the DSL (8
        frames for the default DSL on sequences of 16 frames or more), a
        default for offline annotation of recorded videos; set 0 for online
        or closed-loop use, where a frame's decision must not wait for later
        frames. The streaming export then gives each frame's decision that
        many frames late (see :meth:`export_program`). Ignored for
        per-sequence labels (a sequence's label reads all its frames).
    share_nodes : bool, default=True
        Share nodes in the derivation graph (dPads node sharing).
    ite_beta : float, default=1.0
        Temperature of the soft if-then-else.
    max_search_samples : int or None, default=5000
        Search on a stratified subsample of at most this many sequences (the
        final fine-tune uses all the data).
    max_search_frames : int or None, default=30000
        Also cap the search subsample at this many frames in total (long
        sequences: fewer sequences are searched on; at least 200 are kept).
    n_iter_no_change : int or None, default=8
        Stop the final fine-tune when the held-out score (average precision)
        has not improved for this many epochs (None: run all
        ``finetune_epochs``).
    max_time : float or None, default=None
        Time budget of ``fit`` in seconds (up to a fixed overhead of a few
        seconds): the search may use 85% of it and stops with the best
        program so far, the fine-tune the rest; either being cut short gives
        a :class:`SearchTimeoutWarning`.
    n_jobs : int or None, default=None
        Parallel jobs for training the candidates of a selection step, through
        joblib (``None``: one, unless in a :func:`joblib.parallel_backend`
        context; -1: all cores). Results do not depend on it.
    n_threads : int or None, default=1
        Torch intra-op threads during ``fit`` and prediction (restored
        afterwards). Programs use small tensors, for which one thread is
        fastest and several threads slow down badly on shared cores; None keeps
        torch's setting. Inside a Dask worker or a joblib worker process it is
        capped to the worker's threads (None included), also for the
        selection's trainings that run on other workers (see :doc:`/cluster`).
    device : str, default="cpu"
        Torch device for training (``"cuda"`` for a GPU). Fitted programs are
        kept on the CPU.
    predict_chunk_frames : int or None, default=65536
        Most frames the program evaluates in one pass in ``predict``,
        ``predict_proba``, ``decision_function`` and ``score``, which bounds
        their working memory on long recordings. A longer sequence is evaluated
        in chunks of this many frames, each chunk starting from the state the
        previous one left (fold accumulators, the last frames read by windows,
        filters and frame differences), so the outputs equal whole-sequence
        evaluation up to floating-point rounding; shorter sequences are batched
        up to this many frames per pass (at least one sequence). None: up to
        1024 whole sequences per pass, however long. Not used by ``fit``.
    verbose : int, default=0
        0 silent; 1 one line per search stage (depth, candidates kept, score),
        at the end of the selection and of the fine-tune, each with the
        elapsed time and an estimate of the time left; 2 also a progress bar
        (on stderr) and one line per scored candidate.
    random_state : int, RandomState instance or None, default=None
        Seeds the splits, initialisations and batch orders (the global torch
        and numpy generators are left untouched).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Features per frame (last axis of X).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when ``X``
        has feature names that are all strings: a 2-D DataFrame, or a list
        of DataFrames (sequences) with the same columns.
    label_type_ : {"sequence", "frame"}
        One label per sequence (or tabular row) or per frame.
    dsl_ : DSL
        The grammar searched.
    program_ : Program
        The learned program.
    module_ : torch.nn.Module
        The trained program (float64, CPU).
    search_history_ : list of dict
        One row per search stage and per scored candidate
        (:meth:`SearchRecord.as_dict <sklearn_dpads.search.SearchRecord.as_dict>`).
    search_score_ : float
        Validation score of the chosen program in the search.
    scaler_ : SequenceStandardScaler
        The input scaling, fitted on the real frames (part of the program).
    center_, scale_ : ndarray of shape (n_features,)
        ``scaler_.center_`` and ``scaler_.scale_``.
    logit_offset_ : float
        Added to the binary logit (decision threshold).
    input_ndim_ : int
        3 for sequences, 2 for tabular rows.
    future_frames_ : int
        The frames after a frame that its decision reads (``future_frames``
        resolved; 0 for per-sequence labels).
    fit_time_ : float
        Seconds the last ``fit`` took.

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

    _parameter_constraints: dict = PARAMETER_CONSTRAINTS

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
        penalty=0.01,
        search_epochs=4,
        prune_epochs=2,
        selection_epochs=1,
        program_epochs=20,
        finetune_epochs=40,
        grow_steps=2,
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
        future_frames="auto",
        share_nodes=True,
        ite_beta=1.0,
        max_search_samples=5000,
        max_search_frames=30000,
        n_iter_no_change=8,
        max_time=None,
        n_jobs=None,
        n_threads=1,
        device="cpu",
        predict_chunk_frames=65536,
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
        self.grow_steps = grow_steps
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
        self.future_frames = future_frames
        self.share_nodes = share_nodes
        self.ite_beta = ite_beta
        self.max_search_samples = max_search_samples
        self.max_search_frames = max_search_frames
        self.n_iter_no_change = n_iter_no_change
        self.max_time = max_time
        self.n_jobs = n_jobs
        self.n_threads = n_threads
        self.device = device
        self.predict_chunk_frames = predict_chunk_frames
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ tags
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.two_d_array = True
        return tags

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Search a program and train it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_features)
            Sequences (3-D, or a list of ``(T_i, n_features)`` arrays of
            different lengths; trailing all-NaN frames are padding) or tabular
            rows (2-D). DataFrames (2-D, or a list of them as sequences) give
            ``feature_names_in_`` and, unless ``feature_names`` or ``dsl`` is
            set, the program's feature names.
        y : array-like of shape (n_samples,) or (n_samples, n_timesteps)
            One label per sequence, or one label per frame (a list of 1-D
            arrays for ragged X).

        Returns
        -------
        self : ProgramSynthesisClassifier
            The fitted estimator.
        """
        before = dict(self.__dict__)
        try:
            return self._fit(X, y)
        except BaseException:
            # a failed fit changes nothing: an unfitted estimator stays
            # unfitted and a fitted one keeps its previous model
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit(self, X, y):
        t0 = time.perf_counter()
        device = check_device(self.device)
        x, lengths, labels = check_X_y(self, X, y, reset=True)
        classes, y_enc = labels.encode()
        plan = make_plan(
            self,
            x,
            lengths,
            classes,
            y_enc,
            labels.label_type,
            device,
            input_names=getattr(self, "feature_names_in_", None),
        )
        scaler = clone(plan.scaler).fit(real_frames(x, lengths).astype(np.float64))
        xs = scale_padded(scaler, x, lengths)
        L = plan.future_frames
        # the decision about frame t is the output at frame t + L
        xs, lengths = delay_sequences(xs, lengths, L)
        y_enc = delay_labels(y_enc, L)
        data = SequenceDataset(xs, lengths if x.ndim == 3 else None, y_enc)
        reporter = SearchReporter(
            self.verbose, lambda p: p.pretty(plan.dsl), "[ProgramSynthesisClassifier]"
        )
        with torch_threads(self.n_threads):
            found = run_plan(plan, data, reporter)
        reporter.close()
        if found.timed_out:
            warnings.warn(
                f"The fit stopped after max_time={self.max_time}s; returning the "
                "best program found so far.",
                SearchTimeoutWarning,
                stacklevel=3,
            )
        # finalise: every fitted attribute is set here, after all that can fail
        self.classes_, self.label_type_ = classes, labels.label_type
        self.dsl_, self.scaler_ = plan.dsl, scaler
        self.module_, self.program_ = found.module, found.program
        self.search_history_ = [r.as_dict() for r in reporter.records]
        self.search_score_ = found.score
        self.logit_offset_ = found.logit_offset
        self.future_frames_ = L
        self.fit_time_ = time.perf_counter() - t0
        reporter.message(f"done in {self.fit_time_:.1f}s: {self}")
        return self

    # --------------------------------------------------------------- predict
    def _logits(self, X):
        """``(logits, lengths, ragged)`` of ``X``, ``predict_chunk_frames`` at a time."""
        check_is_fitted(self)
        check_parameter(self, "predict_chunk_frames")  # it may be set after fit
        ragged = is_ragged(X)
        x, lengths, _ = check_X(self, X, reset=False)
        xs = scale_padded(self.scaler_, x, lengths)
        L = self._delay()
        xs, run_lengths = delay_sequences(xs, lengths, L)
        ds = SequenceDataset(xs, run_lengths if x.ndim == 3 else None)
        chunk = self.predict_chunk_frames
        chunk = None if chunk is None else int(chunk)
        with torch_threads(self.n_threads):
            z = predict_logits(self.module_, ds, chunk_frames=chunk).numpy()
        if L:  # frame t's decision is the output at t + L
            z = z[:, L : L + x.shape[1]]
        return z, lengths, ragged

    def _delay(self) -> int:
        """The fitted look-ahead (0 for models pickled before it existed)."""
        return int(getattr(self, "future_frames_", 0))

    @property
    def center_(self) -> np.ndarray:
        """Per-feature centre of the input scaling (``scaler_.center_``)."""
        return self.scaler_.center_

    @property
    def scale_(self) -> np.ndarray:
        """Per-feature scale of the input scaling (``scaler_.scale_``)."""
        return self.scaler_.scale_

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
        z, _, _ = self._logits(X)
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
        z, lengths, ragged = self._logits(X)
        proba = logits_to_proba(z, self.logit_offset_)
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
            The accuracy.
        """
        check_is_fitted(self)
        if self.label_type_ != "frame":
            return accuracy_score(
                np.asarray(y).ravel() if np.ndim(y) == 2 and np.shape(y)[1] == 1 else y,
                self.predict(X),
                sample_weight=sample_weight,
            )
        _, lengths, labels = check_X_y(self, X, y, reset=False)
        if labels.label_type != "frame":
            raise ValueError(
                "This model predicts per frame; y must be (n_samples, n_timesteps)."
            )
        pred = self.predict(X)
        pred_flat = np.concatenate([np.asarray(p)[:L] for p, L in zip(pred, lengths)])
        return accuracy_score(labels.flat, pred_flat)

    # --------------------------------------------------------------- reading
    def _text_names(self) -> list[str] | None:
        """The feature names of readable and exported programs (None: x0, x1, ...)."""
        names = self.dsl_.feature_names
        if names is None and self.feature_names is not None:
            names = [str(n) for n in self.feature_names]
        return names

    def describe(
        self,
        units: Mapping[str, str] | None = None,
        frame_rate: float | None = None,
    ) -> ProgramDescription:
        """The learned program in plain words, in the input's own units.

        Thresholds and weights are mapped back through the fitted scaler
        (``scaler_``, its clipping included) to the units of ``X``; windows
        and lags are given in frames, and in seconds with ``frame_rate``; a
        soft if-then-else is given with the range of its condition over
        which it blends its branches; linear forms by their largest terms;
        folds as the exponentially weighted averages they compute. What
        cannot be simplified (a product, a user production) is said to be.

        Parameters
        ----------
        units : dict of str to str, optional
            Units of some features, by feature name (``{"distance": "mm"}``).
        frame_rate : float, optional
            Frames per second of the sequences.

        Returns
        -------
        ProgramDescription
            ``str()`` gives numbered sentences; ``.conditions``, ``.windows``
            and ``.terms`` the same content as data (``.to_dict()``);
            ``.to_markdown()`` a Markdown version.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the classifier is not fitted.
        TypeError
            If ``units`` is not a dict of strings or ``frame_rate`` is not a
            number.
        ValueError
            If ``units`` names a feature the classifier does not have, or
            ``frame_rate`` is not positive.
        """
        check_is_fitted(self)
        return describe_program(
            self.module_,
            scaler=self.scaler_,
            classes=self.classes_,
            feature_names=self._text_names(),
            logit_offset=self.logit_offset_,
            units=units,
            frame_rate=frame_rate,
            future_frames=self._delay(),
        )

    def explain(
        self,
        X,
        *,
        units: Mapping[str, str] | None = None,
        frame_rate: float | None = None,
    ) -> ProgramExplanation:
        """Why the program predicts what it does: one reason per prediction.

        A program is its own explanation: its decision score is a sum of
        terms (the weighted inputs of its affine leaves, carried through its
        windows and folds and weighted by the gates of its if-then-else), so
        the contributions add up to :meth:`decision_function` exactly (up to
        floating-point rounding).

        Parameters
        ----------
        X : array-like
            As in :meth:`predict`.
        units : dict of str to str, optional
            Units of some features, by feature name, for the reasons' words.
        frame_rate : float, optional
            Frames per second, for the reasons' words.

        Returns
        -------
        ProgramExplanation
            ``.contributions`` of every term (``(n, n_terms)``, or
            ``(n, T, n_terms)`` per frame; a last axis of classes for
            multiclass problems) summing over the term axis to ``.decision``;
            ``.terms`` says what each term is; ``.gates`` and
            ``.condition_values`` (in input units) of every ``ite``;
            ``expl[i]`` is the :class:`~sklearn_dpads.describe.Reason` of
            sequence ``i`` (for per-frame labels, the list of the reasons of
            its real frames).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the classifier is not fitted.
        TypeError, ValueError
            As :meth:`describe`, and if ``X`` is not valid input.
        """
        check_is_fitted(self)
        x, lengths, _ = check_X(self, X, reset=False)
        xs = scale_padded(self.scaler_, x, lengths)
        return explain_program(
            self.module_,
            xs,
            lengths if x.ndim == 3 else None,
            scaler=self.scaler_,
            classes=self.classes_,
            feature_names=self._text_names(),
            logit_offset=self.logit_offset_,
            units=units,
            frame_rate=frame_rate,
            scaled=True,
            future_frames=self._delay(),
        )

    # ---------------------------------------------------------------- export
    def export_program(
        self,
        *,
        units: Mapping[str, str] | None = None,
        frame_rate: float | None = None,
    ) -> ExportedProgram:
        """The learned program as text, sympy expression and standalone Python.

        The same as :func:`sklearn_dpads.export.export_program` of the
        classifier. The exported program takes the input this classifier
        receives: inside a :class:`~sklearn.pipeline.Pipeline`, the output of
        the steps before it, which it does not contain; export the fitted
        pipeline with :func:`~sklearn_dpads.export.export_program` to get one
        program of the pipeline's raw input.

        Parameters
        ----------
        units : dict of str to str, optional
            Units of some features, by feature name (``{"distance": "mm"}``),
            for the source's docstring (the program in plain words, as
            :meth:`describe` gives it).
        frame_rate : float, optional
            Frames per second, for the docstring's windows in seconds.

        Returns
        -------
        ExportedProgram
            ``.expression`` (sympy), ``.source`` (standard-library Python with
            ``predict``/``predict_proba`` and, for sequence input, a streaming
            ``make_stream()`` that takes frames one at a time), ``.text``,
            ``.program``; ``.make_stream()`` runs the streaming form here.
        """
        return export_program(self, units=units, frame_rate=frame_rate)

    def __str__(self) -> str:
        if not hasattr(self, "program_"):
            return self.__repr__()
        return self.program_.pretty(self.dsl_)
