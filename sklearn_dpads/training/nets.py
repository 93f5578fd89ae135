"""skorch nets that train programs and derivation graphs.

:class:`ProgramNet` trains the parameters of a module (a compiled program);
:class:`BilevelNet` trains a derivation graph by first-order bi-level
optimisation: for every training batch, one step of the architecture logits
on a batch of the architecture split, then one step of the program
parameters on the training batch (dPads §5.3).

Both record, per epoch, the validation loss, ranking score (average
precision), F1 and accuracy in the skorch history and keep the parameters of
the best epoch (highest validation ranking score),
with the callbacks of :mod:`sklearn_dpads.training.callbacks`.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping
from skorch.dataset import unpack_data
from skorch.helper import predefined_split

from sklearn_dpads.semantics.compile import ProgramModule
from sklearn_dpads.training._flat import FlatParameters
from sklearn_dpads.training.callbacks import ValidationScores, _KeepBest, _TimeBudget
from sklearn_dpads.training.data import BatchIterator, SequenceDataset
from sklearn_dpads.training.losses import flatten_valid

__all__ = [
    "ProgramNet",
    "BilevelNet",
    "predict_logits",
    "valid_binary_logits",
]


@torch.no_grad()
def predict_logits(
    module,
    dataset: SequenceDataset,
    batch_size: int = 1024,
    device="cpu",
    chunk_frames: int | None = None,
):
    """Compute the logits of ``module`` on ``dataset``, batch by batch.

    The module runs in eval mode and without gradients; its training mode is
    restored afterwards.

    Parameters
    ----------
    module : torch.nn.Module
        A program (or graph) whose ``forward(x, lengths)`` returns logits.
    dataset : SequenceDataset
        The data (labels, if any, are not used).
    batch_size : int, default=1024
        Rows per forward pass.
    device : str or torch.device, default="cpu"
        Device of ``module``; each batch is moved there.
    chunk_frames : int or None, default=None
        Bound the frames of one forward pass (sequence input and a
        :class:`~sklearn_dpads.semantics.ProgramModule` only): a batch holds
        at most ``max(1, chunk_frames // T)`` sequences (and at most
        ``batch_size``), and sequences longer than ``chunk_frames`` are
        evaluated in chunks of that many frames with the program's state
        carried over
        (:meth:`~sklearn_dpads.semantics.ProgramModule.forward_chunked`).
        The logits are the same up to floating-point rounding; the memory a
        pass needs grows with ``chunk_frames`` instead of the data's length.
        Each chunk is moved to the device and dtype of the module's
        parameters (``device`` is not used). None: ``batch_size`` whole
        sequences per pass.

    Returns
    -------
    torch.Tensor
        The logits on the CPU, of shape ``(n, C)`` or, for per-frame outputs,
        ``(n, T, C)`` with ``T`` the padded length of ``dataset`` (frames
        beyond a batch's longest sequence are zeros).

    Raises
    ------
    TypeError
        If ``chunk_frames`` is set for sequences and ``module`` is not a
        :class:`~sklearn_dpads.semantics.ProgramModule`.
    """
    chunked = chunk_frames is not None and dataset.seq
    if chunked and not isinstance(module, ProgramModule):
        raise TypeError(
            "Chunked prediction needs a compiled program (ProgramModule), got "
            f"{type(module).__name__}."
        )
    if chunked:
        T = max(1, dataset.x.shape[1])
        batch_size = max(1, min(batch_size, chunk_frames // min(T, chunk_frames)))
    was = module.training
    module.eval()
    outs = []
    try:
        for s in range(0, len(dataset), batch_size):
            if chunked:
                # contiguous rows: slice views, each chunk is copied on its own
                e = min(s + batch_size, len(dataset))
                lengths = dataset.lengths[s:e]
                x = dataset.x[s:e, : int(lengths.max())]
                out = module.forward_chunked(x, lengths, chunk_frames=chunk_frames)
            else:
                idx = torch.arange(s, min(s + batch_size, len(dataset)))
                X, _ = dataset.batch(idx)
                x = X["x"].to(device=device, dtype=_dtype_of(module))
                out = module(x, X["lengths"].to(device))
            if out.dim() == 3 and out.shape[1] < dataset.x.shape[1]:
                pad = out.new_zeros(
                    out.shape[0], dataset.x.shape[1] - out.shape[1], out.shape[2]
                )
                out = torch.cat([out, pad], dim=1)
            outs.append(out.cpu())
    finally:
        module.train(was)
    return torch.cat(outs, dim=0)


def valid_binary_logits(
    module, dataset: SequenceDataset
) -> tuple[np.ndarray, np.ndarray]:
    """Positive-class logits and labels of every real sequence or frame.

    Parameters
    ----------
    module : torch.nn.Module
        A binary program (one output).
    dataset : SequenceDataset
        Labelled data.

    Returns
    -------
    logits : ndarray of shape (n_valid,)
        The positive-class logits, as float64.
    labels : ndarray of shape (n_valid,)
        The labels (0 or 1).
    """
    z, y = flatten_valid(predict_logits(module, dataset), dataset.y)
    return z[:, 0].numpy().astype(np.float64), y.numpy()


def _dtype_of(module) -> torch.dtype:
    for p in module.parameters():
        return p.dtype
    return torch.float32


class ProgramNet(NeuralNet):
    """Trains a module's parameters on ``SequenceDataset`` data.

    Extra parameters on top of :class:`skorch.NeuralNet`:

    Parameters
    ----------
    module : torch.nn.Module
        The module to train, e.g. a compiled program; its ``forward`` takes
        ``x`` and ``lengths``.
    *args
        Passed on to :class:`skorch.NeuralNet` (e.g. ``criterion``).
    n_classes : int, default=2
        Number of classes (for the validation scores).
    grad_clip : float or None, default=None
        Clip the gradient norm of each step to this value.
    restore_best : bool, default=True
        After :meth:`fit_data`, load the parameters of the epoch with the best
        validation ranking score (needs a validation split).
    seed : int, default=0
        Seed of the batch shuffling.
    tune_threshold : bool, default=False
        Binary problems: report the best-threshold F1 as ``valid_f1``.
    score_class_weight : array-like or None, default=None
        Per-class weights: weight every sample's contribution to the ranking
        score by its class's weight (and report the class-weighted accuracy
        as ``valid_f1``).
    patience : int or None, default=None
        Stop when the validation score has not improved for this many epochs.
    deadline : object or None, default=None
        Anything with an ``out()`` method: training stops after the batch
        at which it returns True (the best epoch so far is still restored).
    **kwargs : dict
        Passed on to :class:`skorch.NeuralNet`. The defaults differ from
        skorch's: :class:`~sklearn_dpads.training.data.BatchIterator` for both
        iterators (shuffled training batches seeded with ``seed``),
        ``optimizer=torch.optim.Adam``, ``verbose=0`` and
        ``train_split=None``.
    """

    def __init__(
        self,
        module,
        *args,
        n_classes=2,
        grad_clip=None,
        restore_best=True,
        seed=0,
        tune_threshold=False,
        score_class_weight=None,
        patience=None,
        deadline=None,
        **kwargs,
    ):
        kwargs.setdefault("iterator_train", BatchIterator)
        kwargs.setdefault("iterator_valid", BatchIterator)
        kwargs.setdefault("iterator_train__shuffle", True)
        kwargs.setdefault("iterator_train__seed", seed)
        kwargs.setdefault("optimizer", torch.optim.Adam)
        # many small parameter tensors: the multi-tensor (foreach) update is
        # several times faster than one update per tensor
        kwargs.setdefault("optimizer__foreach", True)
        kwargs.setdefault("verbose", 0)
        kwargs.setdefault("train_split", None)
        super().__init__(module, *args, **kwargs)
        self.n_classes = n_classes
        self.grad_clip = grad_clip
        self.restore_best = restore_best
        self.seed = seed
        self.tune_threshold = tune_threshold
        self.score_class_weight = score_class_weight
        self.patience = patience
        self.deadline = deadline

    def get_default_callbacks(self):
        """Return skorch's default callbacks plus this net's scoring callbacks.

        skorch's ``print_log`` is left out when ``verbose`` is 0 (it formats
        a table every epoch, printed or not). Added after skorch's:
        ``valid_scores`` (:class:`ValidationScores`),
        ``keep_best`` (see :attr:`keep_best`), then ``early_stopping`` on
        ``valid_score`` when ``patience`` is set and ``time_budget`` when
        ``deadline`` is set.

        Returns
        -------
        list of tuple of (str, skorch.callbacks.Callback)
            The named default callbacks, in order.
        """
        extra = []
        if self.patience is not None:
            extra.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_score",
                        patience=self.patience,
                        lower_is_better=False,
                        threshold=1e-4,
                        threshold_mode="abs",
                        sink=lambda *a, **k: None,
                    ),
                )
            )
        scores = [
            (
                "valid_scores",
                ValidationScores(
                    self.n_classes, self.tune_threshold, self.score_class_weight
                ),
            ),
            ("keep_best", _KeepBest()),
        ]
        if self.deadline is not None:
            extra.append(("time_budget", _TimeBudget(self.deadline)))
        # skorch's print_log formats a table every epoch, printed or not
        default = [
            (name, cb)
            for name, cb in super().get_default_callbacks()
            if self.verbose or name != "print_log"
        ]
        return default + scores + extra

    def _set_training(self, training=True):
        """Switch train/eval mode only when it changes.

        skorch switches before every training and validation step, and a
        switch walks every submodule of the (large) derivation graph. The
        modules here behave the same in both modes (no dropout, no batch
        norm), so a switch to the mode the module is already in is skipped.

        Parameters
        ----------
        training : bool, default=True
            The mode to be in.
        """
        if self.module_.training is bool(training):
            if self.criterion_.training is bool(training):
                return
        super()._set_training(training)

    def module_parameters(self):
        """Named parameters optimised by ``optimizer_``.

        Returns
        -------
        list of tuple of (str, torch.nn.Parameter)
            All named parameters of ``module_``.
        """
        return list(self.module_.named_parameters())

    def initialize_optimizer(self, triggered_directly=None):
        """Create ``optimizer_`` over :meth:`module_parameters`.

        Unlike skorch's, which optimises all learnable parameters, only the
        parameters :meth:`module_parameters` names are trained (with the
        ``optimizer__*`` settings), and they are trained as one contiguous
        buffer (:class:`~sklearn_dpads.training._flat.FlatParameters`, stored
        as ``flat_``): the optimiser, the clipping and the zeroing of a step
        touch one tensor, however many small parameters the module has.
        :meth:`fit_data` gives the parameters their own storage back.

        Parameters
        ----------
        triggered_directly : None
            Ignored; kept for skorch's signature (deprecated there).

        Returns
        -------
        ProgramNet
            This net.
        """
        self.flat_ = FlatParameters(p for _, p in self.module_parameters())
        named = [(f"flat{i}", b) for i, b in enumerate(self.flat_.buffers)]
        args, kwargs = self.get_params_for_optimizer("optimizer", named)
        self.optimizer_ = self.optimizer(*args, **kwargs)
        return self

    def trained_tensors(self) -> list[torch.Tensor]:
        """The flat buffers of every parameter the net trains.

        Returns
        -------
        list of torch.Tensor
            What a copy of the trained state needs (parameters that are not
            trained do not change).
        """
        return list(self.flat_.buffers)

    def _release(self) -> None:
        """Give the trained parameters their own storage again."""
        flat = getattr(self, "flat_", None)
        if flat is not None:
            flat.release()

    def _clip(self, flat: FlatParameters, loss) -> bool:
        """Clip gradients; False (and gradients zeroed) if loss or gradients
        are not finite, so that one bad batch cannot poison the parameters."""
        clip = self.grad_clip if self.grad_clip is not None else float("inf")
        grads = flat.buffers
        norm = torch.nn.utils.clip_grad_norm_(grads, clip) if grads else None
        ok = bool(torch.isfinite(loss)) and (norm is None or bool(torch.isfinite(norm)))
        if not ok:
            flat.zero_grad()
            self.history.record_batch("skipped_step", 1)
        return ok

    def train_step_single(self, batch, **fit_params):
        """Forward and backward pass of one training batch.

        As skorch's, but the gradients are computed only for the trained
        parameters.

        Parameters
        ----------
        batch : tuple
            The training batch ``(X, y)``.
        **fit_params : dict
            Passed on to the module's ``forward``.

        Returns
        -------
        dict
            ``{"loss": loss, "y_pred": y_pred}``.
        """
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward(inputs=self.flat_.params or None)
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        """Take one optimizer step on a training batch, skipping bad batches.

        Unlike skorch's, the gradient norm of :meth:`module_parameters` is
        clipped to ``grad_clip``, and the step is skipped (gradients cleared,
        ``skipped_step`` recorded in the batch history) when the loss or the
        gradient norm is not finite.

        Parameters
        ----------
        batch : tuple
            The training batch ``(X, y)``.
        **fit_params : dict
            Passed on to the module's ``forward``.

        Returns
        -------
        dict
            ``{"loss": loss, "y_pred": y_pred}``: the batch loss (a tensor)
            and the module's output.
        """
        self.flat_.zero_grad()
        step = self.train_step_single(batch, **fit_params)
        if self._clip(self.flat_, step["loss"]):
            self.optimizer_.step()
        return step

    def fit_data(self, train: SequenceDataset, valid: SequenceDataset | None = None):
        """Fit on ``train``, scoring (and selecting the best epoch) on ``valid``.

        Parameters
        ----------
        train : SequenceDataset
            Training data.
        valid : SequenceDataset or None, default=None
            Validation split: scores every epoch and, with ``restore_best``,
            picks the epoch whose parameters are kept. None: no validation,
            the last epoch is kept.

        Returns
        -------
        ProgramNet
            This net, fitted.
        """
        self.set_params(train_split=None if valid is None else predefined_split(valid))
        try:
            self.fit(train, None)
            if self.restore_best and valid is not None:
                self.keep_best.restore(self)
        finally:
            self._release()
        return self

    @property
    def keep_best(self) -> _KeepBest:
        """The initialized callback that keeps the parameters of the best epoch.

        It holds ``best_score_``, ``best_epoch_`` and ``best_state_`` (a copy
        of the parameters of the epoch with the highest ``valid_score``) and
        restores them with ``restore(net)``.
        """
        return dict(self.callbacks_)["keep_best"]

    @property
    def best_score(self) -> float:
        """Best validation ranking score over the epochs (NaN without validation)."""
        b = self.keep_best.best_score_
        return float(b) if np.isfinite(b) else float("nan")


class BilevelNet(ProgramNet):
    """First-order bi-level training of a :class:`DerivationGraph`.

    Parameters are split into architecture logits (``arch_optimizer_``, lr
    ``arch_lr``) and program weights (``optimizer_``). The validation split
    passed to :meth:`fit_data` is the architecture split (dPads' D_B): it
    drives the architecture steps and the epoch scores.

    Parameters
    ----------
    module : DerivationGraph
        The graph to train; it splits its parameters with
        ``arch_parameters()`` and ``weight_parameters()``.
    *args
        Passed on to :class:`ProgramNet`.
    arch_lr : float, default=1e-3
        Adam learning rate of the architecture logits.
    arch_weight_decay : float, default=0.0
        Adam weight decay of the architecture logits.
    **kwargs : dict
        Passed on to :class:`ProgramNet` (``lr`` and ``optimizer__*`` set the
        optimizer of the program weights).
    """

    def __init__(self, module, *args, arch_lr=1e-3, arch_weight_decay=0.0, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.arch_lr = arch_lr
        self.arch_weight_decay = arch_weight_decay

    def module_parameters(self):
        """Named program weights, optimised by ``optimizer_``.

        The architecture logits are left out: ``arch_optimizer_`` trains them.

        Returns
        -------
        list of tuple of (str, torch.nn.Parameter)
            The graph's ``weight_parameters()``, named ``"w0"``, ``"w1"``, ...
        """
        return [(f"w{i}", p) for i, p in enumerate(self.module_.weight_parameters())]

    def initialize_optimizer(self, triggered_directly=None):
        """Create ``optimizer_`` for the weights and ``arch_optimizer_``.

        ``optimizer_`` is made as in :meth:`ProgramNet.initialize_optimizer`
        over :meth:`module_parameters`; ``arch_optimizer_`` is an Adam
        optimizer (``arch_lr``, ``arch_weight_decay``) over the graph's
        ``arch_parameters()``, which are also stored as ``arch_params_`` and
        trained as one buffer too (``arch_flat_``).

        Parameters
        ----------
        triggered_directly : None
            Ignored; kept for skorch's signature (deprecated there).

        Returns
        -------
        BilevelNet
            This net.
        """
        super().initialize_optimizer()
        self.arch_params_ = self.module_.arch_parameters()
        self.arch_flat_ = FlatParameters(self.arch_params_)
        self.arch_optimizer_ = torch.optim.Adam(
            self.arch_flat_.buffers,
            lr=self.arch_lr,
            weight_decay=self.arch_weight_decay,
            foreach=True,
        )
        return self

    def trained_tensors(self) -> list[torch.Tensor]:
        """The flat buffers of the program weights and the architecture logits.

        Returns
        -------
        list of torch.Tensor
            What a copy of the trained state needs.
        """
        return super().trained_tensors() + list(self.arch_flat_.buffers)

    def _release(self) -> None:
        super()._release()
        flat = getattr(self, "arch_flat_", None)
        if flat is not None:
            flat.release()

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Start a history epoch and a new stream of architecture batches.

        After skorch's bookkeeping, the architecture split is shuffled into
        batches of ``batch_size`` (an order of its own for every epoch, from
        ``seed``), cycled endlessly for :meth:`train_step`.

        Parameters
        ----------
        net : BilevelNet
            This net (skorch passes it to its own hooks too).
        dataset_train : SequenceDataset, default=None
            The training data.
        dataset_valid : SequenceDataset, default=None
            The architecture split; when None, the architecture batches are
            drawn from ``dataset_train``.
        **kwargs : dict
            Other arguments skorch passes; handed on to skorch's hook.
        """
        super().on_epoch_begin(net, dataset_train, dataset_valid, **kwargs)
        ds = dataset_valid if dataset_valid is not None else dataset_train
        it = BatchIterator(
            ds, batch_size=self.batch_size, shuffle=True, seed=self.seed, stream=1
        )
        it._epoch = len(self.history)
        self._arch_batches = itertools.cycle(it)

    def train_step(self, batch, **fit_params):
        """Take one architecture step, then one weight step (first-order bi-level).

        The architecture step uses the next batch of the architecture split:
        its loss (recorded as ``arch_loss`` in the batch history) updates the
        architecture logits through ``arch_optimizer_``, with the same
        clipping and skipping of non-finite steps as the weights. It is left
        out when the graph has no architecture logits. The weight step is
        :meth:`ProgramNet.train_step` on ``batch``.

        Parameters
        ----------
        batch : tuple
            The training batch ``(X, y)``.
        **fit_params : dict
            Passed on to the module's ``forward`` in the weight step.

        Returns
        -------
        dict
            ``{"loss": loss, "y_pred": y_pred}`` of the weight step.
        """
        self._set_training(True)
        if self.arch_params_:
            Xv, yv = unpack_data(next(self._arch_batches))
            self.arch_flat_.zero_grad()
            loss_a = self.get_loss(
                self.infer(Xv), yv.to(self.device), X=Xv, training=True
            )
            # only the logits' gradients: the weights' are not computed
            loss_a.backward(inputs=self.arch_params_)
            if self._clip(self.arch_flat_, loss_a):
                self.arch_optimizer_.step()
            self.history.record_batch("arch_loss", float(loss_a.item()))
        return super().train_step(batch, **fit_params)
