"""Programs trained and scored one by one, as the fine-tune trains the chosen one.

The local search after the selection (:func:`~sklearn_dpads.search.grow_program`)
compares programs trained the way the fit finally trains its program, not
inside the weight-shared graph. :class:`CandidateTrainer` provides its
callables: the screening (the search's program epochs), the full training
(the fine-tune, with early stopping on the held-out split), the standard
error of a paired score difference (bootstrap over the held-out sequences)
and the structural cost.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from sklearn_dpads.grammar.canonical import canonical_cost, features_read
from sklearn_dpads.metrics import paired_score_se, ranking_score
from sklearn_dpads.semantics.compile import compile_program
from sklearn_dpads.semantics.warm import warm_start
from sklearn_dpads.training.data import SequenceDataset
from sklearn_dpads.training.finetune import Tuned, tune
from sklearn_dpads.training.losses import flatten_valid
from sklearn_dpads.training.nets import predict_logits
from sklearn_dpads.training.search_trainer import SkorchSearchTrainer, TrainerSettings
from sklearn_dpads.utils._torch import seeded_torch

__all__ = ["CandidateTrainer"]


class CandidateTrainer:
    """Train programs of a grammar on a training split, score them on a held-out one.

    Parameters
    ----------
    dsl : DSL
        The grammar of the programs.
    hole : FunctionType
        Their type.
    train, held : SequenceDataset
        The training split and the held-out split (labelled).
    settings : TrainerSettings
        How programs are trained and scored.
    finetune_epochs : int
        Most epochs of the full training (after the screening).
    patience : int or None
        Its early-stopping patience.
    batch_size : int
        Minibatch size.
    device : str, default="cpu"
        Torch device of the programs.
    clock : object, default=None
        Anything with an ``out()`` method: training stops once it returns
        True.
    random_state : int, default=0
        Seed of the bootstrap.

    screen_group : int, default=16
        Most programs :meth:`screen` trains side by side.
    screen_train : SequenceDataset, optional
        What :meth:`screen` trains on (a subsample of ``train`` on large
        data: the screening only ranks the programs), with batches shrunk
        in proportion, so that an epoch takes as many steps as on
        ``train``; default ``train``. :meth:`resume` trains on ``train``.
    """

    def __init__(
        self,
        dsl: Any,
        hole: Any,
        train: SequenceDataset,
        held: SequenceDataset,
        settings: TrainerSettings,
        *,
        finetune_epochs: int,
        patience: int | None,
        batch_size: int,
        device: str = "cpu",
        clock: Any = None,
        random_state: int = 0,
        screen_group: int = 16,
        screen_train: SequenceDataset | None = None,
    ) -> None:
        self.dsl = dsl
        self.hole = hole
        self.train = train
        self.held = held
        self.settings = settings
        self.finetune_epochs = finetune_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.device = device
        self.clock = clock
        self.random_state = random_state
        self.screen_group = max(1, int(screen_group))
        self.screen_train = train if screen_train is None else screen_train
        # as many steps per epoch as on ``train``, on smaller batches
        share = len(self.screen_train) / max(1, len(train))
        self.screen_batch_size = max(
            1, min(batch_size, max(8, round(batch_size * share)))
        )
        self._trainer = SkorchSearchTrainer(train, held, settings, clock=clock)
        self._logits: dict[int, tuple[Any, np.ndarray]] = {}
        y = held.y.numpy()
        rows = np.arange(len(y)).reshape(-1, *[1] * (y.ndim - 1))
        mask = y >= 0
        self._y = y[mask]
        self._groups = np.broadcast_to(rows, y.shape)[mask]

    def screen(
        self,
        programs: Sequence[Any],
        seeds: Sequence[int],
        parent: Tuned | None = None,
        *,
        warm_epochs: int | None = None,
    ) -> list:
        """Train new programs for the search's program epochs; score each once.

        The programs are trained side by side in groups of at most
        :attr:`screen_group` (:meth:`SkorchSearchTrainer.fit_programs`): each
        as if alone, from initial weights drawn with its own seed, on the
        batch order of its group's first seed.

        Parameters
        ----------
        programs : sequence of Program
            Programs of the grammar.
        seeds : sequence of int
            One seed per program: of its initial weights (and of its group's
            batch order).
        parent : Tuned, optional
            A trained program the programs are one edit away from. A program
            that lines up with it (a leaf swap, a grown branch; see
            :func:`~sklearn_dpads.semantics.warm.warm_start`) starts from its
            weights where it keeps its parts; the others (prunes) start afresh.
        warm_epochs : int, optional
            Epochs of training of the warm-started programs; default: the
            settings' ``program_epochs``, as for the others.

        Returns
        -------
        list of tuple of (Tuned, float)
            Per program, in order: the trained program (its epochs and initial
            weights), and its held-out ranking score.
        """
        if len(programs) != len(seeds):
            raise ValueError(
                f"screen got {len(programs)} programs but {len(seeds)} seeds."
            )
        modules, warm = [], []
        for program, seed in zip(programs, seeds):
            with seeded_torch(seed, self.device):
                module = compile_program(program, self.dsl, self.hole)
            module = module.to(self.device)
            copied = None if parent is None else warm_start(module, parent.module)
            warm.append(copied is not None)
            modules.append(module)
        out: list = [None] * len(modules)
        for started, epochs in ((False, None), (True, warm_epochs)):
            rows = [i for i, w in enumerate(warm) if w is started]
            runs = self._train_groups(
                [modules[i] for i in rows], [seeds[i] for i in rows], epochs
            )
            for i, run in zip(rows, runs):
                out[i] = run
        return out

    def _train_groups(self, modules, seeds, epochs) -> list:
        """Train ``modules`` in groups of :attr:`screen_group`; score each."""
        epochs = self.settings.program_epochs if epochs is None else int(epochs)
        starts = [copy.deepcopy(m) for m in modules]
        out = []
        for s in range(0, len(modules), self.screen_group):
            part = slice(s, s + self.screen_group)
            with seeded_torch(seeds[s], self.device):
                trained, _, kept = self._trainer.fit_programs(
                    modules[part],
                    self.screen_train,
                    None,
                    epochs,
                    batch_size=self.screen_batch_size,
                    seed=seeds[s],
                )
            for module, start, n in zip(trained, starts[part], kept):
                score = self.score(module)
                out.append((Tuned(module, score, n, start), score))
        return out

    def resume(self, screened: Tuned, seed: int) -> tuple[Tuned, float]:
        """Fine-tune a screened program, keeping its best held-out epoch.

        Parameters
        ----------
        screened : Tuned
            What :meth:`screen` returned (left unchanged).
        seed : int
            Seed of the batch order.

        Returns
        -------
        trained : Tuned
            The fine-tuned program; its epochs count the screening's, and its
            start is the screened program's initial weights (for the refit).
        score : float
            Its best held-out score.
        """
        with seeded_torch(seed, self.device):
            t = tune(
                copy.deepcopy(screened.module),
                self.train,
                self.held,
                self.settings,
                max_epochs=self.finetune_epochs,
                patience=self.patience,
                batch_size=self.batch_size,
                seed=seed,
                clock=self.clock,
            )
        epochs = screened.epochs + t.epochs
        return Tuned(t.module, t.score, epochs, screened.start), t.score

    def score(self, module: Any) -> float:
        """The held-out ranking score of a trained program.

        Parameters
        ----------
        module : ProgramModule
            The program.

        Returns
        -------
        float
            :func:`~sklearn_dpads.metrics.ranking_score` on the held-out
            split, with the settings' score class weights.
        """
        return ranking_score(
            self._held_logits(module),
            self._y,
            self.settings.n_classes,
            self.settings.score_class_weight,
        )

    def margin(self, a: Tuned, b: Tuned) -> float:
        """The standard error of the difference of two programs' held-out scores.

        Parameters
        ----------
        a, b : Tuned
            Two trained programs.

        Returns
        -------
        float
            :func:`~sklearn_dpads.metrics.paired_score_se`, resampling the
            held-out sequences (the frames of one sequence together).
        """
        return paired_score_se(
            self._held_logits(a.module),
            self._held_logits(b.module),
            self._y,
            self.settings.n_classes,
            groups=self._groups,
            class_weight=self.settings.score_class_weight,
            random_state=self.random_state,
        )

    def cost(self, program: Any) -> float:
        """The structural cost of a program's canonical form.

        Parameters
        ----------
        program : Program
            A program of the grammar.

        Returns
        -------
        float
            Its cost.
        """
        return canonical_cost(program, self.dsl)

    def reads(self, program: Any) -> float:
        """How much of the input a program's canonical form reads.

        Parameters
        ----------
        program : Program
            A program of the grammar.

        Returns
        -------
        float
            See :func:`~sklearn_dpads.grammar.canonical.features_read`.
        """
        return features_read(program, self.dsl)

    def _held_logits(self, module: Any) -> np.ndarray:
        # cached by module (kept alive with its logits, so that its id is not
        # reused): a program is scored, then compared several times
        key = id(module)
        if key not in self._logits:
            z = predict_logits(module, self.held, device=self.device)
            z = flatten_valid(z, self.held.y)[0].double().numpy()
            self._logits[key] = (module, z)
        return self._logits[key][1]
