"""Baseline classifiers for the sklearn-dpads benchmarks.

Everything here takes the same inputs as
:class:`~sklearn_dpads.ProgramSynthesisClassifier`: ``X`` of shape
``(n_samples, n_timesteps, n_features)`` and ``y`` of shape ``(n_samples,)``
(one label per sequence) or ``(n_samples, n_timesteps)`` (one label per frame).
Predictions have the shape of ``y``.

* the LSTM and the logistic regression scale their input as the
  program-synthesis classifier does, with
  ``SequenceStandardScaler(robust=True, clip=5.0)``.
* :class:`LSTMClassifier` -- a one-layer LSTM trained with skorch
  (``NeuralNetClassifier``), with a linear head on the last step (sequence
  labels) or on every step (per-frame labels, causal).
* :class:`TabularSequenceClassifier` -- wraps any scikit-learn classifier: on
  the flattened sequence ``(n, T * F)`` for sequence labels, or on one row per
  frame (the frame's features plus, optionally, the mean of the previous 5
  frames) for per-frame labels.
* :func:`make_baseline` -- the configured baselines by name.

The module has no dependency on the benchmark script and can be imported on
its own (``sys.path`` must contain the ``benchmarks`` folder).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_is_fitted
from torch import nn

from sklearn_dpads.preprocessing import SequenceStandardScaler

__all__ = [
    "BASELINES",
    "LSTMClassifier",
    "TabularSequenceClassifier",
    "frame_features",
    "label_type",
    "make_baseline",
]

BASELINES = ("lstm", "logreg", "rf", "hgb")


def label_type(y) -> str:
    """``"frame"`` for ``y`` of shape ``(n, T)``, ``"sequence"`` for ``(n,)``."""
    return "frame" if np.ndim(y) == 2 else "sequence"


# ------------------------------------------------------------------------ LSTM
class LSTMNet(nn.Module):
    """One-layer LSTM with a linear head on the last step or on every step."""

    def __init__(self, n_features=1, hidden_size=64, n_classes=2, per_frame=False):
        super().__init__()
        self.per_frame = per_frame
        self.lstm = nn.LSTM(n_features, hidden_size, num_layers=1, batch_first=True)
        self.head = nn.Linear(hidden_size, n_classes)

    def forward(self, X):
        out, _ = self.lstm(X)  # (n, T, hidden)
        if self.per_frame:
            return self.head(out)  # (n, T, n_classes)
        return self.head(out[:, -1])  # (n, n_classes)


def _skorch_net_class():
    from skorch import NeuralNetClassifier

    class _FrameAwareNet(NeuralNetClassifier):
        """NeuralNetClassifier whose loss also accepts (n, T, C) outputs."""

        def get_loss(self, y_pred, y_true, *args, **kwargs):
            if y_pred.ndim == 3:
                y_pred = y_pred.reshape(-1, y_pred.shape[-1])
                y_true = y_true.reshape(-1)
            return super().get_loss(y_pred, y_true, *args, **kwargs)

    return _FrameAwareNet


class LSTMClassifier(ClassifierMixin, BaseEstimator):
    """LSTM sequence / per-frame classifier trained with skorch.

    Inputs are scaled with ``SequenceStandardScaler(robust=True)`` (the scaling of
    ProgramSynthesisClassifier).  The loss is class-weighted ("balanced")
    cross-entropy, the optimiser Adam; training runs for a fixed number of
    epochs on all the training data (no early stopping).

    Parameters
    ----------
    hidden_size : int, default=64
    max_epochs : int, default=40
    lr : float, default=1e-3
    batch_size : int, default=64
    clip : float, default=5.0
        Clipping of the scaled inputs.
    patience : int or None, default=None
        Early stopping: hold out 20% of the training data and stop when its
        loss has not improved for this many epochs (the best epoch is kept).
        None trains all ``max_epochs`` on all the data.
    device : str, default="cpu"
    random_state : int or None, default=None
        Seeds initialisation and batch order (the global torch generator is
        forked, so it is left untouched).
    """

    def __init__(
        self,
        hidden_size=64,
        max_epochs=40,
        lr=1e-3,
        batch_size=64,
        clip=5.0,
        patience=None,
        device="cpu",
        random_state=None,
    ):
        self.patience = patience
        self.hidden_size = hidden_size
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.clip = clip
        self.device = device
        self.random_state = random_state

    def fit(self, X, y):
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y)
        if X.ndim != 3:
            raise ValueError(f"X must be (n, T, F); got shape {X.shape}.")
        self.label_type_ = label_type(y)
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        y_enc = y_enc.reshape(y.shape).astype(np.int64)
        n_classes = len(self.classes_)
        weights = compute_class_weight(
            "balanced", classes=np.arange(n_classes), y=y_enc.ravel()
        )
        self.scaler_ = SequenceStandardScaler(robust=True, clip=self.clip).fit(X)
        Xs = self.scaler_.transform(X).astype(np.float32)
        seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        cuda = str(self.device).startswith("cuda")
        devices = [torch.device(self.device).index or 0] if cuda else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            net = _skorch_net_class()(
                LSTMNet,
                module__n_features=X.shape[-1],
                module__hidden_size=self.hidden_size,
                module__n_classes=n_classes,
                module__per_frame=self.label_type_ == "frame",
                criterion=nn.CrossEntropyLoss,
                criterion__weight=torch.tensor(weights, dtype=torch.float32),
                optimizer=torch.optim.Adam,
                lr=self.lr,
                max_epochs=self.max_epochs,
                batch_size=self.batch_size,
                iterator_train__shuffle=True,
                **self._early_stopping_kwargs(),
                device=self.device,
                verbose=0,
            )
            net.fit(Xs, y_enc)
        self.net_ = net
        return self

    def _early_stopping_kwargs(self) -> dict:
        if self.patience is None:
            return {"train_split": None}
        from skorch.callbacks import EarlyStopping
        from skorch.dataset import ValidSplit
        from skorch.utils import noop

        return {
            "train_split": ValidSplit(0.2, stratified=False, random_state=0),
            "callbacks": [
                EarlyStopping(patience=self.patience, load_best=True, sink=noop)
            ],
            # the default accuracy scoring cannot handle per-frame targets
            "callbacks__valid_acc": None,
        }

    def predict_proba(self, X):
        check_is_fitted(self)
        Xs = self.scaler_.transform(np.asarray(X, dtype=np.float32))
        return self.net_.predict_proba(Xs)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=-1)]


# ------------------------------------------------------------------- tabular
def frame_features(X, context: int = 5) -> np.ndarray:
    """Per-frame rows: each frame's features, plus the mean of the previous frames.

    Parameters
    ----------
    X : ndarray of shape (n, T, F)
    context : int, default=5
        Number of previous frames averaged (causal).  0 gives only the frame's
        own features.  For the first frame (no history) the frame itself is
        used as its context.

    Returns
    -------
    ndarray of shape (n * T, F) or (n * T, 2 * F)
    """
    X = np.asarray(X, dtype=np.float32)
    n, T, F = X.shape
    if context <= 0:
        return X.reshape(n * T, F)
    csum = np.concatenate(
        [np.zeros((n, 1, F)), np.cumsum(X, axis=1, dtype=np.float64)], axis=1
    )
    t = np.arange(T)
    lo = np.maximum(t - context, 0)
    count = t - lo  # previous frames available
    prev = (csum[:, t] - csum[:, lo]) / np.maximum(count, 1)[None, :, None]
    prev = np.where((count == 0)[None, :, None], X, prev).astype(np.float32)
    return np.concatenate([X, prev], axis=-1).reshape(n * T, 2 * F)


class TabularSequenceClassifier(ClassifierMixin, BaseEstimator):
    """A scikit-learn classifier on flattened sequences or per-frame rows.

    Parameters
    ----------
    estimator : classifier
        Cloned at fit.
    context : int, default=5
        Per-frame labels only: causal context of :func:`frame_features`.
    max_rows : int or None, default=None
        Train on a random subsample of at most this many rows (per-frame rows
        or sequences).
    random_state : int or None, default=None
        Seeds the subsample.
    """

    def __init__(self, estimator, context=5, max_rows=None, random_state=None):
        self.estimator = estimator
        self.context = context
        self.max_rows = max_rows
        self.random_state = random_state

    def _rows(self, X):
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 3:
            raise ValueError(f"X must be (n, T, F); got shape {X.shape}.")
        if self.label_type_ == "frame":
            return frame_features(X, self.context)
        return X.reshape(len(X), -1)

    def fit(self, X, y):
        y = np.asarray(y)
        self.label_type_ = label_type(y)
        rows, targets = self._rows(X), y.ravel()
        self.n_train_rows_ = len(rows)
        if self.max_rows is not None and len(rows) > self.max_rows:
            rng = check_random_state(self.random_state)
            keep = np.sort(rng.choice(len(rows), size=self.max_rows, replace=False))
            rows, targets = rows[keep], targets[keep]
        self.n_fit_rows_ = len(rows)
        self.estimator_ = clone(self.estimator).fit(rows, targets)
        self.classes_ = self.estimator_.classes_
        self.shape_ = np.shape(X)[1:]
        return self

    def predict_proba(self, X):
        check_is_fitted(self)
        proba = self.estimator_.predict_proba(self._rows(X))
        if self.label_type_ == "frame":
            n, T = np.shape(X)[:2]
            return proba.reshape(n, T, -1)
        return proba

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=-1)]


# ------------------------------------------------------------------- factory
def make_baseline(
    name: str,
    *,
    random_state=None,
    device: str = "cpu",
    lstm_epochs: int = 40,
    lstm_hidden: int = 64,
    n_trees: int = 300,
    hgb_max_iter: int = 100,
    frame_context: int = 5,
    max_tabular_rows: int | None = None,
    n_jobs: int | None = None,
):
    """Build a baseline by name: ``"lstm"``, ``"logreg"``, ``"rf"`` or ``"hgb"``.

    * lstm: :class:`LSTMClassifier` (hidden ``lstm_hidden``, ``lstm_epochs``
      epochs, Adam 1e-3, batch 64, balanced class weights).
    * logreg: robust scaling (as ours) + ``LogisticRegression(max_iter=2000,
      class_weight="balanced")``.
    * rf: ``RandomForestClassifier(n_trees, class_weight="balanced_subsample")``.
    * hgb: ``HistGradientBoostingClassifier(max_iter=hgb_max_iter)``.

    The three scikit-learn models see flattened sequences (sequence labels) or
    per-frame rows with ``frame_context`` previous frames averaged (per-frame
    labels); see :class:`TabularSequenceClassifier`.
    """
    if name == "lstm":
        return LSTMClassifier(
            hidden_size=lstm_hidden,
            max_epochs=lstm_epochs,
            device=device,
            random_state=random_state,
        )
    if name == "logreg":
        est = make_pipeline(
            SequenceStandardScaler(robust=True, clip=5.0),
            LogisticRegression(
                max_iter=2000, class_weight="balanced", random_state=random_state
            ),
        )
    elif name == "rf":
        est = RandomForestClassifier(
            n_estimators=n_trees,
            class_weight="balanced_subsample",
            n_jobs=n_jobs,
            random_state=random_state,
        )
    elif name == "hgb":
        est = HistGradientBoostingClassifier(
            max_iter=hgb_max_iter, random_state=random_state
        )
    else:
        raise ValueError(f"Unknown baseline {name!r}; choose from {BASELINES}.")
    return TabularSequenceClassifier(
        est,
        context=frame_context,
        max_rows=max_tabular_rows,
        random_state=random_state,
    )
