"""Several programs trained side by side, as one skorch net.

The local search screens dozens of small programs for a few epochs each. On
data of the size the search sees (a few thousand sequences), one training
step of one program costs more in bookkeeping (the skorch loop, the batch,
the optimiser step, the clipping) than in arithmetic. :class:`ProgramPopulation`
puts ``K`` programs in one module whose output stacks their logits, and
:class:`PopulationNet` trains it so that every member is trained as it would
be alone on the same batches:

* the loss is the sum of the members' losses, so a member's gradient is its
  own loss's gradient;
* Adam is elementwise, so one optimiser over all members updates each as its
  own would;
* the gradient norm is clipped member by member, and a member whose loss or
  gradient is not finite gets a zero gradient for that step (its optimiser
  state still moves; a lone program's step is skipped instead).

The members share the batches: one order for all, where programs trained
one by one each draw their own. With a validation split, every member's
ranking score is taken each epoch and each member keeps the parameters of
its own best epoch, as :class:`~sklearn_dpads.training.nets.ProgramNet`
keeps a lone program's.
"""

from __future__ import annotations

import numpy as np
import torch
from skorch.callbacks import Callback
from skorch.dataset import unpack_data
from torch import nn

from sklearn_dpads.metrics import ranking_score
from sklearn_dpads.training.losses import flatten_valid
from sklearn_dpads.training.nets import ProgramNet

__all__ = ["ProgramPopulation", "PopulationLoss", "PopulationNet", "MemberScores"]


class ProgramPopulation(nn.Module):
    """Programs evaluated on the same batch; their logits stacked.

    Parameters
    ----------
    members : sequence of torch.nn.Module
        The programs (each ``forward(x, lengths)`` returns logits of the same
        shape). They are trained in place.
    """

    def __init__(self, members) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        if not len(self.members):
            raise ValueError("A population needs at least one program.")

    def forward(self, x, lengths=None):
        """The members' logits on one batch.

        Parameters
        ----------
        x : torch.Tensor
            The batch input.
        lengths : torch.Tensor, optional
            Real frames per sequence.

        Returns
        -------
        torch.Tensor
            ``(K, ...)``: member ``k``'s logits at index ``k``.
        """
        return torch.stack([m(x, lengths) for m in self.members])


class PopulationLoss(nn.Module):
    """The sum over members of one loss.

    Parameters
    ----------
    loss : torch.nn.Module
        The loss of one member's logits (e.g.
        :class:`~sklearn_dpads.training.losses.ProgramLoss`).
    """

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.loss = loss

    def forward(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Sum the members' losses.

        Parameters
        ----------
        logits : torch.Tensor
            ``(K, ...)`` stacked logits.
        y : torch.Tensor
            The labels, shared by the members.

        Returns
        -------
        torch.Tensor
            The scalar sum.
        """
        return sum(self.loss(z, y) for z in logits)


class PopulationNet(ProgramNet):
    """Trains a :class:`ProgramPopulation`, each member as if alone.

    With a validation split, :class:`MemberScores` (the callback
    ``member_scores``) scores every member each epoch and, with
    ``restore_best``, each member ends with the parameters of its best
    epoch. ``patience`` is not supported (members stop together).

    Parameters
    ----------
    module : ProgramPopulation
        The programs.
    *args, **kwargs
        Passed on to :class:`~sklearn_dpads.training.nets.ProgramNet`; give a
        :class:`PopulationLoss` as ``criterion``.
    """

    def __init__(self, module, *args, **kwargs):
        super().__init__(module, *args, **kwargs)
        if self.patience is not None:
            raise ValueError("A population trains without early stopping.")

    def get_default_callbacks(self):
        """Return ProgramNet's callbacks, with per-member scores instead of one.

        Returns
        -------
        list of tuple of (str, skorch.callbacks.Callback)
            The named default callbacks: ``member_scores``
            (:class:`MemberScores`) replaces ``valid_scores`` and
            ``keep_best``.
        """
        out = []
        for name, cb in super().get_default_callbacks():
            if name == "valid_scores":
                out.append(
                    (
                        "member_scores",
                        MemberScores(self.n_classes, self.score_class_weight),
                    )
                )
            elif name != "keep_best":
                out.append((name, cb))
        return out

    def fit_data(self, train, valid=None):
        """Fit on ``train``; each member keeps its best epoch on ``valid``.

        Parameters
        ----------
        train : SequenceDataset
            Training data.
        valid : SequenceDataset or None, default=None
            Validation split (None: every member keeps its last epoch).

        Returns
        -------
        PopulationNet
            This net, fitted.
        """
        from skorch.helper import predefined_split

        self.set_params(train_split=None if valid is None else predefined_split(valid))
        try:
            self.fit(train, None)
            if self.restore_best and valid is not None:
                self.member_scores.restore(self)
        finally:
            self._release()
        return self

    @property
    def member_scores(self) -> MemberScores:
        """The initialized :class:`MemberScores` callback."""
        return dict(self.callbacks_)["member_scores"]

    def initialize_optimizer(self, triggered_directly=None):
        """Create the optimiser as :class:`ProgramNet` does, and index the members.

        Parameters
        ----------
        triggered_directly : None
            Ignored; kept for skorch's signature.

        Returns
        -------
        PopulationNet
            This net.
        """
        super().initialize_optimizer()
        # which member each element of each flat gradient buffer belongs to
        owner = {}
        for k, m in enumerate(self.module_.members):
            for p in m.parameters():
                owner.setdefault(id(p), k)
        self.n_members_ = len(self.module_.members)
        index = []
        for flat in self.flat_.buffers:
            parts = [
                torch.full((p.numel(),), owner[id(p)], dtype=torch.long)
                for p in self.flat_.params
                if p.grad is not None and _shares(p.grad, flat.grad)
            ]
            index.append(torch.cat(parts).to(flat.device))
        self.member_index_ = index
        return self

    def _clip(self, flat, loss) -> bool:
        """Clip each member's gradient norm; zero a member's non-finite gradient.

        Parameters
        ----------
        flat : FlatParameters
            The trained parameters.
        loss : torch.Tensor
            The summed loss (unused: each member's gradient is checked).

        Returns
        -------
        bool
            True: the optimiser steps (members with a bad gradient step with
            a zero one).
        """
        clip = self.grad_clip if self.grad_clip is not None else float("inf")
        K = self.n_members_
        sq = None
        for buf, idx in zip(flat.buffers, self.member_index_):
            g = buf.grad
            part = torch.zeros(K, dtype=torch.float64, device=g.device)
            part.index_add_(0, idx, g.double().square())
            sq = part if sq is None else sq + part.to(sq.device)
        if sq is None:
            return True
        norm = sq.sqrt()
        ok = torch.isfinite(norm)
        scale = torch.where(
            ok, (clip / (norm + 1e-6)).clamp(max=1.0), torch.zeros_like(norm)
        )
        bad = int((~ok).sum())
        if bad:
            self.history.record_batch("skipped_step", bad)
        for buf, idx in zip(flat.buffers, self.member_index_):
            g = buf.grad
            s = scale.to(device=g.device, dtype=g.dtype)[idx]
            if bad:
                torch.nan_to_num_(g, nan=0.0, posinf=0.0, neginf=0.0)
            g.mul_(s)
        return True


class MemberScores(Callback):
    """Each member's validation ranking score per epoch, and its best epoch.

    ``best_scores_`` (``-inf`` where no epoch had a finite score and finite
    parameters) and ``best_epochs_`` (0 there) are per member; ``restore``
    puts every member's best parameters back.

    Parameters
    ----------
    n_classes : int
        Number of classes.
    class_weight : array-like or None, default=None
        Per-class weights of the ranking score.
    """

    def __init__(self, n_classes: int, class_weight=None):
        self.n_classes = n_classes
        self.class_weight = class_weight

    def on_train_begin(self, net, **kwargs):
        """Reset the best epochs.

        Parameters
        ----------
        net : PopulationNet
            The net being trained.
        **kwargs : dict
            The other arguments skorch passes; unused.
        """
        K = len(net.module_.members)
        self.best_scores_ = np.full(K, -np.inf)
        self.best_epochs_ = np.zeros(K, dtype=int)
        self.best_state_ = [b.detach().clone() for b in net.flat_.buffers]

    def on_epoch_begin(self, net, **kwargs):
        """Clear the logits collected in the previous epoch.

        Parameters
        ----------
        net : PopulationNet
            The net being trained.
        **kwargs : dict
            The other arguments skorch passes; unused.
        """
        self._logits, self._y = [], []

    def on_batch_end(self, net, batch, training, y_pred=None, **kwargs):
        """Collect the members' logits on a validation batch.

        Parameters
        ----------
        net : PopulationNet
            The net being trained.
        batch : tuple
            The batch ``(X, y)``.
        training : bool
            Whether the batch is a training batch (ignored then).
        y_pred : torch.Tensor, default=None
            The stacked logits ``(K, ...)``.
        **kwargs : dict
            The other arguments skorch passes; unused.
        """
        if training or y_pred is None:
            return
        _, y = unpack_data(batch)
        y = y.to(y_pred.device)
        pooled = [flatten_valid(z.detach(), y) for z in y_pred]
        self._logits.append(torch.stack([z for z, _ in pooled]).double().cpu())
        self._y.append(pooled[0][1].cpu())

    def on_epoch_end(self, net, **kwargs):
        """Score every member; keep the parameters of those that improved.

        Ties go to the later epoch, and members with non-finite parameters
        keep their earlier best, as a lone program's best epoch is kept.

        Parameters
        ----------
        net : PopulationNet
            The net being trained.
        **kwargs : dict
            The other arguments skorch passes; unused.
        """
        if not self._logits:
            return
        logits, y = torch.cat(self._logits, dim=1).numpy(), torch.cat(self._y).numpy()
        scores = np.array(
            [ranking_score(z, y, self.n_classes, self.class_weight) for z in logits]
        )
        net.history.record("valid_scores", scores.tolist())
        finite = np.ones(len(scores), dtype=bool)
        for buf, idx in zip(net.flat_.buffers, net.member_index_):
            bad = torch.zeros(len(scores), dtype=torch.long, device=buf.device)
            bad.index_add_(0, idx, (~torch.isfinite(buf.detach())).long())
            finite &= bad.cpu().numpy() == 0
        better = finite & (scores >= self.best_scores_)
        if not better.any():
            return
        self.best_scores_[better] = scores[better]
        self.best_epochs_[better] = len(net.history)
        keep = torch.as_tensor(better)
        for state, buf, idx in zip(
            self.best_state_, net.flat_.buffers, net.member_index_
        ):
            sel = keep.to(buf.device)[idx]
            state.copy_(torch.where(sel, buf.detach(), state))

    def restore(self, net) -> None:
        """Load every member's best parameters (members without one keep theirs).

        Parameters
        ----------
        net : PopulationNet
            The fitted net (before its flat buffers are released).
        """
        has = torch.as_tensor(self.best_epochs_ > 0)
        with torch.no_grad():
            for state, buf, idx in zip(
                self.best_state_, net.flat_.buffers, net.member_index_
            ):
                sel = has.to(buf.device)[idx]
                buf.copy_(torch.where(sel, state, buf))


def _shares(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether tensor ``a`` is a view into the storage of ``b``."""
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()
